//! Request handling of the demo application: routing, pages and state.

use std::collections::HashSet;
use std::sync::Mutex;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use serde::{Deserialize, Serialize};

/// The demo account's user name.
pub const DEMO_USER: &str = "demo";
/// The demo account's password.
pub const DEMO_PASSWORD: &str = "demo";
/// Name of the session cookie set by a successful login.
pub const SESSION_COOKIE: &str = "demo_session";

/// Largest request body read (uploads included).
const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Most items the in-memory API keeps; older ones are dropped.
const MAX_ITEMS: usize = 1000;
/// Most sessions kept; the oldest is not tracked, so the set is cleared when full.
const MAX_SESSIONS: usize = 10_000;
/// Longest item name accepted by the API.
const MAX_ITEM_NAME_CHARS: usize = 200;

type Page = Response<Full<Bytes>>;

/// In-memory state: sessions and API items.
pub(crate) struct State {
    sessions: Mutex<HashSet<String>>,
    items: Mutex<Vec<Item>>,
}

impl Default for State {
    fn default() -> Self {
        State {
            sessions: Mutex::new(HashSet::new()),
            items: Mutex::new(vec![
                Item {
                    id: 1,
                    name: "Palisade sticker".to_owned(),
                },
                Item {
                    id: 2,
                    name: "Demo mug".to_owned(),
                },
            ]),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
struct Item {
    id: u64,
    name: String,
}

#[derive(Debug, Deserialize)]
struct NewItem {
    name: String,
}

pub(crate) async fn handle<B>(state: &State, request: Request<B>) -> Page
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_owned();
    let query = parts.uri.query().unwrap_or("").to_owned();
    let method = parts.method.clone();
    let body = match read_body(body).await {
        Ok(body) => body,
        Err(status) => {
            return page(
                status,
                "Request refused",
                "<p>The request body is too large or broken.</p>",
            );
        }
    };
    match (method, path.as_str()) {
        (Method::GET, "/") => index(),
        (Method::GET, "/login") => login_form(StatusCode::OK, ""),
        (Method::POST, "/login") => login(state, &body),
        (Method::GET, "/search") => search(&query),
        (Method::GET, "/api/items") => list_items(state),
        (Method::POST, "/api/items") => create_item(state, &body),
        (Method::GET, "/upload") => upload_form(),
        (Method::POST, "/upload") => upload(&parts.headers, &body),
        (Method::GET, "/account") => account(state, &parts.headers),
        (_, "/" | "/login" | "/search" | "/api/items" | "/upload" | "/account") => page(
            StatusCode::METHOD_NOT_ALLOWED,
            "Method not allowed",
            "<p>This page does not accept that method.</p>",
        ),
        _ => page(
            StatusCode::NOT_FOUND,
            "Not found",
            "<p>No such page. <a href=\"/\">Home</a></p>",
        ),
    }
}

async fn read_body<B>(body: B) -> Result<Bytes, StatusCode>
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) if error.is::<http_body_util::LengthLimitError>() => {
            Err(StatusCode::PAYLOAD_TOO_LARGE)
        }
        Err(_) => Err(StatusCode::BAD_REQUEST),
    }
}

fn index() -> Page {
    page(
        StatusCode::OK,
        "Palisade demo shop",
        "<p>A tiny application behind the Palisade gateway.</p>\n<ul>\n\
         <li><a href=\"/login\">Log in</a> (user <code>demo</code>, password <code>demo</code>)</li>\n\
         <li><a href=\"/search?q=mug\">Search</a></li>\n\
         <li><a href=\"/api/items\">JSON API: items</a></li>\n\
         <li><a href=\"/upload\">Upload a file</a></li>\n\
         <li><a href=\"/account\">Your account</a> (needs a login)</li>\n</ul>",
    )
}

fn login_form(status: StatusCode, notice: &str) -> Page {
    let body = format!(
        "{notice}<form method=\"post\" action=\"/login\">\n\
         <label>User <input name=\"username\"></label>\n\
         <label>Password <input name=\"password\" type=\"password\"></label>\n\
         <button type=\"submit\">Log in</button>\n</form>"
    );
    page(status, "Log in", &body)
}

fn login(state: &State, body: &[u8]) -> Page {
    let mut username = String::new();
    let mut password = String::new();
    for (key, value) in form_pairs(body) {
        match key.as_str() {
            "username" => username = value,
            "password" => password = value,
            _ => {}
        }
    }
    if username != DEMO_USER || password != DEMO_PASSWORD {
        return login_form(
            StatusCode::UNAUTHORIZED,
            "<p class=\"error\">Wrong user name or password.</p>\n",
        );
    }
    let token = uuid::Uuid::new_v4().simple().to_string();
    {
        let mut sessions = lock(&state.sessions);
        if sessions.len() >= MAX_SESSIONS {
            sessions.clear();
        }
        sessions.insert(token.clone());
    }
    let mut response = redirect("/account");
    if let Ok(cookie) =
        header::HeaderValue::from_str(&format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly"))
    {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

fn search(query: &str) -> Page {
    let q = form_pairs(query.as_bytes())
        .into_iter()
        .find(|(k, _)| k == "q")
        .map(|(_, v)| v)
        .unwrap_or_default();
    let q = escape_html(&q);
    let body = format!(
        "<form action=\"/search\"><input name=\"q\" value=\"{q}\"><button>Search</button></form>\n\
         <p>You searched for: <strong>{q}</strong></p>\n<p>No products found.</p>"
    );
    page(StatusCode::OK, "Search", &body)
}

fn list_items(state: &State) -> Page {
    let items = lock(&state.items).clone();
    json(StatusCode::OK, &items)
}

fn create_item(state: &State, body: &[u8]) -> Page {
    let new: NewItem = match serde_json::from_slice(body) {
        Ok(new) => new,
        Err(error) => {
            return json(
                StatusCode::BAD_REQUEST,
                &serde_json::json!({ "error": format!("expected {{\"name\": \"...\"}}: {error}") }),
            );
        }
    };
    if new.name.is_empty() || new.name.chars().count() > MAX_ITEM_NAME_CHARS {
        return json(
            StatusCode::BAD_REQUEST,
            &serde_json::json!({ "error": "name must have 1 to 200 characters" }),
        );
    }
    let mut items = lock(&state.items);
    let id = items.last().map_or(1, |item| item.id + 1);
    if items.len() >= MAX_ITEMS {
        items.remove(0);
    }
    let item = Item { id, name: new.name };
    items.push(item.clone());
    json(StatusCode::CREATED, &item)
}

fn upload_form() -> Page {
    page(
        StatusCode::OK,
        "Upload",
        "<form method=\"post\" action=\"/upload\" enctype=\"multipart/form-data\">\n\
         <input type=\"file\" name=\"file\">\n<button type=\"submit\">Upload</button>\n</form>",
    )
}

fn upload(headers: &http::HeaderMap, body: &[u8]) -> Page {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let Some(boundary) = crate::multipart::boundary(content_type) else {
        return page(
            StatusCode::BAD_REQUEST,
            "Upload",
            "<p>Expected a multipart/form-data body.</p>",
        );
    };
    let files = match crate::multipart::files(body, boundary) {
        Ok(files) if !files.is_empty() => files,
        Ok(_) => {
            return page(
                StatusCode::BAD_REQUEST,
                "Upload",
                "<p>No file in the upload.</p>",
            );
        }
        Err(problem) => {
            return page(
                StatusCode::BAD_REQUEST,
                "Upload",
                &format!("<p>Malformed upload: {}</p>", escape_html(problem)),
            );
        }
    };
    let list: String = files
        .iter()
        .map(|f| {
            format!(
                "<li>Received <strong>{}</strong>: {} bytes</li>\n",
                escape_html(&f.file_name),
                f.size
            )
        })
        .collect();
    page(StatusCode::OK, "Upload", &format!("<ul>\n{list}</ul>"))
}

fn account(state: &State, headers: &http::HeaderMap) -> Page {
    let logged_in =
        session_token(headers).is_some_and(|token| lock(&state.sessions).contains(token));
    if logged_in {
        page(
            StatusCode::OK,
            "Your account",
            "<p>Logged in as <strong>demo</strong>. Nothing to see here but a secret: 42.</p>",
        )
    } else {
        let mut response = redirect("/login");
        *response.status_mut() = StatusCode::SEE_OTHER;
        response
    }
}

fn session_token(headers: &http::HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value)
}

/// Decodes `application/x-www-form-urlencoded` pairs (also used for query strings).
fn form_pairs(input: &[u8]) -> Vec<(String, String)> {
    const MAX_PAIRS: usize = 100;
    let decode = |part: &[u8]| {
        let spaced: Vec<u8> = part
            .iter()
            .map(|&b| if b == b'+' { b' ' } else { b })
            .collect();
        percent_encoding::percent_decode(&spaced)
            .decode_utf8_lossy()
            .into_owned()
    };
    input
        .split(|&b| b == b'&')
        .filter(|part| !part.is_empty())
        .take(MAX_PAIRS)
        .map(|part| {
            let (key, value) = match part.iter().position(|&b| b == b'=') {
                Some(i) => (&part[..i], &part[i + 1..]),
                None => (part, &[][..]),
            };
            (decode(key), decode(value))
        })
        .collect()
}

/// Escapes text for HTML element content and quoted attribute values.
pub(crate) fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding the lock cannot leave sessions or items half-updated.
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn page(status: StatusCode, title: &str, body: &str) -> Page {
    let html = format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title></head>\n\
         <body><h1>{title}</h1>\n{body}\n<p><a href=\"/\">Home</a></p></body></html>\n"
    );
    respond(status, "text/html; charset=utf-8", html.into_bytes())
}

fn json<T: Serialize>(status: StatusCode, value: &T) -> Page {
    let bytes = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
    respond(status, "application/json", bytes)
}

fn redirect(location: &'static str) -> Page {
    let mut response = respond(
        StatusCode::FOUND,
        "text/plain; charset=utf-8",
        b"Redirecting\n".to_vec(),
    );
    response
        .headers_mut()
        .insert(header::LOCATION, header::HeaderValue::from_static(location));
    response
}

fn respond(status: StatusCode, content_type: &'static str, body: Vec<u8>) -> Page {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(content_type),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape_html("<script>alert('x')</script> & \""),
            "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;"
        );
    }

    #[test]
    fn decodes_form_pairs() {
        let pairs = form_pairs(b"q=%27+OR+1%3D1--&x&=v");
        assert_eq!(pairs[0], ("q".to_owned(), "' OR 1=1--".to_owned()));
        assert_eq!(pairs[1], ("x".to_owned(), String::new()));
        assert_eq!(pairs[2], (String::new(), "v".to_owned()));
        assert_eq!(form_pairs(&b"a=1&".repeat(500)).len(), 100);
    }
}
