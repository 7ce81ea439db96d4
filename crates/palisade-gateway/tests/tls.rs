//! TLS termination through real sockets: ALPN h2, SNI certificate choice, mTLS required/optional with the
//! client certificate subject on the request head, the HTTPS redirect listener, HSTS only on TLS.

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
    for name in ["a.test", "b.test", "c.test"] {
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

    // The redirect listener answers 301 to https with host and path.
    let answer = get(&client(), &format!("http://{redirect_addr}/login?next=%2F")).await;
    assert_eq!(answer.status, 301);
    assert_eq!(
        answer.header("location").as_deref(),
        Some("https://127.0.0.1/login?next=%2F")
    );
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
