//! A labelled choice of role.

use sycamore::prelude::*;
use sycamore::web::wasm_bindgen::JsCast;

use super::format;
use crate::api::wire::Role;

const ROLES: [Role; 3] = [Role::Admin, Role::User, Role::Viewer];

/// `<select>` of the three roles, bound to `value`.
#[component(inline_props, derive(Debug))]
pub fn RoleSelect(
    id: String,
    /// Visible label; empty for a label only screen readers read
    /// (`hidden_label`), as in a table row.
    label: &'static str,
    #[prop(default, setter(into))] hidden_label: String,
    value: Signal<Role>,
    #[prop(default)] disabled: bool,
) -> View {
    let on_change = move |event: web_sys::Event| {
        let chosen = event.target().and_then(|t| t.dyn_into::<web_sys::HtmlSelectElement>().ok()).map(|s| s.value());
        if let Some(role) = chosen.and_then(|v| v.parse::<Role>().ok()) {
            value.set(role);
        }
    };
    let options: Vec<View> = ROLES
        .into_iter()
        .map(|role| {
            view! {
                option(value=role.as_str(), selected=move || value.get() == role) { (format::role(role)) }
            }
        })
        .collect();
    let for_id = id.clone();
    let label_view = if label.is_empty() {
        view! { label(r#for=for_id, class="visually-hidden") { (hidden_label) } }
    } else {
        view! { label(r#for=for_id) { (label) } }
    };
    view! {
        (label_view)
        select(id=id, disabled=disabled, on:change=on_change) { (options) }
    }
}
