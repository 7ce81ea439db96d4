//! What the crawler takes from a page: links (`a`, `area`, `link`, `iframe`, `frame`, `script
//! src`), forms with their fields and field types (a `multipart/form-data` form's fields, file
//! inputs included, as multipart parts), URLs quoted in inline and external
//! JavaScript, requests with a body that scripts make (`fetch(url, {method, headers, body})`,
//! `XMLHttpRequest` `open`/`setRequestHeader`/`send`: JSON, XML and form bodies with their
//! content type), and sitemap `<loc>` entries. HTML is parsed with html5ever (via `scraper`);
//! scripts are only searched with regular expressions, never executed. Every list is bounded.

use std::sync::LazyLock;

use regex::Regex;
use scraper::{ElementRef, Html, Selector};
use url::Url;

use crate::target::{Location, Param, Target};

/// Links taken from one page.
pub const MAX_LINKS_PER_PAGE: usize = 2_000;
/// Forms taken from one page.
pub const MAX_FORMS_PER_PAGE: usize = 50;
/// Fields taken from one form.
pub const MAX_FIELDS_PER_FORM: usize = 200;
/// Bytes of JavaScript searched for URLs per page.
pub const MAX_SCRIPT_BYTES: usize = 256 * 1024;
/// `<loc>` entries taken from one sitemap.
pub const MAX_SITEMAP_URLS: usize = 10_000;
/// Script requests (fetch/XMLHttpRequest calls with a body) taken from one page or script.
pub const MAX_SCRIPT_REQUESTS: usize = 50;
/// How far after a call its options are looked for.
const CALL_WINDOW: usize = 1500;

/// Links and forms of a page.
#[derive(Debug, Default)]
pub struct PageLinks {
    /// Absolute URLs (fragments removed).
    pub links: Vec<Url>,
    /// Forms as injection targets.
    pub forms: Vec<Target>,
    /// Requests with a body that inline scripts make, as injection targets.
    pub requests: Vec<Target>,
}

fn selector(css: &str) -> Selector {
    // The selectors are literals of this file; a typo is caught by the tests.
    Selector::parse(css).unwrap_or_else(|e| panic!("invalid selector {css}: {e}"))
}

static LINKS: LazyLock<Selector> = LazyLock::new(|| {
    selector("a[href], area[href], link[href], iframe[src], frame[src], script[src]")
});
static FORMS: LazyLock<Selector> = LazyLock::new(|| selector("form"));
static FIELDS: LazyLock<Selector> =
    LazyLock::new(|| selector("input[name], textarea[name], select[name], button[name]"));
static OPTIONS: LazyLock<Selector> = LazyLock::new(|| selector("option"));
static SCRIPTS: LazyLock<Selector> = LazyLock::new(|| selector("script:not([src])"));
static BASE: LazyLock<Selector> = LazyLock::new(|| selector("base[href]"));
static JS_URL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"["'`](/[A-Za-z0-9_\-./?=&%~+:,;@]*|https?://[^"'`\s<>]{1,2000})["'`]"#)
        .unwrap_or_else(|e| panic!("{e}"))
});
static FETCH_CALL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"fetch\(\s*['"`](/[^'"`\s]*)['"`]\s*,\s*\{"#).unwrap_or_else(|e| panic!("{e}"))
});
static XHR_OPEN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"\.open\(\s*['"`]((?i:post|put|patch))['"`]\s*,\s*['"`](/[^'"`\s]*)['"`]"#)
        .unwrap_or_else(|e| panic!("{e}"))
});
static CALL_START: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"fetch\(|\.open\(").unwrap_or_else(|e| panic!("{e}")));
static HINT_METHOD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"method\s*:\s*['"`]((?i:post|put|patch))['"`]"#).unwrap_or_else(|e| panic!("{e}"))
});
static HINT_TYPE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)content-type['"`]?\s*[:,]\s*['"`]([a-z]+/[a-z0-9.+-]+)"#)
        .unwrap_or_else(|e| panic!("{e}"))
});
static HINT_BODY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?:body\s*:|\.send\()\s*(?:'([^'\n]*)'|"([^"\n]*)"|`([^`]*)`)"#)
        .unwrap_or_else(|e| panic!("{e}"))
});
static HINT_STRINGIFY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"JSON\.stringify\(\s*\{([^{}]*)\}\s*\)").unwrap_or_else(|e| panic!("{e}"))
});
static JS_MEMBER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"['"]?([A-Za-z_$][\w$]{0,64})['"]?\s*:\s*(?:'([^'\n]*)'|"([^"\n]*)"|(-?\d+(?:\.\d+)?)\b|(true|false)\b)"#,
    )
    .unwrap_or_else(|e| panic!("{e}"))
});
static SITEMAP_LOC: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)<loc>\s*([^<\s]{1,2000})\s*</loc>").unwrap_or_else(|e| panic!("{e}"))
});

fn resolve(base: &Url, reference: &str) -> Option<Url> {
    let reference = reference.trim();
    if reference.is_empty()
        || reference.starts_with('#')
        || reference.to_ascii_lowercase().starts_with("javascript:")
        || reference.to_ascii_lowercase().starts_with("mailto:")
    {
        return None;
    }
    let mut url = base.join(reference).ok()?;
    url.set_fragment(None);
    matches!(url.scheme(), "http" | "https").then_some(url)
}

/// Links and forms of the HTML `body` fetched from `page`.
pub fn html(page: &Url, body: &str) -> PageLinks {
    let document = Html::parse_document(body);
    let base = document
        .select(&BASE)
        .next()
        .and_then(|b| b.value().attr("href"))
        .and_then(|href| page.join(href).ok())
        .unwrap_or_else(|| page.clone());
    let mut out = PageLinks::default();
    for element in document.select(&LINKS) {
        if out.links.len() >= MAX_LINKS_PER_PAGE {
            break;
        }
        let value = element.value();
        if let Some(url) = value
            .attr("href")
            .or_else(|| value.attr("src"))
            .and_then(|r| resolve(&base, r))
        {
            out.links.push(url);
        }
    }
    let mut script_bytes = 0;
    for script in document.select(&SCRIPTS) {
        let text: String = script.text().collect();
        script_bytes += text.len();
        if script_bytes > MAX_SCRIPT_BYTES {
            break;
        }
        out.links.extend(javascript(&base, &text));
        out.requests.extend(script_requests(&base, &text));
    }
    out.requests.truncate(MAX_SCRIPT_REQUESTS);
    out.links.truncate(MAX_LINKS_PER_PAGE);
    for form in document.select(&FORMS).take(MAX_FORMS_PER_PAGE) {
        if let Some(target) = form_target(&base, form) {
            out.forms.push(target);
        }
    }
    out
}

/// URLs quoted in JavaScript source (string literals starting with `/` or `http(s)://`).
pub fn javascript(base: &Url, source: &str) -> Vec<Url> {
    let mut end = source.len().min(MAX_SCRIPT_BYTES);
    while !source.is_char_boundary(end) {
        end -= 1;
    }
    JS_URL
        .captures_iter(&source[..end])
        .filter_map(|c| c.get(1))
        .filter(|m| m.as_str() != "/" && !m.as_str().starts_with("//"))
        .filter_map(|m| resolve(base, m.as_str()))
        .take(MAX_LINKS_PER_PAGE)
        .collect()
}

/// Requests with a body that a script makes: `fetch(url, {method, headers, body})` and
/// `xhr.open(method, url)` … `setRequestHeader('Content-Type', …)` … `send(body)`. The body's
/// content type decides the target: an XML document (the literal body, if any, is the
/// default), the members of a JSON object (from `JSON.stringify({…})` or a JSON literal) or
/// form fields. Calls without a body, or whose fields cannot be read, give nothing.
pub fn script_requests(base: &Url, source: &str) -> Vec<Target> {
    let mut end = source.len().min(MAX_SCRIPT_BYTES);
    while !source.is_char_boundary(end) {
        end -= 1;
    }
    let source = &source[..end];
    let calls = FETCH_CALL
        .captures_iter(source)
        .filter_map(|c| Some((None, c.get(1)?, c.get(0)?.end())))
        .chain(XHR_OPEN.captures_iter(source).filter_map(|c| {
            Some((
                Some(c.get(1)?.as_str().to_ascii_uppercase()),
                c.get(2)?,
                c.get(0)?.end(),
            ))
        }));
    let mut out = Vec::new();
    for (method, path, after) in calls {
        let mut stop = (after + CALL_WINDOW).min(source.len());
        while !source.is_char_boundary(stop) {
            stop -= 1;
        }
        let window = &source[after..stop];
        let window = CALL_START
            .find(window)
            .map_or(window, |next| &window[..next.start()]);
        let Some(url) = resolve(base, path.as_str()) else {
            continue;
        };
        let method = method
            .or_else(|| {
                HINT_METHOD
                    .captures(window)
                    .map(|c| c[1].to_ascii_uppercase())
            })
            .unwrap_or_else(|| "POST".into());
        let content_type = HINT_TYPE
            .captures(window)
            .map(|c| c[1].to_ascii_lowercase())
            .unwrap_or_default();
        let literal = HINT_BODY.captures(window).and_then(|c| {
            c.get(1)
                .or_else(|| c.get(2))
                .or_else(|| c.get(3))
                .map(|m| m.as_str().to_owned())
        });
        if let Some(target) = script_target(method, url, &content_type, literal, window) {
            out.push(target);
        }
        if out.len() >= MAX_SCRIPT_REQUESTS {
            break;
        }
    }
    out
}

fn script_target(
    method: String,
    mut url: Url,
    content_type: &str,
    literal: Option<String>,
    window: &str,
) -> Option<Target> {
    let params: Vec<Param> = if content_type.contains("xml") {
        let document = literal
            .filter(|l| l.trim_start().starts_with('<'))
            .unwrap_or_else(|| "<root>palisade</root>".into());
        vec![Param {
            name: crate::target::XML_BODY.into(),
            value: document,
            location: Location::XmlBody,
            kind: content_type.to_owned(),
        }]
    } else if content_type.contains("json") {
        let from_literal = literal
            .and_then(|l| serde_json::from_str::<serde_json::Value>(&l).ok())
            .and_then(|v| match v {
                serde_json::Value::Object(map) => Some(map),
                _ => None,
            });
        match from_literal {
            Some(map) => map
                .into_iter()
                .take(MAX_FIELDS_PER_FORM)
                .map(|(name, value)| json_param(name, &value))
                .collect(),
            None => HINT_STRINGIFY
                .captures(window)
                .map(|c| {
                    JS_MEMBER
                        .captures_iter(&c[1])
                        .take(MAX_FIELDS_PER_FORM)
                        .map(|m| {
                            let (value, kind) = if let Some(v) = m.get(2).or_else(|| m.get(3)) {
                                (v.as_str().to_owned(), "json-string")
                            } else if let Some(v) = m.get(4) {
                                (v.as_str().to_owned(), "json-number")
                            } else {
                                (
                                    m.get(5).map_or("", |v| v.as_str()).to_owned(),
                                    "json-boolean",
                                )
                            };
                            Param {
                                name: m[1].to_owned(),
                                value,
                                location: Location::JsonField,
                                kind: kind.into(),
                            }
                        })
                        .collect()
                })
                .unwrap_or_default(),
        }
    } else if content_type.contains("x-www-form-urlencoded") {
        url::form_urlencoded::parse(literal.unwrap_or_default().as_bytes())
            .take(MAX_FIELDS_PER_FORM)
            .map(|(name, value)| Param {
                name: name.into_owned(),
                value: value.into_owned(),
                location: Location::Body,
                kind: "text".into(),
            })
            .collect()
    } else {
        Vec::new()
    };
    if params.is_empty() {
        return None;
    }
    url.set_fragment(None);
    Some(Target {
        method,
        url,
        params,
    })
}

/// A JSON body field with its type.
fn json_param(name: String, value: &serde_json::Value) -> Param {
    let (value, kind) = match value {
        serde_json::Value::String(s) => (s.clone(), "json-string"),
        serde_json::Value::Number(n) => (n.to_string(), "json-number"),
        serde_json::Value::Bool(b) => (b.to_string(), "json-boolean"),
        other => (other.to_string(), "json-raw"),
    };
    Param {
        name,
        value,
        location: Location::JsonField,
        kind: kind.into(),
    }
}

/// `<loc>` URLs of a sitemap.
pub fn sitemap(base: &Url, body: &str) -> Vec<Url> {
    SITEMAP_LOC
        .captures_iter(body)
        .filter_map(|c| c.get(1))
        .filter_map(|m| resolve(base, m.as_str()))
        .take(MAX_SITEMAP_URLS)
        .collect()
}

/// The cookies a response sets, as (name, value), without those it deletes (empty value,
/// `Max-Age` zero or negative). Values are as sent (quotes removed, not decoded).
pub fn set_cookies(headers: &[(String, String)]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (_, header) in headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("set-cookie"))
    {
        let mut parts = header.split(';');
        let Some((name, value)) = parts.next().and_then(|p| p.split_once('=')) else {
            continue;
        };
        let (name, value) = (name.trim(), value.trim().trim_matches('"'));
        let deleted = parts.any(|attribute| {
            let attribute = attribute.trim().to_ascii_lowercase();
            attribute == "max-age=0" || attribute.starts_with("max-age=-")
        });
        if !name.is_empty() && !value.is_empty() && !deleted {
            out.push((name.to_owned(), value.to_owned()));
        }
    }
    out
}

/// A value a field of this type accepts.
pub(crate) fn default_for(kind: &str, name: &str) -> String {
    let name = name.to_ascii_lowercase();
    match kind {
        "email" => "scanner@example.com".into(),
        "number" | "range" => "1".into(),
        "url" => "https://example.com/".into(),
        "tel" => "5550100".into(),
        "date" => "2024-01-01".into(),
        "password" => "Palisade-Scan-1".into(),
        "checkbox" | "radio" => "on".into(),
        "file" => "palisade".into(),
        _ if name.contains("mail") => "scanner@example.com".into(),
        _ if name.contains("id") || name.contains("num") || name.contains("page") => "1".into(),
        _ => "palisade".into(),
    }
}

fn form_target(base: &Url, form: ElementRef<'_>) -> Option<Target> {
    let attrs = form.value();
    let method = attrs
        .attr("method")
        .map(str::to_ascii_uppercase)
        .filter(|m| m == "POST")
        .unwrap_or_else(|| "GET".into());
    let action = match attrs.attr("action").map(str::trim) {
        Some(a) if !a.is_empty() => resolve(base, a)?,
        _ => base.clone(),
    };
    let multipart = method == "POST"
        && attrs
            .attr("enctype")
            .is_some_and(|e| e.trim().eq_ignore_ascii_case("multipart/form-data"));
    let location = if method == "GET" {
        Location::Query
    } else if multipart {
        Location::Multipart
    } else {
        Location::Body
    };
    let mut params = Vec::new();
    for field in form.select(&FIELDS).take(MAX_FIELDS_PER_FORM) {
        let element = field.value();
        let Some(name) = element.attr("name").filter(|n| !n.is_empty()) else {
            continue;
        };
        let tag = element.name();
        let kind = match tag {
            "input" => element.attr("type").unwrap_or("text").to_ascii_lowercase(),
            other => other.to_owned(),
        };
        // A file input is sent (as a file part) only by a multipart form.
        if matches!(kind.as_str(), "image" | "reset") || (kind == "file" && !multipart) {
            continue;
        }
        let value = match tag {
            "select" => field
                .select(&OPTIONS)
                .next()
                .map(|o| {
                    o.value()
                        .attr("value")
                        .map(str::to_owned)
                        .unwrap_or_else(|| o.text().collect::<String>().trim().to_owned())
                })
                .unwrap_or_default(),
            "textarea" => field.text().collect::<String>(),
            _ => element.attr("value").unwrap_or("").to_owned(),
        };
        let value = if value.is_empty() {
            default_for(&kind, name)
        } else {
            value
        };
        params.push(Param {
            name: name.to_owned(),
            value,
            location,
            kind,
        });
    }
    if params.is_empty() {
        return None;
    }
    let mut url = action;
    // A GET form's action query is replaced by the form data, as browsers do.
    if method == "GET" {
        url.set_query(None);
    }
    Some(Target {
        method,
        url,
        params,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn links_forms_and_script_urls() {
        let page = url("http://h/dir/page");
        let body = r#"<html><body>
            <a href="other?x=1#frag">o</a><a href="javascript:alert(1)">j</a>
            <a href="mailto:a@b">m</a><iframe src="/frame"></iframe>
            <form method="post" action="/login">
              <input name="user"><input type="password" name="pw">
              <input type="email" name="mail"><input type="hidden" name="csrf" value="t0k">
              <select name="sort"><option value="asc">A</option><option>desc</option></select>
              <textarea name="note">hi</textarea><input type="submit" value="Go">
            </form>
            <form><input type="number" name="page"></form>
            <script>fetch('/api/items?limit=5'); var u = "https://h/api/x";</script>
        </body></html>"#;
        let links = html(&page, body);
        let urls: Vec<&str> = links.links.iter().map(Url::as_str).collect();
        assert_eq!(
            urls,
            [
                "http://h/dir/other?x=1",
                "http://h/frame",
                "http://h/api/items?limit=5",
                "https://h/api/x"
            ]
        );
        assert_eq!(links.forms.len(), 2);
        let login = &links.forms[0];
        assert_eq!(login.method, "POST");
        assert_eq!(login.url.as_str(), "http://h/login");
        let fields: Vec<(&str, &str, &str)> = login
            .params
            .iter()
            .map(|p| (p.name.as_str(), p.kind.as_str(), p.value.as_str()))
            .collect();
        assert_eq!(
            fields,
            [
                ("user", "text", "palisade"),
                ("pw", "password", "Palisade-Scan-1"),
                ("mail", "email", "scanner@example.com"),
                ("csrf", "hidden", "t0k"),
                ("sort", "select", "asc"),
                ("note", "textarea", "hi")
            ]
        );
        assert_eq!(links.forms[1].method, "GET");
        assert_eq!(links.forms[1].url.as_str(), "http://h/dir/page");
        assert_eq!(links.forms[1].params[0].value, "1");
    }

    #[test]
    fn multipart_forms_send_their_fields_and_files_as_parts() {
        let page = url("http://h/profile");
        let body = r#"<html><body>
            <form method="post" action="/upload" enctype="Multipart/Form-Data">
              <input name="title"><input type="file" name="doc"><input type="submit" value="Go">
            </form>
            <form method="post" action="/plain"><input name="a"><input type="file" name="f"></form>
        </body></html>"#;
        let forms = html(&page, body).forms;
        let summary: Vec<Vec<(&str, &str, Location)>> = forms
            .iter()
            .map(|f| {
                f.params
                    .iter()
                    .map(|p| (p.name.as_str(), p.kind.as_str(), p.location))
                    .collect()
            })
            .collect();
        assert_eq!(
            summary,
            [
                vec![
                    ("title", "text", Location::Multipart),
                    ("doc", "file", Location::Multipart)
                ],
                vec![("a", "text", Location::Body)],
            ],
            "a urlencoded form sends no file"
        );
        let request = forms[0].baseline();
        assert!(
            request
                .content_type
                .is_some_and(|t| t.starts_with("multipart/form-data; boundary="))
        );
    }

    #[test]
    fn script_requests_with_xml_json_and_form_bodies() {
        let base = url("http://h/notes");
        let source = r#"
            fetch('/api/import', {method: 'POST', headers: {'Content-Type': 'application/xml'},
                                  body: '<note><body>hi</body></note>'});
            fetch("/api/search", { method: "PUT", headers: { "content-type": "application/json" },
                                   body: JSON.stringify({category: 'books', limit: 5, exact: true}) });
            fetch('/api/raw', {method: 'POST', headers: {'Content-Type': 'application/json'},
                               body: '{"q": "x", "page": 2}'});
            var x = new XMLHttpRequest(); x.open('post', '/api/legacy');
            x.setRequestHeader('Content-Type', 'application/x-www-form-urlencoded'); x.send('a=1&b=two');
            fetch('/api/items?limit=5');
            fetch('/api/nobody', {method: 'POST'});
        "#;
        let targets = script_requests(&base, source);
        let summary: Vec<String> = targets
            .iter()
            .map(|t| {
                let params: Vec<String> = t
                    .params
                    .iter()
                    .map(|p| format!("{}={}:{}", p.name, p.value, p.kind))
                    .collect();
                format!("{} {} {}", t.method, t.url.path(), params.join(","))
            })
            .collect();
        assert_eq!(
            summary,
            [
                "POST /api/import (xml body)=<note><body>hi</body></note>:application/xml",
                "PUT /api/search category=books:json-string,limit=5:json-number,exact=true:json-boolean",
                "POST /api/raw page=2:json-number,q=x:json-string",
                "POST /api/legacy a=1:text,b=two:text",
            ]
        );
        assert_eq!(targets[0].params[0].location, Location::XmlBody);
        assert_eq!(targets[3].params[0].location, Location::Body);
    }

    #[test]
    fn set_cookies_without_deletions() {
        let headers: Vec<(String, String)> = [
            ("set-cookie", "cart=\"gASV\"; Path=/; HttpOnly"),
            ("content-type", "text/html"),
            ("Set-Cookie", "gone=x; Max-Age=0"),
            ("set-cookie", "empty=; Path=/"),
            ("set-cookie", "sid=abc"),
        ]
        .iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect();
        assert_eq!(
            set_cookies(&headers),
            [
                ("cart".to_owned(), "gASV".to_owned()),
                ("sid".to_owned(), "abc".to_owned())
            ]
        );
    }

    #[test]
    fn sitemap_locations() {
        let base = url("http://h/");
        let body = "<urlset><url><loc> http://h/a </loc></url><url><loc>/b</loc></url></urlset>";
        let urls: Vec<String> = sitemap(&base, body)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(urls, ["http://h/a", "http://h/b"]);
    }
}
