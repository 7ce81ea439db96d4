//! `palisade lint`: security static analysis of Python web applications.

use std::path::PathBuf;
use std::process::ExitCode;

use palisade_lint::{LintOptions, Selection, report, rules, score};

use crate::output::{EXIT_FINDINGS, EXIT_USAGE, emit};

/// Arguments of `palisade lint`.
#[derive(Debug, clap::Args)]
pub(crate) struct LintArgs {
    /// Files or directories to analyse (`.py` files; `.gitignore` is honoured).
    #[arg(default_value = ".")]
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, default_value = "table", value_parser = ["table", "json", "sarif"])]
    format: String,
    /// Write the report to this file instead of standard output.
    #[arg(long)]
    output: Option<PathBuf>,
    /// Exit 1 when a finding has at least this severity.
    #[arg(long, default_value = "low", value_parser = ["low", "medium", "high", "never"])]
    fail_on: String,
    /// Only these rules (ids or prefixes, comma-separated: `B6,PLT089`).
    #[arg(long, value_delimiter = ',')]
    select: Vec<String>,
    /// Skip these rules (ids or prefixes, comma-separated).
    #[arg(long, value_delimiter = ',')]
    ignore: Vec<String>,
    /// Skip paths containing this text (repeatable).
    #[arg(long)]
    exclude: Vec<String>,
    /// Also analyse files that .gitignore excludes.
    #[arg(long)]
    no_gitignore: bool,
    /// Hide findings recorded in this baseline file.
    #[arg(long)]
    baseline: Option<PathBuf>,
    /// Record the current findings as a baseline file (then exit 0).
    #[arg(long)]
    write_baseline: Option<PathBuf>,
    /// Extra taint models (TOML, same format as the built-in models; repeatable).
    #[arg(long)]
    models: Vec<PathBuf>,
    /// Score the analyser on a labeled corpus directory instead (`# expect: CWE-89` labels).
    #[arg(long, value_name = "DIR")]
    score: Option<PathBuf>,
    /// List the rules and exit.
    #[arg(long)]
    list_rules: bool,
    /// Explain one rule (what, why, example, fix) and exit.
    #[arg(long, value_name = "RULE")]
    explain: Option<String>,
}

pub(crate) fn run(args: LintArgs) -> anyhow::Result<ExitCode> {
    if args.list_rules {
        let mut text = String::new();
        for r in rules::all() {
            text.push_str(&format!(
                "{:<8} CWE-{:<5} {:<7} {}\n",
                r.id,
                r.cwe,
                r.severity.as_str(),
                r.name
            ));
        }
        emit(&text, args.output.as_deref())?;
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(id) = &args.explain {
        let Some(r) = rules::by_id(id) else {
            eprintln!("palisade: error: no rule `{id}` (see `palisade lint --list-rules`)");
            return Ok(ExitCode::from(EXIT_USAGE));
        };
        let text = format!(
            "{} {} (CWE-{}, severity {}, confidence {})\n\nWhat: {}\nWhy: {}\nExample:\n    {}\nFix: {}\nReferences: {}\n",
            r.id,
            r.name,
            r.cwe,
            r.severity.as_str(),
            r.confidence.as_str(),
            r.what,
            r.why,
            r.example.replace('\n', "\n    "),
            r.fix,
            r.references.join(", ")
        );
        emit(&text, args.output.as_deref())?;
        return Ok(ExitCode::SUCCESS);
    }
    let selection = Selection {
        select: args.select.clone(),
        ignore: args.ignore.clone(),
    };
    let unknown = selection.unknown();
    if !unknown.is_empty() {
        eprintln!(
            "palisade: error: --select/--ignore name no rule: {} (see `palisade lint --list-rules`)",
            unknown.join(", ")
        );
        return Ok(ExitCode::from(EXIT_USAGE));
    }
    let mut options = LintOptions {
        selection,
        exclude: args.exclude.clone(),
        respect_gitignore: !args.no_gitignore,
        ..LintOptions::default()
    };
    for path in &args.models {
        if let Err(e) = options.models.extend_from_file(path) {
            eprintln!("palisade: error: {e}");
            return Ok(ExitCode::from(EXIT_USAGE));
        }
    }
    if let Some(dir) = &args.score {
        let result = match score::score_corpus(dir, &options) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("palisade: error: {e}");
                return Ok(ExitCode::from(EXIT_USAGE));
            }
        };
        let text = match args.format.as_str() {
            "json" => serde_json::to_string_pretty(&result)? + "\n",
            _ => score::render_score(&result),
        };
        emit(&text, args.output.as_deref())?;
        return Ok(ExitCode::SUCCESS);
    }
    let started = std::time::Instant::now();
    let mut report = match palisade_lint::lint_paths(&args.paths, &options) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("palisade: error: {e}");
            return Ok(ExitCode::from(EXIT_USAGE));
        }
    };
    if let Some(path) = &args.write_baseline {
        if let Err(e) = report.write_baseline(path) {
            eprintln!("palisade: error: {e}");
            return Ok(ExitCode::from(EXIT_USAGE));
        }
        eprintln!(
            "palisade: wrote {} finding fingerprint(s) to {}",
            report.findings.len(),
            path.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(path) = &args.baseline
        && let Err(e) = report.apply_baseline(path)
    {
        eprintln!("palisade: error: {e}");
        return Ok(ExitCode::from(EXIT_USAGE));
    }
    let text = match args.format.as_str() {
        "json" => report::render_json(&report),
        "sarif" => report::render_sarif(&report, env!("CARGO_PKG_VERSION")),
        _ => report::render_table(&report),
    };
    emit(&text, args.output.as_deref())?;
    if args.output.is_some() || args.format != "table" {
        eprintln!(
            "palisade: {} finding(s) in {} file(s) in {:.2} s",
            report.findings.len(),
            report.files_scanned,
            started.elapsed().as_secs_f64()
        );
    }
    let failing = match args.fail_on.as_str() {
        "never" => 0,
        level => report.count_at_least(
            palisade_lint::Level::parse(level).unwrap_or(palisade_lint::Level::Low),
        ),
    };
    Ok(if failing > 0 {
        ExitCode::from(EXIT_FINDINGS)
    } else {
        ExitCode::SUCCESS
    })
}
