//! The console's screens, one file each, and which route shows which.

mod accept_invitation;
mod forgot_password;
mod home;
mod not_found;
mod reset_password;
mod sign_in;
mod verify_email;

pub use accept_invitation::AcceptInvitation;
pub use forgot_password::ForgotPassword;
pub use home::Home;
pub use not_found::NotFound;
pub use reset_password::ResetPassword;
pub use sign_in::SignIn;
pub use verify_email::VerifyEmail;

use sycamore::prelude::*;

use crate::components::signed_in;
use crate::routes::Route;

/// The page of `route`.
pub fn page(route: Route) -> View {
    match route {
        Route::Home => signed_in(|me| view! { Home(me=me) }),
        Route::SignIn => view! { SignIn {} },
        Route::VerifyEmail => view! { VerifyEmail {} },
        Route::ResetPassword => view! { ResetPassword {} },
        Route::AcceptInvitation => view! { AcceptInvitation {} },
        Route::ForgotPassword => view! { ForgotPassword {} },
        Route::NotFound { path } => view! { NotFound(path=path) },
    }
}
