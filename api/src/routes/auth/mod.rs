//! Identity routes for people: signing in and out (`sign_in`), one's
//! sessions (`sessions`), one's password (`password`) and who one is
//! (`me`). Registration and resets are in `onboarding`.

mod me;
mod password;
mod sessions;
mod sign_in;

pub use me::MeApi;
pub use password::PasswordApi;
pub use sessions::SessionsApi;
pub use sign_in::{SessionResponse, SignInApi};

use poem_openapi::payload::Json;

use crate::error::{error_json, ApiError, Body, ErrorBody, Fail, Unavailable};

/// Sign-in and refresh read a body and count requests in Redis.
pub(super) type Failure = Fail<(Body, Unavailable)>;

pub(super) fn invalid_credentials() -> Json<ErrorBody> {
    error_json("invalid_credentials", "the email, password or tenant is not valid")
}

pub(super) fn invalid_session() -> Json<ErrorBody> {
    error_json("unauthenticated", "the session is not valid; sign in again")
}

pub(super) fn session_not_valid() -> ApiError {
    ApiError::unauthenticated("the session is not valid; sign in again")
}
