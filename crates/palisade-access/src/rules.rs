//! Authorization rules: host, methods and a path pattern with parameters → public,
//! authenticated, roles/scopes, or deny. Rules are checked in the order written and the first
//! match decides; requests no rule matches get the site's default (deny on API sites).
//!
//! Paths are normalised before matching (percent-decoding, `.`/`..` segments resolved, empty
//! segments dropped), so `/api/./admin`, `/api//admin` and `/api/%61dmin` all meet the rule
//! written for `/api/admin`.

use http::Method;
use palisade_config::Policy;
use palisade_core::Identity;

use crate::AccessError;

/// One segment of a path pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    /// `{name}`: exactly one segment.
    Param,
    /// A trailing `*`: any rest, including nothing.
    Rest,
}

/// A compiled path pattern (`/api/items/{id}`, `/admin/*`).
#[derive(Debug, Clone)]
pub struct PathPattern {
    segments: Vec<Segment>,
}

impl PathPattern {
    /// Compiles `pattern`.
    pub fn parse(pattern: &str) -> Result<Self, AccessError> {
        if !pattern.starts_with('/') {
            return Err(AccessError::invalid(format!(
                "path pattern {pattern:?}: expected it to start with /"
            )));
        }
        let parts: Vec<&str> = pattern.split('/').filter(|s| !s.is_empty()).collect();
        let mut segments = Vec::with_capacity(parts.len());
        for (i, part) in parts.iter().enumerate() {
            let segment = if *part == "*" {
                if i + 1 != parts.len() {
                    return Err(AccessError::invalid(format!(
                        "path pattern {pattern:?}: * is only allowed as the last segment"
                    )));
                }
                Segment::Rest
            } else if part.starts_with('{') && part.ends_with('}') && part.len() > 2 {
                Segment::Param
            } else if part.contains(['{', '}', '*']) {
                return Err(AccessError::invalid(format!(
                    "path pattern {pattern:?}: a segment is literal, {{name}} or a final *"
                )));
            } else {
                Segment::Literal((*part).to_owned())
            };
            segments.push(segment);
        }
        Ok(PathPattern { segments })
    }

    /// Whether the normalised path `segments` match.
    pub fn matches(&self, path: &[String]) -> bool {
        let mut i = 0;
        for segment in &self.segments {
            match segment {
                Segment::Rest => return true,
                Segment::Param => {
                    if i >= path.len() {
                        return false;
                    }
                }
                Segment::Literal(literal) => {
                    if path.get(i) != Some(literal) {
                        return false;
                    }
                }
            }
            i += 1;
        }
        i == path.len()
    }
}

/// The segments of a request path: query cut, percent-decoded, dot segments resolved, empty
/// segments dropped.
pub fn normalise_path(raw_target: &str) -> Vec<String> {
    let path = raw_target.split(['?', '#']).next().unwrap_or("");
    // An absolute-form target: keep the path only.
    let path = match path.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/", |i| &rest[i..]),
        None => path,
    };
    let mut segments: Vec<String> = Vec::new();
    for raw in path.split('/') {
        let decoded = percent_decode(raw);
        // A decoded slash or backslash still separates segments for the upstream in many stacks.
        for part in decoded.split(['/', '\\']) {
            match part {
                "" | "." => {}
                ".." => {
                    segments.pop();
                }
                other => segments.push(other.to_owned()),
            }
        }
    }
    segments
}

fn percent_decode(text: &str) -> String {
    if !text.contains('%') {
        return text.to_owned();
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex_value(bytes[i + 1]), hex_value(bytes[i + 2]))
        {
            out.push(h << 4 | l);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// What a request needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requirement {
    /// Anyone.
    Public,
    /// An identity having any of `roles` (any identity when empty) and all of `scopes`;
    /// a JWT identity must use one of `jwt_algorithms` when that is not empty.
    Identity {
        /// Any one of these.
        roles: Vec<String>,
        /// All of these.
        scopes: Vec<String>,
        /// JWT algorithms accepted on this route (any of the issuer's when empty).
        jwt_algorithms: Vec<String>,
    },
    /// Nobody.
    Deny,
}

/// The outcome of authorization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Let it through.
    Allow,
    /// 401: authenticate first.
    Unauthenticated,
    /// 403 with the reason (safe to log).
    Forbidden(&'static str),
}

impl Requirement {
    /// Decides for `identity`; `jwt_algorithm` is the algorithm of the token it came from.
    pub fn decide(&self, identity: Option<&Identity>, jwt_algorithm: Option<&str>) -> Decision {
        match self {
            Requirement::Public => Decision::Allow,
            Requirement::Deny => Decision::Forbidden("denied by rule"),
            Requirement::Identity {
                roles,
                scopes,
                jwt_algorithms,
            } => {
                let Some(identity) = identity else {
                    return Decision::Unauthenticated;
                };
                if let Some(algorithm) = jwt_algorithm
                    && !jwt_algorithms.is_empty()
                    && !jwt_algorithms.iter().any(|a| a == algorithm)
                {
                    return Decision::Unauthenticated;
                }
                if !roles.is_empty() && !roles.iter().any(|role| identity.roles.contains(role)) {
                    return Decision::Forbidden("missing role");
                }
                if !scopes.iter().all(|scope| identity.scopes.contains(scope)) {
                    return Decision::Forbidden("missing scope");
                }
                Decision::Allow
            }
        }
    }
}

/// One compiled rule.
#[derive(Debug, Clone)]
pub struct Rule {
    host: Option<String>,
    methods: Vec<Method>,
    path: PathPattern,
    /// What matching requests need.
    pub requirement: Requirement,
}

impl Rule {
    /// Compiles a configured rule.
    pub fn from_config(rule: &palisade_config::AccessRule) -> Result<Self, AccessError> {
        let methods = rule
            .methods
            .iter()
            .map(|m| {
                Method::from_bytes(m.to_ascii_uppercase().as_bytes()).map_err(|_| {
                    AccessError::invalid(format!("rule {}: invalid method {m:?}", rule.path))
                })
            })
            .collect::<Result<_, _>>()?;
        let policy = rule.policy.unwrap_or(Policy::Authenticated);
        let requirement = match policy {
            Policy::Public if rule.roles.is_empty() && rule.scopes.is_empty() => {
                Requirement::Public
            }
            Policy::Public => {
                return Err(AccessError::invalid(format!(
                    "rule {}: policy = \"public\" with roles or scopes; expected one or the other",
                    rule.path
                )));
            }
            Policy::Deny => Requirement::Deny,
            Policy::Authenticated => Requirement::Identity {
                roles: rule.roles.clone(),
                scopes: rule.scopes.clone(),
                jwt_algorithms: rule
                    .jwt_algorithms
                    .iter()
                    .map(|a| a.to_ascii_uppercase().replace("EDDSA", "EdDSA"))
                    .collect(),
            },
        };
        Ok(Rule {
            host: rule.host.as_ref().map(|h| h.to_ascii_lowercase()),
            methods,
            path: PathPattern::parse(&rule.path)?,
            requirement,
        })
    }

    /// Whether the rule applies.
    pub fn matches(&self, host: &str, method: &Method, path: &[String]) -> bool {
        self.host
            .as_deref()
            .is_none_or(|h| h.eq_ignore_ascii_case(host))
            && (self.methods.is_empty() || self.methods.contains(method))
            && self.path.matches(path)
    }
}

/// A site's rules and default.
#[derive(Debug, Clone)]
pub struct RuleSet {
    rules: Vec<Rule>,
    default: Requirement,
}

impl RuleSet {
    /// Compiles a site's access settings.
    pub fn from_config(access: &palisade_config::SiteAccess) -> Result<Self, AccessError> {
        let rules = access
            .rules
            .iter()
            .map(Rule::from_config)
            .collect::<Result<_, _>>()?;
        let default = match access.default.unwrap_or(if access.api {
            Policy::Deny
        } else {
            Policy::Public
        }) {
            Policy::Public => Requirement::Public,
            Policy::Authenticated => Requirement::Identity {
                roles: Vec::new(),
                scopes: Vec::new(),
                jwt_algorithms: Vec::new(),
            },
            Policy::Deny => Requirement::Deny,
        };
        Ok(RuleSet { rules, default })
    }

    /// What a request needs: the first matching rule's requirement, else the default.
    pub fn requirement(&self, host: &str, method: &Method, path: &[String]) -> &Requirement {
        self.rules
            .iter()
            .find(|rule| rule.matches(host, method, path))
            .map_or(&self.default, |rule| &rule.requirement)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_core::AuthMethod;

    fn segments(path: &str) -> Vec<String> {
        normalise_path(path)
    }

    #[test]
    fn patterns_with_parameters_and_rest() {
        let item = PathPattern::parse("/api/items/{id}").expect("pattern");
        assert!(item.matches(&segments("/api/items/42")));
        assert!(item.matches(&segments("/api/items/42/")));
        assert!(!item.matches(&segments("/api/items")));
        assert!(!item.matches(&segments("/api/items/42/x")));
        let rest = PathPattern::parse("/admin/*").expect("pattern");
        assert!(rest.matches(&segments("/admin")));
        assert!(rest.matches(&segments("/admin/a/b")));
        assert!(!rest.matches(&segments("/administrator")));
        assert!(PathPattern::parse("/a/*/b").is_err());
        assert!(PathPattern::parse("a").is_err());
        assert!(PathPattern::parse("/a{b}").is_err());
    }

    #[test]
    fn normalisation_defeats_path_tricks() {
        let admin = PathPattern::parse("/admin/*").expect("pattern");
        for trick in [
            "/public/../admin/x",
            "//admin/x",
            "/./admin",
            "/%61dmin/x",
            "/public/..%2fadmin",
            "/public%2f..%2fadmin",
            "/admin?x=/public",
            "http://host/admin",
        ] {
            assert!(admin.matches(&segments(trick)), "{trick}");
        }
    }

    #[test]
    fn first_matching_rule_decides_then_default() {
        let config: palisade_config::SiteAccess = serde_json::from_value(serde_json::json!({
            "api": true,
            "rule": [
                { "path": "/api/health", "policy": "public" },
                { "path": "/api/items/*", "methods": ["GET"], "policy": "public" },
                { "path": "/api/items/*", "roles": ["writer", "admin"] },
                { "path": "/api/admin/*", "roles": ["admin"], "scopes": ["admin:write"] },
                { "path": "/api/*", "policy": "authenticated" }
            ]
        }))
        .expect("config");
        let rules = RuleSet::from_config(&config).expect("rules");
        let writer = Identity {
            subject: "w".into(),
            method: AuthMethod::ApiKey,
            key_id: Some("k".into()),
            roles: vec!["writer".into()],
            scopes: vec![],
        };
        let decide = |method: Method, path: &str, who: Option<&Identity>| {
            rules
                .requirement("h", &method, &segments(path))
                .decide(who, None)
        };
        assert_eq!(decide(Method::GET, "/api/health", None), Decision::Allow);
        assert_eq!(decide(Method::GET, "/api/items/1", None), Decision::Allow);
        assert_eq!(
            decide(Method::POST, "/api/items/1", None),
            Decision::Unauthenticated
        );
        assert_eq!(
            decide(Method::POST, "/api/items/1", Some(&writer)),
            Decision::Allow
        );
        assert_eq!(
            decide(Method::POST, "/api/admin/x", Some(&writer)),
            Decision::Forbidden("missing role")
        );
        assert_eq!(
            decide(Method::GET, "/api/other", Some(&writer)),
            Decision::Allow
        );
        assert_eq!(
            decide(Method::GET, "/elsewhere", Some(&writer)),
            Decision::Forbidden("denied by rule")
        );
    }
}
