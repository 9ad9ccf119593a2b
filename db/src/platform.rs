//! The platform path: the role `app_platform`, its own pool, and the
//! transaction its calls run in.
//!
//! What crosses tenants (sign-in before a tenant is chosen, onboarding by
//! email, API-key authentication, provisioning) runs as `app_platform`,
//! which may execute exactly those SECURITY DEFINER functions and reads no
//! table. The tenant routes hold the runtime role `app` and cannot execute
//! them, so a flaw in a tenant route cannot reach another tenant's data or
//! anyone's credentials. A [`PlatformTx`] may carry the acting user
//! (`app.user_id`, set like the tenant context): the functions that answer
//! about one user answer only for that one.

use sqlx::PgConnection;

use crate::connections::Lease;
use crate::{Db, DbError, PoolSettings, UserId};

/// The platform role's pool. Cheap to clone.
#[derive(Clone, Debug)]
pub struct PlatformDb {
    db: Db,
}

impl PlatformDb {
    /// Builds the pool lazily, configured like the runtime pool (for
    /// pgbouncer's transaction pooling).
    pub fn connect_lazy(url: &str, settings: &PoolSettings) -> Result<Self, sqlx::Error> {
        Ok(Self { db: Db::connect_lazy(url, settings)? })
    }

    /// One simple-protocol round trip proving the pool reaches the database.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sqlx::raw_sql("SELECT 1").execute(self.db.pool()).await.map(|_| ())
    }

    /// The role the pool connects as, and whether it could defeat
    /// row-level security.
    pub async fn role(&self) -> Result<crate::RoleCheck, sqlx::Error> {
        self.db.role().await
    }

    pub async fn close(&self) {
        self.db.close().await;
    }

    /// Opens a platform transaction, with `user` as the acting user when the
    /// caller has proved who they are (a verified token, a checked password).
    /// It runs on the same kind of connections as tenant transactions
    /// (`crate::connections`): a request cut off while this `BEGIN` is in
    /// flight is rolled back before its connection is reused.
    pub async fn begin(&self, user: Option<UserId>) -> Result<PlatformTx, DbError> {
        let lease = self.db.connections().acquire().await?;
        let mut tx = PlatformTx { lease: Some(lease), user };
        let user_setting = user.map(|u| u.to_string()).unwrap_or_default();
        // Only a typed UUID is interpolated; its text form is hex and dashes.
        let begin = format!("BEGIN; SELECT set_config('app.user_id', '{user_setting}', true)");
        tx.lease.as_mut().expect("a new transaction holds its connection").begin_with(&begin).await?;
        Ok(tx)
    }
}

/// An open platform transaction. Dropping it without `commit` rolls back
/// (in the background, before its connection is reused).
#[derive(Debug)]
pub struct PlatformTx {
    /// `None` once committed.
    lease: Option<Lease>,
    user: Option<UserId>,
}

impl PlatformTx {
    /// The acting user, when one was proved.
    pub fn user(&self) -> Option<UserId> {
        self.user
    }

    pub async fn commit(mut self) -> Result<(), DbError> {
        self.lease.take().expect("an open transaction holds its connection").commit().await?;
        Ok(())
    }

    /// The connection, inside the transaction (async like
    /// `TenantTx::conn`, so repositories read the same either way).
    pub(crate) async fn conn(&mut self) -> Result<&mut PgConnection, DbError> {
        Ok(self.leased())
    }

    fn leased(&mut self) -> &mut PgConnection {
        self.lease.as_mut().expect("an open transaction holds its connection").conn()
    }
}

impl Drop for PlatformTx {
    fn drop(&mut self) {
        if let Some(lease) = self.lease.take() {
            lease.roll_back_in_background();
        }
    }
}
