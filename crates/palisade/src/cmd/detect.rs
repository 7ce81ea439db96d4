//! `palisade detect …`: measure the native detectors on a labeled corpus.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;

use crate::output::{EXIT_FINDINGS, emit};

/// Detector subcommands.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum DetectCommand {
    /// Per-class true-positive rate on CORPUS/attacks/<class>.txt and false-positive rate on
    /// CORPUS/benign/*.txt, with the totals. Exits 1 when a class is below --min-tpr or the
    /// overall false-positive rate is above --max-fpr.
    Eval {
        /// The corpus directory (attacks/ and benign/).
        #[arg(default_value = "corpus")]
        corpus: PathBuf,
        /// Output format: table or json.
        #[arg(long, default_value = "table", value_parser = ["table", "json"])]
        format: String,
        /// Write the report to this file instead of standard output.
        #[arg(long)]
        output: Option<PathBuf>,
        /// Lowest acceptable per-class true-positive rate, percent.
        #[arg(long, default_value_t = 97.0)]
        min_tpr: f64,
        /// Highest acceptable overall false-positive rate, percent.
        #[arg(long, default_value_t = 1.0)]
        max_fpr: f64,
    },
}

pub(crate) fn run(command: DetectCommand) -> anyhow::Result<ExitCode> {
    match command {
        DetectCommand::Eval {
            corpus,
            format,
            output,
            min_tpr,
            max_fpr,
        } => {
            let report =
                palisade_detect::eval::evaluate(&corpus, palisade_detect::normalize::classify)
                    .with_context(|| {
                        format!("cannot evaluate the corpus in {}", corpus.display())
                    })?;
            let text = match format.as_str() {
                "json" => report.to_json(),
                _ => report.to_string(),
            };
            emit(&text, output.as_deref())?;
            let met = report
                .attacks
                .iter()
                .all(|row| row.tpr * 100.0 + 1e-9 >= min_tpr)
                && report.fpr * 100.0 <= max_fpr + 1e-9;
            Ok(if met {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(EXIT_FINDINGS)
            })
        }
    }
}
