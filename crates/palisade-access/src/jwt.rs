//! JWT bearer tokens: HS256/384/512, RS256/384/512, PS256/384/512, ES256/384 and EdDSA, verified
//! with `jsonwebtoken` over `ring` (this crate's crypto provider for it, installed by
//! [`JwtVerifier::new`] or [`install_crypto_provider`]). `alg: none` never verifies (the library
//! has no such algorithm); a key only verifies the algorithms of its own family that the issuer
//! allows, so an RSA public key can never be used as an HMAC secret.
//!
//! Keys come from an HMAC secret, PEM files, JWK / JWK Set files, or a JWKS URL fetched in the
//! background: at start, every `jwks_refresh`, and early (at most every 30 s) when a token names
//! an unknown `kid`; failures retry with exponential backoff and keep the last good key set.
//!
//! Verified tokens are cached (like Envoy's `jwt_authn` token cache): a client sends the same token
//! on every request, and an RSA signature check costs tens of microseconds. An entry maps the exact
//! token text to the issuer and claims it verified to; `exp`, `nbf` and `iat` are checked again on
//! every use, and the whole cache is emptied when any JWKS key set changes (a key removed from a
//! key set must stop verifying at once). The cache is bounded in entries and token size.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arc_swap::ArcSwap;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use palisade_core::{AuthMethod, Identity};
use serde_json::Value;

use crate::AccessError;

/// Largest JWKS document accepted.
const MAX_JWKS_BYTES: u64 = 1 << 20;
/// Longest token looked at.
const MAX_TOKEN_BYTES: usize = 16 * 1024;
/// Earliest refresh after an unknown `kid`.
const KID_REFRESH_MS: i64 = 30_000;
/// Verified tokens kept at most (the cache is emptied when full): of more distinct tokens used in
/// turn, each is verified again on every use.
pub const CACHED_TOKENS: usize = 4096;
/// Longer tokens are verified every time instead of being cached.
const MAX_CACHED_TOKEN_BYTES: usize = 4096;

/// Why a token was refused (safe to log; never contains the token).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwtRejection {
    /// Not a JWT, or `alg` is none / unknown / not allowed.
    Malformed,
    /// No issuer accepts this algorithm, or no key verifies the signature.
    BadSignature,
    /// `exp` passed.
    Expired,
    /// `nbf` or `iat` in the future.
    NotYetValid,
    /// `iss` or `aud` do not match.
    WrongIssuerOrAudience,
    /// A required claim is missing or malformed.
    BadClaims,
}

impl JwtRejection {
    /// Short reason.
    pub fn as_str(self) -> &'static str {
        match self {
            JwtRejection::Malformed => "malformed token or algorithm not allowed",
            JwtRejection::BadSignature => "token signature not verified",
            JwtRejection::Expired => "token expired",
            JwtRejection::NotYetValid => "token not yet valid",
            JwtRejection::WrongIssuerOrAudience => "token issuer or audience not accepted",
            JwtRejection::BadClaims => "token claims missing or malformed",
        }
    }
}

/// A verified token.
#[derive(Debug, Clone)]
pub struct VerifiedToken {
    /// The caller.
    pub identity: Identity,
    /// The algorithm the token was signed with.
    pub algorithm: &'static str,
    /// Name of the issuer entry that verified it.
    pub issuer: Arc<str>,
}

struct VerificationKey {
    kid: Option<String>,
    key: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for VerificationKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerificationKey")
            .field("kid", &self.kid)
            .field("algorithms", &self.validation.algorithms)
            .finish()
    }
}

#[derive(Debug)]
struct Jwks {
    url: String,
    refresh: Duration,
    keys: ArcSwap<Vec<VerificationKey>>,
    /// Time of the last early refresh request (ms); the fetcher also writes it.
    last_kid_refresh_ms: AtomicI64,
    wake: std::sync::Mutex<Option<std::sync::mpsc::Sender<()>>>,
}

#[derive(Debug)]
struct Issuer {
    name: Arc<str>,
    algorithms: Vec<Algorithm>,
    base: Validation,
    static_keys: Vec<VerificationKey>,
    jwks: Option<Arc<Jwks>>,
    leeway_secs: u64,
    roles_claim: Vec<String>,
    scopes_claim: Vec<String>,
    role_map: BTreeMap<String, String>,
}

/// Verifies bearer tokens for every configured issuer.
#[derive(Debug, Default)]
pub struct JwtVerifier {
    issuers: Vec<Issuer>,
    cache: Mutex<VerifiedCache>,
}

/// Tokens whose signature and claims verified, by exact text (see the module docs).
#[derive(Debug, Default)]
struct VerifiedCache {
    /// The JWKS key sets the entries were verified under, one per issuer with a JWKS URL.
    key_sets: Vec<Arc<Vec<VerificationKey>>>,
    entries: HashMap<Box<str>, CachedToken>,
}

impl VerifiedCache {
    /// Empties the cache unless `key_sets` are the ones its entries were verified under. The
    /// cache holds those key sets, so their allocations cannot be reused by newer ones.
    fn adopt(&mut self, key_sets: Vec<Arc<Vec<VerificationKey>>>) {
        let same = self.key_sets.len() == key_sets.len()
            && self
                .key_sets
                .iter()
                .zip(&key_sets)
                .all(|(old, new)| Arc::ptr_eq(old, new));
        if !same {
            self.entries.clear();
            self.key_sets = key_sets;
        }
    }
}

#[derive(Debug)]
struct CachedToken {
    issuer: usize,
    algorithm: Algorithm,
    claims: Value,
}

/// The textual name of an algorithm (`RS256`, `EdDSA`).
pub fn algorithm_name(algorithm: Algorithm) -> &'static str {
    match algorithm {
        Algorithm::HS256 => "HS256",
        Algorithm::HS384 => "HS384",
        Algorithm::HS512 => "HS512",
        Algorithm::ES256 => "ES256",
        Algorithm::ES384 => "ES384",
        Algorithm::RS256 => "RS256",
        Algorithm::RS384 => "RS384",
        Algorithm::RS512 => "RS512",
        Algorithm::PS256 => "PS256",
        Algorithm::PS384 => "PS384",
        Algorithm::PS512 => "PS512",
        Algorithm::EdDSA => "EdDSA",
        _ => "unknown",
    }
}

fn parse_algorithm(issuer: &str, text: &str) -> Result<Algorithm, AccessError> {
    if text.eq_ignore_ascii_case("none") {
        return Err(AccessError::jwt_key(
            issuer,
            "algorithm \"none\" is never accepted",
        ));
    }
    let canonical = if text.eq_ignore_ascii_case("eddsa") {
        "EdDSA".to_owned()
    } else {
        text.to_ascii_uppercase()
    };
    canonical
        .parse::<Algorithm>()
        .map_err(|_| AccessError::jwt_key(issuer, format!("unknown algorithm {text:?}")))
}

/// Readies the cryptography `jsonwebtoken` signs and verifies with (ring). [`JwtVerifier::new`]
/// does it; call it before signing tokens with `jsonwebtoken` in a process that has not built a
/// verifier yet (tests, benches). Idempotent.
pub fn install_crypto_provider() {
    crate::jwt_crypto::install();
}

impl JwtVerifier {
    /// Builds the verifier; fetches every JWKS URL once (a failure is logged and retried in the
    /// background, tokens fail until a key set arrives) and starts one refresh thread per URL.
    pub fn new(issuers: &[palisade_config::JwtIssuer]) -> Result<Self, AccessError> {
        install_crypto_provider();
        let mut built = Vec::with_capacity(issuers.len());
        for config in issuers {
            built.push(Issuer::new(config)?);
        }
        for issuer in &built {
            if let Some(jwks) = &issuer.jwks {
                start_refresher(Arc::clone(jwks), issuer.clone_settings());
            }
        }
        Ok(JwtVerifier {
            issuers: built,
            cache: Mutex::default(),
        })
    }

    /// Whether any issuer is configured.
    pub fn is_enabled(&self) -> bool {
        !self.issuers.is_empty()
    }

    /// Verifies `token` (without the `Bearer ` prefix) at `now_secs`.
    pub fn verify(&self, token: &str, now_secs: u64) -> Result<VerifiedToken, JwtRejection> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(JwtRejection::Malformed);
        }
        if let Some(cached) = self.cached(token, now_secs) {
            return cached;
        }
        let header = jsonwebtoken::decode_header(token).map_err(|_| JwtRejection::Malformed)?;
        let mut worst = JwtRejection::BadSignature;
        let mut any_issuer = false;
        for (index, issuer) in self
            .issuers
            .iter()
            .enumerate()
            .filter(|(_, i)| i.algorithms.contains(&header.alg))
        {
            any_issuer = true;
            let jwks_keys = issuer.jwks.as_ref().map(|jwks| jwks.keys.load());
            let candidates = issuer
                .static_keys
                .iter()
                .chain(jwks_keys.iter().flat_map(|keys| keys.iter()))
                .filter(|key| match (&header.kid, &key.kid) {
                    (Some(wanted), Some(have)) => wanted == have,
                    _ => true,
                })
                .filter(|key| key.validation.algorithms.contains(&header.alg));
            let mut tried = false;
            for key in candidates {
                tried = true;
                match jsonwebtoken::decode::<Value>(token, &key.key, &key.validation) {
                    Ok(data) => {
                        let verified = issuer.identity(data.claims.clone(), header.alg, now_secs);
                        if verified.is_ok() {
                            self.remember(token, index, header.alg, data.claims);
                        }
                        return verified;
                    }
                    Err(error) => {
                        let rejection = classify(&error);
                        if rejection != JwtRejection::BadSignature {
                            // The signature was good; the claims were not. No other key changes that.
                            return Err(rejection);
                        }
                    }
                }
            }
            if !tried
                && header.kid.is_some()
                && let Some(jwks) = &issuer.jwks
            {
                jwks.request_refresh(now_secs);
            }
            worst = JwtRejection::BadSignature;
        }
        if !any_issuer {
            return Err(JwtRejection::Malformed);
        }
        Err(worst)
    }
}

impl JwtVerifier {
    /// The JWKS key sets in use now, one per issuer with a JWKS URL.
    fn key_sets(&self) -> Vec<Arc<Vec<VerificationKey>>> {
        self.issuers
            .iter()
            .filter_map(|issuer| issuer.jwks.as_ref().map(|jwks| jwks.keys.load_full()))
            .collect()
    }

    /// The verdict on a token verified before under the same key sets: its time claims are
    /// checked again at `now_secs`. `None` when it is not cached.
    fn cached(&self, token: &str, now_secs: u64) -> Option<Result<VerifiedToken, JwtRejection>> {
        if token.len() > MAX_CACHED_TOKEN_BYTES {
            return None;
        }
        let key_sets = self.key_sets();
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache.adopt(key_sets);
        let entry = cache.entries.get(token)?;
        let issuer = &self.issuers[entry.issuer];
        let seconds = |name: &str| entry.claims.get(name).and_then(Value::as_f64);
        let leeway = issuer.leeway_secs as f64;
        let now = now_secs as f64;
        if seconds("exp").is_some_and(|exp| exp + leeway < now) {
            return Some(Err(JwtRejection::Expired));
        }
        if seconds("nbf").is_some_and(|nbf| nbf > now + leeway) {
            return Some(Err(JwtRejection::NotYetValid));
        }
        Some(issuer.identity(entry.claims.clone(), entry.algorithm, now_secs))
    }

    /// Caches a token that verified (bounded: a full cache is emptied first).
    fn remember(&self, token: &str, issuer: usize, algorithm: Algorithm, claims: Value) {
        if token.len() > MAX_CACHED_TOKEN_BYTES {
            return;
        }
        let key_sets = self.key_sets();
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache.adopt(key_sets);
        if cache.entries.len() >= CACHED_TOKENS {
            cache.entries.clear();
        }
        cache.entries.insert(
            token.into(),
            CachedToken {
                issuer,
                algorithm,
                claims,
            },
        );
    }
}

fn classify(error: &jsonwebtoken::errors::Error) -> JwtRejection {
    use jsonwebtoken::errors::ErrorKind;
    match error.kind() {
        ErrorKind::ExpiredSignature => JwtRejection::Expired,
        ErrorKind::ImmatureSignature => JwtRejection::NotYetValid,
        ErrorKind::InvalidIssuer | ErrorKind::InvalidAudience => {
            JwtRejection::WrongIssuerOrAudience
        }
        ErrorKind::MissingRequiredClaim(_)
        | ErrorKind::InvalidClaimFormat(_)
        | ErrorKind::Json(_) => JwtRejection::BadClaims,
        ErrorKind::InvalidAlgorithm
        | ErrorKind::InvalidToken
        | ErrorKind::Base64(_)
        | ErrorKind::Utf8(_) => JwtRejection::Malformed,
        _ => JwtRejection::BadSignature,
    }
}

/// What to do with a JWK that can never verify (an RSA key ring does not accept): refuse the
/// file it is in (keys the operator configured), or skip it (a JWKS the issuer publishes).
#[derive(Debug, Clone, Copy)]
enum KeyCheck {
    Refuse,
    Skip,
}

/// Settings the refresher needs to turn JWKs into keys.
#[derive(Debug, Clone)]
struct KeySettings {
    name: Arc<str>,
    algorithms: Vec<Algorithm>,
    base: Validation,
}

impl Issuer {
    fn new(config: &palisade_config::JwtIssuer) -> Result<Self, AccessError> {
        let name: Arc<str> = Arc::from(config.name.as_str());
        if config.algorithms.is_empty() {
            return Err(AccessError::jwt_key(
                &config.name,
                "no algorithms; expected e.g. algorithms = [\"RS256\"]",
            ));
        }
        let algorithms = config
            .algorithms
            .iter()
            .map(|a| parse_algorithm(&config.name, a))
            .collect::<Result<Vec<_>, _>>()?;
        let mut base = Validation::new(algorithms[0]);
        base.algorithms = algorithms.clone();
        base.leeway = config.leeway.as_secs();
        base.validate_nbf = true;
        base.validate_exp = true;
        if let Some(issuer) = &config.issuer {
            base.set_issuer(&[issuer]);
        }
        if config.audience.is_empty() {
            base.validate_aud = false;
        } else {
            base.set_audience(&config.audience);
        }
        let settings = KeySettings {
            name: Arc::clone(&name),
            algorithms: algorithms.clone(),
            base: base.clone(),
        };
        let mut static_keys = Vec::new();
        if let Some(secret) = &config.hmac_secret {
            let key = DecodingKey::from_secret(secret.expose().as_bytes())
                .map_err(|e| AccessError::jwt_key(&config.name, format!("hmac_secret: {e}")))?;
            static_keys.extend(settings.key(None, key, None));
        }
        for path in &config.pem_files {
            let pem = std::fs::read(path)
                .map_err(|e| AccessError::io("cannot read the JWT key file", path, e))?;
            let key = DecodingKey::from_rsa_pem(&pem)
                .or_else(|_| DecodingKey::from_ec_pem(&pem))
                .or_else(|_| DecodingKey::from_ed_pem(&pem))
                .map_err(|_| {
                    AccessError::jwt_key(
                        &config.name,
                        format!(
                            "{}: not an RSA, EC or Ed25519 public key in PEM",
                            path.display()
                        ),
                    )
                })?;
            if let Some(why) = crate::jwt_crypto::unusable_key(&key) {
                return Err(AccessError::jwt_key(
                    &config.name,
                    format!("{}: {why}", path.display()),
                ));
            }
            static_keys.extend(settings.key(None, key, None));
        }
        for path in &config.jwk_files {
            let text = std::fs::read_to_string(path)
                .map_err(|e| AccessError::io("cannot read the JWK file", path, e))?;
            static_keys.extend(
                settings
                    .keys_from_jwk_text(&text, KeyCheck::Refuse)
                    .map_err(|message| {
                        AccessError::jwt_key(&config.name, format!("{}: {message}", path.display()))
                    })?,
            );
        }
        let jwks = config.jwks_url.as_ref().map(|url| {
            Arc::new(Jwks {
                url: url.clone(),
                refresh: config.jwks_refresh.max(Duration::from_secs(1)),
                keys: ArcSwap::from_pointee(Vec::new()),
                last_kid_refresh_ms: AtomicI64::new(0),
                wake: std::sync::Mutex::new(None),
            })
        });
        if let Some(url) = &config.jwks_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(AccessError::jwt_key(
                &config.name,
                format!("jwks_url {url:?}: expected an http:// or https:// URL"),
            ));
        }
        if static_keys.is_empty() && jwks.is_none() {
            return Err(AccessError::jwt_key(
                &config.name,
                "no usable key for the configured algorithms; expected hmac_secret, pem_files, jwk_files or jwks_url",
            ));
        }
        Ok(Issuer {
            name,
            algorithms,
            base,
            static_keys,
            jwks,
            leeway_secs: config.leeway.as_secs(),
            roles_claim: config.roles_claim.split('.').map(str::to_owned).collect(),
            scopes_claim: config.scopes_claim.split('.').map(str::to_owned).collect(),
            role_map: config.role_map.clone(),
        })
    }

    fn clone_settings(&self) -> KeySettings {
        KeySettings {
            name: Arc::clone(&self.name),
            algorithms: self.algorithms.clone(),
            base: self.base.clone(),
        }
    }

    fn identity(
        &self,
        claims: Value,
        algorithm: Algorithm,
        now_secs: u64,
    ) -> Result<VerifiedToken, JwtRejection> {
        if let Some(iat) = claims.get("iat") {
            let iat = iat.as_f64().ok_or(JwtRejection::BadClaims)?;
            if iat > (now_secs + self.leeway_secs) as f64 {
                return Err(JwtRejection::NotYetValid);
            }
        }
        let subject = ["sub", "client_id", "azp"]
            .iter()
            .find_map(|name| claims.get(*name).and_then(Value::as_str))
            .filter(|s| !s.is_empty())
            .ok_or(JwtRejection::BadClaims)?
            .to_owned();
        let roles = string_list(claim_at(&claims, &self.roles_claim))
            .into_iter()
            .map(|role| self.role_map.get(&role).cloned().unwrap_or(role))
            .collect();
        let mut scopes = string_list(claim_at(&claims, &self.scopes_claim));
        if scopes.is_empty() && self.scopes_claim == ["scope"] {
            scopes = string_list(claims.get("scp"));
        }
        Ok(VerifiedToken {
            identity: Identity {
                subject,
                method: AuthMethod::Jwt,
                key_id: None,
                roles,
                scopes,
            },
            algorithm: algorithm_name(algorithm),
            issuer: Arc::clone(&self.name),
        })
    }
}

fn claim_at<'v>(claims: &'v Value, path: &[String]) -> Option<&'v Value> {
    path.iter().try_fold(claims, |value, name| value.get(name))
}

/// A claim as a list: a string array, or a space-separated string.
fn string_list(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(text)) => text.split_whitespace().map(str::to_owned).collect(),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

impl KeySettings {
    /// A verification key for the allowed algorithms of the key's family (none when no allowed
    /// algorithm fits the key; `jwk_alg` narrows it to one).
    fn key(
        &self,
        kid: Option<String>,
        key: DecodingKey,
        jwk_alg: Option<Algorithm>,
    ) -> Option<VerificationKey> {
        let family = key.family();
        let family = family.algorithms();
        let algorithms: Vec<Algorithm> = self
            .algorithms
            .iter()
            .copied()
            .filter(|a| family.contains(a) && jwk_alg.is_none_or(|only| only == *a))
            .collect();
        if algorithms.is_empty() {
            return None;
        }
        let mut validation = self.base.clone();
        validation.algorithms = algorithms;
        Some(VerificationKey {
            kid,
            key,
            validation,
        })
    }

    /// The verification keys of a JWK or JWK Set; a key that can never verify is refused (`Err`)
    /// or skipped with a warning, as `unusable` says.
    fn keys_from_jwk_text(
        &self,
        text: &str,
        unusable: KeyCheck,
    ) -> Result<Vec<VerificationKey>, String> {
        let value: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
        let jwks: Vec<Jwk> = if value.get("keys").is_some() {
            serde_json::from_value::<JwkSet>(value)
                .map_err(|e| format!("not a JWK Set: {e}"))?
                .keys
        } else {
            vec![serde_json::from_value::<Jwk>(value).map_err(|e| format!("not a JWK: {e}"))?]
        };
        let mut keys = Vec::new();
        for jwk in &jwks {
            if matches!(
                jwk.common.public_key_use,
                Some(jsonwebtoken::jwk::PublicKeyUse::Encryption)
            ) {
                continue;
            }
            let Ok(key) = DecodingKey::from_jwk(jwk) else {
                tracing::warn!(issuer = %self.name, kid = ?jwk.common.key_id, "JWK skipped: unsupported key");
                continue;
            };
            if let Some(why) = crate::jwt_crypto::unusable_key(&key) {
                match unusable {
                    KeyCheck::Refuse => {
                        return Err(format!("key {:?}: {why}", jwk.common.key_id));
                    }
                    KeyCheck::Skip => {
                        tracing::warn!(issuer = %self.name, kid = ?jwk.common.key_id, %why, "JWK skipped");
                        continue;
                    }
                }
            }
            let jwk_alg = jwk
                .common
                .key_algorithm
                .and_then(|a| a.to_string().parse::<Algorithm>().ok());
            keys.extend(self.key(jwk.common.key_id.clone(), key, jwk_alg));
        }
        Ok(keys)
    }
}

impl Jwks {
    fn request_refresh(&self, now_secs: u64) {
        let now_ms = i64::try_from(now_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
        let last = self.last_kid_refresh_ms.load(Ordering::Relaxed);
        if now_ms - last < KID_REFRESH_MS {
            return;
        }
        if self
            .last_kid_refresh_ms
            .compare_exchange(last, now_ms, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
            && let Some(wake) = self
                .wake
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .as_ref()
        {
            let _ = wake.send(());
        }
    }
}

fn fetch_jwks(
    agent: &ureq::Agent,
    settings: &KeySettings,
    url: &str,
) -> Result<Vec<VerificationKey>, String> {
    let mut response = agent.get(url).call().map_err(|e| e.to_string())?;
    let text = response
        .body_mut()
        .with_config()
        .limit(MAX_JWKS_BYTES)
        .read_to_string()
        .map_err(|e| e.to_string())?;
    let keys = settings.keys_from_jwk_text(&text, KeyCheck::Skip)?;
    if keys.is_empty() {
        return Err("no usable key for the configured algorithms".to_owned());
    }
    Ok(keys)
}

/// Fetches once now, then refreshes in a background thread until the verifier is dropped.
fn start_refresher(jwks: Arc<Jwks>, settings: KeySettings) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(5)))
        .build()
        .into();
    let first = fetch_jwks(&agent, &settings, &jwks.url);
    let mut failures = 0u32;
    match first {
        Ok(keys) => {
            tracing::info!(issuer = %settings.name, keys = keys.len(), "JWKS loaded");
            jwks.keys.store(Arc::new(keys));
        }
        Err(error) => {
            failures = 1;
            tracing::warn!(issuer = %settings.name, url = %jwks.url, %error, "JWKS fetch failed; retrying in the background");
        }
    }
    let (wake_tx, wake_rx) = std::sync::mpsc::channel::<()>();
    *jwks
        .wake
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(wake_tx);
    let weak = Arc::downgrade(&jwks);
    drop(jwks);
    let spawned = std::thread::Builder::new()
        .name("palisade-jwks".to_owned())
        .spawn(move || {
            loop {
                let Some(jwks) = weak.upgrade() else { return };
                let wait = if failures == 0 {
                    jwks.refresh
                } else {
                    // 1 s, 2 s, 4 s, … up to the refresh interval.
                    Duration::from_secs(1u64 << (failures - 1).min(16)).min(jwks.refresh)
                };
                drop(jwks);
                // Wake every second to notice the verifier went away.
                let mut waited = Duration::ZERO;
                while waited < wait {
                    match wake_rx.recv_timeout(Duration::from_secs(1)) {
                        Ok(()) => break,
                        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                            waited += Duration::from_secs(1);
                            if weak.strong_count() == 0 {
                                return;
                            }
                        }
                        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return,
                    }
                }
                let Some(jwks) = weak.upgrade() else { return };
                match fetch_jwks(&agent, &settings, &jwks.url) {
                    Ok(keys) => {
                        failures = 0;
                        tracing::debug!(issuer = %settings.name, keys = keys.len(), "JWKS refreshed");
                        jwks.keys.store(Arc::new(keys));
                    }
                    Err(error) => {
                        failures = failures.saturating_add(1);
                        tracing::warn!(issuer = %settings.name, url = %jwks.url, %error, "JWKS refresh failed; keeping the last key set");
                    }
                }
            }
        });
    if let Err(error) = spawned {
        tracing::error!(%error, "cannot start the JWKS refresh thread");
    }
}
