//! Self-service registration: register an account and a tenant, then
//! verify the email (and choose the password) with the emailed link.

use poem::Request;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::{invalid_token, Failure, RequestAccepted};
use crate::auth::email_token;
use crate::auth::session::{membership_view, TenantMembership};
use crate::domain::{DisplayName, EmailAddress, NewPassword, Role, Slug, TenantName, TenantStatus, UserId};
use crate::emails;
use crate::error::{error_json, ApiError, ErrorBody};
use crate::payload::JsonBody;
use crate::request_meta::origin_of;
use crate::routes::ApiTags;
use crate::state::AppState;
use crate::{password, rate_limit};

#[derive(Debug)]
pub struct RegistrationApi {
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
    pub email: EmailAddress,
    /// Up to 200 characters, no control characters.
    #[serde(default, deserialize_with = "crate::payload::no_null")]
    pub display_name: Option<DisplayName>,
    /// The tenant's name, 1–200 characters, no control characters.
    pub tenant_name: TenantName,
    /// The tenant's slug: lowercase letters, digits and inner hyphens, 1–63.
    pub tenant_slug: Slug,
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
    pub password: NewPassword,
}

/// The account and tenant a verified registration created.
#[derive(Debug, Object)]
pub struct Registered {
    pub user_id: UserId,
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

#[OpenApi(tag = "ApiTags::Auth")]
impl RegistrationApi {
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
            return Ok(RegisterResponse::Forbidden(error_json(
                "registration_disabled",
                "self-service registration is turned off; ask an operator for a tenant",
            )));
        }
        let origin = origin_of(req, state);
        let Registration { email, display_name, tenant_name, tenant_slug } = body.0;
        rate_limit::per_address(state, "register", &origin.ip).await?;
        let display_name = display_name.unwrap_or_default();
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
                return Ok(RegisterResponse::Conflict(error_json(
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
        let Some(token) = email_token::parse(&token) else {
            return Err(invalid_token());
        };
        let hash = password::hash_off_thread(password.into_inner()).await.map_err(ApiError::internal)?;
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
                    db::auth::MembershipView { tenant, slug, name, status: TenantStatus::Active, role: Role::Admin };
                Ok(VerifyResponse::Created(Json(Registered {
                    user_id: user,
                    email,
                    tenant: membership_view(membership),
                })))
            }
            db::onboarding::Verification::Invalid => Err(invalid_token()),
            db::onboarding::Verification::EmailTaken => Ok(VerifyResponse::Conflict(error_json(
                "email_taken",
                "this email or the tenant slug was taken meanwhile; sign in, or register again",
            ))),
            db::onboarding::Verification::SlugTaken => Ok(VerifyResponse::Conflict(error_json(
                "slug_taken",
                "the tenant slug was taken in the meantime; register again with another",
            ))),
        }
    }
}
