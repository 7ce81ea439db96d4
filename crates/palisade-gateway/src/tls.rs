//! TLS termination: per-site rustls server configurations (ring provider, TLS 1.2 and 1.3 with the
//! Mozilla "intermediate" cipher suites), SNI selection, optional client certificates (mTLS), and the
//! subject of a verified client certificate.
//!
//! Design notes: every site has its own `ServerConfig` because client-certificate policy is per site;
//! the connection's ClientHello is read first (`LazyConfigAcceptor`) and the site is chosen by SNI from
//! the current runtime snapshot, so a reload (which re-reads the PEM files) applies to new handshakes.
//! Between reloads, [`SiteTls::refresh`] swaps in new configurations when the files' contents change
//! (driven by the file watcher in `cert_watch`).

use std::path::Path;
use std::sync::Arc;

use rustls::RootCertStore;
use rustls::crypto::CryptoProvider;
use rustls::server::WebPkiClientVerifier;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::error::GatewayError;

/// TLS 1.3 suites plus the TLS 1.2 ECDHE AEAD suites of Mozilla's "intermediate" profile.
fn provider() -> CryptoProvider {
    use rustls::crypto::ring::cipher_suite as suite;
    let mut provider = rustls::crypto::ring::default_provider();
    provider.cipher_suites = vec![
        suite::TLS13_AES_128_GCM_SHA256,
        suite::TLS13_AES_256_GCM_SHA384,
        suite::TLS13_CHACHA20_POLY1305_SHA256,
        suite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        suite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        suite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        suite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        suite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        suite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    ];
    provider
}

/// The server configurations of one site: with and without HTTP/2 in ALPN.
pub(crate) struct SiteTlsConfigs {
    pub(crate) with_h2: Arc<rustls::ServerConfig>,
    pub(crate) http1_only: Arc<rustls::ServerConfig>,
}

/// A site's TLS material as served: the configurations built from the files, swapped when the
/// files change (see `cert_watch`).
pub(crate) struct SiteTls {
    site: String,
    source: palisade_config::SiteTls,
    /// What the files held when `configs` was built.
    files: std::sync::Mutex<TlsFiles>,
    configs: arc_swap::ArcSwap<SiteTlsConfigs>,
}

impl SiteTls {
    pub(crate) fn load(
        site: &str,
        source: &palisade_config::SiteTls,
    ) -> Result<Self, GatewayError> {
        let files = TlsFiles::read(site, source)?;
        let configs = SiteTlsConfigs::build(site, source, &files)?;
        Ok(SiteTls {
            site: site.to_owned(),
            source: source.clone(),
            files: std::sync::Mutex::new(files),
            configs: arc_swap::ArcSwap::from_pointee(configs),
        })
    }

    /// The configurations for new handshakes.
    pub(crate) fn configs(&self) -> Arc<SiteTlsConfigs> {
        self.configs.load_full()
    }

    /// The site's name, for logs.
    pub(crate) fn site(&self) -> &str {
        &self.site
    }

    /// The files this site's TLS is built from.
    pub(crate) fn paths(&self) -> impl Iterator<Item = &Path> {
        [
            Some(self.source.cert.as_path()),
            Some(self.source.key.as_path()),
        ]
        .into_iter()
        .chain(std::iter::once(self.source.client_ca.as_deref()))
        .flatten()
    }

    /// Re-reads the files and, when their contents changed, rebuilds the configurations for new
    /// handshakes. Ok(true) when rebuilt; Err (the previous certificate stays) when the new files
    /// cannot be read or do not fit together — e.g. a certificate written before its key, which a
    /// later change fixes.
    pub(crate) fn refresh(&self) -> Result<bool, GatewayError> {
        let files = TlsFiles::read(&self.site, &self.source)?;
        let mut current = self.files.lock().unwrap_or_else(|e| e.into_inner());
        if *current == files {
            return Ok(false);
        }
        let configs = SiteTlsConfigs::build(&self.site, &self.source, &files)?;
        self.configs.store(Arc::new(configs));
        *current = files;
        Ok(true)
    }
}

/// The contents of a site's TLS files (certificate chain, key, client CA bundle), read together.
#[derive(PartialEq, Eq)]
pub(crate) struct TlsFiles {
    cert: Vec<u8>,
    key: Vec<u8>,
    client_ca: Option<Vec<u8>>,
}

impl TlsFiles {
    pub(crate) fn read(site: &str, tls: &palisade_config::SiteTls) -> Result<Self, GatewayError> {
        let read = |path: &Path, what: &str| {
            std::fs::read(path)
                .map_err(|e| GatewayError::tls(site, format!("{what} {}: {e}", path.display())))
        };
        Ok(TlsFiles {
            cert: read(&tls.cert, "certificates")?,
            key: read(&tls.key, "key")?,
            client_ca: tls
                .client_ca
                .as_deref()
                .map(|path| read(path, "client_ca"))
                .transpose()?,
        })
    }
}

impl SiteTlsConfigs {
    /// The configurations from file contents read before (`tls` names the files for messages).
    pub(crate) fn build(
        site: &str,
        tls: &palisade_config::SiteTls,
        files: &TlsFiles,
    ) -> Result<Self, GatewayError> {
        let provider = Arc::new(provider());
        let certs = parse_certs(site, &tls.cert, &files.cert)?;
        let key = PrivateKeyDer::from_pem_slice(&files.key)
            .map_err(|e| GatewayError::tls(site, format!("key {}: {e}", tls.key.display())))?;
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|e| GatewayError::tls(site, e.to_string()))?;
        let builder = match (tls.client_auth, &tls.client_ca) {
            (palisade_config::ClientAuth::None, _) => builder.with_no_client_auth(),
            (_, None) => {
                return Err(GatewayError::tls(
                    site,
                    "client_auth needs client_ca (a PEM CA bundle)",
                ));
            }
            (mode, Some(ca)) => {
                let mut roots = RootCertStore::empty();
                let ca_pem = files.client_ca.as_deref().unwrap_or_default();
                for cert in parse_certs(site, ca, ca_pem)? {
                    roots.add(cert).map_err(|e| {
                        GatewayError::tls(site, format!("client_ca {}: {e}", ca.display()))
                    })?;
                }
                let verifier =
                    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone());
                let verifier = if mode == palisade_config::ClientAuth::Optional {
                    verifier.allow_unauthenticated()
                } else {
                    verifier
                };
                let verifier = verifier
                    .build()
                    .map_err(|e| GatewayError::tls(site, e.to_string()))?;
                builder.with_client_cert_verifier(verifier)
            }
        };
        let mut config = builder
            .with_single_cert(certs, key)
            .map_err(|e| GatewayError::tls(site, format!("certificate/key: {e}")))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let http1_only = Arc::new(config.clone());
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(SiteTlsConfigs {
            with_h2: Arc::new(config),
            http1_only,
        })
    }
}

fn parse_certs(
    site: &str,
    path: &Path,
    pem: &[u8],
) -> Result<Vec<CertificateDer<'static>>, GatewayError> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| GatewayError::tls(site, format!("certificates {}: {e}", path.display())))?;
    if certs.is_empty() {
        return Err(GatewayError::tls(
            site,
            format!("no certificate in {}", path.display()),
        ));
    }
    Ok(certs)
}

/// The subject of a DER certificate as `CN=…,O=…` (RDNs in certificate order), or `None` when the
/// certificate cannot be read. A small bounded DER walk: the certificate was verified by rustls already.
pub(crate) fn certificate_subject(der: &[u8]) -> Option<String> {
    let (certificate, _) = der_element(der, 0x30)?;
    let (tbs, _) = der_element(certificate, 0x30)?;
    let mut rest = tbs;
    if rest.first() == Some(&0xA0) {
        rest = der_element(rest, 0xA0)?.1;
    }
    rest = der_element(rest, 0x02)?.1; // serial
    rest = der_element(rest, 0x30)?.1; // signature algorithm
    rest = der_element(rest, 0x30)?.1; // issuer
    rest = der_element(rest, 0x30)?.1; // validity
    let (subject, _) = der_element(rest, 0x30)?;
    let mut parts = Vec::new();
    let mut rdns = subject;
    while !rdns.is_empty() && parts.len() < 64 {
        let (set, after) = der_element(rdns, 0x31)?;
        rdns = after;
        let mut attributes = set;
        while !attributes.is_empty() && parts.len() < 64 {
            let (attribute, after) = der_element(attributes, 0x30)?;
            attributes = after;
            let (oid, value) = der_element(attribute, 0x06)?;
            let (&tag, _) = value.split_first()?;
            let (text, _) = der_element(value, tag)?;
            let text = match tag {
                0x0C | 0x13 | 0x16 | 0x14 => String::from_utf8_lossy(text).into_owned(),
                _ => continue,
            };
            let escaped = text
                .replace('\\', "\\\\")
                .replace(',', "\\,")
                .replace('+', "\\+");
            parts.push(format!("{}={escaped}", oid_name(oid)));
        }
    }
    Some(parts.join(","))
}

fn oid_name(oid: &[u8]) -> String {
    match oid {
        [0x55, 0x04, 0x03] => "CN".to_owned(),
        [0x55, 0x04, 0x05] => "serialNumber".to_owned(),
        [0x55, 0x04, 0x06] => "C".to_owned(),
        [0x55, 0x04, 0x07] => "L".to_owned(),
        [0x55, 0x04, 0x08] => "ST".to_owned(),
        [0x55, 0x04, 0x0A] => "O".to_owned(),
        [0x55, 0x04, 0x0B] => "OU".to_owned(),
        [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x09, 0x01] => "emailAddress".to_owned(),
        other => format!(
            "OID.{}",
            other.iter().map(|b| format!("{b:02x}")).collect::<String>()
        ),
    }
}

/// Splits one DER element with the expected tag off `input`: (contents, rest).
fn der_element(input: &[u8], expected_tag: u8) -> Option<(&[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    if tag != expected_tag {
        return None;
    }
    let (&first, rest) = rest.split_first()?;
    let (length, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7F);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let length = rest[..count]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        (length, &rest[count..])
    };
    if rest.len() < length {
        return None;
    }
    Some(rest.split_at(length))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncated_or_garbage_der_yields_none() {
        assert_eq!(certificate_subject(&[]), None);
        assert_eq!(
            certificate_subject(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]),
            None
        );
        assert_eq!(certificate_subject(&[0x30, 0x03, 0x30, 0x01]), None);
    }
}
