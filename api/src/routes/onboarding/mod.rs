//! Getting in without an operator: self-service registration
//! (`registration`: the tenant and its first admin are created once the
//! email is verified, with the password chosen then, by whoever holds the
//! emailed link) and password reset (`reset`). Both answer alike whether or
//! not an account exists for the email, send their links by email (see
//! `emails`), and run on the platform path.

mod registration;
mod reset;

pub use registration::RegistrationApi;
pub use reset::ResetApi;

use poem_openapi::Object;

use crate::error::{ApiError, Body, Fail, Unavailable};

/// The same answer for every email.
#[derive(Debug, Object)]
pub struct RequestAccepted {
    pub message: String,
}

/// The shared statuses of these routes: they read a body and count their
/// requests in Redis (failing closed).
pub(super) type Failure = Fail<(Body, Unavailable)>;

pub(super) fn invalid_token() -> Failure {
    let message = "the link is not valid, was used already or has expired";
    ApiError::refusal(poem::http::StatusCode::BAD_REQUEST, "invalid_token", message).into()
}
