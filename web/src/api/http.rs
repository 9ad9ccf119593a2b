//! One exchange with the API, with no state: build the request (JSON body,
//! bearer token, same-origin credentials so the refresh cookie goes along),
//! send it, and read the answer as `T` or as an [`ApiError`].

use gloo_net::http::{Method, RequestBuilder, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;
use web_sys::RequestCredentials;

use super::ApiError;

/// Sends one request; an error only when there was no answer.
pub(crate) async fn send(
    method: Method,
    path: &str,
    body: Option<&str>,
    bearer: Option<&str>,
) -> Result<Response, ApiError> {
    let mut builder = RequestBuilder::new(path)
        .method(method)
        .credentials(RequestCredentials::SameOrigin)
        .header("Accept", "application/json");
    if let Some(token) = bearer {
        builder = builder.header("Authorization", &format!("Bearer {token}"));
    }
    let request = match body {
        Some(json) => builder.header("Content-Type", "application/json").body(json),
        None => builder.build(),
    }
    .map_err(ApiError::network)?;
    request.send().await.map_err(ApiError::network)
}

/// The answer's body as `T` on a 2xx (an empty body reads as JSON `null`,
/// so `()` and `Option<_>` fit a 204), else the error it carries.
pub(crate) async fn read<T: DeserializeOwned>(response: Response) -> Result<T, ApiError> {
    let status = response.status();
    let text = response.text().await.map_err(|e| ApiError::unexpected(Some(status), e))?;
    if !(200..300).contains(&status) {
        return Err(ApiError::from_answer(status, &text));
    }
    let json = if text.trim().is_empty() { "null" } else { &text };
    serde_json::from_str(json).map_err(|e| ApiError::unexpected(Some(status), e))
}

pub(crate) fn to_json<B: Serialize + ?Sized>(body: &B) -> Result<String, ApiError> {
    serde_json::to_string(body).map_err(|e| ApiError::unexpected(None, e))
}

/// Posts `body` with `bearer` and nothing else: no stored token, no
/// renewal. For a short-lived session of another account (accepting an
/// invitation as it) that must not touch the console's own.
pub async fn post_as<B: Serialize + ?Sized, T: DeserializeOwned>(
    path: &str,
    body: &B,
    bearer: Option<&str>,
) -> Result<T, ApiError> {
    let json = to_json(body)?;
    read(send(Method::POST, path, Some(&json), bearer).await?).await
}
