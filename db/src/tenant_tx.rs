//! The tenant transaction: the only way to run a tenant-scoped query.
//!
//! `TenantTx::begin` opens a transaction and sets `app.tenant_id` (and
//! `app.user_id`) with `set_config(..., true)` in the same simple-protocol
//! round trip, so the settings live exactly as long as the transaction, which
//! is what makes them safe under pgbouncer's transaction pooling. Repository
//! functions take `&mut TenantTx`; the connection inside is visible to this
//! crate only, so code outside `db` cannot run a query against a pooled
//! connection that has no tenant context.

use sqlx::postgres::PgRow;
use sqlx::{Executor, PgConnection};

use crate::connections::Lease;
use crate::{Db, DbError, TenantId, UserId};

/// A transaction bound to one tenant. Its `BEGIN` and context settings go
/// with the first statement (in the same round trip when that statement
/// is a simple-protocol one, [`TenantTx::fetch_all_simple`]), so a request
/// refused before its first query costs the database nothing. Dropping it
/// without `commit` rolls back (in the background; the connection is
/// reused only once the rollback is answered); a cancelled request may drop
/// it at any point, `BEGIN` in flight included.
#[derive(Debug)]
pub struct TenantTx {
    /// `None` once committed.
    lease: Option<Lease>,
    tenant: TenantId,
    user: Option<UserId>,
    /// Whether `BEGIN` was sent (or is being sent): from then on, a drop
    /// rolls back.
    begun: bool,
}

impl TenantTx {
    /// Takes a connection for a transaction in `tenant` (acting as `user`);
    /// nothing is sent until the first statement.
    pub async fn begin(db: &Db, tenant: TenantId, user: Option<UserId>) -> Result<Self, DbError> {
        let lease = db.connections().acquire().await?;
        Ok(Self { lease: Some(lease), tenant, user, begun: false })
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
    /// answered (a failed or cut-off commit closes it). A transaction that
    /// never ran a statement has nothing to commit.
    pub async fn commit(mut self) -> Result<(), DbError> {
        let lease = self.lease.take().expect("an open transaction holds its connection");
        if self.begun {
            lease.commit().await?;
        } else {
            lease.give_back();
        }
        Ok(())
    }

    /// The connection, inside the transaction: sends `BEGIN` and the
    /// context first if no statement has yet.
    pub(crate) async fn conn(&mut self) -> Result<&mut PgConnection, DbError> {
        if !self.begun {
            // Set before sending: a cut-off `BEGIN` is rolled back on drop.
            self.begun = true;
            let begin = begin_statement(self.tenant, self.user);
            self.lease_mut().begin_with(&begin).await?;
        }
        Ok(self.leased())
    }

    /// The rows of `sql`, a statement without parameters, in the simple
    /// protocol (one round trip where an unnamed extended-protocol statement
    /// takes two). A `BEGIN` still to be sent goes in the same round trip.
    pub(crate) async fn fetch_all_simple(&mut self, sql: &str) -> Result<Vec<PgRow>, DbError> {
        if self.begun {
            return Ok(self.leased().fetch_all(sql).await?);
        }
        self.begun = true;
        let batch = format!("{}; {sql}", begin_statement(self.tenant, self.user));
        let mut rows = self.lease_mut().begin_with(&batch).await?;
        // `BEGIN` returns no row and the settings exactly one: the rest is
        // what `sql` returned.
        drop_settings_row(&mut rows)?;
        Ok(rows)
    }

    /// [`TenantTx::fetch_all_simple`] as the transaction's last statement:
    /// `COMMIT` goes in the same round trip, so a read that is the whole
    /// transaction is one round trip in all. On an error the transaction
    /// is rolled back (the `COMMIT` after a failed statement never runs).
    pub(crate) async fn fetch_all_simple_then_commit(mut self, sql: &str) -> Result<Vec<PgRow>, DbError> {
        let opens = !self.begun;
        self.begun = true;
        let batch = if opens {
            format!("{}; {sql}; COMMIT", begin_statement(self.tenant, self.user))
        } else {
            format!("{sql}; COMMIT")
        };
        let mut rows = if opens {
            self.lease_mut().begin_with(&batch).await?
        } else {
            self.leased().fetch_all(batch.as_str()).await?
        };
        let lease = self.lease.take().expect("an open transaction holds its connection");
        lease.give_back();
        if opens {
            drop_settings_row(&mut rows)?;
        }
        Ok(rows)
    }

    fn lease_mut(&mut self) -> &mut Lease {
        self.lease.as_mut().expect("an open transaction holds its connection")
    }

    fn leased(&mut self) -> &mut PgConnection {
        self.lease_mut().conn()
    }
}

/// Removes the row of `SELECT set_config(...), set_config(...)` that leads
/// the rows of a batch sent with its `BEGIN`, checking that it is that row.
fn drop_settings_row(rows: &mut Vec<PgRow>) -> Result<(), DbError> {
    use sqlx::{Column, Row};
    let is_settings = rows
        .first()
        .is_some_and(|row| row.columns().len() == 2 && row.columns().iter().all(|c| c.name() == "set_config"));
    if !is_settings {
        return Err(DbError::Unexpected(sqlx::Error::Protocol("a batch without its settings row".into())));
    }
    rows.remove(0);
    Ok(())
}

impl Drop for TenantTx {
    fn drop(&mut self) {
        if let Some(lease) = self.lease.take() {
            if self.begun {
                lease.roll_back_in_background();
            } else {
                lease.give_back();
            }
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
