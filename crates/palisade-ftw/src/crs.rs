//! The CRS regression CI settings and the in-process CRS run.
//!
//! CRS's regression suite expects: the engine in detection-only mode, CRS at
//! paranoia level 4 with the rule-900005 settings from
//! `tests/regression/README.md`, request and response body access, and the
//! engine rules recommended with ModSecurity (200000–200003: choose the XML
//! and JSON body processors by Content-Type, and flag request-body and strict
//! multipart errors). The text below is Palisade's own rendering of that
//! documented behaviour.
//!
//! Load order: [`ENGINE_SETTINGS`], the CRS `crs-setup.conf.example`,
//! [`CI_SETTINGS`], then `rules/*.conf` in name order — see [`rule_files`].

use std::path::{Path, PathBuf};

use crate::{FtwError, Result};

/// Engine directives and the recommended body-processing rules.
pub const ENGINE_SETTINGS: &str = r#"# Palisade: engine settings for the CRS regression suite.
SecRuleEngine DetectionOnly
SecRequestBodyAccess On
SecRequestBodyLimit 13107200
SecRequestBodyNoFilesLimit 131072
SecRequestBodyJsonDepthLimit 512
SecArgumentsLimit 1000
SecResponseBodyAccess On
SecResponseBodyMimeType text/plain text/html text/xml
SecResponseBodyLimit 524288
SecResponseBodyLimitAction ProcessPartial

# XML request bodies are parsed as XML.
SecRule REQUEST_HEADERS:Content-Type "@rx ^(?:application(?:/soap\+|/)|text/)xml" \
    "id:200000,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=XML"

# JSON request bodies are parsed as JSON.
SecRule REQUEST_HEADERS:Content-Type "@rx ^application/json" \
    "id:200001,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON"

# A body that could not be parsed is refused.
SecRule REQBODY_ERROR "!@eq 0" \
    "id:200002,phase:2,t:none,log,deny,status:400,msg:'Failed to parse request body.',logdata:'%{reqbody_error_msg}',severity:2"

# Any irregularity in a multipart body is refused.
SecRule MULTIPART_STRICT_ERROR "!@eq 0" \
    "id:200003,phase:2,t:none,log,deny,status:400,msg:'Multipart request body failed strict validation: PE %{REQBODY_PROCESSOR_ERROR}, BQ %{MULTIPART_BOUNDARY_QUOTED}, BW %{MULTIPART_BOUNDARY_WHITESPACE}, DB %{MULTIPART_DATA_BEFORE}, DA %{MULTIPART_DATA_AFTER}, HF %{MULTIPART_HEADER_FOLDING}, LF %{MULTIPART_LF_LINE}, SM %{MULTIPART_MISSING_SEMICOLON}, IQ %{MULTIPART_INVALID_QUOTING}, IP %{MULTIPART_INVALID_PART}, IH %{MULTIPART_INVALID_HEADER_FOLDING}, FL %{MULTIPART_FILE_LIMIT_EXCEEDED}'"
"#;

/// The rule-900005 settings from CRS's `tests/regression/README.md`.
pub const CI_SETTINGS: &str = r#"# Palisade: CRS regression CI settings (rule 900005).
SecAction "id:900005,\
    phase:1,\
    nolog,\
    pass,\
    ctl:ruleEngine=DetectionOnly,\
    ctl:ruleRemoveById=910000,\
    setvar:tx.blocking_paranoia_level=4,\
    setvar:tx.crs_validate_utf8_encoding=1,\
    setvar:tx.arg_name_length=100,\
    setvar:tx.arg_length=400,\
    setvar:tx.total_arg_length=64000,\
    setvar:tx.max_num_args=255,\
    setvar:tx.max_file_size=64100,\
    setvar:tx.combined_file_sizes=65535"
"#;

/// The CRS files to load after [`ENGINE_SETTINGS`] and in which order:
/// `crs-setup.conf.example` then every `rules/*.conf` by name. (Insert
/// [`CI_SETTINGS`] right after the setup file.)
pub fn rule_files(crs_dir: &Path) -> Result<(PathBuf, Vec<PathBuf>)> {
    let setup = crs_dir.join("crs-setup.conf.example");
    if !setup.is_file() {
        return Err(FtwError::setup(format!(
            "{} is not a CRS directory (no crs-setup.conf.example)",
            crs_dir.display()
        )));
    }
    let rules_dir = crs_dir.join("rules");
    let mut rules: Vec<PathBuf> = std::fs::read_dir(&rules_dir)
        .map_err(|e| FtwError::io(&rules_dir, e))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "conf"))
        .collect();
    rules.sort();
    Ok((setup, rules))
}

/// The regression tests directory of a CRS checkout.
pub fn tests_dir(crs_dir: &Path) -> PathBuf {
    crs_dir.join("tests").join("regression").join("tests")
}
