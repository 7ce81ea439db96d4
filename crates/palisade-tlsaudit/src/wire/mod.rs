//! The wire: hand-built ClientHellos out, bounded parsing of the server's plaintext answer in.

pub(crate) mod answer;
pub(crate) mod hello;
