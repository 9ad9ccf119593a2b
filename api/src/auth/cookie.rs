//! The refresh-token cookie and the checks around it: `HttpOnly; Secure;
//! SameSite=Strict`, named with a `__Host-` (or `__Secure-`) prefix so that
//! neither a sibling subdomain nor plain HTTP can plant or overwrite it, and
//! honoured only from an allowed `Origin` (a cross-site request could
//! otherwise ride on it).

/// Where the refresh cookie lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CookieScope {
    /// `__Host-tenantry_refresh`, `Path=/`: bound to this exact host (no
    /// `Domain`, so no subdomain can set or read it). The default.
    Host,
    /// `__Secure-tenantry_refresh`, `Path=/api/auth`: for deployments whose
    /// host serves other applications under other paths.
    Path,
}

impl CookieScope {
    pub fn name(self) -> &'static str {
        match self {
            Self::Host => "__Host-tenantry_refresh",
            Self::Path => "__Secure-tenantry_refresh",
        }
    }

    fn path(self) -> &'static str {
        match self {
            Self::Host => "/",
            Self::Path => "/api/auth",
        }
    }

    /// `Set-Cookie` value carrying a refresh token.
    pub fn set(self, token: &str, max_age_secs: u64) -> String {
        format!(
            "{}={token}; Path={}; HttpOnly; Secure; SameSite=Strict; Max-Age={max_age_secs}",
            self.name(),
            self.path()
        )
    }

    /// `Set-Cookie` value that removes the cookie.
    pub fn clear(self) -> String {
        format!("{}=; Path={}; HttpOnly; Secure; SameSite=Strict; Max-Age=0", self.name(), self.path())
    }

    /// The refresh token from the request's cookies, if any.
    pub fn read(self, req: &poem::Request) -> Option<String> {
        req.headers()
            .get_all(poem::http::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == self.name())
            .map(|(_, value)| value.to_owned())
            .filter(|value| !value.is_empty())
    }
}

/// The cookie was sent from an origin that may not use it.
#[derive(Debug)]
pub struct ForbiddenOrigin;

impl ForbiddenOrigin {
    pub fn body(&self) -> poem_openapi::payload::Json<crate::error::ErrorBody> {
        crate::error::error_json("forbidden_origin", "this origin may not use the session cookie")
    }
}

/// The refresh token a request presents, and how it came: `body` when
/// given, else the cookie, honoured only from an allowed `Origin`.
pub fn presented(
    req: &poem::Request,
    scope: CookieScope,
    body: Option<String>,
    origin: Option<&str>,
    allowed: &[String],
) -> Result<Option<(String, crate::auth::session::TokenDelivery)>, ForbiddenOrigin> {
    use crate::auth::session::TokenDelivery;
    match (body, scope.read(req)) {
        (Some(token), _) => Ok(Some((token, TokenDelivery::Body))),
        (None, Some(token)) if origin_allowed(origin, allowed) => Ok(Some((token, TokenDelivery::Cookie))),
        (None, Some(_)) => Err(ForbiddenOrigin),
        (None, None) => Ok(None),
    }
}

/// Whether the request's `Origin` is one of `allowed`.
pub fn origin_allowed(origin: Option<&str>, allowed: &[String]) -> bool {
    origin.is_some_and(|o| allowed.iter().any(|a| a == o.trim_end_matches('/')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_is_locked_down() {
        let cookie = CookieScope::Host.set("v4.local.x", 60);
        assert!(cookie.starts_with("__Host-tenantry_refresh=v4.local.x;"), "{cookie}");
        for part in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/;", "Max-Age=60"] {
            assert!(cookie.contains(part), "{part}");
        }
        assert!(!cookie.contains("Domain"), "a __Host- cookie has no Domain");
        let scoped = CookieScope::Path.set("v4.local.x", 60);
        assert!(scoped.starts_with("__Secure-tenantry_refresh=") && scoped.contains("Path=/api/auth;"), "{scoped}");
        assert!(CookieScope::Host.clear().contains("Max-Age=0"));
    }

    #[test]
    fn only_listed_origins_pass() {
        let allowed = vec!["https://app.example.com".to_owned()];
        assert!(origin_allowed(Some("https://app.example.com"), &allowed));
        assert!(!origin_allowed(Some("https://evil.example.com"), &allowed));
        assert!(!origin_allowed(Some("null"), &allowed));
        assert!(!origin_allowed(None, &allowed));
    }
}
