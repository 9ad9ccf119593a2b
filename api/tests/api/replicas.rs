//! Two `tenantry-api` processes sharing PostgreSQL and Redis, as replicas
//! behind nginx: each caches session, role and API-key checks, and a change
//! made through one is in force on the other within a second. The cache TTL
//! is set to a minute here, so only the published invalidation can explain
//! it.

use std::process::Stdio;
use std::time::Duration;

use serde_json::{json, Value};
use sqlx::Connection;
use tokio::process::{Child, Command};

use crate::helpers::{within, PASSWORD};

const BIN: &str = env!("CARGO_BIN_EXE_tenantry-api");
const SECOND: Duration = Duration::from_secs(1);

struct Replica {
    _child: Child,
    base: String,
}

async fn start(db: &testkit::TestDatabase, keys: &[(String, String)], prefix: &str) -> Replica {
    let port = crate::helpers::dead_port();
    let child = Command::new(BIN)
        .env_clear()
        .envs(keys.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("APP_HOST", "127.0.0.1")
        .env("APP_PORT", port.to_string())
        .env("APP_MIGRATE_ON_START", "false")
        .env("DATABASE_URL", &db.pooled_app_url)
        .env("PLATFORM_DATABASE_URL", &db.pooled_platform_url)
        .env("REDIS_URL", testkit::redis_url())
        .env("REDIS_KEY_PREFIX", prefix)
        .env("APP_ACCESS_CACHE_TTL_MS", "60000")
        .env("APP_OUTBOX_DIR", "")
        .env("APP_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    within(Duration::from_secs(15), "replica ready", || {
        let request = client.get(format!("{base}/api/health"));
        async move { request.send().await.is_ok_and(|r| r.status() == 200) }
    })
    .await;
    Replica { _child: child, base }
}

/// Both replicas must sign with the same keys.
async fn shared_keys() -> Vec<(String, String)> {
    let output = Command::new(BIN).arg("keygen").output().await.unwrap();
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once('=').map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned())))
        .collect()
}

async fn status(client: &reqwest::Client, url: String, auth: &Auth<'_>) -> u16 {
    let request = match auth {
        Auth::Bearer(token) => client.get(url).bearer_auth(token),
        Auth::Key(key) => client.get(url).header("x-api-key", *key),
    };
    request.send().await.unwrap().status().as_u16()
}

enum Auth<'a> {
    Bearer(&'a str),
    Key(&'a str),
}

#[tokio::test]
async fn changes_made_through_one_replica_hold_on_the_other_within_a_second() {
    let db = testkit::database().await.unwrap();
    let acme = testkit::seed_tenant(&db, "acme", 0).await.unwrap();
    let hash = api::password::hash(PASSWORD).unwrap();
    testkit::seed_member(&db, acme, "ada@acme.test", &hash, "admin").await.unwrap();
    let bob = testkit::seed_member(&db, acme, "bob@acme.test", &hash, "admin").await.unwrap();
    let keys = shared_keys().await;
    assert!(keys.iter().any(|(k, _)| k == "APP_PASETO_SIGNING_KEY"), "{keys:?}");
    let prefix = format!("test:{}:", db.name);
    let (a, b) = (start(&db, &keys, &prefix).await, start(&db, &keys, &prefix).await);
    let client = reqwest::Client::new();
    let login = |email: &'static str| {
        let request = client
            .post(format!("{}/api/auth/login", a.base))
            .json(&json!({ "email": email, "password": PASSWORD, "token_delivery": "body" }));
        async move {
            let body: Value = request.send().await.unwrap().json().await.unwrap();
            body["access_token"].as_str().unwrap().to_owned()
        }
    };
    let (ada, bob_token) = (login("ada@acme.test").await, login("bob@acme.test").await);
    let created: Value = client
        .post(format!("{}/api/api-keys", a.base))
        .bearer_auth(&ada)
        .json(&json!({ "name": "integration", "role": "viewer" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = created["key"].as_str().unwrap().to_owned();
    let mut elapsed = Vec::new();

    // The role: B caches bob as admin. Changed behind the API's back (SQL),
    // B keeps its answer: the cache is in use.
    let audit = format!("{}/api/audit", b.base);
    assert_eq!(status(&client, audit.clone(), &Auth::Bearer(&bob_token)).await, 200);
    let mut superuser = sqlx::PgConnection::connect(&db.superuser_url).await.unwrap();
    sqlx::query("UPDATE memberships SET role = 'viewer' WHERE user_id = $1")
        .bind(bob)
        .execute(&mut superuser)
        .await
        .unwrap();
    assert_eq!(status(&client, audit.clone(), &Auth::Bearer(&bob_token)).await, 200, "B answered from PostgreSQL");
    // Through A, the change reaches B within a second.
    let patched = client
        .patch(format!("{}/api/users/{bob}", a.base))
        .bearer_auth(&ada)
        .json(&json!({ "role": "user" }))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200);
    elapsed.push((
        "role change",
        within(SECOND, "role change on B", || async {
            status(&client, audit.clone(), &Auth::Bearer(&bob_token)).await == 403
        })
        .await,
    ));

    // Removal.
    let members = format!("{}/api/users", b.base);
    assert_eq!(status(&client, members.clone(), &Auth::Bearer(&bob_token)).await, 200);
    let removed = client.delete(format!("{}/api/users/{bob}", a.base)).bearer_auth(&ada).send().await.unwrap();
    assert_eq!(removed.status(), 204);
    elapsed.push((
        "member removal",
        within(SECOND, "removal on B", || async {
            status(&client, members.clone(), &Auth::Bearer(&bob_token)).await == 401
        })
        .await,
    ));

    // API key revocation.
    assert_eq!(status(&client, members.clone(), &Auth::Key(&key)).await, 200);
    let id = created["id"].as_str().unwrap();
    let revoked = client.delete(format!("{}/api/api-keys/{id}", a.base)).bearer_auth(&ada).send().await.unwrap();
    assert_eq!(revoked.status(), 204);
    elapsed.push((
        "key revocation",
        within(SECOND, "key revocation on B", || async {
            status(&client, members.clone(), &Auth::Key(&key)).await == 401
        })
        .await,
    ));

    // Session revocation.
    let me = format!("{}/api/auth/me", b.base);
    assert_eq!(status(&client, me.clone(), &Auth::Bearer(&ada)).await, 200);
    let ended = client.post(format!("{}/api/auth/logout-all", a.base)).bearer_auth(&ada).send().await.unwrap();
    assert_eq!(ended.status(), 204);
    elapsed.push((
        "session revocation",
        within(SECOND, "logout-all on B", || async { status(&client, me.clone(), &Auth::Bearer(&ada)).await == 401 })
            .await,
    ));
    println!("in force on the other replica after: {elapsed:?}");
}
