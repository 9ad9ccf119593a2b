//! The API's integration tests: one binary, the real application against
//! real PostgreSQL 17 (through pgbouncer), Redis and Chromium.

mod api_keys;
mod auth;
mod console;
mod console_admin;
mod errors;
mod files;
mod fixtures;
mod health;
mod helpers;
mod invitations;
mod isolation_props;
mod members;
mod onboarding;
mod overview;
mod processes;
mod projects;
mod python_client;
mod rbac;
mod refresh;
mod replicas;
mod requests;
mod sign_in_limits;
mod spec_fuzz;
mod tenants;
mod timing;
mod webdriver;
