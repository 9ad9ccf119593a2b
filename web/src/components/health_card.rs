//! The service's health: the API's readiness and, for operators, its
//! version and each dependency, with loading and error states.

use model::wire::{DependencyCheck, Health};
use sycamore::prelude::*;

use crate::api;

/// Where the health check stands.
#[derive(Clone, Debug)]
enum Load {
    Loading,
    Loaded(Box<Health>),
    Failed(String),
}

/// A card with the API's health and a button to check again.
#[component]
pub fn HealthCard() -> View {
    let load = create_signal(Load::Loading);
    let check = move || {
        load.set(Load::Loading);
        crate::components::spawn(async move {
            load.set(match api::health().await {
                Ok(health) => Load::Loaded(Box::new(health)),
                Err(problem) => Load::Failed(problem.to_string()),
            });
        });
    };
    check();

    view! {
        section(class="card", aria-labelledby="health-title") {
            h2(id="health-title") { "Service health" }
            div(aria-live="polite") {
                (move || match load.get_clone() {
                    Load::Loading => view! {
                        p(id="health-loading", class="muted") { "Checking the API…" }
                    },
                    Load::Loaded(health) => health_view(*health),
                    Load::Failed(problem) => view! {
                        p(id="health-error", class="error") { "The health check failed: " (problem) }
                    },
                })
            }
            button(r#type="button", on:click=move |_| check()) { "Check again" }
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
        None => format!("{} in {}", check.status, super::format::millis(check.latency_ms)),
    };
    view! {
        li(class=class) { strong { (name) } ": " (detail) }
    }
}
