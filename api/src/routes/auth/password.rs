//! Changing one's password: needs the current one, ends every other
//! session.

use poem::Request;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::session_not_valid;
use crate::auth::bearer::BearerAccess;
use crate::domain::NewPassword;
use crate::error::{error_json, ApiError, Body, ErrorBody, Fail, SignedIn};
use crate::payload::JsonBody;
use crate::routes::ApiTags;
use crate::state::AppState;
use crate::{password, rate_limit};

#[derive(Debug)]
pub struct PasswordApi {
    pub state: AppState,
}

/// The current password and the new one.
#[derive(Debug, Object, serde::Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    /// 8–128 characters, not among the 10,000 most common passwords; no
    /// composition rules.
    pub new_password: NewPassword,
}

#[derive(Debug, ApiResponse)]
pub enum PasswordResponse {
    /// Changed; every other session of the user has ended. 400 when the new
    /// password is not acceptable (`details` says why).
    #[oai(status = 204)]
    Changed,
    /// The current password is wrong (or changed meanwhile).
    #[oai(status = 403)]
    Forbidden(Json<ErrorBody>),
}

#[OpenApi(tag = "ApiTags::Auth")]
impl PasswordApi {
    /// Change my password
    ///
    /// Needs the current password; ends every other session of the user.
    #[oai(path = "/api/auth/password", method = "post", operation_id = "changePassword")]
    async fn change_password(
        &self,
        req: &Request,
        auth: BearerAccess,
        body: JsonBody<PasswordChange>,
    ) -> Result<PasswordResponse, Fail<(SignedIn, Body)>> {
        let BearerAccess(caller) = auth;
        let state = &self.state;
        let PasswordChange { current_password, new_password } = body.0;
        let budget = state.settings.auth.login_limit_per_minute;
        if let Some(retry) = rate_limit::hit_or_refuse(state, &format!("password:user:{}", caller.user), budget).await?
        {
            return Err(ApiError::rate_limited(retry).into());
        }
        let current = db::auth::password_hash(&state.platform, caller.user).await?;
        if !password::verify_off_thread(current_password, current.clone()).await {
            return Ok(PasswordResponse::Forbidden(error_json("wrong_password", "the current password is not right")));
        }
        let Some(current) = current else {
            return Err(session_not_valid().into());
        };
        let hash = password::hash_off_thread(new_password.into_inner()).await.map_err(ApiError::internal)?;
        // Compare-and-swap: a change made meanwhile (a reset, another tab)
        // wins, and this one asks to try again.
        if !db::auth::change_password(&state.platform, caller.user, &current, &hash).await? {
            return Ok(PasswordResponse::Forbidden(error_json(
                "wrong_password",
                "the password changed meanwhile; enter the current one again",
            )));
        }
        let others = match state.refresh.sessions(&state.redis, caller.user).await {
            Ok(sessions) => sessions.into_iter().filter(|s| s.family != caller.session).collect::<Vec<_>>(),
            Err(err) => return Err(ApiError::unavailable(err).into()),
        };
        for session in &others {
            if let Err(err) = state.refresh.revoke_family(&state.redis, session.family).await {
                return Err(ApiError::unavailable(err).into());
            }
        }
        let origin = crate::request_meta::origin_of(req, state);
        crate::auth::session::audit(
            state,
            caller.tenant,
            Some(caller.user),
            "password.changed",
            &others.len().to_string(),
            &origin,
        )
        .await?;
        Ok(PasswordResponse::Changed)
    }
}
