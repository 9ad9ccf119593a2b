//! Token keys, token lifetimes, sessions and sign-in limits.

use std::time::Duration;

use super::env::{ConfigError, Vars};
use super::Secret;

/// Tokens and sign-in.
#[derive(Clone, Debug)]
pub struct AuthSettings {
    /// Ed25519 signing key (seed and public key, 64 bytes, hex).
    pub signing_key: Secret,
    /// Public keys of earlier signing keys still accepted (hex).
    pub previous_public_keys: Vec<String>,
    /// Symmetric key of refresh tokens (32 bytes, hex).
    pub refresh_key: Secret,
    /// The keys were generated at start (development without keys set):
    /// tokens die with the process.
    pub keys_generated: bool,
    pub issuer: String,
    pub audience: String,
    pub access_ttl: Duration,
    pub refresh_ttl: Duration,
    /// How long a used refresh token still yields its successor.
    pub refresh_grace: Duration,
    /// Origins allowed to use the refresh cookie (`scheme://host[:port]`).
    pub allowed_origins: Vec<String>,
    /// Sign-in attempts per minute per client address (all accounts).
    pub login_limit_per_minute: u32,
    /// Failed sign-ins an account may take in an hour from addresses that
    /// have not signed in to it successfully lately; past it, only such
    /// addresses may still try.
    pub login_failures_per_hour: u32,
    /// A session ends this long after it was opened, however often it is
    /// refreshed.
    pub session_max_lifetime: Duration,
    /// Name and path of the refresh cookie.
    pub refresh_cookie: crate::auth::cookie::CookieScope,
}

impl AuthSettings {
    pub fn token_keys(&self) -> Result<crate::auth::tokens::TokenKeys, crate::auth::tokens::TokenError> {
        let previous: Vec<&str> = self.previous_public_keys.iter().map(String::as_str).collect();
        crate::auth::tokens::TokenKeys::new(
            &self.issuer,
            &self.audience,
            self.access_ttl,
            &crate::auth::tokens::KeyMaterial {
                signing_key_hex: self.signing_key.expose(),
                previous_keys: &previous,
                refresh_key_hex: self.refresh_key.expose(),
            },
        )
    }
}

pub(super) fn read(env: &Vars<'_>, dev: bool) -> Result<AuthSettings, ConfigError> {
    let (signing_key, refresh_key, keys_generated) =
        match (env.get("APP_PASETO_SIGNING_KEY"), env.get("APP_PASETO_REFRESH_KEY")) {
            (Some(signing), Some(refresh)) => (signing, refresh, false),
            (None, None) if dev => {
                let (signing, _, refresh) = crate::auth::tokens::TokenKeys::generate_hex()
                    .map_err(|e| env.bad("APP_PASETO_SIGNING_KEY", e.to_string()))?;
                (signing, refresh, true)
            }
            (None, _) => {
                return Err(env.bad("APP_PASETO_SIGNING_KEY", "is required (`tenantry-api keygen` makes one)".into()))
            }
            (_, None) => {
                return Err(env.bad("APP_PASETO_REFRESH_KEY", "is required (`tenantry-api keygen` makes one)".into()))
            }
        };
    let access_ttl = Duration::from_secs(env.parse_or("APP_ACCESS_TOKEN_TTL_SECS", 900)?);
    if access_ttl.is_zero() || access_ttl > crate::auth::tokens::MAX_ACCESS_TTL {
        return Err(env.bad("APP_ACCESS_TOKEN_TTL_SECS", "must be 1 to 900".into()));
    }
    let default_origins = if dev { "http://localhost:8081,http://127.0.0.1:8081" } else { "" };
    let allowed_origins: Vec<String> = env
        .get("APP_ALLOWED_ORIGINS")
        .unwrap_or_else(|| default_origins.to_owned())
        .split(',')
        .map(|o| o.trim().trim_end_matches('/').to_owned())
        .filter(|o| !o.is_empty())
        .collect();
    if let Some(bad) = allowed_origins.iter().find(|o| !(o.starts_with("https://") || o.starts_with("http://"))) {
        return Err(env.bad("APP_ALLOWED_ORIGINS", format!("`{bad}` is not an http(s) origin")));
    }
    let settings = AuthSettings {
        signing_key: Secret::new(signing_key),
        previous_public_keys: env.parse_list("APP_PASETO_PREVIOUS_PUBLIC_KEYS")?,
        refresh_key: Secret::new(refresh_key),
        keys_generated,
        issuer: env.get("APP_TOKEN_ISSUER").unwrap_or_else(|| "tenantry".into()),
        audience: env.get("APP_TOKEN_AUDIENCE").unwrap_or_else(|| "tenantry-api".into()),
        access_ttl,
        refresh_ttl: Duration::from_secs(env.parse_or("APP_REFRESH_TOKEN_TTL_SECS", 30 * 24 * 3600)?),
        refresh_grace: Duration::from_millis(env.parse_or("APP_REFRESH_GRACE_MS", 10_000)?),
        allowed_origins,
        login_limit_per_minute: env.parse_or("APP_LOGIN_LIMIT_PER_MINUTE", 10)?,
        login_failures_per_hour: env.parse_or("APP_LOGIN_FAILURES_PER_HOUR", 100)?,
        session_max_lifetime: {
            let hours: u64 = env.parse_or("APP_SESSION_MAX_LIFETIME_HOURS", 30 * 24)?;
            if hours == 0 || hours > 365 * 24 {
                return Err(env.bad("APP_SESSION_MAX_LIFETIME_HOURS", "must be 1–8760".into()));
            }
            Duration::from_secs(hours * 3600)
        },
        refresh_cookie: match env.get("APP_REFRESH_COOKIE_SCOPE").as_deref() {
            None | Some("host") => crate::auth::cookie::CookieScope::Host,
            Some("path") => crate::auth::cookie::CookieScope::Path,
            Some(other) => {
                return Err(env.bad("APP_REFRESH_COOKIE_SCOPE", format!("`{other}` is not host or path")));
            }
        },
    };
    // Unusable key material stops start-up here, not at the first sign-in.
    settings.token_keys().map_err(|e| env.bad("APP_PASETO_SIGNING_KEY", e.to_string()))?;
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use crate::config::tests::{vars, BASE};
    use crate::config::Settings;

    #[test]
    fn production_requires_token_keys() {
        let mut v = vars(BASE);
        v.insert("APP_ENV".into(), "production".into());
        assert_eq!(Settings::from_map(&v).unwrap_err().name, "APP_PASETO_SIGNING_KEY");
        let (signing, _, refresh) = crate::auth::tokens::TokenKeys::generate_hex().unwrap();
        v.insert("APP_PASETO_SIGNING_KEY".into(), signing);
        assert_eq!(Settings::from_map(&v).unwrap_err().name, "APP_PASETO_REFRESH_KEY");
        v.insert("APP_PASETO_REFRESH_KEY".into(), "00".into());
        assert_eq!(Settings::from_map(&v).unwrap_err().name, "APP_PASETO_SIGNING_KEY", "bad key material is caught");
        v.insert("APP_PASETO_REFRESH_KEY".into(), refresh);
        assert!(!Settings::from_map(&v).unwrap().auth.keys_generated);
    }
}
