//! Cross-process advisory locking on a sidecar `<file>.lock`.
//!
//! The lock is an OS advisory lock (`flock` on Unix, `LockFileEx` on Windows, through
//! `std::fs::File::try_lock`) on an open file description, so:
//! * it is released by the OS when the holder exits or is killed (RT-5, RT-6);
//! * a leftover lock *file* never blocks anyone: only a live holder does (RT-8);
//! * two threads of one process that open the lock file separately exclude each other too.
//!
//! The lock file is never deleted (deleting it would let two processes lock two different
//! inodes). After acquiring, the holder writes its pid into it, so a waiter that times out
//! can name the holder ([`Error::LockTimeout`]).

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// The sidecar lock file of a settings file.
pub(crate) fn lock_path(target: &Path) -> PathBuf {
    let mut s = target.as_os_str().to_owned();
    s.push(".lock");
    PathBuf::from(s)
}

/// A held file lock; released on drop.
#[derive(Debug)]
pub(crate) struct FileLock {
    file: File,
    path: PathBuf,
}

impl FileLock {
    /// Takes the exclusive lock on `path`, polling until `timeout`.
    pub(crate) fn acquire(path: &Path, timeout: Duration) -> Result<FileLock> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::fsio::create_private_dir_all(dir)?;
        }
        let mut opts = OpenOptions::new();
        opts.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let file = match opts.open(path) {
            Ok(f) => f,
            // A read-only directory with an existing lock file: an advisory lock works on a
            // read-only descriptor too (the pid just cannot be recorded).
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied && path.is_file() => {
                File::open(path).map_err(|e| Error::io("open the lock file", path, e))?
            }
            Err(e) => return Err(Error::io("open the lock file", path, e)),
        };
        let start = Instant::now();
        let mut pause = Duration::from_millis(1);
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(TryLockError::WouldBlock) => {}
                Err(TryLockError::Error(e)) => return Err(Error::io("lock", path, e)),
            }
            let waited = start.elapsed();
            if waited >= timeout {
                return Err(Error::LockTimeout {
                    path: path.to_owned(),
                    waited,
                    holder_pid: read_pid(path),
                });
            }
            std::thread::sleep(pause.min(timeout - waited));
            pause = (pause * 2).min(Duration::from_millis(25));
        }
        let mut lock = FileLock {
            file,
            path: path.to_owned(),
        };
        lock.write_pid();
        Ok(lock)
    }

    fn write_pid(&mut self) {
        let pid = std::process::id();
        let res = self
            .file
            .set_len(0)
            .and_then(|()| self.file.seek(SeekFrom::Start(0)))
            .and_then(|_| writeln!(self.file, "{pid}"));
        if let Err(e) = res {
            tracing::debug!(path = %self.path.display(), error = %e, "could not record the lock holder pid");
        }
    }

    /// The lock file path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        // Forget our pid so a later waiter is not pointed at a process that no longer holds
        // the lock; then unlock (closing the file would release it as well).
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
    }
}

/// The pid recorded in a lock file, if any.
pub(crate) fn read_pid(path: &Path) -> Option<u32> {
    let mut s = String::new();
    fs::File::open(path)
        .ok()?
        .take(64)
        .read_to_string(&mut s)
        .ok()?;
    s.trim().parse().ok()
}
