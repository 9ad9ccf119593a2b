//! The tenant transaction: the only way to run a tenant-scoped query.
//!
//! `TenantTx::begin` opens a transaction and sets `app.tenant_id` (and
//! `app.user_id`) with `set_config(..., true)` in the same simple-protocol
//! round trip, so the settings live exactly as long as the transaction, which
//! is what makes them safe under pgbouncer's transaction pooling. Repository
//! functions take `&mut TenantTx`; the connection inside is visible to this
//! crate only, so code outside `db` cannot run a query against a pooled
//! connection that has no tenant context.

use sqlx::{PgConnection, Postgres, Transaction};

use crate::{Db, DbError, TenantId, UserId};

/// An open transaction bound to one tenant. Dropping it without `commit`
/// rolls back.
#[derive(Debug)]
pub struct TenantTx {
    tx: Transaction<'static, Postgres>,
    tenant: TenantId,
    user: Option<UserId>,
}

impl TenantTx {
    /// Opens a transaction with the tenant (and acting user) context set.
    pub async fn begin(db: &Db, tenant: TenantId, user: Option<UserId>) -> Result<Self, DbError> {
        let tx = db.pool().begin_with(begin_statement(tenant, user)).await?;
        Ok(Self { tx, tenant, user })
    }

    /// The tenant this transaction is bound to.
    pub fn tenant(&self) -> TenantId {
        self.tenant
    }

    /// The acting user, when there is one (API keys and jobs have none).
    pub fn user(&self) -> Option<UserId> {
        self.user
    }

    /// Commits the transaction.
    pub async fn commit(self) -> Result<(), DbError> {
        self.tx.commit().await?;
        Ok(())
    }

    pub(crate) fn conn(&mut self) -> &mut PgConnection {
        &mut self.tx
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
