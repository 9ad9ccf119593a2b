//! The demo data seeded on a developer's first run: two tenants, users of
//! each role, and a few projects, so that sign-in and isolation can be tried
//! by hand. Runs as the owner role over a direct connection (users are global
//! and the runtime role has no grant on them).

use sqlx::{Connection, PgConnection, Row};

/// The slug of the main demo tenant.
pub const DEMO_SLUG: &str = "demo";

/// One demo account.
#[derive(Clone, Debug)]
pub struct DemoAccount {
    pub tenant_slug: &'static str,
    pub tenant_name: &'static str,
    pub email: &'static str,
    pub role: &'static str,
}

/// Who the demo has: an admin, a user and a viewer in `demo`, an admin in
/// `globex`, and one person in both.
pub const DEMO_ACCOUNTS: [DemoAccount; 5] = [
    DemoAccount {
        tenant_slug: DEMO_SLUG,
        tenant_name: "Demo Company",
        email: "admin@demo.tenantry.test",
        role: "admin",
    },
    DemoAccount { tenant_slug: DEMO_SLUG, tenant_name: "Demo Company", email: "user@demo.tenantry.test", role: "user" },
    DemoAccount {
        tenant_slug: DEMO_SLUG,
        tenant_name: "Demo Company",
        email: "viewer@demo.tenantry.test",
        role: "viewer",
    },
    DemoAccount { tenant_slug: "globex", tenant_name: "Globex", email: "admin@globex.tenantry.test", role: "admin" },
    DemoAccount { tenant_slug: "globex", tenant_name: "Globex", email: "user@demo.tenantry.test", role: "viewer" },
];

/// Seeds the demo unless it exists. `password_hash(email)` gives the PHC
/// string of each account's password. Returns whether it seeded.
pub async fn seed_demo(owner_url: &str, password_hash: impl Fn(&str) -> String) -> Result<bool, sqlx::Error> {
    let mut conn = PgConnection::connect(owner_url).await?;
    let mut tx = conn.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock(7361627)").persistent(false).execute(&mut *tx).await?;
    // The owner sees no tenant rows without context (FORCE RLS); the users
    // table is global, so it tells whether the demo exists.
    let existing = sqlx::query("SELECT 1 FROM users WHERE email = $1")
        .bind(DEMO_ACCOUNTS[0].email)
        .persistent(false)
        .fetch_optional(&mut *tx)
        .await?;
    if existing.is_some() {
        return Ok(false);
    }
    let mut tenants: Vec<(&str, uuid::Uuid)> = Vec::new();
    for account in DEMO_ACCOUNTS {
        let tenant = match tenants.iter().find(|(slug, _)| *slug == account.tenant_slug) {
            Some((_, id)) => *id,
            None => {
                let id: uuid::Uuid = sqlx::query("SELECT id FROM provision_tenant($1, $2, 'team')")
                    .bind(account.tenant_slug)
                    .bind(account.tenant_name)
                    .persistent(false)
                    .fetch_one(&mut *tx)
                    .await?
                    .try_get("id")?;
                tenants.push((account.tenant_slug, id));
                id
            }
        };
        let user: uuid::Uuid = sqlx::query(
            "INSERT INTO users (email, password_hash, display_name, verified_at) VALUES ($1, $2, $3, now()) \
             ON CONFLICT (email) DO UPDATE SET email = excluded.email RETURNING id",
        )
        .bind(account.email)
        .bind(password_hash(account.email))
        .bind(account.email.split('@').next().unwrap_or_default())
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
        sqlx::query("INSERT INTO memberships (user_id, role) VALUES ($1, $2)")
            .bind(user)
            .bind(account.role)
            .persistent(false)
            .execute(&mut *tx)
            .await?;
        if account.role == "admin" {
            sqlx::query(
                "INSERT INTO projects (name, description, owner_id) \
                 SELECT $2 || ' project ' || n, 'Seeded example data', $1 FROM generate_series(1, 3) AS n",
            )
            .bind(user)
            .bind(account.tenant_name)
            .persistent(false)
            .execute(&mut *tx)
            .await?;
        }
    }
    tx.commit().await?;
    conn.close().await?;
    Ok(true)
}
