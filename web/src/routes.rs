//! The console's pages and their paths, in one table: what the address bar
//! says maps to exactly one [`Route`], and each route has one path. The
//! server answers every path with `index.html`; this decides what it shows.

/// A page of the console.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// `/`: who is signed in, and the service's health. Needs a session.
    Home,
    /// `/sign-in`, optionally `?next=/path` to return to.
    SignIn,
    /// `/verify-email#token=…`, from the registration email.
    VerifyEmail,
    /// `/reset-password#token=…`, from the reset email.
    ResetPassword,
    /// `/accept-invitation#token=…`, from the invitation email.
    AcceptInvitation,
    /// `/forgot-password`: asks for a reset email.
    ForgotPassword,
    /// Any other path, kept to say which one.
    NotFound { path: String },
}

impl Route {
    /// The route of a location's path; a trailing slash does not matter.
    pub fn parse(path: &str) -> Self {
        match path.trim_end_matches('/') {
            "" => Self::Home,
            "/sign-in" => Self::SignIn,
            "/verify-email" => Self::VerifyEmail,
            "/reset-password" => Self::ResetPassword,
            "/accept-invitation" => Self::AcceptInvitation,
            "/forgot-password" => Self::ForgotPassword,
            _ => Self::NotFound { path: path.to_owned() },
        }
    }

    /// The path to link to.
    pub fn path(&self) -> &str {
        match self {
            Self::Home => "/",
            Self::SignIn => "/sign-in",
            Self::VerifyEmail => "/verify-email",
            Self::ResetPassword => "/reset-password",
            Self::AcceptInvitation => "/accept-invitation",
            Self::ForgotPassword => "/forgot-password",
            Self::NotFound { path } => path,
        }
    }

    /// Whether only a signed-in user may see it; the others are sent to
    /// sign in.
    pub fn needs_session(&self) -> bool {
        matches!(self, Self::Home)
    }

    /// The document title's first part.
    pub fn title(&self) -> &'static str {
        match self {
            Self::Home => "Home",
            Self::SignIn => "Sign in",
            Self::VerifyEmail => "Verify your email",
            Self::ResetPassword => "Choose a new password",
            Self::AcceptInvitation => "Accept the invitation",
            Self::ForgotPassword => "Forgot your password?",
            Self::NotFound { .. } => "Page not found",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_parses_back_from_its_path() {
        let routes = [
            Route::Home,
            Route::SignIn,
            Route::VerifyEmail,
            Route::ResetPassword,
            Route::AcceptInvitation,
            Route::ForgotPassword,
            Route::NotFound { path: "/members/42".into() },
        ];
        for route in routes {
            assert_eq!(Route::parse(route.path()), route);
        }
    }

    #[test]
    fn trailing_slashes_do_not_matter_and_unknown_paths_are_kept() {
        assert_eq!(Route::parse(""), Route::Home);
        assert_eq!(Route::parse("/sign-in/"), Route::SignIn);
        assert_eq!(Route::parse("/nope"), Route::NotFound { path: "/nope".into() });
        assert_eq!(Route::parse("/sign-in/extra"), Route::NotFound { path: "/sign-in/extra".into() });
        assert!(Route::Home.needs_session() && !Route::SignIn.needs_session());
    }
}
