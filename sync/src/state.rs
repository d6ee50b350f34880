//! The state file: per connection and table, the cursor, the key, the columns seen and the
//! last run's numbers. JSON, rewritten atomically (temp file + rename) after each table, so an
//! interrupted run leaves the previous state of every table it had not finished.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The version written in new state files; older or newer ones are refused, not guessed at.
const VERSION: u32 = 1;

/// Every connection's tables.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("state.json");
/// let mut state = sync::State::load(&path).unwrap();
/// state.table_mut("hubdb", "events").cursor = Some(1_704_067_200_000);
/// state.save(&path).unwrap();
/// assert_eq!(sync::State::load(&path).unwrap().table("hubdb", "events").unwrap().cursor, Some(1_704_067_200_000));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// The file format's version.
    pub version: u32,
    /// By connection name (the profile's name, or the source's for a single connection).
    pub connections: BTreeMap<String, ConnectionState>,
}

/// One connection's tables.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ConnectionState {
    /// By table name.
    pub tables: BTreeMap<String, TableState>,
}

/// One table's cursor and what the last run did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TableState {
    /// The column merged by.
    pub key: String,
    /// The cursor column (`UpdatedAt`, `__modified_date`); `None` when every run reads the whole
    /// table.
    pub cursor_column: Option<String>,
    /// The next run reads rows whose cursor column is **greater than** this (Unix ms): the
    /// largest value seen, held back to the run's start minus the skew allowance (see
    /// `docs/sync.md`).
    pub cursor: Option<i64>,
    /// The columns written so far, in order (a column added at the source is appended).
    pub columns: Vec<String>,
    /// The last completed run.
    pub last_run: Option<RunStats>,
}

/// The numbers of one table's run, as the summary prints them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct RunStats {
    /// When the run started (Unix ms, local clock).
    pub started_ms: i64,
    /// Rows read from the source.
    pub read: u64,
    /// Rows whose key was not in the destination.
    pub new: u64,
    /// Rows whose key was, with another cursor value.
    pub changed: u64,
    /// Keys removed because the source no longer has them.
    pub deleted: u64,
    /// Requests sent to the API, when the source counts them.
    pub requests: Option<u64>,
    /// Wall time of the run in seconds.
    pub seconds: f64,
    /// The least time the requests could take at the API's rate limit.
    pub floor_seconds: Option<f64>,
}

impl State {
    /// Reads `path`, or an empty state when it does not exist.
    pub fn load(path: &Path) -> Result<Self> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Self {
                    version: VERSION,
                    ..Self::default()
                });
            }
            Err(e) => return Err(Error::io(path, e)),
        };
        let state: State = serde_json::from_str(&text).map_err(|e| Error::State {
            path: path.to_owned(),
            message: format!("not a sync state file ({e})"),
        })?;
        if state.version != VERSION {
            return Err(Error::State {
                path: path.to_owned(),
                message: format!("version {} is not the supported {VERSION}", state.version),
            });
        }
        Ok(state)
    }

    /// Writes the state to `path` atomically: a temporary file beside it, flushed, then renamed
    /// over it.
    pub fn save(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self).map_err(|e| Error::io(path, e))?;
        write_atomically(path, text.as_bytes())
    }

    /// One table's state, if it was synced before.
    pub fn table(&self, connection: &str, table: &str) -> Option<&TableState> {
        self.connections.get(connection)?.tables.get(table)
    }

    /// One table's state, created empty when absent.
    pub fn table_mut(&mut self, connection: &str, table: &str) -> &mut TableState {
        self.connections
            .entry(connection.to_owned())
            .or_default()
            .tables
            .entry(table.to_owned())
            .or_default()
    }
}

/// Writes `bytes` to a temporary file next to `path` and renames it over `path`, so readers
/// and interrupted runs see the old file or the new one, never a part.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let tmp = temp_path(path);
    let result = (|| {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(path, e)
    })
}

/// `dir/.name.tmp` beside `path`.
pub(crate) fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp"))
}
