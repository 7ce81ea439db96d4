//! Request body processors with byte, depth and count limits: urlencoded, multipart (strict), JSON, XML.
//!
//! This crate owns turning a request body (or a query string) into what the WAF
//! engine inspects: ordered name/value arguments, multipart parts with
//! ModSecurity's strictness flags, flattened JSON arguments and the text and
//! attribute values of an XML document.
//!
//! Design notes:
//! * Every processor takes a [`BodyLimits`]: input bytes beyond `max_bytes` are
//!   refused (an error, never a silent truncation), nesting deeper than
//!   `max_depth` is an error, and at most `max_args` arguments are produced (the
//!   rest are dropped and `args_limit_exceeded` is set, as ModSecurity's
//!   `SecArgumentsLimit` does).
//! * The processors follow ModSecurity v3 (libmodsecurity) semantics so that
//!   OWASP CRS behaves as it does there: argument naming, decoding and the
//!   multipart flags. Where v3 has an obvious bug (multipart form fields losing
//!   their line breaks) the v2 behaviour is used and the deviation is noted.
//! * All work is linear in the input; nothing recurses on input structure, so
//!   hostile input cannot exhaust the stack.
#![forbid(unsafe_code)]

pub mod json;
pub mod multipart;
pub mod urlencoded;
pub mod xml;

pub use json::{JsonArgs, parse_json};
pub use multipart::{MultipartBody, MultipartFlags, Part, parse_multipart};
pub use urlencoded::{
    UrlEncodedArgs, check_urlencoded, parse_urlencoded, parse_urlencoded_with, url_decode_into,
    url_decode_nonstrict,
};
pub use xml::{XmlDocument, parse_xml};

/// Byte, depth and count limits applied by every body processor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyLimits {
    /// Largest input accepted, in bytes.
    pub max_bytes: usize,
    /// Deepest nesting accepted (JSON containers, XML elements).
    pub max_depth: usize,
    /// Most arguments (or parts, or XML values) produced.
    pub max_args: usize,
}

impl Default for BodyLimits {
    /// ModSecurity's recommended values: 13 MB body, JSON depth 512,
    /// 1000 arguments.
    fn default() -> Self {
        BodyLimits {
            max_bytes: 13_107_200,
            max_depth: 512,
            max_args: 1000,
        }
    }
}

/// One argument: a decoded name and value, in request order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    /// Argument name.
    pub name: Vec<u8>,
    /// Argument value.
    pub value: Vec<u8>,
}

/// Why a body could not be processed; what ModSecurity reports as
/// `REQBODY_ERROR` with `REQBODY_ERROR_MSG`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct BodyError {
    kind: BodyErrorKind,
    message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyErrorKind {
    TooLarge,
    TooDeep,
    Malformed,
}

impl BodyError {
    fn too_large(what: &str, len: usize, max: usize) -> Self {
        BodyError {
            kind: BodyErrorKind::TooLarge,
            message: format!("{what}: body of {len} bytes exceeds the limit of {max} bytes"),
        }
    }

    fn too_deep(message: impl Into<String>) -> Self {
        BodyError {
            kind: BodyErrorKind::TooDeep,
            message: message.into(),
        }
    }

    fn malformed(message: impl Into<String>) -> Self {
        BodyError {
            kind: BodyErrorKind::Malformed,
            message: message.into(),
        }
    }

    /// The message for `REQBODY_ERROR_MSG`.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// True when the input exceeded `max_bytes`.
    pub fn is_too_large(&self) -> bool {
        self.kind == BodyErrorKind::TooLarge
    }

    /// True when the input nested deeper than `max_depth`.
    pub fn is_too_deep(&self) -> bool {
        self.kind == BodyErrorKind::TooDeep
    }

    /// True when the input was not well-formed.
    pub fn is_malformed(&self) -> bool {
        self.kind == BodyErrorKind::Malformed
    }
}

/// Refuses input larger than the byte limit.
fn check_size(what: &str, input: &[u8], limits: &BodyLimits) -> Result<(), BodyError> {
    if input.len() > limits.max_bytes {
        return Err(BodyError::too_large(what, input.len(), limits.max_bytes));
    }
    Ok(())
}
