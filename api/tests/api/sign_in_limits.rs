//! Guessing is bounded and nobody can lock an owner out: failures (not
//! attempts) are counted per account over an hour, delays grow per address
//! group, familiar addresses keep signing in past the cap, and IPv6 counts
//! by /64 in every per-address limit. Client addresses come from
//! `X-Real-IP` through a trusted proxy, as nginx sends them.

use std::time::Duration;

use api::domain::Role;
use serde_json::json;

use crate::helpers::{assert_error, dead_port, spawn_app_with, wait_for_fresh_rate_window, TestApp, PASSWORD};

async fn app_with(overrides: &[(&'static str, &str)]) -> TestApp {
    let mut vars = vec![("APP_TRUSTED_PROXIES", Some("127.0.0.1".to_owned()))];
    vars.extend(overrides.iter().map(|(k, v)| (*k, Some(v.to_string()))));
    let app = spawn_app_with(vars).await;
    app.tenant_with_member("owner@acme.test", Role::Admin).await;
    app
}

/// Signs in as `owner@acme.test` from `ip`; the status and `Retry-After`.
async fn attempt(app: &TestApp, ip: &str, password: &str) -> (u16, Option<u64>) {
    let response = app
        .client
        .post(app.url("/api/auth/login"))
        .header("x-real-ip", ip)
        .json(&json!({ "email": "owner@acme.test", "password": password, "token_delivery": "body" }))
        .send()
        .await
        .unwrap();
    let retry = response.headers().get("retry-after").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
    (response.status().as_u16(), retry)
}

async fn failures_logged(app: &TestApp) -> i64 {
    app.select_i64("SELECT count(*) FROM security_log WHERE event = 'login.failed' AND subject = 'owner@acme.test'")
        .await
}

#[tokio::test]
async fn guesses_spread_over_many_addresses_do_not_lock_the_owner_out() {
    // Eleven addresses used to be enough to keep the owner at 429 (the old
    // per-account budget was ten times the per-address one, attempts
    // counted). Each now makes twelve guesses, concurrently: 132 attempts.
    let app = app_with(&[("APP_LOGIN_LIMIT_PER_MINUTE", "10")]).await;
    wait_for_fresh_rate_window().await;
    let guesses = (1..=11).flat_map(|host| (0..12).map(move |_| host)).map(|host| {
        let app = &app;
        async move { attempt(app, &format!("198.51.100.{host}"), "a wrong guess").await.0 }
    });
    let statuses: Vec<u16> = futures_util::future::join_all(guesses).await;
    let evaluated = statuses.iter().filter(|s| **s == 401).count();
    let delayed = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(evaluated + delayed, statuses.len(), "{statuses:?}");
    // Each address got its five free failures, and then had to wait.
    assert_eq!(evaluated, 11 * api::auth::login_guard::FREE_FAILURES as usize, "{statuses:?}");
    assert_eq!(failures_logged(&app).await, evaluated as i64);

    // The owner, from an address of their own, signs in at once.
    assert_eq!(attempt(&app, "192.0.2.10", PASSWORD).await.0, 200, "the owner is locked out");
}

#[tokio::test]
async fn past_the_hourly_failure_cap_only_familiar_addresses_may_still_try() {
    let app = app_with(&[("APP_LOGIN_FAILURES_PER_HOUR", "6")]).await;
    // The owner's usual device signed in before.
    assert_eq!(attempt(&app, "192.0.2.10", PASSWORD).await.0, 200);
    // Twelve fresh addresses, one guess each: six are checked, then the
    // account's hourly cap stands, with the time until the oldest failure
    // leaves the window.
    let mut statuses = Vec::new();
    for host in 1..=12 {
        statuses.push(attempt(&app, &format!("203.0.113.{host}"), "a wrong guess").await);
    }
    assert_eq!(statuses.iter().filter(|(s, _)| *s == 401).count(), 6, "{statuses:?}");
    for (status, retry) in &statuses[6..] {
        assert_eq!(*status, 429);
        assert!(retry.is_some_and(|r| (3000..=3600).contains(&r)), "Retry-After {retry:?}");
    }
    assert_eq!(failures_logged(&app).await, 6, "no more than the cap were checked");
    // An unfamiliar address waits like the guesses (documented: the
    // familiar device or a password reset gets the owner in)...
    assert_eq!(attempt(&app, "192.0.2.99", PASSWORD).await.0, 429);
    // ...and the familiar one signs in, past the cap.
    assert_eq!(attempt(&app, "192.0.2.10", PASSWORD).await.0, 200, "the owner's device is locked out");
}

#[tokio::test]
async fn one_address_waits_longer_after_each_failure_and_a_success_clears_it() {
    let app = app_with(&[]).await;
    let ip = "198.51.100.77";
    for _ in 0..api::auth::login_guard::FREE_FAILURES {
        assert_eq!(attempt(&app, ip, "a wrong guess").await.0, 401);
    }
    let (status, retry) = attempt(&app, ip, PASSWORD).await;
    assert_eq!((status, retry), (429, Some(1)), "the sixth attempt waits a second, even with the right password");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(attempt(&app, ip, "a wrong guess").await.0, 401);
    let (status, retry) = attempt(&app, ip, "a wrong guess").await;
    assert_eq!((status, retry), (429, Some(2)), "the delay doubles");
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(attempt(&app, ip, PASSWORD).await.0, 200);
    // Cleared: the next failures start from scratch.
    assert_eq!(attempt(&app, ip, "a wrong guess").await.0, 401);
    assert_eq!(attempt(&app, ip, "a wrong guess").await.0, 401);
}

#[tokio::test]
async fn two_addresses_of_one_ipv6_64_share_every_per_address_limit() {
    let app = app_with(&[("APP_RATE_LIMIT_PER_MINUTE", "3")]).await;
    wait_for_fresh_rate_window().await;
    let health = |ip: &'static str| {
        let request = app.client.get(app.url("/api/health")).header("x-real-ip", ip);
        async move { request.send().await.unwrap() }
    };
    for ip in ["2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:ffff::9"] {
        assert_eq!(health(ip).await.status(), 200, "{ip}");
    }
    assert_error(health("2001:db8:1:2::abcd").await, 429, "rate_limited").await;
    // Another /64, and an IPv4 client, have budgets of their own.
    assert_eq!(health("2001:db8:1:3::1").await.status(), 200);
    assert_eq!(health("192.0.2.44").await.status(), 200);

    // Sign-in delays, too: failures from one /64 add up.
    let app = app_with(&[]).await;
    for i in 0..api::auth::login_guard::FREE_FAILURES {
        assert_eq!(attempt(&app, &format!("2001:db8:9:9::{i:x}"), "a wrong guess").await.0, 401);
    }
    assert_eq!(attempt(&app, "2001:db8:9:9::ff", PASSWORD).await.0, 429);
    assert_eq!(attempt(&app, "2001:db8:9:a::1", PASSWORD).await.0, 200);
}

#[tokio::test]
async fn sign_in_is_refused_while_its_limits_cannot_be_counted() {
    let redis = format!("redis://127.0.0.1:{}", dead_port());
    let app = app_with(&[("REDIS_URL", redis.as_str())]).await;
    let response = app.post("/api/auth/login", json!({ "email": "owner@acme.test", "password": PASSWORD })).await;
    assert_error(response, 503, "unavailable").await;
}
