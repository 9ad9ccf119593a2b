//! Registration by email and password reset: the token tables are global and
//! out of the runtime role's reach, so each step is one call of a SECURITY
//! DEFINER function of the onboarding migration, in its own short
//! transaction. Tokens arrive here already hashed.

use std::time::Duration;

use sqlx::postgres::types::PgInterval;
use sqlx::Row;

use crate::{Db, DbError, TenantId, UserId};

/// What a registration request found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Registration {
    /// Stored; the verification link may be sent.
    Pending,
    /// The email already has an account: nothing stored.
    KnownEmail,
    /// The tenant slug is in use.
    SlugTaken,
}

/// A new registration, its password already hashed.
#[derive(Clone, Debug)]
pub struct NewRegistration<'a> {
    pub token_hash: &'a str,
    pub email: &'a str,
    pub password_hash: &'a str,
    pub display_name: &'a str,
    pub tenant_slug: &'a str,
    pub tenant_name: &'a str,
    pub ttl: Duration,
}

/// What following a verification link did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verification {
    Created {
        user: UserId,
        tenant: TenantId,
        slug: String,
        name: String,
    },
    /// Unknown, used or expired token.
    Invalid,
    /// The email got an account since the registration.
    EmailTaken,
    /// The slug was taken since the registration.
    SlugTaken,
}

fn interval(ttl: Duration) -> PgInterval {
    PgInterval { months: 0, days: 0, microseconds: i64::try_from(ttl.as_micros()).unwrap_or(i64::MAX) }
}

/// Records a registration waiting for its email to be verified.
pub async fn register(db: &Db, r: &NewRegistration<'_>) -> Result<Registration, DbError> {
    let mut tx = db.pool().begin().await?;
    let outcome: String = sqlx::query_scalar("SELECT auth_register_pending($1, $2, $3, $4, $5, $6, $7)")
        .bind(r.token_hash)
        .bind(r.email)
        .bind(r.password_hash)
        .bind(r.display_name)
        .bind(r.tenant_slug)
        .bind(r.tenant_name)
        .bind(interval(r.ttl))
        .persistent(false)
        .fetch_one(&mut *tx)
        .await
        .map_err(DbError::classify)?;
    tx.commit().await?;
    Ok(match outcome.as_str() {
        "pending" => Registration::Pending,
        "known" => Registration::KnownEmail,
        _ => Registration::SlugTaken,
    })
}

/// Uses a verification token: creates the user, the tenant and the admin
/// membership, or says why not.
pub async fn verify(db: &Db, token_hash: &str) -> Result<Verification, DbError> {
    let mut tx = db.pool().begin().await?;
    let row =
        sqlx::query("SELECT outcome, user_id, tenant_id, tenant_slug, tenant_name FROM auth_verify_registration($1)")
            .bind(token_hash)
            .persistent(false)
            .fetch_one(&mut *tx)
            .await
            .map_err(DbError::classify)?;
    tx.commit().await?;
    Ok(match row.get::<String, _>("outcome").as_str() {
        "created" => Verification::Created {
            user: UserId::new(row.get("user_id")),
            tenant: TenantId::new(row.get("tenant_id")),
            slug: row.get("tenant_slug"),
            name: row.get("tenant_name"),
        },
        "email_taken" => Verification::EmailTaken,
        "slug_taken" => Verification::SlugTaken,
        _ => Verification::Invalid,
    })
}

/// Stores a reset token for the account behind `email`, if there is one;
/// the same statement runs either way. Returns the account.
pub async fn start_password_reset(
    db: &Db,
    token_hash: &str,
    email: &str,
    ttl: Duration,
) -> Result<Option<UserId>, DbError> {
    let mut tx = db.pool().begin().await?;
    let user: Option<uuid::Uuid> = sqlx::query_scalar("SELECT auth_start_password_reset($1, $2, $3)")
        .bind(token_hash)
        .bind(email)
        .bind(interval(ttl))
        .persistent(false)
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(user.map(UserId::new))
}

/// The user a reset token would reset, if it is usable now (nothing is
/// used).
pub async fn password_reset_user(db: &Db, token_hash: &str) -> Result<Option<UserId>, DbError> {
    let mut tx = db.pool().begin().await?;
    let user: Option<uuid::Uuid> = sqlx::query_scalar("SELECT auth_password_reset_user($1)")
        .bind(token_hash)
        .persistent(false)
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(user.map(UserId::new))
}

/// Uses a reset token once and sets the new password hash; `None` for an
/// unknown, used or expired token.
pub async fn finish_password_reset(db: &Db, token_hash: &str, password_hash: &str) -> Result<Option<UserId>, DbError> {
    let mut tx = db.pool().begin().await?;
    let user: Option<uuid::Uuid> = sqlx::query_scalar("SELECT auth_finish_password_reset($1, $2)")
        .bind(token_hash)
        .bind(password_hash)
        .persistent(false)
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(user.map(UserId::new))
}
