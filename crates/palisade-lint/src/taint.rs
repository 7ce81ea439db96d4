//! The taint engine: follows attacker-controlled data from sources to sinks.
//!
//! # Design
//! Each function (and each module's top-level code) is interpreted abstractly, statement by
//! statement, over an environment mapping *access paths* (`x`, `self.name`, `d['key']`) to a
//! [`Taint`]: the sink categories the value is still dangerous for (sanitizers clear bits), whether
//! it derives from a real source, and which of the function's parameters it derives from.
//!
//! * Inter-procedural: every function gets a [`Summary`] — which parameters reach its return
//!   value (and for which categories), whether it returns source data itself, and which
//!   parameters reach which sinks inside it. Summaries are computed for all functions of all
//!   modules and iterated to a fixpoint, so flows through helpers in other modules are found.
//! * Path sensitivity: conditions that are constant (`if 7 * 3 > 200:`) prune branches;
//!   guards (`if not x.isdigit(): abort(400)`, `if x in ALLOWED:`, `if path.startswith(base)`)
//!   clean the guarded variable in the branch where the check held, and after the `if` when the
//!   other branch cannot fall through.
//! * Containers: dictionary entries with constant keys are tracked separately (`d['a']` vs
//!   `d['b']`); other containers are tainted as a whole by mutators (`append`, `update` …).
//!
//! The analysis is a may-analysis (branches merge by union) with bounded work: loops are
//! interpreted twice, the fixpoint runs at most [`MAX_ROUNDS`] rounds, expression recursion is
//! depth-limited.

use std::collections::HashMap;

use ruff_python_ast::visitor::{Visitor, walk_expr};
use ruff_python_ast::{
    self as ast, BoolOp, CmpOp, Expr, Number, Operator, Stmt, StmtFunctionDef, UnaryOp,
};
use ruff_text_size::{Ranged, TextRange};

use crate::model::{ALL_CATEGORIES, CategoryMask, Models};
use crate::names::ImportMap;

/// Upper bound on summary fixpoint rounds.
pub const MAX_ROUNDS: usize = 6;
const MAX_DEPTH: usize = 64;
const MAX_PARAMS: usize = 64;
/// More same-named definitions than this make a call ambiguous.
const MAX_CANDIDATES: usize = 4;
/// Expression evaluations per function analysis; beyond it the rest of the function is
/// treated as clean (bounded work on generated or pathological code).
const EVAL_BUDGET: usize = 200_000;

/// Where a taint came from: (module index, range).
pub type Origin = (usize, TextRange);

/// The abstract value of an expression.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Taint {
    /// Sink categories the value is still dangerous for.
    pub mask: CategoryMask,
    /// Derived from a real source (request data).
    pub source: bool,
    /// Derived from these parameters of the function being analysed (bit i = parameter i).
    pub params: u64,
    /// The first source reaching the value (for the report's trace).
    pub origin: Option<Origin>,
}

impl Taint {
    /// A clean value.
    pub const CLEAN: Taint = Taint {
        mask: 0,
        source: false,
        params: 0,
        origin: None,
    };

    fn from_source(origin: Origin) -> Taint {
        Taint {
            mask: ALL_CATEGORIES,
            source: true,
            params: 0,
            origin: Some(origin),
        }
    }

    fn is_tainted(&self) -> bool {
        self.mask != 0 && (self.source || self.params != 0)
    }

    fn union(self, other: Taint) -> Taint {
        let t = Taint {
            mask: self.mask | other.mask,
            source: self.source || other.source,
            params: self.params | other.params,
            origin: self.origin.or(other.origin),
        };
        t.normalized()
    }

    fn without(self, removed: CategoryMask) -> Taint {
        Taint {
            mask: self.mask & !removed,
            ..self
        }
        .normalized()
    }

    fn normalized(self) -> Taint {
        if self.mask == 0 || (!self.source && self.params == 0) {
            Taint::CLEAN
        } else {
            self
        }
    }
}

/// What a function does with its parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// The return value's taint (params bits name the parameters that reach it).
    pub ret: Taint,
    /// Parameters reaching sinks inside the function.
    pub param_sinks: Vec<ParamSink>,
}

/// A parameter-to-sink flow inside a function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamSink {
    /// The parameters (bits) whose taint reaches the sink.
    pub params: u64,
    /// Categories still dangerous at the sink.
    pub mask: CategoryMask,
    /// The sink's category.
    pub category: usize,
    /// Module index and range of the sink call.
    pub at: Origin,
}

/// A source-to-sink flow found by the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flow {
    /// The sink category (index into `Models::categories`).
    pub category: usize,
    /// Module index and range of the sink.
    pub at: Origin,
    /// Where the data came from.
    pub origin: Option<Origin>,
    /// A short description of the sink.
    pub sink: String,
}

/// One module as the engine sees it.
pub struct ModuleUnit<'a> {
    /// Dotted module name (`app.views`), used to resolve `from app.views import f`.
    pub name: String,
    /// The module body.
    pub body: &'a [Stmt],
    /// Source text (for receiver-name checks of method sinks).
    pub text: &'a str,
    /// The module's imports.
    pub imports: ImportMap,
    /// The module constructs an XML parser that resolves external entities.
    pub unsafe_xml_parser: bool,
}

struct FunctionUnit<'a> {
    module: usize,
    def: &'a StmtFunctionDef,
    is_method: bool,
    params: Vec<String>,
    /// Parameters that carry request data (route handler parameters, Django's `request`).
    source_params: Vec<bool>,
    /// Flask/Django/FastAPI view: returning tainted text is an XSS sink.
    is_view: bool,
}

/// Runs the engine over a program (all modules at once, for inter-procedural flows).
pub fn analyze(modules: &[ModuleUnit<'_>], models: &Models) -> Vec<Flow> {
    let mut functions = Vec::new();
    for (index, module) in modules.iter().enumerate() {
        collect_functions(module, index, models, module.body, false, &mut functions);
    }
    let mut by_name: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, f) in functions.iter().enumerate() {
        by_name.entry(f.def.name.as_str()).or_default().push(i);
    }
    let program = Program {
        modules,
        functions: &functions,
        by_name,
        models,
    };
    let mut summaries = vec![Summary::default(); functions.len()];
    // Worklist rounds: after the first, a function is re-analysed only when a function it
    // calls changed its summary in the previous round.
    let mut callees: Vec<Vec<usize>> = vec![Vec::new(); functions.len()];
    let mut changed_last: Vec<bool> = vec![true; functions.len()];
    for round in 0..MAX_ROUNDS {
        let mut changed_now = vec![false; functions.len()];
        let mut any = false;
        for i in 0..functions.len() {
            if round > 0 && !callees[i].iter().any(|&c| changed_last[c]) {
                continue;
            }
            let mut analyzer = Analyzer::new(&program, &summaries, functions[i].module, Some(i));
            analyzer.run_function(true);
            let (summary, called) = analyzer.into_summary();
            callees[i] = called;
            if summary != summaries[i] {
                summaries[i] = summary;
                changed_now[i] = true;
                any = true;
            }
        }
        if !any {
            break;
        }
        changed_last = changed_now;
    }
    let mut flows = Vec::new();
    for (i, function) in functions.iter().enumerate() {
        let mut analyzer = Analyzer::new(&program, &summaries, function.module, Some(i));
        analyzer.run_function(false);
        flows.append(&mut analyzer.flows);
    }
    for (index, module) in modules.iter().enumerate() {
        let mut analyzer = Analyzer::new(&program, &summaries, index, None);
        let mut env = Env::default();
        analyzer.block(module.body, &mut env);
        flows.append(&mut analyzer.flows);
    }
    flows.sort_by_key(|f| (f.at.0, f.at.1.start(), f.category));
    flows.dedup_by(|a, b| a.at == b.at && a.category == b.category);
    flows
}

fn collect_functions<'a>(
    module: &ModuleUnit<'a>,
    index: usize,
    models: &Models,
    body: &'a [Stmt],
    in_class: bool,
    out: &mut Vec<FunctionUnit<'a>>,
) {
    for stmt in body {
        match stmt {
            Stmt::FunctionDef(def) => {
                let params: Vec<String> = def
                    .parameters
                    .posonlyargs
                    .iter()
                    .chain(&def.parameters.args)
                    .chain(&def.parameters.kwonlyargs)
                    .map(|p| p.parameter.name.as_str().to_owned())
                    .chain(
                        def.parameters
                            .vararg
                            .iter()
                            .map(|p| p.name.as_str().to_owned()),
                    )
                    .chain(
                        def.parameters
                            .kwarg
                            .iter()
                            .map(|p| p.name.as_str().to_owned()),
                    )
                    .take(MAX_PARAMS)
                    .collect();
                let is_route = def.decorator_list.iter().any(|d| {
                    let target = match &d.expression {
                        Expr::Call(call) => &*call.func,
                        other => other,
                    };
                    matches!(target, Expr::Attribute(a)
                        if models.route_decorators.iter().any(|r| r == a.attr.as_str()))
                });
                // Returning a string from a Flask view sends it as HTML; Django views return
                // response objects (HttpResponse is a sink of its own) and FastAPI serialises JSON.
                let flask_view = is_route && module.imports.imports_from("flask");
                let mut source_params = vec![false; params.len()];
                if is_route {
                    let all: Vec<&ast::ParameterWithDefault> = def
                        .parameters
                        .posonlyargs
                        .iter()
                        .chain(&def.parameters.args)
                        .chain(&def.parameters.kwonlyargs)
                        .collect();
                    for (i, p) in all.iter().enumerate().take(source_params.len()) {
                        let name = p.parameter.name.as_str();
                        if name == "self" || name == "cls" {
                            continue;
                        }
                        let excluded = p
                            .default
                            .as_deref()
                            .into_iter()
                            .chain(p.parameter.annotation.as_deref())
                            .any(|e| mentions_any(e, &models.non_source_parameters));
                        source_params[i] = !excluded;
                    }
                }
                out.push(FunctionUnit {
                    module: index,
                    def,
                    is_method: in_class,
                    params,
                    source_params,
                    is_view: flask_view,
                });
                collect_functions(module, index, models, &def.body, false, out);
            }
            Stmt::ClassDef(class) => {
                collect_functions(module, index, models, &class.body, true, out);
            }
            Stmt::If(s) => {
                collect_functions(module, index, models, &s.body, in_class, out);
                for clause in &s.elif_else_clauses {
                    collect_functions(module, index, models, &clause.body, in_class, out);
                }
            }
            _ => {}
        }
    }
}

fn mentions_any(expr: &Expr, names: &[String]) -> bool {
    struct Finder<'n> {
        names: &'n [String],
        found: bool,
    }
    impl<'a> Visitor<'a> for Finder<'_> {
        fn visit_expr(&mut self, expr: &'a Expr) {
            match expr {
                Expr::Name(n) if self.names.iter().any(|x| x == n.id.as_str()) => self.found = true,
                Expr::Attribute(a) if self.names.iter().any(|x| x == a.attr.as_str()) => {
                    self.found = true
                }
                _ => walk_expr(self, expr),
            }
        }
    }
    let mut f = Finder {
        names,
        found: false,
    };
    f.visit_expr(expr);
    f.found
}

struct Program<'p, 'a> {
    modules: &'p [ModuleUnit<'a>],
    functions: &'p [FunctionUnit<'a>],
    by_name: HashMap<&'a str, Vec<usize>>,
    models: &'p Models,
}

/// A compile-time constant value (for pruning branches).
#[derive(Debug, Clone, PartialEq)]
enum Const {
    Int(i64),
    Str(String),
    Bool(bool),
}

#[derive(Debug, Clone, Default)]
struct Env {
    vars: HashMap<String, Taint>,
    consts: HashMap<String, Const>,
}

impl Env {
    fn merge(&mut self, other: &Env) {
        for (k, v) in &other.vars {
            let e = self.vars.entry(k.clone()).or_insert(Taint::CLEAN);
            *e = e.union(*v);
        }
        self.consts.retain(|k, v| other.consts.get(k) == Some(v));
    }

    fn set(&mut self, key: String, taint: Taint) {
        // A strong update of `x` also replaces `x.attr` and `x['k']` entries.
        self.vars.retain(|k, _| !is_member_of(k, &key));
        self.consts.remove(&key);
        self.vars.insert(key, taint);
    }

    fn get_whole(&self, key: &str) -> Taint {
        let mut t = self.vars.get(key).copied().unwrap_or(Taint::CLEAN);
        if self.vars.len() > 1 {
            for (k, v) in &self.vars {
                if is_member_of(k, key) {
                    t = t.union(*v);
                }
            }
        }
        t
    }
}

struct Analyzer<'s, 'p, 'a> {
    program: &'s Program<'p, 'a>,
    summaries: &'s [Summary],
    module: usize,
    function: Option<usize>,
    /// Computing a summary (parameters tainted symbolically) rather than reporting.
    summarizing: bool,
    ret: Taint,
    flows: Vec<Flow>,
    param_sinks: Vec<ParamSink>,
    depth: usize,
    budget: usize,
    /// Project functions whose summaries this analysis used.
    called: Vec<usize>,
}

impl<'s, 'p, 'a> Analyzer<'s, 'p, 'a> {
    fn new(
        program: &'s Program<'p, 'a>,
        summaries: &'s [Summary],
        module: usize,
        function: Option<usize>,
    ) -> Self {
        Analyzer {
            program,
            summaries,
            module,
            function,
            summarizing: false,
            ret: Taint::CLEAN,
            flows: Vec::new(),
            param_sinks: Vec::new(),
            depth: 0,
            budget: EVAL_BUDGET,
            called: Vec::new(),
        }
    }

    fn models(&self) -> &'p Models {
        self.program.models
    }

    fn imports(&self) -> &ImportMap {
        &self.program.modules[self.module].imports
    }

    fn run_function(&mut self, summarizing: bool) {
        let Some(index) = self.function else { return };
        self.summarizing = summarizing;
        let f = &self.program.functions[index];
        let mut env = Env::default();
        for (i, name) in f.params.iter().enumerate() {
            let mut t = Taint::CLEAN;
            if f.source_params.get(i).copied().unwrap_or(false) {
                t = Taint::from_source((self.module, f.def.parameters.range));
            }
            if summarizing && i < 64 {
                t = t.union(Taint {
                    mask: ALL_CATEGORIES,
                    source: false,
                    params: 1 << i,
                    origin: None,
                });
            }
            env.set(name.clone(), t);
        }
        self.block(&f.def.body, &mut env);
    }

    /// The summary and the project functions the analysis consulted.
    fn into_summary(self) -> (Summary, Vec<usize>) {
        let mut ret = self.ret;
        ret.origin = None;
        let mut param_sinks = self.param_sinks;
        param_sinks.sort_by_key(|p| (p.at.0, p.at.1.start(), p.category, p.params));
        param_sinks.dedup();
        let mut called = self.called;
        called.sort_unstable();
        called.dedup();
        (Summary { ret, param_sinks }, called)
    }

    // ------------------------------------------------------------------ statements

    /// Interprets a block; returns true when control cannot fall through its end.
    fn block(&mut self, body: &'a [Stmt], env: &mut Env) -> bool {
        for stmt in body {
            if self.stmt(stmt, env) {
                return true;
            }
        }
        false
    }

    fn stmt(&mut self, stmt: &'a Stmt, env: &mut Env) -> bool {
        match stmt {
            Stmt::FunctionDef(_) | Stmt::ClassDef(_) => false,
            Stmt::Assign(s) => {
                let t = self.eval(&s.value, env);
                let c = self.const_eval(&s.value, env);
                for target in &s.targets {
                    self.assign(target, t, Some(&s.value), env);
                    if let (Some(c), Expr::Name(n)) = (&c, target) {
                        env.consts.insert(n.id.as_str().to_owned(), c.clone());
                    }
                }
                false
            }
            Stmt::AnnAssign(s) => {
                if let Some(value) = &s.value {
                    let t = self.eval(value, env);
                    self.assign(&s.target, t, Some(value), env);
                    if let (Some(c), Expr::Name(n)) = (self.const_eval(value, env), &*s.target) {
                        env.consts.insert(n.id.as_str().to_owned(), c);
                    }
                }
                false
            }
            Stmt::AugAssign(s) => {
                let t = self.eval(&s.value, env);
                let old = self.eval(&s.target, env);
                self.assign(&s.target, old.union(t), None, env);
                false
            }
            Stmt::Expr(s) => {
                self.eval(&s.value, env);
                is_terminating_call(&s.value)
            }
            Stmt::Return(s) => {
                if let Some(value) = &s.value {
                    let t = self.eval(value, env);
                    self.check_view_return(value, t);
                    self.ret = self.ret.union(t);
                }
                true
            }
            Stmt::Raise(_) | Stmt::Continue(_) | Stmt::Break(_) => true,
            Stmt::If(s) => self.if_stmt(s, env),
            Stmt::For(s) => {
                let t = self.eval(&s.iter, env);
                let before = env.clone();
                for _ in 0..2 {
                    self.assign(&s.target, t, None, env);
                    self.block(&s.body, env);
                    env.merge(&before);
                }
                self.block(&s.orelse, env);
                false
            }
            Stmt::While(s) => {
                let before = env.clone();
                if self.const_truth(&s.test, env) == Some(false) {
                    return self.block(&s.orelse, env);
                }
                for _ in 0..2 {
                    self.eval(&s.test, env);
                    self.block(&s.body, env);
                    env.merge(&before);
                }
                self.block(&s.orelse, env);
                false
            }
            Stmt::With(s) => {
                for item in &s.items {
                    let t = self.eval(&item.context_expr, env);
                    if let Some(vars) = &item.optional_vars {
                        self.assign(vars, t, None, env);
                    }
                }
                self.block(&s.body, env)
            }
            Stmt::Try(s) => {
                let before = env.clone();
                let body_ends = self.block(&s.body, env);
                let mut after = env.clone();
                let mut all_end = body_ends;
                for handler in &s.handlers {
                    let ast::ExceptHandler::ExceptHandler(h) = handler;
                    let mut henv = before.clone();
                    henv.merge(env);
                    let ends = self.block(&h.body, &mut henv);
                    if !ends {
                        after.merge(&henv);
                    }
                    all_end &= ends;
                }
                if !body_ends {
                    self.block(&s.orelse, &mut after);
                }
                *env = after;
                let final_ends = self.block(&s.finalbody, env);
                final_ends || (all_end && !s.handlers.is_empty())
            }
            Stmt::Match(s) => {
                self.eval(&s.subject, env);
                let before = env.clone();
                let mut merged: Option<Env> = None;
                for case in &s.cases {
                    let mut cenv = before.clone();
                    if let Some(guard) = &case.guard {
                        self.eval(guard, &mut cenv);
                    }
                    if !self.block(&case.body, &mut cenv) {
                        match &mut merged {
                            Some(m) => m.merge(&cenv),
                            None => merged = Some(cenv),
                        }
                    }
                }
                let mut out = before;
                if let Some(m) = merged {
                    out.merge(&m);
                }
                *env = out;
                false
            }
            Stmt::Delete(s) => {
                for target in &s.targets {
                    if let Some(key) = self.access_path(target, env) {
                        env.vars.remove(&key);
                    }
                }
                false
            }
            _ => false,
        }
    }

    fn if_stmt(&mut self, s: &'a ast::StmtIf, env: &mut Env) -> bool {
        // Build the chain of (test, body) with the final else.
        let mut branches: Vec<(Option<&'a Expr>, &'a [Stmt])> = vec![(Some(&s.test), &s.body)];
        for clause in &s.elif_else_clauses {
            branches.push((clause.test.as_ref(), &clause.body));
        }
        if branches.last().is_some_and(|(t, _)| t.is_some()) {
            branches.push((None, &[]));
        }
        let mut current = env.clone();
        let mut merged: Option<Env> = None;
        let mut all_end = true;
        for (test, body) in branches {
            let Some(test) = test else {
                let ends = self.block(body, &mut current);
                if !ends {
                    merge_into(&mut merged, &current);
                }
                all_end &= ends;
                break;
            };
            self.eval(test, &mut current);
            match self.const_truth(test, &current) {
                Some(true) => {
                    let ends = self.block(body, &mut current);
                    if !ends {
                        merge_into(&mut merged, &current);
                    }
                    all_end &= ends;
                    *env = merged.unwrap_or(current);
                    return all_end;
                }
                Some(false) => continue,
                None => {}
            }
            let mut then_env = current.clone();
            self.apply_guard(test, true, &mut then_env);
            let ends = self.block(body, &mut then_env);
            if !ends {
                merge_into(&mut merged, &then_env);
            }
            all_end &= ends;
            self.apply_guard(test, false, &mut current);
        }
        match merged {
            Some(m) => {
                *env = m;
                false
            }
            None => {
                *env = current;
                all_end
            }
        }
    }

    /// Cleans variables that a condition proves safe in the branch where it is `holds`.
    fn apply_guard(&self, test: &Expr, holds: bool, env: &mut Env) {
        match test {
            Expr::UnaryOp(u) if u.op == UnaryOp::Not => self.apply_guard(&u.operand, !holds, env),
            Expr::BoolOp(b) if b.op == BoolOp::And && holds => {
                for v in &b.values {
                    self.apply_guard(v, true, env);
                }
            }
            Expr::BoolOp(b) if b.op == BoolOp::Or && !holds => {
                for v in &b.values {
                    self.apply_guard(v, false, env);
                }
            }
            Expr::Call(call) => {
                let Some((key, removes)) = self.guard_call(call, env) else {
                    return;
                };
                if holds && let Some(t) = env.vars.get(&key).copied() {
                    env.vars.insert(key, t.without(removes));
                }
            }
            Expr::Compare(cmp) if cmp.ops.len() == 1 => {
                let op = cmp.ops[0];
                let right = &cmp.comparators[0];
                let Some(key) = self.access_path(&cmp.left, env) else {
                    return;
                };
                let cleans = match op {
                    CmpOp::Eq | CmpOp::Is => holds && is_literal(right),
                    CmpOp::NotEq | CmpOp::IsNot => !holds && is_literal(right),
                    CmpOp::In => holds && is_allow_list(right, env),
                    CmpOp::NotIn => !holds && is_allow_list(right, env),
                    _ => false,
                };
                if cleans {
                    env.vars.insert(key, Taint::CLEAN);
                }
            }
            _ => {}
        }
    }

    /// `x.isdigit()`, `re.fullmatch(p, x)`, `x.startswith(base)`, `url_has_allowed_host_and_scheme(x)`.
    fn guard_call(&self, call: &ast::ExprCall, env: &Env) -> Option<(String, CategoryMask)> {
        if let Expr::Attribute(attr) = &*call.func {
            let method = attr.attr.as_str();
            let receiver_path = self.access_path(&attr.value, env);
            match method {
                "isdigit" | "isnumeric" | "isdecimal" | "isalnum" | "isalpha" | "isidentifier" => {
                    return receiver_path.map(|k| (k, ALL_CATEGORIES));
                }
                "startswith" => {
                    let path = self.models().category_index("path")?;
                    return receiver_path.map(|k| (k, 1 << path));
                }
                _ => {}
            }
        }
        let q = self.imports().qualify(&call.func)?;
        match q.name.as_str() {
            "re.fullmatch" | "re.match" | "regex.fullmatch" => {
                let arg = call.arguments.args.get(1)?;
                self.access_path(arg, env).map(|k| (k, ALL_CATEGORIES))
            }
            "django.utils.http.url_has_allowed_host_and_scheme"
            | "django.utils.http.is_safe_url" => {
                let arg = call.arguments.args.first()?;
                self.access_path(arg, env).map(|k| (k, ALL_CATEGORIES))
            }
            _ => None,
        }
    }

    fn assign(&mut self, target: &'a Expr, t: Taint, value: Option<&'a Expr>, env: &mut Env) {
        match target {
            Expr::Tuple(tuple) => self.assign_elements(&tuple.elts, t, value, env),
            Expr::List(list) => self.assign_elements(&list.elts, t, value, env),
            Expr::Starred(s) => self.assign(&s.value, t, None, env),
            Expr::Subscript(sub) => {
                self.check_store_sink(sub, t);
                match self.access_path(target, env) {
                    Some(key) => {
                        env.vars.insert(key, t);
                    }
                    None => {
                        // Unknown key: the whole container may now hold the value.
                        if let Some(base) = self.access_path(&sub.value, env) {
                            let old = env.vars.get(&base).copied().unwrap_or(Taint::CLEAN);
                            env.vars.insert(base, old.union(t));
                        }
                    }
                }
            }
            _ => {
                if let Some(key) = self.access_path(target, env) {
                    env.set(key, t);
                }
            }
        }
    }

    fn assign_elements(
        &mut self,
        elts: &'a [Expr],
        t: Taint,
        value: Option<&'a Expr>,
        env: &mut Env,
    ) {
        let values: Option<&[Expr]> = match value {
            Some(Expr::Tuple(v)) => Some(&v.elts),
            Some(Expr::List(v)) => Some(&v.elts),
            _ => None,
        };
        match values {
            Some(values) if values.len() == elts.len() => {
                for (target, value) in elts.iter().zip(values) {
                    let vt = self.eval(value, env);
                    self.assign(target, vt, Some(value), env);
                }
            }
            _ => {
                for target in elts {
                    self.assign(target, t, None, env);
                }
            }
        }
    }

    fn check_store_sink(&mut self, sub: &'a ast::ExprSubscript, t: Taint) {
        if !t.is_tainted() {
            return;
        }
        let (qualified, method) = match &*sub.value {
            Expr::Attribute(a) => {
                let q = self.imports().qualify(&sub.value);
                let imported = q.as_ref().is_some_and(|q| q.imported);
                (
                    q.map(|q| q.name),
                    (!imported).then(|| a.attr.as_str().to_owned()),
                )
            }
            other => (self.imports().qualify(other).map(|q| q.name), None),
        };
        if let Some(category) = self
            .models()
            .store_sink(qualified.as_deref(), method.as_deref())
        {
            self.report_if(
                category,
                t,
                sub.range(),
                "assignment into a protected store",
            );
        }
    }

    fn check_view_return(&mut self, value: &Expr, t: Taint) {
        let Some(f) = self.function else { return };
        if !self.program.functions[f].is_view {
            return;
        }
        // Returning a dict/list from a view serialises JSON: not markup.
        if matches!(value, Expr::Dict(_) | Expr::List(_) | Expr::Tuple(_)) {
            return;
        }
        if let Some(xss) = self.models().category_index("xss") {
            self.report_if(
                xss,
                t,
                value.range(),
                "value returned as the HTTP response body",
            );
        }
    }

    // ------------------------------------------------------------------ expressions

    fn eval(&mut self, expr: &'a Expr, env: &mut Env) -> Taint {
        if self.depth > MAX_DEPTH || self.budget == 0 {
            return Taint::CLEAN;
        }
        self.budget -= 1;
        self.depth += 1;
        let t = self.eval_inner(expr, env);
        self.depth -= 1;
        t
    }

    fn eval_inner(&mut self, expr: &'a Expr, env: &mut Env) -> Taint {
        match expr {
            Expr::Name(n) => {
                let whole = env.get_whole(n.id.as_str());
                if whole.is_tainted() || env.vars.contains_key(n.id.as_str()) {
                    return whole;
                }
                self.source_attribute(expr)
            }
            Expr::Attribute(a) => {
                let source = self.source_attribute(expr);
                if source.is_tainted() {
                    return source;
                }
                if let Some(key) = self.access_path(expr, env)
                    && let Some(t) = env.vars.get(&key)
                {
                    return *t;
                }
                self.eval(&a.value, env)
            }
            Expr::Subscript(sub) => {
                let source = self.source_attribute(&sub.value);
                if source.is_tainted() {
                    self.eval(&sub.slice, env);
                    return source.union(Taint::from_source((self.module, sub.range())));
                }
                if let Some(key) = self.access_path(expr, env)
                    && let Some(t) = env.vars.get(&key)
                {
                    return *t;
                }
                self.eval(&sub.slice, env);
                match self.access_path(&sub.value, env) {
                    // A constant key that was never stored: only the container's own taint.
                    Some(base) if self.const_key(&sub.slice, env).is_some() => {
                        env.vars.get(&base).copied().unwrap_or(Taint::CLEAN)
                    }
                    _ => self.eval(&sub.value, env),
                }
            }
            Expr::Call(call) => self.call(call, env),
            Expr::If(e) => match self.const_truth(&e.test, env) {
                Some(true) => self.eval(&e.body, env),
                Some(false) => self.eval(&e.orelse, env),
                None => {
                    self.eval(&e.test, env);
                    let a = self.eval(&e.body, env);
                    let b = self.eval(&e.orelse, env);
                    a.union(b)
                }
            },
            Expr::Compare(c) => {
                self.eval(&c.left, env);
                for comparator in &c.comparators {
                    self.eval(comparator, env);
                }
                Taint::CLEAN
            }
            Expr::BinOp(b) => {
                let l = self.eval(&b.left, env);
                let r = self.eval(&b.right, env);
                // Arithmetic on numbers cannot carry strings; `%` and `+` on strings can.
                if matches!(
                    b.op,
                    Operator::Sub | Operator::Div | Operator::FloorDiv | Operator::Pow
                ) {
                    Taint::CLEAN
                } else {
                    l.union(r)
                }
            }
            Expr::Named(n) => {
                let t = self.eval(&n.value, env);
                self.assign(&n.target, t, Some(&n.value), env);
                t
            }
            Expr::Lambda(_) | Expr::NumberLiteral(_) | Expr::BooleanLiteral(_) => Taint::CLEAN,
            Expr::NoneLiteral(_) | Expr::EllipsisLiteral(_) | Expr::StringLiteral(_) => {
                Taint::CLEAN
            }
            Expr::BytesLiteral(_) => Taint::CLEAN,
            Expr::ListComp(_) | Expr::SetComp(_) | Expr::DictComp(_) | Expr::Generator(_) => {
                self.comprehension(expr, env)
            }
            _ => {
                // Union of the direct sub-expressions (f-strings, collections, await …).
                let mut collector = ChildTaints {
                    analyzer: self,
                    env,
                    taint: Taint::CLEAN,
                };
                walk_expr(&mut collector, expr);
                collector.taint
            }
        }
    }

    fn comprehension(&mut self, expr: &'a Expr, env: &mut Env) -> Taint {
        let (generators, elts): (&'a [ast::Comprehension], Vec<&'a Expr>) = match expr {
            Expr::ListComp(c) => (&c.generators, vec![&*c.elt]),
            Expr::SetComp(c) => (&c.generators, vec![&*c.elt]),
            Expr::Generator(c) => (&c.generators, vec![&*c.elt]),
            Expr::DictComp(c) => (
                &c.generators,
                c.key.as_deref().into_iter().chain([&*c.value]).collect(),
            ),
            _ => return Taint::CLEAN,
        };
        let mut inner = env.clone();
        for g in generators {
            let t = self.eval(&g.iter, &mut inner);
            self.assign(&g.target, t, None, &mut inner);
            for cond in &g.ifs {
                self.eval(cond, &mut inner);
                self.apply_guard(cond, true, &mut inner);
            }
        }
        let mut t = Taint::CLEAN;
        for e in elts {
            t = t.union(self.eval(e, &mut inner));
        }
        t
    }

    fn source_attribute(&self, expr: &Expr) -> Taint {
        match self.imports().qualify(expr) {
            Some(q)
                if (q.imported || !q.name.starts_with("flask."))
                    && self.models().is_source_attribute(&q.name) =>
            {
                Taint::from_source((self.module, expr.range()))
            }
            _ => Taint::CLEAN,
        }
    }

    fn call(&mut self, call: &'a ast::ExprCall, env: &mut Env) -> Taint {
        let args: Vec<Taint> = call
            .arguments
            .args
            .iter()
            .map(|a| self.eval(a, env))
            .collect();
        let kwargs: Vec<(Option<&'a str>, Taint)> = call
            .arguments
            .keywords
            .iter()
            .map(|k| (k.arg.as_ref().map(|a| a.as_str()), self.eval(&k.value, env)))
            .collect();
        let all_args = args
            .iter()
            .chain(kwargs.iter().map(|(_, t)| t))
            .fold(Taint::CLEAN, |acc, t| acc.union(*t));

        let qualified = self.imports().qualify(&call.func);
        let (receiver, method): (Option<&'a Expr>, Option<&'a str>) = match &*call.func {
            Expr::Attribute(a) => (Some(&a.value), Some(a.attr.as_str())),
            _ => (None, None),
        };
        // The receiver is evaluated once: chained calls must not multiply work.
        let receiver_taint = match receiver {
            Some(r) => self.eval(r, env),
            None => Taint::CLEAN,
        };
        // `method:` models apply when the receiver is not a module (or imported object).
        let method_model = if qualified.as_ref().is_some_and(|q| q.imported) {
            None
        } else {
            method
        };
        let qname = qualified.as_ref().map(|q| q.name.as_str());
        let models = self.models();

        // Sources.
        if let Some(q) = &qualified
            && (q.imported || q.name.starts_with("request.") || q.name == "input")
            && models.is_source_call(&q.name)
        {
            return Taint::from_source((self.module, call.range()));
        }

        // Sinks.
        for sink in models.sinks(qname, method_model) {
            self.check_sink(call, sink, &args, &kwargs, receiver, env);
        }

        // Project functions.
        if let Some(result) =
            self.call_project_function(call, qname, &args, &kwargs, receiver, receiver_taint)
        {
            return result;
        }

        // Sanitizers.
        if let Some(sanitizer) = models.sanitizer(qname, method_model)
            && (!sanitizer.when_literal_args || call.arguments.args.iter().all(is_literal))
        {
            let base = match receiver {
                Some(_) if method_model.is_some() => receiver_taint.union(all_args),
                _ => all_args,
            };
            return base.without(sanitizer.removes);
        }
        if models.is_clean_call(qname, method_model) {
            return Taint::CLEAN;
        }

        // Mutators taint their receiver.
        if let (Some(receiver), Some(m)) = (receiver, method_model)
            && models.is_mutator(m)
            && all_args.is_tainted()
            && let Some(key) = self.access_path(receiver, env)
        {
            match (m, call.arguments.args.first()) {
                ("__setitem__" | "setdefault", Some(k)) if self.const_key(k, env).is_some() => {
                    let key = format!("{key}[{}]", self.const_key(k, env).unwrap_or_default());
                    env.vars.insert(key, all_args);
                }
                _ => {
                    let old = env.vars.get(&key).copied().unwrap_or(Taint::CLEAN);
                    env.vars.insert(key, old.union(all_args));
                }
            }
            return Taint::CLEAN;
        }

        // `d.get('k')` reads the entry like `d['k']`.
        if let (Some(receiver), Some("get" | "pop")) = (receiver, method_model)
            && let Some(base) = self.access_path(receiver, env)
            && let Some(k) = call.arguments.args.first()
            && let Some(key) = self.const_key(k, env)
        {
            let entry = format!("{base}[{key}]");
            let default = args.get(1).copied().unwrap_or(Taint::CLEAN);
            if let Some(t) = env.vars.get(&entry) {
                return t.union(default);
            }
            return env
                .vars
                .get(&base)
                .copied()
                .unwrap_or(Taint::CLEAN)
                .union(default);
        }

        // Default propagation: receiver and arguments flow into the result.
        match receiver {
            Some(_) if method_model.is_some() => receiver_taint.union(all_args),
            _ => all_args,
        }
    }

    fn check_sink(
        &mut self,
        call: &'a ast::ExprCall,
        sink: &crate::model::Sink,
        args: &[Taint],
        kwargs: &[(Option<&'a str>, Taint)],
        receiver: Option<&'a Expr>,
        env: &mut Env,
    ) {
        if sink.requires_unsafe_parser && !self.program.modules[self.module].unsafe_xml_parser {
            return;
        }
        if !sink.receiver_contains.is_empty() {
            let text = receiver
                .map(|r| source_text(self.program.modules[self.module].text, r.range()))
                .unwrap_or("");
            let lower = text.to_ascii_lowercase();
            if !sink.receiver_contains.iter().any(|n| lower.contains(n)) {
                return;
            }
        }
        if !sink.unless_kwarg_names.is_empty()
            && call
                .arguments
                .keywords
                .iter()
                .any(|k| mentions_any(&k.value, &sink.unless_kwarg_names))
        {
            return;
        }
        if !sink.unless_kwarg_names.is_empty()
            && call
                .arguments
                .args
                .iter()
                .skip(1)
                .any(|a| mentions_any(a, &sink.unless_kwarg_names))
        {
            return;
        }
        let mut t = Taint::CLEAN;
        for &i in &sink.args {
            if let Some(a) = args.get(i) {
                t = t.union(*a);
            }
        }
        for (name, kt) in kwargs {
            if name.is_some_and(|n| sink.kwargs.iter().any(|k| k == n)) {
                t = t.union(*kt);
            }
        }
        let category = sink.category;
        let qname = self.imports().qualify(&call.func).map(|q| q.name);
        if qname
            .as_deref()
            .is_some_and(|q| q.starts_with("subprocess.") || q == "asyncio.create_subprocess_shell")
        {
            t = self.subprocess_taint(call, t, env);
        }
        let mask_bit = 1u32.checked_shl(category as u32).unwrap_or(0);
        if t.mask & mask_bit == 0 || !t.is_tainted() {
            return;
        }
        let what = qname.unwrap_or_else(|| "call".to_owned());
        self.report(category, t, call.range(), &what);
    }

    /// `subprocess.*`: tainted only when a shell interprets the command, or the program itself
    /// is attacker-chosen; tainted *arguments* of an argument list without a shell are not
    /// command injection.
    fn subprocess_taint(&mut self, call: &'a ast::ExprCall, t: Taint, env: &mut Env) -> Taint {
        let shell = call.arguments.keywords.iter().any(|k| {
            k.arg.as_ref().is_some_and(|a| a.as_str() == "shell")
                && !matches!(&k.value, Expr::BooleanLiteral(b) if !b.value)
                && !matches!(&k.value, Expr::NoneLiteral(_))
        });
        let shell_call = self
            .imports()
            .qualify(&call.func)
            .is_some_and(|q| q.name == "asyncio.create_subprocess_shell");
        if shell || shell_call {
            return t;
        }
        match call.arguments.args.first() {
            Some(Expr::List(l)) => l.elts.first().map_or(Taint::CLEAN, |e| self.eval(e, env)),
            Some(Expr::Tuple(l)) => l.elts.first().map_or(Taint::CLEAN, |e| self.eval(e, env)),
            Some(_) => t,
            None => Taint::CLEAN,
        }
    }

    fn push_flow(&mut self, flow: Flow) {
        if !self
            .flows
            .iter()
            .any(|f| f.at == flow.at && f.category == flow.category)
        {
            self.flows.push(flow);
        }
    }

    fn push_param_sink(&mut self, sink: ParamSink) {
        if !self.param_sinks.contains(&sink) && self.param_sinks.len() < 1024 {
            self.param_sinks.push(sink);
        }
    }

    /// Reports when the value is still dangerous for this category.
    fn report_if(&mut self, category: usize, t: Taint, range: TextRange, what: &str) {
        let bit = 1u32.checked_shl(category as u32).unwrap_or(0);
        if t.mask & bit != 0 && t.is_tainted() {
            self.report(category, t, range, what);
        }
    }

    fn report(&mut self, category: usize, t: Taint, range: TextRange, what: &str) {
        let at = (self.module, range);
        if t.params != 0 && self.summarizing {
            self.push_param_sink(ParamSink {
                params: t.params,
                mask: t.mask,
                category,
                at,
            });
        }
        if t.source && !self.summarizing {
            self.push_flow(Flow {
                category,
                at,
                origin: t.origin,
                sink: what.to_owned(),
            });
        }
    }

    fn call_project_function(
        &mut self,
        call: &'a ast::ExprCall,
        qname: Option<&str>,
        args: &[Taint],
        kwargs: &[(Option<&'a str>, Taint)],
        receiver: Option<&'a Expr>,
        receiver_taint: Taint,
    ) -> Option<Taint> {
        let name = match &*call.func {
            Expr::Name(n) => n.id.as_str(),
            Expr::Attribute(a) => a.attr.as_str(),
            _ => return None,
        };
        let candidates = self.program.by_name.get(name)?;
        let qualified_module = qname.and_then(|q| q.rsplit_once('.').map(|(m, _)| m));
        let mut chosen: Vec<usize> = candidates
            .iter()
            .copied()
            .filter(|&i| {
                let f = &self.program.functions[i];
                let module = &self.program.modules[f.module];
                match &*call.func {
                    Expr::Name(_) => {
                        !f.is_method
                            && (f.module == self.module
                                || qualified_module
                                    .is_some_and(|m| module_matches(&module.name, m)))
                    }
                    _ => {
                        f.is_method
                            || qualified_module.is_some_and(|m| module_matches(&module.name, m))
                    }
                }
            })
            .collect();
        if chosen.is_empty() {
            if let Expr::Name(_) = &*call.func
                && qname.is_some_and(|q| q.contains('.'))
            {
                // Imported from a module we could not place: any non-method of that name.
                chosen = candidates
                    .iter()
                    .copied()
                    .filter(|&i| !self.program.functions[i].is_method)
                    .collect();
            }
            if chosen.is_empty() {
                return None;
            }
        }
        // `obj.method()` on an object of unknown type: trust the name only when one definition
        // exists in the whole program; `self.method()` resolves within the module.
        let self_call = receiver
            .is_some_and(|r| matches!(r, Expr::Name(n) if matches!(n.id.as_str(), "self" | "cls")));
        let receiver_is_module = qualified_module.is_some_and(|m| self.imports().imports_from(m));
        if receiver.is_some() && !receiver_is_module {
            if self_call {
                chosen.retain(|&i| self.program.functions[i].module == self.module);
            } else if chosen.len() > 1 {
                return None;
            }
            if chosen.is_empty() {
                return None;
            }
        }
        if chosen.len() > MAX_CANDIDATES {
            // A common method name (`get`, `save`): prefer definitions in this module; when
            // still ambiguous the call is treated as an unknown library call.
            chosen.retain(|&i| self.program.functions[i].module == self.module);
            if chosen.is_empty() || chosen.len() > MAX_CANDIDATES {
                return None;
            }
        }
        let mut result = Taint::CLEAN;
        let mut new_param_sinks = Vec::new();
        for index in chosen {
            self.called.push(index);
            let f = &self.program.functions[index];
            let summary = &self.summaries[index];
            let shift = usize::from(f.is_method && receiver.is_some());
            // Map the call's arguments onto the callee's parameters.
            let mut param_taints = vec![Taint::CLEAN; f.params.len()];
            if shift == 1 && !param_taints.is_empty() {
                param_taints[0] = receiver_taint;
            }
            for (i, t) in args.iter().enumerate() {
                if let Some(slot) = param_taints.get_mut(i + shift) {
                    *slot = *t;
                } else if let Some(last) = param_taints.last_mut() {
                    *last = last.union(*t); // *args
                }
            }
            for (name, t) in kwargs {
                match name.and_then(|n| f.params.iter().position(|p| p == n)) {
                    Some(p) => param_taints[p] = param_taints[p].union(*t),
                    None => {
                        if let Some(last) = param_taints.last_mut() {
                            *last = last.union(*t); // **kwargs
                        }
                    }
                }
            }
            // Return value.
            let mut ret = Taint::CLEAN;
            if summary.ret.source {
                ret = ret.union(Taint {
                    mask: summary.ret.mask,
                    source: true,
                    params: 0,
                    origin: Some((f.module, f.def.range)),
                });
            }
            for (i, pt) in param_taints.iter().enumerate() {
                if i < 64 && summary.ret.params & (1 << i) != 0 {
                    ret = ret.union(pt.without(!summary.ret.mask));
                }
            }
            result = result.union(ret);
            // Sinks inside the callee reached by our arguments.
            for sink in &summary.param_sinks {
                let mut t = Taint::CLEAN;
                for (i, pt) in param_taints.iter().enumerate() {
                    if i < 64 && sink.params & (1 << i) != 0 {
                        t = t.union(pt.without(!sink.mask));
                    }
                }
                let bit = 1u32.checked_shl(sink.category as u32).unwrap_or(0);
                if t.mask & bit == 0 || !t.is_tainted() {
                    continue;
                }
                if t.params != 0 && self.summarizing {
                    new_param_sinks.push(ParamSink {
                        params: t.params,
                        mask: t.mask,
                        category: sink.category,
                        at: sink.at,
                    });
                }
                if t.source && !self.summarizing {
                    let callee = f.def.name.as_str().to_owned();
                    self.push_flow(Flow {
                        category: sink.category,
                        at: sink.at,
                        origin: t.origin,
                        sink: format!(
                            "sink inside `{callee}` (called at offset {})",
                            u32::from(call.range().start())
                        ),
                    });
                }
            }
        }
        for sink in new_param_sinks {
            self.push_param_sink(sink);
        }
        Some(result)
    }

    // ------------------------------------------------------------------ helpers

    /// The environment key of an assignable expression: `x`, `self.a.b`, `d['k']`.
    fn access_path(&self, expr: &Expr, env: &Env) -> Option<String> {
        match expr {
            Expr::Name(n) => Some(n.id.as_str().to_owned()),
            Expr::Attribute(a) => {
                let base = self.access_path(&a.value, env)?;
                Some(format!("{base}.{}", a.attr.as_str()))
            }
            Expr::Subscript(s) => {
                let base = self.access_path(&s.value, env)?;
                let key = self.const_key(&s.slice, env)?;
                Some(format!("{base}[{key}]"))
            }
            _ => None,
        }
    }

    fn const_key(&self, expr: &Expr, env: &Env) -> Option<String> {
        match self.const_eval(expr, env)? {
            Const::Str(s) => Some(format!("{s:?}")),
            Const::Int(i) => Some(i.to_string()),
            Const::Bool(b) => Some(b.to_string()),
        }
    }

    fn const_truth(&self, expr: &Expr, env: &Env) -> Option<bool> {
        match self.const_eval(expr, env)? {
            Const::Bool(b) => Some(b),
            Const::Int(i) => Some(i != 0),
            Const::Str(s) => Some(!s.is_empty()),
        }
    }

    fn const_eval(&self, expr: &Expr, env: &Env) -> Option<Const> {
        match expr {
            Expr::NumberLiteral(n) => match &n.value {
                Number::Int(i) => i.as_i64().map(Const::Int),
                _ => None,
            },
            Expr::StringLiteral(s) => Some(Const::Str(s.value.to_str().to_owned())),
            Expr::BooleanLiteral(b) => Some(Const::Bool(b.value)),
            Expr::Name(n) => env.consts.get(n.id.as_str()).cloned(),
            Expr::UnaryOp(u) => match (u.op, self.const_eval(&u.operand, env)?) {
                (UnaryOp::Not, c) => Some(Const::Bool(!truthy(&c))),
                (UnaryOp::USub, Const::Int(i)) => i.checked_neg().map(Const::Int),
                _ => None,
            },
            Expr::BinOp(b) => {
                let l = self.const_eval(&b.left, env)?;
                let r = self.const_eval(&b.right, env)?;
                match (l, r) {
                    (Const::Int(l), Const::Int(r)) => match b.op {
                        Operator::Add => l.checked_add(r),
                        Operator::Sub => l.checked_sub(r),
                        Operator::Mult => l.checked_mul(r),
                        Operator::FloorDiv if r != 0 => Some(l.div_euclid(r)),
                        Operator::Mod if r != 0 => Some(l.rem_euclid(r)),
                        _ => None,
                    }
                    .map(Const::Int),
                    (Const::Str(l), Const::Str(r)) if b.op == Operator::Add => {
                        (l.len() + r.len() <= 4096).then(|| Const::Str(l + &r))
                    }
                    _ => None,
                }
            }
            Expr::Compare(c) if c.ops.len() == 1 => {
                let l = self.const_eval(&c.left, env)?;
                let r = self.const_eval(&c.comparators[0], env)?;
                let ord = match (&l, &r) {
                    (Const::Int(a), Const::Int(b)) => a.cmp(b),
                    (Const::Str(a), Const::Str(b)) => a.cmp(b),
                    (Const::Bool(a), Const::Bool(b)) => a.cmp(b),
                    _ => return None,
                };
                use std::cmp::Ordering::*;
                Some(Const::Bool(match c.ops[0] {
                    CmpOp::Eq => ord == Equal,
                    CmpOp::NotEq => ord != Equal,
                    CmpOp::Lt => ord == Less,
                    CmpOp::LtE => ord != Greater,
                    CmpOp::Gt => ord == Greater,
                    CmpOp::GtE => ord != Less,
                    _ => return None,
                }))
            }
            Expr::BoolOp(b) => {
                let mut values = Vec::with_capacity(b.values.len());
                for v in &b.values {
                    values.push(truthy(&self.const_eval(v, env)?));
                }
                Some(Const::Bool(match b.op {
                    BoolOp::And => values.iter().all(|v| *v),
                    BoolOp::Or => values.iter().any(|v| *v),
                }))
            }
            Expr::Subscript(s) => {
                let Const::Str(base) = self.const_eval(&s.value, env)? else {
                    return None;
                };
                let Const::Int(i) = self.const_eval(&s.slice, env)? else {
                    return None;
                };
                let chars: Vec<char> = base.chars().collect();
                let idx = if i < 0 { chars.len() as i64 + i } else { i };
                chars
                    .get(usize::try_from(idx).ok()?)
                    .map(|c| Const::Str(c.to_string()))
            }
            _ => None,
        }
    }
}

/// `x.attr` and `x[...]` are members of `x`.
fn is_member_of(path: &str, base: &str) -> bool {
    path.len() > base.len()
        && path.starts_with(base)
        && matches!(path.as_bytes()[base.len()], b'.' | b'[')
}

fn truthy(c: &Const) -> bool {
    match c {
        Const::Bool(b) => *b,
        Const::Int(i) => *i != 0,
        Const::Str(s) => !s.is_empty(),
    }
}

fn merge_into(merged: &mut Option<Env>, env: &Env) {
    match merged {
        Some(m) => m.merge(env),
        None => *merged = Some(env.clone()),
    }
}

fn module_matches(module: &str, wanted: &str) -> bool {
    module == wanted
        || module.ends_with(&format!(".{wanted}"))
        || wanted.ends_with(&format!(".{module}"))
        || wanted.trim_start_matches('.') == module.rsplit('.').next().unwrap_or(module)
}

fn is_literal(expr: &Expr) -> bool {
    matches!(
        expr,
        Expr::StringLiteral(_)
            | Expr::NumberLiteral(_)
            | Expr::BooleanLiteral(_)
            | Expr::NoneLiteral(_)
            | Expr::BytesLiteral(_)
    )
}

/// `x in ("a", "b")`, `x in ALLOWED` (an upper-case module constant).
fn is_allow_list(expr: &Expr, env: &Env) -> bool {
    match expr {
        Expr::List(l) => l.elts.iter().all(is_literal),
        Expr::Tuple(l) => l.elts.iter().all(is_literal),
        Expr::Set(l) => l.elts.iter().all(is_literal),
        Expr::Dict(d) => d
            .items
            .iter()
            .all(|i| i.key.as_ref().is_some_and(is_literal)),
        Expr::Name(n) => {
            let id = n.id.as_str();
            (id.chars().any(|c| c.is_ascii_uppercase())
                && !id.chars().any(|c| c.is_ascii_lowercase()))
                || !env.vars.get(id).is_some_and(|t| t.is_tainted())
        }
        _ => false,
    }
}

fn is_terminating_call(expr: &Expr) -> bool {
    let Expr::Call(call) = expr else { return false };
    let name = match &*call.func {
        Expr::Name(n) => n.id.as_str(),
        Expr::Attribute(a) => a.attr.as_str(),
        _ => return false,
    };
    matches!(name, "abort" | "exit" | "_exit" | "abort_with")
}

fn source_text(text: &str, range: TextRange) -> &str {
    text.get(usize::from(range.start())..usize::from(range.end()))
        .unwrap_or("")
}

struct ChildTaints<'x, 's, 'p, 'a> {
    analyzer: &'x mut Analyzer<'s, 'p, 'a>,
    env: &'x mut Env,
    taint: Taint,
}

impl<'a> Visitor<'a> for ChildTaints<'_, '_, '_, 'a> {
    fn visit_expr(&mut self, expr: &'a Expr) {
        let t = self.analyzer.eval(expr, self.env);
        self.taint = self.taint.union(t);
    }
}
