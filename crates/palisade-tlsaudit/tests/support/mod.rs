//! Test servers: an in-process rustls HTTPS server with an rcgen CA and leaf, and a TCP server
//! that answers every connection with fixed bytes.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use rustls::ServerConfig;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

pub use palisade_testkit::TestPki;

/// A blocking rustls HTTPS server on 127.0.0.1 answering every request with `response`.
pub struct RustlsServer {
    pub port: u16,
}

impl RustlsServer {
    /// TLS 1.2 and 1.3.
    pub fn start(pki: &TestPki, response: &'static str, early_data: bool) -> Self {
        Self::start_with_versions(
            pki,
            response,
            early_data,
            &[&rustls::version::TLS13, &rustls::version::TLS12],
        )
    }

    pub fn start_with_versions(
        pki: &TestPki,
        response: &'static str,
        early_data: bool,
        versions: &[&'static rustls::SupportedProtocolVersion],
    ) -> Self {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(versions)
            .expect("versions")
            .with_no_client_auth()
            .with_single_cert(
                vec![CertificateDer::from(pki.leaf_der.clone())],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(pki.leaf_key_der.clone())),
            )
            .expect("server config");
        if early_data {
            config.max_early_data_size = 16 * 1024;
        }
        let config = Arc::new(config);
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let config = config.clone();
                std::thread::spawn(move || serve_one(stream, config, response));
            }
        });
        Self { port }
    }
}

fn serve_one(mut socket: TcpStream, config: Arc<ServerConfig>, response: &str) {
    let _ = socket.set_read_timeout(Some(Duration::from_secs(5)));
    let Ok(mut conn) = rustls::ServerConnection::new(config) else {
        return;
    };
    let mut request = Vec::new();
    while conn.is_handshaking() {
        if conn.complete_io(&mut socket).is_err() {
            return;
        }
        if let Some(mut early) = conn.early_data() {
            let _ = early.read_to_end(&mut request);
        }
    }
    let mut stream = rustls::Stream::new(&mut conn, &mut socket);
    let mut buf = [0u8; 4096];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 65_536 {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    let _ = stream.write_all(response.as_bytes());
    let _ = stream.flush();
    conn.send_close_notify();
    let _ = conn.complete_io(&mut socket);
}

/// A TCP server that reads a little and then answers every connection with `answer(n)` for the
/// n-th connection.
pub fn fixed_answer_server(answer: impl Fn(usize) -> Vec<u8> + Send + 'static) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for (n, stream) in listener.incoming().enumerate() {
            let Ok(mut stream) = stream else { continue };
            let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
            let mut buf = [0u8; 2048];
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(&answer(n));
        }
    });
    port
}
