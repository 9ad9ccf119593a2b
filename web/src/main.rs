//! Tenantry's tenant admin console: a Sycamore single-page application,
//! compiled to wasm32 and served by nginx (production) or by the API's
//! console port (development), with the API under `/api/`.
//!
//! The first screen shows the service's readiness, with loading and error
//! states; the pages that emails link to (verification, password reset,
//! invitations) are served at their own paths. The admin screens grow from
//! here.

mod api;
mod onboarding;

use sycamore::prelude::*;

use api::{DependencyCheck, Health};

fn main() {
    console_error_panic_hook::set_once();
    sycamore::render(Console);
}

/// The page of the current path, in the console's frame.
#[component]
fn Console() -> View {
    let path = web_sys::window().and_then(|w| w.location().pathname().ok()).unwrap_or_default();
    let page = match path.trim_end_matches('/') {
        "/verify-email" => view! { onboarding::VerifyEmail {} },
        "/reset-password" => view! { onboarding::ResetPassword {} },
        "/accept-invitation" => view! { onboarding::AcceptInvitation {} },
        "/forgot-password" => view! { onboarding::ForgotPassword {} },
        _ => view! { App {} },
    };
    view! {
        header(class="topbar") {
            h1 { "Tenantry" }
            span(class="subtitle") { "Tenant admin console" }
        }
        main { (page) }
    }
}

/// Where the health check stands.
#[derive(Clone, Debug)]
enum Load {
    Loading,
    Loaded(Box<Health>),
    Failed(String),
}

/// The service's health.
#[component]
fn App() -> View {
    let load = create_signal(Load::Loading);
    let refresh = move || {
        load.set(Load::Loading);
        wasm_bindgen_futures::spawn_local(async move {
            load.set(match api::health().await {
                Ok(health) => Load::Loaded(Box::new(health)),
                Err(problem) => Load::Failed(problem),
            });
        });
    };
    refresh();

    view! {
        section(class="card", aria-live="polite") {
                h2 { "Service health" }
                (move || match load.get_clone() {
                    Load::Loading => view! {
                        p(id="health-loading", class="muted") { "Checking the API…" }
                    },
                    Load::Loaded(health) => health_view(*health),
                    Load::Failed(problem) => view! {
                        p(id="health-error", class="error") { "Could not reach the API: " (problem) }
                    },
                })
                button(on:click=move |_| refresh()) { "Check again" }
        }
    }
}

fn health_view(health: Health) -> View {
    let class = if health.status == "ok" { "health ok" } else { "health down" };
    let migration = health.migration_version.map(|v| v.to_string()).unwrap_or_else(|| "unknown".into());
    let details = match (health.version.clone(), health.uptime_seconds, health.checks.clone()) {
        (Some(version), Some(uptime), Some(checks)) => view! {
            dl {
                dt { "Version" } dd { (version) }
                dt { "Uptime" } dd { (format!("{uptime} s")) }
                dt { "Schema" } dd { (migration) }
            }
            ul(class="checks") {
                (check_view("Database", checks.database.clone()))
                (check_view("Platform database", checks.platform_database.clone()))
                (check_view("Redis", checks.redis.clone()))
            }
        },
        _ => view! { p(class="muted") { "Details are shown to operators only." } },
    };
    view! {
        div(id="health", class=class) {
            p { "API status: " strong(id="health-status") { (health.status.clone()) } }
            (details)
        }
    }
}

fn check_view(name: &'static str, check: DependencyCheck) -> View {
    let class = if check.status == "ok" { "ok" } else { "down" };
    let detail = match &check.error {
        Some(error) => format!("{} — {error}", check.status),
        None => format!("{} in {:.1} ms", check.status, check.latency_ms),
    };
    view! {
        li(class=class) { strong { (name) } ": " (detail) }
    }
}
