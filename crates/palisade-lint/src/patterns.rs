//! Pattern rules: everything decided by the shape of one call, import, assignment or literal
//! (Bandit's checks and the framework configuration rules). The taint rules live in
//! [`crate::taint`].

use std::collections::HashMap;

use ruff_python_ast::visitor::{Visitor, walk_body, walk_expr, walk_stmt};
use ruff_python_ast::{self as ast, Expr, ExprCall, Number, Stmt};
use ruff_text_size::{Ranged, TextRange, TextSize};

use crate::names::ImportMap;
use crate::rules::{self, Matcher, Selection};

/// A pattern rule's hit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// Rule id.
    pub rule: &'static str,
    /// Where.
    pub range: TextRange,
}

/// What the pattern pass learned about a module besides its hits.
#[derive(Debug, Default)]
pub struct ModuleFacts {
    /// The module builds an XML parser that resolves external entities.
    pub unsafe_xml_parser: bool,
}

/// Runs every enabled pattern rule over a module.
pub fn check_module(
    body: &[Stmt],
    text: &str,
    file_name: &str,
    imports: &ImportMap,
    selection: &Selection,
) -> (Vec<Hit>, ModuleFacts) {
    let mut call_rules: HashMap<&'static str, Vec<&'static rules::Rule>> = HashMap::new();
    let mut import_rules: Vec<&'static rules::Rule> = Vec::new();
    let mut checks: HashMap<&'static str, &'static str> = HashMap::new();
    for rule in rules::all() {
        match &rule.matcher {
            Matcher::Call { names, .. } => {
                for n in names {
                    call_rules.entry(n.as_str()).or_default().push(rule);
                }
            }
            Matcher::Import { .. } => import_rules.push(rule),
            Matcher::Check { check } => {
                checks.insert(check.as_str(), rule.id.as_str());
            }
            Matcher::Taint { .. } => {}
        }
    }
    let mut checker = Checker {
        imports,
        text,
        selection,
        call_rules,
        import_rules,
        checks,
        hits: Vec::new(),
        facts: ModuleFacts::default(),
        is_test_file: is_test_file(file_name),
        is_settings: file_name.contains("settings") || file_name.contains("config"),
        module_level: true,
    };
    checker.trojansource();
    walk_body(&mut checker, body);
    let mut hits = checker.hits;
    hits.sort_by_key(|h| (h.range.start(), h.rule));
    hits.dedup();
    (hits, checker.facts)
}

fn is_test_file(name: &str) -> bool {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    base.starts_with("test_")
        || base.ends_with("_test.py")
        || name.contains("/tests/")
        || name.contains("/test/")
}

struct Checker<'m> {
    imports: &'m ImportMap,
    text: &'m str,
    selection: &'m Selection,
    call_rules: HashMap<&'static str, Vec<&'static rules::Rule>>,
    import_rules: Vec<&'static rules::Rule>,
    checks: HashMap<&'static str, &'static str>,
    hits: Vec<Hit>,
    facts: ModuleFacts,
    is_test_file: bool,
    is_settings: bool,
    module_level: bool,
}

const PASSWORD_WORDS: &[&str] = &[
    "password",
    "passwd",
    "pass_word",
    "passphrase",
    "pwd",
    "secret",
    "token",
    "api_key",
    "apikey",
];

/// A name that holds a password: one containing a [`PASSWORD_WORDS`] word, or (Bandit's
/// candidates) one with an `_`-separated part that is `pass`, `passphrase`, `pwd`, `token`,
/// `secret`, `secrete` or `pas+wo?r?d` (`user_pass`, `db_passwd`).
fn is_password_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    PASSWORD_WORDS.iter().any(|w| lower.contains(w))
        || lower.split('_').any(|part| {
            matches!(
                part,
                "pass" | "passphrase" | "pwd" | "token" | "secret" | "secrete"
            ) || is_password_word(part)
        })
}

/// Bandit's `pas+wo?r?d`, the whole of `word`.
fn is_password_word(word: &str) -> bool {
    let Some(rest) = word.strip_prefix("pa") else {
        return false;
    };
    let after_s = rest.trim_start_matches('s');
    if after_s.len() == rest.len() {
        return false;
    }
    let Some(rest) = after_s.strip_prefix('w') else {
        return false;
    };
    let rest = rest.strip_prefix('o').unwrap_or(rest);
    let rest = rest.strip_prefix('r').unwrap_or(rest);
    rest == "d"
}

impl Checker<'_> {
    fn hit_check(&mut self, check: &str, range: TextRange) {
        if let Some(id) = self.checks.get(check).copied()
            && self.selection.enabled(id)
        {
            self.hits.push(Hit { rule: id, range });
        }
    }

    fn qualify(&self, expr: &Expr) -> Option<crate::names::Qualified> {
        self.imports.qualify(expr)
    }

    fn trojansource(&mut self) {
        for (offset, c) in self.text.char_indices() {
            if matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}') {
                let start = TextSize::try_from(offset).unwrap_or_default();
                let end = TextSize::try_from(offset + c.len_utf8()).unwrap_or(start);
                self.hit_check("trojansource", TextRange::new(start, end));
            }
        }
    }

    /// An import of `full` (a module, or `module.name` for `from module import name`).
    fn import(&mut self, full: &str, range: TextRange) {
        self.import_matching(range, |m| crate::names::is_dotted_prefix(m, full));
    }

    /// A use of exactly a blacklisted import name (a call of `wsgiref.handlers.CGIHandler`).
    fn import_exact(&mut self, full: &str, range: TextRange) {
        self.import_matching(range, |m| m == full);
    }

    fn import_matching(&mut self, range: TextRange, matches: impl Fn(&str) -> bool) {
        let rules: Vec<&'static str> = self
            .import_rules
            .iter()
            .filter(|r| {
                let Matcher::Import { modules } = &r.matcher else {
                    return false;
                };
                modules.iter().any(|m| matches(m))
            })
            .map(|r| r.id.as_str())
            .collect();
        for id in rules {
            if self.selection.enabled(id) {
                self.hits.push(Hit { rule: id, range });
            }
        }
    }

    fn call(&mut self, call: &ExprCall) {
        let q = self.qualify(&call.func);
        let name = q.as_ref().map(|q| q.name.as_str()).unwrap_or("");
        // Bandit's `call_function_name`: the called attribute whatever the receiver is.
        let method = match &*call.func {
            Expr::Attribute(a) => Some(a.attr.as_str()),
            _ => None,
        };
        // Names match as written (import aliases resolved), imported or not, as Bandit's do.
        let mut candidates: Vec<&'static rules::Rule> = Vec::new();
        if let Some(r) = self.call_rules.get(name) {
            candidates.extend(r);
        }
        if let Some(m) = method
            && let Some(r) = self.call_rules.get(format!("method:{m}").as_str())
        {
            candidates.extend(r);
        }
        for rule in candidates {
            if self.selection.enabled(&rule.id) {
                self.hits.push(Hit {
                    rule: rule.id.as_str(),
                    range: call.range(),
                });
            }
        }
        self.dynamic_import(call, name);
        self.call_checks(call, name, method);
    }

    /// `__import__("pickle")`, `importlib.import_module("pickle")` and calls of a blacklisted
    /// import name itself (`wsgiref.handlers.CGIHandler()`) count as imports, as in Bandit.
    fn dynamic_import(&mut self, call: &ExprCall, name: &str) {
        let imported_module = match name {
            "__import__" | "importlib.import_module" | "importlib.__import__" => call
                .arguments
                .args
                .first()
                .or_else(|| kwarg(call, "name"))
                .and_then(str_literal),
            _ => None,
        };
        if let Some(module) = imported_module {
            self.import(module, call.range());
        } else if !name.is_empty() {
            self.import_exact(name, call.range());
        }
    }

    fn call_checks(&mut self, call: &ExprCall, name: &str, method: Option<&str>) {
        let range = call.range();
        let args = &call.arguments.args;
        let last = name.rsplit('.').next().unwrap_or("");
        let in_name = |segment: &str| name.split('.').any(|s| s == segment);
        // Any `*chmod*` call: group/other write or execute bits (S_IWOTH|S_IWGRP|S_IXGRP|S_IXOTH).
        if last.contains("chmod") {
            let mode = args.get(1).or_else(|| kwarg(call, "mode"));
            if mode.and_then(int_literal).is_some_and(|m| m & 0o033 != 0) {
                self.hit_check("bad_file_permissions", range);
            }
        }
        if in_name("crypt") && matches!(last, "crypt" | "mksalt") {
            let method = if last == "crypt" {
                args.get(1).or_else(|| kwarg(call, "salt"))
            } else {
                args.first().or_else(|| kwarg(call, "method"))
            };
            if method
                .and_then(attribute_or_name)
                .is_some_and(|m| matches!(m, "METHOD_CRYPT" | "METHOD_MD5" | "METHOD_BLOWFISH"))
            {
                self.hit_check("weak_hash", range);
            }
        }
        if in_name("jinja2") && last == "Environment" {
            let safe = kwarg(call, "autoescape").is_some_and(|v| match v {
                Expr::BooleanLiteral(b) => b.value,
                Expr::Call(c) => match &*c.func {
                    Expr::Attribute(a) => a.attr.as_str() == "select_autoescape",
                    Expr::Name(n) => n.id.as_str() == "select_autoescape",
                    _ => false,
                },
                _ => false,
            });
            if !safe {
                self.hit_check("jinja2_autoescape", range);
            }
        }
        if name.starts_with("django.utils.safestring.")
            && matches!(
                last,
                "mark_safe" | "SafeText" | "SafeUnicode" | "SafeString" | "SafeBytes"
            )
            && args.first().is_some_and(|a| !is_literal_str(a))
        {
            self.hit_check("mark_safe_nonliteral", range);
        }
        match name {
            "hashlib.md5" | "hashlib.sha1" | "hashlib.md4" | "hashlib.md2"
                if !kwarg_is_false(call, "usedforsecurity") =>
            {
                self.hit_check("weak_hash", range);
            }
            "hashlib.new" => {
                let algorithm = args.first().or_else(|| kwarg(call, "name"));
                if let Some(a) = algorithm.and_then(str_literal)
                    && matches!(
                        a.to_ascii_lowercase().as_str(),
                        "md5" | "sha1" | "md4" | "md2" | "sha" | "ripemd160"
                    )
                    && !kwarg_is_false(call, "usedforsecurity")
                {
                    self.hit_check("weak_hash", range);
                }
            }
            "ssl.wrap_socket" if kwarg(call, "ssl_version").is_none() => {
                self.hit_check("ssl_no_version", range);
            }
            "yaml.load" | "yaml.load_all" => {
                let loader = args.get(1).or_else(|| kwarg(call, "Loader"));
                let safe = loader.is_some_and(|l| {
                    self.qualify(l).is_some_and(|q| {
                        q.name.ends_with("SafeLoader")
                            || q.name.ends_with("CSafeLoader")
                            || q.name.ends_with("BaseLoader")
                    })
                });
                if !safe {
                    self.hit_check("yaml_load", range);
                }
            }
            "torch.load" if !kwarg_is_true(call, "weights_only") => {
                self.hit_check("torch_load", range);
            }
            "markupsafe.Markup" | "flask.Markup" | "jinja2.Markup"
                if args.first().is_some_and(|a| !is_literal_str(a)) =>
            {
                self.hit_check("markup_nonliteral", range);
            }
            "lxml.etree.XMLParser" | "lxml.etree.XSLTAccessControl"
                if (kwarg_is_true(call, "resolve_entities")
                    || kwarg_is_false(call, "no_network")) =>
            {
                self.facts.unsafe_xml_parser = true;
                self.hit_check("xxe_parser", range);
            }
            "pysnmp.hlapi.CommunityData"
            | "pysnmp.entity.rfc3413.oneliner.cmdgen.CommunityData" => {
                if let Some(m) = kwarg(call, "mpModel").and_then(int_literal)
                    && m <= 1
                {
                    self.hit_check("snmp_insecure_version", range);
                }
            }
            "pysnmp.hlapi.UsmUserData"
                if args.len() < 3
                    && kwarg(call, "authKey").is_none()
                    && kwarg(call, "privKey").is_none() =>
            {
                self.hit_check("snmp_weak_crypto", range);
            }
            "cryptography.hazmat.primitives.asymmetric.rsa.generate_private_key" => {
                let size = kwarg(call, "key_size").or_else(|| args.get(1));
                if size.and_then(int_literal).is_some_and(|s| s < 2048) {
                    self.hit_check("weak_key", range);
                }
            }
            "cryptography.hazmat.primitives.asymmetric.dsa.generate_private_key"
            | "Crypto.PublicKey.RSA.generate"
            | "Crypto.PublicKey.DSA.generate"
            | "Cryptodome.PublicKey.RSA.generate"
            | "Cryptodome.PublicKey.DSA.generate" => {
                let size = kwarg(call, "key_size")
                    .or_else(|| kwarg(call, "bits"))
                    .or_else(|| args.first());
                if size.and_then(int_literal).is_some_and(|s| s < 2048) {
                    self.hit_check("weak_key", range);
                }
            }
            "cryptography.hazmat.primitives.asymmetric.ec.generate_private_key" => {
                let curve = kwarg(call, "curve").or_else(|| args.first());
                if let Some(c) = curve.and_then(|c| self.qualify(c))
                    && (c.name.ends_with("SECP192R1")
                        || c.name.ends_with("SECT163K1")
                        || c.name.ends_with("SECT163R2"))
                {
                    self.hit_check("weak_key", range);
                }
            }
            _ => {}
        }
        let root = name.split('.').next().unwrap_or("");
        let verb = matches!(
            last,
            "get" | "post" | "put" | "delete" | "patch" | "head" | "options"
        );
        let requests_call = root == "requests" && (verb || matches!(last, "request" | "stream"));
        let httpx_call = root == "httpx"
            && (verb || matches!(last, "request" | "stream" | "Client" | "AsyncClient"));
        if requests_call || httpx_call {
            if let Some(v) = kwarg(call, "verify")
                && matches!(v, Expr::BooleanLiteral(b) if !b.value)
            {
                self.hit_check("no_cert_validation", v.range());
            }
            // `requests` without a timeout, or either library with `timeout=None`.
            let timeout = kwarg(call, "timeout");
            if (requests_call && timeout.is_none())
                || timeout.is_some_and(|t| matches!(t, Expr::NoneLiteral(_)))
            {
                self.hit_check("request_without_timeout", range);
            }
        }
        if args
            .iter()
            .chain(call.arguments.keywords.iter().map(|k| &k.value))
            .any(|a| self.is_bad_ssl_version(a))
        {
            self.hit_check("ssl_bad_version", range);
        }
        self.process_checks(call, name);
        match method {
            Some("run") if kwarg_is_true(call, "debug") => {
                self.hit_check("flask_debug_true", range)
            }
            // Unless `filter="data"` (members= lists are flagged too: they need review).
            Some(m)
                if m.contains("extractall")
                    && self.imports.imports_from("tarfile")
                    && kwarg(call, "filter").and_then(str_literal) != Some("data") =>
            {
                self.hit_check("tarfile_unsafe_members", range)
            }
            Some("set_missing_host_key_policy")
                if args.first().is_some_and(|a| {
                    let t = self.source(a.range());
                    t.contains("AutoAddPolicy") || t.contains("WarningPolicy")
                }) =>
            {
                self.hit_check("ssh_no_host_key", range);
            }
            Some("set_cookie") => {
                if !kwarg_is_true(call, "secure") {
                    self.hit_check("insecure_cookie", range);
                }
                if !kwarg_is_true(call, "httponly") {
                    self.hit_check("cookie_without_httponly", range);
                }
            }
            Some("setFeature") => {
                let feature = args.first().map(|a| self.source(a.range())).unwrap_or("");
                let on = args.get(1).is_some_and(|v| {
                    matches!(v, Expr::BooleanLiteral(b) if b.value) || int_literal(v) == Some(1)
                });
                if on && (feature.contains("external_ges") || feature.contains("external_pes")) {
                    self.facts.unsafe_xml_parser = true;
                    self.hit_check("xxe_parser", range);
                }
            }
            Some("update") => {
                // app.config.update(SECRET_KEY="literal", WTF_CSRF_ENABLED=False)
                for k in &call.arguments.keywords {
                    if let Some(arg) = &k.arg {
                        self.config_assignment(arg.as_str(), &k.value, k.range());
                    }
                }
            }
            _ => {}
        }
        if matches!(
            last,
            "from_pretrained"
                | "load_dataset"
                | "hf_hub_download"
                | "snapshot_download"
                | "repository_id"
        ) && !huggingface_pinned(call)
        {
            self.hit_check("huggingface_unpinned", range);
        }
        if method == Some("extra") && django_extra_is_unsafe(call) {
            self.hit_check("django_extra", range);
        }
        // Reported at the call, as Bandit does.
        if call.arguments.keywords.iter().any(|k| {
            k.arg
                .as_ref()
                .is_some_and(|arg| is_password_name(arg.as_str()))
                && is_nonempty_str(&k.value)
        }) {
            self.hit_check("hardcoded_password_funcarg", range);
        }
    }

    /// Bandit's process checks (B602–B607, B609). The shell and no-shell process functions are
    /// the names of rules B605 and B606; shell-related findings are reported on the `shell=`
    /// argument's line when there is one, as Bandit does.
    fn process_checks(&mut self, call: &ExprCall, name: &str) {
        let args = &call.arguments.args;
        let subprocess = SUBPROCESS_CALLS.contains(&name);
        let via_shell = call_rule_names("B605").iter().any(|n| n == name);
        let without_shell = call_rule_names("B606").iter().any(|n| n == name);
        let shell = kwarg(call, "shell");
        let shell_on = shell.is_some_and(shell_is_true);
        let shell_range = shell.map_or(call.range(), Ranged::range);
        if subprocess {
            if !shell_on {
                self.hit_check("subprocess_without_shell", shell_range);
            } else if !args.is_empty() {
                self.hit_check("subprocess_shell_true", shell_range);
            }
        } else if shell_on {
            self.hit_check("other_shell_true", shell_range);
        }
        let Some(first) = args.first() else { return };
        if subprocess || via_shell || without_shell {
            let program = match first {
                Expr::List(l) => l.elts.first().unwrap_or(first),
                _ => first,
            };
            // Bandit's full path: a drive letter (`C:`) or a leading `/`, `\` or `.`.
            if let Some(p) = str_literal(program) {
                let mut chars = p.chars();
                let full = match (chars.next(), chars.next()) {
                    (Some('/' | '\\' | '.'), _) => true,
                    (Some(c), Some(':')) => c.is_ascii_alphabetic(),
                    _ => false,
                };
                if !full {
                    self.hit_check("partial_path_process", call.range());
                }
            }
        }
        let literally_shell =
            shell.is_some_and(|s| matches!(s, Expr::BooleanLiteral(b) if b.value));
        if via_shell || (subprocess && literally_shell) {
            let command = match first {
                Expr::List(l) => l
                    .elts
                    .iter()
                    .filter_map(str_literal)
                    .collect::<Vec<_>>()
                    .join(" "),
                e => str_literal(e).unwrap_or("").to_owned(),
            };
            if command.contains('*')
                && ["chown", "chmod", "tar", "rsync"]
                    .iter()
                    .any(|c| command.contains(c))
            {
                self.hit_check("wildcard_injection", shell_range);
            }
        }
    }

    fn is_bad_ssl_version(&self, expr: &Expr) -> bool {
        let Some(q) = self.qualify(expr) else {
            return false;
        };
        matches!(
            q.name.rsplit('.').next(),
            Some(
                "PROTOCOL_SSLv2"
                    | "PROTOCOL_SSLv3"
                    | "PROTOCOL_TLSv1"
                    | "PROTOCOL_TLSv1_1"
                    | "SSLv2_METHOD"
                    | "SSLv23_METHOD"
                    | "SSLv3_METHOD"
                    | "TLSv1_METHOD"
                    | "TLSv1_1_METHOD"
            )
        ) && (q.name.starts_with("ssl.") || q.name.contains("SSL"))
    }

    fn source(&self, range: TextRange) -> &str {
        self.text
            .get(usize::from(range.start())..usize::from(range.end()))
            .unwrap_or("")
    }

    /// `SECRET_KEY = "…"`, `WTF_CSRF_ENABLED = False`, `DEBUG = True`, `SESSION_COOKIE_SECURE = False`.
    fn config_assignment(&mut self, key: &str, value: &Expr, range: TextRange) {
        match key {
            "SECRET_KEY" | "secret_key" | "JWT_SECRET_KEY" if is_nonempty_str(value) => {
                self.hit_check("hardcoded_secret_key", range);
            }
            "WTF_CSRF_ENABLED" | "CSRF_ENABLED" => {
                if matches!(value, Expr::BooleanLiteral(b) if !b.value) {
                    self.hit_check("csrf_disabled", range);
                }
            }
            "SESSION_COOKIE_SECURE" | "CSRF_COOKIE_SECURE" => {
                if matches!(value, Expr::BooleanLiteral(b) if !b.value) {
                    self.hit_check("session_cookie_insecure", range);
                }
            }
            "DEBUG"
                if self.is_settings
                    && self.module_level
                    && matches!(value, Expr::BooleanLiteral(b) if b.value) =>
            {
                self.hit_check("django_debug_true", range);
            }
            _ => {}
        }
    }

    fn assignment(&mut self, target: &Expr, value: &Expr, range: TextRange) {
        // Where Bandit reports B105: the assigned string, or the subscript's key string.
        let (key, at): (Option<String>, TextRange) = match target {
            Expr::Name(n) => (Some(n.id.as_str().to_owned()), value.range()),
            Expr::Attribute(a) => (Some(a.attr.as_str().to_owned()), value.range()),
            Expr::Subscript(s) => (str_literal(&s.slice).map(str::to_owned), s.slice.range()),
            _ => (None, range),
        };
        let Some(key) = key else { return };
        self.config_assignment(&key, value, range);
        // Empty strings too, as Bandit does (`password = ""` is a hard-coded empty password).
        if is_password_name(&key)
            && is_literal_str(value)
            && key != "SECRET_KEY"
            && key != "secret_key"
        {
            self.hit_check("hardcoded_password_string", at);
        }
    }

    fn hardcoded_sql(&mut self, expr: &Expr) {
        let (literal, dynamic): (String, bool) = match expr {
            Expr::BinOp(b) if matches!(b.op, ast::Operator::Mod | ast::Operator::Add) => {
                let mut lit = String::new();
                let mut dynamic = false;
                collect_concat(expr, &mut lit, &mut dynamic);
                (lit, dynamic)
            }
            Expr::FString(f) => {
                let mut lit = String::new();
                let mut dynamic = false;
                // Implicit concatenation mixes plain literals and f-strings.
                for part in f.value.iter() {
                    match part {
                        ast::FStringPart::Literal(l) => lit.push_str(&l.value),
                        ast::FStringPart::FString(f) => {
                            for element in &f.elements {
                                match element {
                                    ast::InterpolatedStringElement::Literal(l) => {
                                        lit.push_str(&l.value)
                                    }
                                    ast::InterpolatedStringElement::Interpolation(_) => {
                                        dynamic = true
                                    }
                                }
                            }
                        }
                    }
                }
                (lit, dynamic)
            }
            Expr::Call(c) => match &*c.func {
                // `"… {}".format(x)` and `"… [VALUE]".replace("[VALUE]", x)`.
                Expr::Attribute(a) if matches!(a.attr.as_str(), "format" | "replace") => {
                    match &*a.value {
                        Expr::StringLiteral(s) => {
                            (s.value.to_str().to_owned(), !c.arguments.is_empty())
                        }
                        _ => return,
                    }
                }
                _ => return,
            },
            _ => return,
        };
        if dynamic && looks_like_sql(&literal) {
            self.hit_check("hardcoded_sql", expr.range());
        }
    }
}

fn collect_concat(expr: &Expr, lit: &mut String, dynamic: &mut bool) {
    match expr {
        Expr::BinOp(b) if matches!(b.op, ast::Operator::Mod | ast::Operator::Add) => {
            collect_concat(&b.left, lit, dynamic);
            collect_concat(&b.right, lit, dynamic);
        }
        Expr::StringLiteral(s) => lit.push_str(s.value.to_str()),
        _ => *dynamic = true,
    }
}

fn looks_like_sql(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '*')
        .filter(|w| !w.is_empty())
        .collect();
    let has = |w: &str| words.contains(&w);
    let first = words.first().copied().unwrap_or("");
    (first == "select" && has("from"))
        || (first == "delete" && has("from"))
        || (first == "insert" && has("into"))
        || (first == "update" && has("set"))
        || (has("where") && (has("select") || has("update") || has("delete")))
}

impl<'a> Visitor<'a> for Checker<'_> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        match stmt {
            Stmt::Import(import) => {
                for alias in &import.names {
                    self.import(alias.name.as_str(), import.range());
                }
            }
            Stmt::ImportFrom(import) => {
                // Relative imports count too (`from .. import subprocess`), as in Bandit.
                let module = import.module.as_ref().map(|m| m.as_str()).unwrap_or("");
                for alias in &import.names {
                    let full = if module.is_empty() {
                        alias.name.as_str().to_owned()
                    } else {
                        format!("{module}.{}", alias.name.as_str())
                    };
                    self.import(&full, import.range());
                }
            }
            Stmt::Assert(a) if !self.is_test_file => {
                self.hit_check("assert_used", a.range());
            }
            Stmt::Try(t) => {
                for handler in &t.handlers {
                    let ast::ExceptHandler::ExceptHandler(h) = handler;
                    if h.body.len() == 1 {
                        match &h.body[0] {
                            Stmt::Pass(_) => self.hit_check("try_except_pass", h.range()),
                            Stmt::Continue(_) => self.hit_check("try_except_continue", h.range()),
                            _ => {}
                        }
                    }
                }
            }
            Stmt::Assign(a) => {
                for target in &a.targets {
                    self.assignment(target, &a.value, a.range());
                }
            }
            Stmt::AnnAssign(a) => {
                if let Some(v) = &a.value {
                    self.assignment(&a.target, v, a.range());
                }
            }
            Stmt::FunctionDef(f) => {
                for d in &f.decorator_list {
                    let text = self.source(d.range());
                    if text.contains("csrf_exempt") {
                        self.hit_check("csrf_disabled", d.range());
                    }
                }
                for p in f
                    .parameters
                    .posonlyargs
                    .iter()
                    .chain(&f.parameters.args)
                    .chain(&f.parameters.kwonlyargs)
                {
                    if let Some(default) = &p.default {
                        if is_password_name(p.parameter.name.as_str()) && is_nonempty_str(default) {
                            self.hit_check("hardcoded_password_default", p.range());
                        }
                        if self.is_bad_ssl_version(default) {
                            self.hit_check("ssl_bad_defaults", p.range());
                        }
                    }
                }
                let was = self.module_level;
                self.module_level = false;
                walk_stmt(self, stmt);
                self.module_level = was;
                return;
            }
            Stmt::ClassDef(_) => {
                let was = self.module_level;
                self.module_level = false;
                walk_stmt(self, stmt);
                self.module_level = was;
                return;
            }
            _ => {}
        }
        walk_stmt(self, stmt);
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        match expr {
            Expr::Call(call) => {
                self.call(call);
                self.hardcoded_sql(expr);
            }
            Expr::BinOp(_) => self.hardcoded_sql(expr),
            Expr::FString(f) => {
                // Bandit sees an f-string's literal parts as strings (`f"/tmp/run-{uid}"`).
                let tmp = f.value.iter().any(|part| match part {
                    ast::FStringPart::Literal(l) => is_tmp_path(&l.value),
                    ast::FStringPart::FString(f) => f.elements.iter().any(|e| {
                        matches!(e, ast::InterpolatedStringElement::Literal(l) if is_tmp_path(&l.value))
                    }),
                });
                if tmp {
                    self.hit_check("hardcoded_tmp_directory", f.range());
                }
                self.hardcoded_sql(expr);
            }
            Expr::StringLiteral(s) => {
                let v = s.value.to_str();
                if v == "0.0.0.0" {
                    self.hit_check("bind_all_interfaces", s.range());
                }
                if is_tmp_path(v) {
                    self.hit_check("hardcoded_tmp_directory", s.range());
                }
            }
            // `password == "…"` / `obj.password == ""`: reported at the string, as Bandit does.
            Expr::Compare(c) => {
                let left = match &*c.left {
                    Expr::Name(n) => Some(n.id.as_str()),
                    Expr::Attribute(a) => Some(a.attr.as_str()),
                    _ => None,
                };
                if left.is_some_and(is_password_name)
                    && let Some(string) = c.comparators.first().filter(|e| is_literal_str(e))
                {
                    self.hit_check("hardcoded_password_string", string.range());
                }
            }
            _ => {}
        }
        // A %-format or concatenation is checked once, at its outermost node.
        if let Expr::BinOp(b) = expr
            && matches!(b.op, ast::Operator::Mod | ast::Operator::Add)
        {
            for side in [&*b.left, &*b.right] {
                if !matches!(side, Expr::BinOp(_)) {
                    self.visit_expr(side);
                } else {
                    walk_expr_skip_sql(self, side);
                }
            }
            return;
        }
        walk_expr(self, expr);
    }
}

/// Walks the children of a nested concatenation without re-running the SQL check on it.
fn walk_expr_skip_sql(checker: &mut Checker<'_>, expr: &Expr) {
    if let Expr::BinOp(b) = expr {
        for side in [&*b.left, &*b.right] {
            if matches!(side, Expr::BinOp(_)) {
                walk_expr_skip_sql(checker, side);
            } else {
                checker.visit_expr(side);
            }
        }
    } else {
        checker.visit_expr(expr);
    }
}

fn kwarg<'c>(call: &'c ExprCall, name: &str) -> Option<&'c Expr> {
    call.arguments
        .keywords
        .iter()
        .find(|k| k.arg.as_ref().is_some_and(|a| a.as_str() == name))
        .map(|k| &k.value)
}

fn kwarg_is_true(call: &ExprCall, name: &str) -> bool {
    kwarg(call, name).is_some_and(|v| match v {
        Expr::BooleanLiteral(b) => b.value,
        Expr::NumberLiteral(_) => int_literal(v).is_some_and(|i| i != 0),
        Expr::NoneLiteral(_) => false,
        // A variable: assume it may be true.
        _ => true,
    })
}

fn kwarg_is_false(call: &ExprCall, name: &str) -> bool {
    kwarg(call, name).is_some_and(|v| matches!(v, Expr::BooleanLiteral(b) if !b.value))
}

fn int_literal(expr: &Expr) -> Option<i64> {
    match expr {
        Expr::NumberLiteral(n) => match &n.value {
            Number::Int(i) => i.as_i64(),
            _ => None,
        },
        _ => None,
    }
}

fn str_literal(expr: &Expr) -> Option<&str> {
    match expr {
        Expr::StringLiteral(s) => Some(s.value.to_str()),
        _ => None,
    }
}

fn is_literal_str(expr: &Expr) -> bool {
    matches!(expr, Expr::StringLiteral(_))
}

fn is_nonempty_str(expr: &Expr) -> bool {
    str_literal(expr).is_some_and(|s| !s.is_empty())
}

/// A Hugging Face download pinned to a commit (a `revision`/`commit_id` of 7+ hex digits), or
/// a local path (`./`, `/`, `../`).
fn huggingface_pinned(call: &ExprCall) -> bool {
    let revision = kwarg(call, "revision")
        .or_else(|| kwarg(call, "commit_id"))
        .and_then(str_literal);
    let commit = revision.is_some_and(|r| r.len() >= 7 && r.bytes().all(|b| b.is_ascii_hexdigit()));
    let local = call
        .arguments
        .args
        .first()
        .and_then(str_literal)
        .is_some_and(|p| p.starts_with("./") || p.starts_with('/') || p.starts_with("../"));
    commit || local
}

/// `QuerySet.extra(select, where, params, tables, …)`: unsafe unless `where`/`tables` are
/// lists of string literals and `select` is a dict of string literals (Bandit's B610).
fn django_extra_is_unsafe(call: &ExprCall) -> bool {
    let part = |position: usize, keyword: &str| {
        call.arguments
            .args
            .get(position)
            .or_else(|| kwarg(call, keyword))
    };
    let literal_list = |e: &Expr| matches!(e, Expr::List(l) if l.elts.iter().all(is_literal_str));
    let unsafe_list = [part(1, "where"), part(3, "tables")]
        .into_iter()
        .flatten()
        .any(|e| !literal_list(e));
    let unsafe_select = part(0, "select").is_some_and(|e| match e {
        Expr::Dict(d) => !d.items.iter().all(|item| {
            item.key.as_ref().is_some_and(is_literal_str) && is_literal_str(&item.value)
        }),
        _ => true,
    });
    unsafe_list || unsafe_select
}

/// The name Bandit sees for an argument: an attribute's last name or a bare name
/// (`crypt.METHOD_MD5` → `METHOD_MD5`).
fn attribute_or_name(expr: &Expr) -> Option<&str> {
    match expr {
        Expr::Attribute(a) => Some(a.attr.as_str()),
        Expr::Name(n) => Some(n.id.as_str()),
        _ => None,
    }
}

/// The `subprocess` functions Bandit's B602/B603 look at.
const SUBPROCESS_CALLS: &[&str] = &[
    "subprocess.Popen",
    "subprocess.call",
    "subprocess.check_call",
    "subprocess.check_output",
    "subprocess.run",
];

/// The names of a built-in `kind = "call"` rule.
fn call_rule_names(id: &str) -> &'static [String] {
    match rules::by_id(id).map(|r| &r.matcher) {
        Some(Matcher::Call { names }) => names,
        _ => &[],
    }
}

/// Bandit's truth of `shell=`: numbers by value, lists and dicts by emptiness, `False`/`None`
/// false, anything else (a variable, a call) possibly true.
fn shell_is_true(value: &Expr) -> bool {
    match value {
        Expr::BooleanLiteral(b) => b.value,
        Expr::NoneLiteral(_) => false,
        Expr::NumberLiteral(n) => match &n.value {
            Number::Int(i) => i.as_u64() != Some(0),
            Number::Float(f) => *f != 0.0,
            Number::Complex { real, imag } => *real != 0.0 || *imag != 0.0,
        },
        Expr::List(l) => !l.elts.is_empty(),
        Expr::Dict(d) => !d.items.is_empty(),
        _ => true,
    }
}

/// Bandit's temporary-directory prefixes (`/tmp`, `/var/tmp`, `/dev/shm`; a plain prefix test).
fn is_tmp_path(s: &str) -> bool {
    ["/tmp", "/var/tmp", "/dev/shm"]
        .iter()
        .any(|p| s.starts_with(p))
}

#[cfg(test)]
mod tests {
    use crate::{LintOptions, Selection, lint_source};

    /// `(rule, line)` of every `B` finding in `src`.
    fn bandit_hits(src: &str) -> Vec<(String, usize)> {
        let options = LintOptions {
            selection: Selection {
                select: vec!["B".into()],
                ignore: Vec::new(),
            },
            ..LintOptions::default()
        };
        lint_source("app.py", src, &options)
            .findings
            .into_iter()
            .map(|f| (f.rule, f.location.line))
            .collect()
    }

    fn has(src: &str, rule: &str, line: usize) -> bool {
        bandit_hits(src).contains(&(rule.to_owned(), line))
    }

    fn lacks(src: &str, rule: &str) -> bool {
        !bandit_hits(src).iter().any(|(r, _)| r == rule)
    }

    #[test]
    fn names_match_as_written_even_without_an_import() {
        assert!(has("subprocess.call(['/bin/ls', '-l'])\n", "B603", 1));
        assert!(has("tempfile.mktemp('x')\n", "B306", 1));
    }

    #[test]
    fn methods_match_on_imported_receivers() {
        let src = "from django.contrib.auth.models import User\nUser.objects.filter(a=1).extra(where=[w])\nUser.objects.extra(where=['a = 1'], select={'x': 'y'})\n";
        assert!(has(src, "B610", 2));
        assert_eq!(
            bandit_hits(src).iter().filter(|(r, _)| r == "B610").count(),
            1,
            "extra() with only string literals is not flagged"
        );
    }

    #[test]
    fn shell_findings_are_on_the_shell_argument_line_and_follow_its_truth() {
        let src = "import subprocess\nsubprocess.check_output('/bin/x',\n    shell=True)\nsubprocess.call(c, shell=[])\nsubprocess.call(c, shell=[1])\n";
        assert!(has(src, "B602", 3));
        assert!(has(src, "B603", 4));
        assert!(has(src, "B602", 5));
    }

    #[test]
    fn partial_paths_use_bandits_full_path_test() {
        assert!(has("import os\nos.execl('ls', 'ls')\n", "B607", 2));
        assert!(lacks("import os\nos.system('./run.sh')\n", "B607"));
        assert!(lacks("import os\nos.system('C:/x.exe')\n", "B607"));
    }

    #[test]
    fn dynamic_and_relative_imports_count() {
        assert!(has("pickle = __import__('pickle')\n", "B403", 1));
        assert!(has(
            "import importlib\nimportlib.import_module(name='subprocess')\n",
            "B404",
            2
        ));
        assert!(has("from .. import subprocess\n", "B404", 1));
        assert!(has(
            "import wsgiref.handlers\nwsgiref.handlers.CGIHandler().run(app)\n",
            "B412",
            2
        ));
    }

    #[test]
    fn http_timeouts_and_verification() {
        assert!(has(
            "import requests\nrequests.get(u, timeout=None)\n",
            "B113",
            2
        ));
        assert!(lacks("import httpx\nhttpx.get(u)\n", "B113"));
        assert!(has(
            "import httpx\nhttpx.AsyncClient(timeout=None)\n",
            "B113",
            2
        ));
        assert!(has("import httpx\nhttpx.Client(verify=False)\n", "B501", 2));
    }

    #[test]
    fn weak_hashes_are_split_as_in_bandit() {
        let src = "from cryptography.hazmat.primitives import hashes\nimport crypt\nhashes.MD5()\ncrypt.crypt(p, crypt.METHOD_MD5)\ncrypt.mksalt(crypt.METHOD_SHA512)\n";
        assert!(has(src, "B303", 3));
        assert!(has(src, "B324", 4));
        assert!(!bandit_hits(src).contains(&("B324".to_owned(), 3)));
        assert!(!bandit_hits(src).contains(&("B324".to_owned(), 5)));
    }

    #[test]
    fn huggingface_downloads_need_a_commit_revision() {
        let src = "from transformers import AutoModel\nAutoModel.from_pretrained('o/m', revision='main')\nAutoModel.from_pretrained('o/m', revision='5d0f2e8a7f1b')\nAutoModel.from_pretrained('./local')\n";
        let hits: Vec<_> = bandit_hits(src)
            .into_iter()
            .filter(|(r, _)| r == "B615")
            .collect();
        assert_eq!(hits, vec![("B615".to_owned(), 2)]);
    }

    #[test]
    fn password_comparisons_and_sql_by_replace() {
        assert!(has("if obj.password == '':\n    pass\n", "B105", 1));
        assert!(has(
            "q = \"SELECT * FROM t WHERE id = '[V]'\".replace('[V]', v)\n",
            "B608",
            1
        ));
        assert!(has(
            "cur.execute(\"SELECT \"\n    f\"{c} \"\n    \"FROM t\")\n",
            "B608",
            1
        ));
    }

    #[test]
    fn password_names_and_empty_passwords_follow_bandit() {
        assert!(has("if user_pass == 'git':\n    pass\n", "B105", 1));
        assert!(has("self.password = ''\n", "B105", 1));
        assert!(has("data['name'] = data['password'] = ''\n", "B105", 1));
        assert!(has("db_passwd = (\n    'x')\n", "B105", 2));
        assert!(lacks("compass = 'north'\n", "B105"));
        assert!(has("p = f'/tmp/run-{uid}'\n", "B108", 1));
    }

    #[test]
    fn jinja2_autoescape_must_be_true_or_select_autoescape() {
        let src = "import jinja2\njinja2.Environment(autoescape=x)\njinja2.Environment(autoescape=jinja2.select_autoescape())\njinja2.Environment(autoescape=True)\n";
        let hits: Vec<_> = bandit_hits(src)
            .into_iter()
            .filter(|(r, _)| r == "B701")
            .collect();
        assert_eq!(hits, vec![("B701".to_owned(), 2)]);
    }
}
