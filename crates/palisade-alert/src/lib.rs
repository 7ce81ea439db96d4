//! Alerting on security events.
//!
//! This crate owns telling people: which events become alerts and how often
//! ([`AlertRouter`]: selection by action and severity, one alert per incident
//! plus a digest of its repeats, a global rate limit), the channels
//! ([`FileNotifier`] writing each mail into a directory — the embedded default,
//! [`WebhookNotifier`] with generic JSON or Slack-compatible bodies,
//! [`SmtpNotifier`] over STARTTLS, implicit TLS or plain SMTP with
//! authentication), each with its own minimum severity, and the running
//! [`Alerter`] that retries deliveries with backoff and records deliveries and
//! failures as events. It is fed by the event pipeline through [`AlertTap`].
#![forbid(unsafe_code)]

mod error;
mod notify;
mod router;
mod service;

pub use error::AlertError;
pub use notify::{
    FileNotifier, MailAddresses, Notifier, SmtpNotifier, SmtpSecurity, SmtpSettings, WebhookFormat,
    WebhookNotifier, alert_message,
};
pub use router::{Alert, AlertRouter, RouterSettings, severity_label};
pub use service::{AlertTap, Alerter, AlerterConfig};
