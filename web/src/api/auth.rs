//! Signing in and out through the [`Client`]: it keeps the access token
//! these routes hand out. None of them goes through the client's renewal,
//! which is built on them.

use super::wire::RefreshRequest;
use super::{http, ApiError, Client, Credentials, Me, SessionTokens};

impl Client {
    /// `POST /api/auth/login`; the refresh token goes to the cookie.
    pub async fn login(&self, credentials: &Credentials) -> Result<SessionTokens, ApiError> {
        let tokens: SessionTokens = http::post_as("/api/auth/login", credentials, None).await?;
        self.adopt(&tokens);
        Ok(tokens)
    }

    /// `POST /api/auth/refresh` with the cookie: a new access token (and a
    /// rotated cookie). A refusal ends the session the client held.
    pub async fn refresh(&self) -> Result<SessionTokens, ApiError> {
        match http::post_as::<_, SessionTokens>("/api/auth/refresh", &RefreshRequest::default(), None).await {
            Ok(tokens) => {
                self.adopt(&tokens);
                Ok(tokens)
            }
            Err(error @ ApiError::Refused { .. }) => {
                if self.forget() {
                    self.session_lost();
                }
                Err(error)
            }
            // No answer: the session may well be alive; keep what we hold.
            Err(error) => Err(error),
        }
    }

    /// `POST /api/auth/logout`: ends the session of the cookie. The token
    /// is dropped first, so the console is signed out even if the request
    /// fails.
    pub async fn logout(&self) -> Result<(), ApiError> {
        self.forget();
        http::post_as("/api/auth/logout", &RefreshRequest::default(), None).await
    }

    /// `GET /api/auth/me`.
    pub async fn me(&self) -> Result<Me, ApiError> {
        self.get("/api/auth/me").await
    }
}
