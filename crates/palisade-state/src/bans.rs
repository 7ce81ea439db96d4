//! The ban index: banned networks grouped by prefix length, so checking an address costs one
//! hash lookup per distinct prefix length in use (usually one or two).

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use ipnet::IpNet;

use crate::local::BlockRecord;
use crate::model::Ban;

#[derive(Debug, Default)]
pub(crate) struct BanIndex {
    /// (is IPv6, prefix length) → network → record. Networks are stored truncated.
    by_prefix: BTreeMap<(bool, u8), HashMap<IpNet, BlockRecord>>,
}

impl BanIndex {
    pub(crate) fn insert(&mut self, network: IpNet, record: BlockRecord) {
        let network = network.trunc();
        self.by_prefix
            .entry(group(&network))
            .or_default()
            .insert(network, record);
    }

    pub(crate) fn get(&self, network: &IpNet) -> Option<&BlockRecord> {
        let network = network.trunc();
        self.by_prefix.get(&group(&network))?.get(&network)
    }

    pub(crate) fn remove(&mut self, network: &IpNet) -> Option<BlockRecord> {
        let network = network.trunc();
        let key = group(&network);
        let group_map = self.by_prefix.get_mut(&key)?;
        let removed = group_map.remove(&network);
        if group_map.is_empty() {
            self.by_prefix.remove(&key);
        }
        removed
    }

    /// The active ban covering `ip` (the most specific one), if any.
    pub(crate) fn lookup(&self, ip: IpAddr, now_ms: i64) -> Option<Ban> {
        let v6 = ip.is_ipv6();
        self.by_prefix
            .range((v6, 0)..=(v6, u8::MAX))
            .rev()
            .find_map(|(&(_, prefix), networks)| {
                let network = IpNet::new(ip, prefix).ok()?.trunc();
                let record = networks.get(&network)?;
                record.active(now_ms).then(|| record.ban(network))
            })
    }

    /// Every active ban, most recent first.
    pub(crate) fn active(&self, now_ms: i64) -> Vec<Ban> {
        let mut bans: Vec<Ban> = self
            .by_prefix
            .values()
            .flat_map(|networks| networks.iter())
            .filter(|(_, record)| record.active(now_ms))
            .map(|(network, record)| record.ban(*network))
            .collect();
        bans.sort_by(|a, b| b.created.cmp(&a.created).then(a.network.cmp(&b.network)));
        bans
    }
}

fn group(network: &IpNet) -> (bool, u8) {
    (matches!(network, IpNet::V6(_)), network.prefix_len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(until_ms: i64) -> BlockRecord {
        BlockRecord {
            until_ms,
            keep_until_ms: until_ms,
            repeat: 0,
            reason: "test".into(),
            source: "test".into(),
            created_ms: 0,
        }
    }

    #[test]
    fn addresses_and_networks_match_while_active() {
        let mut index = BanIndex::default();
        index.insert("203.0.113.7/32".parse().unwrap(), record(1000));
        index.insert("198.51.100.0/24".parse().unwrap(), record(i64::MAX));
        index.insert("2001:db8::/32".parse().unwrap(), record(i64::MAX));
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(index.lookup(ip("203.0.113.7"), 10).is_some());
        assert!(index.lookup(ip("203.0.113.7"), 1000).is_none(), "expired");
        assert!(index.lookup(ip("203.0.113.8"), 10).is_none());
        let ban = index.lookup(ip("198.51.100.200"), 10).expect("network ban");
        assert_eq!(ban.network.to_string(), "198.51.100.0/24");
        assert!(index.lookup(ip("2001:db8:1::5"), 10).is_some());
        assert!(index.lookup(ip("2001:db9::5"), 10).is_none());
        assert!(index.remove(&"198.51.100.9/24".parse().unwrap()).is_some());
        assert!(index.lookup(ip("198.51.100.200"), 10).is_none());
        assert_eq!(index.active(10).len(), 2);
    }
}
