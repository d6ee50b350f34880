//! Atomic, private file writes.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::fault::{WriteHook, WriteStep};
use crate::key::parent_dir;

const MAX_SYMLINK_HOPS: usize = 40;

/// Follows a symlink chain to the file that is really read and replaced (FS-9).
///
/// A dangling link resolves to its (missing) target, which the next save creates. A
/// directory anywhere at the end of the chain is [`Error::IsADirectory`].
pub(crate) fn resolve_target(path: &Path) -> Result<PathBuf> {
    let mut p = path.to_path_buf();
    for _ in 0..MAX_SYMLINK_HOPS {
        match fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                let t = fs::read_link(&p).map_err(|e| Error::io("read the symlink", &p, e))?;
                p = if t.is_absolute() {
                    t
                } else {
                    parent_dir(&p).join(t)
                };
            }
            Ok(m) if m.is_dir() => return Err(Error::IsADirectory { path: p }),
            Ok(_) => return Ok(tidy(p)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(tidy(p)),
            Err(e) => return Err(Error::io("inspect", &p, e)),
        }
    }
    Err(Error::Io {
        path: path.to_owned(),
        op: "resolve",
        source: io::Error::other("too many levels of symbolic links"),
    })
}

/// Canonicalizes the parent directory when it exists (removes `..` from relative link
/// targets, for clearer paths in messages); the file name is kept.
fn tidy(p: PathBuf) -> PathBuf {
    match (p.parent(), p.file_name()) {
        (Some(dir), Some(name)) if !dir.as_os_str().is_empty() => match fs::canonicalize(dir) {
            Ok(dir) => dir.join(name),
            Err(_) => p,
        },
        _ => p,
    }
}

/// Creates `dir` and its missing parents with mode 0700 whatever the umask (existing
/// directories are untouched).
pub(crate) fn create_private_dir_all(dir: &Path) -> Result<()> {
    let mut missing = Vec::new();
    let mut cur = Some(dir);
    while let Some(d) = cur {
        if d.as_os_str().is_empty() || d.is_dir() {
            break;
        }
        missing.push(d);
        cur = d.parent();
    }
    for d in missing.into_iter().rev() {
        let mut b = fs::DirBuilder::new();
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            b.mode(0o700);
        }
        match b.create(d) {
            Ok(()) => {
                // The umask may have narrowed the mode (e.g. 0277 → 0500): set it exactly.
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt;
                    fs::set_permissions(d, fs::Permissions::from_mode(0o700))
                        .map_err(|e| Error::io("set the mode of", d, e))?;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && d.is_dir() => {}
            Err(e) => return Err(Error::io("create the directory", d, e)),
        }
    }
    Ok(())
}

/// Sets mode 0600 on an open file (fchmod: independent of the umask).
pub(crate) fn set_private_mode(file: &fs::File) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(fs::Permissions::from_mode(0o600))
    }
    #[cfg(not(unix))]
    {
        let _ = file;
        Ok(())
    }
}

/// `fsync` of a directory so that a rename in it is durable (best effort; Unix only).
pub(crate) fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Err(e) = fs::File::open(dir).and_then(|d| d.sync_all()) {
        tracing::warn!(dir = %dir.display(), error = %e, "could not fsync the directory");
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// The `.bak` sibling of a settings file.
pub(crate) fn backup_path(target: &Path) -> PathBuf {
    let mut s = target.as_os_str().to_owned();
    s.push(".bak");
    PathBuf::from(s)
}

/// Writes `bytes` to `target` atomically: temp file in the same directory (0600), write,
/// fsync, keep the old version as `.bak` (best effort), rename over the target, fsync the
/// directory.
///
/// Any failure before the rename leaves the old file untouched and removes the temp file;
/// the error is [`Error::NotPersisted`] naming the step.
pub(crate) fn atomic_write(
    target: &Path,
    bytes: &[u8],
    hook: Option<&dyn WriteHook>,
) -> Result<()> {
    let not_persisted = |step: WriteStep, cause: Error| Error::NotPersisted {
        path: target.to_owned(),
        step,
        cause: Box::new(cause),
    };
    let run_hook = |step: WriteStep, path: &Path| -> Result<()> {
        match hook {
            Some(h) => h
                .before(step, path)
                .map_err(|e| not_persisted(step, Error::io(op_of(step), path, e))),
            None => Ok(()),
        }
    };
    let dir = parent_dir(target);

    run_hook(WriteStep::CreateDir, dir)?;
    create_private_dir_all(dir).map_err(|e| not_persisted(WriteStep::CreateDir, e))?;

    run_hook(WriteStep::CreateTemp, dir)?;
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| {
            not_persisted(
                WriteStep::CreateTemp,
                Error::io(op_of(WriteStep::CreateTemp), dir, e),
            )
        })?;
    set_private_mode(tmp.as_file()).map_err(|e| {
        not_persisted(
            WriteStep::CreateTemp,
            Error::io("set the mode of", tmp.path(), e),
        )
    })?;

    run_hook(WriteStep::WriteData, tmp.path())?;
    tmp.write_all(bytes).map_err(|e| {
        not_persisted(
            WriteStep::WriteData,
            Error::io(op_of(WriteStep::WriteData), target, e),
        )
    })?;

    run_hook(WriteStep::SyncFile, tmp.path())?;
    tmp.as_file().sync_all().map_err(|e| {
        not_persisted(
            WriteStep::SyncFile,
            Error::io(op_of(WriteStep::SyncFile), target, e),
        )
    })?;

    // Keep the previous version for diagnosis (FS-2). Best effort: a hard link costs no copy.
    if target.exists() && run_hook(WriteStep::Backup, target).is_ok() {
        let bak = backup_path(target);
        let _ = fs::remove_file(&bak);
        if let Err(e) = fs::hard_link(target, &bak) {
            tracing::debug!(error = %e, "could not keep a .bak copy of the settings file");
        }
    }

    run_hook(WriteStep::Rename, target)?;
    tmp.persist(target).map_err(|e| {
        // Dropping `e.file` removes the temp file; the old target is untouched.
        not_persisted(
            WriteStep::Rename,
            Error::io(op_of(WriteStep::Rename), target, e.error),
        )
    })?;

    // The new file is in place and visible; a failed directory fsync only weakens durability.
    if hook.is_none_or(|h| h.before(WriteStep::SyncDir, dir).is_ok()) {
        sync_dir(dir);
    }
    Ok(())
}

fn op_of(step: WriteStep) -> &'static str {
    match step {
        WriteStep::Inspect => "inspect",
        WriteStep::PrepareKey => "prepare the key for",
        WriteStep::CreateDir => "create the directory",
        WriteStep::CreateTemp => "create a temporary file in",
        WriteStep::WriteData => "write",
        WriteStep::SyncFile => "sync",
        WriteStep::Backup => "back up",
        WriteStep::Rename => "replace",
        WriteStep::SyncDir => "sync the directory",
    }
}
