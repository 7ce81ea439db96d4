//! What the crawler takes from a page: links (`a`, `area`, `link`, `iframe`, `frame`, `script
//! src`), forms with their fields and field types, URLs quoted in inline and external
//! JavaScript, and sitemap `<loc>` entries. HTML is parsed with html5ever (via `scraper`) and
//! never executed. Every list is bounded.

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

/// Links and forms of a page.
#[derive(Debug, Default)]
pub struct PageLinks {
    /// Absolute URLs (fragments removed).
    pub links: Vec<Url>,
    /// Forms as injection targets.
    pub forms: Vec<Target>,
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
    }
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

/// `<loc>` URLs of a sitemap.
pub fn sitemap(base: &Url, body: &str) -> Vec<Url> {
    SITEMAP_LOC
        .captures_iter(body)
        .filter_map(|c| c.get(1))
        .filter_map(|m| resolve(base, m.as_str()))
        .take(MAX_SITEMAP_URLS)
        .collect()
}

/// A value a field of this type accepts.
fn default_for(kind: &str, name: &str) -> String {
    let name = name.to_ascii_lowercase();
    match kind {
        "email" => "scanner@example.com".into(),
        "number" | "range" => "1".into(),
        "url" => "https://example.com/".into(),
        "tel" => "5550100".into(),
        "date" => "2024-01-01".into(),
        "password" => "Palisade-Scan-1".into(),
        "checkbox" | "radio" => "on".into(),
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
    let location = if method == "GET" {
        Location::Query
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
        if matches!(kind.as_str(), "file" | "image" | "reset") {
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
