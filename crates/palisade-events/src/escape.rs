//! Log-injection escaping for every text output (tables, syslog).
//!
//! Attacker-controlled strings (paths, user names, messages) must never start a
//! new log line, rewrite a terminal, or hide text. [`escape_text`] makes a string
//! safe for a single line of text output:
//!
//! * `\` becomes `\\`, so an escaped sequence can never be forged by the input;
//! * CR, LF and TAB become `\r`, `\n`, `\t`;
//! * every other C0 control, DEL, every C1 control (U+0080–U+009F, which
//!   includes NEL), the Unicode line/paragraph separators (U+2028, U+2029) and
//!   the bidirectional overrides/isolates (U+202A–U+202E, U+2066–U+2069, which
//!   can reorder what a reader sees) become `\u{XXXX}`.
//!
//! JSON outputs do not need this: `serde_json` escapes control characters, so a
//! JSON line cannot be split; U+2028/U+2029 stay literal there, as JSON allows.

use std::borrow::Cow;
use std::fmt::Write as _;

/// True when `c` must not appear literally in a line of text output.
fn needs_escape(c: char) -> bool {
    c == '\\'
        || c.is_control()
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Escapes `text` for one line of text output (see the module docs).
/// Borrows when nothing needs escaping.
pub fn escape_text(text: &str) -> Cow<'_, str> {
    let Some(first) = text.find(needs_escape) else {
        return Cow::Borrowed(text);
    };
    let mut out = String::with_capacity(text.len() + 8);
    out.push_str(&text[..first]);
    for c in text[first..].chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\r' => out.push_str("\\r"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if needs_escape(c) => {
                // Writing to a String cannot fail.
                let _ = write!(out, "\\u{{{:04X}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}
