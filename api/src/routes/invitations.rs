//! Invitations into the tenant: admins invite by email with a role; the
//! invitee follows the emailed link (`POST /api/invitations/accept`), which
//! adds the membership to their account (signed in as it: the link alone
//! never adds an existing account), or creates the account first. Emails
//! are capped per address and per tenant, and their subject is fixed: an
//! inviter's text never becomes a subject line.

use chrono::{DateTime, Utc};
use db::invitations::Acceptance;
use poem::Request;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use policies::{Action, Object};

use super::ApiTags;
use crate::auth::access::Access;
use crate::auth::bearer::OptionalBearer;
use crate::auth::email_token;
use crate::domain::{DisplayName, EmailAddress, InvitationId, NewPassword, Role, TenantId, UserId};
use crate::emails;
use crate::error::{
    error_json, ApiError, Body, ErrorBody, Fail, FieldProblem, Idempotent, Params, Tenant, Unavailable,
};
use crate::idempotency::{self, Idempotency};
use crate::password;
use crate::payload::JsonBody;
use crate::request_meta::origin_of;
use crate::state::AppState;

#[derive(Debug)]
pub struct InvitationsApi {
    pub state: AppState,
}

/// Whom to invite, and as what.
#[derive(Debug, Object, serde::Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct CreateInvitation {
    /// An email address (at most 254 characters). The pattern covers what
    /// clients should send; other RFC 5322 dot-atom addresses are accepted too.
    pub email: EmailAddress,
    pub role: Role,
}

/// The token of an invitation email; a password (and a name) when the
/// invited email has no account yet. When it has one, send the request
/// signed in as that account (`Authorization: Bearer`).
#[derive(Debug, Object, serde::Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct AcceptInvitation {
    /// The code of the email (64 hex characters).
    #[oai(validator(pattern = r"^[0-9a-f]{64}$"))]
    pub token: String,
    /// Only for a new account: 8–128 characters, not among the 10,000 most
    /// common passwords.
    #[serde(default, deserialize_with = "crate::payload::no_null")]
    pub password: Option<NewPassword>,
    /// Only for a new account: up to 200 characters, no control characters.
    #[serde(default, deserialize_with = "crate::payload::no_null")]
    pub display_name: Option<DisplayName>,
}

/// An invitation as listed (never its token).
#[derive(Debug, Object, serde::Serialize, serde::Deserialize)]
pub struct InvitationView {
    pub id: InvitationId,
    pub email: String,
    pub role: Role,
    pub status: InvitationStatus,
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invited_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted_at: Option<DateTime<Utc>>,
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Where an invitation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, serde::Serialize, serde::Deserialize)]
#[oai(rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum InvitationStatus {
    /// Sent, and its link still works.
    Pending,
    Accepted,
    Revoked,
    /// Not accepted in time; its link no longer works.
    Expired,
}

/// The tenant's invitations: open ones, and those settled in the last 30
/// days; newest first.
#[derive(Debug, Object)]
pub struct InvitationList {
    pub items: Vec<InvitationView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[oai(skip_serializing_if_is_none)]
    pub next: Option<String>,
}

/// What accepting did.
#[derive(Debug, Object)]
pub struct InvitationAccepted {
    pub user_id: UserId,
    /// The account was created by this acceptance.
    pub created_account: bool,
    /// The tenant joined; sign in to use it.
    pub tenant_id: TenantId,
    pub role: Role,
}

#[derive(Debug, ApiResponse)]
pub enum CreateInvitationResponse {
    /// Invited; the email is on its way. 429 (`too_many_emails`,
    /// `too_many_invitations`) when the address or the tenant had as many
    /// as it may.
    #[oai(status = 201)]
    Created(Json<InvitationView>),
    /// An open invitation for this email exists, or it is a member's.
    #[oai(status = 409)]
    Conflict(Json<ErrorBody>),
}

#[derive(Debug, ApiResponse)]
pub enum ListInvitationsResponse {
    #[oai(status = 200)]
    List(Json<InvitationList>),
}

#[derive(Debug, ApiResponse)]
pub enum RevokeInvitationResponse {
    /// Revoked; the link no longer works.
    #[oai(status = 204)]
    Revoked,
    /// No open invitation with that id in this tenant.
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
}

#[derive(Debug, ApiResponse)]
pub enum AcceptResponse {
    /// The membership exists (and the account, when it was created). 400
    /// (`invalid_token`) when the token is malformed, unknown, used, revoked
    /// or expired.
    #[oai(status = 200)]
    Accepted(Json<InvitationAccepted>),
    /// The invited email has an account, and the request is not signed in
    /// (`sign_in_required`): sign in as that account and send it again.
    #[oai(status = 401)]
    Unauthorized(Json<ErrorBody>),
    /// The invited email has an account, and the request is signed in as
    /// another one (`wrong_account`).
    #[oai(status = 403)]
    Forbidden(Json<ErrorBody>),
    /// The invited email has an account: accept without a password.
    #[oai(status = 409)]
    Conflict(Json<ErrorBody>),
}

/// How many emails one address may get from invitations: the same caps as
/// registration and reset emails. Past them, or past the tenant's daily
/// invitations, the invitation is refused with 429 (the inviter should
/// know; nobody's mailbox fills up).
async fn email_caps(state: &AppState, tenant: db::TenantId, email: &str) -> Result<(), ApiError> {
    let per_day = state.settings.onboarding.invitations_per_tenant_per_day;
    let tenant_key = format!("invite:tenant:{tenant}");
    if let Some(retry) = crate::rate_limit::hit_or_refuse_per(state, &tenant_key, per_day, 24 * 3600).await? {
        let message = "the tenant sent as many invitations as it may today";
        return Err(ApiError::too_many("too_many_invitations", message, retry));
    }
    if !emails::may_send(state, "invite", email).await? {
        let message = "this address got as many emails from us as it may for now";
        return Err(ApiError::too_many("too_many_emails", message, 3600));
    }
    Ok(())
}

fn view(i: db::invitations::Invitation) -> InvitationView {
    let status = if i.accepted_at.is_some() {
        InvitationStatus::Accepted
    } else if i.revoked_at.is_some() {
        InvitationStatus::Revoked
    } else if i.expires_at <= Utc::now() {
        InvitationStatus::Expired
    } else {
        InvitationStatus::Pending
    };
    InvitationView {
        id: i.id,
        email: i.email,
        role: i.role,
        status,
        invited_by: i.invited_by,
        created_at: i.created_at,
        expires_at: i.expires_at,
        accepted_at: i.accepted_at,
        revoked_at: i.revoked_at,
    }
}

#[OpenApi(tag = "ApiTags::Members")]
impl InvitationsApi {
    /// Invite someone into the tenant
    ///
    /// Emails a single-use link, valid for `APP_INVITATION_TTL_MINUTES`
    /// (7 days by default). With an `Idempotency-Key`, a retry answers the
    /// first invitation and sends no second email.
    #[oai(path = "/api/invitations", method = "post", operation_id = "createInvitation")]
    async fn create(
        &self,
        req: &Request,
        auth: Access,
        /// Any unique string (a UUID, say), kept 24 hours.
        #[oai(name = "Idempotency-Key", validator(pattern = r"^[\x21-\x7E]{1,255}$"))]
        idempotency_key: Header<Option<String>>,
        body: JsonBody<CreateInvitation>,
    ) -> Result<CreateInvitationResponse, Fail<(Tenant, (Body, Idempotent))>> {
        let state = &self.state;
        let CreateInvitation { email, role } = body.0;
        let email = email.into_inner();
        let mut scope = auth.scope(state).await?;
        scope.require(Object::Invitations, Action::Create).await?;
        let request = (email.as_str(), role);
        let claimed = match idempotency::claim(&mut scope, idempotency_key.0, "createInvitation", &request).await? {
            Idempotency::Replay(invitation) => {
                scope.commit().await?;
                return Ok(CreateInvitationResponse::Created(Json(invitation)));
            }
            Idempotency::Fresh(claimed) => claimed,
        };
        if db::members::has_email(scope.tx(), &email).await? {
            return Ok(CreateInvitationResponse::Conflict(error_json(
                "already_member",
                "this email belongs to a member of the tenant already",
            )));
        }
        // Before anything is stored: an invitation is never left without
        // its email. Revoking and inviting again counts again.
        email_caps(state, scope.principal().tenant(), &email).await?;
        let token = email_token::generate();
        let ttl = state.settings.onboarding.invitation_ttl;
        let expires_at = Utc::now() + chrono::Duration::from_std(ttl).map_err(ApiError::internal)?;
        let created = match db::invitations::create(scope.tx(), &email, role, &token.hash, expires_at).await {
            Ok(created) => created,
            Err(db::DbError::Conflict) => {
                return Ok(CreateInvitationResponse::Conflict(error_json(
                    "conflict",
                    "an open invitation for this email exists; revoke it first",
                )))
            }
            Err(err) => return Err(err.into()),
        };
        let tenant_name = db::invitations::tenant_name(scope.tx()).await?;
        let created = view(created);
        claimed.remember(&mut scope, poem::http::StatusCode::CREATED, &created).await?;
        scope.audit(req, "invitation.created", &created.id.to_string()).await?;
        scope.commit().await?;
        state.mailer.send_later(emails::invitation(
            state,
            &email,
            &tenant_name,
            role.as_str(),
            &token.token,
            expires_at,
        ));
        Ok(CreateInvitationResponse::Created(Json(created)))
    }

    /// List the tenant's invitations
    #[oai(path = "/api/invitations", method = "get", operation_id = "listInvitations")]
    async fn list(
        &self,
        auth: Access,
        /// The previous page's `next`.
        cursor: Query<Option<String>>,
        /// Page size, 1–100.
        #[oai(default = "super::paging::default_limit", validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<i64>,
    ) -> Result<ListInvitationsResponse, Fail<(Tenant, Params)>> {
        let after = super::paging::decode(cursor.0.as_deref())?;
        let mut scope = auth.scope(&self.state).await?;
        scope.require(Object::Invitations, Action::Read).await?;
        let page = db::invitations::list(scope.tx(), after, limit.0).await?;
        scope.commit().await?;
        let items = page.items.into_iter().map(view).collect();
        Ok(ListInvitationsResponse::List(Json(InvitationList { items, next: page.next.map(super::paging::encode) })))
    }

    /// Revoke an open invitation
    #[oai(path = "/api/invitations/:id", method = "delete", operation_id = "revokeInvitation")]
    async fn revoke(
        &self,
        req: &Request,
        auth: Access,
        /// The invitation's id.
        id: Path<InvitationId>,
    ) -> Result<RevokeInvitationResponse, Fail<(Tenant, Params)>> {
        let id = id.0;
        let mut scope = auth.scope(&self.state).await?;
        scope.require(Object::Invitations, Action::Delete).await?;
        if db::invitations::revoke(scope.tx(), id).await?.is_none() {
            let body = error_json("not_found", "no open invitation with this id");
            return Ok(RevokeInvitationResponse::NotFound(body));
        }
        scope.audit(req, "invitation.revoked", &id.to_string()).await?;
        scope.commit().await?;
        Ok(RevokeInvitationResponse::Revoked)
    }

    /// Accept an invitation
    ///
    /// With the token of an invitation email. When the invited email has an
    /// account, the membership is added to it (send no password); when it
    /// has none, the account is created with the password given.
    #[oai(path = "/api/invitations/accept", method = "post", operation_id = "acceptInvitation")]
    async fn accept(
        &self,
        req: &Request,
        auth: OptionalBearer,
        body: JsonBody<AcceptInvitation>,
    ) -> Result<AcceptResponse, Fail<(Body, Unavailable)>> {
        let state = &self.state;
        let origin = origin_of(req, state);
        crate::rate_limit::per_address(state, "accept", &origin.ip).await?;
        let AcceptInvitation { token, password, display_name } = body.0;
        let invalid = || {
            let message = "the invitation is not valid, was used or revoked, or has expired";
            ApiError::refusal(poem::http::StatusCode::BAD_REQUEST, "invalid_token", message)
        };
        let Some(token) = email_token::parse(&token) else {
            return Err(invalid().into());
        };
        let signed_in = auth.caller().map(|c| c.user);
        let hash = match password {
            Some(p) => Some(password::hash_off_thread(p.into_inner()).await.map_err(ApiError::internal)?),
            None => None,
        };
        // Two acceptances creating the same account at once: the second meets
        // the unique email, as if the account had existed.
        let outcome = match db::invitations::accept(
            &state.platform,
            token,
            hash.as_deref(),
            display_name.as_ref().map(DisplayName::as_str),
            signed_in,
        )
        .await
        {
            Err(db::DbError::Conflict) => Acceptance::AccountExists,
            other => other?,
        };
        let (user, tenant, invitation, role, created_account) = match outcome {
            Acceptance::Accepted { user, tenant, invitation, role, created_account } => {
                (user, tenant, invitation, role, created_account)
            }
            Acceptance::AlreadyMember { user, tenant, invitation, role } => (user, tenant, invitation, role, false),
            Acceptance::Invalid => return Err(invalid().into()),
            Acceptance::PasswordRequired => {
                return Err(ApiError::validation(vec![FieldProblem::new(
                    "password",
                    "is required: the invited email has no account yet",
                )])
                .into())
            }
            Acceptance::SignInRequired => {
                return Ok(AcceptResponse::Unauthorized(error_json(
                    "sign_in_required",
                    "the invited email has an account: sign in as it, then accept",
                )))
            }
            Acceptance::WrongAccount => {
                return Ok(AcceptResponse::Forbidden(error_json(
                    "wrong_account",
                    "you are signed in as another account than the invited one",
                )))
            }
            Acceptance::AccountExists => {
                return Ok(AcceptResponse::Conflict(error_json(
                    "account_exists",
                    "the invited email has an account: accept without a password, then sign in",
                )))
            }
        };
        // A session of this user in this tenant from an earlier membership
        // may have its refusal cached.
        state.access_cache.publish(&state.redis, crate::auth::access_cache::Invalidation::Member(tenant, user)).await;
        crate::auth::session::audit(state, tenant, Some(user), "invitation.accepted", &invitation.to_string(), &origin)
            .await?;
        Ok(AcceptResponse::Accepted(Json(InvitationAccepted {
            user_id: user,
            created_account,
            tenant_id: tenant,
            role,
        })))
    }
}
