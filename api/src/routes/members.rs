//! The members of the caller's tenant, and its audit log.

use chrono::{DateTime, Utc};
use db::TenantTx;
use poem::Request;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

use super::ApiTags;
use crate::auth::access::Access;
use crate::auth::access_cache::Invalidation;
use crate::auth::authorize::{require, Denied};
use crate::error::{ApiError, ErrorBody, FieldProblem};
use crate::payload::JsonBody;
use crate::state::AppState;

#[derive(Debug)]
pub struct MembersApi {
    pub state: AppState,
}

/// A member of the tenant.
#[derive(Debug, Object)]
pub struct MemberView {
    pub user_id: Uuid,
    pub email: String,
    pub display_name: String,
    /// `admin`, `user` or `viewer`.
    pub role: String,
    pub joined_at: DateTime<Utc>,
}

/// The tenant's members.
#[derive(Debug, Object)]
pub struct MemberList {
    pub items: Vec<MemberView>,
}

/// One audit entry.
#[derive(Debug, Object)]
pub struct AuditEntryView {
    pub id: Uuid,
    /// The acting user, when there was one.
    pub actor_user_id: Option<Uuid>,
    pub action: String,
    pub target: String,
    pub ip: String,
    pub user_agent: String,
    pub created_at: DateTime<Utc>,
}

/// A page of audit entries, newest first.
#[derive(Debug, Object)]
pub struct AuditPage {
    pub items: Vec<AuditEntryView>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next_after: Option<Uuid>,
}

#[derive(Debug, ApiResponse)]
pub enum MembersResponse {
    #[oai(status = 200)]
    Ok(Json<MemberList>),
    /// No valid access token, or no longer a member of its tenant.
    #[oai(status = 401)]
    Unauthorized(Json<ErrorBody>),
    /// The role does not allow it.
    #[oai(status = 403)]
    Forbidden(Json<ErrorBody>),
    #[oai(status = 503)]
    Unavailable(Json<ErrorBody>),
}

#[derive(Debug, ApiResponse)]
pub enum AuditResponse {
    #[oai(status = 200)]
    Ok(Json<AuditPage>),
    /// A query parameter is invalid; `details` names it.
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    #[oai(status = 401)]
    Unauthorized(Json<ErrorBody>),
    #[oai(status = 403)]
    Forbidden(Json<ErrorBody>),
    #[oai(status = 503)]
    Unavailable(Json<ErrorBody>),
}

/// A new role for a member.
#[derive(Debug, Object, serde::Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct RoleChange {
    /// `admin`, `user` or `viewer`.
    pub role: String,
}

#[derive(Debug, ApiResponse)]
pub enum MemberChangeResponse {
    /// The member, as changed.
    #[oai(status = 200)]
    Ok(Json<MemberView>),
    /// Removed.
    #[oai(status = 204)]
    Removed,
    /// The body or the id is invalid; `details` names the field.
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    #[oai(status = 401)]
    Unauthorized(Json<ErrorBody>),
    #[oai(status = 403)]
    Forbidden(Json<ErrorBody>),
    /// No such member in this tenant.
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
    /// The tenant's last admin can be neither demoted nor removed.
    #[oai(status = 409)]
    Conflict(Json<ErrorBody>),
    #[oai(status = 413)]
    PayloadTooLarge(Json<ErrorBody>),
    #[oai(status = 415)]
    UnsupportedMediaType(Json<ErrorBody>),
    #[oai(status = 503)]
    Unavailable(Json<ErrorBody>),
}

fn denied_change(denied: Denied) -> MemberChangeResponse {
    match denied {
        Denied::NotMember => MemberChangeResponse::Unauthorized(denied.body()),
        Denied::Forbidden => MemberChangeResponse::Forbidden(denied.body()),
    }
}

fn change_refused(change: db::members::MembershipChange) -> Option<MemberChangeResponse> {
    match change {
        db::members::MembershipChange::Done => None,
        db::members::MembershipChange::NotFound => {
            Some(MemberChangeResponse::NotFound(ErrorBody::json("not_found", "no such member")))
        }
        db::members::MembershipChange::LastAdmin => Some(MemberChangeResponse::Conflict(ErrorBody::json(
            "last_admin",
            "the tenant's last admin can be neither demoted nor removed",
        ))),
    }
}

#[OpenApi(tag = "ApiTags::Members")]
impl MembersApi {
    /// List members
    #[oai(path = "/api/users", method = "get", operation_id = "listMembers")]
    async fn list(&self, auth: Access) -> Result<MembersResponse, ApiError> {
        let caller = auth.principal();
        let mut tx = TenantTx::begin(&self.state.db, caller.tenant(), caller.user()).await?;
        if let Err(denied) = require(&self.state, &mut tx, &caller, "members", "read").await? {
            return Ok(match denied {
                Denied::NotMember => MembersResponse::Unauthorized(denied.body()),
                Denied::Forbidden => MembersResponse::Forbidden(denied.body()),
            });
        }
        let members = db::members::list(&mut tx).await?;
        tx.commit().await?;
        let items = members
            .into_iter()
            .map(|m| MemberView {
                user_id: m.user.as_uuid(),
                email: m.email,
                display_name: m.display_name,
                role: m.role,
                joined_at: m.joined_at,
            })
            .collect();
        Ok(MembersResponse::Ok(Json(MemberList { items })))
    }

    /// Change a member's role
    #[oai(path = "/api/users/:id", method = "patch", operation_id = "changeMemberRole")]
    async fn change_role(
        &self,
        req: &Request,
        auth: Access,
        /// The member's user id (a UUID).
        id: Path<String>,
        body: JsonBody<RoleChange>,
    ) -> Result<MemberChangeResponse, ApiError> {
        let caller = auth.principal();
        let role = body.0.role;
        if !policies::ROLES.contains(&role.as_str()) {
            return Err(ApiError::validation(vec![FieldProblem::new("role", "must be admin, user or viewer")]));
        }
        let mut tx = TenantTx::begin(&self.state.db, caller.tenant(), caller.user()).await?;
        if let Err(denied) = require(&self.state, &mut tx, &caller, "members", "update").await? {
            return Ok(denied_change(denied));
        }
        let target = db::UserId::new(crate::payload::parse_path_id(&id.0)?);
        if let Some(refused) = change_refused(db::members::set_role(&mut tx, target, &role).await?) {
            return Ok(refused);
        }
        let origin = crate::auth::session::origin_of(req, &self.state);
        db::auth::audit(&mut tx, "member.role_changed", &format!("{target}:{role}"), &origin).await?;
        let member = db::members::list(&mut tx).await?.into_iter().find(|m| m.user == target);
        tx.commit().await?;
        self.state.access_cache.publish(&self.state.redis, Invalidation::Member(caller.tenant(), target)).await;
        let Some(m) = member else {
            return Ok(MemberChangeResponse::NotFound(ErrorBody::json("not_found", "no such member")));
        };
        Ok(MemberChangeResponse::Ok(Json(MemberView {
            user_id: m.user.as_uuid(),
            email: m.email,
            display_name: m.display_name,
            role: m.role,
            joined_at: m.joined_at,
        })))
    }

    /// Remove a member from the tenant
    ///
    /// The account stays (it may belong to other tenants); its access to
    /// this tenant ends with the next request.
    #[oai(path = "/api/users/:id", method = "delete", operation_id = "removeMember")]
    async fn remove(
        &self,
        req: &Request,
        auth: Access,
        /// The member's user id (a UUID).
        id: Path<String>,
    ) -> Result<MemberChangeResponse, ApiError> {
        let caller = auth.principal();
        let mut tx = TenantTx::begin(&self.state.db, caller.tenant(), caller.user()).await?;
        if let Err(denied) = require(&self.state, &mut tx, &caller, "members", "delete").await? {
            return Ok(denied_change(denied));
        }
        let target = db::UserId::new(crate::payload::parse_path_id(&id.0)?);
        if let Some(refused) = change_refused(db::members::remove(&mut tx, target).await?) {
            return Ok(refused);
        }
        let origin = crate::auth::session::origin_of(req, &self.state);
        db::auth::audit(&mut tx, "member.removed", &target.to_string(), &origin).await?;
        tx.commit().await?;
        self.state.access_cache.publish(&self.state.redis, Invalidation::Member(caller.tenant(), target)).await;
        Ok(MemberChangeResponse::Removed)
    }

    /// Read the audit log
    ///
    /// Newest first; filter by `action` and by `actor` (a user id).
    #[oai(path = "/api/audit", method = "get", operation_id = "listAudit")]
    async fn audit(
        &self,
        auth: Access,
        /// Entries older than this one (the previous page's `next_after`).
        after: Query<Option<Uuid>>,
        /// Page size, 1–200.
        #[oai(default = "default_limit", validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<i64>,
        /// Only entries with this action, e.g. `login.succeeded`.
        #[oai(validator(max_length = 64))]
        action: Query<Option<String>>,
        /// Only entries by this user.
        actor: Query<Option<Uuid>>,
    ) -> Result<AuditResponse, ApiError> {
        let caller = auth.principal();
        let mut tx = TenantTx::begin(&self.state.db, caller.tenant(), caller.user()).await?;
        if let Err(denied) = require(&self.state, &mut tx, &caller, "audit", "read").await? {
            return Ok(match denied {
                Denied::NotMember => AuditResponse::Unauthorized(denied.body()),
                Denied::Forbidden => AuditResponse::Forbidden(denied.body()),
            });
        }
        let query = db::audit::AuditQuery {
            after: after.0,
            limit: limit.0,
            action: action.0,
            actor: actor.0.map(db::UserId::new),
        };
        let entries = db::audit::list(&mut tx, &query).await?;
        tx.commit().await?;
        let next_after = (entries.len() as i64 == query.limit).then(|| entries.last().map(|e| e.id)).flatten();
        let items = entries
            .into_iter()
            .map(|e| AuditEntryView {
                id: e.id,
                actor_user_id: e.actor.map(|a| a.as_uuid()),
                action: e.action,
                target: e.target,
                ip: e.ip,
                user_agent: e.user_agent,
                created_at: e.created_at,
            })
            .collect();
        Ok(AuditResponse::Ok(Json(AuditPage { items, next_after })))
    }
}

fn default_limit() -> i64 {
    50
}
