//! Palisade's configuration model.
//!
//! This crate owns the schema of `palisade.toml` (the types below), parsing it
//! with unknown keys rejected, validating it, and reporting every problem with
//! file, line, column, what is wrong and what is expected. It also resolves
//! secret references (`env:NAME`, `file:PATH`) without ever printing a secret.
//!
//! The gateway consumes a validated [`Config`]; it never parses TOML itself.
#![forbid(unsafe_code)]

mod model;

pub use model::*;
