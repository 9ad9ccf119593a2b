//! `/verify-email#token=…`: the password of the new account, chosen by
//! whoever holds the registration link; verifying creates the tenant.
//! Opening the page does nothing by itself (mail scanners open links): it
//! acts only when the form is submitted.

use serde_json::json;
use sycamore::prelude::*;
use sycamore::web::events::SubmitEvent;

use crate::components::{report, Outcome, OutcomeLine};
use crate::navigation::fragment_param;

#[component]
pub fn VerifyEmail() -> View {
    let outcome = create_signal(Outcome::Idle);
    let password = create_signal(String::new());
    let submit = move |event: SubmitEvent| {
        event.prevent_default();
        let body = json!({ "token": fragment_param("token").unwrap_or_default(), "password": password.get_clone() });
        report(outcome, "/api/auth/verify-email", body, |body| {
            format!(
                "Your email is verified and the tenant {} ({}) is ready. Sign in as {} to use it.",
                body["tenant"]["name"].as_str().unwrap_or_default(),
                body["tenant"]["slug"].as_str().unwrap_or_default(),
                body["email"].as_str().unwrap_or_default(),
            )
        });
    };
    view! {
        section(class="card narrow", aria-labelledby="page-title") {
            h1(id="page-title") { "Verify your email" }
            p(class="muted") { "Choose the password of your account to verify the address and create your tenant." }
            form(on:submit=submit) {
                label(r#for="password") { "Password (8 to 128 characters)" }
                input(id="password", r#type="password", autocomplete="new-password", required=true, bind:value=password)
                button(id="submit", r#type="submit") { "Verify and create the tenant" }
            }
            OutcomeLine(outcome=*outcome)
        }
    }
}
