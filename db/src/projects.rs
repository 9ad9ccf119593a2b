//! Projects: the example tenant-scoped resource. Every function takes the
//! tenant transaction; RLS decides which rows exist for it.

use chrono::{DateTime, Utc};

use crate::{DbError, ProjectId, TenantTx, UserId};

/// A project as stored.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Project {
    pub id: ProjectId,
    pub tenant_id: crate::TenantId,
    pub name: String,
    pub description: String,
    pub owner_id: Option<UserId>,
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, tenant_id, name, description, owner_id, created_at";

/// Lists the tenant's projects, oldest first.
pub async fn list(tx: &mut TenantTx, limit: i64) -> Result<Vec<Project>, DbError> {
    let sql = format!("SELECT {COLUMNS} FROM projects ORDER BY created_at, id LIMIT $1");
    let rows = sqlx::query_as::<_, Project>(&sql).bind(limit).persistent(false).fetch_all(tx.conn().await?).await?;
    Ok(rows)
}

/// Finds one project of the tenant; another tenant's id finds nothing.
pub async fn get(tx: &mut TenantTx, id: ProjectId) -> Result<Option<Project>, DbError> {
    let sql = format!("SELECT {COLUMNS} FROM projects WHERE id = $1");
    let row = sqlx::query_as::<_, Project>(&sql).bind(id).persistent(false).fetch_optional(tx.conn().await?).await?;
    Ok(row)
}

/// Creates a project in the transaction's tenant, owned by its acting user.
pub async fn create(tx: &mut TenantTx, name: &str, description: &str) -> Result<Project, DbError> {
    let sql = format!(
        "INSERT INTO projects (tenant_id, name, description, owner_id) \
         VALUES ($1, $2, $3, $4) RETURNING {COLUMNS}"
    );
    let tenant = tx.tenant();
    let owner = tx.user();
    sqlx::query_as::<_, Project>(&sql)
        .bind(tenant)
        .bind(name)
        .bind(description)
        .bind(owner)
        .persistent(false)
        .fetch_one(tx.conn().await?)
        .await
        .map_err(DbError::classify)
}

/// Deletes a project; `false` when the tenant has no such project.
pub async fn delete(tx: &mut TenantTx, id: ProjectId) -> Result<bool, DbError> {
    let done =
        sqlx::query("DELETE FROM projects WHERE id = $1").bind(id).persistent(false).execute(tx.conn().await?).await?;
    Ok(done.rows_affected() == 1)
}
