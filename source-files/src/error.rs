//! The source's own failures, and how each becomes a [`source_core::Error`] of the right
//! [`ErrorKind`]. Failures every source shares (unknown table or column, unsupported filter)
//! use `source_core::Error`'s own variants instead.

use std::io;
use std::path::{Path, PathBuf};

use source_core::ErrorKind;

/// What went wrong with a folder, a file or a value. Messages name the property, file, line
/// or column involved and say what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FilesError {
    /// `Folder` names nothing.
    #[error(
        "Folder {}: no such directory; set Folder to an existing directory of .csv files",
        path.display()
    )]
    FolderMissing {
        /// The configured folder.
        path: PathBuf,
    },
    /// `Folder` names a file.
    #[error(
        "Folder {}: not a directory; set Folder to the directory that holds the .csv files",
        path.display()
    )]
    NotAFolder {
        /// The configured folder.
        path: PathBuf,
    },
    /// The file system refused an operation.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// What was being done (`read`, `append to`, ...).
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// A row the CSV reader cannot read (wrong field count, invalid UTF-8, ...).
    #[error("{file} line {line}: {message}")]
    Malformed {
        /// The file name.
        file: String,
        /// The 1-based line.
        line: u64,
        /// What is wrong.
        message: String,
    },
    /// A cell, past the rows types were inferred from, that does not fit its column's type.
    #[error(
        "{file} line {line} column `{column}`: {value:?} is not {expected} (the type was inferred from the first {depth} rows; fix the value or raise RowScanDepth)"
    )]
    BadCell {
        /// The file name.
        file: String,
        /// The 1-based line.
        line: u64,
        /// The column.
        column: String,
        /// The cell as written.
        value: String,
        /// What the column's type accepts (`an integer`).
        expected: &'static str,
        /// `RowScanDepth`.
        depth: usize,
    },
    /// A table name `CreateTable` cannot use.
    #[error("invalid table name {name:?}: {reason}")]
    BadName {
        /// The name as given.
        name: String,
        /// Why.
        reason: &'static str,
    },
    /// `CreateTable` on a name that is taken.
    #[error("table `{name}` already exists ({}); pick another Name", path.display())]
    TableExists {
        /// The existing table's name.
        name: String,
        /// Its file.
        path: PathBuf,
    },
    /// `CreateTable` column names that cannot be used.
    #[error("invalid Columns {columns:?}: {reason}")]
    BadColumns {
        /// The input as given.
        columns: String,
        /// Why.
        reason: String,
    },
}

impl FilesError {
    /// The kind of failure, for callers that do not know this source.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::FolderMissing { .. } | Self::NotAFolder { .. } => ErrorKind::Config,
            Self::Io { .. } => ErrorKind::Unavailable,
            Self::Malformed { .. }
            | Self::BadCell { .. }
            | Self::BadName { .. }
            | Self::TableExists { .. }
            | Self::BadColumns { .. } => ErrorKind::BadInput,
        }
    }

    /// An I/O failure while doing `action` on `path`.
    pub(crate) fn io(action: &'static str, path: &Path, source: io::Error) -> Self {
        Self::Io {
            action,
            path: path.to_owned(),
            source,
        }
    }

    /// A CSV reader error on `path`: I/O stays I/O, the rest is a malformed row.
    pub(crate) fn csv(path: &Path, error: csv::Error) -> Self {
        let line = error.position().map_or(0, csv::Position::line);
        let message = match error.kind() {
            csv::ErrorKind::UnequalLengths {
                expected_len, len, ..
            } => {
                let fields = if *len == 1 { "field" } else { "fields" };
                format!("found {len} {fields} where the header has {expected_len}")
            }
            csv::ErrorKind::Utf8 { .. } => "not valid UTF-8".to_owned(),
            _ => error.to_string(),
        };
        match error.into_kind() {
            csv::ErrorKind::Io(source) => Self::io("read", path, source),
            _ => Self::Malformed {
                file: file_name(path),
                line,
                message,
            },
        }
    }
}

impl From<FilesError> for source_core::Error {
    fn from(e: FilesError) -> Self {
        source_core::Error::with_kind(e.kind(), e)
    }
}

/// The file name alone, for messages (the folder is in the configuration).
pub(crate) fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}
