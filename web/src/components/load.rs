//! Data a page loads: loading (a skeleton of the size of what comes, so
//! nothing moves when it arrives), ready, or failed (the API's words and
//! the request id, with a way to try again).

use std::future::Future;
use std::rc::Rc;

use sycamore::prelude::*;

use crate::api::ApiError;

/// Where a load stands.
#[derive(Clone, Debug)]
pub enum Load<T> {
    Loading,
    Ready(T),
    Failed(ApiError),
}

impl<T> Load<T> {
    pub fn ready(&self) -> Option<&T> {
        match self {
            Load::Ready(value) => Some(value),
            _ => None,
        }
    }
}

/// Runs `request` and puts its outcome in `load`. What was shown stays
/// until the answer replaces it (a reload does not blank the page).
pub fn fetch<T: 'static>(load: Signal<Load<T>>, request: impl Future<Output = Result<T, ApiError>> + 'static) {
    crate::components::spawn(async move {
        let outcome = request.await;
        load.set(match outcome {
            Ok(value) => Load::Ready(value),
            Err(error) => Load::Failed(error),
        });
    });
}

/// `ready` once loaded; a skeleton of `rows` lines while loading; the
/// error, with a button that calls `retry`, when it failed.
pub fn loaded<T: Clone + 'static>(
    load: Signal<Load<T>>,
    rows: usize,
    retry: impl Fn() + 'static,
    ready: impl Fn(T) -> View + 'static,
) -> View {
    // The generic part only says which state it is; the views are built
    // by one copy of `shown` for every type.
    let state = move || match load.get_clone() {
        Load::Loading => Load::Loading,
        Load::Ready(value) => Load::Ready(ready(value)),
        Load::Failed(error) => Load::Failed(error),
    };
    shown(rows, Rc::new(retry), Box::new(state))
}

fn shown(rows: usize, retry: Rc<dyn Fn()>, state: Box<dyn Fn() -> Load<View>>) -> View {
    view! {
        (match state() {
            Load::Loading => skeleton(rows),
            Load::Ready(view) => view,
            Load::Failed(error) => {
                let retry = retry.clone();
                view! {
                    ErrorPanel(error=error)
                    button(r#type="button", class="secondary", on:click=move |_| retry()) { "Try again" }
                }
            }
        })
    }
}

/// Grey lines where content is coming, announced as loading.
pub fn skeleton(rows: usize) -> View {
    let lines: Vec<View> = (0..rows.max(1)).map(|_| view! { div(class="skeleton-line") }).collect();
    view! {
        div(class="skeleton", role="status", aria-label="Loading") { (lines) }
    }
}

/// Why a request failed: the API's message, its code, and the request id to
/// quote to support.
#[component(inline_props, derive(Debug))]
pub fn ErrorPanel(error: ApiError) -> View {
    let message = error.message();
    let reference = error.request_id().map(|id| format!("Request id: {id}"));
    let unreachable = matches!(error, ApiError::Network(_));
    view! {
        div(class="error-panel", role="alert") {
            p(class="error") { (message) }
            (if unreachable {
                view! { p(class="muted") { "Check your connection; the console retries on its own." } }
            } else {
                view! {}
            })
            (match reference.clone() {
                Some(line) => view! { p(class="muted reference") { (line) } },
                None => view! {},
            })
        }
    }
}

/// What an empty list says instead of a table.
#[component(inline_props, derive(Debug))]
pub fn Empty(title: &'static str, children: Children) -> View {
    let children = children.call();
    view! {
        div(class="empty") {
            p(class="empty-title") { (title) }
            (children)
        }
    }
}
