//! SQL injection detector.
//!
//! # What
//! Finds input that, spliced into a SQL statement, changes the statement's
//! structure: tautologies and boolean-blind predicates (`' or 1=1--`,
//! `1 and ascii(substr(user(),1,1))>64`), `UNION SELECT`, stacked queries
//! (`1; drop table users`), time-based probes (`SLEEP`, `BENCHMARK`,
//! `pg_sleep`, `WAITFOR DELAY`), error-based probes (`EXTRACTVALUE`,
//! `UPDATEXML`, `CAST`/`CONVERT` of server data), sub-queries, comment
//! truncation (`admin'--`), `ORDER BY n` column probing and `INTO OUTFILE`,
//! in MySQL, PostgreSQL, MSSQL, Oracle and SQLite syntax.
//!
//! # Why / design
//! A value lands in a query in one of a few contexts: as a bare value
//! (`id=INPUT`), right after a value (`... INPUT`, e.g. ` or 1=1`), or
//! inside a single- or double-quoted string. For each context the input is
//! tokenized by [`lexer`] (comments as whitespace, case-insensitive keywords,
//! every quoting style) and fed to a small automaton over *token classes*
//! (operand, operator, function, keyword, parenthesis …) that tracks whether
//! the tokens still form a well-formed SQL fragment. The verdict comes only
//! from structure reached while the fragment is well formed: a logical
//! operator right after the injected value followed by a complete
//! comparison, a `UNION SELECT` or `; <statement>` whose select list is
//! really SQL, a call to a time/error/exec function, and so on. Prose fails
//! the grammar within a few tokens ("select the best union plan": two
//! barewords in a row are never a SQL expression), which is what keeps
//! "drop me a line", `O'Brien`, `5'11"` and "5 or 6" quiet; `5 or 6` is well
//! formed but has no comparison after the `or`.
//!
//! Each pass is a single left-to-right walk with a fixed-size parenthesis
//! stack, so the detector is linear in input length and allocates only the
//! fingerprint of a detection.
//!
//! # Gate
//! Without SQL punctuation — any byte other than a letter, digit, `_`, blank
//! or byte >= 0x80 — a value lexes to numbers, identifiers and keywords only:
//! no string, operator, parenthesis (so no function call), comment, `;`, `@@`
//! variable or `.`. In every context the grammar then reaches a finding only
//! through one of these keywords: `SELECT` (union, stacked and sub-query
//! selects, `SELECT … FROM t`), a comparison keyword (`IS`, `IN`, `LIKE` and
//! its relatives `RLIKE`/`ILIKE`/`REGEXP`/`GLOB`/`SIMILAR`/`SOUNDS`,
//! `BETWEEN`) completing a tautology after `OR`/`AND` (`1 or 1 like 1`),
//! `ORDER`/`GROUP BY n`, `INTO OUTFILE` or `WAITFOR DELAY`. Numeric-context
//! attacks need no quote (`1 union select 1`, `1 or 1 in (1)`): what the gate
//! asks is punctuation *or* every letter of one of those keywords, so a plain
//! word, name or number (`42`, `blue`, `value number 12`) skips all lexing.
//!
//! # Example
//! `1' or '1'='1` → `Sqli`, fingerprint `'s&s=s tautology`.
//!
//! # References
//! CWE-89; OWASP CRS REQUEST-942-APPLICATION-ATTACK-SQLI (942100 uses
//! libinjection, whose token-class idea this module borrows; no code or
//! fingerprint list is shared).
#![forbid(unsafe_code)]

mod lexer;

use lexer::{FuncClass, Kind, Kw, Lexer, Op, Token, find_closing_quote};

use crate::{AttackClass, ByteClasses, Detection};

/// Deepest parenthesis / function / CASE nesting the automaton follows.
const MAX_DEPTH: usize = 32;
/// How many unmatched `)` may close the host query's parentheses.
const MAX_BREAKOUTS: u8 = 4;
/// Token classes kept for the fingerprint.
const FINGERPRINT_TOKENS: usize = 12;

/// Bytes the lexer reads as parts of words or as blanks: letters, digits,
/// `_`, blanks and bytes >= 0x80 (`0xA0` is a blank, the others word bytes).
/// Every other byte is SQL punctuation: a quote, operator, parenthesis,
/// comment opener, separator, `@`, `$`, `.` or a byte SQL does not accept.
const WORDS_AND_BLANKS: ByteClasses = ByteClasses::LETTERS
    .union(ByteClasses::HIGH)
    .union(ByteClasses::bytes(b"0_ \t\n\r\x0b"));

/// Without punctuation a value lexes to numbers, identifiers and keywords
/// only (no function call, string, operator, comment or `;`); every finding
/// then needs one of these keywords (see the module doc). Each entry is the
/// letters of one keyword, or of one that its longer relatives contain
/// (`in` for `into`, `is` for `similar`, `like` for `rlike`/`ilike`).
const STRUCTURE_KEYWORDS: [ByteClasses; 11] = [
    ByteClasses::bytes_any_case(b"select"),
    ByteClasses::bytes_any_case(b"is"),
    ByteClasses::bytes_any_case(b"in"),
    ByteClasses::bytes_any_case(b"like"),
    ByteClasses::bytes_any_case(b"regexp"),
    ByteClasses::bytes_any_case(b"glob"),
    ByteClasses::bytes_any_case(b"sounds"),
    ByteClasses::bytes_any_case(b"between"),
    ByteClasses::bytes_any_case(b"order"),
    ByteClasses::bytes_any_case(b"group"),
    ByteClasses::bytes_any_case(b"waitfor"),
];

/// Longest input [`detect`] computes the byte classes of: the parse of a longer
/// text usually ends within a few tokens, so a pass over all of it to find its
/// classes would cost more than the gate saves.
const MAX_CLASSIFIED_LEN: usize = 256;

/// Inspects `input` and returns a detection when it holds an attack of this class.
/// Inputs longer than 256 bytes are judged with every gate open
/// (the same verdict; [`detect_gated`] with precomputed classes gates any length).
pub fn detect(input: &[u8]) -> Option<Detection> {
    let classes = if input.len() <= MAX_CLASSIFIED_LEN {
        summary_classes(input)
    } else {
        ByteClasses::ALL
    };
    detect_gated(input, classes)
}

/// [`SUMMARY`] bits beyond the 26 letters: a `'`, a `"`, other SQL punctuation
/// (any byte outside [`WORDS_AND_BLANKS`]), and any other byte of
/// [`WORDS_AND_BLANKS`] that is not a lower-case letter.
const SUMMARY_SINGLE_QUOTE: u32 = 1 << 26;
const SUMMARY_DOUBLE_QUOTE: u32 = 1 << 27;
const SUMMARY_PUNCTUATION: u32 = 1 << 28;
const SUMMARY_OTHER: u32 = 1 << 29;

/// What the gate and the string contexts ask of a value, per byte: its letter
/// (case folded) and which of the [`SUMMARY`] groups it falls in. One 32-bit
/// lookup a byte, cheaper than the value's full [`ByteClasses`] when nobody
/// computed them ([`detect`]).
static SUMMARY: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut byte = 0;
    while byte < 256 {
        let b = byte as u8;
        let classes = ByteClasses::bytes(&[b]);
        table[byte] = if b == b'\'' {
            SUMMARY_SINGLE_QUOTE
        } else if b == b'"' {
            SUMMARY_DOUBLE_QUOTE
        } else if !classes.only(WORDS_AND_BLANKS) {
            SUMMARY_PUNCTUATION
        } else if b.is_ascii_lowercase() {
            1 << (b - b'a')
        } else if b.is_ascii_uppercase() {
            (1 << (b - b'A')) | SUMMARY_OTHER
        } else {
            SUMMARY_OTHER
        };
        byte += 1;
    }
    table
};

/// The byte classes of `input` as far as [`SUMMARY`] tells them: exact for the
/// letters and the quotes, each other group present as all its classes (a superset,
/// which [`detect_gated`] accepts; its gate and contexts decide the same).
fn summary_classes(input: &[u8]) -> ByteClasses {
    let add = |summary, &byte: &u8| summary | SUMMARY[usize::from(byte)];
    // Eight bytes a round: the loop's own cost spread over more lookups.
    let (chunks, rest) = input.as_chunks::<8>();
    let summary = chunks
        .iter()
        .fold(0, |summary, chunk| chunk.iter().fold(summary, add));
    let summary = rest.iter().fold(summary, add);
    let quotes = classes!(b"'\"");
    [
        (SUMMARY_SINGLE_QUOTE, classes!(b"'")),
        (SUMMARY_DOUBLE_QUOTE, classes!(b"\"")),
        (
            SUMMARY_PUNCTUATION,
            ByteClasses::ALL.without(WORDS_AND_BLANKS).without(quotes),
        ),
        (
            SUMMARY_OTHER,
            WORDS_AND_BLANKS.without(ByteClasses::letters(u32::MAX)),
        ),
    ]
    .into_iter()
    .filter(|&(bit, _)| summary & bit != 0)
    .fold(ByteClasses::letters(summary), |classes, (_, group)| {
        classes.union(group)
    })
}

/// The gate of [`detect_gated`] (see the module doc): false when no value of
/// `classes` can hold an attack of this class.
pub(crate) fn may_fire(classes: ByteClasses) -> bool {
    !classes.only(WORDS_AND_BLANKS) || holds_structure_keyword(classes)
}

/// Whether `classes` hold every letter of one of [`STRUCTURE_KEYWORDS`]. Not inlined:
/// most values hold punctuation and are decided by the first test of [`may_fire`],
/// which would otherwise pay for these eleven tests too (evaluated eagerly).
#[inline(never)]
fn holds_structure_keyword(classes: ByteClasses) -> bool {
    STRUCTURE_KEYWORDS
        .iter()
        .any(|&keyword| classes.has_all(keyword))
}

/// [`detect`] for an input whose byte classes are `classes` (or a subset of them).
pub fn detect_gated(input: &[u8], classes: ByteClasses) -> Option<Detection> {
    if !may_fire(classes) {
        return None;
    }
    // One frame stack serves every pass: a parser reads only the entries it pushed, so
    // the initial value does not matter; this one is all zero bytes (one cheap fill).
    let mut frames = [Frame::UNUSED; MAX_DEPTH];
    let mut first = None;
    if let Some(found) = scan_context(input, Context::Bare, &mut frames, &mut first) {
        return Some(found);
    }
    // After a value, the input must open a clause (the bare pass lexed its first token).
    if first.is_some_and(starts_clause)
        && let Some(found) = scan_context(input, Context::AfterValue, &mut frames, &mut None)
    {
        return Some(found);
    }
    // A string context needs its quote in the input to close the host's string. The
    // classes tell, unless they are ALL (an unclassified long input): then memchr looks.
    for (quote, quote_class) in [(b'\'', classes!(b"'")), (b'"', classes!(b"\""))] {
        if classes.has_any(quote_class)
            && (classes != ByteClasses::ALL || memchr::memchr(quote, input).is_some())
            && let Some(found) = scan_context(input, Context::Quoted(quote), &mut frames, &mut None)
        {
            return Some(found);
        }
    }
    None
}

/// Where the input lands in the host query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Context {
    /// As a value: `WHERE id = INPUT`.
    Bare,
    /// Right after a value: `WHERE id = 1 INPUT`.
    AfterValue,
    /// Inside a string delimited by this quote: `WHERE name = 'INPUT'`.
    Quoted(u8),
}

impl Context {
    fn marker(self) -> u8 {
        match self {
            Context::Bare => b'^',
            Context::AfterValue => b'+',
            Context::Quoted(quote) => quote,
        }
    }
}

/// What made the fragment an injection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Finding {
    Union,
    Stacked,
    TimeFunction,
    ErrorFunction,
    ExecFunction,
    InfoLeak,
    Subquery,
    Tautology,
    BooleanFunction,
    FileWrite,
    Procedure,
    Waitfor,
    CommentTruncation,
    BooleanLiteral,
    OrderBy,
    EmptyStringCompare,
}

impl Finding {
    fn name(self) -> &'static str {
        match self {
            Finding::Union => "union",
            Finding::Stacked => "stacked",
            Finding::TimeFunction => "time-function",
            Finding::ErrorFunction => "error-function",
            Finding::ExecFunction => "exec-function",
            Finding::InfoLeak => "info-leak",
            Finding::Subquery => "subquery",
            Finding::Tautology => "tautology",
            Finding::BooleanFunction => "boolean-function",
            Finding::FileWrite => "into-outfile",
            Finding::Procedure => "procedure",
            Finding::Waitfor => "waitfor",
            Finding::CommentTruncation => "comment-truncation",
            Finding::BooleanLiteral => "boolean-literal",
            Finding::OrderBy => "order-by",
            Finding::EmptyStringCompare => "empty-string-compare",
        }
    }

    fn score(self) -> u8 {
        match self {
            Finding::Union
            | Finding::Stacked
            | Finding::TimeFunction
            | Finding::ErrorFunction
            | Finding::ExecFunction
            | Finding::FileWrite
            | Finding::Waitfor => 9,
            Finding::Subquery | Finding::Tautology | Finding::Procedure => 8,
            Finding::InfoLeak | Finding::BooleanFunction => 7,
            Finding::CommentTruncation
            | Finding::BooleanLiteral
            | Finding::OrderBy
            | Finding::EmptyStringCompare => 6,
        }
    }
}

/// Automaton states: what the fragment expects next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// A value (literal, column, call, sub-expression).
    Operand,
    /// An operator, a closing parenthesis or a clause keyword.
    Operator,
    /// The `(` after a function name.
    FuncParen,
    /// Just inside `f(`: an argument or `)`.
    FuncArgsStart,
    /// After `SELECT`: modifiers or the first select item.
    SelectHead,
    /// After `TOP`: its count.
    TopCount,
    /// After `UNION`: `ALL`, `DISTINCT`, `(` or `SELECT`.
    AfterUnion,
    /// After `;`: a statement keyword.
    AfterSemi,
    /// After a stacked statement keyword: its second token.
    Statement(Kw),
    /// After `UPDATE table`: `SET`.
    UpdateSet,
    /// After `.`: a qualified name part.
    AfterDot,
    /// After `AS` or `::`: a type or alias.
    AfterAs,
    /// `NOT` in operator position: `IN`, `LIKE`, `BETWEEN`.
    AfterNot,
    /// After `ORDER`/`GROUP`: `BY`.
    AfterOrder,
    /// After `WAITFOR`: `DELAY` or `TIME`.
    AfterWaitfor,
    /// After `INTO`: `OUTFILE`/`DUMPFILE`.
    AfterInto,
    /// After `PROCEDURE`: a call.
    AfterProcedure,
    /// A bareword select item followed by `FROM`: the table.
    FromTable,
    /// After that table: a clause boundary confirms the statement.
    AfterFromTable,
}

/// Open nesting levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Frame {
    Paren,
    Func {
        class: FuncClass,
        after_logic: bool,
        has_args: bool,
    },
    Case,
}

impl Frame {
    /// What fills the stack's entries nobody pushed yet (never read).
    const UNUSED: Frame = Frame::Func {
        class: FuncClass::Time,
        after_logic: false,
        has_args: false,
    };
}

/// Whether a token of `kind` completes an operand by itself (a literal or a
/// bareword): after one, the grammar's operator position rejects another at once.
fn plain_operand(kind: Kind) -> bool {
    matches!(kind, Kind::Ident | Kind::Num | Kind::Str)
}

/// Why a `SELECT` is being tracked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SelectPurpose {
    Union,
    Stacked,
    Subquery,
}

impl SelectPurpose {
    fn finding(self) -> Finding {
        match self {
            SelectPurpose::Union => Finding::Union,
            SelectPurpose::Stacked => Finding::Stacked,
            SelectPurpose::Subquery => Finding::Subquery,
        }
    }
}

/// A `SELECT` whose select list has not yet proven to be SQL.
#[derive(Debug, Clone, Copy)]
struct SelectTrack {
    depth: usize,
    purpose: SelectPurpose,
    /// The list holds something other than barewords (a literal, call, `*`, operator).
    sqlish: bool,
}

/// Class of a completed operand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OperandClass {
    Literal,
    Bool,
    Ident,
    Other,
}

/// Outcome of one automaton step.
enum Step {
    Continue,
    Reject,
    Found(Finding),
}

struct Parser<'a, 'f> {
    src: &'a [u8],
    context: Context,
    state: State,
    /// The nesting stack; entries at and above `depth` are stale.
    frames: &'f mut [Frame; MAX_DEPTH],
    depth: usize,
    breakouts: u8,
    operands: u32,
    binary_ops: u32,
    logic_armed: bool,
    logic_cmp: bool,
    after_logic: Option<OperandClass>,
    only_parens_since_start: bool,
    empty_initial: bool,
    cmp_first: bool,
    order_pending: bool,
    order_by_num: bool,
    select: Option<SelectTrack>,
    last_kind: Kind,
    tokens: usize,
    fingerprint: [u8; FINGERPRINT_TOKENS],
}

/// Whether a fragment starting with a token of `kind` can follow a value
/// ([`Context::AfterValue`]): a logical operator, `;` or a clause keyword.
fn starts_clause(kind: Kind) -> bool {
    matches!(
        kind,
        Kind::Op(Op::Logic)
            | Kind::Semi
            | Kind::Kw(
                Kw::And
                    | Kw::Or
                    | Kw::Xor
                    | Kw::Union
                    | Kw::Order
                    | Kw::Group
                    | Kw::Having
                    | Kw::Procedure
                    | Kw::Into
                    | Kw::Waitfor
            )
    )
}

/// Parses `input` in `context` (for [`Context::AfterValue`], the caller checked
/// [`starts_clause`]); `first` receives the kind of the first token lexed.
fn scan_context(
    input: &[u8],
    context: Context,
    frames: &mut [Frame; MAX_DEPTH],
    first: &mut Option<Kind>,
) -> Option<Detection> {
    let close = match context {
        Context::Quoted(quote) => Some(find_closing_quote(input, 0, quote)?),
        Context::Bare | Context::AfterValue => None,
    };
    let mut lexer = Lexer::new(input, close.map_or(0, |close| close + 1));
    // Prose ends the fragment within a token or two: two plain operands in a row
    // (`great product`, `5 stars`), or one right after the closed string (`don't`),
    // reach the operator position with an operand, which it rejects whatever the
    // parser's other state; a bare value that is one plain operand (`Smith`, `42`)
    // ends with nothing to report. Those cases are settled before the parser is set up.
    // Tokens lexed ahead, fed to the parser before the lexer's next ones.
    let mut pending: [Option<Option<Token>>; 2] = [None, None];
    if context != Context::AfterValue {
        let token = lexer.next();
        if let Some(token) = token {
            first.get_or_insert(token.kind);
            if plain_operand(token.kind) {
                if close.is_some() {
                    return None;
                }
                let next = lexer.next();
                if next.is_none_or(|next| plain_operand(next.kind)) {
                    return None;
                }
                pending[1] = Some(next);
            }
        }
        pending[0] = Some(token);
    }
    let mut parser = Parser::new(input, context, frames);
    if let Some(close) = close {
        parser.state = State::Operator;
        parser.operands = 1;
        parser.only_parens_since_start = true;
        parser.empty_initial = close == 0;
        parser.push_fingerprint(Kind::Str);
    } else if context == Context::AfterValue {
        parser.state = State::Operator;
        parser.operands = 1;
    }
    let mut end = input.len();
    let finding = loop {
        let token = match pending.iter_mut().find_map(Option::take) {
            Some(token) => token,
            None => lexer.next(),
        };
        let Some(token) = token else {
            break parser.finish(false);
        };
        first.get_or_insert(token.kind);
        parser.push_fingerprint(token.kind);
        match parser.step(token) {
            Step::Continue => {}
            Step::Reject => break None,
            Step::Found(finding) => {
                end = token.end;
                break Some(finding);
            }
        }
    }?;
    Some(parser.detection(finding, end))
}

impl<'a, 'f> Parser<'a, 'f> {
    fn new(src: &'a [u8], context: Context, frames: &'f mut [Frame; MAX_DEPTH]) -> Self {
        Self {
            src,
            context,
            state: State::Operand,
            frames,
            depth: 0,
            breakouts: 0,
            operands: 0,
            binary_ops: 0,
            logic_armed: false,
            logic_cmp: false,
            after_logic: None,
            only_parens_since_start: false,
            empty_initial: false,
            cmp_first: false,
            order_pending: false,
            order_by_num: false,
            select: None,
            last_kind: Kind::Unknown,
            tokens: 0,
            fingerprint: [0; FINGERPRINT_TOKENS],
        }
    }

    fn push_fingerprint(&mut self, kind: Kind) {
        if let Some(slot) = self.fingerprint.get_mut(self.tokens) {
            *slot = kind.class_char();
        }
        self.tokens += 1;
    }

    fn detection(&self, finding: Finding, end: usize) -> Detection {
        let shown = self.tokens.min(FINGERPRINT_TOKENS);
        let mut fingerprint = String::with_capacity(shown + 24);
        fingerprint.push(char::from(self.context.marker()));
        fingerprint.extend(self.fingerprint[..shown].iter().map(|&b| char::from(b)));
        fingerprint.push(' ');
        fingerprint.push_str(finding.name());
        Detection {
            class: AttackClass::Sqli,
            score: finding.score(),
            span: 0..end,
            fingerprint,
        }
    }

    fn lexeme(&self, token: Token) -> &'a [u8] {
        &self.src[token.start..token.end]
    }

    fn top(&self) -> Option<Frame> {
        self.depth.checked_sub(1).map(|i| self.frames[i])
    }

    fn push(&mut self, frame: Frame) -> Step {
        match self.frames.get_mut(self.depth) {
            Some(slot) => {
                *slot = frame;
                self.depth += 1;
                Step::Continue
            }
            None => Step::Reject,
        }
    }

    fn in_select(&self) -> bool {
        self.select.is_some_and(|select| self.depth >= select.depth)
    }

    fn step(&mut self, token: Token) -> Step {
        let previous = self.last_kind;
        self.last_kind = token.kind;
        if !matches!(token.kind, Kind::RParen | Kind::Comment) {
            self.only_parens_since_start = false;
        }
        match self.state {
            State::Operand => self.operand(token),
            State::Operator => self.operator(token, previous),
            State::FuncParen => match token.kind {
                Kind::LParen => {
                    self.state = State::FuncArgsStart;
                    Step::Continue
                }
                _ => Step::Reject,
            },
            State::FuncArgsStart => match token.kind {
                Kind::RParen => self.close_paren(),
                _ => {
                    self.mark_args();
                    self.operand(token)
                }
            },
            State::SelectHead => match token.kind {
                Kind::Kw(Kw::All | Kw::Distinct) => Step::Continue,
                Kind::Kw(Kw::Top) => {
                    self.state = State::TopCount;
                    Step::Continue
                }
                _ => self.operand(token),
            },
            State::TopCount => match token.kind {
                Kind::Num => {
                    self.state = State::SelectHead;
                    Step::Continue
                }
                _ => Step::Reject,
            },
            State::AfterUnion => match token.kind {
                Kind::Kw(Kw::All | Kw::Distinct) => Step::Continue,
                Kind::LParen => self.push(Frame::Paren),
                Kind::Kw(Kw::Select) => self.start_select(SelectPurpose::Union),
                _ => Step::Reject,
            },
            State::AfterSemi => match token.kind {
                Kind::Kw(Kw::Select) => self.start_select(SelectPurpose::Stacked),
                Kind::Kw(Kw::Shutdown) => Step::Found(Finding::Stacked),
                Kind::Kw(Kw::Waitfor) => {
                    self.state = State::AfterWaitfor;
                    Step::Continue
                }
                Kind::Kw(
                    kw @ (Kw::Drop
                    | Kw::Create
                    | Kw::Alter
                    | Kw::Truncate
                    | Kw::Insert
                    | Kw::Delete
                    | Kw::Update
                    | Kw::Exec
                    | Kw::Declare
                    | Kw::Set),
                ) => {
                    self.state = State::Statement(kw);
                    Step::Continue
                }
                Kind::Comment => {
                    self.state = State::Operator;
                    self.finish(true).map_or(Step::Reject, Step::Found)
                }
                _ => Step::Reject,
            },
            State::Statement(kw) => self.statement_second(kw, token),
            State::UpdateSet => match token.kind {
                Kind::Kw(Kw::Set) => Step::Found(Finding::Stacked),
                _ => Step::Reject,
            },
            State::AfterDot => match token.kind {
                Kind::Dot => Step::Continue,
                Kind::Ident => self.operand_done(OperandClass::Ident),
                Kind::Op(Op::Star) => self.operand_done(OperandClass::Other),
                Kind::Func(class) => self.open_function(class),
                _ => Step::Reject,
            },
            State::AfterAs => match token.kind {
                Kind::Ident | Kind::Str | Kind::Kw(Kw::Binary) => {
                    self.state = State::Operator;
                    Step::Continue
                }
                Kind::Func(class) => self.open_function(class),
                _ => Step::Reject,
            },
            State::AfterNot => match token.kind {
                Kind::Kw(Kw::In | Kw::Like | Kw::Between) => self.comparison(),
                _ => Step::Reject,
            },
            State::AfterOrder => match token.kind {
                Kind::Kw(Kw::By) => {
                    self.order_pending = true;
                    self.state = State::Operand;
                    Step::Continue
                }
                _ => Step::Reject,
            },
            State::AfterWaitfor => {
                if token.kind == Kind::Kw(Kw::Delay)
                    || token.kind == Kind::Ident && self.lexeme(token).eq_ignore_ascii_case(b"time")
                {
                    Step::Found(Finding::Waitfor)
                } else {
                    Step::Reject
                }
            }
            State::AfterInto => match token.kind {
                Kind::Kw(Kw::Outfile) => Step::Found(Finding::FileWrite),
                _ => Step::Reject,
            },
            State::AfterProcedure => match token.kind {
                Kind::Func(_) => Step::Found(Finding::Procedure),
                _ => Step::Reject,
            },
            State::FromTable => match token.kind {
                Kind::Ident => {
                    self.state = State::AfterFromTable;
                    Step::Continue
                }
                _ => Step::Reject,
            },
            State::AfterFromTable => match token.kind {
                Kind::Dot => {
                    self.state = State::FromTable;
                    Step::Continue
                }
                Kind::Comment
                | Kind::Semi
                | Kind::RParen
                | Kind::Kw(Kw::Where | Kw::Limit | Kw::Order | Kw::Group | Kw::Union) => {
                    self.select_finding().map_or(Step::Reject, Step::Found)
                }
                _ => Step::Reject,
            },
        }
    }

    fn mark_args(&mut self) {
        if let Some(Frame::Func { has_args, .. }) =
            self.depth.checked_sub(1).map(|i| &mut self.frames[i])
        {
            *has_args = true;
        }
    }

    fn select_finding(&mut self) -> Option<Finding> {
        self.select.take().map(|select| select.purpose.finding())
    }

    fn start_select(&mut self, purpose: SelectPurpose) -> Step {
        self.select = Some(SelectTrack {
            depth: self.depth,
            purpose,
            sqlish: false,
        });
        self.state = State::SelectHead;
        Step::Continue
    }

    fn open_function(&mut self, class: FuncClass) -> Step {
        let after_logic = self.logic_armed && self.after_logic.is_none() && !self.logic_cmp;
        self.state = State::FuncParen;
        self.push(Frame::Func {
            class,
            after_logic,
            has_args: false,
        })
    }

    fn mark_sqlish(&mut self) {
        if self.in_select()
            && let Some(select) = self.select.as_mut()
        {
            select.sqlish = true;
        }
    }

    fn operand(&mut self, token: Token) -> Step {
        match token.kind {
            Kind::Str | Kind::Num => self.operand_done(OperandClass::Literal),
            Kind::Kw(Kw::Null | Kw::True | Kw::False) => self.operand_done(OperandClass::Bool),
            Kind::Var => {
                if self.lexeme(token).starts_with(b"@@") && self.tokens > 1 {
                    return Step::Found(Finding::InfoLeak);
                }
                self.operand_done(OperandClass::Other)
            }
            Kind::Ident => self.operand_done(OperandClass::Ident),
            Kind::Op(Op::Star)
                if self.in_select() || matches!(self.top(), Some(Frame::Func { .. })) =>
            {
                self.operand_done(OperandClass::Other)
            }
            Kind::Func(class) => {
                self.mark_sqlish();
                self.open_function(class)
            }
            Kind::LParen => {
                self.mark_sqlish();
                self.push(Frame::Paren)
            }
            Kind::Op(Op::Unary) | Kind::Kw(Kw::Binary | Kw::Exists | Kw::Distinct) => {
                Step::Continue
            }
            Kind::Kw(Kw::Not) => {
                if self.logic_armed && self.after_logic.is_none() && !self.logic_cmp {
                    self.after_logic = Some(OperandClass::Bool);
                }
                Step::Continue
            }
            Kind::Kw(Kw::Select) => self.start_select(SelectPurpose::Subquery),
            Kind::Kw(Kw::Case) => self.push(Frame::Case),
            Kind::Kw(Kw::When) if self.top() == Some(Frame::Case) => Step::Continue,
            _ => Step::Reject,
        }
    }

    fn operand_done(&mut self, class: OperandClass) -> Step {
        self.state = State::Operator;
        self.operands += 1;
        if class != OperandClass::Ident {
            self.mark_sqlish();
        }
        if self.order_pending {
            self.order_pending = false;
            self.order_by_num = class == OperandClass::Literal;
        }
        if self.logic_cmp
            && !(class == OperandClass::Ident && self.after_logic == Some(OperandClass::Ident))
        {
            return Step::Found(Finding::Tautology);
        }
        if self.logic_armed && self.after_logic.is_none() {
            self.after_logic = Some(class);
        }
        Step::Continue
    }

    fn binary_operator(&mut self) -> Step {
        self.binary_ops += 1;
        self.mark_sqlish();
        self.state = State::Operand;
        Step::Continue
    }

    fn comparison(&mut self) -> Step {
        if self.logic_armed {
            self.logic_cmp = true;
        }
        if self.binary_ops == 0 && self.operands == 1 {
            self.cmp_first = true;
        }
        self.binary_operator()
    }

    fn logic(&mut self) -> Step {
        if self.binary_ops == 0 && self.operands >= 1 && !self.logic_armed {
            self.logic_armed = true;
            self.state = State::Operand;
            self.mark_sqlish();
            return Step::Continue;
        }
        self.binary_operator()
    }

    fn close_paren(&mut self) -> Step {
        let Some(index) = self.depth.checked_sub(1) else {
            if self.breakouts >= MAX_BREAKOUTS || self.select.is_some() {
                return Step::Reject;
            }
            self.breakouts += 1;
            self.state = State::Operator;
            return Step::Continue;
        };
        let frame = self.frames[index];
        self.depth = index;
        match frame {
            Frame::Paren => {
                self.state = State::Operator;
                if self.logic_cmp {
                    return Step::Found(Finding::Tautology);
                }
                Step::Continue
            }
            Frame::Func {
                class,
                after_logic,
                has_args,
            } => match class {
                FuncClass::Time => Step::Found(Finding::TimeFunction),
                FuncClass::Error => Step::Found(Finding::ErrorFunction),
                FuncClass::Exec => Step::Found(Finding::ExecFunction),
                FuncClass::Info if !has_args => Step::Found(Finding::InfoLeak),
                FuncClass::Known if after_logic => Step::Found(Finding::BooleanFunction),
                _ => self.operand_done(OperandClass::Other),
            },
            Frame::Case => Step::Reject,
        }
    }

    /// A clause boundary inside a tracked select list decides it.
    fn select_boundary(&mut self, token: Token) -> Option<Step> {
        let select = self.select?;
        if self.depth != select.depth {
            return None;
        }
        let boundary = matches!(
            token.kind,
            Kind::Comma
                | Kind::Comment
                | Kind::RParen
                | Kind::Semi
                | Kind::Kw(
                    Kw::From | Kw::Union | Kw::Into | Kw::Limit | Kw::Where | Kw::Order | Kw::Group
                )
        );
        if !boundary {
            return None;
        }
        if select.sqlish || select.purpose == SelectPurpose::Union {
            return Some(Step::Found(select.purpose.finding()));
        }
        match token.kind {
            Kind::Kw(Kw::From) => {
                self.state = State::FromTable;
                Some(Step::Continue)
            }
            Kind::Comma => None,
            _ => {
                self.select = None;
                None
            }
        }
    }

    fn operator(&mut self, token: Token, previous: Kind) -> Step {
        if let Some(step) = self.select_boundary(token) {
            return step;
        }
        match token.kind {
            Kind::Kw(Kw::And | Kw::Or | Kw::Xor | Kw::Having) | Kind::Op(Op::Logic) => self.logic(),
            Kind::Op(Op::Cmp) | Kind::Kw(Kw::Is | Kw::In | Kw::Like | Kw::Between) => {
                self.comparison()
            }
            Kind::Op(Op::Arith | Op::Star | Op::Unary)
            | Kind::Kw(Kw::Div | Kw::Escape | Kw::Collate) => self.binary_operator(),
            Kind::Op(Op::Cast) | Kind::Kw(Kw::As) => {
                self.state = State::AfterAs;
                Step::Continue
            }
            Kind::Kw(Kw::Not) => {
                self.state = State::AfterNot;
                Step::Continue
            }
            Kind::RParen => self.close_paren(),
            Kind::Comma => {
                self.state = State::Operand;
                Step::Continue
            }
            Kind::Kw(Kw::Union) => {
                self.state = State::AfterUnion;
                Step::Continue
            }
            Kind::Semi => {
                self.state = State::AfterSemi;
                Step::Continue
            }
            Kind::Comment => self.finish(true).map_or(Step::Reject, Step::Found),
            Kind::Kw(Kw::Order | Kw::Group) => {
                self.state = State::AfterOrder;
                Step::Continue
            }
            Kind::Kw(Kw::Limit | Kw::Offset | Kw::Where) => self.binary_operator(),
            Kind::Kw(Kw::Procedure) => {
                self.state = State::AfterProcedure;
                Step::Continue
            }
            Kind::Kw(Kw::Into) => {
                self.state = State::AfterInto;
                Step::Continue
            }
            Kind::Kw(Kw::Waitfor) => {
                self.state = State::AfterWaitfor;
                Step::Continue
            }
            Kind::Kw(Kw::When | Kw::Then | Kw::Else) if self.top() == Some(Frame::Case) => {
                self.state = State::Operand;
                Step::Continue
            }
            Kind::Kw(Kw::End) if self.top() == Some(Frame::Case) => {
                self.depth -= 1;
                self.operand_done(OperandClass::Other)
            }
            Kind::Kw(Kw::From | Kw::For) if matches!(self.top(), Some(Frame::Func { .. })) => {
                self.state = State::Operand;
                Step::Continue
            }
            Kind::Dot if matches!(previous, Kind::Ident | Kind::Var) => {
                self.state = State::AfterDot;
                Step::Continue
            }
            _ => Step::Reject,
        }
    }

    fn statement_second(&mut self, kw: Kw, token: Token) -> Step {
        let confirmed = match (kw, token.kind) {
            (
                Kw::Drop | Kw::Create | Kw::Alter | Kw::Truncate,
                Kind::Kw(Kw::ObjectType | Kw::Procedure),
            ) => true,
            (Kw::Drop | Kw::Create | Kw::Alter, Kind::Ident) => {
                let word = self.lexeme(token);
                word.eq_ignore_ascii_case(b"user") || word.eq_ignore_ascii_case(b"schema")
            }
            (Kw::Insert, Kind::Kw(Kw::Into)) | (Kw::Delete, Kind::Kw(Kw::From)) => true,
            (Kw::Exec, Kind::Ident | Kind::Func(_) | Kind::Var | Kind::LParen | Kind::Str) => true,
            (Kw::Declare | Kw::Set, Kind::Var) => true,
            (Kw::Update, Kind::Ident) => {
                self.state = State::UpdateSet;
                return Step::Continue;
            }
            _ => false,
        };
        if confirmed {
            Step::Found(Finding::Stacked)
        } else {
            Step::Reject
        }
    }

    /// The fragment ended (input end, or a comment that swallows the rest).
    fn finish(&mut self, by_comment: bool) -> Option<Finding> {
        match self.state {
            State::Operator => {}
            State::AfterFromTable => return self.select_finding(),
            _ => return None,
        }
        if self.frames[..self.depth]
            .iter()
            .any(|frame| *frame != Frame::Paren)
        {
            return None;
        }
        if let Some(select) = self.select
            && self.depth == select.depth
            && (select.sqlish || select.purpose == SelectPurpose::Union)
        {
            return Some(select.purpose.finding());
        }
        let quoted = matches!(self.context, Context::Quoted(_));
        if by_comment && quoted && self.only_parens_since_start {
            return Some(Finding::CommentTruncation);
        }
        if self.logic_armed && !self.logic_cmp {
            match self.after_logic {
                Some(OperandClass::Bool) if by_comment || quoted => {
                    return Some(Finding::BooleanLiteral);
                }
                Some(OperandClass::Literal) if by_comment => return Some(Finding::BooleanLiteral),
                _ => {}
            }
        }
        if self.order_by_num {
            return Some(Finding::OrderBy);
        }
        if quoted && self.empty_initial && self.cmp_first && self.operands == 2 {
            return Some(Finding::EmptyStringCompare);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fingerprint(input: &str) -> Option<String> {
        detect(input.as_bytes()).map(|d| d.fingerprint)
    }

    #[test]
    fn classic_tautology_in_single_quote_context() {
        assert_eq!(
            fingerprint("1' or '1'='1").as_deref(),
            Some("'s&s=s tautology")
        );
    }

    #[test]
    fn prose_with_sql_words_is_quiet() {
        for benign in [
            "select the best union plan",
            "drop me a line",
            "I'll be there at 5 or 6",
            "O'Brien",
            "5'11\"",
        ] {
            assert_eq!(fingerprint(benign), None, "{benign}");
        }
    }
}
