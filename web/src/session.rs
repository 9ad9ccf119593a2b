//! Who is signed in, as a signal in context: restoring (the page just
//! loaded and the refresh cookie may hold a session), signed out, or signed
//! in with the user, tenant, role and permissions of `/api/auth/me`. The
//! API [`Client`] lives beside it and signs the session out when the API
//! stops renewing it.

use std::rc::Rc;

use sycamore::prelude::*;

use crate::api::{ApiError, Client, Credentials, Me};

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
    client: Client,
}

/// The [`Session`] provided at the root.
pub fn use_session() -> Session {
    use_context()
}

impl Session {
    /// Provides the session to the components below and starts restoring
    /// it from the refresh cookie.
    pub fn provide() -> Self {
        let state = create_signal(SessionState::Restoring);
        let client = Client::new(move || state.set(SessionState::SignedOut));
        let session = Self { state, client };
        provide_context(session.clone());
        let restoring = session.clone();
        wasm_bindgen_futures::spawn_local(async move { restoring.restore().await });
        session
    }

    pub fn state(&self) -> ReadSignal<SessionState> {
        *self.state
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

    /// Signs in and loads who that is; the state changes only on success.
    pub async fn sign_in(&self, credentials: &Credentials) -> Result<(), ApiError> {
        self.client.login(credentials).await?;
        match self.client.me().await {
            Ok(me) => {
                self.state.set(SessionState::SignedIn(Rc::new(me)));
                Ok(())
            }
            Err(error) => {
                // Half a session is none: end the one just opened.
                let _ = self.client.logout().await;
                Err(error)
            }
        }
    }

    /// Ends the session at the API (best effort) and here (always).
    pub async fn sign_out(&self) {
        let _ = self.client.logout().await;
        self.state.set(SessionState::SignedOut);
    }
}
