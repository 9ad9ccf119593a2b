//! The tenant at a glance, for its admins' dashboard: what it counts, in
//! one statement (each count under the tenant's row-level security).

use sqlx::Row;

use crate::{DbError, TenantTx};

/// Counts of the transaction's tenant.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Overview {
    pub admins: i64,
    pub users: i64,
    pub viewers: i64,
    /// Neither accepted, revoked nor expired.
    pub pending_invitations: i64,
    /// Not expired.
    pub active_api_keys: i64,
    pub active_projects: i64,
    pub archived_projects: i64,
}

pub async fn overview(tx: &mut TenantTx) -> Result<Overview, DbError> {
    let row = sqlx::query(
        "SELECT \
           (SELECT count(*) FROM memberships WHERE role = 'admin') AS admins, \
           (SELECT count(*) FROM memberships WHERE role = 'user') AS users, \
           (SELECT count(*) FROM memberships WHERE role = 'viewer') AS viewers, \
           (SELECT count(*) FROM invitations \
             WHERE accepted_at IS NULL AND revoked_at IS NULL AND expires_at > now()) AS pending_invitations, \
           (SELECT count(*) FROM api_keys WHERE expires_at IS NULL OR expires_at > now()) AS active_api_keys, \
           (SELECT count(*) FROM projects WHERE status = 'active') AS active_projects, \
           (SELECT count(*) FROM projects WHERE status = 'archived') AS archived_projects",
    )
    .persistent(false)
    .fetch_one(tx.conn().await?)
    .await?;
    Ok(Overview {
        admins: row.try_get("admins")?,
        users: row.try_get("users")?,
        viewers: row.try_get("viewers")?,
        pending_invitations: row.try_get("pending_invitations")?,
        active_api_keys: row.try_get("active_api_keys")?,
        active_projects: row.try_get("active_projects")?,
        archived_projects: row.try_get("archived_projects")?,
    })
}
