//! The API's readiness, which needs no session.

use gloo_net::http::Method;
use model::wire::Health;

use super::{http, ApiError};

/// `GET /api/health`. A 503 still carries the health body (which
/// dependency is down); anything else is an error.
pub async fn health() -> Result<Health, ApiError> {
    let answer = http::send(Method::GET, "/api/health", None, None, &[]).await?;
    match answer.status() {
        503 => answer.json().await.map_err(|e| ApiError::unexpected(Some(503), e)),
        _ => http::read(answer).await,
    }
}
