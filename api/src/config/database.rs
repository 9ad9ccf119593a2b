//! The PostgreSQL connection URLs: the three roles the server uses, and what
//! the `migrate`, `seed-demo` and `bootstrap` commands need.

use super::env::{resolve_files, ConfigError, Vars};
use super::Secret;

/// The connection URLs of `serve`, and whether it migrates at start.
pub(super) struct DatabaseUrls {
    pub(super) runtime: String,
    pub(super) platform: String,
    pub(super) owner: Option<String>,
    pub(super) migrate_on_start: bool,
}

/// Reads the runtime, platform and owner URLs; the owner URL is required
/// only to migrate at start, which development does by default.
pub(super) fn read_urls(env: &Vars<'_>, dev: bool) -> Result<DatabaseUrls, ConfigError> {
    let runtime = env.required("DATABASE_URL")?;
    check_postgres_url("DATABASE_URL", &runtime)?;
    let platform = env.required("PLATFORM_DATABASE_URL")?;
    check_postgres_url("PLATFORM_DATABASE_URL", &platform)?;
    if platform == runtime {
        return Err(env.bad(
            "PLATFORM_DATABASE_URL",
            "must connect as the platform role `app_platform`, not as DATABASE_URL's runtime role".into(),
        ));
    }
    let owner = env.get("DATABASE_OWNER_URL");
    if let Some(url) = &owner {
        check_postgres_url("DATABASE_OWNER_URL", url)?;
    }
    let migrate_on_start = env.parse_or("APP_MIGRATE_ON_START", dev)?;
    if migrate_on_start && owner.is_none() {
        return Err(ConfigError {
            name: "DATABASE_OWNER_URL",
            problem: "is required when APP_MIGRATE_ON_START is true".into(),
        });
    }
    Ok(DatabaseUrls { runtime, platform, owner, migrate_on_start })
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

fn check_postgres_url(name: &'static str, url: &str) -> Result<(), ConfigError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(())
    } else {
        Err(ConfigError { name, problem: "must start with postgres:// or postgresql://".into() })
    }
}
