//! JWT verification against real keys: every algorithm, claim checks, algorithm confusion,
//! `alg: none`, forged signatures, JWK modulus/exponent keys, short HMAC keys, RSA keys too small
//! to load, and a JWKS served over a local socket.

use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode, jwk::Jwk, jwk::JwkSet};
use palisade_access::jwt::{JwtRejection, JwtVerifier};
use serde_json::json;

fn key_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/keys")
        .join(name)
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(key_path(name)).expect("test key")
}

fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

fn issuer(extra: serde_json::Value) -> palisade_config::JwtIssuer {
    let mut base = json!({
        "name": "idp",
        "algorithms": ["RS256", "PS256", "ES256", "EdDSA"],
        "pem_files": [key_path("rsa_public.pem"), key_path("ec_public.pem"), key_path("ed_public.pem")],
        "issuer": "https://idp.test",
        "audience": ["shop-api"],
        "roles_claim": "realm_access.roles",
        "role_map": { "shop-admin": "admin" }
    });
    for (k, v) in extra.as_object().expect("object") {
        base[k] = v.clone();
    }
    serde_json::from_value(base).expect("issuer config")
}

fn claims(extra: serde_json::Value) -> serde_json::Value {
    let mut base = json!({
        "sub": "alice",
        "iss": "https://idp.test",
        "aud": "shop-api",
        "exp": now() + 600,
        "iat": now(),
        "realm_access": { "roles": ["shop-admin", "reader"] },
        "scope": "items:read items:write"
    });
    for (k, v) in extra.as_object().expect("object") {
        base[k] = v.clone();
    }
    base
}

fn sign(alg: Algorithm, key: &EncodingKey, claims: &serde_json::Value) -> String {
    // Tests may sign before any verifier exists (which readies the crypto otherwise).
    palisade_access::jwt::install_crypto_provider();
    encode(&Header::new(alg), claims, key).expect("sign")
}

fn rsa() -> EncodingKey {
    EncodingKey::from_rsa_pem(&read("rsa_private.pem")).expect("rsa key")
}

#[test]
fn every_family_verifies_and_maps_roles_and_scopes() {
    let verifier = JwtVerifier::new(&[issuer(json!({}))]).expect("verifier");
    let c = claims(json!({}));
    let tokens = [
        (Algorithm::RS256, sign(Algorithm::RS256, &rsa(), &c)),
        (Algorithm::PS256, sign(Algorithm::PS256, &rsa(), &c)),
        (
            Algorithm::ES256,
            sign(
                Algorithm::ES256,
                &EncodingKey::from_ec_pem(&read("ec_private.pem")).expect("ec"),
                &c,
            ),
        ),
        (
            Algorithm::EdDSA,
            sign(
                Algorithm::EdDSA,
                &EncodingKey::from_ed_pem(&read("ed_private.pem")).expect("ed"),
                &c,
            ),
        ),
    ];
    for (alg, token) in tokens {
        let verified = verifier
            .verify(&token, now())
            .unwrap_or_else(|e| panic!("{alg:?}: {e:?}"));
        assert_eq!(verified.identity.subject, "alice");
        assert_eq!(verified.identity.roles, ["admin", "reader"]);
        assert_eq!(verified.identity.scopes, ["items:read", "items:write"]);
        assert_eq!(
            verified.algorithm,
            palisade_access::jwt::algorithm_name(alg)
        );
    }
}

#[test]
fn hmac_tokens_with_a_shared_secret() {
    let config = issuer(json!({
        "algorithms": ["HS512"],
        "pem_files": [],
        "hmac_secret": "a-long-shared-secret-for-tests-only"
    }));
    let verifier = JwtVerifier::new(&[config]).expect("verifier");
    let key = EncodingKey::from_secret(b"a-long-shared-secret-for-tests-only").expect("key");
    let token = sign(Algorithm::HS512, &key, &claims(json!({})));
    assert!(verifier.verify(&token, now()).is_ok());
    let other = sign(
        Algorithm::HS512,
        &EncodingKey::from_secret(b"guess").expect("key"),
        &claims(json!({})),
    );
    assert_eq!(
        verifier.verify(&other, now()).err(),
        Some(JwtRejection::BadSignature)
    );
    // HS256 is not in this issuer's allowlist.
    let hs256 = sign(Algorithm::HS256, &key, &claims(json!({})));
    assert_eq!(
        verifier.verify(&hs256, now()).err(),
        Some(JwtRejection::Malformed)
    );
}

#[test]
fn claims_are_enforced_with_clock_skew() {
    let verifier = JwtVerifier::new(&[issuer(json!({ "leeway": "30s" }))]).expect("verifier");
    let check = |extra: serde_json::Value| {
        verifier.verify(&sign(Algorithm::RS256, &rsa(), &claims(extra)), now())
    };
    assert_eq!(
        check(json!({ "exp": now() - 120 })).err(),
        Some(JwtRejection::Expired)
    );
    assert!(
        check(json!({ "exp": now() - 10 })).is_ok(),
        "within the 30 s skew"
    );
    assert_eq!(
        check(json!({ "nbf": now() + 120 })).err(),
        Some(JwtRejection::NotYetValid)
    );
    assert!(check(json!({ "nbf": now() + 10 })).is_ok());
    assert_eq!(
        check(json!({ "iat": now() + 120 })).err(),
        Some(JwtRejection::NotYetValid)
    );
    assert_eq!(
        check(json!({ "iss": "https://evil.test" })).err(),
        Some(JwtRejection::WrongIssuerOrAudience)
    );
    assert_eq!(
        check(json!({ "aud": "other-api" })).err(),
        Some(JwtRejection::WrongIssuerOrAudience)
    );
    let mut no_exp = claims(json!({}));
    no_exp.as_object_mut().expect("object").remove("exp");
    assert_eq!(
        verifier
            .verify(&sign(Algorithm::RS256, &rsa(), &no_exp), now())
            .err(),
        Some(JwtRejection::BadClaims)
    );
}

/// A token that verified is cached, but its time claims are checked again on every use, and a
/// token differing only in its signature is never answered from the cache.
#[test]
fn cached_tokens_still_expire_and_forged_copies_are_refused() {
    let verifier = JwtVerifier::new(&[issuer(json!({ "leeway": "30s" }))]).expect("verifier");
    let token = sign(
        Algorithm::RS256,
        &rsa(),
        &claims(json!({ "exp": now() + 60 })),
    );
    assert!(verifier.verify(&token, now()).is_ok(), "first use verifies");
    assert!(
        verifier.verify(&token, now()).is_ok(),
        "second use (cached)"
    );
    assert_eq!(
        verifier.verify(&token, now() + 60 + 31).err(),
        Some(JwtRejection::Expired),
        "a cached token past exp + leeway is expired"
    );
    assert!(
        verifier.verify(&token, now() + 60 + 29).is_ok(),
        "within the skew"
    );
    let (signed, signature) = token.rsplit_once('.').expect("three parts");
    let mut forged_signature = signature.as_bytes().to_vec();
    forged_signature[10] = if forged_signature[10] == b'A' {
        b'B'
    } else {
        b'A'
    };
    let forged = format!(
        "{signed}.{}",
        String::from_utf8(forged_signature).expect("ascii")
    );
    assert_eq!(
        verifier.verify(&forged, now()).err(),
        Some(JwtRejection::BadSignature)
    );
}

#[test]
fn none_and_algorithm_confusion_are_refused() {
    let verifier = JwtVerifier::new(&[issuer(
        json!({ "algorithms": ["RS256", "HS256"], "hmac_secret": "s3cret-for-hs256-tests" }),
    )])
    .expect("verifier");
    let b64 = |v: &serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    let none = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT"})),
        b64(&claims(json!({})))
    );
    assert_eq!(
        verifier.verify(&none, now()).err(),
        Some(JwtRejection::Malformed)
    );
    let none_upper = format!(
        "{}.{}.",
        b64(&json!({"alg": "NONE"})),
        b64(&claims(json!({})))
    );
    assert_eq!(
        verifier.verify(&none_upper, now()).err(),
        Some(JwtRejection::Malformed)
    );
    // HS256 "signed" with the RSA public key as the HMAC secret: the RSA key never verifies HMAC.
    let confused = sign(
        Algorithm::HS256,
        &EncodingKey::from_secret(&read("rsa_public.pem")).expect("key"),
        &claims(json!({})),
    );
    assert_eq!(
        verifier.verify(&confused, now()).err(),
        Some(JwtRejection::BadSignature)
    );
    assert!(JwtVerifier::new(&[issuer(json!({ "algorithms": ["none"] }))]).is_err());
    assert_eq!(
        verifier.verify("not-a-token", now()).err(),
        Some(JwtRejection::Malformed)
    );
    assert_eq!(
        verifier.verify(&"a".repeat(100_000), now()).err(),
        Some(JwtRejection::Malformed)
    );
}

/// Serves `body` to every request; counts requests.
fn serve_jwks(body: String) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!(
        "http://{}/.well-known/jwks.json",
        listener.local_addr().expect("addr")
    );
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&hits);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            counter.fetch_add(1, Ordering::SeqCst);
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
                body.len(),
                body
            );
        }
    });
    (url, hits)
}

#[test]
fn jwks_url_keys_are_selected_by_kid() {
    palisade_access::jwt::install_crypto_provider();
    let mut jwk = Jwk::from_encoding_key(&rsa(), Algorithm::RS256).expect("jwk");
    jwk.common.key_id = Some("key-1".to_owned());
    let set = JwkSet { keys: vec![jwk] };
    let (url, hits) = serve_jwks(serde_json::to_string(&set).expect("json"));
    let verifier = JwtVerifier::new(&[issuer(
        json!({ "pem_files": [], "jwks_url": url, "algorithms": ["RS256"] }),
    )])
    .expect("verifier");
    assert_eq!(hits.load(Ordering::SeqCst), 1, "fetched once at start");
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("key-1".to_owned());
    let token = encode(&header, &claims(json!({})), &rsa()).expect("sign");
    assert_eq!(
        verifier
            .verify(&token, now())
            .expect("verified")
            .identity
            .subject,
        "alice"
    );
    header.kid = Some("unknown".to_owned());
    let token = encode(&header, &claims(json!({})), &rsa()).expect("sign");
    assert_eq!(
        verifier.verify(&token, now()).err(),
        Some(JwtRejection::BadSignature)
    );
}

#[test]
fn an_unreachable_jwks_url_fails_tokens_not_startup() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/jwks", listener.local_addr().expect("addr"));
    drop(listener);
    let verifier = JwtVerifier::new(&[issuer(
        json!({ "pem_files": [], "jwks_url": url, "algorithms": ["RS256"] }),
    )])
    .expect("verifier starts without keys");
    let token = sign(Algorithm::RS256, &rsa(), &claims(json!({})));
    assert_eq!(
        verifier.verify(&token, now()).err(),
        Some(JwtRejection::BadSignature)
    );
}

/// Every algorithm of every family, signed and verified through the ring provider: RSA
/// PKCS#1 v1.5 and PSS with each hash, both NIST curves, Ed25519 and HMAC with each hash.
#[test]
fn every_algorithm_verifies() {
    let secret = "a-long-shared-secret-for-tests-only";
    let verifier = verifier_of_every_algorithm(secret);
    for (alg, key) in signing_keys(secret) {
        let token = sign(alg, &key, &claims(json!({})));
        let verified = verifier
            .verify(&token, now())
            .unwrap_or_else(|e| panic!("{alg:?}: {e:?}"));
        assert_eq!(
            verified.algorithm,
            palisade_access::jwt::algorithm_name(alg)
        );
    }
}

/// A verifier accepting every algorithm of [`signing_keys`] (HMAC with `secret`).
fn verifier_of_every_algorithm(secret: &str) -> JwtVerifier {
    JwtVerifier::new(&[issuer(json!({
        "algorithms": ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384",
                       "EdDSA", "HS256", "HS384", "HS512"],
        "pem_files": [key_path("rsa_public.pem"), key_path("ec_public.pem"),
                      key_path("ec384_public.pem"), key_path("ed_public.pem")],
        "hmac_secret": secret,
    }))])
    .expect("verifier")
}

/// A key of each algorithm (HMAC with `secret`).
fn signing_keys(secret: &str) -> Vec<(Algorithm, EncodingKey)> {
    let ec = |name: &str| EncodingKey::from_ec_pem(&read(name)).expect("ec");
    let hmac = || EncodingKey::from_secret(secret.as_bytes()).expect("secret");
    vec![
        (Algorithm::RS256, rsa()),
        (Algorithm::RS384, rsa()),
        (Algorithm::RS512, rsa()),
        (Algorithm::PS256, rsa()),
        (Algorithm::PS384, rsa()),
        (Algorithm::PS512, rsa()),
        (Algorithm::ES256, ec("ec_private.pem")),
        (Algorithm::ES384, ec("ec384_private.pem")),
        (
            Algorithm::EdDSA,
            EncodingKey::from_ed_pem(&read("ed_private.pem")).expect("ed"),
        ),
        (Algorithm::HS256, hmac()),
        (Algorithm::HS384, hmac()),
        (Algorithm::HS512, hmac()),
    ]
}

/// The token with one byte of its (decoded) signature flipped.
fn with_flipped_signature_byte(token: &str) -> String {
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let (signed, signature) = token.rsplit_once('.').expect("three parts");
    let mut signature = engine.decode(signature).expect("base64url");
    let middle = signature.len() / 2;
    signature[middle] ^= 0x01;
    format!("{signed}.{}", engine.encode(signature))
}

#[test]
fn a_signature_with_one_byte_flipped_is_refused_for_every_algorithm() {
    let secret = "another-shared-secret-for-tests";
    let verifier = verifier_of_every_algorithm(secret);
    for (alg, key) in signing_keys(secret) {
        // A fresh token each time (the cache never saw the flipped copy anyway).
        let token = sign(alg, &key, &claims(json!({ "jti": format!("{alg:?}") })));
        assert_eq!(
            verifier
                .verify(&with_flipped_signature_byte(&token), now())
                .err(),
            Some(JwtRejection::BadSignature),
            "{alg:?}"
        );
        assert!(verifier.verify(&token, now()).is_ok(), "{alg:?}");
    }
}

/// JWK `n`/`e` components computed from the private key (ring) equal those read from the
/// public key's DER, and a JWK file of them verifies RS256 — also with a leading zero byte in
/// `n`, as some issuers publish it.
#[test]
fn a_jwk_of_modulus_and_exponent_verifies_rs256() {
    palisade_access::jwt::install_crypto_provider();
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let from_private = Jwk::from_encoding_key(&rsa(), Algorithm::RS256).expect("jwk");
    let from_public = Jwk::from_decoding_key(
        &jsonwebtoken::DecodingKey::from_rsa_pem(&read("rsa_public.pem")).expect("public"),
        Some(Algorithm::RS256),
    )
    .expect("jwk");
    let components = |jwk: &Jwk| match &jwk.algorithm {
        jsonwebtoken::jwk::AlgorithmParameters::RSA(rsa) => (rsa.n.clone(), rsa.e.clone()),
        other => panic!("not an RSA JWK: {other:?}"),
    };
    let (n, e) = components(&from_private);
    assert_eq!((n.clone(), e.clone()), components(&from_public));
    assert_eq!(e, "AQAB");
    let mut padded_n = vec![0u8];
    padded_n.extend(engine.decode(&n).expect("n"));
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, modulus) in [("plain", n), ("leading-zero", engine.encode(&padded_n))] {
        let path = dir.path().join(format!("{name}.jwk"));
        std::fs::write(
            &path,
            json!({ "kty": "RSA", "n": modulus, "e": e, "alg": "RS256" }).to_string(),
        )
        .expect("write jwk");
        let verifier = JwtVerifier::new(&[issuer(
            json!({ "pem_files": [], "jwk_files": [path], "algorithms": ["RS256"] }),
        )])
        .expect("verifier");
        let token = sign(Algorithm::RS256, &rsa(), &claims(json!({})));
        assert!(verifier.verify(&token, now()).is_ok(), "{name}");
        assert_eq!(
            verifier
                .verify(&with_flipped_signature_byte(&token), now())
                .err(),
            Some(JwtRejection::BadSignature),
            "{name}"
        );
    }
}

/// HMAC keys of any length work, also shorter than the hash's output (RFC 7518 asks for at least
/// as long, but an operator's existing secret must keep verifying its own tokens).
#[test]
fn an_hmac_key_shorter_than_its_hash_verifies_its_own_tokens() {
    for (alg, name) in [(Algorithm::HS256, "HS256"), (Algorithm::HS512, "HS512")] {
        let verifier = JwtVerifier::new(&[issuer(
            json!({ "algorithms": [name], "pem_files": [], "hmac_secret": "k" }),
        )])
        .expect("verifier");
        let token = sign(
            alg,
            &EncodingKey::from_secret(b"k").expect("key"),
            &claims(json!({})),
        );
        assert!(verifier.verify(&token, now()).is_ok(), "{name}");
        let other = sign(
            alg,
            &EncodingKey::from_secret(b"j").expect("key"),
            &claims(json!({})),
        );
        assert_eq!(
            verifier.verify(&other, now()).err(),
            Some(JwtRejection::BadSignature),
            "{name}"
        );
    }
}

/// A 1024-bit RSA key can never verify (ring accepts 2048 to 8192 bits): a configuration naming
/// one is refused when it is loaded, not by every token later.
#[test]
fn an_rsa_key_below_2048_bits_is_refused_when_loaded() {
    let error = JwtVerifier::new(&[issuer(json!({
        "algorithms": ["RS256"],
        "pem_files": [key_path("rsa1024_public.pem")],
    }))])
    .expect_err("refused");
    assert!(error.to_string().contains("1024 bits"), "{error}");
}
