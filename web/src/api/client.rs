//! The client every page uses: it keeps the access token in memory only
//! (a reload forgets it; the `HttpOnly` refresh cookie, which no script
//! can read, brings a new one) and renews it when it is about to expire or
//! the API answers 401, retrying the request once.

use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;

use gloo_net::http::Method;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{http, ApiError, SessionTokens};

/// Renew this long before the token expires, so that a request does not
/// set out with a token that lapses on its way.
const RENEW_MARGIN_MS: f64 = 30_000.0;

/// Requests to the API as the signed-in user. Cheap to clone: clones share
/// the token.
#[derive(Clone)]
pub struct Client {
    inner: Rc<Inner>,
}

struct Inner {
    access: RefCell<Option<AccessToken>>,
    /// Told when the API refuses to renew a token the client held: the
    /// session has ended (signed out elsewhere, revoked, expired).
    on_session_lost: Box<dyn Fn()>,
}

#[derive(Clone)]
struct AccessToken {
    value: String,
    expires_at_ms: f64,
}

impl AccessToken {
    fn expiring(&self) -> bool {
        now_ms() + RENEW_MARGIN_MS >= self.expires_at_ms
    }
}

fn now_ms() -> f64 {
    sycamore::web::js_sys::Date::now()
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the token itself.
        f.debug_struct("Client").field("has_token", &self.has_token()).finish()
    }
}

impl Client {
    /// A client with no token; `on_session_lost` runs when a held session
    /// cannot be renewed.
    pub fn new(on_session_lost: impl Fn() + 'static) -> Self {
        Self { inner: Rc::new(Inner { access: RefCell::new(None), on_session_lost: Box::new(on_session_lost) }) }
    }

    /// Whether it holds an access token.
    pub fn has_token(&self) -> bool {
        self.inner.access.borrow().is_some()
    }

    /// `GET path`, the answer read as `T`.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ApiError> {
        self.call(Method::GET, path, None).await
    }

    /// `POST path` with `body` as JSON, the answer read as `T` (`()` for a
    /// 204).
    pub async fn post<B: Serialize + ?Sized, T: DeserializeOwned>(&self, path: &str, body: &B) -> Result<T, ApiError> {
        let json = http::to_json(body)?;
        self.call(Method::POST, path, Some(json)).await
    }

    /// `DELETE path`; any answer body is ignored.
    pub async fn delete(&self, path: &str) -> Result<(), ApiError> {
        self.call::<serde::de::IgnoredAny>(Method::DELETE, path, None).await.map(drop)
    }

    async fn call<T: DeserializeOwned>(&self, method: Method, path: &str, body: Option<String>) -> Result<T, ApiError> {
        let mut bearer = self.bearer();
        if self.inner.access.borrow().as_ref().is_some_and(AccessToken::expiring) {
            self.renew(bearer.as_deref()).await?;
            bearer = self.bearer();
        }
        let answer = http::send(method.clone(), path, body.as_deref(), bearer.as_deref()).await?;
        if answer.status() != 401 {
            return http::read(answer).await;
        }
        // One renewal and one retry; a second 401 is the answer. Without
        // a token the cookie may still hold a session (after a reload).
        if self.renew(bearer.as_deref()).await.is_err() {
            return http::read(answer).await;
        }
        let bearer = self.bearer();
        http::read(http::send(method, path, body.as_deref(), bearer.as_deref()).await?).await
    }

    /// A fresh token, unless another request renewed `stale` meanwhile.
    /// Two renewals racing are harmless: the API hands both the same
    /// successor of the refresh token.
    async fn renew(&self, stale: Option<&str>) -> Result<(), ApiError> {
        let current = self.bearer();
        if current.is_some() && current.as_deref() != stale {
            return Ok(());
        }
        self.refresh().await.map(drop)
    }

    fn bearer(&self) -> Option<String> {
        self.inner.access.borrow().as_ref().map(|token| token.value.clone())
    }

    /// Keeps the access token of a session just opened or refreshed.
    pub(super) fn adopt(&self, tokens: &SessionTokens) {
        let expires_at_ms = now_ms() + tokens.expires_in as f64 * 1000.0;
        *self.inner.access.borrow_mut() = Some(AccessToken { value: tokens.access_token.clone(), expires_at_ms });
    }

    /// Drops the access token; true when there was one.
    pub(super) fn forget(&self) -> bool {
        self.inner.access.borrow_mut().take().is_some()
    }

    pub(super) fn session_lost(&self) {
        (self.inner.on_session_lost)();
    }
}
