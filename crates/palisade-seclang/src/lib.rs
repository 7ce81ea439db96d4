//! SecLang (ModSecurity rule language) parser: directives, rules, operators, variables,
//! transformations and actions.
//!
//! This crate owns the *syntax* of SecLang as ModSecurity v3 documents it. It turns
//! configuration text into a [`Config`] (a list of [`Directive`]s) and nothing more:
//! compiling operators, resolving markers and running rules is `palisade-waf`'s job.
//!
//! Design notes:
//! * Lexing ([`lexer`]) joins continuation lines (`\` at end of line), drops comments
//!   and splits a directive into arguments (double or single quoted, `\"` escapes the
//!   quote, every other backslash is kept for the regex engine).
//! * `Include` / `IncludeOptional` expand globs relative to the including file, with an
//!   include-depth limit and cycle detection; a file that fails loads nothing (the whole
//!   parse fails).
//! * Every unknown or unsupported directive, variable, operator, transformation or
//!   action is an error naming `file:line:column` — silently ignoring a rule part would
//!   make the engine decide differently from ModSecurity without anyone noticing.
//! * Limits ([`Limits`]) bound line length, directive length, file size, include depth
//!   and directive count, so hostile input cannot cause unbounded work.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod ast;
mod error;
mod lexer;
mod rule_parts;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use ast::{
    Action, AllowScope, Config, Ctl, Directive, Disruptive, EngineMode, IdRange, LimitAction,
    Located, Operator, Rule, RuleSelector, Selector, SetVar, SetVarOp, Setting, Variable,
    VariableName,
};
pub use error::{Location, ParseError};
pub use rule_parts::{OPERATORS, TRANSFORMATIONS};

use error::{ErrorKind, invalid, syntax};
use lexer::{RawArg, RawDirective};

/// Resource limits of the parser.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Longest physical line, in bytes.
    pub max_line_bytes: usize,
    /// Longest logical directive (continuations joined), in bytes.
    pub max_directive_bytes: usize,
    /// Largest file, in bytes.
    pub max_file_bytes: u64,
    /// Deepest `Include` nesting.
    pub max_include_depth: usize,
    /// Most directives in one configuration (all files together).
    pub max_directives: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_line_bytes: 256 * 1024,
            max_directive_bytes: 1024 * 1024,
            max_file_bytes: 16 * 1024 * 1024,
            max_include_depth: 16,
            max_directives: 200_000,
        }
    }
}

/// A SecLang parser with its limits. Parse several sources into one [`Config`] by
/// calling [`Parser::parse_file`] / [`Parser::parse_str`] in order.
#[derive(Debug, Default)]
pub struct Parser {
    limits: Limits,
    include_stack: Vec<PathBuf>,
    config: Config,
}

impl Parser {
    /// A parser with the given limits.
    pub fn new(limits: Limits) -> Self {
        Parser {
            limits,
            include_stack: Vec::new(),
            config: Config::default(),
        }
    }

    /// Parses a file (its includes are resolved relative to its directory) and appends
    /// its directives. On error nothing of this file is kept.
    pub fn parse_file(&mut self, path: &Path) -> Result<(), ParseError> {
        let before = self.config.directives.len();
        let result = self.include_file(path);
        if result.is_err() {
            self.config.directives.truncate(before);
        }
        result
    }

    /// Parses in-memory text named `origin`; includes are resolved relative to `base_dir`.
    pub fn parse_str(
        &mut self,
        origin: &str,
        text: &str,
        base_dir: &Path,
    ) -> Result<(), ParseError> {
        let before = self.config.directives.len();
        let result = self.parse_text(&Arc::from(origin), text, base_dir);
        if result.is_err() {
            self.config.directives.truncate(before);
        }
        result
    }

    /// The configuration parsed so far.
    pub fn finish(self) -> Config {
        self.config
    }

    fn include_file(&mut self, path: &Path) -> Result<(), ParseError> {
        let io_error = |error: std::io::Error| {
            ParseError::new(ErrorKind::Io {
                path: path.to_owned(),
                message: error.to_string(),
            })
        };
        let canonical = path.canonicalize().map_err(io_error)?;
        if self.include_stack.contains(&canonical) {
            return Err(ParseError::new(ErrorKind::IncludeCycle(canonical)));
        }
        if self.include_stack.len() >= self.limits.max_include_depth {
            return Err(ParseError::new(ErrorKind::Limit(format!(
                "includes nested deeper than {}",
                self.limits.max_include_depth
            ))));
        }
        let metadata = std::fs::metadata(&canonical).map_err(io_error)?;
        if metadata.len() > self.limits.max_file_bytes {
            return Err(ParseError::new(ErrorKind::Limit(format!(
                "{} is larger than {} bytes",
                path.display(),
                self.limits.max_file_bytes
            ))));
        }
        let bytes = std::fs::read(&canonical).map_err(io_error)?;
        let text = String::from_utf8_lossy(&bytes);
        let base_dir = canonical
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        self.include_stack.push(canonical);
        let result = self.parse_text(&Arc::from(path.display().to_string()), &text, &base_dir);
        self.include_stack.pop();
        result
    }

    fn parse_text(
        &mut self,
        file: &Arc<str>,
        text: &str,
        base_dir: &Path,
    ) -> Result<(), ParseError> {
        if text.len() as u64 > self.limits.max_file_bytes {
            return Err(ParseError::new(ErrorKind::Limit(format!(
                "{file} is larger than {} bytes",
                self.limits.max_file_bytes
            ))));
        }
        for raw in lexer::lex(file, text, &self.limits)? {
            let location = raw.location.clone();
            self.directive(raw, base_dir)
                .map_err(|error| error.at(location))?;
            if self.config.directives.len() > self.limits.max_directives {
                return Err(ParseError::new(ErrorKind::Limit(format!(
                    "more than {} directives",
                    self.limits.max_directives
                ))));
            }
        }
        Ok(())
    }

    fn directive(&mut self, raw: RawDirective, base_dir: &Path) -> Result<(), ParseError> {
        let name = raw.name.to_ascii_lowercase();
        let args = &raw.args;
        let location = raw.location.clone();
        let directive = match name.as_str() {
            "include" | "includeoptional" => {
                let pattern = exactly_one(&raw)?;
                return self
                    .include(&pattern.text, base_dir, name == "includeoptional")
                    .map_err(|error| error.at(pattern.location.clone()));
            }
            "secrule" => {
                let [variables, operator, rest @ ..] = args.as_slice() else {
                    return Err(syntax("SecRule needs variables and an operator"));
                };
                let actions = match rest {
                    [] => Vec::new(),
                    [actions] => with_location(rule_parts::parse_actions(&actions.text), actions)?,
                    _ => return Err(syntax("SecRule takes at most three arguments")),
                };
                let rule = Rule {
                    variables: with_location(
                        rule_parts::parse_variables(&variables.text),
                        variables,
                    )?,
                    operator: with_location(rule_parts::parse_operator(&operator.text), operator)?,
                    actions,
                    is_action: false,
                };
                Directive::Rule(Located {
                    location,
                    item: rule,
                })
            }
            "secaction" => {
                let actions = exactly_one(&raw)?;
                let rule = Rule {
                    variables: Vec::new(),
                    operator: Operator {
                        name: "unconditionalMatch".to_owned(),
                        argument: String::new(),
                        negated: false,
                    },
                    actions: with_location(rule_parts::parse_actions(&actions.text), actions)?,
                    is_action: true,
                };
                Directive::Rule(Located {
                    location,
                    item: rule,
                })
            }
            "secmarker" => Directive::Marker(Located {
                location,
                item: exactly_one(&raw)?.text.clone(),
            }),
            "secdefaultaction" => {
                let actions = exactly_one(&raw)?;
                Directive::DefaultAction(Located {
                    location,
                    item: with_location(rule_parts::parse_actions(&actions.text), actions)?,
                })
            }
            "secruleremovebyid" => {
                let joined = args
                    .iter()
                    .map(|a| a.text.as_str())
                    .collect::<Vec<_>>()
                    .join(" ");
                Directive::RemoveById(rule_parts::parse_id_ranges(&joined)?)
            }
            "secruleremovebytag" => Directive::RemoveByTag(exactly_one(&raw)?.text.clone()),
            "secruleremovebymsg" => Directive::RemoveByMsg(exactly_one(&raw)?.text.clone()),
            "secruleupdatetargetbyid" | "secruleupdatetargetbytag" | "secruleupdatetargetbymsg" => {
                let [which, targets, rest @ ..] = args.as_slice() else {
                    return Err(syntax(format!(
                        "{} needs a rule selector and targets",
                        raw.name
                    )));
                };
                let selector = match name.as_str() {
                    "secruleupdatetargetbyid" => RuleSelector::Ids(with_location(
                        rule_parts::parse_id_ranges(&which.text),
                        which,
                    )?),
                    "secruleupdatetargetbytag" => RuleSelector::Tag(which.text.clone()),
                    _ => RuleSelector::Msg(which.text.clone()),
                };
                let replaced = match rest {
                    [] => None,
                    [replaced] => Some(with_location(
                        rule_parts::parse_variables(&replaced.text),
                        replaced,
                    )?),
                    _ => {
                        return Err(syntax(format!(
                            "{} takes at most three arguments",
                            raw.name
                        )));
                    }
                };
                Directive::UpdateTarget {
                    selector,
                    targets: with_location(rule_parts::parse_variables(&targets.text), targets)?,
                    replaced,
                }
            }
            "secruleupdateactionbyid" => {
                let [id, actions] = args.as_slice() else {
                    return Err(syntax("SecRuleUpdateActionById needs an id and actions"));
                };
                if id.text.contains(':') {
                    // ModSecurity 2's ID:OFFSET (a rule inside a chain): applying it to the
                    // chain's first rule instead would change a different rule.
                    return Err(syntax(
                        "SecRuleUpdateActionById: chain offsets (ID:OFFSET) are not supported",
                    )
                    .at(id.location.clone()));
                }
                Directive::UpdateAction {
                    id: id
                        .text
                        .parse()
                        .map_err(|_| invalid("rule id", &id.text).at(id.location.clone()))?,
                    actions: with_location(rule_parts::parse_actions(&actions.text), actions)?,
                }
            }
            _ => Directive::Setting(setting(&raw)?),
        };
        self.config.directives.push(directive);
        Ok(())
    }

    fn include(
        &mut self,
        pattern: &str,
        base_dir: &Path,
        optional: bool,
    ) -> Result<(), ParseError> {
        let full = if Path::new(pattern).is_absolute() {
            PathBuf::from(pattern)
        } else {
            base_dir.join(pattern)
        };
        let full_text = full.to_string_lossy().into_owned();
        let mut paths: Vec<PathBuf> = if full_text.contains(['*', '?', '[']) {
            let entries = glob::glob(&full_text).map_err(|_| invalid("include glob", pattern))?;
            entries.filter_map(Result::ok).collect()
        } else if full.exists() || !optional {
            vec![full]
        } else {
            Vec::new()
        };
        paths.sort();
        if paths.is_empty() && !optional {
            return Err(ParseError::new(ErrorKind::Io {
                path: PathBuf::from(pattern),
                message: "no file matches".to_owned(),
            }));
        }
        for path in paths {
            self.include_file(&path)?;
        }
        Ok(())
    }
}

/// Parses a whole configuration from files in order (a convenience over [`Parser`]).
pub fn parse_files(paths: &[PathBuf], limits: Limits) -> Result<Config, ParseError> {
    let mut parser = Parser::new(limits);
    for path in paths {
        parser.parse_file(path)?;
    }
    Ok(parser.finish())
}

/// Parses one in-memory text (a convenience over [`Parser`]).
pub fn parse_str(origin: &str, text: &str) -> Result<Config, ParseError> {
    let mut parser = Parser::new(Limits::default());
    parser.parse_str(origin, text, Path::new("."))?;
    Ok(parser.finish())
}

fn with_location<T>(result: Result<T, ParseError>, arg: &RawArg) -> Result<T, ParseError> {
    result.map_err(|error| error.at(arg.location.clone()))
}

fn exactly_one(raw: &RawDirective) -> Result<&RawArg, ParseError> {
    match raw.args.as_slice() {
        [one] => Ok(one),
        _ => Err(syntax(format!("{} takes exactly one argument", raw.name))),
    }
}

fn setting(raw: &RawDirective) -> Result<Setting, ParseError> {
    let name = raw.name.to_ascii_lowercase();
    let one = || exactly_one(raw).map(|arg| arg.text.as_str());
    let size = |value: &str| {
        value
            .trim()
            .parse::<u64>()
            .map_err(|_| invalid("size", value))
    };
    let limit_action = |value: &str| {
        if value.eq_ignore_ascii_case("reject") {
            Ok(LimitAction::Reject)
        } else if value.eq_ignore_ascii_case("processpartial") {
            Ok(LimitAction::ProcessPartial)
        } else {
            Err(invalid("limit action", value))
        }
    };
    Ok(match name.as_str() {
        "secruleengine" => Setting::RuleEngine(rule_parts::parse_engine_mode(one()?)?),
        "secrequestbodyaccess" => {
            Setting::RequestBodyAccess(rule_parts::parse_bool("SecRequestBodyAccess", one()?)?)
        }
        "secresponsebodyaccess" => {
            Setting::ResponseBodyAccess(rule_parts::parse_bool("SecResponseBodyAccess", one()?)?)
        }
        "secrequestbodylimit" => Setting::RequestBodyLimit(size(one()?)?),
        "secrequestbodynofileslimit" => Setting::RequestBodyNoFilesLimit(size(one()?)?),
        "secrequestbodylimitaction" => Setting::RequestBodyLimitAction(limit_action(one()?)?),
        "secresponsebodylimit" => Setting::ResponseBodyLimit(size(one()?)?),
        "secresponsebodylimitaction" => Setting::ResponseBodyLimitAction(limit_action(one()?)?),
        "secresponsebodymimetype" => Setting::ResponseBodyMimeTypes(
            raw.args
                .iter()
                .flat_map(|a| a.text.split_whitespace().map(str::to_owned))
                .collect(),
        ),
        "secrequestbodyjsondepthlimit" => Setting::RequestBodyJsonDepthLimit(size(one()?)?),
        "secargumentslimit" => Setting::ArgumentsLimit(size(one()?)?),
        "secargumentseparator" => Setting::ArgumentSeparator(one()?.to_owned()),
        "secpcrematchlimit" | "secpcrematchlimitrecursion" => {
            Setting::PcreMatchLimit(size(one()?)?)
        }
        "seccomponentsignature" => Setting::ComponentSignature(one()?.to_owned()),
        "seccollectiontimeout" => Setting::CollectionTimeout(size(one()?)?),
        "secwebappid" => Setting::WebAppId(one()?.to_owned()),
        "secauditengine" => Setting::AuditEngine(one()?.to_owned()),
        "secauditlog" => Setting::AuditLog(one()?.to_owned()),
        "secauditlogparts" => Setting::AuditLogParts(one()?.to_owned()),
        "secauditlogformat" => Setting::AuditLogFormat(one()?.to_owned()),
        "secdebuglog"
        | "secdebugloglevel"
        | "sectmpdir"
        | "secdatadir"
        | "secunicodemapfile"
        | "secgeolookupdb"
        | "secauditlogtype"
        | "secauditlogstoragedir"
        | "secauditlogrelevantstatus"
        | "secuploaddir"
        | "secuploadkeepfiles"
        | "secuploadfilemode"
        | "secstatusengine"
        | "secserversignature" => Setting::Other {
            name: raw.name.clone(),
            args: raw.args.iter().map(|a| a.text.clone()).collect(),
        },
        _ => {
            return Err(ParseError::new(ErrorKind::UnknownDirective(
                raw.name.clone(),
            )));
        }
    })
}
