//! Sends labeled corpus lines through a real `palisade serve` (default
//! ruleset, block mode) in every placement a request can carry a value in,
//! and counts what the gateway blocked. Shared by the sample test
//! (`tests/corpus_placements.rs`) and the full-corpus benchmark
//! (`benches/corpus_placements.rs`).
//!
//! The upstream is a minimal HTTP/1.1 server that answers `200 ok` to every
//! request, so any other status is the gateway's verdict: 403 (anomaly score
//! reached) or 400 (a body the WAF refuses to parse) count as blocked.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine as _;

/// Where a value travels in the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// `GET /search?q=VALUE` (percent-encoded).
    Query,
    /// `POST` `application/x-www-form-urlencoded` body `q=VALUE`.
    Form,
    /// `POST` `multipart/form-data` field `q` (raw bytes).
    Multipart,
    /// `POST` `application/json` body `{"q": VALUE}`. A value that is not
    /// UTF-8 (a binary serialized object) cannot be a JSON string: it travels
    /// base64-encoded, as clients send binary in JSON.
    Json,
    /// `POST` `application/xml` body `<root><q>VALUE</q></root>` (escaped
    /// text). A value XML 1.0 cannot carry (not UTF-8, or control characters
    /// other than tab, LF and CR) travels base64-encoded, as in JSON.
    Xml,
    /// The `User-Agent` header. Bytes HTTP forbids there are percent-encoded
    /// (the rules URL-decode header values once, as an application would);
    /// the line's own `%XX` stay as they are, as in the other placements
    /// after the engine's own decoding.
    Header,
    /// Cookie `q=VALUE`, encoded like [`Placement::Header`] (and `;`, `,`, `"`, `\\`, space).
    Cookie,
    /// A path segment `/item/VALUE` (percent-encoded, `/` included).
    Path,
}

impl Placement {
    /// Every placement.
    pub const ALL: [Placement; 8] = [
        Placement::Query,
        Placement::Form,
        Placement::Multipart,
        Placement::Json,
        Placement::Xml,
        Placement::Header,
        Placement::Cookie,
        Placement::Path,
    ];

    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Placement::Query => "query",
            Placement::Form => "form",
            Placement::Multipart => "multipart",
            Placement::Json => "json",
            Placement::Xml => "xml",
            Placement::Header => "header",
            Placement::Cookie => "cookie",
            Placement::Path => "path",
        }
    }

    /// The complete HTTP/1.1 request carrying `value` (keep-alive).
    pub fn request(self, value: &[u8]) -> Vec<u8> {
        let mut request = Vec::with_capacity(value.len() * 3 + 256);
        let head = |request: &mut Vec<u8>, line: &[u8], headers: &[u8]| {
            request.extend_from_slice(line);
            request.extend_from_slice(b" HTTP/1.1\r\nHost: shop.test\r\nAccept: */*\r\n");
            request.extend_from_slice(headers);
        };
        let post = |request: &mut Vec<u8>, content_type: &str, body: &[u8]| {
            head(
                request,
                b"POST /submit",
                format!(
                    "Content-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                )
                .as_bytes(),
            );
            request.extend_from_slice(body);
        };
        match self {
            Placement::Query => {
                let line = [
                    b"GET /search?q=".as_slice(),
                    &percent_encode(value, |_| true),
                ]
                .concat();
                head(&mut request, &line, b"\r\n");
            }
            Placement::Path => {
                let line = [b"GET /item/".as_slice(), &percent_encode(value, |_| true)].concat();
                head(&mut request, &line, b"\r\n");
            }
            Placement::Form => {
                let body = [b"q=".as_slice(), &percent_encode(value, |_| true)].concat();
                post(&mut request, "application/x-www-form-urlencoded", &body);
            }
            Placement::Multipart => {
                let body = [
                    b"--palisade-corpus-7d1f0a\r\nContent-Disposition: form-data; name=\"q\"\r\n\r\n"
                        .as_slice(),
                    value,
                    b"\r\n--palisade-corpus-7d1f0a--\r\n",
                ]
                .concat();
                post(
                    &mut request,
                    "multipart/form-data; boundary=palisade-corpus-7d1f0a",
                    &body,
                );
            }
            Placement::Json => {
                let text = match std::str::from_utf8(value) {
                    Ok(text) => text.to_owned(),
                    Err(_) => base64::engine::general_purpose::STANDARD.encode(value),
                };
                let body = serde_json::json!({ "q": text }).to_string();
                post(&mut request, "application/json", body.as_bytes());
            }
            Placement::Xml => {
                let text = match std::str::from_utf8(value) {
                    Ok(text) if text.chars().all(xml_char) => text.to_owned(),
                    _ => base64::engine::general_purpose::STANDARD.encode(value),
                };
                let body = format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><root><q>{}</q></root>",
                    xml_escape(&text)
                );
                post(&mut request, "application/xml", body.as_bytes());
            }
            Placement::Header => {
                let header = [
                    b"User-Agent: ".as_slice(),
                    &percent_encode(value, |byte| !(0x20..0x7f).contains(&byte)),
                    b"\r\n\r\n",
                ]
                .concat();
                head(&mut request, b"GET /search?q=mug", &header);
            }
            Placement::Cookie => {
                let header = [
                    b"Cookie: q=".as_slice(),
                    &percent_encode(value, |byte| {
                        !(0x21..0x7f).contains(&byte) || b";,\"\\".contains(&byte)
                    }),
                    b"\r\n\r\n",
                ]
                .concat();
                head(&mut request, b"GET /search?q=mug", &header);
            }
        }
        request
    }
}

/// Percent-encodes the bytes outside unreserved ASCII that `encode` selects.
fn percent_encode(value: &[u8], encode: impl Fn(u8) -> bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() * 3);
    for &byte in value {
        let unreserved = byte.is_ascii_alphanumeric() || b"-._~".contains(&byte);
        if !unreserved && encode(byte) {
            out.extend_from_slice(format!("%{byte:02X}").as_bytes());
        } else {
            out.push(byte);
        }
    }
    out
}

/// A character XML 1.0 can carry in text.
fn xml_char(ch: char) -> bool {
    matches!(ch, '\t' | '\n' | '\r') || !(ch < ' ' || ch == '\u{FFFE}' || ch == '\u{FFFF}')
}

fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            ch => out.push(ch),
        }
    }
    out
}

/// The upstream: answers `200 ok` to every request, keep-alive, one thread per connection.
pub struct Upstream {
    /// Its address.
    pub addr: SocketAddr,
}

impl Upstream {
    /// Binds 127.0.0.1:0 and serves until the process exits.
    pub fn start() -> Upstream {
        let listener = TcpListener::bind("127.0.0.1:0").expect("upstream binds");
        let addr = listener.local_addr().expect("upstream address");
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                std::thread::spawn(move || serve_connection(stream));
            }
        });
        Upstream { addr }
    }
}

fn serve_connection(stream: TcpStream) {
    let Ok(writer) = stream.try_clone() else {
        return;
    };
    let mut writer = writer;
    let mut reader = BufReader::new(stream);
    loop {
        let mut content_length = 0usize;
        let mut chunked = false;
        let mut line = String::new();
        let mut first = true;
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            if line == "\r\n" || line == "\n" {
                if first {
                    continue;
                }
                break;
            }
            first = false;
            let lower = line.to_ascii_lowercase();
            if let Some(value) = lower.strip_prefix("content-length:") {
                content_length = value.trim().parse().unwrap_or(0);
            }
            if lower.starts_with("transfer-encoding:") && lower.contains("chunked") {
                chunked = true;
            }
        }
        if chunked {
            loop {
                line.clear();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    return;
                }
                let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or("0"), 16)
                    .unwrap_or(0);
                let mut chunk = vec![0u8; size + 2];
                if reader.read_exact(&mut chunk).is_err() {
                    return;
                }
                if size == 0 {
                    break;
                }
            }
        } else {
            let mut body = vec![0u8; content_length];
            if reader.read_exact(&mut body).is_err() {
                return;
            }
        }
        if writer
            .write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n",
            )
            .is_err()
        {
            return;
        }
    }
}

/// A `palisade serve --upstream …` child process with the default ruleset; killed when dropped.
pub struct Gateway {
    child: Child,
    /// The gateway listener.
    pub addr: SocketAddr,
    _data: tempfile::TempDir,
}

impl Gateway {
    /// Starts `binary serve` in front of `upstream`.
    pub fn start(binary: &Path, upstream: SocketAddr) -> Gateway {
        let data = tempfile::tempdir().expect("tempdir");
        // The default ruleset alone decides: the anomaly monitor would (rightly) ban this one
        // client for probing many distinct paths, which is not what this test measures.
        let config = format!(
            "data_dir = {data_dir:?}\n\n[[listener]]\naddr = \"127.0.0.1:0\"\n\n[admin]\naddr = \"127.0.0.1:0\"\n\n\
             [[upstream]]\nname = \"app\"\nservers = [\"http://{upstream}\"]\n\n[[site]]\nhosts = [\"*\"]\n\n\
             [[site.route]]\nupstream = \"app\"\n\n[monitor]\nenabled = false\n",
            data_dir = data.path().display().to_string(),
        );
        let config_path = data.path().join("palisade.toml");
        std::fs::write(&config_path, config).expect("write config");
        let mut child = Command::new(binary)
            .args(["serve", "--config"])
            .arg(&config_path)
            .current_dir(data.path())
            .env("RUST_LOG", "error")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("palisade starts");
        let mut first = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut first)
            .expect("listening line");
        let announced: serde_json::Value =
            serde_json::from_str(&first).unwrap_or_else(|error| panic!("{first:?}: {error}"));
        let addr = announced["listening"][0]
            .as_str()
            .and_then(|addr| addr.parse().ok())
            .unwrap_or_else(|| panic!("no listener in {first:?}"));
        Gateway {
            child,
            addr,
            _data: data,
        }
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A keep-alive client connection that reconnects when the server closes.
pub struct Client {
    addr: SocketAddr,
    stream: Option<BufReader<TcpStream>>,
}

impl Client {
    /// A client of `addr` (connects lazily).
    pub fn new(addr: SocketAddr) -> Client {
        Client { addr, stream: None }
    }

    /// Sends `request` and returns the response status (one retry on a fresh connection).
    pub fn status(&mut self, request: &[u8]) -> u16 {
        for _ in 0..2 {
            if let Some(status) = self.try_status(request) {
                return status;
            }
            self.stream = None;
        }
        panic!("no response from the gateway at {}", self.addr);
    }

    fn try_status(&mut self, request: &[u8]) -> Option<u16> {
        if self.stream.is_none() {
            let stream = TcpStream::connect_timeout(&self.addr, Duration::from_secs(5)).ok()?;
            stream
                .set_read_timeout(Some(Duration::from_secs(30)))
                .ok()?;
            stream.set_nodelay(true).ok()?;
            self.stream = Some(BufReader::new(stream));
        }
        let reader = self.stream.as_mut()?;
        reader.get_mut().write_all(request).ok()?;
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        let status: u16 = line.split(' ').nth(1)?.parse().ok()?;
        let mut content_length = 0usize;
        let mut close = false;
        loop {
            line.clear();
            if reader.read_line(&mut line).ok()? == 0 {
                return None;
            }
            if line == "\r\n" {
                break;
            }
            let lower = line.to_ascii_lowercase();
            if let Some(value) = lower.strip_prefix("content-length:") {
                content_length = value.trim().parse().ok()?;
            }
            if lower.starts_with("connection:") && lower.contains("close") {
                close = true;
            }
        }
        let mut body = vec![0u8; content_length];
        reader.read_exact(&mut body).ok()?;
        if close {
            self.stream = None;
        }
        Some(status)
    }
}

/// Blocked / total for one placement and one label.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Requests sent.
    pub total: usize,
    /// Requests answered 403 or 400.
    pub blocked: usize,
    /// Requests answered anything but 200, 400 or 403 (should stay 0).
    pub other: usize,
}

impl Tally {
    /// `blocked / total` in percent.
    pub fn percent(self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.blocked as f64 * 100.0 / self.total as f64
        }
    }
}

/// Figures for one placement.
#[derive(Debug, Clone, Default)]
pub struct PlacementReport {
    /// Attack lines (blocked = true positives).
    pub attacks: Tally,
    /// Benign lines (blocked = false positives).
    pub benign: Tally,
    /// Up to `shown` missed attacks and `shown` blocked benign lines (see [`run`]), for tuning.
    pub examples: Vec<String>,
}

/// Sends every value in `placement` over `threads` keep-alive connections;
/// keeps up to `shown` missed attacks and `shown` blocked benign lines as examples.
pub fn run(
    gateway: SocketAddr,
    placement: Placement,
    attacks: &[Vec<u8>],
    benign: &[Vec<u8>],
    threads: usize,
    shown: usize,
) -> PlacementReport {
    let mut report = PlacementReport::default();
    for (lines, is_attack) in [(attacks, true), (benign, false)] {
        let chunk = lines.len().div_ceil(threads.max(1)).max(1);
        let results: Vec<(Vec<u8>, u16)> = std::thread::scope(|scope| {
            let handles: Vec<_> = lines
                .chunks(chunk)
                .map(|part| {
                    scope.spawn(move || {
                        let mut client = Client::new(gateway);
                        part.iter()
                            .map(|line| (line.clone(), client.status(&placement.request(line))))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|handle| handle.join().expect("client thread"))
                .collect()
        });
        let tally = if is_attack {
            &mut report.attacks
        } else {
            &mut report.benign
        };
        let mut kept = 0;
        for (line, status) in results {
            tally.total += 1;
            let blocked = matches!(status, 400 | 403);
            if blocked {
                tally.blocked += 1;
            } else if status != 200 {
                tally.other += 1;
            }
            if blocked != is_attack && kept < shown {
                kept += 1;
                report.examples.push(format!(
                    "{} {status} {}",
                    if is_attack { "MISSED " } else { "BLOCKED" },
                    String::from_utf8_lossy(&line).escape_debug()
                ));
            }
        }
    }
    report
}

/// The repository corpus directory.
pub fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../corpus")
}

/// Lines of every `*.txt` file under `corpus/<kind>`, each with its file stem.
pub fn corpus(kind: &str) -> Vec<(String, Vec<Vec<u8>>)> {
    let dir = corpus_dir().join(kind);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("{}: {error}", dir.display()))
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|extension| extension == "txt"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|path| {
            let stem = path
                .file_stem()
                .map(|stem| stem.to_string_lossy().into_owned())
                .unwrap_or_default();
            let lines = palisade_detect::eval::read_lines(path)
                .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
            (stem, lines)
        })
        .collect()
}
