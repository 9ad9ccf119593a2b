//! Caps request bodies. poem's `SizeLimit` demands a `Content-Length` on every
//! request (GETs included) and cannot see chunked bodies; this reads every
//! body through the limit, whether or not a length was announced, and
//! answers 413 past it.

use poem::http::header;
use poem::{Body, Endpoint, IntoResponse, Request, Response, Result};

/// Middleware: buffers the body up to `max_bytes`.
pub async fn limit<E: Endpoint>(next: E, mut req: Request, max_bytes: usize) -> Result<Response> {
    let announced =
        req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|len| len > max_bytes as u64) {
        return Err(too_large());
    }
    // Read through the cap whatever the headers say: an HTTP/2 body may
    // come with neither Content-Length nor Transfer-Encoding.
    let bytes = req.take_body().into_bytes_limit(max_bytes).await.map_err(|err| match err {
        poem::error::ReadBodyError::PayloadTooLarge => too_large(),
        other => other.into(),
    })?;
    req.set_body(Body::from_bytes(bytes));
    next.call(req).await.map(IntoResponse::into_response)
}

fn too_large() -> poem::Error {
    poem::Error::from_status(poem::http::StatusCode::PAYLOAD_TOO_LARGE)
}
