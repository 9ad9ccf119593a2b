//! The runtime pool, configured for pgbouncer's transaction pooling.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Row};

use crate::connections::Connections;

/// How the runtime pool is sized and how long it waits.
#[derive(Clone, Debug)]
pub struct PoolSettings {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
    /// How long a tenant connection may sit idle and still be reused
    /// without a ping (pgbouncer's `client_idle_timeout` and proxies'
    /// idle timeouts must be longer).
    pub idle_lifetime: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self { max_connections: 10, acquire_timeout: Duration::from_secs(5), idle_lifetime: Duration::from_secs(60) }
    }
}

/// The runtime role's connections. It deliberately does not hand out the
/// raw pool outside this crate: tenant work goes through [`crate::TenantTx`]
/// on connections of its own ([`crate::connections`]); sqlx's pool serves
/// the rest (readiness, the definer functions).
#[derive(Clone, Debug)]
pub struct Db {
    pool: PgPool,
    connections: Arc<Connections>,
}

/// Who a pool connects as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleCheck {
    pub name: String,
    /// A superuser or BYPASSRLS role.
    pub bypasses_rls: bool,
}

/// What a readiness probe learnt from one round trip.
#[derive(Clone, Debug)]
pub struct ReadinessReport {
    /// The newest applied migration, if any.
    pub migration_version: Option<i64>,
}

impl Db {
    /// Builds the pool lazily: the process starts even if the database is
    /// down, and readiness reports it.
    pub fn connect_lazy(url: &str, settings: &PoolSettings) -> Result<Self, sqlx::Error> {
        let options = PgConnectOptions::from_str(url)?
            // Named statements do not survive transaction pooling.
            .statement_cache_capacity(0)
            .application_name("tenantry-api");
        let pool = PgPoolOptions::new()
            .max_connections(settings.max_connections)
            .acquire_timeout(settings.acquire_timeout)
            // A ping before reuse would be one more round trip per request;
            // broken connections surface as errors and are dropped instead.
            .test_before_acquire(false)
            .connect_lazy_with(options.clone());
        let connections =
            Connections::new(options, settings.max_connections, settings.acquire_timeout, settings.idle_lifetime);
        Ok(Self { pool, connections: Arc::new(connections) })
    }

    /// One simple-protocol round trip: proves the pool can reach the
    /// database as the runtime role and reads the applied migration version.
    pub async fn readiness(&self) -> Result<ReadinessReport, sqlx::Error> {
        let row = sqlx::raw_sql("SELECT max(version) AS version FROM _sqlx_migrations").fetch_one(&self.pool).await?;
        Ok(ReadinessReport { migration_version: row.try_get("version")? })
    }

    /// The role the pool connects as, and whether it could defeat
    /// row-level security (a superuser or a BYPASSRLS role): the API must
    /// not run as one. One simple-protocol round trip.
    pub async fn role(&self) -> Result<RoleCheck, sqlx::Error> {
        let row = sqlx::raw_sql(
            "SELECT current_user::text AS name, rolsuper OR rolbypassrls AS bypasses \
             FROM pg_roles WHERE rolname = current_user",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(RoleCheck { name: row.try_get("name")?, bypasses_rls: row.try_get("bypasses")? })
    }

    /// Closes every connection; waits for checked-out ones to come back.
    pub async fn close(&self) {
        self.connections.close();
        self.pool.close().await;
    }

    pub(crate) fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub(crate) fn connections(&self) -> &Arc<Connections> {
        &self.connections
    }
}
