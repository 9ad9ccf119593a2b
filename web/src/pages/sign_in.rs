//! `/sign-in`: email and password. The refresh token goes to the
//! `HttpOnly` cookie; once signed in, the root moves on to the page asked
//! for (`?next=`) or home.

use sycamore::prelude::*;
use sycamore::web::events::SubmitEvent;

use crate::api::{ApiError, Credentials};
use crate::components::{Field, FormError, HealthCard, Link};
use crate::routes::Route;
use crate::session::use_session;

/// The sign-in form, and the service's health (whether signing in can
/// work at all).
#[component]
pub fn SignIn() -> View {
    let session = use_session();
    let email = create_signal(String::new());
    let password = create_signal(String::new());
    let error = create_signal(None::<ApiError>);
    let working = create_signal(false);
    let email_error = create_memo(move || error.with(|e| e.as_ref().and_then(|e| e.field("email")).map(str::to_owned)));
    let password_error =
        create_memo(move || error.with(|e| e.as_ref().and_then(|e| e.field("password")).map(str::to_owned)));

    let submit = move |event: SubmitEvent| {
        event.prevent_default();
        if working.get() {
            return;
        }
        working.set(true);
        error.set(None);
        let credentials = Credentials::new(email.get_clone().trim(), password.get_clone());
        let session = session.clone();
        wasm_bindgen_futures::spawn_local(async move {
            if let Err(failure) = session.sign_in(&credentials).await {
                password.set(String::new());
                error.set(Some(failure));
            }
            working.set(false);
        });
    };
    view! {
        section(class="card", aria-labelledby="sign-in-title") {
            h2(id="sign-in-title") { "Sign in" }
            form(id="sign-in", on:submit=submit, novalidate=true) {
                Field(id="email", label="Email", kind="email", autocomplete="email", required=true, value=email, error=email_error)
                Field(
                    id="password",
                    label="Password",
                    kind="password",
                    autocomplete="current-password",
                    required=true,
                    value=password,
                    error=password_error,
                )
                button(id="sign-in-submit", r#type="submit", disabled=move || working.get()) {
                    (move || if working.get() { "Signing in…" } else { "Sign in" })
                }
            }
            FormError(id="sign-in-error", error=*error, shown=&["email", "password"])
            p { Link(to=Route::ForgotPassword) { "Forgot your password?" } }
        }
        HealthCard {}
    }
}
