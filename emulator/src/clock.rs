//! The emulators' wall clock: the system clock plus an adjustable offset.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, UNIX_EPOCH};

/// The wall clock both emulators read for token expiry, timestamps and daily limits.
///
/// It is the system clock shifted by an offset that tests move forward with
/// [`Clock::advance`] (or `POST /_emulator/clock/advance`), so "the token expired"
/// needs no sleeping. Rate-limit windows use the monotonic clock instead, because
/// benchmarks compare real throughput against them.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    offset_ms: Arc<AtomicI64>,
}

impl Clock {
    /// A clock that reads the system time with no offset.
    pub fn new() -> Self {
        Self::default()
    }

    /// Milliseconds since the Unix epoch, offset included.
    pub fn now_ms(&self) -> i64 {
        system_now_ms().saturating_add(self.offset_ms.load(Ordering::Relaxed))
    }

    /// Moves the clock forward (or backward, with a negative amount) by `ms` milliseconds.
    pub fn advance_ms(&self, ms: i64) {
        self.offset_ms.fetch_add(ms, Ordering::Relaxed);
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        self.advance_ms(i64::try_from(by.as_millis()).unwrap_or(i64::MAX));
    }

    /// The current offset from the system clock in milliseconds.
    pub fn offset_ms(&self) -> i64 {
        self.offset_ms.load(Ordering::Relaxed)
    }
}

// The one place that reads the system wall clock; everything else goes through `Clock`
// so tests can move time.
#[allow(clippy::disallowed_methods)]
fn system_now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
