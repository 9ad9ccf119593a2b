//! Signing in and out: log in, refresh, log out (one session or all), and
//! switching tenant. Refresh tokens travel in the `HttpOnly` cookie for
//! browsers, or in JSON bodies for clients that ask for it at log-in (CLI,
//! mobile).

use poem::Request;
use poem_openapi::param::Header;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::{invalid_credentials, invalid_session, session_not_valid, Failure};
use crate::auth::bearer::{BearerAccess, Caller};
use crate::auth::cookie;
use crate::auth::login_guard;
use crate::auth::refresh_store::Rotation;
use crate::auth::session::{SessionTokens, TokenDelivery};
use crate::auth::tokens::RefreshClaims;
use crate::domain::TenantStatus;
use crate::error::{error_json, ApiError, Body, ErrorBody, Fail, FieldProblem, SignedIn};
use crate::payload::JsonBody;
use crate::routes::ApiTags;
use crate::state::AppState;
use crate::{password, rate_limit};

#[derive(Debug)]
pub struct SignInApi {
    pub state: AppState,
}

/// Email, password and optionally the tenant to act in.
#[derive(Debug, Object, serde::Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Up to 320 characters, no control characters.
    #[oai(validator(
        max_length = 320,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    ))]
    pub email: String,
    /// Up to 1024 characters.
    #[oai(validator(min_length = 1, max_length = 1024))]
    pub password: String,
    /// Slug of the tenant; without it, the last used or only one.
    #[serde(default, deserialize_with = "crate::payload::no_null")]
    pub tenant: Option<String>,
    #[serde(default, deserialize_with = "crate::payload::no_null")]
    pub token_delivery: Option<TokenDelivery>,
}

/// A refresh token sent in the body; empty when the cookie carries it.
#[derive(Debug, Object, serde::Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    #[serde(default, deserialize_with = "crate::payload::no_null")]
    pub refresh_token: Option<String>,
}

/// The tenant to act in next, and the session's refresh token (in the body,
/// or the cookie when it is empty): an access token alone does not open a
/// session.
#[derive(Debug, Object, serde::Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct SwitchTenant {
    /// Slug of a tenant the user belongs to.
    pub tenant: String,
    #[serde(default, deserialize_with = "crate::payload::no_null")]
    pub refresh_token: Option<String>,
}

#[derive(Debug, ApiResponse)]
pub enum SwitchResponse {
    /// A session in the other tenant; the current one has ended. 401 when
    /// the refresh token is missing, not valid or not of the same session.
    #[oai(status = 200)]
    Ok(Json<SessionTokens>, #[oai(header = "Set-Cookie")] Option<String>),
    /// The refresh cookie was sent from an origin that is not allowed.
    #[oai(status = 403)]
    Forbidden(Json<ErrorBody>),
    /// The user belongs to no active tenant of that slug.
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
}

#[derive(Debug, ApiResponse)]
pub enum SessionResponse {
    /// A session: tokens, and the refresh cookie when it is used.
    #[oai(status = 200)]
    Ok(Json<SessionTokens>, #[oai(header = "Set-Cookie")] Option<String>),
    /// Wrong credentials, or an unknown, used or revoked refresh token (the
    /// cookie is cleared).
    #[oai(status = 401)]
    Unauthorized(Json<ErrorBody>, #[oai(header = "Set-Cookie")] Option<String>),
    /// The refresh cookie was sent from an origin that is not allowed.
    #[oai(status = 403)]
    Forbidden(Json<ErrorBody>),
}

#[derive(Debug, ApiResponse)]
pub enum LogoutResponse {
    /// Ended (or already gone); the refresh cookie is cleared.
    #[oai(status = 204)]
    Done(#[oai(header = "Set-Cookie")] String),
    /// The refresh cookie was sent from an origin that is not allowed.
    #[oai(status = 403)]
    Forbidden(Json<ErrorBody>),
}

#[derive(Debug, ApiResponse)]
pub enum LogoutAllResponse {
    /// Every session of the user ended; the refresh cookie is cleared.
    #[oai(status = 204)]
    Done(#[oai(header = "Set-Cookie")] String),
}

#[OpenApi(tag = "ApiTags::Auth")]
impl SignInApi {
    /// Log in
    ///
    /// Answers alike, in status, body and time, for unknown emails and wrong
    /// passwords.
    #[oai(path = "/api/auth/login", method = "post", operation_id = "login")]
    async fn login(&self, req: &Request, body: JsonBody<LoginRequest>) -> Result<SessionResponse, Failure> {
        let state = &self.state;
        let origin = crate::request_meta::origin_of(req, state);
        let LoginRequest { email, password, tenant, token_delivery } = body.0;
        let email = email.trim().to_lowercase();
        let mut problems = Vec::new();
        if email.is_empty() || email.chars().count() > 320 {
            problems.push(FieldProblem::new("email", "must be 1–320 characters"));
        } else if email.chars().any(char::is_control) {
            problems.push(FieldProblem::new("email", "must not contain control characters"));
        }
        if password.is_empty() || password.chars().count() > 1024 {
            problems.push(FieldProblem::new("password", "must be 1–1024 characters"));
        }
        if !problems.is_empty() {
            return Err(ApiError::validation(problems).into());
        }
        // Attempts per address group (all accounts), then failures per
        // account: see `login_guard` for why only failures count there.
        let group = rate_limit::address_group_of(&origin.ip);
        let budget = state.settings.auth.login_limit_per_minute.saturating_mul(3);
        if let Some(retry) = rate_limit::hit_or_refuse(state, &format!("login:ip:{group}"), budget).await? {
            return Err(ApiError::rate_limited(retry).into());
        }
        let attempt = match login_guard::admit(state, &email, &group).await? {
            login_guard::Admission::Go(attempt) => attempt,
            login_guard::Admission::Wait(retry) => return Err(ApiError::rate_limited(retry).into()),
        };
        let account = db::auth::find_account(&state.platform, &email).await?;
        let matches = password::verify_off_thread(password, account.as_ref().map(|a| a.password_hash.clone())).await;
        let account = match account {
            Some(a) if matches && a.verified => a,
            _ => {
                login_guard::failed(state, attempt).await;
                db::auth::record_security_event(&state.platform, "login.failed", &email, &origin).await?;
                return Ok(SessionResponse::Unauthorized(invalid_credentials(), None));
            }
        };
        login_guard::succeeded(state, attempt).await;
        let Some(membership) = crate::auth::session::choose_tenant(state, account.id, tenant.as_deref()).await? else {
            db::auth::record_security_event(&state.platform, "login.no_tenant", &email, &origin).await?;
            return Ok(SessionResponse::Unauthorized(invalid_credentials(), None));
        };
        let delivery = token_delivery.unwrap_or(TokenDelivery::Cookie);
        let opened = crate::auth::session::open(state, account.id, membership, delivery, &origin).await?;
        Ok(SessionResponse::Ok(Json(opened.tokens), opened.cookie))
    }

    /// Refresh the session
    ///
    /// Rotates the refresh token (the `tenantry_refresh` cookie, or
    /// `refresh_token` in the body).
    /// A token used twice within a few seconds (two tabs) yields the same
    /// successor; used again later, it ends the whole session.
    #[oai(path = "/api/auth/refresh", method = "post", operation_id = "refresh")]
    async fn refresh(
        &self,
        req: &Request,
        #[oai(name = "Origin")] origin_header: Header<Option<String>>,
        body: JsonBody<RefreshRequest>,
    ) -> Result<SessionResponse, Failure> {
        let state = &self.state;
        let origin = crate::request_meta::origin_of(req, state);
        let allowed = &state.settings.auth.allowed_origins;
        let scope = state.settings.auth.refresh_cookie;
        let (token, delivery) =
            match cookie::presented(req, scope, body.0.refresh_token, origin_header.0.as_deref(), allowed) {
                Ok(Some(presented)) => presented,
                Ok(None) => return Ok(SessionResponse::Unauthorized(invalid_session(), None)),
                Err(forbidden) => return Ok(SessionResponse::Forbidden(forbidden.body())),
            };
        let group = rate_limit::address_group_of(&origin.ip);
        if let Some(retry) = rate_limit::hit(state, &format!("refresh:ip:{group}"), 120).await {
            return Err(ApiError::rate_limited(retry).into());
        }
        let clear = (delivery == TokenDelivery::Cookie).then(|| scope.clear());
        let Ok(claims) = state.tokens.open_refresh(&token) else {
            return Ok(SessionResponse::Unauthorized(invalid_session(), clear));
        };
        let rotation = match state.refresh.rotate(&state.redis, &claims.id).await {
            Ok(rotation) => rotation,
            Err(err) => return Err(ApiError::unavailable(err).into()),
        };
        match rotation {
            Rotation::Rotated { successor, family, user, tenant }
            | Rotation::Concurrent { successor, family, user, tenant } => {
                let memberships = db::auth::memberships(&state.platform, user).await?;
                let Some(membership) =
                    memberships.into_iter().find(|m| m.tenant == tenant && m.status == TenantStatus::Active)
                else {
                    let _ = state.refresh.revoke_family(&state.redis, family).await;
                    return Ok(SessionResponse::Unauthorized(invalid_session(), clear));
                };
                let refresh = RefreshClaims { id: successor, family };
                let renewed = crate::auth::session::tokens_response(state, user, membership, refresh, delivery)?;
                Ok(SessionResponse::Ok(Json(renewed.tokens), renewed.cookie))
            }
            Rotation::ReuseDetected { family, user, tenant } => {
                tracing::warn!(%family, %user, "refresh token reused: session revoked");
                crate::auth::session::audit(
                    state,
                    tenant,
                    Some(user),
                    "session.reuse_detected",
                    &family.to_string(),
                    &origin,
                )
                .await?;
                Ok(SessionResponse::Unauthorized(invalid_session(), clear))
            }
            Rotation::Unknown => Ok(SessionResponse::Unauthorized(invalid_session(), clear)),
        }
    }

    /// Log out
    ///
    /// Ends the session of the refresh token (the `tenantry_refresh` cookie,
    /// or `refresh_token` in the body).
    #[oai(path = "/api/auth/logout", method = "post", operation_id = "logout")]
    async fn logout(
        &self,
        req: &Request,
        #[oai(name = "Origin")] origin_header: Header<Option<String>>,
        body: JsonBody<RefreshRequest>,
    ) -> Result<LogoutResponse, Failure> {
        let state = &self.state;
        let allowed = &state.settings.auth.allowed_origins;
        let scope = state.settings.auth.refresh_cookie;
        let origin = crate::request_meta::origin_of(req, state);
        let token = match cookie::presented(req, scope, body.0.refresh_token, origin_header.0.as_deref(), allowed) {
            Ok(presented) => presented.map(|(token, _)| token),
            Err(forbidden) => {
                db::auth::record_security_event(&state.platform, "logout.forbidden_origin", "", &origin).await?;
                return Ok(LogoutResponse::Forbidden(forbidden.body()));
            }
        };
        match token.map(|t| state.tokens.open_refresh(&t)) {
            Some(Ok(claims)) => {
                let session = state.refresh.session(&state.redis, claims.family).await;
                if let Err(err) = state.refresh.revoke_family(&state.redis, claims.family).await {
                    return Err(ApiError::unavailable(err).into());
                }
                if let Ok(Some((user, tenant))) = session {
                    crate::auth::session::audit(
                        state,
                        tenant,
                        Some(user),
                        "session.logout",
                        &claims.family.to_string(),
                        &origin,
                    )
                    .await?;
                }
            }
            // A token that is not ours: nothing to end, but worth knowing.
            Some(Err(_)) => {
                db::auth::record_security_event(&state.platform, "logout.invalid_token", "", &origin).await?;
            }
            None => {}
        }
        Ok(LogoutResponse::Done(scope.clear()))
    }

    /// Log out everywhere
    ///
    /// Ends every session of the signed-in user.
    #[oai(path = "/api/auth/logout-all", method = "post", operation_id = "logoutAll")]
    async fn logout_all(&self, req: &Request, auth: BearerAccess) -> Result<LogoutAllResponse, Fail<SignedIn>> {
        let BearerAccess(Caller { user, tenant, .. }) = auth;
        let state = &self.state;
        match state.refresh.revoke_user(&state.redis, user).await {
            Ok(ended) => {
                let origin = crate::request_meta::origin_of(req, state);
                crate::auth::session::audit(
                    state,
                    tenant,
                    Some(user),
                    "session.logout_all",
                    &ended.len().to_string(),
                    &origin,
                )
                .await?;
                Ok(LogoutAllResponse::Done(state.settings.auth.refresh_cookie.clear()))
            }
            Err(err) => Err(ApiError::unavailable(err).into()),
        }
    }

    /// Switch to another of my tenants
    ///
    /// Ends the current session and opens one in the tenant named by slug,
    /// answering with its tokens. Needs the session's refresh token too (the
    /// cookie, or `refresh_token` in the body); the new one is delivered
    /// the same way.
    #[oai(path = "/api/auth/switch-tenant", method = "post", operation_id = "switchTenant")]
    async fn switch_tenant(
        &self,
        req: &Request,
        #[oai(name = "Origin")] origin_header: Header<Option<String>>,
        auth: BearerAccess,
        body: JsonBody<SwitchTenant>,
    ) -> Result<SwitchResponse, Fail<(SignedIn, Body)>> {
        let BearerAccess(caller) = auth;
        let state = &self.state;
        let SwitchTenant { tenant, refresh_token } = body.0;
        let allowed = &state.settings.auth.allowed_origins;
        let scope = state.settings.auth.refresh_cookie;
        let (token, delivery) = match cookie::presented(req, scope, refresh_token, origin_header.0.as_deref(), allowed)
        {
            Ok(Some(presented)) => presented,
            Ok(None) => return Err(session_not_valid().into()),
            Err(forbidden) => return Ok(SwitchResponse::Forbidden(forbidden.body())),
        };
        // The refresh token must be a live one of this very session: used
        // here (a replay revokes the family, as on refresh).
        let Ok(claims) = state.tokens.open_refresh(&token) else {
            return Err(session_not_valid().into());
        };
        if claims.family != caller.session {
            return Err(session_not_valid().into());
        }
        let Some(membership) = crate::auth::session::choose_tenant(state, caller.user, Some(tenant.trim())).await?
        else {
            return Ok(SwitchResponse::NotFound(error_json("not_found", "you belong to no such tenant")));
        };
        match state.refresh.rotate(&state.redis, &claims.id).await {
            Ok(Rotation::Rotated { family, .. } | Rotation::Concurrent { family, .. }) if family == caller.session => {}
            Ok(_) => return Err(session_not_valid().into()),
            Err(err) => return Err(ApiError::unavailable(err).into()),
        }
        // Only the call that ends the session opens the next one: two
        // switches racing with the same tokens get one session, not two.
        match state.refresh.revoke_family(&state.redis, caller.session).await {
            Ok(true) => {}
            Ok(false) => return Err(session_not_valid().into()),
            Err(err) => return Err(ApiError::unavailable(err).into()),
        }
        let origin = crate::request_meta::origin_of(req, state);
        crate::auth::session::audit(
            state,
            caller.tenant,
            Some(caller.user),
            "session.switched_tenant",
            &membership.tenant.to_string(),
            &origin,
        )
        .await?;
        let opened = crate::auth::session::open(state, caller.user, membership, delivery, &origin).await?;
        Ok(SwitchResponse::Ok(Json(opened.tokens), opened.cookie))
    }
}
