//! The storage trait and its lock guard.

use std::fmt::{self, Debug};
use std::sync::Arc;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::file::FileStore;
use crate::key::KeyConfig;
use crate::location::Location;
use crate::lock::FileLock;
use crate::memory::{MemoryLock, MemoryStore};
use crate::record::TokenRecord;

/// Default bounded wait for [`TokenStore::lock`]: longer than a token-endpoint HTTP timeout.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(30);

/// A place where OAuth values persist: an encrypted file or `memory://<id>`.
///
/// # Refreshing safely
///
/// Act-On refresh tokens are single-use, so a refresh must happen under the store's
/// cross-process lock, after re-reading the store (another process may have refreshed
/// already), and the new tokens must be saved before the lock is released:
///
/// ```
/// use std::time::Duration;
/// use token_store::{open_store, KeyConfig, Location, Secret, TokenRecord};
///
/// # fn refresh(_rt: &Secret) -> TokenRecord { TokenRecord::new("Act-On", "OAuth", Secret::new("new-at")) }
/// # fn is_stale(r: &TokenRecord) -> bool { r.access_token.expose() == "old-at" }
/// # fn main() -> Result<(), token_store::Error> {
/// let store = open_store(&Location::parse("memory://doc-example")?, KeyConfig::from_env(None));
/// # let mut first = TokenRecord::new("Act-On", "OAuth", Secret::new("old-at"));
/// # first.refresh_token = Some(Secret::new("rt-1"));
/// # store.save(&first)?;
///
/// let guard = store.lock(Duration::from_secs(30))?;   // cross-process exclusion
/// let current = store.load()?;                          // re-read under the lock
/// if is_stale(&current) {
///     let rt = current.refresh_token.as_ref().expect("a refresh token");
///     let new = refresh(rt);                            // HTTP call, still under the lock
///     match store.save(&new) {
///         Ok(_revision) => {}
///         // FS-3: the old file is intact; keep `new` in memory, mark it dirty, retry later.
///         Err(e) if e.is_not_persisted() => eprintln!("warning: {e}"),
///         Err(e) => return Err(e),
///     }
/// }
/// drop(guard);                                          // release only after the write
/// # Ok(()) }
/// ```
///
/// Between refreshes, [`TokenStore::has_changed`] (or simply [`TokenStore::load`], which
/// skips decryption when the file is unchanged) picks up a token another process wrote.
pub trait TokenStore: Send + Sync + Debug {
    /// Where this store lives.
    fn location(&self) -> &Location;

    /// Reads the stored record. [`Error::NotFound`] when nothing is stored (FS-1).
    ///
    /// The file backend re-reads the file on every call and decrypts it only when its bytes
    /// differ from the last load or save, so calling this often is cheap and always sees
    /// another process's write.
    fn load(&self) -> Result<TokenRecord>;

    /// Like [`TokenStore::load`], with `None` when nothing is stored.
    fn try_load(&self) -> Result<Option<TokenRecord>> {
        match self.load() {
            Ok(r) => Ok(Some(r)),
            Err(Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Writes `record` (atomically for files) and returns the revision written:
    /// `max(record.revision, last revision seen by this handle) + 1`.
    ///
    /// On failure the previous contents are intact and the error is
    /// [`Error::NotPersisted`]: keep the tokens in memory and call `save` again later.
    /// Hold [`TokenStore::lock`] around load → decide → save.
    fn save(&self, record: &TokenRecord) -> Result<u64>;

    /// Deletes the stored record (and the file's `.bak`). Succeeds when nothing is stored.
    fn clear(&self) -> Result<()>;

    /// Takes the store's exclusive lock (cross-process for files, in-process for memory),
    /// waiting at most `timeout`; [`Error::LockTimeout`] names the holder's pid when known.
    ///
    /// The lock is not reentrant: locking twice from one thread waits for the timeout.
    fn lock(&self, timeout: Duration) -> Result<StoreLock>;

    /// Whether the stored record changed (written or deleted by anyone else) since this
    /// handle last loaded or saved it. Cheap: no decryption.
    fn has_changed(&self) -> Result<bool>;

    /// Records that this process rotated the tokens of revision `stale_revision` but could not
    /// save the new ones (FS-3), so that other processes report it instead of presenting the
    /// used-up refresh token. The next successful [`TokenStore::save`] removes the mark.
    /// In-process stores have nothing to tell: the default does nothing.
    fn mark_unsaved(&self, stale_revision: u64) -> Result<()> {
        let _ = stale_revision;
        Ok(())
    }

    /// The mark another process left with [`TokenStore::mark_unsaved`], if any.
    fn unsaved_mark(&self) -> Option<crate::UnsavedMark> {
        None
    }
}

/// Opens the store a location names. Nothing is read or created until it is used.
///
/// ```
/// use token_store::{open_store, KeyConfig, Location};
/// let store = open_store(&Location::parse("memory://x").unwrap(), KeyConfig::from_env(None));
/// assert!(store.try_load().unwrap().is_none());
/// ```
pub fn open_store(location: &Location, keys: KeyConfig) -> Arc<dyn TokenStore> {
    match location {
        Location::File(path) => Arc::new(FileStore::new(path.clone(), keys)),
        Location::Memory(id) => Arc::new(MemoryStore::open(id)),
    }
}

/// An exclusive lock on a store, released when dropped (RAII).
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct StoreLock {
    pub(crate) inner: LockInner,
}

pub(crate) enum LockInner {
    File(FileLock),
    Memory(MemoryLock),
}

impl Debug for StoreLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.inner {
            LockInner::File(l) => f
                .debug_struct("StoreLock")
                .field("file", &l.path())
                .finish(),
            LockInner::Memory(l) => f
                .debug_struct("StoreLock")
                .field("memory", &l.id())
                .finish(),
        }
    }
}
