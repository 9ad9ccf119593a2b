//! What every handler shares.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use crate::config::Settings;
use crate::redis_conn::Redis;

/// Shared application state, cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The runtime role `app`: tenant routes, in tenant transactions.
    pub db: db::Db,
    /// The platform role `app_platform`: sign-in, onboarding, API-key
    /// authentication, provisioning. Tenant routes never use it.
    pub platform: db::PlatformDb,
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
    /// Project files' object storage.
    pub storage: crate::storage::Storage,
}

impl AppState {
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }
}
