//! Added latency of an authenticated request through the access inspector's phase 1 (the whole
//! `request_headers` hook: authentication, identity, signed headers, rule matching): an RS256 JWT
//! verified with a cached key, and an API key looked up and compared by keyed hash. Also the bare
//! JWT verification and key lookup. Issue target: p50 <= 50 µs.

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use http::{HeaderMap, HeaderValue, Method, Version};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use palisade_access::{AccessControl, AccessStore, KeyHasher};
use palisade_core::{Inspector, RequestHead};

fn keys_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/keys")
}

fn head(headers: HeaderMap) -> RequestHead {
    RequestHead {
        request_id: "0190c1d2-0000-7000-8000-000000000000".to_owned(),
        method: Method::POST,
        raw_target: "/api/items/42".to_owned(),
        version: Version::HTTP_11,
        headers,
        client_addr: "192.0.2.10:40000".parse().expect("addr"),
        server_addr: "127.0.0.1:8080".parse().expect("addr"),
        host: "shop.test".to_owned(),
        tls: false,
        route: "api".to_owned(),
        client_cert_subject: None,
        context: Default::default(),
    }
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let public_pem = keys_dir().join("rsa_public.pem");
    let config_text = format!(
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
        data_dir = dir.path().to_string_lossy(),
        public_pem = public_pem.to_string_lossy(),
    );
    let config =
        palisade_config::parse(&config_text, std::path::Path::new("bench.toml")).expect("config");

    // An API key, created before the inspector loads the store.
    let store = AccessStore::open(dir.path()).expect("store");
    let hasher = KeyHasher::from_config(None, dir.path()).expect("hasher");
    for i in 0..1000 {
        store
            .create_key(&hasher, &format!("filler-{i}"), &[], None)
            .expect("filler key");
    }
    let created = store
        .create_key(&hasher, "bench", &["writer".to_owned()], None)
        .expect("key");
    let access = AccessControl::new(&config)
        .expect("access")
        .expect("enabled");
    assert_eq!(access.api_key_count(), 1001);

    let claims = serde_json::json!({
        "sub": "alice", "iss": "https://idp.test", "aud": "shop-api",
        "exp": jsonwebtoken::get_current_timestamp() + 3600,
        "iat": jsonwebtoken::get_current_timestamp(),
        "roles": ["writer"], "scope": "items:write",
    });
    let private = std::fs::read(keys_dir().join("rsa_private.pem")).expect("key");
    let token = encode(
        &Header::new(Algorithm::RS256),
        &claims,
        &EncodingKey::from_rsa_pem(&private).expect("rsa"),
    )
    .expect("token");

    let mut jwt_headers = HeaderMap::new();
    jwt_headers.insert(
        "authorization",
        HeaderValue::from_str(&format!("Bearer {token}")).expect("value"),
    );
    let mut key_headers = HeaderMap::new();
    key_headers.insert(
        "x-api-key",
        HeaderValue::from_str(&created.key).expect("value"),
    );

    let jwt_head = head(jwt_headers);
    let key_head = head(key_headers);
    // Sanity: both are allowed.
    for h in [&jwt_head, &key_head] {
        let mut inspection = access.start(h);
        assert_eq!(inspection.request_headers(h), palisade_core::Verdict::Allow);
    }

    let mut group = c.benchmark_group("access_phase1");
    group.bench_function("rs256_jwt_cached_key", |b| {
        b.iter(|| {
            let h = RequestHead {
                context: Default::default(),
                ..jwt_head.clone()
            };
            let mut inspection = access.start(&h);
            black_box(inspection.request_headers(black_box(&h)))
        })
    });
    group.bench_function("api_key_1001_keys", |b| {
        b.iter(|| {
            let h = RequestHead {
                context: Default::default(),
                ..key_head.clone()
            };
            let mut inspection = access.start(&h);
            black_box(inspection.request_headers(black_box(&h)))
        })
    });
    group.bench_function("baseline_head_clone", |b| {
        b.iter(|| {
            black_box(RequestHead {
                context: Default::default(),
                ..key_head.clone()
            })
        })
    });
    group.finish();

    let mut group = c.benchmark_group("access_authenticate");
    group.bench_function("rs256_jwt_cached_key", |b| {
        b.iter(|| black_box(access.authenticate(black_box(&jwt_head))).expect("ok"))
    });
    group.bench_function("api_key_1001_keys", |b| {
        b.iter(|| black_box(access.authenticate(black_box(&key_head))).expect("ok"))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
