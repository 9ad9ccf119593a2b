//! Liveness (`GET /`, no dependencies touched) and readiness
//! (`GET /api/health`, one round trip through each database pool and a
//! Redis PING). Readiness tells everyone the status, and the details
//! (versions, migration, dependency latencies and errors) only to the
//! internal network (`APP_INTERNAL_NETWORKS`) or an operator's token.

use std::time::{Duration, Instant};

use poem::Request;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::ApiTags;
use crate::error::ApiError;
use crate::state::AppState;

const CHECK_TIMEOUT: Duration = Duration::from_secs(2);
/// Storage is reported, never required: it may not slow readiness much.
const STORAGE_CHECK_TIMEOUT: Duration = Duration::from_secs(1);

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

pub use model::wire::{DependencyCheck, Health, HealthChecks};

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
    /// a dependency is down. Object storage, when files are on, is reported
    /// in the details but does not make the process unready.
    #[oai(path = "/api/health", method = "get", operation_id = "readiness")]
    async fn readiness(&self, req: &Request) -> Result<ReadinessResponse, ApiError> {
        let state = &self.state;
        let details = may_see_details(req, state);
        // Storage is asked only by those who see the answer, and only when
        // files are on.
        let storage = async {
            match details && state.storage.is_configured() {
                true => Some(timed(bounded(STORAGE_CHECK_TIMEOUT, state.storage.ping())).await),
                false => None,
            }
        };
        let (database, platform_database, redis, storage) =
            tokio::join!(timed(state.db.readiness()), timed(state.platform.ping()), timed(state.redis.ping()), storage);
        let (database, migration_version) = match database {
            (Ok(report), ms) if report.migration_version.unwrap_or(0) < db::latest_migration_version() => {
                (failed(ms, "database schema older than this build"), report.migration_version)
            }
            (Ok(report), ms) => (ok(ms), report.migration_version),
            (Err(err), ms) => {
                tracing::warn!(error = %err, "readiness: database check failed");
                (failed(ms, "database unreachable or not migrated"), None)
            }
        };
        let platform_database = match platform_database {
            (Ok(()), ms) => ok(ms),
            (Err(err), ms) => {
                tracing::warn!(error = %err, "readiness: platform database check failed");
                failed(ms, "platform database unreachable")
            }
        };
        let redis = match redis {
            (Ok(()), ms) => ok(ms),
            (Err(err), ms) => {
                tracing::warn!(error = %err, "readiness: redis check failed");
                failed(ms, "redis unreachable")
            }
        };
        let storage = storage.map(|check| match check {
            (Ok(()), ms) => ok(ms),
            (Err(err), ms) => {
                tracing::warn!(error = %err, "readiness: storage check failed");
                failed(ms, "object storage unreachable")
            }
        });
        let draining = state.is_draining();
        let ready = database.error.is_none() && platform_database.error.is_none() && redis.error.is_none() && !draining;
        let status = match (ready, draining) {
            (true, _) => "ok",
            (false, true) => "draining",
            (false, false) => "unavailable",
        };
        let health = if details {
            Health {
                status: status.into(),
                version: Some(env!("CARGO_PKG_VERSION").into()),
                revision: Some(option_env!("TENANTRY_REVISION").unwrap_or("unknown").into()),
                uptime_seconds: Some(state.started_at.elapsed().as_secs()),
                migration_version,
                checks: Some(HealthChecks { database, platform_database, redis, storage }),
            }
        } else {
            Health {
                status: status.into(),
                version: None,
                revision: None,
                uptime_seconds: None,
                migration_version: None,
                checks: None,
            }
        };
        Ok(if ready { ReadinessResponse::Ready(Json(health)) } else { ReadinessResponse::Unavailable(Json(health)) })
    }
}

/// Whether the caller may see versions and dependency details: a client on
/// the internal network (seen through our proxies, not just the proxy
/// itself), or an operator's bearer token.
fn may_see_details(req: &Request, state: &AppState) -> bool {
    let internal = crate::rate_limit::client_ip(req, &state.settings.trusted_proxies)
        .is_some_and(|ip| state.settings.internal_networks.iter().any(|net| net.contains(ip)));
    internal
        || req
            .headers()
            .get(poem::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|token| crate::auth::operator::is_operator_token(state, token))
}

/// `check`, failing after `limit`.
async fn bounded<T, E: std::fmt::Display>(
    limit: Duration,
    check: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T, String> {
    match tokio::time::timeout(limit, check).await {
        Ok(outcome) => outcome.map_err(|err| err.to_string()),
        Err(_) => Err(format!("timed out after {limit:?}")),
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
