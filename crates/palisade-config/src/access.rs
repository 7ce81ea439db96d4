//! Access control settings: the global `[access]` table (API keys, JWT issuers, identity
//! forwarding, client certificates) and each site's `[site.access]` table (authorization rules,
//! login protection, CSRF defence, Host allowlist). The `palisade-access` crate enforces them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::Secret;

/// `[access]`: how callers authenticate, shared by every site.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Access {
    /// Key for hashing API keys (HMAC-SHA256), as `env:NAME` or `file:PATH`. Default: a random
    /// key created on first use in `<data_dir>/access.secret` (mode 0600).
    #[serde(default)]
    pub secret: Option<Secret>,
    /// Header API keys are accepted from.
    #[serde(default = "default_api_key_header")]
    pub api_key_header: String,
    /// Query parameter API keys are also accepted from (off by default: URLs end up in logs).
    #[serde(default)]
    pub api_key_query: Option<String>,
    /// JWT bearer token issuers.
    #[serde(default, rename = "jwt")]
    pub jwt: Vec<JwtIssuer>,
    /// Palisade roles of verified TLS client certificates, by exact subject (`CN=…,O=…`).
    #[serde(default)]
    pub client_cert_roles: BTreeMap<String, Vec<String>>,
    /// When set, the authenticated identity is forwarded upstream in `X-Palisade-User`,
    /// `X-Palisade-Roles` and `X-Palisade-Signature`, signed with this key (HMAC-SHA256).
    #[serde(default)]
    pub identity_secret: Option<Secret>,
}

impl Default for Access {
    fn default() -> Self {
        Access {
            secret: None,
            api_key_header: default_api_key_header(),
            api_key_query: None,
            jwt: Vec::new(),
            client_cert_roles: BTreeMap::new(),
            identity_secret: None,
        }
    }
}

fn default_api_key_header() -> String {
    "X-Api-Key".to_owned()
}

/// `[[access.jwt]]`: one issuer of bearer tokens and how to verify them.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct JwtIssuer {
    /// Name used in logs and in authorization rules (`jwt_issuers`).
    pub name: String,
    /// Accepted algorithms (HS256/384/512, RS256/384/512, PS256/384/512, ES256/384, EdDSA). `none`
    /// is always refused.
    pub algorithms: Vec<String>,
    /// Shared secret for HS* algorithms (`env:NAME` / `file:PATH`).
    #[serde(default)]
    pub hmac_secret: Option<Secret>,
    /// PEM public key files (RSA, EC or Ed25519).
    #[serde(default)]
    pub pem_files: Vec<PathBuf>,
    /// JWK or JWK Set files.
    #[serde(default)]
    pub jwk_files: Vec<PathBuf>,
    /// JWKS URL (http or https), fetched at start and refreshed in the background.
    #[serde(default)]
    pub jwks_url: Option<String>,
    /// How often the JWKS is refreshed.
    #[serde(
        default = "default_jwks_refresh",
        with = "crate::model::humantime_serde_compat"
    )]
    pub jwks_refresh: Duration,
    /// Required `iss` claim.
    #[serde(default)]
    pub issuer: Option<String>,
    /// Accepted `aud` values (one must match when set).
    #[serde(default)]
    pub audience: Vec<String>,
    /// Clock skew allowed for `exp`, `nbf` and `iat`.
    #[serde(
        default = "default_leeway",
        with = "crate::model::humantime_serde_compat"
    )]
    pub leeway: Duration,
    /// Claim holding roles (a string array or a space-separated string); dotted for nesting
    /// (`realm_access.roles`).
    #[serde(default = "default_roles_claim")]
    pub roles_claim: String,
    /// Claim holding scopes (`scope` is space-separated by RFC 8693; `scp` arrays work too).
    #[serde(default = "default_scopes_claim")]
    pub scopes_claim: String,
    /// Renames token roles to Palisade roles (`{ "realm-admin" = "admin" }`); unmapped roles pass.
    #[serde(default)]
    pub role_map: BTreeMap<String, String>,
}

fn default_jwks_refresh() -> Duration {
    Duration::from_secs(300)
}
fn default_leeway() -> Duration {
    Duration::from_secs(60)
}
fn default_roles_claim() -> String {
    "roles".to_owned()
}
fn default_scopes_claim() -> String {
    "scope".to_owned()
}

/// `[site.access]`: authorization, login protection and CSRF defence of one site.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SiteAccess {
    /// Policy for requests no rule matches. Default `public`, or `deny` when `api = true`.
    #[serde(default)]
    pub default: Option<Policy>,
    /// An API site: requests no rule matches are denied.
    #[serde(default)]
    pub api: bool,
    /// Authorization rules, checked in the order written; the first match decides.
    #[serde(default, rename = "rule")]
    pub rules: Vec<AccessRule>,
    /// Login endpoints protected against brute force and credential stuffing.
    #[serde(default, rename = "login")]
    pub logins: Vec<LoginProtection>,
    /// CSRF defence for cookie-authenticated routes.
    #[serde(default)]
    pub csrf: Option<Csrf>,
    /// Host header values accepted on this site (exact, lower case); empty accepts the site's hosts.
    #[serde(default)]
    pub allowed_hosts: Vec<String>,
}

/// What a rule (or the site default) requires.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Policy {
    /// Anyone.
    Public,
    /// Any authenticated caller.
    Authenticated,
    /// Nobody.
    Deny,
}

/// `[[site.access.rule]]`: who may call matching requests.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AccessRule {
    /// Path pattern: literal segments, `{name}` for one segment, a trailing `*` for any rest.
    pub path: String,
    /// Methods (any when empty).
    #[serde(default)]
    pub methods: Vec<String>,
    /// Host (any of the site's hosts when absent).
    #[serde(default)]
    pub host: Option<String>,
    /// `public`, `authenticated` (default when roles/scopes are given) or `deny`.
    #[serde(default)]
    pub policy: Option<Policy>,
    /// Any one of these roles is required.
    #[serde(default)]
    pub roles: Vec<String>,
    /// All of these scopes are required.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// JWT algorithms accepted on matching requests (any of the issuer's when empty).
    #[serde(default)]
    pub jwt_algorithms: Vec<String>,
}

/// `[[site.access.login]]`: one login endpoint of the upstream application.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LoginProtection {
    /// Exact path of the login endpoint.
    pub path: String,
    /// Method (default POST).
    #[serde(default = "default_login_method")]
    pub method: String,
    /// Where the user name is: `form:FIELD`, `json:/json/pointer` or `header:NAME`.
    pub username: String,
    /// Status codes meaning the login failed (default 401 and 403).
    #[serde(default = "default_failure_status")]
    pub failure_status: Vec<u16>,
    /// A redirect whose `Location` starts with this means the login failed.
    #[serde(default)]
    pub failure_redirect: Option<String>,
    /// A response body matching this regular expression means the login failed.
    #[serde(default)]
    pub failure_body: Option<String>,
    /// Failures per account within `window` that lock the account.
    #[serde(default = "default_max_failures")]
    pub max_failures: u32,
    /// Sliding window for counting failures.
    #[serde(
        default = "default_window",
        with = "crate::model::humantime_serde_compat"
    )]
    pub window: Duration,
    /// First lock duration; doubles with each repeated lock.
    #[serde(
        default = "default_lock",
        with = "crate::model::humantime_serde_compat"
    )]
    pub lock: Duration,
    /// Longest lock.
    #[serde(
        default = "default_max_lock",
        with = "crate::model::humantime_serde_compat"
    )]
    pub max_lock: Duration,
    /// Failures per client IP within `window` after which that IP is throttled (exponential
    /// backoff) before any account lock; 0 turns IP throttling off.
    #[serde(default)]
    pub ip_max_failures: u32,
    /// Distinct accounts failing from one IP within `window` reported as credential stuffing.
    #[serde(default = "default_stuffing")]
    pub stuffing_accounts_per_ip: u32,
    /// Distinct IPs failing on one account within `window` reported as credential stuffing.
    #[serde(default = "default_stuffing")]
    pub stuffing_ips_per_account: u32,
    /// Client networks never throttled or counted (e.g. an office or a monitoring probe).
    #[serde(default)]
    pub allow_networks: Vec<ipnet::IpNet>,
}

fn default_login_method() -> String {
    "POST".to_owned()
}
fn default_failure_status() -> Vec<u16> {
    vec![401, 403]
}
fn default_max_failures() -> u32 {
    5
}
fn default_window() -> Duration {
    Duration::from_secs(600)
}
fn default_lock() -> Duration {
    Duration::from_secs(900)
}
fn default_max_lock() -> Duration {
    Duration::from_secs(24 * 3600)
}
fn default_stuffing() -> u32 {
    10
}

/// `[site.access.csrf]`: CSRF defence for state-changing requests.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Csrf {
    /// Path prefixes checked (all when empty).
    #[serde(default)]
    pub paths: Vec<String>,
    /// Only requests carrying this cookie are checked (cookie-authenticated); all when absent.
    #[serde(default)]
    pub session_cookie: Option<String>,
    /// Origins allowed besides the request's own (`https://app.example`).
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    /// Accept `Sec-Fetch-Site: same-site` (sibling subdomains).
    #[serde(default)]
    pub allow_same_site: bool,
    /// Refuse state-changing requests that carry no Sec-Fetch-Site, Origin or Referer.
    #[serde(default)]
    pub require_origin: bool,
    /// Double-submit token: the cookie's value must equal the header's (or form field's).
    #[serde(default)]
    pub token: Option<CsrfToken>,
}

/// Double-submit token names.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CsrfToken {
    /// Cookie holding the token.
    #[serde(default = "default_csrf_cookie")]
    pub cookie: String,
    /// Header echoing it.
    #[serde(default = "default_csrf_header")]
    pub header: String,
    /// Form field echoing it (urlencoded bodies), checked when the header is absent.
    #[serde(default)]
    pub form_field: Option<String>,
}

fn default_csrf_cookie() -> String {
    "csrf_token".to_owned()
}
fn default_csrf_header() -> String {
    "X-CSRF-Token".to_owned()
}

impl Access {
    /// Anchors relative key files at `base`.
    pub(crate) fn resolve_relative_paths(&mut self, base: &Path) {
        for issuer in &mut self.jwt {
            for path in issuer
                .pem_files
                .iter_mut()
                .chain(issuer.jwk_files.iter_mut())
            {
                if path.is_relative() {
                    *path = base.join(&*path);
                }
            }
        }
    }
}
