//! The `memory://<id>` backend and `Location`-based opening.
#![allow(missing_docs, clippy::unwrap_used)] // test code: helpers outside #[test] fns too

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use token_store::{Error, KeyConfig, Location, MemoryStore, Secret, TokenStore, open_store};

#[test]
fn memory_locations_with_the_same_id_share_values() {
    let keys = KeyConfig::key_file("/nonexistent/never-used.key");
    let a = open_store(&Location::parse("memory://shared-1").unwrap(), keys.clone());
    let b = open_store(&Location::parse("memory://shared-1").unwrap(), keys.clone());
    let other = open_store(&Location::parse("memory://shared-2").unwrap(), keys);
    assert!(a.load().unwrap_err().is_not_found());
    assert_eq!(a.save(&record("at", "rt")).unwrap(), 1);
    assert_eq!(b.load().unwrap().access_token.expose(), "at");
    assert!(other.try_load().unwrap().is_none());
    assert_eq!(a.location().to_string(), "memory://shared-1");
}

#[test]
fn memory_change_detection_and_revisions() {
    let a = MemoryStore::open("changes");
    let b = MemoryStore::open("changes");
    a.save(&record("1", "rt")).unwrap();
    assert!(b.has_changed().unwrap());
    let mut r = b.load().unwrap();
    assert!(!b.has_changed().unwrap());
    r.access_token = Secret::new("2");
    assert_eq!(b.save(&r).unwrap(), 2);
    assert!(a.has_changed().unwrap());
    assert_eq!(
        a.save(&record("3", "rt")).unwrap(),
        3,
        "revision never goes back"
    );
    b.clear().unwrap();
    assert!(a.has_changed().unwrap());
    assert!(a.load().unwrap_err().is_not_found());
}

#[test]
fn memory_lock_excludes_other_handles_and_times_out() {
    let a = MemoryStore::open("locking");
    let b = MemoryStore::open("locking");
    let guard = a.lock(Duration::from_secs(1)).unwrap();
    let start = Instant::now();
    let err = b.lock(Duration::from_millis(50)).unwrap_err();
    assert!(start.elapsed() >= Duration::from_millis(50));
    assert!(
        matches!(
            err,
            Error::LockTimeout {
                holder_pid: Some(_),
                ..
            }
        ),
        "{err:?}"
    );
    drop(guard);
    let _relock = b.lock(Duration::from_millis(50)).unwrap();
}

#[test]
fn memory_lock_serialises_read_modify_write_across_threads() {
    let store: Arc<dyn TokenStore> = Arc::new(MemoryStore::open("rmw"));
    store.save(&record("0", "rt")).unwrap();
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let store = Arc::clone(&store);
            std::thread::spawn(move || {
                for _ in 0..200 {
                    let _g = store.lock(Duration::from_secs(10)).unwrap();
                    let mut r = store.load().unwrap();
                    let n: u32 = r.access_token.expose().parse().unwrap();
                    std::thread::yield_now();
                    r.access_token = Secret::new((n + 1).to_string());
                    store.save(&r).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(store.load().unwrap().access_token.expose(), "1600");
}

#[test]
fn file_locations_open_the_file_backend() {
    let dir = tempdir();
    let path = dir.path().join("x.txt");
    let loc = Location::parse(path.to_str().unwrap()).unwrap();
    let store = open_store(&loc, KeyConfig::key_file(key_file(dir.path())));
    store.save(&record("at", "rt")).unwrap();
    assert!(path.is_file());
    assert_eq!(store.location(), &Location::File(path));
}
