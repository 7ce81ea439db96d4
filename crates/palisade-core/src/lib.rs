//! Shared vocabulary of Palisade.
//!
//! This crate owns the contract between the data plane (`palisade-gateway`) and
//! everything that inspects traffic (the WAF engine, native detectors, access
//! control, schema validation, data-leak masking):
//!
//! * [`Inspector`] — a component, created once per configuration; it starts an
//!   [`Inspection`] for every request.
//! * [`Inspection`] — per-transaction state with one hook per phase of a request:
//!   request headers → request body → response headers → response body → logging.
//!   Each hook returns a [`Verdict`].
//! * [`ExchangeContext`] — per-exchange facts an inspector hands to later inspectors and the
//!   gateway: the authenticated [`Identity`], headers for the upstream request and for the
//!   client's answer (e.g. `Retry-After` with a 429 block).
//! * [`SecurityEvent`] and [`EventSink`] — how anything reports a security-relevant
//!   decision. Field names follow the Elastic Common Schema and event actions the
//!   OWASP Logging Vocabulary.
//!
//! Design notes: hooks are synchronous and must not block; an inspector that needs
//! I/O does it off the request path. The gateway calls the hooks of every inspector
//! of a route in order and stops at the first disruptive verdict. In `detect` mode
//! the gateway records disruptive verdicts but lets the request through.
#![forbid(unsafe_code)]

pub mod civil;
mod context;
mod event;
mod inspect;

pub use context::{AuthMethod, ExchangeContext, Identity};
pub use event::{EventOutcome, EventSink, SecurityEvent, Severity, TracingSink};
pub use inspect::{
    BodyView, ExchangeSummary, Inspection, Inspector, Mode, Phase, RequestHead, ResponseHead,
    Verdict,
};
