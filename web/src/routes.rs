//! The console's pages and their paths, in one table: what the address bar
//! says maps to exactly one [`Route`], and each route has one path. The
//! server answers every path with `index.html`; this decides what it shows.

/// A page of the console.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// `/`: the tenant at a glance. Needs a session, as do the pages down
    /// to `Account`.
    Dashboard,
    /// `/members`: members and invitations.
    Members,
    /// `/api-keys`.
    ApiKeys,
    /// `/projects`.
    Projects,
    /// `/projects/{id}`: one project and its files.
    Project { id: String },
    /// `/audit`: the audit log.
    Audit,
    /// `/account`: profile, password, sessions.
    Account,
    /// `/sign-in`, optionally `?next=/path` to return to.
    SignIn,
    /// `/register`: a new tenant, when registration is open.
    Register,
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
        let trimmed = path.trim_end_matches('/');
        if let Some(id) = trimmed.strip_prefix("/projects/").filter(|id| is_uuid(id)) {
            return Self::Project { id: id.to_owned() };
        }
        match trimmed {
            "" => Self::Dashboard,
            "/members" => Self::Members,
            "/api-keys" => Self::ApiKeys,
            "/projects" => Self::Projects,
            "/audit" => Self::Audit,
            "/account" => Self::Account,
            "/sign-in" => Self::SignIn,
            "/register" => Self::Register,
            "/verify-email" => Self::VerifyEmail,
            "/reset-password" => Self::ResetPassword,
            "/accept-invitation" => Self::AcceptInvitation,
            "/forgot-password" => Self::ForgotPassword,
            _ => Self::NotFound { path: path.to_owned() },
        }
    }

    /// The path to link to.
    pub fn path(&self) -> String {
        let fixed = match self {
            Self::Dashboard => "/",
            Self::Members => "/members",
            Self::ApiKeys => "/api-keys",
            Self::Projects => "/projects",
            Self::Project { id } => return format!("/projects/{id}"),
            Self::Audit => "/audit",
            Self::Account => "/account",
            Self::SignIn => "/sign-in",
            Self::Register => "/register",
            Self::VerifyEmail => "/verify-email",
            Self::ResetPassword => "/reset-password",
            Self::AcceptInvitation => "/accept-invitation",
            Self::ForgotPassword => "/forgot-password",
            Self::NotFound { path } => return path.clone(),
        };
        fixed.to_owned()
    }

    /// Whether only a signed-in user may see it; the others are sent to
    /// sign in.
    pub fn needs_session(&self) -> bool {
        matches!(
            self,
            Self::Dashboard
                | Self::Members
                | Self::ApiKeys
                | Self::Projects
                | Self::Project { .. }
                | Self::Audit
                | Self::Account
        )
    }

    /// The permission (of `/api/auth/me`) a role needs for the page to be
    /// offered; `None` for pages every member sees.
    pub fn permission(&self) -> Option<&'static str> {
        match self {
            Self::Members => Some("members:read"),
            Self::ApiKeys => Some("api_keys:read"),
            Self::Projects | Self::Project { .. } => Some("projects:read"),
            Self::Audit => Some("audit:read"),
            _ => None,
        }
    }

    /// The document title's first part.
    pub fn title(&self) -> &'static str {
        match self {
            Self::Dashboard => "Dashboard",
            Self::Members => "Members",
            Self::ApiKeys => "API keys",
            Self::Projects => "Projects",
            Self::Project { .. } => "Project",
            Self::Audit => "Audit log",
            Self::Account => "Your account",
            Self::SignIn => "Sign in",
            Self::Register => "Create a tenant",
            Self::VerifyEmail => "Verify your email",
            Self::ResetPassword => "Choose a new password",
            Self::AcceptInvitation => "Accept the invitation",
            Self::ForgotPassword => "Forgot your password?",
            Self::NotFound { .. } => "Page not found",
        }
    }
}

/// The pages of the signed-in navigation, in its order.
pub const NAVIGATION: [Route; 6] =
    [Route::Dashboard, Route::Members, Route::Projects, Route::ApiKeys, Route::Audit, Route::Account];

/// `8-4-4-4-12` hexadecimal digits, as the API's ids.
fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups.iter().zip([8, 4, 4, 4, 12]).all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROJECT: &str = "6f1c2b1e-8a57-4c1b-9d1e-0e5f3c8a7b21";

    #[test]
    fn every_route_parses_back_from_its_path() {
        let routes = [
            Route::Dashboard,
            Route::Members,
            Route::ApiKeys,
            Route::Projects,
            Route::Project { id: PROJECT.into() },
            Route::Audit,
            Route::Account,
            Route::SignIn,
            Route::Register,
            Route::VerifyEmail,
            Route::ResetPassword,
            Route::AcceptInvitation,
            Route::ForgotPassword,
            Route::NotFound { path: "/members/42".into() },
        ];
        for route in routes {
            assert_eq!(Route::parse(&route.path()), route);
        }
    }

    #[test]
    fn trailing_slashes_do_not_matter_and_unknown_paths_are_kept() {
        assert_eq!(Route::parse(""), Route::Dashboard);
        assert_eq!(Route::parse("/sign-in/"), Route::SignIn);
        assert_eq!(Route::parse("/nope"), Route::NotFound { path: "/nope".into() });
        assert_eq!(Route::parse("/sign-in/extra"), Route::NotFound { path: "/sign-in/extra".into() });
        assert_eq!(Route::parse("/projects/42"), Route::NotFound { path: "/projects/42".into() });
        assert_eq!(Route::parse(&format!("/projects/{PROJECT}/")), Route::Project { id: PROJECT.into() });
        assert!(Route::Dashboard.needs_session() && !Route::SignIn.needs_session());
        assert!(NAVIGATION.iter().all(Route::needs_session));
    }
}
