//! A `palisade serve` child process for end-to-end tests: started from a configuration file, its
//! announced listening addresses read from the first line of standard output, its standard error
//! collected for failure messages, and killed when dropped.

use std::io::{BufRead as _, BufReader, Read as _};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long a gateway may take to announce its listeners.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A running `palisade serve`.
pub struct ServeProcess {
    child: Child,
    stderr: Arc<Mutex<String>>,
    /// The first listener's address.
    pub gateway: SocketAddr,
}

impl ServeProcess {
    /// Runs `binary serve --config config` in `dir` and waits for its `{"listening": [...]}` line.
    pub fn start(binary: &str, config: &Path, dir: &Path) -> ServeProcess {
        let config = config.to_str().expect("UTF-8 configuration path");
        ServeProcess::spawn(binary, &["serve", "--config", config], dir)
    }

    /// Runs `binary ARGS` (`serve …` or `demo …`) in `dir` and waits for its
    /// `{"listening": [...]}` line.
    pub fn spawn(binary: &str, args: &[&str], dir: &Path) -> ServeProcess {
        let mut child = Command::new(binary)
            .args(args)
            .current_dir(dir)
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("palisade starts");
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut err = child.stderr.take().expect("stderr");
        let collected = Arc::clone(&stderr);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err.read(&mut buf) {
                if n == 0 {
                    break;
                }
                collected
                    .lock()
                    .expect("lock")
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let (line_tx, lines) = std::sync::mpsc::channel();
        let out = BufReader::new(child.stdout.take().expect("stdout"));
        std::thread::spawn(move || {
            for line in out.lines().map_while(Result::ok) {
                let _ = line_tx.send(line);
            }
        });
        let Ok(line) = lines.recv_timeout(START_TIMEOUT) else {
            let _ = child.kill();
            panic!(
                "no listening line; stderr:\n{}",
                stderr.lock().expect("lock")
            );
        };
        let gateway = listening_address(&line)
            .unwrap_or_else(|| panic!("unexpected first line of palisade serve: {line}"));
        ServeProcess {
            child,
            stderr,
            gateway,
        }
    }

    /// What the gateway wrote to standard error so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().expect("lock").clone()
    }

    /// Polls `condition` every 100 ms until it holds; panics naming `what`, with the gateway's
    /// standard error, after `timeout`.
    pub fn wait_until(&self, what: &str, timeout: Duration, mut condition: impl FnMut() -> bool) {
        let deadline = std::time::Instant::now() + timeout;
        while std::time::Instant::now() < deadline {
            if condition() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("timed out waiting for: {what}; stderr:\n{}", self.stderr());
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The first address of a `{"listening":["127.0.0.1:8080", …], …}` line.
fn listening_address(line: &str) -> Option<SocketAddr> {
    let rest = &line[line.find("\"listening\"")?..];
    let first = rest.split('"').nth(3)?;
    first.parse().ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_first_listening_address_is_read() {
        assert_eq!(
            super::listening_address(
                r#"{"listening":["127.0.0.1:8080","[::1]:8443"],"admin":"127.0.0.1:9090"}"#
            ),
            Some("127.0.0.1:8080".parse().expect("address"))
        );
        assert_eq!(super::listening_address(r#"{"admin":"x"}"#), None);
    }
}
