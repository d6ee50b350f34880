//! `memory://<id>`: process-wide storage shared by every connection naming the same id.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::location::Location;
use crate::record::TokenRecord;
use crate::store::{LockInner, StoreLock, TokenStore};

#[derive(Default)]
struct Slot {
    data: Mutex<SlotData>,
    held: Mutex<bool>,
    released: Condvar,
}

#[derive(Default)]
struct SlotData {
    record: Option<TokenRecord>,
    generation: u64,
}

fn registry() -> &'static Mutex<HashMap<String, Arc<Slot>>> {
    static REGISTRY: OnceLock<Mutex<HashMap<String, Arc<Slot>>>> = OnceLock::new();
    REGISTRY.get_or_init(Default::default)
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere while holding the mutex leaves plain data behind; keep going.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The `memory://<id>` backend. Values live for the life of the process and are shared by
/// every handle opened with the same id.
///
/// ```
/// use token_store::{MemoryStore, Secret, TokenRecord, TokenStore};
/// let a = MemoryStore::open("memory-doc");
/// let b = MemoryStore::open("memory-doc");
/// a.save(&TokenRecord::new("HubDB", "OAuth", Secret::new("at"))).unwrap();
/// assert_eq!(b.load().unwrap().access_token.expose(), "at");
/// ```
pub struct MemoryStore {
    location: Location,
    slot: Arc<Slot>,
    seen: AtomicU64,
}

impl MemoryStore {
    /// Opens (or joins) the process-wide slot `id`.
    pub fn open(id: &str) -> MemoryStore {
        let slot = Arc::clone(lock(registry()).entry(id.to_owned()).or_default());
        MemoryStore {
            location: Location::Memory(id.to_owned()),
            slot,
            seen: AtomicU64::new(0),
        }
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore")
            .field("location", &self.location.to_string())
            .finish_non_exhaustive()
    }
}

impl TokenStore for MemoryStore {
    fn location(&self) -> &Location {
        &self.location
    }

    fn load(&self) -> Result<TokenRecord> {
        let data = lock(&self.slot.data);
        self.seen.store(data.generation, Ordering::SeqCst);
        data.record.clone().ok_or_else(|| Error::NotFound {
            location: self.location.to_string(),
        })
    }

    fn save(&self, record: &TokenRecord) -> Result<u64> {
        let mut data = lock(&self.slot.data);
        let stored = data.record.as_ref().map_or(0, |r| r.revision);
        let mut rec = record.clone();
        rec.revision = record.revision.max(stored) + 1;
        let revision = rec.revision;
        data.record = Some(rec);
        data.generation += 1;
        self.seen.store(data.generation, Ordering::SeqCst);
        Ok(revision)
    }

    fn clear(&self) -> Result<()> {
        let mut data = lock(&self.slot.data);
        if data.record.take().is_some() {
            data.generation += 1;
        }
        self.seen.store(data.generation, Ordering::SeqCst);
        Ok(())
    }

    fn lock(&self, timeout: Duration) -> Result<StoreLock> {
        let start = Instant::now();
        let held = lock(&self.slot.held);
        let (mut held, res) = self
            .slot
            .released
            .wait_timeout_while(held, timeout, |h| *h)
            .unwrap_or_else(PoisonError::into_inner);
        if res.timed_out() && *held {
            return Err(Error::LockTimeout {
                path: PathBuf::from(self.location.to_string()),
                waited: start.elapsed(),
                holder_pid: Some(std::process::id()),
            });
        }
        *held = true;
        Ok(StoreLock {
            inner: LockInner::Memory(MemoryLock {
                slot: Arc::clone(&self.slot),
                id: self.location.to_string(),
            }),
        })
    }

    fn has_changed(&self) -> Result<bool> {
        Ok(lock(&self.slot.data).generation != self.seen.load(Ordering::SeqCst))
    }
}

/// The in-process lock of a memory slot.
pub(crate) struct MemoryLock {
    slot: Arc<Slot>,
    id: String,
}

impl MemoryLock {
    pub(crate) fn id(&self) -> &str {
        &self.id
    }
}

impl Drop for MemoryLock {
    fn drop(&mut self) {
        *lock(&self.slot.held) = false;
        self.slot.released.notify_one();
    }
}
