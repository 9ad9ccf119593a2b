//! Invitations into a tenant: created, listed and revoked in the tenant
//! transaction; accepted by token, before the invitee has any tenant
//! context, through the `invitation_accept` definer function.

use crate::page::{Page, Position};
use crate::{DbError, InvitationId, PlatformDb, Role, TenantId, TenantTx, UserId};
use chrono::{DateTime, Utc};
use sqlx::Row;

/// An invitation as listed (never its token).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invitation {
    pub id: InvitationId,
    pub email: String,
    pub role: Role,
    pub invited_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "id, email, role, invited_by, created_at, expires_at, accepted_at, revoked_at";

fn invitation(r: sqlx::postgres::PgRow) -> Invitation {
    Invitation {
        id: r.get("id"),
        email: r.get("email"),
        role: r.get("role"),
        invited_by: r.get("invited_by"),
        created_at: r.get("created_at"),
        expires_at: r.get("expires_at"),
        accepted_at: r.get("accepted_at"),
        revoked_at: r.get("revoked_at"),
    }
}

/// Invites `email` into the tenant. An open invitation for the same email
/// that has expired is revoked first; one still open is
/// [`DbError::Conflict`].
pub async fn create(
    tx: &mut TenantTx,
    email: &str,
    role: Role,
    token_hash: &str,
    expires_at: DateTime<Utc>,
) -> Result<Invitation, DbError> {
    sqlx::query(
        "UPDATE invitations SET revoked_at = now() \
         WHERE email = $1 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at <= now()",
    )
    .bind(email)
    .persistent(false)
    .execute(tx.conn().await?)
    .await?;
    let (tenant, user) = (tx.tenant(), tx.user());
    let row = sqlx::query(&format!(
        "INSERT INTO invitations (tenant_id, email, role, token_hash, invited_by, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING {COLUMNS}"
    ))
    .bind(tenant)
    .bind(email)
    .bind(role)
    .bind(token_hash)
    .bind(user)
    .bind(expires_at)
    .persistent(false)
    .fetch_one(tx.conn().await?)
    .await
    .map_err(DbError::classify)?;
    Ok(invitation(row))
}

/// The tenant's invitations, newest first, a page at a time: open ones,
/// and settled ones of the last 30 days.
pub async fn list(tx: &mut TenantTx, after: Option<Position>, limit: i64) -> Result<Page<Invitation>, DbError> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM invitations \
         WHERE ((accepted_at IS NULL AND revoked_at IS NULL) \
                OR coalesce(accepted_at, revoked_at) > now() - interval '30 days') \
           AND ($1::timestamptz IS NULL OR (created_at, id) < ($1, $2)) \
         ORDER BY created_at DESC, id DESC LIMIT $3"
    ))
    .bind(after.map(|p| p.at))
    .bind(after.map(|p| p.id))
    .bind(limit + 1)
    .persistent(false)
    .fetch_all(tx.conn().await?)
    .await?;
    let invitations = rows.into_iter().map(invitation).collect();
    Ok(Page::from_rows(invitations, limit, |i| Position { at: i.created_at, id: i.id.as_uuid() }))
}

/// Revokes an open invitation; `None` when the tenant has no open
/// invitation with that id.
pub async fn revoke(tx: &mut TenantTx, id: InvitationId) -> Result<Option<Invitation>, DbError> {
    let row = sqlx::query(&format!(
        "UPDATE invitations SET revoked_at = now() \
         WHERE id = $1 AND accepted_at IS NULL AND revoked_at IS NULL RETURNING {COLUMNS}"
    ))
    .bind(id)
    .persistent(false)
    .fetch_optional(tx.conn().await?)
    .await?;
    Ok(row.map(invitation))
}

/// What accepting an invitation did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Acceptance {
    Accepted {
        user: UserId,
        tenant: TenantId,
        invitation: InvitationId,
        role: Role,
        created_account: bool,
    },
    /// The account was a member already (with `role`, unchanged); the
    /// invitation is settled.
    AlreadyMember {
        user: UserId,
        tenant: TenantId,
        invitation: InvitationId,
        role: Role,
    },
    /// Unknown, used, revoked or expired token, or a suspended tenant.
    Invalid,
    /// No account for the invited email yet, and no password given.
    PasswordRequired,
    /// A password was given, but the invited email has an account.
    AccountExists,
    /// The invited email has an account, and nobody is signed in: only
    /// that account may accept.
    SignInRequired,
    /// The invited email has an account, and someone else is signed in.
    WrongAccount,
}

/// Accepts the invitation behind the emailed `token`: the membership, and
/// the account when none exists (`password_hash` given). `signed_in` is the
/// user of a verified access token, if the request carried one: an existing
/// account is added only when it is that user.
pub async fn accept(
    platform: &PlatformDb,
    token: &str,
    password_hash: Option<&str>,
    display_name: Option<&str>,
    signed_in: Option<UserId>,
) -> Result<Acceptance, DbError> {
    let mut tx = platform.begin(signed_in).await?;
    let row = sqlx::query(
        "SELECT outcome, user_id, tenant_id, invitation_id, role, created_account FROM invitation_accept($1, $2, $3)",
    )
    .bind(token)
    .bind(password_hash)
    .bind(display_name)
    .persistent(false)
    .fetch_one(tx.conn().await?)
    .await
    .map_err(DbError::classify)?;
    tx.commit().await?;
    let ids = |r: &sqlx::postgres::PgRow| {
        (UserId::new(r.get("user_id")), TenantId::new(r.get("tenant_id")), r.get::<InvitationId, _>("invitation_id"))
    };
    Ok(match row.get::<String, _>("outcome").as_str() {
        "accepted" => {
            let (user, tenant, invitation) = ids(&row);
            Acceptance::Accepted {
                user,
                tenant,
                invitation,
                role: row.get("role"),
                created_account: row.get("created_account"),
            }
        }
        "already_member" => {
            let (user, tenant, invitation) = ids(&row);
            Acceptance::AlreadyMember { user, tenant, invitation, role: row.get("role") }
        }
        "password_required" => Acceptance::PasswordRequired,
        "account_exists" => Acceptance::AccountExists,
        "sign_in_required" => Acceptance::SignInRequired,
        "wrong_account" => Acceptance::WrongAccount,
        _ => Acceptance::Invalid,
    })
}

/// The name of the transaction's tenant (for the invitation email).
pub async fn tenant_name(tx: &mut TenantTx) -> Result<String, DbError> {
    let name: Option<String> =
        sqlx::query_scalar("SELECT name FROM tenants").persistent(false).fetch_optional(tx.conn().await?).await?;
    Ok(name.unwrap_or_default())
}
