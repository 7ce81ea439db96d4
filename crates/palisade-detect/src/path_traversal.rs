//! Path traversal / local file inclusion detector.
//!
//! # What
//! Directory traversal sequences (`../`, `..\`, `....//`, `..;/`) and
//! references to well-known sensitive files on Unix and Windows, plus the
//! PHP/stream wrappers used for inclusion (`php://filter`, `php://input`,
//! `zip://`, `phar://`, `expect://`, `data://`, `file://`, `glob://`).
//!
//! # Why
//! Applications that build file paths from input disclose or execute files
//! outside their root. Decoding (double encoding, `%c0%ae` overlong UTF-8,
//! `%u002e`) is done by [`crate::normalize`]; this detector treats `\` and
//! `/` alike. Benign relative links (`../img/a.png`) are common, so a
//! traversal alone fires only when it climbs at least three levels, or two
//! levels from the very start of the value; any traversal or an absolute path
//! that reaches a sensitive file always fires.
//!
//! # Gate
//! Every finding is a stream wrapper (which holds `:`, and is looked for only
//! when the value holds every byte class of some wrapper), a sensitive file in
//! a value with a slash, or a `../` run (slashes again); a value with neither
//! a slash nor a possible wrapper is skipped.
//!
//! # Example
//! `..%252f..%252f..%252fetc%252fpasswd` → decoded `../../../etc/passwd` → `PathTraversal`.
//!
//! # References
//! CWE-22, CWE-23, CWE-36, CWE-98; OWASP CRS REQUEST-930-APPLICATION-ATTACK-LFI
//! (930100, 930110, 930120, 930130), REQUEST-933 (933200 PHP wrappers).

use std::sync::LazyLock;

use crate::gate::Literals;
use crate::{AttackClass, ByteClasses, Detection};

/// Sensitive files and directories (matched after `/` or `\` or at value start).
static SENSITIVE: LazyLock<Literals> = LazyLock::new(|| {
    Literals::any_case(&[
        "etc/passwd",
        "etc/shadow",
        "etc/group",
        "etc/hosts",
        "etc/issue",
        "etc/sudoers",
        "etc/crontab",
        "etc/hostname",
        "etc/resolv.conf",
        "etc/mysql/my.cnf",
        "etc/apache2/apache2.conf",
        "etc/httpd/conf/httpd.conf",
        "etc/nginx/nginx.conf",
        "etc/ssh/sshd_config",
        "etc/security/passwd",
        "etc/master.passwd",
        "proc/self/environ",
        "proc/self/cmdline",
        "proc/self/fd/",
        "proc/self/maps",
        "proc/self/status",
        "proc/version",
        "proc/1/environ",
        "var/log/apache2/access.log",
        "var/log/apache/access.log",
        "var/log/httpd/access_log",
        "var/log/nginx/access.log",
        "var/log/auth.log",
        "var/run/secrets/kubernetes.io",
        ".ssh/id_rsa",
        ".ssh/id_ed25519",
        ".ssh/authorized_keys",
        ".bash_history",
        ".aws/credentials",
        ".git/config",
        ".git/head",
        ".htpasswd",
        ".htaccess",
        ".env",
        "web-inf/web.xml",
        "meta-inf/manifest.mf",
        "wp-config.php",
        "config.php",
        "boot.ini",
        "win.ini",
        "system.ini",
        "windows/system32/",
        "windows/repair/sam",
        "windows/system32/config/sam",
        "windows/debug/netsetup.log",
        "inetpub/wwwroot/web.config",
        "web.config",
        "autoexec.bat",
        "php.ini",
    ])
});

/// Inclusion wrappers.
static WRAPPERS: LazyLock<Literals> = LazyLock::new(|| {
    Literals::any_case(&[
        "php://filter",
        "php://input",
        "php://fd",
        "php://memory",
        "php://temp",
        "zip://",
        "phar://",
        "expect://",
        "data://",
        "glob://",
        "compress.zlib://",
        "compress.bzip2://",
        "file://",
        "file:/etc/",
        "file:/c:",
        "jar:file:",
    ])
});

fn is_slash(byte: u8) -> bool {
    byte == b'/' || byte == b'\\'
}

/// `/` and `\`, which this detector treats alike.
const SLASHES: ByteClasses = ByteClasses::bytes(b"/\\");

/// Inspects `input` and returns a detection when it holds an attack of this class.
pub fn detect(input: &[u8]) -> Option<Detection> {
    detect_gated(input, ByteClasses::of(input))
}

/// The gate of [`detect_gated`] (see the module doc): false when no value of
/// `classes` can hold an attack of this class.
pub(crate) fn may_fire(classes: ByteClasses) -> bool {
    classes.has_any(SLASHES) || WRAPPERS.may_occur(classes)
}

/// [`detect`] for an input whose byte classes are `classes` (or a subset of them).
pub fn detect_gated(input: &[u8], classes: ByteClasses) -> Option<Detection> {
    if !may_fire(classes) {
        return None;
    }
    let maybe_slash = classes.has_any(SLASHES);
    if let Some(found) = WRAPPERS.find(input, classes) {
        return Some(Detection::new(
            AttackClass::PathTraversal,
            7,
            found.range(),
            "stream wrapper",
        ));
    }
    // Traversal runs: consecutive `..`-segments separated by slashes.
    let mut max_depth = 0usize;
    let mut depth_from_start = 0usize;
    let mut first_traversal: Option<usize> = None;
    let mut i = 0usize;
    let mut run_depth = 0usize;
    let mut run_start_at_value_start = false;
    while let Some(offset) = memchr::memchr(b'.', &input[i..]) {
        let dot = i + offset;
        let dots = input[dot..]
            .iter()
            .take_while(|&&byte| byte == b'.')
            .count();
        let mut after = dot + dots;
        // Tomcat-style `..;/` and filter-bypass `....//`.
        if input.get(after) == Some(&b';') {
            after += 1;
        }
        let slashes = input[after.min(input.len())..]
            .iter()
            .take_while(|&&byte| is_slash(byte))
            .count();
        let preceded_ok = dot == 0
            || is_slash(input[dot - 1])
            || input[dot - 1].is_ascii_whitespace()
            || input[dot - 1] == b'=';
        if dots >= 2 && (slashes > 0 || after == input.len()) && preceded_ok {
            if run_depth == 0 {
                run_start_at_value_start = input[..dot]
                    .iter()
                    .all(|&byte| is_slash(byte) || byte.is_ascii_whitespace());
            }
            run_depth += 1;
            first_traversal.get_or_insert(dot);
            if run_start_at_value_start {
                depth_from_start = depth_from_start.max(run_depth);
            }
            max_depth = max_depth.max(run_depth);
            i = after + slashes;
        } else {
            run_depth = 0;
            i = dot + dots;
        }
        if i >= input.len() {
            break;
        }
    }
    // A real test, not only a gate: a sensitive name counts only in a value with a slash.
    let has_slash = maybe_slash && memchr::memchr2(b'/', b'\\', input).is_some();
    if let Some(found) = has_slash.then(|| sensitive_file(input, classes)).flatten() {
        let score = if first_traversal.is_some() { 8 } else { 6 };
        return Some(Detection::new(
            AttackClass::PathTraversal,
            score,
            found,
            "sensitive file",
        ));
    }
    if max_depth >= 3 || depth_from_start >= 2 {
        let start = first_traversal.unwrap_or_default();
        return Some(Detection::new(
            AttackClass::PathTraversal,
            6,
            start..input.len(),
            "../ traversal",
        ));
    }
    None
}

/// A sensitive file reference: after a slash, or at the value start (optionally
/// after a drive letter), i.e. not embedded in a larger word.
fn sensitive_file(input: &[u8], classes: ByteClasses) -> Option<std::ops::Range<usize>> {
    for found in SENSITIVE.find_iter(input, classes) {
        let start = found.start();
        let preceded = start == 0
            || is_slash(input[start - 1])
            || (start >= 2 && input[start - 1] == b':' && input[start - 2].is_ascii_alphabetic());
        let dotfile = input[start] == b'.';
        let end = found.end();
        let followed_ok = input
            .get(end)
            .is_none_or(|&byte| !byte.is_ascii_alphanumeric() || input[end - 1] == b'/');
        if !followed_ok {
            continue;
        }
        // Dotfiles and bare names like `web.config` need a slash before them.
        let absolute_or_traversal = start > 0 && is_slash(input[start - 1]);
        if (preceded && !dotfile && (absolute_or_traversal || start == 0))
            || (dotfile && absolute_or_traversal)
        {
            // A bare `config.php` / `web.config` / `.env` alone needs a traversal or absolute path.
            let bare = !absolute_or_traversal;
            let found = &input[start..end];
            let weak_name = [
                &b"config.php"[..],
                b"web.config",
                b"php.ini",
                b".env",
                b".htaccess",
                b"etc/hosts",
            ]
            .iter()
            .any(|name| found.eq_ignore_ascii_case(name));
            if weak_name && (bare || !has_traversal_or_root(&input[..start])) {
                continue;
            }
            return Some(start..end);
        }
    }
    None
}

/// True when the path before a sensitive name climbs (`../`) or is rooted (`/`, `C:\`).
fn has_traversal_or_root(prefix: &[u8]) -> bool {
    let trimmed = prefix.trim_ascii_start();
    trimmed
        .windows(3)
        .any(|window| window[0] == b'.' && window[1] == b'.' && is_slash(window[2]))
        || trimmed.len() == 1 && is_slash(trimmed[0])
        || trimmed.len() >= 2 && trimmed[1] == b':'
}

#[cfg(test)]
mod tests {
    use super::detect;

    #[test]
    fn detects_traversal_and_sensitive_files() {
        for payload in [
            "../../../etc/passwd",
            "..\\..\\..\\windows\\win.ini",
            "/etc/passwd",
            "....//....//....//etc/passwd",
            "..;/..;/..;/WEB-INF/web.xml",
            "C:\\boot.ini",
            "php://filter/convert.base64-encode/resource=index.php",
            "file:///etc/shadow",
            "../../",
            "foo/../../../bar",
            "/var/www/../../../../proc/self/environ",
            "../.env",
        ] {
            assert!(detect(payload.as_bytes()).is_some(), "missed {payload:?}");
        }
    }

    #[test]
    fn benign_paths_are_quiet() {
        for text in [
            "../images/logo.png",
            "see docs/../README.md",
            "Wait... what?! ..and then",
            "my web.config has a typo",
            "copy .env.example to .env",
            "src/config.php line 12",
            "passwd reset link",
        ] {
            assert_eq!(detect(text.as_bytes()), None, "false positive on {text:?}");
        }
    }
}
