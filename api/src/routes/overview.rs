//! The tenant at a glance: the counts its dashboard shows, each present
//! only when the caller's role may read what it counts.

use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use policies::{Action, Object as Resource};

use super::ApiTags;
use crate::auth::access::Access;
use crate::error::{Fail, Tenant};
use crate::state::AppState;

#[derive(Debug)]
pub struct OverviewApi {
    pub state: AppState,
}

/// Members by role.
#[derive(Debug, Object)]
pub struct MemberCounts {
    pub admins: i64,
    pub users: i64,
    pub viewers: i64,
}

/// Projects by status.
#[derive(Debug, Object)]
pub struct ProjectCounts {
    pub active: i64,
    pub archived: i64,
}

/// What the tenant counts. A count the caller's role may not read is
/// absent.
#[derive(Debug, Object)]
pub struct TenantOverview {
    #[oai(skip_serializing_if_is_none)]
    pub members: Option<MemberCounts>,
    /// Invitations neither accepted, revoked nor expired.
    #[oai(skip_serializing_if_is_none)]
    pub pending_invitations: Option<i64>,
    /// API keys that have not expired.
    #[oai(skip_serializing_if_is_none)]
    pub active_api_keys: Option<i64>,
    #[oai(skip_serializing_if_is_none)]
    pub projects: Option<ProjectCounts>,
}

#[derive(Debug, ApiResponse)]
pub enum OverviewResponse {
    #[oai(status = 200)]
    Ok(Json<TenantOverview>),
}

#[OpenApi(tag = "ApiTags::Members")]
impl OverviewApi {
    /// The tenant at a glance
    ///
    /// Members by role, pending invitations, active API keys and projects,
    /// counted in one statement; each count only for a role that may read
    /// what it counts.
    #[oai(path = "/api/overview", method = "get", operation_id = "getOverview")]
    async fn overview(&self, auth: Access) -> Result<OverviewResponse, Fail<Tenant>> {
        let mut scope = auth.scope(&self.state).await?;
        let readable = [Resource::Members, Resource::Invitations, Resource::ApiKeys, Resource::Projects];
        let [members, invitations, api_keys, projects] = scope.may_each(readable, Action::Read).await?;
        let counts = db::overview::overview(scope.tx()).await?;
        scope.commit().await?;
        Ok(OverviewResponse::Ok(Json(TenantOverview {
            members: members.then_some(MemberCounts {
                admins: counts.admins,
                users: counts.users,
                viewers: counts.viewers,
            }),
            pending_invitations: invitations.then_some(counts.pending_invitations),
            active_api_keys: api_keys.then_some(counts.active_api_keys),
            projects: projects
                .then_some(ProjectCounts { active: counts.active_projects, archived: counts.archived_projects }),
        })))
    }
}
