//! The console's screens, one file each, and which route shows which.

mod accept_invitation;
mod account;
mod api_keys;
mod audit;
mod dashboard;
mod forgot_password;
mod members;
mod not_found;
mod project;
mod projects;
mod register;
mod reset_password;
mod sign_in;
mod verify_email;

pub use accept_invitation::AcceptInvitation;
pub use account::Account;
pub use api_keys::ApiKeys;
pub use audit::Audit;
pub use dashboard::Dashboard;
pub use forgot_password::ForgotPassword;
pub use members::Members;
pub use not_found::{NotAllowed, NotFound};
pub use project::Project;
pub use projects::Projects;
pub use register::Register;
pub use reset_password::ResetPassword;
pub use sign_in::SignIn;
pub use verify_email::VerifyEmail;

use sycamore::prelude::*;

use crate::components::signed_in;
use crate::routes::Route;

/// The page of `route`. A page the role may not see says so (the API
/// would refuse its requests anyway).
pub fn page(route: Route) -> View {
    if route.needs_session() {
        return signed_in(move |me| {
            if route.permission().is_some_and(|p| !me.may(p)) {
                return view! { NotAllowed {} };
            }
            match route.clone() {
                Route::Members => view! { Members(me=me) },
                Route::ApiKeys => view! { ApiKeys {} },
                Route::Projects => view! { Projects(me=me) },
                Route::Project { id } => view! { Project(me=me, id=id) },
                Route::Audit => view! { Audit {} },
                Route::Account => view! { Account(me=me) },
                _ => view! { Dashboard(me=me) },
            }
        });
    }
    match route {
        Route::SignIn => view! { SignIn {} },
        Route::Register => view! { Register {} },
        Route::VerifyEmail => view! { VerifyEmail {} },
        Route::ResetPassword => view! { ResetPassword {} },
        Route::AcceptInvitation => view! { AcceptInvitation {} },
        Route::ForgotPassword => view! { ForgotPassword {} },
        Route::NotFound { path } => view! { NotFound(path=path) },
        _ => view! {},
    }
}
