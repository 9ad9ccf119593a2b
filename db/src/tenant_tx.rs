//! The tenant transaction: the only way to run a tenant-scoped query.
//!
//! `TenantTx::begin` opens a transaction and sets `app.tenant_id` (and
//! `app.user_id`) with `set_config(..., true)` in the same simple-protocol
//! round trip, so the settings live exactly as long as the transaction, which
//! is what makes them safe under pgbouncer's transaction pooling. Repository
//! functions take `&mut TenantTx`; the connection inside is visible to this
//! crate only, so code outside `db` cannot run a query against a pooled
//! connection that has no tenant context.

use sqlx::{Executor, PgConnection};

use crate::connections::Lease;
use crate::{Db, DbError, TenantId, UserId};

/// An open transaction bound to one tenant. Dropping it without `commit`
/// rolls back (in the background; the connection is reused only once the
/// rollback is answered). A cancelled request may drop it at any point,
/// `BEGIN` in flight included.
#[derive(Debug)]
pub struct TenantTx {
    /// `None` once committed.
    lease: Option<Lease>,
    tenant: TenantId,
    user: Option<UserId>,
}

impl TenantTx {
    /// Opens a transaction with the tenant (and acting user) context set,
    /// in one round trip.
    pub async fn begin(db: &Db, tenant: TenantId, user: Option<UserId>) -> Result<Self, DbError> {
        let lease = db.connections().acquire().await?;
        // From here a drop (this future cancelled) rolls back whatever the
        // `BEGIN` below got to open.
        let mut tx = Self { lease: Some(lease), tenant, user };
        // Simple protocol, through `Executor::execute` on a `&str`: its
        // future is boxed, so callers' futures stay provably `Send`.
        let begin = begin_statement(tenant, user);
        tx.conn().execute(begin.as_str()).await?;
        Ok(tx)
    }

    /// The tenant this transaction is bound to.
    pub fn tenant(&self) -> TenantId {
        self.tenant
    }

    /// The acting user, when there is one (API keys and jobs have none).
    pub fn user(&self) -> Option<UserId> {
        self.user
    }

    /// Commits the transaction; the connection is reused once `COMMIT` is
    /// answered (a failed or cut-off commit closes it).
    pub async fn commit(mut self) -> Result<(), DbError> {
        let mut lease = self.lease.take().expect("an open transaction holds its connection");
        lease.conn().execute("COMMIT").await?;
        lease.give_back();
        Ok(())
    }

    pub(crate) fn conn(&mut self) -> &mut PgConnection {
        self.lease.as_mut().expect("an open transaction holds its connection").conn()
    }
}

impl Drop for TenantTx {
    fn drop(&mut self) {
        if let Some(lease) = self.lease.take() {
            lease.roll_back_in_background();
        }
    }
}

/// `BEGIN` plus the context settings, as one simple-protocol string. Only
/// typed UUIDs are interpolated; their text form is hex digits and dashes.
fn begin_statement(tenant: TenantId, user: Option<UserId>) -> String {
    let user = user.map(|u| u.to_string()).unwrap_or_default();
    format!(
        "BEGIN; SELECT set_config('app.tenant_id', '{tenant}', true), \
         set_config('app.user_id', '{user}', true)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn begin_statement_interpolates_only_uuids() {
        let tenant = TenantId::new(uuid::Uuid::nil());
        let sql = begin_statement(tenant, None);
        assert_eq!(
            sql,
            "BEGIN; SELECT set_config('app.tenant_id', '00000000-0000-0000-0000-000000000000', true), \
             set_config('app.user_id', '', true)"
        );
    }
}
