//! Any path the console does not know.

use sycamore::prelude::*;

use crate::components::Link;
use crate::routes::Route;

/// Says which path has no page, and offers the way home.
#[component(inline_props, derive(Debug))]
pub fn NotFound(path: String) -> View {
    view! {
        section(id="not-found", class="card") {
            h2 { "Page not found" }
            p { "There is no page at " code { (path) } "." }
            p { Link(to=Route::Home) { "Go to the console's home" } }
        }
    }
}
