//! A link to a page of the console: a real `<a href>` (it can be opened in
//! a new tab, copied, read out as a link) whose plain click navigates in
//! place.

use sycamore::prelude::*;
use web_sys::MouseEvent;

use crate::navigation::use_navigator;
use crate::routes::Route;

/// `<a href>` to `to`, marked as the current page when it is.
#[component(inline_props, derive(Debug))]
pub fn Link(to: Route, #[prop(default, setter(into))] id: String, children: Children) -> View {
    let navigator = use_navigator();
    let href = to.path();
    let current = navigator.route();
    let here = to.clone();
    let follow = move |event: MouseEvent| {
        // Modified or non-primary clicks keep the browser's meaning (new
        // tab, new window, download).
        let plain =
            event.button() == 0 && !(event.ctrl_key() || event.meta_key() || event.shift_key() || event.alt_key());
        if plain && !event.default_prevented() {
            event.prevent_default();
            navigator.go(&to.path());
        }
    };
    let children = children.call();
    view! {
        a(
            href=href,
            id=(!id.is_empty()).then_some(id.clone()),
            aria-current=move || current.with(|route| *route == here).then_some("page"),
            on:click=follow,
        ) {
            (children)
        }
    }
}
