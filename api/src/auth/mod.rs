//! Identity and access: PASETO tokens (`tokens`). Sign-in, refresh-token
//! state in Redis and authorization build on these.

pub mod refresh_store;
pub mod tokens;
