//! Tenantry's tenant admin console: a Sycamore single-page application,
//! compiled to wasm32 and served by nginx (production) or by the API's
//! console port (development), with the API under `/api/`.
//!
//! `routes` names the pages and their paths, `navigation` moves between
//! them without reloading, `api` talks to the API, `session` knows who is
//! signed in, `pages` are the screens (one file each) and `components` the
//! pieces they share. The root below wires them together.

pub mod api;
pub mod components;
pub mod navigation;
pub mod pages;
pub mod routes;
pub mod session;

use sycamore::prelude::*;

use crate::components::Frame;
use crate::navigation::{after_sign_in, sign_in_href, Navigator};
use crate::routes::Route;
use crate::session::{Session, SessionState};

/// Mounts the console on the page.
pub fn start() {
    console_error_panic_hook::set_once();
    sycamore::render(Console);
}

/// The root: navigation and session in context, the page of the current
/// route in the frame.
#[component]
fn Console() -> View {
    let navigator = Navigator::provide();
    let session = Session::provide();
    follow_the_session(navigator, &session);
    // A new page only when the route changes, not on every history event
    // (a fragment change must not wipe a half-filled form).
    let route = create_selector(move || navigator.route().get_clone());
    create_effect(move || {
        document().set_title(&format!("{} · Tenantry", route.with(Route::title)));
    });
    view! {
        Frame {
            (move || pages::page(route.get_clone()))
        }
    }
}

/// Sends the signed-out away from pages that need a session (to sign in,
/// then back) and the signed-in away from the sign-in page, in one place.
fn follow_the_session(navigator: Navigator, session: &Session) {
    let state = session.state();
    create_effect(move || {
        let route = navigator.route().get_clone();
        let target = state.with(|state| match state {
            SessionState::SignedOut if route.needs_session() => Some(sign_in_href()),
            SessionState::SignedIn(_) if route == Route::SignIn => Some(after_sign_in()),
            _ => None,
        });
        if let Some(href) = target {
            // After this update has settled, not in the middle of it.
            sycamore::web::queue_microtask(move || navigator.replace(&href));
        }
    });
}
