//! The launcher's library: installing prerequisites, supervising child
//! processes, starting PostgreSQL 17, pgbouncer, Redis, nginx and API
//! replicas, and building the console. The `cargo xtask` commands use it,
//! and so do the tests that need a whole stack.

pub mod install;
pub mod paths;
pub mod procs;
pub mod services;
pub mod stack;
pub mod storage_front;
pub mod web;
