//! Tenantry's HTTP API: configuration, start-up, telemetry, the error shape
//! and the routes. `main.rs` is a thin command-line front.

pub mod auth;
pub mod body_limit;
pub mod config;
pub mod cors;
pub mod domain;
pub mod emails;
pub mod error;
pub mod housekeeping;
pub mod idempotency;
pub mod ip_net;
pub mod mail;
pub mod password;
pub mod payload;
pub mod rate_limit;
pub mod redis_conn;
pub mod request_id;
pub mod request_meta;
pub mod response_headers;
pub mod routes;
pub mod spec;
pub mod startup;
pub mod state;
pub mod storage;
pub mod telemetry;
