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

fn is_password_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    PASSWORD_WORDS.iter().any(|w| lower.contains(w)) || lower == "pass"
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

    fn import(&mut self, full: &str, range: TextRange) {
        let rules: Vec<&'static str> = self
            .import_rules
            .iter()
            .filter(|r| {
                let Matcher::Import { modules } = &r.matcher else {
                    return false;
                };
                modules
                    .iter()
                    .any(|m| full == m || full.starts_with(&format!("{m}.")))
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
        let imported = q.as_ref().is_some_and(|q| q.imported);
        let method = match &*call.func {
            Expr::Attribute(a) if !imported => Some(a.attr.as_str()),
            _ => None,
        };
        let mut candidates: Vec<&'static rules::Rule> = Vec::new();
        // Builtins (`eval`) match only when not shadowed by an import.
        let lookup_name = if imported || !name.contains('.') {
            Some(name)
        } else {
            None
        };
        if let Some(n) = lookup_name
            && let Some(r) = self.call_rules.get(n)
        {
            candidates.extend(r);
        }
        if let Some(m) = method
            && let Some(r) = self.call_rules.get(format!("method:{m}").as_str())
        {
            candidates.extend(r);
        }
        for rule in candidates {
            let Matcher::Call {
                kwarg_true,
                kwarg_not_true,
                ..
            } = &rule.matcher
            else {
                continue;
            };
            if let Some(k) = kwarg_true
                && !kwarg_is_true(call, k)
            {
                continue;
            }
            if let Some(k) = kwarg_not_true
                && kwarg_is_true(call, k)
            {
                continue;
            }
            if self.selection.enabled(&rule.id) {
                self.hits.push(Hit {
                    rule: rule.id.as_str(),
                    range: call.range(),
                });
            }
        }
        self.call_checks(call, name, imported, method);
    }

    fn call_checks(&mut self, call: &ExprCall, name: &str, imported: bool, method: Option<&str>) {
        let range = call.range();
        let args = &call.arguments.args;
        match name {
            "os.chmod" | "os.fchmod" | "os.lchmod" => {
                let mode = args.get(1).or_else(|| kwarg(call, "mode"));
                if let Some(m) = mode.and_then(int_literal)
                    && (m & 0o002 != 0 || m & 0o010 != 0)
                {
                    self.hit_check("bad_file_permissions", range);
                }
            }
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
            "Crypto.Hash.MD5.new"
            | "Crypto.Hash.MD4.new"
            | "Crypto.Hash.MD2.new"
            | "Crypto.Hash.SHA.new"
            | "Cryptodome.Hash.MD5.new"
            | "Cryptodome.Hash.SHA.new"
            | "cryptography.hazmat.primitives.hashes.MD5"
            | "cryptography.hazmat.primitives.hashes.SHA1" => self.hit_check("weak_hash", range),
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
            "jinja2.Environment" | "jinja2.environment.Environment" => {
                match kwarg(call, "autoescape") {
                    None => self.hit_check("jinja2_autoescape", range),
                    Some(Expr::BooleanLiteral(b)) if !b.value => {
                        self.hit_check("jinja2_autoescape", range)
                    }
                    _ => {}
                }
            }
            "django.utils.safestring.mark_safe"
                if args.first().is_some_and(|a| !is_literal_str(a)) =>
            {
                self.hit_check("mark_safe_nonliteral", range);
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
            | "Cryptodome.PublicKey.RSA.generate" => {
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
        let http_client = ["requests.", "httpx."].iter().any(|p| name.starts_with(p))
            && matches!(
                name.rsplit('.').next(),
                Some(
                    "get"
                        | "post"
                        | "put"
                        | "delete"
                        | "patch"
                        | "head"
                        | "options"
                        | "request"
                        | "stream"
                )
            );
        if http_client && imported {
            if kwarg_is_false(call, "verify") {
                self.hit_check("no_cert_validation", range);
            }
            if name.starts_with("requests.") && kwarg(call, "timeout").is_none() {
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
        let is_process = name.starts_with("subprocess.")
            || name.starts_with("os.exec")
            || name.starts_with("os.spawn")
            || matches!(name, "os.system" | "os.popen" | "os.startfile");
        if is_process && imported {
            self.process_checks(call, name);
        }
        if kwarg_is_true(call, "shell") && !name.starts_with("subprocess.") {
            self.hit_check("other_shell_true", range);
        }
        match method {
            Some("run") if kwarg_is_true(call, "debug") => {
                self.hit_check("flask_debug_true", range)
            }
            Some("extractall")
                if kwarg(call, "filter").is_none() && kwarg(call, "members").is_none() =>
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
            Some("from_pretrained") | Some("hf_hub_download") | Some("snapshot_download")
                if kwarg(call, "revision").is_none() =>
            {
                self.hit_check("huggingface_unpinned", range);
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
        for k in &call.arguments.keywords {
            if let Some(arg) = &k.arg
                && is_password_name(arg.as_str())
                && is_nonempty_str(&k.value)
            {
                self.hit_check("hardcoded_password_funcarg", k.range());
            }
        }
    }

    fn process_checks(&mut self, call: &ExprCall, name: &str) {
        let first = call.arguments.args.first();
        let program = match first {
            Some(Expr::List(l)) => l.elts.first().and_then(str_literal),
            Some(Expr::Tuple(l)) => l.elts.first().and_then(str_literal),
            Some(e) => str_literal(e),
            None => None,
        };
        if let Some(p) = program {
            let word = p.split_whitespace().next().unwrap_or("");
            let absolute = word.starts_with('/')
                || word.starts_with('\\')
                || word.get(1..3).is_some_and(|s| s == ":\\");
            if !word.is_empty() && !absolute && !name.starts_with("os.exec") {
                self.hit_check("partial_path_process", call.range());
            }
            let shell = kwarg_is_true(call, "shell") || matches!(name, "os.system" | "os.popen");
            if shell
                && p.contains('*')
                && ["chown", "chmod", "tar", "rsync"]
                    .iter()
                    .any(|c| p.contains(c))
            {
                self.hit_check("wildcard_injection", call.range());
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
        let key: Option<String> = match target {
            Expr::Name(n) => Some(n.id.as_str().to_owned()),
            Expr::Attribute(a) => Some(a.attr.as_str().to_owned()),
            Expr::Subscript(s) => str_literal(&s.slice).map(str::to_owned),
            _ => None,
        };
        let Some(key) = key else { return };
        self.config_assignment(&key, value, range);
        if is_password_name(&key)
            && is_nonempty_str(value)
            && key != "SECRET_KEY"
            && key != "secret_key"
        {
            self.hit_check("hardcoded_password_string", range);
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
                for part in f.value.elements() {
                    match part {
                        ast::InterpolatedStringElement::Literal(l) => lit.push_str(&l.value),
                        ast::InterpolatedStringElement::Interpolation(_) => dynamic = true,
                    }
                }
                (lit, dynamic)
            }
            Expr::Call(c) => match &*c.func {
                Expr::Attribute(a) if a.attr.as_str() == "format" => match &*a.value {
                    Expr::StringLiteral(s) => {
                        (s.value.to_str().to_owned(), !c.arguments.is_empty())
                    }
                    _ => return,
                },
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
                    self.import(alias.name.as_str(), alias.range());
                }
            }
            Stmt::ImportFrom(import) => {
                let module = import.module.as_ref().map(|m| m.as_str()).unwrap_or("");
                if import.level == 0 {
                    self.import(module, import.range());
                    for alias in &import.names {
                        let full = format!("{module}.{}", alias.name.as_str());
                        if self
                            .import_rules
                            .iter()
                            .any(|r| matches!(&r.matcher, Matcher::Import { modules } if modules.iter().any(|m| m == &full)))
                        {
                            self.import(&full, alias.range());
                        }
                    }
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
            Expr::BinOp(_) | Expr::FString(_) => self.hardcoded_sql(expr),
            Expr::StringLiteral(s) => {
                let v = s.value.to_str();
                if v == "0.0.0.0" {
                    self.hit_check("bind_all_interfaces", s.range());
                }
                if ["/tmp", "/var/tmp", "/dev/shm"]
                    .iter()
                    .any(|p| v == *p || v.starts_with(&format!("{p}/")))
                {
                    self.hit_check("hardcoded_tmp_directory", s.range());
                }
            }
            Expr::Compare(c) => {
                if let Expr::Name(n) = &*c.left
                    && is_password_name(n.id.as_str())
                    && c.comparators.iter().any(is_nonempty_str)
                {
                    self.hit_check("hardcoded_password_string", c.range());
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
