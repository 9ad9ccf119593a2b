//! Every email Tenantry sends, in one place: the templates, the links into
//! the console they carry, and how many one mailbox may get.
//!
//! Links carry their token in the URL fragment (never sent to a server, so
//! never in an access log), and every email also gives the token as a
//! `code:` line for clients without the console. Subjects are fixed: no
//! one's text becomes a subject line.

use chrono::{DateTime, Utc};

use crate::error::ApiError;
use crate::mail::Email;
use crate::rate_limit;
use crate::state::AppState;

/// The subject of every invitation.
pub const INVITATION_SUBJECT: &str = "You are invited to a tenant on Tenantry";

/// How many emails one address may get from one route in a day.
const EMAILS_PER_ADDRESS_PER_DAY: u32 = 20;

/// Whether another email may go to `email` from `route`: a third of the
/// address budget per minute, and [`EMAILS_PER_ADDRESS_PER_DAY`]. Register
/// and forgot answer as usual past either but send nothing: no one can make
/// an address unusable (a 429 would) or flood its mailbox.
pub async fn may_send(state: &AppState, route: &str, email: &str) -> Result<bool, ApiError> {
    let per_minute = state.settings.onboarding.limit_per_minute.div_ceil(3);
    let key = format!("{route}:email:{email}");
    if rate_limit::hit_or_refuse(state, &key, per_minute).await?.is_some() {
        return Ok(false);
    }
    let per_day = if per_minute == 0 { 0 } else { EMAILS_PER_ADDRESS_PER_DAY };
    Ok(rate_limit::hit_or_refuse_per(state, &key, per_day, 24 * 3600).await?.is_none())
}

/// A link into the console, carrying the token in the fragment (never sent
/// to a server, so never in an access log).
pub fn link(state: &AppState, page: &str, token: &str) -> String {
    format!("{}/{page}#token={token}", state.settings.onboarding.public_url)
}

/// "30 minutes", "24 hours", for the emails.
pub fn lifetime(d: std::time::Duration) -> String {
    let minutes = d.as_secs() / 60;
    match minutes {
        1 => "1 minute".into(),
        m if m < 120 || m % 60 != 0 => format!("{m} minutes"),
        m => format!("{} hours", m / 60),
    }
}

/// The registration link: verify the address, choose the password.
pub fn verification(state: &AppState, to: &str, tenant_name: &str, token: &str, ttl: std::time::Duration) -> Email {
    Email {
        to: to.to_owned(),
        subject: "Verify your email to create your Tenantry tenant".into(),
        body: format!(
            "Someone (we hope you) registered this address to create the tenant \"{tenant_name}\".\n\n\
             Follow this link within {} to verify the address, choose your password and create it:\n{}\n\n\
             Or send this code with your password to POST /api/auth/verify-email:\ncode: {token}\n\n\
             If it was not you, ignore this email: nothing is created without it.\n",
            lifetime(ttl),
            link(state, "verify-email", token),
        ),
    }
}

/// Instead of a verification link, to an address that has an account.
pub fn already_registered(state: &AppState, to: &str) -> Email {
    Email {
        to: to.to_owned(),
        subject: "Someone tried to register your email at Tenantry".into(),
        body: format!(
            "Someone tried to register a new tenant with this address, which already has an account.\n\n\
             To create another tenant, sign in and ask an operator; if you forgot your password, \
             reset it here:\n{}/forgot-password\n\nIf it was not you, ignore this email.\n",
            state.settings.onboarding.public_url
        ),
    }
}

/// The password-reset link.
pub fn password_reset(state: &AppState, to: &str, token: &str, ttl: std::time::Duration) -> Email {
    Email {
        to: to.to_owned(),
        subject: "Reset your Tenantry password".into(),
        body: format!(
            "Someone (we hope you) asked to reset the password of this account.\n\n\
             Follow this link within {} to choose a new one:\n{}\n\n\
             Or send this code to POST /api/auth/password/reset:\ncode: {token}\n\n\
             If it was not you, ignore this email: your password stays as it is.\n",
            lifetime(ttl),
            link(state, "reset-password", token),
        ),
    }
}

/// An invitation into a tenant, with the role it gives.
pub fn invitation(
    state: &AppState,
    to: &str,
    tenant_name: &str,
    role: &str,
    token: &str,
    expires_at: DateTime<Utc>,
) -> Email {
    Email {
        to: to.to_owned(),
        subject: INVITATION_SUBJECT.into(),
        body: format!(
            "You are invited to join the tenant \"{tenant_name}\" on Tenantry as {role}.\n\n\
             Follow this link before {} to accept:\n{}\n\n\
             Or send this code to POST /api/invitations/accept:\ncode: {token}\n\n\
             If you do not know why you got this, ignore it.\n",
            expires_at.format("%Y-%m-%d %H:%M UTC"),
            link(state, "accept-invitation", token),
        ),
    }
}
