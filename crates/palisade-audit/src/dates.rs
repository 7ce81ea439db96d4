//! Calendar arithmetic for ignore-file expiry and advisory-data age, without a date library:
//! UTC civil dates from and to day counts (`palisade_core::civil`) and RFC 3339 timestamps.

use palisade_core::civil::{civil_from_days, days_from_civil};

/// Today's UTC date as `YYYY-MM-DD`.
pub fn today_utc() -> String {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    date_from_unix_days(i64::try_from(seconds / 86_400).unwrap_or(0))
}

/// The civil date of a day count since 1970-01-01.
pub fn date_from_unix_days(days: i64) -> String {
    let (year, month, day) = civil_from_days(days);
    format!("{year:04}-{month:02}-{day:02}")
}

/// Days since 1970-01-01 of a civil date.
pub fn unix_days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    days_from_civil(year, i64::from(month), i64::from(day))
}

/// Seconds since the Unix epoch of an RFC 3339 UTC timestamp (`2023-11-07T20:24:23.9Z`; a
/// numeric offset is applied). `None` when it does not parse.
pub fn rfc3339_to_unix(text: &str) -> Option<i64> {
    let text = text.trim();
    let bytes = text.as_bytes();
    if bytes.len() < 19
        || bytes[4] != b'-'
        || bytes[7] != b'-'
        || !matches!(bytes[10], b'T' | b't' | b' ')
    {
        return None;
    }
    let number = |range: std::ops::Range<usize>| text.get(range)?.parse::<i64>().ok();
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut rest = &text[19..];
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(fraction.len());
        rest = &fraction[digits..];
    }
    let offset = match rest {
        "Z" | "z" | "" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let hours: i64 = rest.get(1..3)?.parse().ok()?;
            let minutes: i64 = rest.get(4..6)?.parse().ok()?;
            sign * (hours * 3600 + minutes * 60)
        }
    };
    let days = unix_days_from_civil(year, u32::try_from(month).ok()?, u32::try_from(day).ok()?);
    Some(days * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(date_from_unix_days(0), "1970-01-01");
        assert_eq!(date_from_unix_days(19_782), "2024-02-29");
        assert_eq!(unix_days_from_civil(2024, 2, 29), 19_782);
        assert_eq!(rfc3339_to_unix("1970-01-02T00:00:01Z"), Some(86_401));
        assert_eq!(
            rfc3339_to_unix("2023-11-07T20:24:23.946863Z"),
            Some(1_699_388_663)
        );
        assert_eq!(rfc3339_to_unix("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(rfc3339_to_unix("yesterday"), None);
    }
}
