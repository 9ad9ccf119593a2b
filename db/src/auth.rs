//! Identity lookups on the platform path: sign-in before a tenant is
//! chosen, the signed-in user's tenants and profile, password changes. Each
//! call is one SECURITY DEFINER function in a [`PlatformTx`]; those about a
//! user answer only for the transaction's acting user.

use sqlx::Row;

use crate::{DbError, PlatformDb, PlatformTx, Role, TenantId, TenantStatus, TenantTx, UserId};

/// An account as sign-in sees it.
#[derive(Clone, Debug)]
pub struct Account {
    pub id: UserId,
    pub password_hash: String,
    pub verified: bool,
}

/// A tenant the user belongs to, with the role there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MembershipView {
    pub tenant: TenantId,
    pub slug: String,
    pub name: String,
    pub status: TenantStatus,
    pub role: Role,
}

/// The account behind `email`, if any (no acting user yet: this is how one
/// is found).
pub async fn find_account(platform: &PlatformDb, email: &str) -> Result<Option<Account>, DbError> {
    let mut tx = platform.begin(None).await?;
    let row = sqlx::query("SELECT id, password_hash, verified FROM auth_find_user($1)")
        .bind(email)
        .persistent(false)
        .fetch_optional(tx.conn().await?)
        .await?;
    tx.commit().await?;
    Ok(row.map(|r| Account {
        id: UserId::new(r.get("id")),
        password_hash: r.get("password_hash"),
        verified: r.get("verified"),
    }))
}

/// Every tenant `user` belongs to (active or not), ordered by name. `user`
/// must have proved who they are (password, token, emailed link).
pub async fn memberships(platform: &PlatformDb, user: UserId) -> Result<Vec<MembershipView>, DbError> {
    let mut tx = platform.begin(Some(user)).await?;
    let rows = sqlx::query("SELECT tenant_id, slug, name, status, role FROM auth_user_tenants($1)")
        .bind(user)
        .persistent(false)
        .fetch_all(tx.conn().await?)
        .await?;
    tx.commit().await?;
    Ok(rows
        .into_iter()
        .map(|r| MembershipView {
            tenant: TenantId::new(r.get("tenant_id")),
            slug: r.get("slug"),
            name: r.get("name"),
            status: r.get("status"),
            role: r.get("role"),
        })
        .collect())
}

/// The user's email and display name.
pub async fn profile(platform: &PlatformDb, user: UserId) -> Result<Option<(String, String)>, DbError> {
    let mut tx = platform.begin(Some(user)).await?;
    let row = sqlx::query("SELECT email, display_name FROM auth_user_profile($1)")
        .bind(user)
        .persistent(false)
        .fetch_optional(tx.conn().await?)
        .await?;
    tx.commit().await?;
    Ok(row.map(|r| (r.get("email"), r.get("display_name"))))
}

/// Where an event happened, for the logs.
#[derive(Clone, Debug, Default)]
pub struct Origin {
    pub ip: String,
    pub user_agent: String,
}

/// Records an event without a tenant (platform security log).
pub async fn record_security_event(
    platform: &PlatformDb,
    event: &str,
    subject: &str,
    origin: &Origin,
) -> Result<(), DbError> {
    let mut tx = platform.begin(None).await?;
    security_event(&mut tx, event, subject, origin).await?;
    tx.commit().await
}

/// Records an event without a tenant in an open platform transaction.
pub async fn security_event(tx: &mut PlatformTx, event: &str, subject: &str, origin: &Origin) -> Result<(), DbError> {
    sqlx::query("SELECT record_security_event($1, $2, $3, $4)")
        .bind(event)
        .bind(subject)
        .bind(&origin.ip)
        .bind(&origin.user_agent)
        .persistent(false)
        .execute(tx.conn().await?)
        .await?;
    Ok(())
}

/// Appends to the tenant's audit log.
pub async fn audit(tx: &mut TenantTx, action: &str, target: &str, origin: &Origin) -> Result<(), DbError> {
    let actor = tx.user();
    sqlx::query("INSERT INTO audit_log (actor_user_id, action, target, ip, user_agent) VALUES ($1, $2, $3, $4, $5)")
        .bind(actor)
        .bind(action)
        .bind(target)
        .bind(&origin.ip)
        .bind(&origin.user_agent)
        .persistent(false)
        .execute(tx.conn().await?)
        .await
        .map_err(DbError::classify)?;
    Ok(())
}

/// The signed-in user's current password hash (to check the current
/// password before a change).
pub async fn password_hash(platform: &PlatformDb, user: UserId) -> Result<Option<String>, DbError> {
    let mut tx = platform.begin(Some(user)).await?;
    let hash: Option<String> = sqlx::query_scalar("SELECT auth_password_hash($1)")
        .bind(user)
        .persistent(false)
        .fetch_one(tx.conn().await?)
        .await?;
    tx.commit().await?;
    Ok(hash)
}

/// Replaces the signed-in user's password hash if it is still `current`
/// (the one the current password was checked against); `false` when it
/// changed meanwhile.
pub async fn change_password(platform: &PlatformDb, user: UserId, current: &str, new: &str) -> Result<bool, DbError> {
    let mut tx = platform.begin(Some(user)).await?;
    let changed: bool = sqlx::query_scalar("SELECT auth_change_password($1, $2, $3)")
        .bind(user)
        .bind(current)
        .bind(new)
        .persistent(false)
        .fetch_one(tx.conn().await?)
        .await?;
    tx.commit().await?;
    Ok(changed)
}

/// Sets the signed-in user's display name; `false` when the account is
/// gone.
pub async fn set_display_name(platform: &PlatformDb, user: UserId, display_name: &str) -> Result<bool, DbError> {
    let mut tx = platform.begin(Some(user)).await?;
    let changed: bool = sqlx::query_scalar("SELECT auth_set_display_name($1, $2)")
        .bind(user)
        .bind(display_name)
        .persistent(false)
        .fetch_one(tx.conn().await?)
        .await?;
    tx.commit().await?;
    Ok(changed)
}
