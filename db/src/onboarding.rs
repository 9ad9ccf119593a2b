//! Registration by email and password reset, on the platform path: the
//! token tables are global and out of every login role's reach, so each step
//! is one call of a SECURITY DEFINER function in a platform transaction.
//! Tokens are passed as emailed; the database stores and compares only
//! their hash.

use std::time::Duration;

use sqlx::postgres::types::PgInterval;
use sqlx::Row;

use crate::{DbError, PlatformDb, TenantId, UserId};

/// What a registration request found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Registration {
    /// Stored; the verification link may be sent.
    Pending,
    /// The email already has an account: the row is stored alike (so that
    /// both answers cost the same), but its token is never sent.
    KnownEmail,
    /// The tenant slug is in use.
    SlugTaken,
}

/// A new registration. It carries no password: whoever holds the emailed
/// link chooses it when verifying.
#[derive(Clone, Debug)]
pub struct NewRegistration<'a> {
    /// The token to email.
    pub token: &'a str,
    pub email: &'a str,
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
pub async fn register(platform: &PlatformDb, r: &NewRegistration<'_>) -> Result<Registration, DbError> {
    let mut tx = platform.begin(None).await?;
    let outcome: String = sqlx::query_scalar("SELECT auth_register_pending($1, $2, $3, $4, $5, $6)")
        .bind(r.token)
        .bind(r.email)
        .bind(r.display_name)
        .bind(r.tenant_slug)
        .bind(r.tenant_name)
        .bind(interval(r.ttl))
        .persistent(false)
        .fetch_one(tx.conn().await?)
        .await
        .map_err(DbError::classify)?;
    tx.commit().await?;
    Ok(match outcome.as_str() {
        "pending" => Registration::Pending,
        "known" => Registration::KnownEmail,
        _ => Registration::SlugTaken,
    })
}

/// Uses a verification token: creates the user (with the password chosen
/// now, by whoever holds the link), the tenant and the admin membership, or
/// says why not.
pub async fn verify(platform: &PlatformDb, token: &str, password_hash: &str) -> Result<Verification, DbError> {
    let mut tx = platform.begin(None).await?;
    let row = sqlx::query(
        "SELECT outcome, user_id, tenant_id, tenant_slug, tenant_name FROM auth_verify_registration($1, $2)",
    )
    .bind(token)
    .bind(password_hash)
    .persistent(false)
    .fetch_one(tx.conn().await?)
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
    platform: &PlatformDb,
    token: &str,
    email: &str,
    ttl: Duration,
) -> Result<Option<UserId>, DbError> {
    let mut tx = platform.begin(None).await?;
    let user: Option<uuid::Uuid> = sqlx::query_scalar("SELECT auth_start_password_reset($1, $2, $3)")
        .bind(token)
        .bind(email)
        .bind(interval(ttl))
        .persistent(false)
        .fetch_one(tx.conn().await?)
        .await?;
    tx.commit().await?;
    Ok(user.map(UserId::new))
}

/// The user a reset token would reset, if it is usable now (nothing is
/// used).
pub async fn password_reset_user(platform: &PlatformDb, token: &str) -> Result<Option<UserId>, DbError> {
    let mut tx = platform.begin(None).await?;
    let user: Option<uuid::Uuid> = sqlx::query_scalar("SELECT auth_password_reset_user($1)")
        .bind(token)
        .persistent(false)
        .fetch_one(tx.conn().await?)
        .await?;
    tx.commit().await?;
    Ok(user.map(UserId::new))
}

/// Uses a reset token once and sets the new password hash; `None` for an
/// unknown, used or expired token.
pub async fn finish_password_reset(
    platform: &PlatformDb,
    token: &str,
    password_hash: &str,
) -> Result<Option<UserId>, DbError> {
    let mut tx = platform.begin(None).await?;
    let user: Option<uuid::Uuid> = sqlx::query_scalar("SELECT auth_finish_password_reset($1, $2)")
        .bind(token)
        .bind(password_hash)
        .persistent(false)
        .fetch_one(tx.conn().await?)
        .await?;
    tx.commit().await?;
    Ok(user.map(UserId::new))
}
