//! Every failure answers in the one JSON shape with the request id.

use api::domain::Role;
use serde_json::json;

use crate::helpers::{assert_error, dead_port, spawn_app, spawn_app_with, OPERATOR_TOKEN};

#[tokio::test]
async fn an_unknown_route_is_404() {
    let app = spawn_app().await;
    assert_error(app.get("/api/no-such-thing").await, 404, "not_found").await;
    assert_error(app.get("/nothing-here").await, 404, "not_found").await;
}

#[tokio::test]
async fn a_wrong_method_is_405() {
    let app = spawn_app().await;
    let response = app.client.delete(app.url("/api/health")).send().await.unwrap();
    assert_error(response, 405, "method_not_allowed").await;
}

#[tokio::test]
async fn an_oversized_body_is_413_announced_or_not() {
    let app = spawn_app_with(vec![("APP_MAX_BODY_BYTES", Some("4096".into()))]).await;
    let big = json!({ "slug": "big", "name": "x".repeat(10_000) });
    assert_error(app.operator_post("/api/tenants", big.clone()).await, 413, "payload_too_large").await;
    // Chunked, with no Content-Length to trust.
    let chunks = futures_chunks(serde_json::to_vec(&big).unwrap());
    let response = app
        .client
        .post(app.url("/api/tenants"))
        .bearer_auth(OPERATOR_TOKEN)
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .unwrap();
    assert_error(response, 413, "payload_too_large").await;
}

fn futures_chunks(bytes: Vec<u8>) -> impl futures_core::Stream<Item = Result<Vec<u8>, std::io::Error>> {
    let pieces: Vec<Result<Vec<u8>, std::io::Error>> = bytes.chunks(1000).map(|c| Ok(c.to_vec())).collect();
    tokio_stream::iter(pieces)
}

#[tokio::test]
async fn a_body_that_is_not_json_is_415() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/api/tenants"))
        .bearer_auth(OPERATOR_TOKEN)
        .header("content-type", "text/plain")
        .body("slug=acme")
        .send()
        .await
        .unwrap();
    assert_error(response, 415, "unsupported_media_type").await;
}

#[tokio::test]
async fn validation_failures_are_400_and_name_the_fields() {
    let app = spawn_app().await;
    let cases = [
        (json!({ "name": "Acme" }), "slug"),
        (json!({ "slug": 42, "name": "Acme" }), "slug"),
        (json!({ "slug": "acme", "name": "Acme", "tenant_id": "x" }), "tenant_id"),
        (json!({ "slug": "acme", "name": "Acme", "plan": "platinum" }), "plan"),
        (json!({ "slug": "-acme-", "name": "Acme" }), "slug"),
        (json!({ "slug": "acme", "name": "" }), "name"),
    ];
    for (body, field) in cases {
        let error = assert_error(app.operator_post("/api/tenants", body.clone()).await, 400, "validation_failed").await;
        let fields: Vec<&str> =
            error["error"]["details"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap()).collect();
        assert_eq!(fields, [field], "for {body}");
    }
    let error =
        assert_error(app.bearer_get("/api/tenants?limit=0", OPERATOR_TOKEN).await, 400, "validation_failed").await;
    assert_eq!(error["error"]["details"][0]["field"], "limit");
    let malformed = app
        .client
        .post(app.url("/api/tenants"))
        .bearer_auth(OPERATOR_TOKEN)
        .header("content-type", "application/json")
        .body("{\"slug\": ")
        .send()
        .await
        .unwrap();
    let error = assert_error(malformed, 400, "validation_failed").await;
    assert_eq!(error["error"]["details"][0]["field"], "body");
}

#[tokio::test]
async fn a_missing_or_wrong_operator_token_is_401() {
    let app = spawn_app().await;
    assert_error(app.get("/api/tenants").await, 401, "unauthenticated").await;
    assert_error(app.bearer_get("/api/tenants", "not-the-token").await, 401, "unauthenticated").await;
    // The token is checked before the body: a wrong token learns nothing
    // about what the body should look like.
    let response = app.bearer_post("/api/tenants", "not-the-token", json!({ "unexpected": true })).await;
    assert_error(response, 401, "unauthenticated").await;
}

#[tokio::test]
async fn too_many_requests_is_429_with_retry_after() {
    let app = spawn_app_with(vec![("APP_RATE_LIMIT_PER_MINUTE", Some("5".into()))]).await;
    crate::helpers::wait_for_fresh_rate_window().await;
    for _ in 0..5 {
        assert_eq!(app.get("/api/health").await.status(), 200);
    }
    let response = app.get("/api/health").await;
    let retry_after: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after));
    assert_error(response, 429, "rate_limited").await;
    // Liveness is outside /api/ and never limited.
    assert_eq!(app.get("/").await.status(), 200);
}

#[tokio::test]
async fn an_internal_error_is_500_with_a_request_id_and_no_internals() {
    let url = format!("postgres://app:secret-password@127.0.0.1:{}/appdb", dead_port());
    let platform_url = format!("postgres://app_platform:secret-password@127.0.0.1:{}/appdb", dead_port());
    let app = spawn_app_with(vec![
        ("DATABASE_URL", Some(url)),
        ("PLATFORM_DATABASE_URL", Some(platform_url)),
        ("DATABASE_ACQUIRE_TIMEOUT_MS", Some("500".into())),
    ])
    .await;
    let response = app.operator_post("/api/tenants", json!({ "slug": "acme", "name": "Acme" })).await;
    let body = assert_error(response, 500, "internal").await;
    let text = body.to_string().to_lowercase();
    for leak in ["sql", "postgres", "connection", "secret", "127.0.0.1", "panicked", ".rs"] {
        assert!(!text.contains(leak), "`{leak}` leaked in {text}");
    }
}

#[tokio::test]
async fn a_well_formed_request_id_is_kept_and_echoed() {
    let app = spawn_app().await;
    let response = app.client.get(app.url("/api/nope")).header("x-request-id", "edge-1234").send().await.unwrap();
    assert_eq!(response.headers()["x-request-id"], "edge-1234");
    let body = assert_error(response, 404, "not_found").await;
    assert_eq!(body["error"]["request_id"], "edge-1234");
    let response = app.client.get(app.url("/")).header("x-request-id", "bad id with spaces").send().await.unwrap();
    assert_ne!(response.headers()["x-request-id"], "bad id with spaces");
}

#[tokio::test]
async fn cors_answers_listed_origins_only() {
    let app = spawn_app_with(vec![("APP_ALLOWED_ORIGINS", Some("https://console.example".into()))]).await;
    let preflight = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/api/auth/login"))
        .header("origin", "https://console.example")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 204);
    let h = preflight.headers();
    assert_eq!(h["access-control-allow-origin"], "https://console.example");
    assert_eq!(h["access-control-allow-credentials"], "true");
    assert!(h["access-control-allow-methods"].to_str().unwrap().contains("POST"));

    // Error responses carry the headers too, so the console can read them.
    let listed = app.client.get(app.url("/api/nope")).header("origin", "https://console.example").send().await.unwrap();
    assert_eq!(listed.headers()["access-control-allow-origin"], "https://console.example");
    assert!(listed.headers()["access-control-expose-headers"].to_str().unwrap().contains("x-request-id"));

    let foreign = app.client.get(app.url("/api/health")).header("origin", "https://evil.example").send().await.unwrap();
    assert_eq!(foreign.status(), 200, "not refused, only not shared");
    assert!(!foreign.headers().contains_key("access-control-allow-origin"));
    let foreign_preflight = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/api/auth/login"))
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(!foreign_preflight.headers().contains_key("access-control-allow-origin"));
}

/// Text that PostgreSQL cannot store (a NUL) is a validation error wherever
/// it is sent, never a 500.
#[tokio::test]
async fn control_characters_are_refused_before_they_reach_the_database() {
    let app = spawn_app().await;
    let token = app.sign_in_as(Role::Admin).await.token;
    let login = app.post("/api/auth/login", json!({ "email": "a\u{0}@acme.test", "password": "x" })).await;
    assert_error(login, 400, "validation_failed").await;
    let key = app.bearer_post("/api/api-keys", &token, json!({ "name": "ci\u{0}", "role": "viewer" })).await;
    assert_error(key, 400, "validation_failed").await;
    let audit = app.bearer_get("/api/audit?action=login%00", &token).await;
    assert_error(audit, 400, "validation_failed").await;
}
