//! Semantic checks run after the schema has been deserialised. Every check
//! reports through [`Checker::error`] with the path of the offending key, so
//! each problem carries its line and column; all problems are collected.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use crate::error::Diagnostic;
use crate::load::{Document, Seg};
use crate::model::{ClientAuth, Config};

/// Log levels accepted in `log.level` directives.
const LOG_LEVELS: &[&str] = &["trace", "debug", "info", "warn", "error", "off"];

struct Checker<'d, 't> {
    doc: &'d Document<'t>,
    diagnostics: Vec<Diagnostic>,
}

impl Checker<'_, '_> {
    fn error(&mut self, path: &[Seg<'_>], message: String) {
        self.diagnostics.push(self.doc.diagnostic(path, message));
    }
}

/// Returns every semantic problem of `config` (empty when valid).
pub(crate) fn validate(config: &Config, doc: &Document<'_>) -> Vec<Diagnostic> {
    use Seg::{Index as I, Key as K};
    let mut c = Checker {
        doc,
        diagnostics: Vec::new(),
    };

    // Listeners.
    if config.listeners.is_empty() {
        c.error(&[K("listener")], "no [[listener]] defined; expected at least one, e.g. [[listener]] addr = \"0.0.0.0:8080\"".to_owned());
    }
    let mut listener_addrs = HashSet::new();
    for (i, listener) in config.listeners.iter().enumerate() {
        // Port 0 asks the system for a free port, so equal addresses with port 0 do not collide.
        if listener.addr.port() != 0 && !listener_addrs.insert(listener.addr) {
            c.error(&[K("listener"), I(i), K("addr")], format!("duplicate listener address {}; expected each [[listener]] to bind a different address", listener.addr));
        }
        if listener.tls && listener.redirect_to_https {
            c.error(
                &[K("listener"), I(i), K("redirect_to_https")],
                "redirect_to_https is set on a TLS listener; expected it only on a plain listener"
                    .to_owned(),
            );
        }
    }
    if config.admin.enabled
        && config.admin.addr.port() != 0
        && listener_addrs.contains(&config.admin.addr)
    {
        c.error(
            &[K("admin"), K("addr")],
            format!(
                "admin address {} is also a [[listener]] address; expected a separate address",
                config.admin.addr
            ),
        );
    }

    // Upstreams.
    let mut upstream_names: HashMap<&str, usize> = HashMap::new();
    for (i, upstream) in config.upstreams.iter().enumerate() {
        if upstream.name.is_empty() {
            c.error(
                &[K("upstream"), I(i), K("name")],
                "empty upstream name; expected a name routes can refer to".to_owned(),
            );
        } else if upstream_names.insert(&upstream.name, i).is_some() {
            c.error(
                &[K("upstream"), I(i), K("name")],
                format!(
                    "duplicate upstream name \"{}\"; expected unique [[upstream]] names",
                    upstream.name
                ),
            );
        }
        if upstream.servers.is_empty() {
            c.error(
                &[K("upstream"), I(i), K("servers")],
                "no servers; expected at least one URL, e.g. servers = [\"http://127.0.0.1:5000\"]"
                    .to_owned(),
            );
        }
        for (j, server) in upstream.servers.iter().enumerate() {
            if let Err(problem) = check_server_url(server) {
                c.error(&[K("upstream"), I(i), K("servers"), I(j)], format!("invalid server URL \"{server}\": {problem}; expected e.g. \"http://127.0.0.1:5000\""));
            }
        }
        if upstream.max_fails == 0 {
            c.error(
                &[K("upstream"), I(i), K("max_fails")],
                "max_fails = 0; expected at least 1".to_owned(),
            );
        }
    }

    // Sites and routes.
    if config.sites.is_empty() {
        c.error(&[K("site")], "no [[site]] defined; expected at least one, e.g. [[site]] hosts = [\"*\"] with a [[site.route]]".to_owned());
    }
    let tls_listener = config.listeners.iter().any(|l| l.tls);
    let mut hosts_seen: HashSet<String> = HashSet::new();
    let mut route_names: HashSet<String> = HashSet::new();
    for (s, site) in config.sites.iter().enumerate() {
        if site.hosts.is_empty() {
            c.error(
                &[K("site"), I(s), K("hosts")],
                "no hosts; expected e.g. hosts = [\"example.com\", \"*.example.com\"] or [\"*\"]"
                    .to_owned(),
            );
        }
        for (h, host) in site.hosts.iter().enumerate() {
            if let Err(problem) = check_host_pattern(host) {
                c.error(&[K("site"), I(s), K("hosts"), I(h)], format!("invalid host pattern \"{host}\": {problem}; expected \"example.com\", \"*.example.com\" or \"*\""));
            } else if !hosts_seen.insert(host.to_ascii_lowercase()) {
                c.error(&[K("site"), I(s), K("hosts"), I(h)], format!("host \"{host}\" appears in more than one place; expected each host in exactly one [[site]]"));
            }
        }
        match &site.tls {
            None if tls_listener => c.error(&[K("site"), I(s)], "this site has no [site.tls] but a [[listener]] has tls = true; expected cert and key for every site".to_owned()),
            None => {}
            Some(tls) => {
                check_file(&mut c, &[K("site"), I(s), K("tls"), K("cert")], &tls.cert, "certificate");
                check_file(&mut c, &[K("site"), I(s), K("tls"), K("key")], &tls.key, "private key");
                match &tls.client_ca {
                    Some(ca) => check_file(&mut c, &[K("site"), I(s), K("tls"), K("client_ca")], ca, "client CA bundle"),
                    None if tls.client_auth != ClientAuth::None => c.error(&[K("site"), I(s), K("tls"), K("client_auth")], "client_auth needs client_ca; expected client_ca = \"path/to/ca.pem\"".to_owned()),
                    None => {}
                }
            }
        }
        let samesite = &site.headers.cookie_samesite;
        if !["Lax", "Strict", "None"].contains(&samesite.as_str()) {
            c.error(
                &[K("site"), I(s), K("headers"), K("cookie_samesite")],
                format!(
                    "invalid cookie_samesite \"{samesite}\"; expected one of: Lax, Strict, None"
                ),
            );
        }
        if site.routes.is_empty() {
            c.error(&[K("site"), I(s)], "this site has no [[site.route]]; expected at least one, e.g. path = \"/\" upstream = \"app\"".to_owned());
        }
        let mut paths = HashSet::new();
        for (r, route) in site.routes.iter().enumerate() {
            let at = |key| [K("site"), I(s), K("route"), I(r), K(key)];
            if !config.upstreams.iter().any(|u| u.name == route.upstream) {
                let mut known: Vec<&str> =
                    config.upstreams.iter().map(|u| u.name.as_str()).collect();
                known.sort_unstable();
                known.dedup();
                let expected = if known.is_empty() {
                    "an [[upstream]] with that name (none is defined)".to_owned()
                } else {
                    format!("one of: {}", known.join(", "))
                };
                c.error(
                    &at("upstream"),
                    format!(
                        "unknown upstream \"{}\"; expected {expected}",
                        route.upstream
                    ),
                );
            }
            if !route.path.starts_with('/') {
                c.error(
                    &at("path"),
                    format!(
                        "invalid route path \"{}\"; expected a path prefix starting with \"/\"",
                        route.path
                    ),
                );
            } else if !paths.insert(route.path.as_str()) {
                c.error(&at("path"), format!("duplicate route path \"{}\" in this [[site]]; expected each path once per site", route.path));
            }
            if !(400..=599).contains(&route.block_status) {
                c.error(
                    &at("block_status"),
                    format!(
                        "invalid block_status {}; expected a 4xx or 5xx status (400-599)",
                        route.block_status
                    ),
                );
            }
            if let Some(name) = &route.name {
                if name.is_empty() {
                    c.error(
                        &at("name"),
                        "empty route name; expected a name for logs and metrics, or no name key"
                            .to_owned(),
                    );
                } else if !route_names.insert(name.clone()) {
                    c.error(
                        &at("name"),
                        format!("duplicate route name \"{name}\"; expected unique route names"),
                    );
                }
            }
            for (t, target) in route.remove_targets.iter().enumerate() {
                if !target
                    .split_once(':')
                    .is_some_and(|(id, var)| !id.is_empty() && !var.is_empty())
                {
                    c.error(&[K("site"), I(s), K("route"), I(r), K("remove_targets"), I(t)], format!("invalid rule target \"{target}\"; expected RULE_ID:VARIABLE, e.g. \"942100:ARGS:password\""));
                }
            }
        }
    }

    // Limits.
    let limits = &config.limits;
    if limits.inspect_body_limit > limits.max_body {
        c.error(&[K("limits"), K("inspect_body_limit")], format!("inspect_body_limit ({} bytes) exceeds max_body ({} bytes); expected at most max_body", limits.inspect_body_limit.0, limits.max_body.0));
    }
    for (key, value) in [
        ("max_headers", limits.max_headers),
        ("max_connections", limits.max_connections),
    ] {
        if value == 0 {
            c.error(
                &[K("limits"), K(key)],
                format!("{key} = 0; expected at least 1"),
            );
        }
    }
    if limits.max_header_bytes.0 < 1024 {
        c.error(
            &[K("limits"), K("max_header_bytes")],
            format!(
                "max_header_bytes = {}; expected at least 1024",
                limits.max_header_bytes.0
            ),
        );
    }

    // Logging.
    if !["json", "pretty"].contains(&config.log.format.as_str()) {
        c.error(
            &[K("log"), K("format")],
            format!(
                "invalid log format \"{}\"; expected one of: json, pretty",
                config.log.format
            ),
        );
    }
    if let Err(directive) = check_log_filter(&config.log.level) {
        c.error(&[K("log"), K("level")], format!("invalid log level directive \"{directive}\"; expected LEVEL or TARGET=LEVEL with LEVEL one of: {}", LOG_LEVELS.join(", ")));
    }

    // WAF.
    if let Some(waf) = &config.waf {
        if !(1..=4).contains(&waf.paranoia_level) {
            c.error(
                &[K("waf"), K("paranoia_level")],
                format!(
                    "invalid paranoia_level {}; expected 1, 2, 3 or 4",
                    waf.paranoia_level
                ),
            );
        }
        for (i, pattern) in waf.rules.iter().enumerate() {
            if let Err(e) = glob::Pattern::new(pattern) {
                c.error(&[K("waf"), K("rules"), I(i)], format!("invalid rule file pattern: {}; expected a path or glob like \"rules/*.conf\"", e.msg));
            }
        }
    }
    // Shared state, rate limits and quotas.
    if config.state.backend == crate::StateBackend::Redis && config.state.redis_url.is_none() {
        c.error(
            &[K("state"), K("backend")],
            "backend = \"redis\" without redis_url; expected e.g. redis_url = \"env:PALISADE_REDIS_URL\"".to_owned(),
        );
    }
    for (s, site) in config.sites.iter().enumerate() {
        for (r, route) in site.routes.iter().enumerate() {
            if let Some(quota) = &route.quota
                && quota.daily.is_none()
                && quota.monthly.is_none()
            {
                c.error(
                    &[K("site"), I(s), K("route"), I(r), K("quota")],
                    "quota without a limit; expected daily = N and/or monthly = M".to_owned(),
                );
            }
            for (l, rule) in route.rate_limit.iter().enumerate() {
                if rule.burst == Some(0) {
                    c.error(
                        &[
                            K("site"),
                            I(s),
                            K("route"),
                            I(r),
                            K("rate_limit"),
                            I(l),
                            K("burst"),
                        ],
                        "burst = 0; expected at least 1 (requests allowed at once)".to_owned(),
                    );
                }
            }
        }
    }
    c.diagnostics
}

fn check_file(c: &mut Checker<'_, '_>, path: &[Seg<'_>], file: &Path, what: &str) {
    match std::fs::metadata(file) {
        Ok(meta) if meta.is_file() => {}
        Ok(_) => c.error(
            path,
            format!(
                "{what} {} is not a regular file; expected a PEM file",
                file.display()
            ),
        ),
        Err(e) => c.error(
            path,
            format!(
                "{what} file {} cannot be read ({e}); expected an existing PEM file",
                file.display()
            ),
        ),
    }
}

/// Checks an upstream server URL: http or https, a host, an optional port, no path.
fn check_server_url(server: &str) -> Result<(), String> {
    let uri: http::Uri = server.parse().map_err(|e| format!("{e}"))?;
    match uri.scheme_str() {
        Some("http" | "https") => {}
        Some(other) => return Err(format!("scheme \"{other}\" is not supported")),
        None => return Err("no scheme".to_owned()),
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err("no host".to_owned());
    }
    if !matches!(uri.path(), "" | "/") || uri.query().is_some() {
        return Err("a server URL has no path or query".to_owned());
    }
    Ok(())
}

/// Checks a host pattern: "*", "*.example.com" or a host name (no port).
fn check_host_pattern(host: &str) -> Result<(), String> {
    if host == "*" {
        return Ok(());
    }
    let name = host.strip_prefix("*.").unwrap_or(host);
    if name.is_empty() || name.len() > 253 {
        return Err("empty or longer than 253 characters".to_owned());
    }
    if name.parse::<std::net::IpAddr>().is_ok() {
        return Ok(());
    }
    for label in name.split('.') {
        let valid = !label.is_empty()
            && label.len() <= 63
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-');
        if !valid {
            return Err(format!("label \"{label}\" is not a valid DNS label"));
        }
    }
    Ok(())
}

/// Checks a tracing filter of comma-separated `LEVEL` / `TARGET=LEVEL` directives.
fn check_log_filter(filter: &str) -> Result<(), String> {
    for directive in filter.split(',').map(str::trim) {
        let level = directive
            .rsplit_once('=')
            .map_or(
                directive,
                |(target, level)| {
                    if target.is_empty() { "" } else { level }
                },
            );
        if !LOG_LEVELS.contains(&level.to_ascii_lowercase().as_str()) {
            return Err(directive.to_owned());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_urls() {
        assert!(check_server_url("http://127.0.0.1:5000").is_ok());
        assert!(check_server_url("https://backend.internal").is_ok());
        assert!(check_server_url("http://[::1]:8080/").is_ok());
        assert!(check_server_url("ftp://x").is_err());
        assert!(check_server_url("127.0.0.1:5000").is_err());
        assert!(check_server_url("http://x/app").is_err());
        assert!(check_server_url("").is_err());
    }

    #[test]
    fn host_patterns() {
        for ok in [
            "*",
            "example.com",
            "*.example.com",
            "localhost",
            "a-b.c",
            "127.0.0.1",
        ] {
            assert!(check_host_pattern(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "*.",
            "exa mple.com",
            "example.com:80",
            "-a.com",
            "a..b",
            "*.*.com",
            "ex*.com",
        ] {
            assert!(check_host_pattern(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn log_filters() {
        assert!(check_log_filter("info").is_ok());
        assert!(check_log_filter("warn,palisade::access=info").is_ok());
        assert_eq!(check_log_filter("info,loud"), Err("loud".to_owned()));
        assert_eq!(check_log_filter("=info"), Err("=info".to_owned()));
    }
}
