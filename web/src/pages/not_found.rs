//! Any path the console does not know, and pages the role may not see.

use sycamore::prelude::*;

use crate::components::Link;
use crate::routes::Route;

/// Says which path has no page, and offers the way back.
#[component(inline_props, derive(Debug))]
pub fn NotFound(path: String) -> View {
    view! {
        section(id="not-found", class="card") {
            h1 { "Page not found" }
            p { "There is no page at " code { (path) } "." }
            p { Link(to=Route::Dashboard) { "Go to the dashboard" } }
        }
    }
}

/// A page of the console the signed-in role does not allow.
#[component]
pub fn NotAllowed() -> View {
    view! {
        section(id="not-allowed", class="card") {
            h1 { "Not available to your role" }
            p { "Your role in this tenant does not include this page. An admin of the tenant can change your role." }
            p { Link(to=Route::Dashboard) { "Go to the dashboard" } }
        }
    }
}
