//! The OSV matching algorithm (<https://ossf.github.io/osv-schema/#evaluation>): a version is
//! affected when it is listed in `versions`, or when walking a SEMVER/ECOSYSTEM range's events in
//! version order leaves it "affected" (`introduced` switches on; `fixed`, `last_affected` and
//! `limit` switch off). Withdrawn advisories never match. Also finds fixed versions and the
//! smallest upgrade that leaves a package unaffected by all of its advisories.

use std::cmp::Ordering;

use crate::osv::{Advisory, Affected, Event, Range};
use crate::version::{Ecosystem, Version};

/// Whether `version` (the string from the lockfile) of `name` in `ecosystem` is affected by
/// `advisory`. `None` means the version cannot be evaluated: it is not listed explicitly and
/// does not parse in the ecosystem's scheme, so no range can be decided.
pub fn is_affected(
    advisory: &Advisory,
    ecosystem: &Ecosystem,
    name: &str,
    version: &str,
) -> Option<bool> {
    if advisory.withdrawn.is_some() {
        return Some(false);
    }
    let key = ecosystem.normalize_name(name);
    let parsed = ecosystem.parse_version(version);
    let mut undecidable = false;
    for affected in entries_for(advisory, ecosystem, &key) {
        if affected
            .versions
            .iter()
            .any(|listed| same_version(ecosystem, listed, version, parsed.as_ref()))
        {
            return Some(true);
        }
        let Some(parsed) = parsed.as_ref() else {
            undecidable |= affected.ranges.iter().any(|range| range.kind != "GIT");
            continue;
        };
        if affected
            .ranges
            .iter()
            .any(|range| range_contains(range, ecosystem, parsed))
        {
            return Some(true);
        }
    }
    if undecidable { None } else { Some(false) }
}

/// The `affected` entries of `advisory` for this package.
pub fn entries_for<'a>(
    advisory: &'a Advisory,
    ecosystem: &'a Ecosystem,
    normalized_name: &'a str,
) -> impl Iterator<Item = &'a Affected> + 'a {
    advisory.affected.iter().filter(move |affected| {
        Ecosystem::from_osv(&affected.package.ecosystem) == *ecosystem
            && ecosystem.normalize_name(&affected.package.name) == normalized_name
    })
}

fn same_version(
    ecosystem: &Ecosystem,
    listed: &str,
    version: &str,
    parsed: Option<&Version>,
) -> bool {
    if listed == version {
        return true;
    }
    match (parsed, ecosystem.parse_version(listed)) {
        (Some(parsed), Some(listed)) => parsed.partial_cmp(&listed) == Some(Ordering::Equal),
        _ => false,
    }
}

/// One event with its version parsed.
enum Bound {
    Introduced(Option<Version>),
    Fixed(Version),
    LastAffected(Version),
    Limit(Version),
}

impl Bound {
    /// `introduced: "0"` is the lowest possible version.
    fn sort_key(&self) -> Option<&Version> {
        match self {
            Bound::Introduced(version) => version.as_ref(),
            Bound::Fixed(version) | Bound::LastAffected(version) | Bound::Limit(version) => {
                Some(version)
            }
        }
    }
}

fn parse_event(event: &Event, ecosystem: &Ecosystem) -> Option<Bound> {
    if let Some(introduced) = &event.introduced {
        return if introduced == "0" {
            Some(Bound::Introduced(None))
        } else {
            ecosystem
                .parse_version(introduced)
                .map(|v| Bound::Introduced(Some(v)))
        };
    }
    if let Some(fixed) = &event.fixed {
        return ecosystem.parse_version(fixed).map(Bound::Fixed);
    }
    if let Some(last) = &event.last_affected {
        return ecosystem.parse_version(last).map(Bound::LastAffected);
    }
    if let Some(limit) = &event.limit {
        return ecosystem.parse_version(limit).map(Bound::Limit);
    }
    None
}

/// The OSV evaluation of one range (events whose version does not parse are skipped).
pub fn range_contains(range: &Range, ecosystem: &Ecosystem, version: &Version) -> bool {
    if range.kind != "SEMVER" && range.kind != "ECOSYSTEM" {
        return false;
    }
    let mut bounds: Vec<Bound> = range
        .events
        .iter()
        .filter_map(|event| parse_event(event, ecosystem))
        .collect();
    bounds.sort_by(|a, b| match (a.sort_key(), b.sort_key()) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(a), Some(b)) => a.partial_cmp(b).unwrap_or(Ordering::Equal),
    });
    let at_least = |bound: &Version| version.partial_cmp(bound).is_some_and(Ordering::is_ge);
    let mut affected = false;
    for bound in &bounds {
        match bound {
            Bound::Introduced(None) => affected = true,
            Bound::Introduced(Some(start)) => {
                if at_least(start) {
                    affected = true;
                }
            }
            Bound::Fixed(fixed) => {
                if at_least(fixed) {
                    affected = false;
                }
            }
            Bound::LastAffected(last) => {
                if version.partial_cmp(last) == Some(Ordering::Greater) {
                    affected = false;
                }
            }
            Bound::Limit(limit) => {
                if at_least(limit) {
                    affected = false;
                }
            }
        }
    }
    affected
}

/// Every `fixed` version the advisory gives for this package, in version order, deduplicated.
pub fn fixed_versions(advisory: &Advisory, ecosystem: &Ecosystem, name: &str) -> Vec<String> {
    let key = ecosystem.normalize_name(name);
    let mut fixed: Vec<(Option<Version>, String)> = entries_for(advisory, ecosystem, &key)
        .flat_map(|affected| affected.ranges.iter())
        .filter(|range| range.kind != "GIT")
        .flat_map(|range| range.events.iter())
        .filter_map(|event| event.fixed.clone())
        .map(|text| (ecosystem.parse_version(&text), text))
        .collect();
    sort_versions(&mut fixed);
    fixed.dedup_by(|a, b| a.1 == b.1);
    fixed.into_iter().map(|(_, text)| text).collect()
}

fn sort_versions(versions: &mut [(Option<Version>, String)]) {
    versions.sort_by(|a, b| match (&a.0, &b.0) {
        (Some(x), Some(y)) => x.partial_cmp(y).unwrap_or(Ordering::Equal),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => a.1.cmp(&b.1),
    });
}

/// The smallest version above `current` that none of `advisories` affects, chosen among their
/// fixed versions; `None` when no fixed version clears them all (e.g. an advisory without a fix).
pub fn smallest_upgrade(
    advisories: &[&Advisory],
    ecosystem: &Ecosystem,
    name: &str,
    current: &str,
) -> Option<String> {
    let current_parsed = ecosystem.parse_version(current)?;
    let mut candidates: Vec<(Option<Version>, String)> = advisories
        .iter()
        .flat_map(|advisory| fixed_versions(advisory, ecosystem, name))
        .map(|text| (ecosystem.parse_version(&text), text))
        .filter(|(parsed, _)| {
            parsed
                .as_ref()
                .and_then(|parsed| parsed.partial_cmp(&current_parsed))
                == Some(Ordering::Greater)
        })
        .collect();
    sort_versions(&mut candidates);
    candidates
        .into_iter()
        .map(|(_, text)| text)
        .find(|candidate| {
            advisories
                .iter()
                .all(|advisory| is_affected(advisory, ecosystem, name, candidate) == Some(false))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::osv::Package;

    fn advisory(
        ecosystem: &str,
        name: &str,
        kind: &str,
        events: &[(&str, &str)],
        versions: &[&str],
    ) -> Advisory {
        let events = events
            .iter()
            .map(|(which, version)| {
                let mut event = Event::default();
                let value = Some((*version).to_owned());
                match *which {
                    "introduced" => event.introduced = value,
                    "fixed" => event.fixed = value,
                    "last_affected" => event.last_affected = value,
                    _ => event.limit = value,
                }
                event
            })
            .collect();
        Advisory {
            id: "TEST-1".into(),
            affected: vec![Affected {
                package: Package {
                    ecosystem: ecosystem.into(),
                    name: name.into(),
                    purl: None,
                },
                ranges: vec![Range {
                    kind: kind.into(),
                    events,
                }],
                versions: versions.iter().map(|v| (*v).to_owned()).collect(),
                ..Affected::default()
            }],
            ..Advisory::default()
        }
    }

    #[test]
    fn introduced_fixed_and_multiple_branches() {
        let adv = advisory(
            "PyPI",
            "Django",
            "ECOSYSTEM",
            &[
                ("introduced", "0"),
                ("fixed", "3.2.5"),
                ("introduced", "4.0"),
                ("fixed", "4.0.2"),
            ],
            &[],
        );
        let py = Ecosystem::PyPI;
        assert_eq!(is_affected(&adv, &py, "django", "3.2.4"), Some(true));
        assert_eq!(is_affected(&adv, &py, "django", "3.2.5"), Some(false));
        assert_eq!(is_affected(&adv, &py, "django", "3.3"), Some(false));
        assert_eq!(is_affected(&adv, &py, "django", "4.0rc1"), Some(false));
        assert_eq!(is_affected(&adv, &py, "django", "4.0.1"), Some(true));
        assert_eq!(is_affected(&adv, &py, "flask", "4.0.1"), Some(false));
        assert_eq!(is_affected(&adv, &py, "django", "not a version"), None);
        assert_eq!(
            smallest_upgrade(&[&adv], &py, "django", "3.2.1").as_deref(),
            Some("3.2.5")
        );
        assert_eq!(
            smallest_upgrade(&[&adv], &py, "django", "4.0").as_deref(),
            Some("4.0.2")
        );
    }

    #[test]
    fn last_affected_limit_versions_and_withdrawn() {
        let cargo = Ecosystem::CratesIo;
        let adv = advisory(
            "crates.io",
            "foo",
            "SEMVER",
            &[("introduced", "1.0.0"), ("last_affected", "1.2.0")],
            &[],
        );
        assert_eq!(is_affected(&adv, &cargo, "foo", "1.2.0"), Some(true));
        assert_eq!(is_affected(&adv, &cargo, "foo", "1.2.1"), Some(false));
        assert_eq!(is_affected(&adv, &cargo, "foo", "0.9.0"), Some(false));
        let adv = advisory(
            "npm",
            "bar",
            "SEMVER",
            &[("introduced", "0"), ("limit", "2.0.0")],
            &["3.1.0"],
        );
        assert_eq!(
            is_affected(&adv, &Ecosystem::Npm, "bar", "1.9.9"),
            Some(true)
        );
        assert_eq!(
            is_affected(&adv, &Ecosystem::Npm, "bar", "2.0.0"),
            Some(false)
        );
        assert_eq!(
            is_affected(&adv, &Ecosystem::Npm, "bar", "3.1.0"),
            Some(true)
        );
        let mut withdrawn = adv.clone();
        withdrawn.withdrawn = Some("2024-01-01T00:00:00Z".into());
        assert_eq!(
            is_affected(&withdrawn, &Ecosystem::Npm, "bar", "1.0.0"),
            Some(false)
        );
    }

    #[test]
    fn no_fix_means_no_upgrade() {
        let adv = advisory(
            "crates.io",
            "rsa",
            "SEMVER",
            &[("introduced", "0.0.0-0")],
            &[],
        );
        assert_eq!(
            is_affected(&adv, &Ecosystem::CratesIo, "rsa", "0.9.6"),
            Some(true)
        );
        assert_eq!(
            smallest_upgrade(&[&adv], &Ecosystem::CratesIo, "rsa", "0.9.6"),
            None
        );
    }
}
