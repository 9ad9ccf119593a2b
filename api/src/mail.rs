//! Outgoing email: over SMTP when a relay is configured; otherwise (in
//! development) to the log and to an outbox folder of `.eml` files, so a
//! verification, reset or invitation link can still be followed by hand.
//!
//! Emails are sent after the response, on a task of their own: how long a
//! relay takes must not tell a caller whether an email went out (no account
//! enumeration by timing), and a slow relay must not hold a request.

use std::path::PathBuf;
use std::sync::Arc;

use lettre::message::{header::ContentType, Mailbox};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::MailSettings;

/// The normalised form of an email address (trimmed, lower case), when it
/// is one an email can be sent to.
pub fn normalize_address(raw: &str) -> Option<String> {
    let address = raw.trim().to_lowercase();
    // 254: the longest address SMTP carries (RFC 5321's 256-octet path,
    // less its angle brackets), which also keeps the domain within bounds.
    let ok = (3..=254).contains(&address.len())
        && address.find('@').is_some_and(|at| at > 0)
        && address.parse::<lettre::Address>().is_ok();
    ok.then_some(address)
}

/// One plain-text email.
#[derive(Clone, Debug)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// Where emails go.
#[derive(Clone)]
pub struct Mailer {
    from: Mailbox,
    transport: Transport,
}

#[derive(Clone)]
enum Transport {
    Smtp(Arc<AsyncSmtpTransport<Tokio1Executor>>),
    Outbox { dir: Option<PathBuf>, log_bodies: bool },
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let transport = match &self.transport {
            Transport::Smtp(_) => "smtp".to_owned(),
            Transport::Outbox { dir, .. } => format!("outbox {dir:?}"),
        };
        f.debug_struct("Mailer").field("from", &self.from.to_string()).field("transport", &transport).finish()
    }
}

impl Mailer {
    pub fn new(settings: &MailSettings) -> anyhow::Result<Self> {
        let from: Mailbox = settings.from.parse()?;
        let transport = match &settings.smtp_url {
            Some(url) => {
                Transport::Smtp(Arc::new(AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose())?.build()))
            }
            None => Transport::Outbox { dir: settings.outbox_dir.clone(), log_bodies: settings.log_bodies },
        };
        Ok(Self { from, transport })
    }

    /// Whether emails leave the machine (an SMTP relay is configured).
    pub fn delivers(&self) -> bool {
        matches!(self.transport, Transport::Smtp(_))
    }

    /// Sends on a task of its own; a failure is logged, not returned.
    pub fn send_later(&self, email: Email) {
        let mailer = self.clone();
        tokio::spawn(async move {
            if let Err(err) = mailer.send(&email).await {
                tracing::error!(error = %err, subject = %email.subject, "email not sent");
            }
        });
    }

    pub async fn send(&self, email: &Email) -> anyhow::Result<()> {
        let message = Message::builder()
            .from(self.from.clone())
            .to(email.to.parse()?)
            .subject(&email.subject)
            .header(ContentType::TEXT_PLAIN)
            .body(email.body.clone())?;
        match &self.transport {
            Transport::Smtp(smtp) => {
                smtp.send(message).await?;
                tracing::info!(subject = %email.subject, "email sent");
            }
            Transport::Outbox { dir, log_bodies } => {
                // In development the body (with its link) is logged, so the
                // flow can be finished by hand; elsewhere links stay out of
                // the logs.
                if *log_bodies {
                    tracing::info!(to = %email.to, subject = %email.subject, body = %email.body, "email not sent (no SMTP relay configured)");
                } else {
                    tracing::warn!(subject = %email.subject, "email not sent: no SMTP relay configured (APP_SMTP_URL)");
                }
                if let Some(dir) = dir {
                    tokio::fs::create_dir_all(dir).await?;
                    let name = format!(
                        "{}-{}.eml",
                        chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ"),
                        uuid::Uuid::new_v4().simple()
                    );
                    tokio::fs::write(dir.join(name), message.formatted()).await?;
                }
            }
        }
        Ok(())
    }
}
