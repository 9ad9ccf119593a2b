//! Database access for Tenantry: the pooled runtime connection, the tenant
//! transaction every tenant-scoped query must run in, migrations, cluster
//! bootstrap and the repositories.
//!
//! Everything here works through pgbouncer in transaction mode: no named
//! prepared statements (the pool disables the statement cache and every query
//! is built with `.persistent(false)`), and no extended-protocol query outside
//! a transaction (non-transactional checks use the simple protocol).

pub mod api_keys;
pub mod audit;
pub mod auth;
mod bootstrap;
mod connections;
mod error;
pub mod files;
pub mod housekeeping;
pub mod idempotency;
pub mod invitations;
pub mod members;
mod migrate;
pub mod onboarding;
pub mod overview;
pub mod page;
mod platform;
mod pool;
pub mod projects;
pub mod seed;
mod tenant_tx;
pub mod tenants;

pub use bootstrap::{bootstrap_cluster, ClusterRoles};
pub use error::DbError;
pub use migrate::{latest_migration_version, migrate, migrations_count};
pub use model::{
    ApiKeyId, FileId, FileStatus, InvitationId, ProjectId, ProjectStatus, Role, SessionId, TenantId, TenantStatus,
    UserId,
};
pub use platform::{PlatformDb, PlatformTx};
pub use pool::{Db, PoolSettings, ReadinessReport, RoleCheck};
pub use tenant_tx::TenantTx;

/// The PostgreSQL error code for a unique-constraint violation.
pub(crate) const UNIQUE_VIOLATION: &str = "23505";
/// A CHECK constraint failed.
pub(crate) const CHECK_VIOLATION: &str = "23514";
