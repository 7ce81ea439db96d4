//! Path traversal and local file inclusion.
//!
//! What: a relative path climbing out of the web root (plain, with `....//` against
//! single-pass filters, URL-encoded once more, absolute) to a file every Unix or Windows
//! system has; the file's known content (`root:x:0:0:` of /etc/passwd, `[fonts]` of
//! win.ini) appears in the page and not in the baseline.
//!
//! Why: reading arbitrary files discloses source, configuration and keys.
//!
//! Example: `?file=../../../../../../etc/passwd` → `root:x:0:0:root:/root:/bin/bash`.
//!
//! References: CWE-22 (Path Traversal), CWE-98 (File Inclusion); OWASP WSTG-ATHZ-01.

use std::sync::LazyLock;

use regex::Regex;

use super::re;
use crate::checks::{Info, ParamCheck, Probe};
use crate::error::ScanError;
use crate::finding::{Finding, Severity};
use crate::target::INPUTS;

/// The check.
pub const CHECK: ParamCheck = ParamCheck {
    name: "traversal",
    run,
    locations: INPUTS,
};

const INFO: Info = Info {
    id: "traversal.file_read",
    title: "Path traversal (arbitrary file read)",
    cwe: 22,
    severity: Severity::High,
    fix: "Map input to an allowlist of files, or resolve the path and require it to stay under the base directory (os.path.realpath + commonpath).",
};

/// Known content of a system file every Unix or Windows host has (also used by the XXE check).
pub(crate) static SYSTEM_FILE: LazyLock<Regex> =
    LazyLock::new(|| re(r"root:[^:\r\n]{0,40}:0:0:|\[fonts\]\r?\n|; for 16-bit app support"));

const PAYLOADS: [&str; 8] = [
    "../../../../../../../../../../etc/passwd",
    "/etc/passwd",
    "....//....//....//....//....//....//....//....//etc/passwd",
    "..%2f..%2f..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
    "file:///etc/passwd",
    "../../../../../../../../../../etc/passwd%00.png",
    "..\\..\\..\\..\\..\\..\\..\\..\\windows\\win.ini",
    "C:\\windows\\win.ini",
];

fn run(probe: &Probe<'_>) -> Result<Option<Finding>, ScanError> {
    if SYSTEM_FILE.is_match(&probe.baseline.body) {
        return Ok(None);
    }
    let v = probe.original();
    // Also keep a directory prefix the application may require (`images/x.png`).
    let prefixed = v.rsplit_once('/').map(|(dir, _)| dir.to_owned());
    for payload in PAYLOADS {
        let mut values = vec![payload.to_owned()];
        if let Some(dir) = &prefixed
            && payload.starts_with("..")
        {
            values.push(format!("{dir}/{payload}"));
        }
        for value in values {
            let exchange = probe.send(&value)?;
            if let Some(m) = SYSTEM_FILE.find(&exchange.body) {
                let marker = m.as_str().trim_end().to_owned();
                return Ok(Some(probe.finding(
                    &INFO,
                    &exchange,
                    &marker,
                    format!("{value:?} returned the system file content {marker:?}, absent from the baseline"),
                )));
            }
        }
    }
    Ok(None)
}
