//! A real SMTP server on 127.0.0.1: Python's aiosmtpd (the Python named by `PALISADE_AIOSMTPD_PYTHON`,
//! else `python3`), saving each message as `N.eml` in a directory, with a first line naming the
//! authenticated user (`X-Test-Auth-User`), the recipients (`X-Test-Rcpt`) and whether the session
//! was encrypted (`X-Test-TLS: yes|no`). AUTH accepts user `palisade`, password `s3cret`.

use std::io::{BufRead as _, BufReader};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use crate::TestPki;

/// How the server secures its connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpMode {
    /// No TLS.
    Plain,
    /// STARTTLS offered and required before AUTH and MAIL.
    StartTls,
    /// TLS from the first byte (SMTPS).
    ImplicitTls,
}

/// A running aiosmtpd; stopped when dropped.
pub struct SmtpServer {
    child: Child,
    /// The port on 127.0.0.1.
    pub port: u16,
    dir: tempfile::TempDir,
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const SERVER: &str = r#"
import os, ssl, sys
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
out, port, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
class Save:
    async def handle_DATA(self, server, session, envelope):
        user = session.auth_data.decode() if isinstance(session.auth_data, bytes) else ""
        tls = "yes" if session.ssl or server.transport.get_extra_info("ssl_object") else "no"
        n = len([f for f in os.listdir(out) if f.endswith(".eml")])
        tmp = os.path.join(out, "%d.tmp" % n)
        with open(tmp, "wb") as f:
            f.write(("X-Test-Auth-User: %s\r\nX-Test-Rcpt: %s\r\nX-Test-TLS: %s\r\n" % (user, ",".join(envelope.rcpt_tos), tls)).encode())
            f.write(envelope.content)
        os.rename(tmp, os.path.join(out, "%d.eml" % n))
        return "250 OK"
def check(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"palisade" and auth_data.password == b"s3cret"
    return AuthResult(success=ok, auth_data=auth_data.login if ok else None)
kwargs = dict(hostname="127.0.0.1", port=port, authenticator=check)
if mode != "plain":
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(sys.argv[4], sys.argv[5])
if mode == "plain":
    kwargs["auth_require_tls"] = False
elif mode == "starttls":
    kwargs["tls_context"] = context
    kwargs["require_starttls"] = True
else:
    kwargs["ssl_context"] = context
    # aiosmtpd only counts STARTTLS as TLS for AUTH; this connection is TLS from its first byte.
    kwargs["auth_require_tls"] = False
c = Controller(Save(), **kwargs)
c.start()
print("ready", flush=True)
sys.stdin.read()
c.stop()
"#;

impl SmtpServer {
    /// Starts a server; for the TLS modes it presents `pki`'s leaf. None (after a loud notice) when
    /// aiosmtpd is not available; panics instead when `CI=true`.
    pub fn start(mode: SmtpMode, pki: Option<&TestPki>) -> Option<SmtpServer> {
        let python = std::env::var("PALISADE_AIOSMTPD_PYTHON").unwrap_or_else(|_| "python3".into());
        let usable = Command::new(&python)
            .args(["-c", "import aiosmtpd"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        if !usable {
            assert!(
                !crate::in_ci(),
                "{python} has no aiosmtpd and CI=true; set PALISADE_AIOSMTPD_PYTHON"
            );
            eprintln!(
                "SKIPPED smtp test: {python} cannot import aiosmtpd; set PALISADE_AIOSMTPD_PYTHON to a Python with aiosmtpd installed"
            );
            return None;
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("free port")
            .port();
        let mode_name = match mode {
            SmtpMode::Plain => "plain",
            SmtpMode::StartTls => "starttls",
            SmtpMode::ImplicitTls => "tls",
        };
        let mut args = vec![
            "-c".to_owned(),
            SERVER.to_owned(),
            dir.path().display().to_string(),
            port.to_string(),
            mode_name.to_owned(),
        ];
        if mode != SmtpMode::Plain {
            let pki = pki.expect("a TLS mode needs a PKI");
            let files = pki.write_to(dir.path());
            args.push(files.cert.display().to_string());
            args.push(files.key.display().to_string());
        }
        let mut child = Command::new(&python)
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start aiosmtpd");
        let mut ready = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut ready)
            .expect("ready line");
        assert_eq!(ready.trim(), "ready", "aiosmtpd did not start");
        Some(SmtpServer { child, port, dir })
    }

    /// The directory the messages are saved in.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The saved messages, oldest first.
    pub fn messages(&self) -> Vec<String> {
        let mut messages = Vec::new();
        for n in 0.. {
            match std::fs::read_to_string(self.dir.path().join(format!("{n}.eml"))) {
                Ok(message) => messages.push(message),
                Err(_) => break,
            }
        }
        messages
    }
}
