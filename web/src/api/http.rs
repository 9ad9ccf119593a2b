//! One exchange with the API, with no state: build the request (JSON body,
//! bearer token, extra headers, same-origin credentials so the refresh
//! cookie goes along), send it, and read the answer as `T` or as an
//! [`ApiError`].

use gloo_net::http::{Method, RequestBuilder, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;
use web_sys::RequestCredentials;

use serde_json::Value;

use super::wire::FromJson;
use super::ApiError;

/// Headers a request adds (`If-Match`, `Idempotency-Key`).
pub type Headers<'a> = &'a [(&'static str, String)];

/// Sends one request; an error only when there was no answer.
pub(crate) async fn send(
    method: Method,
    path: &str,
    body: Option<&str>,
    bearer: Option<&str>,
    headers: Headers<'_>,
) -> Result<Response, ApiError> {
    let mut builder = RequestBuilder::new(path)
        .method(method)
        .credentials(RequestCredentials::SameOrigin)
        .header("Accept", "application/json");
    if let Some(token) = bearer {
        builder = builder.header("Authorization", &format!("Bearer {token}"));
    }
    for (name, value) in headers {
        builder = builder.header(name, value);
    }
    let request = match body {
        Some(json) => builder.header("Content-Type", "application/json").body(json),
        None => builder.build(),
    }
    .map_err(ApiError::network)?;
    request.send().await.map_err(ApiError::network)
}

/// The answer's body as `T` on a 2xx (an empty body reads as JSON `null`,
/// so `()` fits a 204), else the error it carries.
pub(crate) async fn read<T: DeserializeOwned>(response: Response) -> Result<T, ApiError> {
    let (status, text) = read_body(response).await?;
    let json = if text.trim().is_empty() { "null" } else { &text };
    serde_json::from_str(json).map_err(|e| ApiError::unexpected(Some(status), e))
}

/// A 2xx answer's status and body, else the error it carries. Not generic,
/// as [`decode`] is: the console downloads every copy of what is.
pub(crate) async fn read_body(response: Response) -> Result<(u16, String), ApiError> {
    let status = response.status();
    let text = response.text().await.map_err(|e| ApiError::unexpected(Some(status), e))?;
    if !(200..300).contains(&status) {
        return Err(ApiError::from_answer(status, &text));
    }
    Ok((status, text))
}

/// A 2xx body as `T`.
pub(crate) fn decode<T: FromJson>(answer: (u16, String)) -> Result<T, ApiError> {
    let (status, value) = parse(answer)?;
    T::from_json(&value).ok_or_else(|| ApiError::unexpected(Some(status), "an answer unlike the one expected"))
}

/// A 2xx body as JSON, one copy for every type (an empty body is `null`).
fn parse((status, text): (u16, String)) -> Result<(u16, Value), ApiError> {
    let json = if text.trim().is_empty() { "null" } else { &text };
    serde_json::from_str(json).map(|value| (status, value)).map_err(|e| ApiError::unexpected(Some(status), e))
}

pub(crate) fn to_json<B: Serialize + ?Sized>(body: &B) -> Result<String, ApiError> {
    serde_json::to_string(body).map_err(|e| ApiError::unexpected(None, e))
}

/// Posts `body` with `bearer` and nothing else: no stored token, no
/// renewal. For a short-lived session of another account (accepting an
/// invitation as it) that must not touch the console's own.
pub async fn post_as<B: Serialize + ?Sized, T: FromJson>(
    path: &str,
    body: &B,
    bearer: Option<&str>,
) -> Result<T, ApiError> {
    let json = to_json(body)?;
    decode(read_body(send(Method::POST, path, Some(&json), bearer, &[]).await?).await?)
}
