//! Least privilege on the cross-tenant path, at the database level: which
//! SECURITY DEFINER functions each login role may execute (a reviewed
//! allowlist each), what the runtime role cannot read, and every function
//! misused as an attacker holding a role would: with another user's id,
//! without an acting user, with a stored hash in place of a token.

use anyhow::Result;
use sqlx::{Connection, PgConnection, Row};
use testkit::{seed_member, seed_tenant, TestDatabase};
use uuid::Uuid;

/// Every function of ours the runtime role `app` (the tenant routes) may
/// execute. Adding one here is a security review.
const APP_MAY_EXECUTE: &[&str] = &["record_security_event(text,text,text,text)", "tenant_members()"];

/// Every function of ours the platform role `app_platform` may execute.
const PLATFORM_MAY_EXECUTE: &[&str] = &[
    "api_key_authenticate(text,text)",
    "auth_change_password(uuid,text,text)",
    "auth_find_user(text)",
    "auth_finish_password_reset(text,text)",
    "auth_password_hash(uuid)",
    "auth_password_reset_user(text)",
    "auth_register_pending(text,text,text,text,text,interval)",
    "auth_set_display_name(uuid,text)",
    "auth_start_password_reset(text,text,interval)",
    "auth_user_profile(uuid)",
    "auth_user_tenants(uuid)",
    "auth_verify_registration(text,text)",
    "expire_idempotency_keys()",
    "invitation_accept(text,text,text)",
    "list_tenants(timestamp with time zone,uuid,integer)",
    "pending_storage_deletions(integer)",
    "provision_tenant(text,text,text)",
    "record_security_event(text,text,text,text)",
    "storage_deleted(text[],interval)",
    "sweep_stale_uploads(interval,integer)",
];

const EXECUTABLE_BY: &str = "SELECT p.oid::regprocedure::text FROM pg_proc p
    JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = 'public' AND has_function_privilege($1, p.oid, 'EXECUTE')
    ORDER BY 1";

struct Fixture {
    db: TestDatabase,
    tenant: Uuid,
    alice: Uuid,
    bob: Uuid,
}

const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g";

async fn fixture() -> Result<Fixture> {
    let db = testkit::database().await?;
    let tenant = seed_tenant(&db, "acme", 1).await?;
    let alice = seed_member(&db, tenant, "alice@acme.test", HASH, "admin").await?;
    let bob = seed_member(&db, tenant, "bob@acme.test", HASH, "user").await?;
    Ok(Fixture { db, tenant, alice, bob })
}

async fn executable_by(conn: &mut PgConnection, role: &str) -> Result<Vec<String>> {
    Ok(sqlx::query(EXECUTABLE_BY).bind(role).fetch_all(conn).await?.iter().map(|r| r.get(0)).collect())
}

/// The SQLSTATE of a statement that must fail.
async fn refused(conn: &mut PgConnection, acting: Option<Uuid>, sql: &str) -> Option<String> {
    let mut tx = conn.begin().await.ok()?;
    let acting = acting.map(|u| u.to_string()).unwrap_or_default();
    sqlx::query("SELECT set_config('app.user_id', $1, true)").bind(acting).execute(&mut *tx).await.ok()?;
    let outcome = sqlx::raw_sql(sql).execute(&mut *tx).await;
    outcome.err().and_then(|e| e.as_database_error().and_then(|d| d.code()).map(|c| c.into_owned()))
}

#[tokio::test]
async fn each_login_role_executes_exactly_its_reviewed_functions() -> Result<()> {
    let f = fixture().await?;
    let mut superuser = PgConnection::connect(&f.db.superuser_url).await?;
    assert_eq!(executable_by(&mut superuser, "app").await?, APP_MAY_EXECUTE, "the runtime role `app`");
    assert_eq!(executable_by(&mut superuser, "app_platform").await?, PLATFORM_MAY_EXECUTE, "the role `app_platform`");

    // The platform role binds RLS like `app`, owns nothing, inherits
    // nothing, and reads or writes no table directly.
    let row = sqlx::query(
        "SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb, rolinherit,
                (SELECT count(*) FROM pg_auth_members m WHERE m.member = r.oid)
         FROM pg_roles r WHERE rolname = 'app_platform'",
    )
    .fetch_one(&mut superuser)
    .await?;
    let flags: (bool, bool, bool, bool, bool, i64) =
        (row.get(0), row.get(1), row.get(2), row.get(3), row.get(4), row.get(5));
    assert_eq!(
        flags,
        (false, false, false, false, false, 0),
        "app_platform: super, bypassrls, createrole, createdb, inherit, memberships"
    );
    let tables: Vec<String> = sqlx::query(
        "SELECT c.relname || ': ' || p.privilege FROM pg_class c
         JOIN pg_namespace n ON n.oid = c.relnamespace
         CROSS JOIN (VALUES ('SELECT'), ('INSERT'), ('UPDATE'), ('DELETE'), ('TRUNCATE')) AS p(privilege)
         WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm')
           AND has_table_privilege('app_platform', c.oid, p.privilege)",
    )
    .fetch_all(&mut superuser)
    .await?
    .iter()
    .map(|r| r.get(0))
    .collect();
    assert!(tables.is_empty(), "app_platform holds table privileges: {tables:?}");

    // The runtime role writes token and key hashes as it creates them, but
    // can neither read them nor change them afterwards.
    for (table, column) in [("invitations", "token_hash"), ("api_keys", "secret_hash")] {
        for privilege in ["SELECT", "UPDATE"] {
            let held: bool = sqlx::query_scalar("SELECT has_column_privilege('app', $1, $2, $3)")
                .bind(table)
                .bind(column)
                .bind(privilege)
                .fetch_one(&mut superuser)
                .await?;
            assert!(!held, "app holds {privilege} on {table}.{column}");
        }
    }
    Ok(())
}

#[tokio::test]
async fn the_runtime_role_is_refused_every_platform_function() -> Result<()> {
    let f = fixture().await?;
    let mut app = PgConnection::connect(&f.db.app_url).await?;
    let alice = f.alice;
    let token = "a".repeat(64);
    for sql in [
        "SELECT * FROM auth_find_user('alice@acme.test')".to_owned(),
        format!("SELECT * FROM auth_user_tenants('{alice}')"),
        format!("SELECT * FROM auth_user_profile('{alice}')"),
        format!("SELECT auth_password_hash('{alice}')"),
        format!("SELECT auth_change_password('{alice}', '{HASH}', '{HASH}')"),
        format!("SELECT auth_set_display_name('{alice}', 'Alice')"),
        format!("SELECT * FROM api_key_authenticate('0123456789ab', '{token}')"),
        "SELECT * FROM provision_tenant('evil', 'Evil', 'free')".to_owned(),
        "SELECT * FROM list_tenants(NULL, NULL, 10)".to_owned(),
        "SELECT sweep_stale_uploads(interval '1 hour', 10)".to_owned(),
        "SELECT * FROM pending_storage_deletions(10)".to_owned(),
        "SELECT storage_deleted('{x}', interval '1 hour')".to_owned(),
        "SELECT expire_idempotency_keys()".to_owned(),
        format!("SELECT auth_start_password_reset('{token}', 'alice@acme.test', interval '1 hour')"),
        format!("SELECT auth_finish_password_reset('{token}', '{HASH}')"),
        format!("SELECT auth_password_reset_user('{token}')"),
        format!("SELECT auth_register_pending('{token}', 'x@y.test', '', 'slug', 'Name', interval '1 day')"),
        format!("SELECT * FROM auth_verify_registration('{token}', '{HASH}')"),
        format!("SELECT * FROM invitation_accept('{token}', NULL, NULL)"),
        "SELECT token_hash FROM invitations".to_owned(),
        "SELECT secret_hash FROM api_keys".to_owned(),
    ] {
        // Even acting as the very user concerned.
        assert_eq!(refused(&mut app, Some(alice), &sql).await.as_deref(), Some("42501"), "{sql}");
    }
    Ok(())
}

#[tokio::test]
async fn functions_about_a_user_answer_only_for_the_acting_user() -> Result<()> {
    let f = fixture().await?;
    let mut platform = PgConnection::connect(&f.db.platform_url).await?;
    let (alice, bob) = (f.alice, f.bob);
    for function in [
        format!("SELECT * FROM auth_user_tenants('{bob}')"),
        format!("SELECT * FROM auth_user_profile('{bob}')"),
        format!("SELECT auth_password_hash('{bob}')"),
        format!("SELECT auth_change_password('{bob}', '{HASH}', '{HASH}')"),
        format!("SELECT auth_set_display_name('{bob}', 'Not Bob')"),
    ] {
        assert_eq!(
            refused(&mut platform, Some(alice), &function).await.as_deref(),
            Some("42501"),
            "as alice: {function}"
        );
        assert_eq!(refused(&mut platform, None, &function).await.as_deref(), Some("42501"), "as nobody: {function}");
    }
    // As the acting user, the same calls answer.
    let mut tx = platform.begin().await?;
    sqlx::query("SELECT set_config('app.user_id', $1, true)").bind(bob.to_string()).execute(&mut *tx).await?;
    let tenants: i64 =
        sqlx::query_scalar("SELECT count(*) FROM auth_user_tenants($1)").bind(bob).fetch_one(&mut *tx).await?;
    assert_eq!(tenants, 1);
    // Compare-and-swap: a hash that is not the current one changes nothing.
    let new_hash = HASH.replace("aGFzaGhh", "bmV3bmV3");
    let swapped: bool = sqlx::query_scalar("SELECT auth_change_password($1, $2, $3)")
        .bind(bob)
        .bind("$argon2id$not-the-current-one")
        .bind(&new_hash)
        .fetch_one(&mut *tx)
        .await?;
    assert!(!swapped, "a password changed from a hash that was not current");
    let swapped: bool = sqlx::query_scalar("SELECT auth_change_password($1, $2, $3)")
        .bind(bob)
        .bind(HASH)
        .bind(&new_hash)
        .fetch_one(&mut *tx)
        .await?;
    assert!(swapped);
    tx.commit().await?;
    Ok(())
}

#[tokio::test]
async fn a_stored_hash_is_not_a_credential_and_the_link_alone_adds_no_existing_account() -> Result<()> {
    let f = fixture().await?;
    let mut owner = PgConnection::connect(&f.db.owner_url).await?;
    let mut platform = PgConnection::connect(&f.db.platform_url).await?;
    // An invitation for alice's email, whose token we know.
    let token = "c".repeat(64);
    let other = seed_tenant(&f.db, "other", 0).await?;
    let mut tx = owner.begin().await?;
    sqlx::query("SELECT set_config('app.tenant_id', $1::text, true)").bind(other).execute(&mut *tx).await?;
    sqlx::query(
        "INSERT INTO invitations (email, role, token_hash, expires_at)
         VALUES ('alice@acme.test', 'admin', encode(sha256(convert_to($1, 'UTF8')), 'hex'), now() + interval '1 day')",
    )
    .bind(&token)
    .execute(&mut *tx)
    .await?;
    let stored: String = sqlx::query_scalar("SELECT token_hash FROM invitations WHERE email = 'alice@acme.test'")
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;

    let accept = |acting: Option<Uuid>, token: String| {
        let acting = acting.map(|u| u.to_string()).unwrap_or_default();
        let url = f.db.platform_url.clone();
        async move {
            let mut conn = PgConnection::connect(&url).await?;
            let mut tx = conn.begin().await?;
            sqlx::query("SELECT set_config('app.user_id', $1, true)").bind(acting).execute(&mut *tx).await?;
            let outcome: String = sqlx::query_scalar("SELECT outcome FROM invitation_accept($1, NULL, NULL)")
                .bind(token)
                .fetch_one(&mut *tx)
                .await?;
            tx.commit().await?;
            anyhow::Ok(outcome)
        }
    };
    // The stored hash is refused as a token (it is not even token-shaped
    // once hashed again), and so is a guess.
    assert_eq!(accept(Some(f.alice), stored.clone()).await?, "invalid");
    assert_eq!(accept(Some(f.alice), "d".repeat(64)).await?, "invalid");
    // The right token, but nobody signed in, or someone else: refused.
    assert_eq!(accept(None, token.clone()).await?, "sign_in_required");
    assert_eq!(accept(Some(f.bob), token.clone()).await?, "wrong_account");
    // Signed in as alice: accepted.
    assert_eq!(accept(Some(f.alice), token.clone()).await?, "accepted");

    // A password reset whose stored hash is known: the hash does not reset.
    let reset_token = "e".repeat(64);
    let user: Option<Uuid> =
        sqlx::query_scalar("SELECT auth_start_password_reset($1, 'bob@acme.test', interval '1 hour')")
            .bind(&reset_token)
            .fetch_one(&mut platform)
            .await?;
    assert_eq!(user, Some(f.bob));
    let mut superuser = PgConnection::connect(&f.db.superuser_url).await?;
    let stored: String = sqlx::query_scalar("SELECT token_hash FROM password_resets WHERE user_id = $1")
        .bind(f.bob)
        .fetch_one(&mut superuser)
        .await?;
    assert_ne!(stored, reset_token, "the token itself was stored");
    let by_hash: Option<Uuid> = sqlx::query_scalar("SELECT auth_finish_password_reset($1, $2)")
        .bind(&stored)
        .bind(HASH)
        .fetch_one(&mut platform)
        .await?;
    assert_eq!(by_hash, None, "the stored hash reset a password");
    let by_token: Option<Uuid> = sqlx::query_scalar("SELECT auth_finish_password_reset($1, $2)")
        .bind(&reset_token)
        .bind(HASH)
        .fetch_one(&mut platform)
        .await?;
    assert_eq!(by_token, Some(f.bob));
    Ok(())
}

#[tokio::test]
async fn an_api_key_is_authenticated_by_its_secret_never_looked_up() -> Result<()> {
    let f = fixture().await?;
    let mut owner = PgConnection::connect(&f.db.owner_url).await?;
    let mut tx = owner.begin().await?;
    sqlx::query("SELECT set_config('app.tenant_id', $1::text, true)").bind(f.tenant).execute(&mut *tx).await?;
    sqlx::query("INSERT INTO api_keys (name, prefix, secret_hash, role) VALUES ('ci', '0123456789ab', $1, 'admin')")
        .bind("f".repeat(64))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    let mut platform = PgConnection::connect(&f.db.platform_url).await?;
    let found = |hash: String| {
        let url = f.db.platform_url.clone();
        async move {
            let mut conn = PgConnection::connect(&url).await?;
            let mut tx = conn.begin().await?;
            let rows = sqlx::query("SELECT id FROM api_key_authenticate('0123456789ab', $1)")
                .bind(hash)
                .fetch_all(&mut *tx)
                .await?
                .len();
            anyhow::Ok(rows)
        }
    };
    assert_eq!(found("e".repeat(64)).await?, 0, "a wrong secret found the key");
    assert_eq!(found("f".repeat(64)).await?, 1);
    let columns: Vec<String> =
        sqlx::query("SELECT unnest(proargnames[pronargs + 1:]) FROM pg_proc WHERE proname = 'api_key_authenticate'")
            .fetch_all(&mut platform)
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
    assert!(!columns.iter().any(|c| c.contains("hash")), "the stored hash leaves the database: {columns:?}");
    Ok(())
}
