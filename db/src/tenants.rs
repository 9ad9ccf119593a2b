//! Tenant provisioning, for platform operators. Tenants are created and
//! listed across tenants, so these calls go through SECURITY DEFINER
//! functions that only the platform role may execute, each in a platform
//! transaction.

use chrono::{DateTime, Utc};

use crate::page::{Page, Position};
use crate::{DbError, PlatformDb, TenantId, TenantStatus};

/// A tenant as stored.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Tenant {
    pub id: TenantId,
    pub slug: String,
    pub name: String,
    pub status: TenantStatus,
    pub plan: String,
    pub created_at: DateTime<Utc>,
}

/// Creates a tenant. A taken slug is [`DbError::Conflict`].
pub async fn provision(platform: &PlatformDb, slug: &str, name: &str, plan: &str) -> Result<Tenant, DbError> {
    let mut tx = platform.begin(None).await?;
    let tenant = sqlx::query_as::<_, Tenant>(
        "SELECT id, slug, name, status, plan, created_at FROM provision_tenant($1, $2, $3)",
    )
    .bind(slug)
    .bind(name)
    .bind(plan)
    .persistent(false)
    .fetch_one(tx.conn().await?)
    .await
    .map_err(DbError::classify)?;
    tx.commit().await?;
    Ok(tenant)
}

/// One page of tenants, oldest first, after a position.
pub async fn list(platform: &PlatformDb, after: Option<Position>, limit: i64) -> Result<Page<Tenant>, DbError> {
    let mut tx = platform.begin(None).await?;
    let tenants =
        sqlx::query_as::<_, Tenant>("SELECT id, slug, name, status, plan, created_at FROM list_tenants($1, $2, $3)")
            .bind(after.map(|p| p.at))
            .bind(after.map(|p| p.id))
            .bind(i32::try_from(limit + 1).unwrap_or(i32::MAX))
            .persistent(false)
            .fetch_all(tx.conn().await?)
            .await?;
    tx.commit().await?;
    Ok(Page::from_rows(tenants, limit, |t| Position { at: t.created_at, id: t.id.as_uuid() }))
}
