//! Client-side pacing at HubSpot's burst limit, shared by every connection of the process.
//!
//! HubSpot counts requests per app in a rolling window (100 per 10 s by default; 190 or 250
//! on higher tiers) and reports it in `X-HubSpot-RateLimit-Max`,
//! `-Interval-Milliseconds` and `-Remaining`. The limiter keeps the same window on our side:
//! a request holds a slot from the moment it is sent, and the slot stays counted until one
//! window after its *response* arrived. The server saw the request no later than that, so
//! our count is never below the server's and we never send the request that would be
//! refused. When `-Remaining` shows requests we did not send (another process using the same
//! app), they are counted too. A 429 (still possible when other clients share the app)
//! pauses every request of the app until `Retry-After`.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

/// HubSpot's documented default for private and free apps: 100 requests per 10 s.
pub const DEFAULT_MAX: u32 = 100;
/// The default rolling window.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(10);

#[derive(Debug)]
struct State {
    max: u32,
    window: Duration,
    /// Requests sent whose response has not arrived.
    in_flight: u32,
    /// When responses arrived (or phantom entries for other clients' requests), oldest first.
    done: VecDeque<Instant>,
    /// Nobody sends before this (after a 429).
    paused_until: Option<Instant>,
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

/// A rolling-window limiter for one app (and token) against one API base URL.
#[derive(Debug)]
pub struct RateLimiter {
    state: Mutex<State>,
    changed: Notify,
}

/// A slot for one request; report the response with [`Permit::finish`]. Dropping it without
/// finishing (a transport error, a cancelled scan) still counts the request.
#[derive(Debug)]
pub struct Permit {
    limiter: Arc<RateLimiter>,
    finished: bool,
}

/// What the rate-limit headers of a response said.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Observed {
    /// `X-HubSpot-RateLimit-Max`.
    pub max: Option<u32>,
    /// `X-HubSpot-RateLimit-Interval-Milliseconds`.
    pub window_ms: Option<u64>,
    /// `X-HubSpot-RateLimit-Remaining`.
    pub remaining: Option<u32>,
}

impl Observed {
    /// Reads the headers of `response`.
    pub fn from_headers(headers: &reqwest::header::HeaderMap) -> Self {
        let num = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        Self {
            max: num("x-hubspot-ratelimit-max").and_then(|v| u32::try_from(v).ok()),
            window_ms: num("x-hubspot-ratelimit-interval-milliseconds"),
            remaining: num("x-hubspot-ratelimit-remaining").and_then(|v| u32::try_from(v).ok()),
        }
    }
}

fn lock(m: &Mutex<State>) -> MutexGuard<'_, State> {
    // The state is a counter and a queue; a panic elsewhere cannot leave it inconsistent.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl RateLimiter {
    /// A limiter allowing `max` requests per `window` until the server says otherwise.
    pub fn new(max: u32, window: Duration) -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(State {
                max: max.max(1),
                window,
                in_flight: 0,
                done: VecDeque::new(),
                paused_until: None,
            }),
            changed: Notify::new(),
        })
    }

    /// The process-wide limiter for `key` (API base URL plus app identity), created at the
    /// default limit on first use.
    pub fn shared(key: &str) -> Arc<Self> {
        static REGISTRY: OnceLock<Mutex<HashMap<String, Arc<RateLimiter>>>> = OnceLock::new();
        let registry = REGISTRY.get_or_init(|| Mutex::new(HashMap::new()));
        let mut map = registry.lock().unwrap_or_else(PoisonError::into_inner);
        map.entry(key.to_owned())
            .or_insert_with(|| Self::new(DEFAULT_MAX, DEFAULT_WINDOW))
            .clone()
    }

    /// Waits for a slot.
    pub async fn acquire(self: &Arc<Self>) -> Permit {
        loop {
            // Register interest before checking, so a release between the check and the
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
                        if st.used() < st.max {
                            st.in_flight += 1;
                            return Permit {
                                limiter: self.clone(),
                                finished: false,
                            };
                        }
                        // Full: the oldest finished request leaves the window first; if all
                        // are in flight, a response will wake us.
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

    /// Stops every request of this app until `until` (after a 429).
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

    /// The limit in force (`max` per `window`).
    pub fn limit(&self) -> (u32, Duration) {
        let st = lock(&self.state);
        (st.max, st.window)
    }

    fn release(&self, observed: Observed) {
        let mut st = lock(&self.state);
        let now = Instant::now();
        st.in_flight = st.in_flight.saturating_sub(1);
        st.done.push_back(now);
        if let Some(max) = observed.max.filter(|m| *m > 0) {
            st.max = max;
        }
        if let Some(ms) = observed.window_ms.filter(|m| *m > 0) {
            st.window = Duration::from_millis(ms);
        }
        st.prune(now);
        if let Some(remaining) = observed.remaining {
            // The server has counted `max - remaining`; if that is more than we know of,
            // someone else shares the app: count their requests as if made now.
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
    /// Records the response and what its headers said about the limit.
    pub fn finish(mut self, observed: Observed) {
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
        a.finish(Observed::default());
        tokio::time::advance(Duration::from_secs(2)).await;
        b.finish(Observed::default());
        let _c = l.acquire().await;
        // The first slot frees 10 s after its response (at 1 s).
        assert_eq!(Instant::now() - start, Duration::from_secs(11));
    }

    #[tokio::test(start_paused = true)]
    async fn learns_the_limit_and_foreign_usage_from_headers() {
        let l = RateLimiter::new(100, Duration::from_secs(10));
        let p = l.acquire().await;
        p.finish(Observed {
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
    async fn a_pause_delays_everyone() {
        let l = RateLimiter::new(100, Duration::from_secs(10));
        let start = Instant::now();
        l.pause_until(start + Duration::from_secs(3));
        let _p = l.acquire().await;
        assert_eq!(Instant::now() - start, Duration::from_secs(3));
    }
}
