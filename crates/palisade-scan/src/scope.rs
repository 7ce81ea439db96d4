//! What the crawler and the checks may touch: hosts, path prefixes, excluded patterns, depth
//! and page limits. Everything outside the scope is never requested.

use url::Url;

/// The scan's scope.
#[derive(Debug, Clone)]
pub struct Scope {
    /// Hosts (with port when not default) in scope; the start URL's host is always one.
    pub hosts: Vec<String>,
    /// Path prefixes in scope (default `/`).
    pub path_prefixes: Vec<String>,
    /// URLs containing any of these substrings are skipped (e.g. `/logout`).
    pub excludes: Vec<String>,
    /// Link depth from the start URL.
    pub max_depth: usize,
    /// Most pages fetched by the crawler.
    pub max_pages: usize,
}

impl Scope {
    /// A scope for `start`: its host, every path, depth 5, 500 pages.
    pub fn for_start(start: &Url) -> Self {
        Self {
            hosts: vec![host_of(start)],
            path_prefixes: vec!["/".into()],
            excludes: Vec::new(),
            max_depth: 5,
            max_pages: 500,
        }
    }

    /// Is `url` in scope?
    pub fn contains(&self, url: &Url) -> bool {
        if !matches!(url.scheme(), "http" | "https") {
            return false;
        }
        let host = host_of(url);
        if !self.hosts.iter().any(|h| h.eq_ignore_ascii_case(&host)) {
            return false;
        }
        let path = url.path();
        if !self
            .path_prefixes
            .iter()
            .any(|p| path.starts_with(p.as_str()))
        {
            return false;
        }
        let text = url.as_str();
        !self.excludes.iter().any(|e| text.contains(e.as_str()))
    }
}

/// `host` or `host:port` when the port is not the scheme's default.
pub fn host_of(url: &Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_owned(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn hosts_prefixes_and_excludes() {
        let mut scope = Scope::for_start(&url("http://127.0.0.1:8000/app/"));
        scope.path_prefixes = vec!["/app".into()];
        scope.excludes = vec!["/logout".into()];
        assert!(scope.contains(&url("http://127.0.0.1:8000/app/x?y=1")));
        assert!(!scope.contains(&url("http://127.0.0.1:8001/app/x")));
        assert!(!scope.contains(&url("http://127.0.0.1:8000/other")));
        assert!(!scope.contains(&url("http://127.0.0.1:8000/app/logout")));
        assert!(!scope.contains(&url("ftp://127.0.0.1:8000/app/")));
    }
}
