//! Headers every API answer carries whatever serves it (nginx adds its own
//! in front, but the API is also reached directly, in development and from
//! inside the network): `X-Content-Type-Options: nosniff`, and
//! `Cache-Control: no-store` on sign-in and session answers, which carry
//! tokens, so no cache or back-forward store keeps them.

use poem::http::{header, HeaderValue};
use poem::{Endpoint, IntoResponse, Request, Response, Result};

/// Middleware: sets the headers on the answer, errors included.
pub async fn set<E: Endpoint>(next: E, req: Request) -> Result<Response> {
    let carries_tokens = req.uri().path().starts_with("/api/auth/");
    let mut response = next.call(req).await?.into_response();
    let headers = response.headers_mut();
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if carries_tokens || headers.contains_key(header::SET_COOKIE) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    Ok(response)
}
