//! Streaming anomaly detection over security events, with persisted baselines
//! and automatic responses.
//!
//! This crate owns deciding that something is unusual and what to do about it:
//!
//! * [`Detector`] — deterministic detectors over login events and request
//!   samples: failed logins per account and per address (short window and slow
//!   brute force), credential stuffing (one address, many accounts; one account,
//!   many addresses), success after many failures, scanner bursts (4xx over
//!   distinct paths), sensitive-path probes, traffic spikes (EWMA + robust
//!   z-scores over per-minute counts per address, user, route and globally, with
//!   volume floors and hour-of-week seasonality), new country/AS for a user
//!   (MaxMind `.mmdb`, see [`GeoDatabase`]) or, without GeoIP, a new /24 with a
//!   new user-agent family, impossible travel and unusual login hours.
//! * [`Finding`] — a finding and its [`SecurityEvent`](palisade_core::SecurityEvent)
//!   (`anomaly_<kind>` with baseline, observation and evidence ids).
//! * [`Responder`] — automatic responses per finding kind ([`ResponsePolicy`]):
//!   temporary IP bans escalating on repeat through a [`BanEnforcer`], alert
//!   only, or record only; allowlisted networks and users.
//! * [`MonitorService`] — the running monitor: fed by the event pipeline
//!   ([`MonitorTap`]) and the gateway ([`TrafficInspector`]), recording findings
//!   and bans as events and persisting baselines in the event store.
//! * [`Clock`] — injectable time ([`ManualClock`] for tests).
#![forbid(unsafe_code)]

mod baseline;
mod clock;
mod detector;
mod error;
mod finding;
mod geo;
mod response;
mod service;

pub use baseline::{
    BUCKET_MS, HISTORY_MINUTES, RateSeries, Spike, SpikeRule, hour_of_week, median_mad,
};
pub use clock::{Clock, ManualClock, SystemClock};
pub use detector::{
    Detector, DetectorSettings, MAX_WINDOW_ENTRIES, RequestSample, SensitivePaths, WindowLimit,
    agent_family, evidence_id, network_of,
};
pub use error::MonitorError;
pub use finding::{FINDING_ACTION_PREFIX, Finding, FindingKind, MAX_EVIDENCE, finding_from_event};
pub use geo::{GeoDatabase, GeoInfo, distance_km};
pub use response::{
    AppliedBan, BanDurations, BanEnforcer, MemoryBans, Responder, ResponseAction, ResponsePolicy,
};
pub use service::{MonitorConfig, MonitorService, MonitorTap, TrafficInspector};
