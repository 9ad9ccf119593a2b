//! Cluster bootstrap, run once per PostgreSQL cluster by a superuser: the
//! roles and the database. Migrations then run as the owner role.
//!
//! Roles are cluster-wide, so this is idempotent and serialised with a
//! transaction-level advisory lock: parallel test processes may all call it.

use sqlx::{Connection, PgConnection};

/// Names and passwords of the roles the application uses.
#[derive(Clone)]
pub struct ClusterRoles {
    /// Owns the schema and runs migrations.
    pub owner: String,
    pub owner_password: String,
    /// The runtime role; its name is fixed by the migrations' grants.
    pub app_password: String,
    /// The platform role `app_platform` (sign-in, onboarding, API-key
    /// authentication, provisioning); its name is fixed too.
    pub platform_password: String,
}

impl std::fmt::Debug for ClusterRoles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterRoles")
            .field("owner", &self.owner)
            .field("owner_password", &"[redacted]")
            .field("app_password", &"[redacted]")
            .field("platform_password", &"[redacted]")
            .finish()
    }
}

/// Creates (or updates) the roles and creates `database` owned by the owner
/// role if it does not exist. `superuser_url` must reach the cluster
/// directly.
pub async fn bootstrap_cluster(superuser_url: &str, roles: &ClusterRoles, database: &str) -> Result<(), sqlx::Error> {
    let mut conn = PgConnection::connect(superuser_url).await?;
    let owner = quote_ident(&roles.owner);
    let sql = format!(
        "BEGIN;
         -- The statements below carry passwords: keep them out of the
         -- server log whatever its settings, and make the quoting's
         -- assumption (standard strings) true.
         SET LOCAL log_statement = 'none';
         SET LOCAL log_min_error_statement = 'panic';
         SET LOCAL log_min_duration_statement = -1;
         SET LOCAL standard_conforming_strings = on;
         SELECT pg_advisory_xact_lock(7361626);
         DO $bootstrap$
         BEGIN
           IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {owner_lit}) THEN
             CREATE ROLE {owner} LOGIN;
           END IF;
           IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'app') THEN
             CREATE ROLE app LOGIN;
           END IF;
           IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'app_platform') THEN
             CREATE ROLE app_platform LOGIN;
           END IF;
           IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'app_definer') THEN
             CREATE ROLE app_definer NOLOGIN;
           END IF;
         END
         $bootstrap$;
         ALTER ROLE {owner} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB PASSWORD {owner_pw};
         ALTER ROLE app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB NOINHERIT PASSWORD {app_pw};
         ALTER ROLE app_platform LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB NOINHERIT PASSWORD {platform_pw};
         ALTER ROLE app_definer NOLOGIN NOSUPERUSER BYPASSRLS NOCREATEROLE NOCREATEDB;
         GRANT app_definer TO {owner};
         COMMIT;",
        owner_lit = quote_literal(&roles.owner),
        owner_pw = quote_literal(&roles.owner_password),
        app_pw = quote_literal(&roles.app_password),
        platform_pw = quote_literal(&roles.platform_password),
    );
    sqlx::raw_sql(&sql).execute(&mut conn).await?;

    let matching = sqlx::raw_sql(&format!("SELECT 1 FROM pg_database WHERE datname = {}", quote_literal(database)))
        // RawSql::fetch_optional in sqlx 0.8 returns a row, not an Option.
        .fetch_all(&mut conn)
        .await?;
    let db = quote_ident(database);
    if matching.is_empty() {
        let create = format!("CREATE DATABASE {db} OWNER {owner}");
        match sqlx::raw_sql(&create).execute(&mut conn).await {
            Ok(_) => {}
            // Another process created it between the check and here.
            Err(e) if e.as_database_error().and_then(|d| d.code()).as_deref() == Some("42P04") => {}
            Err(e) => return Err(e),
        }
        sqlx::raw_sql(&format!("REVOKE ALL ON DATABASE {db} FROM PUBLIC")).execute(&mut conn).await?;
    }
    // Every time (a database created before a role existed gets its grant),
    // serialised like the roles: concurrent GRANTs on one database collide.
    sqlx::raw_sql(&format!(
        "BEGIN; SELECT pg_advisory_xact_lock(7361626); \
         GRANT CONNECT ON DATABASE {db} TO app, app_platform, {owner}; COMMIT;"
    ))
    .execute(&mut conn)
    .await?;
    conn.close().await?;
    Ok(())
}

/// Quotes an SQL identifier.
pub(crate) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Quotes an SQL string literal (standard_conforming_strings is on).
pub(crate) fn quote_literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_doubles_the_quote_character() {
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_literal("it's"), "'it''s'");
    }
}
