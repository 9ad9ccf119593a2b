//! The tenant transaction through pgbouncer in transaction mode: server
//! connections are shared between clients after every COMMIT, so a context
//! that outlived its transaction would show up here as another tenant's rows.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use anyhow::Result;
use db::{projects, Db, PoolSettings, ProjectId, TenantId, TenantTx};
use testkit::seed_tenant;

const TRANSACTIONS: u64 = 2_400;
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
            for n in 0..TRANSACTIONS / u64::from(CLIENT_CONNECTIONS) {
                // Alternate tenants from one transaction to the next.
                let i = ((worker + n) as usize) % tenants.len();
                let tenant = tenants[i];
                let mut tx = TenantTx::begin(&db, tenant, None).await?;
                let rows = projects::list(&mut tx, 100).await?;
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
    assert!(!projects::delete(&mut tx, created.id).await?, "B cannot delete A's project");
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
    projects::list(&mut tx, 10).await?;
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
