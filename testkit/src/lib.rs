//! The test harness: fresh databases on the PostgreSQL 17 cluster, the
//! pgbouncer and the Redis that `cargo xtask test` started (or that the
//! environment names), never the machine's own services and never mocks.
//!
//! Each test gets its own database, created and migrated here, so tests run
//! in parallel. Roles are cluster-wide and are ensured (idempotently, under
//! an advisory lock) by every call.

pub mod s3;
pub mod smtp;

use anyhow::{Context, Result};

/// The environment variables the harness reads.
pub const PG_URL: &str = "TEST_PG_URL";
pub const PGBOUNCER_URL: &str = "TEST_PGBOUNCER_URL";
pub const REDIS_URL: &str = "TEST_REDIS_URL";

/// Reads a variable `cargo xtask test` sets, with a hint when it is missing.
pub fn env(name: &str) -> String {
    std::env::var(name).ok().filter(|v| !v.is_empty()).unwrap_or_else(|| {
        panic!(
            "{name} is not set: run the suite with `cargo xtask test`, which starts PostgreSQL 17, \
             pgbouncer and Redis on free ports, or set TEST_PG_URL, TEST_PGBOUNCER_URL and TEST_REDIS_URL"
        )
    })
}

fn password(name: &str, default: &str) -> String {
    std::env::var(name).ok().filter(|v| !v.is_empty()).unwrap_or_else(|| default.to_owned())
}

/// A freshly created and migrated database of its own.
#[derive(Clone, Debug)]
pub struct TestDatabase {
    pub name: String,
    /// The owner role, directly (migrations, seeding).
    pub owner_url: String,
    /// The runtime role `app`, directly.
    pub app_url: String,
    /// The runtime role `app` through pgbouncer in transaction mode.
    pub pooled_app_url: String,
    /// The platform role `app_platform`, directly.
    pub platform_url: String,
    /// The platform role `app_platform` through pgbouncer.
    pub pooled_platform_url: String,
    /// A superuser, directly, connected to this database.
    pub superuser_url: String,
}

pub const OWNER_ROLE: &str = "app_owner";

/// Creates a new database, ensures the roles, applies the migrations.
pub async fn database() -> Result<TestDatabase> {
    let db = unmigrated_database().await?;
    db::migrate(&db.owner_url).await.context("migrating the test database")?;
    Ok(db)
}

/// Creates a new, empty database (roles ensured) without migrating it.
pub async fn unmigrated_database() -> Result<TestDatabase> {
    let superuser = env(PG_URL);
    let name = format!("t_{}", uuid::Uuid::new_v4().simple());
    let roles = db::ClusterRoles {
        owner: OWNER_ROLE.to_owned(),
        owner_password: password("TEST_OWNER_PASSWORD", "owner-test-password"),
        app_password: password("TEST_APP_PASSWORD", "app-test-password"),
        platform_password: password("TEST_PLATFORM_PASSWORD", "platform-test-password"),
    };
    db::bootstrap_cluster(&superuser, &roles, &name).await.context("bootstrapping the test cluster")?;
    let direct = with_user_and_db(&superuser, None, &name)?;
    let pooled = with_user_and_db(&env(PGBOUNCER_URL), Some(("app", &roles.app_password)), &name)?;
    Ok(TestDatabase {
        owner_url: with_user_and_db(&superuser, Some((OWNER_ROLE, &roles.owner_password)), &name)?,
        app_url: with_user_and_db(&superuser, Some(("app", &roles.app_password)), &name)?,
        pooled_app_url: pooled,
        platform_url: with_user_and_db(&superuser, Some(("app_platform", &roles.platform_password)), &name)?,
        pooled_platform_url: with_user_and_db(
            &env(PGBOUNCER_URL),
            Some(("app_platform", &roles.platform_password)),
            &name,
        )?,
        superuser_url: direct,
        name,
    })
}

/// `base` with its user, password (when given) and database replaced.
fn with_user_and_db(base: &str, user: Option<(&str, &str)>, database: &str) -> Result<String> {
    let mut url = url::Url::parse(base).with_context(|| format!("parsing {base}"))?;
    if let Some((name, password)) = user {
        url.set_username(name).map_err(|_| anyhow::anyhow!("cannot set a user on {base}"))?;
        url.set_password(Some(password)).map_err(|_| anyhow::anyhow!("cannot set a password on {base}"))?;
    }
    url.set_path(&format!("/{database}"));
    Ok(url.to_string())
}

/// The Redis the suite shares; tests keep their keys apart by prefix.
pub fn redis_url() -> String {
    env(REDIS_URL)
}

/// Creates a tenant with an admin member (`admin@<slug>.test`),
/// `projects` projects named `<slug>-<n>` (the first with a pending
/// upload), an open invitation, a queued storage deletion and an
/// idempotency key, as the owner with the tenant
/// context set (the owner is subject to FORCE RLS too). Every
/// tenant-scoped table gets rows, so isolation checks over all of them bite.
/// Returns the tenant id.
pub async fn seed_tenant(db: &TestDatabase, slug: &str, projects: i32) -> Result<uuid::Uuid> {
    use sqlx::{Connection, Row};
    let mut conn = sqlx::PgConnection::connect(&db.owner_url).await?;
    let mut tx = conn.begin().await?;
    let id: uuid::Uuid = sqlx::query("SELECT id FROM provision_tenant($1, $2, 'free')")
        .bind(slug)
        .bind(format!("Tenant {slug}"))
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
    sqlx::query("SELECT set_config('app.tenant_id', $1::text, true)").bind(id).execute(&mut *tx).await?;
    let admin: uuid::Uuid =
        sqlx::query("INSERT INTO users (email, password_hash) VALUES ($1, 'not-a-hash') RETURNING id")
            .bind(format!("admin@{slug}.test"))
            .fetch_one(&mut *tx)
            .await?
            .try_get("id")?;
    sqlx::query("INSERT INTO memberships (user_id, role) VALUES ($1, 'admin')").bind(admin).execute(&mut *tx).await?;
    sqlx::query("INSERT INTO projects (name) SELECT $1 || '-' || n FROM generate_series(1, $2) AS n")
        .bind(slug)
        .bind(projects)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO invitations (email, role, token_hash, expires_at) \
         VALUES ('invitee@' || $1 || '.test', 'user', encode(sha256(gen_random_uuid()::text::bytea), 'hex'), \
                 now() + interval '7 days')",
    )
    .bind(slug)
    .execute(&mut *tx)
    .await?;
    // A pending upload on the first project (none when there is none), its
    // key queued for deletion, the storage counter, an idempotency key.
    sqlx::query(
        "INSERT INTO project_files (project_id, name, content_type, size_bytes) \
         SELECT id, 'seed.txt', 'text/plain', 4 FROM projects ORDER BY created_at, id LIMIT 1",
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query("INSERT INTO storage_deletions (object_key) VALUES ('tenants/' || $1 || '/projects/seed/gone')")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO tenant_storage DEFAULT VALUES").execute(&mut *tx).await?;
    sqlx::query("INSERT INTO idempotency_keys (key, fingerprint) VALUES ('seed', '\\x00')").execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(id)
}

/// pgbouncer's admin console (`SHOW POOLS`, ...), as `pgbouncer_admin`,
/// pgbouncer's `admin_users`, a user of pgbouncer's only; `cargo xtask test`
/// gives it the password of the superuser named in `TEST_PG_URL`.
pub fn pgbouncer_admin_url() -> Result<String> {
    let superuser = url::Url::parse(&env(PG_URL))?;
    let password = superuser.password().unwrap_or_default().to_owned();
    with_user_and_db(&env(PGBOUNCER_URL), Some(("pgbouncer_admin", &password)), "pgbouncer")
}

/// Adds a verified user with `password_hash` (a PHC string) to `tenant`
/// with `role`. Returns the user id.
pub async fn seed_member(
    db: &TestDatabase,
    tenant: uuid::Uuid,
    email: &str,
    password_hash: &str,
    role: &str,
) -> Result<uuid::Uuid> {
    use sqlx::{Connection, Row};
    let mut conn = sqlx::PgConnection::connect(&db.owner_url).await?;
    let mut tx = conn.begin().await?;
    let user: uuid::Uuid = sqlx::query(
        "INSERT INTO users (email, password_hash, display_name, verified_at) VALUES ($1, $2, $1, now()) \
         ON CONFLICT (email) DO UPDATE SET password_hash = excluded.password_hash RETURNING id",
    )
    .bind(email)
    .bind(password_hash)
    .fetch_one(&mut *tx)
    .await?
    .try_get("id")?;
    sqlx::query("SELECT set_config('app.tenant_id', $1::text, true)").bind(tenant).execute(&mut *tx).await?;
    sqlx::query("INSERT INTO memberships (user_id, role) VALUES ($1, $2)")
        .bind(user)
        .bind(role)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(user)
}

/// Copies `tables` into a schema `baseline` without row-level security
/// (same columns, defaults, indexes and rows, no policies), readable by the
/// runtime role: what a service that filters by tenant in its own queries
/// would have. Benchmarks compare with it through pgbouncer, which only
/// lets the runtime roles in. Run after seeding.
pub async fn plain_copy(db: &TestDatabase, tables: &[&str]) -> Result<()> {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(&db.superuser_url).await?;
    let mut sql = String::from("CREATE SCHEMA baseline; GRANT USAGE ON SCHEMA baseline TO app;");
    for table in tables {
        anyhow::ensure!(table.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'), "table name {table}");
        sql.push_str(&format!(
            "CREATE TABLE baseline.{table} (LIKE public.{table} INCLUDING ALL); \
             INSERT INTO baseline.{table} SELECT * FROM public.{table}; \
             ANALYZE baseline.{table}; GRANT SELECT ON baseline.{table} TO app;"
        ));
    }
    sqlx::raw_sql(&sql).execute(&mut conn).await?;
    Ok(())
}
