//! The frame of every page: a skip link, the top bar (the console's name,
//! its navigation, who is signed in and the way out), and the `main`
//! region the page goes in.

use sycamore::prelude::*;
use sycamore::web::events::MouseEvent;
use sycamore::web::wasm_bindgen::JsCast;

use super::Link;
use crate::routes::Route;
use crate::session::{use_session, SessionState};

/// The top bar, then `children` in `<main id="main">`.
#[component(inline_props, derive(Debug))]
pub fn Frame(children: Children) -> View {
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
        header(class="topbar") {
            h1 { "Tenantry" }
            span(class="subtitle") { "Tenant admin console" }
            Account {}
        }
        main(id="main", tabindex="-1") { (children) }
    }
}

/// Who is signed in and a sign-out button, or a link to sign in.
#[component]
fn Account() -> View {
    let session = use_session();
    let state = session.state();
    let leaving = create_signal(false);
    let sign_out = move |_| {
        leaving.set(true);
        let session = session.clone();
        wasm_bindgen_futures::spawn_local(async move {
            session.sign_out().await;
            leaving.set(false);
        });
    };
    view! {
        nav(class="account", aria-label="Account") {
            (move || match state.get_clone() {
                SessionState::Restoring => view! {},
                SessionState::SignedOut => view! { Link(to=Route::SignIn, id="top-sign-in") { "Sign in" } },
                SessionState::SignedIn(me) => {
                    let who = format!("{} · {}", me.name(), me.tenant.name);
                    view! {
                        Link(to=Route::Home) { "Home" }
                        span(id="signed-in-as") { (who) }
                        button(id="sign-out", r#type="button", disabled=move || leaving.get(), on:click=sign_out.clone()) {
                            "Sign out"
                        }
                    }
                }
            })
        }
    }
}
