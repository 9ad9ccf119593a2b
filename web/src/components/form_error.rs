//! Why a form's request failed: the API's message, the field problems no
//! field on the form shows, and the request id to quote to support.
//! Announced by screen readers as it appears.

use sycamore::prelude::*;

use crate::api::ApiError;

/// The failure of a form's last request, if any.
#[component(inline_props, derive(Debug))]
pub fn FormError(
    id: &'static str,
    error: ReadSignal<Option<ApiError>>,
    /// Fields the form shows next to their inputs.
    #[prop(default)]
    shown: &'static [&'static str],
) -> View {
    view! {
        div(id=id, class="form-error", aria-live="assertive", aria-atomic="true") {
            (move || match error.get_clone() {
                None => view! {},
                Some(error) => {
                    let message = error.message();
                    let others: Vec<View> = error
                        .fields()
                        .iter()
                        .filter(|problem| !shown.contains(&problem.field.as_str()))
                        .map(|problem| format!("{}: {}", problem.field, problem.message))
                        .map(|line| view! { li { (line) } })
                        .collect();
                    let others = if others.is_empty() { view! {} } else { view! { ul(class="error") { (others) } } };
                    let reference = match error.request_id() {
                        Some(id) => {
                            let line = format!("Reference: {id}");
                            view! { p(class="muted reference") { (line) } }
                        }
                        None => view! {},
                    };
                    view! {
                        p(class="error") { (message) }
                        (others)
                        (reference)
                    }
                }
            })
        }
    }
}
