//! Cursor pagination: the API answers a page and the cursor of the next;
//! the pager keeps the cursors of the pages before, for going back.

use sycamore::prelude::*;

use super::{fetch, Load};
use crate::api::wire::{FromJson, Page};
use crate::api::{Client, Query};

/// The page a list shows, and the way to the next and previous ones.
#[derive(Clone, Copy, Debug)]
pub struct Pager {
    /// Cursors of the pages before the current one (the first page's is
    /// `None`).
    before: Signal<Vec<Option<String>>>,
    current: Signal<Option<String>>,
    next: Signal<Option<String>>,
}

impl Pager {
    pub fn new() -> Self {
        Self { before: create_signal(Vec::new()), current: create_signal(None), next: create_signal(None) }
    }

    /// The cursor of the page to load (tracked: a change reloads).
    pub fn cursor(self) -> Option<String> {
        self.current.get_clone()
    }

    /// The next page's cursor, from the answer just loaded.
    pub fn loaded(self, next: Option<String>) {
        self.next.set(next);
    }

    /// Back to the first page (the filters changed).
    pub fn reset(self) {
        self.before.set(Vec::new());
        self.next.set(None);
        self.current.set(None);
    }

    fn forward(self) {
        if let Some(next) = self.next.get_clone() {
            self.before.update(|b| b.push(self.current.get_clone_untracked()));
            self.current.set(Some(next));
        }
    }

    fn back(self) {
        let mut before = self.before.get_clone_untracked();
        if let Some(previous) = before.pop() {
            self.before.set(before);
            self.current.set(previous);
        }
    }

    /// Previous and Next buttons, and which page this is.
    pub fn view(self, label: &'static str) -> View {
        let page = move || format!("Page {}", self.before.with(Vec::len) + 1);
        view! {
            nav(class="pager", aria-label=label) {
                button(r#type="button", class="secondary", disabled=move || self.before.with(Vec::is_empty),
                    on:click=move |_| self.back()) { "Previous" }
                span(class="muted") { (page) }
                button(r#type="button", class="secondary", disabled=move || self.next.with(Option::is_none),
                    on:click=move |_| self.forward()) { "Next" }
            }
        }
    }
}

impl Default for Pager {
    fn default() -> Self {
        Self::new()
    }
}

/// Loads the pager's page of `T` into `load`: the path `query` builds (it
/// may read filters and a reload counter, each change loads again) with the
/// pager's cursor; the answer's `next` goes back to the pager.
pub fn load_pages<T: FromJson + 'static>(
    client: Client,
    load: Signal<Load<Page<T>>>,
    pager: Pager,
    query: impl Fn() -> Query + 'static,
) {
    create_effect(move || {
        let path = query().with_some("cursor", pager.cursor()).build();
        let client = client.clone();
        fetch(load, async move {
            let page: Page<T> = client.get(&path).await?;
            pager.loaded(page.next.clone());
            Ok(page)
        });
    });
}
