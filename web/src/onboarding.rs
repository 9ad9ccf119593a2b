//! The pages the emails link to: verify an email (creating the registered
//! tenant), choose a new password, accept an invitation, and ask for a
//! reset link. The token travels in the URL fragment (`#token=…`), which
//! browsers never send to a server. Opening a page does nothing by itself
//! (mail scanners open links): each acts only when its form is submitted.

use serde_json::{json, Value};
use sycamore::prelude::*;
use sycamore::web::events::SubmitEvent;

use crate::api;

/// Where a request stands.
#[derive(Clone, Debug, PartialEq)]
enum Outcome {
    Idle,
    Working,
    Done(String),
    Failed(String),
}

/// The `token` of the URL fragment.
fn fragment_token() -> String {
    let hash = web_sys::window().and_then(|w| w.location().hash().ok()).unwrap_or_default();
    hash.trim_start_matches('#').split('&').find_map(|pair| pair.strip_prefix("token=")).unwrap_or_default().to_owned()
}

/// Posts `body` to `path`; `done` turns a success body into the message.
fn post(outcome: Signal<Outcome>, path: &'static str, body: Value, done: fn(&Value) -> String) {
    outcome.set(Outcome::Working);
    wasm_bindgen_futures::spawn_local(async move {
        outcome.set(match api::post_json(path, &body).await {
            Ok(answer) => Outcome::Done(done(&answer)),
            Err(failure) => Outcome::Failed(failure.message),
        });
    });
}

fn outcome_view(outcome: Signal<Outcome>) -> View {
    view! {
        (move || match outcome.get_clone() {
            Outcome::Idle => view! {},
            Outcome::Working => view! { p(id="outcome", class="muted") { "Working…" } },
            Outcome::Done(message) => view! { p(id="outcome", class="done") { (message) } },
            Outcome::Failed(problem) => view! { p(id="outcome", class="error") { (problem) } },
        })
    }
}

/// `/verify-email#token=…`: the password of the new account, chosen here
/// by whoever holds the link; verifies on submit only.
#[component]
pub fn VerifyEmail() -> View {
    let outcome = create_signal(Outcome::Idle);
    let password = create_signal(String::new());
    let submit = move |event: SubmitEvent| {
        event.prevent_default();
        let body = json!({ "token": fragment_token(), "password": password.get_clone() });
        post(outcome, "/api/auth/verify-email", body, |body| {
            format!(
                "Your email is verified and the tenant {} ({}) is ready. Sign in as {} to use it.",
                body["tenant"]["name"].as_str().unwrap_or_default(),
                body["tenant"]["slug"].as_str().unwrap_or_default(),
                body["email"].as_str().unwrap_or_default(),
            )
        });
    };
    view! {
        section(class="card", aria-live="polite") {
            h2 { "Verify your email" }
            p(class="muted") { "Choose the password of your account to verify the address and create your tenant." }
            form(on:submit=submit) {
                label(r#for="password") { "Password (8 to 128 characters)" }
                input(id="password", r#type="password", autocomplete="new-password", required=true, bind:value=password)
                button(id="submit", r#type="submit") { "Verify and create the tenant" }
            }
            (outcome_view(outcome))
        }
    }
}

/// `/reset-password#token=…`: the new password.
#[component]
pub fn ResetPassword() -> View {
    let outcome = create_signal(Outcome::Idle);
    let password = create_signal(String::new());
    let submit = move |event: SubmitEvent| {
        event.prevent_default();
        let body = json!({ "token": fragment_token(), "new_password": password.get_clone() });
        post(outcome, "/api/auth/password/reset", body, |_| {
            "Your password is changed and every session has ended. Sign in with the new password.".into()
        });
    };
    view! {
        section(class="card", aria-live="polite") {
            h2 { "Choose a new password" }
            form(on:submit=submit) {
                label(r#for="new-password") { "New password (8 to 128 characters)" }
                input(id="new-password", r#type="password", autocomplete="new-password", required=true, bind:value=password)
                button(id="submit", r#type="submit") { "Set the password" }
            }
            (outcome_view(outcome))
        }
    }
}

/// `/accept-invitation#token=…`: joins the tenant. A new account gets a
/// password (and a name) here; an existing one must sign in first, since
/// the link alone never adds an account to a tenant.
#[component]
pub fn AcceptInvitation() -> View {
    let outcome = create_signal(Outcome::Idle);
    let needs_sign_in = create_signal(false);
    let name = create_signal(String::new());
    let password = create_signal(String::new());
    let email = create_signal(String::new());
    let current_password = create_signal(String::new());
    let submit = move |event: SubmitEvent| {
        event.prevent_default();
        let mut body = json!({ "token": fragment_token() });
        if !password.with(String::is_empty) {
            body["password"] = json!(password.get_clone());
            body["display_name"] = json!(name.get_clone());
        }
        outcome.set(Outcome::Working);
        wasm_bindgen_futures::spawn_local(async move {
            outcome.set(match api::post_json("/api/invitations/accept", &body).await {
                Ok(answer) => Outcome::Done(accepted_message(&answer)),
                Err(failure) if failure.code == "sign_in_required" => {
                    needs_sign_in.set(true);
                    Outcome::Failed("This email has an account: sign in as it to accept.".into())
                }
                Err(failure) => Outcome::Failed(failure.message),
            });
        });
    };
    let sign_in_and_accept = move |event: SubmitEvent| {
        event.prevent_default();
        outcome.set(Outcome::Working);
        let credentials =
            json!({ "email": email.get_clone(), "password": current_password.get_clone(), "token_delivery": "body" });
        wasm_bindgen_futures::spawn_local(async move {
            outcome.set(match accept_signed_in(&credentials).await {
                Ok(answer) => Outcome::Done(accepted_message(&answer)),
                Err(failure) => Outcome::Failed(failure.message),
            });
        });
    };
    view! {
        section(class="card", aria-live="polite") {
            h2 { "Accept the invitation" }
            (move || if needs_sign_in.get() {
                view! {
                    form(id="sign-in", on:submit=sign_in_and_accept) {
                        label(r#for="email") { "Email" }
                        input(id="email", r#type="email", autocomplete="email", required=true, bind:value=email)
                        label(r#for="current-password") { "Password" }
                        input(id="current-password", r#type="password", autocomplete="current-password", required=true, bind:value=current_password)
                        button(id="sign-in-submit", r#type="submit") { "Sign in and accept" }
                    }
                }
            } else {
                view! {
                    p(class="muted") {
                        "If you already have an account, leave the fields empty and accept (you will be asked to sign in); otherwise choose a password for your new account."
                    }
                    form(on:submit=submit) {
                        label(r#for="display-name") { "Your name (new account)" }
                        input(id="display-name", autocomplete="name", bind:value=name)
                        label(r#for="password") { "Password (new account)" }
                        input(id="password", r#type="password", autocomplete="new-password", bind:value=password)
                        button(id="submit", r#type="submit") { "Accept" }
                    }
                }
            })
            (outcome_view(outcome))
        }
    }
}

fn accepted_message(body: &Value) -> String {
    let created = if body["created_account"] == true { "Your account is created. " } else { "" };
    format!("{created}You joined the tenant as {}. Sign in to use it.", body["role"].as_str().unwrap_or_default())
}

/// Signs in (tokens in memory only), accepts as that account, and ends the
/// session it opened.
async fn accept_signed_in(credentials: &Value) -> Result<Value, api::Failure> {
    let session = api::post_json("/api/auth/login", credentials).await?;
    let access = session["access_token"].as_str().unwrap_or_default().to_owned();
    let accepted =
        api::post_json_as("/api/invitations/accept", &json!({ "token": fragment_token() }), Some(&access)).await;
    let logout = json!({ "refresh_token": session["refresh_token"] });
    // Best effort: the session would end with its refresh token anyway.
    let _ = api::post_json("/api/auth/logout", &logout).await;
    accepted
}

/// `/forgot-password`: asks for a reset link.
#[component]
pub fn ForgotPassword() -> View {
    let outcome = create_signal(Outcome::Idle);
    let email = create_signal(String::new());
    let submit = move |event: SubmitEvent| {
        event.prevent_default();
        post(outcome, "/api/auth/password/forgot", json!({ "email": email.get_clone() }), |body| {
            body["message"].as_str().unwrap_or("A reset link is on its way.").to_owned()
        });
    };
    view! {
        section(class="card", aria-live="polite") {
            h2 { "Forgot your password?" }
            form(on:submit=submit) {
                label(r#for="email") { "Email" }
                input(id="email", r#type="email", autocomplete="email", required=true, bind:value=email)
                button(id="submit", r#type="submit") { "Send a reset link" }
            }
            (outcome_view(outcome))
        }
    }
}
