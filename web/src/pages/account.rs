//! `/account`: the signed-in user's profile (their name), password, and
//! open sessions — this device marked — with a way to end one or all.

use std::rc::Rc;

use sycamore::prelude::*;
use sycamore::web::events::SubmitEvent;

use crate::api::wire::{Page, PasswordChange, ProfileChange, SessionInfo};
use crate::api::{ApiError, Me};
use crate::components::{fetch, format, loaded, Confirm, Field, FormError, Load, Question};
use crate::session::use_session;

#[component(inline_props, derive(Debug))]
pub fn Account(me: Rc<Me>) -> View {
    let profile = me.clone();
    view! {
        h1 { "Your account" }
        Profile(me=profile)
        PasswordForm {}
        Sessions(me=me)
    }
}

#[component(inline_props, derive(Debug))]
fn Profile(me: Rc<Me>) -> View {
    let session = use_session();
    let name = create_signal(me.display_name.clone());
    let error = create_signal(None::<ApiError>);
    let saved = create_signal(false);
    let name_error =
        create_memo(move || error.with(|e| e.as_ref().and_then(|e| e.field("display_name")).map(str::to_owned)));
    let submit = move |event: SubmitEvent| {
        event.prevent_default();
        saved.set(false);
        let body = ProfileChange { display_name: name.get_clone().trim().to_owned() };
        let session = session.clone();
        crate::components::spawn(async move {
            match session.client().patch::<_, Me>("/api/auth/me", &body, &[]).await {
                Ok(me) => {
                    error.set(None);
                    saved.set(true);
                    session.update(me);
                }
                Err(failure) => error.set(Some(failure)),
            }
        });
    };
    let email = me.email.clone();
    let role = format!("{} in {}", format::role(me.role()), me.tenant.name);
    view! {
        section(class="card", aria-labelledby="profile-title") {
            h2(id="profile-title") { "Profile" }
            dl(class="facts") {
                dt { "Email" } dd(id="profile-email") { (email) }
                dt { "Role" } dd(id="profile-role") { (role) }
            }
            form(id="profile-form", class="inline-form", on:submit=submit, novalidate=true) {
                Field(id="display-name", label="Display name", autocomplete="name", value=name, error=name_error)
                button(id="profile-submit", r#type="submit") { "Save" }
            }
            FormError(id="profile-error", error=*error, shown=&["display_name"])
            p(class="done", aria-live="polite") { (move || if saved.get() { "Saved." } else { "" }) }
        }
    }
}

#[component]
fn PasswordForm() -> View {
    let client = use_session().client();
    let current = create_signal(String::new());
    let new = create_signal(String::new());
    let error = create_signal(None::<ApiError>);
    let changed = create_signal(false);
    let working = create_signal(false);
    let current_error = create_memo(move || {
        error.with(|e| {
            e.as_ref().and_then(|e| {
                e.field("current_password")
                    .map(str::to_owned)
                    .or_else(|| (e.status() == Some(403)).then(|| e.message()))
            })
        })
    });
    let new_error =
        create_memo(move || error.with(|e| e.as_ref().and_then(|e| e.field("new_password")).map(str::to_owned)));
    let submit = move |event: SubmitEvent| {
        event.prevent_default();
        if working.get() {
            return;
        }
        working.set(true);
        changed.set(false);
        let body = PasswordChange { current_password: current.get_clone(), new_password: new.get_clone() };
        let client = client.clone();
        crate::components::spawn(async move {
            match client.post::<_, ()>("/api/auth/password", &body).await {
                Ok(()) => {
                    error.set(None);
                    changed.set(true);
                }
                Err(failure) => error.set(Some(failure)),
            }
            current.set(String::new());
            new.set(String::new());
            working.set(false);
        });
    };
    view! {
        section(class="card", aria-labelledby="password-title") {
            h2(id="password-title") { "Password" }
            form(id="password-form", on:submit=submit, novalidate=true) {
                Field(id="current-password", label="Current password", kind="password", autocomplete="current-password",
                    required=true, value=current, error=current_error)
                Field(id="new-password", label="New password (8 to 128 characters)", kind="password",
                    autocomplete="new-password", required=true, value=new, error=new_error)
                button(id="password-submit", r#type="submit", disabled=move || working.get()) { "Change the password" }
            }
            FormError(id="password-error", error=*error, shown=&["current_password", "new_password"])
            p(id="password-done", class="done", aria-live="polite") {
                (move || if changed.get() { "Your password is changed; your other sessions have ended." } else { "" })
            }
        }
    }
}

#[component(inline_props, derive(Debug))]
fn Sessions(me: Rc<Me>) -> View {
    let session = use_session();
    let client = session.client();
    let sessions = create_signal(Load::<Page<SessionInfo>>::Loading);
    let reloads = create_signal(0u32);
    let failure = create_signal(None::<ApiError>);
    let asking = create_signal(None::<Question>);
    {
        let client = client.clone();
        create_effect(move || {
            reloads.track();
            let client = client.clone();
            fetch(sessions, async move { client.get("/api/auth/sessions").await });
        });
    }
    let retry = move || reloads.update(|n| *n += 1);
    let tenants: Vec<(String, String)> = me.tenants.iter().map(|t| (t.id.to_string(), t.name.clone())).collect();
    let list_client = client.clone();
    let everywhere = {
        let session = session.clone();
        move |_| {
            let session = session.clone();
            asking.set(Some(Question {
                text: "Sign out on every device, this one included?".into(),
                confirm: "Sign out everywhere",
                action: Rc::new(move || {
                    let session = session.clone();
                    crate::components::spawn(async move {
                        // On success this page ends with the session.
                        if let Err(error) = session.sign_out_everywhere().await {
                            failure.set(Some(error));
                        }
                    });
                }),
            }));
        }
    };
    let list = loaded(sessions, 3, retry, move |list| {
        let rows: Vec<View> =
            list.items.into_iter().map(|s| session_row(s, &tenants, &list_client, failure, reloads)).collect();
        view! {
            div(class="table-wrap") {
                table(id="sessions-table") {
                    thead { tr {
                        th(scope="col") { "Device" } th(scope="col") { "Tenant" } th(scope="col") { "From" }
                        th(scope="col") { "Last used" } th(scope="col") { span(class="visually-hidden") { "Actions" } }
                    } }
                    tbody { (rows) }
                }
            }
        }
    });
    view! {
        section(class="card", aria-labelledby="sessions-title") {
            h2(id="sessions-title") { "Sessions" }
            p(class="muted") { "Where you are signed in. Ending a session signs that device out at its next request." }
            FormError(id="sessions-error", error=*failure)
            (list)
            button(id="sign-out-everywhere", r#type="button", class="danger", on:click=everywhere) { "Sign out everywhere" }
        }
        Confirm(id="sessions-confirm", asking=asking)
    }
}

fn session_row(
    s: SessionInfo,
    tenants: &[(String, String)],
    client: &crate::api::Client,
    failure: Signal<Option<ApiError>>,
    reloads: Signal<u32>,
) -> View {
    let tenant = tenants.iter().find(|(id, _)| *id == s.tenant_id).map(|(_, n)| n.clone()).unwrap_or_default();
    let device = if s.user_agent.is_empty() { "Unknown device".to_owned() } else { s.user_agent.clone() };
    let used = format::when(&s.last_used_at);
    let ip = s.ip.clone();
    let row_class = if s.current { "current" } else { "" };
    let action = if s.current {
        view! { span(class="badge current") { "This device" } }
    } else {
        let client = client.clone();
        let id = s.id.clone();
        let end = move |_| {
            let client = client.clone();
            let id = id.clone();
            crate::components::spawn(async move {
                failure.set(client.delete(&format!("/api/auth/sessions/{id}")).await.err());
                reloads.update(|n| *n += 1);
            });
        };
        view! { button(r#type="button", class="secondary small", on:click=end) { "End" } }
    };
    view! {
        tr(class=row_class) {
            td(class="wrap") { (device) }
            td { (tenant) }
            td { (ip) }
            td { (used) }
            td(class="row-actions") { (action) }
        }
    }
}
