//! Files attached to projects: their rows here, their bytes in object
//! storage under [`object_key`]. Each function takes the tenant
//! transaction; RLS decides which rows exist for it.

use chrono::{DateTime, Utc};

use crate::page::{Page, Position};
use crate::{DbError, FileId, FileStatus, ProjectId, TenantId, TenantTx, UserId};

/// A file as stored.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct ProjectFile {
    pub id: FileId,
    pub tenant_id: TenantId,
    pub project_id: ProjectId,
    pub name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub status: FileStatus,
    pub created_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
}

impl ProjectFile {
    /// Where its bytes are stored.
    pub fn object_key(&self) -> String {
        object_key(self.tenant_id, self.project_id, self.id)
    }
}

/// The storage key of a file, made of ids only (never of anything a
/// client chose). [`OBJECT_KEY_SQL`] and the sweep in the migration build
/// the same text.
pub fn object_key(tenant: TenantId, project: ProjectId, file: FileId) -> String {
    format!("tenants/{tenant}/projects/{project}/{file}")
}

/// [`object_key`] of a `project_files` row, in SQL.
pub(crate) const OBJECT_KEY_SQL: &str = "'tenants/' || tenant_id || '/projects/' || project_id || '/' || id";

/// Deletes the `project_files` rows `filter` selects (its parameters from
/// `$1`) and queues their objects for deletion from storage, in one
/// statement that answers their keys.
pub(crate) fn delete_and_queue_sql(filter: &str) -> String {
    format!(
        "WITH gone AS (DELETE FROM project_files WHERE {filter} RETURNING {OBJECT_KEY_SQL} AS object_key), \
         queued AS (INSERT INTO storage_deletions (object_key) SELECT object_key FROM gone \
             ON CONFLICT DO NOTHING RETURNING object_key) \
         SELECT object_key FROM gone"
    )
}

const COLUMNS: &str =
    "id, tenant_id, project_id, name, content_type, size_bytes, status, created_by, created_at, completed_at";

/// A new file's row, `pending` until its upload is checked.
pub async fn create(
    tx: &mut TenantTx,
    project: ProjectId,
    name: &str,
    content_type: &str,
    size_bytes: i64,
) -> Result<ProjectFile, DbError> {
    let sql = format!(
        "INSERT INTO project_files (tenant_id, project_id, name, content_type, size_bytes, created_by) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING {COLUMNS}"
    );
    let (tenant, user) = (tx.tenant(), tx.user());
    sqlx::query_as::<_, ProjectFile>(&sql)
        .bind(tenant)
        .bind(project)
        .bind(name)
        .bind(content_type)
        .bind(size_bytes)
        .bind(user)
        .persistent(false)
        .fetch_one(tx.conn().await?)
        .await
        .map_err(DbError::classify)
}

/// One file of one project; another project's or tenant's id finds nothing.
pub async fn get(tx: &mut TenantTx, project: ProjectId, id: FileId) -> Result<Option<ProjectFile>, DbError> {
    let sql = format!("SELECT {COLUMNS} FROM project_files WHERE project_id = $1 AND id = $2");
    let row = sqlx::query_as::<_, ProjectFile>(&sql)
        .bind(project)
        .bind(id)
        .persistent(false)
        .fetch_optional(tx.conn().await?)
        .await?;
    Ok(row)
}

/// A project's files, a page at a time, oldest first.
pub async fn list(
    tx: &mut TenantTx,
    project: ProjectId,
    after: Option<Position>,
    limit: i64,
) -> Result<Page<ProjectFile>, DbError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM project_files WHERE project_id = $1 \
           AND ($2::timestamptz IS NULL OR (created_at, id) > ($2, $3)) \
         ORDER BY created_at, id LIMIT $4"
    );
    let rows = sqlx::query_as::<_, ProjectFile>(&sql)
        .bind(project)
        .bind(after.map(|p| p.at))
        .bind(after.map(|p| p.id))
        .bind(limit + 1)
        .persistent(false)
        .fetch_all(tx.conn().await?)
        .await?;
    Ok(Page::from_rows(rows, limit, |f| Position { at: f.created_at, id: f.id.as_uuid() }))
}

/// Marks a pending file ready (the tenant's stored bytes grow with it, by
/// trigger); `None` when it is not pending any more.
pub async fn mark_ready(tx: &mut TenantTx, id: FileId) -> Result<Option<ProjectFile>, DbError> {
    let sql = format!(
        "UPDATE project_files SET status = 'ready', completed_at = now() \
         WHERE id = $1 AND status = 'pending' RETURNING {COLUMNS}"
    );
    let row =
        sqlx::query_as::<_, ProjectFile>(&sql).bind(id).persistent(false).fetch_optional(tx.conn().await?).await?;
    Ok(row)
}

/// Deletes a file's row and queues its object for deletion from storage,
/// in this transaction; the key, or `None` when there is no such file.
pub async fn delete(tx: &mut TenantTx, project: ProjectId, id: FileId) -> Result<Option<String>, DbError> {
    let sql = delete_and_queue_sql("project_id = $1 AND id = $2");
    let key: Option<String> =
        sqlx::query_scalar(&sql).bind(project).bind(id).persistent(false).fetch_optional(tx.conn().await?).await?;
    Ok(key)
}

/// What the tenant stores: bytes and files of ready uploads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    pub bytes: i64,
    pub files: i64,
}

pub async fn usage(tx: &mut TenantTx) -> Result<Usage, DbError> {
    let row: Option<(i64, i64)> = sqlx::query_as("SELECT bytes, files FROM tenant_storage")
        .persistent(false)
        .fetch_optional(tx.conn().await?)
        .await?;
    Ok(row.map(|(bytes, files)| Usage { bytes, files }).unwrap_or_default())
}
