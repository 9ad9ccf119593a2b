//! Who is signed in, as a signal in context: restoring (the page just
//! loaded and the refresh cookie may hold a session), signed out, or signed
//! in with the user, tenant, role and permissions of `/api/auth/me`. The
//! API [`Client`] lives beside it and signs the session out when the API
//! stops renewing it.
//!
//! The session keeps itself true while the page is open: every few seconds
//! (and when the tab comes back into view) it asks `/api/auth/me` again, so
//! a role changed or a membership removed by an admin shows within
//! seconds, and whether the API answers at all is known. Tabs tell each
//! other when the session ends or changes ([`tabs`]).

use std::rc::Rc;

use sycamore::prelude::*;
use sycamore::web::wasm_bindgen::closure::Closure;
use sycamore::web::wasm_bindgen::JsCast;

use crate::api::tabs::{self, Word};
use crate::api::{ApiError, Client, Credentials, Me};

/// How often an open console checks its session, in milliseconds.
const CHECK_EVERY_MS: i32 = 5_000;

/// Where the session stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionState {
    /// Just loaded: asking the API whether the cookie holds a session.
    Restoring,
    SignedOut,
    SignedIn(Rc<Me>),
}

/// The session and its client. Provided at the root; cheap to clone.
#[derive(Clone, Debug)]
pub struct Session {
    state: Signal<SessionState>,
    /// Why the last session ended, when it was not the user's doing.
    ended: Signal<Option<String>>,
    /// Whether the API answered the last request of the session check.
    reachable: Signal<bool>,
    client: Client,
}

/// The [`Session`] provided at the root.
pub fn use_session() -> Session {
    use_context()
}

impl Session {
    /// Provides the session to the components below, starts restoring it
    /// from the refresh cookie, and keeps it checked.
    pub fn provide() -> Self {
        let state = create_signal(SessionState::Restoring);
        let ended = create_signal(None);
        let client = Client::new(move || {
            if state.with_untracked(|s| matches!(s, SessionState::SignedIn(_))) {
                ended.set(Some("Your session has ended. Sign in again to go on.".into()));
            }
            state.set(SessionState::SignedOut);
        });
        let session = Self { state, ended, reachable: create_signal(true), client };
        provide_context(session.clone());
        let restoring = session.clone();
        wasm_bindgen_futures::spawn_local(async move { restoring.restore().await });
        session.follow_other_tabs();
        session.check_periodically();
        session
    }

    pub fn state(&self) -> ReadSignal<SessionState> {
        *self.state
    }

    /// Why the last session ended, if the API ended it.
    pub fn ended(&self) -> ReadSignal<Option<String>> {
        *self.ended
    }

    /// Whether the API answers.
    pub fn reachable(&self) -> ReadSignal<bool> {
        *self.reachable
    }

    /// The client that requests as the signed-in user.
    pub fn client(&self) -> Client {
        self.client.clone()
    }

    async fn restore(&self) {
        let restored = match self.client.refresh().await {
            Ok(_) => self.client.me().await.ok(),
            Err(_) => None,
        };
        // A sign-in that finished first wins over what the cookie said.
        if self.state.with_untracked(|state| *state == SessionState::Restoring) {
            self.state.set(restored.map_or(SessionState::SignedOut, |me| SessionState::SignedIn(Rc::new(me))));
        }
    }

    /// Signs in and loads who that is. The session starts at once when the
    /// account has one tenant; with several, the caller lets the user
    /// choose ([`enter`](Self::enter)).
    pub async fn sign_in(&self, credentials: &Credentials) -> Result<Rc<Me>, ApiError> {
        self.client.login(credentials).await?;
        match self.client.me().await {
            Ok(me) => {
                let me = Rc::new(me);
                self.ended.set(None);
                if me.tenants.len() <= 1 {
                    self.start(me.clone());
                }
                Ok(me)
            }
            Err(error) => {
                // Half a session is none: end the one just opened.
                let _ = self.client.logout().await;
                Err(error)
            }
        }
    }

    /// Starts the session just signed into in the tenant of `slug`.
    pub async fn enter(&self, me: Rc<Me>, slug: &str) -> Result<(), ApiError> {
        if me.tenant.slug == slug {
            self.start(me);
            return Ok(());
        }
        self.switch_tenant(slug).await
    }

    /// Moves the session to another of the user's tenants.
    pub async fn switch_tenant(&self, slug: &str) -> Result<(), ApiError> {
        self.client.switch_tenant(slug).await?;
        let me = self.client.me().await?;
        self.start(Rc::new(me));
        Ok(())
    }

    fn start(&self, me: Rc<Me>) {
        self.state.set(SessionState::SignedIn(me));
        tabs::tell_others(Word::SessionChanged);
    }

    /// The user changed something `/api/auth/me` shows (their name).
    pub fn update(&self, me: Me) {
        self.state.set(SessionState::SignedIn(Rc::new(me)));
    }

    /// Ends the session at the API (best effort) and here (always), and in
    /// the console's other tabs.
    pub async fn sign_out(&self) {
        let _ = self.client.logout().await;
        self.ended.set(None);
        self.state.set(SessionState::SignedOut);
        tabs::tell_others(Word::SignedOut);
    }

    /// Ends every session of the user, on every device.
    pub async fn sign_out_everywhere(&self) -> Result<(), ApiError> {
        self.client.logout_everywhere().await?;
        self.ended.set(None);
        self.state.set(SessionState::SignedOut);
        tabs::tell_others(Word::SignedOut);
        Ok(())
    }

    fn follow_other_tabs(&self) {
        let session = self.clone();
        tabs::listen(move |word| match word {
            Word::SignedOut => {
                session.client.forget();
                session.state.set(SessionState::SignedOut);
            }
            // The cookie holds another session now: take it up (this tab's
            // token belongs to the old one).
            Word::SessionChanged => {
                let session = session.clone();
                wasm_bindgen_futures::spawn_local(async move {
                    session.client.forget();
                    session.state.set(SessionState::Restoring);
                    session.restore().await;
                });
            }
        });
    }

    fn check_periodically(&self) {
        let session = self.clone();
        let check = Closure::<dyn Fn()>::new(move || {
            let hidden = document().hidden();
            let signed_in = session.state.with_untracked(|s| matches!(s, SessionState::SignedIn(_)));
            if signed_in && !hidden {
                let session = session.clone();
                wasm_bindgen_futures::spawn_local(async move { session.check().await });
            }
        });
        let _ = window()
            .set_interval_with_callback_and_timeout_and_arguments_0(check.as_ref().unchecked_ref(), CHECK_EVERY_MS);
        let _ = document().add_event_listener_with_callback("visibilitychange", check.as_ref().unchecked_ref());
        // Both live as long as the page: nothing to release.
        check.forget();
    }

    /// Asks who the user is now: a change of role shows, a session the
    /// API no longer accepts ends here too.
    async fn check(&self) {
        match self.client.me().await {
            Ok(me) => {
                self.reachable.set(true);
                let changed = self.state.with_untracked(|s| match s {
                    SessionState::SignedIn(current) => **current != me,
                    _ => false,
                });
                if changed {
                    self.state.set(SessionState::SignedIn(Rc::new(me)));
                }
            }
            Err(ApiError::Network(_)) => self.reachable.set(false),
            Err(error) if error.status() == Some(401) => {
                self.reachable.set(true);
                self.client.forget();
                if self.state.with_untracked(|s| matches!(s, SessionState::SignedIn(_))) {
                    self.ended.set(Some(format!("Your session has ended: {}", error.message())));
                    self.state.set(SessionState::SignedOut);
                }
            }
            Err(error) => self.reachable.set(error.status().is_some_and(|s| s < 500)),
        }
    }
}
