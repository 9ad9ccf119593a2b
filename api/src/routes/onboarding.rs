//! Getting in without an operator: self-service registration (the tenant
//! and its first admin are created once the email is verified, with the
//! password chosen then, by whoever holds the emailed link) and password
//! reset. Both answer alike whether or not an account exists for the email,
//! and send their links by email (see `mail`). Everything here runs on the
//! platform path.

use poem::Request;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

use super::ApiTags;
use crate::auth::email_token;
use crate::auth::session::membership_view;
use crate::auth::session::TenantMembership;
use crate::emails;
use crate::error::{ApiError, Body, ErrorBody, Fail, FieldProblem, Unavailable};
use crate::mail::normalize_address;
use crate::payload::JsonBody;
use crate::request_meta::origin_of;
use crate::state::AppState;
use crate::{password, rate_limit};

#[derive(Debug)]
pub struct OnboardingApi {
    pub state: AppState,
}

/// A new account and the tenant it will run. No password: it is chosen
/// when the emailed link is followed, so registering someone else's address
/// gives nobody an account there.
#[derive(Debug, Object, serde::Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct Registration {
    /// An email address (at most 254 characters). The pattern covers what
    /// clients should send; other RFC 5322 dot-atom addresses are accepted too.
    #[oai(validator(
        min_length = 3,
        max_length = 254,
        pattern = r"^([A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,64}|[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,31}\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,32}|[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,20}\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,20}\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,21})@[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?){0,3}$"
    ))]
    pub email: String,
    /// Up to 200 characters, no control characters.
    #[serde(default, deserialize_with = "crate::payload::no_null")]
    #[oai(validator(max_length = 200, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$"))]
    pub display_name: Option<String>,
    /// The tenant's name, 1–200 characters, no control characters.
    #[oai(validator(
        max_length = 200,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    ))]
    pub tenant_name: String,
    /// The tenant's slug: lowercase letters, digits and inner hyphens, 1–63.
    #[oai(validator(max_length = 63, pattern = r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"))]
    pub tenant_slug: String,
}

/// The token of a verification email, and the password of the new account.
#[derive(Debug, Object, serde::Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct VerifyEmail {
    /// The code of the email (64 hex characters).
    #[oai(validator(pattern = r"^[0-9a-f]{64}$"))]
    pub token: String,
    /// 8–128 characters, not among the 10,000 most common passwords.
    #[oai(validator(min_length = 8, max_length = 128))]
    pub password: String,
}

/// Who forgot their password.
#[derive(Debug, Object, serde::Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct ForgotPassword {
    /// An email address (at most 254 characters). The pattern covers what
    /// clients should send; other RFC 5322 dot-atom addresses are accepted too.
    #[oai(validator(
        min_length = 3,
        max_length = 254,
        pattern = r"^([A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,64}|[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,31}\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,32}|[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,20}\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,20}\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,21})@[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?){0,3}$"
    ))]
    pub email: String,
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
    #[oai(validator(min_length = 8, max_length = 128))]
    pub new_password: String,
}

/// The same answer for every email.
#[derive(Debug, Object)]
pub struct RequestAccepted {
    pub message: String,
}

/// The account and tenant a verified registration created.
#[derive(Debug, Object)]
pub struct Registered {
    pub user_id: Uuid,
    pub email: String,
    /// The new tenant; the user is its admin. Sign in to use it.
    pub tenant: TenantMembership,
}

#[derive(Debug, ApiResponse)]
pub enum RegisterResponse {
    /// Taken into account; an email is on its way (a verification link, or
    /// for an address that has an account already, a notice).
    #[oai(status = 202)]
    Accepted(Json<RequestAccepted>),
    /// Self-service registration is turned off here.
    #[oai(status = 403)]
    Forbidden(Json<ErrorBody>),
    /// The tenant slug is taken.
    #[oai(status = 409)]
    Conflict(Json<ErrorBody>),
}

#[derive(Debug, ApiResponse)]
pub enum VerifyResponse {
    /// The account and its tenant exist now. 400 (`invalid_token`) when the
    /// token is malformed, unknown, used or expired.
    #[oai(status = 201)]
    Created(Json<Registered>),
    /// The email or the slug was taken since the registration.
    #[oai(status = 409)]
    Conflict(Json<ErrorBody>),
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

/// The shared statuses of these routes: they read a body and count their
/// requests in Redis (failing closed).
type Failure = Fail<(Body, Unavailable)>;

fn invalid_token() -> Failure {
    let message = "the link is not valid, was used already or has expired";
    ApiError::refusal(poem::http::StatusCode::BAD_REQUEST, "invalid_token", message).into()
}

#[OpenApi(tag = "ApiTags::Auth")]
impl OnboardingApi {
    /// Register an account and a tenant
    ///
    /// Answers 202 alike whether or not the email has an account. An email
    /// follows: a verification link (`POST /api/auth/verify-email` with its
    /// token creates the account, the tenant and the admin membership), or,
    /// for an address that has an account, a notice. Off when
    /// `APP_REGISTRATION_ENABLED` is false.
    #[oai(path = "/api/auth/register", method = "post", operation_id = "register")]
    async fn register(&self, req: &Request, body: JsonBody<Registration>) -> Result<RegisterResponse, Failure> {
        let state = &self.state;
        if !state.settings.onboarding.registration_enabled {
            return Ok(RegisterResponse::Forbidden(ErrorBody::json(
                "registration_disabled",
                "self-service registration is turned off; ask an operator for a tenant",
            )));
        }
        let origin = origin_of(req, state);
        let Registration { email, display_name, tenant_name, tenant_slug } = body.0;
        rate_limit::per_address(state, "register", &origin.ip).await?;
        let display_name = display_name.unwrap_or_default().trim().to_owned();
        let tenant_name = tenant_name.trim().to_owned();
        let tenant_slug = tenant_slug.trim().to_owned();
        let mut problems = Vec::new();
        let email = normalize_address(&email);
        if email.is_none() {
            problems.push(FieldProblem::new("email", "is not an email address"));
        }
        if let Some(problem) = crate::payload::name_problem(&display_name, false) {
            problems.push(FieldProblem::new("display_name", problem));
        }
        if let Some(problem) = crate::payload::name_problem(&tenant_name, true) {
            problems.push(FieldProblem::new("tenant_name", problem));
        }
        if !crate::payload::valid_slug(&tenant_slug) {
            problems.push(FieldProblem::new("tenant_slug", "must be 1–63 lowercase letters, digits or inner hyphens"));
        }
        let (Some(email), true) = (email, problems.is_empty()) else {
            return Err(ApiError::validation(problems).into());
        };
        let accepted = || {
            RegisterResponse::Accepted(Json(RequestAccepted {
                message: "if the address can be registered, a verification email is on its way".into(),
            }))
        };
        if !emails::may_send(state, "register", &email).await? {
            return Ok(accepted());
        }
        let token = email_token::generate();
        let ttl = state.settings.onboarding.verification_ttl;
        let outcome = db::onboarding::register(
            &state.platform,
            &db::onboarding::NewRegistration {
                token: &token.token,
                email: &email,
                display_name: &display_name,
                tenant_slug: &tenant_slug,
                tenant_name: &tenant_name,
                ttl,
            },
        )
        .await?;
        let message = match outcome {
            db::onboarding::Registration::SlugTaken => {
                return Ok(RegisterResponse::Conflict(ErrorBody::json(
                    "slug_taken",
                    "the tenant slug is not available; choose another",
                )))
            }
            db::onboarding::Registration::Pending => {
                emails::verification(state, &email, &tenant_name, &token.token, ttl)
            }
            db::onboarding::Registration::KnownEmail => emails::already_registered(state, &email),
        };
        state.mailer.send_later(message);
        db::auth::record_security_event(&state.platform, "registration.requested", &email, &origin).await?;
        Ok(accepted())
    }

    /// Verify an email and create the registered tenant
    ///
    /// Uses the token of a registration email, once, and sets the password
    /// of the new account: whoever holds the link chooses it.
    #[oai(path = "/api/auth/verify-email", method = "post", operation_id = "verifyEmail")]
    async fn verify_email(&self, req: &Request, body: JsonBody<VerifyEmail>) -> Result<VerifyResponse, Failure> {
        let state = &self.state;
        let origin = origin_of(req, state);
        rate_limit::per_address(state, "verify", &origin.ip).await?;
        let VerifyEmail { token, password } = body.0;
        if let Some(problem) = password::weakness(&password) {
            return Err(ApiError::validation(vec![FieldProblem::new("password", problem)]).into());
        }
        let Some(token) = email_token::parse(&token) else {
            return Err(invalid_token());
        };
        let hash = password::hash_off_thread(password).await.map_err(ApiError::internal)?;
        // Two registrations of one email (or slug) verified at the same
        // moment: the second meets the unique key.
        let outcome = match db::onboarding::verify(&state.platform, token, &hash).await {
            Err(db::DbError::Conflict) => db::onboarding::Verification::EmailTaken,
            other => other?,
        };
        match outcome {
            db::onboarding::Verification::Created { user, tenant, slug, name } => {
                crate::auth::session::audit(
                    state,
                    tenant,
                    Some(user),
                    "registration.verified",
                    &user.to_string(),
                    &origin,
                )
                .await?;
                let email = db::auth::profile(&state.platform, user).await?.map(|(email, _)| email).unwrap_or_default();
                tracing::info!(tenant_id = %tenant, slug = %slug, "tenant registered");
                let membership =
                    db::auth::MembershipView { tenant, slug, name, status: "active".into(), role: "admin".into() };
                Ok(VerifyResponse::Created(Json(Registered {
                    user_id: user.as_uuid(),
                    email,
                    tenant: membership_view(membership),
                })))
            }
            db::onboarding::Verification::Invalid => Err(invalid_token()),
            db::onboarding::Verification::EmailTaken => Ok(VerifyResponse::Conflict(ErrorBody::json(
                "email_taken",
                "this email or the tenant slug was taken meanwhile; sign in, or register again",
            ))),
            db::onboarding::Verification::SlugTaken => Ok(VerifyResponse::Conflict(ErrorBody::json(
                "slug_taken",
                "the tenant slug was taken in the meantime; register again with another",
            ))),
        }
    }

    /// Ask for a password reset link
    ///
    /// Answers 202 alike whether or not the email has an account; if it
    /// has, a single-use link valid for 30 minutes is emailed.
    #[oai(path = "/api/auth/password/forgot", method = "post", operation_id = "forgotPassword")]
    async fn forgot(&self, req: &Request, body: JsonBody<ForgotPassword>) -> Result<ForgotResponse, Failure> {
        let state = &self.state;
        let origin = origin_of(req, state);
        rate_limit::per_address(state, "forgot", &origin.ip).await?;
        let Some(email) = normalize_address(&body.0.email) else {
            return Err(ApiError::validation(vec![FieldProblem::new("email", "is not an email address")]).into());
        };
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
        if let Some(problem) = password::weakness(&new_password) {
            return Err(ApiError::validation(vec![FieldProblem::new("new_password", problem)]).into());
        }
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
        let hash = password::hash_off_thread(new_password).await.map_err(ApiError::internal)?;
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
