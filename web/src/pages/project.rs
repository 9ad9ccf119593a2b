//! `/projects/{id}`: one project — its name and description edited, archived
//! or restored, deleted — and its files: uploaded straight to storage with
//! a progress bar, downloaded, deleted. Changes carry the version read
//! (`If-Match`), so two people editing at once cannot overwrite each other
//! unknowingly.

use std::rc::Rc;

use sycamore::prelude::*;
use sycamore::web::events::SubmitEvent;
use sycamore::web::wasm_bindgen::JsCast;

use super::projects::status_name;
use crate::api::wire::{FileUpload, NewFile, Page, Project, ProjectChange, ProjectFile, ProjectStatus, StorageRequest};
use crate::api::{idempotency_key, upload, ApiError, Client, Me, Query};
use crate::components::{
    fetch, format, load_pages, loaded, Confirm, Deleting, Empty, Field, FormError, Link, Load, Pager, Question,
};
use crate::navigation::use_navigator;
use crate::routes::Route;
use crate::session::use_session;

/// Whether `me` may `action` on a project of `owner`: on any, or on their own.
fn may(me: &Me, permission: &str, owner: Option<&str>) -> bool {
    me.may(permission) || (me.may(&format!("{permission}:own")) && owner == Some(me.user_id.to_string().as_str()))
}

#[component(inline_props, derive(Debug))]
pub fn Project(me: Rc<Me>, id: String) -> View {
    let client = use_session().client();
    let project = create_signal(Load::<Project>::Loading);
    let reloads = create_signal(0u32);
    {
        let client = client.clone();
        let id = id.clone();
        create_effect(move || {
            reloads.track();
            let client = client.clone();
            let path = format!("/api/projects/{id}");
            fetch(project, async move { client.get(&path).await });
        });
    }
    let retry = move || reloads.update(|n| *n += 1);
    let page = loaded(project, 4, retry, move |p| {
        let owner = p.owner_id.clone();
        let may_files = may(&me, "files:create", owner.as_deref());
        let may_delete_files = may(&me, "files:delete", owner.as_deref());
        let (me, client, id) = (me.clone(), client.clone(), p.id.clone());
        view! {
            Details(me=me, project=p, loaded=project)
            Files(client=client, project=id, may_upload=may_files, may_delete=may_delete_files)
        }
    });
    view! {
        p(class="crumbs") { Link(to=Route::Projects) { "Projects" } }
        (page)
    }
}

/// The project's fields, edited in place when the role allows it.
#[component(inline_props, derive(Debug))]
fn Details(me: Rc<Me>, project: Project, loaded: Signal<Load<Project>>) -> View {
    let client = use_session().client();
    let navigator = use_navigator();
    let owner = project.owner_id.clone();
    let may_update = may(&me, "projects:update", owner.as_deref());
    let may_delete = may(&me, "projects:delete", owner.as_deref());
    let name = create_signal(project.name.clone());
    let description = create_signal(project.description.clone());
    let error = create_signal(None::<ApiError>);
    let saved = create_signal(false);
    let asking = create_signal(None::<Question>);
    let name_error = create_memo(move || error.with(|e| e.as_ref().and_then(|e| e.field("name")).map(str::to_owned)));
    let description_error =
        create_memo(move || error.with(|e| e.as_ref().and_then(|e| e.field("description")).map(str::to_owned)));
    let path = format!("/api/projects/{}", project.id);
    let if_match = format!("\"{}\"", project.version);
    let change = {
        let client = client.clone();
        let path = path.clone();
        let if_match = if_match.clone();
        move |body: ProjectChange| {
            let client = client.clone();
            let path = path.clone();
            let if_match = if_match.clone();
            saved.set(false);
            crate::components::spawn(async move {
                match client.patch::<_, Project>(&path, &body, &[("If-Match", if_match)]).await {
                    Ok(changed) => {
                        error.set(None);
                        saved.set(true);
                        loaded.set(Load::Ready(changed));
                    }
                    Err(failure) => error.set(Some(failure)),
                }
            });
        }
    };
    let submit = {
        let change = change.clone();
        move |event: SubmitEvent| {
            event.prevent_default();
            change(ProjectChange {
                name: Some(name.get_clone().trim().to_owned()),
                description: Some(description.get_clone()),
                status: None,
            });
        }
    };
    let archived = project.status == ProjectStatus::Archived;
    let toggle = {
        let change = change.clone();
        move |_| {
            let status = if archived { ProjectStatus::Active } else { ProjectStatus::Archived };
            change(ProjectChange { status: Some(status), ..ProjectChange::default() });
        }
    };
    let delete = {
        let text = format!("Delete the project {} and all its files? This cannot be undone.", project.name);
        move |_| {
            let client = client.clone();
            let path = path.clone();
            let if_match = if_match.clone();
            asking.set(Some(Question {
                text: text.clone(),
                confirm: "Delete",
                action: Rc::new(move || {
                    let client = client.clone();
                    let path = path.clone();
                    let if_match = if_match.clone();
                    crate::components::spawn(async move {
                        match client.call_delete(&path, &[("If-Match", if_match)]).await {
                            Ok(()) => navigator.go(&Route::Projects.path()),
                            Err(failure) => error.set(Some(failure)),
                        }
                    });
                }),
            }));
        }
    };
    let status = status_name(project.status);
    let updated = format!("Updated {}", format::when(&project.updated_at));
    let title = project.name.clone();
    let editor = if may_update {
        view! {
            form(id="project-edit", on:submit=submit, novalidate=true) {
                Field(id="edit-name", label="Name", required=true, autocomplete="off", value=name, error=name_error)
                Field(id="edit-description", label="Description", autocomplete="off", value=description,
                    error=description_error)
                div(class="actions") {
                    button(id="edit-submit", r#type="submit") { "Save" }
                    button(id="project-archive", r#type="button", class="secondary", on:click=toggle) {
                        (if archived { "Restore" } else { "Archive" })
                    }
                    (if may_delete {
                        view! { button(id="project-delete", r#type="button", class="danger", on:click=delete.clone()) { "Delete" } }
                    } else {
                        view! {}
                    })
                }
            }
        }
    } else {
        let description = project.description.clone();
        view! { p { (description) } }
    };
    view! {
        div(class="page-head") {
            h1(id="project-title") { (title) }
            span(class=format!("status status-{status}"), id="project-status") { (status) }
        }
        p(class="muted") { (updated) }
        section(class="card", aria-label="Project details") {
            (editor)
            FormError(id="project-edit-error", error=*error, shown=&["name", "description"])
            p(class="done", aria-live="polite") { (move || if saved.get() { "Saved." } else { "" }) }
        }
        Confirm(id="project-confirm", asking=asking)
    }
}

/// The project's files: a list, an upload with progress, downloads.
#[component(inline_props, derive(Debug))]
fn Files(client: Client, project: String, may_upload: bool, may_delete: bool) -> View {
    let files = create_signal(Load::<Page<ProjectFile>>::Loading);
    let pager = Pager::new();
    let reloads = create_signal(0u32);
    let failure = create_signal(None::<ApiError>);
    let asking = create_signal(None::<Question>);
    let base = format!("/api/projects/{project}/files");
    {
        let base = base.clone();
        load_pages(client.clone(), files, pager, move || {
            reloads.track();
            Query::new(base.clone())
        });
    }
    let retry = move || reloads.update(|n| *n += 1);
    let deleting = Deleting { client: client.clone(), asking, failure, reloads };
    let list_base = base.clone();
    let uploader = if may_upload {
        view! { Uploader(client=client, base=base, uploaded=reloads) }
    } else {
        view! {}
    };
    let list = loaded(files, 3, retry, move |page| {
        if page.items.is_empty() {
            return view! { Empty(title="No files yet") { p(class="muted") { "Files uploaded to the project show here." } } };
        }
        let rows: Vec<View> = page.items.into_iter().map(|f| file_row(f, &deleting, &list_base, may_delete)).collect();
        view! {
            div(class="table-wrap") {
                table(id="files-table") {
                    thead { tr {
                        th(scope="col") { "Name" } th(scope="col") { "Size" } th(scope="col") { "Status" }
                        th(scope="col") { "Added" } th(scope="col") { span(class="visually-hidden") { "Actions" } }
                    } }
                    tbody { (rows) }
                }
            }
        }
    });
    view! {
        section(class="card", aria-labelledby="files-title") {
            h2(id="files-title") { "Files" }
            (uploader)
            FormError(id="files-error", error=*failure)
            (list)
            (pager.view("File pages"))
        }
        Confirm(id="files-confirm", asking=asking)
    }
}

fn file_row(f: ProjectFile, deleting: &Deleting, base: &str, may_delete: bool) -> View {
    let path = format!("{base}/{}", f.id);
    let failure = deleting.failure;
    let download = if f.status == "ready" {
        let client = deleting.client.clone();
        let path = format!("{path}/download");
        let label = format!("Download {}", f.name);
        let go = move |_| {
            let client = client.clone();
            let path = path.clone();
            crate::components::spawn(async move {
                match client.get::<StorageRequest>(&path).await {
                    Ok(request) => {
                        let _ = window().location().assign(&request.url);
                    }
                    Err(error) => failure.set(Some(error)),
                }
            });
        };
        view! { button(r#type="button", class="secondary small", aria-label=label, on:click=go) { "Download" } }
    } else {
        view! {}
    };
    let delete = if may_delete {
        let text = format!("Delete the file {}?", f.name);
        let label = format!("Delete {}", f.name);
        let ask = deleting.ask(text, "Delete", path);
        view! { button(r#type="button", class="danger small", aria-label=label, on:click=ask) { "Delete" } }
    } else {
        view! {}
    };
    let size = format::bytes(f.size);
    let added = format::when(&f.created_at);
    let status_class = format!("status status-{}", f.status);
    let status = f.status;
    let row_name = f.name.clone();
    let name = f.name;
    let content_type = f.content_type;
    view! {
        tr(data-name=row_name) {
            td(class="wrap") { (name) br {} span(class="muted") { (content_type) } }
            td { (size) }
            td { span(class=status_class) { (status) } }
            td { (added) }
            td(class="row-actions") { (download) (delete) }
        }
    }
}

/// Where an upload stands.
#[derive(Clone, Debug, PartialEq)]
enum Upload {
    Idle,
    Sending { name: String, fraction: f64 },
    Done(String),
    Failed(String),
}

/// A file input and the progress of its upload: create the file (the API
/// signs an upload URL), send the bytes straight to storage, complete.
#[component(inline_props, derive(Debug))]
fn Uploader(client: Client, base: String, uploaded: Signal<u32>) -> View {
    let state = create_signal(Upload::Idle);
    let error = create_signal(None::<ApiError>);
    let input = create_node_ref();
    let submit = move |event: SubmitEvent| {
        event.prevent_default();
        let Some(file) = input
            .try_get()
            .and_then(|n| n.dyn_into::<web_sys::HtmlInputElement>().ok())
            .and_then(|i| i.files())
            .and_then(|files| files.get(0))
        else {
            state.set(Upload::Failed("Choose a file first.".into()));
            return;
        };
        if matches!(state.get_clone(), Upload::Sending { .. }) {
            return;
        }
        let client = client.clone();
        let base = base.clone();
        error.set(None);
        crate::components::spawn(async move {
            let name = file.name();
            let content_type =
                if file.type_().is_empty() { "application/octet-stream".to_owned() } else { file.type_() };
            let body = NewFile { name: name.clone(), content_type, size: file.size() as i64 };
            state.set(Upload::Sending { name: name.clone(), fraction: 0.0 });
            let created =
                client.post_with::<_, FileUpload>(&base, &body, &[("Idempotency-Key", idempotency_key())]).await;
            let created = match created {
                Ok(created) => created,
                Err(failure) => {
                    state.set(Upload::Idle);
                    error.set(Some(failure));
                    return;
                }
            };
            let progress_name = name.clone();
            let sent = upload(&created.upload, &file, move |fraction| {
                state.set(Upload::Sending { name: progress_name.clone(), fraction });
            })
            .await;
            if let Err(problem) = sent {
                state.set(Upload::Failed(problem));
                return;
            }
            let complete = format!("{base}/{}/complete", created.file.id);
            match client.post::<_, ProjectFile>(&complete, &serde_json::json!({})).await {
                Ok(_) => state.set(Upload::Done(format!("{name} is uploaded."))),
                Err(failure) => {
                    state.set(Upload::Idle);
                    error.set(Some(failure));
                }
            }
            uploaded.update(|n| *n += 1);
        });
    };
    view! {
        form(id="upload-form", class="inline-form", on:submit=submit) {
            div(class="field") {
                label(r#for="upload-file") { "File" }
                input(id="upload-file", r#type="file", r#ref=input)
            }
            button(id="upload-submit", r#type="submit") { "Upload" }
        }
        div(id="upload-status", aria-live="polite") {
            (move || match state.get_clone() {
                Upload::Idle => view! {},
                Upload::Sending { name, fraction } => {
                    let percent = (fraction * 100.0).round() as u32;
                    let label = format!("Uploading {name}: {percent}%");
                    let text = label.clone();
                    let value = percent.to_string();
                    view! {
                        label(r#for="upload-progress") { (label) }
                        progress(id="upload-progress", max="100", value=value) { (text) }
                    }
                }
                Upload::Done(message) => view! { p(class="done") { (message) } },
                Upload::Failed(message) => view! { p(class="error") { (message) } },
            })
        }
        FormError(id="upload-error", error=*error)
    }
}
