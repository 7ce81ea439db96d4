//! Small operators: string comparisons, numeric comparisons, byte-range and
//! encoding validation, and the Luhn check behind `@verifyCC`.

use crate::Captures;

/// `@eq @ge @gt @le @lt`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Comparison {
    Eq,
    Ge,
    Gt,
    Le,
    Lt,
}

impl Comparison {
    pub(crate) fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "eq" => Self::Eq,
            "ge" => Self::Ge,
            "gt" => Self::Gt,
            "le" => Self::Le,
            "lt" => Self::Lt,
            _ => return None,
        })
    }

    pub(crate) fn holds(self, value: i64, expected: i64) -> bool {
        match self {
            Self::Eq => value == expected,
            Self::Ge => value >= expected,
            Self::Gt => value > expected,
            Self::Le => value <= expected,
            Self::Lt => value < expected,
        }
    }
}

/// C++ `std::stoi` as libmodsecurity uses it, with its exceptions mapped to 0:
/// optional leading whitespace, optional sign, decimal digits up to the first
/// non-digit; no digits or a value outside `i32` gives 0.
pub(crate) fn parse_leading_int(text: &[u8]) -> i64 {
    let mut i = 0;
    while i < text.len() && matches!(text[i], b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
        i += 1;
    }
    let negative = match text.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let digits = text[i.min(text.len())..]
        .iter()
        .take_while(|b| b.is_ascii_digit());
    let mut value: i64 = 0;
    let mut any = false;
    for &digit in digits {
        any = true;
        value = value * 10 + i64::from(digit - b'0');
        if value > i64::from(i32::MAX) + 1 {
            return 0;
        }
    }
    if !any {
        return 0;
    }
    let value = if negative { -value } else { value };
    if i32::try_from(value).is_ok() {
        value
    } else {
        0
    }
}

/// Case-sensitive text comparisons with a literal parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TextTest {
    /// `@contains`: the input contains the parameter (TX:0 = parameter).
    Contains,
    /// `@containsWord`: … as a whole word (TX:0 = parameter).
    ContainsWord,
    /// `@beginsWith` (TX:0 = parameter).
    BeginsWith,
    /// `@endsWith` (TX:0 = parameter).
    EndsWith,
    /// `@streq`: equality (TX:0 = input).
    StrEq,
    /// `@within`: the input occurs in the parameter; empty input matches (TX:0 = input).
    Within,
}

impl TextTest {
    pub(crate) fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "contains" => Self::Contains,
            "containsWord" => Self::ContainsWord,
            "beginsWith" => Self::BeginsWith,
            "endsWith" => Self::EndsWith,
            "streq" => Self::StrEq,
            "within" => Self::Within,
            _ => return None,
        })
    }

    pub(crate) fn holds(
        self,
        parameter: &[u8],
        input: &[u8],
        captures: Option<&mut Captures>,
    ) -> bool {
        match self {
            Self::Contains => capture_if(
                memchr::memmem::find(input, parameter).is_some(),
                parameter,
                captures,
            ),
            Self::ContainsWord => capture_if(contains_word(input, parameter), parameter, captures),
            Self::BeginsWith => capture_if(input.starts_with(parameter), parameter, captures),
            Self::EndsWith => capture_if(input.ends_with(parameter), parameter, captures),
            Self::StrEq => capture_if(input == parameter, input, captures),
            Self::Within => capture_if(
                input.is_empty() || memchr::memmem::find(parameter, input).is_some(),
                input,
                captures,
            ),
        }
    }
}

/// Returns `matched`; when it holds and captures are wanted, sets `TX:0` to `value`.
pub(crate) fn capture_if(matched: bool, value: &[u8], captures: Option<&mut Captures>) -> bool {
    if matched && let Some(captures) = captures {
        captures.set_only_zero(value);
    }
    matched
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// `@containsWord`: `word` occurs with a non-word byte (or the input edge) on both sides.
pub(crate) fn contains_word(input: &[u8], word: &[u8]) -> bool {
    if word.is_empty() {
        return true;
    }
    memchr::memmem::find_iter(input, word).any(|at| {
        let before_ok = at == 0 || !is_word_byte(input[at - 1]);
        let after_ok = input.get(at + word.len()).is_none_or(|&b| !is_word_byte(b));
        before_ok && after_ok
    })
}

/// Parses `@validateByteRange` arguments such as `1-255` or `9,10,13,32-126`.
pub(crate) fn parse_byte_ranges(argument: &str) -> Result<Box<[bool; 256]>, String> {
    let mut allowed = Box::new([false; 256]);
    let byte = |text: &str| {
        text.trim()
            .parse::<u8>()
            .map_err(|_| format!("'{}' is not a byte value 0-255", text.trim()))
    };
    for part in argument.split(',') {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let (low, high) = match part.split_once('-') {
            Some((low, high)) => (byte(low)?, byte(high)?),
            None => {
                let value = byte(part)?;
                (value, value)
            }
        };
        if low > high {
            return Err(format!("range '{part}' is reversed"));
        }
        for value in low..=high {
            allowed[usize::from(value)] = true;
        }
    }
    Ok(allowed)
}

/// `@validateUrlEncoding`: a `%` not followed by two hex digits.
pub(crate) fn invalid_url_encoding(input: &[u8]) -> bool {
    let mut i = 0;
    while let Some(offset) = memchr::memchr(b'%', &input[i..]) {
        let at = i + offset;
        match input.get(at + 1..at + 3) {
            Some([high, low]) if high.is_ascii_hexdigit() && low.is_ascii_hexdigit() => i = at + 3,
            _ => return true,
        }
    }
    false
}

/// The Luhn (mod 10) check over the ASCII digits of `text` (other bytes are
/// ignored, as in libmodsecurity's `luhnVerify`); false without digits.
pub fn luhn_valid(text: &[u8]) -> bool {
    let mut sum = 0u32;
    let mut digits = 0usize;
    for &b in text.iter().rev().filter(|b| b.is_ascii_digit()) {
        let digit = u32::from(b - b'0');
        sum += if digits % 2 == 1 {
            let doubled = digit * 2;
            if doubled > 9 { doubled - 9 } else { doubled }
        } else {
            digit
        };
        digits += 1;
    }
    digits > 0 && sum.is_multiple_of(10)
}

/// `@verifyCC`: some match of the pattern passes the Luhn check (TX:0 = that match).
pub(crate) fn verify_cc(
    pattern: &crate::rx::Rx,
    input: &[u8],
    captures: Option<&mut Captures>,
) -> bool {
    let mut found: Option<(usize, usize)> = None;
    pattern.for_each_match(input, |start, end| {
        if luhn_valid(&input[start..end]) {
            found = Some((start, end));
            true
        } else {
            false
        }
    });
    match found {
        Some((start, end)) => capture_if(true, &input[start..end], captures),
        None => false,
    }
}
