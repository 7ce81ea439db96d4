//! The server secret API keys are hashed with (HMAC-SHA256): from the configuration
//! (`[access] secret = "env:…" | "file:…"`) or a random key kept in `<data_dir>/access.secret`.

use std::io::Write as _;
use std::path::Path;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::AccessError;

/// Name of the generated secret file inside the data directory.
pub const SECRET_FILE: &str = "access.secret";

/// A keyed hash (HMAC-SHA256) over API keys. `Debug` never shows the key.
#[derive(Clone)]
pub struct KeyHasher {
    mac: Hmac<Sha256>,
}

impl std::fmt::Debug for KeyHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyHasher(***)")
    }
}

impl KeyHasher {
    /// A hasher over `secret` bytes.
    pub fn new(secret: &[u8]) -> Self {
        let mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC accepts keys of any length");
        KeyHasher { mac }
    }

    /// The hasher of a configuration: the configured secret, else the data directory's secret
    /// file (created with a random key on first use).
    pub fn from_config(
        secret: Option<&palisade_config::Secret>,
        data_dir: &Path,
    ) -> Result<Self, AccessError> {
        match secret {
            Some(secret) => Ok(KeyHasher::new(secret.expose().as_bytes())),
            None => Ok(KeyHasher::new(&load_or_create_secret(data_dir)?)),
        }
    }

    /// HMAC-SHA256 of `key`.
    pub fn hash(&self, key: &[u8]) -> [u8; 32] {
        let mut mac = self.mac.clone();
        mac.update(key);
        mac.finalize().into_bytes().into()
    }
}

/// Reads `<data_dir>/access.secret` (hex), creating it with 32 random bytes (mode 0600) when missing.
pub fn load_or_create_secret(data_dir: &Path) -> Result<Vec<u8>, AccessError> {
    let path = data_dir.join(SECRET_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => hex::decode(text.trim()).map_err(|_| {
            AccessError::invalid(format!(
                "{}: not a hex secret; delete it to have a new one generated (every API key becomes invalid)",
                path.display()
            ))
        }),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(data_dir)
                .map_err(|e| AccessError::io("cannot create the data directory", data_dir, e))?;
            let secret: [u8; 32] = rand::random();
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt as _;
                options.mode(0o600);
            }
            match options.open(&path) {
                Ok(mut file) => {
                    file.write_all(hex::encode(secret).as_bytes())
                        .and_then(|()| file.sync_all())
                        .map_err(|e| AccessError::io("cannot write the secret file", &path, e))?;
                    Ok(secret.to_vec())
                }
                // Another process created it in between: use theirs.
                Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
                    load_or_create_secret(data_dir)
                }
                Err(error) => Err(AccessError::io("cannot create the secret file", &path, error)),
            }
        }
        Err(error) => Err(AccessError::io("cannot read the secret file", &path, error)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secret_is_stable_and_private() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = load_or_create_secret(dir.path()).expect("create");
        let second = load_or_create_secret(dir.path()).expect("read");
        assert_eq!(first, second);
        assert_eq!(first.len(), 32);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(dir.path().join(SECRET_FILE))
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let hasher = KeyHasher::new(&first);
        assert_eq!(hasher.hash(b"k"), hasher.hash(b"k"));
        assert_ne!(hasher.hash(b"k"), KeyHasher::new(b"other").hash(b"k"));
    }
}
