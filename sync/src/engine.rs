//! One run: for each table, read what changed since its cursor, merge it into the destination
//! by key, find deletions, then save the table's new cursor.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use arrow_array::{BooleanArray, RecordBatch};
use futures::TryStreamExt;
use source_core::{DataSource, Filter, FilterSupport, Op, ScanRequest, TableInfo, Value};

use crate::dest::{Change, Destination, Store, Target};
use crate::error::{Error, Result};
use crate::merge;
use crate::state::{RunStats, State, TableState};
use crate::summary::TableSummary;

/// Cursor columns, in order of preference: HubDB rows' `UpdatedAt`, Act-On list records'
/// `__modified_date`. A table's cursor is the first of these it has whose `>` the source
/// pushes to the API.
pub const CURSOR_COLUMNS: &[&str] = &["UpdatedAt", "__modified_date"];

/// How long before a run's start a row may have been written yet not be visible to it (clock
/// difference with the API plus the API's write latency): the default `--skew`.
pub const DEFAULT_SKEW_MS: i64 = 60_000;

/// Reads the wall clock in Unix milliseconds (tests inject their own).
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// The system clock: the one place the sync engine reads it.
#[allow(clippy::disallowed_methods)]
pub fn system_clock() -> Clock {
    Arc::new(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
    })
}

/// What a run does besides copying.
#[derive(Clone)]
pub struct Options {
    /// Hold the cursor back to the run's start minus this many milliseconds (see
    /// [`DEFAULT_SKEW_MS`] and `docs/sync.md`).
    pub skew_ms: i64,
    /// Read every table whole this run (and treat keys not read as deleted).
    pub full: bool,
    /// Look for deleted rows on incremental runs (by the row count, then by listing keys).
    pub deletions: bool,
    /// The wall clock.
    pub clock: Clock,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            skew_ms: DEFAULT_SKEW_MS,
            full: false,
            deletions: true,
            clock: system_clock(),
        }
    }
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("skew_ms", &self.skew_ms)
            .field("full", &self.full)
            .field("deletions", &self.deletions)
            .finish_non_exhaustive()
    }
}

/// Progress of the table being synced, for a terminal line.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress<'a> {
    /// The table.
    pub table: &'a str,
    /// Rows read so far.
    pub rows: u64,
    /// Requests sent so far in this table's run, when the source counts them.
    pub requests: Option<u64>,
}

/// A sync run into one destination with one state file.
///
/// ```no_run
/// # async fn run(source: &dyn source_core::DataSource) -> Result<(), sync::Error> {
/// let mut run = sync::Run::open(
///     "parquet:warehouse".parse()?,
///     "sync-state.json".into(),
///     sync::Options::default(),
/// )?;
/// let summary = run.table("hubdb", None, source, "events", &mut |_| {}).await?;
/// println!("{summary}"); // events: 1,000 new, 0 changed, 0 deleted; 2 requests in 0.3 s (rate-limit floor 0.2 s)
/// # Ok(()) }
/// ```
pub struct Run {
    store: Box<dyn Store>,
    state: State,
    state_path: PathBuf,
    options: Options,
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Run")
            .field("state_path", &self.state_path)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Run {
    /// Opens the destination and reads the state file (absent: every table starts with a
    /// full read).
    pub fn open(destination: Destination, state_path: PathBuf, options: Options) -> Result<Self> {
        let state = State::load(&state_path)?;
        Ok(Self {
            store: destination.open()?,
            state,
            state_path,
            options,
        })
    }

    /// The state as it stands (saved after every table).
    pub fn state(&self) -> &State {
        &self.state
    }

    /// Syncs `table` of `source` (connection `connection`; `namespace` prefixes the
    /// destination table's name as `namespace__table` when several connections share one
    /// destination), then saves the table's state.
    ///
    /// The columns written are those `source.table` reports, and sources read their catalog
    /// once per connection: open a new connection for each run (as `connector … sync` does)
    /// so that columns added at the source since are seen.
    pub async fn table(
        &mut self,
        connection: &str,
        namespace: Option<&str>,
        source: &dyn DataSource,
        table: &str,
        progress: &mut dyn FnMut(&Progress<'_>),
    ) -> Result<TableSummary> {
        let started = Instant::now();
        let started_ms = (self.options.clock)();
        let before = source.request_stats();
        let src = |e| Error::Source {
            table: table.to_owned(),
            source: e,
        };
        let info = source.table(table).await.map_err(src)?;
        let previous = self.state.table(connection, &info.name).cloned();
        let target = target(source, &info, namespace)?;
        let cursor = match (&target.cursor, &previous) {
            (Some(c), Some(p)) if !self.options.full && p.cursor_column.as_ref() == Some(c) => {
                p.cursor
            }
            _ => None,
        };
        let existing = self.store.existing(&target)?;
        let sent = |s: &dyn DataSource| {
            s.request_stats()
                .zip(before)
                .map(|(now, then)| now.sent.saturating_sub(then.sent))
        };
        let rows = read(source, &info, &target, cursor, &mut |rows| {
            progress(&Progress {
                table: &info.name,
                rows,
                requests: sent(source),
            })
        })
        .await?;
        let counts = classify(&target, &rows, &existing)?;
        let deleted = if cursor.is_none() {
            // A whole read: every stored key not read is gone.
            existing
                .keys()
                .filter(|k| !counts.read_keys.contains(*k))
                .cloned()
                .collect()
        } else if self.options.deletions {
            let stored = existing.len() as u64 + counts.new;
            find_deleted(source, &info, &target, stored, &existing, &counts.read_keys).await?
        } else {
            HashSet::new()
        };
        let max_seen = rows
            .iter()
            .filter_map(|b| target.cursor.as_ref().map(|c| merge::millis(b, c)))
            .flatten()
            .flatten()
            .max();
        let deleted_count = deleted.len() as u64;
        self.store.apply(&target, Change { rows, deleted })?;
        let requests = sent(source);
        let stats = RunStats {
            started_ms,
            read: counts.read,
            new: counts.new,
            changed: counts.changed,
            deleted: deleted_count,
            requests,
            seconds: started.elapsed().as_secs_f64(),
            floor_seconds: requests
                .zip(source.request_stats())
                .and_then(|(n, s)| s.floor_seconds(n)),
        };
        let next = next_cursor(cursor, max_seen, started_ms, self.options.skew_ms);
        let entry = self.state.table_mut(connection, &info.name);
        *entry = TableState {
            key: target.key.clone(),
            cursor_column: target.cursor.clone(),
            cursor: target.cursor.as_ref().and(next),
            columns: columns_seen(previous.as_ref(), &target),
            last_run: Some(stats),
        };
        self.state.save(&self.state_path)?;
        Ok(TableSummary {
            table: info.name.clone(),
            stats,
        })
    }
}

/// The destination's view of `info`: its name, key and cursor column.
fn target(source: &dyn DataSource, info: &TableInfo, namespace: Option<&str>) -> Result<Target> {
    let keys: Vec<&str> = info.key_columns().map(|c| c.name.as_str()).collect();
    let [key] = keys.as_slice() else {
        return Err(Error::NoKey {
            table: info.name.clone(),
            keys: keys.join(", "),
        });
    };
    Ok(Target {
        name: match namespace {
            Some(ns) => format!("{ns}__{}", info.name),
            None => info.name.clone(),
        },
        source_table: info.name.clone(),
        key: (*key).to_owned(),
        cursor: cursor_column(source, info),
        schema: info.schema(),
    })
}

/// The first of [`CURSOR_COLUMNS`] that `info` has and whose `>` the source pushes.
pub fn cursor_column(source: &dyn DataSource, info: &TableInfo) -> Option<String> {
    CURSOR_COLUMNS.iter().find_map(|name| {
        let col = info.column(name).ok()?;
        let probe = Filter::new(col.name.clone(), Op::Gt, Value::TimestampMs(0));
        (source.filter_support(info, &probe) != FilterSupport::Unsupported)
            .then(|| col.name.clone())
    })
}

/// The next cursor: the largest value seen, but never past the run's start minus the skew
/// (a row written during the run, or not yet visible at its start, is read again next time),
/// and never behind the cursor this run started from.
fn next_cursor(
    from: Option<i64>,
    max_seen: Option<i64>,
    started_ms: i64,
    skew_ms: i64,
) -> Option<i64> {
    let held_back = started_ms.saturating_sub(skew_ms).saturating_sub(1);
    let candidate = max_seen.map(|m| m.min(held_back));
    match (from, candidate) {
        (Some(f), Some(c)) => Some(f.max(c)),
        (f, c) => c.or(f),
    }
}

/// Every row changed since `cursor` (all rows when `None`), re-checked against the cursor
/// when the source applies it loosely.
async fn read(
    source: &dyn DataSource,
    info: &TableInfo,
    target: &Target,
    cursor: Option<i64>,
    progress: &mut dyn FnMut(u64),
) -> Result<Vec<RecordBatch>> {
    let src = |e| Error::Source {
        table: info.name.clone(),
        source: e,
    };
    let mut request = ScanRequest::all();
    let mut recheck = None;
    if let (Some(column), Some(from)) = (&target.cursor, cursor) {
        let filter = Filter::new(column.clone(), Op::Gt, Value::TimestampMs(from));
        if source.filter_support(info, &filter) == FilterSupport::Loose {
            recheck = Some((column.clone(), from));
        }
        request = request.filter(filter);
    }
    let mut stream = source.scan(&info.name, request).await.map_err(src)?;
    let mut out = Vec::new();
    let mut rows = 0u64;
    while let Some(batch) = stream.try_next().await.map_err(src)? {
        let batch = match &recheck {
            Some((column, from)) => after_cursor(&info.name, &batch, column, *from)?,
            None => batch,
        };
        rows += batch.num_rows() as u64;
        out.push(batch);
        progress(rows);
    }
    Ok(out)
}

/// The rows of `batch` whose `column` is greater than `from`.
fn after_cursor(table: &str, batch: &RecordBatch, column: &str, from: i64) -> Result<RecordBatch> {
    let keep: BooleanArray = merge::millis(batch, column)
        .into_iter()
        .map(|v| Some(v.is_some_and(|v| v > from)))
        .collect();
    arrow_select::filter::filter_record_batch(batch, &keep)
        .map_err(|e| Error::merge(table, format!("cannot apply the cursor: {e}")))
}

/// What the rows read are, against the destination.
struct Counts {
    read: u64,
    new: u64,
    changed: u64,
    read_keys: HashSet<String>,
}

/// Counts rows by key: new (key not stored), changed (stored with another cursor value), or
/// re-read unchanged. A key read twice in one run counts once.
fn classify(
    target: &Target,
    rows: &[RecordBatch],
    existing: &HashMap<String, Option<String>>,
) -> Result<Counts> {
    let mut latest: HashMap<String, Option<String>> = HashMap::new();
    let mut read = 0u64;
    for batch in rows {
        read += batch.num_rows() as u64;
        let keys = merge::texts(&target.source_table, batch, &target.key)?;
        let cursors = match &target.cursor {
            Some(c) => merge::texts(&target.source_table, batch, c)?,
            None => vec![None; keys.len()],
        };
        for (k, c) in keys.into_iter().zip(cursors) {
            if let Some(k) = k {
                latest.insert(k, c);
            }
        }
    }
    let (mut new, mut changed) = (0, 0);
    for (k, c) in &latest {
        match existing.get(k) {
            None => new += 1,
            // Without a cursor every stored row read again counts as changed.
            Some(old) if target.cursor.is_none() || old != c => changed += 1,
            Some(_) => {}
        }
    }
    Ok(Counts {
        read,
        new,
        changed,
        read_keys: latest.into_keys().collect(),
    })
}

/// Keys stored but gone at the source. Asks the row count first (one small request where the
/// source can answer it): when the destination would hold no more rows than the source, no
/// key was deleted. Otherwise lists every key (a one-column read).
async fn find_deleted(
    source: &dyn DataSource,
    info: &TableInfo,
    target: &Target,
    stored: u64,
    existing: &HashMap<String, Option<String>>,
    read_keys: &HashSet<String>,
) -> Result<HashSet<String>> {
    let src = |e| Error::Source {
        table: info.name.clone(),
        source: e,
    };
    if let Some(count) = source.row_count(&info.name).await.map_err(src)?
        && count >= stored
    {
        return Ok(HashSet::new());
    }
    let mut live: HashSet<String> = read_keys.clone();
    let mut stream = source
        .scan(&info.name, ScanRequest::all().project([target.key.clone()]))
        .await
        .map_err(src)?;
    while let Some(batch) = stream.try_next().await.map_err(src)? {
        live.extend(
            merge::texts(&info.name, &batch, &target.key)?
                .into_iter()
                .flatten(),
        );
    }
    Ok(existing
        .keys()
        .filter(|k| !live.contains(*k))
        .cloned()
        .collect())
}

/// The columns written so far: the previous ones, then any the source added.
fn columns_seen(previous: Option<&TableState>, target: &Target) -> Vec<String> {
    let mut columns = previous.map(|p| p.columns.clone()).unwrap_or_default();
    for f in target.schema.fields() {
        if !columns.iter().any(|c| c == f.name()) {
            columns.push(f.name().clone());
        }
    }
    columns
}

#[cfg(test)]
mod tests {
    use super::next_cursor;

    #[test]
    fn the_cursor_is_held_back_to_the_start_minus_the_skew() {
        // Nothing changed near the start: the largest value seen.
        assert_eq!(next_cursor(None, Some(1_000), 10_000, 500), Some(1_000));
        // Rows written during the run: held back so they are read again.
        assert_eq!(next_cursor(None, Some(9_900), 10_000, 500), Some(9_499));
        // Never backwards, and nothing read keeps the old cursor.
        assert_eq!(
            next_cursor(Some(9_600), Some(9_900), 10_000, 500),
            Some(9_600)
        );
        assert_eq!(next_cursor(Some(7), None, 10_000, 500), Some(7));
        assert_eq!(next_cursor(None, None, 10_000, 500), None);
    }
}
