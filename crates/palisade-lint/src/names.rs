//! Name resolution: which module a local name refers to, so `from flask import request as r`
//! makes `r.args` the qualified name `flask.request.args`.

use std::collections::HashMap;

use ruff_python_ast::{Expr, Stmt};

/// The names a module's imports bind, anywhere in the module (imports inside functions count
/// too: a name is rarely rebound to something else).
#[derive(Debug, Default, Clone)]
pub struct ImportMap {
    bound: HashMap<String, String>,
}

impl ImportMap {
    /// Collects every import of a module body.
    pub fn from_module(body: &[Stmt]) -> Self {
        let mut map = ImportMap::default();
        map.collect(body);
        map
    }

    fn collect(&mut self, body: &[Stmt]) {
        for stmt in body {
            match stmt {
                Stmt::Import(import) => {
                    for alias in &import.names {
                        let full = alias.name.as_str();
                        match &alias.asname {
                            Some(asname) => {
                                self.bound
                                    .insert(asname.as_str().to_owned(), full.to_owned());
                            }
                            None => {
                                let first = full.split('.').next().unwrap_or(full);
                                self.bound.insert(first.to_owned(), first.to_owned());
                            }
                        }
                    }
                }
                Stmt::ImportFrom(import) => {
                    let module = import.module.as_ref().map(|m| m.as_str()).unwrap_or("");
                    for alias in &import.names {
                        let name = alias.name.as_str();
                        if name == "*" {
                            continue;
                        }
                        let local = alias.asname.as_ref().map_or(name, |a| a.as_str());
                        let full = if module.is_empty() {
                            name.to_owned()
                        } else {
                            format!("{module}.{name}")
                        };
                        self.bound.insert(local.to_owned(), full);
                    }
                }
                Stmt::FunctionDef(f) => self.collect(&f.body),
                Stmt::ClassDef(c) => self.collect(&c.body),
                Stmt::If(s) => {
                    self.collect(&s.body);
                    for clause in &s.elif_else_clauses {
                        self.collect(&clause.body);
                    }
                }
                Stmt::Try(s) => {
                    self.collect(&s.body);
                    for handler in &s.handlers {
                        let ruff_python_ast::ExceptHandler::ExceptHandler(h) = handler;
                        self.collect(&h.body);
                    }
                    self.collect(&s.orelse);
                    self.collect(&s.finalbody);
                }
                Stmt::With(s) => self.collect(&s.body),
                _ => {}
            }
        }
    }

    /// Whether any import binds a name from this module (`flask` for `from flask import request`).
    pub fn imports_from(&self, module: &str) -> bool {
        self.bound
            .values()
            .any(|full| is_dotted_prefix(module, full))
    }

    /// The qualified name a local name is bound to by an import.
    pub fn resolve(&self, local: &str) -> Option<&str> {
        self.bound.get(local).map(String::as_str)
    }

    /// The dotted qualified name of a `Name`/`Attribute` chain (calls and subscripts in the
    /// chain are looked through: `request.args.get("q")` → `flask.request.args.get`), and
    /// whether its first segment came from an import (a module or imported object rather than
    /// a local variable).
    pub fn qualify(&self, expr: &Expr) -> Option<Qualified> {
        let mut segments: Vec<&str> = Vec::new();
        let mut current = expr;
        let root = loop {
            match current {
                Expr::Name(name) => break name.id.as_str(),
                Expr::Attribute(attr) => {
                    segments.push(attr.attr.as_str());
                    current = &attr.value;
                }
                Expr::Call(call) => current = &call.func,
                Expr::Subscript(sub) => current = &sub.value,
                _ => return None,
            }
            if segments.len() > 64 {
                return None;
            }
        };
        let (head, imported) = match self.resolve(root) {
            Some(full) => (full, true),
            None => (root, false),
        };
        let mut name = String::with_capacity(head.len() + segments.len() * 8);
        name.push_str(head);
        for segment in segments.iter().rev() {
            name.push('.');
            name.push_str(segment);
        }
        Some(Qualified { name, imported })
    }
}

/// `a.b` is a dotted prefix of `a.b` and `a.b.c`, not of `a.bc`.
pub(crate) fn is_dotted_prefix(prefix: &str, name: &str) -> bool {
    name.starts_with(prefix)
        && (name.len() == prefix.len() || name.as_bytes()[prefix.len()] == b'.')
}

/// A resolved dotted name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Qualified {
    /// `flask.request.args.get`
    pub name: String,
    /// The first segment came from an import.
    pub imported: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first_expr(src: &str) -> (ImportMap, Expr) {
        let parsed = ruff_python_parser::parse_module(src).unwrap();
        let module = parsed.into_syntax();
        let map = ImportMap::from_module(&module.body);
        let Stmt::Expr(e) = module.body.last().unwrap().clone() else {
            panic!("last statement is an expression");
        };
        (map, *e.value)
    }

    #[test]
    fn aliases_and_from_imports_qualify() {
        let (map, e) = first_expr("from flask import request as r\nr.args.get('q')\n");
        let q = map.qualify(&e).unwrap();
        assert_eq!(q.name, "flask.request.args.get");
        assert!(q.imported);
        let (map, e) = first_expr("import os.path\nos.path.join(a, b)\n");
        assert_eq!(map.qualify(&e).unwrap().name, "os.path.join");
        let (map, e) = first_expr("import subprocess as sp\nsp.call(x)\n");
        assert_eq!(map.qualify(&e).unwrap().name, "subprocess.call");
        let (map, e) = first_expr("cursor.execute(q)\n");
        let q = map.qualify(&e).unwrap();
        assert_eq!(q.name, "cursor.execute");
        assert!(!q.imported);
    }
}
