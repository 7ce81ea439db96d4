//! The inspector list of a configuration: the one place `serve`, `demo` and
//! reloads get their inspection pipeline from.
//!
//! Today the list is empty (the gateway proxies without inspection); the WAF
//! engine and the native detectors are added here when they land, built from
//! `config.waf` and the route settings, so `demo` gets them too.

use std::sync::Arc;

use palisade_config::Config;
use palisade_core::Inspector;

/// Builds the inspectors for `config`, in the order the gateway runs them.
pub(crate) fn build(config: &Config) -> anyhow::Result<Vec<Arc<dyn Inspector>>> {
    let inspectors: Vec<Arc<dyn Inspector>> = Vec::new();
    if config.waf.is_some() {
        tracing::warn!(
            "[waf] is configured but this build has no WAF inspector yet; traffic is proxied without inspection"
        );
    }
    Ok(inspectors)
}
