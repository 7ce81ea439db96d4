//! The out-of-band receiver: a loopback HTTP listener the scanner starts for the scan, so that
//! checks whose only effect is a request the application makes (SSRF) can see it arrive. Each
//! probe asks for a URL with a random path token; the receiver records every request line it
//! is sent and answers `200` with a fixed body, so a full-read SSRF also shows that body in the
//! application's answer. The listener binds 127.0.0.1 only: it sees applications on the same
//! host (or that reach the scanner's loopback), never anything else, and it stops on drop.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::error::ScanError;

/// The body every callback is answered with.
pub const BODY: &str = "palisade-callback-received";
/// Most bytes of a request head read.
const MAX_HEAD: usize = 8 * 1024;
/// How long one connection may take to send its head.
const READ_TIMEOUT: Duration = Duration::from_secs(2);
/// Most requests remembered (a scan asks for a few per URL-like parameter).
const MAX_HITS: usize = 10_000;

/// One request the receiver got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// The request line (`GET /token HTTP/1.1`).
    pub request_line: String,
    /// The `User-Agent` header, when sent (it names the application's HTTP client).
    pub user_agent: Option<String>,
}

/// The running receiver; stops when dropped.
#[derive(Debug)]
pub struct Callbacks {
    addr: SocketAddr,
    hits: Arc<Mutex<Vec<Hit>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Callbacks {
    /// Binds 127.0.0.1 on a free port and starts accepting.
    pub fn start() -> Result<Self, ScanError> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr().map(|a| (l, a)))
            .map_err(|e| ScanError::callback(format!("cannot listen on 127.0.0.1: {e}")));
        let (listener, addr) = listener?;
        let hits = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (hits, stop) = (Arc::clone(&hits), Arc::clone(&stop));
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let Ok(mut stream) = stream else { continue };
                    // Recorded before answering: whoever sees the answer finds the hit.
                    if let Some(hit) = read_head(&mut stream) {
                        let mut hits = hits
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner);
                        if hits.len() < MAX_HITS {
                            hits.push(hit);
                        }
                    }
                    respond(&mut stream);
                }
            })
        };
        Ok(Self {
            addr,
            hits,
            stop,
            thread: Some(thread),
        })
    }

    /// The URL whose request proves that the application fetched `token`.
    pub fn url(&self, token: &str) -> String {
        format!("http://{}/{token}", self.addr)
    }

    /// The request for `token`, waiting up to `grace` for it (applications may fetch after
    /// answering).
    pub fn wait_for(&self, token: &str, grace: Duration) -> Option<Hit> {
        let path = format!("/{token}");
        let deadline = Instant::now() + grace;
        loop {
            let found = self
                .hits
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .iter()
                .find(|h| h.request_line.split_whitespace().nth(1) == Some(path.as_str()))
                .cloned();
            if found.is_some() || Instant::now() >= deadline {
                return found;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Callbacks {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wakes the accept loop so that it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Reads one request head and returns what was asked.
fn read_head(stream: &mut TcpStream) -> Option<Hit> {
    let _ = stream.set_read_timeout(Some(READ_TIMEOUT));
    let _ = stream.set_write_timeout(Some(READ_TIMEOUT));
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while head.len() < MAX_HEAD && !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let mut lines = head.lines();
    let request_line = lines.next()?.trim().to_owned();
    if request_line.is_empty() {
        return None;
    }
    let user_agent = lines
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("user-agent"))
        .map(|(_, value)| value.trim().to_owned());
    Some(Hit {
        request_line,
        user_agent,
    })
}

/// Answers `200` with [`BODY`].
fn respond(stream: &mut TcpStream) {
    let _ = write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{BODY}",
        BODY.len()
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::{Client, HttpConfig, Request};

    #[test]
    fn the_receiver_records_tokens_and_answers() {
        let callbacks = Callbacks::start().unwrap_or_else(|e| panic!("{e}"));
        let url = url::Url::parse(&callbacks.url("plsqtoken1")).unwrap_or_else(|e| panic!("{e}"));
        let client = Client::new(HttpConfig::default());
        let exchange = client
            .send(&Request::get(url))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((exchange.status, exchange.body.as_str()), (200, BODY));
        let hit = callbacks
            .wait_for("plsqtoken1", Duration::ZERO)
            .unwrap_or_else(|| panic!("the request was recorded"));
        assert!(hit.request_line.starts_with("GET /plsqtoken1 "), "{hit:?}");
        assert!(
            hit.user_agent
                .is_some_and(|ua| ua.starts_with("palisade-scan"))
        );
        // A token never asked for is never reported, and a prefix does not match another token.
        assert!(
            callbacks
                .wait_for("plsqtoken", Duration::from_millis(50))
                .is_none()
        );
    }
}
