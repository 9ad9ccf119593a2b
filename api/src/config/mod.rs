//! Every setting the API reads, read and validated once at start-up.
//!
//! A missing or malformed variable stops the process with one line naming
//! it. `.env.example` at the repository root lists each variable with its
//! default and meaning; keep the two in step.
//!
//! Here: the settings of the process itself (address, console, logging,
//! Redis, limits, proxies). Beside it: `env` (reading and parsing variables,
//! `_FILE` secrets), `database`, `auth`, `onboarding`, `mail`, `storage` and `secret`.

mod auth;
mod database;
mod env;
mod mail;
mod onboarding;
mod secret;
mod storage;

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::ip_net::IpNet;

pub use auth::AuthSettings;
pub use database::{bootstrap_from_env, owner_url_from_env};
pub use env::ConfigError;
pub use mail::MailSettings;
pub use onboarding::OnboardingSettings;
pub use secret::Secret;
pub use storage::{FileLimits, S3Settings, StorageSettings};

use env::{resolve_files, Vars};

/// Where the process runs: decides defaults for logging and migrations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Environment {
    Development,
    Production,
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable, for a terminal.
    Pretty,
    /// One JSON object per line, for collectors.
    Json,
}

/// The validated settings.
#[derive(Clone, Debug)]
pub struct Settings {
    pub environment: Environment,
    pub host: IpAddr,
    pub port: u16,
    /// Serve the built console (and the API under `/api/`) on this port too.
    pub console_port: Option<u16>,
    pub console_dir: PathBuf,
    /// Runtime role; may point at pgbouncer.
    pub database_url: Secret,
    /// Platform role `app_platform` (sign-in, onboarding, API-key
    /// authentication, provisioning); may point at pgbouncer.
    pub platform_database_url: Secret,
    /// Owner role, direct to PostgreSQL; needed only to migrate.
    pub database_owner_url: Option<Secret>,
    pub database_max_connections: u32,
    pub platform_database_max_connections: u32,
    pub database_acquire_timeout: Duration,
    pub migrate_on_start: bool,
    /// Without migrating at start: how long to wait for a schema as new as
    /// this build before giving up.
    pub schema_wait: Duration,
    pub redis_url: Secret,
    /// Prepended to every Redis key, so environments can share a server.
    pub redis_key_prefix: String,
    pub log_filter: String,
    pub log_format: LogFormat,
    pub max_body_bytes: usize,
    /// Requests per minute per client address on `/api/`; 0 disables.
    pub rate_limit_per_minute: u32,
    /// Bearer token of platform operators; provisioning is off without it.
    pub operator_token: Option<Secret>,
    /// Peers whose `X-Real-IP` header names the client (our nginx).
    pub trusted_proxies: Vec<IpNet>,
    /// Clients that `GET /api/health` answers in detail (orchestrator
    /// probes, monitoring); everyone else gets the status alone.
    pub internal_networks: Vec<IpNet>,
    /// After SIGTERM, how long in-flight requests may take before the
    /// process exits anyway. Keep below the orchestrator's kill timeout.
    pub drain_timeout: Duration,
    pub auth: AuthSettings,
    /// Requests per minute per API key.
    pub api_key_limit_per_minute: u32,
    pub onboarding: OnboardingSettings,
    pub mail: MailSettings,
    /// How long a replica may answer session, role and API-key checks from
    /// its own cache; changes made through the API reach every replica at
    /// once regardless (Redis pub/sub). Zero turns the cache off.
    pub access_cache_ttl: Duration,
    pub storage: StorageSettings,
    /// How often each replica runs the housekeeping round (stale uploads,
    /// queued storage deletions, old idempotency keys).
    pub housekeeping_every: Duration,
}

impl Settings {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_map(&std::env::vars().collect())
    }

    /// Reads settings from a map of variables (the environment, or a test's).
    pub fn from_map(vars: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let vars = &resolve_files(vars)?;
        let env = Vars(vars);
        let environment = match env.get("APP_ENV").as_deref().unwrap_or("development") {
            "development" => Environment::Development,
            "production" => Environment::Production,
            other => return Err(env.bad("APP_ENV", format!("`{other}` is not development or production"))),
        };
        let dev = environment == Environment::Development;
        let log_format = match env.get("APP_LOG_FORMAT").as_deref() {
            None => {
                if dev {
                    LogFormat::Pretty
                } else {
                    LogFormat::Json
                }
            }
            Some("pretty") => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some(other) => return Err(env.bad("APP_LOG_FORMAT", format!("`{other}` is not pretty or json"))),
        };
        let database = database::read_urls(&env, dev)?;
        let redis_url = env.required("REDIS_URL")?;
        if !(redis_url.starts_with("redis://") || redis_url.starts_with("rediss://")) {
            return Err(env.bad("REDIS_URL", "must start with redis:// or rediss://".into()));
        }
        let operator_token = env.get("APP_OPERATOR_TOKEN");
        if let Some(token) = &operator_token {
            if token.len() < 32 {
                return Err(env.bad("APP_OPERATOR_TOKEN", "must be at least 32 characters".into()));
            }
        }
        let max_connections: u32 = env.parse_or("DATABASE_MAX_CONNECTIONS", 10)?;
        if max_connections == 0 {
            return Err(env.bad("DATABASE_MAX_CONNECTIONS", "must be at least 1".into()));
        }
        let max_body_bytes: usize = env.parse_or("APP_MAX_BODY_BYTES", 1024 * 1024)?;
        if max_body_bytes < 1024 {
            return Err(env.bad("APP_MAX_BODY_BYTES", "must be at least 1024".into()));
        }
        Ok(Self {
            environment,
            host: env.parse_or("APP_HOST", IpAddr::from([0, 0, 0, 0]))?,
            port: env.parse_or("APP_PORT", 3000)?,
            console_port: env.parse_opt("APP_CONSOLE_PORT")?,
            console_dir: env.get("APP_CONSOLE_DIR").unwrap_or_else(|| "web/dist".into()).into(),
            database_url: Secret::new(database.runtime),
            platform_database_url: Secret::new(database.platform),
            database_owner_url: database.owner.map(Secret::new),
            database_max_connections: max_connections,
            platform_database_max_connections: env.parse_or("PLATFORM_DATABASE_MAX_CONNECTIONS", 5)?.max(1),
            database_acquire_timeout: Duration::from_millis(env.parse_or("DATABASE_ACQUIRE_TIMEOUT_MS", 5000)?),
            migrate_on_start: database.migrate_on_start,
            schema_wait: Duration::from_secs(env.parse_or("APP_SCHEMA_WAIT_SECS", 120)?),
            redis_url: Secret::new(redis_url),
            redis_key_prefix: env.get("REDIS_KEY_PREFIX").unwrap_or_else(|| "tenantry:".into()),
            log_filter: env.get("APP_LOG").unwrap_or_else(|| "info".into()),
            log_format,
            max_body_bytes,
            rate_limit_per_minute: env.parse_or("APP_RATE_LIMIT_PER_MINUTE", 600)?,
            operator_token: operator_token.map(Secret::new),
            trusted_proxies: env.parse_list("APP_TRUSTED_PROXIES")?,
            internal_networks: match env.get("APP_INTERNAL_NETWORKS") {
                Some(_) => env.parse_list("APP_INTERNAL_NETWORKS")?,
                None => vec!["127.0.0.0/8".parse().expect("a network"), "::1/128".parse().expect("a network")],
            },
            drain_timeout: Duration::from_secs(env.parse_or("APP_DRAIN_TIMEOUT_SECS", 20)?),
            auth: auth::read(&env, dev)?,
            api_key_limit_per_minute: env.parse_or("APP_API_KEY_LIMIT_PER_MINUTE", 600)?,
            onboarding: onboarding::read(&env)?,
            mail: mail::read(&env, dev)?,
            access_cache_ttl: {
                let ms: u64 = env.parse_or("APP_ACCESS_CACHE_TTL_MS", 1000)?;
                if ms > 60_000 {
                    return Err(env.bad("APP_ACCESS_CACHE_TTL_MS", "must be at most 60000".into()));
                }
                Duration::from_millis(ms)
            },
            storage: storage::read(&env)?,
            housekeeping_every: {
                let secs: u64 = env.parse_or("APP_HOUSEKEEPING_SECS", 60)?;
                if !(1..=3600).contains(&secs) {
                    return Err(env.bad("APP_HOUSEKEEPING_SECS", "must be between 1 and 3600".into()));
                }
                Duration::from_secs(secs)
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A test's variables.
    pub(super) fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    /// The variables without a default.
    pub(super) const BASE: &[(&str, &str)] = &[
        ("DATABASE_URL", "postgres://app:pw@localhost/appdb"),
        ("PLATFORM_DATABASE_URL", "postgres://app_platform:pw@localhost/appdb"),
        ("DATABASE_OWNER_URL", "postgres://owner:pw@localhost/appdb"),
        ("REDIS_URL", "redis://localhost:6379"),
    ];

    #[test]
    fn defaults_apply_when_only_required_variables_are_set() {
        let s = Settings::from_map(&vars(BASE)).unwrap();
        assert_eq!(s.port, 3000);
        assert_eq!(s.environment, Environment::Development);
        assert_eq!(s.log_format, LogFormat::Pretty);
        assert!(s.migrate_on_start);
    }

    #[test]
    fn production_logs_json_and_does_not_migrate_by_default() {
        let mut v = vars(BASE);
        v.insert("APP_ENV".into(), "production".into());
        let (signing, _, refresh) = crate::auth::tokens::TokenKeys::generate_hex().unwrap();
        v.insert("APP_PASETO_SIGNING_KEY".into(), signing);
        v.insert("APP_PASETO_REFRESH_KEY".into(), refresh);
        let s = Settings::from_map(&v).unwrap();
        assert_eq!(s.log_format, LogFormat::Json);
        assert!(!s.migrate_on_start);
    }

    #[test]
    fn trusted_proxies_are_addresses_or_networks() {
        let mut v = vars(BASE);
        v.insert("APP_TRUSTED_PROXIES".into(), "10.0.0.0/8, 127.0.0.1".into());
        let s = Settings::from_map(&v).unwrap();
        assert_eq!(s.trusted_proxies.len(), 2);
        assert!(s.trusted_proxies[0].contains("10.1.2.3".parse().unwrap()));
        assert!(!s.trusted_proxies[0].contains("11.0.0.1".parse().unwrap()));
        v.insert("APP_TRUSTED_PROXIES".into(), "10.0.0.0/40".into());
        assert_eq!(Settings::from_map(&v).unwrap_err().name, "APP_TRUSTED_PROXIES");
    }
}
