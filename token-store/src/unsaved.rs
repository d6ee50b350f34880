//! The "unsaved tokens" marker (FS-3 across processes).
//!
//! When a process rotates the tokens but cannot write the settings file (disk full, read-only),
//! the new pair lives only in its memory and the file's refresh token is already used up. The
//! marker tells every other process so, instead of letting it present a dead token. It is an
//! empty file whose *name* carries the facts (`<file>.unsaved-<pid>-<revision>`): creating an
//! empty file needs no data block, so it still works on a full disk.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Tokens newer than the file exist only in another process's memory.
///
/// ```
/// use token_store::UnsavedMark;
/// let mark = UnsavedMark { pid: 42, stale_revision: 7 };
/// assert!(mark.covers(7) && !mark.covers(8));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnsavedMark {
    /// The process holding the newer tokens.
    pub pid: u32,
    /// The revision of the file whose refresh token that process used.
    pub stale_revision: u64,
}

impl UnsavedMark {
    /// Whether the file at `revision` is the stale one (a later save makes the mark obsolete).
    pub fn covers(&self, revision: u64) -> bool {
        self.stale_revision == revision
    }

    /// Whether the holding process still runs (it saves on its next use). Unknown → `true`.
    pub fn holder_running(&self) -> bool {
        if cfg!(target_os = "linux") {
            Path::new(&format!("/proc/{}", self.pid)).exists()
        } else {
            true
        }
    }
}

fn prefix(target: &Path) -> Option<String> {
    target
        .file_name()
        .map(|n| format!("{}.unsaved-", n.to_string_lossy()))
}

fn marks(target: &Path) -> Vec<(PathBuf, UnsavedMark)> {
    let (Some(dir), Some(prefix)) = (target.parent(), prefix(target)) else {
        return Vec::new();
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let (pid, revision) = name.strip_prefix(&prefix)?.split_once('-')?;
            let mark = UnsavedMark {
                pid: pid.parse().ok()?,
                stale_revision: revision.parse().ok()?,
            };
            Some((e.path(), mark))
        })
        .collect()
}

/// The newest marker next to `target`, if any.
pub(crate) fn read(target: &Path) -> Option<UnsavedMark> {
    marks(target)
        .into_iter()
        .map(|(_, m)| m)
        .max_by_key(|m| m.stale_revision)
}

/// Creates the marker for this process and `stale_revision`.
pub(crate) fn write(target: &Path, stale_revision: u64) -> Result<()> {
    let Some(prefix) = prefix(target) else {
        return Ok(());
    };
    let path = target.with_file_name(format!("{prefix}{}-{stale_revision}", std::process::id()));
    fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)
        .map(drop)
        .map_err(|e| Error::io("create the unsaved-tokens marker", &path, e))
}

/// Removes every marker (after a successful save or a clear).
pub(crate) fn remove_all(target: &Path) {
    for (path, _) in marks(target) {
        if let Err(e) = fs::remove_file(&path)
            && e.kind() != io::ErrorKind::NotFound
        {
            tracing::warn!(path = %path.display(), error = %e, "cannot remove an unsaved-tokens marker");
        }
    }
}
