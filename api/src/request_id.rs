//! Gives every request an id: taken from a well-formed `X-Request-Id` (so
//! nginx's id carries through) or generated. The id is on the response
//! header, in every error body, and on every log line of the request through
//! the request span.

use std::time::Instant;

use poem::http::HeaderValue;
use poem::{Endpoint, IntoResponse, Request, Response, Result};
use tracing::Instrument;

pub const HEADER: &str = "x-request-id";

tokio::task_local! {
    static CURRENT: String;
}

/// The id of the request being served, if called within one.
pub fn current() -> Option<String> {
    CURRENT.try_with(Clone::clone).ok()
}

fn accept(incoming: Option<&HeaderValue>) -> Option<String> {
    let value = incoming?.to_str().ok()?;
    let well_formed = !value.is_empty()
        && value.len() <= 64
        && value.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    well_formed.then(|| value.to_owned())
}

/// Middleware: assigns the id, opens the request span, logs the outcome.
pub async fn assign<E: Endpoint>(next: E, req: Request) -> Result<Response> {
    let id = accept(req.headers().get(HEADER)).unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %req.method(),
        path = %req.uri().path(),
    );
    let started = Instant::now();
    let outcome = CURRENT
        .scope(id.clone(), async move { next.call(req).await.map(IntoResponse::into_response) })
        .instrument(span.clone())
        .await;
    let mut response = match outcome {
        Ok(response) => response,
        // The error-shaping middleware sits inside this one; anything that
        // still arrives here is rendered by poem, then tagged below.
        Err(err) => err.into_response(),
    };
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(HEADER, value);
    }
    let _entered = span.enter();
    tracing::info!(
        status = response.status().as_u16(),
        elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
        "request finished"
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_well_formed_incoming_ids_are_kept() {
        let ok = HeaderValue::from_static("abc-123_x.y");
        assert_eq!(accept(Some(&ok)).as_deref(), Some("abc-123_x.y"));
        let spaces = HeaderValue::from_static("a b");
        assert_eq!(accept(Some(&spaces)), None);
        let long = HeaderValue::from_str(&"a".repeat(65)).unwrap();
        assert_eq!(accept(Some(&long)), None);
        assert_eq!(accept(None), None);
    }
}
