//! Projects: the example tenant-scoped resource. Every function takes the
//! tenant transaction; RLS decides which rows exist for it.

use chrono::{DateTime, Utc};

use crate::page::{like_contains, Page, Position};
use crate::{DbError, ProjectId, ProjectStatus, TenantTx, UserId};

/// A project as stored.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Project {
    pub id: ProjectId,
    pub tenant_id: crate::TenantId,
    pub name: String,
    pub description: String,
    pub status: ProjectStatus,
    pub owner_id: Option<UserId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Bumped by every change.
    pub version: i64,
}

const COLUMNS: &str = "id, tenant_id, name, description, status, owner_id, created_at, updated_at, version";

/// Which projects to list, a page at a time, oldest first.
#[derive(Clone, Debug, Default)]
pub struct ProjectQuery {
    pub after: Option<Position>,
    pub limit: i64,
    pub status: Option<ProjectStatus>,
    pub owner: Option<UserId>,
    /// Part of the name, any case.
    pub name_contains: Option<String>,
}

impl ProjectQuery {
    /// The first `limit` projects, unfiltered.
    pub fn first(limit: i64) -> Self {
        Self { limit, ..Self::default() }
    }
}

/// Lists the tenant's projects.
pub async fn list(tx: &mut TenantTx, query: &ProjectQuery) -> Result<Page<Project>, DbError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM projects \
         WHERE ($1::timestamptz IS NULL OR (created_at, id) > ($1, $2)) \
           AND ($3::text IS NULL OR status = $3) \
           AND ($4::uuid IS NULL OR owner_id = $4) \
           AND ($5::text IS NULL OR name ILIKE $5 ESCAPE '\\') \
         ORDER BY created_at, id LIMIT $6"
    );
    let rows = sqlx::query_as::<_, Project>(&sql)
        .bind(query.after.map(|p| p.at))
        .bind(query.after.map(|p| p.id))
        .bind(query.status)
        .bind(query.owner)
        .bind(query.name_contains.as_deref().map(like_contains))
        .bind(query.limit + 1)
        .persistent(false)
        .fetch_all(tx.conn().await?)
        .await?;
    Ok(Page::from_rows(rows, query.limit, |p| Position { at: p.created_at, id: p.id.as_uuid() }))
}

/// Finds one project of the tenant; another tenant's id finds nothing.
pub async fn get(tx: &mut TenantTx, id: ProjectId) -> Result<Option<Project>, DbError> {
    let sql = format!("SELECT {COLUMNS} FROM projects WHERE id = $1");
    let row = sqlx::query_as::<_, Project>(&sql).bind(id).persistent(false).fetch_optional(tx.conn().await?).await?;
    Ok(row)
}

/// [`get`], locking the row until the transaction ends: for a change that
/// depends on what was read (its version, its owner).
pub async fn get_for_update(tx: &mut TenantTx, id: ProjectId) -> Result<Option<Project>, DbError> {
    let sql = format!("SELECT {COLUMNS} FROM projects WHERE id = $1 FOR UPDATE");
    let row = sqlx::query_as::<_, Project>(&sql).bind(id).persistent(false).fetch_optional(tx.conn().await?).await?;
    Ok(row)
}

/// Creates a project in the transaction's tenant, owned by its acting user
/// (none for an API key).
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

/// What a change sets; `None` keeps the current value.
#[derive(Clone, Debug, Default)]
pub struct ProjectChange {
    pub name: Option<String>,
    pub description: Option<String>,
    pub status: Option<ProjectStatus>,
    pub owner: Option<UserId>,
}

/// Applies `change` and bumps the version; `None` when the tenant has no
/// such project.
pub async fn update(tx: &mut TenantTx, id: ProjectId, change: &ProjectChange) -> Result<Option<Project>, DbError> {
    let sql = format!(
        "UPDATE projects SET name = coalesce($2, name), description = coalesce($3, description), \
         status = coalesce($4, status), owner_id = coalesce($5, owner_id), \
         updated_at = now(), version = version + 1 \
         WHERE id = $1 RETURNING {COLUMNS}"
    );
    sqlx::query_as::<_, Project>(&sql)
        .bind(id)
        .bind(change.name.as_deref())
        .bind(change.description.as_deref())
        .bind(change.status)
        .bind(change.owner)
        .persistent(false)
        .fetch_optional(tx.conn().await?)
        .await
        .map_err(DbError::classify)
}

/// Deletes a project with its files, queueing their objects for deletion
/// from storage; the queued keys, or `None` when the tenant has no such
/// project.
pub async fn delete(tx: &mut TenantTx, id: ProjectId) -> Result<Option<Vec<String>>, DbError> {
    let sql = crate::files::delete_and_queue_sql("project_id = $1");
    let keys: Vec<String> = sqlx::query_scalar(&sql).bind(id).persistent(false).fetch_all(tx.conn().await?).await?;
    let done =
        sqlx::query("DELETE FROM projects WHERE id = $1").bind(id).persistent(false).execute(tx.conn().await?).await?;
    Ok((done.rows_affected() == 1).then_some(keys))
}

/// Whether `user` is a member of the tenant (a project's new owner must be).
pub async fn is_member(tx: &mut TenantTx, user: UserId) -> Result<bool, DbError> {
    let found: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM memberships WHERE user_id = $1)")
        .bind(user)
        .persistent(false)
        .fetch_one(tx.conn().await?)
        .await?;
    Ok(found)
}
