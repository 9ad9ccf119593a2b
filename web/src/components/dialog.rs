//! Dialogs on the browser's modal `<dialog>`: the rest of the page is inert
//! while one is open (focus stays inside), Escape closes it, and focus goes
//! back to what opened it.

use std::cell::RefCell;
use std::rc::Rc;

use sycamore::prelude::*;
use sycamore::web::wasm_bindgen::JsCast;
use web_sys::{HtmlDialogElement, HtmlElement};

/// A modal dialog, shown while `open` is true.
#[component(inline_props, derive(Debug))]
pub fn Dialog(id: &'static str, title: &'static str, open: Signal<bool>, children: Children) -> View {
    let node = create_node_ref();
    let opener: Rc<RefCell<Option<HtmlElement>>> = Rc::default();
    create_effect(move || {
        let wanted = open.get();
        let Some(dialog) = node.try_get().and_then(|n| n.dyn_into::<HtmlDialogElement>().ok()) else { return };
        if wanted && !dialog.open() {
            *opener.borrow_mut() = document().active_element().and_then(|e| e.dyn_into::<HtmlElement>().ok());
            let _ = dialog.show_modal();
        } else if !wanted && dialog.open() {
            dialog.close();
        }
        if !wanted {
            if let Some(opener) = opener.borrow_mut().take() {
                let _ = opener.focus();
            }
        }
    });
    let title_id = format!("{id}-title");
    let labelled_by = title_id.clone();
    let children = children.call();
    view! {
        dialog(
            r#ref=node,
            id=id,
            aria-labelledby=labelled_by,
            on:close=move |_| open.set(false),
        ) {
            h2(id=title_id) { (title) }
            (children)
        }
    }
}

/// A question with Cancel and a confirming button, asked while `asking`
/// holds it; the button calls its action and closes.
#[derive(Clone)]
pub struct Question {
    pub text: String,
    /// The confirming button's words ("Remove").
    pub confirm: &'static str,
    pub action: Rc<dyn Fn()>,
}

impl std::fmt::Debug for Question {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Question").field("text", &self.text).finish()
    }
}

impl PartialEq for Question {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text && Rc::ptr_eq(&self.action, &other.action)
    }
}

/// The confirmation dialog of a page.
#[component(inline_props, derive(Debug))]
pub fn Confirm(id: &'static str, asking: Signal<Option<Question>>) -> View {
    let open = create_signal(false);
    create_effect(move || open.set(asking.with(Option::is_some)));
    create_effect(move || {
        if !open.get() {
            asking.set_silent(None);
        }
    });
    let confirm = move |_| {
        if let Some(question) = asking.get_clone() {
            (question.action)();
        }
        open.set(false);
    };
    view! {
        Dialog(id=id, title="Are you sure?", open=open) {
            p(class="question") { (move || asking.with(|q| q.as_ref().map(|q| q.text.clone()).unwrap_or_default())) }
            div(class="actions") {
                button(r#type="button", class="secondary", on:click=move |_| open.set(false)) { "Cancel" }
                button(r#type="button", class="danger", id=format!("{id}-confirm"), on:click=confirm) {
                    (move || asking.with(|q| q.as_ref().map(|q| q.confirm).unwrap_or("Confirm")))
                }
            }
        }
    }
}

/// What removing a row of a list needs: the client, the page's question,
/// where failures show, and the list's reload counter.
#[derive(Clone, Debug)]
pub struct Deleting {
    pub client: crate::api::Client,
    pub asking: Signal<Option<Question>>,
    pub failure: Signal<Option<crate::api::ApiError>>,
    pub reloads: Signal<u32>,
}

impl Deleting {
    /// A click handler that asks `text`; confirmed, it sends `DELETE path`,
    /// then shows why it failed, if it did, and reloads the list.
    pub fn ask(&self, text: String, confirm: &'static str, path: String) -> impl Fn(web_sys::MouseEvent) + 'static {
        let this = self.clone();
        move |_| {
            let (deleting, path) = (this.clone(), path.clone());
            let action = Rc::new(move || {
                let (deleting, path) = (deleting.clone(), path.clone());
                super::spawn(async move {
                    deleting.failure.set(deleting.client.delete(&path).await.err());
                    deleting.reloads.update(|n| *n += 1);
                });
            });
            this.asking.set(Some(Question { text: text.clone(), confirm, action }));
        }
    }
}
