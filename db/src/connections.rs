//! The connections tenant transactions run on.
//!
//! sqlx's pool pings every connection it gets back (one more round trip
//! per request, and through pgbouncer one more server transaction), yet
//! still hands out a connection whose `BEGIN` was cut off by a cancelled
//! request: its rollback guard arms only after `BEGIN`'s answer, so the
//! connection comes back inside a transaction. Here the rule is simpler: a
//! connection is reused only after its transaction ended with an answer.
//! A [`Lease`] dropped any other way is closed, and a transaction dropped
//! open is rolled back in the background before its connection is reused
//! (closed if that fails). An idle connection older than the idle lifetime
//! is closed instead of pinged.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sqlx::postgres::{PgConnectOptions, PgRow};
use sqlx::{Connection, Executor, PgConnection};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// How long a rollback of an abandoned transaction may take before its
/// connection is closed instead.
const ROLLBACK_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug)]
pub(crate) struct Connections {
    options: PgConnectOptions,
    permits: Arc<Semaphore>,
    /// Most recently returned last: the warmest connection is reused first
    /// and the coldest ones age out.
    idle: Mutex<Vec<(PgConnection, Instant)>>,
    max: usize,
    acquire_timeout: Duration,
    idle_lifetime: Duration,
}

/// A connection checked out of [`Connections`]. Dropped, it is closed;
/// [`Lease::give_back`] returns it for reuse.
#[derive(Debug)]
pub(crate) struct Lease {
    conn: Option<PgConnection>,
    home: Arc<Connections>,
    _permit: OwnedSemaphorePermit,
}

impl Connections {
    pub(crate) fn new(options: PgConnectOptions, max: u32, acquire_timeout: Duration, idle_lifetime: Duration) -> Self {
        Self {
            options,
            permits: Arc::new(Semaphore::new(max as usize)),
            idle: Mutex::new(Vec::new()),
            max: max as usize,
            acquire_timeout,
            idle_lifetime,
        }
    }

    /// An idle connection young enough, or a new one; waits at most the
    /// acquire timeout in all (then `PoolTimedOut`, as sqlx's pool).
    pub(crate) async fn acquire(self: &Arc<Self>) -> Result<Lease, sqlx::Error> {
        let started = Instant::now();
        let permit = tokio::time::timeout(self.acquire_timeout, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)?
            .map_err(|_| sqlx::Error::PoolClosed)?;
        while let Some((conn, since)) = self.pop_idle() {
            if since.elapsed() < self.idle_lifetime {
                return Ok(Lease { conn: Some(conn), home: self.clone(), _permit: permit });
            }
            // Too old to trust without a ping: closed (dropping it is enough).
            drop(conn);
        }
        // A new connection is opened by a task of its own, holding the
        // permit: a caller cancelled meanwhile does not waste it (it joins
        // the idle ones), and cancelled callers cannot pile up connects.
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let home = self.clone();
        tokio::spawn(async move {
            // Bounded on its own: a login that hangs (a paused database, a
            // host dropping packets) must not keep the permit for minutes.
            let opened =
                match tokio::time::timeout(home.acquire_timeout, PgConnection::connect_with(&home.options)).await {
                    Ok(opened) => opened,
                    Err(_) => Err(sqlx::Error::PoolTimedOut),
                };
            let Err(unclaimed) = sender.send((opened, permit)) else { return };
            if let (Ok(conn), _permit) = unclaimed {
                home.keep_idle(conn);
            }
        });
        let left = self.acquire_timeout.saturating_sub(started.elapsed());
        let (opened, permit) = tokio::time::timeout(left, receiver)
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)?
            .map_err(|_| sqlx::Error::PoolClosed)?;
        Ok(Lease { conn: Some(opened?), home: self.clone(), _permit: permit })
    }

    /// Closes the idle connections and refuses new leases.
    pub(crate) fn close(&self) {
        self.permits.close();
        self.idle.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    fn pop_idle(&self) -> Option<(PgConnection, Instant)> {
        self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop()
    }

    /// Keeps `conn` for reuse, unless the pool is closed or already keeps
    /// as many idle connections as it may have in all (then it closes).
    fn keep_idle(&self, conn: PgConnection) {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        // Checked under the lock: `close` clears the list under it too.
        if self.permits.is_closed() {
            return;
        }
        // The oldest are at the front: those past the idle lifetime close
        // now rather than when the list happens to empty.
        let fresh = idle.iter().position(|(_, since)| since.elapsed() < self.idle_lifetime).unwrap_or(idle.len());
        idle.drain(..fresh);
        if idle.len() < self.max {
            idle.push((conn, Instant::now()));
        }
    }
}

impl Lease {
    /// Sends `sql`, the round trip that begins a transaction, and returns
    /// its rows. A connection found dead by it — an idle one whose
    /// pgbouncer or server restarted meanwhile — is swapped for a new one
    /// and `sql` sent again, since nothing had begun; the idle connections
    /// are closed too, being likely dead as well.
    pub(crate) async fn begin_with(&mut self, sql: &str) -> Result<Vec<PgRow>, sqlx::Error> {
        match self.conn().fetch_all(sql).await {
            Err(err) if is_dead_connection(&err) => {
                self.home.idle.lock().unwrap_or_else(|e| e.into_inner()).clear();
                let fresh =
                    tokio::time::timeout(self.home.acquire_timeout, PgConnection::connect_with(&self.home.options))
                        .await
                        .map_err(|_| sqlx::Error::PoolTimedOut)??;
                self.conn = Some(fresh);
                self.conn().fetch_all(sql).await
            }
            other => other,
        }
    }

    /// Sends `COMMIT`; the connection is reused once it is answered (a
    /// failed or cut-off commit closes it).
    pub(crate) async fn commit(mut self) -> Result<(), sqlx::Error> {
        self.conn().execute("COMMIT").await?;
        self.give_back();
        Ok(())
    }

    pub(crate) fn conn(&mut self) -> &mut PgConnection {
        self.conn.as_mut().expect("a lease holds its connection until it is given back")
    }

    /// Returns the connection for reuse: only after its last statement was
    /// answered and no transaction is open.
    pub(crate) fn give_back(mut self) {
        if let Some(conn) = self.conn.take() {
            self.home.keep_idle(conn);
        }
    }

    /// Rolls back whatever transaction may be open — a statement may even
    /// be in flight; sqlx first reads its answers — then gives the
    /// connection back. Runs in the background: this is called from `Drop`.
    /// Without a runtime, or when the rollback fails, the connection closes.
    pub(crate) fn roll_back_in_background(mut self) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        runtime.spawn(async move {
            // `Executor::execute` boxes its future; written with `raw_sql`
            // the spawned future is not provably `Send`.
            let rollback = sqlx::Executor::execute(self.conn(), "ROLLBACK");
            let mut rolled_back = tokio::time::timeout(ROLLBACK_TIMEOUT, rollback).await;
            // The abandoned statement's own error (a failed query, a
            // conflict) is read first and reported here; the ROLLBACK was not
            // sent. The connection is sound: send it now.
            if matches!(rolled_back, Ok(Err(sqlx::Error::Database(_)))) {
                let rollback = sqlx::Executor::execute(self.conn(), "ROLLBACK");
                rolled_back = tokio::time::timeout(ROLLBACK_TIMEOUT, rollback).await;
            }
            if matches!(rolled_back, Ok(Ok(_))) {
                self.give_back();
            }
        });
    }
}

/// Whether `err` says the connection itself is gone — the socket closed or
/// reset, or a farewell from pgbouncer or the server (SQLSTATE class 08,
/// connection exception, as pgbouncer's "database removed"; 57P01–57P03,
/// shutting down) — as opposed to a statement refused.
fn is_dead_connection(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Io(_) => true,
        sqlx::Error::Database(db) => {
            db.code().is_some_and(|code| code.starts_with("08") || matches!(&*code, "57P01" | "57P02" | "57P03"))
        }
        _ => false,
    }
}
