//! Injection points: a method, a URL and its parameters (query or form body), found by the
//! crawler. A check varies one parameter at a time and keeps the others at their defaults.

use url::Url;

use crate::http::Request;

/// Where a parameter travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Location {
    /// The URL query string.
    Query,
    /// A form-encoded body.
    Body,
}

/// One parameter with the value the application expects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    /// Name.
    pub name: String,
    /// Default value (from the link, the form field, or a value fitting the field type).
    pub value: String,
    /// Query or body.
    pub location: Location,
    /// The form field type (`text`, `hidden`, `number`, `select`, …) or `query`.
    pub kind: String,
}

impl Param {
    /// Does the parameter carry application input? Submit buttons do not: they are never
    /// injected.
    pub fn is_input(&self) -> bool {
        !matches!(self.kind.as_str(), "submit" | "button")
    }
}

/// An endpoint with parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `GET` or `POST`.
    pub method: String,
    /// The URL without its query.
    pub url: Url,
    /// The parameters.
    pub params: Vec<Param>,
}

impl Target {
    /// The target a URL with a query string stands for (`None` without parameters).
    pub fn from_query(url: &Url) -> Option<Self> {
        let params: Vec<Param> = url
            .query_pairs()
            .map(|(name, value)| Param {
                name: name.into_owned(),
                value: value.into_owned(),
                location: Location::Query,
                kind: "query".into(),
            })
            .collect();
        if params.is_empty() {
            return None;
        }
        let mut base = url.clone();
        base.set_query(None);
        base.set_fragment(None);
        Some(Self {
            method: "GET".into(),
            url: base,
            params,
        })
    }

    /// De-duplication key: method, URL and the sorted set of parameter names.
    pub fn key(&self) -> String {
        let mut names: Vec<&str> = self.params.iter().map(|p| p.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        format!("{} {}?{}", self.method, self.url, names.join("&"))
    }

    /// The request with every parameter at its default value.
    pub fn baseline(&self) -> Request {
        self.build(None)
    }

    /// The request with parameter `index` set to `value` and the others at their defaults.
    pub fn with_value(&self, index: usize, value: &str) -> Request {
        self.build(Some((index, value)))
    }

    fn build(&self, replace: Option<(usize, &str)>) -> Request {
        let value_of = |i: usize, p: &Param| -> String {
            match replace {
                Some((index, value)) if index == i => value.to_owned(),
                _ => p.value.clone(),
            }
        };
        let mut url = self.url.clone();
        let query: Vec<(String, String)> = self
            .params
            .iter()
            .enumerate()
            .filter(|(_, p)| p.location == Location::Query)
            .map(|(i, p)| (p.name.clone(), value_of(i, p)))
            .collect();
        if !query.is_empty() {
            url.query_pairs_mut().clear().extend_pairs(&query);
        }
        let body_pairs: Vec<(String, String)> = self
            .params
            .iter()
            .enumerate()
            .filter(|(_, p)| p.location == Location::Body)
            .map(|(i, p)| (p.name.clone(), value_of(i, p)))
            .collect();
        let body = (self.method != "GET").then(|| {
            url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(&body_pairs)
                .finish()
        });
        Request {
            method: self.method.clone(),
            url,
            body,
            headers: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_parameter_varies() {
        let url = Url::parse("http://h/p?a=1&b=x").unwrap_or_else(|e| panic!("{e}"));
        let target = Target::from_query(&url).unwrap_or_else(|| panic!("params"));
        assert_eq!(target.key(), "GET http://h/p?a&b");
        let request = target.with_value(1, "' OR 1=1");
        assert_eq!(request.url.as_str(), "http://h/p?a=1&b=%27+OR+1%3D1");
        assert!(request.body.is_none());
        assert_eq!(target.baseline().url.as_str(), "http://h/p?a=1&b=x");
    }

    #[test]
    fn form_parameters_go_in_the_body() {
        let target = Target {
            method: "POST".into(),
            url: Url::parse("http://h/login").unwrap_or_else(|e| panic!("{e}")),
            params: vec![
                Param {
                    name: "user".into(),
                    value: "a".into(),
                    location: Location::Body,
                    kind: "text".into(),
                },
                Param {
                    name: "pw".into(),
                    value: "b".into(),
                    location: Location::Body,
                    kind: "password".into(),
                },
            ],
        };
        let request = target.with_value(0, "x&y");
        assert_eq!(request.body.as_deref(), Some("user=x%26y&pw=b"));
        assert_eq!(request.url.as_str(), "http://h/login");
    }
}
