//! A minimal MaxMind DB writer for tests: an IPv4 tree (24-bit records) over a
//! few networks, each with a GeoIP2-City-like record (country, location, ASN).
//! Format: <https://maxmind.github.io/MaxMind-DB/>.

use std::net::Ipv4Addr;

/// A data-section value.
pub enum Value {
    Str(String),
    F64(f64),
    U16(u16),
    U32(u32),
    U64(u64),
    Map(Vec<(String, Value)>),
    Array(Vec<Value>),
}

fn control(out: &mut Vec<u8>, kind: u8, size: usize) {
    // Types above 7 are "extended": type 0 in the control byte, then kind - 7.
    let (first_type, extended) = if kind > 7 {
        (0, Some(kind - 7))
    } else {
        (kind, None)
    };
    let (size_bits, extra): (u8, Vec<u8>) = match size {
        0..=28 => (size as u8, Vec::new()),
        29..=284 => (29, vec![(size - 29) as u8]),
        _ => {
            let rest = size - 285;
            (30, vec![(rest >> 8) as u8, rest as u8])
        }
    };
    out.push((first_type << 5) | size_bits);
    if let Some(ext) = extended {
        out.push(ext);
    }
    out.extend(extra);
}

fn uint(out: &mut Vec<u8>, kind: u8, value: u64) {
    let bytes = value.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    control(out, kind, 8 - skip);
    out.extend(&bytes[skip..]);
}

pub fn encode(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Str(s) => {
            control(out, 2, s.len());
            out.extend(s.as_bytes());
        }
        Value::F64(f) => {
            control(out, 3, 8);
            out.extend(f.to_be_bytes());
        }
        Value::U16(v) => uint(out, 5, u64::from(*v)),
        Value::U32(v) => uint(out, 6, u64::from(*v)),
        Value::U64(v) => uint(out, 9, *v),
        Value::Map(entries) => {
            control(out, 7, entries.len());
            for (key, value) in entries {
                encode(out, &Value::Str(key.clone()));
                encode(out, value);
            }
        }
        Value::Array(items) => {
            control(out, 11, items.len());
            for item in items {
                encode(out, item);
            }
        }
    }
}

/// Where an address block is.
pub struct Place {
    pub network: Ipv4Addr,
    pub prefix: u8,
    pub country: &'static str,
    pub latitude: f64,
    pub longitude: f64,
    pub asn: u32,
    pub as_org: &'static str,
}

fn record(place: &Place) -> Value {
    let s = |t: &str| Value::Str(t.to_owned());
    Value::Map(vec![
        (
            "country".into(),
            Value::Map(vec![("iso_code".into(), s(place.country))]),
        ),
        (
            "location".into(),
            Value::Map(vec![
                ("latitude".into(), Value::F64(place.latitude)),
                ("longitude".into(), Value::F64(place.longitude)),
            ]),
        ),
        ("autonomous_system_number".into(), Value::U32(place.asn)),
        ("autonomous_system_organization".into(), s(place.as_org)),
    ])
}

#[derive(Clone, Copy)]
enum Rec {
    Empty,
    Node(usize),
    Data(usize),
}

/// The bytes of an `.mmdb` file holding `places`.
pub fn build(places: &[Place]) -> Vec<u8> {
    let mut data = Vec::new();
    let mut nodes: Vec<[Rec; 2]> = vec![[Rec::Empty, Rec::Empty]];
    for place in places {
        let offset = data.len();
        encode(&mut data, &record(place));
        let bits = u32::from(place.network);
        let mut node = 0;
        for depth in 0..place.prefix {
            let bit = ((bits >> (31 - depth)) & 1) as usize;
            if depth + 1 == place.prefix {
                nodes[node][bit] = Rec::Data(offset);
            } else {
                node = match nodes[node][bit] {
                    Rec::Node(next) => next,
                    _ => {
                        nodes.push([Rec::Empty, Rec::Empty]);
                        let next = nodes.len() - 1;
                        nodes[node][bit] = Rec::Node(next);
                        next
                    }
                };
            }
        }
    }
    let node_count = nodes.len();
    let mut out = Vec::new();
    for node in &nodes {
        for rec in node {
            let value = match *rec {
                Rec::Empty => node_count,
                Rec::Node(i) => i,
                Rec::Data(offset) => node_count + 16 + offset,
            } as u32;
            out.extend(&value.to_be_bytes()[1..]);
        }
    }
    out.extend([0u8; 16]);
    out.extend(&data);
    out.extend(b"\xAB\xCD\xEFMaxMind.com");
    let s = |t: &str| Value::Str(t.to_owned());
    let metadata = Value::Map(vec![
        ("binary_format_major_version".into(), Value::U16(2)),
        ("binary_format_minor_version".into(), Value::U16(0)),
        ("build_epoch".into(), Value::U64(1_780_000_000)),
        ("database_type".into(), s("Palisade-Test-City")),
        (
            "description".into(),
            Value::Map(vec![("en".into(), s("test database"))]),
        ),
        ("ip_version".into(), Value::U16(4)),
        ("languages".into(), Value::Array(vec![s("en")])),
        ("node_count".into(), Value::U32(node_count as u32)),
        ("record_size".into(), Value::U16(24)),
    ]);
    encode(&mut out, &metadata);
    out
}
