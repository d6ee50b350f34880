//! Client-side pacing at Act-On's 5 requests per second, shared by every connection of the
//! process that uses the same account.
//!
//! Act-On documents "5 API calls per second" per account and answers 429 beyond it. The pacer
//! keeps a sliding window on our side that can only over-count the server's: a request holds
//! its slot from the moment it is sent until one window after its *response* arrived. The
//! server admitted the request somewhere between those two instants, so when a slot frees,
//! the request it held has certainly left the server's window too, whatever the latency. With
//! 100 ms of latency a slot cycles every 1.1 s, so five concurrent requests reach about 4.5
//! requests per second: within 10 % of the limit, never above it.
//!
//! Waiters are served first come, first served (a FIFO gate), so the pages of a scan get
//! their slots in page order and the in-order output never waits on a starved early page.
//! A 429 (possible when another process uses the same account) pauses everyone until
//! `Retry-After`.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

/// Act-On's documented limit: 5 API calls per second.
pub const DEFAULT_RATE: u32 = 5;
/// The window the limit is counted in.
pub const WINDOW: Duration = Duration::from_secs(1);

#[derive(Debug)]
struct State {
    /// Requests per window; 0 = unpaced.
    max: u32,
    window: Duration,
    /// Requests sent whose response has not arrived.
    in_flight: u32,
    /// When responses arrived, oldest first (only those still inside the window).
    done: VecDeque<Instant>,
    /// Nobody sends before this (after a 429).
    paused_until: Option<Instant>,
    /// Requests sent through this pacer since it was created.
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

/// A sliding-window pacer for one account against one API base URL.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap().block_on(async {
/// use std::time::Duration;
/// use source_acton::pacer::Pacer;
/// let pacer = Pacer::new(5, Duration::from_secs(1));
/// let start = tokio::time::Instant::now();
/// for _ in 0..10 {
///     pacer.acquire().await.finish();
/// }
/// // The sixth request waits until the first leaves the window.
/// assert_eq!(start.elapsed(), Duration::from_secs(1));
/// # });
/// ```
#[derive(Debug)]
pub struct Pacer {
    state: Mutex<State>,
    /// Serves waiters in arrival order (tokio's mutex is fair).
    gate: tokio::sync::Mutex<()>,
    changed: Notify,
}

/// A slot for one request; call [`Permit::finish`] when the response arrives. Dropping it
/// unfinished (a transport error, a cancelled scan) counts the request as answered now.
#[derive(Debug)]
pub struct Permit {
    pacer: Arc<Pacer>,
    finished: bool,
}

fn lock(m: &Mutex<State>) -> MutexGuard<'_, State> {
    // The state is counters and a queue; a panic elsewhere cannot leave it inconsistent.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Pacer {
    /// A pacer allowing `max` requests per `window`; `max = 0` does not pace at all.
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

    /// The process-wide pacer for `key` (API base URL plus account identity) at `max`
    /// requests per second, created on first use.
    pub fn shared(key: &str, max: u32) -> Arc<Self> {
        static REGISTRY: OnceLock<Mutex<HashMap<String, Arc<Pacer>>>> = OnceLock::new();
        let registry = REGISTRY.get_or_init(|| Mutex::new(HashMap::new()));
        let mut map = registry.lock().unwrap_or_else(PoisonError::into_inner);
        map.entry(format!("{key}|{max}"))
            .or_insert_with(|| Self::new(max, WINDOW))
            .clone()
    }

    /// Waits for a slot.
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
                                pacer: self.clone(),
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

    /// Stops every request through this pacer until `until` (after a 429).
    pub fn pause_until(&self, until: Instant) {
        let mut st = lock(&self.state);
        if st.paused_until.is_none_or(|p| p < until) {
            st.paused_until = Some(until);
        }
    }

    /// Requests currently counted in the window.
    pub fn in_window(&self) -> u32 {
        let mut st = lock(&self.state);
        st.prune(Instant::now());
        st.used()
    }

    /// Requests sent through this pacer since it was created.
    pub fn sent(&self) -> u64 {
        lock(&self.state).sent
    }

    /// The limit in force (`max` per `window`; 0 = unpaced).
    pub fn limit(&self) -> (u32, Duration) {
        let st = lock(&self.state);
        (st.max, st.window)
    }

    fn release(&self) {
        let mut st = lock(&self.state);
        let now = Instant::now();
        st.in_flight = st.in_flight.saturating_sub(1);
        if st.max > 0 {
            st.done.push_back(now);
        }
        st.prune(now);
        drop(st);
        self.changed.notify_waiters();
    }
}

impl Permit {
    /// Records that the response arrived.
    pub fn finish(mut self) {
        self.finished = true;
        self.pacer.release();
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if !self.finished {
            self.pacer.release();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_slot_is_held_until_one_window_after_the_response() {
        let p = Pacer::new(2, Duration::from_secs(1));
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
    async fn never_more_than_max_in_any_window() {
        let p = Pacer::new(5, Duration::from_secs(1));
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
    async fn a_pause_delays_everyone_and_zero_means_unpaced() {
        let p = Pacer::new(5, Duration::from_secs(1));
        let start = Instant::now();
        p.pause_until(start + Duration::from_secs(3));
        let _a = p.acquire().await;
        assert_eq!(Instant::now() - start, Duration::from_secs(3));
        let free = Pacer::new(0, Duration::from_secs(1));
        let permits: Vec<_> = futures::future::join_all((0..50).map(|_| free.acquire())).await;
        assert_eq!(free.sent(), 50);
        drop(permits);
        assert_eq!(Instant::now() - start, Duration::from_secs(3));
    }
}
