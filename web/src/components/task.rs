//! Requests a component starts, tied to the component: once it is gone
//! (the user moved on, the session ended), the request's continuation does
//! not run, so it never writes to signals that no longer exist.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use sycamore::prelude::*;

/// Runs `task` for as long as the current reactive scope lives.
pub fn spawn(task: impl Future<Output = ()> + 'static) {
    let alive = create_signal(());
    wasm_bindgen_futures::spawn_local(Scoped { alive, task: Box::pin(task) });
}

struct Scoped {
    alive: Signal<()>,
    task: Pin<Box<dyn Future<Output = ()>>>,
}

impl Future for Scoped {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if !self.alive.is_alive() {
            return Poll::Ready(());
        }
        self.task.as_mut().poll(cx)
    }
}
