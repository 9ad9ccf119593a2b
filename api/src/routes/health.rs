//! Liveness (`GET /`, no dependencies touched) and readiness
//! (`GET /api/health`, one round trip to PostgreSQL through the pool and a
//! Redis PING).

use std::time::{Duration, Instant};

use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::ApiTags;
use crate::error::ApiError;
use crate::state::AppState;

const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Debug)]
pub struct HealthApi {
    pub state: AppState,
}

/// The process is up.
#[derive(Debug, Object)]
pub struct Liveness {
    /// Always `ok`.
    pub status: String,
}

/// Readiness of the process and its dependencies.
#[derive(Debug, Object)]
pub struct Health {
    /// `ok` when every dependency answered; `unavailable` when one did not;
    /// `draining` while the process shuts down.
    pub status: String,
    /// The API build version.
    pub version: String,
    /// The commit the binary was built from (`unknown` outside CI builds).
    pub revision: String,
    pub uptime_seconds: u64,
    /// Newest applied database migration; absent if the database is down.
    pub migration_version: Option<i64>,
    pub checks: HealthChecks,
}

/// One entry per dependency.
#[derive(Debug, Object)]
pub struct HealthChecks {
    pub database: DependencyCheck,
    pub redis: DependencyCheck,
}

/// The outcome of one dependency check.
#[derive(Debug, Object)]
pub struct DependencyCheck {
    /// `ok` or `error`.
    pub status: String,
    pub latency_ms: f64,
    /// What failed, in general terms (no addresses or credentials).
    #[oai(skip_serializing_if_is_none)]
    pub error: Option<String>,
}

#[derive(Debug, ApiResponse)]
pub enum LivenessResponse {
    /// The process is running.
    #[oai(status = 200)]
    Ok(Json<Liveness>),
}

#[derive(Debug, ApiResponse)]
pub enum ReadinessResponse {
    /// Every dependency answered.
    #[oai(status = 200)]
    Ready(Json<Health>),
    /// A dependency is down (the body says which), or the process is
    /// shutting down.
    #[oai(status = 503)]
    Unavailable(Json<Health>),
}

#[OpenApi(tag = "ApiTags::Health")]
impl HealthApi {
    /// Liveness
    ///
    /// Answers while the process runs; touches no dependency, so an outage of
    /// the database never makes an orchestrator restart every replica.
    #[oai(path = "/", method = "get", operation_id = "liveness")]
    async fn liveness(&self) -> LivenessResponse {
        LivenessResponse::Ok(Json(Liveness { status: "ok".into() }))
    }

    /// Readiness
    ///
    /// One database round trip through the pool and a Redis PING, with the
    /// applied migration version, the build version and the uptime. 503 when
    /// a dependency is down.
    #[oai(path = "/api/health", method = "get", operation_id = "readiness")]
    async fn readiness(&self) -> Result<ReadinessResponse, ApiError> {
        let state = &self.state;
        let (database, redis) = tokio::join!(timed(state.db.readiness()), timed(state.redis.ping()));
        let (database, migration_version) = match database {
            (Ok(report), ms) => (ok(ms), report.migration_version),
            (Err(err), ms) => {
                tracing::warn!(error = %err, "readiness: database check failed");
                (failed(ms, "database unreachable or not migrated"), None)
            }
        };
        let redis = match redis {
            (Ok(()), ms) => ok(ms),
            (Err(err), ms) => {
                tracing::warn!(error = %err, "readiness: redis check failed");
                failed(ms, "redis unreachable")
            }
        };
        let draining = state.is_draining();
        let ready = database.error.is_none() && redis.error.is_none() && !draining;
        let status = match (ready, draining) {
            (true, _) => "ok",
            (false, true) => "draining",
            (false, false) => "unavailable",
        };
        let health = Health {
            status: status.into(),
            version: env!("CARGO_PKG_VERSION").into(),
            revision: option_env!("TENANTRY_REVISION").unwrap_or("unknown").into(),
            uptime_seconds: state.started_at.elapsed().as_secs(),
            migration_version,
            checks: HealthChecks { database, redis },
        };
        Ok(if ready { ReadinessResponse::Ready(Json(health)) } else { ReadinessResponse::Unavailable(Json(health)) })
    }
}

async fn timed<T, E: std::fmt::Display>(
    check: impl std::future::Future<Output = Result<T, E>>,
) -> (Result<T, String>, f64) {
    let started = Instant::now();
    let outcome = match tokio::time::timeout(CHECK_TIMEOUT, check).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(err)) => Err(err.to_string()),
        Err(_) => Err(format!("timed out after {CHECK_TIMEOUT:?}")),
    };
    (outcome, started.elapsed().as_secs_f64() * 1000.0)
}

fn ok(latency_ms: f64) -> DependencyCheck {
    DependencyCheck { status: "ok".into(), latency_ms, error: None }
}

fn failed(latency_ms: f64, error: &str) -> DependencyCheck {
    DependencyCheck { status: "error".into(), latency_ms, error: Some(error.into()) }
}
