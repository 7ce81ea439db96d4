//! Parity with sslyze: local nginx servers (a strong and a deliberately weak configuration,
//! certificates from the openssl CLI) and the in-process rustls server are audited by Palisade
//! and by sslyze; protocols, accepted cipher suites per protocol, groups, certificate facts and
//! the compression / renegotiation / Heartbleed / early-data verdicts must agree. Prints the
//! side-by-side table and both tools' wall times (bench/tls-parity.sh runs this with
//! --nocapture).
//!
//! Needs `nginx`, `openssl` and sslyze in $HOME/.cache/palisade-sslyze-venv (or the python
//! named by PALISADE_SSLYZE_PYTHON). Skips loudly when one is missing; fails when CI=true.

mod support;

use std::collections::BTreeSet;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use palisade_tlsaudit::{Protocol, TlsAuditOptions, TlsReport, TlsTarget, audit};
use serde_json::Value;

fn sslyze_python() -> PathBuf {
    if let Some(python) = std::env::var_os("PALISADE_SSLYZE_PYTHON") {
        return PathBuf::from(python);
    }
    let home = std::env::var_os("HOME").unwrap_or_default();
    Path::new(&home).join(".cache/palisade-sslyze-venv/bin/python")
}

/// Why the parity test cannot run here, if it cannot.
fn missing_tool() -> Option<String> {
    let runs = |program: &Path, args: &[&str]| {
        Command::new(program)
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if !runs(Path::new("nginx"), &["-v"]) {
        return Some("nginx not installed (apt-get install nginx)".into());
    }
    if !runs(Path::new("openssl"), &["version"]) {
        return Some("openssl CLI not installed".into());
    }
    let python = sslyze_python();
    if !runs(&python, &["-c", "import sslyze"]) {
        return Some(format!(
            "sslyze not importable with {} (python3 -m venv $HOME/.cache/palisade-sslyze-venv && $HOME/.cache/palisade-sslyze-venv/bin/pip install sslyze==6.3.1)",
            python.display()
        ));
    }
    None
}

fn skip_or_fail() -> bool {
    let Some(reason) = missing_tool() else {
        return false;
    };
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("TLS parity test cannot run under CI: {reason}");
    }
    eprintln!("\n*** SKIPPED TLS parity test: {reason} ***\n");
    true
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn run(program: &str, args: &[&str]) {
    let status = Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(status.success(), "{program} {args:?} failed");
}

/// nginx with a strong and a weak server; stopped on drop.
struct Nginx {
    child: Child,
    prefix: PathBuf,
    strong: u16,
    weak: u16,
}

impl Drop for Nginx {
    /// `nginx -s stop` (SIGTERM to the master, which stops its worker); SIGKILL would leave
    /// the worker running without its master.
    fn drop(&mut self) {
        let config = self.prefix.join("nginx.conf");
        let _ = Command::new("nginx")
            .arg("-p")
            .arg(&self.prefix)
            .arg("-c")
            .arg(&config)
            .args(["-s", "stop"])
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_nginx(dir: &Path) -> Nginx {
    let d = dir.display();
    run(
        "openssl",
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &format!("{d}/strong.key"),
            "-out",
            &format!("{d}/strong.crt"),
            "-days",
            "60",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost",
        ],
    );
    run(
        "openssl",
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-sha256",
            "-keyout",
            &format!("{d}/weak.key"),
            "-out",
            &format!("{d}/weak.crt"),
            "-days",
            "400",
            "-subj",
            "/CN=weak.localhost",
            "-addext",
            "subjectAltName=DNS:weak.localhost",
        ],
    );
    // DSA-style parameters generate in milliseconds; weak on purpose (1024 bits).
    run(
        "openssl",
        &[
            "dhparam",
            "-dsaparam",
            "-out",
            &format!("{d}/dh1024.pem"),
            "1024",
        ],
    );
    let strong = free_port();
    let weak = free_port();
    let config = format!(
        r#"worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log;
events {{ worker_connections 512; }}
http {{
    access_log off;
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    server {{
        listen 127.0.0.1:{strong} ssl;
        server_name localhost;
        ssl_certificate {d}/strong.crt;
        ssl_certificate_key {d}/strong.key;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305;
        ssl_prefer_server_ciphers off;
        ssl_early_data on;
        ssl_ecdh_curve X25519:prime256v1:secp384r1;
        add_header Strict-Transport-Security "max-age=63072000" always;
        location / {{ return 200 "strong\n"; }}
    }}
    server {{
        listen 127.0.0.1:{weak} ssl;
        server_name weak.localhost;
        ssl_certificate {d}/weak.crt;
        ssl_certificate_key {d}/weak.key;
        ssl_protocols TLSv1 TLSv1.1 TLSv1.2;
        ssl_ciphers "ALL:@SECLEVEL=0";
        ssl_dhparam {d}/dh1024.pem;
        ssl_prefer_server_ciphers on;
        location / {{ return 200 "weak\n"; }}
    }}
}}
"#
    );
    let config_path = dir.join("nginx.conf");
    std::fs::write(&config_path, config).expect("write nginx.conf");
    let child = Command::new("nginx")
        .args([
            "-p",
            &d.to_string(),
            "-c",
            &config_path.display().to_string(),
            "-g",
            "daemon off;",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start nginx");
    let nginx = Nginx {
        child,
        prefix: dir.to_path_buf(),
        strong,
        weak,
    };
    for port in [strong, weak] {
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "nginx did not listen on {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    nginx
}

/// One endpoint's facts as both tools state them, as comparable strings.
#[derive(Debug, Default)]
struct Facts {
    rows: Vec<(String, String)>,
}

impl Facts {
    fn push(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.rows.push((key.into(), value.into()));
    }
    fn get(&self, key: &str) -> Option<&str> {
        self.rows
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

fn set<I: IntoIterator<Item = String>>(items: I) -> String {
    let items: BTreeSet<String> = items.into_iter().collect();
    items.into_iter().collect::<Vec<_>>().join(" ")
}

const SSLYZE_VERSIONS: [(Protocol, &str); 5] = [
    (Protocol::Ssl3, "ssl_3_0_cipher_suites"),
    (Protocol::Tls10, "tls_1_0_cipher_suites"),
    (Protocol::Tls11, "tls_1_1_cipher_suites"),
    (Protocol::Tls12, "tls_1_2_cipher_suites"),
    (Protocol::Tls13, "tls_1_3_cipher_suites"),
];

/// Group names sslyze (OpenSSL) uses, as IANA names.
fn iana_group(openssl_name: &str) -> String {
    match openssl_name {
        "X25519" => "x25519".into(),
        "X448" => "x448".into(),
        "prime256v1" => "secp256r1".into(),
        "prime192v1" => "secp192r1".into(),
        other => other.to_string(),
    }
}

fn palisade_facts(report: &TlsReport) -> Facts {
    let mut facts = Facts::default();
    for protocol in Protocol::ALL {
        facts.push(
            format!("{protocol} accepted"),
            report.supports(protocol).to_string(),
        );
        facts.push(
            format!("{protocol} suites"),
            set(report.suites(protocol).iter().map(|s| s.name.clone())),
        );
    }
    if let Some(groups) = &report.groups {
        facts.push(
            "EC groups",
            set(groups
                .groups
                .iter()
                .filter(|g| g.id < 256)
                .map(|g| g.name.clone())),
        );
    }
    facts.push(
        "DHE prime bits",
        report
            .dhe_prime_bits
            .map(|b| b.to_string())
            .unwrap_or_default(),
    );
    if let Some(leaf) = report
        .certificate
        .as_ref()
        .and_then(|c| c.certificates.first())
    {
        facts.push("leaf CN", leaf.common_name.clone().unwrap_or_default());
        facts.push(
            "leaf notAfter",
            leaf.not_after.get(..10).unwrap_or_default().to_string(),
        );
        facts.push("leaf key bits", leaf.key_bits.to_string());
        facts.push("leaf SAN DNS", set(leaf.dns_names.iter().cloned()));
        facts.push(
            "leaf serial",
            leaf.serial
                .replace(':', "")
                .trim_start_matches('0')
                .to_ascii_lowercase(),
        );
    }
    // sslyze says "false" where a feature cannot apply (no TLS 1.3: no early data).
    let flag = |v: Option<bool>| v.unwrap_or(false).to_string();
    facts.push("compression", flag(report.compression));
    facts.push("secure renegotiation", flag(report.secure_renegotiation));
    facts.push(
        "heartbleed",
        flag(
            report
                .heartbeat
                .as_ref()
                .and_then(|h| h.heartbleed_vulnerable),
        ),
    );
    facts.push(
        "early data",
        flag(report.early_data.as_ref().map(|e| e.accepted)),
    );
    facts
}

fn sslyze_facts(json: &Value) -> Facts {
    let mut facts = Facts::default();
    let scan = &json["server_scan_results"][0]["scan_result"];
    for (protocol, key) in SSLYZE_VERSIONS {
        let result = &scan[key]["result"];
        let accepted: Vec<String> = result["accepted_cipher_suites"]
            .as_array()
            .map(|suites| {
                suites
                    .iter()
                    .filter_map(|s| s["cipher_suite"]["name"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let rejected = result["rejected_cipher_suites"]
            .as_array()
            .into_iter()
            .flatten();
        let tested = accepted
            .iter()
            .cloned()
            .chain(rejected.filter_map(|s| s["cipher_suite"]["name"].as_str().map(str::to_string)));
        facts.push(format!("{protocol} tested"), set(tested));
        facts.push(
            format!("{protocol} accepted"),
            (!accepted.is_empty()).to_string(),
        );
        facts.push(format!("{protocol} suites"), set(accepted));
    }
    if let Some(curves) = scan["elliptic_curves"]["result"]["supported_curves"].as_array() {
        facts.push(
            "EC groups",
            set(curves
                .iter()
                .filter_map(|c| c["name"].as_str())
                .map(iana_group)),
        );
    }
    // Size of the DH prime of the first accepted DHE suite of the newest protocol below 1.3.
    let dhe_bits = SSLYZE_VERSIONS
        .iter()
        .rev()
        .filter(|(protocol, _)| *protocol != Protocol::Tls13)
        .find_map(|(_, key)| {
            scan[key]["result"]["accepted_cipher_suites"]
                .as_array()?
                .iter()
                .find(|s| s["ephemeral_key"]["type_name"] == "DH")
                .map(|s| match &s["ephemeral_key"]["size"] {
                    Value::String(size) => size.clone(),
                    other => other.to_string(),
                })
        })
        .unwrap_or_default();
    facts.push("DHE prime bits", dhe_bits);
    let deployment = &scan["certificate_info"]["result"]["certificate_deployments"][0];
    let leaf = &deployment["received_certificate_chain"][0];
    if leaf.is_object() {
        let subject = leaf["subject"]["rfc4514_string"]
            .as_str()
            .unwrap_or_default();
        let cn = subject
            .split(',')
            .find_map(|rdn| rdn.trim().strip_prefix("CN="))
            .unwrap_or_default();
        facts.push("leaf CN", cn);
        facts.push(
            "leaf notAfter",
            leaf["not_valid_after"]
                .as_str()
                .unwrap_or_default()
                .get(..10)
                .unwrap_or_default(),
        );
        facts.push("leaf key bits", leaf["public_key"]["key_size"].to_string());
        let dns = leaf["subject_alternative_name"]["dns_names"]
            .as_array()
            .or_else(|| leaf["subject_alternative_name"]["dns"].as_array())
            .map(|names| {
                names
                    .iter()
                    .filter_map(|n| n.as_str().map(str::to_string))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        facts.push("leaf SAN DNS", set(dns));
        let serial = match &leaf["serial_number"] {
            Value::Number(n) => n.to_string(),
            Value::String(s) => s.clone(),
            _ => String::new(),
        };
        facts.push("leaf serial", decimal_to_hex(&serial));
    }
    let flag = |v: &Value| {
        v.as_bool()
            .map(|b| b.to_string())
            .unwrap_or_else(|| "n/a".into())
    };
    facts.push(
        "compression",
        flag(&scan["tls_compression"]["result"]["supports_compression"]),
    );
    facts.push(
        "secure renegotiation",
        flag(&scan["session_renegotiation"]["result"]["supports_secure_renegotiation"]),
    );
    facts.push(
        "heartbleed",
        flag(&scan["heartbleed"]["result"]["is_vulnerable_to_heartbleed"]),
    );
    facts.push(
        "early data",
        flag(&scan["tls_1_3_early_data"]["result"]["supports_early_data"]),
    );
    facts
}

/// sslyze prints serials in decimal; ours are hex. Convert (arbitrary length).
fn decimal_to_hex(decimal: &str) -> String {
    let mut digits: Vec<u32> = decimal
        .bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| u32::from(b - b'0'))
        .collect();
    let mut hex = Vec::new();
    while digits.iter().any(|d| *d != 0) {
        let mut remainder = 0;
        for digit in digits.iter_mut() {
            let value = remainder * 10 + *digit;
            *digit = value / 16;
            remainder = value % 16;
        }
        hex.push(char::from_digit(remainder, 16).unwrap_or('?'));
    }
    hex.iter().rev().collect()
}

fn run_sslyze(dir: &Path, name: &str, server_name: &str, port: u16) -> (Value, Duration) {
    let out = dir.join(format!("sslyze-{name}.json"));
    let started = Instant::now();
    let output = Command::new(sslyze_python())
        .args([
            "-m",
            "sslyze",
            "--quiet",
            &format!("--json_out={}", out.display()),
            "--sslv3",
            "--tlsv1",
            "--tlsv1_1",
            "--tlsv1_2",
            "--tlsv1_3",
            "--certinfo",
            "--elliptic_curves",
            "--compression",
            "--reneg",
            "--heartbleed",
            "--early_data",
            "--mozilla_config=disable",
            &format!("{server_name}:{port}{{127.0.0.1}}"),
        ])
        .output()
        .expect("run sslyze");
    let elapsed = started.elapsed();
    assert!(
        out.exists(),
        "sslyze wrote no JSON: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    // sslyze writes RSA moduli and serials as bare integers beyond f64; turn every integer
    // past 2^53 into a decimal string before serde_json reads it.
    const BIG_INTS_AS_STRINGS: &str = r#"
import json, sys
def fix(o):
    if isinstance(o, bool): return o
    if isinstance(o, int) and abs(o) > 2**53: return str(o)
    if isinstance(o, list): return [fix(v) for v in o]
    if isinstance(o, dict): return {k: fix(v) for k, v in o.items()}
    return o
print(json.dumps(fix(json.load(open(sys.argv[1])))))
"#;
    let converted = Command::new(sslyze_python())
        .args(["-c", BIG_INTS_AS_STRINGS, &out.display().to_string()])
        .output()
        .expect("python");
    assert!(
        converted.status.success(),
        "{}",
        String::from_utf8_lossy(&converted.stderr)
    );
    (
        serde_json::from_slice(&converted.stdout).expect("sslyze JSON"),
        elapsed,
    )
}

/// Whether `openssl s_client` completes a handshake with exactly `suite` (IANA name).
fn openssl_accepts(server_name: &str, port: u16, protocol: Protocol, suite: &str) -> bool {
    let names = Command::new("openssl")
        .args(["ciphers", "-stdname", "ALL:COMPLEMENTOFALL:@SECLEVEL=0"])
        .output()
        .expect("openssl ciphers");
    let names = String::from_utf8_lossy(&names.stdout);
    let Some(openssl_name) = names.lines().find_map(|line| {
        let mut fields = line.split_whitespace();
        (fields.next() == Some(suite))
            .then(|| fields.nth(1))
            .flatten()
    }) else {
        return false;
    };
    let version_flag = match protocol {
        Protocol::Ssl3 => "-ssl3",
        Protocol::Tls10 => "-tls1",
        Protocol::Tls11 => "-tls1_1",
        Protocol::Tls12 => "-tls1_2",
        Protocol::Tls13 => "-tls1_3",
    };
    let cipher_flag = if protocol == Protocol::Tls13 {
        "-ciphersuites"
    } else {
        "-cipher"
    };
    let cipher = if protocol == Protocol::Tls13 {
        openssl_name.to_string()
    } else {
        format!("{openssl_name}:@SECLEVEL=0")
    };
    let output = Command::new("openssl")
        .args([
            "s_client",
            "-connect",
            &format!("127.0.0.1:{port}"),
            "-servername",
            server_name,
            version_flag,
            cipher_flag,
            &cipher,
        ])
        .stdin(Stdio::null())
        .output()
        .expect("openssl s_client");
    String::from_utf8_lossy(&output.stdout).contains(&format!("Cipher is {openssl_name}"))
}

/// Audit and compare one endpoint; returns Palisade's finding ids and the keys on which the
/// tools disagree.
fn compare(dir: &Path, name: &str, server_name: &str, port: u16) -> (Vec<String>, Vec<String>) {
    let mut target = TlsTarget::new("127.0.0.1", port);
    target.sni = Some(server_name.to_string());
    let started = Instant::now();
    let report = audit(&target, &TlsAuditOptions::default()).expect("palisade audit");
    let ours_time = started.elapsed();
    let (json, sslyze_time) = run_sslyze(dir, name, server_name, port);
    let mut ours = palisade_facts(&report);
    let theirs = sslyze_facts(&json);
    let mut disagreements = Vec::new();
    // Suites sslyze never offers cannot be compared with it; each one Palisade found accepted
    // is confirmed with an `openssl s_client` handshake instead.
    let mut beyond_sslyze = Vec::new();
    for protocol in Protocol::ALL {
        let tested: BTreeSet<&str> = theirs
            .get(&format!("{protocol} tested"))
            .unwrap_or_default()
            .split(' ')
            .collect();
        let key = format!("{protocol} suites");
        let Some(row) = ours.rows.iter_mut().find(|(k, _)| *k == key) else {
            continue;
        };
        let (compared, extra): (Vec<&str>, Vec<&str>) = row
            .1
            .split(' ')
            .filter(|s| !s.is_empty())
            .partition(|s| tested.contains(s));
        for suite in extra {
            let confirmed = openssl_accepts(server_name, port, protocol, suite);
            if !confirmed {
                disagreements.push(format!(
                    "{protocol} {suite} (not confirmed by openssl s_client)"
                ));
            }
            beyond_sslyze.push(format!(
                "{protocol} {suite}: {}",
                if confirmed {
                    "confirmed by openssl s_client"
                } else {
                    "NOT confirmed by openssl s_client"
                }
            ));
        }
        row.1 = compared.join(" ");
    }
    println!("\n=== {name} ({server_name}:{port}) ===");
    println!(
        "palisade {:>6} ms ({} connections)   sslyze {:>6} ms",
        ours_time.as_millis(),
        report.connections,
        sslyze_time.as_millis()
    );
    println!("{:<22} {:<5} {:<44} sslyze", "fact", "same", "palisade");
    for (key, value) in &ours.rows {
        let other = theirs.get(key).unwrap_or("(absent)");
        let shown = if value.is_empty() {
            "-"
        } else {
            value.as_str()
        };
        if value == other {
            println!("{key:<22} {:<5} {shown:<44} =", "yes");
        } else {
            disagreements.push(key.clone());
            println!("{key:<22} {:<5} {shown:<44} {other}", "NO");
            let ours_set: BTreeSet<&str> = value.split(' ').collect();
            let theirs_set: BTreeSet<&str> = other.split(' ').collect();
            let only = |a: &BTreeSet<&str>, b: &BTreeSet<&str>| {
                a.difference(b).copied().collect::<Vec<_>>().join(" ")
            };
            println!("    only palisade: {}", only(&ours_set, &theirs_set));
            println!("    only sslyze:   {}", only(&theirs_set, &ours_set));
        }
    }
    for line in &beyond_sslyze {
        println!("accepted, not in sslyze's suite list: {line}");
    }
    println!(
        "palisade verdict: Mozilla {}; findings: {}",
        report.mozilla_profile.as_deref().unwrap_or("none"),
        report
            .findings
            .iter()
            .map(|f| f.id.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let finding_ids = report.findings.iter().map(|f| f.id.clone()).collect();
    (finding_ids, disagreements)
}

#[test]
fn palisade_agrees_with_sslyze_on_nginx_and_rustls() {
    if skip_or_fail() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let nginx = start_nginx(dir.path());
    let (strong_findings, strong) = compare(dir.path(), "nginx-strong", "localhost", nginx.strong);
    let (weak_findings, weak) = compare(dir.path(), "nginx-weak", "weak.localhost", nginx.weak);
    let pki = support::TestPki::new(80);
    let rustls_server = support::RustlsServer::start(
        &pki,
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
        false,
    );
    let (_, rustls) = compare(dir.path(), "rustls", "localhost", rustls_server.port);
    assert!(
        strong.is_empty(),
        "nginx strong: tools disagree on {strong:?}"
    );
    assert!(weak.is_empty(), "nginx weak: tools disagree on {weak:?}");
    assert!(rustls.is_empty(), "rustls: tools disagree on {rustls:?}");
    // What each configuration is built to show (self-signed certificates are untrusted).
    // The strong server turns on 0-RTT (ssl_early_data on) so that both tools see early data.
    assert_eq!(
        strong_findings,
        [
            "tls.cert.untrusted",
            "tls.early_data.accepted",
            "tls.ocsp.not_stapled"
        ]
    );
    for id in [
        "tls.protocol.tls10",
        "tls.protocol.tls11",
        "tls.cipher.anonymous",
        "tls.cipher.no_forward_secrecy",
        "tls.cipher.cbc",
        "tls.dh.weak",
        "tls.hsts.missing",
        "tls.mozilla.intermediate",
    ] {
        assert!(
            weak_findings.iter().any(|f| f == id),
            "weak nginx: no {id} in {weak_findings:?}"
        );
    }
}
