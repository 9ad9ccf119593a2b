//! `/accept-invitation#token=…`: joins the tenant. A new account gets a
//! password (and a name) here; an existing one must sign in first, since
//! the link alone never adds an account to a tenant.

use serde_json::{json, Value};
use sycamore::prelude::*;
use sycamore::web::events::SubmitEvent;

use crate::api::{self, ApiError};
use crate::components::{Outcome, OutcomeLine};
use crate::navigation::fragment_param;

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
        let mut body = json!({ "token": token() });
        if !password.with(String::is_empty) {
            body["password"] = json!(password.get_clone());
            body["display_name"] = json!(name.get_clone());
        }
        outcome.set(Outcome::Working);
        crate::components::spawn(async move {
            outcome.set(match api::post_as::<_, Value>("/api/invitations/accept", &body, None).await {
                Ok(answer) => Outcome::Done(accepted_message(&answer)),
                Err(failure) if failure.code() == "sign_in_required" => {
                    needs_sign_in.set(true);
                    Outcome::Failed("This email has an account: sign in as it to accept.".into())
                }
                Err(failure) => Outcome::Failed(failure.to_string()),
            });
        });
    };
    let sign_in_and_accept = move |event: SubmitEvent| {
        event.prevent_default();
        outcome.set(Outcome::Working);
        let credentials =
            json!({ "email": email.get_clone(), "password": current_password.get_clone(), "token_delivery": "body" });
        crate::components::spawn(async move {
            outcome.set(match accept_signed_in(&credentials).await {
                Ok(answer) => Outcome::Done(accepted_message(&answer)),
                Err(failure) => Outcome::Failed(failure.to_string()),
            });
        });
    };
    view! {
        section(class="card narrow", aria-labelledby="page-title") {
            h1(id="page-title") { "Accept the invitation" }
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
            OutcomeLine(outcome=*outcome)
        }
    }
}

fn token() -> String {
    fragment_param("token").unwrap_or_default()
}

fn accepted_message(body: &Value) -> String {
    let created = if body["created_account"] == true { "Your account is created. " } else { "" };
    format!("{created}You joined the tenant as {}. Sign in to use it.", body["role"].as_str().unwrap_or_default())
}

/// Signs in as the invited account with the tokens in the body, kept here
/// only (the console's own session and cookie stay as they are), accepts
/// as that account, and ends the session it opened.
async fn accept_signed_in(credentials: &Value) -> Result<Value, ApiError> {
    let session: Value = api::post_as("/api/auth/login", credentials, None).await?;
    let access = session["access_token"].as_str().unwrap_or_default();
    let accepted = api::post_as("/api/invitations/accept", &json!({ "token": token() }), Some(access)).await;
    let logout = json!({ "refresh_token": session["refresh_token"] });
    // Best effort: the session would end with its refresh token anyway.
    let _ = api::post_as::<_, ()>("/api/auth/logout", &logout, None).await;
    accepted
}
