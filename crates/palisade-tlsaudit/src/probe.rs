//! One probe = one TCP connection, one hand-built ClientHello, one bounded answer.

use std::cell::Cell;
use std::io::Write;
use std::net::{SocketAddr, TcpStream};

use crate::target::{TlsAuditOptions, TlsTarget, connect};
use crate::wire::answer::{
    AnswerError, CONTENT_HEARTBEAT, ReadUntil, ServerAnswer, read_answer, read_record,
};
use crate::wire::hello::ClientHelloSpec;

/// Sends hellos to one resolved target.
pub(crate) struct Prober<'a> {
    pub target: &'a TlsTarget,
    pub options: &'a TlsAuditOptions,
    pub address: SocketAddr,
    connections: Cell<u32>,
}

impl<'a> Prober<'a> {
    pub fn new(target: &'a TlsTarget, options: &'a TlsAuditOptions, address: SocketAddr) -> Self {
        Self {
            target,
            options,
            address,
            connections: Cell::new(0),
        }
    }

    /// TCP connections opened so far.
    pub fn connections(&self) -> u32 {
        self.connections.get()
    }

    pub fn connect(&self) -> std::io::Result<TcpStream> {
        if self.connections.get() > 0 && !self.options.pause_between_probes.is_zero() {
            std::thread::sleep(self.options.pause_between_probes);
        }
        self.connections.set(self.connections.get() + 1);
        connect(self.address, self.options)
    }

    /// A hello spec for `protocol` with this target's SNI name.
    pub fn hello(
        &self,
        protocol: crate::protocol::Protocol,
        cipher_suites: Vec<u16>,
    ) -> ClientHelloSpec {
        ClientHelloSpec::new(protocol, cipher_suites, self.target.sni_dns_name())
    }

    /// Send `spec` and read the answer.
    pub fn ask(
        &self,
        spec: &ClientHelloSpec,
        until: ReadUntil,
    ) -> Result<ServerAnswer, AnswerError> {
        let mut stream = self.connect()?;
        stream.write_all(&spec.to_record())?;
        read_answer(&mut stream, until)
    }

    /// Heartbleed (CVE-2014-0160) probe: complete the server's first flight, then send a
    /// heartbeat request whose payload_length (16 KiB) exceeds the bytes actually sent. A patched
    /// server discards it (RFC 6520 §4); a vulnerable OpenSSL answers with a heartbeat response
    /// carrying its memory. Returns Ok(true) when a heartbeat response arrives. Nothing of the
    /// response is kept but its length.
    pub fn heartbleed(&self, spec: &ClientHelloSpec) -> Result<HeartbleedOutcome, AnswerError> {
        let mut stream = self.connect()?;
        stream.write_all(&spec.to_record())?;
        let answer = read_answer(&mut stream, ReadUntil::HelloDone)?;
        let Some(hello) = answer.hello.filter(|_| answer.hello_done) else {
            return Ok(HeartbleedOutcome::NotReached);
        };
        let version = hello.version.to_be_bytes();
        // type heartbeat_request, payload_length 0x4000, no payload, 16 bytes of padding
        let mut payload = vec![1u8, 0x40, 0x00];
        payload.extend_from_slice(&[0u8; 16]);
        let mut record = vec![CONTENT_HEARTBEAT, version[0], version[1]];
        record.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        record.extend_from_slice(&payload);
        stream.write_all(&record)?;
        let mut budget = crate::wire::answer::MAX_ANSWER_BYTES;
        for _ in 0..4 {
            match read_record(&mut stream, &mut budget) {
                Ok(Some((CONTENT_HEARTBEAT, _, data))) => {
                    return Ok(HeartbleedOutcome::Vulnerable {
                        leaked_bytes: data.len(),
                    });
                }
                Ok(Some(_)) => continue,
                Ok(None) | Err(_) => break,
            }
        }
        Ok(HeartbleedOutcome::NoResponse)
    }
}

/// Result of the Heartbleed probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HeartbleedOutcome {
    /// The server never finished its first flight, so no heartbeat was sent.
    NotReached,
    /// No heartbeat response (discarded, alert or close): not vulnerable.
    NoResponse,
    /// A heartbeat response came back for an over-long payload_length.
    Vulnerable { leaked_bytes: usize },
}
