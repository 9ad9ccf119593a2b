//! Members of the transaction's tenant.

use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::Row;

use crate::page::{like_contains, Page, Position};
use crate::{DbError, Role, TenantTx, UserId};

/// A member as tenant admins see them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub user: UserId,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub joined_at: DateTime<Utc>,
}

/// The caller's role in the transaction's tenant; `None` when not a member
/// (any more) or when the tenant is suspended.
pub async fn role_of(tx: &mut TenantTx, user: UserId) -> Result<Option<Role>, DbError> {
    // A suspended tenant's members are refused like non-members.
    let row = sqlx::query(
        "SELECT m.role FROM memberships m JOIN tenants t ON t.id = m.tenant_id \
         WHERE m.user_id = $1 AND t.status = 'active'",
    )
    .bind(user)
    .persistent(false)
    .fetch_optional(tx.conn().await?)
    .await?;
    Ok(row.map(|r| r.get("role")))
}

/// Whether the account of `email` is a member of the tenant.
pub async fn has_email(tx: &mut TenantTx, email: &str) -> Result<bool, DbError> {
    let found: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM tenant_members() WHERE email = $1)")
        .bind(email)
        .persistent(false)
        .fetch_one(tx.conn().await?)
        .await?;
    Ok(found)
}

/// Which members to list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemberFilter {
    pub role: Option<Role>,
    /// Part of the email or the display name, in any case.
    pub search: Option<String>,
}

/// The tenant's members in the order they joined, a page at a time.
pub async fn list(
    tx: &mut TenantTx,
    after: Option<Position>,
    limit: i64,
    filter: &MemberFilter,
) -> Result<Page<Member>, DbError> {
    let sql = list_sql(after, limit, filter);
    let rows = match &filter.search {
        None => tx.fetch_all_simple(&sql).await?,
        // Text typed by a person goes as a parameter, never into the SQL.
        Some(search) => {
            sqlx::query(&sql).bind(like_contains(search)).persistent(false).fetch_all(tx.conn().await?).await?
        }
    };
    page(&rows, limit)
}

/// [`list`] with no search as the transaction's last statement: it commits
/// in the same round trip (a members page is then one round trip in all).
pub async fn list_then_commit(
    tx: TenantTx,
    after: Option<Position>,
    limit: i64,
    role: Option<Role>,
) -> Result<Page<Member>, DbError> {
    let rows = tx.fetch_all_simple_then_commit(&list_sql(after, limit, &MemberFilter { role, search: None })).await?;
    page(&rows, limit)
}

/// One member of the tenant; `None` for anyone else.
pub async fn get(tx: &mut TenantTx, user: UserId) -> Result<Option<Member>, DbError> {
    let row = sqlx::query(
        "SELECT user_id, email, display_name, role, (extract(epoch FROM joined_at) * 1000000)::int8 AS joined_us \
         FROM tenant_members() WHERE user_id = $1",
    )
    .bind(user)
    .persistent(false)
    .fetch_optional(tx.conn().await?)
    .await?;
    row.as_ref().map(member).transpose()
}

fn page(rows: &[PgRow], limit: i64) -> Result<Page<Member>, DbError> {
    let members = rows.iter().map(member).collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_rows(members, limit, |m| Position { at: m.joined_at, id: m.user.as_uuid() }))
}

/// The simple protocol takes no parameters: the statement is built from
/// typed values only (an integer, microseconds, a UUID, a role's name),
/// whose text cannot carry SQL; a search is the statement's one parameter
/// (`$1`, extended protocol). Values come back as text too: the join time
/// goes as microseconds since the epoch, an integer to read, where the
/// timestamp's text is parsed by format string (a few percent of the
/// request's CPU).
fn list_sql(after: Option<Position>, limit: i64, filter: &MemberFilter) -> String {
    let mut conditions = Vec::new();
    if let Some(p) = after {
        conditions.push(format!("(joined_us, user_id) > ({}, '{}'::uuid)", p.at.timestamp_micros(), p.id));
    }
    if let Some(role) = filter.role {
        conditions.push(format!("role = '{}'", role.as_str()));
    }
    if filter.search.is_some() {
        conditions.push(r"(email ILIKE $1 ESCAPE '\' OR display_name ILIKE $1 ESCAPE '\')".to_owned());
    }
    let conditions = if conditions.is_empty() { String::new() } else { format!("WHERE {}", conditions.join(" AND ")) };
    format!(
        "SELECT * FROM (SELECT user_id, email, display_name, role, \
         (extract(epoch FROM joined_at) * 1000000)::int8 AS joined_us FROM tenant_members()) m \
         {conditions} ORDER BY joined_us, user_id LIMIT {}",
        limit.saturating_add(1)
    )
}

fn member(r: &PgRow) -> Result<Member, DbError> {
    let joined_us: i64 = r.try_get("joined_us")?;
    let joined_at = DateTime::from_timestamp_micros(joined_us)
        .ok_or_else(|| DbError::Unexpected(sqlx::Error::Decode(format!("join time {joined_us} µs").into())))?;
    Ok(Member {
        user: UserId::new(r.try_get("user_id")?),
        email: r.try_get("email")?,
        display_name: r.try_get("display_name")?,
        role: r.try_get("role")?,
        joined_at,
    })
}

/// What a change to a membership did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MembershipChange {
    Done,
    /// No such member in this tenant (another tenant's id included).
    NotFound,
    /// It would leave the tenant without an admin.
    LastAdmin,
}

/// Locks the tenant's admins and the target's row, and says whether the
/// change may go ahead: the last admin can be neither removed nor demoted.
async fn check_admins(tx: &mut TenantTx, user: UserId, stays_admin: bool) -> Result<MembershipChange, DbError> {
    let admins: Vec<uuid::Uuid> = sqlx::query_scalar("SELECT user_id FROM memberships WHERE role = 'admin' FOR UPDATE")
        .persistent(false)
        .fetch_all(tx.conn().await?)
        .await?;
    let current: Option<Role> = sqlx::query_scalar("SELECT role FROM memberships WHERE user_id = $1 FOR UPDATE")
        .bind(user)
        .persistent(false)
        .fetch_optional(tx.conn().await?)
        .await?;
    Ok(match current {
        None => MembershipChange::NotFound,
        Some(Role::Admin) if !stays_admin && admins.len() <= 1 => MembershipChange::LastAdmin,
        Some(_) => MembershipChange::Done,
    })
}

/// Gives `user` the `role` in this tenant.
pub async fn set_role(tx: &mut TenantTx, user: UserId, role: Role) -> Result<MembershipChange, DbError> {
    let verdict = check_admins(tx, user, role == Role::Admin).await?;
    if verdict == MembershipChange::Done {
        sqlx::query("UPDATE memberships SET role = $2 WHERE user_id = $1")
            .bind(user)
            .bind(role)
            .persistent(false)
            .execute(tx.conn().await?)
            .await
            .map_err(DbError::classify)?;
    }
    Ok(verdict)
}

/// Removes `user` from this tenant (the account stays).
pub async fn remove(tx: &mut TenantTx, user: UserId) -> Result<MembershipChange, DbError> {
    let verdict = check_admins(tx, user, false).await?;
    if verdict == MembershipChange::Done {
        sqlx::query("DELETE FROM memberships WHERE user_id = $1")
            .bind(user)
            .persistent(false)
            .execute(tx.conn().await?)
            .await?;
    }
    Ok(verdict)
}
