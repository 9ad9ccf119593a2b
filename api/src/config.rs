//! Every setting the API reads, read and validated once at start-up.
//!
//! A missing or malformed variable stops the process with one line naming
//! it. `.env.example` at the repository root lists each variable with its
//! default and meaning; keep the two in step.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;

use crate::ip_net::IpNet;
use std::path::PathBuf;
use std::time::Duration;

/// A value that must never be printed (passwords, tokens, URLs with them).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

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
}

/// Self-service registration, password reset and invitations.
#[derive(Clone, Debug)]
pub struct OnboardingSettings {
    /// `POST /api/auth/register` is open; off when only operators provision
    /// tenants.
    pub registration_enabled: bool,
    /// Where the console is reached, for the links in emails.
    pub public_url: String,
    pub verification_ttl: Duration,
    pub reset_ttl: Duration,
    pub invitation_ttl: Duration,
    /// Register, forgot-password and invitation-accept requests per minute
    /// per client address; a third of it per email (register, forgot,
    /// invitations).
    pub limit_per_minute: u32,
    /// Invitations one tenant may send in a day.
    pub invitations_per_tenant_per_day: u32,
}

/// Outgoing email.
#[derive(Clone, Debug)]
pub struct MailSettings {
    /// `smtp://`, `smtps://` or `smtp://…?tls=required` URL of the relay,
    /// with credentials; without it, emails go to the log and the outbox.
    pub smtp_url: Option<Secret>,
    /// The `From` of every email.
    pub from: String,
    /// Folder that receives each unsent email as an `.eml` file (development).
    pub outbox_dir: Option<PathBuf>,
    /// Unsent emails are logged with their body (and so their links):
    /// development only, never in production logs.
    pub log_bodies: bool,
}

/// Tokens and sign-in.
#[derive(Clone, Debug)]
pub struct AuthSettings {
    /// Ed25519 signing key (seed and public key, 64 bytes, hex).
    pub signing_key: Secret,
    /// Public keys of earlier signing keys still accepted (hex).
    pub previous_public_keys: Vec<String>,
    /// Symmetric key of refresh tokens (32 bytes, hex).
    pub refresh_key: Secret,
    /// The keys were generated at start (development without keys set):
    /// tokens die with the process.
    pub keys_generated: bool,
    pub issuer: String,
    pub audience: String,
    pub access_ttl: Duration,
    pub refresh_ttl: Duration,
    /// How long a used refresh token still yields its successor.
    pub refresh_grace: Duration,
    /// Origins allowed to use the refresh cookie (`scheme://host[:port]`).
    pub allowed_origins: Vec<String>,
    /// Sign-in attempts per minute per client address (all accounts).
    pub login_limit_per_minute: u32,
    /// Failed sign-ins an account may take in an hour from addresses that
    /// have not signed in to it successfully lately; past it, only such
    /// addresses may still try.
    pub login_failures_per_hour: u32,
    /// A session ends this long after it was opened, however often it is
    /// refreshed.
    pub session_max_lifetime: Duration,
    /// Name and path of the refresh cookie.
    pub refresh_cookie: crate::auth::cookie::CookieScope,
}

/// A setting that could not be used, naming the variable.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {name}: {problem}")]
pub struct ConfigError {
    pub name: &'static str,
    pub problem: String,
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
        let database_url = env.required("DATABASE_URL")?;
        check_postgres_url("DATABASE_URL", &database_url)?;
        let platform_database_url = env.required("PLATFORM_DATABASE_URL")?;
        check_postgres_url("PLATFORM_DATABASE_URL", &platform_database_url)?;
        if platform_database_url == database_url {
            return Err(env.bad(
                "PLATFORM_DATABASE_URL",
                "must connect as the platform role `app_platform`, not as DATABASE_URL's runtime role".into(),
            ));
        }
        let database_owner_url = env.get("DATABASE_OWNER_URL");
        if let Some(url) = &database_owner_url {
            check_postgres_url("DATABASE_OWNER_URL", url)?;
        }
        let migrate_on_start = env.parse_or("APP_MIGRATE_ON_START", dev)?;
        if migrate_on_start && database_owner_url.is_none() {
            return Err(ConfigError {
                name: "DATABASE_OWNER_URL",
                problem: "is required when APP_MIGRATE_ON_START is true".into(),
            });
        }
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
            database_url: Secret::new(database_url),
            platform_database_url: Secret::new(platform_database_url),
            database_owner_url: database_owner_url.map(Secret::new),
            database_max_connections: max_connections,
            platform_database_max_connections: env.parse_or("PLATFORM_DATABASE_MAX_CONNECTIONS", 5)?.max(1),
            database_acquire_timeout: Duration::from_millis(env.parse_or("DATABASE_ACQUIRE_TIMEOUT_MS", 5000)?),
            migrate_on_start,
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
            auth: auth_settings(&env, dev)?,
            api_key_limit_per_minute: env.parse_or("APP_API_KEY_LIMIT_PER_MINUTE", 600)?,
            onboarding: onboarding_settings(&env)?,
            mail: mail_settings(&env, dev)?,
            access_cache_ttl: {
                let ms: u64 = env.parse_or("APP_ACCESS_CACHE_TTL_MS", 1000)?;
                if ms > 60_000 {
                    return Err(env.bad("APP_ACCESS_CACHE_TTL_MS", "must be at most 60000".into()));
                }
                Duration::from_millis(ms)
            },
        })
    }
}

/// The owner URL alone, for the `migrate` and `seed-demo` commands, which
/// need nothing else.
pub fn owner_url_from_env() -> Result<Secret, ConfigError> {
    let vars = resolve_files(&std::env::vars().collect())?;
    let url = Vars(&vars).required("DATABASE_OWNER_URL")?;
    check_postgres_url("DATABASE_OWNER_URL", &url)?;
    Ok(Secret::new(url))
}

/// What `tenantry-api bootstrap` needs: a superuser URL (direct), and the
/// owner, runtime and platform URLs whose users, passwords and database it creates.
pub fn bootstrap_from_env() -> Result<(Secret, db::ClusterRoles, String), ConfigError> {
    let vars = resolve_files(&std::env::vars().collect())?;
    let env = Vars(&vars);
    let superuser = env.required("DATABASE_SUPERUSER_URL")?;
    check_postgres_url("DATABASE_SUPERUSER_URL", &superuser)?;
    let owner = parse_role_url(&env, "DATABASE_OWNER_URL")?;
    let app = parse_role_url(&env, "DATABASE_URL")?;
    if app.0 != "app" {
        return Err(env.bad("DATABASE_URL", format!("the runtime role must be `app`, not `{}`", app.0)));
    }
    let platform = parse_role_url(&env, "PLATFORM_DATABASE_URL")?;
    if platform.0 != "app_platform" {
        return Err(
            env.bad("PLATFORM_DATABASE_URL", format!("the platform role must be `app_platform`, not `{}`", platform.0))
        );
    }
    let roles = db::ClusterRoles {
        owner: owner.0,
        owner_password: owner.1,
        app_password: app.1,
        platform_password: platform.1,
    };
    Ok((Secret::new(superuser), roles, owner.2))
}

/// (user, password, database) of a PostgreSQL URL; all three required.
fn parse_role_url(env: &Vars<'_>, name: &'static str) -> Result<(String, String, String), ConfigError> {
    let raw = env.required(name)?;
    check_postgres_url(name, &raw)?;
    let url = url::Url::parse(&raw).map_err(|e| env.bad(name, format!("not a URL: {e}")))?;
    // Percent-decoding as sqlx does (not form decoding: `+` stays `+`).
    let decode = |s: &str| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned();
    let user = decode(url.username());
    let password = url.password().map(decode).unwrap_or_default();
    let database = url.path().trim_start_matches('/').to_owned();
    if user.is_empty() || password.is_empty() || database.is_empty() {
        return Err(env.bad(name, "must name a user, a password and a database".into()));
    }
    Ok((user, password, database))
}

fn auth_settings(env: &Vars<'_>, dev: bool) -> Result<AuthSettings, ConfigError> {
    let (signing_key, refresh_key, keys_generated) =
        match (env.get("APP_PASETO_SIGNING_KEY"), env.get("APP_PASETO_REFRESH_KEY")) {
            (Some(signing), Some(refresh)) => (signing, refresh, false),
            (None, None) if dev => {
                let (signing, _, refresh) = crate::auth::tokens::TokenKeys::generate_hex()
                    .map_err(|e| env.bad("APP_PASETO_SIGNING_KEY", e.to_string()))?;
                (signing, refresh, true)
            }
            (None, _) => {
                return Err(env.bad("APP_PASETO_SIGNING_KEY", "is required (`tenantry-api keygen` makes one)".into()))
            }
            (_, None) => {
                return Err(env.bad("APP_PASETO_REFRESH_KEY", "is required (`tenantry-api keygen` makes one)".into()))
            }
        };
    let access_ttl = Duration::from_secs(env.parse_or("APP_ACCESS_TOKEN_TTL_SECS", 900)?);
    if access_ttl.is_zero() || access_ttl > crate::auth::tokens::MAX_ACCESS_TTL {
        return Err(env.bad("APP_ACCESS_TOKEN_TTL_SECS", "must be 1 to 900".into()));
    }
    let default_origins = if dev { "http://localhost:8081,http://127.0.0.1:8081" } else { "" };
    let allowed_origins: Vec<String> = env
        .get("APP_ALLOWED_ORIGINS")
        .unwrap_or_else(|| default_origins.to_owned())
        .split(',')
        .map(|o| o.trim().trim_end_matches('/').to_owned())
        .filter(|o| !o.is_empty())
        .collect();
    if let Some(bad) = allowed_origins.iter().find(|o| !(o.starts_with("https://") || o.starts_with("http://"))) {
        return Err(env.bad("APP_ALLOWED_ORIGINS", format!("`{bad}` is not an http(s) origin")));
    }
    let settings = AuthSettings {
        signing_key: Secret::new(signing_key),
        previous_public_keys: env.parse_list("APP_PASETO_PREVIOUS_PUBLIC_KEYS")?,
        refresh_key: Secret::new(refresh_key),
        keys_generated,
        issuer: env.get("APP_TOKEN_ISSUER").unwrap_or_else(|| "tenantry".into()),
        audience: env.get("APP_TOKEN_AUDIENCE").unwrap_or_else(|| "tenantry-api".into()),
        access_ttl,
        refresh_ttl: Duration::from_secs(env.parse_or("APP_REFRESH_TOKEN_TTL_SECS", 30 * 24 * 3600)?),
        refresh_grace: Duration::from_millis(env.parse_or("APP_REFRESH_GRACE_MS", 10_000)?),
        allowed_origins,
        login_limit_per_minute: env.parse_or("APP_LOGIN_LIMIT_PER_MINUTE", 10)?,
        login_failures_per_hour: env.parse_or("APP_LOGIN_FAILURES_PER_HOUR", 100)?,
        session_max_lifetime: {
            let hours: u64 = env.parse_or("APP_SESSION_MAX_LIFETIME_HOURS", 30 * 24)?;
            if hours == 0 || hours > 365 * 24 {
                return Err(env.bad("APP_SESSION_MAX_LIFETIME_HOURS", "must be 1–8760".into()));
            }
            Duration::from_secs(hours * 3600)
        },
        refresh_cookie: match env.get("APP_REFRESH_COOKIE_SCOPE").as_deref() {
            None | Some("host") => crate::auth::cookie::CookieScope::Host,
            Some("path") => crate::auth::cookie::CookieScope::Path,
            Some(other) => {
                return Err(env.bad("APP_REFRESH_COOKIE_SCOPE", format!("`{other}` is not host or path")));
            }
        },
    };
    // Unusable key material stops start-up here, not at the first sign-in.
    settings.token_keys().map_err(|e| env.bad("APP_PASETO_SIGNING_KEY", e.to_string()))?;
    Ok(settings)
}

fn onboarding_settings(env: &Vars) -> Result<OnboardingSettings, ConfigError> {
    let public_url = env.get("APP_PUBLIC_URL").unwrap_or_else(|| "http://localhost:8081".into());
    let parsed = url::Url::parse(&public_url).map_err(|e| env.bad("APP_PUBLIC_URL", e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(env.bad("APP_PUBLIC_URL", "must be an http(s) URL with a host".into()));
    }
    // The database bounds them too (7 days, 1 day, 31 days).
    let minutes = |name: &'static str, default: u64, max: u64| -> Result<Duration, ConfigError> {
        let m: u64 = env.parse_or(name, default)?;
        if m == 0 || m > max {
            return Err(env.bad(name, format!("must be 1–{max}")));
        }
        Ok(Duration::from_secs(m * 60))
    };
    Ok(OnboardingSettings {
        registration_enabled: env.parse_or("APP_REGISTRATION_ENABLED", true)?,
        public_url: public_url.trim_end_matches('/').to_owned(),
        verification_ttl: minutes("APP_VERIFICATION_TTL_MINUTES", 24 * 60, 7 * 24 * 60)?,
        reset_ttl: minutes("APP_PASSWORD_RESET_TTL_MINUTES", 30, 24 * 60)?,
        invitation_ttl: minutes("APP_INVITATION_TTL_MINUTES", 7 * 24 * 60, 30 * 24 * 60)?,
        limit_per_minute: env.parse_or("APP_ONBOARDING_LIMIT_PER_MINUTE", 15)?,
        invitations_per_tenant_per_day: env.parse_or("APP_INVITATIONS_PER_TENANT_PER_DAY", 200)?,
    })
}

fn mail_settings(env: &Vars, dev: bool) -> Result<MailSettings, ConfigError> {
    // Bodies carry working links: logged only where development was asked
    // for by name, never by default.
    let log_bodies = dev && env.get("APP_ENV").as_deref() == Some("development");
    let smtp_url = env.get("APP_SMTP_URL");
    if let Some(url) = &smtp_url {
        if !(url.starts_with("smtp://") || url.starts_with("smtps://")) {
            return Err(env.bad("APP_SMTP_URL", "must start with smtp:// or smtps://".into()));
        }
    }
    let from = env.get("APP_MAIL_FROM").unwrap_or_else(|| "Tenantry <no-reply@tenantry.localhost>".into());
    if from.parse::<lettre::message::Mailbox>().is_err() {
        return Err(env.bad("APP_MAIL_FROM", "is not a mailbox (`Name <address>` or `address`)".into()));
    }
    // Set but empty: no outbox, even in development.
    let outbox_dir = match env.0.get("APP_OUTBOX_DIR").map(|d| d.trim()) {
        Some("") => None,
        Some(dir) => Some(PathBuf::from(dir)),
        None if dev => Some(PathBuf::from(".data/outbox")),
        None => None,
    };
    Ok(MailSettings { smtp_url: smtp_url.map(Secret::new), from, outbox_dir, log_bodies })
}

impl AuthSettings {
    pub fn token_keys(&self) -> Result<crate::auth::tokens::TokenKeys, crate::auth::tokens::TokenError> {
        let previous: Vec<&str> = self.previous_public_keys.iter().map(String::as_str).collect();
        crate::auth::tokens::TokenKeys::new(
            &self.issuer,
            &self.audience,
            self.access_ttl,
            &crate::auth::tokens::KeyMaterial {
                signing_key_hex: self.signing_key.expose(),
                previous_keys: &previous,
                refresh_key_hex: self.refresh_key.expose(),
            },
        )
    }
}

/// Variables whose value may instead come from a file named by
/// `<NAME>_FILE` (Docker and Nomad secrets are files).
const FILE_VARIABLES: [&str; 9] = [
    "DATABASE_URL",
    "PLATFORM_DATABASE_URL",
    "DATABASE_OWNER_URL",
    "DATABASE_SUPERUSER_URL",
    "REDIS_URL",
    "APP_OPERATOR_TOKEN",
    "APP_PASETO_SIGNING_KEY",
    "APP_PASETO_REFRESH_KEY",
    "APP_SMTP_URL",
];

/// Replaces each `<NAME>_FILE` by `<NAME>` with the file's contents. An
/// unreadable file stops start-up like any other bad variable.
fn resolve_files(vars: &HashMap<String, String>) -> Result<HashMap<String, String>, ConfigError> {
    let mut resolved = vars.clone();
    for name in FILE_VARIABLES {
        let Some(path) = vars.get(&format!("{name}_FILE")).map(|p| p.trim()).filter(|p| !p.is_empty()) else {
            continue;
        };
        if vars.get(name).is_some_and(|v| !v.trim().is_empty()) {
            return Err(ConfigError { name, problem: format!("is set and so is {name}_FILE; set one of them") });
        }
        let value = std::fs::read_to_string(path)
            .map_err(|e| ConfigError { name, problem: format!("cannot read {name}_FILE ({path}): {e}") })?;
        resolved.insert(name.to_owned(), value.trim().to_owned());
    }
    Ok(resolved)
}

struct Vars<'a>(&'a HashMap<String, String>);

impl Vars<'_> {
    /// A set, non-empty value.
    fn get(&self, name: &str) -> Option<String> {
        self.0.get(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
    }

    fn required(&self, name: &'static str) -> Result<String, ConfigError> {
        self.get(name).ok_or(ConfigError { name, problem: "is required but not set".into() })
    }

    fn parse_opt<T: std::str::FromStr>(&self, name: &'static str) -> Result<Option<T>, ConfigError>
    where
        T::Err: fmt::Display,
    {
        self.get(name).map(|raw| raw.parse::<T>().map_err(|e| self.bad(name, format!("`{raw}`: {e}")))).transpose()
    }

    /// A comma-separated list; empty when unset.
    fn parse_list<T: std::str::FromStr>(&self, name: &'static str) -> Result<Vec<T>, ConfigError>
    where
        T::Err: fmt::Display,
    {
        self.get(name)
            .map(|raw| {
                raw.split(',')
                    .map(str::trim)
                    .filter(|item| !item.is_empty())
                    .map(|item| item.parse::<T>().map_err(|e| self.bad(name, format!("`{item}`: {e}"))))
                    .collect()
            })
            .unwrap_or_else(|| Ok(Vec::new()))
    }

    fn parse_or<T: std::str::FromStr>(&self, name: &'static str, default: T) -> Result<T, ConfigError>
    where
        T::Err: fmt::Display,
    {
        Ok(self.parse_opt(name)?.unwrap_or(default))
    }

    fn bad(&self, name: &'static str, problem: String) -> ConfigError {
        ConfigError { name, problem }
    }
}

fn check_postgres_url(name: &'static str, url: &str) -> Result<(), ConfigError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(())
    } else {
        Err(ConfigError { name, problem: "must start with postgres:// or postgresql://".into() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    const BASE: &[(&str, &str)] = &[
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
    fn email_bodies_are_logged_only_where_development_is_asked_for_by_name() {
        assert!(!Settings::from_map(&vars(BASE)).unwrap().mail.log_bodies, "logged with APP_ENV unset");
        let mut v = vars(BASE);
        v.insert("APP_ENV".into(), "development".into());
        assert!(Settings::from_map(&v).unwrap().mail.log_bodies);
    }

    #[test]
    fn a_missing_variable_is_named() {
        let err = Settings::from_map(&vars(&BASE[1..])).unwrap_err();
        assert_eq!(err.name, "DATABASE_URL");
        assert_eq!(err.to_string(), "configuration: DATABASE_URL: is required but not set");
    }

    #[test]
    fn a_malformed_number_is_named() {
        let mut v = vars(BASE);
        v.insert("APP_PORT".into(), "eighty".into());
        let err = Settings::from_map(&v).unwrap_err();
        assert_eq!(err.name, "APP_PORT");
    }

    #[test]
    fn production_requires_token_keys() {
        let mut v = vars(BASE);
        v.insert("APP_ENV".into(), "production".into());
        assert_eq!(Settings::from_map(&v).unwrap_err().name, "APP_PASETO_SIGNING_KEY");
        let (signing, _, refresh) = crate::auth::tokens::TokenKeys::generate_hex().unwrap();
        v.insert("APP_PASETO_SIGNING_KEY".into(), signing);
        assert_eq!(Settings::from_map(&v).unwrap_err().name, "APP_PASETO_REFRESH_KEY");
        v.insert("APP_PASETO_REFRESH_KEY".into(), "00".into());
        assert_eq!(Settings::from_map(&v).unwrap_err().name, "APP_PASETO_SIGNING_KEY", "bad key material is caught");
        v.insert("APP_PASETO_REFRESH_KEY".into(), refresh);
        assert!(!Settings::from_map(&v).unwrap().auth.keys_generated);
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
    fn an_unreadable_secret_file_is_named() {
        let mut v = vars(BASE);
        v.remove("REDIS_URL");
        v.insert("REDIS_URL_FILE".into(), "/nonexistent/redis-url".into());
        let err = Settings::from_map(&v).unwrap_err();
        assert_eq!(err.name, "REDIS_URL");
        assert!(err.problem.contains("/nonexistent/redis-url"), "{err}");
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

    #[test]
    fn a_secret_can_come_from_a_file() {
        let path = std::env::temp_dir().join(format!("tenantry-config-test-{}", std::process::id()));
        std::fs::write(&path, "redis://from-a-file:6379\n").unwrap();
        let mut v = vars(BASE);
        v.remove("REDIS_URL");
        v.insert("REDIS_URL_FILE".into(), path.to_string_lossy().into_owned());
        let s = Settings::from_map(&v).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(s.redis_url.expose(), "redis://from-a-file:6379");
    }

    #[test]
    fn secrets_do_not_print() {
        let s = Settings::from_map(&vars(BASE)).unwrap();
        assert!(!format!("{s:?}").contains("pw@"));
    }
}
