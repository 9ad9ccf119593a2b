//! Tenancy invariants proven at the database level, as the runtime role
//! `app` on a direct connection: row-level security decides, not our code.

use anyhow::Result;
use sqlx::{Connection, PgConnection, Row};
use testkit::{seed_tenant, TestDatabase};
use uuid::Uuid;

struct Fixture {
    db: TestDatabase,
    a: Uuid,
    b: Uuid,
}

async fn fixture() -> Result<Fixture> {
    let db = testkit::database().await?;
    let a = seed_tenant(&db, "tenant-a", 3).await?;
    let b = seed_tenant(&db, "tenant-b", 2).await?;
    Ok(Fixture { db, a, b })
}

async fn app(f: &Fixture) -> Result<PgConnection> {
    Ok(PgConnection::connect(&f.db.app_url).await?)
}

/// Opens a transaction as `app` with the given tenant context.
async fn in_tenant<'c>(conn: &'c mut PgConnection, tenant: Uuid) -> Result<sqlx::Transaction<'c, sqlx::Postgres>> {
    let mut tx = conn.begin().await?;
    sqlx::query("SELECT set_config('app.tenant_id', $1::text, true)").bind(tenant).execute(&mut *tx).await?;
    Ok(tx)
}

async fn count(tx: &mut PgConnection, sql: &str) -> Result<i64> {
    Ok(sqlx::query(sql).fetch_one(tx).await?.try_get(0)?)
}

#[tokio::test]
async fn without_tenant_context_the_runtime_role_reads_nothing() -> Result<()> {
    let f = fixture().await?;
    let mut conn = app(&f).await?;
    assert_eq!(count(&mut conn, "SELECT count(*) FROM projects").await?, 0);
    assert_eq!(count(&mut conn, "SELECT count(*) FROM tenants").await?, 0);
    assert_eq!(count(&mut conn, "SELECT count(*) FROM memberships").await?, 0);
    // An empty setting is the same as none.
    let mut tx = conn.begin().await?;
    sqlx::query("SELECT set_config('app.tenant_id', '', true)").execute(&mut *tx).await?;
    assert_eq!(count(&mut tx, "SELECT count(*) FROM projects").await?, 0);
    Ok(())
}

/// FORCE makes the policies bind the table owner too; without it the owner
/// (and any SECURITY DEFINER function it owns) would see every tenant.
#[tokio::test]
async fn even_the_table_owner_sees_nothing_without_context_and_only_its_tenant_with_it() -> Result<()> {
    let f = fixture().await?;
    let mut owner = PgConnection::connect(&f.db.owner_url).await?;
    assert_eq!(count(&mut owner, "SELECT count(*) FROM projects").await?, 0);
    assert_eq!(count(&mut owner, "SELECT count(*) FROM memberships").await?, 0);
    let mut tx = in_tenant(&mut owner, f.b).await?;
    let foreign =
        sqlx::query("SELECT count(*) FROM projects WHERE tenant_id <> $1").bind(f.b).fetch_one(&mut *tx).await?;
    assert_eq!(foreign.get::<i64, _>(0), 0);
    Ok(())
}

#[tokio::test]
async fn without_tenant_context_the_runtime_role_writes_nothing() -> Result<()> {
    let f = fixture().await?;
    let mut conn = app(&f).await?;
    let insert =
        sqlx::query("INSERT INTO projects (tenant_id, name) VALUES ($1, 'sneaky')").bind(f.a).execute(&mut conn).await;
    assert!(insert.is_err(), "insert without context must be refused");
    let updated = sqlx::query("UPDATE projects SET name = name || '!'").execute(&mut conn).await?.rows_affected();
    let deleted = sqlx::query("DELETE FROM projects").execute(&mut conn).await?.rows_affected();
    assert_eq!((updated, deleted), (0, 0));
    Ok(())
}

#[tokio::test]
async fn a_tenant_reads_only_its_own_rows() -> Result<()> {
    let f = fixture().await?;
    let mut conn = app(&f).await?;
    let mut tx = in_tenant(&mut conn, f.a).await?;
    let tenants: Vec<Uuid> = sqlx::query("SELECT DISTINCT tenant_id FROM projects")
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(tenants, vec![f.a]);
    assert_eq!(count(&mut tx, "SELECT count(*) FROM projects").await?, 3);
    let visible_tenants: Vec<Uuid> =
        sqlx::query("SELECT id FROM tenants").fetch_all(&mut *tx).await?.iter().map(|r| r.get(0)).collect();
    assert_eq!(visible_tenants, vec![f.a]);
    let by_id = sqlx::query("SELECT count(*) FROM projects WHERE tenant_id = $1").bind(f.b).fetch_one(&mut *tx).await?;
    assert_eq!(by_id.get::<i64, _>(0), 0, "asking for B's rows by tenant id finds none");
    Ok(())
}

#[tokio::test]
async fn a_tenant_cannot_insert_rows_for_another_tenant() -> Result<()> {
    let f = fixture().await?;
    let mut conn = app(&f).await?;
    let mut tx = in_tenant(&mut conn, f.a).await?;
    let err = sqlx::query("INSERT INTO projects (tenant_id, name) VALUES ($1, 'planted')")
        .bind(f.b)
        .execute(&mut *tx)
        .await
        .expect_err("WITH CHECK must refuse another tenant's id");
    assert_eq!(err.as_database_error().and_then(|e| e.code()).as_deref(), Some("42501"));
    drop(tx);
    // The column default follows the context: an insert without tenant_id lands in A.
    let mut tx = in_tenant(&mut conn, f.a).await?;
    let owner: Uuid = sqlx::query("INSERT INTO projects (name) VALUES ('defaulted') RETURNING tenant_id")
        .fetch_one(&mut *tx)
        .await?
        .get(0);
    assert_eq!(owner, f.a);
    Ok(())
}

#[tokio::test]
async fn a_tenant_cannot_update_or_delete_another_tenants_rows() -> Result<()> {
    let f = fixture().await?;
    let mut conn = app(&f).await?;
    let mut tx = in_tenant(&mut conn, f.a).await?;
    let renamed =
        sqlx::query("UPDATE projects SET name = 'hijacked' WHERE tenant_id = $1").bind(f.b).execute(&mut *tx).await?;
    let deleted = sqlx::query("DELETE FROM projects WHERE tenant_id = $1").bind(f.b).execute(&mut *tx).await?;
    assert_eq!((renamed.rows_affected(), deleted.rows_affected()), (0, 0));
    // Moving an own row into B is refused by the update policy's WITH CHECK.
    let moved = sqlx::query("UPDATE projects SET tenant_id = $1").bind(f.b).execute(&mut *tx).await;
    assert!(moved.is_err(), "moving rows to another tenant must be refused");
    drop(tx);
    // B's rows are untouched, as the owner sees them in B's context.
    let mut owner = PgConnection::connect(&f.db.owner_url).await?;
    let mut tx = in_tenant(&mut owner, f.b).await?;
    let names: Vec<String> = sqlx::query("SELECT name FROM projects ORDER BY name")
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(names, ["tenant-b-1", "tenant-b-2"]);
    Ok(())
}

#[tokio::test]
async fn the_same_name_may_exist_in_two_tenants_but_not_twice_in_one() -> Result<()> {
    let f = fixture().await?;
    let mut conn = app(&f).await?;
    let mut tx = in_tenant(&mut conn, f.b).await?;
    sqlx::query("INSERT INTO projects (name) VALUES ('tenant-a-1')").execute(&mut *tx).await?;
    let dup = sqlx::query("INSERT INTO projects (name) VALUES ('tenant-b-1')").execute(&mut *tx).await;
    assert_eq!(dup.unwrap_err().as_database_error().and_then(|e| e.code()).as_deref(), Some("23505"));
    Ok(())
}

/// Every tenant-scoped table, found from the catalog: each must hide other
/// tenants' rows from the runtime role. A table added later is covered
/// without touching this test.
#[tokio::test]
async fn every_tenant_scoped_table_hides_other_tenants_rows() -> Result<()> {
    let f = fixture().await?;
    let mut superuser = PgConnection::connect(&f.db.superuser_url).await?;
    let tables: Vec<String> =
        sqlx::query(TENANT_TABLES).fetch_all(&mut superuser).await?.iter().map(|r| r.get(0)).collect();
    assert!(tables.contains(&"projects".to_owned()) && tables.contains(&"memberships".to_owned()));
    let mut conn = app(&f).await?;
    for table in tables {
        let sql = format!("SELECT count(*) FROM public.{table} WHERE tenant_id <> $1");
        let mut tx = in_tenant(&mut conn, f.a).await?;
        let foreign: i64 = sqlx::query(&sql).bind(f.a).fetch_one(&mut *tx).await?.get(0);
        assert_eq!(foreign, 0, "{table}: rows of another tenant are visible");
    }
    Ok(())
}

const TENANT_TABLES: &str = "SELECT c.relname::text FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY 1";

/// The catalog check of invariants 1 and 2: fails if a tenant-scoped table
/// lacks ENABLE or FORCE RLS, a policy for a command, a `WITH CHECK` on
/// writes, or the context comparison; or if the runtime role owns anything
/// or may bypass RLS, DDL or TRUNCATE.
#[tokio::test]
async fn catalog_enforces_the_tenancy_invariants() -> Result<()> {
    let f = fixture().await?;
    let mut conn = PgConnection::connect(&f.db.superuser_url).await?;
    let mut problems = Vec::new();

    let tables: Vec<String> = sqlx::query(TENANT_TABLES).fetch_all(&mut conn).await?.iter().map(|r| r.get(0)).collect();
    for table in &tables {
        let row = sqlx::query(
            "SELECT c.relrowsecurity, c.relforcerowsecurity, a.attnotnull, format_type(a.atttypid, a.atttypmod)
             FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id'
             WHERE c.oid = ('public.' || $1)::regclass",
        )
        .bind(table)
        .fetch_one(&mut conn)
        .await?;
        let (enabled, forced, not_null, ty): (bool, bool, bool, String) =
            (row.get(0), row.get(1), row.get(2), row.get(3));
        if !enabled {
            problems.push(format!("{table}: row level security is not enabled"));
        }
        if !forced {
            problems.push(format!("{table}: row level security is not forced"));
        }
        if !not_null || ty != "uuid" {
            problems.push(format!("{table}: tenant_id must be `uuid not null`, is {ty} (not null: {not_null})"));
        }
        let policies = sqlx::query(
            "SELECT cmd, coalesce(qual, ''), coalesce(with_check, '') FROM pg_policies
             WHERE schemaname = 'public' AND tablename = $1",
        )
        .bind(table)
        .fetch_all(&mut conn)
        .await?;
        for command in ["SELECT", "INSERT", "UPDATE", "DELETE"] {
            // A command the runtime role may not run at all (an append-only
            // table's UPDATE, say) needs no policy; every other one does.
            let granted: bool =
                sqlx::query_scalar("SELECT has_table_privilege('app', ('public.' || $1)::regclass, $2)")
                    .bind(table)
                    .bind(command)
                    .fetch_one(&mut conn)
                    .await?;
            let covering: Vec<_> = policies
                .iter()
                .filter(|p| p.get::<String, _>(0) == command || p.get::<String, _>(0) == "ALL")
                .collect();
            if granted && covering.is_empty() {
                problems.push(format!("{table}: no policy for {command}"));
            }
            for p in covering {
                let (qual, check): (String, String) = (p.get(1), p.get(2));
                let reads = command != "INSERT";
                let writes = command == "INSERT" || command == "UPDATE";
                if reads && !qual.contains("app.tenant_id") {
                    problems.push(format!("{table}: {command} policy does not compare with app.tenant_id"));
                }
                if writes && !check.contains("app.tenant_id") {
                    problems.push(format!("{table}: {command} policy has no WITH CHECK on app.tenant_id"));
                }
            }
        }
    }
    // tenants itself is protected too: a tenant sees only its own row.
    let tenants_rls: (bool, bool) = sqlx::query_as(
        "SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = 'public.tenants'::regclass",
    )
    .fetch_one(&mut conn)
    .await?;
    if tenants_rls != (true, true) {
        problems.push("tenants: row level security must be enabled and forced".into());
    }

    let role =
        sqlx::query("SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = 'app'")
            .fetch_one(&mut conn)
            .await?;
    let flags: [bool; 4] = [role.get(0), role.get(1), role.get(2), role.get(3)];
    if flags.iter().any(|f| *f) {
        problems.push(format!("role app: superuser/bypassrls/createrole/createdb = {flags:?}"));
    }
    let owned: Vec<String> = sqlx::query(
        "SELECT c.relname::text FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner WHERE r.rolname = 'app'
         UNION ALL SELECT p.proname::text FROM pg_proc p JOIN pg_roles r ON r.oid = p.proowner WHERE r.rolname = 'app'
         UNION ALL SELECT n.nspname::text FROM pg_namespace n JOIN pg_roles r ON r.oid = n.nspowner WHERE r.rolname = 'app'",
    )
    .fetch_all(&mut conn)
    .await?
    .iter()
    .map(|r| r.get(0))
    .collect();
    if !owned.is_empty() {
        problems.push(format!("role app owns {owned:?}"));
    }
    let privileged: Vec<String> = sqlx::query(
        "SELECT c.relname || ': ' || p.privilege FROM pg_class c
         JOIN pg_namespace n ON n.oid = c.relnamespace
         CROSS JOIN (VALUES ('TRUNCATE'), ('TRIGGER'), ('REFERENCES')) AS p(privilege)
         WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm')
           AND has_table_privilege('app', c.oid, p.privilege)",
    )
    .fetch_all(&mut conn)
    .await?
    .iter()
    .map(|r| r.get(0))
    .collect();
    if !privileged.is_empty() {
        problems.push(format!("role app holds {privileged:?}"));
    }
    let ddl: (bool, bool) = sqlx::query_as(
        "SELECT has_schema_privilege('app', 'public', 'CREATE'), has_database_privilege('app', current_database(), 'CREATE')",
    )
    .fetch_one(&mut conn)
    .await?;
    if ddl != (false, false) {
        problems.push(format!("role app may create objects (schema, database) = {ddl:?}"));
    }
    // Invariant 5: definer functions pin search_path.
    let unpinned: Vec<String> = sqlx::query(
        "SELECT p.proname::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
         WHERE n.nspname = 'public' AND p.prosecdef
           AND NOT coalesce(p.proconfig::text[] @> ARRAY['search_path=pg_catalog, pg_temp'], false)",
    )
    .fetch_all(&mut conn)
    .await?
    .iter()
    .map(|r| r.get(0))
    .collect();
    if !unpinned.is_empty() {
        problems.push(format!("SECURITY DEFINER functions without a pinned search_path: {unpinned:?}"));
    }
    let definer = sqlx::query("SELECT rolsuper, rolbypassrls, rolcanlogin FROM pg_roles WHERE rolname = 'app_definer'")
        .fetch_one(&mut conn)
        .await?;
    let definer_flags: (bool, bool, bool) = (definer.get(0), definer.get(1), definer.get(2));
    if definer_flags != (false, true, false) {
        problems.push(format!("role app_definer must be NOSUPERUSER BYPASSRLS NOLOGIN, is {definer_flags:?}"));
    }
    assert!(problems.is_empty(), "tenancy invariants broken:\n  {}", problems.join("\n  "));
    Ok(())
}

#[tokio::test]
async fn the_audit_log_is_append_only_and_the_security_log_is_out_of_reach() -> Result<()> {
    let f = fixture().await?;
    let mut conn = app(&f).await?;
    let mut tx = in_tenant(&mut conn, f.a).await?;
    sqlx::query("INSERT INTO audit_log (action, target) VALUES ('project.created', 'p1')").execute(&mut *tx).await?;
    let planted = sqlx::query("INSERT INTO audit_log (tenant_id, action) VALUES ($1, 'login.succeeded')")
        .bind(f.b)
        .execute(&mut *tx)
        .await;
    assert!(planted.is_err(), "an entry for another tenant was accepted");
    drop(tx);
    for statement in ["UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log", "SELECT * FROM security_log"] {
        let mut tx = in_tenant(&mut conn, f.a).await?;
        let err = sqlx::query(statement).execute(&mut *tx).await.expect_err(statement);
        assert_eq!(err.as_database_error().and_then(|e| e.code()).as_deref(), Some("42501"), "{statement}");
    }
    // Events without a tenant go through the one definer function.
    sqlx::query("SELECT record_security_event('login.failed', 'nobody@example.test', '192.0.2.1', 'test')")
        .execute(&mut conn)
        .await?;
    let mut superuser = PgConnection::connect(&f.db.superuser_url).await?;
    let logged: i64 = sqlx::query_scalar("SELECT count(*) FROM security_log WHERE event = 'login.failed'")
        .fetch_one(&mut superuser)
        .await?;
    assert_eq!(logged, 1);
    Ok(())
}

#[tokio::test]
async fn invitations_stay_in_their_tenant_and_emailed_tokens_are_out_of_reach() -> Result<()> {
    let f = fixture().await?;
    let mut conn = app(&f).await?;
    // seed_tenant gave each tenant one open invitation.
    let mut tx = in_tenant(&mut conn, f.a).await?;
    assert_eq!(count(&mut tx, "SELECT count(*) FROM invitations").await?, 1);
    let revoked = sqlx::query("UPDATE invitations SET revoked_at = now() WHERE tenant_id = $1")
        .bind(f.b)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    assert_eq!(revoked, 0, "tenant A revoked tenant B's invitation");
    let planted = sqlx::query(
        "INSERT INTO invitations (tenant_id, email, role, token_hash, expires_at) \
         VALUES ($1, 'x@example.test', 'admin', repeat('a', 64), now() + interval '1 day')",
    )
    .bind(f.b)
    .execute(&mut *tx)
    .await;
    assert!(planted.is_err(), "an invitation into another tenant was accepted");
    drop(tx);
    for statement in [
        "DELETE FROM invitations",
        "SELECT * FROM pending_registrations",
        "SELECT * FROM password_resets",
        "INSERT INTO users (email, password_hash) VALUES ('x@example.test', 'x')",
    ] {
        let mut tx = in_tenant(&mut conn, f.a).await?;
        let err = sqlx::query(statement).execute(&mut *tx).await.expect_err(statement);
        assert_eq!(err.as_database_error().and_then(|e| e.code()).as_deref(), Some("42501"), "{statement}");
    }
    // Accepting goes through the definer function, on the platform path
    // only, by token only: an unknown token changes nothing.
    let refused = sqlx::query("SELECT outcome FROM invitation_accept(repeat('b', 64), NULL, NULL)")
        .fetch_one(&mut conn)
        .await
        .expect_err("the runtime role accepted an invitation");
    assert_eq!(refused.as_database_error().and_then(|e| e.code()).as_deref(), Some("42501"));
    let mut platform = PgConnection::connect(&f.db.platform_url).await?;
    let outcome: String = sqlx::query_scalar("SELECT outcome FROM invitation_accept(repeat('b', 64), NULL, NULL)")
        .fetch_one(&mut platform)
        .await?;
    assert_eq!(outcome, "invalid");
    Ok(())
}
