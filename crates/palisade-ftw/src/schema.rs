//! The go-ftw YAML formats: test files (ftw-tests-schema v2) and platform
//! overrides files.
//!
//! Only what the runner uses is modelled; unknown keys are ignored so newer
//! schema revisions still load. `headers` keeps document order (a YAML
//! mapping read as an ordered list); scalar header values of any YAML type
//! are taken as their text.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};

/// One YAML test file.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TestFile {
    /// File metadata.
    #[serde(default, deserialize_with = "null_as_default")]
    pub meta: Meta,
    /// The rule these tests target.
    #[serde(default)]
    pub rule_id: u64,
    /// The tests.
    #[serde(default)]
    pub tests: Vec<Test>,
}

/// Test file metadata.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Meta {
    /// Author(s).
    #[serde(default)]
    pub author: Option<String>,
    /// `enabled: false` disables the whole file.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
}

/// One test: one or more stages (requests).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Test {
    /// Test id, relative to the file's rule id.
    #[serde(default)]
    pub test_id: Option<u64>,
    /// Old-style title (`123456-1`).
    #[serde(default)]
    pub test_title: Option<String>,
    /// Description.
    #[serde(default)]
    pub desc: Option<String>,
    /// Stages, run in order.
    #[serde(default)]
    pub stages: Vec<Stage>,
}

/// One request and what its outcome must be.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Stage {
    /// The request.
    #[serde(default, deserialize_with = "null_as_default")]
    pub input: Input,
    /// The expectations.
    #[serde(default, deserialize_with = "null_as_default")]
    pub output: Output,
}

/// How to build the request.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Input {
    /// Destination address (ignored: the runner targets the gateway under test).
    #[serde(default)]
    pub dest_addr: Option<String>,
    /// Destination port (ignored likewise).
    #[serde(default)]
    pub port: Option<u16>,
    /// `http` or `https` (only http is supported).
    #[serde(default)]
    pub protocol: Option<String>,
    /// Method, default `GET`.
    #[serde(default, deserialize_with = "opt_scalar_string")]
    pub method: Option<String>,
    /// Request target, default `/`.
    #[serde(default, deserialize_with = "opt_scalar_string")]
    pub uri: Option<String>,
    /// Version text, default `HTTP/1.1`.
    #[serde(default, deserialize_with = "opt_scalar_string")]
    pub version: Option<String>,
    /// Headers in document order.
    #[serde(default, deserialize_with = "ordered_headers")]
    pub headers: Vec<(String, String)>,
    /// Newer schema: explicitly ordered headers.
    #[serde(default)]
    pub ordered_headers: Vec<HeaderTuple>,
    /// Body text.
    #[serde(default, deserialize_with = "opt_scalar_string")]
    pub data: Option<String>,
    /// Body, base64.
    #[serde(default)]
    pub encoded_data: Option<String>,
    /// Whole request, base64, sent verbatim.
    #[serde(default)]
    pub encoded_request: Option<String>,
    /// Whole request, sent verbatim (old schema).
    #[serde(default)]
    pub raw_request: Option<String>,
    /// Keep cookies from the previous stage (not needed by CRS; ignored).
    #[serde(default)]
    pub save_cookie: Option<bool>,
    /// Add Content-Length / Connection (default true).
    #[serde(default)]
    pub autocomplete_headers: Option<bool>,
    /// Old schema flag; ignored.
    #[serde(default)]
    pub stop_magic: Option<bool>,
}

/// One header of `ordered_headers`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct HeaderTuple {
    /// Name.
    #[serde(deserialize_with = "scalar_string")]
    pub name: String,
    /// Value.
    #[serde(default, deserialize_with = "scalar_string")]
    pub value: String,
}

/// What the stage's outcome must be.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
pub struct Output {
    /// Expected status (one, or any of a list).
    #[serde(default, deserialize_with = "status_list")]
    pub status: Vec<u16>,
    /// Text the raw response must contain.
    #[serde(default)]
    pub response_contains: Option<String>,
    /// Regex the WAF log must match (old schema).
    #[serde(default)]
    pub log_contains: Option<String>,
    /// Regex the WAF log must not match (old schema).
    #[serde(default)]
    pub no_log_contains: Option<String>,
    /// Log expectations.
    #[serde(default, deserialize_with = "null_as_default")]
    pub log: LogExpectations,
    /// The request must fail (connection error, unparseable response).
    #[serde(default)]
    pub expect_error: Option<bool>,
    /// Retry once on failure.
    #[serde(default)]
    pub retry_once: Option<bool>,
    /// Only the expected ids may appear.
    #[serde(default)]
    pub isolated: Option<bool>,
}

/// Expectations on the WAF's log for one request.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
pub struct LogExpectations {
    /// Rule ids that must have matched.
    #[serde(default, alias = "expect_id", deserialize_with = "id_list")]
    pub expect_ids: Vec<u64>,
    /// Rule ids that must not have matched.
    #[serde(default, alias = "no_expect_id", deserialize_with = "id_list")]
    pub no_expect_ids: Vec<u64>,
    /// Regex the log text must match.
    #[serde(default)]
    pub match_regex: Option<String>,
    /// Regex the log text must not match.
    #[serde(default)]
    pub no_match_regex: Option<String>,
}

/// A go-ftw platform overrides file.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct OverridesFile {
    /// Schema version.
    #[serde(default)]
    pub version: Option<String>,
    /// The overrides.
    #[serde(default)]
    pub test_overrides: Vec<TestOverride>,
}

/// One override: replaces the output of matching stages.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TestOverride {
    /// Rule id of the test file.
    pub rule_id: u64,
    /// Test ids (all tests when empty).
    #[serde(default)]
    pub test_ids: Vec<u64>,
    /// Stage indexes, 0-based (all stages when empty).
    #[serde(default)]
    pub stage_ids: Vec<u64>,
    /// Why.
    #[serde(default)]
    pub reason: String,
    /// Retry once.
    #[serde(default)]
    pub retry_once: Option<bool>,
    /// Replacement output.
    #[serde(default, deserialize_with = "null_as_default")]
    pub output: Output,
}

/// A mapping that may be written as null (`meta:` with nothing under it).
fn null_as_default<'de, D: Deserializer<'de>, T: Deserialize<'de> + Default>(
    deserializer: D,
) -> Result<T, D::Error> {
    Option::<T>::deserialize(deserializer).map(Option::unwrap_or_default)
}

/// Text of any YAML scalar (strings, numbers, booleans); null is empty.
struct ScalarText;

impl<'de> Visitor<'de> for ScalarText {
    type Value = String;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a scalar")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_owned())
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<String, E> {
        Ok(v)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_unit<E: de::Error>(self) -> Result<String, E> {
        Ok(String::new())
    }
    fn visit_none<E: de::Error>(self) -> Result<String, E> {
        Ok(String::new())
    }
}

fn scalar_string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    deserializer.deserialize_any(ScalarText)
}

fn opt_scalar_string<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    deserializer.deserialize_any(ScalarText).map(Some)
}

struct ScalarSeed;

impl<'de> de::DeserializeSeed<'de> for ScalarSeed {
    type Value = String;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<String, D::Error> {
        deserializer.deserialize_any(ScalarText)
    }
}

fn ordered_headers<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<(String, String)>, D::Error> {
    struct Headers;
    impl<'de> Visitor<'de> for Headers {
        type Value = Vec<(String, String)>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a mapping of header names to values")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut headers = Vec::new();
            while let Some(name) = map.next_key_seed(ScalarSeed)? {
                let value = map.next_value_seed(ScalarSeed)?;
                headers.push((name, value));
            }
            Ok(headers)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }
    }
    deserializer.deserialize_any(Headers)
}

/// A number or a list of numbers.
struct NumberList;

impl<'de> Visitor<'de> for NumberList {
    type Value = Vec<u64>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number or a list of numbers")
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(vec![v])
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        u64::try_from(v).map(|v| vec![v]).map_err(E::custom)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        v.trim().parse::<u64>().map(|v| vec![v]).map_err(E::custom)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element::<u64>()? {
            out.push(v);
        }
        Ok(out)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }
}

fn id_list<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u64>, D::Error> {
    deserializer.deserialize_any(NumberList)
}

fn status_list<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u16>, D::Error> {
    let numbers = deserializer.deserialize_any(NumberList)?;
    numbers
        .into_iter()
        .map(|n| u16::try_from(n).map_err(de::Error::custom))
        .collect()
}
