//! `/`: the tenant at a glance — members by role, pending invitations,
//! active API keys, projects, stored files, recent audit entries — each
//! shown when the role may read it, and the service's health.

use std::rc::Rc;

use sycamore::prelude::*;

use crate::api::wire::{AuditEntry, Overview, Page, StorageUsage};
use crate::api::Me;
use crate::components::{fetch, format, loaded, HealthCard, Link, Load};
use crate::routes::Route;
use crate::session::use_session;

#[component(inline_props, derive(Debug))]
pub fn Dashboard(me: Rc<Me>) -> View {
    let client = use_session().client();
    let overview = create_signal(Load::<Overview>::Loading);
    let usage = create_signal(Load::<StorageUsage>::Loading);
    let audit = create_signal(Load::<Page<AuditEntry>>::Loading);
    let may_audit = me.may("audit:read");
    let may_files = me.may("files:read");
    let load = {
        let client = client.clone();
        move || {
            let c = client.clone();
            fetch(overview, async move { c.get("/api/overview").await });
            if may_files {
                let c = client.clone();
                fetch(usage, async move { c.get("/api/files/usage").await });
            }
            if may_audit {
                let c = client.clone();
                fetch(audit, async move { c.get("/api/audit?limit=5").await });
            }
        }
    };
    load();
    let greeting = format!("Welcome, {}", me.name());
    let context = format!("{} · your role: {}", me.tenant.name, format::role(me.role()));
    let counts = loaded(overview, 2, load.clone(), move |o| tiles(&o));
    let stored = if may_files {
        loaded(usage, 1, load.clone(), |u| {
            let value = format::bytes(u.bytes);
            let detail = format!("in {} files", u.files);
            tile("tile-storage", "Stored", value, detail, None)
        })
    } else {
        view! {}
    };
    let activity = if may_audit {
        let entries = loaded(audit, 5, load, |page| recent(&page.items));
        view! {
            section(class="card", aria-labelledby="recent-title") {
                h2(id="recent-title") { "Recent activity" }
                (entries)
                p { Link(to=Route::Audit) { "The whole audit log" } }
            }
        }
    } else {
        view! {}
    };
    view! {
        h1 { "Dashboard" }
        p(class="muted", id="dashboard-context") { (greeting) " — " (context) }
        section(class="tiles", aria-label="The tenant at a glance") {
            (counts)
            (stored)
        }
        (activity)
        HealthCard {}
    }
}

fn tiles(o: &Overview) -> View {
    let mut tiles = Vec::new();
    if let Some([admins, users, viewers]) = o.members {
        let total = admins + users + viewers;
        let detail = format!("{admins} admins · {users} users · {viewers} viewers");
        tiles.push(tile("tile-members", "Members", total.to_string(), detail, Some(Route::Members)));
    }
    if let Some(n) = o.pending_invitations {
        tiles.push(tile("tile-invitations", "Pending invitations", n.to_string(), String::new(), Some(Route::Members)));
    }
    if let Some(n) = o.active_api_keys {
        tiles.push(tile("tile-api-keys", "Active API keys", n.to_string(), String::new(), Some(Route::ApiKeys)));
    }
    if let Some([active, archived]) = o.projects {
        let detail = format!("{archived} archived");
        tiles.push(tile("tile-projects", "Active projects", active.to_string(), detail, Some(Route::Projects)));
    }
    tiles.into_iter().collect::<Vec<View>>().into()
}

fn tile(id: &'static str, title: &'static str, value: String, detail: String, to: Option<Route>) -> View {
    let link = match to {
        Some(route) => view! { Link(to=route) { "Open" } },
        None => view! {},
    };
    view! {
        div(class="tile", id=id) {
            p(class="tile-title") { (title) }
            p(class="tile-value") { (value) }
            p(class="muted") { (detail) }
            (link)
        }
    }
}

fn recent(entries: &[AuditEntry]) -> View {
    if entries.is_empty() {
        return view! { p(class="muted") { "Nothing has happened yet." } };
    }
    let rows: Vec<View> = entries
        .iter()
        .map(|e| {
            let at = format::when(&e.created_at);
            let action = e.action.clone();
            let target = e.target.clone();
            view! { li { span(class="muted") { (at) } " " code { (action) } " " (target) } }
        })
        .collect();
    view! { ul(id="recent-activity", class="plain") { (rows) } }
}
