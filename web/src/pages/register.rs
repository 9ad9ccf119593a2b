//! `/register`: a new tenant and its first admin. The API emails a link to
//! verify the address, where the password is chosen; when registration is
//! closed, the API's refusal says so.

use serde_json::json;
use sycamore::prelude::*;
use sycamore::web::events::SubmitEvent;

use crate::api::{self, ApiError};
use crate::components::{Field, FormError, Link};
use crate::routes::Route;

#[component]
pub fn Register() -> View {
    let email = create_signal(String::new());
    let display_name = create_signal(String::new());
    let tenant_name = create_signal(String::new());
    let slug = create_signal(String::new());
    let slug_edited = create_signal(false);
    let error = create_signal(None::<ApiError>);
    let sent = create_signal(None::<String>);
    let working = create_signal(false);
    // The slug follows the name until it is edited by hand.
    create_effect(move || {
        let name = tenant_name.get_clone();
        if !slug_edited.get_untracked() {
            slug.set(slug_of(&name));
        }
    });
    let field = move |name: &'static str| {
        create_memo(move || error.with(|e| e.as_ref().and_then(|e| e.field(name)).map(str::to_owned)))
    };
    let (email_error, name_error, tenant_error, slug_error) =
        (field("email"), field("display_name"), field("tenant_name"), field("tenant_slug"));
    let submit = move |event: SubmitEvent| {
        event.prevent_default();
        if working.get() {
            return;
        }
        working.set(true);
        let body = json!({
            "email": email.get_clone().trim(),
            "display_name": display_name.get_clone().trim(),
            "tenant_name": tenant_name.get_clone().trim(),
            "tenant_slug": slug.get_clone().trim(),
        });
        crate::components::spawn(async move {
            match api::post_as::<_, serde_json::Value>("/api/auth/register", &body, None).await {
                Ok(_) => {
                    error.set(None);
                    sent.set(Some(format!(
                        "Check {} for a link to verify the address and choose your password.",
                        body["email"].as_str().unwrap_or_default()
                    )));
                }
                Err(failure) => error.set(Some(failure)),
            }
            working.set(false);
        });
    };
    view! {
        section(class="card narrow", aria-labelledby="page-title") {
            h1(id="page-title") { "Create a tenant" }
            (move || match sent.get_clone() {
                Some(message) => view! { p(id="register-sent", class="done") { (message) } },
                None => view! {
                    form(id="register-form", on:submit=submit, novalidate=true) {
                        Field(id="register-email", label="Your email", kind="email", autocomplete="email", required=true,
                            value=email, error=email_error)
                        Field(id="register-name", label="Your name (optional)", autocomplete="name", value=display_name,
                            error=name_error)
                        Field(id="register-tenant", label="Organisation name", autocomplete="organization", required=true,
                            value=tenant_name, error=tenant_error)
                        div(class="field") {
                            label(r#for="register-slug") { "Short name (lowercase letters, digits and hyphens)" }
                            input(id="register-slug", required=true, autocomplete="off", bind:value=slug,
                                on:input=move |_| slug_edited.set(true),
                                aria-invalid=move || if slug_error.with(Option::is_some) { "true" } else { "false" },
                                aria-describedby="register-slug-error")
                            p(id="register-slug-error", class="field-error", aria-live="polite") {
                                (move || slug_error.get_clone().unwrap_or_default())
                            }
                        }
                        button(id="register-submit", r#type="submit", disabled=move || working.get()) { "Create the tenant" }
                    }
                    FormError(id="register-error", error=*error, shown=&["email", "display_name", "tenant_name", "tenant_slug"])
                },
            })
            p { "Already have an account? " Link(to=Route::SignIn) { "Sign in" } }
        }
    }
}

/// A slug suggested by a name: lowercase ASCII letters and digits, other
/// runs of characters as one hyphen, none at the ends, at most 63.
fn slug_of(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    slug.truncate(63);
    slug.trim_end_matches('-').to_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn slugs_follow_names() {
        assert_eq!(super::slug_of("Acme Inc."), "acme-inc");
        assert_eq!(super::slug_of("  Ünïcode & Co  "), "n-code-co");
        assert_eq!(super::slug_of(&"a".repeat(80)).len(), 63);
    }
}
