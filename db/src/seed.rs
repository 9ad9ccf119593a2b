//! The demo data seeded on a developer's first run: one tenant, its admin and
//! a few projects. Runs as the owner role over a direct connection (users are
//! global and the runtime role has no grant on them).

use sqlx::{Connection, PgConnection, Row};

use crate::TenantId;

/// The slug of the seeded demo tenant.
pub const DEMO_SLUG: &str = "demo";
/// The email of the seeded demo admin.
pub const DEMO_ADMIN_EMAIL: &str = "admin@demo.tenantry.test";

/// Seeds the demo tenant unless it exists. `password_hash` is the PHC string
/// of the admin's password. Returns the tenant id when it created it.
pub async fn seed_demo(owner_url: &str, password_hash: &str) -> Result<Option<TenantId>, sqlx::Error> {
    let mut conn = PgConnection::connect(owner_url).await?;
    let mut tx = conn.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock(7361627)").persistent(false).execute(&mut *tx).await?;
    let existing = sqlx::query("SELECT 1 FROM users WHERE email = $1")
        .bind(DEMO_ADMIN_EMAIL)
        .persistent(false)
        .fetch_optional(&mut *tx)
        .await?;
    if existing.is_some() {
        return Ok(None);
    }
    let tenant: uuid::Uuid = sqlx::query("SELECT id FROM provision_tenant($1, 'Demo Company', 'team')")
        .bind(DEMO_SLUG)
        .persistent(false)
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
    let user: uuid::Uuid = sqlx::query(
        "INSERT INTO users (email, password_hash, display_name, verified_at) \
         VALUES ($1, $2, 'Demo Admin', now()) RETURNING id",
    )
    .bind(DEMO_ADMIN_EMAIL)
    .bind(password_hash)
    .persistent(false)
    .fetch_one(&mut *tx)
    .await?
    .try_get("id")?;
    // The owner is subject to FORCE RLS like everyone else: set the context.
    sqlx::query("SELECT set_config('app.tenant_id', $1::text, true)")
        .bind(tenant)
        .persistent(false)
        .execute(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO memberships (user_id, role) VALUES ($1, 'admin')")
        .bind(user)
        .persistent(false)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO projects (name, description, owner_id) \
         SELECT 'Demo project ' || n, 'Seeded example data', $1 FROM generate_series(1, 3) AS n",
    )
    .bind(user)
    .persistent(false)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    conn.close().await?;
    Ok(Some(TenantId::new(tenant)))
}
