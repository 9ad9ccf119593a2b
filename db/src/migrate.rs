//! Applies `db/migrations/` over a direct connection as the owner role.
//!
//! sqlx's migrator serialises concurrent runs with a session-level advisory
//! lock, which pgbouncer's transaction pooling would break; the owner URL
//! therefore always points at PostgreSQL itself, never at the pooler.

use sqlx::{Connection, PgConnection};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Applies pending migrations; returns the newest applied version.
pub async fn migrate(owner_url: &str) -> Result<i64, sqlx::Error> {
    let mut conn = PgConnection::connect(owner_url).await?;
    MIGRATOR.run(&mut conn).await?;
    let version = latest_migration_version();
    conn.close().await?;
    Ok(version)
}

/// How many migrations ship with this build.
pub fn migrations_count() -> usize {
    MIGRATOR.iter().count()
}

/// The newest migration version shipped with this build.
pub fn latest_migration_version() -> i64 {
    MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0)
}
