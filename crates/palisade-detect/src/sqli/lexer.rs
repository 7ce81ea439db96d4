//! SQL lexer shared by every dialect the SQL injection detector models.
//!
//! Owns the byte-level rules: whitespace, quotes and their escapes (`''`,
//! `\'`), `--`, `#`, `/* */` and MySQL executable `/*! */` comments, backtick
//! and bracket identifiers, `N''`/`E''`/`X''`/`B''`/`_charset''` literals,
//! hex/bit/decimal numbers, `@var`/`@@var`/`$1` variables, operators,
//! keywords and function names.
//!
//! Design: an allocation-free iterator over [`Token`]s; every step consumes
//! at least one byte, so a full pass is linear in the input. Comments in the
//! middle of the input behave as whitespace (that is how the database sees
//! them); a comment that runs to the end of the input is emitted as a
//! [`Kind::Comment`] token because it truncates the rest of the host query,
//! which is what injection payloads use it for. A word is a function name
//! when the next non-blank byte is `(`.

/// Longest word the keyword table is consulted for; longer words are identifiers.
const MAX_WORD: usize = 24;

/// Class of a function, by what calling it achieves in an injection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FuncClass {
    /// Delays the response: time-based blind injection (`SLEEP`, `pg_sleep`).
    Time,
    /// Raises an error carrying data: error-based injection (`EXTRACTVALUE`).
    Error,
    /// Touches files, the OS or the network (`LOAD_FILE`, `xp_cmdshell`).
    Exec,
    /// Reveals server facts (`VERSION()`, `USER()`, `DATABASE()`).
    Info,
    /// A common built-in used to build blind-injection predicates.
    Known,
    /// Any other word followed by `(`.
    Unknown,
}

/// Keywords the grammar distinguishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kw {
    Select,
    Union,
    All,
    Distinct,
    From,
    Where,
    And,
    Or,
    Xor,
    Not,
    Null,
    True,
    False,
    Is,
    In,
    Like,
    Between,
    Case,
    When,
    Then,
    Else,
    End,
    As,
    Order,
    Group,
    By,
    Having,
    Limit,
    Offset,
    Procedure,
    Into,
    Outfile,
    Top,
    Waitfor,
    Delay,
    Exec,
    Drop,
    Insert,
    Update,
    Delete,
    Create,
    Alter,
    Truncate,
    Declare,
    Set,
    Shutdown,
    ObjectType,
    Collate,
    Div,
    Exists,
    Binary,
    For,
    Escape,
}

/// Operator classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    /// `*`: multiplication, or "all columns" in a select list.
    Star,
    /// `-`, `+`, `~`, `!`: may be unary.
    Unary,
    /// `=`, `<>`, `!=`, `<`, `>`, `<=`, `>=`, `<=>`, `!<`, `!>`.
    Cmp,
    /// `&&`, `||` (logical in MySQL, concatenation elsewhere).
    Logic,
    /// `/`, `%`, `^`, `|`, `&`, `<<`, `>>`, `->`, `->>`, `:=`.
    Arith,
    /// `::` (PostgreSQL cast).
    Cast,
}

/// Token kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// String literal (possibly unterminated at end of input).
    Str,
    /// Numeric, hex or bit literal.
    Num,
    /// Identifier: bareword, `` `quoted` `` or `[bracketed]`.
    Ident,
    /// `@var`, `@@sysvar`, `$1`, `:name`.
    Var,
    /// A word directly followed by `(`.
    Func(FuncClass),
    Kw(Kw),
    Op(Op),
    LParen,
    RParen,
    Comma,
    Semi,
    Dot,
    /// A comment that runs to the end of the input.
    Comment,
    /// Anything SQL does not accept here.
    Unknown,
}

impl Kind {
    /// One-character class used in fingerprints.
    pub(crate) fn class_char(self) -> u8 {
        match self {
            Kind::Str => b's',
            Kind::Num => b'1',
            Kind::Ident => b'n',
            Kind::Var => b'v',
            Kind::Func(_) => b'f',
            Kind::Kw(Kw::And | Kw::Or | Kw::Xor | Kw::Having) | Kind::Op(Op::Logic) => b'&',
            Kind::Kw(Kw::Union) => b'U',
            Kind::Kw(Kw::Not) => b'!',
            Kind::Kw(Kw::Is | Kw::In | Kw::Like | Kw::Between) | Kind::Op(Op::Cmp) => b'=',
            Kind::Kw(_) => b'k',
            Kind::Op(_) => b'o',
            Kind::LParen => b'(',
            Kind::RParen => b')',
            Kind::Comma => b',',
            Kind::Semi => b';',
            Kind::Dot => b'.',
            Kind::Comment => b'c',
            Kind::Unknown => b'?',
        }
    }
}

/// One token: its kind and byte range in the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Token {
    pub(crate) kind: Kind,
    pub(crate) start: usize,
    pub(crate) end: usize,
}

/// Returns the index of the quote that closes a string whose body starts at
/// `from`, honouring doubled quotes and backslash escapes; `None` when the
/// string runs to the end of the input.
pub(crate) fn find_closing_quote(src: &[u8], from: usize, quote: u8) -> Option<usize> {
    let mut i = from;
    loop {
        // Only a backslash or the quote matter: memchr jumps over the rest.
        let at = i + memchr::memchr2(b'\\', quote, src.get(i..)?)?;
        if src[at] == quote && src.get(at + 1) != Some(&quote) {
            return Some(at);
        }
        // An escape (`\\x`) or a doubled quote: both bytes are body.
        i = at + 2;
    }
}

/// [`BYTE_KINDS`] flag: a blank.
const BLANK: u8 = 1;
/// [`BYTE_KINDS`] flag: a byte that starts a word.
const WORD_START: u8 = 2;
/// [`BYTE_KINDS`] flag: a byte that continues a word.
const WORD: u8 = 4;

/// What each byte is to the lexer: blanks (ASCII whitespace and `0xA0`), word
/// starts (letters, `_`, other bytes >= 0x80) and word bytes (those, digits and
/// `$`). A table: the lexer asks for every byte of every word.
static BYTE_KINDS: [u8; 256] = {
    let mut kinds = [0u8; 256];
    let mut byte = 0usize;
    while byte < 256 {
        let b = byte as u8;
        kinds[byte] = if matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c | 0xa0) {
            BLANK
        } else if b.is_ascii_alphabetic() || b == b'_' || b >= 0x80 {
            WORD_START | WORD
        } else if b.is_ascii_digit() || b == b'$' {
            WORD
        } else {
            0
        };
        byte += 1;
    }
    kinds
};

fn is_space(byte: u8) -> bool {
    BYTE_KINDS[usize::from(byte)] & BLANK != 0
}

fn is_word_start(byte: u8) -> bool {
    BYTE_KINDS[usize::from(byte)] & WORD_START != 0
}

fn is_word_byte(byte: u8) -> bool {
    BYTE_KINDS[usize::from(byte)] & WORD != 0
}

/// Allocation-free SQL tokenizer.
#[derive(Clone)]
pub(crate) struct Lexer<'a> {
    src: &'a [u8],
    pos: usize,
    in_exec_comment: bool,
}

impl<'a> Lexer<'a> {
    /// Lexes `src` from byte `pos`.
    pub(crate) fn new(src: &'a [u8], pos: usize) -> Self {
        Self {
            src,
            pos,
            in_exec_comment: false,
        }
    }

    fn peek(&self, offset: usize) -> u8 {
        self.src.get(self.pos + offset).copied().unwrap_or(0)
    }

    /// Skips whitespace and mid-input comments. Returns `Some(start)` when a
    /// comment reaches the end of the input (a terminal comment token).
    fn skip_blanks(&mut self) -> Option<usize> {
        loop {
            let byte = *self.src.get(self.pos)?;
            if is_space(byte) {
                self.pos += 1;
                continue;
            }
            let start = self.pos;
            if byte == b'#' || byte == b'-' && self.peek(1) == b'-' {
                match self.src[self.pos..].iter().position(|&b| b == b'\n') {
                    Some(newline) => {
                        self.pos += newline + 1;
                        continue;
                    }
                    None => {
                        self.pos = self.src.len();
                        return Some(start);
                    }
                }
            }
            if byte == b'/' && self.peek(1) == b'*' {
                if self.peek(2) == b'!' {
                    // MySQL executable comment: its body is code.
                    self.pos += 3;
                    while self.peek(0).is_ascii_digit() {
                        self.pos += 1;
                    }
                    self.in_exec_comment = true;
                    continue;
                }
                let body = self.pos + 2;
                match self.src[body..].windows(2).position(|w| w == b"*/") {
                    Some(close) => {
                        self.pos = body + close + 2;
                        continue;
                    }
                    None => {
                        self.pos = self.src.len();
                        return Some(start);
                    }
                }
            }
            if byte == b'*' && self.peek(1) == b'/' && self.in_exec_comment {
                self.in_exec_comment = false;
                self.pos += 2;
                continue;
            }
            return None;
        }
    }

    fn string_token(&mut self, start: usize, body: usize, quote: u8) -> Token {
        self.pos = match find_closing_quote(self.src, body, quote) {
            Some(close) => close + 1,
            None => self.src.len(),
        };
        Token {
            kind: Kind::Str,
            start,
            end: self.pos,
        }
    }

    fn number_token(&mut self, start: usize) -> Token {
        let src = self.src;
        let mut i = start;
        if src[i] == b'0' && matches!(src.get(i + 1), Some(b'x' | b'X' | b'b' | b'B')) {
            let hex = matches!(src[i + 1], b'x' | b'X');
            let digits = src[i + 2..]
                .iter()
                .take_while(|b| {
                    if hex {
                        b.is_ascii_hexdigit()
                    } else {
                        matches!(b, b'0' | b'1')
                    }
                })
                .count();
            if digits > 0 {
                i += 2 + digits;
                self.pos = i;
                return Token {
                    kind: Kind::Num,
                    start,
                    end: i,
                };
            }
        }
        while i < src.len() && src[i].is_ascii_digit() {
            i += 1;
        }
        if i < src.len() && src[i] == b'.' {
            i += 1;
            while i < src.len() && src[i].is_ascii_digit() {
                i += 1;
            }
        }
        if i < src.len() && matches!(src[i], b'e' | b'E') {
            let mut j = i + 1;
            if j < src.len() && matches!(src[j], b'+' | b'-') {
                j += 1;
            }
            if j < src.len() && src[j].is_ascii_digit() {
                i = j;
                while i < src.len() && src[i].is_ascii_digit() {
                    i += 1;
                }
            }
        }
        self.pos = i;
        Token {
            kind: Kind::Num,
            start,
            end: i,
        }
    }

    // Inlined into its one caller, [`Lexer::next`]: most tokens are words, and the
    // call's register saves cost as much as lexing a short word.
    #[inline(always)]
    fn word_token(&mut self, start: usize) -> Token {
        let src = self.src;
        let mut end = start;
        // Most words are short: byte by byte for their first eight bytes. A longer
        // word (base64, tokens, text without spaces) goes on eight bytes a step while
        // all are word bytes (one test for eight lookups), then byte by byte.
        let short = src.len().min(start + 8);
        while end < short && is_word_byte(src[end]) {
            end += 1;
        }
        if end == short {
            while let Some(chunk) = src[end..].first_chunk::<8>() {
                let kinds = chunk
                    .iter()
                    .fold(WORD, |kinds, &byte| kinds & BYTE_KINDS[usize::from(byte)]);
                if kinds & WORD == 0 {
                    break;
                }
                end += 8;
            }
            while end < src.len() && is_word_byte(src[end]) {
                end += 1;
            }
        }
        // Prefixed literals: N'', E'', X'', B'', Q'', _utf8''.
        if let Some(&quote @ b'\'') = src.get(end) {
            let prefix = &src[start..end];
            let prefixed = prefix.len() == 1 && b"nNeExXbBqQ".contains(&prefix[0])
                || prefix.len() > 1 && prefix[0] == b'_';
            if prefixed {
                return self.string_token(start, end + 1, quote);
            }
        }
        self.pos = end;
        let mut after = end;
        while after < src.len() && is_space(src[after]) {
            after += 1;
        }
        let call = src.get(after) == Some(&b'(');
        let kind = classify_word(&src[start..end], call);
        Token { kind, start, end }
    }

    fn operator_token(&mut self, start: usize) -> Token {
        let a = self.src[start];
        let b = self.peek(1);
        let c = self.peek(2);
        let (kind, len) = match (a, b, c) {
            (b'<', b'=', b'>') => (Kind::Op(Op::Cmp), 3),
            (b'-', b'>', b'>') => (Kind::Op(Op::Arith), 3),
            (b'<', b'>' | b'=', _) | (b'>' | b'!', b'=', _) | (b'!', b'<' | b'>', _) => {
                (Kind::Op(Op::Cmp), 2)
            }
            (b'&', b'&', _) | (b'|', b'|', _) => (Kind::Op(Op::Logic), 2),
            (b'<', b'<', _) | (b'>', b'>', _) | (b'-', b'>', _) | (b':', b'=', _) => {
                (Kind::Op(Op::Arith), 2)
            }
            (b':', b':', _) => (Kind::Op(Op::Cast), 2),
            (b'=' | b'<' | b'>', _, _) => (Kind::Op(Op::Cmp), 1),
            (b'*', _, _) => (Kind::Op(Op::Star), 1),
            (b'-' | b'+' | b'~' | b'!', _, _) => (Kind::Op(Op::Unary), 1),
            (b'/' | b'%' | b'^' | b'|' | b'&', _, _) => (Kind::Op(Op::Arith), 1),
            _ => (Kind::Unknown, 1),
        };
        self.pos = start + len;
        Token {
            kind,
            start,
            end: self.pos,
        }
    }
}

impl Iterator for Lexer<'_> {
    type Item = Token;

    fn next(&mut self) -> Option<Token> {
        if let Some(start) = self.skip_blanks() {
            return Some(Token {
                kind: Kind::Comment,
                start,
                end: self.src.len(),
            });
        }
        let start = self.pos;
        let byte = *self.src.get(start)?;
        let single = |lexer: &mut Self, kind| {
            lexer.pos = start + 1;
            Token {
                kind,
                start,
                end: start + 1,
            }
        };
        Some(match byte {
            b'\'' | b'"' => self.string_token(start, start + 1, byte),
            b'`' | b'[' => {
                let close = if byte == b'`' { b'`' } else { b']' };
                let mut token = self.string_token(start, start + 1, close);
                token.kind = Kind::Ident;
                token
            }
            b'0'..=b'9' => self.number_token(start),
            b'.' if self.peek(1).is_ascii_digit() => self.number_token(start),
            b'@' | b'$' | b':' if is_word_byte(self.peek(1)) || self.peek(1) == b'@' => {
                let mut end = start + 1;
                while end < self.src.len() && self.src[end] == b'@' {
                    end += 1;
                }
                while end < self.src.len() && (is_word_byte(self.src[end]) || self.src[end] == b'.')
                {
                    end += 1;
                }
                self.pos = end;
                Token {
                    kind: Kind::Var,
                    start,
                    end,
                }
            }
            b'(' => single(self, Kind::LParen),
            b')' => single(self, Kind::RParen),
            b',' => single(self, Kind::Comma),
            b';' => single(self, Kind::Semi),
            b'.' => single(self, Kind::Dot),
            _ if is_word_start(byte) => self.word_token(start),
            _ => self.operator_token(start),
        })
    }
}

/// Lower-cases `word` into `buf`; `None` when too long to be a keyword.
fn lowercase<'b>(word: &[u8], buf: &'b mut [u8; MAX_WORD]) -> Option<&'b [u8]> {
    let out = buf.get_mut(..word.len())?;
    for (dst, src) in out.iter_mut().zip(word) {
        *dst = src.to_ascii_lowercase();
    }
    Some(out)
}

/// Classifies a word; `call` says whether `(` follows it.
fn classify_word(word: &[u8], call: bool) -> Kind {
    // Most words are none of the names: their first letter and length tell.
    if !NAMES.may_hold(word) {
        return if call {
            Kind::Func(FuncClass::Unknown)
        } else {
            Kind::Ident
        };
    }
    let mut buf = [0u8; MAX_WORD];
    let Some(lower) = lowercase(word, &mut buf) else {
        return if call {
            Kind::Func(FuncClass::Unknown)
        } else {
            Kind::Ident
        };
    };
    if call && let Some(class) = function_class(lower) {
        return Kind::Func(class);
    }
    if let Some(kw) = keyword(lower) {
        return Kind::Kw(kw);
    }
    if call {
        Kind::Func(FuncClass::Unknown)
    } else {
        Kind::Ident
    }
}

/// Defines a lookup from a lower-case word to its value, and the words themselves
/// (for [`NAMES`]), from one list.
macro_rules! word_lookup {
    ($(#[$meta:meta])* fn $lookup:ident -> $value:ty; const $words:ident; {
        $($($word:literal)|+ => $result:expr),+ $(,)?
    }) => {
        $(#[$meta])*
        fn $lookup(lower: &[u8]) -> Option<$value> {
            Some(match lower {
                $($($word)|+ => $result,)+
                _ => return None,
            })
        }

        const $words: &[&[u8]] = &[$($($word),+),+];
    };
}

word_lookup! {
    /// The class of a function name.
    fn function_class -> FuncClass; const FUNCTION_NAMES; {
        b"sleep" | b"benchmark" | b"pg_sleep" | b"pg_sleep_for" | b"pg_sleep_until"
        | b"receive_message" | b"randomblob" | b"delay" => FuncClass::Time,
        b"extractvalue"
        | b"updatexml"
        | b"xmltype"
        | b"name_const"
        | b"geometrycollection"
        | b"multipoint"
        | b"polygon"
        | b"multipolygon"
        | b"linestring"
        | b"multilinestring"
        | b"gtid_subset"
        | b"st_latfromgeohash"
        | b"get_host_name"
        | b"exp"
        | b"sn"
        | b"json_keys" => FuncClass::Error,
        b"load_file" | b"xp_cmdshell" | b"sp_oacreate" | b"sp_executesql" | b"sys_exec"
        | b"sys_eval" | b"lo_import" | b"lo_export" | b"pg_read_file" | b"pg_ls_dir"
        | b"dblink" | b"openrowset" | b"opendatasource" | b"load_extension" | b"request"
        | b"readfile" | b"writefile" => FuncClass::Exec,
        b"version" | b"user" | b"current_user" | b"session_user" | b"system_user" | b"database"
        | b"schema" | b"db_name" | b"user_name" | b"suser_name" | b"suser_sname" | b"host_name"
        | b"sqlite_version" | b"connection_id" | b"current_database" | b"current_schema"
        | b"is_srvrolemember" | b"has_dbaccess" => FuncClass::Info,
        b"ascii" | b"ord" | b"char" | b"chr" | b"nchar" | b"concat" | b"concat_ws"
        | b"group_concat" | b"string_agg" | b"substring" | b"substr" | b"mid" | b"left"
        | b"right" | b"length" | b"len" | b"hex" | b"unhex" | b"md5" | b"sha1" | b"cast"
        | b"convert" | b"if" | b"iif" | b"ifnull" | b"isnull" | b"nullif" | b"coalesce"
        | b"count" | b"floor" | b"rand" | b"random" | b"lower" | b"upper" | b"replace"
        | b"insert" | b"instr" | b"locate" | b"position" | b"strcmp" | b"elt" | b"make_set"
        | b"bit_length" | b"char_length" | b"unicode" | b"quote" | b"to_char" | b"trim"
        | b"reverse" | b"lpad" | b"rpad" | b"regexp_substr" | b"regexp_like" | b"decode"
        | b"encode" | b"soundex" | b"typeof" | b"glob" | b"exists" | b"mod" | b"abs" | b"round"
        | b"utl_http" | b"dbms_xmlgen" | b"getxml" | b"xmlagg" | b"json_extract" => {
            FuncClass::Known
        }
    }
}

word_lookup! {
    /// The keyword a word is.
    fn keyword -> Kw; const KEYWORD_NAMES; {
        b"select" => Kw::Select,
        b"union" | b"intersect" | b"except" | b"minus" => Kw::Union,
        b"all" => Kw::All,
        b"distinct" | b"distinctrow" => Kw::Distinct,
        b"from" => Kw::From,
        b"where" => Kw::Where,
        b"and" => Kw::And,
        b"or" => Kw::Or,
        b"xor" => Kw::Xor,
        b"not" => Kw::Not,
        b"null" => Kw::Null,
        b"true" => Kw::True,
        b"false" => Kw::False,
        b"is" => Kw::Is,
        b"in" => Kw::In,
        b"like" | b"rlike" | b"regexp" | b"ilike" | b"glob" | b"similar" | b"sounds" => Kw::Like,
        b"between" => Kw::Between,
        b"case" => Kw::Case,
        b"when" => Kw::When,
        b"then" => Kw::Then,
        b"else" => Kw::Else,
        b"end" => Kw::End,
        b"as" => Kw::As,
        b"order" => Kw::Order,
        b"group" => Kw::Group,
        b"by" => Kw::By,
        b"having" => Kw::Having,
        b"limit" => Kw::Limit,
        b"offset" => Kw::Offset,
        b"procedure" => Kw::Procedure,
        b"into" => Kw::Into,
        b"outfile" | b"dumpfile" => Kw::Outfile,
        b"top" => Kw::Top,
        b"waitfor" => Kw::Waitfor,
        b"delay" => Kw::Delay,
        b"exec" | b"execute" => Kw::Exec,
        b"drop" => Kw::Drop,
        b"insert" => Kw::Insert,
        b"update" => Kw::Update,
        b"delete" => Kw::Delete,
        b"create" => Kw::Create,
        b"alter" => Kw::Alter,
        b"truncate" => Kw::Truncate,
        b"declare" => Kw::Declare,
        b"set" => Kw::Set,
        b"shutdown" => Kw::Shutdown,
        b"table" | b"database" | b"view" | b"function" | b"trigger" | b"index" | b"login" => {
            Kw::ObjectType
        },
        b"collate" => Kw::Collate,
        b"div" | b"mod" => Kw::Div,
        b"exists" => Kw::Exists,
        b"binary" => Kw::Binary,
        b"for" => Kw::For,
        b"escape" => Kw::Escape,
    }
}

/// The first letter and length of every function name and keyword: a word
/// whose pair no name has is an identifier without lower-casing or lookup.
static NAMES: WordShapes = WordShapes::of(&[FUNCTION_NAMES, KEYWORD_NAMES]);

/// For each first byte (`a`–`z`, or `_`) and last byte (`a`–`z`, `_`, or a digit),
/// a bit per length (below 32) of the words starting and ending with them. Most
/// words of prose share a first letter and a length with some name, far fewer
/// also its last letter.
struct WordShapes([[u32; 28]; 27]);

impl WordShapes {
    const fn of(lists: &[&[&[u8]]]) -> WordShapes {
        let mut lengths = [[0u32; 28]; 27];
        let mut list = 0;
        while list < lists.len() {
            let mut i = 0;
            while i < lists[list].len() {
                let word = lists[list][i];
                assert!(word.len() < 32, "word too long for WordShapes");
                let (Some(first), Some(last)) =
                    (Self::slot(word[0]), Self::end_slot(word[word.len() - 1]))
                else {
                    panic!(
                        "word not starting with a letter or `_`, or not ending with one or a digit"
                    );
                };
                lengths[first][last] |= 1 << word.len();
                i += 1;
            }
            list += 1;
        }
        WordShapes(lengths)
    }

    const fn slot(first: u8) -> Option<usize> {
        match first.to_ascii_lowercase() {
            letter @ b'a'..=b'z' => Some((letter - b'a') as usize),
            b'_' => Some(26),
            _ => None,
        }
    }

    /// [`WordShapes::slot`], and one slot for every digit.
    const fn end_slot(last: u8) -> Option<usize> {
        match last {
            b'0'..=b'9' => Some(27),
            _ => Self::slot(last),
        }
    }

    /// False when no word has `word`'s first and last letters (any case) and length.
    fn may_hold(&self, word: &[u8]) -> bool {
        let (Some(&first), Some(&last)) = (word.first(), word.last()) else {
            return false;
        };
        match (Self::slot(first), Self::end_slot(last)) {
            (Some(first), Some(last)) => {
                word.len() < 32 && self.0[first][last] & (1 << word.len()) != 0
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<Kind> {
        Lexer::new(src.as_bytes(), 0).map(|t| t.kind).collect()
    }

    #[test]
    fn mid_comments_are_blank_and_trailing_comment_is_a_token() {
        assert_eq!(
            kinds("1/**/or/*!50000 1*/=1-- x"),
            [
                Kind::Num,
                Kind::Kw(Kw::Or),
                Kind::Num,
                Kind::Op(Op::Cmp),
                Kind::Num,
                Kind::Comment
            ]
        );
    }

    #[test]
    fn strings_honour_doubled_quotes_and_backslashes() {
        assert_eq!(kinds(r"'it''s' 'a\'b'"), [Kind::Str, Kind::Str]);
        assert_eq!(
            kinds("N'x' 0x7e _utf8'y'"),
            [Kind::Str, Kind::Num, Kind::Str]
        );
    }

    #[test]
    fn keywords_are_case_insensitive_and_exact() {
        assert_eq!(kinds("UnIoN"), [Kind::Kw(Kw::Union)]);
        assert_eq!(kinds("onion"), [Kind::Ident]);
    }

    #[test]
    fn every_name_passes_the_shape_filter_in_any_case() {
        for word in FUNCTION_NAMES.iter().chain(KEYWORD_NAMES) {
            let upper = word.to_ascii_uppercase();
            assert!(NAMES.may_hold(word), "{}", String::from_utf8_lossy(word));
            assert!(NAMES.may_hold(&upper), "{}", String::from_utf8_lossy(word));
        }
        assert!(!NAMES.may_hold(b"kiwi"), "no name starts with `k`");
        assert!(
            !NAMES.may_hold(b"oval"),
            "no four-letter name starts with `o`"
        );
        assert_eq!(kinds("kiwi(1)")[0], Kind::Func(FuncClass::Unknown));
    }

    #[test]
    fn words_before_parenthesis_are_functions() {
        assert_eq!(
            kinds("sleep (5) version"),
            [
                Kind::Func(FuncClass::Time),
                Kind::LParen,
                Kind::Num,
                Kind::RParen,
                Kind::Ident
            ]
        );
    }
}
