//! The console's API client: typed requests to `/api/`, same origin.

pub use model::wire::{DependencyCheck, ErrorBody, Health};

/// Fetches readiness. A 503 still carries the health body (which dependency
/// is down); anything else is an error for the page to show.
pub async fn health() -> Result<Health, String> {
    let response =
        gloo_net::http::Request::get("/api/health").send().await.map_err(|e| format!("network error ({e})"))?;
    match response.status() {
        200 | 503 => response.json::<Health>().await.map_err(|e| format!("unexpected answer ({e})")),
        status => Err(format!("the API answered {status}")),
    }
}

/// A request the API refused (or that never reached it).
#[derive(Clone, Debug, PartialEq)]
pub struct Failure {
    /// The error body's stable code (`network` when there was no answer).
    pub code: String,
    /// The message and any field problems, readable.
    pub message: String,
}

impl Failure {
    fn local(code: &str, message: String) -> Self {
        Self { code: code.into(), message }
    }
}

/// Posts JSON to the API; the answer's JSON body on success (an empty
/// object for 204), or what went wrong.
pub async fn post_json(path: &str, body: &serde_json::Value) -> Result<serde_json::Value, Failure> {
    post_json_as(path, body, None).await
}

/// [`post_json`] with a bearer access token.
pub async fn post_json_as(
    path: &str,
    body: &serde_json::Value,
    access_token: Option<&str>,
) -> Result<serde_json::Value, Failure> {
    let mut request = gloo_net::http::Request::post(path);
    if let Some(token) = access_token {
        request = request.header("Authorization", &format!("Bearer {token}"));
    }
    let request = request.json(body).map_err(|e| Failure::local("network", format!("could not send ({e})")))?;
    let response = request.send().await.map_err(|e| Failure::local("network", format!("network error ({e})")))?;
    if response.status() == 204 {
        return Ok(serde_json::json!({}));
    }
    if response.ok() {
        return response.json().await.map_err(|e| Failure::local("unexpected", format!("unexpected answer ({e})")));
    }
    let ErrorBody { error } =
        response.json().await.map_err(|e| Failure::local("unexpected", format!("unexpected answer ({e})")))?;
    let mut message = error.message;
    for detail in error.details.into_iter().flatten() {
        message.push_str(&format!("; {} {}", detail.field, detail.message));
    }
    Err(Failure { code: error.code, message })
}
