//! `palisade-lint` owns Palisade's static analysis of Python web applications: finding
//! injection and misuse in Flask, Django and FastAPI code before it runs.
//!
//! * [`rules`] — the rule registry (one TOML file per rule with what/why/example/fix/CWE);
//! * [`patterns`] — Bandit-equivalent and framework pattern checks;
//! * [`taint`] — the inter-procedural taint engine (sources → sanitizers → sinks), driven by
//!   the data models in [`model`] (`models/default.toml`, extensible by users);
//! * [`report`] — findings, suppressions (`# palisade: ignore[RULE] reason`, `# nosec`),
//!   baselines, and the table / JSON / SARIF renderers;
//! * [`score`] — the labeled corpus scorer (per-category TPR/FPR).
//!
//! Parsing uses ruff's parser (pinned exactly): all Python 3.8–3.13 syntax including PEP 701
//! f-strings. A file that fails to parse is reported as finding `PLE001`, never skipped silently.
#![forbid(unsafe_code)]

mod error;
pub mod model;
pub mod names;
pub mod patterns;
pub mod report;
pub mod rules;
pub mod score;
pub mod taint;

use std::path::{Path, PathBuf};

pub use error::LintError;
pub use model::Models;
pub use report::{Finding, Report};
pub use rules::{Level, Selection};

use ruff_text_size::TextRange;

/// Files larger than this are reported and skipped (generated or minified code).
pub const DEFAULT_MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// What to lint and how.
#[derive(Debug, Clone)]
pub struct LintOptions {
    /// Enabled rules.
    pub selection: Selection,
    /// Taint models (built-in plus user files).
    pub models: Models,
    /// Glob-like path fragments to exclude (matched against the path relative to the root).
    pub exclude: Vec<String>,
    /// Honour `.gitignore` / `.ignore` files.
    pub respect_gitignore: bool,
    /// Worker threads for reading and parsing (0 = available parallelism).
    pub threads: usize,
    /// Larger files are skipped with a `PLE002` finding.
    pub max_file_bytes: u64,
}

impl Default for LintOptions {
    fn default() -> Self {
        LintOptions {
            selection: Selection::default(),
            models: Models::builtin(),
            exclude: Vec::new(),
            respect_gitignore: true,
            threads: 0,
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
        }
    }
}

/// One Python file read from disk.
#[derive(Debug)]
pub struct SourceFile {
    /// Path as given/discovered.
    pub path: PathBuf,
    /// Path shown in reports (relative to the linted root when possible, `/` separators).
    pub display: String,
    /// Dotted module name derived from the path.
    pub module: String,
    /// File contents.
    pub text: String,
}

/// Lists the Python files under `paths` (files are taken as given).
pub fn discover(
    paths: &[PathBuf],
    options: &LintOptions,
) -> Result<Vec<(PathBuf, String)>, LintError> {
    let mut out = Vec::new();
    for root in paths {
        if root.is_file() {
            let display = root.to_string_lossy().replace('\\', "/");
            out.push((root.clone(), display));
            continue;
        }
        if !root.exists() {
            return Err(LintError::io(
                root,
                std::io::Error::new(std::io::ErrorKind::NotFound, "no such file or directory"),
            ));
        }
        let mut builder = ignore::WalkBuilder::new(root);
        builder
            .git_ignore(options.respect_gitignore)
            .git_exclude(options.respect_gitignore)
            .ignore(options.respect_gitignore)
            .require_git(false)
            .hidden(true);
        for entry in builder.build() {
            let entry = entry.map_err(|e| LintError::walk(e.to_string()))?;
            let path = entry.path();
            if !entry.file_type().is_some_and(|t| t.is_file())
                || path.extension().and_then(|e| e.to_str()) != Some("py")
            {
                continue;
            }
            let relative = path.strip_prefix(root).unwrap_or(path);
            let rel = relative.to_string_lossy().replace('\\', "/");
            if options.exclude.iter().any(|x| rel.contains(x.as_str())) {
                continue;
            }
            let display = if root == Path::new(".") {
                rel
            } else {
                format!("{}/{rel}", root.to_string_lossy().trim_end_matches('/'))
            };
            out.push((path.to_path_buf(), display));
        }
    }
    out.sort_by(|a, b| a.1.cmp(&b.1));
    out.dedup_by(|a, b| a.1 == b.1);
    Ok(out)
}

fn module_name(display: &str) -> String {
    let trimmed = display.trim_start_matches("./").trim_end_matches(".py");
    let trimmed = trimmed.strip_suffix("/__init__").unwrap_or(trimmed);
    trimmed.replace('/', ".")
}

/// Lints files and directories.
pub fn lint_paths(paths: &[PathBuf], options: &LintOptions) -> Result<Report, LintError> {
    let files = discover(paths, options)?;
    lint_files(files, options)
}

/// Lints an explicit list of `(path, display name)` files as one program.
pub fn lint_files(
    files: Vec<(PathBuf, String)>,
    options: &LintOptions,
) -> Result<Report, LintError> {
    let threads = if options.threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        options.threads
    };
    let chunk = files.len().div_ceil(threads.max(1)).max(1);
    let parsed: Vec<ParsedFile> = std::thread::scope(|scope| {
        let handles: Vec<_> = files
            .chunks(chunk)
            .map(|chunk| {
                scope.spawn(move || {
                    chunk
                        .iter()
                        .map(|(path, display)| parse_file(path, display, options).check(options))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    });
    Ok(analyze(parsed, options))
}

/// Lints Python source held in memory (one module), e.g. for tests and the fuzz target.
pub fn lint_source(display: &str, text: &str, options: &LintOptions) -> Report {
    let parsed = parse_text(PathBuf::from(display), display.to_owned(), text.to_owned());
    analyze(vec![parsed.check(options)], options)
}

struct ParsedFile {
    source: SourceFile,
    module: Option<ruff_python_ast::ModModule>,
    problem: Option<(String, &'static str, TextRange)>,
    /// The per-file part of the analysis (imports, pattern rules), done on the parsing thread.
    checked: Option<CheckedFile>,
}

struct CheckedFile {
    imports: names::ImportMap,
    hits: Vec<patterns::Hit>,
    facts: patterns::ModuleFacts,
}

impl ParsedFile {
    /// Runs the per-file pattern rules (independent of other files, so in parallel).
    fn check(mut self, options: &LintOptions) -> ParsedFile {
        if let Some(module) = &self.module {
            let imports = names::ImportMap::from_module(&module.body);
            let (hits, facts) = patterns::check_module(
                &module.body,
                &self.source.text,
                &self.source.display,
                &imports,
                &options.selection,
            );
            self.checked = Some(CheckedFile {
                imports,
                hits,
                facts,
            });
        }
        self
    }
}

fn parse_file(path: &Path, display: &str, options: &LintOptions) -> ParsedFile {
    let too_big = std::fs::metadata(path).map(|m| m.len() > options.max_file_bytes);
    let text = match too_big {
        Ok(true) => Err(format!(
            "file is larger than {} bytes; skipped",
            options.max_file_bytes
        )),
        Ok(false) => std::fs::read(path)
            .map_err(|e| e.to_string())
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned()),
        Err(e) => Err(e.to_string()),
    };
    match text {
        Ok(text) => parse_text(path.to_path_buf(), display.to_owned(), text),
        Err(message) => ParsedFile {
            source: SourceFile {
                path: path.to_path_buf(),
                display: display.to_owned(),
                module: module_name(display),
                text: String::new(),
            },
            module: None,
            problem: Some((message, "PLE002", TextRange::default())),
            checked: None,
        },
    }
}

fn parse_text(path: PathBuf, display: String, text: String) -> ParsedFile {
    let module = module_name(&display);
    let result = ruff_python_parser::parse_module(&text);
    let (module_ast, problem) = match result {
        Ok(parsed) => (Some(parsed.into_syntax()), None),
        Err(error) => (
            None,
            Some((
                format!("syntax error: {}", error.error),
                rules::PARSE_ERROR_RULE,
                error.location,
            )),
        ),
    };
    ParsedFile {
        source: SourceFile {
            path,
            display,
            module,
            text,
        },
        module: module_ast,
        problem,
        checked: None,
    }
}

fn analyze(mut parsed: Vec<ParsedFile>, options: &LintOptions) -> Report {
    let mut builder = report::ReportBuilder::default();
    let mut units = Vec::new();
    let mut unit_files = Vec::new();
    let checked: Vec<Option<CheckedFile>> =
        parsed.iter_mut().map(|file| file.checked.take()).collect();
    for (index, (file, checked)) in parsed.iter().zip(checked).enumerate() {
        builder.files_scanned += 1;
        if let Some((message, rule, range)) = &file.problem {
            builder.push_problem(&file.source, rule, message, *range);
        }
        let (Some(module), Some(checked)) = (&file.module, checked) else {
            continue;
        };
        for hit in checked.hits {
            builder.push_rule(&file.source, hit.rule, hit.range, None, None);
        }
        units.push(taint::ModuleUnit {
            name: file.source.module.clone(),
            body: &module.body,
            text: &file.source.text,
            imports: checked.imports,
            unsafe_xml_parser: checked.facts.unsafe_xml_parser,
        });
        unit_files.push(index);
    }
    let taint_enabled = rules::all().iter().any(|r| {
        matches!(r.matcher, rules::Matcher::Taint { .. }) && options.selection.enabled(&r.id)
    });
    if taint_enabled {
        for flow in taint::analyze(&units, &options.models) {
            let category = &options.models.categories[flow.category];
            let rule = category.rule.as_str();
            if !options.selection.enabled(rule) {
                continue;
            }
            let file = &parsed[unit_files[flow.at.0]].source;
            let origin = flow
                .origin
                .map(|(m, range)| (&parsed[unit_files[m]].source, range));
            builder.push_rule(file, rule, flow.at.1, origin, Some(&flow.sink));
        }
    }
    builder.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules_found(src: &str) -> Vec<String> {
        let report = lint_source("app.py", src, &LintOptions::default());
        report.findings.iter().map(|f| f.rule.clone()).collect()
    }

    #[test]
    fn flask_sql_injection_is_found_and_parameterised_query_is_not() {
        let bad = "from flask import request\nimport sqlite3\n\ndef search():\n    q = request.args.get('q')\n    cur = sqlite3.connect('x').cursor()\n    cur.execute(\"SELECT * FROM t WHERE name = '%s'\" % q)\n";
        assert!(rules_found(bad).contains(&"PLT089".to_string()));
        let good = "from flask import request\nimport sqlite3\n\ndef search():\n    q = request.args.get('q')\n    cur = sqlite3.connect('x').cursor()\n    cur.execute('SELECT * FROM t WHERE name = ?', (q,))\n";
        assert!(!rules_found(good).contains(&"PLT089".to_string()));
    }

    #[test]
    fn syntax_errors_are_reported_not_skipped() {
        let report = lint_source("broken.py", "def f(:\n", &LintOptions::default());
        assert_eq!(report.findings.len(), 1);
        assert_eq!(report.findings[0].rule, rules::PARSE_ERROR_RULE);
    }

    #[test]
    fn module_names_follow_paths() {
        assert_eq!(module_name("app/views.py"), "app.views");
        assert_eq!(module_name("./pkg/__init__.py"), "pkg");
    }
}
