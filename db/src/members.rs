//! Members of the transaction's tenant.

use chrono::{DateTime, Utc};
use sqlx::Row;

use crate::{DbError, TenantTx, UserId};

/// A member as tenant admins see them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub user: UserId,
    pub email: String,
    pub display_name: String,
    pub role: String,
    pub joined_at: DateTime<Utc>,
}

/// The caller's role in the transaction's tenant; `None` when not a member
/// (any more).
pub async fn role_of(tx: &mut TenantTx, user: UserId) -> Result<Option<String>, DbError> {
    let row = sqlx::query("SELECT role FROM memberships WHERE user_id = $1")
        .bind(user)
        .persistent(false)
        .fetch_optional(tx.conn())
        .await?;
    Ok(row.map(|r| r.get("role")))
}

/// Every member of the tenant, by email.
pub async fn list(tx: &mut TenantTx) -> Result<Vec<Member>, DbError> {
    let rows = sqlx::query("SELECT user_id, email, display_name, role, joined_at FROM tenant_members()")
        .persistent(false)
        .fetch_all(tx.conn())
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| Member {
            user: UserId::new(r.get("user_id")),
            email: r.get("email"),
            display_name: r.get("display_name"),
            role: r.get("role"),
            joined_at: r.get("joined_at"),
        })
        .collect())
}
