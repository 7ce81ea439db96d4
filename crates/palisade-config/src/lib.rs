//! Palisade's configuration model.
//!
//! This crate owns the schema of `palisade.toml` (the types in `model`), parsing it
//! with unknown keys rejected, validating it, and reporting every problem with
//! file, line, column, what is wrong and what is expected. It also resolves
//! secret references (`env:NAME`, `file:PATH`) without ever printing a secret.
//!
//! Entry points: [`load`] (a file) and [`parse`] (text plus the path that names
//! it in errors). Both return a validated [`Config`] or a [`ConfigError`] whose
//! `Display` is one `file:line:column: message` line per problem. Relative paths
//! in a file are resolved against the file's directory.
//!
//! The gateway consumes a validated [`Config`]; it never parses TOML itself.
#![forbid(unsafe_code)]

mod access;
mod error;
mod load;
mod model;
mod monitoring;
mod ratelimit;
mod secret;
mod validate;

pub use access::*;
pub use error::{ConfigError, Diagnostic};
pub use load::{MAX_CONFIG_BYTES, load, parse};
pub use model::*;
pub use monitoring::*;
pub use ratelimit::*;
pub use secret::{Secret, SecretError, SecretSource};
