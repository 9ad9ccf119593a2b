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
pub mod wire;

pub use client::Client;
pub use error::ApiError;
pub use health::health;
pub use http::post_as;
pub use wire::{Credentials, Me, SessionTokens, TenantMembership};
