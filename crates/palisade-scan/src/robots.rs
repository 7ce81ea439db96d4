//! robots.txt per RFC 9309: the group of the most specific matching user-agent (else `*`),
//! `allow`/`disallow` patterns with `*` and `$`, the longest matching pattern wins and `allow`
//! wins ties. Fetching rules: a 2xx answer is parsed, 4xx means everything is allowed, 5xx or
//! an unreachable server means nothing is (§2.3.1.3–4). Parsing is bounded: the RFC's 500 KiB
//! minimum, and at most [`MAX_RULES`] rules.

/// Bytes of robots.txt parsed (RFC 9309 §2.5 asks for at least 500 KiB).
pub const MAX_ROBOTS_BYTES: usize = 500 * 1024;
/// Rules kept per file.
pub const MAX_RULES: usize = 10_000;

/// The rules that apply to this crawler on one origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Robots {
    /// No restrictions (no file, a 4xx answer, or `--ignore-robots`).
    AllowAll,
    /// Nothing may be crawled (a 5xx answer or the server was unreachable).
    DisallowAll,
    /// Parsed rules.
    Rules(Vec<Rule>),
}

/// One `allow` or `disallow` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// `true` for `allow`.
    pub allow: bool,
    /// The path pattern.
    pub pattern: String,
}

impl Robots {
    /// What a fetch of `/robots.txt` with `status` and `body` means for the crawler named
    /// `agent` (the product token, e.g. `palisade-scan`).
    pub fn from_response(status: u16, body: &str, agent: &str) -> Self {
        match status {
            200..=299 => Self::parse(body, agent),
            400..=499 => Robots::AllowAll,
            _ => Robots::DisallowAll,
        }
    }

    /// Parses a robots.txt body for the crawler named `agent`.
    pub fn parse(body: &str, agent: &str) -> Self {
        let mut end = body.len().min(MAX_ROBOTS_BYTES);
        while !body.is_char_boundary(end) {
            end -= 1;
        }
        let agent = agent.to_ascii_lowercase();
        // Groups: consecutive user-agent lines followed by rules.
        let mut groups: Vec<(Vec<String>, Vec<Rule>)> = Vec::new();
        let mut in_agents = false;
        for raw in body[..end].lines() {
            let line = raw.split('#').next().unwrap_or("").trim();
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            let key = key.trim().to_ascii_lowercase();
            let value = value.trim();
            match key.as_str() {
                "user-agent" => {
                    if !in_agents {
                        groups.push((Vec::new(), Vec::new()));
                        in_agents = true;
                    }
                    if let Some(group) = groups.last_mut() {
                        group.0.push(value.to_ascii_lowercase());
                    }
                }
                "allow" | "disallow" => {
                    in_agents = false;
                    let Some(group) = groups.last_mut() else {
                        continue;
                    };
                    // An empty disallow allows everything: no rule.
                    if value.is_empty() || group.1.len() >= MAX_RULES {
                        continue;
                    }
                    group.1.push(Rule {
                        allow: key == "allow",
                        pattern: value.to_owned(),
                    });
                }
                _ => {}
            }
        }
        let product = agent.split(['/', ' ']).next().unwrap_or(&agent).to_owned();
        let named = groups.iter().any(|(agents, _)| agents.contains(&product));
        let wanted = if named { product.as_str() } else { "*" };
        let rules: Vec<Rule> = groups
            .iter()
            .filter(|(agents, _)| agents.iter().any(|a| a == wanted))
            .flat_map(|(_, rules)| rules.iter().cloned())
            .collect();
        Robots::Rules(rules)
    }

    /// May the crawler fetch `path` (path plus query, starting with `/`)?
    pub fn allows(&self, path: &str) -> bool {
        match self {
            Robots::AllowAll => true,
            Robots::DisallowAll => path == "/robots.txt",
            Robots::Rules(rules) => {
                if path == "/robots.txt" {
                    return true;
                }
                let mut best: Option<(usize, bool)> = None;
                for rule in rules {
                    if pattern_matches(&rule.pattern, path) {
                        let length = rule.pattern.len();
                        best = match best {
                            Some((l, allow)) if l > length || (l == length && allow) => {
                                Some((l, allow))
                            }
                            _ => Some((length, rule.allow)),
                        };
                    }
                }
                best.is_none_or(|(_, allow)| allow)
            }
        }
    }
}

/// RFC 9309 §2.2.3 matching: `*` matches any sequence, a final `$` anchors the end, anything
/// else is a prefix match. Percent-encoding is compared as written.
fn pattern_matches(pattern: &str, path: &str) -> bool {
    let (pattern, anchored) = match pattern.strip_suffix('$') {
        Some(p) => (p, true),
        None => (pattern, false),
    };
    let pieces: Vec<&str> = pattern.split('*').collect();
    let mut at = 0;
    for (index, piece) in pieces.iter().enumerate() {
        if index == 0 {
            if !path.starts_with(piece) {
                return false;
            }
            at = piece.len();
            continue;
        }
        let last = index == pieces.len() - 1;
        if last && anchored {
            return path.len() >= at + piece.len() && path.ends_with(piece);
        }
        match path[at..].find(piece) {
            Some(found) => at += found + piece.len(),
            None => return false,
        }
    }
    !anchored || at == path.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "\
User-agent: *
Disallow: /private
Allow: /private/public
Disallow: /*.pdf$
Disallow: /tie
Allow: /tie

User-agent: palisade-scan
User-agent: other
Disallow: /only-for-palisade
";

    #[test]
    fn longest_match_wins_and_allow_wins_ties() {
        let robots = Robots::parse(FILE, "somebot/1.0");
        assert!(!robots.allows("/private/x"));
        assert!(robots.allows("/private/public/x"));
        assert!(robots.allows("/tie"));
        assert!(!robots.allows("/docs/a.pdf"));
        assert!(robots.allows("/docs/a.pdf?x=1"));
        assert!(robots.allows("/elsewhere"));
    }

    #[test]
    fn the_named_group_replaces_the_star_group() {
        let robots = Robots::parse(FILE, "palisade-scan/0.1.0");
        assert!(!robots.allows("/only-for-palisade"));
        assert!(robots.allows("/private/x"));
    }

    #[test]
    fn status_codes_follow_the_rfc() {
        assert_eq!(Robots::from_response(404, "", "a"), Robots::AllowAll);
        assert_eq!(Robots::from_response(503, "", "a"), Robots::DisallowAll);
        assert!(!Robots::DisallowAll.allows("/"));
        assert!(Robots::DisallowAll.allows("/robots.txt"));
    }

    #[test]
    fn wildcards_match_in_the_middle() {
        assert!(pattern_matches("/a*/c", "/abbb/c/d"));
        assert!(!pattern_matches("/a*/c$", "/abbb/c/d"));
        assert!(pattern_matches("/a*/c$", "/abbb/c"));
        assert!(pattern_matches("*", "/anything"));
    }
}
