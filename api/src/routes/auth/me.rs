//! Who am I: the signed-in user, the active tenant, the role there and what
//! it allows; and the one thing of their own they change here, their name.

use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::session_not_valid;
use crate::auth::bearer::{BearerAccess, Caller};
use crate::auth::session::TenantMembership;
use crate::domain::{DisplayName, TenantStatus};
use crate::error::{ApiError, Body, Fail, SignedIn};
use crate::payload::JsonBody;
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

/// A change to the signed-in user's profile.
#[derive(Debug, Object, serde::Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct ProfileChange {
    /// Shown to the tenants' admins and in the console; at most 200
    /// characters, empty for none.
    pub display_name: DisplayName,
}

#[OpenApi(tag = "ApiTags::Auth")]
impl MeApi {
    /// Who am I
    #[oai(path = "/api/auth/me", method = "get", operation_id = "me")]
    async fn me(&self, auth: BearerAccess) -> Result<MeResponse, Fail<SignedIn>> {
        let BearerAccess(caller) = auth;
        Ok(MeResponse::Ok(Json(me_of(&self.state, &caller).await?)))
    }

    /// Change my profile
    ///
    /// The display name is the account's, the same in every tenant it
    /// belongs to. Answers who I am, as changed.
    #[oai(path = "/api/auth/me", method = "patch", operation_id = "updateMe")]
    async fn update(
        &self,
        auth: BearerAccess,
        body: JsonBody<ProfileChange>,
    ) -> Result<MeResponse, Fail<(SignedIn, Body)>> {
        let BearerAccess(caller) = auth;
        let state = &self.state;
        // Checked first: a session that is no longer valid changes nothing.
        me_of(state, &caller).await?;
        if !db::auth::set_display_name(&state.platform, caller.user, body.0.display_name.as_str()).await? {
            return Err(session_not_valid().into());
        }
        Ok(MeResponse::Ok(Json(me_of(state, &caller).await?)))
    }
}

/// The caller as `GET /api/auth/me` shows them; 401 once their membership
/// of the token's tenant is gone (or the tenant suspended).
async fn me_of(state: &AppState, caller: &Caller) -> Result<Me, ApiError> {
    let memberships: Vec<TenantMembership> = db::auth::memberships(&state.platform, caller.user)
        .await?
        .into_iter()
        .filter(|m| m.status == TenantStatus::Active)
        .map(crate::auth::session::membership_view)
        .collect();
    let Some(current) = memberships.iter().find(|m| m.id == caller.tenant).cloned() else {
        return Err(session_not_valid());
    };
    let Some((email, display_name)) = db::auth::profile(&state.platform, caller.user).await? else {
        return Err(session_not_valid());
    };
    let permissions = crate::auth::session::permissions_of(current.role);
    Ok(Me { user_id: caller.user, email, display_name, tenant: current, permissions, tenants: memberships })
}
