//! Answers that must not tell whether an email has an account must not
//! take longer for one kind either: sign-in, registration and
//! forgot-password, timed for known and unknown emails.
//!
//! Made to be trusted on two busy cores: these tests run alone (the
//! `take_as_long` group in `.config/nextest.toml`), each round times a
//! known email and two unknown ones in a rotating order, and the bound
//! scales with the noise measured in the same run: the spread of the
//! differences between two unknown emails (an A/A comparison, where the
//! true difference is zero). A real asymmetry (an argon2 hash, ~16 ms, or a
//! database write skipped for one kind) stands out of that noise; the noise
//! alone does not fail the test.

use std::time::Instant;

use api::domain::Role;
use serde_json::{json, Value};

use crate::helpers::{spawn_app_with, TestApp};

const ROUNDS: usize = 30;
/// Below this, a difference is not worth telling apart whatever the noise.
const FLOOR_MS: f64 = 3.0;

async fn app() -> TestApp {
    let app = spawn_app_with(vec![
        ("APP_ONBOARDING_LIMIT_PER_MINUTE", Some("0".into())),
        ("APP_LOGIN_LIMIT_PER_MINUTE", Some("0".into())),
        ("APP_TRUSTED_PROXIES", Some("127.0.0.1".into())),
    ])
    .await;
    app.tenant_with_member("known@acme.test", Role::User).await;
    app
}

/// The median, and the median absolute deviation scaled to a standard
/// deviation (robust to the odd stalled request).
fn median_and_sigma(values: &[f64]) -> (f64, f64) {
    let median = |v: &[f64]| {
        let mut v = v.to_vec();
        v.sort_by(f64::total_cmp);
        let n = v.len();
        if n % 2 == 0 {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        } else {
            v[n / 2]
        }
    };
    let m = median(values);
    let deviations: Vec<f64> = values.iter().map(|v| (v - m).abs()).collect();
    (m, 1.4826 * median(&deviations))
}

/// Times `request(email, round, nth)` for the known email and two unknown
/// ones per round; asserts the known − unknown median is within the noise.
async fn compare<F, Fut>(what: &str, request: F)
where
    F: Fn(String, usize, usize) -> Fut,
    Fut: std::future::Future<Output = u16>,
{
    let timed = |email: String, round: usize, nth: usize| {
        let call = request(email, round, nth);
        async move {
            let started = Instant::now();
            let status = call.await;
            (status, started.elapsed().as_secs_f64() * 1000.0)
        }
    };
    // Warm up every path (connections, caches) before measuring.
    for nth in 0..3 {
        timed("known@acme.test".into(), 0, nth).await;
        timed(format!("warm{nth}@acme.test"), 0, nth + 3).await;
    }
    let (mut known_minus_unknown, mut unknown_minus_unknown) = (Vec::new(), Vec::new());
    let mut statuses = std::collections::BTreeSet::new();
    for round in 1..=ROUNDS {
        let mut times = [0.0; 3];
        // Rotate who goes first, second and third.
        for slot in 0..3 {
            let which = (slot + round) % 3;
            let email = match which {
                0 => "known@acme.test".to_owned(),
                1 => format!("nobody{round}a@acme.test"),
                _ => format!("nobody{round}b@acme.test"),
            };
            let (status, ms) = timed(email, round, slot).await;
            statuses.insert(status);
            times[which] = ms;
        }
        known_minus_unknown.push(times[0] - times[1]);
        unknown_minus_unknown.push(times[2] - times[1]);
    }
    assert_eq!(statuses.len(), 1, "{what}: known and unknown emails got different statuses {statuses:?}");
    let (difference, _) = median_and_sigma(&known_minus_unknown);
    let (baseline, sigma) = median_and_sigma(&unknown_minus_unknown);
    // The standard error of a median of n samples is about 1.25 σ / √n.
    let standard_error = 1.2533 * sigma / (ROUNDS as f64).sqrt();
    let bound = FLOOR_MS.max(4.0 * standard_error);
    println!(
        "{what}: median(known - unknown) {difference:.3} ms; A/A median {baseline:.3} ms, \
         noise σ {sigma:.3} ms; bound {bound:.3} ms ({ROUNDS} rounds)"
    );
    assert!(baseline.abs() <= bound, "{what}: the A/A comparison itself is off ({baseline:.3} ms > {bound:.3} ms)");
    assert!(
        difference.abs() <= bound,
        "{what}: known - unknown = {difference:.3} ms (median), beyond {bound:.3} ms of noise"
    );
}

#[tokio::test]
async fn sign_in_answers_take_as_long_for_known_and_unknown_emails() {
    let app = app().await;
    // A fresh client address per attempt: each is a failure, and one
    // address's growing delays must not enter the measurement.
    compare("login", |email, round, nth| {
        let request = app
            .client
            .post(app.url("/api/auth/login"))
            .header("x-real-ip", format!("198.18.{}.{}", round, nth * 40 + email.len() % 40))
            .json(&json!({ "email": email, "password": "not the password" }));
        async move { request.send().await.unwrap().status().as_u16() }
    })
    .await;
}

#[tokio::test]
async fn registration_answers_take_as_long_for_known_and_unknown_emails() {
    let app = app().await;
    compare("register", |email, round, nth| {
        let slug = format!("co-{round}-{nth}");
        let body: Value = json!({ "email": email, "tenant_name": "Co", "tenant_slug": slug });
        let request = app.client.post(app.url("/api/auth/register")).json(&body);
        async move { request.send().await.unwrap().status().as_u16() }
    })
    .await;
}

#[tokio::test]
async fn forgot_password_answers_take_as_long_for_known_and_unknown_emails() {
    let app = app().await;
    compare("forgot", |email, _, _| {
        let request = app.client.post(app.url("/api/auth/password/forgot")).json(&json!({ "email": email }));
        async move { request.send().await.unwrap().status().as_u16() }
    })
    .await;
}
