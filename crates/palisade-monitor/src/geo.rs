//! Where a client address is: MaxMind `.mmdb` databases (GeoLite2/GeoIP2 City
//! or Country, and ASN), read with the `maxminddb` crate. One record type reads
//! both kinds of database, so a single combined file also works.

use std::net::IpAddr;
use std::path::Path;

use serde::Deserialize;

use crate::error::{ErrorKind, MonitorError};

/// What the databases know about an address.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GeoInfo {
    /// ISO 3166-1 alpha-2 country code.
    pub country: Option<String>,
    /// Autonomous system number.
    pub asn: Option<u32>,
    /// Autonomous system organisation.
    pub as_org: Option<String>,
    /// Latitude and longitude in degrees.
    pub location: Option<(f64, f64)>,
}

#[derive(Debug, Deserialize, Default)]
struct Record {
    #[serde(default)]
    country: Option<Country>,
    #[serde(default)]
    location: Option<Location>,
    #[serde(default)]
    autonomous_system_number: Option<u32>,
    #[serde(default)]
    autonomous_system_organization: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Country {
    #[serde(default)]
    iso_code: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Location {
    #[serde(default)]
    latitude: Option<f64>,
    #[serde(default)]
    longitude: Option<f64>,
}

/// Open GeoIP databases (each optional).
pub struct GeoDatabase {
    city: Option<maxminddb::Reader<Vec<u8>>>,
    asn: Option<maxminddb::Reader<Vec<u8>>>,
}

impl std::fmt::Debug for GeoDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeoDatabase")
            .field("city", &self.city.is_some())
            .field("asn", &self.asn.is_some())
            .finish()
    }
}

fn open(path: &Path) -> Result<maxminddb::Reader<Vec<u8>>, MonitorError> {
    maxminddb::Reader::open_readfile(path).map_err(|source| {
        ErrorKind::Geo {
            path: path.to_path_buf(),
            reason: source.to_string(),
        }
        .into()
    })
}

impl GeoDatabase {
    /// Opens a City/Country database and/or an ASN database.
    pub fn open(city: Option<&Path>, asn: Option<&Path>) -> Result<Self, MonitorError> {
        Ok(GeoDatabase {
            city: city.map(open).transpose()?,
            asn: asn.map(open).transpose()?,
        })
    }

    /// Looks an address up in every database; unknown parts stay `None`.
    pub fn lookup(&self, ip: IpAddr) -> GeoInfo {
        let mut info = GeoInfo::default();
        for reader in [&self.city, &self.asn].into_iter().flatten() {
            let record: Record = match reader.lookup(ip) {
                Ok(Some(record)) => record,
                Ok(None) => continue,
                Err(error) => {
                    tracing::debug!(%error, "GeoIP lookup failed");
                    continue;
                }
            };
            if info.country.is_none() {
                info.country = record.country.and_then(|c| c.iso_code);
            }
            if info.location.is_none() {
                info.location = record
                    .location
                    .and_then(|l| Some((l.latitude?, l.longitude?)));
            }
            info.asn = info.asn.or(record.autonomous_system_number);
            if info.as_org.is_none() {
                info.as_org = record.autonomous_system_organization;
            }
        }
        info
    }
}

/// Great-circle distance in kilometres (haversine, mean Earth radius).
pub fn distance_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (lat1, lon1) = (a.0.to_radians(), a.1.to_radians());
    let (lat2, lon2) = (b.0.to_radians(), b.1.to_radians());
    let h = ((lat2 - lat1) / 2.0).sin().powi(2)
        + lat1.cos() * lat2.cos() * ((lon2 - lon1) / 2.0).sin().powi(2);
    2.0 * 6371.0 * h.sqrt().min(1.0).asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn berlin_to_new_york_is_about_6400_km() {
        let d = distance_km((52.52, 13.405), (40.7128, -74.006));
        assert!((6350.0..6450.0).contains(&d), "{d}");
        assert_eq!(distance_km((1.0, 2.0), (1.0, 2.0)), 0.0);
    }
}
