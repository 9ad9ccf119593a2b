//! `/reset-password#token=…`: the new password, from the reset email.

use serde_json::json;
use sycamore::prelude::*;
use sycamore::web::events::SubmitEvent;

use crate::components::{report, Outcome, OutcomeLine};
use crate::navigation::fragment_param;

#[component]
pub fn ResetPassword() -> View {
    let outcome = create_signal(Outcome::Idle);
    let password = create_signal(String::new());
    let submit = move |event: SubmitEvent| {
        event.prevent_default();
        let body =
            json!({ "token": fragment_param("token").unwrap_or_default(), "new_password": password.get_clone() });
        report(outcome, "/api/auth/password/reset", body, |_| {
            "Your password is changed and every session has ended. Sign in with the new password.".into()
        });
    };
    view! {
        section(class="card narrow", aria-labelledby="page-title") {
            h1(id="page-title") { "Choose a new password" }
            form(on:submit=submit) {
                label(r#for="new-password") { "New password (8 to 128 characters)" }
                input(id="new-password", r#type="password", autocomplete="new-password", required=true, bind:value=password)
                button(id="submit", r#type="submit") { "Set the password" }
            }
            OutcomeLine(outcome=*outcome)
        }
    }
}
