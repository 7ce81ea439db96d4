//! Fixtures shared by the access benches: the configuration (an RS256 JWT issuer and API keys on
//! one API route), the request head, and the credentials (a signed JWT and one API key among
//! 1001, created before the inspector loads the store; and a batch of distinct JWTs, each new to
//! the verifier).

use std::path::{Path, PathBuf};

use http::{HeaderMap, HeaderValue, Method, Version};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use palisade_access::{AccessStore, KeyHasher};
use palisade_core::RequestHead;

fn keys_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/keys")
}

/// The bench configuration; `route_extra` is added to the `api` route (e.g. a rate limit).
pub fn config(data_dir: &Path, route_extra: &str) -> palisade_config::Config {
    let public_pem = keys_dir().join("rsa_public.pem");
    let text = format!(
        r#"
data_dir = {data_dir:?}
[[listener]]
addr = "127.0.0.1:0"
[[upstream]]
name = "app"
servers = ["http://127.0.0.1:9"]
[access]
identity_secret = "bench-identity-secret"
[[access.jwt]]
name = "idp"
algorithms = ["RS256"]
pem_files = [{public_pem:?}]
issuer = "https://idp.test"
audience = ["shop-api"]
[[site]]
hosts = ["*"]
[[site.route]]
name = "api"
upstream = "app"
{route_extra}
[site.access]
api = true
[[site.access.rule]]
path = "/api/health"
policy = "public"
[[site.access.rule]]
path = "/api/items/{{id}}"
methods = ["POST", "PUT"]
roles = ["writer"]
"#,
        data_dir = data_dir.to_string_lossy(),
        public_pem = public_pem.to_string_lossy(),
    );
    palisade_config::parse(&text, Path::new("bench.toml")).expect("config")
}

/// `POST /api/items/42` on the `api` route with these headers.
pub fn head(headers: &HeaderMap) -> RequestHead {
    RequestHead {
        request_id: "0190c1d2-0000-7000-8000-000000000000".to_owned(),
        method: Method::POST,
        raw_target: "/api/items/42".to_owned(),
        version: Version::HTTP_11,
        headers: headers.clone(),
        client_addr: "192.0.2.10:40000".parse().expect("addr"),
        server_addr: "127.0.0.1:8080".parse().expect("addr"),
        host: "shop.test".to_owned(),
        tls: false,
        route: "api".to_owned(),
        client_cert_subject: None,
        context: Default::default(),
    }
}

/// The credentials, as request headers: a JWT (`authorization`) and an API key (`x-api-key`), the
/// key created among 1000 others in the store of `data_dir`.
pub fn credentials(data_dir: &Path) -> (HeaderMap, HeaderMap) {
    palisade_access::jwt::install_crypto_provider();
    let store = AccessStore::open(data_dir).expect("store");
    let hasher = KeyHasher::from_config(None, data_dir).expect("hasher");
    for i in 0..1000 {
        store
            .create_key(&hasher, &format!("filler-{i}"), &[], None)
            .expect("filler key");
    }
    let created = store
        .create_key(&hasher, "bench", &["writer".to_owned()], None)
        .expect("key");
    let private = std::fs::read(keys_dir().join("rsa_private.pem")).expect("key");
    let signing_key = EncodingKey::from_rsa_pem(&private).expect("rsa");
    let jwt = bearer(&signed_jwt(&signing_key, None));
    let mut api_key = HeaderMap::new();
    api_key.insert(
        "x-api-key",
        HeaderValue::from_str(&created.key).expect("value"),
    );
    (jwt, api_key)
}

/// `count` JWTs like the one of [`credentials`] that differ in their `jti`, as request headers:
/// each is new to a verifier (signed on every core; RSA signing takes a while).
pub fn distinct_jwts(count: usize) -> Vec<HeaderMap> {
    palisade_access::jwt::install_crypto_provider();
    let private = std::fs::read(keys_dir().join("rsa_private.pem")).expect("key");
    let signing_key = EncodingKey::from_rsa_pem(&private).expect("rsa");
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let per_thread = count.div_ceil(threads);
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..count)
            .step_by(per_thread.max(1))
            .map(|first| {
                let signing_key = &signing_key;
                scope.spawn(move || {
                    (first..(first + per_thread).min(count))
                        .map(|jti| bearer(&signed_jwt(signing_key, Some(jti))))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| worker.join().expect("signing thread"))
            .collect()
    })
}

/// An RS256 token for alice (role writer), valid for an hour, with `jti` when given.
fn signed_jwt(signing_key: &EncodingKey, jti: Option<usize>) -> String {
    let now = jsonwebtoken::get_current_timestamp();
    let mut claims = serde_json::json!({
        "sub": "alice", "iss": "https://idp.test", "aud": "shop-api",
        "exp": now + 3600,
        "iat": now,
        "roles": ["writer"], "scope": "items:write",
    });
    if let Some(jti) = jti {
        claims["jti"] = jti.to_string().into();
    }
    encode(&Header::new(Algorithm::RS256), &claims, signing_key).expect("token")
}

/// `Authorization: Bearer <token>`.
fn bearer(token: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        "authorization",
        HeaderValue::from_str(&format!("Bearer {token}")).expect("value"),
    );
    headers
}
