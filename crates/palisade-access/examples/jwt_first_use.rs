//! The work of a JWT's first use — signature check, claim checks, identity, cache entry — as an
//! instruction count, which a busy machine does not distort the way it does wall-clock times.
//! Signs N tokens that differ only in `jti` (so the verified-token cache never answers), then
//! verifies each once in `verify_each`:
//!
//! ```sh
//! cargo build --release --locked -p palisade-access --example jwt_first_use
//! valgrind --tool=callgrind --toggle-collect='*verify_each*' \
//!     target/release/examples/jwt_first_use RS256 200
//! ```
//!
//! Instructions per first use = callgrind's total (`Collected`) / N. The algorithm is one of
//! RS256, RS384, RS512, PS256, PS384, PS512, ES256, EdDSA, HS256, HS384 or HS512 (the test keys
//! in `tests/keys`).

use std::path::PathBuf;

use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use palisade_access::jwt::JwtVerifier;

const HMAC_SECRET: &str = "a-shared-secret-for-the-first-use-measurement";

fn key_file(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/keys")
        .join(name)
}

fn signing_key(algorithm: Algorithm) -> EncodingKey {
    let pem = |name: &str| std::fs::read(key_file(name)).expect("test key");
    match algorithm {
        Algorithm::ES256 => EncodingKey::from_ec_pem(&pem("ec_private.pem")).expect("EC key"),
        Algorithm::EdDSA => EncodingKey::from_ed_pem(&pem("ed_private.pem")).expect("Ed key"),
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => {
            EncodingKey::from_secret(HMAC_SECRET.as_bytes()).expect("secret")
        }
        _ => EncodingKey::from_rsa_pem(&pem("rsa_private.pem")).expect("RSA key"),
    }
}

/// Verifies every token once; returns how many verified.
#[inline(never)]
fn verify_each(verifier: &JwtVerifier, tokens: &[String], now: u64) -> usize {
    tokens
        .iter()
        .filter(|token| verifier.verify(token, now).is_ok())
        .count()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_else(|| "RS256".to_owned());
    let count: usize = args.next().map_or(200, |n| n.parse().expect("a count"));
    let algorithm: Algorithm = name.parse().expect("an algorithm name");
    let issuer: palisade_config::JwtIssuer = serde_json::from_value(serde_json::json!({
        "name": "idp",
        "algorithms": [name],
        "pem_files": [key_file("rsa_public.pem"), key_file("ec_public.pem"), key_file("ed_public.pem")],
        "hmac_secret": HMAC_SECRET,
        "issuer": "https://idp.test",
        "audience": ["shop-api"],
    }))
    .expect("issuer");
    palisade_access::jwt::install_crypto_provider();
    let verifier = JwtVerifier::new(&[issuer]).expect("verifier");
    let key = signing_key(algorithm);
    let now = jsonwebtoken::get_current_timestamp();
    let tokens: Vec<String> = (0..count)
        .map(|jti| {
            let claims = serde_json::json!({
                "sub": "alice", "iss": "https://idp.test", "aud": "shop-api",
                "exp": now + 3600, "iat": now, "jti": jti.to_string(),
                "roles": ["writer"], "scope": "items:write",
            });
            encode(&Header::new(algorithm), &claims, &key).expect("token")
        })
        .collect();
    let verified = verify_each(&verifier, &tokens, now);
    assert_eq!(verified, count, "every token verifies");
    println!("{name}: {count} tokens verified once each");
}
