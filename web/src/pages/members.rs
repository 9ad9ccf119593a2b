//! `/members`: the tenant's members — searched, filtered by role, a page
//! at a time — with their roles changed and members removed; invitations
//! sent, listed and revoked. Every control is offered only when the role
//! allows it (`/api/auth/me` permissions); the API decides again.

use std::rc::Rc;

use sycamore::prelude::*;
use sycamore::web::events::SubmitEvent;
use sycamore::web::wasm_bindgen::JsCast;

use crate::api::wire::{Invitation, Invite, Member, Page, Role, RoleChange};
use crate::api::{idempotency_key, ApiError, Client, Me, Query};
use crate::components::{
    format, load_pages, loaded, Confirm, Deleting, Dialog, Empty, Field, FormError, Load, Pager, Question, RoleSelect,
};
use crate::session::use_session;

#[component(inline_props, derive(Debug))]
pub fn Members(me: Rc<Me>) -> View {
    let client = use_session().client();
    let members = create_signal(Load::<Page<Member>>::Loading);
    let pager = Pager::new();
    let search = create_signal(String::new());
    let applied_search = create_signal(String::new());
    let role_filter = create_signal(String::new());
    let reloads = create_signal(0u32);
    let failure = create_signal(None::<ApiError>);
    let asking = create_signal(None::<Question>);
    let inviting = create_signal(false);

    let may_update = me.may("members:update");
    let may_remove = me.may("members:delete");
    let may_invite = me.may("invitations:create");
    let may_see_invitations = me.may("invitations:read");

    load_pages(client.clone(), members, pager, move || {
        reloads.track();
        Query::new("/api/users").with("q", applied_search.get_clone()).with("role", role_filter.get_clone())
    });
    let search_submit = move |event: SubmitEvent| {
        event.prevent_default();
        applied_search.set(search.get_clone());
        pager.reset();
    };
    let role_picked = move |event: web_sys::Event| {
        if let Some(select) = event.target().and_then(|t| t.dyn_into::<web_sys::HtmlSelectElement>().ok()) {
            role_filter.set(select.value());
            pager.reset();
        }
    };

    let deleting = Deleting { client: client.clone(), asking, failure, reloads };
    let actions = MemberActions { deleting, me: me.clone() };
    let retry = move || reloads.update(|n| *n += 1);
    let invitation_reloads = create_signal(0u32);
    let list = loaded(members, 6, retry, move |page| {
        if page.items.is_empty() {
            return view! { Empty(title="No members match") { p(class="muted") { "Try another search or role." } } };
        }
        let rows: Vec<View> = page.items.into_iter().map(|m| actions.row(m, may_update, may_remove)).collect();
        view! {
            div(class="table-wrap") {
                table(id="members-table") {
                    thead { tr {
                        th(scope="col") { "Member" } th(scope="col") { "Role" }
                        th(scope="col") { "Joined" } th(scope="col") { span(class="visually-hidden") { "Actions" } }
                    } }
                    tbody { (rows) }
                }
            }
        }
    });
    let invitations = if may_see_invitations {
        let client = client.clone();
        let may_revoke = me.may("invitations:delete");
        view! { Invitations(client=client, reloads=invitation_reloads, may_revoke=may_revoke) }
    } else {
        view! {}
    };
    let invite = if may_invite {
        view! { InviteDialog(client=client, open=inviting, sent=invitation_reloads) }
    } else {
        view! {}
    };
    view! {
        div(class="page-head") {
            h1 { "Members" }
            (if may_invite {
                view! { button(id="invite-open", r#type="button", on:click=move |_| inviting.set(true)) { "Invite" } }
            } else {
                view! {}
            })
        }
        form(class="filters", role="search", on:submit=search_submit) {
            div(class="field") {
                label(r#for="member-search") { "Search by email or name" }
                input(id="member-search", r#type="search", bind:value=search)
            }
            div(class="field") {
                label(r#for="member-role-filter") { "Role" }
                select(id="member-role-filter", on:change=role_picked) {
                    option(value="") { "Any role" }
                    option(value="admin") { "Admin" }
                    option(value="user") { "User" }
                    option(value="viewer") { "Viewer" }
                }
            }
            button(r#type="submit", class="secondary") { "Search" }
        }
        FormError(id="members-error", error=*failure)
        (list)
        (pager.view("Members pages"))
        (invitations)
        (invite)
        Confirm(id="members-confirm", asking=asking)
    }
}

/// What a member's row can do, and where its failures show.
#[derive(Clone, Debug)]
struct MemberActions {
    deleting: Deleting,
    me: Rc<Me>,
}

impl MemberActions {
    fn row(&self, m: Member, may_update: bool, may_remove: bool) -> View {
        let who = if m.display_name.is_empty() { m.email.clone() } else { m.display_name.clone() };
        // The email under the name; once is enough when there is no name.
        let second_line = if m.display_name.is_empty() {
            view! {}
        } else {
            let email = m.email.clone();
            view! { br {} span(class="muted") { (email) } }
        };
        let email = m.email.clone();
        let joined = format::when(&m.joined_at);
        let is_me = m.user_id == self.me.user_id.to_string();
        let you = if is_me { " (you)" } else { "" };
        let role_cell = if may_update {
            let chosen = create_signal(m.role);
            let this = self.clone();
            let user_id = m.user_id.clone();
            let original = m.role;
            create_effect(move || {
                let role = chosen.get();
                if role != original {
                    this.change_role(user_id.clone(), role);
                }
            });
            let label = format!("Role of {}", m.email);
            let id = format!("role-{}", m.user_id);
            view! { span(class="inline-select") { RoleSelect(id=id, label="", hidden_label=label, value=chosen) } }
        } else {
            let role = format::role(m.role);
            view! { span(class="badge") { (role) } }
        };
        let remove = if may_remove {
            let text = format!("Remove {} from the tenant? Their sessions here end at once.", m.email);
            let label = format!("Remove {}", m.email);
            let ask = self.deleting.ask(text, "Remove", format!("/api/users/{}", m.user_id));
            view! { button(r#type="button", class="danger small", aria-label=label, on:click=ask) { "Remove" } }
        } else {
            view! {}
        };
        let row_email = email.clone();
        view! {
            tr(data-email=row_email) {
                td { strong { (who) (you) } (second_line) }
                td { (role_cell) }
                td { (joined) }
                td(class="row-actions") { (remove) }
            }
        }
    }

    fn change_role(&self, user_id: String, role: Role) {
        let this = self.clone();
        crate::components::spawn(async move {
            let done: Result<Member, _> =
                this.deleting.client.patch(&format!("/api/users/{user_id}"), &RoleChange { role }, &[]).await;
            this.deleting.failure.set(done.err());
            this.deleting.reloads.update(|n| *n += 1);
        });
    }
}

/// Pending (and recently settled) invitations, with revoke.
#[component(inline_props, derive(Debug))]
fn Invitations(client: Client, reloads: Signal<u32>, may_revoke: bool) -> View {
    let invitations = create_signal(Load::<Page<Invitation>>::Loading);
    let pager = Pager::new();
    let failure = create_signal(None::<ApiError>);
    let asking = create_signal(None::<Question>);
    let deleting = Deleting { client: client.clone(), asking, failure, reloads };
    load_pages(client.clone(), invitations, pager, move || {
        reloads.track();
        Query::new("/api/invitations")
    });
    let retry = move || reloads.update(|n| *n += 1);
    let list = loaded(invitations, 3, retry, move |page| {
        if page.items.is_empty() {
            return view! { Empty(title="No invitations") { p(class="muted") { "Invite people to give them a role in this tenant." } } };
        }
        let rows: Vec<View> = page
            .items
            .into_iter()
            .map(|i| {
                let revoke = if may_revoke && i.status == "pending" {
                    let text = format!("Revoke the invitation of {}? Its link stops working.", i.email);
                    let label = format!("Revoke the invitation of {}", i.email);
                    let ask = deleting.ask(text, "Revoke", format!("/api/invitations/{}", i.id));
                    view! { button(r#type="button", class="danger small", aria-label=label, on:click=ask) { "Revoke" } }
                } else {
                    view! {}
                };
                let role = format::role(i.role);
                let expires = format::when(&i.expires_at);
                let status_class = format!("status status-{}", i.status);
                let status = i.status;
                let row_email = i.email.clone();
                let email = i.email;
                view! {
                    tr(data-email=row_email) {
                        td { (email) }
                        td { span(class="badge") { (role) } }
                        td { span(class=status_class) { (status) } }
                        td { (expires) }
                        td(class="row-actions") { (revoke) }
                    }
                }
            })
            .collect();
        view! {
            div(class="table-wrap") {
                table(id="invitations-table") {
                    thead { tr {
                        th(scope="col") { "Email" } th(scope="col") { "Role" } th(scope="col") { "Status" }
                        th(scope="col") { "Expires" } th(scope="col") { span(class="visually-hidden") { "Actions" } }
                    } }
                    tbody { (rows) }
                }
            }
        }
    });
    view! {
        section(class="card", aria-labelledby="invitations-title") {
            h2(id="invitations-title") { "Invitations" }
            FormError(id="invitations-error", error=*failure)
            (list)
            (pager.view("Invitation pages"))
        }
        Confirm(id="invitations-confirm", asking=asking)
    }
}

/// The invitation form, in a dialog: an email and a role.
#[component(inline_props, derive(Debug))]
fn InviteDialog(client: Client, open: Signal<bool>, sent: Signal<u32>) -> View {
    let email = create_signal(String::new());
    let role = create_signal(Role::User);
    let error = create_signal(None::<ApiError>);
    let working = create_signal(false);
    let done = create_signal(None::<String>);
    let email_error = create_memo(move || error.with(|e| e.as_ref().and_then(|e| e.field("email")).map(str::to_owned)));
    // A fresh form each time it opens.
    create_effect(move || {
        if open.get() {
            email.set(String::new());
            error.set(None);
            done.set(None);
        }
    });
    let submit = move |event: SubmitEvent| {
        event.prevent_default();
        if working.get() {
            return;
        }
        working.set(true);
        let body = Invite { email: email.get_clone().trim().to_owned(), role: role.get() };
        let client = client.clone();
        crate::components::spawn(async move {
            let key = idempotency_key();
            match client.post_with::<_, Invitation>("/api/invitations", &body, &[("Idempotency-Key", key)]).await {
                Ok(invitation) => {
                    error.set(None);
                    done.set(Some(format!("Invitation sent to {}.", invitation.email)));
                    email.set(String::new());
                    sent.update(|n| *n += 1);
                }
                Err(failure) => error.set(Some(failure)),
            }
            working.set(false);
        });
    };
    view! {
        Dialog(id="invite-dialog", title="Invite a person", open=open) {
            form(id="invite-form", on:submit=submit, novalidate=true) {
                Field(id="invite-email", label="Email", kind="email", autocomplete="off", required=true, value=email, error=email_error)
                div(class="field") { RoleSelect(id="invite-role".to_owned(), label="Role", value=role) }
                FormError(id="invite-error", error=*error, shown=&["email"])
                p(id="invite-done", class="done", aria-live="polite") { (move || done.get_clone().unwrap_or_default()) }
                div(class="actions") {
                    button(r#type="button", class="secondary", on:click=move |_| open.set(false)) { "Close" }
                    button(id="invite-submit", r#type="submit", disabled=move || working.get()) { "Send the invitation" }
                }
            }
        }
    }
}
