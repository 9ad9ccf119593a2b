//! Sign-in lookups, before a tenant is chosen: through the SECURITY DEFINER
//! functions of the auth migration, each in its own short transaction (an
//! extended-protocol query outside a transaction is unsafe behind pgbouncer).

use sqlx::Row;

use crate::{Db, DbError, TenantId, TenantTx, UserId};

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
    pub status: String,
    pub role: String,
}

/// The account behind `email`, if any.
pub async fn find_account(db: &Db, email: &str) -> Result<Option<Account>, DbError> {
    let mut tx = db.pool().begin().await?;
    let row = sqlx::query("SELECT id, password_hash, verified FROM auth_find_user($1)")
        .bind(email)
        .persistent(false)
        .fetch_optional(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(row.map(|r| Account {
        id: UserId::new(r.get("id")),
        password_hash: r.get("password_hash"),
        verified: r.get("verified"),
    }))
}

/// Every tenant the user belongs to (active or not), ordered by name.
pub async fn memberships(db: &Db, user: UserId) -> Result<Vec<MembershipView>, DbError> {
    let mut tx = db.pool().begin().await?;
    let rows = sqlx::query("SELECT tenant_id, slug, name, status, role FROM auth_user_tenants($1)")
        .bind(user)
        .persistent(false)
        .fetch_all(&mut *tx)
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
pub async fn profile(db: &Db, user: UserId) -> Result<Option<(String, String)>, DbError> {
    let mut tx = db.pool().begin().await?;
    let row = sqlx::query("SELECT email, display_name FROM auth_user_profile($1)")
        .bind(user)
        .persistent(false)
        .fetch_optional(&mut *tx)
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
pub async fn record_security_event(db: &Db, event: &str, subject: &str, origin: &Origin) -> Result<(), DbError> {
    let mut tx = db.pool().begin().await?;
    sqlx::query("SELECT record_security_event($1, $2, $3, $4)")
        .bind(event)
        .bind(subject)
        .bind(&origin.ip)
        .bind(&origin.user_agent)
        .persistent(false)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
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
        .execute(tx.conn())
        .await
        .map_err(DbError::classify)?;
    Ok(())
}

/// The account's current password hash (to check the current password).
pub async fn password_hash(db: &Db, user: UserId) -> Result<Option<String>, DbError> {
    let mut tx = db.pool().begin().await?;
    let row = sqlx::query(
        "SELECT f.password_hash FROM auth_user_profile($1) p \
         JOIN LATERAL auth_find_user(p.email) f ON true",
    )
    .bind(user)
    .persistent(false)
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(row.map(|r| r.get("password_hash")))
}

/// Replaces the account's password hash.
pub async fn set_password(db: &Db, user: UserId, hash: &str) -> Result<bool, DbError> {
    let mut tx = db.pool().begin().await?;
    let changed: bool = sqlx::query_scalar("SELECT auth_set_password($1, $2)")
        .bind(user)
        .bind(hash)
        .persistent(false)
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(changed)
}
