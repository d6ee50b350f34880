//! Incremental sync of a connection's tables into a local warehouse: Parquet files or a
//! SQLite database, with a state file holding each table's cursor.
//!
//! A run, per table:
//! 1. picks the cursor column: the first of [`CURSOR_COLUMNS`] (`UpdatedAt` on HubDB,
//!    `__modified_date` on Act-On lists) whose `>` the source pushes to the API;
//! 2. reads the rows whose cursor is greater than the stored cursor (every row on the first
//!    run, with `full`, or for tables without a cursor column);
//! 3. merges them by the table's key into the destination ([`Destination`]): the row read last
//!    wins; a column added at the source is added there;
//! 4. finds deletions: on a whole read, stored keys not read; otherwise, when the source's row
//!    count ([`source_core::DataSource::row_count`]) is below what the destination would hold,
//!    stored keys missing from a listing of the key column;
//! 5. stores the new cursor (the largest value seen, held back to the run's start minus the
//!    skew allowance, so a row written during the run is read again next time, not lost) and
//!    writes the state file atomically.
//!
//! Each table's destination write and state write are atomic (temporary file and rename, or
//! one SQLite transaction), and a re-read row replaces itself by key, so an interrupted run
//! resumes without duplicates. The engine never sees a connection string: no secret reaches
//! the state file, the summary or an error.
//!
//! See `docs/sync.md` for the cursor semantics (inclusive or exclusive bounds, precision,
//! clock skew) and the command line (`connector <source> sync`).
//!
//! ```no_run
//! # async fn run(source: &dyn source_core::DataSource) -> Result<(), sync::Error> {
//! let mut run = sync::Run::open("sqlite:warehouse.db".parse()?, "state.json".into(), sync::Options::default())?;
//! for table in ["events", "organizers"] {
//!     let summary = run.table("hubdb", None, source, table, &mut |_| {}).await?;
//!     println!("{summary}");
//! }
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]

mod dest;
mod engine;
mod error;
mod merge;
mod state;
mod summary;

pub use dest::Destination;
pub use engine::{
    CURSOR_COLUMNS, Clock, DEFAULT_SKEW_MS, Options, Progress, Run, cursor_column, system_clock,
};
pub use error::{Error, Result};
pub use state::{ConnectionState, RunStats, State, TableState};
pub use summary::{TableSummary, thousands};
