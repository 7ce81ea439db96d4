//! Test fixtures shared by Palisade's test suites, so that each exists once: a throwaway PKI
//! ([`TestPki`]: a CA and a leaf certificate for `localhost` / 127.0.0.1, made with rcgen) and a real
//! SMTP server on loopback ([`SmtpServer`]: Python's aiosmtpd, plain, STARTTLS or implicit TLS), and
//! a `palisade serve` child process ([`ServeProcess`]), and the `access.sqlite3` of a gateway older
//! than the state store ([`legacy_access`]).
//!
//! Only ever a dev-dependency. Fixtures that need an external program skip with a loud notice when
//! it is missing, and panic when `CI=true` (the CI script provisions them).

pub mod legacy_access;
mod pki;
mod serve;
mod smtp;

pub use pki::TestPki;
pub use serve::ServeProcess;
pub use smtp::{SmtpMode, SmtpServer};

/// Whether this run is CI (`CI=true`), where a missing test dependency is a failure, not a skip.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|value| value == "true")
}
