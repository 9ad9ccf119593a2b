//! Periodic housekeeping across tenants, run as the platform role through
//! the definer functions made for it: uploads never completed, objects
//! waiting to be deleted from storage, idempotency keys past their time.

use std::time::Duration;

use crate::{DbError, PlatformDb};

/// Deletes the rows of uploads still pending after `older_than`, queueing
/// their keys for deletion from storage; how many were swept.
pub async fn sweep_stale_uploads(platform: &PlatformDb, older_than: Duration, limit: i32) -> Result<i32, DbError> {
    let mut tx = platform.begin(None).await?;
    let secs = older_than.as_secs_f64();
    let swept: i32 = sqlx::query_scalar("SELECT sweep_stale_uploads(make_interval(secs => $1), $2)")
        .bind(secs)
        .bind(limit)
        .persistent(false)
        .fetch_one(tx.conn().await?)
        .await?;
    tx.commit().await?;
    Ok(swept)
}

/// Object keys queued for deletion from storage, oldest first.
pub async fn pending_deletions(platform: &PlatformDb, limit: i32) -> Result<Vec<String>, DbError> {
    let mut tx = platform.begin(None).await?;
    let keys: Vec<String> = sqlx::query_scalar("SELECT object_key FROM pending_storage_deletions($1)")
        .bind(limit)
        .persistent(false)
        .fetch_all(tx.conn().await?)
        .await?;
    tx.commit().await?;
    Ok(keys)
}

/// Forgets queued keys whose objects are gone from storage, those queued
/// for longer than `kept` (the lifetime of upload URLs).
pub async fn deleted(platform: &PlatformDb, keys: &[String], kept: Duration) -> Result<(), DbError> {
    let mut tx = platform.begin(None).await?;
    sqlx::query("SELECT storage_deleted($1, make_interval(secs => $2))")
        .bind(keys)
        .bind(kept.as_secs_f64())
        .persistent(false)
        .execute(tx.conn().await?)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Deletes idempotency keys past their 24 hours; how many.
pub async fn expire_idempotency_keys(platform: &PlatformDb) -> Result<i32, DbError> {
    let mut tx = platform.begin(None).await?;
    let done: i32 =
        sqlx::query_scalar("SELECT expire_idempotency_keys()").persistent(false).fetch_one(tx.conn().await?).await?;
    tx.commit().await?;
    Ok(done)
}
