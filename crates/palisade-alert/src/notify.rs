//! Alert channels: a directory of mail files (the embedded default), webhooks
//! (generic JSON or Slack-compatible) and SMTP (STARTTLS, implicit TLS or
//! plain, with optional authentication). Each channel has its own minimum
//! severity (routing by severity).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use lettre::message::{Mailbox, Message, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{SmtpTransport, Transport};
use palisade_core::Severity;

use crate::error::{AlertError, ErrorKind};
use crate::router::Alert;

/// One alert channel.
pub trait Notifier: Send + 'static {
    /// Short name (`file`, `webhook`, `slack`, `smtp`) for events and logs.
    fn name(&self) -> &str;
    /// Alerts below this severity skip the channel.
    fn min_severity(&self) -> Severity;
    /// Delivers one alert (one attempt; the alerter retries).
    fn deliver(&mut self, alert: &Alert) -> Result<(), AlertError>;
}

/// Sender and recipients of alert mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailAddresses {
    /// `From:` (e.g. `Palisade <palisade@example.com>`).
    pub from: String,
    /// `To:` recipients.
    pub to: Vec<String>,
}

fn mailbox(address: &str) -> Result<Mailbox, AlertError> {
    address
        .parse()
        .map_err(|_| AlertError::invalid("mail address", address))
}

/// Builds the RFC 5322 message of an alert.
pub fn alert_message(alert: &Alert, addresses: &MailAddresses) -> Result<Message, AlertError> {
    let mut builder = Message::builder()
        .from(mailbox(&addresses.from)?)
        .subject(alert.title.clone())
        .header(ContentType::TEXT_PLAIN);
    for to in &addresses.to {
        builder = builder.to(mailbox(to)?);
    }
    let mut body = alert.body.clone();
    body.push_str("\n-- \nEvent (ECS JSON):\n");
    body.push_str(
        &serde_json::to_string_pretty(&palisade_events::ecs::to_ecs(&alert.event))
            .unwrap_or_default(),
    );
    body.push('\n');
    builder
        .body(body)
        .map_err(|e| AlertError::invalid("alert mail", e.to_string()))
}

/// Writes each alert as a mail file (`<time>-<n>.eml`) into a directory.
#[derive(Debug)]
pub struct FileNotifier {
    dir: PathBuf,
    addresses: MailAddresses,
    min_severity: Severity,
    sequence: AtomicU64,
}

impl FileNotifier {
    /// Creates the directory when missing.
    pub fn new(
        dir: impl Into<PathBuf>,
        addresses: MailAddresses,
        min_severity: Severity,
    ) -> Result<Self, AlertError> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir).map_err(|source| ErrorKind::Io {
            path: dir.clone(),
            source,
        })?;
        Ok(FileNotifier {
            dir,
            addresses,
            min_severity,
            sequence: AtomicU64::new(0),
        })
    }

    /// The directory written to.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Notifier for FileNotifier {
    fn name(&self) -> &str {
        "file"
    }

    fn min_severity(&self) -> Severity {
        self.min_severity
    }

    fn deliver(&mut self, alert: &Alert) -> Result<(), AlertError> {
        let message = alert_message(alert, &self.addresses)?;
        let n = self.sequence.fetch_add(1, Ordering::Relaxed);
        let name = format!(
            "{}-{}-{n:04}.eml",
            palisade_events::ecs::format_timestamp(palisade_events::now_ms())
                .replace([':', '.'], ""),
            std::process::id()
        );
        let path = self.dir.join(name);
        let partial = path.with_extension("eml.partial");
        std::fs::write(&partial, message.formatted())
            .and_then(|()| std::fs::rename(&partial, &path))
            .map_err(|source| ErrorKind::Io { path, source }.into())
    }
}

/// Body format of a webhook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WebhookFormat {
    /// `{"title", "severity", "text", "incident", "repeats", "event": {ECS}}`.
    Json,
    /// Slack incoming-webhook compatible: `{"text": "*title*\n…"}` (also Mattermost, Rocket.Chat).
    Slack,
}

/// POSTs each alert as JSON.
pub struct WebhookNotifier {
    url: String,
    format: WebhookFormat,
    min_severity: Severity,
    agent: ureq::Agent,
}

impl std::fmt::Debug for WebhookNotifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Webhook URLs often embed a token: show the host only.
        let host = self
            .url
            .split("://")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .unwrap_or("");
        f.debug_struct("WebhookNotifier")
            .field("host", &host)
            .field("format", &self.format)
            .finish_non_exhaustive()
    }
}

impl WebhookNotifier {
    /// A webhook channel; `url` must be http(s).
    pub fn new(
        url: impl Into<String>,
        format: WebhookFormat,
        min_severity: Severity,
        timeout: Duration,
    ) -> Result<Self, AlertError> {
        let url = url.into();
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(AlertError::invalid(
                "webhook URL (http:// or https://)",
                "<redacted>",
            ));
        }
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .build()
            .into();
        Ok(WebhookNotifier {
            url,
            format,
            min_severity,
            agent,
        })
    }

    fn body(&self, alert: &Alert) -> serde_json::Value {
        match self.format {
            WebhookFormat::Json => serde_json::json!({
                "title": alert.title,
                "severity": palisade_events::ecs::severity_name(alert.severity),
                "text": alert.body,
                "incident": alert.incident,
                "repeats": alert.repeats,
                "suppressed": alert.suppressed,
                "event": palisade_events::ecs::to_ecs(&alert.event),
            }),
            WebhookFormat::Slack => serde_json::json!({
                "text": format!("*{}*\n{}", slack_escape(&alert.title), slack_escape(&alert.body)),
            }),
        }
    }
}

/// Slack's three control characters in message text.
fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

impl Notifier for WebhookNotifier {
    fn name(&self) -> &str {
        match self.format {
            WebhookFormat::Json => "webhook",
            WebhookFormat::Slack => "slack",
        }
    }

    fn min_severity(&self) -> Severity {
        self.min_severity
    }

    fn deliver(&mut self, alert: &Alert) -> Result<(), AlertError> {
        let body = serde_json::to_vec(&self.body(alert))
            .map_err(|e| AlertError::invalid("webhook body", e.to_string()))?;
        let response = self
            .agent
            .post(&self.url)
            .header("Content-Type", "application/json")
            .send(&body[..])
            .map_err(|e| ErrorKind::Delivery {
                channel: self.name().to_owned(),
                reason: e.to_string(),
            })?;
        let status = response.status().as_u16();
        if (200..300).contains(&status) {
            Ok(())
        } else {
            Err(ErrorKind::Delivery {
                channel: self.name().to_owned(),
                reason: format!("HTTP status {status}"),
            }
            .into())
        }
    }
}

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SmtpSecurity {
    /// Plain connection, upgraded with STARTTLS (required), usually port 587.
    StartTls,
    /// TLS from the first byte (SMTPS), usually port 465.
    ImplicitTls,
    /// No TLS at all (only for a relay on loopback or a trusted network).
    Plain,
}

/// SMTP server settings.
#[derive(Clone)]
pub struct SmtpSettings {
    /// Server host name (also the TLS server name).
    pub host: String,
    /// Port.
    pub port: u16,
    /// Connection security.
    pub security: SmtpSecurity,
    /// User name and password for AUTH, when needed.
    pub credentials: Option<(String, String)>,
    /// Timeout of each SMTP command.
    pub timeout: Duration,
    /// A PEM file of CA certificates trusted for the server's certificate, besides the public
    /// (webpki) roots: for a server with a private CA.
    pub ca_file: Option<std::path::PathBuf>,
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("user", &self.credentials.as_ref().map(|(user, _)| user))
            .field("timeout", &self.timeout)
            .field("ca_file", &self.ca_file)
            .finish()
    }
}

/// Sends each alert as a mail over SMTP.
pub struct SmtpNotifier {
    transport: SmtpTransport,
    addresses: MailAddresses,
    min_severity: Severity,
}

impl std::fmt::Debug for SmtpNotifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpNotifier")
            .field("addresses", &self.addresses)
            .finish_non_exhaustive()
    }
}

impl SmtpNotifier {
    /// A channel to one SMTP server (no connection is made until the first alert).
    pub fn new(
        settings: &SmtpSettings,
        addresses: MailAddresses,
        min_severity: Severity,
    ) -> Result<Self, AlertError> {
        // Addresses are checked now, not at the first alert.
        mailbox(&addresses.from)?;
        for to in &addresses.to {
            mailbox(to)?;
        }
        let extra_roots = match &settings.ca_file {
            Some(path) => {
                let pem = std::fs::read(path).map_err(|e| {
                    AlertError::invalid("SMTP ca_file", format!("{}: {e}", path.display()))
                })?;
                let certificate = Certificate::from_pem(&pem).map_err(|e| {
                    AlertError::invalid("SMTP ca_file", format!("{}: {e}", path.display()))
                })?;
                Some(certificate)
            }
            None => None,
        };
        let tls = move || {
            let mut builder = TlsParameters::builder(settings.host.clone());
            if let Some(root) = extra_roots {
                builder = builder.add_root_certificate(root);
            }
            builder
                .build()
                .map_err(|e| AlertError::invalid("SMTP TLS settings", e.to_string()))
        };
        let security = match settings.security {
            SmtpSecurity::StartTls => Tls::Required(tls()?),
            SmtpSecurity::ImplicitTls => Tls::Wrapper(tls()?),
            SmtpSecurity::Plain => Tls::None,
        };
        let mut builder = SmtpTransport::builder_dangerous(settings.host.clone())
            .port(settings.port)
            .tls(security)
            .timeout(Some(settings.timeout));
        if let Some((user, password)) = &settings.credentials {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        Ok(SmtpNotifier {
            transport: builder.build(),
            addresses,
            min_severity,
        })
    }
}

impl Notifier for SmtpNotifier {
    fn name(&self) -> &str {
        "smtp"
    }

    fn min_severity(&self) -> Severity {
        self.min_severity
    }

    fn deliver(&mut self, alert: &Alert) -> Result<(), AlertError> {
        let message = alert_message(alert, &self.addresses)?;
        self.transport.send(&message).map(drop).map_err(|e| {
            ErrorKind::Delivery {
                channel: "smtp".to_owned(),
                reason: e.to_string(),
            }
            .into()
        })
    }
}
