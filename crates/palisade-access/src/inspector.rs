//! The access-control inspector: one per configuration, active on sites with `[site.access]`.
//!
//! Phase 1: Host allowlist → authentication (API key, JWT bearer, client certificate; the identity
//! goes into the exchange context for later inspectors and, signed, to the upstream) →
//! authorization (401 with `WWW-Authenticate` / 403) → CSRF → login protection by header user
//! name. Phase 2: login protection by body user name, CSRF form token. Phases 3–4: the login's
//! outcome is recognised and counted. Phase 5: the events.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::Arc;

use arc_swap::ArcSwap;
use http::{HeaderName, HeaderValue, StatusCode, header};
use palisade_config::Config;
use palisade_core::{
    AuthMethod, BodyView, EventOutcome, ExchangeSummary, Identity, Inspection, Inspector,
    RequestHead, ResponseHead, SecurityEvent, Severity, Verdict,
};

use crate::csrf::{CsrfOutcome, CsrfPolicy, form_token_matches};
use crate::identity::IdentitySigner;
use crate::jwt::JwtVerifier;
use crate::keys::KeyIndex;
use crate::login::{Finding, LoginEndpoint, LoginGuard, LoginOutcome, Refusal};
use crate::rules::{Decision, RuleSet, normalise_path};
use crate::secret::KeyHasher;
use crate::store::{AccessStore, now_ms};
use crate::{AccessError, sync};

/// Rule id on the gateway's block events for each kind of refusal.
const RULE_AUTHN: &str = "access-authn";
const RULE_AUTHZ: &str = "access-authz";
const RULE_CSRF: &str = "access-csrf";
const RULE_HOST: &str = "access-host";
const RULE_LOGIN: &str = "access-login";

/// Longest `User-Agent` kept in a login event (characters).
const MAX_USER_AGENT_CHARS: usize = 512;

#[derive(Debug)]
struct SiteRt {
    name: Arc<str>,
    rules: RuleSet,
    logins: Vec<LoginEndpoint>,
    csrf: Option<CsrfPolicy>,
    allowed_hosts: Vec<String>,
}

#[derive(Debug)]
struct Inner {
    sites: Vec<SiteRt>,
    site_by_route: HashMap<String, usize>,
    hasher: KeyHasher,
    keys: Arc<ArcSwap<KeyIndex>>,
    api_key_header: HeaderName,
    api_key_query: Option<String>,
    jwt: JwtVerifier,
    cert_roles: BTreeMap<String, Vec<String>>,
    signer: Option<IdentitySigner>,
    guard: LoginGuard,
    /// The `[state]` lock fail mode, named in the event of a login judged while degraded.
    lock_fail_mode: &'static str,
    challenge: HeaderValue,
    wants_request_body: bool,
    wants_response_body: bool,
}

/// The access-control [`Inspector`].
#[derive(Debug, Clone)]
pub struct AccessControl {
    inner: Arc<Inner>,
}

/// A successful authentication.
#[derive(Debug, Clone)]
pub struct Authenticated {
    /// Who.
    pub identity: Identity,
    /// The JWT algorithm, for tokens.
    pub jwt_algorithm: Option<&'static str>,
}

impl AccessControl {
    /// The inspector for `config` with login protection in the local state store
    /// (`<data_dir>/state.sqlite3`), or `None` when no site has `[site.access]`. A configuration
    /// with `[state] backend = "redis"` needs the process's shared store: use
    /// [`AccessControl::with_state`].
    pub fn new(config: &Config) -> Result<Option<Self>, AccessError> {
        if config.state.backend != palisade_config::StateBackend::Local {
            return Err(AccessError::invalid(
                "[state] backend is not local: build access control with the shared state store (AccessControl::with_state)",
            ));
        }
        let state = palisade_state::StateStore::open_local(&config.data_dir)
            .map_err(|error| AccessError::state("open the local state store", error))?;
        AccessControl::with_state(config, state)
    }

    /// The inspector for `config`, or `None` when no site has `[site.access]`. Failed logins and
    /// account locks live in `state` (the process's state store: local, or Redis shared by
    /// several gateways). Opens the access store in the data directory (API keys; login locks an
    /// older gateway left there move into `state`, see [`crate::login::migrate_legacy_locks`]),
    /// fetches JWKS URLs, and starts the background threads that keep them current.
    pub fn with_state(
        config: &Config,
        state: palisade_state::StateStore,
    ) -> Result<Option<Self>, AccessError> {
        let mut sites = Vec::new();
        let mut site_by_route = HashMap::new();
        for site in &config.sites {
            let Some(access) = &site.access else { continue };
            let index = sites.len();
            for route in &site.routes {
                site_by_route.insert(site.route_name(route), index);
            }
            sites.push(SiteRt {
                name: Arc::from(site.name()),
                rules: RuleSet::from_config(access)?,
                logins: access
                    .logins
                    .iter()
                    .map(LoginEndpoint::from_config)
                    .collect::<Result<_, _>>()?,
                csrf: access
                    .csrf
                    .as_ref()
                    .map(CsrfPolicy::from_config)
                    .transpose()?,
                allowed_hosts: access
                    .allowed_hosts
                    .iter()
                    .map(|h| h.to_ascii_lowercase())
                    .collect(),
            });
        }
        if sites.is_empty() {
            return Ok(None);
        }
        let access = &config.access;
        let hasher = KeyHasher::from_config(access.secret.as_ref(), &config.data_dir)?;
        let mut store = AccessStore::open(&config.data_dir)?;
        if let Err(error) = crate::login::migrate_legacy_locks(&mut store, &state) {
            tracing::warn!(%error, "login locks of the legacy access.sqlite3 table stay there until the next start");
        }
        let keys = Arc::new(ArcSwap::from_pointee(KeyIndex::new(
            store.list_keys()?,
            None,
        )));
        sync::start(
            store,
            sync::Synced {
                keys: Arc::downgrade(&keys),
            },
        );
        let lock_fail_mode = match config
            .state
            .fail_modes
            .lock
            .unwrap_or(config.state.fail_mode)
        {
            palisade_config::StateFailMode::Local => "local",
            palisade_config::StateFailMode::Open => "open",
            palisade_config::StateFailMode::Closed => "closed",
        };
        let api_key_header =
            HeaderName::try_from(access.api_key_header.as_str()).map_err(|_| {
                AccessError::invalid(format!(
                    "api_key_header {:?}: not a header name",
                    access.api_key_header
                ))
            })?;
        let jwt = JwtVerifier::new(&access.jwt)?;
        let site_realm = "palisade";
        let challenge = if jwt.is_enabled() {
            format!(
                "Bearer realm=\"{site_realm}\", ApiKey realm=\"{site_realm}\", header=\"{}\"",
                access.api_key_header
            )
        } else {
            format!(
                "ApiKey realm=\"{site_realm}\", header=\"{}\"",
                access.api_key_header
            )
        };
        let wants_request_body = sites
            .iter()
            .any(|s| s.logins.iter().any(|l| l.username.in_body()) || s.csrf.is_some());
        let wants_response_body = sites
            .iter()
            .any(|s| s.logins.iter().any(|l| l.failure_body.is_some()));
        Ok(Some(AccessControl {
            inner: Arc::new(Inner {
                sites,
                site_by_route,
                hasher,
                keys,
                api_key_header,
                api_key_query: access.api_key_query.clone(),
                jwt,
                cert_roles: access.client_cert_roles.clone(),
                signer: access
                    .identity_secret
                    .as_ref()
                    .map(|s| IdentitySigner::new(s.expose().as_bytes())),
                guard: LoginGuard::new(state),
                lock_fail_mode,
                challenge: HeaderValue::from_str(&challenge)
                    .unwrap_or(HeaderValue::from_static("ApiKey")),
                wants_request_body,
                wants_response_body,
            }),
        }))
    }

    /// Authenticates a request head: `Ok(None)` when it carries no credential.
    pub fn authenticate(&self, head: &RequestHead) -> Result<Option<Authenticated>, &'static str> {
        self.inner.authenticate(head)
    }

    /// Number of API keys loaded.
    pub fn api_key_count(&self) -> usize {
        self.inner.keys.load().len()
    }
}

fn query_param<'t>(raw_target: &'t str, name: &str) -> Option<std::borrow::Cow<'t, str>> {
    let query = raw_target.split_once('?')?.1.split('#').next()?;
    query.split('&').find_map(|pair| {
        let (n, v) = pair.split_once('=').unwrap_or((pair, ""));
        (n == name).then(|| match palisade_body::url_decode_nonstrict(v.as_bytes()) {
            (bytes, _) if bytes == v.as_bytes() => std::borrow::Cow::Borrowed(v),
            (bytes, _) => std::borrow::Cow::Owned(String::from_utf8_lossy(&bytes).into_owned()),
        })
    })
}

impl Inner {
    fn authenticate(&self, head: &RequestHead) -> Result<Option<Authenticated>, &'static str> {
        let now = now_ms();
        let api_key = head
            .headers
            .get(&self.api_key_header)
            .map(|v| {
                v.to_str()
                    .map(std::borrow::Cow::Borrowed)
                    .map_err(|_| "unknown API key")
            })
            .transpose()?
            .or_else(|| {
                self.api_key_query
                    .as_deref()
                    .and_then(|name| query_param(&head.raw_target, name))
            });
        let bearer = head
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                let (scheme, token) = v.trim().split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            });
        let api_key = match (api_key, bearer) {
            (Some(key), _) => Some(key),
            // Palisade's own keys also work as bearer tokens.
            (None, Some(token)) if token.starts_with(crate::store::KEY_PREFIX) => {
                Some(std::borrow::Cow::Borrowed(token))
            }
            _ => None,
        };
        if let Some(key) = api_key {
            let entry = self
                .keys
                .load()
                .verify(&self.hasher, key.trim(), now)
                .map_err(|rejection| rejection.as_str())?;
            return Ok(Some(Authenticated {
                identity: Identity {
                    subject: entry.info.name.clone(),
                    method: AuthMethod::ApiKey,
                    key_id: Some(entry.info.id.clone()),
                    roles: entry.info.roles.clone(),
                    scopes: Vec::new(),
                },
                jwt_algorithm: None,
            }));
        }
        if let Some(token) = bearer {
            if !self.jwt.is_enabled() {
                return Err("bearer token but no JWT issuer is configured");
            }
            let verified = self
                .jwt
                .verify(token, u64::try_from(now / 1000).unwrap_or(0))
                .map_err(|rejection| rejection.as_str())?;
            return Ok(Some(Authenticated {
                identity: verified.identity,
                jwt_algorithm: Some(verified.algorithm),
            }));
        }
        if let Some(subject) = &head.client_cert_subject {
            return Ok(Some(Authenticated {
                identity: Identity {
                    subject: subject.clone(),
                    method: AuthMethod::ClientCertificate,
                    key_id: None,
                    roles: self.cert_roles.get(subject).cloned().unwrap_or_default(),
                    scopes: Vec::new(),
                },
                jwt_algorithm: None,
            }));
        }
        Ok(None)
    }
}

impl Inspector for AccessControl {
    fn name(&self) -> &str {
        "access"
    }

    fn wants_request_body(&self) -> bool {
        self.inner.wants_request_body
    }

    fn wants_response_body(&self) -> bool {
        self.inner.wants_response_body
    }

    fn start(&self, head: &RequestHead) -> Box<dyn Inspection> {
        match self.inner.site_by_route.get(&head.route) {
            Some(&site) => Box::new(AccessInspection {
                inner: Arc::clone(&self.inner),
                site,
                login: None,
                csrf_form: None,
                events: Vec::new(),
            }),
            None => Box::new(Unprotected),
        }
    }
}

/// Sites without `[site.access]`.
struct Unprotected;

impl Inspection for Unprotected {}

#[derive(Debug)]
struct LoginAttempt {
    endpoint: usize,
    account: Option<String>,
    ip: IpAddr,
    /// The username is in the body and not read yet.
    pending_body: bool,
    /// Counted (or refused): nothing more to do.
    done: bool,
}

struct AccessInspection {
    inner: Arc<Inner>,
    site: usize,
    login: Option<LoginAttempt>,
    csrf_form: Option<(String, String)>,
    events: Vec<SecurityEvent>,
}

impl AccessInspection {
    fn site(&self) -> &SiteRt {
        &self.inner.sites[self.site]
    }

    fn event(
        &mut self,
        head: &RequestHead,
        action: &str,
        severity: Severity,
        message: String,
    ) -> &mut SecurityEvent {
        let category = if action.starts_with("authn") {
            "authentication"
        } else {
            "web"
        };
        let mut event = SecurityEvent::new(action, category, severity, message);
        event.outcome = EventOutcome::Failure;
        event.request_id = Some(head.request_id.clone());
        event.source_ip = Some(head.client_addr.ip());
        event.route = Some(head.route.clone());
        event.fields.insert(
            "url.path".to_owned(),
            head.raw_target.split('?').next().unwrap_or("").into(),
        );
        event.fields.insert(
            "http.request.method".to_owned(),
            head.method.as_str().into(),
        );
        event.fields.insert(
            "palisade.site".to_owned(),
            self.site().name.to_string().into(),
        );
        self.events.push(event);
        self.events.last_mut().expect("just pushed")
    }

    /// An event of login protection: the request's fields plus its rule id, the user name
    /// (normalised, when known) and the client's `User-Agent`, the same shape for failures,
    /// locks and successes.
    fn login_event(
        &mut self,
        head: &RequestHead,
        action: &str,
        severity: Severity,
        message: String,
        account: Option<&str>,
    ) -> &mut SecurityEvent {
        let event = self.event(head, action, severity, message);
        event.rule_ids.push(RULE_LOGIN.to_owned());
        if let Some(account) = account {
            event.fields.insert("user.name".to_owned(), account.into());
        }
        if let Some(agent) = head
            .headers
            .get(header::USER_AGENT)
            .map(|v| String::from_utf8_lossy(v.as_bytes()))
        {
            let agent: String = agent.chars().take(MAX_USER_AGENT_CHARS).collect();
            event
                .fields
                .insert("user_agent.original".to_owned(), agent.into());
        }
        event
    }

    fn refuse(
        &mut self,
        head: &RequestHead,
        status: StatusCode,
        rule: &str,
        reason: &str,
    ) -> Verdict {
        let action = if rule == RULE_CSRF || rule == RULE_HOST {
            "malicious_request_refused"
        } else {
            "authz_fail"
        };
        let event = self.event(head, action, Severity::Medium, reason.to_owned());
        event.rule_ids.push(rule.to_owned());
        event.fields.insert(
            "http.response.status_code".to_owned(),
            status.as_u16().into(),
        );
        if let Some(identity) = head.context.identity() {
            event
                .fields
                .insert("user.name".to_owned(), identity.subject.clone().into());
        }
        if status == StatusCode::UNAUTHORIZED {
            head.context
                .insert_response_header(header::WWW_AUTHENTICATE, self.inner.challenge.clone());
        }
        Verdict::Block {
            status,
            reason: reason.to_owned(),
            rule_ids: vec![rule.to_owned()],
        }
    }

    fn login_refusal(&mut self, head: &RequestHead, refusal: &Refusal) -> Verdict {
        let account = self.login.as_ref().and_then(|l| l.account.clone());
        if let Some(login) = &mut self.login {
            login.done = true;
        }
        let (message, scope) = match refusal {
            Refusal::AccountLocked { .. } => ("login attempt on a locked account", "account"),
            Refusal::IpThrottled { .. } => ("login attempt from a throttled client", "ip"),
        };
        let event = self.login_event(
            head,
            "authn_login_lock",
            Severity::Medium,
            message.to_owned(),
            account.as_deref(),
        );
        event
            .fields
            .insert("palisade.login.scope".to_owned(), scope.into());
        let seconds = refusal.retry_after_secs();
        head.context
            .insert_response_header(header::RETRY_AFTER, HeaderValue::from(seconds));
        Verdict::Block {
            status: StatusCode::TOO_MANY_REQUESTS,
            reason: message.to_owned(),
            rule_ids: vec![RULE_LOGIN.to_owned()],
        }
    }

    fn check_login(&mut self, head: &RequestHead) -> Verdict {
        let Some(login) = &self.login else {
            return Verdict::Allow;
        };
        let inner = Arc::clone(&self.inner);
        let site = &inner.sites[self.site].name;
        let refusal = inner.guard.check(site, login.account.as_deref(), login.ip);
        self.report_degraded_state(head);
        match refusal {
            Some(refusal) => self.login_refusal(head, &refusal),
            None => Verdict::Allow,
        }
    }

    /// Records (at most every few seconds) that login locks are being decided by the
    /// configured fail mode because the shared state store is unreachable.
    fn report_degraded_state(&mut self, head: &RequestHead) {
        if !self.inner.guard.report_degraded() {
            return;
        }
        let mode = self.inner.lock_fail_mode;
        let event = self.login_event(
            head,
            "authn_login_state_unavailable",
            Severity::High,
            format!(
                "shared state store unreachable: login locks decided by the lock fail mode \"{mode}\""
            ),
            None,
        );
        event
            .fields
            .insert("palisade.state.fail_mode".to_owned(), mode.into());
    }

    /// Counts the login's outcome: a failure by the endpoint's rules, or a success (the
    /// account's failures start over; `authn_login_success`, or `authn_login_successafterfail`
    /// with the number of failures it had). An inconclusive answer changes nothing.
    fn login_outcome(&mut self, head: &RequestHead, outcome: LoginOutcome) {
        let Some(login) = self.login.as_mut() else {
            return;
        };
        if login.done {
            return;
        }
        login.done = true;
        let (endpoint, account, ip) = (login.endpoint, login.account.clone(), login.ip);
        let inner = Arc::clone(&self.inner);
        let site = &inner.sites[self.site].name;
        let endpoint = &inner.sites[self.site].logins[endpoint];
        match outcome {
            LoginOutcome::Inconclusive => {}
            LoginOutcome::Succeeded => {
                let failures = account.as_deref().map_or(0, |account| {
                    inner.guard.record_success(site, account, &endpoint.policy)
                });
                let (action, message) = if failures > 0 {
                    (
                        "authn_login_successafterfail",
                        format!("login succeeded after {failures} failed logins in the window"),
                    )
                } else {
                    ("authn_login_success", "login succeeded".to_owned())
                };
                let event =
                    self.login_event(head, action, Severity::Info, message, account.as_deref());
                event.outcome = EventOutcome::Success;
                if failures > 0 {
                    event
                        .fields
                        .insert("palisade.login.failures".to_owned(), failures.into());
                }
            }
            LoginOutcome::Failed => {
                let findings =
                    inner
                        .guard
                        .record_failure(site, account.as_deref(), ip, &endpoint.policy);
                for finding in findings {
                    self.login_failure_event(head, &finding, account.as_deref());
                }
            }
        }
    }

    /// The event of one consequence of a failed login.
    fn login_failure_event(
        &mut self,
        head: &RequestHead,
        finding: &Finding,
        account: Option<&str>,
    ) {
        let (action, severity, message) = match finding {
            Finding::Failed { account_failures } => (
                "authn_login_fail",
                Severity::Low,
                format!("login failed ({account_failures} in the window)"),
            ),
            Finding::AccountLocked { repeat, .. } => (
                "authn_login_fail_max",
                Severity::Medium,
                format!("too many failed logins: account locked (lock #{repeat})"),
            ),
            Finding::IpThrottled { .. } => (
                "authn_login_fail_max",
                Severity::Medium,
                "too many failed logins from this client: throttled".to_owned(),
            ),
            Finding::StuffingFromIp { accounts } => (
                "malicious_credential_stuffing",
                Severity::High,
                format!("failed logins on {accounts} accounts from one client"),
            ),
            Finding::StuffingOnAccount { ips } => (
                "malicious_credential_stuffing",
                Severity::High,
                format!("failed logins on one account from {ips} clients"),
            ),
        };
        let event = self.login_event(head, action, severity, message, account);
        let (scope, until_ms) = match finding {
            Finding::AccountLocked { until_ms, .. } => ("account", *until_ms),
            Finding::IpThrottled { until_ms } => ("ip", *until_ms),
            _ => return,
        };
        event
            .fields
            .insert("palisade.login.scope".to_owned(), scope.into());
        event
            .fields
            .insert("palisade.login.locked_until_ms".to_owned(), until_ms.into());
    }
}

impl Inspection for AccessInspection {
    fn request_headers(&mut self, head: &RequestHead) -> Verdict {
        let inner = Arc::clone(&self.inner);
        let site = &inner.sites[self.site];
        if !site.allowed_hosts.is_empty()
            && !site
                .allowed_hosts
                .iter()
                .any(|h| h.eq_ignore_ascii_case(&head.host))
        {
            return self.refuse(
                head,
                StatusCode::MISDIRECTED_REQUEST,
                RULE_HOST,
                "Host not allowed on this site",
            );
        }

        // Authentication.
        let authenticated = match inner.authenticate(head) {
            Ok(authenticated) => authenticated,
            Err(reason) => return self.refuse(head, StatusCode::UNAUTHORIZED, RULE_AUTHN, reason),
        };
        let jwt_algorithm = authenticated.as_ref().and_then(|a| a.jwt_algorithm);
        if let Some(authenticated) = authenticated {
            if let Some(signer) = &inner.signer {
                let unix = u64::try_from(now_ms() / 1000).unwrap_or(0);
                for (name, value) in signer.headers(&authenticated.identity, &head.request_id, unix)
                {
                    head.context.insert_upstream_header(name, value);
                }
            }
            head.context.set_identity(authenticated.identity);
        }

        // Authorization.
        let path = normalise_path(&head.raw_target);
        let requirement = site.rules.requirement(&head.host, &head.method, &path);
        match requirement.decide(head.context.identity(), jwt_algorithm) {
            Decision::Allow => {}
            Decision::Unauthenticated => {
                return self.refuse(
                    head,
                    StatusCode::UNAUTHORIZED,
                    RULE_AUTHZ,
                    "authentication required",
                );
            }
            Decision::Forbidden(reason) => {
                return self.refuse(head, StatusCode::FORBIDDEN, RULE_AUTHZ, reason);
            }
        }

        // CSRF.
        if let Some(csrf) = &site.csrf {
            let scheme = if head.tls { "https" } else { "http" };
            let authority = head
                .headers
                .get(header::HOST)
                .and_then(|v| v.to_str().ok())
                .unwrap_or(&head.host);
            let own_origin = format!("{scheme}://{authority}");
            let raw_path = head.raw_target.split('?').next().unwrap_or("/");
            match csrf.check(&head.method, raw_path, &head.headers, &own_origin) {
                CsrfOutcome::Pass => {}
                CsrfOutcome::Refuse(rejection) => {
                    return self.refuse(head, StatusCode::FORBIDDEN, RULE_CSRF, rejection.as_str());
                }
                CsrfOutcome::CheckForm { expected, field } => {
                    self.csrf_form = Some((expected, field))
                }
            }
        }

        // Login protection.
        let raw_path = head.raw_target.split('?').next().unwrap_or("/");
        let ip = head.client_addr.ip();
        if let Some((index, endpoint)) = site
            .logins
            .iter()
            .enumerate()
            .find(|(_, l)| l.matches(&head.method, raw_path))
            && !endpoint.allowlisted(ip)
        {
            let pending_body = endpoint.username.in_body();
            self.login = Some(LoginAttempt {
                endpoint: index,
                account: endpoint.username.in_headers(&head.headers),
                ip,
                pending_body,
                done: false,
            });
            if !pending_body {
                return self.check_login(head);
            }
        }
        Verdict::Allow
    }

    fn request_body(&mut self, head: &RequestHead, body: BodyView<'_>) -> Verdict {
        if let Some((expected, field)) = self.csrf_form.take()
            && !form_token_matches(body.bytes, &field, &expected)
        {
            return self.refuse(
                head,
                StatusCode::FORBIDDEN,
                RULE_CSRF,
                crate::csrf::CsrfRejection::TokenMismatch.as_str(),
            );
        }
        let inner = Arc::clone(&self.inner);
        if let Some(login) = self.login.as_mut()
            && login.pending_body
        {
            login.pending_body = false;
            login.account = inner.sites[self.site].logins[login.endpoint]
                .username
                .in_body_of(body.bytes);
            return self.check_login(head);
        }
        Verdict::Allow
    }

    fn response_headers(&mut self, head: &RequestHead, resp: &ResponseHead) -> Verdict {
        let Some(login) = &self.login else {
            return Verdict::Allow;
        };
        if login.done {
            return Verdict::Allow;
        }
        let endpoint = &self.inner.sites[self.site].logins[login.endpoint];
        let location = resp
            .headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok());
        if let Some(outcome) = endpoint.outcome_by_head(resp.status, location) {
            self.login_outcome(head, outcome);
        }
        Verdict::Allow
    }

    fn response_body(
        &mut self,
        head: &RequestHead,
        resp: &ResponseHead,
        body: BodyView<'_>,
    ) -> Verdict {
        let Some(login) = &self.login else {
            return Verdict::Allow;
        };
        if login.done {
            return Verdict::Allow;
        }
        let endpoint = &self.inner.sites[self.site].logins[login.endpoint];
        let outcome = endpoint.outcome_by_body(resp.status, body.bytes);
        self.login_outcome(head, outcome);
        Verdict::Allow
    }

    fn logging(&mut self, _head: &RequestHead, _summary: &ExchangeSummary) -> Vec<SecurityEvent> {
        std::mem::take(&mut self.events)
    }
}
