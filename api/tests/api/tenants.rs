//! Tenant provisioning by platform operators.

use serde_json::json;

use crate::helpers::{spawn_app, OPERATOR_TOKEN};

#[tokio::test]
async fn an_operator_creates_and_lists_tenants() {
    let app = spawn_app().await;
    let response =
        app.operator_post("/api/tenants", json!({ "slug": "acme", "name": "  Acme Corp ", "plan": "team" })).await;
    assert_eq!(response.status(), 201);
    let created: serde_json::Value = response.json().await.unwrap();
    assert_eq!(created["slug"], "acme");
    assert_eq!(created["name"], "Acme Corp");
    assert_eq!(created["plan"], "team");
    assert_eq!(created["status"], "active");

    for i in 0..3 {
        let r = app.operator_post("/api/tenants", json!({ "slug": format!("t{i}"), "name": format!("T{i}") })).await;
        assert_eq!(r.status(), 201);
    }
    let page = |query: String| {
        let app = &app;
        async move {
            let r = app.bearer_get(&format!("/api/tenants{query}"), OPERATOR_TOKEN).await;
            assert_eq!(r.status(), 200);
            r.json::<serde_json::Value>().await.unwrap()
        }
    };
    let first = page("?limit=3".into()).await;
    assert_eq!(first["items"].as_array().unwrap().len(), 3);
    let cursor = first["next"].as_str().expect("a next page").to_owned();
    let second = page(format!("?limit=3&cursor={cursor}")).await;
    assert_eq!(second["items"].as_array().unwrap().len(), 1);
    assert!(second["next"].is_null());
    let mut slugs: Vec<String> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second["items"].as_array().unwrap())
        .map(|t| t["slug"].as_str().unwrap().to_owned())
        .collect();
    slugs.sort();
    assert_eq!(slugs, ["acme", "t0", "t1", "t2"]);
}

#[tokio::test]
async fn a_taken_slug_is_409_without_details() {
    let app = spawn_app().await;
    assert_eq!(app.operator_post("/api/tenants", json!({ "slug": "dup", "name": "One" })).await.status(), 201);
    let body = crate::helpers::assert_error(
        app.operator_post("/api/tenants", json!({ "slug": "dup", "name": "Two" })).await,
        409,
        "conflict",
    )
    .await;
    assert!(body["error"]["details"].is_null());
}

#[tokio::test]
async fn operator_actions_and_refused_operator_tokens_reach_the_security_log() {
    use sqlx::Connection;
    let app = spawn_app().await;
    assert_eq!(app.operator_post("/api/tenants", json!({ "slug": "acme", "name": "Acme" })).await.status(), 201);
    let guessed = "a-guessed-operator-token-0123456789abcdef";
    let refused = app.bearer_post("/api/tenants", guessed, json!({ "slug": "evil", "name": "Evil" })).await;
    assert_eq!(refused.status(), 401);
    let mut conn = sqlx::PgConnection::connect(&app.db.superuser_url).await.unwrap();
    let events: Vec<(String, String)> =
        sqlx::query_as("SELECT event, subject FROM security_log WHERE event LIKE 'operator.%' ORDER BY created_at")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[0].0, "operator.tenant_created");
    assert!(events[0].1.ends_with(":acme"), "{events:?}");
    assert_eq!(events[1], ("operator.token_refused".to_owned(), "/api/tenants".to_owned()));
}
