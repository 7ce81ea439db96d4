//! The inspector list of a configuration: the one place `serve`, `demo` and
//! reloads get their inspection pipeline from.
//!
//! The WAF runs unless `[waf] mode = "off"` (on a route, `mode = "off"` switches it
//! off there only). Its rules are the user's `[waf] rules` (for example
//! the OWASP CRS), Palisade's embedded default ruleset (`rules/` of this
//! repository, compiled into the binary), or both: the default ruleset is on
//! when no rules are configured, unless `builtin_rules` says otherwise.
//! Per-route exclusions (`remove_rule_ids`, `remove_targets`) are compiled
//! once per route; [`PerRouteWaf`] picks the route's inspector by the route
//! name the gateway puts on every request.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use palisade_config::{Config, Route, RouteMode};
use palisade_core::{Inspection, Inspector, RequestHead};
use palisade_waf::{Waf, WafExclusions, WafInspector, WafSettings};

/// Palisade's engine settings (body access, body processors), embedded at build time;
/// loaded before every other rule file.
pub(crate) const ENGINE_SETTINGS: (&str, &str) = (
    "palisade-engine.conf",
    include_str!("../../../rules/palisade-engine.conf"),
);

/// Palisade's default ruleset, embedded at build time.
pub(crate) const DEFAULT_RULESET: (&str, &str) = (
    "palisade-default.conf",
    include_str!("../../../rules/palisade-default.conf"),
);

/// Builds the inspectors for `config`, in the order the gateway runs them: bans first (one
/// in-memory lookup), then the WAF, then access control (its login protection counts and locks
/// in the same state store), then per-route rate limits and quotas (after access control, whose
/// identity they count by).
pub(crate) fn build(config: &Config) -> anyhow::Result<Vec<Arc<dyn Inspector>>> {
    let state = palisade_limits::open_store(&config.state, &config.data_dir)
        .context("cannot open the state store")?;
    let mut inspectors: Vec<Arc<dyn Inspector>> =
        vec![Arc::new(palisade_limits::BanInspector::new(state.clone()))];
    if config
        .waf
        .as_ref()
        .is_none_or(|waf| waf.mode != RouteMode::Off)
    {
        let waf = Arc::new(load_waf(config)?);
        inspectors.push(Arc::new(PerRouteWaf::new(config, waf)?));
    }
    if let Some(access) = palisade_access::AccessControl::with_state(config, state.clone())
        .context("cannot set up access control")?
    {
        inspectors.push(Arc::new(access));
    }
    let limits = palisade_limits::LimitsInspector::new(config, state);
    if !limits.is_empty() {
        inspectors.push(Arc::new(limits));
    }
    inspectors.extend(crate::monitoring::traffic_inspector());
    Ok(inspectors)
}

/// The WAF settings a configuration asks for.
pub(crate) fn waf_settings(config: &Config) -> WafSettings {
    let mut settings = WafSettings {
        paranoia_level: Some(1),
        ..WafSettings::default()
    };
    settings
        .leading_rules
        .push((ENGINE_SETTINGS.0.to_owned(), ENGINE_SETTINGS.1.to_owned()));
    let builtin = match &config.waf {
        Some(waf) => {
            settings.rule_paths = waf.rules.iter().map(PathBuf::from).collect();
            settings.paranoia_level = Some(waf.paranoia_level);
            settings.detection_only = waf.mode == RouteMode::Detect;
            if let Some(path) = &waf.audit_log {
                // Relevant transactions are audited unless the rules' own SecAuditEngine
                // says otherwise (it comes later); the configured file wins over theirs
                // (the last SecAuditLog counts).
                let origin = "<palisade [waf] audit_log>".to_owned();
                settings
                    .leading_rules
                    .push((origin.clone(), "SecAuditEngine RelevantOnly\n".to_owned()));
                let quoted = path.display().to_string().replace('"', "\\\"");
                settings
                    .extra_rules
                    .push((origin, format!("SecAuditLog \"{quoted}\"\n")));
            }
            waf.builtin_rules.unwrap_or(waf.rules.is_empty())
        }
        None => true,
    };
    if builtin {
        settings
            .extra_rules
            .push((DEFAULT_RULESET.0.to_owned(), DEFAULT_RULESET.1.to_owned()));
    }
    settings
}

fn load_waf(config: &Config) -> anyhow::Result<Waf> {
    let settings = waf_settings(config);
    let (waf, report) = Waf::load(&settings).context("cannot load the WAF rules")?;
    tracing::info!(
        files = report.files,
        rules = report.rules,
        backtracking_patterns = report.backtracking_patterns.len(),
        unsupported_operators = report.unsupported_operators.len(),
        load_ms = report.load_time.as_millis() as u64,
        "WAF rules loaded"
    );
    for unsupported in &report.unsupported_operators {
        tracing::warn!(operator = %unsupported, "WAF operator cannot run here and never matches");
    }
    Ok(waf)
}

/// One WAF inspector per route (each with that route's exclusions), chosen by route name;
/// `None` for a route whose `mode` is `"off"`.
struct PerRouteWaf {
    by_route: HashMap<String, Option<WafInspector>>,
    fallback: WafInspector,
}

/// The inspection of a route where the WAF is off: every phase allows.
struct WafOff;

impl Inspection for WafOff {}

impl PerRouteWaf {
    fn new(config: &Config, waf: Arc<Waf>) -> anyhow::Result<Self> {
        let fallback = WafInspector::new(Arc::clone(&waf), &WafExclusions::default())?;
        let mut by_route = HashMap::new();
        for site in &config.sites {
            for route in &site.routes {
                let name = site.route_name(route);
                if route.mode == RouteMode::Off {
                    by_route.insert(name, None);
                    continue;
                }
                if route.remove_rule_ids.is_empty() && route.remove_targets.is_empty() {
                    continue;
                }
                let inspector = WafInspector::new(Arc::clone(&waf), &exclusions(route)?)
                    .with_context(|| format!("route {name}: invalid WAF exclusion"))?;
                by_route.insert(name, Some(inspector));
            }
        }
        Ok(PerRouteWaf { by_route, fallback })
    }

    /// The route's inspector; `None` when the WAF is off on the route.
    fn for_route(&self, route: &str) -> Option<&WafInspector> {
        match self.by_route.get(route) {
            Some(inspector) => inspector.as_ref(),
            None => Some(&self.fallback),
        }
    }
}

fn exclusions(route: &Route) -> anyhow::Result<WafExclusions> {
    let parse_id = |text: &str| {
        text.trim()
            .parse::<u64>()
            .with_context(|| format!("rule id {text:?} is not a number"))
    };
    let remove_rule_ids = route
        .remove_rule_ids
        .iter()
        .map(|id| parse_id(id))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let remove_targets = route
        .remove_targets
        .iter()
        .map(|entry| {
            let (id, target) = entry
                .split_once(':')
                .with_context(|| format!("{entry:?}: expected RULE_ID:VARIABLE"))?;
            Ok((vec![parse_id(id)?], target.to_owned()))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(WafExclusions {
        remove_rule_ids,
        remove_targets,
    })
}

impl Inspector for PerRouteWaf {
    fn name(&self) -> &str {
        "waf"
    }

    fn wants_request_body(&self) -> bool {
        self.fallback.wants_request_body()
    }

    fn wants_response_body(&self) -> bool {
        self.fallback.wants_response_body()
    }

    fn start(&self, head: &RequestHead) -> Box<dyn Inspection> {
        match self.for_route(&head.route) {
            Some(inspector) => inspector.start(head),
            None => Box::new(WafOff),
        }
    }
}
