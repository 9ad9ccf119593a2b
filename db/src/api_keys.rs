//! API keys: stored hashed, found by prefix, scoped to a tenant.

use crate::page::{Page, Position};
use crate::{ApiKeyId, DbError, PlatformDb, Role, TenantId, TenantStatus, TenantTx};
use chrono::{DateTime, Utc};
use sqlx::Row;

/// A key as listed (never its secret).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub name: String,
    pub prefix: String,
    pub role: Role,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// An authenticated key.
#[derive(Clone, Debug)]
pub struct KeyRecord {
    pub id: ApiKeyId,
    pub tenant: TenantId,
    pub role: Role,
    pub expires_at: Option<DateTime<Utc>>,
    pub tenant_active: bool,
}

const COLUMNS: &str = "id, name, prefix, role, expires_at, last_used_at, created_at";

fn key(r: sqlx::postgres::PgRow) -> ApiKey {
    ApiKey {
        id: r.get("id"),
        name: r.get("name"),
        prefix: r.get("prefix"),
        role: r.get("role"),
        expires_at: r.get("expires_at"),
        last_used_at: r.get("last_used_at"),
        created_at: r.get("created_at"),
    }
}

/// Stores a new key of the tenant. A taken name is [`DbError::Conflict`].
pub async fn create(
    tx: &mut TenantTx,
    name: &str,
    prefix: &str,
    secret_hash: &str,
    role: Role,
    expires_at: Option<DateTime<Utc>>,
) -> Result<ApiKey, DbError> {
    let sql = format!(
        "INSERT INTO api_keys (tenant_id, name, prefix, secret_hash, role, created_by, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {COLUMNS}"
    );
    let (tenant, user) = (tx.tenant(), tx.user());
    let row = sqlx::query(&sql)
        .bind(tenant)
        .bind(name)
        .bind(prefix)
        .bind(secret_hash)
        .bind(role)
        .bind(user)
        .bind(expires_at)
        .persistent(false)
        .fetch_one(tx.conn().await?)
        .await
        .map_err(DbError::classify)?;
    Ok(key(row))
}

/// The tenant's keys, oldest first, a page at a time.
pub async fn list(tx: &mut TenantTx, after: Option<Position>, limit: i64) -> Result<Page<ApiKey>, DbError> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM api_keys WHERE ($1::timestamptz IS NULL OR (created_at, id) > ($1, $2)) \
         ORDER BY created_at, id LIMIT $3"
    ))
    .bind(after.map(|p| p.at))
    .bind(after.map(|p| p.id))
    .bind(limit + 1)
    .persistent(false)
    .fetch_all(tx.conn().await?)
    .await?;
    let keys = rows.into_iter().map(key).collect();
    Ok(Page::from_rows(keys, limit, |k| Position { at: k.created_at, id: k.id.as_uuid() }))
}

/// Revokes (deletes) a key; returns its prefix, `None` when the tenant has
/// no such key.
pub async fn revoke(tx: &mut TenantTx, id: ApiKeyId) -> Result<Option<String>, DbError> {
    let prefix = sqlx::query_scalar("DELETE FROM api_keys WHERE id = $1 RETURNING prefix")
        .bind(id)
        .persistent(false)
        .fetch_optional(tx.conn().await?)
        .await?;
    Ok(prefix)
}

/// Records a use, at most once a minute per key.
pub async fn touch(tx: &mut TenantTx, id: ApiKeyId) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE api_keys SET last_used_at = now() \
         WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')",
    )
    .bind(id)
    .persistent(false)
    .execute(tx.conn().await?)
    .await?;
    Ok(())
}

/// The key of `prefix` whose secret hashes to `secret_hash`, across
/// tenants (before the tenant is known); `None` for an unknown prefix and a
/// wrong secret alike.
pub async fn authenticate(
    platform: &PlatformDb,
    prefix: &str,
    secret_hash: &str,
) -> Result<Option<KeyRecord>, DbError> {
    let mut tx = platform.begin(None).await?;
    let row = sqlx::query("SELECT id, tenant_id, role, expires_at, tenant_status FROM api_key_authenticate($1, $2)")
        .bind(prefix)
        .bind(secret_hash)
        .persistent(false)
        .fetch_optional(tx.conn().await?)
        .await?;
    tx.commit().await?;
    Ok(row.map(|r| KeyRecord {
        id: r.get("id"),
        tenant: TenantId::new(r.get("tenant_id")),
        role: r.get("role"),
        expires_at: r.get("expires_at"),
        tenant_active: r.get::<TenantStatus, _>("tenant_status") == TenantStatus::Active,
    }))
}
