//! The console's side of the API: one [`Client`] that owns the access
//! token and renews it, one error type, and the wire types the console
//! reads. Requests go to `/api/` on the console's own origin (nginx or the
//! API's console port proxies them), so the refresh cookie travels with
//! them and no CORS is involved.

mod auth;
mod client;
mod error;
mod health;
mod http;
mod query;
pub mod tabs;
mod upload;
pub mod wire;

pub use client::Client;
pub use error::ApiError;
pub use health::health;
pub use http::post_as;
pub use query::Query;
pub use upload::upload;
pub use wire::{Credentials, Me, SessionTokens, TenantMembership};

/// A fresh `Idempotency-Key` for a create request: 128 random bits as hex,
/// so that a retried request is not done twice.
pub fn idempotency_key() -> String {
    let word = || (sycamore::web::js_sys::Math::random() * f64::from(u32::MAX)) as u32;
    format!("{:08x}{:08x}{:08x}{:08x}", word(), word(), word(), word())
}
