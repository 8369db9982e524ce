//! The `Stripe-Version` header: which forms we accept and echo back.
//!
//! Stripe rejects versions it does not know; we cannot know every version Stripe
//! has published, so we accept any well-formed one: a real calendar date
//! (`2024-06-20`), optionally a lowercase release name (`.basil`), optionally
//! `; flag=value` suffixes as Connect.js's preview components send
//! (`2026-07-29.dahlia; embedded_connect_beta=v2`). The header is echoed as sent.

use axum::http::HeaderValue;

use super::error::ApiError;

/// The API version answered when a request names none: the one this server
/// renders objects as (see [`crate::domain::wire::API_VERSION`]).
pub const DEFAULT_API_VERSION: &str = crate::domain::wire::API_VERSION;

/// Accepts a well-formed `Stripe-Version` header value.
pub fn validate(value: &HeaderValue) -> Result<HeaderValue, ApiError> {
    let reject = || ApiError::InvalidApiVersion {
        version: String::from_utf8_lossy(value.as_bytes()).into_owned(),
    };
    let text = value.to_str().map_err(|_| reject())?;
    if is_well_formed(text) {
        Ok(value.clone())
    } else {
        Err(reject())
    }
}

/// Whether `text` is a well-formed Stripe API version (`2026-07-29.dahlia`,
/// with optional `; flag=value` parts).
pub fn is_well_formed(text: &str) -> bool {
    let mut parts = text.split(';');
    let Some(version) = parts.next() else {
        return false;
    };
    let flags_ok = parts.all(|flag| {
        let Some((name, value)) = flag.trim().split_once('=') else {
            return false;
        };
        is_token(name) && is_token(value)
    });
    let (date, release) = match version.split_once('.') {
        Some((date, release)) => (date, Some(release)),
        None => (version, None),
    };
    let release_ok =
        release.is_none_or(|name| !name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase()));
    flags_ok && release_ok && is_calendar_date(date)
}

fn is_token(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
}

/// `YYYY-MM-DD` naming a real day from 2011 (Stripe's first API version) on.
fn is_calendar_date(text: &str) -> bool {
    let bytes = text.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return false;
    }
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        let digits = &text[range];
        digits
            .bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| digits.parse().ok())?
    };
    let (Some(year), Some(month), Some(day)) = (number(0..4), number(5..7), number(8..10)) else {
        return false;
    };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    year >= 2011 && (1..=days_in_month).contains(&day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdk_and_connect_js_versions_are_accepted() {
        for version in [
            "2026-10-28.endive",
            "2023-10-16",
            "2026-07-29.dahlia; embedded_connect_beta=v2",
            "2024-02-29",
            "2025-01-27.acacia;foo=bar",
        ] {
            assert!(is_well_formed(version), "{version}");
        }
    }

    #[test]
    fn malformed_versions_are_rejected() {
        for version in [
            "",
            "latest",
            "2026-13-01",
            "2023-02-29",
            "2026-10-28.",
            "2026-10-28.Endive",
            "2026-10-28; flag",
            "26-10-28",
            "2010-01-01",
        ] {
            assert!(!is_well_formed(version), "{version}");
        }
    }
}
