//! What can go wrong in a sync, each error naming the table, file or cursor and what to do.

use std::path::PathBuf;

/// A sync failure. Messages name the table, file or cursor at fault and what to do; none
/// holds a token or any other connection secret (the engine never sees the connection string).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The source refused or failed a request.
    #[error("{table}: {source}")]
    Source {
        /// The table being synced.
        table: String,
        /// What the source said.
        #[source]
        source: source_core::Error,
    },
    /// The table has no single key column to merge by.
    #[error(
        "{table}: no single key column to merge by (keys: {keys}); sync needs a table with one key column"
    )]
    NoKey {
        /// The table.
        table: String,
        /// Its key columns, comma-separated (may be empty).
        keys: String,
    },
    /// The destination text is not `parquet:DIR` or `sqlite:FILE`.
    #[error("unknown destination {given:?}: use parquet:DIR or sqlite:FILE")]
    Destination {
        /// As written.
        given: String,
    },
    /// Reading or writing a file failed.
    #[error("{}: {message}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What failed.
        message: String,
    },
    /// The state file cannot be read.
    #[error(
        "state file {}: {message}; fix it, or move it away to start over with a full read",
        path.display()
    )]
    State {
        /// The state file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The data already in the destination does not fit the table any more.
    #[error("{table}: {message}")]
    Merge {
        /// The table.
        table: String,
        /// What does not fit, and what to do.
        message: String,
    },
    /// SQLite refused a statement.
    #[error("{table} in {}: {message}", path.display())]
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// The table.
        table: String,
        /// SQLite's message.
        message: String,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, e: impl std::fmt::Display) -> Self {
        Error::Io {
            path: path.into(),
            message: e.to_string(),
        }
    }

    pub(crate) fn merge(table: &str, message: impl Into<String>) -> Self {
        Error::Merge {
            table: table.to_owned(),
            message: message.into(),
        }
    }
}
