//! The out-of-band receiver: an HTTP listener the scanner starts for the scan, so that checks
//! whose only effect is a request the application makes (SSRF) can see it arrive. Each probe
//! asks for a URL with a random path token; the receiver records every request line it is sent
//! and answers `200` with a fixed body, so a full-read SSRF also shows that body in the
//! application's answer. By default it binds 127.0.0.1 on a free port and hands out that
//! address: it sees applications on the same host only. For an application elsewhere the
//! [`CallbackConfig`] names the address to listen on and, separately, the `host:port` the
//! application is told to call (an address of the scanner's machine it can reach, or a port
//! forwarded to it). It stops on drop.

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

/// Where the receiver listens and what address the application is told to call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackConfig {
    /// The listening address (default 127.0.0.1 on a free port).
    pub listen: SocketAddr,
    /// `host:port` put in the URLs the application gets (default: the bound address).
    pub advertise: Option<String>,
}

impl Default for CallbackConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            advertise: None,
        }
    }
}

/// The running receiver; stops when dropped.
#[derive(Debug)]
pub struct Callbacks {
    addr: SocketAddr,
    /// `http://host:port` of the URLs handed out.
    base: String,
    hits: Arc<Mutex<Vec<Hit>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Callbacks {
    /// Binds `config.listen` and starts accepting.
    pub fn start(config: &CallbackConfig) -> Result<Self, ScanError> {
        let listener = TcpListener::bind(config.listen)
            .and_then(|l| l.local_addr().map(|a| (l, a)))
            .map_err(|e| ScanError::callback(format!("cannot listen on {}: {e}", config.listen)));
        let (listener, addr) = listener?;
        let base = match &config.advertise {
            Some(advertised) => format!("http://{advertised}"),
            None => format!("http://{addr}"),
        };
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
            base,
            hits,
            stop,
            thread: Some(thread),
        })
    }

    /// The URL whose request proves that the application fetched `token`.
    pub fn url(&self, token: &str) -> String {
        format!("{}/{token}", self.base)
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
        // Wakes the accept loop so that it sees the flag (through loopback when the receiver
        // listens on every interface).
        let mut wake = self.addr;
        if wake.ip().is_unspecified() {
            wake.set_ip(match wake {
                SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
                SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
            });
        }
        let _ = TcpStream::connect_timeout(&wake, Duration::from_secs(1));
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
        let callbacks =
            Callbacks::start(&CallbackConfig::default()).unwrap_or_else(|e| panic!("{e}"));
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

    #[test]
    fn the_advertised_address_is_handed_out_and_every_interface_is_heard() {
        let callbacks = Callbacks::start(&CallbackConfig {
            listen: SocketAddr::from(([0, 0, 0, 0], 0)),
            advertise: Some("scanner.example:8099".into()),
        })
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(callbacks.url("plsqx"), "http://scanner.example:8099/plsqx");
        // Listening on every interface includes loopback.
        let port = callbacks.addr.port();
        let url = url::Url::parse(&format!("http://127.0.0.1:{port}/plsqtoken2"))
            .unwrap_or_else(|e| panic!("{e}"));
        let client = Client::new(HttpConfig::default());
        client
            .send(&Request::get(url))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(callbacks.wait_for("plsqtoken2", Duration::ZERO).is_some());
        drop(callbacks); // the accept loop is woken through loopback and ends
    }
}
