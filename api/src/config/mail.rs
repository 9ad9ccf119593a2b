//! Outgoing email: the relay, the sender, and where unsent emails go.

use std::path::PathBuf;

use super::env::{ConfigError, Vars};
use super::Secret;

/// Outgoing email.
#[derive(Clone, Debug)]
pub struct MailSettings {
    /// `smtp://`, `smtps://` or `smtp://…?tls=required` URL of the relay,
    /// with credentials; without it, emails go to the log and the outbox.
    pub smtp_url: Option<Secret>,
    /// The `From` of every email.
    pub from: String,
    /// Folder that receives each unsent email as an `.eml` file (development).
    pub outbox_dir: Option<PathBuf>,
    /// Unsent emails are logged with their body (and so their links):
    /// development only, never in production logs.
    pub log_bodies: bool,
}

pub(super) fn read(env: &Vars, dev: bool) -> Result<MailSettings, ConfigError> {
    // Bodies carry working links: logged only where development was asked
    // for by name, never by default.
    let log_bodies = dev && env.get("APP_ENV").as_deref() == Some("development");
    let smtp_url = env.get("APP_SMTP_URL");
    if let Some(url) = &smtp_url {
        if !(url.starts_with("smtp://") || url.starts_with("smtps://")) {
            return Err(env.bad("APP_SMTP_URL", "must start with smtp:// or smtps://".into()));
        }
    }
    let from = env.get("APP_MAIL_FROM").unwrap_or_else(|| "Tenantry <no-reply@tenantry.localhost>".into());
    if from.parse::<lettre::message::Mailbox>().is_err() {
        return Err(env.bad("APP_MAIL_FROM", "is not a mailbox (`Name <address>` or `address`)".into()));
    }
    // Set but empty: no outbox, even in development.
    let outbox_dir = match env.0.get("APP_OUTBOX_DIR").map(|d| d.trim()) {
        Some("") => None,
        Some(dir) => Some(PathBuf::from(dir)),
        None if dev => Some(PathBuf::from(".data/outbox")),
        None => None,
    };
    Ok(MailSettings { smtp_url: smtp_url.map(Secret::new), from, outbox_dir, log_bodies })
}

#[cfg(test)]
mod tests {
    use crate::config::tests::{vars, BASE};
    use crate::config::Settings;

    #[test]
    fn email_bodies_are_logged_only_where_development_is_asked_for_by_name() {
        assert!(!Settings::from_map(&vars(BASE)).unwrap().mail.log_bodies, "logged with APP_ENV unset");
        let mut v = vars(BASE);
        v.insert("APP_ENV".into(), "development".into());
        assert!(Settings::from_map(&v).unwrap().mail.log_bodies);
    }
}
