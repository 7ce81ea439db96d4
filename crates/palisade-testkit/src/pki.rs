//! A CA and one leaf certificate for `localhost` and 127.0.0.1, valid from yesterday.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A CA and a leaf for `localhost` / 127.0.0.1 valid from yesterday for `days` days (ECDSA P-256).
pub struct TestPki {
    /// The CA certificate (PEM).
    pub ca_pem: String,
    /// The leaf certificate (DER).
    pub leaf_der: Vec<u8>,
    /// The leaf certificate (PEM).
    pub leaf_pem: String,
    /// The leaf's private key (PKCS#8 DER).
    pub leaf_key_der: Vec<u8>,
    /// The leaf's private key (PEM).
    pub leaf_key_pem: String,
}

/// Paths of a [`TestPki`] written to a directory.
pub struct PkiFiles {
    /// The CA certificate.
    pub ca: PathBuf,
    /// The leaf certificate.
    pub cert: PathBuf,
    /// The leaf's key.
    pub key: PathBuf,
}

impl TestPki {
    /// A fresh CA and leaf, valid for `days` days from yesterday.
    pub fn new(days: u64) -> Self {
        let base = rcgen::date_time_ymd(2020, 1, 1);
        let since_base = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock")
            .as_secs()
            - 1_577_836_800;
        let not_before = base + Duration::from_secs(since_base - 86_400);
        let not_after = base + Duration::from_secs(since_base + days * 86_400);

        let ca_key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("ca key");
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("ca params");
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "Palisade Test CA");
        ca_params.not_before = not_before;
        ca_params.not_after = not_after;
        let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).expect("ca");

        let leaf_key =
            rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("leaf key");
        let mut leaf_params =
            rcgen::CertificateParams::new(vec!["localhost".to_string()]).expect("leaf params");
        leaf_params
            .subject_alt_names
            .push(rcgen::SanType::IpAddress("127.0.0.1".parse().expect("ip")));
        leaf_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "localhost");
        leaf_params.not_before = not_before;
        leaf_params.not_after = not_after;
        let leaf = leaf_params.signed_by(&leaf_key, &ca).expect("leaf");
        Self {
            ca_pem: ca.pem(),
            leaf_der: leaf.der().to_vec(),
            leaf_pem: leaf.pem(),
            leaf_key_der: leaf_key.serialize_der(),
            leaf_key_pem: leaf_key.serialize_pem(),
        }
    }

    /// Writes `ca.pem`, `cert.pem` and `key.pem` into `dir`.
    pub fn write_to(&self, dir: &Path) -> PkiFiles {
        let files = PkiFiles {
            ca: dir.join("ca.pem"),
            cert: dir.join("cert.pem"),
            key: dir.join("key.pem"),
        };
        std::fs::write(&files.ca, &self.ca_pem).expect("write ca.pem");
        std::fs::write(&files.cert, &self.leaf_pem).expect("write cert.pem");
        std::fs::write(&files.key, &self.leaf_key_pem).expect("write key.pem");
        files
    }
}
