//! CSRF defence for applications without it, on state-changing requests (every method but
//! GET, HEAD, OPTIONS and TRACE) to the configured paths:
//!
//! 1. Fetch Metadata (resource-isolation policy): `Sec-Fetch-Site: same-origin` or `none` passes,
//!    `same-site` passes only when allowed, `cross-site` passes only from an allowed origin.
//! 2. Without Fetch Metadata: `Origin`, else the origin of `Referer`, must be the request's own
//!    origin or an allowed one. With neither header the request passes unless `require_origin`.
//! 3. Optional double-submit token: the token cookie must equal the token header (or form field).
//!
//! Requests without the configured session cookie are not cookie-authenticated and pass.

use http::{HeaderMap, Method, header};

use crate::AccessError;
use crate::keys::constant_time_eq;

/// Why a request was refused (safe to log).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsrfRejection {
    /// `Sec-Fetch-Site` says cross-site (or same-site where not allowed).
    CrossSite,
    /// `Origin` / `Referer` names another origin.
    ForeignOrigin,
    /// Neither header and `require_origin` is set.
    MissingOrigin,
    /// The double-submit token is missing or differs.
    TokenMismatch,
}

impl CsrfRejection {
    /// Short reason.
    pub fn as_str(self) -> &'static str {
        match self {
            CsrfRejection::CrossSite => "cross-site request (Sec-Fetch-Site)",
            CsrfRejection::ForeignOrigin => "request from a foreign origin",
            CsrfRejection::MissingOrigin => "state-changing request without Origin or Referer",
            CsrfRejection::TokenMismatch => "CSRF token missing or wrong",
        }
    }
}

/// The CSRF settings of one site.
#[derive(Debug, Clone)]
pub struct CsrfPolicy {
    paths: Vec<String>,
    session_cookie: Option<String>,
    allowed_origins: Vec<String>,
    allow_same_site: bool,
    require_origin: bool,
    token: Option<palisade_config::CsrfToken>,
}

/// What the header check left for the body phase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CsrfOutcome {
    /// Passed (or not applicable).
    Pass,
    /// Refused.
    Refuse(CsrfRejection),
    /// The token must be found in the form body: the expected cookie value and the field name.
    CheckForm { expected: String, field: String },
}

fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    if authority.is_empty() {
        return None;
    }
    Some(format!(
        "{}://{}",
        scheme.to_ascii_lowercase(),
        authority.to_ascii_lowercase()
    ))
}

/// Whether the method changes state.
pub fn is_state_changing(method: &Method) -> bool {
    !matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

/// Value of cookie `name` in the request.
pub(crate) fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value.trim_matches('"'))
}

impl CsrfPolicy {
    /// Compiles the settings.
    pub fn from_config(csrf: &palisade_config::Csrf) -> Result<Self, AccessError> {
        let allowed_origins = csrf
            .allowed_origins
            .iter()
            .map(|o| {
                origin_of(o).ok_or_else(|| {
                    AccessError::invalid(format!(
                        "csrf allowed origin {o:?}: expected scheme://host[:port]"
                    ))
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(CsrfPolicy {
            paths: csrf.paths.clone(),
            session_cookie: csrf.session_cookie.clone(),
            allowed_origins,
            allow_same_site: csrf.allow_same_site,
            require_origin: csrf.require_origin,
            token: csrf.token.clone(),
        })
    }

    /// Checks a request head. `own_origin` is `scheme://host[:port]` of the request itself.
    pub fn check(
        &self,
        method: &Method,
        path: &str,
        headers: &HeaderMap,
        own_origin: &str,
    ) -> CsrfOutcome {
        if !is_state_changing(method) {
            return CsrfOutcome::Pass;
        }
        if !self.paths.is_empty() && !self.paths.iter().any(|p| path.starts_with(p.as_str())) {
            return CsrfOutcome::Pass;
        }
        if let Some(name) = &self.session_cookie
            && cookie(headers, name).is_none()
        {
            return CsrfOutcome::Pass;
        }
        let origin_allowed = |origin: &str| {
            origin.eq_ignore_ascii_case(own_origin)
                || self
                    .allowed_origins
                    .iter()
                    .any(|o| o == &origin.to_ascii_lowercase())
        };
        let origin = headers
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok())
            .filter(|o| *o != "null")
            .map(str::to_owned)
            .or_else(|| {
                headers
                    .get(header::REFERER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(origin_of)
            });
        let fetch_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
        match fetch_site {
            Some("same-origin" | "none") => {}
            Some("same-site") if self.allow_same_site => {}
            Some(_) => {
                if !origin.as_deref().is_some_and(origin_allowed) {
                    return CsrfOutcome::Refuse(CsrfRejection::CrossSite);
                }
            }
            None => match origin.as_deref() {
                Some(origin) if !origin_allowed(origin) => {
                    return CsrfOutcome::Refuse(CsrfRejection::ForeignOrigin);
                }
                Some(_) => {}
                None if self.require_origin => {
                    return CsrfOutcome::Refuse(CsrfRejection::MissingOrigin);
                }
                None => {}
            },
        }
        let Some(token) = &self.token else {
            return CsrfOutcome::Pass;
        };
        let Some(expected) = cookie(headers, &token.cookie).filter(|v| !v.is_empty()) else {
            return CsrfOutcome::Refuse(CsrfRejection::TokenMismatch);
        };
        match headers
            .get(token.header.as_str())
            .and_then(|v| v.to_str().ok())
        {
            Some(sent) if constant_time_eq(sent.as_bytes(), expected.as_bytes()) => {
                CsrfOutcome::Pass
            }
            Some(_) => CsrfOutcome::Refuse(CsrfRejection::TokenMismatch),
            None => match &token.form_field {
                Some(field) => CsrfOutcome::CheckForm {
                    expected: expected.to_owned(),
                    field: field.clone(),
                },
                None => CsrfOutcome::Refuse(CsrfRejection::TokenMismatch),
            },
        }
    }
}

/// Checks the form field of a urlencoded body against the token cookie.
pub fn form_token_matches(body: &[u8], field: &str, expected: &str) -> bool {
    body.split(|&b| b == b'&')
        .filter_map(|pair| {
            let eq = pair.iter().position(|&b| b == b'=')?;
            (palisade_body::url_decode_nonstrict(&pair[..eq]).0 == field.as_bytes())
                .then(|| palisade_body::url_decode_nonstrict(&pair[eq + 1..]).0)
        })
        .any(|value| constant_time_eq(&value, expected.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn policy(json: serde_json::Value) -> CsrfPolicy {
        CsrfPolicy::from_config(&serde_json::from_value(json).expect("config")).expect("policy")
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    const OWN: &str = "https://shop.test";

    #[test]
    fn fetch_metadata_and_origin_checks() {
        let p = policy(serde_json::json!({ "allowed_origins": ["https://partner.test"] }));
        let check =
            |h: &[(&'static str, &'static str)]| p.check(&Method::POST, "/cart", &headers(h), OWN);
        assert_eq!(
            check(&[("sec-fetch-site", "same-origin")]),
            CsrfOutcome::Pass
        );
        assert_eq!(
            check(&[("sec-fetch-site", "cross-site")]),
            CsrfOutcome::Refuse(CsrfRejection::CrossSite)
        );
        assert_eq!(
            check(&[("sec-fetch-site", "same-site")]),
            CsrfOutcome::Refuse(CsrfRejection::CrossSite)
        );
        assert_eq!(
            check(&[
                ("sec-fetch-site", "cross-site"),
                ("origin", "https://partner.test")
            ]),
            CsrfOutcome::Pass
        );
        assert_eq!(
            check(&[("origin", "https://evil.test")]),
            CsrfOutcome::Refuse(CsrfRejection::ForeignOrigin)
        );
        assert_eq!(check(&[("origin", "https://shop.test")]), CsrfOutcome::Pass);
        assert_eq!(
            check(&[("referer", "https://evil.test/page?x")]),
            CsrfOutcome::Refuse(CsrfRejection::ForeignOrigin)
        );
        assert_eq!(check(&[]), CsrfOutcome::Pass);
        assert_eq!(
            p.check(
                &Method::GET,
                "/cart",
                &headers(&[("sec-fetch-site", "cross-site")]),
                OWN
            ),
            CsrfOutcome::Pass
        );
        let strict = policy(serde_json::json!({ "require_origin": true }));
        assert_eq!(
            strict.check(&Method::DELETE, "/x", &headers(&[]), OWN),
            CsrfOutcome::Refuse(CsrfRejection::MissingOrigin)
        );
    }

    #[test]
    fn only_cookie_authenticated_requests_on_configured_paths() {
        let p = policy(serde_json::json!({ "paths": ["/account"], "session_cookie": "sid" }));
        let cross = [("sec-fetch-site", "cross-site")];
        assert_eq!(
            p.check(&Method::POST, "/account/email", &headers(&cross), OWN),
            CsrfOutcome::Pass
        );
        let with_cookie = [("sec-fetch-site", "cross-site"), ("cookie", "a=b; sid=123")];
        assert_eq!(
            p.check(&Method::POST, "/account/email", &headers(&with_cookie), OWN),
            CsrfOutcome::Refuse(CsrfRejection::CrossSite)
        );
        assert_eq!(
            p.check(&Method::POST, "/api", &headers(&with_cookie), OWN),
            CsrfOutcome::Pass
        );
    }

    #[test]
    fn double_submit_token() {
        let p = policy(serde_json::json!({ "token": { "form_field": "csrf" } }));
        let ok = [("cookie", "csrf_token=abc"), ("x-csrf-token", "abc")];
        assert_eq!(
            p.check(&Method::POST, "/", &headers(&ok), OWN),
            CsrfOutcome::Pass
        );
        let wrong = [("cookie", "csrf_token=abc"), ("x-csrf-token", "abd")];
        assert_eq!(
            p.check(&Method::POST, "/", &headers(&wrong), OWN),
            CsrfOutcome::Refuse(CsrfRejection::TokenMismatch)
        );
        let no_cookie = [("x-csrf-token", "abc")];
        assert_eq!(
            p.check(&Method::POST, "/", &headers(&no_cookie), OWN),
            CsrfOutcome::Refuse(CsrfRejection::TokenMismatch)
        );
        let form = [("cookie", "csrf_token=abc")];
        let outcome = p.check(&Method::POST, "/", &headers(&form), OWN);
        assert_eq!(
            outcome,
            CsrfOutcome::CheckForm {
                expected: "abc".into(),
                field: "csrf".into()
            }
        );
        assert!(form_token_matches(b"x=1&csrf=abc", "csrf", "abc"));
        assert!(!form_token_matches(b"x=1&csrf=abd", "csrf", "abc"));
        assert!(!form_token_matches(b"x=1", "csrf", "abc"));
    }
}
