//! The `tenantry-api` binary as operators run it: migrations racing, bad
//! configuration, request ids in the logs.

use std::process::Stdio;
use std::time::Duration;

use sqlx::{Connection, Row};
use tokio::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_tenantry-api");

/// Three API replicas starting at once against an empty database, each
/// migrating at start-up (`APP_MIGRATE_ON_START`): the migrations land once.
#[tokio::test]
async fn three_api_processes_starting_on_an_empty_database_apply_each_migration_once() {
    let db = testkit::unmigrated_database().await.unwrap();
    let ports: Vec<u16> = (0..3).map(|_| crate::helpers::dead_port()).collect();
    let mut children: Vec<tokio::process::Child> = ports
        .iter()
        .map(|port| {
            Command::new(BIN)
                .env_clear()
                .env("APP_HOST", "127.0.0.1")
                .env("APP_PORT", port.to_string())
                .env("APP_MIGRATE_ON_START", "true")
                .env("DATABASE_OWNER_URL", &db.owner_url)
                .env("DATABASE_URL", &db.pooled_app_url)
                .env("PLATFORM_DATABASE_URL", &db.pooled_platform_url)
                .env("REDIS_URL", testkit::redis_url())
                .env("APP_LOG", "warn")
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .kill_on_drop(true)
                .spawn()
                .unwrap()
        })
        .collect();
    let client = reqwest::Client::new();
    for port in &ports {
        let mut ready = false;
        for _ in 0..150 {
            if let Ok(r) = client.get(format!("http://127.0.0.1:{port}/api/health")).send().await {
                ready = r.status() == 200;
                if ready {
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(ready, "the replica on {port} never became ready");
    }
    for child in &mut children {
        Command::new("kill").arg("-TERM").arg(child.id().unwrap().to_string()).status().await.unwrap();
    }
    for child in children {
        let output = child.wait_with_output().await.unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    }
    let mut conn = sqlx::PgConnection::connect(&db.owner_url).await.unwrap();
    let rows = sqlx::query("SELECT version, count(*) FROM _sqlx_migrations GROUP BY version")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    assert_eq!(rows.len(), db::migrations_count());
    assert!(rows.iter().all(|r| r.get::<i64, _>(1) == 1));
    let success: bool =
        sqlx::query("SELECT bool_and(success) FROM _sqlx_migrations").fetch_one(&mut conn).await.unwrap().get(0);
    assert!(success);
}

/// The same race with the `migrate` command, as a release job would run it.
#[tokio::test]
async fn three_migrate_commands_at_once_apply_each_migration_once() {
    let db = testkit::unmigrated_database().await.unwrap();
    let runs: Vec<_> = (0..3)
        .map(|_| Command::new(BIN).arg("migrate").env_clear().env("DATABASE_OWNER_URL", &db.owner_url).output())
        .collect();
    for output in futures_util::future::join_all(runs).await {
        let output = output.unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    }
    let mut conn = sqlx::PgConnection::connect(&db.owner_url).await.unwrap();
    let count: i64 = sqlx::query("SELECT count(*) FROM _sqlx_migrations").fetch_one(&mut conn).await.unwrap().get(0);
    assert_eq!(count as usize, db::migrations_count());
}

#[tokio::test]
async fn a_missing_variable_stops_the_process_with_one_line_naming_it() {
    let output = Command::new(BIN)
        .env_clear()
        .env("DATABASE_URL", "postgres://app:pw@127.0.0.1:1/appdb")
        .env("PLATFORM_DATABASE_URL", "postgres://app_platform:pw@127.0.0.1:1/appdb")
        .env("DATABASE_OWNER_URL", "postgres://o:pw@127.0.0.1:1/appdb")
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("REDIS_URL"), "{stderr}");

    let output = Command::new(BIN)
        .env_clear()
        .env("DATABASE_URL", "mysql://nope")
        .env("REDIS_URL", "redis://127.0.0.1:1")
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success() && stderr.contains("DATABASE_URL"), "{stderr}");
}

#[tokio::test]
async fn every_log_line_of_a_request_carries_its_request_id() {
    let db = testkit::database().await.unwrap();
    let (signing, _, refresh) = api::auth::tokens::TokenKeys::generate_hex().unwrap();
    let port = crate::helpers::dead_port();
    let child = Command::new(BIN)
        .env_clear()
        .env("APP_ENV", "production")
        .env("APP_PASETO_SIGNING_KEY", &signing)
        .env("APP_PASETO_REFRESH_KEY", &refresh)
        .env("APP_HOST", "127.0.0.1")
        .env("APP_PORT", port.to_string())
        .env("DATABASE_URL", &db.pooled_app_url)
        .env("PLATFORM_DATABASE_URL", &db.pooled_platform_url)
        .env("REDIS_URL", testkit::redis_url())
        .env("REDIS_KEY_PREFIX", format!("test:{}:", db.name))
        .env("APP_OPERATOR_TOKEN", crate::helpers::OPERATOR_TOKEN)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}/api/tenants");
    let mut created = None;
    for _ in 0..100 {
        match client
            .post(&url)
            .bearer_auth(crate::helpers::OPERATOR_TOKEN)
            .header("x-request-id", "trace-me-42")
            .json(&serde_json::json!({ "slug": "logged", "name": "Logged" }))
            .send()
            .await
        {
            Ok(r) => {
                created = Some(r.status());
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    assert_eq!(created.map(|s| s.as_u16()), Some(201));
    Command::new("kill").arg("-TERM").arg(child.id().unwrap().to_string()).status().await.unwrap();
    let output = tokio::time::timeout(Duration::from_secs(15), child.wait_with_output()).await.unwrap().unwrap();
    assert!(output.status.success(), "exit status after SIGTERM: {:?}", output.status);
    let logs = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<serde_json::Value> =
        logs.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not a JSON log line: {l}"))).collect();
    let of_request: Vec<&serde_json::Value> =
        lines.iter().filter(|l| l["span"]["request_id"] == "trace-me-42" || l["request_id"] == "trace-me-42").collect();
    let messages: Vec<&str> = of_request.iter().filter_map(|l| l["message"].as_str()).collect();
    assert!(messages.contains(&"tenant provisioned"), "{logs}");
    assert!(messages.contains(&"request finished"), "{logs}");
    // No line about this request lacks the id.
    for line in &lines {
        if line["slug"] == "logged" || line["span"]["path"] == "/api/tenants" {
            assert!(of_request.contains(&line), "line without the request id: {line}");
        }
    }
}

#[tokio::test]
async fn the_healthcheck_command_reports_liveness() {
    let app = crate::helpers::spawn_app().await;
    let port = app.address.rsplit(':').next().unwrap().to_owned();
    let up = Command::new(BIN).arg("healthcheck").env_clear().env("APP_PORT", &port).output().await.unwrap();
    assert!(up.status.success(), "{}", String::from_utf8_lossy(&up.stderr));
    let down = Command::new(BIN)
        .arg("healthcheck")
        .env_clear()
        .env("APP_PORT", crate::helpers::dead_port().to_string())
        .output()
        .await
        .unwrap();
    assert!(!down.status.success());
}

#[tokio::test]
async fn the_api_refuses_to_run_as_a_role_that_bypasses_row_level_security() {
    let db = testkit::database().await.unwrap();
    let output = Command::new(BIN)
        .env_clear()
        .env("APP_HOST", "127.0.0.1")
        .env("APP_PORT", crate::helpers::dead_port().to_string())
        .env("APP_MIGRATE_ON_START", "false")
        .env("DATABASE_URL", &db.superuser_url)
        .env("PLATFORM_DATABASE_URL", &db.pooled_platform_url)
        .env("REDIS_URL", testkit::redis_url())
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("superuser or BYPASSRLS"), "{stderr}");
}

/// Where migrations run as a job of their own, a replica started first
/// does not serve on an old schema: it waits for the job, then listens.
#[tokio::test]
async fn a_replica_that_does_not_migrate_waits_for_the_schema_before_it_listens() {
    let db = testkit::unmigrated_database().await.unwrap();
    let port = crate::helpers::dead_port();
    let child = Command::new(BIN)
        .env_clear()
        .env("APP_HOST", "127.0.0.1")
        .env("APP_PORT", port.to_string())
        .env("APP_MIGRATE_ON_START", "false")
        .env("APP_SCHEMA_WAIT_SECS", "60")
        .env("DATABASE_URL", &db.pooled_app_url)
        .env("PLATFORM_DATABASE_URL", &db.pooled_platform_url)
        .env("REDIS_URL", testkit::redis_url())
        .env("APP_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let live = || client.get(format!("http://127.0.0.1:{port}/")).send();
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(live().await.is_err(), "the replica listens before its schema exists");
    let migrated = Command::new(BIN).arg("migrate").env_clear().env("DATABASE_OWNER_URL", &db.owner_url).output();
    assert!(migrated.await.unwrap().status.success());
    let mut listening = false;
    for _ in 0..100 {
        if live().await.is_ok_and(|r| r.status() == 200) {
            listening = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(listening, "the replica did not start once the schema was there");
    drop(child);
}
