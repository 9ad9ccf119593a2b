//! What the console's tabs share, since they share the refresh cookie:
//! one renewal at a time across all of them (the Web Locks API: a tab that
//! refreshed rotates the cookie the others would send), and word that the
//! session ended or changed (a `BroadcastChannel`), so that signing out in
//! one tab signs out the others.

use std::future::Future;

use sycamore::web::js_sys::{Function, Promise, Reflect};
use sycamore::web::wasm_bindgen::closure::Closure;
use sycamore::web::wasm_bindgen::prelude::wasm_bindgen;
use sycamore::web::wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{BroadcastChannel, MessageEvent};

/// The lock renewals of the session's tokens take.
pub const RENEWAL: &str = "tenantry-session-renewal";

const CHANNEL: &str = "tenantry-session";

#[wasm_bindgen]
extern "C" {
    /// `navigator.locks` (web-sys has it only behind an unstable flag).
    type LockManager;

    #[wasm_bindgen(method, catch)]
    fn request(this: &LockManager, name: &str, callback: &Function) -> Result<Promise, JsValue>;
}

fn lock_manager() -> Option<LockManager> {
    let locks = Reflect::get(&web_sys::window()?.navigator(), &JsValue::from_str("locks")).ok()?;
    (!locks.is_undefined() && !locks.is_null()).then(|| locks.unchecked_into())
}

/// Runs `work` holding the lock `name`, which one tab (and one task of a
/// tab) holds at a time. Where the browser lacks Web Locks (an origin that
/// is not secure), `work` runs at once.
pub async fn one_at_a_time<T>(name: &str, work: impl Future<Output = T>) -> T {
    let Some(locks) = lock_manager() else { return work.await };
    // The lock is held while the promise the callback returns is pending:
    // `held`, settled by `release` once the work is done.
    let mut release = None;
    let held = Promise::new(&mut |resolve, _| release = Some(resolve));
    let mut granted = None;
    let acquired = Promise::new(&mut |resolve, _| granted = Some(resolve));
    let (Some(release), Some(granted)) = (release, granted) else { return work.await };
    let callback = Closure::once_into_js(move |_lock: JsValue| -> Promise {
        let _ = granted.call0(&JsValue::NULL);
        held
    });
    if locks.request(name, callback.unchecked_ref()).is_err() {
        return work.await;
    }
    let _ = JsFuture::from(acquired).await;
    let result = work.await;
    let _ = release.call0(&JsValue::NULL);
    result
}

/// What one tab tells the others.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Word {
    /// Signed out (here or everywhere): the cookie's session is gone.
    SignedOut,
    /// Signed in, or moved to another tenant: the cookie holds a new
    /// session.
    SessionChanged,
}

impl Word {
    fn as_str(self) -> &'static str {
        match self {
            Word::SignedOut => "signed-out",
            Word::SessionChanged => "session-changed",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [Word::SignedOut, Word::SessionChanged].into_iter().find(|word| word.as_str() == text)
    }
}

/// Tells the console's other tabs (never this one).
pub fn tell_others(word: Word) {
    if let Ok(channel) = BroadcastChannel::new(CHANNEL) {
        let _ = channel.post_message(&JsValue::from_str(word.as_str()));
        channel.close();
    }
}

/// Calls `heard` with what the other tabs say, for as long as the page
/// lives.
pub fn listen(heard: impl Fn(Word) + 'static) {
    let Ok(channel) = BroadcastChannel::new(CHANNEL) else { return };
    let on_message = Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| {
        if let Some(word) = event.data().as_string().as_deref().and_then(Word::parse) {
            heard(word);
        }
    });
    channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // Both live as long as the page: nothing to release.
    on_message.forget();
    std::mem::forget(channel);
}
