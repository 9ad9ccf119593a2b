//! Copies a text to the clipboard, and says so.

use sycamore::prelude::*;
use wasm_bindgen_futures::JsFuture;

/// A button that copies `text`.
#[component(inline_props, derive(Debug))]
pub fn CopyButton(id: &'static str, text: String) -> View {
    let copied = create_signal(None::<bool>);
    let copy = move |_| {
        let text = text.clone();
        crate::components::spawn(async move {
            let clipboard = window().navigator().clipboard();
            copied.set(Some(JsFuture::from(clipboard.write_text(&text)).await.is_ok()));
        });
    };
    view! {
        button(id=id, r#type="button", class="secondary", on:click=copy) { "Copy" }
        span(class="muted", aria-live="polite") {
            (move || match copied.get() {
                Some(true) => "Copied.",
                Some(false) => "The browser did not allow copying; select the text instead.",
                None => "",
            })
        }
    }
}
