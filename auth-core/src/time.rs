//! Injected time: every expiry decision reads a [`TimeSource`], so tests move the clock by hand.

use std::fmt::Debug;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A source of wall-clock time in Unix epoch milliseconds.
pub trait TimeSource: Send + Sync + Debug {
    /// Now, as Unix epoch milliseconds.
    fn now_ms(&self) -> u64;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemTimeSource;

impl TimeSource for SystemTimeSource {
    fn now_ms(&self) -> u64 {
        // This is the one place that reads the system clock; everything else is injected.
        #[allow(clippy::disallowed_methods)]
        let now = SystemTime::now();
        now.duration_since(UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or(0)
    }
}

/// A shared handle to a time source.
pub type SharedTimeSource = Arc<dyn TimeSource>;

/// The system clock as a shared handle.
pub fn system_time() -> SharedTimeSource {
    Arc::new(SystemTimeSource)
}

/// A clock that only moves when told to (tests).
///
/// ```
/// use auth_core::time::{ManualTimeSource, TimeSource};
/// let clock = ManualTimeSource::new(1_000);
/// clock.advance_ms(500);
/// assert_eq!(clock.now_ms(), 1_500);
/// ```
#[derive(Debug, Default)]
pub struct ManualTimeSource {
    now: AtomicU64,
}

impl ManualTimeSource {
    /// A clock reading `now_ms`.
    pub fn new(now_ms: u64) -> Self {
        Self {
            now: AtomicU64::new(now_ms),
        }
    }

    /// Sets the time.
    pub fn set_ms(&self, now_ms: u64) {
        self.now.store(now_ms, Ordering::SeqCst);
    }

    /// Moves the time forward (or back, with a negative step via [`ManualTimeSource::set_ms`]).
    pub fn advance_ms(&self, step: u64) {
        self.now.fetch_add(step, Ordering::SeqCst);
    }
}

impl TimeSource for ManualTimeSource {
    fn now_ms(&self) -> u64 {
        self.now.load(Ordering::SeqCst)
    }
}
