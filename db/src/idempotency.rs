//! Idempotency keys: a POST that creates something, sent again with the
//! same key, answers what it answered the first time instead of creating a
//! second thing.
//!
//! The key's row is inserted in the request's own tenant transaction,
//! before the work. A second request with the same key waits on the
//! primary key until the first commits (then finds its answer) or rolls back
//! (then does the work itself): one row is created, whatever the timing.

use crate::{DbError, TenantTx};

/// Keys are kept this long; an older one counts as new.
pub const KEPT_HOURS: i64 = 24;

/// What a key holds when the request claims it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Claim {
    /// The key is new (or expired): do the work, then [`store`] the answer
    /// in the same transaction.
    Fresh,
    /// The same request was answered: replay this.
    Replay { status: u16, response: String },
    /// The key was used for another request.
    Mismatch,
}

/// Claims `key` for a request with `fingerprint` (a hash of the operation
/// and its body).
pub async fn claim(tx: &mut TenantTx, key: &str, fingerprint: &[u8]) -> Result<Claim, DbError> {
    // An expired key is taken over in place: the insert's conflict
    // update replaces it, and only it.
    let inserted: Option<bool> = sqlx::query_scalar(
        "INSERT INTO idempotency_keys (tenant_id, key, fingerprint) VALUES ($1, $2, $3) \
         ON CONFLICT (tenant_id, key) DO UPDATE \
             SET fingerprint = excluded.fingerprint, status = NULL, response = NULL, created_at = now() \
             WHERE idempotency_keys.created_at < now() - make_interval(hours => $4) \
         RETURNING true",
    )
    .bind(tx.tenant())
    .bind(key)
    .bind(fingerprint)
    .bind(KEPT_HOURS as i32)
    .persistent(false)
    .fetch_optional(tx.conn().await?)
    .await
    .map_err(DbError::classify)?;
    if inserted.is_some() {
        return Ok(Claim::Fresh);
    }
    let (stored, status, response): (Vec<u8>, Option<i16>, Option<String>) =
        sqlx::query_as("SELECT fingerprint, status, response FROM idempotency_keys WHERE key = $1")
            .bind(key)
            .persistent(false)
            .fetch_one(tx.conn().await?)
            .await?;
    if stored != fingerprint {
        return Ok(Claim::Mismatch);
    }
    match (status, response) {
        (Some(status), Some(response)) => Ok(Claim::Replay { status: status as u16, response }),
        // A committed claim always has its answer; anything else is ours.
        _ => Err(DbError::Unexpected(sqlx::Error::Protocol("an idempotency key without its answer".into()))),
    }
}

/// Stores the answer of a [`Claim::Fresh`] key, in the same transaction as
/// the work.
pub async fn store(tx: &mut TenantTx, key: &str, status: u16, response: &str) -> Result<(), DbError> {
    sqlx::query("UPDATE idempotency_keys SET status = $2, response = $3 WHERE key = $1")
        .bind(key)
        .bind(status as i16)
        .bind(response)
        .persistent(false)
        .execute(tx.conn().await?)
        .await?;
    Ok(())
}
