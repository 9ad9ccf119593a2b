//! The periodic task of every replica: sweeps uploads never completed,
//! deletes from storage the objects whose rows are gone (again each round
//! until their upload URLs have expired, and retrying while storage is
//! away), and forgets idempotency keys past their 24 hours.
//! Replicas may run it at the same time: each step is safe to repeat.

use std::time::Duration;

use crate::state::AppState;

/// How many rows one round handles per step.
const BATCH: i32 = 200;

/// Runs [`round`] every `every` until the process ends.
pub fn spawn(state: AppState, every: Duration) {
    tokio::spawn(async move {
        // The first round after one interval: replicas starting together
        // do not all sweep at once, and a process that lives a moment
        // (a test) opens no platform connection for it.
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            if state.is_draining() {
                return;
            }
            round(&state).await;
        }
    });
}

/// One round of every step; failures are logged and retried next round.
pub async fn round(state: &AppState) {
    let limits = &state.storage.limits;
    match db::housekeeping::sweep_stale_uploads(&state.platform, limits.pending_ttl, BATCH).await {
        Ok(0) => {}
        Ok(swept) => tracing::info!(swept, "stale uploads swept"),
        Err(err) => tracing::warn!(error = %err, "sweeping stale uploads failed"),
    }
    if state.storage.is_configured() {
        delete_queued_objects(state).await;
    }
    match db::housekeeping::expire_idempotency_keys(&state.platform).await {
        Ok(0) => {}
        Ok(expired) => tracing::debug!(expired, "idempotency keys expired"),
        Err(err) => tracing::warn!(error = %err, "expiring idempotency keys failed"),
    }
}

async fn delete_queued_objects(state: &AppState) {
    let keys = match db::housekeeping::pending_deletions(&state.platform, BATCH).await {
        Ok(keys) => keys,
        Err(err) => return tracing::warn!(error = %err, "reading queued storage deletions failed"),
    };
    let mut deleted = Vec::with_capacity(keys.len());
    for key in keys {
        match state.storage.delete(&key).await {
            Ok(()) => deleted.push(key),
            // Storage is away: the rest waits for the next round.
            Err(err) => {
                tracing::warn!(error = %err, "deleting objects from storage failed");
                break;
            }
        }
    }
    if deleted.is_empty() {
        return;
    }
    let kept = state.storage.limits.upload_url_ttl;
    match db::housekeeping::deleted(&state.platform, &deleted, kept).await {
        Ok(()) => tracing::debug!(count = deleted.len(), "queued objects deleted from storage"),
        Err(err) => tracing::warn!(error = %err, "forgetting deleted objects failed"),
    }
}
