//! The tenant transaction through pgbouncer in transaction mode: server
//! connections are shared between clients after every COMMIT, so a context
//! that outlived its transaction would show up here as another tenant's rows.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use anyhow::Result;
use db::{projects, Db, PoolSettings, ProjectId, TenantId, TenantTx};
use testkit::seed_tenant;

const TRANSACTIONS: u64 = 10_000;
const TENANTS: usize = 6;
const CLIENT_CONNECTIONS: u32 = 40;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_tenant_transactions_through_pgbouncer_never_see_another_tenant() -> Result<()> {
    let test_db = testkit::database().await?;
    let mut tenants = Vec::new();
    for i in 0..TENANTS {
        tenants.push(TenantId::new(seed_tenant(&test_db, &format!("pool-{i}"), 5 + i as i32).await?));
    }
    // More client connections than pgbouncer's default_pool_size (20): the
    // server connections are multiplexed between them.
    let db = Db::connect_lazy(
        &test_db.pooled_app_url,
        &PoolSettings { max_connections: CLIENT_CONNECTIONS, ..PoolSettings::default() },
    )?;
    let wrong_rows = Arc::new(AtomicU64::new(0));
    let wrong_counts = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for worker in 0..CLIENT_CONNECTIONS as u64 {
        let (db, tenants, wrong_rows, wrong_counts) =
            (db.clone(), tenants.clone(), wrong_rows.clone(), wrong_counts.clone());
        tasks.push(tokio::spawn(async move {
            // A random tenant per transaction (xorshift, seeded per worker).
            let mut state = 0x9E37_79B9_7F4A_7C15u64 ^ (worker + 1).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            for _ in 0..TRANSACTIONS / u64::from(CLIENT_CONNECTIONS) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let i = (state % tenants.len() as u64) as usize;
                let tenant = tenants[i];
                let mut tx = TenantTx::begin(&db, tenant, None).await?;
                let rows = projects::list(&mut tx, &projects::ProjectQuery::first(100)).await?.items;
                tx.commit().await?;
                wrong_rows.fetch_add(rows.iter().filter(|p| p.tenant_id != tenant).count() as u64, Ordering::Relaxed);
                if rows.len() != 5 + i {
                    wrong_counts.fetch_add(1, Ordering::Relaxed);
                }
            }
            anyhow::Ok(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    assert_eq!(wrong_rows.load(Ordering::Relaxed), 0, "rows of another tenant were returned");
    assert_eq!(wrong_counts.load(Ordering::Relaxed), 0, "a tenant saw a different number of its rows");
    db.close().await;
    Ok(())
}

#[tokio::test]
async fn repositories_through_pgbouncer_stay_inside_the_tenant() -> Result<()> {
    let test_db = testkit::database().await?;
    let a = TenantId::new(seed_tenant(&test_db, "repo-a", 1).await?);
    let b = TenantId::new(seed_tenant(&test_db, "repo-b", 1).await?);
    let db = Db::connect_lazy(&test_db.pooled_app_url, &PoolSettings::default())?;

    let mut tx = TenantTx::begin(&db, a, None).await?;
    let created = projects::create(&mut tx, "Apollo", "moonshot").await?;
    assert_eq!(created.tenant_id, a);
    tx.commit().await?;
    let mut tx = TenantTx::begin(&db, a, None).await?;
    let again = projects::create(&mut tx, "Apollo", "twice").await;
    assert!(matches!(again, Err(db::DbError::Conflict)), "{again:?}");
    drop(tx);

    let mut tx = TenantTx::begin(&db, b, None).await?;
    assert_eq!(projects::get(&mut tx, created.id).await?, None, "B cannot fetch A's project");
    assert!(projects::delete(&mut tx, created.id).await?.is_none(), "B cannot delete A's project");
    tx.commit().await?;

    let mut tx = TenantTx::begin(&db, a, None).await?;
    assert_eq!(projects::get(&mut tx, created.id).await?.map(|p| p.name), Some("Apollo".to_owned()));
    assert!(projects::get(&mut tx, ProjectId::random()).await?.is_none());
    tx.commit().await?;
    Ok(())
}

#[tokio::test]
async fn pgbouncer_authenticates_with_scram_and_shows_its_pools_to_the_admin() -> Result<()> {
    use sqlx::{Connection, Row};
    let test_db = testkit::database().await?;
    // PostgreSQL stores SCRAM verifiers; pgbouncer answers clients with SCRAM
    // and logs in to PostgreSQL with SCRAM.
    let mut superuser = sqlx::PgConnection::connect(&test_db.superuser_url).await?;
    let verifier: String = sqlx::raw_sql("SELECT rolpassword FROM pg_authid WHERE rolname = 'app'")
        .fetch_one(&mut superuser)
        .await?
        .get(0);
    assert!(verifier.starts_with("SCRAM-SHA-256$"), "{verifier}");
    let wrong = test_db.pooled_app_url.replacen(":app-", ":wrong-", 1);
    let refused = sqlx::PgConnection::connect(&wrong).await;
    assert!(refused.is_err(), "a wrong password was accepted through pgbouncer");

    let db = Db::connect_lazy(&test_db.pooled_app_url, &PoolSettings::default())?;
    let tenant = TenantId::new(seed_tenant(&test_db, "admin-console", 1).await?);
    let mut tx = TenantTx::begin(&db, tenant, None).await?;
    projects::list(&mut tx, &projects::ProjectQuery::first(10)).await?;
    tx.commit().await?;

    // The admin console speaks the simple protocol only.
    let mut admin = sqlx::PgConnection::connect(&testkit::pgbouncer_admin_url()?).await?;
    let pools = sqlx::raw_sql("SHOW POOLS").fetch_all(&mut admin).await?;
    let ours = pools.iter().find(|row| {
        row.try_get::<String, _>("database").ok().as_deref() == Some(test_db.name.as_str())
            && row.try_get::<String, _>("user").ok().as_deref() == Some("app")
    });
    assert!(ours.is_some(), "SHOW POOLS lists no pool for {} / app", test_db.name);
    let mode: String = ours.unwrap().try_get("pool_mode")?;
    assert_eq!(mode, "transaction");
    Ok(())
}

/// Requests cancelled at any point of their tenant transaction — while
/// `BEGIN` is in flight, during the query, before the commit — leave no
/// connection inside a transaction: none idle in transaction in
/// PostgreSQL, none pinned in pgbouncer, and later transactions see their
/// own tenant only.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cancelled_tenant_transactions_leave_no_connection_in_a_transaction() -> Result<()> {
    let test_db = testkit::database().await?;
    let mut tenants = Vec::new();
    for i in 0..3 {
        tenants.push(TenantId::new(seed_tenant(&test_db, &format!("cancel-{i}"), 2 + i).await?));
    }
    let db =
        Db::connect_lazy(&test_db.pooled_app_url, &PoolSettings { max_connections: 16, ..PoolSettings::default() })?;
    // How long one whole transaction takes under this load: deadlines are
    // drawn up to three times that, so cuts land anywhere from BEGIN to COMMIT.
    let (_, mut took) = storm(&db, &tenants, None).await?;
    took.sort();
    let span = (took[took.len() / 2].as_micros() as u64 * 3).max(1);
    let (cancelled, finished) = storm(&db, &tenants, Some(span)).await?;
    let finished = finished.len() as u64;
    assert!(cancelled > 100 && finished > 100, "cancelled {cancelled}, finished {finished}: deadlines need tuning");

    let (in_transaction, pinned) = open_transactions_settled(&test_db, "app").await?;
    assert_eq!(in_transaction, 0, "server connections left idle in transaction ({cancelled} cancelled)");
    assert_eq!(pinned, 0, "server connections pgbouncer keeps linked to a client ({cancelled} cancelled)");

    // And the pool's connections serve the next transactions correctly.
    for (i, tenant) in tenants.iter().enumerate().cycle().take(30) {
        let mut tx = TenantTx::begin(&db, *tenant, None).await?;
        let rows = projects::list(&mut tx, &projects::ProjectQuery::first(100)).await?.items;
        tx.commit().await?;
        assert!(rows.len() == 2 + i && rows.iter().all(|p| p.tenant_id == *tenant), "tenant {i}: {rows:?}");
    }
    Ok(())
}

/// 8 workers run 150 tenant transactions each, every other one cut off
/// after a deadline below `span` µs when given; returns how many were cut off and how long
/// the others took. Every finished one must have seen its tenant's rows.
async fn storm(db: &Db, tenants: &[TenantId], span: Option<u64>) -> Result<(u64, Vec<std::time::Duration>)> {
    const WORKERS: u64 = 8;
    const ATTEMPTS: u64 = 150;
    let mut tasks = Vec::new();
    for worker in 0..WORKERS {
        let (db, tenants) = (db.clone(), tenants.to_vec());
        tasks.push(tokio::spawn(async move {
            let (mut cancelled, mut took) = (0, Vec::new());
            for n in 0..ATTEMPTS {
                let i = ((worker + n) % 3) as usize;
                let tenant = tenants[i];
                let started = std::time::Instant::now();
                let work = async {
                    let mut tx = TenantTx::begin(&db, tenant, None).await?;
                    let rows = projects::list(&mut tx, &projects::ProjectQuery::first(100)).await?.items;
                    tx.commit().await?;
                    anyhow::ensure!(rows.len() == 2 + i && rows.iter().all(|p| p.tenant_id == tenant), "wrong rows");
                    anyhow::Ok(())
                };
                // Every other attempt runs to its end, so the work keeps
                // finishing while the rest is cut off.
                let cut = span.filter(|_| n % 2 == 1).map(|s| (worker * 97 + n * 31) % s);
                let deadline = std::time::Duration::from_micros(cut.unwrap_or(60_000_000));
                match tokio::time::timeout(deadline, work).await {
                    Err(_) => cancelled += 1,
                    Ok(outcome) => {
                        outcome?;
                        took.push(started.elapsed());
                    }
                }
            }
            anyhow::Ok((cancelled, took))
        }));
    }
    let (mut cancelled, mut took) = (0, Vec::new());
    for task in tasks {
        let (c, t) = task.await??;
        cancelled += c;
        took.extend(t);
    }
    Ok((cancelled, took))
}

/// A request cut off while its `BEGIN` waits for an answer: pgbouncer holds
/// the statement (its database paused) until the request is gone, then
/// runs it. The transaction it opened must not outlive the request.
#[tokio::test]
async fn a_request_cut_off_while_its_begin_waits_leaves_no_transaction_open() -> Result<()> {
    use sqlx::Connection;
    let test_db = testkit::database().await?;
    let tenant = TenantId::new(seed_tenant(&test_db, "cut-begin", 1).await?);
    let db =
        Db::connect_lazy(&test_db.pooled_app_url, &PoolSettings { max_connections: 1, ..PoolSettings::default() })?;
    let mut warm = TenantTx::begin(&db, tenant, None).await?;
    projects::list(&mut warm, &projects::ProjectQuery::first(10)).await?;
    warm.commit().await?;

    let mut admin = sqlx::PgConnection::connect(&testkit::pgbouncer_admin_url()?).await?;
    sqlx::raw_sql(&format!("PAUSE {}", test_db.name)).execute(&mut admin).await?;
    // `BEGIN` goes with the first statement.
    let first_statement = async {
        let mut tx = TenantTx::begin(&db, tenant, None).await?;
        projects::list(&mut tx, &projects::ProjectQuery::first(10)).await
    };
    let cut = tokio::time::timeout(std::time::Duration::from_millis(300), first_statement).await;
    sqlx::raw_sql(&format!("RESUME {}", test_db.name)).execute(&mut admin).await?;
    assert!(cut.is_err(), "BEGIN was answered while its database was paused");

    let (in_transaction, pinned) = open_transactions_settled(&test_db, "app").await?;
    assert_eq!(in_transaction, 0, "the cut-off BEGIN left its server connection idle in transaction");
    assert_eq!(pinned, 0, "pgbouncer keeps a server connection linked to the cut-off client");
    let mut tx = TenantTx::begin(&db, tenant, None).await?;
    assert_eq!(projects::list(&mut tx, &projects::ProjectQuery::first(10)).await?.items.len(), 1);
    tx.commit().await?;
    Ok(())
}

/// Server connections of the runtime role in this database that are idle
/// inside a transaction (PostgreSQL) and linked to a client (pgbouncer's
/// `sv_active`), once both reach zero or after 3 s. Cut-off work is rolled
/// back in the background, so it may take a moment.
async fn open_transactions_settled(test_db: &testkit::TestDatabase, role: &str) -> Result<(i64, i64)> {
    use sqlx::{Connection, Row};
    let mut superuser = sqlx::PgConnection::connect(&test_db.superuser_url).await?;
    let mut admin = sqlx::PgConnection::connect(&testkit::pgbouncer_admin_url()?).await?;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    loop {
        let in_transaction: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND usename = $2 \
             AND state LIKE 'idle in transaction%'",
        )
        .bind(&test_db.name)
        .bind(role)
        .fetch_one(&mut superuser)
        .await?;
        let pools = sqlx::raw_sql("SHOW POOLS").fetch_all(&mut admin).await?;
        let pinned: i64 = pools
            .iter()
            .filter(|row| {
                row.try_get::<String, _>("database").ok().as_deref() == Some(test_db.name.as_str())
                    && row.try_get::<String, _>("user").ok().as_deref() == Some(role)
            })
            // pgbouncer sends its counters as int4 (older versions int8).
            .map(|row| {
                row.try_get::<i32, _>("sv_active").map(i64::from).or_else(|_| row.try_get("sv_active")).unwrap_or(-1)
            })
            .sum();
        if (in_transaction == 0 && pinned == 0) || std::time::Instant::now() > deadline {
            return Ok((in_transaction, pinned));
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// The members list is sent in the same round trip as `BEGIN` and the
/// context when it is the transaction's first statement, and on its own
/// otherwise: either way, through pgbouncer, a tenant's members only.
#[tokio::test]
async fn the_members_list_sees_its_tenant_whether_or_not_it_opens_the_transaction() -> Result<()> {
    let test_db = testkit::database().await?;
    let a = TenantId::new(seed_tenant(&test_db, "first-a", 1).await?);
    let b = TenantId::new(seed_tenant(&test_db, "first-b", 1).await?);
    let db = Db::connect_lazy(&test_db.pooled_app_url, &PoolSettings::default())?;
    let mut superuser = {
        use sqlx::Connection;
        sqlx::PgConnection::connect(&test_db.superuser_url).await?
    };
    for _ in 0..20 {
        for (tenant, slug) in [(a, "first-a"), (b, "first-b")] {
            let mut tx = TenantTx::begin(&db, tenant, None).await?;
            let first = db::members::list(&mut tx, None, 100, &Default::default()).await?.items;
            tx.commit().await?;
            let mut tx = TenantTx::begin(&db, tenant, None).await?;
            projects::list(&mut tx, &projects::ProjectQuery::first(10)).await?;
            let later = db::members::list(&mut tx, None, 100, &Default::default()).await?.items;
            tx.commit().await?;
            for members in [&first, &later] {
                let emails: Vec<&str> = members.iter().map(|m| m.email.as_str()).collect();
                assert_eq!(emails, [format!("admin@{slug}.test")], "{slug}");
            }
            // The join time survives its trip as microseconds, to the microsecond.
            let stored: chrono::DateTime<chrono::Utc> =
                sqlx::query_scalar("SELECT created_at FROM memberships WHERE tenant_id = $1")
                    .bind(tenant)
                    .fetch_one(&mut superuser)
                    .await?;
            assert_eq!(first[0].joined_at, stored, "{slug}");
        }
    }
    Ok(())
}

/// A read that commits with its statement, opening the transaction or not,
/// leaves the connection outside any transaction, and a failed one rolls
/// back.
#[tokio::test]
async fn a_read_that_commits_with_its_statement_leaves_no_transaction_open() -> Result<()> {
    let test_db = testkit::database().await?;
    let a = TenantId::new(seed_tenant(&test_db, "read-a", 2).await?);
    let b = TenantId::new(seed_tenant(&test_db, "read-b", 1).await?);
    let db =
        Db::connect_lazy(&test_db.pooled_app_url, &PoolSettings { max_connections: 2, ..PoolSettings::default() })?;
    for _ in 0..20 {
        for (tenant, slug) in [(a, "read-a"), (b, "read-b")] {
            let alone =
                db::members::list_then_commit(TenantTx::begin(&db, tenant, None).await?, None, 100, None).await?.items;
            let mut tx = TenantTx::begin(&db, tenant, None).await?;
            projects::list(&mut tx, &projects::ProjectQuery::first(10)).await?;
            let after = db::members::list_then_commit(tx, None, 100, None).await?.items;
            for members in [&alone, &after] {
                assert_eq!(
                    members.iter().map(|m| m.email.as_str()).collect::<Vec<_>>(),
                    [format!("admin@{slug}.test")]
                );
            }
        }
    }
    let (in_transaction, pinned) = open_transactions_settled(&test_db, "app").await?;
    assert_eq!((in_transaction, pinned), (0, 0), "a committed read left a transaction open");
    Ok(())
}

/// The platform transaction (sign-in, onboarding) cut off while its
/// `BEGIN` waits leaves no transaction open either.
#[tokio::test]
async fn a_platform_request_cut_off_while_its_begin_waits_leaves_no_transaction_open() -> Result<()> {
    use sqlx::Connection;
    let test_db = testkit::database().await?;
    let platform = db::PlatformDb::connect_lazy(
        &test_db.pooled_platform_url,
        &PoolSettings { max_connections: 1, ..PoolSettings::default() },
    )?;
    platform.begin(None).await?.commit().await?;

    let mut admin = sqlx::PgConnection::connect(&testkit::pgbouncer_admin_url()?).await?;
    sqlx::raw_sql(&format!("PAUSE {}", test_db.name)).execute(&mut admin).await?;
    let cut = tokio::time::timeout(std::time::Duration::from_millis(300), platform.begin(None)).await;
    sqlx::raw_sql(&format!("RESUME {}", test_db.name)).execute(&mut admin).await?;
    assert!(cut.is_err(), "BEGIN was answered while its database was paused");

    let (in_transaction, pinned) = open_transactions_settled(&test_db, "app_platform").await?;
    assert_eq!(in_transaction, 0, "the cut-off BEGIN left its server connection idle in transaction");
    assert_eq!(pinned, 0, "pgbouncer keeps a server connection linked to the cut-off client");
    platform.begin(None).await?.commit().await?;
    Ok(())
}

/// pgbouncer drops every connection of the database while the pools hold
/// them idle (a restart, `KILL`): the next transactions, tenant and
/// platform, find theirs dead on first use and go on over new ones
/// instead of failing.
#[tokio::test]
async fn transactions_survive_pgbouncer_dropping_idle_connections() -> Result<()> {
    use sqlx::Connection;
    let test_db = testkit::database().await?;
    let tenant = TenantId::new(seed_tenant(&test_db, "dropped", 2).await?);
    let db =
        Db::connect_lazy(&test_db.pooled_app_url, &PoolSettings { max_connections: 3, ..PoolSettings::default() })?;
    let platform = db::PlatformDb::connect_lazy(&test_db.pooled_platform_url, &PoolSettings::default())?;
    // Three idle tenant connections and one platform connection.
    let (mut a, mut b, mut c) = (
        TenantTx::begin(&db, tenant, None).await?,
        TenantTx::begin(&db, tenant, None).await?,
        TenantTx::begin(&db, tenant, None).await?,
    );
    for tx in [&mut a, &mut b, &mut c] {
        projects::list(tx, &projects::ProjectQuery::first(10)).await?;
    }
    for tx in [a, b, c] {
        tx.commit().await?;
    }
    platform.begin(None).await?.commit().await?;

    let mut admin = sqlx::PgConnection::connect(&testkit::pgbouncer_admin_url()?).await?;
    sqlx::raw_sql(&format!("KILL {}", test_db.name)).execute(&mut admin).await?;
    sqlx::raw_sql(&format!("RESUME {}", test_db.name)).execute(&mut admin).await?;

    for _ in 0..4 {
        let mut tx = TenantTx::begin(&db, tenant, None).await?;
        assert_eq!(projects::list(&mut tx, &projects::ProjectQuery::first(10)).await?.items.len(), 2);
        tx.commit().await?;
        assert_eq!(
            db::members::list_then_commit(TenantTx::begin(&db, tenant, None).await?, None, 100, None)
                .await?
                .items
                .len(),
            1
        );
        platform.begin(None).await?.commit().await?;
    }
    Ok(())
}
