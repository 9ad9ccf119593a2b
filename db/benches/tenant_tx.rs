//! The cost of tenant isolation on the request path, through pgbouncer in
//! transaction mode: a tenant-scoped 20-row list via `TenantTx` (BEGIN and
//! the context in one simple-protocol round trip, the RLS-filtered select,
//! COMMIT) against the bare 20-row select (one simple-protocol round trip
//! on a copy of the table without row-level security), both measured in
//! this run.
//!
//! Run with `cargo xtask bench` (it starts PostgreSQL 17 and pgbouncer).

use std::time::{Duration, Instant};

use db::{projects, Db, PoolSettings, TenantId, TenantTx};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

const TENANTS: usize = 50;
const ROWS: i32 = 20;
const CONCURRENCY: usize = 16;
const ROUNDS: usize = 3;
const ROUND_TIME: Duration = Duration::from_secs(4);

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let test_db = testkit::database().await?;
    let mut tenants = Vec::new();
    for i in 0..TENANTS {
        tenants.push(TenantId::new(testkit::seed_tenant(&test_db, &format!("bench-{i}"), ROWS + 5).await?));
    }
    // The bare select reads a copy without row-level security, as the
    // runtime role through the same pgbouncer.
    testkit::plain_copy(&test_db, &["projects"]).await?;
    let bare_pool = PgPoolOptions::new()
        .max_connections(CONCURRENCY as u32)
        .connect_with(test_db.pooled_app_url.parse::<PgConnectOptions>()?.statement_cache_capacity(0))
        .await?;
    let db = Db::connect_lazy(
        &test_db.pooled_app_url,
        &PoolSettings { max_connections: CONCURRENCY as u32, ..PoolSettings::default() },
    )?;

    println!("tenant transaction vs bare select, through pgbouncer (transaction mode)");
    println!("{TENANTS} tenants x {} projects, {ROWS} rows per list, {CONCURRENCY} concurrent clients", ROWS + 5);
    // Warm both paths, then alternate rounds so drift hits both alike.
    run(Variant::Bare, &bare_pool, &db, &tenants, Duration::from_secs(1)).await?;
    run(Variant::TenantTx, &bare_pool, &db, &tenants, Duration::from_secs(1)).await?;
    let (mut bare, mut tenant) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        bare.extend(run(Variant::Bare, &bare_pool, &db, &tenants, ROUND_TIME).await?);
        tenant.extend(run(Variant::TenantTx, &bare_pool, &db, &tenants, ROUND_TIME).await?);
    }
    let seconds = (ROUNDS as f64) * ROUND_TIME.as_secs_f64();
    let b = Summary::of(&mut bare, seconds);
    let t = Summary::of(&mut tenant, seconds);
    println!("{:<28} {:>10} {:>12} {:>12}", "variant", "req/s", "median ms", "p95 ms");
    b.print("bare select");
    t.print("TenantTx list (RLS)");
    println!(
        "ratio tenant/bare: throughput {:.2}x, median latency {:.2}x",
        t.per_second / b.per_second,
        t.median_ms / b.median_ms
    );
    Ok(())
}

#[derive(Clone, Copy)]
enum Variant {
    Bare,
    TenantTx,
}

/// Runs one variant for `time` with CONCURRENCY clients; returns latencies.
async fn run(
    variant: Variant,
    bare: &PgPool,
    db: &Db,
    tenants: &[TenantId],
    time: Duration,
) -> anyhow::Result<Vec<Duration>> {
    let deadline = Instant::now() + time;
    let mut tasks = Vec::new();
    for worker in 0..CONCURRENCY {
        let (bare, db, tenants) = (bare.clone(), db.clone(), tenants.to_vec());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut n = worker;
            while Instant::now() < deadline {
                let tenant = tenants[n % tenants.len()];
                n += 1;
                let started = Instant::now();
                let rows = match variant {
                    Variant::Bare => {
                        let sql = format!(
                            "SELECT id, tenant_id, name, description, owner_id, created_at FROM baseline.projects \
                             WHERE tenant_id = '{tenant}' ORDER BY created_at, id LIMIT {ROWS}"
                        );
                        sqlx::raw_sql(&sql).fetch_all(&bare).await?.len()
                    }
                    Variant::TenantTx => {
                        let mut tx = TenantTx::begin(&db, tenant, None).await?;
                        let rows =
                            projects::list(&mut tx, &projects::ProjectQuery::first(i64::from(ROWS))).await?.items;
                        tx.commit().await?;
                        anyhow::ensure!(rows.iter().all(|p| p.tenant_id == tenant), "a row of another tenant");
                        rows.len()
                    }
                };
                latencies.push(started.elapsed());
                anyhow::ensure!(rows == ROWS as usize, "expected {ROWS} rows, got {rows}");
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await??);
    }
    Ok(all)
}

struct Summary {
    per_second: f64,
    median_ms: f64,
    p95_ms: f64,
}

impl Summary {
    fn of(latencies: &mut [Duration], seconds: f64) -> Self {
        latencies.sort();
        let at = |q: f64| latencies[((latencies.len() as f64 - 1.0) * q) as usize].as_secs_f64() * 1000.0;
        Self { per_second: latencies.len() as f64 / seconds, median_ms: at(0.5), p95_ms: at(0.95) }
    }

    fn print(&self, name: &str) {
        println!("{name:<28} {:>10.0} {:>12.3} {:>12.3}", self.per_second, self.median_ms, self.p95_ms);
    }
}
