//! Client-side pacing at Act-On's 5 requests per second, shared by every connection of the
//! process that uses the same account.
//!
//! Act-On documents "5 API calls per second" per account and answers 429 beyond it. The pacer
//! is [`source_http::ratelimit::RateLimiter`] at [`DEFAULT_RATE`] per [`WINDOW`]: a sliding
//! window on our side that can only over-count the server's, because a request holds its
//! slot from the moment it is sent until one window after its *response* arrived. With
//! 100 ms of latency a slot cycles every 1.1 s, so five concurrent requests reach about 4.5
//! requests per second: within 10 % of the limit, never above it.
//!
//! Waiters are served first come, first served, so the pages of a scan get their slots in
//! page order and the in-order output never waits on a starved early page. A 429 (possible
//! when another process uses the same account) pauses everyone until `Retry-After`.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap().block_on(async {
//! use std::time::Duration;
//! use source_acton::pacer::Pacer;
//! let pacer = Pacer::new(5, Duration::from_secs(1));
//! let start = tokio::time::Instant::now();
//! for _ in 0..10 {
//!     pacer.acquire().await.finish();
//! }
//! // The sixth request waits until the first leaves the window.
//! assert_eq!(start.elapsed(), Duration::from_secs(1));
//! # });
//! ```

use std::sync::Arc;
use std::time::Duration;

pub use source_http::ratelimit::Permit;

/// A sliding-window pacer for one account against one API base URL (`max = 0` does not
/// pace at all).
pub type Pacer = source_http::ratelimit::RateLimiter;

/// Act-On's documented limit: 5 API calls per second.
pub const DEFAULT_RATE: u32 = 5;
/// The window the limit is counted in.
pub const WINDOW: Duration = Duration::from_secs(1);

/// The process-wide pacer for `key` (API base URL plus account identity) at `max` requests
/// per second (0 = unpaced), created on first use.
pub fn shared(key: &str, max: u32) -> Arc<Pacer> {
    Pacer::shared(key, max, WINDOW)
}
