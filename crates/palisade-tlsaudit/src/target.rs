//! What to audit and how: the target (host, port, SNI name), the options and the error type.

use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

/// A TLS endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsTarget {
    /// Host name or IP address to connect to.
    pub host: String,
    pub port: u16,
    /// Name sent as SNI and checked against the certificate; `None` uses `host`.
    pub sni: Option<String>,
}

impl TlsTarget {
    pub fn new(host: impl Into<String>, port: u16) -> Self {
        Self {
            host: host.into(),
            port,
            sni: None,
        }
    }

    /// Parse `HOST:PORT`, `[IPv6]:PORT`, or `HOST` (port 443).
    pub fn parse(text: &str) -> Result<Self, TlsAuditError> {
        let invalid = || TlsAuditError::InvalidTarget(text.to_string());
        let text = text.trim();
        if text.is_empty() {
            return Err(invalid());
        }
        if let Some(rest) = text.strip_prefix('[') {
            let (host, after) = rest.split_once(']').ok_or_else(invalid)?;
            let port = match after.strip_prefix(':') {
                Some(port) => port.parse().map_err(|_| invalid())?,
                None if after.is_empty() => 443,
                None => return Err(invalid()),
            };
            return Ok(Self::new(host, port));
        }
        match text.rsplit_once(':') {
            Some((host, port)) if !host.contains(':') => {
                let port = port.parse().map_err(|_| invalid())?;
                if host.is_empty() {
                    return Err(invalid());
                }
                Ok(Self::new(host, port))
            }
            Some(_) => Err(invalid()), // bare IPv6 without brackets
            None => Ok(Self::new(text, 443)),
        }
    }

    /// The name the audit presents and verifies.
    pub fn server_name(&self) -> &str {
        self.sni.as_deref().unwrap_or(&self.host)
    }

    /// The SNI name for hand-built hellos: DNS names only (RFC 6066 §3 forbids IP literals).
    pub(crate) fn sni_dns_name(&self) -> Option<String> {
        let name = self.server_name();
        (name.parse::<IpAddr>().is_err()).then(|| name.to_string())
    }

    pub(crate) fn display(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    pub(crate) fn resolve(&self) -> Result<SocketAddr, TlsAuditError> {
        (self.host.as_str(), self.port)
            .to_socket_addrs()
            .map_err(|source| TlsAuditError::Resolve {
                target: self.display(),
                source,
            })?
            .next()
            .ok_or_else(|| TlsAuditError::InvalidTarget(self.display()))
    }
}

/// Which probes run. All on by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TlsProbes {
    /// Enumerate accepted cipher suites per protocol and the server's order preference.
    pub cipher_suites: bool,
    /// Enumerate supported key-exchange groups.
    pub groups: bool,
    /// Certificate chain facts and validation.
    pub certificate: bool,
    /// OCSP stapling, secure renegotiation, compression, heartbeat.
    pub extensions: bool,
    /// Send a malformed heartbeat request when the server advertises the heartbeat extension.
    pub heartbleed: bool,
    /// One HTTPS GET for Strict-Transport-Security.
    pub hsts: bool,
    /// TLS 1.3 early data on a resumed session.
    pub early_data: bool,
}

impl Default for TlsProbes {
    fn default() -> Self {
        Self {
            cipher_suites: true,
            groups: true,
            certificate: true,
            extensions: true,
            heartbleed: true,
            hsts: true,
            early_data: true,
        }
    }
}

/// How the audit runs.
#[derive(Debug, Clone)]
pub struct TlsAuditOptions {
    pub connect_timeout: Duration,
    /// Read timeout for each answer.
    pub read_timeout: Duration,
    /// PEM file of trust anchors for chain validation; `None` uses the Mozilla roots
    /// (webpki-roots).
    pub ca_file: Option<PathBuf>,
    pub probes: TlsProbes,
    /// Days before expiry that raise the "expires soon" finding.
    pub expiry_warning_days: u32,
    /// Pause between probe connections (politeness); zero by default.
    pub pause_between_probes: Duration,
}

impl Default for TlsAuditOptions {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            read_timeout: Duration::from_secs(5),
            ca_file: None,
            probes: TlsProbes::default(),
            expiry_warning_days: 30,
            pause_between_probes: Duration::ZERO,
        }
    }
}

/// Why an audit could not run at all. Failures of single probes are recorded in the report's
/// `notes` instead.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsAuditError {
    #[error("invalid TLS target {0:?} (expected HOST:PORT)")]
    InvalidTarget(String),
    #[error("cannot resolve {target}: {source}")]
    Resolve {
        target: String,
        source: std::io::Error,
    },
    #[error("cannot connect to {target}: {source}")]
    Connect {
        target: String,
        source: std::io::Error,
    },
    #[error("cannot read CA file {path}: {reason}")]
    CaFile { path: PathBuf, reason: String },
    #[error("{target} does not speak SSL/TLS (no protocol version was accepted)")]
    NoTls { target: String },
}

/// Open one TCP connection with the configured timeouts.
pub(crate) fn connect(
    address: SocketAddr,
    options: &TlsAuditOptions,
) -> std::io::Result<TcpStream> {
    let stream = TcpStream::connect_timeout(&address, options.connect_timeout)?;
    stream.set_read_timeout(Some(options.read_timeout))?;
    stream.set_write_timeout(Some(options.read_timeout))?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_host_port_forms() {
        assert_eq!(
            TlsTarget::parse("example.test:8443").unwrap(),
            TlsTarget::new("example.test", 8443)
        );
        assert_eq!(TlsTarget::parse("example.test").unwrap().port, 443);
        assert_eq!(
            TlsTarget::parse("[::1]:4433").unwrap(),
            TlsTarget::new("::1", 4433)
        );
        assert!(TlsTarget::parse("::1").is_err());
        assert!(TlsTarget::parse(":443").is_err());
        assert!(TlsTarget::parse("host:notaport").is_err());
    }

    #[test]
    fn ip_targets_send_no_sni() {
        assert_eq!(TlsTarget::new("127.0.0.1", 443).sni_dns_name(), None);
        let mut target = TlsTarget::new("127.0.0.1", 443);
        target.sni = Some("localhost".into());
        assert_eq!(target.sni_dns_name().as_deref(), Some("localhost"));
    }
}
