//! Checks over responses the crawler already fetched: no extra requests.

pub mod clickjacking;
pub mod cookies;
pub mod directory_listing;
pub mod info_leak;
pub mod mixed_content;
pub mod security_headers;
pub mod serialized;

use crate::http::Exchange;

/// The origin of the exchange's URL (`scheme://host[:port]`), where per-site findings go.
pub(crate) fn origin(exchange: &Exchange) -> String {
    exchange.request.url.origin().ascii_serialization()
}

/// `true` for a successful HTML page (what browsers render and headers protect).
pub(crate) fn is_html_page(exchange: &Exchange) -> bool {
    (200..300).contains(&exchange.status) && exchange.is_html()
}
