//! The guard of pages that need a session: they are built only with the
//! signed-in user in hand, so none can render without one.

use std::rc::Rc;

use sycamore::prelude::*;

use crate::api::Me;
use crate::session::{use_session, SessionState};

/// `page` for the signed-in user; a placeholder while the session
/// restores; nothing once signed out, as the root then sends the visitor
/// to sign in.
pub fn signed_in(page: impl Fn(Rc<Me>) -> View + 'static) -> View {
    let state = use_session().state();
    view! {
        (move || match state.get_clone() {
            SessionState::Restoring => view! {
                p(id="session-restoring", class="muted", aria-live="polite") { "Restoring your session…" }
            },
            SessionState::SignedOut => view! {},
            SessionState::SignedIn(me) => page(me),
        })
    }
}
