//! `/sign-in`: email and password, then — for an account in several
//! tenants — which tenant to work in. The refresh token goes to the
//! `HttpOnly` cookie; once signed in, the root moves on to the page asked
//! for (`?next=`) or the dashboard.

use std::rc::Rc;

use sycamore::prelude::*;
use sycamore::web::events::SubmitEvent;

use crate::api::{ApiError, Credentials, Me};
use crate::components::{Field, FormError, HealthCard, Link};
use crate::routes::Route;
use crate::session::use_session;

#[component]
pub fn SignIn() -> View {
    let session = use_session();
    let ended = session.ended();
    let email = create_signal(String::new());
    let password = create_signal(String::new());
    let error = create_signal(None::<ApiError>);
    let working = create_signal(false);
    let choosing = create_signal(None::<Rc<Me>>);
    let email_error = create_memo(move || error.with(|e| e.as_ref().and_then(|e| e.field("email")).map(str::to_owned)));
    let password_error =
        create_memo(move || error.with(|e| e.as_ref().and_then(|e| e.field("password")).map(str::to_owned)));

    let submit = {
        let session = session.clone();
        move |event: SubmitEvent| {
            event.prevent_default();
            if working.get() {
                return;
            }
            working.set(true);
            error.set(None);
            let credentials = Credentials::new(email.get_clone().trim(), password.get_clone());
            let session = session.clone();
            crate::components::spawn(async move {
                match session.sign_in(&credentials).await {
                    Ok(me) if me.tenants.len() > 1 => choosing.set(Some(me)),
                    Ok(_) => {}
                    Err(failure) => {
                        password.set(String::new());
                        error.set(Some(failure));
                    }
                }
                working.set(false);
            });
        }
    };
    view! {
        section(class="card narrow", aria-labelledby="sign-in-title") {
            h1(id="sign-in-title") { "Sign in" }
            (move || match ended.get_clone() {
                Some(reason) => view! { p(id="session-ended", class="notice", role="status") { (reason) } },
                None => view! {},
            })
            (move || match choosing.get_clone() {
                Some(me) => view! { ChooseTenant(me=me) },
                None => view! {
                    form(id="sign-in", on:submit=submit.clone(), novalidate=true) {
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
                    p { "New here? " Link(to=Route::Register, id="register-link") { "Create a tenant" } }
                },
            })
        }
        HealthCard {}
    }
}

/// The tenants of an account that has several; the last used first.
#[component(inline_props, derive(Debug))]
fn ChooseTenant(me: Rc<Me>) -> View {
    let session = use_session();
    let error = create_signal(None::<ApiError>);
    let buttons: Vec<View> = me
        .tenants
        .iter()
        .map(|t| {
            let session = session.clone();
            let me = me.clone();
            let slug = t.slug.clone();
            let label = format!("{} ({})", t.name, t.slug);
            let last = if t.slug == me.tenant.slug { " — last used" } else { "" };
            let choose = move |_| {
                let session = session.clone();
                let me = me.clone();
                let slug = slug.clone();
                crate::components::spawn(async move {
                    if let Err(failure) = session.enter(me, &slug).await {
                        error.set(Some(failure));
                    }
                });
            };
            let data_slug = t.slug.clone();
            view! {
                li { button(r#type="button", class="choice", data-slug=data_slug, on:click=choose) { (label) (last) } }
            }
        })
        .collect();
    view! {
        h2 { "Choose a tenant" }
        p(class="muted") { "Your account belongs to several tenants. You can switch later from the top bar." }
        ul(id="tenant-choice", class="plain choices") { (buttons) }
        FormError(id="choose-error", error=*error)
    }
}
