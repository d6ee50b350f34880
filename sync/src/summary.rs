//! The line a run prints per table.

use std::fmt;

use crate::state::RunStats;

/// One table's result, displayed as the summary line:
///
/// ```
/// use sync::{RunStats, TableSummary};
/// let s = TableSummary {
///     table: "events".into(),
///     stats: RunStats {
///         new: 1_000, changed: 12, deleted: 3, requests: Some(4),
///         seconds: 0.81, floor_seconds: Some(0.4), ..RunStats::default()
///     },
/// };
/// assert_eq!(s.to_string(), "events: 1,000 new, 12 changed, 3 deleted; 4 requests in 0.8 s (rate-limit floor 0.4 s)");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct TableSummary {
    /// The table.
    pub table: String,
    /// What the run did.
    pub stats: RunStats,
}

/// `1234567` → `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl fmt::Display for TableSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.stats;
        write!(
            f,
            "{}: {} new, {} changed, {} deleted",
            self.table,
            thousands(s.new),
            thousands(s.changed),
            thousands(s.deleted)
        )?;
        match s.requests {
            Some(1) => write!(f, "; 1 request")?,
            Some(n) => write!(f, "; {} requests", thousands(n))?,
            None => {}
        }
        write!(f, " in {:.1} s", s.seconds)?;
        if let Some(floor) = s.floor_seconds {
            write!(f, " (rate-limit floor {floor:.1} s)")?;
        }
        Ok(())
    }
}
