//! OpenAPI 3 and Swagger 2.0 import (`palisade scan --openapi FILE|URL`): the operations a
//! document describes become scan targets, so endpoints no page links to are tested too. Each
//! `get`, `post`, `put` and `patch` operation (never `delete`) gives a target at the first
//! server's URL (OpenAPI 3; `{variables}` at their defaults) or at `host` and `basePath`
//! (Swagger 2.0; the first of `schemes`), resolved against the start URL or the document's
//! URL, plus the path: query, path, header and cookie parameters, and the request body — a
//! JSON object's top-level properties, an XML document, form fields or multipart parts
//! (OpenAPI 3 `requestBody` by media type; Swagger 2.0 `in: body` by the operation's or the
//! document's `consumes`, `in: formData` as form fields, multipart when `consumes` says so or
//! a field is a `file`) — with values from the document (`example`, `examples`, `default`,
//! the first `enum` value) or fitting the schema's type and format. Local `$ref`s
//! (`#/components/…`, `#/definitions/…`, `#/parameters/…`) are followed; remote ones are not
//! fetched. Operations without parameters are crawled as pages.
//!
//! Bounded: 2 MiB of document, nesting depth 64 (YAML through serde-saphyr's budget: 64
//! levels, 250,000 nodes, alias expansion limits), 2,000 operations, 200 parameters per
//! operation and 16 `$ref` hops per reference; more is cut off and reported as a warning.

use serde_json::{Map, Value, json};
use url::Url;

use crate::error::ScanError;
use crate::extract;
use crate::target::{Location, Param, Target, XML_BODY};

/// Most bytes of a document.
pub const MAX_DOCUMENT_BYTES: usize = 2 * 1024 * 1024;
/// Deepest nesting of a document.
pub const MAX_DEPTH: usize = 64;
/// Most operations imported.
pub const MAX_OPERATIONS: usize = 2_000;
/// Most parameters (body fields included) per operation.
pub const MAX_PARAMS: usize = 200;
/// Most `$ref` hops followed for one reference.
const MAX_REF_HOPS: usize = 16;
/// Operations imported (`delete` never is: a scan must not delete data to test it).
const METHODS: [&str; 4] = ["get", "post", "put", "patch"];

/// What a document adds to a scan.
#[derive(Debug, Default, Clone)]
pub struct Api {
    /// Operations with parameters or a body.
    pub targets: Vec<Target>,
    /// `GET` operations without parameters: crawled as pages.
    pub pages: Vec<Url>,
    /// What was cut off or not understood.
    pub warnings: Vec<String>,
}

/// Reads a document from a file, refusing more than [`MAX_DOCUMENT_BYTES`].
pub fn read_file(path: &std::path::Path) -> Result<String, ScanError> {
    use std::io::Read as _;
    let file = std::fs::File::open(path).map_err(|e| ScanError::io(path, &e))?;
    let mut text = String::new();
    file.take(MAX_DOCUMENT_BYTES as u64 + 1)
        .read_to_string(&mut text)
        .map_err(|e| ScanError::io(path, &e))?;
    if text.len() > MAX_DOCUMENT_BYTES {
        return Err(ScanError::openapi(format!(
            "{} is larger than {MAX_DOCUMENT_BYTES} bytes",
            path.display()
        )));
    }
    Ok(text)
}

/// Fetches a document with the scan's client (its budget, rate limit and credentials).
pub fn fetch(client: &crate::http::Client, url: &Url) -> Result<String, ScanError> {
    let exchange = client.send(&crate::http::Request::get(url.clone()))?;
    if exchange.status != 200 {
        return Err(ScanError::openapi(format!(
            "{url} answered HTTP {}",
            exchange.status
        )));
    }
    let limit = client
        .config()
        .max_body_bytes
        .min(MAX_DOCUMENT_BYTES as u64);
    if exchange.body.len() as u64 >= limit {
        return Err(ScanError::openapi(format!(
            "{url} is larger than {limit} bytes"
        )));
    }
    Ok(exchange.body)
}

/// Parses an OpenAPI 3.x or Swagger 2.0 document (JSON or YAML); relative server URLs
/// resolve against `base`.
pub fn parse(text: &str, base: &Url) -> Result<Api, ScanError> {
    if text.len() > MAX_DOCUMENT_BYTES {
        return Err(ScanError::openapi(format!(
            "the document is larger than {MAX_DOCUMENT_BYTES} bytes"
        )));
    }
    let document: Value = if text.trim_start().starts_with('{') {
        serde_json::from_str(text).map_err(|e| ScanError::openapi(e.to_string()))?
    } else {
        serde_saphyr::from_str(text).map_err(|e| ScanError::openapi(e.to_string()))?
    };
    if depth(&document) > MAX_DEPTH {
        return Err(ScanError::openapi(format!(
            "the document nests deeper than {MAX_DEPTH} levels"
        )));
    }
    let version = |key: &str| document.get(key).and_then(Value::as_str).unwrap_or("");
    let swagger2 = version("swagger") == "2.0";
    if !swagger2 && !version("openapi").starts_with("3.") {
        return Err(ScanError::openapi(
            "not an OpenAPI 3 (`openapi: 3.x`) or Swagger 2.0 (`swagger: \"2.0\"`) document",
        ));
    }
    let server = if swagger2 {
        swagger_base_url(&document, base)?
    } else {
        server_url(&document, base)?
    };
    let mut api = Api::default();
    let Some(paths) = document.get("paths").and_then(Value::as_object) else {
        return Ok(api);
    };
    let mut operations = 0;
    'paths: for (path, item) in paths {
        let item = resolve(&document, item);
        for method in METHODS {
            let Some(operation) = item.get(method) else {
                continue;
            };
            operations += 1;
            if operations > MAX_OPERATIONS {
                api.warnings.push(format!(
                    "more than {MAX_OPERATIONS} operations: the rest is not scanned"
                ));
                break 'paths;
            }
            let Some(url) = join(&server, path) else {
                api.warnings.push(format!("{path}: not a path"));
                continue;
            };
            let operation = Operation {
                document: &document,
                swagger2,
                method,
                path,
                item,
                operation: resolve(&document, operation),
            };
            let mut params = operation.parameters();
            params.extend(operation.body(&mut api.warnings));
            if params.len() > MAX_PARAMS {
                api.warnings.push(format!(
                    "{} {path}: more than {MAX_PARAMS} parameters, the rest is not scanned",
                    method.to_ascii_uppercase()
                ));
                params.truncate(MAX_PARAMS);
            }
            if params.is_empty() {
                if method == "get" {
                    api.pages.push(url);
                }
                continue;
            }
            api.targets.push(Target {
                method: method.to_ascii_uppercase(),
                url,
                params,
            });
        }
    }
    Ok(api)
}

/// The first server's URL with its variables at their defaults, against `base`.
fn server_url(document: &Value, base: &Url) -> Result<Url, ScanError> {
    let server = document
        .get("servers")
        .and_then(|s| s.get(0))
        .unwrap_or(&Value::Null);
    let mut text = server
        .get("url")
        .and_then(Value::as_str)
        .unwrap_or("/")
        .to_owned();
    if let Some(variables) = server.get("variables").and_then(Value::as_object) {
        for (name, variable) in variables.iter().take(MAX_PARAMS) {
            let default = variable.get("default").map(scalar).unwrap_or_default();
            text = text.replace(&format!("{{{name}}}"), &default);
        }
    }
    base.join(&text)
        .map_err(|e| ScanError::openapi(format!("server URL {text:?}: {e}")))
}

/// Swagger 2.0's base URL: `host` (with the first of `schemes`, else `base`'s scheme) and
/// `basePath`, against `base`; without `host`, `basePath` on `base`'s host.
fn swagger_base_url(document: &Value, base: &Url) -> Result<Url, ScanError> {
    let path = document
        .get("basePath")
        .and_then(Value::as_str)
        .filter(|p| p.starts_with('/'))
        .unwrap_or("/");
    let text = match document.get("host").and_then(Value::as_str) {
        Some(host) if !host.is_empty() => {
            let scheme = document
                .get("schemes")
                .and_then(Value::as_array)
                .and_then(|schemes| {
                    schemes
                        .iter()
                        .filter_map(Value::as_str)
                        .find(|s| matches!(*s, "http" | "https"))
                })
                .unwrap_or(base.scheme());
            format!("{scheme}://{host}{path}")
        }
        _ => path.to_owned(),
    };
    base.join(&text)
        .map_err(|e| ScanError::openapi(format!("host and basePath {text:?}: {e}")))
}

/// `server` followed by the operation's `path` (which keeps its `{parameter}` placeholders,
/// percent-encoded by the URL parser).
fn join(server: &Url, path: &str) -> Option<Url> {
    if !path.starts_with('/') {
        return None;
    }
    let mut url = server.clone();
    let prefix = server.path().trim_end_matches('/');
    url.set_path(&format!("{prefix}{path}"));
    url.set_query(None);
    url.set_fragment(None);
    Some(url)
}

/// The nesting depth of a value.
fn depth(value: &Value) -> usize {
    // Iterative: a hostile document cannot exhaust the stack here.
    let mut deepest = 0;
    let mut stack = vec![(value, 1)];
    while let Some((value, level)) = stack.pop() {
        deepest = deepest.max(level);
        if level > MAX_DEPTH {
            break;
        }
        match value {
            Value::Array(items) => stack.extend(items.iter().map(|v| (v, level + 1))),
            Value::Object(map) => stack.extend(map.values().map(|v| (v, level + 1))),
            _ => {}
        }
    }
    deepest
}

/// `value`, or what its local `$ref` points at (followed up to [`MAX_REF_HOPS`] times; a
/// reference that does not resolve is an empty object).
fn resolve<'a>(document: &'a Value, mut value: &'a Value) -> &'a Value {
    static EMPTY: Value = Value::Null;
    for _ in 0..MAX_REF_HOPS {
        let Some(reference) = value.get("$ref").and_then(Value::as_str) else {
            return value;
        };
        match reference
            .strip_prefix('#')
            .and_then(|pointer| document.pointer(pointer))
        {
            Some(target) => value = target,
            None => return &EMPTY,
        }
    }
    &EMPTY
}

/// A JSON scalar as parameter text (strings unquoted).
fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// One operation being imported.
struct Operation<'a> {
    document: &'a Value,
    /// A Swagger 2.0 document: parameters carry their type themselves, bodies are `in: body`
    /// and `in: formData` parameters.
    swagger2: bool,
    method: &'a str,
    path: &'a str,
    item: &'a Value,
    operation: &'a Value,
}

impl Operation<'_> {
    /// Path-item and operation parameters, resolved (the operation's win for the same name
    /// and place).
    fn declared(&self) -> Vec<Value> {
        let listed = |value: &Value| -> Vec<Value> {
            value
                .get("parameters")
                .and_then(Value::as_array)
                .map(|list| {
                    list.iter()
                        .take(MAX_PARAMS)
                        .map(|p| resolve(self.document, p).clone())
                        .collect()
                })
                .unwrap_or_default()
        };
        let own = listed(self.operation);
        let mut declared: Vec<Value> = listed(self.item)
            .into_iter()
            .filter(|p| !own.iter().any(|o| name_and_place(o) == name_and_place(p)))
            .collect();
        declared.extend(own);
        declared
    }

    /// Query, path, header and cookie parameters.
    fn parameters(&self) -> Vec<Param> {
        let mut params: Vec<Param> = Vec::new();
        for parameter in &self.declared() {
            let (name, place) = name_and_place(parameter);
            let location = match place.as_str() {
                "query" => Location::Query,
                "path" => Location::Path,
                "header" => Location::Header,
                "cookie" => Location::Cookie,
                _ => continue,
            };
            if name.is_empty()
                || (location == Location::Path && !self.path.contains(&format!("{{{name}}}")))
            {
                continue;
            }
            // A Swagger 2.0 parameter (other than `in: body`) is its own schema.
            let schema = parameter
                .get("schema")
                .map(|s| resolve(self.document, s))
                .or(self.swagger2.then_some(parameter));
            let value = documented_example(parameter)
                .or_else(|| schema.and_then(documented_example))
                .map(|v| scalar(&v))
                .unwrap_or_else(|| typed_default(schema.unwrap_or(&Value::Null), &name));
            params.push(Param {
                kind: match location {
                    Location::Path => "path",
                    Location::Header => "header",
                    Location::Cookie => "cookie",
                    _ => "query",
                }
                .into(),
                name,
                value,
                location,
            });
        }
        params
    }

    /// The request body's fields: a JSON object's properties, an XML document, form fields,
    /// multipart parts.
    fn body(&self, warnings: &mut Vec<String>) -> Vec<Param> {
        if self.swagger2 {
            return self.swagger_body(warnings);
        }
        let Some(body) = self.operation.get("requestBody") else {
            return Vec::new();
        };
        let body = resolve(self.document, body);
        let Some(content) = body.get("content").and_then(Value::as_object) else {
            return Vec::new();
        };
        let pick = |wanted: &dyn Fn(&str) -> bool| {
            content
                .iter()
                .find(|(media, _)| wanted(&media.to_ascii_lowercase()))
        };
        if let Some((_, media)) = pick(&|m| m == "application/json" || m.ends_with("+json")) {
            return self.json_fields(media);
        }
        if let Some((media_type, media)) = pick(&|m| m.ends_with("/xml") || m.ends_with("+xml")) {
            return vec![Param {
                name: XML_BODY.into(),
                value: self.xml_document(media),
                location: Location::XmlBody,
                kind: media_type.to_ascii_lowercase(),
            }];
        }
        if let Some((_, media)) = pick(&|m| m == "application/x-www-form-urlencoded") {
            return self
                .properties(media)
                .into_iter()
                .map(|(name, value)| Param {
                    name,
                    value: scalar(&value),
                    location: Location::Body,
                    kind: "text".into(),
                })
                .collect();
        }
        if let Some((_, media)) = pick(&|m| m == "multipart/form-data") {
            let schema = media
                .get("schema")
                .map_or(&Value::Null, |s| resolve(self.document, s));
            return self
                .properties(media)
                .into_iter()
                .map(|(name, value)| {
                    let format = schema
                        .get("properties")
                        .and_then(|p| p.get(&name))
                        .map(|p| resolve(self.document, p))
                        .and_then(|p| p.get("format"))
                        .and_then(Value::as_str);
                    let file = matches!(format, Some("binary" | "base64"));
                    let value = if file {
                        extract::default_for("file", &name)
                    } else {
                        scalar(&value)
                    };
                    part(name, value, file)
                })
                .collect();
        }
        self.no_body(warnings)
    }

    fn no_body(&self, warnings: &mut Vec<String>) -> Vec<Param> {
        warnings.push(format!(
            "{} {}: no JSON, XML, form or multipart request body; the body is not scanned",
            self.method.to_ascii_uppercase(),
            self.path
        ));
        Vec::new()
    }

    /// A Swagger 2.0 body: `in: formData` parameters (multipart parts when the operation
    /// consumes `multipart/form-data` or one is a `file`, else form fields), or the `in: body`
    /// parameter's schema as JSON (unless `consumes` names only XML types) or XML.
    fn swagger_body(&self, warnings: &mut Vec<String>) -> Vec<Param> {
        let declared = self.declared();
        let consumes: Vec<String> = self
            .operation
            .get("consumes")
            .or_else(|| self.document.get("consumes"))
            .and_then(Value::as_array)
            .map(|types| {
                types
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_ascii_lowercase)
                    .collect()
            })
            .unwrap_or_default();
        let form: Vec<&Value> = declared
            .iter()
            .filter(|p| name_and_place(p).1 == "formData")
            .collect();
        let is_file = |p: &Value| p.get("type").and_then(Value::as_str) == Some("file");
        if !form.is_empty() {
            let multipart = consumes.iter().any(|c| c == "multipart/form-data")
                || form.iter().any(|p| is_file(p));
            return form
                .into_iter()
                .filter_map(|parameter| {
                    let (name, _) = name_and_place(parameter);
                    if name.is_empty() {
                        return None;
                    }
                    if is_file(parameter) {
                        let content = extract::default_for("file", &name);
                        return Some(part(name, content, true));
                    }
                    let value = documented_example(parameter)
                        .map(|v| scalar(&v))
                        .unwrap_or_else(|| typed_default(parameter, &name));
                    Some(if multipart {
                        part(name, value, false)
                    } else {
                        Param {
                            name,
                            value,
                            location: Location::Body,
                            kind: "text".into(),
                        }
                    })
                })
                .collect();
        }
        let Some(body) = declared.iter().find(|p| name_and_place(p).1 == "body") else {
            return Vec::new();
        };
        let media = json!({"schema": body.get("schema").cloned().unwrap_or(Value::Null)});
        let is_json = |m: &String| m == "application/json" || m.ends_with("+json");
        let xml = consumes
            .iter()
            .find(|m| m.ends_with("/xml") || m.ends_with("+xml"));
        match xml {
            Some(media_type) if !consumes.iter().any(is_json) => vec![Param {
                name: XML_BODY.into(),
                value: self.xml_document(&media),
                location: Location::XmlBody,
                kind: media_type.clone(),
            }],
            _ if consumes.is_empty() || consumes.iter().any(is_json) => self.json_fields(&media),
            _ => self.no_body(warnings),
        }
    }

    /// The body's top-level fields with example values: the media type's example object, else
    /// the schema's properties.
    fn properties(&self, media: &Value) -> Vec<(String, Value)> {
        let example = documented_example(media).and_then(|v| match v {
            Value::Object(map) => Some(map),
            _ => None,
        });
        if let Some(map) = example {
            return map.into_iter().take(MAX_PARAMS).collect();
        }
        let schema = media
            .get("schema")
            .map_or(&Value::Null, |s| resolve(self.document, s));
        match schema_example(self.document, schema, "body", 0) {
            Value::Object(map) => map.into_iter().take(MAX_PARAMS).collect(),
            _ => Vec::new(),
        }
    }

    fn json_fields(&self, media: &Value) -> Vec<Param> {
        self.properties(media)
            .into_iter()
            .map(|(name, value)| {
                let kind = match &value {
                    Value::String(_) => "json-string",
                    Value::Number(_) => "json-number",
                    Value::Bool(_) => "json-boolean",
                    _ => "json-raw",
                };
                Param {
                    name,
                    value: scalar(&value),
                    location: Location::JsonField,
                    kind: kind.into(),
                }
            })
            .collect()
    }

    /// The media type's example document, else one built from the schema: the root element
    /// named by `xml.name` (or the schema's component name, or `root`) with an element per
    /// property.
    fn xml_document(&self, media: &Value) -> String {
        if let Some(Value::String(example)) = documented_example(media)
            && example.trim_start().starts_with('<')
        {
            return example;
        }
        let raw_schema = media.get("schema").unwrap_or(&Value::Null);
        let schema = resolve(self.document, raw_schema);
        let root = schema
            .pointer("/xml/name")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| {
                raw_schema
                    .get("$ref")
                    .and_then(Value::as_str)
                    .and_then(|r| r.rsplit('/').next())
                    .map(str::to_owned)
            })
            .filter(|name| is_xml_name(name))
            .unwrap_or_else(|| "root".into());
        let mut document = format!("<{root}>");
        match schema_example(self.document, schema, &root, 0) {
            Value::Object(map) => {
                for (name, value) in map.iter().take(MAX_PARAMS).filter(|(n, _)| is_xml_name(n)) {
                    let text = crate::report::escape_markup(&scalar(value));
                    document.push_str(&format!("<{name}>{text}</{name}>"));
                }
            }
            value => document.push_str(&crate::report::escape_markup(&scalar(&value))),
        }
        document.push_str(&format!("</{root}>"));
        document
    }
}

/// A parameter's `name` and `in`.
fn name_and_place(parameter: &Value) -> (String, String) {
    let text = |key: &str| {
        parameter
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    (text("name"), text("in"))
}

/// A multipart part; a `file` part's value is the file's content.
fn part(name: String, value: String, file: bool) -> Param {
    Param {
        name,
        value,
        location: Location::Multipart,
        kind: if file { "file" } else { "text" }.into(),
    }
}

fn is_xml_name(name: &str) -> bool {
    name.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// `example`, the first of `examples` (a map of `{value}` in parameters and media types, a
/// list in schemas), `default`, or the first `enum` value.
fn documented_example(value: &Value) -> Option<Value> {
    if let Some(example) = value.get("example") {
        return Some(example.clone());
    }
    match value.get("examples") {
        Some(Value::Object(map)) => {
            if let Some(first) = map.values().next().and_then(|e| e.get("value")) {
                return Some(first.clone());
            }
        }
        Some(Value::Array(list)) => {
            if let Some(first) = list.first() {
                return Some(first.clone());
            }
        }
        _ => {}
    }
    value
        .get("default")
        .or_else(|| value.get("enum").and_then(|e| e.get(0)))
        .cloned()
}

/// An example value for a schema: documented examples first, else built from its type (an
/// object's properties recursively, to a depth of 4).
fn schema_example(document: &Value, schema: &Value, name: &str, level: usize) -> Value {
    let schema = resolve(document, schema);
    if let Some(example) = documented_example(schema) {
        return example;
    }
    if let Some(first) = ["allOf", "oneOf", "anyOf"]
        .iter()
        .find_map(|k| schema.get(*k).and_then(|v| v.get(0)))
    {
        return schema_example(document, first, name, level + 1);
    }
    let kind = schema
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_else(|| {
            if schema.get("properties").is_some() {
                "object"
            } else {
                "string"
            }
        });
    match kind {
        "object" if level < 4 => Value::Object(
            schema
                .get("properties")
                .and_then(Value::as_object)
                .map(|properties| {
                    properties
                        .iter()
                        .take(MAX_PARAMS)
                        .map(|(n, s)| (n.clone(), schema_example(document, s, n, level + 1)))
                        .collect::<Map<String, Value>>()
                })
                .unwrap_or_default(),
        ),
        "object" => Value::Object(Map::new()),
        "array" if level < 4 => Value::Array(
            schema
                .get("items")
                .map(|items| vec![schema_example(document, items, name, level + 1)])
                .unwrap_or_default(),
        ),
        "array" => Value::Array(Vec::new()),
        "integer" | "number" => schema
            .get("minimum")
            .filter(|m| m.is_number())
            .cloned()
            .unwrap_or_else(|| Value::from(1)),
        "boolean" => Value::Bool(true),
        _ => Value::String(typed_default(schema, name)),
    }
}

/// A value fitting a parameter's schema when the document gives none.
fn typed_default(schema: &Value, name: &str) -> String {
    let kind = schema
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("string");
    let format = schema.get("format").and_then(Value::as_str).unwrap_or("");
    match (kind, format) {
        ("integer" | "number", _) => schema.get("minimum").map_or("1".into(), scalar),
        ("boolean", _) => "true".into(),
        (_, "email") => extract::default_for("email", name),
        (_, "uri" | "url") => extract::default_for("url", name),
        (_, "date") => extract::default_for("date", name),
        (_, "date-time") => "2024-01-01T00:00:00Z".into(),
        (_, "uuid") => "00000000-0000-4000-8000-000000000000".into(),
        _ => extract::default_for("text", name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("http://127.0.0.1:8000/").unwrap_or_else(|e| panic!("{e}"))
    }

    const DOCUMENT: &str = r#"
openapi: 3.0.3
info: {title: Orders, version: "1"}
servers:
  - url: /api/{version}
    variables:
      version: {default: v1}
paths:
  /orders/{order_id}:
    parameters:
      - $ref: '#/components/parameters/OrderId'
    get:
      parameters:
        - {name: fields, in: query, schema: {type: string, enum: [summary, full]}}
        - {name: X-Trace, in: header, schema: {type: string}, example: abc}
  /orders:
    post:
      requestBody:
        content:
          application/json:
            schema: {$ref: '#/components/schemas/Order'}
    delete:
      parameters:
        - {name: id, in: query}
  /import:
    put:
      requestBody:
        content:
          application/xml:
            schema: {$ref: '#/components/schemas/Note'}
  /status:
    get: {}
components:
  parameters:
    OrderId: {name: order_id, in: path, required: true, schema: {type: integer, minimum: 7}}
  schemas:
    Order:
      type: object
      properties:
        item: {type: string, example: book}
        quantity: {type: integer}
        email: {type: string, format: email}
        gift: {type: boolean}
        address: {$ref: '#/components/schemas/Address'}
    Address:
      type: object
      properties:
        city: {type: string}
    Note:
      type: object
      xml: {name: note}
      properties:
        body: {type: string, example: "a & b"}
"#;

    #[test]
    fn operations_become_targets_with_documented_values() {
        let api = parse(DOCUMENT, &base()).unwrap_or_else(|e| panic!("{e}"));
        let summary: Vec<String> = api
            .targets
            .iter()
            .map(|t| {
                let params: Vec<String> = t
                    .params
                    .iter()
                    .map(|p| format!("{}:{:?}={}", p.name, p.location, p.value))
                    .collect();
                format!("{} {} {}", t.method, t.url.path(), params.join(" "))
            })
            .collect();
        assert_eq!(
            summary,
            [
                "PUT /api/v1/import (xml body):XmlBody=<note><body>a &amp; b</body></note>",
                "POST /api/v1/orders address:JsonField={\"city\":\"palisade\"} email:JsonField=scanner@example.com gift:JsonField=true item:JsonField=book quantity:JsonField=1",
                "GET /api/v1/orders/%7Border_id%7D order_id:Path=7 fields:Query=summary X-Trace:Header=abc",
            ],
            "paths in name order; delete is never imported"
        );
        assert_eq!(api.targets[0].params[0].kind, "application/xml");
        assert_eq!(api.targets[1].params[0].kind, "json-raw");
        assert_eq!(api.targets[1].params[2].kind, "json-boolean");
        let pages: Vec<&str> = api.pages.iter().map(Url::as_str).collect();
        assert_eq!(pages, ["http://127.0.0.1:8000/api/v1/status"]);
    }

    /// The targets of a document as `METHOD URL name:Location:kind=value …`.
    fn summary(api: &Api) -> Vec<String> {
        api.targets
            .iter()
            .map(|t| {
                let params: Vec<String> = t
                    .params
                    .iter()
                    .map(|p| format!("{}:{:?}:{}={}", p.name, p.location, p.kind, p.value))
                    .collect();
                format!("{} {} {}", t.method, t.url, params.join(" "))
            })
            .collect()
    }

    const SWAGGER: &str = r#"
swagger: "2.0"
info: {title: Shop, version: "1"}
basePath: /shop/v2
consumes: [application/json]
paths:
  /items/{item_id}:
    parameters:
      - {name: item_id, in: path, required: true, type: integer, minimum: 3}
    get:
      parameters:
        - {name: sort, in: query, type: string, enum: [price, name]}
        - {name: X-Tenant, in: header, type: string, default: acme}
        - {name: since, in: query, type: string, format: date}
  /items:
    post:
      parameters:
        - {name: item, in: body, schema: {$ref: '#/definitions/Item'}}
  /search:
    post:
      consumes: [application/x-www-form-urlencoded]
      parameters:
        - {$ref: '#/parameters/Query'}
        - {name: limit, in: formData, type: integer}
  /upload:
    post:
      consumes: [multipart/form-data]
      parameters:
        - {name: title, in: formData, type: string}
        - {name: doc, in: formData, type: file}
  /notes:
    put:
      consumes: [application/xml, text/xml]
      parameters:
        - {name: note, in: body, schema: {$ref: '#/definitions/Note'}}
  /ping:
    get: {}
parameters:
  Query: {name: q, in: formData, type: string, default: shoes}
definitions:
  Item:
    type: object
    properties:
      name: {type: string, example: lamp}
      price: {type: number}
  Note:
    type: object
    xml: {name: note}
    properties:
      text: {type: string}
"#;

    #[test]
    fn swagger_2_operations_are_imported_like_openapi_3_ones() {
        let api = parse(SWAGGER, &base()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            summary(&api),
            [
                "POST http://127.0.0.1:8000/shop/v2/items name:JsonField:json-string=lamp price:JsonField:json-number=1",
                "GET http://127.0.0.1:8000/shop/v2/items/%7Bitem_id%7D item_id:Path:path=3 sort:Query:query=price X-Tenant:Header:header=acme since:Query:query=2024-01-01",
                "PUT http://127.0.0.1:8000/shop/v2/notes (xml body):XmlBody:application/xml=<note><text>palisade</text></note>",
                "POST http://127.0.0.1:8000/shop/v2/search q:Body:text=shoes limit:Body:text=1",
                "POST http://127.0.0.1:8000/shop/v2/upload title:Multipart:text=palisade doc:Multipart:file=palisade",
            ]
        );
        let pages: Vec<&str> = api.pages.iter().map(Url::as_str).collect();
        assert_eq!(pages, ["http://127.0.0.1:8000/shop/v2/ping"]);
        assert!(api.warnings.is_empty(), "{:?}", api.warnings);
        let upload = api.targets[4].baseline();
        assert!(
            upload
                .content_type
                .is_some_and(|t| t.starts_with("multipart/form-data; boundary="))
        );

        // `host` and `schemes` give an absolute base URL; a JSON document reads the same.
        let hosted = r#"{"swagger": "2.0", "host": "api.example:8443", "schemes": ["https"],
            "paths": {"/find": {"get": {"parameters": [{"name": "q", "in": "query", "type": "string"}]}}}}"#;
        let api = parse(hosted, &base()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            summary(&api),
            ["GET https://api.example:8443/find q:Query:query=palisade"]
        );
    }

    #[test]
    fn openapi_3_multipart_bodies_are_parts() {
        let document = r#"
openapi: 3.0.3
paths:
  /avatar:
    post:
      requestBody:
        content:
          multipart/form-data:
            schema:
              type: object
              properties:
                caption: {type: string, example: me}
                image: {type: string, format: binary}
"#;
        let api = parse(document, &base()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            summary(&api),
            [
                "POST http://127.0.0.1:8000/avatar caption:Multipart:text=me image:Multipart:file=palisade"
            ]
        );
    }

    #[test]
    fn hostile_or_foreign_documents_are_refused() {
        assert!(parse("swagger: '1.2'\npaths: {}\n", &base()).is_err());
        assert!(parse("openapi: 2.0.0\npaths: {}\n", &base()).is_err());
        assert!(
            parse("{\"openapi\": \"3.1.0\"", &base()).is_err(),
            "truncated JSON"
        );
        let deep = format!("{}{}", "[".repeat(100), "]".repeat(100));
        let deep = format!("{{\"openapi\": \"3.1.0\", \"x\": {deep}}}");
        assert!(
            parse(&deep, &base()).is_err(),
            "nested deeper than the limit"
        );
        let huge = format!(
            "openapi: 3.1.0\nx: \"{}\"\n",
            "a".repeat(MAX_DOCUMENT_BYTES)
        );
        assert!(parse(&huge, &base()).is_err());
        // A reference cycle ends after the hop limit instead of looping.
        let cycle = r##"{"openapi": "3.1.0", "paths": {"/a": {"get": {"parameters": [{"$ref": "#/components/parameters/A"}]}}},
            "components": {"parameters": {"A": {"$ref": "#/components/parameters/B"}, "B": {"$ref": "#/components/parameters/A"}}}}"##;
        let api = parse(cycle, &base()).unwrap_or_else(|e| panic!("{e}"));
        assert!(api.targets.is_empty());
        assert_eq!(api.pages.len(), 1);
        // Billion laughs: serde-saphyr's alias budget stops the expansion.
        let mut laughs = String::from(
            "openapi: 3.1.0\na0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n",
        );
        for i in 1..10 {
            let p = i - 1;
            laughs.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        assert!(parse(&laughs, &base()).is_err());
    }
}
