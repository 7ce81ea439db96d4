//! Palisade's dependency audit: which known-vulnerable package versions a project pins.
//!
//! This crate owns everything behind `palisade audit`:
//! - [`lockfile`]: readers for Python (requirements, poetry, Pipfile, uv, pdm, pylock, installed
//!   `*.dist-info`), Rust (Cargo.lock), JavaScript (package-lock, yarn, pnpm), Go (go.sum) and
//!   SBOMs (CycloneDX, SPDX JSON);
//! - [`version`]: the version schemes (PEP 440 with specifiers, SemVer, a generic fallback);
//! - [`osv`] and [`matcher`]: the OSV advisory model and the OSV range-evaluation algorithm;
//! - [`severity`]: CVSS v3.x/v4.0 vectors to scores and ratings;
//! - [`store`]: the offline SQLite advisory store and its imports;
//! - [`scan`], [`ignore`] and [`report`]: finding lockfiles, auditing them, the ignore file, and
//!   table/JSON/SARIF/CycloneDX VEX output.
#![forbid(unsafe_code)]

pub mod dates;
mod error;
pub mod ignore;
pub mod lockfile;
pub mod matcher;
pub mod osv;
pub mod report;
pub mod scan;
pub mod severity;
pub mod store;
pub mod version;

pub use error::AuditError;
pub use ignore::IgnoreList;
pub use report::{FailOn, Report, ReportFormat};
pub use severity::Severity;
pub use store::AdvisoryStore;
