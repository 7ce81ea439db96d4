//! TLS through real sockets: ALPN h2, SNI certificate choice, mTLS required/optional with the client
//! certificate subject on the request head, the HTTPS redirect listener, HSTS only on TLS,
//! certificates reloaded when their files change, and `https://` upstreams (HTTP/1.1 and h2).

mod common;

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use common::*;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::{TokioExecutor, TokioIo};
use palisade_core::{Inspection, Inspector, RequestHead};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use tokio::net::TcpStream;

struct Pki {
    dir: tempfile::TempDir,
    ca_der: CertificateDer<'static>,
    client_chain: Vec<CertificateDer<'static>>,
    client_key: Vec<u8>,
    server_ders: Vec<(String, CertificateDer<'static>)>,
}

fn pki() -> Pki {
    let dir = tempfile::tempdir().unwrap();
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "Palisade Test CA");
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    std::fs::write(dir.path().join("ca.pem"), ca_cert.pem()).unwrap();
    std::fs::write(dir.path().join("ca.key"), ca_key.serialize_pem()).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let mut server_ders = Vec::new();
    for name in ["a.test", "b.test", "c.test", "localhost"] {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(vec![name.to_owned()]).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        let cert = params.signed_by(&key, &issuer).unwrap();
        std::fs::write(dir.path().join(format!("{name}.crt")), cert.pem()).unwrap();
        std::fs::write(dir.path().join(format!("{name}.key")), key.serialize_pem()).unwrap();
        server_ders.push((name.to_owned(), cert.der().clone()));
    }
    let client_key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(DnType::CommonName, "alice");
    params
        .distinguished_name
        .push(DnType::OrganizationName, "Example Corp");
    let client_cert = params.signed_by(&client_key, &issuer).unwrap();
    Pki {
        ca_der: ca_cert.der().clone(),
        client_chain: vec![client_cert.der().clone()],
        client_key: client_key.serialize_der(),
        server_ders,
        dir,
    }
}

/// Records the client certificate subject every request arrives with.
#[derive(Default, Clone)]
struct SubjectRecorder(Arc<Mutex<Vec<Option<String>>>>);

struct Noop;
impl Inspection for Noop {}

impl Inspector for SubjectRecorder {
    fn name(&self) -> &str {
        "subjects"
    }
    fn start(&self, head: &RequestHead) -> Box<dyn Inspection> {
        self.0
            .lock()
            .unwrap()
            .push(head.client_cert_subject.clone());
        Box::new(Noop)
    }
}

fn client_config(pki: &Pki, with_client_cert: bool, alpn: &[&[u8]]) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(pki.ca_der.clone()).unwrap();
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots);
    let mut config = if with_client_cert {
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(pki.client_key.clone()));
        builder
            .with_client_auth_cert(pki.client_chain.clone(), key)
            .unwrap()
    } else {
        builder.with_no_client_auth()
    };
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Arc::new(config)
}

struct TlsAnswer {
    status: u16,
    version: http::Version,
    headers: http::HeaderMap,
    peer_cert: CertificateDer<'static>,
}

/// Connects with SNI `sni`, sends `GET path` with Host `host` over whatever ALPN chose.
async fn tls_get(
    addr: std::net::SocketAddr,
    config: Arc<rustls::ClientConfig>,
    sni: &str,
    host: &str,
    path: &str,
) -> std::io::Result<TlsAnswer> {
    let tcp = TcpStream::connect(addr).await?;
    let connector = tokio_rustls::TlsConnector::from(config);
    let tls = connector
        .connect(ServerName::try_from(sni.to_owned()).unwrap(), tcp)
        .await?;
    let (_, session) = tls.get_ref();
    let peer_cert = session.peer_certificates().unwrap()[0].clone();
    let h2 = session.alpn_protocol() == Some(b"h2");
    let io = TokioIo::new(tls);
    let response = if h2 {
        let (mut sender, conn) = hyper::client::conn::http2::handshake(TokioExecutor::new(), io)
            .await
            .map_err(std::io::Error::other)?;
        tokio::spawn(conn);
        let request = http::Request::get(format!("https://{host}{path}"))
            .body(Empty::<Bytes>::new())
            .unwrap();
        sender
            .send_request(request)
            .await
            .map_err(std::io::Error::other)?
    } else {
        let (mut sender, conn) = hyper::client::conn::http1::handshake(io)
            .await
            .map_err(std::io::Error::other)?;
        tokio::spawn(conn);
        let request = http::Request::get(path)
            .header("host", host)
            .body(Empty::<Bytes>::new())
            .unwrap();
        sender
            .send_request(request)
            .await
            .map_err(std::io::Error::other)?
    };
    let (parts, body) = response.into_parts();
    let _ = body.collect().await;
    Ok(TlsAnswer {
        status: parts.status.as_u16(),
        version: parts.version,
        headers: parts.headers,
        peer_cert,
    })
}

fn tls_config(pki: &Pki, upstream: std::net::SocketAddr) -> String {
    let dir = pki.dir.path().display();
    format!(
        r#"
[[listener]]
addr = "127.0.0.1:0"
tls = true

[[listener]]
addr = "127.0.0.1:0"
redirect_to_https = true

[[upstream]]
name = "app"
servers = ["http://{upstream}"]

[[site]]
hosts = ["a.test"]
tls = {{ cert = "{dir}/a.test.crt", key = "{dir}/a.test.key" }}
[[site.route]]
upstream = "app"

[[site]]
hosts = ["b.test"]
tls = {{ cert = "{dir}/b.test.crt", key = "{dir}/b.test.key", client_ca = "{dir}/ca.pem", client_auth = "required" }}
[[site.route]]
upstream = "app"

[[site]]
hosts = ["c.test"]
tls = {{ cert = "{dir}/c.test.crt", key = "{dir}/c.test.key", client_ca = "{dir}/ca.pem", client_auth = "optional" }}
[[site.route]]
upstream = "app"
"#
    )
}

#[tokio::test]
async fn tls_alpn_sni_mtls_and_redirect() {
    let pki = pki();
    let up = upstream("a").await;
    let recorder = SubjectRecorder::default();
    let (gw, _) = start_with(&tls_config(&pki, up.addr), vec![Arc::new(recorder.clone())]).await;
    let tls_addr = gw.local_addrs()[0];
    let redirect_addr = gw.local_addrs()[1];

    // HTTP/2 through ALPN, certificate chosen by SNI, HSTS on TLS.
    let answer = tls_get(
        tls_addr,
        client_config(&pki, false, &[b"h2", b"http/1.1"]),
        "a.test",
        "a.test",
        "/x",
    )
    .await
    .unwrap();
    assert_eq!(answer.status, 200);
    assert_eq!(answer.version, http::Version::HTTP_2);
    assert_eq!(answer.peer_cert, pki.server_ders[0].1);
    assert!(answer.headers.contains_key("strict-transport-security"));
    // HTTP/1.1 when the client offers only that.
    let answer = tls_get(
        tls_addr,
        client_config(&pki, false, &[b"http/1.1"]),
        "c.test",
        "c.test",
        "/",
    )
    .await
    .unwrap();
    assert_eq!(answer.status, 200);
    assert_eq!(answer.version, http::Version::HTTP_11);
    assert_eq!(
        answer.peer_cert, pki.server_ders[2].1,
        "SNI c.test gets c's certificate"
    );
    // A Host for another TLS site than the SNI: 421.
    let answer = tls_get(
        tls_addr,
        client_config(&pki, false, &[b"h2"]),
        "a.test",
        "c.test",
        "/",
    )
    .await
    .unwrap();
    assert_eq!(answer.status, 421);

    // mTLS required: no certificate, no exchange.
    let refused = tls_get(
        tls_addr,
        client_config(&pki, false, &[b"h2"]),
        "b.test",
        "b.test",
        "/",
    )
    .await;
    assert!(refused.is_err(), "b.test requires a client certificate");
    let answer = tls_get(
        tls_addr,
        client_config(&pki, true, &[b"h2"]),
        "b.test",
        "b.test",
        "/",
    )
    .await
    .unwrap();
    assert_eq!(answer.status, 200);
    // mTLS optional: both work.
    let answer = tls_get(
        tls_addr,
        client_config(&pki, true, &[b"h2"]),
        "c.test",
        "c.test",
        "/",
    )
    .await
    .unwrap();
    assert_eq!(answer.status, 200);
    let subjects = recorder.0.lock().unwrap().clone();
    assert_eq!(
        subjects,
        vec![
            None,
            None,
            Some("CN=alice,O=Example Corp".to_owned()),
            Some("CN=alice,O=Example Corp".to_owned())
        ],
        "421 answers start no inspection; verified subjects reach the request head"
    );

    // The redirect listener answers 301 to https with host, path and the TLS listener's port (not 443).
    let answer = get(&client(), &format!("http://{redirect_addr}/login?next=%2F")).await;
    assert_eq!(answer.status, 301);
    let expected = format!("https://127.0.0.1:{}/login?next=%2F", tls_addr.port());
    assert_eq!(
        answer.header("location").as_deref(),
        Some(expected.as_str())
    );
    // The port of the Host header (the plain listener's) is not carried over.
    let answer = raw(
        redirect_addr,
        b"GET /x HTTP/1.1\r\nHost: a.test:8080\r\nConnection: close\r\n\r\n",
        std::time::Duration::from_millis(300),
    )
    .await;
    assert_eq!(raw_status(&answer), Some(301));
    let expected = format!("location: https://a.test:{}/x\r\n", tls_addr.port());
    assert!(answer.to_ascii_lowercase().contains(&expected), "{answer}");
    assert_eq!(up.hits.load(std::sync::atomic::Ordering::SeqCst), 4);

    // reload() re-reads certificate files: a renewed certificate is served to new handshakes.
    let key = KeyPair::generate().unwrap();
    let ca_key_pem = std::fs::read_to_string(pki.dir.path().join("ca.key")).unwrap();
    let ca_key = KeyPair::from_pem(&ca_key_pem).unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "Palisade Test CA");
    let issuer = Issuer::new(ca_params, ca_key);
    let renewed = CertificateParams::new(vec!["a.test".to_owned()])
        .unwrap()
        .signed_by(&key, &issuer)
        .unwrap();
    std::fs::write(pki.dir.path().join("a.test.crt"), renewed.pem()).unwrap();
    std::fs::write(pki.dir.path().join("a.test.key"), key.serialize_pem()).unwrap();
    let summary = gw
        .reload(config(&tls_config(&pki, up.addr)), Vec::new())
        .unwrap();
    assert!(
        summary.to_string().contains("TLS certificates re-read"),
        "{summary}"
    );
    let answer = tls_get(
        tls_addr,
        client_config(&pki, false, &[b"h2"]),
        "a.test",
        "a.test",
        "/",
    )
    .await
    .unwrap();
    assert_eq!(answer.status, 200);
    assert_eq!(&answer.peer_cert, renewed.der());
    gw.shutdown().await;
}

#[tokio::test]
async fn certificates_are_reloaded_when_their_files_change() {
    let pki = pki();
    let up = upstream("a").await;
    let (gw, _) = start(&tls_config(&pki, up.addr)).await;
    let tls_addr = gw.local_addrs()[0];
    let fetch_cert = || async {
        tls_get(
            tls_addr,
            client_config(&pki, false, &[b"http/1.1"]),
            "a.test",
            "a.test",
            "/",
        )
        .await
        .unwrap()
        .peer_cert
    };
    assert_eq!(fetch_cert().await, pki.server_ders[0].1);

    // Renew a.test's certificate (new key) the way certbot does: write new files, rename them over
    // the old ones. No reload() is called.
    let ca_key_pem = std::fs::read_to_string(pki.dir.path().join("ca.key")).unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "Palisade Test CA");
    let issuer = Issuer::new(ca_params, KeyPair::from_pem(&ca_key_pem).unwrap());
    let key = KeyPair::generate().unwrap();
    let renewed = CertificateParams::new(vec!["a.test".to_owned()])
        .unwrap()
        .signed_by(&key, &issuer)
        .unwrap();
    // The certificate lands first: it does not match the old key, so the old pair stays served.
    let dir = pki.dir.path();
    std::fs::write(dir.join("a.test.crt.new"), renewed.pem()).unwrap();
    std::fs::rename(dir.join("a.test.crt.new"), dir.join("a.test.crt")).unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    assert_eq!(
        fetch_cert().await,
        pki.server_ders[0].1,
        "a certificate without its key is not served"
    );
    std::fs::write(dir.join("a.test.key.new"), key.serialize_pem()).unwrap();
    std::fs::rename(dir.join("a.test.key.new"), dir.join("a.test.key")).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let served = fetch_cert().await;
        if &served == renewed.der() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the renewed certificate was not picked up within 10 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // Other sites keep theirs.
    let other = tls_get(
        tls_addr,
        client_config(&pki, false, &[b"http/1.1"]),
        "c.test",
        "c.test",
        "/",
    )
    .await
    .unwrap();
    assert_eq!(other.peer_cert, pki.server_ders[2].1);
    gw.shutdown().await;
}

/// A TLS upstream serving `localhost`'s certificate (signed by the test CA) with the given ALPN; it
/// answers `"<version> <uri>"`.
async fn tls_upstream(pki: &Pki, alpn: &[&[u8]]) -> std::net::SocketAddr {
    use rustls::pki_types::pem::PemObject;
    let dir = pki.dir.path();
    let certs = CertificateDer::pem_file_iter(dir.join("localhost.crt"))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(dir.join("localhost.key")).unwrap();
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .unwrap();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let service = hyper::service::service_fn(|request: http::Request<_>| async move {
                    let text = format!("{:?} {}", request.version(), request.uri());
                    Ok::<_, std::convert::Infallible>(http::Response::new(
                        http_body_util::Full::new(Bytes::from(text)),
                    ))
                });
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    addr
}

#[tokio::test]
async fn https_upstreams_are_verified_and_speak_http1_or_h2() {
    let pki = pki();
    let http1_port = tls_upstream(&pki, &[b"http/1.1"]).await.port();
    let h2_port = tls_upstream(&pki, &[b"h2"]).await.port();
    let dir = pki.dir.path().display();
    let text = format!(
        r#"
[[listener]]
addr = "127.0.0.1:0"

[[upstream]]
name = "secure"
servers = ["https://localhost:{http1_port}"]
ca_file = "{dir}/ca.pem"

[[upstream]]
name = "secure-h2"
servers = ["https://localhost:{h2_port}"]
ca_file = "{dir}/ca.pem"
http2 = true

[[upstream]]
name = "untrusted"
servers = ["https://localhost:{http1_port}"]
connect_timeout = "2s"

[[site]]
hosts = ["*"]
[[site.route]]
path = "/"
upstream = "secure"
[[site.route]]
path = "/h2"
upstream = "secure-h2"
[[site.route]]
path = "/untrusted"
upstream = "untrusted"
"#
    );
    let (gw, _) = start(&text).await;
    let addr = gw.local_addrs()[0];
    let client = client();
    for round in 0..2 {
        // Twice: the second exchange reuses the pooled TLS connection.
        let answer = get(&client, &format!("http://{addr}/a?b={round}")).await;
        assert_eq!(answer.status, 200, "{}", answer.text());
        assert_eq!(answer.text(), format!("HTTP/1.1 /a?b={round}"));
    }
    let answer = get(&client, &format!("http://{addr}/h2/x")).await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(
        answer.text(),
        format!("HTTP/2.0 https://localhost:{h2_port}/h2/x")
    );
    // The test CA is not among the Mozilla roots: the certificate is refused, the client gets 502.
    let answer = get(&client, &format!("http://{addr}/untrusted")).await;
    assert_eq!(answer.status, 502);
    assert!(!answer.text().contains("certificate"), "{}", answer.text());
    gw.shutdown().await;
}
