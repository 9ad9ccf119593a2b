//! The signed-in user's sessions: list them, end one.

use poem::Request;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use crate::auth::bearer::BearerAccess;
use crate::domain::{SessionId, TenantId};
use crate::error::{error_json, ApiError, ErrorBody, Fail, Params, SignedIn};
use crate::routes::ApiTags;
use crate::state::AppState;

#[derive(Debug)]
pub struct SessionsApi {
    pub state: AppState,
}

/// One open session of the signed-in user.
#[derive(Debug, Object)]
pub struct SessionView {
    /// The session id (use it to end the session).
    pub id: SessionId,
    pub tenant_id: TenantId,
    /// Where it was opened from.
    pub ip: String,
    pub user_agent: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub last_used_at: chrono::DateTime<chrono::Utc>,
    /// The session of the access token making this request.
    pub current: bool,
}

/// The signed-in user's open sessions, most recently used first.
#[derive(Debug, Object)]
pub struct SessionList {
    pub items: Vec<SessionView>,
}

#[derive(Debug, ApiResponse)]
pub enum SessionsResponse {
    #[oai(status = 200)]
    Ok(Json<SessionList>),
}

#[derive(Debug, ApiResponse)]
pub enum EndSessionResponse {
    /// Ended.
    #[oai(status = 204)]
    Ended,
    /// No such session of this user.
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
}

#[OpenApi(tag = "ApiTags::Auth")]
impl SessionsApi {
    /// List my sessions
    ///
    /// Every open session of the signed-in user, with where it was opened
    /// and when it was last used.
    #[oai(path = "/api/auth/sessions", method = "get", operation_id = "listSessions")]
    async fn sessions(&self, auth: BearerAccess) -> Result<SessionsResponse, Fail<SignedIn>> {
        let BearerAccess(caller) = auth;
        let sessions = match self.state.refresh.sessions(&self.state.redis, caller.user).await {
            Ok(sessions) => sessions,
            Err(err) => return Err(ApiError::unavailable(err).into()),
        };
        let time = |ms: u64| chrono::DateTime::from_timestamp_millis(ms as i64).unwrap_or_default();
        let items = sessions
            .into_iter()
            .map(|s| SessionView {
                id: s.family,
                tenant_id: s.tenant,
                ip: s.ip,
                user_agent: s.user_agent,
                created_at: time(s.created_at_ms),
                last_used_at: time(s.last_used_at_ms),
                current: s.family == caller.session,
            })
            .collect();
        Ok(SessionsResponse::Ok(Json(SessionList { items })))
    }

    /// End one of my sessions
    #[oai(path = "/api/auth/sessions/:id", method = "delete", operation_id = "endSession")]
    async fn end_session(
        &self,
        req: &Request,
        auth: BearerAccess,
        /// The session id.
        id: poem_openapi::param::Path<SessionId>,
    ) -> Result<EndSessionResponse, Fail<(SignedIn, Params)>> {
        let BearerAccess(caller) = auth;
        let family = id.0;
        let state = &self.state;
        let owned = match state.refresh.session(&state.redis, family).await {
            Ok(session) => session.is_some_and(|(user, _)| user == caller.user),
            Err(err) => return Err(ApiError::unavailable(err).into()),
        };
        // Another user's session id is as unknown as a made-up one.
        if !owned {
            return Ok(EndSessionResponse::NotFound(error_json("not_found", "no such session")));
        }
        if let Err(err) = state.refresh.revoke_family(&state.redis, family).await {
            return Err(ApiError::unavailable(err).into());
        }
        let origin = crate::request_meta::origin_of(req, state);
        crate::auth::session::audit(
            state,
            caller.tenant,
            Some(caller.user),
            "session.ended",
            &family.to_string(),
            &origin,
        )
        .await?;
        Ok(EndSessionResponse::Ended)
    }
}
