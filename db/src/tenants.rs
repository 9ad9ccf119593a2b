//! Tenant provisioning, for platform operators. Tenants are created and
//! listed across tenants, so these calls go through the SECURITY DEFINER
//! functions of the migrations, each in its own short transaction (an
//! extended-protocol query outside a transaction is unsafe behind pgbouncer).

use chrono::{DateTime, Utc};

use crate::{Db, DbError, TenantId};

/// A tenant as stored.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Tenant {
    pub id: TenantId,
    pub slug: String,
    pub name: String,
    pub status: String,
    pub plan: String,
    pub created_at: DateTime<Utc>,
}

/// Creates a tenant. A taken slug is [`DbError::Conflict`].
pub async fn provision(db: &Db, slug: &str, name: &str, plan: &str) -> Result<Tenant, DbError> {
    let mut tx = db.pool().begin().await?;
    let tenant = sqlx::query_as::<_, Tenant>(
        "SELECT id, slug, name, status, plan, created_at FROM provision_tenant($1, $2, $3)",
    )
    .bind(slug)
    .bind(name)
    .bind(plan)
    .persistent(false)
    .fetch_one(&mut *tx)
    .await
    .map_err(DbError::classify)?;
    tx.commit().await?;
    Ok(tenant)
}

/// One page of tenants ordered by id, after the given id.
pub async fn list(db: &Db, after: Option<TenantId>, limit: i32) -> Result<Vec<Tenant>, DbError> {
    let mut tx = db.pool().begin().await?;
    let tenants =
        sqlx::query_as::<_, Tenant>("SELECT id, slug, name, status, plan, created_at FROM list_tenants($1, $2)")
            .bind(after)
            .bind(limit)
            .persistent(false)
            .fetch_all(&mut *tx)
            .await?;
    tx.commit().await?;
    Ok(tenants)
}
