//! Rate limiters: an exact rolling window on the monotonic clock, and a daily counter
//! on the emulator clock.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// An exact sliding-log limiter: at most `limit` accepted requests in any `window`.
///
/// It keeps one timestamp per accepted request (at most `limit` of them), which is cheap
/// for HubSpot's 100-per-10-s and Act-On's 5-per-second and exact at the boundary, so
/// benchmarks can compare their throughput with the floor the limit allows.
#[derive(Debug, Default)]
pub(crate) struct SlidingWindow {
    hits: VecDeque<Instant>,
}

impl SlidingWindow {
    /// Records a request if allowed and returns the remaining allowance, or the time until
    /// the oldest request leaves the window.
    pub(crate) fn try_acquire(
        &mut self,
        now: Instant,
        limit: u32,
        window: Duration,
    ) -> Result<u32, Duration> {
        let limit = limit as usize;
        while let Some(&front) = self.hits.front() {
            if now.duration_since(front) >= window {
                self.hits.pop_front();
            } else {
                break;
            }
        }
        if self.hits.len() >= limit {
            let oldest = self.hits.front().copied().unwrap_or(now);
            return Err(window.saturating_sub(now.duration_since(oldest)));
        }
        self.hits.push_back(now);
        Ok((limit - self.hits.len()) as u32)
    }

    pub(crate) fn clear(&mut self) {
        self.hits.clear();
    }
}

/// Requests per UTC day of the emulator clock.
#[derive(Debug, Default)]
pub(crate) struct DailyCounter {
    day: i64,
    count: u64,
}

impl DailyCounter {
    /// Records a request if allowed and returns the remaining allowance, or the
    /// milliseconds until the next UTC midnight.
    pub(crate) fn try_acquire(&mut self, now_ms: i64, limit: u64) -> Result<u64, i64> {
        let day = now_ms.div_euclid(86_400_000);
        if day != self.day {
            self.day = day;
            self.count = 0;
        }
        if self.count >= limit {
            return Err((day + 1) * 86_400_000 - now_ms);
        }
        self.count += 1;
        Ok(limit - self.count)
    }

    pub(crate) fn clear(&mut self) {
        self.count = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_admits_limit_then_refuses_until_oldest_leaves() {
        let mut w = SlidingWindow::default();
        let t0 = Instant::now();
        let win = Duration::from_secs(10);
        for i in 0..3 {
            assert_eq!(
                w.try_acquire(t0 + Duration::from_millis(i), 3, win),
                Ok(2 - i as u32)
            );
        }
        let wait = w
            .try_acquire(t0 + Duration::from_secs(5), 3, win)
            .unwrap_err();
        assert_eq!(wait, Duration::from_secs(5));
        assert!(w.try_acquire(t0 + Duration::from_secs(10), 3, win).is_ok());
    }

    #[test]
    fn daily_counter_resets_at_midnight() {
        let mut d = DailyCounter::default();
        let noon = 86_400_000 * 100 + 43_200_000;
        assert_eq!(d.try_acquire(noon, 1), Ok(0));
        assert_eq!(d.try_acquire(noon, 1), Err(43_200_000));
        assert_eq!(d.try_acquire(noon + 43_200_000, 1), Ok(0));
    }
}
