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
//! The two Palisade texts are written to a private temporary directory for
//! the run (the WAF loads rule files in the order given) and removed after.
//!
//! [`run_crs`] starts the albedo backend and the real gateway in-process
//! (every host and path routed to the backend, `palisade_waf::WafInspector`
//! as the only inspector, the [`IdCollector`] as the event sink) and runs the
//! whole suite against it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::backend::Backend;
use crate::collector::IdCollector;
use crate::report::Report;
use crate::runner::{RunOptions, run_suite};
use crate::schema::OverridesFile;
use crate::{FtwError, Result, load_suite};

/// Engine directives and the recommended body-processing rules: Palisade's own
/// engine settings (`rules/palisade-engine.conf`, also loaded first by `palisade
/// serve`). The run forces detection-only through `WafSettings::detection_only`.
pub const ENGINE_SETTINGS: &str = include_str!("../../../rules/palisade-engine.conf");

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

/// The known exceptions: tests of CRS v4.28.0 whose expectations
/// ModSecurity v3 itself does not meet, with the expectations it does meet.
/// Each entry names the `tests/regression/nginx-overrides.yaml` entry of CRS
/// (the overrides CRS applies to its own libmodsecurity3 + nginx CI) that
/// documents the difference, and is listed only where Palisade decides as
/// ModSecurity v3 does; go-ftw overrides format, applied by
/// [`known_exceptions`]. Every application is listed in the report.
pub const MODSECURITY_V3_EXCEPTIONS: &str = r#"# Palisade: tests where ModSecurity v3 differs from CRS's expectations.
version: "v4.28.0"
meta:
  engine: "palisade"
  platform: "gateway"
test_overrides:
  - rule_id: 944100
    test_ids: [11, 12, 15, 16]
    reason: "ModSecurity v3: REQUEST_BODY is filled for every body processor, so the rule also sees XML element and attribute names (nginx-overrides.yaml 944100)"
    output:
      log:
        expect_ids: [944100]
  - rule_id: 944110
    test_ids: [11, 12, 15, 16]
    reason: "ModSecurity v3: REQUEST_BODY is filled for every body processor, so the rule also sees XML element and attribute names (nginx-overrides.yaml 944110)"
    output:
      log:
        expect_ids: [944110]
  - rule_id: 944120
    test_ids: [6, 7, 23, 24, 40, 41, 57, 58, 74, 75, 91, 92, 108, 109, 125, 126]
    reason: "ModSecurity v3: REQUEST_BODY is filled for every body processor, so the rule also sees XML element and attribute names (nginx-overrides.yaml 944120)"
    output:
      log:
        expect_ids: [944120]
  - rule_id: 944210
    test_ids: [6, 7, 23, 24, 40, 41]
    reason: "ModSecurity v3: REQUEST_BODY is filled for every body processor, so the rule also sees XML element and attribute names (nginx-overrides.yaml 944210)"
    output:
      log:
        expect_ids: [944210]
  - rule_id: 920100
    test_ids: [8]
    reason: "ModSecurity v3 on nginx: a colon in a path segment is legal (RFC 3986) and the request is served, as by the gateway (nginx-overrides.yaml 920100 test 8)"
    output:
      status: 200
      log:
        no_expect_ids: [920100]
  - rule_id: 920100
    test_ids: [16]
    reason: "ModSecurity v3 on nginx: an absolute-form target without a path is normalised to the path /, as by the gateway (nginx-overrides.yaml 920100 test 16)"
    output:
      log:
        no_expect_ids: [920100]
  - rule_id: 920100
    test_ids: [4]
    reason: "ModSecurity v3 on nginx: CONNECT is refused with 400 before the WAF (checked with nginx 1.22.1 + ModSecurity 3.0.9); the gateway, a reverse proxy and no tunnel, answers 400 too"
    output:
      status: 400
  - rule_id: 920430
    test_ids: [8]
    reason: "ModSecurity v3 on nginx: a well-formed but unsupported HTTP version (HTTP/4.0) is answered 505 before the WAF, as by the gateway (nginx-overrides.yaml 920430 test 8; checked with nginx 1.22.1)"
    output:
      status: 505
  - rule_id: 920181
    test_ids: [1]
    reason: "ModSecurity v3 on nginx: a request with both Content-Length and Transfer-Encoding: chunked is refused with 400 before the WAF; the gateway's smuggling guard does the same (nginx-overrides.yaml 920181)"
    output:
      status: 400
  - rule_id: 920290
    test_ids: [4]
    reason: "ModSecurity v3 on nginx: a request with an empty Host header is refused with 400 before the WAF, as by the gateway (nginx-overrides.yaml 920290)"
    output:
      status: 400
  - rule_id: 920610
    test_ids: [2]
    reason: "ModSecurity v3 on nginx: a #fragment in the request target is accepted and kept in REQUEST_URI_RAW, so the rule matches and the request is served, as by the gateway (nginx-overrides.yaml 920610; checked with nginx 1.22.1 + ModSecurity 3.0.9)"
    output:
      status: 200
      log:
        expect_ids: [920610]
  - rule_id: 920620
    test_ids: [1]
    reason: "ModSecurity v3 on nginx: separate Content-Type headers are kept, so the rule that looks for them matches, as with the gateway (nginx-overrides.yaml 920620)"
    output:
      log:
        expect_ids: [920620]
"#;

/// [`MODSECURITY_V3_EXCEPTIONS`] parsed, followed by the entries of `extra`
/// (later entries win where both select the same stage).
pub fn known_exceptions(extra: Option<OverridesFile>) -> OverridesFile {
    let mut overrides: OverridesFile = serde_saphyr::from_str(MODSECURITY_V3_EXCEPTIONS)
        .expect("the built-in exceptions list is valid go-ftw overrides YAML");
    if let Some(extra) = extra {
        overrides.test_overrides.extend(extra.test_overrides);
    }
    overrides
}

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

/// Gateway configuration for the run: one loopback listener on a free port,
/// every host and path to the backend, no security response headers (the
/// suite expects the backend's answers unchanged), no admin listener.
fn gateway_config(backend_port: u16) -> String {
    format!(
        r#"
[[listener]]
addr = "127.0.0.1:0"
http2 = false

[admin]
enabled = false

[log]
access_log = false

[[upstream]]
name = "albedo"
servers = ["http://127.0.0.1:{backend_port}"]

[[site]]
hosts = ["*"]

[site.headers]
hsts = ""
content_security_policy = ""
frame_options = ""
content_type_options = false
referrer_policy = ""
permissions_policy = ""
cross_origin_opener_policy = ""
cross_origin_resource_policy = ""
strip_leaky_headers = false
harden_cookies = false

[[site.route]]
upstream = "albedo"
mode = "detect"
"#
    )
}

/// A private directory removed on drop.
struct ScratchDir(PathBuf);

impl ScratchDir {
    fn create() -> Result<Self> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let dir = std::env::temp_dir().join(format!("palisade-ftw-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| FtwError::io(&dir, e))?;
        Ok(ScratchDir(dir))
    }

    fn write(&self, name: &str, text: &str) -> Result<PathBuf> {
        let path = self.0.join(name);
        std::fs::write(&path, text).map_err(|e| FtwError::io(&path, e))?;
        Ok(path)
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Loads CRS from `crs_dir` with the CI settings into the WAF, starts the
/// backend and the gateway in-process, runs the regression suite of
/// `crs_dir` and shuts everything down.
pub async fn run_crs(crs_dir: impl AsRef<Path>, opts: &RunOptions) -> Result<Report> {
    let crs_dir = crs_dir.as_ref();
    let suite = load_suite(tests_dir(crs_dir))?;
    let (setup, rules) = rule_files(crs_dir)?;
    let scratch = ScratchDir::create()?;
    let mut rule_paths = vec![
        scratch.write("palisade-engine.conf", ENGINE_SETTINGS)?,
        setup,
    ];
    rule_paths.push(scratch.write("palisade-crs-ci.conf", CI_SETTINGS)?);
    rule_paths.extend(rules);
    let settings = palisade_waf::WafSettings {
        rule_paths,
        detection_only: true,
        ..Default::default()
    };
    let (waf, load_report) =
        tokio::task::spawn_blocking(move || palisade_waf::Waf::load(&settings))
            .await
            .map_err(|e| FtwError::setup(format!("WAF load task failed: {e}")))?
            .map_err(|e| FtwError::setup(format!("loading CRS: {e}")))?;
    tracing::info!(
        rules = load_report.rules,
        files = load_report.files,
        unsupported = load_report.unsupported_operators.len(),
        "CRS loaded"
    );
    let backend = Backend::start(([127, 0, 0, 1], 0).into())
        .await
        .map_err(|e| FtwError::setup(format!("starting the backend: {e}")))?;
    let config = palisade_config::parse(
        &gateway_config(backend.local_addr().port()),
        Path::new("palisade-ftw.toml"),
    )
    .map_err(|e| FtwError::setup(format!("gateway configuration: {e}")))?;
    let collector = IdCollector::new();
    let inspector =
        palisade_waf::WafInspector::new(Arc::new(waf), &palisade_waf::WafExclusions::default())
            .map_err(|e| FtwError::setup(format!("WAF exclusions: {e}")))?;
    let gateway = palisade_gateway::start(
        Arc::new(config),
        vec![Arc::new(inspector)],
        collector.clone(),
    )
    .await
    .map_err(|e| FtwError::setup(format!("starting the gateway: {e}")))?;
    let target = gateway.local_addrs().first().copied();
    let report = match target {
        Some(target) => Ok(run_suite(&suite, target, collector, opts).await),
        None => Err(FtwError::setup("the gateway has no listener")),
    };
    gateway.shutdown().await;
    backend.shutdown();
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_exceptions_parse_and_extra_entries_come_last() {
        let extra = OverridesFile {
            test_overrides: vec![crate::schema::TestOverride {
                rule_id: 1,
                reason: "mine".to_owned(),
                ..Default::default()
            }],
            ..Default::default()
        };
        let overrides = known_exceptions(Some(extra));
        assert!(overrides.test_overrides.len() > 1);
        assert!(
            overrides
                .test_overrides
                .iter()
                .all(|entry| !entry.reason.is_empty())
        );
        let first = &overrides.test_overrides[0];
        assert_eq!(first.rule_id, 944100);
        assert_eq!(first.output.log.expect_ids, vec![944100]);
        assert_eq!(overrides.test_overrides.last().map(|e| e.rule_id), Some(1));
    }
}
