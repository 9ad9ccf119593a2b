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

use sqlx::{PgConnection, Postgres, Transaction};

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
    pub async fn begin(&self, user: Option<UserId>) -> Result<PlatformTx, DbError> {
        let user_setting = user.map(|u| u.to_string()).unwrap_or_default();
        // Only a typed UUID is interpolated; its text form is hex and dashes.
        let tx = self
            .db
            .pool()
            .begin_with(format!("BEGIN; SELECT set_config('app.user_id', '{user_setting}', true)"))
            .await?;
        Ok(PlatformTx { tx, user })
    }
}

/// An open platform transaction. Dropping it without `commit` rolls back.
#[derive(Debug)]
pub struct PlatformTx {
    tx: Transaction<'static, Postgres>,
    user: Option<UserId>,
}

impl PlatformTx {
    /// The acting user, when one was proved.
    pub fn user(&self) -> Option<UserId> {
        self.user
    }

    pub async fn commit(self) -> Result<(), DbError> {
        self.tx.commit().await?;
        Ok(())
    }

    /// The connection, inside the transaction (async like
    /// `TenantTx::conn`, so repositories read the same either way).
    pub(crate) async fn conn(&mut self) -> Result<&mut PgConnection, DbError> {
        Ok(&mut self.tx)
    }
}
