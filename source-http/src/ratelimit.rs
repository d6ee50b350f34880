//! Client-side pacing at an API's request limit, shared by every connection of the process
//! that spends the same allowance (one app, one account).
//!
//! APIs count requests in a rolling window (HubSpot: 100 per 10 s by default, announced in
//! `X-HubSpot-RateLimit-*` headers; Act-On: 5 per second) and answer 429 beyond it. The
//! limiter keeps the same window on our side, counted so that it can only over-count the
//! server's: a request holds a slot from the moment it is sent until one window after its
//! *response* arrived. The server admitted the request somewhere between those two instants,
//! so when a slot frees, the request it held has certainly left the server's window too,
//! whatever the latency. With 100 ms of latency and a 1 s window a slot cycles every 1.1 s, so
//! five concurrent requests reach about 4.5 requests per second: within 10 % of the limit,
//! never above it.
//!
//! - The limit can be learned from the responses ([`Observed`], passed to
//!   [`Permit::finish_with`]): a new maximum or window replaces the one in force, and requests
//!   the server counted that we did not send (another process using the same app) are counted
//!   too, as if made now.
//! - Waiters are served first come, first served (a FIFO gate), so the pages of a scan get
//!   their slots in page order and the in-order output never waits on a starved early page.
//! - A 429 (still possible when other clients share the allowance) pauses every request
//!   through the limiter until `Retry-After` ([`RateLimiter::pause_until`]).
//! - `max == 0` does not pace at all (for emulators without a limit); requests are still
//!   counted by [`RateLimiter::sent`].
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap().block_on(async {
//! use std::time::Duration;
//! use source_http::ratelimit::RateLimiter;
//! let limiter = RateLimiter::new(5, Duration::from_secs(1));
//! let start = tokio::time::Instant::now();
//! for _ in 0..10 {
//!     limiter.acquire().await.finish();
//! }
//! // The sixth request waits until the first leaves the window.
//! assert_eq!(start.elapsed(), Duration::from_secs(1));
//! assert_eq!(limiter.sent(), 10);
//! # });
//! ```

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

#[derive(Debug)]
struct State {
    /// Requests per window; 0 = unpaced.
    max: u32,
    window: Duration,
    /// Requests sent whose response has not arrived.
    in_flight: u32,
    /// When responses arrived (or phantom entries for other clients' requests), oldest first
    /// (only those still inside the window).
    done: VecDeque<Instant>,
    /// Nobody sends before this (after a 429).
    paused_until: Option<Instant>,
    /// Requests sent through this limiter since it was created.
    sent: u64,
}

impl State {
    fn prune(&mut self, now: Instant) {
        while let Some(&t) = self.done.front() {
            if now.saturating_duration_since(t) >= self.window {
                self.done.pop_front();
            } else {
                break;
            }
        }
    }

    fn used(&self) -> u32 {
        self.in_flight
            .saturating_add(u32::try_from(self.done.len()).unwrap_or(u32::MAX))
    }
}

/// A sliding-window limiter for one allowance (app or account) against one API base URL.
#[derive(Debug)]
pub struct RateLimiter {
    state: Mutex<State>,
    /// Serves waiters in arrival order (tokio's mutex is fair).
    gate: tokio::sync::Mutex<()>,
    changed: Notify,
}

/// A slot for one request; call [`Permit::finish`] (or [`Permit::finish_with`]) when the
/// response arrives. Dropping it unfinished (a transport error, a cancelled scan) counts the
/// request as answered now.
#[derive(Debug)]
pub struct Permit {
    limiter: Arc<RateLimiter>,
    finished: bool,
}

/// What a response said about the limit (all optional; the default says nothing).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Observed {
    /// Requests allowed per window (HubSpot: `X-HubSpot-RateLimit-Max`).
    pub max: Option<u32>,
    /// The window in milliseconds (HubSpot: `X-HubSpot-RateLimit-Interval-Milliseconds`).
    pub window_ms: Option<u64>,
    /// Requests left in the window (HubSpot: `X-HubSpot-RateLimit-Remaining`).
    pub remaining: Option<u32>,
}

impl Observed {
    /// Reads `{prefix}max`, `{prefix}interval-milliseconds` and `{prefix}remaining` from
    /// `headers` (names are case-insensitive; unreadable values are ignored).
    ///
    /// ```
    /// use reqwest::header::{HeaderMap, HeaderValue};
    /// use source_http::ratelimit::Observed;
    /// let mut h = HeaderMap::new();
    /// h.insert("X-HubSpot-RateLimit-Max", HeaderValue::from_static("10"));
    /// h.insert("X-HubSpot-RateLimit-Remaining", HeaderValue::from_static(" 4 "));
    /// let o = Observed::from_headers(&h, "x-hubspot-ratelimit-");
    /// assert_eq!((o.max, o.window_ms, o.remaining), (Some(10), None, Some(4)));
    /// ```
    pub fn from_headers(headers: &reqwest::header::HeaderMap, prefix: &str) -> Self {
        let num = |name: &str| {
            headers
                .get(format!("{prefix}{name}").to_ascii_lowercase())
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        Self {
            max: num("max").and_then(|v| u32::try_from(v).ok()),
            window_ms: num("interval-milliseconds"),
            remaining: num("remaining").and_then(|v| u32::try_from(v).ok()),
        }
    }
}

fn lock(m: &Mutex<State>) -> MutexGuard<'_, State> {
    // The state is counters and a queue; a panic elsewhere cannot leave it inconsistent.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl RateLimiter {
    /// A limiter allowing `max` requests per `window` (until a response says otherwise);
    /// `max = 0` does not pace at all.
    pub fn new(max: u32, window: Duration) -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(State {
                max,
                window,
                in_flight: 0,
                done: VecDeque::new(),
                paused_until: None,
                sent: 0,
            }),
            gate: tokio::sync::Mutex::new(()),
            changed: Notify::new(),
        })
    }

    /// The process-wide limiter for `key` (API base URL plus app or account identity) at
    /// `max` requests per `window`, created on first use. Connections asking for another
    /// initial limit get another limiter.
    pub fn shared(key: &str, max: u32, window: Duration) -> Arc<Self> {
        type Registry = Mutex<HashMap<(String, u32, Duration), Arc<RateLimiter>>>;
        static REGISTRY: OnceLock<Registry> = OnceLock::new();
        let registry = REGISTRY.get_or_init(|| Mutex::new(HashMap::new()));
        let mut map = registry.lock().unwrap_or_else(PoisonError::into_inner);
        map.entry((key.to_owned(), max, window))
            .or_insert_with(|| Self::new(max, window))
            .clone()
    }

    /// Waits for a slot (in arrival order).
    pub async fn acquire(self: &Arc<Self>) -> Permit {
        let _turn = self.gate.lock().await;
        loop {
            // Register interest before checking, so a response between the check and the
            // wait still wakes us.
            let notified = self.changed.notified();
            let wait = {
                let mut st = lock(&self.state);
                let now = Instant::now();
                st.prune(now);
                match st.paused_until {
                    Some(until) if until > now => Some(until),
                    _ => {
                        st.paused_until = None;
                        if st.max == 0 || st.used() < st.max {
                            st.in_flight += 1;
                            st.sent += 1;
                            return Permit {
                                limiter: self.clone(),
                                finished: false,
                            };
                        }
                        // Full: the oldest answered request leaves the window first; if all
                        // are in flight, a response wakes us.
                        st.done.front().map(|t| *t + st.window)
                    }
                }
            };
            match wait {
                Some(at) => {
                    tokio::select! {
                        _ = tokio::time::sleep_until(at) => {}
                        _ = notified => {}
                    }
                }
                None => notified.await,
            }
        }
    }

    /// Stops every request through this limiter until `until` (after a 429).
    pub fn pause_until(&self, until: Instant) {
        let mut st = lock(&self.state);
        if st.paused_until.is_none_or(|p| p < until) {
            st.paused_until = Some(until);
        }
    }

    /// Requests currently counted in the window (for tests and diagnostics).
    pub fn in_window(&self) -> u32 {
        let mut st = lock(&self.state);
        st.prune(Instant::now());
        st.used()
    }

    /// Requests sent through this limiter since it was created.
    pub fn sent(&self) -> u64 {
        lock(&self.state).sent
    }

    /// The limit in force (`max` per `window`; 0 = unpaced).
    pub fn limit(&self) -> (u32, Duration) {
        let st = lock(&self.state);
        (st.max, st.window)
    }

    fn release(&self, observed: Observed) {
        let mut st = lock(&self.state);
        let now = Instant::now();
        st.in_flight = st.in_flight.saturating_sub(1);
        if let Some(max) = observed.max.filter(|m| *m > 0) {
            st.max = max;
        }
        if let Some(ms) = observed.window_ms.filter(|m| *m > 0) {
            st.window = Duration::from_millis(ms);
        }
        if st.max > 0 {
            st.done.push_back(now);
        }
        st.prune(now);
        if let Some(remaining) = observed.remaining {
            // The server has counted `max - remaining`; if that is more than we know of,
            // someone else shares the allowance: count their requests as if made now.
            let server_used = st.max.saturating_sub(remaining);
            let unknown = server_used.saturating_sub(st.used());
            for _ in 0..unknown {
                st.done.push_back(now);
            }
        }
        drop(st);
        self.changed.notify_waiters();
    }
}

impl Permit {
    /// Records that the response arrived.
    pub fn finish(self) {
        self.finish_with(Observed::default());
    }

    /// Records the response and what its headers said about the limit.
    pub fn finish_with(mut self, observed: Observed) {
        self.finished = true;
        self.limiter.release(observed);
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if !self.finished {
            self.limiter.release(Observed::default());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn holds_the_window_from_the_response() {
        let l = RateLimiter::new(2, Duration::from_secs(10));
        let a = l.acquire().await;
        let b = l.acquire().await;
        let start = Instant::now();
        tokio::time::advance(Duration::from_secs(1)).await;
        a.finish();
        tokio::time::advance(Duration::from_secs(2)).await;
        b.finish();
        let _c = l.acquire().await;
        // The first slot frees 10 s after its response (at 1 s).
        assert_eq!(Instant::now() - start, Duration::from_secs(11));
    }

    #[tokio::test(start_paused = true)]
    async fn a_slot_is_held_until_one_window_after_the_response() {
        let p = RateLimiter::new(2, Duration::from_secs(1));
        let a = p.acquire().await;
        let b = p.acquire().await;
        let start = Instant::now();
        tokio::time::advance(Duration::from_millis(100)).await;
        a.finish();
        tokio::time::advance(Duration::from_millis(300)).await;
        b.finish();
        let _c = p.acquire().await;
        // The first slot frees 1 s after its response (at 100 ms).
        assert_eq!(Instant::now() - start, Duration::from_millis(1100));
    }

    #[tokio::test(start_paused = true)]
    async fn learns_the_limit_and_foreign_usage_from_headers() {
        let l = RateLimiter::new(100, Duration::from_secs(10));
        let p = l.acquire().await;
        p.finish_with(Observed {
            max: Some(10),
            window_ms: Some(1000),
            remaining: Some(5),
        });
        assert_eq!(l.limit(), (10, Duration::from_secs(1)));
        // We sent one; the server counted five: four belong to someone else.
        assert_eq!(l.in_window(), 5);
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(l.in_window(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn never_more_than_max_in_any_window() {
        let p = RateLimiter::new(5, Duration::from_secs(1));
        let start = Instant::now();
        let mut sends = Vec::new();
        let tasks: Vec<_> = (0..23)
            .map(|_| {
                let p = p.clone();
                tokio::spawn(async move {
                    let permit = p.acquire().await;
                    let sent = Instant::now();
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    permit.finish();
                    sent
                })
            })
            .collect();
        for t in tasks {
            sends.push(t.await.expect("task") - start);
        }
        sends.sort();
        for w in sends.windows(6) {
            assert!(w[5] - w[0] >= Duration::from_secs(1), "{sends:?}");
        }
        // 23 requests in 5 waves of 1.1 s: the last wave starts at 4.4 s.
        assert_eq!(*sends.last().expect("sends"), Duration::from_millis(4400));
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_delays_everyone() {
        let l = RateLimiter::new(100, Duration::from_secs(10));
        let start = Instant::now();
        l.pause_until(start + Duration::from_secs(3));
        let _p = l.acquire().await;
        assert_eq!(Instant::now() - start, Duration::from_secs(3));
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_delays_everyone_and_zero_means_unpaced() {
        let p = RateLimiter::new(5, Duration::from_secs(1));
        let start = Instant::now();
        p.pause_until(start + Duration::from_secs(3));
        let _a = p.acquire().await;
        assert_eq!(Instant::now() - start, Duration::from_secs(3));
        let free = RateLimiter::new(0, Duration::from_secs(1));
        let permits: Vec<_> = futures::future::join_all((0..50).map(|_| free.acquire())).await;
        assert_eq!(free.sent(), 50);
        drop(permits);
        assert_eq!(Instant::now() - start, Duration::from_secs(3));
    }

    #[test]
    fn the_registry_shares_per_key_and_limit() {
        let a = RateLimiter::shared("https://api.example|app:1", 100, Duration::from_secs(10));
        let b = RateLimiter::shared("https://api.example|app:1", 100, Duration::from_secs(10));
        let c = RateLimiter::shared("https://api.example|app:1", 5, Duration::from_secs(1));
        let d = RateLimiter::shared("https://api.example|app:2", 100, Duration::from_secs(10));
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &c));
        assert!(!Arc::ptr_eq(&a, &d));
    }
}
