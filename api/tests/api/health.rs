use crate::helpers::{dead_port, spawn_app, spawn_app_with};

#[tokio::test]
async fn readiness_reports_database_redis_and_the_migration_version() {
    let app = spawn_app().await;
    let response = app.get("/api/health").await;
    assert_eq!(response.status(), 200);
    assert!(response.headers().contains_key("x-request-id"));
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["checks"]["database"]["status"], "ok");
    assert_eq!(body["checks"]["redis"]["status"], "ok");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(body["revision"], option_env!("TENANTRY_REVISION").unwrap_or("unknown"));
    assert_eq!(body["migration_version"], db::latest_migration_version());
    assert!(body["uptime_seconds"].as_u64().is_some());
}

#[tokio::test]
async fn readiness_is_503_with_a_body_when_redis_is_down() {
    let app = spawn_app_with(vec![("REDIS_URL", Some(format!("redis://127.0.0.1:{}", dead_port())))]).await;
    let response = app.get("/api/health").await;
    assert_eq!(response.status(), 503);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "unavailable");
    assert_eq!(body["checks"]["redis"]["status"], "error");
    assert_eq!(body["checks"]["database"]["status"], "ok");
}

#[tokio::test]
async fn readiness_is_503_when_the_database_is_down_and_says_nothing_internal() {
    let url = format!("postgres://app:secret-password@127.0.0.1:{}/appdb", dead_port());
    let app = spawn_app_with(vec![("DATABASE_URL", Some(url))]).await;
    let response = app.get("/api/health").await;
    assert_eq!(response.status(), 503);
    let text = response.text().await.unwrap();
    let body: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["checks"]["database"]["status"], "error");
    assert!(body["migration_version"].is_null());
    assert!(!text.contains("secret-password") && !text.contains("127.0.0.1"), "{text}");
}

#[tokio::test]
async fn liveness_needs_no_dependency() {
    let app = spawn_app_with(vec![
        ("REDIS_URL", Some(format!("redis://127.0.0.1:{}", dead_port()))),
        ("DATABASE_URL", Some(format!("postgres://app:pw@127.0.0.1:{}/appdb", dead_port()))),
    ])
    .await;
    let response = app.get("/").await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
}

#[tokio::test]
async fn the_openapi_document_declares_every_status_of_every_route() {
    let app = spawn_app().await;
    let spec: serde_json::Value = app.get("/api/openapi.json").await.json().await.unwrap();
    assert!(spec["openapi"].as_str().unwrap().starts_with("3."));
    let statuses = |path: &str, method: &str| -> Vec<String> {
        let mut s: Vec<String> =
            spec["paths"][path][method]["responses"].as_object().unwrap().keys().cloned().collect();
        s.sort();
        s
    };
    assert_eq!(statuses("/", "get"), ["200"]);
    assert_eq!(statuses("/api/health", "get"), ["200", "429", "500", "503"]);
    assert_eq!(statuses("/api/tenants", "post"), ["201", "400", "401", "409", "413", "415", "429", "500"]);
    assert_eq!(statuses("/api/tenants", "get"), ["200", "400", "401", "429", "500"]);
    for scheme in ["OperatorToken", "BearerToken", "ApiKey"] {
        assert!(spec["components"]["securitySchemes"][scheme].is_object(), "{scheme}");
    }
    assert_eq!(spec["components"]["securitySchemes"]["ApiKey"]["name"], "X-API-Key");
    assert!(spec["components"]["schemas"]["ErrorBody"].is_object());
}

#[tokio::test]
async fn the_interactive_reference_is_served() {
    let app = spawn_app().await;
    let response = app.get("/api/docs").await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains("swagger-ui") || html.contains("SwaggerUI"), "{}", &html[..html.len().min(300)]);
    assert!(html.contains("openapi.json") || html.contains("spec"), "the page points at the spec");
}

#[tokio::test]
async fn readiness_details_go_to_the_internal_network_and_operators_only() {
    let app = spawn_app_with(vec![("APP_TRUSTED_PROXIES", Some("127.0.0.1".into()))]).await;
    let health = |client_ip: Option<&'static str>, operator: bool| {
        let mut request = app.client.get(app.url("/api/health"));
        if let Some(ip) = client_ip {
            request = request.header("x-real-ip", ip);
        }
        if operator {
            request = request.bearer_auth(crate::helpers::OPERATOR_TOKEN);
        }
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 200);
            response.json::<serde_json::Value>().await.unwrap()
        }
    };
    // A client of the public internet, seen through the proxy: the status.
    let public = health(Some("203.0.113.9"), false).await;
    assert_eq!(public, serde_json::json!({ "status": "ok" }));
    // The same client with a wrong bearer: still the status alone.
    let guessed = app
        .client
        .get(app.url("/api/health"))
        .header("x-real-ip", "203.0.113.9")
        .bearer_auth("not-the-operator-token")
        .send()
        .await
        .unwrap();
    assert_eq!(guessed.json::<serde_json::Value>().await.unwrap(), serde_json::json!({ "status": "ok" }));
    // An operator from anywhere, and a probe on the internal network: all.
    for details in [health(Some("203.0.113.9"), true).await, health(None, false).await] {
        assert_eq!(details["checks"]["platform_database"]["status"], "ok", "{details}");
        assert_eq!(details["migration_version"], db::latest_migration_version());
    }
}

/// A JSON value that refuses duplicate keys in any object (a plain
/// `serde_json::Value` would keep the last and hide a status declared twice).
struct NoDuplicateKeys;

impl<'de> serde::Deserialize<'de> for NoDuplicateKeys {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = NoDuplicateKeys;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut seen = std::collections::HashSet::new();
                while let Some(key) = map.next_key::<String>()? {
                    if !seen.insert(key.clone()) {
                        return Err(serde::de::Error::custom(format!("duplicate key `{key}`")));
                    }
                    map.next_value::<NoDuplicateKeys>()?;
                }
                Ok(NoDuplicateKeys)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<NoDuplicateKeys>()?.is_some() {}
                Ok(NoDuplicateKeys)
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(NoDuplicateKeys)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
                Ok(NoDuplicateKeys)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
                Ok(NoDuplicateKeys)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok(NoDuplicateKeys)
            }
            fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
                Ok(NoDuplicateKeys)
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(NoDuplicateKeys)
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

#[tokio::test]
async fn shared_statuses_are_declared_once_on_every_operation_of_their_kind() {
    let app = spawn_app().await;
    let text = app.get("/api/openapi.json").await.text().await.unwrap();
    if let Err(err) = serde_json::from_str::<NoDuplicateKeys>(&text) {
        panic!("the OpenAPI document declares something twice: {err}");
    }
    let spec: serde_json::Value = serde_json::from_str(&text).unwrap();
    let statuses = |path: &str, method: &str| -> Vec<String> {
        let mut s: Vec<String> =
            spec["paths"][path][method]["responses"].as_object().unwrap().keys().cloned().collect();
        s.sort();
        s
    };
    // A tenant operation with a path id, and one with a body.
    assert_eq!(statuses("/api/users/{id}", "delete"), ["204", "400", "401", "403", "404", "409", "429", "500", "503"]);
    assert_eq!(
        statuses("/api/invitations", "post"),
        ["201", "400", "401", "403", "409", "413", "415", "422", "429", "500", "503"]
    );
    // Path ids are UUIDs in the spec, so generated clients send nothing else.
    let id = &spec["paths"]["/api/users/{id}"]["delete"]["parameters"][0];
    assert_eq!((id["name"].as_str(), id["schema"]["format"].as_str()), (Some("id"), Some("uuid")), "{id}");
    // Every operation answers 429 and 500 in the one error shape.
    for (path, operations) in spec["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            if path == "/" {
                continue;
            }
            for status in ["429", "500"] {
                assert!(operation["responses"][status].is_object(), "{method} {path} lacks {status}");
            }
        }
    }
}

/// A client generated from the document keeps every operation: a generator
/// (openapi-python-client) skips what it cannot type, and says so.
#[tokio::test]
async fn a_client_generated_from_the_document_has_every_operation() {
    let app = spawn_app().await;
    let text = app.get("/api/openapi.json").await.text().await.unwrap();
    let spec: serde_json::Value = serde_json::from_str(&text).unwrap();
    let dir = std::env::temp_dir().join(format!("tenantry-client-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("openapi.json"), &text).unwrap();
    let generator = std::path::Path::new(&testkit::env("TEST_PYTOOLS")).join("openapi-python-client");
    let output = tokio::process::Command::new(generator)
        .args(["generate", "--path", "openapi.json", "--output-path", "client", "--overwrite"])
        .current_dir(&dir)
        .output()
        .await
        .expect("openapi-python-client runs");
    let said = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "{said}");
    assert!(!said.contains("WARNING") && !said.contains("Unable to"), "the generator skipped something:\n{said}");
    let generated: Vec<String> = walk(&dir.join("client"))
        .into_iter()
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect();
    for operations in spec["paths"].as_object().unwrap().values() {
        for operation in operations.as_object().unwrap().values() {
            let id = operation["operationId"].as_str().unwrap();
            let module: String = id
                .chars()
                .flat_map(|c| if c.is_uppercase() { vec!['_', c.to_ascii_lowercase()] } else { vec![c] })
                .collect();
            assert!(generated.contains(&module), "no client function for {id} ({module})");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(walk(&path));
        } else {
            found.push(path);
        }
    }
    found
}
