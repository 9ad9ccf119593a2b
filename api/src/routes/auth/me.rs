//! Who am I: the signed-in user, the active tenant, the role there and what
//! it allows.

use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi};

use super::session_not_valid;
use crate::auth::bearer::BearerAccess;
use crate::auth::session::TenantMembership;
use crate::domain::TenantStatus;
use crate::error::{Fail, SignedIn};
use crate::routes::ApiTags;
use crate::state::AppState;

#[derive(Debug)]
pub struct MeApi {
    pub state: AppState,
}

pub use model::wire::Me;

#[derive(Debug, ApiResponse)]
pub enum MeResponse {
    /// 401 also when the membership of the token's tenant is gone.
    #[oai(status = 200)]
    Ok(Json<Me>),
}

#[OpenApi(tag = "ApiTags::Auth")]
impl MeApi {
    /// Who am I
    #[oai(path = "/api/auth/me", method = "get", operation_id = "me")]
    async fn me(&self, auth: BearerAccess) -> Result<MeResponse, Fail<SignedIn>> {
        let BearerAccess(caller) = auth;
        let state = &self.state;
        let memberships: Vec<TenantMembership> = db::auth::memberships(&state.platform, caller.user)
            .await?
            .into_iter()
            .filter(|m| m.status == TenantStatus::Active)
            .map(crate::auth::session::membership_view)
            .collect();
        let Some(current) = memberships.iter().find(|m| m.id == caller.tenant).cloned() else {
            return Err(session_not_valid().into());
        };
        let Some((email, display_name)) = db::auth::profile(&state.platform, caller.user).await? else {
            return Err(session_not_valid().into());
        };
        let permissions = crate::auth::session::permissions_of(current.role);
        Ok(MeResponse::Ok(Json(Me {
            user_id: caller.user,
            email,
            display_name,
            tenant: current,
            permissions,
            tenants: memberships,
        })))
    }
}
