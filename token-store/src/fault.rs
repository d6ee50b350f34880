//! A fault-injection seam for the atomic write (FS-3, RT-6).
//!
//! Production code never installs a hook. Tests install one with
//! [`FileStore::with_write_hook`](crate::FileStore::with_write_hook) to make a step fail
//! (disk full, EIO) or to stall at a step so that another process can kill the writer there.

use std::fmt::Debug;
use std::io;
use std::path::Path;

/// The steps of an atomic write, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WriteStep {
    /// Resolving symlinks and checking the existing file (directory, read-only).
    Inspect,
    /// Preparing the key (loading or creating the key file, deriving the passphrase key).
    PrepareKey,
    /// Creating the parent directory (0700) if missing.
    CreateDir,
    /// Creating the temporary file next to the target.
    CreateTemp,
    /// Writing the encrypted bytes into the temporary file.
    WriteData,
    /// `fsync` of the temporary file.
    SyncFile,
    /// Keeping the previous version as `<file>.bak` (best effort).
    Backup,
    /// Renaming the temporary file over the target. Before this step the old file is intact.
    Rename,
    /// `fsync` of the directory (after the rename: the new file is already in place).
    SyncDir,
}

/// Called before each [`WriteStep`]; returning an error makes that step fail.
///
/// ```
/// use std::io;
/// use std::path::Path;
/// use token_store::{WriteHook, WriteStep};
///
/// #[derive(Debug)]
/// struct DiskFull;
/// impl WriteHook for DiskFull {
///     fn before(&self, step: WriteStep, _path: &Path) -> io::Result<()> {
///         if step == WriteStep::WriteData {
///             return Err(io::Error::from_raw_os_error(28)); // ENOSPC
///         }
///         Ok(())
///     }
/// }
/// ```
pub trait WriteHook: Send + Sync + Debug {
    /// Runs before `step`; `path` is the file the step works on.
    fn before(&self, step: WriteStep, path: &Path) -> io::Result<()>;
}
