//! `@ipMatch` / `@ipMatchFromFile`: IPv4 and IPv6 addresses and CIDR networks.

use std::net::IpAddr;
use std::path::Path;

use crate::pm::read_data_lines;

/// A set of networks, matched linearly (rule lists are short).
#[derive(Debug, Default)]
pub(crate) struct IpSet {
    v4: Vec<(u32, u32)>,
    v6: Vec<(u128, u128)>,
}

impl IpSet {
    /// Parses a comma-separated list such as `127.0.0.1,10.0.0.0/8,::1`.
    pub(crate) fn parse_list(list: &str) -> Result<Self, String> {
        let mut set = Self::default();
        for entry in list
            .split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
        {
            set.add(entry)?;
        }
        if set.v4.is_empty() && set.v6.is_empty() {
            return Err("no addresses given".to_owned());
        }
        Ok(set)
    }

    /// Reads one address or network per line from space-separated files.
    pub(crate) fn from_files(files: &str, base_dir: &Path) -> Result<Self, String> {
        let mut set = Self::default();
        for file in files.split_whitespace() {
            for (line_no, line) in read_data_lines(file, base_dir)?.iter().enumerate() {
                set.add(line.trim())
                    .map_err(|error| format!("{file}:{}: {error}", line_no + 1))?;
            }
        }
        Ok(set)
    }

    fn add(&mut self, entry: &str) -> Result<(), String> {
        let (address, prefix) = match entry.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (entry, None),
        };
        let address: IpAddr = address
            .parse()
            .map_err(|_| format!("'{entry}' is not an IP address or CIDR network"))?;
        let max = if address.is_ipv4() { 32 } else { 128 };
        let prefix: u32 = match prefix {
            Some(prefix) => prefix
                .parse()
                .ok()
                .filter(|&p| p <= max)
                .ok_or_else(|| format!("'{entry}' has an invalid prefix length"))?,
            None => max,
        };
        match address {
            IpAddr::V4(v4) => {
                let mask = u32::MAX.checked_shl(32 - prefix).unwrap_or(0);
                self.v4.push((u32::from(v4) & mask, mask));
            }
            IpAddr::V6(v6) => {
                let mask = u128::MAX.checked_shl(128 - prefix).unwrap_or(0);
                self.v6.push((u128::from(v6) & mask, mask));
            }
        }
        Ok(())
    }

    pub(crate) fn contains(&self, address: IpAddr) -> bool {
        match address {
            IpAddr::V4(v4) => {
                let value = u32::from(v4);
                self.v4
                    .iter()
                    .any(|&(network, mask)| value & mask == network)
            }
            IpAddr::V6(v6) => {
                let value = u128::from(v6);
                self.v6
                    .iter()
                    .any(|&(network, mask)| value & mask == network)
            }
        }
    }

    /// Parses `text` as an address; unparsable input never matches.
    pub(crate) fn contains_text(&self, text: &[u8]) -> bool {
        std::str::from_utf8(text)
            .ok()
            .and_then(|text| text.trim().parse().ok())
            .is_some_and(|address| self.contains(address))
    }
}
