//! `/audit`: the tenant's audit log, newest first, filtered by action,
//! actor and dates, a page at a time, each entry's details on demand.

use sycamore::prelude::*;
use sycamore::web::events::SubmitEvent;
use sycamore::web::js_sys::Date;
use sycamore::web::wasm_bindgen::JsCast;

use crate::api::wire::{AuditEntry, Member, Page};
use crate::api::Query;
use crate::components::{format, load_pages, loaded, Empty, Load, Pager};
use crate::session::use_session;

/// The filters as applied.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Filters {
    action: String,
    actor: String,
    /// `YYYY-MM-DD`, from the date inputs.
    from: String,
    to: String,
}

#[component]
pub fn Audit() -> View {
    let client = use_session().client();
    let entries = create_signal(Load::<Page<AuditEntry>>::Loading);
    let members = create_signal(Vec::<Member>::new());
    let pager = Pager::new();
    let applied = create_signal(Filters::default());
    let reloads = create_signal(0u32);
    let action = create_signal(String::new());
    let actor = create_signal(String::new());
    let from = create_signal(String::new());
    let to = create_signal(String::new());
    {
        let client = client.clone();
        crate::components::spawn(async move {
            if let Ok(page) = client.get::<Page<Member>>("/api/users?limit=100").await {
                members.set(page.items);
            }
        });
    }
    load_pages(client.clone(), entries, pager, move || {
        reloads.track();
        let f = applied.get_clone();
        Query::new("/api/audit")
            .with("action", &f.action)
            .with("actor", &f.actor)
            .with_some("since", day_start(&f.from, 0))
            .with_some("until", day_start(&f.to, 1))
    });
    let submit = move |event: SubmitEvent| {
        event.prevent_default();
        applied.set(Filters {
            action: action.get_clone().trim().to_owned(),
            actor: actor.get_clone(),
            from: from.get_clone(),
            to: to.get_clone(),
        });
        pager.reset();
    };
    let actor_picked = move |event: web_sys::Event| {
        if let Some(select) = event.target().and_then(|t| t.dyn_into::<web_sys::HtmlSelectElement>().ok()) {
            actor.set(select.value());
        }
    };
    let retry = move || reloads.update(|n| *n += 1);
    view! {
        h1 { "Audit log" }
        form(id="audit-filters", class="filters", role="search", on:submit=submit) {
            div(class="field") {
                label(r#for="audit-action") { "Action" }
                input(id="audit-action", placeholder="member.removed", bind:value=action)
            }
            div(class="field") {
                label(r#for="audit-actor") { "Actor" }
                select(id="audit-actor", on:change=actor_picked) {
                    option(value="") { "Anyone" }
                    (move || members.get_clone().into_iter().map(|m| {
                        let label = m.email.clone();
                        view! { option(value=m.user_id.clone()) { (label) } }
                    }).collect::<Vec<View>>())
                }
            }
            div(class="field") {
                label(r#for="audit-from") { "From" }
                input(id="audit-from", r#type="date", bind:value=from)
            }
            div(class="field") {
                label(r#for="audit-to") { "To" }
                input(id="audit-to", r#type="date", bind:value=to)
            }
            button(r#type="submit", class="secondary", id="audit-apply") { "Apply" }
        }
        (loaded(entries, 8, retry, move |page| {
            if page.items.is_empty() {
                return view! { Empty(title="No entries") { p(class="muted") { "Nothing matches these filters." } } };
            }
            let names = members.get_clone();
            let rows: Vec<View> = page.items.into_iter().map(|e| entry(e, &names)).collect();
            view! { ol(id="audit-entries", class="entries") { (rows) } }
        }))
        (pager.view("Audit log pages"))
    }
}

fn entry(e: AuditEntry, members: &[Member]) -> View {
    let actor = match &e.actor_user_id {
        Some(id) => members.iter().find(|m| m.user_id == *id).map(|m| m.email.clone()).unwrap_or_else(|| id.clone()),
        None => "An API key or the system".to_owned(),
    };
    let at = format::when(&e.created_at);
    let summary_actor = actor.clone();
    let AuditEntry { id, action, target, ip, user_agent, created_at, .. } = e;
    let summary_target = target.clone();
    view! {
        li {
            details {
                summary {
                    span(class="muted") { (at) } " " code { (action) } " " (summary_target)
                    span(class="muted") { " — " (summary_actor) }
                }
                dl(class="facts") {
                    dt { "Entry" } dd { code { (id) } }
                    dt { "Actor" } dd { (actor) }
                    dt { "Target" } dd { (target) }
                    dt { "Address" } dd { (ip) }
                    dt { "User agent" } dd(class="wrap") { (user_agent) }
                    dt { "Time" } dd { (created_at) }
                }
            }
        }
    }
}

/// The start of the day `date` (`YYYY-MM-DD`) plus `days`, in UTC, as
/// RFC 3339; `None` for no date.
fn day_start(date: &str, days: u32) -> Option<String> {
    if date.is_empty() {
        return None;
    }
    let at = Date::new(&format!("{date}T00:00:00Z").into());
    if at.get_time().is_nan() {
        return None;
    }
    at.set_time(at.get_time() + f64::from(days) * 86_400_000.0);
    Some(String::from(at.to_iso_string()))
}
