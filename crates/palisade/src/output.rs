//! Where reports go: standard output, or the file named by `--output`.
//! Every command that reports findings uses this, so they behave alike.

use std::io::Write as _;
use std::path::Path;

use anyhow::Context as _;

/// Exit code for findings at or above the failure threshold.
pub(crate) const EXIT_FINDINGS: u8 = 1;
/// Exit code for usage or input errors.
pub(crate) const EXIT_USAGE: u8 = 2;

/// Writes `text` to `output`, or to standard output when `None`.
pub(crate) fn emit(text: &str, output: Option<&Path>) -> anyhow::Result<()> {
    match output {
        Some(path) => std::fs::write(path, text)
            .with_context(|| format!("cannot write the report to {}", path.display())),
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(text.as_bytes())
                .and_then(|()| {
                    if text.ends_with('\n') {
                        Ok(())
                    } else {
                        stdout.write_all(b"\n")
                    }
                })
                .context("cannot write to standard output")
        }
    }
}
