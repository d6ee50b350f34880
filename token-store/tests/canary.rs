//! The canary test: after storing tokens whose values are canary strings, no canary appears
//! in the settings file, the backup, the key file, the lock file, logs (TRACE), error
//! messages or `Debug` output (FS-14, SEC-1, SEC-2).
#![allow(missing_docs, clippy::unwrap_used)] // test code: helpers outside #[test] fns too

mod common;

use std::fs;
use std::io::{self, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use token_store::{Error, FileStore, KeyConfig, MemoryStore, Secret, TokenStore, open_store};
use tracing_subscriber::fmt::MakeWriter;

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Capture {
        self.clone()
    }
}

#[test]
fn fs_14_canaries_never_reach_disk_logs_errors_or_debug() {
    let logs = Capture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(logs.clone())
        .finish();
    let mut texts: Vec<String> = Vec::new();
    let dir = tempdir();
    let mut files = Vec::new();

    tracing::subscriber::with_default(subscriber, || {
        for passphrase in [false, true] {
            let sub = dir.path().join(if passphrase { "pass" } else { "key" });
            let store = if passphrase {
                pass_store(&sub, CANARY_PASSPHRASE)
            } else {
                keyfile_store(&sub)
            };
            let rec = canary_record();
            texts.push(format!("{rec:?} {rec:#?} {store:?}"));
            store.save(&rec).unwrap();
            // A loose mode makes the store log a warning.
            #[cfg(unix)]
            chmod(&settings(&sub), 0o644);
            store.save(&rec).unwrap();
            let loaded = store.load().unwrap();
            assert_eq!(loaded.access_token.expose(), CANARY_AT);
            texts.push(format!("{loaded:?}"));
            let guard = store.lock(Duration::from_secs(1)).unwrap();
            texts.push(format!("{guard:?}"));
            // A second lock from this thread times out: the error names a pid, not a token.
            texts.push(
                store
                    .lock(Duration::from_millis(20))
                    .unwrap_err()
                    .to_string(),
            );
            drop(guard);
            files.extend([
                settings(&sub),
                store.backup_file_path().unwrap(),
                store.lock_file_path().unwrap(),
            ]);
            if !passphrase {
                files.push(key_file(&sub));
            }

            // Every failure mode, with the canary file and its siblings.
            let path = settings(&sub);
            let good = fs::read(&path).unwrap();
            let mut errors: Vec<Error> = Vec::new();
            let other = tempdir();
            errors.push(if passphrase {
                pass_store(&sub, "wrong").load().unwrap_err() // Decrypt
            } else {
                // KeyNotAvailable: the key file is not on "this machine".
                FileStore::new(&path, KeyConfig::key_file(key_file(other.path())))
                    .load()
                    .unwrap_err()
            });
            errors.push(keyfile_store(other.path()).load().unwrap_err()); // not found
            let mut flipped = good.clone();
            let last = flipped.len() - 1;
            flipped[last] ^= 1;
            fs::write(&path, &flipped).unwrap();
            errors.push(store.load().unwrap_err());
            fs::write(&path, &good[..good.len() / 2]).unwrap();
            errors.push(store.load().unwrap_err());
            fs::write(&path, format!("{{\"access_token\":\"{CANARY_AT}\"}}")).unwrap();
            errors.push(store.load().unwrap_err());
            fs::write(&path, &good).unwrap();
            let ro = FileStore::new(
                other.path().join("d"),
                KeyConfig::key_file(key_file(other.path())),
            );
            fs::create_dir_all(other.path().join("d")).unwrap();
            errors.push(ro.save(&canary_record()).unwrap_err());
            for e in &errors {
                texts.push(format!("{e} | {e:?}"));
                let mut src = std::error::Error::source(e);
                while let Some(s) = src {
                    texts.push(s.to_string());
                    src = s.source();
                }
            }
        }
        let mem = MemoryStore::open("canary");
        mem.save(&canary_record()).unwrap();
        let _g = mem.lock(Duration::from_secs(1)).unwrap();
        texts.push(format!("{mem:?} {:?}", mem.load().unwrap()));
        texts.push(mem.lock(Duration::from_millis(10)).unwrap_err().to_string());
        let keys = KeyConfig::passphrase(Secret::new(CANARY_PASSPHRASE));
        texts.push(format!("{keys:?}"));
        texts.push(format!(
            "{:?}",
            open_store(&token_store::Location::Memory("canary".into()), keys)
        ));
    });

    let logs = logs.0.lock().unwrap().clone();
    assert!(
        !logs.is_empty(),
        "the run should have logged something (mode warning, key creation)"
    );
    assert!(
        contains(&logs, "now 0600"),
        "{}",
        String::from_utf8_lossy(&logs)
    );
    for c in canaries() {
        assert!(!contains(&logs, c), "{c} in logs");
        for t in &texts {
            assert!(!t.contains(c), "{c} in {t}");
        }
        for f in &files {
            assert!(
                !contains(&fs::read(f).unwrap(), c),
                "{c} in {}",
                f.display()
            );
        }
    }
}
