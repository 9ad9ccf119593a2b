//! What every handler shares.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use crate::config::Settings;
use crate::redis_conn::Redis;

/// Shared application state, cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState {
    pub db: db::Db,
    pub redis: Arc<Redis>,
    pub settings: Arc<Settings>,
    pub started_at: Instant,
    /// Set once shutdown begins: readiness answers 503 from then on.
    pub draining: Arc<AtomicBool>,
    pub tokens: Arc<crate::auth::tokens::TokenKeys>,
    pub refresh: crate::auth::refresh_store::RefreshStore,
    /// The Casbin model and policy of `policies/`.
    pub authorizer: Arc<policies::Authorizer>,
    pub mailer: crate::mail::Mailer,
    pub access_cache: Arc<crate::auth::access_cache::AccessCache>,
}

impl AppState {
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }
}
