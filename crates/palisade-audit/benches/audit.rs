//! Matching and parsing speed: PEP 440 parsing/ordering and OSV range evaluation.

use criterion::{Criterion, criterion_group, criterion_main};
use palisade_audit::osv::{Advisory, Affected, Event, Package, Range};
use palisade_audit::version::{Ecosystem, Pep440Version};

fn pep440(c: &mut Criterion) {
    let versions = [
        "1.0",
        "1.0.post1",
        "2!1.0rc1.dev3+local.7",
        "v3.11.0-beta.2",
        "1.2.3.4.5",
    ];
    c.bench_function("pep440 parse+compare", |b| {
        b.iter(|| {
            let parsed: Vec<Pep440Version> =
                versions.iter().filter_map(|v| v.parse().ok()).collect();
            parsed.windows(2).filter(|w| w[0] < w[1]).count()
        })
    });
}

fn osv_range(c: &mut Criterion) {
    let events = (0..20)
        .flat_map(|minor| {
            [
                Event {
                    introduced: Some(format!("1.{minor}.0")),
                    ..Event::default()
                },
                Event {
                    fixed: Some(format!("1.{minor}.5")),
                    ..Event::default()
                },
            ]
        })
        .collect();
    let advisory = Advisory {
        id: "BENCH-1".into(),
        affected: vec![Affected {
            package: Package {
                ecosystem: "PyPI".into(),
                name: "pkg".into(),
                purl: None,
            },
            ranges: vec![Range {
                kind: "ECOSYSTEM".into(),
                events,
            }],
            ..Affected::default()
        }],
        ..Advisory::default()
    };
    c.bench_function("osv 40-event range", |b| {
        b.iter(|| {
            palisade_audit::matcher::is_affected(&advisory, &Ecosystem::PyPI, "pkg", "1.13.2")
        })
    });
}

criterion_group!(benches, pep440, osv_range);
criterion_main!(benches);
