//! Taint models: which expressions are sources, which calls clean data for which sink
//! categories, and which calls are sinks. Models are data (`models/default.toml`, embedded),
//! extensible by users with files of the same format.
//!
//! Names are qualified names as [`crate::names`] resolves them; `method:NAME` matches a method
//! call on a receiver whose type is unknown.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;

use crate::error::LintError;

/// The embedded default models.
pub const DEFAULT_MODELS: &str = include_str!("../models/default.toml");

/// A bitset of sink categories (bit `i` = `Models::categories[i]`).
pub type CategoryMask = u32;

/// Every category.
pub const ALL_CATEGORIES: CategoryMask = u32::MAX;

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ModelFile {
    #[serde(default)]
    category: Vec<CategorySpec>,
    #[serde(default)]
    sources: Option<SourceSpec>,
    #[serde(default)]
    sanitizer: Vec<SanitizerSpec>,
    #[serde(default)]
    sink: Vec<SinkSpec>,
    #[serde(default)]
    store_sink: Vec<StoreSinkSpec>,
    #[serde(default)]
    clean_calls: Option<CleanSpec>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct CategorySpec {
    name: String,
    cwe: u32,
    rule: String,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct SourceSpec {
    #[serde(default)]
    attributes: Vec<String>,
    #[serde(default)]
    calls: Vec<String>,
    #[serde(default)]
    route_decorators: Vec<String>,
    #[serde(default)]
    non_source_parameters: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SanitizerSpec {
    names: Vec<String>,
    removes: Vec<String>,
    #[serde(default)]
    when_literal_args: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SinkSpec {
    category: String,
    names: Vec<String>,
    #[serde(default)]
    args: Vec<usize>,
    #[serde(default)]
    kwargs: Vec<String>,
    #[serde(default)]
    unless_kwarg_names: Vec<String>,
    #[serde(default)]
    receiver_contains: Vec<String>,
    #[serde(default)]
    requires_unsafe_parser: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoreSinkSpec {
    category: String,
    targets: Vec<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct CleanSpec {
    #[serde(default)]
    names: Vec<String>,
    #[serde(default)]
    mutators: Vec<String>,
}

/// One sink category (SQL injection, command injection …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Category {
    /// Short name used in model files (`sqli`).
    pub name: String,
    /// The CWE id findings of this category carry.
    pub cwe: u32,
    /// The rule id of the taint rule reporting this category.
    pub rule: String,
}

/// A sanitizer model.
#[derive(Debug, Clone)]
pub struct Sanitizer {
    /// Categories the call makes safe.
    pub removes: CategoryMask,
    /// Only when every argument is a literal (`x.replace("\n", "")`).
    pub when_literal_args: bool,
}

/// A sink model.
#[derive(Debug, Clone)]
pub struct Sink {
    /// The category index.
    pub category: usize,
    /// Positional arguments checked.
    pub args: Vec<usize>,
    /// Keyword arguments checked.
    pub kwargs: Vec<String>,
    /// Not a sink when a keyword argument's value names one of these (yaml `Loader=SafeLoader`).
    pub unless_kwarg_names: Vec<String>,
    /// For `method:` sinks: the receiver's source text must contain one of these.
    pub receiver_contains: Vec<String>,
    /// XML parsers: a sink only when not given an explicitly hardened parser.
    pub requires_unsafe_parser: bool,
}

/// All models, indexed for lookup by qualified name.
#[derive(Debug, Clone, Default)]
pub struct Models {
    /// Sink categories; a finding's CWE and rule come from here.
    pub categories: Vec<Category>,
    source_attributes: HashMap<String, ()>,
    source_calls: HashMap<String, ()>,
    /// Decorator attribute names that make a function a route handler (`route`, `get` …).
    pub route_decorators: Vec<String>,
    /// Parameter annotations/defaults that are not request data in FastAPI handlers.
    pub non_source_parameters: Vec<String>,
    sanitizers: HashMap<String, Sanitizer>,
    sinks: HashMap<String, Vec<Sink>>,
    store_sinks: HashMap<String, usize>,
    clean_calls: HashMap<String, ()>,
    mutators: HashMap<String, ()>,
}

impl Models {
    /// The embedded default models.
    pub fn builtin() -> Models {
        let mut models = Models::default();
        models
            .extend_from_str(DEFAULT_MODELS, Path::new("<builtin models>"))
            .expect("the embedded default models parse");
        models
    }

    /// Adds the models of one TOML file.
    pub fn extend_from_file(&mut self, path: &Path) -> Result<(), LintError> {
        let text = std::fs::read_to_string(path).map_err(|e| LintError::io(path, e))?;
        self.extend_from_str(&text, path)
    }

    /// Adds the models of TOML text (`origin` names it in errors).
    pub fn extend_from_str(&mut self, text: &str, origin: &Path) -> Result<(), LintError> {
        let file: ModelFile = toml::from_str(text).map_err(|e| {
            let (line, column) = e
                .span()
                .map(|span| line_column(text, span.start))
                .unwrap_or((1, 1));
            LintError::models(origin, line, column, e.message().to_owned())
        })?;
        for category in file.category {
            if self.category_index(&category.name).is_none() {
                if self.categories.len() >= 32 {
                    return Err(LintError::models(
                        origin,
                        1,
                        1,
                        "at most 32 categories".into(),
                    ));
                }
                self.categories.push(Category {
                    name: category.name,
                    cwe: category.cwe,
                    rule: category.rule,
                });
            }
        }
        if let Some(sources) = file.sources {
            for name in sources.attributes {
                self.source_attributes.insert(name, ());
            }
            for name in sources.calls {
                self.source_calls.insert(name, ());
            }
            self.route_decorators.extend(sources.route_decorators);
            self.non_source_parameters
                .extend(sources.non_source_parameters);
        }
        for spec in file.sanitizer {
            let mut removes = 0;
            for name in &spec.removes {
                if name == "*" {
                    removes = ALL_CATEGORIES;
                } else {
                    removes |= 1 << self.require_category(name, origin)?;
                }
            }
            for name in spec.names {
                self.sanitizers.insert(
                    name,
                    Sanitizer {
                        removes,
                        when_literal_args: spec.when_literal_args,
                    },
                );
            }
        }
        for spec in file.sink {
            let category = self.require_category(&spec.category, origin)?;
            for name in spec.names {
                self.sinks.entry(name).or_default().push(Sink {
                    category,
                    args: spec.args.clone(),
                    kwargs: spec.kwargs.clone(),
                    unless_kwarg_names: spec.unless_kwarg_names.clone(),
                    receiver_contains: spec.receiver_contains.clone(),
                    requires_unsafe_parser: spec.requires_unsafe_parser,
                });
            }
        }
        for spec in file.store_sink {
            let category = self.require_category(&spec.category, origin)?;
            for target in spec.targets {
                self.store_sinks.insert(target, category);
            }
        }
        if let Some(clean) = file.clean_calls {
            for name in clean.names {
                self.clean_calls.insert(name, ());
            }
            for name in clean.mutators {
                self.mutators.insert(name, ());
            }
        }
        Ok(())
    }

    fn require_category(&self, name: &str, origin: &Path) -> Result<usize, LintError> {
        self.category_index(name).ok_or_else(|| {
            LintError::models(
                origin,
                1,
                1,
                format!("unknown category `{name}`: declare it with [[category]] first"),
            )
        })
    }

    /// The index of a category by name.
    pub fn category_index(&self, name: &str) -> Option<usize> {
        self.categories.iter().position(|c| c.name == name)
    }

    /// Whether reading this qualified attribute (or a prefix of it) yields request data.
    pub fn is_source_attribute(&self, qualified: &str) -> bool {
        prefixes(qualified).any(|p| self.source_attributes.contains_key(p))
    }

    /// Whether calling this qualified name yields request data.
    pub fn is_source_call(&self, qualified: &str) -> bool {
        self.source_calls.contains_key(qualified) || self.is_source_attribute(qualified)
    }

    /// The sanitizer model of a call (`qualified` or `method:NAME`).
    pub fn sanitizer(&self, qualified: Option<&str>, method: Option<&str>) -> Option<&Sanitizer> {
        lookup(&self.sanitizers, qualified, method)
    }

    /// The sink models of a call.
    pub fn sinks(&self, qualified: Option<&str>, method: Option<&str>) -> &[Sink] {
        lookup(&self.sinks, qualified, method)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// The category of a store sink (`flask.session[k] = v`).
    pub fn store_sink(&self, qualified: Option<&str>, method: Option<&str>) -> Option<usize> {
        lookup(&self.store_sinks, qualified, method).copied()
    }

    /// Whether the call's result is clean whatever its arguments.
    pub fn is_clean_call(&self, qualified: Option<&str>, method: Option<&str>) -> bool {
        lookup(&self.clean_calls, qualified, method).is_some()
    }

    /// Whether a method call taints its receiver with its arguments (`list.append`).
    pub fn is_mutator(&self, method: &str) -> bool {
        self.mutators.contains_key(method)
    }
}

fn lookup<'m, T>(
    map: &'m HashMap<String, T>,
    qualified: Option<&str>,
    method: Option<&str>,
) -> Option<&'m T> {
    if let Some(q) = qualified
        && let Some(v) = map.get(q)
    {
        return Some(v);
    }
    let method = method?;
    // Keys are `method:NAME`; look up without allocating.
    let mut buf = [0u8; 96];
    let key_len = 7 + method.len();
    if key_len > buf.len() {
        return None;
    }
    buf[..7].copy_from_slice(b"method:");
    buf[7..key_len].copy_from_slice(method.as_bytes());
    let key = std::str::from_utf8(&buf[..key_len]).ok()?;
    map.get(key)
}

/// `a.b.c` → `a.b.c`, `a.b`, `a`.
fn prefixes(qualified: &str) -> impl Iterator<Item = &str> {
    let mut end = Some(qualified.len());
    std::iter::from_fn(move || {
        let e = end?;
        let p = &qualified[..e];
        end = p.rfind('.');
        Some(p)
    })
}

/// 1-based line and column of a byte offset.
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text.as_bytes()[..offset];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    let column = text[line_start..offset].chars().count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_models_load_and_answer_lookups() {
        let m = Models::builtin();
        assert!(m.is_source_attribute("flask.request.args.get"));
        assert!(!m.is_source_attribute("flask.request.method"));
        assert!(m.sanitizer(Some("shlex.quote"), None).is_some());
        assert!(!m.sinks(None, Some("execute")).is_empty());
        let sqli = m.category_index("sqli").unwrap();
        assert_eq!(m.categories[sqli].cwe, 89);
    }

    #[test]
    fn unknown_category_in_user_models_names_it() {
        let mut m = Models::builtin();
        let err = m
            .extend_from_str(
                "[[sink]]\ncategory = \"nope\"\nnames = [\"x\"]\n",
                Path::new("m.toml"),
            )
            .unwrap_err();
        assert!(err.to_string().contains("nope"), "{err}");
    }
}
