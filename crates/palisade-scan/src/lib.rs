//! Palisade's dynamic application security scanner (`palisade scan`). Owns the HTTP layer
//! (rate limits, budgets, redaction), the crawler (scope, robots.txt, links, forms,
//! JavaScript URLs and requests, sitemaps, OpenAPI documents, a scripted login), the passive
//! and active checks (every active finding is confirmed), live progress counters, resumable
//! scan state, the report formats (table, JSON, SARIF, JUnit, HTML, baselines) and the scorer
//! that measures the scanner on labeled vulnerable applications.
//!
//! Nothing fetched is executed: pages are parsed as data with bounded parsers.
#![forbid(unsafe_code)]

pub mod checks;
pub mod crawl;
pub mod error;
pub mod extract;
pub mod finding;
pub mod http;
pub mod login;
pub mod openapi;
pub mod progress;
pub mod report;
pub mod robots;
pub mod scanner;
pub mod scope;
pub mod score;
pub mod state;
pub mod target;

pub use error::ScanError;
pub use finding::{Evidence, Finding, Severity};
pub use http::{Client, HttpConfig};
pub use progress::Progress;
pub use report::{Format, ScanReport};
pub use scanner::{Control, ScanOptions, scan, scan_resumable};
pub use scope::Scope;
