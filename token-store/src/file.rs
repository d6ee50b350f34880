//! The encrypted settings file backend.

use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::fault::{WriteHook, WriteStep};
use crate::format::{self, Kdf};
use crate::fsio::{self, backup_path, resolve_target};
use crate::key::{self, KeyBytes, KeyConfig, MachineKey};
use crate::location::Location;
use crate::lock::{FileLock, lock_path};
use crate::record::TokenRecord;
use crate::store::{LockInner, StoreLock, TokenStore};

/// An encrypted `OAuthSettingsLocation` file.
///
/// * Format: see the crate docs (versioned header + AES-256-GCM, header as AAD).
/// * Writes: atomic (temp file in the same directory, fsync, rename, fsync of the
///   directory), mode 0600 whatever the umask or the old file's mode (a looser old mode is
///   tightened with a warning, FS-10); the previous version is kept as `<file>.bak`.
/// * Symlinks (FS-9): the link is followed (chains too) and its *target* is replaced
///   atomically; the link itself is kept. A directory at the path is
///   [`Error::IsADirectory`]. The lock file sits next to the target, so every path that
///   leads to one file shares one lock.
/// * A read-only settings file (no owner write bit) is respected: saving fails with
///   [`Error::PermissionDenied`] inside [`Error::NotPersisted`] (FS-4).
/// * Windows (FS-11): the file is created with the default ACL of its directory, which for
///   the default location under `%APPDATA%` is owner-only; an explicit owner-only ACL is not
///   set, and a file in a shared directory may be readable by others. The content is
///   encrypted either way.
///
/// ```
/// use token_store::{FileStore, KeyConfig, Secret, TokenRecord, TokenStore};
/// let dir = tempfile::tempdir().unwrap();
/// let keys = KeyConfig::key_file(dir.path().join("keys/settings.key"));
/// let store = FileStore::new(dir.path().join("OAuthSettings.txt"), keys);
/// let rev = store.save(&TokenRecord::new("Act-On", "OAuth", Secret::new("at"))).unwrap();
/// assert_eq!(rev, 1);
/// assert_eq!(store.load().unwrap().access_token.expose(), "at");
/// ```
pub struct FileStore {
    location: Location,
    path: PathBuf,
    keys: KeyConfig,
    hook: Option<Arc<dyn WriteHook>>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    machine_key: Option<Arc<MachineKey>>,
    derived: Option<Derived>,
    last: Option<Cached>,
    last_revision: u64,
}

struct Derived {
    salt: [u8; 16],
    iterations: u32,
    key: KeyBytes,
}

struct Cached {
    bytes: Vec<u8>,
    record: TokenRecord,
}

impl FileStore {
    /// A store for the settings file at `path` (nothing is touched until used).
    pub fn new(path: impl Into<PathBuf>, keys: KeyConfig) -> FileStore {
        let path = path.into();
        FileStore {
            location: Location::File(path.clone()),
            path,
            keys,
            hook: None,
            state: Mutex::new(State::default()),
        }
    }

    /// Installs a fault-injection hook called before each write step (tests only; FS-3).
    pub fn with_write_hook(mut self, hook: Arc<dyn WriteHook>) -> FileStore {
        self.hook = Some(hook);
        self
    }

    /// The settings file path as configured.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The sidecar lock file (`<target>.lock`, next to the symlink-resolved target).
    pub fn lock_file_path(&self) -> Result<PathBuf> {
        Ok(lock_path(&resolve_target(&self.path)?))
    }

    /// The copy of the previous version (`<target>.bak`), kept on each save.
    pub fn backup_file_path(&self) -> Result<PathBuf> {
        Ok(backup_path(&resolve_target(&self.path)?))
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn key_file(&self) -> Result<&Path> {
        self.keys.key_file.as_deref().ok_or(Error::NoKeyConfigured)
    }

    fn decode(&self, st: &mut State, target: &Path, bytes: &[u8]) -> Result<TokenRecord> {
        let (header, ciphertext) = format::parse(target, bytes)?;
        let key: KeyBytes = match header.kdf {
            Kdf::KeyFile { key_id } => {
                let key_file = self.key_file()?;
                let mk = match &st.machine_key {
                    Some(mk) if mk.id == key_id => Arc::clone(mk),
                    _ => match key::load_key_file(key_file)? {
                        Some(mk) => {
                            let mk = Arc::new(mk);
                            st.machine_key = Some(Arc::clone(&mk));
                            mk
                        }
                        None => {
                            return Err(Error::KeyNotAvailable {
                                path: target.to_owned(),
                                key_file: key_file.to_owned(),
                                reason: "the key file does not exist",
                            });
                        }
                    },
                };
                if mk.id != key_id {
                    return Err(Error::KeyNotAvailable {
                        path: target.to_owned(),
                        key_file: key_file.to_owned(),
                        reason: "the key file holds a different key",
                    });
                }
                mk.key.clone()
            }
            Kdf::Pbkdf2 { iterations, salt } => {
                let passphrase =
                    self.keys
                        .passphrase
                        .as_ref()
                        .ok_or_else(|| Error::PassphraseRequired {
                            path: target.to_owned(),
                        })?;
                match &st.derived {
                    Some(d) if d.salt == salt && d.iterations == iterations => d.key.clone(),
                    _ => {
                        let key = key::derive_passphrase_key(passphrase, &salt, iterations);
                        st.derived = Some(Derived {
                            salt,
                            iterations,
                            key: key.clone(),
                        });
                        key
                    }
                }
            }
        };
        let plaintext = format::open(target, bytes, &header, ciphertext, &key)?;
        serde_json::from_slice::<TokenRecord>(&plaintext).map_err(|e| Error::InvalidRecord {
            path: target.to_owned(),
            // Category and position only: serde messages can quote the offending value.
            reason: format!(
                "{:?} error at line {} column {}",
                e.classify(),
                e.line(),
                e.column()
            ),
        })
    }

    /// The key and KDF header fields for the next write.
    fn write_key(&self, st: &mut State) -> Result<(Kdf, KeyBytes)> {
        if let Some(passphrase) = &self.keys.passphrase {
            let iterations = self.keys.iterations;
            // One random salt per file: reuse the current file's salt (and its derived key)
            // when the iteration count is unchanged; a fresh nonce makes each write unique.
            if let Some(d) = st.derived.as_ref().filter(|d| d.iterations == iterations) {
                return Ok((
                    Kdf::Pbkdf2 {
                        iterations,
                        salt: d.salt,
                    },
                    d.key.clone(),
                ));
            }
            let salt = key::random_bytes::<16>();
            let key = key::derive_passphrase_key(passphrase, &salt, iterations);
            st.derived = Some(Derived {
                salt,
                iterations,
                key: key.clone(),
            });
            return Ok((Kdf::Pbkdf2 { iterations, salt }, key));
        }
        // Re-read the key file on every write (a few µs next to two fsyncs): never encrypt
        // with a cached key whose file was deleted or replaced since, which would leave a
        // file no other process can read.
        let mk = Arc::new(key::load_or_create_key_file(self.key_file()?)?);
        st.machine_key = Some(Arc::clone(&mk));
        Ok((Kdf::KeyFile { key_id: mk.id }, mk.key.clone()))
    }

    /// Refuses a read-only file; tightens a loose mode to 0600 with a warning (FS-4, FS-10).
    fn inspect_existing(&self, target: &Path) -> Result<()> {
        let meta = match fs::metadata(target) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(Error::io("inspect", target, e)),
        };
        if meta.permissions().readonly() {
            return Err(Error::PermissionDenied {
                path: target.to_owned(),
                op: "write (the file is read-only)",
            });
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                tracing::warn!(path = %target.display(), mode = format_args!("{mode:o}"),
                    "the OAuth settings file was accessible to other users; it is now 0600");
                // Tighten the old inode too, so the `.bak` link is not left loose.
                let _ = fs::set_permissions(target, fs::Permissions::from_mode(0o600));
            }
        }
        Ok(())
    }

    fn save_inner(&self, record: &TokenRecord) -> Result<u64> {
        let wrap = |step, cause| Error::NotPersisted {
            path: self.path.clone(),
            step,
            cause: Box::new(cause),
        };
        let target = resolve_target(&self.path).map_err(|e| wrap(WriteStep::Inspect, e))?;
        if let Some(h) = &self.hook {
            h.before(WriteStep::Inspect, &target)
                .map_err(|e| wrap(WriteStep::Inspect, Error::io("inspect", &target, e)))?;
        }
        self.inspect_existing(&target)
            .map_err(|e| wrap(WriteStep::Inspect, e))?;

        let mut st = self.state();
        if let Some(h) = &self.hook {
            h.before(WriteStep::PrepareKey, &target).map_err(|e| {
                wrap(
                    WriteStep::PrepareKey,
                    Error::io("prepare the key for", &target, e),
                )
            })?;
        }
        let (kdf, key) = self
            .write_key(&mut st)
            .map_err(|e| wrap(WriteStep::PrepareKey, e))?;

        let mut rec = record.clone();
        rec.revision = record.revision.max(st.last_revision) + 1;
        let plaintext = to_json(&rec);
        let bytes = format::seal(kdf, &key, &plaintext);
        drop(plaintext);

        fsio::atomic_write(&target, &bytes, self.hook.as_deref())?;
        crate::unsaved::remove_all(&target);
        let revision = rec.revision;
        st.last_revision = revision;
        st.last = Some(Cached { bytes, record: rec });
        Ok(revision)
    }

    fn read_target(&self) -> Result<(PathBuf, Option<Vec<u8>>)> {
        let target = resolve_target(&self.path)?;
        match fs::read(&target) {
            Ok(b) => Ok((target, Some(b))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok((target, None)),
            Err(e) => Err(Error::io("read", &target, e)),
        }
    }
}

/// Serializes into a pre-sized zeroizing buffer (no reallocation leaves copies behind).
fn to_json(rec: &TokenRecord) -> Zeroizing<Vec<u8>> {
    let secrets: usize = rec.access_token.expose().len()
        + rec.refresh_token.as_ref().map_or(0, |s| s.expose().len())
        + rec
            .secret_extras
            .values()
            .map(|s| s.expose().len())
            .sum::<usize>();
    let others: usize = rec
        .extras
        .iter()
        .map(|(k, v)| k.len() + v.len())
        .sum::<usize>()
        + rec.secret_extras.keys().map(String::len).sum::<usize>();
    // JSON escaping grows a byte to at most 6 (\u00XX).
    let mut buf = Zeroizing::new(Vec::with_capacity(4096 + 6 * (secrets + others)));
    // Serializing plain strings and numbers into a Vec cannot fail.
    #[allow(clippy::expect_used)]
    serde_json::to_writer(&mut *buf, rec).expect("a token record serializes");
    buf
}

impl fmt::Debug for FileStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileStore")
            .field("path", &self.path)
            .field("passphrase", &self.keys.passphrase.is_some())
            .field("key_file", &self.keys.key_file)
            .finish_non_exhaustive()
    }
}

impl TokenStore for FileStore {
    fn location(&self) -> &Location {
        &self.location
    }

    fn load(&self) -> Result<TokenRecord> {
        let (target, bytes) = self.read_target()?;
        let mut st = self.state();
        let Some(bytes) = bytes else {
            st.last = None;
            return Err(Error::NotFound {
                location: self.path.display().to_string(),
            });
        };
        if let Some(c) = st.last.as_ref().filter(|c| c.bytes == bytes) {
            return Ok(c.record.clone());
        }
        let record = self.decode(&mut st, &target, &bytes).map_err(|e| match e {
            Error::Corrupt { path, reason, .. } => {
                let bak = backup_path(&path);
                Error::Corrupt {
                    path,
                    reason,
                    backup: bak.is_file().then_some(bak),
                }
            }
            other => other,
        })?;
        st.last_revision = st.last_revision.max(record.revision);
        st.last = Some(Cached {
            bytes,
            record: record.clone(),
        });
        Ok(record)
    }

    fn save(&self, record: &TokenRecord) -> Result<u64> {
        self.save_inner(record)
    }

    fn clear(&self) -> Result<()> {
        let target = resolve_target(&self.path)?;
        for p in [backup_path(&target), target.clone()] {
            match fs::remove_file(&p) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::io("delete", &p, e)),
            }
        }
        crate::unsaved::remove_all(&target);
        fsio::sync_dir(key::parent_dir(&target));
        self.state().last = None;
        Ok(())
    }

    fn mark_unsaved(&self, stale_revision: u64) -> Result<()> {
        crate::unsaved::write(&resolve_target(&self.path)?, stale_revision)
    }

    fn unsaved_mark(&self) -> Option<crate::UnsavedMark> {
        crate::unsaved::read(&resolve_target(&self.path).ok()?)
    }

    fn lock(&self, timeout: Duration) -> Result<StoreLock> {
        let target = resolve_target(&self.path)?;
        let lock = FileLock::acquire(&lock_path(&target), timeout)?;
        Ok(StoreLock {
            inner: LockInner::File(lock),
        })
    }

    fn has_changed(&self) -> Result<bool> {
        let (_, bytes) = self.read_target()?;
        let st = self.state();
        Ok(match (bytes, &st.last) {
            (None, None) => false,
            (Some(b), Some(c)) => b != c.bytes,
            _ => true,
        })
    }
}
