//! Client-side pacing at HubSpot's burst limit, shared by every connection of the process.
//!
//! HubSpot counts requests per app in a rolling window (100 per 10 s by default; 190 or 250
//! on higher tiers) and reports it in `X-HubSpot-RateLimit-Max`,
//! `-Interval-Milliseconds` and `-Remaining`. The limiter is
//! [`source_http::ratelimit::RateLimiter`], started at [`DEFAULT_MAX`] per [`DEFAULT_WINDOW`]
//! and fed those headers after every response ([`HEADER_PREFIX`]): a request holds a slot
//! from the moment it is sent until one window after its *response* arrived, so our count is
//! never below the server's and we never send the request that would be refused. When
//! `-Remaining` shows requests we did not send (another process using the same app), they
//! are counted too. A 429 (still possible when other clients share the app) pauses every
//! request of the app until `Retry-After`.

use std::sync::Arc;
use std::time::Duration;

pub use source_http::ratelimit::{Observed, Permit, RateLimiter};

/// HubSpot's documented default for private and free apps: 100 requests per 10 s.
pub const DEFAULT_MAX: u32 = 100;
/// The default rolling window.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(10);
/// The prefix of HubSpot's rate-limit headers (see [`Observed::from_headers`]).
pub const HEADER_PREFIX: &str = "x-hubspot-ratelimit-";

/// The process-wide limiter for `key` (API base URL plus app identity), created at the
/// default limit on first use.
pub fn shared(key: &str) -> Arc<RateLimiter> {
    RateLimiter::shared(key, DEFAULT_MAX, DEFAULT_WINDOW)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderValue};

    #[test]
    fn reads_hubspots_headers() {
        let mut h = HeaderMap::new();
        h.insert("X-HubSpot-RateLimit-Max", HeaderValue::from_static("190"));
        h.insert(
            "X-HubSpot-RateLimit-Interval-Milliseconds",
            HeaderValue::from_static("10000"),
        );
        h.insert(
            "X-HubSpot-RateLimit-Remaining",
            HeaderValue::from_static("7"),
        );
        assert_eq!(
            Observed::from_headers(&h, HEADER_PREFIX),
            Observed {
                max: Some(190),
                window_ms: Some(10_000),
                remaining: Some(7),
            }
        );
    }
}
