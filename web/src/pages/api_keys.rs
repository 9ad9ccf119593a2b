//! `/api-keys`: keys for integrators — created with a role and an optional
//! expiry (the secret shown once, with a copy button), listed with their
//! last use, revoked.

use sycamore::prelude::*;
use sycamore::web::events::SubmitEvent;
use sycamore::web::js_sys::Date;
use sycamore::web::wasm_bindgen::JsCast;

use crate::api::wire::{ApiKey, CreatedApiKey, NewApiKey, Page, Role};
use crate::api::{ApiError, Query};
use crate::components::{
    format, load_pages, loaded, Confirm, CopyButton, Deleting, Empty, Field, FormError, Load, Pager, Question,
    RoleSelect,
};
use crate::session::use_session;

/// Expiry choices, in days (0 for never).
const EXPIRIES: [(u32, &str); 4] = [(0, "Never"), (30, "In 30 days"), (90, "In 90 days"), (365, "In a year")];

#[component]
pub fn ApiKeys() -> View {
    let client = use_session().client();
    let keys = create_signal(Load::<Page<ApiKey>>::Loading);
    let pager = Pager::new();
    let reloads = create_signal(0u32);
    let failure = create_signal(None::<ApiError>);
    let asking = create_signal(None::<Question>);
    let created = create_signal(None::<CreatedApiKey>);
    load_pages(client.clone(), keys, pager, move || {
        reloads.track();
        Query::new("/api/api-keys")
    });
    let retry = move || reloads.update(|n| *n += 1);
    let deleting = Deleting { client: client.clone(), asking, failure, reloads };
    let list = loaded(keys, 4, retry, move |page| {
        if page.items.is_empty() {
            return view! { Empty(title="No API keys yet") { p(class="muted") { "Create one above." } } };
        }
        let rows: Vec<View> = page
            .items
            .into_iter()
            .map(|k| {
                let text = format!("Revoke the key {}? Integrations using it stop working at once.", k.name);
                let label = format!("Revoke {}", k.name);
                let ask = deleting.ask(text, "Revoke", format!("/api/api-keys/{}", k.id));
                let role = format::role(k.role);
                let created_at = format::when(&k.created_at);
                let expires = k.expires_at.as_deref().map(format::when).unwrap_or_else(|| "Never".into());
                let used = k.last_used_at.as_deref().map(format::when).unwrap_or_else(|| "Never used".into());
                let prefix = format!("{}…", k.prefix);
                let name = k.name.clone();
                let row_name = k.name;
                view! {
                    tr(data-name=row_name) {
                        td { strong { (name) } br {} code(class="muted") { (prefix) } }
                        td { span(class="badge") { (role) } }
                        td { (created_at) }
                        td { (expires) }
                        td { (used) }
                        td(class="row-actions") {
                            button(r#type="button", class="danger small", aria-label=label, on:click=ask) { "Revoke" }
                        }
                    }
                }
            })
            .collect();
        view! {
            div(class="table-wrap") {
                table(id="api-keys-table") {
                    thead { tr {
                        th(scope="col") { "Name" } th(scope="col") { "Role" } th(scope="col") { "Created" }
                        th(scope="col") { "Expires" } th(scope="col") { "Last used" }
                        th(scope="col") { span(class="visually-hidden") { "Actions" } }
                    } }
                    tbody { (rows) }
                }
            }
        }
    });
    view! {
        h1 { "API keys" }
        p(class="muted") { "Integrators call the API with a key instead of a password. A key acts with its role, for no one in particular." }
        CreateKey(created=created, reloads=reloads)
        (move || match created.get_clone() {
            Some(new) => secret_panel(new, created),
            None => view! {},
        })
        FormError(id="api-keys-error", error=*failure)
        (list)
        (pager.view("API key pages"))
        Confirm(id="api-keys-confirm", asking=asking)
    }
}

/// The new key's secret, once: copy it now or never.
fn secret_panel(new: CreatedApiKey, created: Signal<Option<CreatedApiKey>>) -> View {
    let name = format!("The key {} is created.", new.details.name);
    let secret = new.key.clone();
    let copied = new.key;
    view! {
        section(id="new-key", class="card notice", role="alert", aria-labelledby="new-key-title") {
            h2(id="new-key-title") { "Copy the key now" }
            p { (name) " " strong { "This is the only time its secret is shown:" } " store it where your integration reads it. If it is lost, revoke the key and create another." }
            p { code(id="new-key-secret", class="secret") { (secret) } }
            div(class="actions") {
                CopyButton(id="new-key-copy", text=copied)
                button(id="new-key-done", r#type="button", class="secondary", on:click=move |_| created.set(None)) { "I have stored it" }
            }
        }
    }
}

#[component(inline_props, derive(Debug))]
fn CreateKey(created: Signal<Option<CreatedApiKey>>, reloads: Signal<u32>) -> View {
    let client = use_session().client();
    let name = create_signal(String::new());
    let role = create_signal(Role::Viewer);
    let expiry_days = create_signal(0u32);
    let error = create_signal(None::<ApiError>);
    let working = create_signal(false);
    let name_error = create_memo(move || error.with(|e| e.as_ref().and_then(|e| e.field("name")).map(str::to_owned)));
    let expiry_picked = move |event: web_sys::Event| {
        let value = event.target().and_then(|t| t.dyn_into::<web_sys::HtmlSelectElement>().ok()).map(|s| s.value());
        expiry_days.set(value.and_then(|v| v.parse().ok()).unwrap_or(0));
    };
    let submit = move |event: SubmitEvent| {
        event.prevent_default();
        if working.get() {
            return;
        }
        working.set(true);
        let days = expiry_days.get();
        let expires_at = (days > 0).then(|| {
            let at = Date::new_0();
            at.set_time(at.get_time() + f64::from(days) * 86_400_000.0);
            String::from(at.to_iso_string())
        });
        let body = NewApiKey { name: name.get_clone().trim().to_owned(), role: role.get(), expires_at };
        let client = client.clone();
        crate::components::spawn(async move {
            match client.post::<_, CreatedApiKey>("/api/api-keys", &body).await {
                Ok(new) => {
                    error.set(None);
                    name.set(String::new());
                    created.set(Some(new));
                    reloads.update(|n| *n += 1);
                }
                Err(failure) => error.set(Some(failure)),
            }
            working.set(false);
        });
    };
    let options: Vec<View> = EXPIRIES
        .into_iter()
        .map(|(days, label)| view! { option(value=days.to_string(), selected=days == 0) { (label) } })
        .collect();
    view! {
        section(class="card", aria-labelledby="create-key-title") {
            h2(id="create-key-title") { "Create a key" }
            form(id="create-key", class="inline-form", on:submit=submit, novalidate=true) {
                Field(id="key-name", label="Name", required=true, autocomplete="off", value=name, error=name_error)
                div(class="field") { RoleSelect(id="key-role".to_owned(), label="Role", value=role) }
                div(class="field") {
                    label(r#for="key-expiry") { "Expires" }
                    select(id="key-expiry", on:change=expiry_picked) { (options) }
                }
                button(id="create-key-submit", r#type="submit", disabled=move || working.get()) { "Create the key" }
            }
            FormError(id="create-key-error", error=*error, shown=&["name"])
        }
    }
}
