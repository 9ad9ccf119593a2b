//! `/projects`: the tenant's projects — searched, filtered by status, a
//! page at a time — and new ones created.

use std::rc::Rc;

use sycamore::prelude::*;
use sycamore::web::events::SubmitEvent;
use sycamore::web::wasm_bindgen::JsCast;

use crate::api::wire::{Page, Project, ProjectChange, ProjectStatus};
use crate::api::{idempotency_key, ApiError, Me, Query};
use crate::components::{format, load_pages, loaded, Dialog, Empty, Field, FormError, Link, Load, Pager};
use crate::navigation::use_navigator;
use crate::routes::Route;
use crate::session::use_session;

#[component(inline_props, derive(Debug))]
pub fn Projects(me: Rc<Me>) -> View {
    let client = use_session().client();
    let projects = create_signal(Load::<Page<Project>>::Loading);
    let pager = Pager::new();
    let search = create_signal(String::new());
    let applied_search = create_signal(String::new());
    let status = create_signal("active".to_owned());
    let reloads = create_signal(0u32);
    let creating = create_signal(false);
    let may_create = me.may("projects:create");
    load_pages(client.clone(), projects, pager, move || {
        reloads.track();
        Query::new("/api/projects").with("q", applied_search.get_clone()).with("status", status.get_clone())
    });
    let search_submit = move |event: SubmitEvent| {
        event.prevent_default();
        applied_search.set(search.get_clone());
        pager.reset();
    };
    let status_picked = move |event: web_sys::Event| {
        if let Some(select) = event.target().and_then(|t| t.dyn_into::<web_sys::HtmlSelectElement>().ok()) {
            status.set(select.value());
            pager.reset();
        }
    };
    let retry = move || reloads.update(|n| *n += 1);
    let me_id = me.user_id.to_string();
    let list = loaded(projects, 6, retry, move |page| {
        if page.items.is_empty() {
            return view! {
                Empty(title="No projects here") {
                    p(class="muted") { "Create one, or look among the archived." }
                }
            };
        }
        let rows: Vec<View> = page
            .items
            .into_iter()
            .map(|p| {
                let route = Route::Project { id: p.id.clone() };
                let updated = format::when(&p.updated_at);
                let status = status_name(p.status);
                let mine = p.owner_id.as_deref() == Some(me_id.as_str());
                let description = p.description;
                let row_name = p.name.clone();
                let name = p.name;
                let status_class = format!("status status-{status}");
                let owner = if mine { "You" } else { "" };
                view! {
                    tr(data-name=row_name) {
                        td {
                            Link(to=route) { (name) }
                            br {}
                            span(class="muted clamp") { (description) }
                        }
                        td { span(class=status_class) { (status) } }
                        td { (owner) }
                        td { (updated) }
                    }
                }
            })
            .collect();
        view! {
            div(class="table-wrap") {
                table(id="projects-table") {
                    thead { tr {
                        th(scope="col") { "Project" } th(scope="col") { "Status" }
                        th(scope="col") { "Owner" } th(scope="col") { "Updated" }
                    } }
                    tbody { (rows) }
                }
            }
        }
    });
    view! {
        div(class="page-head") {
            h1 { "Projects" }
            (if may_create {
                view! { button(id="project-new", r#type="button", on:click=move |_| creating.set(true)) { "New project" } }
            } else {
                view! {}
            })
        }
        form(class="filters", role="search", on:submit=search_submit) {
            div(class="field") {
                label(r#for="project-search") { "Search by name" }
                input(id="project-search", r#type="search", bind:value=search)
            }
            div(class="field") {
                label(r#for="project-status-filter") { "Status" }
                select(id="project-status-filter", on:change=status_picked) {
                    option(value="active", selected=true) { "Active" }
                    option(value="archived") { "Archived" }
                    option(value="") { "Any" }
                }
            }
            button(r#type="submit", class="secondary") { "Search" }
        }
        (list)
        (pager.view("Project pages"))
        (if may_create { view! { NewProject(open=creating) } } else { view! {} })
    }
}

pub(super) fn status_name(status: ProjectStatus) -> &'static str {
    match status {
        ProjectStatus::Active => "active",
        ProjectStatus::Archived => "archived",
    }
}

#[component(inline_props, derive(Debug))]
fn NewProject(open: Signal<bool>) -> View {
    let client = use_session().client();
    let navigator = use_navigator();
    let name = create_signal(String::new());
    let description = create_signal(String::new());
    let error = create_signal(None::<ApiError>);
    let working = create_signal(false);
    let name_error = create_memo(move || error.with(|e| e.as_ref().and_then(|e| e.field("name")).map(str::to_owned)));
    let description_error =
        create_memo(move || error.with(|e| e.as_ref().and_then(|e| e.field("description")).map(str::to_owned)));
    let submit = move |event: SubmitEvent| {
        event.prevent_default();
        if working.get() {
            return;
        }
        working.set(true);
        let body = ProjectChange {
            name: Some(name.get_clone().trim().to_owned()),
            description: Some(description.get_clone()),
            status: None,
        };
        let client = client.clone();
        crate::components::spawn(async move {
            let key = idempotency_key();
            match client.post_with::<_, Project>("/api/projects", &body, &[("Idempotency-Key", key)]).await {
                Ok(project) => {
                    open.set(false);
                    // This page ends here: nothing of it to touch after.
                    navigator.go(&Route::Project { id: project.id }.path());
                }
                Err(failure) => {
                    error.set(Some(failure));
                    working.set(false);
                }
            }
        });
    };
    view! {
        Dialog(id="project-dialog", title="New project", open=open) {
            form(id="project-form", on:submit=submit, novalidate=true) {
                Field(id="project-name", label="Name", required=true, autocomplete="off", value=name, error=name_error)
                Field(id="project-description", label="Description (optional)", autocomplete="off", value=description,
                    error=description_error)
                FormError(id="project-error", error=*error, shown=&["name", "description"])
                div(class="actions") {
                    button(r#type="button", class="secondary", on:click=move |_| open.set(false)) { "Cancel" }
                    button(id="project-submit", r#type="submit", disabled=move || working.get()) { "Create" }
                }
            }
        }
    }
}
