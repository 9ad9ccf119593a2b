//! A labelled input with the API's complaint about it underneath, tied
//! together for assistive technology (`aria-invalid`,
//! `aria-describedby`).

use sycamore::prelude::*;

/// A form field: label, input bound to `value`, and `error` below it.
#[component(inline_props, derive(Debug))]
pub fn Field(
    /// The input's id (and, suffixed with `-error`, its message's).
    id: &'static str,
    label: &'static str,
    value: Signal<String>,
    error: ReadSignal<Option<String>>,
    /// The input type.
    #[prop(default = "text")]
    kind: &'static str,
    #[prop(default)] autocomplete: &'static str,
    #[prop(default)] required: bool,
) -> View {
    let error_id = format!("{id}-error");
    let described_by = error_id.clone();
    view! {
        div(class="field") {
            label(r#for=id) { (label) }
            input(
                id=id,
                r#type=kind,
                autocomplete=(!autocomplete.is_empty()).then_some(autocomplete),
                required=required,
                aria-invalid=move || if error.with(Option::is_some) { "true" } else { "false" },
                aria-describedby=described_by,
                bind:value=value,
            )
            p(id=error_id, class="field-error", aria-live="polite") {
                (move || error.get_clone().unwrap_or_default())
            }
        }
    }
}
