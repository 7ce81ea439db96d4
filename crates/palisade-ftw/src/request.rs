//! Building the request bytes exactly as go-ftw does.
//!
//! * `encoded_request` (base64) or `raw_request` is sent verbatim.
//! * Otherwise: `METHOD URI VERSION\r\n` (defaults `GET`, `/`, `HTTP/1.1`; an
//!   explicitly empty version stays empty), the headers in document order,
//!   an empty line and the body.
//! * With `autocomplete_headers` (the default) and a body: `Content-Type:
//!   application/x-www-form-urlencoded` is added when absent, and when the
//!   Content-Type is exactly that and the body contains neither `%` nor `+`
//!   (go-ftw's "unescaping changes nothing" test), each `name=value` pair of
//!   the body is query-escaped.
//! * A `multipart/form-data;` Content-Type turns every LF of the body into
//!   CRLF (regardless of autocompletion, as go-ftw does).
//! * With autocompletion: `Connection: close` when absent, and
//!   `Content-Length` when absent and the body is non-empty or the method
//!   matches go-ftw's `^POST|PUT|PATCH|DELETE$`.
//!
//! * `data` is a go-ftw template: the `{{ "TEXT" | repeat N }}` form the
//!   CRS tests use is expanded (to at most [`MAX_TEMPLATE_BYTES`]); anything
//!   else that is not a valid template stays literal, as go-ftw sends data it
//!   cannot parse as a template unchanged.
//!
//! Deviation: go-ftw compares header names case-sensitively when deciding
//! whether to add one; this runner compares them case-insensitively. go-ftw
//! does not add a `Host` header and neither does this runner.

use base64::Engine;

use crate::schema::Input;
use crate::{FtwError, FtwErrorKind};

/// A request ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltRequest {
    /// The bytes on the wire.
    pub bytes: Vec<u8>,
    /// True for HEAD requests (the response has no body).
    pub is_head: bool,
}

/// Builds the request for one stage input.
pub fn build_request(input: &Input) -> Result<BuiltRequest, FtwError> {
    if let Some(encoded) = input.encoded_request.as_deref().filter(|e| !e.is_empty()) {
        let bytes = decode_base64(encoded)?;
        let is_head = bytes.starts_with(b"HEAD ");
        return Ok(BuiltRequest { bytes, is_head });
    }
    if let Some(raw) = input.raw_request.as_deref().filter(|r| !r.is_empty()) {
        let bytes = raw.as_bytes().to_vec();
        let is_head = bytes.starts_with(b"HEAD ");
        return Ok(BuiltRequest { bytes, is_head });
    }
    let method = input.method.clone().unwrap_or_else(|| "GET".to_owned());
    let uri = input.uri.clone().unwrap_or_else(|| "/".to_owned());
    let version = input
        .version
        .clone()
        .unwrap_or_else(|| "HTTP/1.1".to_owned());
    let autocomplete = input.autocomplete_headers.unwrap_or(true);
    let mut headers: Vec<(String, String)> = if input.ordered_headers.is_empty() {
        input.headers.clone()
    } else {
        input
            .ordered_headers
            .iter()
            .map(|h| (h.name.clone(), h.value.clone()))
            .collect()
    };
    let mut data: Vec<u8> = match (&input.encoded_data, &input.data) {
        (Some(encoded), _) if !encoded.is_empty() => decode_base64(encoded)?,
        (_, Some(data)) => expand_data_template(data)?.into_bytes(),
        _ => Vec::new(),
    };
    if !data.is_empty() && autocomplete {
        add_header_if_absent(
            &mut headers,
            "Content-Type",
            "application/x-www-form-urlencoded",
        );
        if header_value(&headers, "Content-Type") == Some("application/x-www-form-urlencoded") {
            data = encode_form_data(&data);
        }
    }
    if header_value(&headers, "Content-Type")
        .is_some_and(|ct| ct.starts_with("multipart/form-data;"))
    {
        data = lf_to_crlf(&data);
    }
    if autocomplete {
        add_header_if_absent(&mut headers, "Connection", "close");
        if !data.is_empty() || method_may_have_body(&method) {
            add_header_if_absent(&mut headers, "Content-Length", &data.len().to_string());
        }
    }
    let mut bytes = Vec::with_capacity(128 + data.len());
    bytes.extend_from_slice(format!("{method} {uri} {version}\r\n").as_bytes());
    for (name, value) in &headers {
        bytes.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    bytes.extend_from_slice(b"\r\n");
    bytes.extend_from_slice(&data);
    Ok(BuiltRequest {
        bytes,
        is_head: method.eq_ignore_ascii_case("HEAD"),
    })
}

/// Largest body a `repeat` template may produce.
pub const MAX_TEMPLATE_BYTES: usize = 16 * 1024 * 1024;

/// Expands `{{ "TEXT" | repeat N }}` in stage data.
fn expand_data_template(data: &str) -> Result<String, FtwError> {
    static REPEAT: std::sync::LazyLock<Option<regex::Regex>> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r#"\{\{\s*"((?:[^"\\]|\\.)*)"\s*\|\s*repeat\s+(\d+)\s*\}\}"#).ok()
    });
    let Some(repeat) = REPEAT.as_ref() else {
        return Ok(data.to_owned());
    };
    let mut out = String::with_capacity(data.len());
    let mut last = 0;
    for captures in repeat.captures_iter(data) {
        let (Some(whole), Some(text), Some(count)) =
            (captures.get(0), captures.get(1), captures.get(2))
        else {
            continue;
        };
        let text = text.as_str().replace("\\\"", "\"").replace("\\\\", "\\");
        let count: usize = count.as_str().parse().unwrap_or(usize::MAX);
        if text.len().saturating_mul(count) > MAX_TEMPLATE_BYTES {
            return Err(FtwError::new(FtwErrorKind::Input(format!(
                "template expands beyond {MAX_TEMPLATE_BYTES} bytes"
            ))));
        }
        out.push_str(&data[last..whole.start()]);
        out.push_str(&text.repeat(count));
        last = whole.end();
    }
    out.push_str(&data[last..]);
    Ok(out)
}

fn decode_base64(text: &str) -> Result<Vec<u8>, FtwError> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .map_err(|error| FtwError::new(FtwErrorKind::Input(format!("invalid base64: {error}"))))
}

fn header_value<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// go-ftw adds a header when it is missing or its value is empty.
fn add_header_if_absent(headers: &mut Vec<(String, String)>, name: &str, value: &str) {
    match headers
        .iter_mut()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
    {
        Some((_, existing)) if existing.is_empty() => *existing = value.to_owned(),
        Some(_) => {}
        None => headers.push((name.to_owned(), value.to_owned())),
    }
}

/// go-ftw's `^POST|PUT|PATCH|DELETE$` (alternation binds loosely).
fn method_may_have_body(method: &str) -> bool {
    method.starts_with("POST")
        || method.contains("PUT")
        || method.contains("PATCH")
        || method.ends_with("DELETE")
}

fn lf_to_crlf(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + data.len() / 16);
    for &byte in data {
        if byte == b'\n' {
            out.push(b'\r');
        }
        out.push(byte);
    }
    out
}

/// go-ftw's `encodeDataParameters` for urlencoded bodies.
fn encode_form_data(data: &[u8]) -> Vec<u8> {
    // Go's url.QueryUnescape changes (or rejects) any input with '%' or '+'.
    if data.contains(&b'%') || data.contains(&b'+') {
        return data.to_vec();
    }
    let mut escaped = Vec::with_capacity(data.len() * 2);
    let mut remaining = data;
    while !remaining.is_empty() {
        let (token, rest) = match remaining.iter().position(|&b| b == b'&') {
            Some(amp) => (&remaining[..amp], &remaining[amp + 1..]),
            None => (remaining, &remaining[remaining.len()..]),
        };
        remaining = rest;
        match token.iter().position(|&b| b == b'=') {
            Some(eq) => {
                query_escape(&token[..eq], &mut escaped);
                escaped.push(b'=');
                query_escape(&token[eq + 1..], &mut escaped);
            }
            None => query_escape(token, &mut escaped),
        }
        escaped.push(b'&');
    }
    escaped.pop();
    escaped
}

/// Go's `url.QueryEscape`.
fn query_escape(input: &[u8], out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &byte in input {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(byte),
            b' ' => out.push(b'+'),
            _ => out.extend_from_slice(&[
                b'%',
                HEX[usize::from(byte >> 4)],
                HEX[usize::from(byte & 15)],
            ]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(yaml: &str) -> Input {
        serde_saphyr::from_str(yaml).expect("test input parses")
    }

    fn text(request: &BuiltRequest) -> String {
        String::from_utf8_lossy(&request.bytes).into_owned()
    }

    #[test]
    fn get_gets_connection_close_only() {
        let built = build_request(&input(
            "headers:\n  Host: localhost\n  User-Agent: t\nuri: /get?a=1\n",
        ))
        .unwrap();
        assert_eq!(
            text(&built),
            "GET /get?a=1 HTTP/1.1\r\nHost: localhost\r\nUser-Agent: t\r\nConnection: close\r\n\r\n"
        );
    }

    #[test]
    fn post_form_data_is_escaped_and_completed() {
        let built = build_request(&input(
            "method: POST\nheaders:\n  Host: localhost\ndata: 'a=b c&d=<x>&e'\n",
        ))
        .unwrap();
        assert_eq!(
            text(&built),
            "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\n\
             Connection: close\r\nContent-Length: 17\r\n\r\na=b+c&d=%3Cx%3E&e"
        );
    }

    #[test]
    fn already_encoded_data_is_kept() {
        let built = build_request(&input("method: POST\ndata: 'a=%27+or+1'\n")).unwrap();
        assert!(text(&built).ends_with("\r\n\r\na=%27+or+1"));
    }

    #[test]
    fn other_content_types_are_not_escaped() {
        let built = build_request(&input(
            "method: POST\nheaders:\n  Content-Type: application/json\ndata: '{\"a\": 1}'\n",
        ))
        .unwrap();
        assert!(text(&built).ends_with("Content-Length: 8\r\n\r\n{\"a\": 1}"));
    }

    #[test]
    fn multipart_lines_become_crlf() {
        let built = build_request(&input(
            "method: POST\nheaders:\n  Content-Type: multipart/form-data; boundary=X\ndata: \"--X\\nA\\n--X--\\n\"\n",
        ))
        .unwrap();
        assert!(text(&built).ends_with("Content-Length: 15\r\n\r\n--X\r\nA\r\n--X--\r\n"));
    }

    #[test]
    fn no_autocompletion_sends_headers_as_given() {
        let built = build_request(&input(
            "method: POST\nautocomplete_headers: false\ndata: 'x=1'\nversion: HTTP/1.0\n",
        ))
        .unwrap();
        assert_eq!(text(&built), "POST / HTTP/1.0\r\n\r\nx=1");
    }

    #[test]
    fn empty_post_gets_content_length_zero_and_empty_version_stays_empty() {
        let built = build_request(&input("method: POST\nversion: ''\n")).unwrap();
        assert_eq!(
            text(&built),
            "POST / \r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
        );
    }

    #[test]
    fn repeat_templates_expand_and_other_braces_stay() {
        let built = build_request(&input(
            "method: POST\nautocomplete_headers: false\ndata: 'a{{ \"12\" | repeat 3 }}b {{constructor()}}'\n",
        ))
        .unwrap();
        assert!(
            text(&built).ends_with("\r\n\r\na121212b {{constructor()}}"),
            "{}",
            text(&built)
        );
    }

    #[test]
    fn encoded_request_is_verbatim() {
        let built = build_request(&input(
            "encoded_request: R0VUIC8gSFRUUC8xLjENCg0K\nheaders:\n  Host: x\n",
        ))
        .unwrap();
        assert_eq!(built.bytes, b"GET / HTTP/1.1\r\n\r\n");
    }
}
