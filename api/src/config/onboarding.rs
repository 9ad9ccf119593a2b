//! Self-service registration, password reset and invitations: links,
//! lifetimes and limits.

use std::time::Duration;

use super::env::{ConfigError, Vars};

/// Self-service registration, password reset and invitations.
#[derive(Clone, Debug)]
pub struct OnboardingSettings {
    /// `POST /api/auth/register` is open; off when only operators provision
    /// tenants.
    pub registration_enabled: bool,
    /// Where the console is reached, for the links in emails.
    pub public_url: String,
    pub verification_ttl: Duration,
    pub reset_ttl: Duration,
    pub invitation_ttl: Duration,
    /// Register, forgot-password and invitation-accept requests per minute
    /// per client address; a third of it per email (register, forgot,
    /// invitations).
    pub limit_per_minute: u32,
    /// Invitations one tenant may send in a day.
    pub invitations_per_tenant_per_day: u32,
}

pub(super) fn read(env: &Vars) -> Result<OnboardingSettings, ConfigError> {
    let public_url = env.get("APP_PUBLIC_URL").unwrap_or_else(|| "http://localhost:8081".into());
    let parsed = url::Url::parse(&public_url).map_err(|e| env.bad("APP_PUBLIC_URL", e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(env.bad("APP_PUBLIC_URL", "must be an http(s) URL with a host".into()));
    }
    // The database bounds them too (7 days, 1 day, 31 days).
    let minutes = |name: &'static str, default: u64, max: u64| -> Result<Duration, ConfigError> {
        let m: u64 = env.parse_or(name, default)?;
        if m == 0 || m > max {
            return Err(env.bad(name, format!("must be 1–{max}")));
        }
        Ok(Duration::from_secs(m * 60))
    };
    Ok(OnboardingSettings {
        registration_enabled: env.parse_or("APP_REGISTRATION_ENABLED", true)?,
        public_url: public_url.trim_end_matches('/').to_owned(),
        verification_ttl: minutes("APP_VERIFICATION_TTL_MINUTES", 24 * 60, 7 * 24 * 60)?,
        reset_ttl: minutes("APP_PASSWORD_RESET_TTL_MINUTES", 30, 24 * 60)?,
        invitation_ttl: minutes("APP_INVITATION_TTL_MINUTES", 7 * 24 * 60, 30 * 24 * 60)?,
        limit_per_minute: env.parse_or("APP_ONBOARDING_LIMIT_PER_MINUTE", 15)?,
        invitations_per_tenant_per_day: env.parse_or("APP_INVITATIONS_PER_TENANT_PER_DAY", 200)?,
    })
}
