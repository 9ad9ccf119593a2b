//! Password reset: ask for a link (answered alike for every email), then
//! set a new password with it; every session of the user ends.

use poem::Request;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::{invalid_token, Failure, RequestAccepted};
use crate::auth::email_token;
use crate::domain::{EmailAddress, NewPassword};
use crate::emails;
use crate::error::ApiError;
use crate::payload::JsonBody;
use crate::request_meta::origin_of;
use crate::routes::ApiTags;
use crate::state::AppState;
use crate::{password, rate_limit};

#[derive(Debug)]
pub struct ResetApi {
    pub state: AppState,
}

/// Who forgot their password.
#[derive(Debug, Object, serde::Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct ForgotPassword {
    /// An email address (at most 254 characters). The pattern covers what
    /// clients should send; other RFC 5322 dot-atom addresses are accepted too.
    pub email: EmailAddress,
}

/// A reset token and the new password.
#[derive(Debug, Object, serde::Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct ResetPassword {
    /// The code of the email (64 hex characters).
    #[oai(validator(pattern = r"^[0-9a-f]{64}$"))]
    pub token: String,
    /// 8–128 characters, not among the 10,000 most common passwords.
    pub new_password: NewPassword,
}

#[derive(Debug, ApiResponse)]
pub enum ForgotResponse {
    /// Taken into account; if the email has an account, a reset link is on
    /// its way.
    #[oai(status = 202)]
    Accepted(Json<RequestAccepted>),
}

#[derive(Debug, ApiResponse)]
pub enum ResetResponse {
    /// The password is set; every session of the user has ended. 400
    /// (`invalid_token`) when the token is malformed, unknown, used or
    /// expired.
    #[oai(status = 204)]
    Done,
}

#[OpenApi(tag = "ApiTags::Auth")]
impl ResetApi {
    /// Ask for a password reset link
    ///
    /// Answers 202 alike whether or not the email has an account; if it
    /// has, a single-use link valid for 30 minutes is emailed.
    #[oai(path = "/api/auth/password/forgot", method = "post", operation_id = "forgotPassword")]
    async fn forgot(&self, req: &Request, body: JsonBody<ForgotPassword>) -> Result<ForgotResponse, Failure> {
        let state = &self.state;
        let origin = origin_of(req, state);
        rate_limit::per_address(state, "forgot", &origin.ip).await?;
        let email = body.0.email;
        let accepted = || {
            ForgotResponse::Accepted(Json(RequestAccepted {
                message: "if the address has an account, a reset link is on its way".into(),
            }))
        };
        if !emails::may_send(state, "forgot", &email).await? {
            return Ok(accepted());
        }
        let token = email_token::generate();
        let ttl = state.settings.onboarding.reset_ttl;
        if db::onboarding::start_password_reset(&state.platform, &token.token, &email, ttl).await?.is_some() {
            state.mailer.send_later(emails::password_reset(state, &email, &token.token, ttl));
        }
        db::auth::record_security_event(&state.platform, "password.reset_requested", &email, &origin).await?;
        Ok(accepted())
    }

    /// Set a new password with a reset link
    ///
    /// Uses the token once; every session of the user ends.
    #[oai(path = "/api/auth/password/reset", method = "post", operation_id = "resetPassword")]
    async fn reset(&self, req: &Request, body: JsonBody<ResetPassword>) -> Result<ResetResponse, Failure> {
        let state = &self.state;
        let origin = origin_of(req, state);
        rate_limit::per_address(state, "reset", &origin.ip).await?;
        let ResetPassword { token, new_password } = body.0;
        let Some(token) = email_token::parse(&token) else {
            return Err(invalid_token());
        };
        let Some(user) = db::onboarding::password_reset_user(&state.platform, token).await? else {
            return Err(invalid_token());
        };
        // Sessions end before the password changes: if Redis fails, nothing
        // has changed and the same link can be used again.
        let mut ended = match state.refresh.revoke_user(&state.redis, user).await {
            Ok(ended) => ended.len(),
            Err(err) => return Err(ApiError::unavailable(err).into()),
        };
        let hash = password::hash_off_thread(new_password.into_inner()).await.map_err(ApiError::internal)?;
        let Some(user) = db::onboarding::finish_password_reset(&state.platform, token, &hash).await? else {
            return Err(invalid_token());
        };
        // And once more for a session opened with the old password meanwhile.
        match state.refresh.revoke_user(&state.redis, user).await {
            Ok(more) => ended += more.len(),
            Err(err) => {
                tracing::error!(error = %err, %user, "password reset: sessions opened during the reset not revoked");
                let message = "the password is changed, but sessions opened in the last moments could not be \
                               ended; sign in and sign out everywhere";
                return Err(
                    ApiError::refusal(poem::http::StatusCode::SERVICE_UNAVAILABLE, "unavailable", message).into()
                );
            }
        }
        for membership in db::auth::memberships(&state.platform, user).await? {
            crate::auth::session::audit(
                state,
                membership.tenant,
                Some(user),
                "password.reset",
                &ended.to_string(),
                &origin,
            )
            .await?;
        }
        db::auth::record_security_event(&state.platform, "password.reset", &user.to_string(), &origin).await?;
        Ok(ResetResponse::Done)
    }
}
