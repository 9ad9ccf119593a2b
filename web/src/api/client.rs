//! The client every page uses: it keeps the access token in memory only
//! (a reload forgets it; the `HttpOnly` refresh cookie, which no script
//! can read, brings a new one) and renews it when it is about to expire or
//! the API answers 401, retrying the request once. Renewals are one at a
//! time across the console's tabs (they share the cookie): see [`tabs`].

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use gloo_net::http::Method;
use serde::Serialize;

use super::http::Headers;
use super::wire::FromJson;
use super::{http, tabs, ApiError, SessionTokens};

/// An exchange in flight: a 2xx answer's status and body.
type Exchange<'a> = Pin<Box<dyn Future<Output = Result<(u16, String), ApiError>> + 'a>>;

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
    pub async fn get<T: FromJson>(&self, path: &str) -> Result<T, ApiError> {
        self.call(Method::GET, path, None, &[]).await
    }

    /// `POST path` with `body` as JSON, the answer read as `T` (`()` for a
    /// 204).
    pub async fn post<B: Serialize + ?Sized, T: FromJson>(&self, path: &str, body: &B) -> Result<T, ApiError> {
        self.post_with(path, body, &[]).await
    }

    /// [`post`](Self::post) with extra headers (`Idempotency-Key`).
    pub async fn post_with<B: Serialize + ?Sized, T: FromJson>(
        &self,
        path: &str,
        body: &B,
        headers: Headers<'_>,
    ) -> Result<T, ApiError> {
        let json = http::to_json(body)?;
        self.call(Method::POST, path, Some(json), headers).await
    }

    /// `PATCH path` with `body` as JSON and extra headers (`If-Match`).
    pub async fn patch<B: Serialize + ?Sized, T: FromJson>(
        &self,
        path: &str,
        body: &B,
        headers: Headers<'_>,
    ) -> Result<T, ApiError> {
        let json = http::to_json(body)?;
        self.call(Method::PATCH, path, Some(json), headers).await
    }

    /// `DELETE path`; any answer body is ignored.
    pub async fn delete(&self, path: &str) -> Result<(), ApiError> {
        self.call_delete(path, &[]).await
    }

    /// [`delete`](Self::delete) with extra headers (`If-Match`).
    pub async fn call_delete(&self, path: &str, headers: Headers<'_>) -> Result<(), ApiError> {
        self.call::<()>(Method::DELETE, path, None, headers).await
    }

    async fn call<T: FromJson>(
        &self,
        method: Method,
        path: &str,
        body: Option<String>,
        headers: Headers<'_>,
    ) -> Result<T, ApiError> {
        http::decode(self.exchange(method, path, body, headers).await?)
    }

    /// The request and its renewals, for every answer type at once (the
    /// typed part is only [`http::decode`]). Boxed: the typed callers then
    /// hold a pointer, not each a copy of this state machine and its drop.
    fn exchange<'a>(
        &'a self,
        method: Method,
        path: &'a str,
        body: Option<String>,
        headers: Headers<'a>,
    ) -> Exchange<'a> {
        Box::pin(self.exchange_now(method, path, body, headers))
    }

    async fn exchange_now(
        &self,
        method: Method,
        path: &str,
        body: Option<String>,
        headers: Headers<'_>,
    ) -> Result<(u16, String), ApiError> {
        let mut bearer = self.bearer();
        if self.inner.access.borrow().as_ref().is_some_and(AccessToken::expiring) {
            self.renew(bearer.as_deref()).await?;
            bearer = self.bearer();
        }
        let answer = http::send(method.clone(), path, body.as_deref(), bearer.as_deref(), headers).await?;
        if answer.status() != 401 {
            return http::read_body(answer).await;
        }
        // One renewal and one retry; a second 401 is the answer. Without
        // a token the cookie may still hold a session (after a reload).
        if self.renew(bearer.as_deref()).await.is_err() {
            return http::read_body(answer).await;
        }
        let bearer = self.bearer();
        http::read_body(http::send(method, path, body.as_deref(), bearer.as_deref(), headers).await?).await
    }

    /// A fresh token, unless another request renewed `stale` meanwhile
    /// (checked again once this tab holds the renewal lock: the request
    /// that held it before may have renewed it).
    async fn renew(&self, stale: Option<&str>) -> Result<(), ApiError> {
        let renewed = || {
            let current = self.bearer();
            current.is_some() && current.as_deref() != stale
        };
        if renewed() {
            return Ok(());
        }
        tabs::one_at_a_time(tabs::RENEWAL, async {
            if renewed() {
                return Ok(());
            }
            self.refresh_now().await.map(drop)
        })
        .await
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
    pub fn forget(&self) -> bool {
        self.inner.access.borrow_mut().take().is_some()
    }

    pub(super) fn session_lost(&self) {
        (self.inner.on_session_lost)();
    }
}
