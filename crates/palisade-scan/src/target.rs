//! Injection points: a method, a URL and its parameters (query, form body, multipart form
//! parts, JSON body fields, a raw XML body, path segments, headers, cookies), found by the
//! crawler. A check varies one parameter at a time and
//! keeps the others at their defaults.

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::http::Request;

/// Where a parameter travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Location {
    /// The URL query string.
    Query,
    /// A form-encoded body.
    Body,
    /// A cookie the application set (sent in the `Cookie` header).
    Cookie,
    /// A top-level field of a JSON object body (`application/json`); the field's JSON type is
    /// the parameter's kind (`json-string`, `json-number`, `json-boolean`, `json-raw`).
    JsonField,
    /// The whole body is an XML document; the parameter's kind is its content type.
    XmlBody,
    /// A path segment: the target URL's path holds `{name}` where the value goes.
    Path,
    /// A request header (control characters in values are percent-encoded).
    Header,
    /// A part of a `multipart/form-data` body (a form with that `enctype`); the kind `file`
    /// sends the value as the content of a file named [`UPLOAD_FILENAME`].
    Multipart,
}

/// Where the injection checks look: every place but cookies (a cookie the application set is
/// only probed by checks that recognise what it carries) and whole XML bodies (only the XXE
/// check sends documents).
pub const INPUTS: &[Location] = &[
    Location::Query,
    Location::Body,
    Location::JsonField,
    Location::Path,
    Location::Header,
    Location::Multipart,
];

/// What the URL parser percent-encodes in a path (`{` and `}` among them).
const PATH: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}');
/// A path segment's value: also `/` and `%` (a value never adds segments).
const SEGMENT: &AsciiSet = &PATH.add(b'/').add(b'%');

/// The name of the parameter that stands for a whole XML body.
pub const XML_BODY: &str = "(xml body)";

/// The file name a file part of a multipart body is sent with.
pub const UPLOAD_FILENAME: &str = "palisade.txt";

/// One parameter with the value the application expects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Param {
    /// Name.
    pub name: String,
    /// Default value (from the link, the form field, or a value fitting the field type).
    pub value: String,
    /// Query, body or cookie.
    pub location: Location,
    /// The form field type (`text`, `hidden`, `number`, `select`, …), `query`, `cookie`, a
    /// JSON type (`json-string`, …) or the content type of an XML body.
    pub kind: String,
}

impl Param {
    /// Does the parameter carry application input? Submit buttons do not: they are never
    /// injected.
    pub fn is_input(&self) -> bool {
        !matches!(self.kind.as_str(), "submit" | "button")
    }
}

/// An endpoint with parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    /// `GET` or `POST`.
    pub method: String,
    /// The URL without its query.
    pub url: Url,
    /// The parameters.
    pub params: Vec<Param>,
}

impl Target {
    /// The target a URL with a query string stands for (`None` without parameters).
    pub fn from_query(url: &Url) -> Option<Self> {
        let params: Vec<Param> = url
            .query_pairs()
            .map(|(name, value)| Param {
                name: name.into_owned(),
                value: value.into_owned(),
                location: Location::Query,
                kind: "query".into(),
            })
            .collect();
        if params.is_empty() {
            return None;
        }
        let mut base = url.clone();
        base.set_query(None);
        base.set_fragment(None);
        Some(Self {
            method: "GET".into(),
            url: base,
            params,
        })
    }

    /// The target a cookie set by `page` stands for: the page (query included, not varied)
    /// with the cookie as its one parameter.
    pub fn from_cookie(page: &Url, name: &str, value: &str) -> Self {
        let mut url = page.clone();
        url.set_fragment(None);
        Self {
            method: "GET".into(),
            url,
            params: vec![Param {
                name: name.to_owned(),
                value: value.to_owned(),
                location: Location::Cookie,
                kind: "cookie".into(),
            }],
        }
    }

    /// The URL findings name: without the query, path placeholders shown as `{name}`.
    pub fn display_url(&self) -> String {
        let mut url = self.url.clone();
        url.set_query(None);
        url.set_fragment(None);
        url.as_str().replace("%7B", "{").replace("%7D", "}")
    }

    /// De-duplication key: method, URL and the sorted set of parameter names.
    pub fn key(&self) -> String {
        let mut names: Vec<&str> = self.params.iter().map(|p| p.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        format!("{} {}?{}", self.method, self.url, names.join("&"))
    }

    /// The request with every parameter at its default value.
    pub fn baseline(&self) -> Request {
        self.build(None)
    }

    /// The request with parameter `index` set to `value` and the others at their defaults.
    pub fn with_value(&self, index: usize, value: &str) -> Request {
        self.build(Some((index, value)))
    }

    fn build(&self, replace: Option<(usize, &str)>) -> Request {
        let value_of = |i: usize, p: &Param| -> String {
            match replace {
                Some((index, value)) if index == i => value.to_owned(),
                _ => p.value.clone(),
            }
        };
        let mut url = self.url.clone();
        let mut path = url.path().to_owned();
        for (i, p) in self.params.iter().enumerate() {
            if p.location == Location::Path {
                let placeholder = utf8_percent_encode(&format!("{{{}}}", p.name), PATH).to_string();
                let value = utf8_percent_encode(&value_of(i, p), SEGMENT).to_string();
                path = path.replace(&placeholder, &value);
            }
        }
        if path != url.path() {
            url.set_path(&path);
        }
        let query: Vec<(String, String)> = self
            .params
            .iter()
            .enumerate()
            .filter(|(_, p)| p.location == Location::Query)
            .map(|(i, p)| (p.name.clone(), value_of(i, p)))
            .collect();
        if !query.is_empty() {
            url.query_pairs_mut().clear().extend_pairs(&query);
        }
        let body_pairs: Vec<(String, String)> = self
            .params
            .iter()
            .enumerate()
            .filter(|(_, p)| p.location == Location::Body)
            .map(|(i, p)| (p.name.clone(), value_of(i, p)))
            .collect();
        let json: serde_json::Map<String, serde_json::Value> = self
            .params
            .iter()
            .enumerate()
            .filter(|(_, p)| p.location == Location::JsonField)
            .map(|(i, p)| {
                let value = match replace {
                    // Injected values are strings: what an attacker types into a field.
                    Some((index, value)) if index == i => serde_json::Value::String(value.into()),
                    _ => json_value(p),
                };
                (p.name.clone(), value)
            })
            .collect();
        let xml = self
            .params
            .iter()
            .enumerate()
            .find(|(_, p)| p.location == Location::XmlBody);
        let parts: Vec<(&Param, String)> = self
            .params
            .iter()
            .enumerate()
            .filter(|(_, p)| p.location == Location::Multipart)
            .map(|(i, p)| (p, value_of(i, p)))
            .collect();
        let (body, content_type) = if let Some((i, p)) = xml {
            (Some(value_of(i, p)), Some(p.kind.clone()))
        } else if !parts.is_empty() {
            let (body, boundary) = multipart(&parts);
            (
                Some(body),
                Some(format!("multipart/form-data; boundary={boundary}")),
            )
        } else if !json.is_empty() {
            (
                Some(serde_json::Value::Object(json).to_string()),
                Some("application/json".to_owned()),
            )
        } else {
            let form = (self.method != "GET").then(|| {
                url::form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(&body_pairs)
                    .finish()
            });
            (form, None)
        };
        let cookies: Vec<String> = self
            .params
            .iter()
            .enumerate()
            .filter(|(_, p)| p.location == Location::Cookie)
            .map(|(i, p)| format!("{}={}", p.name, value_of(i, p)))
            .collect();
        let mut headers: Vec<(String, String)> = self
            .params
            .iter()
            .enumerate()
            .filter(|(_, p)| p.location == Location::Header)
            .map(|(i, p)| (p.name.clone(), header_value(&value_of(i, p))))
            .collect();
        if !cookies.is_empty() {
            headers.push(("Cookie".to_owned(), cookies.join("; ")));
        }
        Request {
            method: self.method.clone(),
            url,
            body,
            content_type,
            headers,
            anonymous: false,
            without_session: false,
        }
    }
}

/// A header value as sent: control characters (CR, LF, NUL, …) percent-encoded, since no
/// HTTP library sends them.
fn header_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if (c.is_ascii_control() && c != '\t') || c == '%' {
            out.push_str(&format!("%{:02X}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// A `multipart/form-data` body of `parts` (RFC 7578) and its boundary: a boundary no value
/// contains; names and file names quoted as browsers do (`"`, CR and LF percent-encoded).
fn multipart(parts: &[(&Param, String)]) -> (String, String) {
    let mut boundary = String::from("----palisade-form-boundary");
    for n in 0u32.. {
        if !parts
            .iter()
            .any(|(p, v)| v.contains(&boundary) || p.name.contains(&boundary))
        {
            break;
        }
        boundary = format!("----palisade-form-boundary-{n}");
    }
    let quote = |text: &str| {
        text.replace('"', "%22")
            .replace('\r', "%0D")
            .replace('\n', "%0A")
    };
    let mut body = String::new();
    for (param, value) in parts {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{}\"",
            quote(&param.name)
        ));
        if param.kind == "file" {
            body.push_str(&format!(
                "; filename=\"{UPLOAD_FILENAME}\"\r\nContent-Type: text/plain"
            ));
        }
        body.push_str(&format!("\r\n\r\n{value}\r\n"));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    (body, boundary)
}

/// A JSON field's default value with its JSON type.
fn json_value(param: &Param) -> serde_json::Value {
    let typed = match param.kind.as_str() {
        "json-number" | "json-boolean" | "json-raw" => serde_json::from_str(&param.value).ok(),
        _ => None,
    };
    typed.unwrap_or_else(|| serde_json::Value::String(param.value.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_parameter_varies() {
        let url = Url::parse("http://h/p?a=1&b=x").unwrap_or_else(|e| panic!("{e}"));
        let target = Target::from_query(&url).unwrap_or_else(|| panic!("params"));
        assert_eq!(target.key(), "GET http://h/p?a&b");
        let request = target.with_value(1, "' OR 1=1");
        assert_eq!(request.url.as_str(), "http://h/p?a=1&b=%27+OR+1%3D1");
        assert!(request.body.is_none());
        assert_eq!(target.baseline().url.as_str(), "http://h/p?a=1&b=x");
    }

    #[test]
    fn form_parameters_go_in_the_body() {
        let target = Target {
            method: "POST".into(),
            url: Url::parse("http://h/login").unwrap_or_else(|e| panic!("{e}")),
            params: vec![
                Param {
                    name: "user".into(),
                    value: "a".into(),
                    location: Location::Body,
                    kind: "text".into(),
                },
                Param {
                    name: "pw".into(),
                    value: "b".into(),
                    location: Location::Body,
                    kind: "password".into(),
                },
            ],
        };
        let request = target.with_value(0, "x&y");
        assert_eq!(request.body.as_deref(), Some("user=x%26y&pw=b"));
        assert_eq!(request.url.as_str(), "http://h/login");
    }

    #[test]
    fn json_fields_keep_their_types_and_xml_bodies_their_content_type() {
        let url = Url::parse("http://h/api/search").unwrap_or_else(|e| panic!("{e}"));
        let field = |name: &str, value: &str, kind: &str| Param {
            name: name.into(),
            value: value.into(),
            location: Location::JsonField,
            kind: kind.into(),
        };
        let target = Target {
            method: "POST".into(),
            url: url.clone(),
            params: vec![
                field("category", "books", "json-string"),
                field("limit", "5", "json-number"),
                field("exact", "true", "json-boolean"),
                field("tags", "[\"a\"]", "json-raw"),
            ],
        };
        let baseline = target.baseline();
        assert_eq!(baseline.content_type.as_deref(), Some("application/json"));
        let body: serde_json::Value =
            serde_json::from_str(baseline.body.as_deref().unwrap_or("")).unwrap_or_default();
        assert_eq!(
            body,
            serde_json::json!({"category": "books", "limit": 5, "exact": true, "tags": ["a"]})
        );
        let probe: serde_json::Value =
            serde_json::from_str(target.with_value(1, "5'").body.as_deref().unwrap_or(""))
                .unwrap_or_default();
        assert_eq!(probe["limit"], "5'");
        let xml = Target {
            method: "POST".into(),
            url,
            params: vec![Param {
                name: XML_BODY.into(),
                value: "<note>hi</note>".into(),
                location: Location::XmlBody,
                kind: "application/xml".into(),
            }],
        };
        let request = xml.with_value(0, "<r/>");
        assert_eq!(
            (request.body.as_deref(), request.content_type.as_deref()),
            (Some("<r/>"), Some("application/xml"))
        );
    }

    #[test]
    fn path_and_header_parameters() {
        let mut url = Url::parse("http://h/api/orders/").unwrap_or_else(|e| panic!("{e}"));
        url.set_path("/api/orders/{order_id}/items/{item}");
        let param = |name: &str, value: &str, location| Param {
            name: name.into(),
            value: value.into(),
            location,
            kind: "path".into(),
        };
        let target = Target {
            method: "GET".into(),
            url,
            params: vec![
                param("order_id", "7", Location::Path),
                param("item", "a b", Location::Path),
                param("X-Report", "monthly", Location::Header),
            ],
        };
        assert_eq!(
            target.display_url(),
            "http://h/api/orders/{order_id}/items/{item}"
        );
        let baseline = target.baseline();
        assert_eq!(baseline.url.as_str(), "http://h/api/orders/7/items/a%20b");
        assert_eq!(
            baseline.headers,
            [("X-Report".to_owned(), "monthly".to_owned())]
        );
        let probe = target.with_value(0, "1'/../x?y#z");
        assert_eq!(
            probe.url.as_str(),
            "http://h/api/orders/1'%2F..%2Fx%3Fy%23z/items/a%20b",
            "a value stays one segment"
        );
        assert!(probe.url.query().is_none());
        let crlf = target.with_value(2, "a\r\nSet-Cookie: x=1 100%");
        assert_eq!(crlf.headers[0].1, "a%0D%0ASet-Cookie: x=1 100%25");
    }

    #[test]
    fn multipart_parameters_are_parts_and_files() {
        let part = |name: &str, value: &str, kind: &str| Param {
            name: name.into(),
            value: value.into(),
            location: Location::Multipart,
            kind: kind.into(),
        };
        let target = Target {
            method: "POST".into(),
            url: Url::parse("http://h/upload").unwrap_or_else(|e| panic!("{e}")),
            params: vec![
                part("title", "report", "text"),
                part("doc\"x", "palisade", "file"),
            ],
        };
        let request = target.with_value(0, "a' OR '1'='1");
        assert_eq!(
            request.content_type.as_deref(),
            Some("multipart/form-data; boundary=----palisade-form-boundary")
        );
        assert_eq!(
            request.body.as_deref(),
            Some(
                "------palisade-form-boundary\r\n\
                 Content-Disposition: form-data; name=\"title\"\r\n\r\n\
                 a' OR '1'='1\r\n\
                 ------palisade-form-boundary\r\n\
                 Content-Disposition: form-data; name=\"doc%22x\"; filename=\"palisade.txt\"\r\n\
                 Content-Type: text/plain\r\n\r\n\
                 palisade\r\n\
                 ------palisade-form-boundary--\r\n"
            )
        );
        assert_eq!(request.url.as_str(), "http://h/upload");
        // A value holding the boundary gets another one.
        let request = target.with_value(1, "x\r\n------palisade-form-boundary--\r\n");
        let content_type = request.content_type.unwrap_or_default();
        let boundary = content_type
            .split_once("boundary=")
            .map(|(_, b)| b.to_owned())
            .unwrap_or_default();
        assert_ne!(boundary, "----palisade-form-boundary");
        let body = request.body.unwrap_or_default();
        assert_eq!(body.matches(&format!("--{boundary}\r\n")).count(), 2);
        assert!(body.ends_with(&format!("--{boundary}--\r\n")));
    }

    #[test]
    fn cookie_parameters_go_in_the_cookie_header() {
        let page = Url::parse("http://h/cart?view=full").unwrap_or_else(|e| panic!("{e}"));
        let target = Target::from_cookie(&page, "cart", "gASVCw==");
        assert_eq!(target.key(), "GET http://h/cart?view=full?cart");
        let request = target.with_value(0, "gASV");
        assert_eq!(
            request.url.as_str(),
            "http://h/cart?view=full",
            "the query is kept"
        );
        assert_eq!(
            request.headers,
            [("Cookie".to_owned(), "cart=gASV".to_owned())]
        );
        assert!(request.body.is_none());
    }
}
