//! `palisade waf …`: rule-file tools — validate SecLang files, run the OWASP CRS
//! regression suite (go-ftw format) through the real gateway.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use palisade_ftw::{ReportFormat, RunOptions};
use palisade_waf::{Waf, WafSettings};

use crate::output::{EXIT_FINDINGS, EXIT_USAGE, emit};

/// WAF subcommands.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum WafCommand {
    /// Validate SecLang rule files (e.g. crs-setup.conf and rules/*.conf, in load order) and
    /// report what loaded. Exits 2 naming FILE:LINE:COLUMN when a file cannot load.
    Check {
        /// Rule files or globs, in load order.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Paranoia level 1–4 to load with.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=4))]
        paranoia: u8,
        /// Also load Palisade's built-in default ruleset.
        #[arg(long)]
        builtin: bool,
    },
    /// Run the OWASP CRS regression suite (go-ftw YAML in CRS_DIR/tests/regression/tests)
    /// through the real gateway against an albedo-compatible backend, with CRS's CI settings
    /// (paranoia 4, detection-only). Exits 1 when the pass rate is below --min-pass-rate.
    Ftw {
        /// The CRS directory (rules/, crs-setup.conf.example, tests/). Default: $PALISADE_CRS_DIR.
        #[arg(env = "PALISADE_CRS_DIR")]
        crs_dir: PathBuf,
        /// Report format: table, json or junit.
        #[arg(long, default_value = "table")]
        format: ReportFormat,
        /// Write the report to this file instead of standard output.
        #[arg(long)]
        output: Option<PathBuf>,
        /// Only tests whose RULEID-TESTID matches this regular expression.
        #[arg(long)]
        include: Option<regex::Regex>,
        /// Skip tests whose RULEID-TESTID matches this regular expression.
        #[arg(long)]
        exclude: Option<regex::Regex>,
        /// A go-ftw overrides file (e.g. tests/regression/nginx-overrides.yaml), applied after
        /// the built-in list of tests where ModSecurity v3 itself differs from CRS's expectations.
        #[arg(long)]
        overrides: Option<PathBuf>,
        /// Do not apply the built-in list of ModSecurity v3 exceptions (judge every test by
        /// CRS's own expectations).
        #[arg(long)]
        no_known_exceptions: bool,
        /// Tests run at once.
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
        /// Lowest acceptable pass rate in percent; below it the exit code is 1.
        #[arg(long, default_value_t = 100.0)]
        min_pass_rate: f64,
    },
}

pub(crate) fn run(command: WafCommand) -> anyhow::Result<ExitCode> {
    match command {
        WafCommand::Check {
            files,
            paranoia,
            builtin,
        } => check(files, paranoia, builtin),
        WafCommand::Ftw {
            crs_dir,
            format,
            output,
            include,
            exclude,
            overrides,
            no_known_exceptions,
            concurrency,
            min_pass_rate,
        } => {
            let overrides = overrides
                .map(|path| {
                    palisade_ftw::load_overrides(&path)
                        .with_context(|| format!("cannot read the overrides {}", path.display()))
                })
                .transpose()?;
            let overrides = if no_known_exceptions {
                overrides
            } else {
                Some(palisade_ftw::crs::known_exceptions(overrides))
            };
            let options = RunOptions {
                concurrency: concurrency.max(1),
                include,
                exclude,
                overrides,
                ..RunOptions::default()
            };
            eprintln!(
                "palisade: running the CRS regression suite from {} (this takes a few minutes)…",
                crs_dir.display()
            );
            let runtime = super::tokio_runtime()?;
            let report = runtime
                .block_on(palisade_ftw::crs::run_crs(&crs_dir, &options))
                .context("the regression run could not start")?;
            runtime.shutdown_timeout(Duration::from_secs(5));
            emit(&report.render(format), output.as_deref())?;
            let rate = report.pass_rate();
            eprintln!(
                "palisade: {} of {} tests passed ({rate:.2}%)",
                report.passed(),
                report.total()
            );
            Ok(if rate + 1e-9 < min_pass_rate {
                ExitCode::from(EXIT_FINDINGS)
            } else {
                ExitCode::SUCCESS
            })
        }
    }
}

fn check(files: Vec<PathBuf>, paranoia: u8, builtin: bool) -> anyhow::Result<ExitCode> {
    let mut settings = WafSettings {
        rule_paths: files,
        paranoia_level: Some(paranoia),
        ..WafSettings::default()
    };
    if builtin {
        let (name, text) = crate::inspectors::DEFAULT_RULESET;
        settings
            .extra_rules
            .push((name.to_owned(), text.to_owned()));
    }
    match Waf::load(&settings) {
        Ok((_, report)) => {
            println!(
                "loaded {} rules from {} files in {} ms",
                report.rules,
                report.files,
                report.load_time.as_millis()
            );
            println!(
                "{} regular expressions need the backtracking engine",
                report.backtracking_patterns.len()
            );
            for pattern in &report.backtracking_patterns {
                println!("  backtracking: {pattern}");
            }
            for unsupported in &report.unsupported_operators {
                println!("  unsupported (never matches): {unsupported}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            eprintln!("{error}");
            Ok(ExitCode::from(EXIT_USAGE))
        }
    }
}
