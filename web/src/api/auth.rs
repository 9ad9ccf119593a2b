//! Signing in and out through the [`Client`]: it keeps the access token
//! these routes hand out. Sign-in, refresh and sign-out do not go through
//! the client's renewal, which is built on them.

use super::wire::{RefreshRequest, SwitchTenant};
use super::{http, tabs, ApiError, Client, Credentials, Me, SessionTokens};

impl Client {
    /// `POST /api/auth/login`; the refresh token goes to the cookie.
    pub async fn login(&self, credentials: &Credentials) -> Result<SessionTokens, ApiError> {
        let tokens: SessionTokens = http::post_as("/api/auth/login", credentials, None).await?;
        self.adopt(&tokens);
        Ok(tokens)
    }

    /// `POST /api/auth/refresh` with the cookie: a new access token (and a
    /// rotated cookie), while no other tab of the console refreshes (the
    /// cookie they share rotates). A refusal ends the session the client
    /// held.
    pub async fn refresh(&self) -> Result<SessionTokens, ApiError> {
        tabs::one_at_a_time(tabs::RENEWAL, self.refresh_now()).await
    }

    /// [`refresh`](Self::refresh) for a caller that holds the lock.
    pub(super) async fn refresh_now(&self) -> Result<SessionTokens, ApiError> {
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

    /// `POST /api/auth/logout-all`: ends every session of the user, this
    /// one included.
    pub async fn logout_everywhere(&self) -> Result<(), ApiError> {
        let ended = self.post::<_, ()>("/api/auth/logout-all", &RefreshRequest::default()).await;
        self.forget();
        ended
    }

    /// `POST /api/auth/switch-tenant`: the session moves to the tenant of
    /// `slug` (the old one ends, the cookie rotates, so no other tab may
    /// refresh meanwhile).
    pub async fn switch_tenant(&self, slug: &str) -> Result<SessionTokens, ApiError> {
        let body = SwitchTenant { tenant: slug.to_owned() };
        let tokens: SessionTokens =
            tabs::one_at_a_time(tabs::RENEWAL, self.post("/api/auth/switch-tenant", &body)).await?;
        self.adopt(&tokens);
        Ok(tokens)
    }

    /// `GET /api/auth/me`.
    pub async fn me(&self) -> Result<Me, ApiError> {
        self.get("/api/auth/me").await
    }
}
