//! Page comparison for differential checks. A probe's response echoes the probe value, so
//! before comparing, every echo of the injected value (raw, HTML-escaped, URL-encoded) is
//! put back to the same rendering of the original value; whitespace runs are collapsed.
//! Two pages are the same when status and normalised body are equal: strict on purpose,
//! differential checks then repeat with fresh constants instead of trusting a ratio.

use crate::http::Exchange;

/// The renderings of a value an application may echo.
fn renderings(value: &str) -> [String; 5] {
    let html_numeric = value
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;");
    let html_named = value
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;");
    let url_encoded = url::form_urlencoded::byte_serialize(value.as_bytes()).collect::<String>();
    let percent20 = url_encoded.replace('+', "%20");
    [
        value.to_owned(),
        html_numeric,
        html_named,
        url_encoded,
        percent20,
    ]
}

/// `body` with echoes of `injected` replaced by `original` and whitespace collapsed.
pub fn normalise(body: &str, injected: &str, original: &str) -> String {
    let mut text = body.to_owned();
    if !injected.is_empty() && injected != original {
        for (from, to) in renderings(injected).iter().zip(renderings(original).iter()) {
            if !from.is_empty() && text.contains(from.as_str()) {
                text = text.replace(from.as_str(), to);
            }
        }
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Do `probe` (sent with `injected`) and `reference` (sent with `reference_value`) show the
/// same page once echoes are accounted for?
pub fn same_page(
    probe: &Exchange,
    injected: &str,
    reference: &Exchange,
    reference_value: &str,
    original: &str,
) -> bool {
    probe.status == reference.status
        && normalise(&probe.body, injected, original)
            == normalise(&reference.body, reference_value, original)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echoes_are_neutralised() {
        let a = normalise(
            "Results for 1&#39; AND &#39;5&#39;=&#39;5:  alice",
            "1' AND '5'='5",
            "1",
        );
        assert_eq!(a, "Results for 1: alice");
        let b = normalise("Results for 1' AND '5'='6: ", "1' AND '5'='6", "1");
        assert_eq!(b, "Results for 1:");
        assert_ne!(a, b);
    }
}
