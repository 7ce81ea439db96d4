//! Insecure deserialisation payloads detector.
//!
//! PLACEHOLDER: this module is being written; until then it detects nothing.

use crate::Detection;

/// Inspects `input` and returns a detection when it holds an attack of this class.
pub fn detect(input: &[u8]) -> Option<Detection> {
    let _ = input;
    None
}
