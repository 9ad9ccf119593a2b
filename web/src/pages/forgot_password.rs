//! `/forgot-password`: asks for a reset link by email.

use serde_json::json;
use sycamore::prelude::*;
use sycamore::web::events::SubmitEvent;

use crate::components::{report, Outcome, OutcomeLine};

#[component]
pub fn ForgotPassword() -> View {
    let outcome = create_signal(Outcome::Idle);
    let email = create_signal(String::new());
    let submit = move |event: SubmitEvent| {
        event.prevent_default();
        report(outcome, "/api/auth/password/forgot", json!({ "email": email.get_clone() }), |body| {
            body["message"].as_str().unwrap_or("A reset link is on its way.").to_owned()
        });
    };
    view! {
        section(class="card narrow", aria-labelledby="page-title") {
            h1(id="page-title") { "Forgot your password?" }
            form(on:submit=submit) {
                label(r#for="email") { "Email" }
                input(id="email", r#type="email", autocomplete="email", required=true, bind:value=email)
                button(id="submit", r#type="submit") { "Send a reset link" }
            }
            OutcomeLine(outcome=*outcome)
        }
    }
}
