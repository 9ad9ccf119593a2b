//! The members of the caller's tenant, and its audit log.

use chrono::{DateTime, Utc};
use poem::Request;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use policies::{Action, Object};
use uuid::Uuid;

use super::ApiTags;
use crate::auth::access::Access;
use crate::auth::access_cache::Invalidation;
use crate::domain::{Role, UserId};
use crate::error::{error_json, Body, ErrorBody, Fail, Params, Tenant};
use crate::payload::JsonBody;
use crate::state::AppState;

#[derive(Debug)]
pub struct MembersApi {
    pub state: AppState,
}

/// A member of the tenant.
#[derive(Debug, Object)]
pub struct MemberView {
    pub user_id: UserId,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub joined_at: DateTime<Utc>,
}

/// A page of the tenant's members, in the order they joined.
#[derive(Debug, Object)]
pub struct MemberList {
    pub items: Vec<MemberView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[oai(skip_serializing_if_is_none)]
    pub next: Option<String>,
}

/// One audit entry.
#[derive(Debug, Object)]
pub struct AuditEntryView {
    pub id: Uuid,
    /// The acting user, when there was one.
    #[oai(skip_serializing_if_is_none)]
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
    /// Pass as `cursor` for the next page; absent on the last page.
    #[oai(skip_serializing_if_is_none)]
    pub next: Option<String>,
}

#[derive(Debug, ApiResponse)]
pub enum MembersResponse {
    #[oai(status = 200)]
    Ok(Json<MemberList>),
}

#[derive(Debug, ApiResponse)]
pub enum AuditResponse {
    #[oai(status = 200)]
    Ok(Json<AuditPage>),
}

/// A new role for a member.
#[derive(Debug, Object, serde::Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct RoleChange {
    pub role: Role,
}

#[derive(Debug, ApiResponse)]
pub enum MemberChangeResponse {
    /// The member, as changed.
    #[oai(status = 200)]
    Ok(Json<MemberView>),
    /// No such member in this tenant.
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
    /// The tenant's last admin can be neither demoted nor removed.
    #[oai(status = 409)]
    Conflict(Json<ErrorBody>),
}

#[derive(Debug, ApiResponse)]
pub enum MemberRemovalResponse {
    /// Removed.
    #[oai(status = 204)]
    Removed,
    /// No such member in this tenant.
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
    /// The tenant's last admin can be neither demoted nor removed.
    #[oai(status = 409)]
    Conflict(Json<ErrorBody>),
}

fn member_view(m: db::members::Member) -> MemberView {
    MemberView { user_id: m.user, email: m.email, display_name: m.display_name, role: m.role, joined_at: m.joined_at }
}

/// Why a change of membership was refused: not found (404), or the last
/// admin (409).
enum Refused {
    NotFound(Json<ErrorBody>),
    LastAdmin(Json<ErrorBody>),
}

fn change_refused(change: db::members::MembershipChange) -> Option<Refused> {
    match change {
        db::members::MembershipChange::Done => None,
        db::members::MembershipChange::NotFound => Some(Refused::NotFound(error_json("not_found", "no such member"))),
        db::members::MembershipChange::LastAdmin => Some(Refused::LastAdmin(error_json(
            "last_admin",
            "the tenant's last admin can be neither demoted nor removed",
        ))),
    }
}

#[OpenApi(tag = "ApiTags::Members")]
impl MembersApi {
    /// List members
    ///
    /// In the order they joined; filter by `role`, search with `q`.
    #[oai(path = "/api/users", method = "get", operation_id = "listMembers")]
    async fn list(
        &self,
        auth: Access,
        /// The previous page's `next`.
        cursor: Query<Option<String>>,
        /// Page size, 1–100.
        #[oai(default = "super::paging::default_limit", validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<i64>,
        /// Only members with this role.
        role: Query<Option<Role>>,
        /// Only members whose email or display name contains this, in any
        /// case.
        #[oai(validator(min_length = 1, max_length = 200))]
        q: Query<Option<String>>,
    ) -> Result<MembersResponse, Fail<(Tenant, Params)>> {
        let after = super::paging::decode(cursor.0.as_deref())?;
        let search = super::paging::search(q.0)?;
        let mut scope = auth.scope(&self.state).await?;
        scope.require(Object::Members, Action::Read).await?;
        let page = match search {
            // The usual page: one round trip.
            None => db::members::list_then_commit(scope.finish_reading(), after, limit.0, role.0).await?,
            Some(search) => {
                let filter = db::members::MemberFilter { role: role.0, search: Some(search) };
                let page = db::members::list(scope.tx(), after, limit.0, &filter).await?;
                scope.commit().await?;
                page
            }
        };
        let items = page.items.into_iter().map(member_view).collect();
        Ok(MembersResponse::Ok(Json(MemberList { items, next: page.next.map(super::paging::encode) })))
    }

    /// Change a member's role
    #[oai(path = "/api/users/:id", method = "patch", operation_id = "changeMemberRole")]
    async fn change_role(
        &self,
        req: &Request,
        auth: Access,
        /// The member's user id.
        id: Path<UserId>,
        body: JsonBody<RoleChange>,
    ) -> Result<MemberChangeResponse, Fail<(Tenant, Body)>> {
        let role = body.0.role;
        let mut scope = auth.scope(&self.state).await?;
        scope.require(Object::Members, Action::Update).await?;
        let target = id.0;
        match change_refused(db::members::set_role(scope.tx(), target, role).await?) {
            Some(Refused::NotFound(body)) => return Ok(MemberChangeResponse::NotFound(body)),
            Some(Refused::LastAdmin(body)) => return Ok(MemberChangeResponse::Conflict(body)),
            None => {}
        }
        scope.audit(req, "member.role_changed", &format!("{target}:{role}")).await?;
        let member = db::members::get(scope.tx(), target).await?;
        let tenant = scope.principal().tenant();
        scope.invalidate_on_commit(Invalidation::Member(tenant, target));
        scope.commit().await?;
        let Some(m) = member else {
            return Ok(MemberChangeResponse::NotFound(error_json("not_found", "no such member")));
        };
        Ok(MemberChangeResponse::Ok(Json(member_view(m))))
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
        /// The member's user id.
        id: Path<UserId>,
    ) -> Result<MemberRemovalResponse, Fail<(Tenant, Params)>> {
        let mut scope = auth.scope(&self.state).await?;
        scope.require(Object::Members, Action::Delete).await?;
        let target = id.0;
        match change_refused(db::members::remove(scope.tx(), target).await?) {
            Some(Refused::NotFound(body)) => return Ok(MemberRemovalResponse::NotFound(body)),
            Some(Refused::LastAdmin(body)) => return Ok(MemberRemovalResponse::Conflict(body)),
            None => {}
        }
        scope.audit(req, "member.removed", &target.to_string()).await?;
        let tenant = scope.principal().tenant();
        scope.invalidate_on_commit(Invalidation::Member(tenant, target));
        scope.commit().await?;
        Ok(MemberRemovalResponse::Removed)
    }

    /// Read the audit log
    ///
    /// Newest first; filter by `action`, by `actor` (a user id) and by time
    /// (`since`, `until`).
    #[oai(path = "/api/audit", method = "get", operation_id = "listAudit")]
    // Each argument is a query parameter the spec declares.
    #[allow(clippy::too_many_arguments)]
    async fn audit(
        &self,
        auth: Access,
        /// The previous page's `next`.
        cursor: Query<Option<String>>,
        /// Page size, 1–100.
        #[oai(default = "super::paging::default_limit", validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<i64>,
        /// Only entries with this action, e.g. `login.succeeded`.
        #[oai(validator(pattern = r"^[a-z_.]{1,64}$"))]
        action: Query<Option<String>>,
        /// Only entries by this user.
        actor: Query<Option<Uuid>>,
        /// Only entries at or after this time (RFC 3339).
        since: Query<Option<DateTime<Utc>>>,
        /// Only entries before this time (RFC 3339).
        until: Query<Option<DateTime<Utc>>>,
    ) -> Result<AuditResponse, Fail<(Tenant, Params)>> {
        let after = super::paging::decode(cursor.0.as_deref())?;
        let since = super::paging::time_bound("since", since.0)?;
        let until = super::paging::time_bound("until", until.0)?;
        let mut scope = auth.scope(&self.state).await?;
        scope.require(Object::Audit, Action::Read).await?;
        let query = db::audit::AuditQuery {
            after,
            limit: limit.0,
            action: action.0,
            actor: actor.0.map(db::UserId::new),
            since,
            until,
        };
        let page = db::audit::list(scope.tx(), &query).await?;
        scope.commit().await?;
        let items = page
            .items
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
        Ok(AuditResponse::Ok(Json(AuditPage { items, next: page.next.map(super::paging::encode) })))
    }
}
