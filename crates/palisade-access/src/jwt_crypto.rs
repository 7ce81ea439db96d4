//! The cryptography under `jsonwebtoken`, backed by `ring` (the library rustls already uses in
//! this program): a [`CryptoProvider`] with verifiers and signers for HS256/384/512,
//! RS256/384/512, PS256/384/512, ES256/384 and EdDSA (Ed25519), and the key utilities JWK
//! handling needs.
//!
//! This build enables no crypto feature of `jsonwebtoken`, so the library has no provider of its
//! own: [`install`] must run before any token is signed or verified. The
//! [`JwtVerifier`](crate::jwt::JwtVerifier) constructor runs it; code that signs tokens without
//! building a verifier first (tests, benches) calls
//! [`install_crypto_provider`](crate::jwt::install_crypto_provider).
//!
//! A key only serves the algorithms of its own family, so an RSA public key can never be used as
//! an HMAC secret; HMAC tags are compared in constant time (`ring::hmac::verify`). RSA keys must
//! have 2048 to 8192 bits (ring's bounds); [`unusable_key`] says so when a key is loaded.

use std::sync::Once;

use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils};
use jsonwebtoken::errors::{ErrorKind, Result};
use jsonwebtoken::jwk::{EllipticCurve, ThumbprintHash};
use jsonwebtoken::signature;
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, DecodingKeyKind, EncodingKey};
use ring::rand::SystemRandom;
use ring::signature::{self as ring_signature, KeyPair as _};
use ring::{digest, hmac};

/// Smallest and largest RSA modulus ring verifies (bits).
const RSA_MODULUS_BITS: std::ops::RangeInclusive<usize> = 2048..=8192;

/// The provider installed by [`install`].
static RING_PROVIDER: CryptoProvider = CryptoProvider {
    signer_factory: new_signer,
    verifier_factory: new_verifier,
    key_utils: KeyUtils {
        rsa_pub_components_from_private_key: rsa_components_from_private_key,
        rsa_pub_components_from_public_key: rsa_components_from_public_key,
        ec_pub_components_from_private_key: ec_components_from_private_key,
        ed_pub_components_from_private_key: ed_component_from_private_key,
        compute_digest,
    },
};

/// Makes the ring provider `jsonwebtoken`'s process-wide provider. Idempotent and cheap after
/// the first call.
pub(crate) fn install() {
    static INSTALLED: Once = Once::new();
    INSTALLED.call_once(|| {
        if RING_PROVIDER.install_default().is_err() {
            tracing::warn!(
                "another jsonwebtoken crypto provider was installed first; it stays in use"
            );
        }
    });
}

/// What ring calls an algorithm, to verify and to sign.
enum Suite {
    Hmac(hmac::Algorithm),
    Rsa {
        verify: &'static ring_signature::RsaParameters,
        sign: &'static dyn ring_signature::RsaEncoding,
    },
    Ecdsa {
        verify: &'static ring_signature::EcdsaVerificationAlgorithm,
        sign: &'static ring_signature::EcdsaSigningAlgorithm,
    },
    Ed25519,
}

fn suite(algorithm: Algorithm) -> Result<Suite> {
    use ring_signature as s;
    let rsa = |verify, sign| Suite::Rsa { verify, sign };
    Ok(match algorithm {
        Algorithm::HS256 => Suite::Hmac(hmac::HMAC_SHA256),
        Algorithm::HS384 => Suite::Hmac(hmac::HMAC_SHA384),
        Algorithm::HS512 => Suite::Hmac(hmac::HMAC_SHA512),
        Algorithm::RS256 => rsa(&s::RSA_PKCS1_2048_8192_SHA256, &s::RSA_PKCS1_SHA256),
        Algorithm::RS384 => rsa(&s::RSA_PKCS1_2048_8192_SHA384, &s::RSA_PKCS1_SHA384),
        Algorithm::RS512 => rsa(&s::RSA_PKCS1_2048_8192_SHA512, &s::RSA_PKCS1_SHA512),
        Algorithm::PS256 => rsa(&s::RSA_PSS_2048_8192_SHA256, &s::RSA_PSS_SHA256),
        Algorithm::PS384 => rsa(&s::RSA_PSS_2048_8192_SHA384, &s::RSA_PSS_SHA384),
        Algorithm::PS512 => rsa(&s::RSA_PSS_2048_8192_SHA512, &s::RSA_PSS_SHA512),
        Algorithm::ES256 => Suite::Ecdsa {
            verify: &s::ECDSA_P256_SHA256_FIXED,
            sign: &s::ECDSA_P256_SHA256_FIXED_SIGNING,
        },
        Algorithm::ES384 => Suite::Ecdsa {
            verify: &s::ECDSA_P384_SHA384_FIXED,
            sign: &s::ECDSA_P384_SHA384_FIXED_SIGNING,
        },
        Algorithm::EdDSA => Suite::Ed25519,
        _ => return Err(ErrorKind::UnsupportedAlgorithm.into()),
    })
}

// ---- verifying ------------------------------------------------------------------------------

/// How a signature is checked with one key.
enum Check {
    /// The HMAC tag is recomputed and compared in constant time.
    Hmac(hmac::Key),
    /// A public key as ring parses it: RSA `RSAPublicKey` DER, an uncompressed EC point, or the
    /// 32 bytes of an Ed25519 key.
    PublicKey {
        algorithm: &'static dyn ring_signature::VerificationAlgorithm,
        key: Vec<u8>,
    },
    /// An RSA public key as modulus and exponent (a JWK's `n` and `e`), without leading zeros.
    RsaComponents {
        parameters: &'static ring_signature::RsaParameters,
        n: Vec<u8>,
        e: Vec<u8>,
    },
}

/// A [`JwtVerifier`] for one algorithm and one key.
struct RingVerifier {
    algorithm: Algorithm,
    check: Check,
}

fn new_verifier(algorithm: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>> {
    let algorithm = *algorithm;
    // The key's family decides what it can verify: never an RSA key as an HMAC secret.
    if key.family() != algorithm.family() {
        return Err(ErrorKind::InvalidKeyFormat.into());
    }
    let check = match (suite(algorithm)?, key.kind()) {
        (Suite::Hmac(hmac_algorithm), DecodingKeyKind::SecretOrDer(secret)) => {
            Check::Hmac(hmac::Key::new(hmac_algorithm, secret))
        }
        (Suite::Rsa { verify, .. }, DecodingKeyKind::SecretOrDer(der)) => Check::PublicKey {
            algorithm: verify,
            key: der.clone(),
        },
        (Suite::Rsa { verify, .. }, DecodingKeyKind::RsaModulusExponent { n, e }) => {
            Check::RsaComponents {
                parameters: verify,
                n: without_leading_zeros(n).to_vec(),
                e: without_leading_zeros(e).to_vec(),
            }
        }
        (Suite::Ecdsa { verify, .. }, DecodingKeyKind::SecretOrDer(point)) => Check::PublicKey {
            algorithm: verify,
            key: point.clone(),
        },
        (Suite::Ed25519, DecodingKeyKind::SecretOrDer(public)) => Check::PublicKey {
            algorithm: &ring_signature::ED25519,
            key: public.clone(),
        },
        _ => return Err(ErrorKind::InvalidKeyFormat.into()),
    };
    Ok(Box::new(RingVerifier { algorithm, check }))
}

impl signature::Verifier<Vec<u8>> for RingVerifier {
    fn verify(
        &self,
        message: &[u8],
        signature: &Vec<u8>,
    ) -> std::result::Result<(), signature::Error> {
        let verified = match &self.check {
            Check::Hmac(key) => hmac::verify(key, message, signature),
            Check::PublicKey { algorithm, key } => {
                ring_signature::UnparsedPublicKey::new(*algorithm, key).verify(message, signature)
            }
            Check::RsaComponents { parameters, n, e } => ring_signature::RsaPublicKeyComponents {
                n: n.as_slice(),
                e: e.as_slice(),
            }
            .verify(parameters, message, signature),
        };
        verified.map_err(|ring::error::Unspecified| signature::Error::new())
    }
}

impl JwtVerifier for RingVerifier {
    fn algorithm(&self) -> Algorithm {
        self.algorithm
    }
}

/// Why a verification key can never verify anything here (ring refuses RSA moduli outside
/// 2048–8192 bits), or `None` when it may.
pub(crate) fn unusable_key(key: &DecodingKey) -> Option<String> {
    if key.family() != AlgorithmFamily::Rsa {
        return None;
    }
    let modulus = match key.kind() {
        DecodingKeyKind::SecretOrDer(der) => match pkcs1_public_key(der) {
            Some((n, _)) => n,
            None => return Some("not an RSA public key (PKCS#1 DER)".to_owned()),
        },
        DecodingKeyKind::RsaModulusExponent { n, .. } => without_leading_zeros(n),
    };
    let bits = modulus.first().map_or(0, |&first| {
        8 * modulus.len() - usize::try_from(first.leading_zeros()).unwrap_or(0)
    });
    (!RSA_MODULUS_BITS.contains(&bits)).then(|| {
        format!(
            "an RSA key of {bits} bits; {}–{} bits are supported",
            RSA_MODULUS_BITS.start(),
            RSA_MODULUS_BITS.end()
        )
    })
}

// ---- signing --------------------------------------------------------------------------------

/// How a message is signed with one private key.
enum Signing {
    Hmac(hmac::Key),
    Rsa {
        key_pair: ring_signature::RsaKeyPair,
        padding: &'static dyn ring_signature::RsaEncoding,
    },
    Ecdsa(ring_signature::EcdsaKeyPair),
    Ed25519(ring_signature::Ed25519KeyPair),
}

/// A [`JwtSigner`] for one algorithm and one key.
struct RingSigner {
    algorithm: Algorithm,
    signing: Signing,
}

fn new_signer(algorithm: &Algorithm, key: &EncodingKey) -> Result<Box<dyn JwtSigner>> {
    let algorithm = *algorithm;
    if key.family() != algorithm.family() {
        return Err(ErrorKind::InvalidKeyFormat.into());
    }
    let der = key.as_bytes();
    let signing = match suite(algorithm)? {
        Suite::Hmac(hmac_algorithm) => Signing::Hmac(hmac::Key::new(hmac_algorithm, der)),
        Suite::Rsa { sign, .. } => Signing::Rsa {
            key_pair: ring_signature::RsaKeyPair::from_der(der)
                .map_err(|rejected| ErrorKind::InvalidRsaKey(rejected.to_string()))?,
            padding: sign,
        },
        Suite::Ecdsa { sign, .. } => Signing::Ecdsa(
            ring_signature::EcdsaKeyPair::from_pkcs8(sign, der, &SystemRandom::new())
                .map_err(|_| ErrorKind::InvalidEcdsaKey)?,
        ),
        Suite::Ed25519 => Signing::Ed25519(
            ring_signature::Ed25519KeyPair::from_pkcs8_maybe_unchecked(der)
                .map_err(|_| ErrorKind::InvalidEddsaKey)?,
        ),
    };
    Ok(Box::new(RingSigner { algorithm, signing }))
}

impl signature::Signer<Vec<u8>> for RingSigner {
    fn try_sign(&self, message: &[u8]) -> std::result::Result<Vec<u8>, signature::Error> {
        let failed = |ring::error::Unspecified| signature::Error::new();
        match &self.signing {
            Signing::Hmac(key) => Ok(hmac::sign(key, message).as_ref().to_vec()),
            Signing::Rsa { key_pair, padding } => {
                let mut signature = vec![0; key_pair.public().modulus_len()];
                key_pair
                    .sign(*padding, &SystemRandom::new(), message, &mut signature)
                    .map_err(failed)?;
                Ok(signature)
            }
            Signing::Ecdsa(key_pair) => key_pair
                .sign(&SystemRandom::new(), message)
                .map(|signature| signature.as_ref().to_vec())
                .map_err(failed),
            Signing::Ed25519(key_pair) => Ok(key_pair.sign(message).as_ref().to_vec()),
        }
    }
}

impl JwtSigner for RingSigner {
    fn algorithm(&self) -> Algorithm {
        self.algorithm
    }
}

// ---- key utilities (JWK) --------------------------------------------------------------------

fn rsa_components_from_private_key(der: &[u8]) -> Result<(Vec<u8>, Vec<u8>)> {
    let key_pair = ring_signature::RsaKeyPair::from_der(der)
        .map_err(|rejected| ErrorKind::InvalidRsaKey(rejected.to_string()))?;
    let public = ring_signature::RsaPublicKeyComponents::<Vec<u8>>::from(key_pair.public());
    Ok((public.n, public.e))
}

fn rsa_components_from_public_key(der: &[u8]) -> Result<(Vec<u8>, Vec<u8>)> {
    let (n, e) = pkcs1_public_key(der)
        .ok_or_else(|| ErrorKind::InvalidRsaKey("not an RSA public key (PKCS#1 DER)".to_owned()))?;
    Ok((n.to_vec(), e.to_vec()))
}

fn ec_components_from_private_key(
    der: &[u8],
    algorithm: Algorithm,
) -> Result<(EllipticCurve, Vec<u8>, Vec<u8>)> {
    let (curve, signing) = match algorithm {
        Algorithm::ES256 => (
            EllipticCurve::P256,
            &ring_signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        ),
        Algorithm::ES384 => (
            EllipticCurve::P384,
            &ring_signature::ECDSA_P384_SHA384_FIXED_SIGNING,
        ),
        _ => return Err(ErrorKind::InvalidEcdsaKey.into()),
    };
    let key_pair = ring_signature::EcdsaKeyPair::from_pkcs8(signing, der, &SystemRandom::new())
        .map_err(|_| ErrorKind::InvalidEcdsaKey)?;
    // An uncompressed point: 0x04, then x and y of equal length.
    match key_pair.public_key().as_ref().split_first() {
        Some((0x04, xy)) if xy.len() % 2 == 0 => {
            let (x, y) = xy.split_at(xy.len() / 2);
            Ok((curve, x.to_vec(), y.to_vec()))
        }
        _ => Err(ErrorKind::InvalidEcdsaKey.into()),
    }
}

fn ed_component_from_private_key(der: &[u8], curve: &EllipticCurve) -> Result<Vec<u8>> {
    if *curve != EllipticCurve::Ed25519 {
        return Err(ErrorKind::InvalidAlgorithm.into());
    }
    let key_pair = ring_signature::Ed25519KeyPair::from_pkcs8_maybe_unchecked(der)
        .map_err(|_| ErrorKind::InvalidEddsaKey)?;
    Ok(key_pair.public_key().as_ref().to_vec())
}

fn compute_digest(data: &[u8], hash: ThumbprintHash) -> Result<Vec<u8>> {
    let algorithm = match hash {
        ThumbprintHash::SHA256 => &digest::SHA256,
        ThumbprintHash::SHA384 => &digest::SHA384,
        ThumbprintHash::SHA512 => &digest::SHA512,
        _ => return Err(ErrorKind::UnsupportedAlgorithm.into()),
    };
    Ok(digest::digest(algorithm, data).as_ref().to_vec())
}

// ---- a bounded DER reader for PKCS#1 RSA public keys ------------------------------------------

/// `bytes` without leading zero bytes (an unsigned big-endian integer's minimal form).
fn without_leading_zeros(bytes: &[u8]) -> &[u8] {
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    &bytes[first..]
}

/// The contents of the DER element with `tag` at the start of `input`, and what follows it.
/// Definite lengths of at most four length bytes only; `None` for anything else.
fn der_element(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (&found, rest) = input.split_first()?;
    if found != tag {
        return None;
    }
    let (&first, rest) = rest.split_first()?;
    let (length, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let (length, rest) = rest.split_at(count);
        let length = length
            .iter()
            .fold(0usize, |total, &byte| (total << 8) | usize::from(byte));
        (length, rest)
    };
    (rest.len() >= length).then(|| rest.split_at(length))
}

/// A positive DER INTEGER's magnitude (no sign byte); `None` for zero or a negative number.
fn positive_integer(contents: &[u8]) -> Option<&[u8]> {
    if contents.first().is_none_or(|&first| first & 0x80 != 0) {
        return None;
    }
    Some(without_leading_zeros(contents)).filter(|magnitude| !magnitude.is_empty())
}

/// Modulus and exponent of a PKCS#1 `RSAPublicKey ::= SEQUENCE { modulus INTEGER,
/// publicExponent INTEGER }`, nothing before or after it.
fn pkcs1_public_key(der: &[u8]) -> Option<(&[u8], &[u8])> {
    let (sequence, after) = der_element(der, 0x30)?;
    let (modulus, rest) = der_element(sequence, 0x02)?;
    let (exponent, rest) = der_element(rest, 0x02)?;
    if !after.is_empty() || !rest.is_empty() {
        return None;
    }
    Some((positive_integer(modulus)?, positive_integer(exponent)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The classic confusion: an HS256 tag made with an RSA public key's bytes as the HMAC
    /// secret. `jsonwebtoken` leaves refusing it to the provider.
    #[test]
    fn a_key_serves_only_its_own_family() {
        install();
        let pem = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/keys/rsa_public.pem"
        ))
        .expect("test key");
        let rsa = DecodingKey::from_rsa_pem(&pem).expect("RSA key");
        let DecodingKeyKind::SecretOrDer(der) = rsa.kind() else {
            panic!("a PEM key is DER");
        };
        let token = jsonwebtoken::encode(
            &jsonwebtoken::Header::new(Algorithm::HS256),
            &serde_json::json!({ "sub": "mallory" }),
            &EncodingKey::from_secret(der).expect("secret"),
        )
        .expect("token");
        let mut validation = jsonwebtoken::Validation::new(Algorithm::HS256);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        let decode = |key: &DecodingKey| {
            jsonwebtoken::decode::<serde_json::Value>(&token, key, &validation).map(drop)
        };
        let refused = decode(&rsa).expect_err("an RSA key never checks HS256");
        assert!(
            matches!(refused.kind(), ErrorKind::InvalidKeyFormat),
            "{refused:?}"
        );
        // The same bytes as an HMAC key do verify it: the refusal is the family check.
        assert!(decode(&DecodingKey::from_secret(der).expect("secret")).is_ok());
    }

    #[test]
    fn pkcs1_public_keys_are_read_within_bounds() {
        // SEQUENCE { INTEGER 0x00c5 (sign byte), INTEGER 0x010001 }
        let der = [
            0x30, 0x09, 0x02, 0x02, 0x00, 0xc5, 0x02, 0x03, 0x01, 0x00, 0x01,
        ];
        assert_eq!(
            pkcs1_public_key(&der),
            Some((&[0xc5][..], &[0x01, 0x00, 0x01][..]))
        );
        // The same with a long-form length.
        let long = [
            0x30, 0x81, 0x09, 0x02, 0x02, 0x00, 0xc5, 0x02, 0x03, 0x01, 0x00, 0x01,
        ];
        assert_eq!(pkcs1_public_key(&long), pkcs1_public_key(&der));
        // Truncated, trailing bytes, a length beyond the input, a negative modulus, five
        // length bytes, an indefinite length.
        assert_eq!(pkcs1_public_key(&der[..der.len() - 1]), None);
        assert_eq!(pkcs1_public_key(&[&der[..], &[0]].concat()), None);
        assert_eq!(pkcs1_public_key(&[0x30, 0x7f, 0x02]), None);
        assert_eq!(
            pkcs1_public_key(&[0x30, 0x06, 0x02, 0x01, 0x80, 0x02, 0x01, 0x03]),
            None
        );
        assert_eq!(
            pkcs1_public_key(&[0x30, 0x85, 0, 0, 0, 0, 0x06, 0x02, 0x01, 0x05]),
            None
        );
        assert_eq!(
            pkcs1_public_key(&[0x30, 0x80, 0x02, 0x01, 0x05, 0, 0]),
            None
        );
    }
}
