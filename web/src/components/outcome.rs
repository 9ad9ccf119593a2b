//! The one-line result of the email-link pages' forms (`#outcome`):
//! working, done with a message, or failed with the API's reason.

use serde_json::Value;
use sycamore::prelude::*;

use crate::api;

/// Where a form's request stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Idle,
    Working,
    Done(String),
    Failed(String),
}

/// Posts `body` to `path` with no session; `done` turns the answer into
/// the message shown.
pub fn report(outcome: Signal<Outcome>, path: &'static str, body: Value, done: fn(&Value) -> String) {
    outcome.set(Outcome::Working);
    crate::components::spawn(async move {
        outcome.set(match api::post_as::<_, Value>(path, &body, None).await {
            Ok(answer) => Outcome::Done(done(&answer)),
            Err(failure) => Outcome::Failed(failure.to_string()),
        });
    });
}

/// `#outcome`, announced as it changes.
#[component(inline_props, derive(Debug))]
pub fn OutcomeLine(outcome: ReadSignal<Outcome>) -> View {
    view! {
        div(aria-live="polite") {
            (move || match outcome.get_clone() {
                Outcome::Idle => view! {},
                Outcome::Working => view! { p(id="outcome", class="muted") { "Working…" } },
                Outcome::Done(message) => view! { p(id="outcome", class="done") { (message) } },
                Outcome::Failed(problem) => view! { p(id="outcome", class="error") { (problem) } },
            })
        }
    }
}
