//! The frame of every page: a skip link, the top bar (the console's name,
//! and for a signed-in user the tenant switcher and the user menu), the
//! navigation of what the role may see, a banner while the API cannot be
//! reached, and the `main` region the page goes in.

use sycamore::prelude::*;
use sycamore::web::events::MouseEvent;
use sycamore::web::wasm_bindgen::JsCast;

use super::Link;
use crate::navigation::use_navigator;
use crate::routes::{Route, NAVIGATION};
use crate::session::{use_session, SessionState};

/// The frame around `children`, which go in `<main id="main">`.
#[component(inline_props, derive(Debug))]
pub fn Frame(children: Children) -> View {
    let session = use_session();
    let state = session.state();
    let reachable = session.reachable();
    let signed_in = create_selector(move || state.with(|s| matches!(s, SessionState::SignedIn(_))));
    // Focus the content without touching the location: its fragment may
    // carry an emailed token.
    let skip = |event: MouseEvent| {
        event.prevent_default();
        if let Some(main) = document().get_element_by_id("main").and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = main.focus();
        }
    };
    let children = children.call();
    view! {
        a(class="skip-link", href="#main", on:click=skip) { "Skip to content" }
        div(class=move || if signed_in.get() { "layout signed-in" } else { "layout" }) {
            header(class="topbar") {
                span(class="brand") { "Tenantry" }
                (move || match state.get_clone() {
                    SessionState::SignedIn(me) => {
                        let name = me.name().to_owned();
                        view! {
                            TenantSwitcher(me=me)
                            UserMenu(name=name)
                        }
                    }
                    SessionState::SignedOut => view! {
                        nav(class="account", aria-label="Account") {
                            Link(to=Route::SignIn, id="top-sign-in") { "Sign in" }
                        }
                    },
                    SessionState::Restoring => view! {},
                })
            }
            (move || match state.get_clone() {
                SessionState::SignedIn(me) => {
                    let links: Vec<View> = NAVIGATION
                        .into_iter()
                        .filter(|route| route.permission().is_none_or(|p| me.may(p)))
                        .map(|route| {
                            let id = format!("nav-{}", route.path().trim_start_matches('/'));
                            let id = if id == "nav-" { "nav-dashboard".to_owned() } else { id };
                            let title = route.title();
                            view! { li { Link(to=route, id=id) { (title) } } }
                        })
                        .collect();
                    view! { nav(class="sidebar", aria-label="Console") { ul { (links) } } }
                }
                _ => view! {},
            })
            div(class="content") {
                (move || if reachable.get() {
                    view! {}
                } else {
                    view! {
                        div(id="unreachable", class="banner", role="alert") {
                            "The API cannot be reached. What you see may be out of date; the console keeps trying."
                        }
                    }
                })
                main(id="main", tabindex="-1") { (children) }
            }
        }
    }
}

/// The active tenant, and a choice of the others when there are some.
#[component(inline_props, derive(Debug))]
fn TenantSwitcher(me: std::rc::Rc<crate::api::Me>) -> View {
    if me.tenants.len() < 2 {
        let name = me.tenant.name.clone();
        return view! { span(id="tenant-name", class="tenant") { (name) } };
    }
    let session = use_session();
    let navigator = use_navigator();
    let failed = create_signal(None::<String>);
    let current = me.tenant.slug.clone();
    let options: Vec<View> = me
        .tenants
        .iter()
        .map(|t| {
            let selected = t.slug == current;
            let label = format!("{} ({})", t.name, t.slug);
            let slug = t.slug.clone();
            view! { option(value=slug, selected=selected) { (label) } }
        })
        .collect();
    let switch = move |event: web_sys::Event| {
        let Some(slug) =
            event.target().and_then(|t| t.dyn_into::<web_sys::HtmlSelectElement>().ok()).map(|s| s.value())
        else {
            return;
        };
        let session = session.clone();
        crate::components::spawn(async move {
            match session.switch_tenant(&slug).await {
                Ok(()) => navigator.go(&Route::Dashboard.path()),
                Err(error) => failed.set(Some(error.to_string())),
            }
        });
    };
    view! {
        div(class="tenant") {
            label(r#for="tenant-switcher", class="visually-hidden") { "Tenant" }
            select(id="tenant-switcher", on:change=switch) { (options) }
            span(class="error", aria-live="polite") { (move || failed.get_clone().unwrap_or_default()) }
        }
    }
}

/// The signed-in user's name, opening their account link and sign-out.
#[component(inline_props, derive(Debug))]
fn UserMenu(name: String) -> View {
    let session = use_session();
    let leaving = create_signal(false);
    let sign_out = move |_| {
        leaving.set(true);
        let session = session.clone();
        // Signing out ends this menu with the session: nothing to reset.
        crate::components::spawn(async move { session.sign_out().await });
    };
    view! {
        details(class="menu") {
            summary(id="user-menu") { span(id="signed-in-as") { (name) } }
            div(class="menu-items") {
                Link(to=Route::Account, id="menu-account") { "Your account" }
                button(id="sign-out", r#type="button", class="secondary", disabled=move || leaving.get(), on:click=sign_out) {
                    "Sign out"
                }
            }
        }
    }
}
