//! Moving between pages without reloading: the current [`Route`] is a
//! signal, changed by [`Navigator::go`] (a new history entry) or
//! [`Navigator::replace`] (redirects), and by the browser's back and
//! forward buttons (`popstate`). Also what the location's query and
//! fragment carry.

use sycamore::prelude::*;
use sycamore::web::wasm_bindgen::closure::Closure;
use sycamore::web::wasm_bindgen::{JsCast, JsValue};
use web_sys::UrlSearchParams;

use crate::routes::Route;

/// The current route, and the way to change it. Provided at the root.
#[derive(Clone, Copy, Debug)]
pub struct Navigator {
    route: Signal<Route>,
}

/// The [`Navigator`] provided at the root.
pub fn use_navigator() -> Navigator {
    use_context()
}

impl Navigator {
    /// Reads the route from the location, follows the history, and
    /// provides itself to the components below.
    pub fn provide() -> Self {
        let navigator = Self { route: create_signal(current_route()) };
        let on_history_move = Closure::<dyn Fn()>::new(move || navigator.route.set(current_route()));
        let _ = window().add_event_listener_with_callback("popstate", on_history_move.as_ref().unchecked_ref());
        // The listener lives as long as the page: nothing to release.
        on_history_move.forget();
        provide_context(navigator);
        navigator
    }

    pub fn route(self) -> ReadSignal<Route> {
        *self.route
    }

    /// Goes to `href` (a path, with any query), as a new history entry.
    pub fn go(self, href: &str) {
        if let Ok(history) = window().history() {
            let _ = history.push_state_with_url(&JsValue::NULL, "", Some(href));
        }
        self.arrive();
    }

    /// Goes to `href` in place of the current entry: the back button skips
    /// where a redirect came from.
    pub fn replace(self, href: &str) {
        if let Ok(history) = window().history() {
            let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(href));
        }
        self.arrive();
    }

    fn arrive(self) {
        self.route.set(current_route());
        window().scroll_to_with_x_and_y(0.0, 0.0);
        // Keyboard and screen-reader users start at the new content, not
        // at the link they followed.
        sycamore::web::queue_microtask(|| {
            if let Some(main) =
                document().get_element_by_id("main").and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
            {
                let _ = main.focus();
            }
        });
    }
}

fn current_route() -> Route {
    Route::parse(&window().location().pathname().unwrap_or_default())
}

/// A parameter of the location's query (`?next=…`), decoded.
pub fn query_param(name: &str) -> Option<String> {
    params(&window().location().search().unwrap_or_default()).and_then(|p| p.get(name))
}

/// A parameter of the location's fragment (`#token=…`), which browsers
/// never send to a server.
pub fn fragment_param(name: &str) -> Option<String> {
    params(window().location().hash().unwrap_or_default().trim_start_matches('#')).and_then(|p| p.get(name))
}

fn params(text: &str) -> Option<UrlSearchParams> {
    UrlSearchParams::new_with_str(text).ok()
}

/// The sign-in page, to come back afterwards to where the visitor is (the
/// dashboard needs no reminder): path and query, so that a filtered list
/// opens filtered.
pub fn sign_in_href() -> String {
    let location = window().location();
    let path = location.pathname().unwrap_or_default();
    let sign_in = Route::SignIn.path();
    if Route::parse(&path) == Route::Dashboard {
        return sign_in;
    }
    let here = format!("{path}{}", location.search().unwrap_or_default());
    match params("") {
        Some(query) => {
            query.append("next", &here);
            format!("{sign_in}?{}", String::from(query.to_string()))
        }
        None => sign_in,
    }
}

/// Where to go once signed in: the `next` of the query when it names a page
/// of the console that needs a session (a path of ours, never another
/// site), else the dashboard.
pub fn after_sign_in() -> String {
    query_param("next")
        .filter(|next| next.starts_with('/') && !next.starts_with("//") && !next.contains('\\'))
        .filter(|next| Route::parse(next.split(['?', '#']).next().unwrap_or_default()).needs_session())
        .unwrap_or_else(|| Route::Dashboard.path())
}
