//! The console's API client: typed requests to `/api/`, same origin.

use serde::Deserialize;

/// `GET /api/health`, as the API documents it.
#[derive(Clone, Debug, Deserialize)]
pub struct Health {
    pub status: String,
    pub version: String,
    pub uptime_seconds: u64,
    pub migration_version: Option<i64>,
    pub checks: Checks,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Checks {
    pub database: Check,
    pub redis: Check,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Check {
    pub status: String,
    pub latency_ms: f64,
    pub error: Option<String>,
}

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

/// Posts JSON to the API; the answer's JSON body on success (an empty
/// object for 204), or the error's message and field problems, readable.
pub async fn post_json(path: &str, body: &serde_json::Value) -> Result<serde_json::Value, String> {
    let request = gloo_net::http::Request::post(path).json(body).map_err(|e| format!("could not send ({e})"))?;
    let response = request.send().await.map_err(|e| format!("network error ({e})"))?;
    if response.status() == 204 {
        return Ok(serde_json::json!({}));
    }
    let answer: serde_json::Value = response.json().await.map_err(|e| format!("unexpected answer ({e})"))?;
    if response.ok() {
        return Ok(answer);
    }
    let error = &answer["error"];
    let mut message = error["message"].as_str().unwrap_or("the request failed").to_owned();
    for detail in error["details"].as_array().into_iter().flatten() {
        message.push_str(&format!(
            "; {} {}",
            detail["field"].as_str().unwrap_or_default(),
            detail["message"].as_str().unwrap_or_default()
        ));
    }
    Err(message)
}
