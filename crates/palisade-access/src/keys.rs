//! API key verification on the request path: an in-memory index of the stored keys by id,
//! compared in constant time by keyed hash. Last-used times are kept in memory and written
//! to the store in the background.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use crate::secret::KeyHasher;
use crate::store::{ApiKeyInfo, key_id};

/// Why a presented API key was refused (safe to log; never contains the key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRejection {
    /// Not one of Palisade's keys, or no such key.
    Unknown,
    /// The key was revoked.
    Revoked,
    /// The key expired.
    Expired,
}

impl KeyRejection {
    /// Short reason.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyRejection::Unknown => "unknown API key",
            KeyRejection::Revoked => "revoked API key",
            KeyRejection::Expired => "expired API key",
        }
    }
}

/// One key as the request path sees it.
#[derive(Debug)]
pub struct KeyEntry {
    /// Stored record.
    pub info: ApiKeyInfo,
    hash: [u8; 32],
    last_used_ms: AtomicI64,
    flushed_ms: AtomicI64,
}

/// A snapshot of the stored keys, indexed by key id.
#[derive(Debug, Default)]
pub struct KeyIndex {
    by_id: HashMap<String, Arc<KeyEntry>>,
}

impl KeyIndex {
    /// An index of `keys`, carrying over the unflushed last-used times of `previous`.
    pub fn new(keys: Vec<ApiKeyInfo>, previous: Option<&KeyIndex>) -> Self {
        let by_id = keys
            .into_iter()
            .filter_map(|info| {
                let hash: [u8; 32] = info.hash.as_slice().try_into().ok()?;
                let stored = info.last_used_ms.unwrap_or(0);
                let used = previous
                    .and_then(|p| p.by_id.get(&info.id))
                    .map_or(stored, |old| {
                        old.last_used_ms.load(Ordering::Relaxed).max(stored)
                    });
                let entry = KeyEntry {
                    hash,
                    last_used_ms: AtomicI64::new(used),
                    flushed_ms: AtomicI64::new(stored),
                    info,
                };
                Some((entry.info.id.clone(), Arc::new(entry)))
            })
            .collect();
        KeyIndex { by_id }
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// True when no key is stored.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// Verifies `presented` at `now_ms`; records the use.
    pub fn verify(
        &self,
        hasher: &KeyHasher,
        presented: &str,
        now_ms: i64,
    ) -> Result<Arc<KeyEntry>, KeyRejection> {
        let id = key_id(presented).ok_or(KeyRejection::Unknown)?;
        let entry = self.by_id.get(id).ok_or(KeyRejection::Unknown)?;
        let computed = hasher.hash(presented.as_bytes());
        if !constant_time_eq(&computed, &entry.hash) {
            return Err(KeyRejection::Unknown);
        }
        if entry.info.revoked_ms.is_some() {
            return Err(KeyRejection::Revoked);
        }
        if entry
            .info
            .expires_ms
            .is_some_and(|expires| expires <= now_ms)
        {
            return Err(KeyRejection::Expired);
        }
        entry.last_used_ms.fetch_max(now_ms, Ordering::Relaxed);
        Ok(Arc::clone(entry))
    }

    /// Last-used times not yet written to the store; marks them written.
    pub fn take_unflushed_uses(&self) -> Vec<(String, i64)> {
        self.by_id
            .values()
            .filter_map(|entry| {
                let used = entry.last_used_ms.load(Ordering::Relaxed);
                let flushed = entry.flushed_ms.swap(used, Ordering::Relaxed);
                (used > flushed).then(|| (entry.info.id.clone(), used))
            })
            .collect()
    }
}

/// Compares two equal-length byte strings without an early exit.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let difference = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(difference) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::AccessStore;

    #[test]
    fn verify_accepts_the_key_and_refuses_tampering_revocation_and_expiry() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = AccessStore::open(dir.path()).expect("open");
        let hasher = KeyHasher::new(b"server secret");
        let good = store.create_key(&hasher, "app", &[], None).expect("create");
        let expired = store
            .create_key(&hasher, "old", &[], Some(1_000))
            .expect("create");
        let index = KeyIndex::new(store.list_keys().expect("list"), None);
        let entry = index.verify(&hasher, &good.key, 5_000).expect("valid key");
        assert_eq!(entry.info.name, "app");
        let mut tampered = good.key.clone();
        tampered.push('x');
        assert_eq!(
            index.verify(&hasher, &tampered, 5_000).err(),
            Some(KeyRejection::Unknown)
        );
        assert_eq!(
            index.verify(&hasher, &expired.key, 5_000).err(),
            Some(KeyRejection::Expired)
        );
        assert_eq!(
            index
                .verify(&KeyHasher::new(b"other"), &good.key, 5_000)
                .err(),
            Some(KeyRejection::Unknown)
        );
        assert_eq!(
            index.take_unflushed_uses(),
            vec![(good.info.id.clone(), 5_000)]
        );
        assert!(index.take_unflushed_uses().is_empty());

        store.revoke_key(&good.info.id).expect("revoke");
        let index = KeyIndex::new(store.list_keys().expect("list"), Some(&index));
        assert_eq!(
            index.verify(&hasher, &good.key, 6_000).err(),
            Some(KeyRejection::Revoked)
        );
    }

    #[test]
    fn constant_time_eq_compares_contents() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
