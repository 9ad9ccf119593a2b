//! Identity and access: PASETO tokens (`tokens`). Sign-in, refresh-token
//! state in Redis and authorization build on these.

pub mod access;
pub mod access_cache;
pub mod api_key;
pub mod authorize;
pub mod bearer;
pub mod cookie;
pub mod email_token;
pub mod login_guard;
pub mod operator;
pub mod refresh_store;
pub mod secrets;
pub mod session;
pub mod tokens;
