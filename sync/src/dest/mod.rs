//! Where synced rows go: a directory of Parquet files or a SQLite database.

mod parquet;
mod sqlite;

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;

use crate::error::{Error, Result};

/// A destination, as `--to` names it.
///
/// ```
/// use sync::Destination;
/// let d: Destination = "parquet:out".parse().unwrap();
/// assert_eq!(d, Destination::Parquet("out".into()));
/// assert_eq!("sqlite:w.db".parse::<Destination>().unwrap().to_string(), "sqlite:w.db");
/// assert!("duckdb:x".parse::<Destination>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// A directory with one sub-directory per table holding `data.parquet`.
    Parquet(PathBuf),
    /// A SQLite database file with one table per synced table, upserted by key.
    Sqlite(PathBuf),
}

impl FromStr for Destination {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let bad = || Error::Destination {
            given: s.to_owned(),
        };
        let (kind, path) = s.split_once(':').ok_or_else(bad)?;
        if path.is_empty() {
            return Err(bad());
        }
        match kind.to_ascii_lowercase().as_str() {
            "parquet" => Ok(Destination::Parquet(path.into())),
            "sqlite" => Ok(Destination::Sqlite(path.into())),
            _ => Err(bad()),
        }
    }
}

impl fmt::Display for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Destination::Parquet(p) => write!(f, "parquet:{}", p.display()),
            Destination::Sqlite(p) => write!(f, "sqlite:{}", p.display()),
        }
    }
}

impl Destination {
    /// Opens the destination for a run.
    pub(crate) fn open(&self) -> Result<Box<dyn Store>> {
        Ok(match self {
            Destination::Parquet(dir) => Box::new(parquet::ParquetStore::new(dir.clone())),
            Destination::Sqlite(file) => Box::new(sqlite::SqliteStore::open(file)?),
        })
    }
}

/// One table as the destination sees it.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    /// The table's name in the destination (`events`, or `portal_eu__events` with several
    /// connections).
    pub(crate) name: String,
    /// The source table, for messages.
    pub(crate) source_table: String,
    /// The key column.
    pub(crate) key: String,
    /// The cursor column, when there is one.
    pub(crate) cursor: Option<String>,
    /// The source's columns now.
    pub(crate) schema: SchemaRef,
}

/// What one run changes in one table.
#[derive(Debug, Default)]
pub(crate) struct Change {
    /// Rows read (new, changed, or re-read unchanged), in reading order.
    pub(crate) rows: Vec<RecordBatch>,
    /// Keys to remove.
    pub(crate) deleted: HashSet<String>,
}

/// A destination opened for a run. `existing` then `apply`, once per table; `apply` is
/// atomic: after a crash the table holds the old rows or the new ones.
pub(crate) trait Store {
    /// Key → cursor text of every row stored for `target` (empty when the table is new).
    fn existing(&mut self, target: &Target) -> Result<HashMap<String, Option<String>>>;
    /// Upserts `change.rows` by key (the row read last wins) and deletes `change.deleted`.
    fn apply(&mut self, target: &Target, change: Change) -> Result<()>;
}
