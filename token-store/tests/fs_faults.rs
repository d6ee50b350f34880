//! The F-FS fault table of reliability.md (FS-1 … FS-14), one test (or more) per ID.
#![allow(missing_docs, clippy::unwrap_used)] // test code: helpers outside #[test] fns too

mod common;

use std::fs;
use std::io;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use common::*;
use token_store::{
    Error, FileStore, HEADER_LEN, KeyConfig, Secret, TokenStore, WriteHook, WriteStep,
};

// ---------------------------------------------------------------- FS-1

#[test]
fn fs_1_missing_file_is_not_found() {
    let dir = tempdir();
    let store = keyfile_store(dir.path());
    let err = store.load().unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("OAuthSettings.txt") && msg.contains("not authenticated"),
        "{msg}"
    );
    assert!(store.try_load().unwrap().is_none());
    assert!(!store.has_changed().unwrap());
    // Reading creates nothing: no settings file, no key file, no directory.
    assert!(!settings(dir.path()).exists());
    assert!(!key_file(dir.path()).exists());
}

// ---------------------------------------------------------------- FS-2

#[test]
fn fs_2_truncated_file_is_corrupt_and_left_in_place() {
    let dir = tempdir();
    let store = keyfile_store(dir.path());
    store.save(&record("at-1", "rt-1")).unwrap();
    store.save(&record("at-2", "rt-2")).unwrap();
    let path = settings(dir.path());
    let good = fs::read(&path).unwrap();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("0 bytes", Vec::new()),
        ("5 bytes", good[..5].to_vec()),
        ("header only", good[..HEADER_LEN].to_vec()),
        (
            "half the ciphertext",
            good[..HEADER_LEN + (good.len() - HEADER_LEN) / 2].to_vec(),
        ),
        ("missing last byte", good[..good.len() - 1].to_vec()),
    ];
    for (name, bytes) in cases {
        fs::write(&path, &bytes).unwrap();
        let fresh = keyfile_store(dir.path());
        let err = fresh.load().unwrap_err();
        match &err {
            Error::Corrupt {
                path: p, backup, ..
            } => {
                assert_eq!(p, &path, "{name}");
                assert_eq!(
                    backup.as_deref(),
                    Some(fresh.backup_file_path().unwrap().as_path()),
                    "{name}"
                );
            }
            other => panic!("{name}: expected Corrupt, got {other:?}"),
        }
        assert!(err.to_string().contains("left in place"), "{name}: {err}");
        assert_eq!(
            fs::read(&path).unwrap(),
            bytes,
            "{name}: file must be left in place"
        );
    }
    // The offered backup is the previous version and is readable.
    let bak = FileStore::new(
        store.backup_file_path().unwrap(),
        KeyConfig::key_file(key_file(dir.path())),
    );
    assert_eq!(bak.load().unwrap().access_token.expose(), "at-1");
}

// ---------------------------------------------------------------- FS-3

/// Fails one step with an OS error while `armed`.
#[derive(Debug)]
struct FailAt {
    step: WriteStep,
    errno: i32,
    armed: AtomicBool,
}

impl WriteHook for FailAt {
    fn before(&self, step: WriteStep, _path: &Path) -> io::Result<()> {
        if self.armed.load(Ordering::SeqCst) && step == self.step {
            return Err(io::Error::from_raw_os_error(self.errno));
        }
        Ok(())
    }
}

const ENOSPC: i32 = 28;
const EIO: i32 = 5;
const EACCES: i32 = 13;

#[test]
fn fs_3_disk_full_after_rotation_keeps_old_file_and_reports_not_persisted() {
    for (step, errno) in [
        (WriteStep::CreateTemp, ENOSPC),
        (WriteStep::WriteData, ENOSPC),
        (WriteStep::SyncFile, EIO),
        (WriteStep::Rename, EIO),
    ] {
        let dir = tempdir();
        let hook = Arc::new(FailAt {
            step,
            errno,
            armed: AtomicBool::new(false),
        });
        let store = keyfile_store(dir.path()).with_write_hook(hook.clone());
        store.save(&record("old-at", "old-rt")).unwrap();
        let path = settings(dir.path());
        let before = fs::read(&path).unwrap();

        // The server has rotated: these are the only valid tokens now.
        hook.armed.store(true, Ordering::SeqCst);
        let rotated = record("new-at", "new-rt");
        let err = store.save(&rotated).unwrap_err();
        assert!(err.is_not_persisted(), "{step:?}: {err:?}");
        assert!(
            matches!(err, Error::NotPersisted { step: s, .. } if s == step),
            "{err:?}"
        );
        match err.root() {
            Error::Io { source, .. } => assert_eq!(source.raw_os_error(), Some(errno)),
            other => panic!("{step:?}: {other:?}"),
        }
        let msg = err.to_string();
        assert!(
            msg.contains("NOT saved") && msg.contains("previous file is unchanged"),
            "{msg}"
        );
        assert!(msg.contains(&path.display().to_string()), "{msg}");
        // Old file intact, byte for byte, and still loads; no temp file left behind.
        assert_eq!(fs::read(&path).unwrap(), before, "{step:?}");
        assert_eq!(
            keyfile_store(dir.path())
                .load()
                .unwrap()
                .access_token
                .expose(),
            "old-at"
        );
        assert!(temp_files(path.parent().unwrap()).is_empty(), "{step:?}");

        // The caller kept `rotated` in memory (dirty); the retry succeeds once space is back.
        hook.armed.store(false, Ordering::SeqCst);
        store.save(&rotated).unwrap();
        assert_eq!(
            keyfile_store(dir.path())
                .load()
                .unwrap()
                .refresh_token
                .unwrap()
                .expose(),
            "new-rt"
        );
    }
}

// ---------------------------------------------------------------- FS-4

#[cfg(unix)]
#[test]
fn fs_4_read_only_file_reads_but_refuses_writes_naming_the_path() {
    let dir = tempdir();
    let store = keyfile_store(dir.path());
    store.save(&record("at-1", "rt-1")).unwrap();
    let path = settings(dir.path());
    chmod(&path, 0o400);
    let before = fs::read(&path).unwrap();

    assert_eq!(
        keyfile_store(dir.path())
            .load()
            .unwrap()
            .access_token
            .expose(),
        "at-1"
    );
    let err = store.save(&record("at-2", "rt-2")).unwrap_err();
    assert!(err.is_not_persisted());
    match err.root() {
        Error::PermissionDenied { path: p, .. } => assert_eq!(p, &path),
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("permission denied"), "{err}");
    assert_eq!(fs::read(&path).unwrap(), before);
    chmod(&path, 0o600);
}

#[cfg(unix)]
#[test]
fn fs_4_read_only_directory_reads_but_refuses_writes_naming_the_directory() {
    let dir = tempdir();
    let store = keyfile_store(dir.path());
    store.save(&record("at-1", "rt-1")).unwrap();
    let path = settings(dir.path());
    let sdir = path.parent().unwrap().to_owned();
    let before = fs::read(&path).unwrap();
    chmod(&sdir, 0o500);

    // Root ignores directory modes; then the OS refusal is simulated at the same step.
    let privileged = fs::write(sdir.join("probe"), b"x").is_ok();
    let _ = fs::remove_file(sdir.join("probe"));
    let store = if privileged {
        keyfile_store(dir.path()).with_write_hook(Arc::new(FailAt {
            step: WriteStep::CreateTemp,
            errno: EACCES,
            armed: AtomicBool::new(true),
        }))
    } else {
        keyfile_store(dir.path())
    };

    assert_eq!(store.load().unwrap().access_token.expose(), "at-1");
    let err = store.save(&record("at-2", "rt-2")).unwrap_err();
    chmod(&sdir, 0o700);
    assert!(err.is_not_persisted(), "{err:?}");
    match err.root() {
        Error::PermissionDenied { path: p, .. } => assert_eq!(p, &sdir),
        other => panic!("{other:?}"),
    }
    assert!(
        err.to_string().contains(&sdir.display().to_string()),
        "{err}"
    );
    assert_eq!(fs::read(&path).unwrap(), before);
}

// ---------------------------------------------------------------- FS-5

#[test]
fn fs_5_wrong_passphrase_is_a_distinct_error() {
    let dir = tempdir();
    pass_store(dir.path(), "right passphrase")
        .save(&record("at", "rt"))
        .unwrap();
    let path = settings(dir.path());
    let before = fs::read(&path).unwrap();

    let err = pass_store(dir.path(), "wrong passphrase")
        .load()
        .unwrap_err();
    assert!(matches!(err, Error::Decrypt { .. }), "{err:?}");
    assert!(err.to_string().contains("wrong key or passphrase"), "{err}");
    assert_eq!(fs::read(&path).unwrap(), before);

    // No passphrase at all: says which setting to provide.
    let err = keyfile_store(dir.path()).load().unwrap_err();
    assert!(matches!(err, Error::PassphraseRequired { .. }), "{err:?}");
    assert!(err.to_string().contains("OAuthSettingsPassphrase"), "{err}");

    assert_eq!(
        pass_store(dir.path(), "right passphrase")
            .load()
            .unwrap()
            .access_token
            .expose(),
        "at"
    );
}

#[test]
fn fs_5_key_not_on_this_machine_says_what_to_do() {
    let machine_a = tempdir();
    keyfile_store(machine_a.path())
        .save(&record("at", "rt"))
        .unwrap();

    // Copy only the settings file to "machine B", which has no key file.
    let machine_b = tempdir();
    fs::create_dir_all(settings(machine_b.path()).parent().unwrap()).unwrap();
    fs::copy(settings(machine_a.path()), settings(machine_b.path())).unwrap();
    let err = keyfile_store(machine_b.path()).load().unwrap_err();
    match &err {
        Error::KeyNotAvailable { reason, .. } => assert!(reason.contains("does not exist")),
        other => panic!("{other:?}"),
    }
    let msg = err.to_string();
    for needle in [
        "not on this machine",
        "OAuthSettingsPassphrase",
        "CONNECTOR_SETTINGS_PASSPHRASE",
    ] {
        assert!(msg.contains(needle), "{needle}: {msg}");
    }

    // Machine B has its own (different) key file: same class of error, different reason.
    keyfile_store(machine_b.path()).clear().unwrap();
    keyfile_store(machine_b.path())
        .save(&record("b", "b"))
        .unwrap();
    fs::copy(settings(machine_a.path()), settings(machine_b.path())).unwrap();
    match keyfile_store(machine_b.path()).load().unwrap_err() {
        Error::KeyNotAvailable { reason, .. } => assert!(reason.contains("different key")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn passphrase_file_is_portable_to_a_machine_without_the_key_file() {
    let machine_a = tempdir();
    pass_store(machine_a.path(), "shared secret")
        .save(&record("at", "rt"))
        .unwrap();
    let machine_b = tempdir();
    let copied = machine_b.path().join("copied.txt");
    fs::copy(settings(machine_a.path()), &copied).unwrap();
    let store = FileStore::new(&copied, pass_keys(machine_b.path(), "shared secret"));
    assert_eq!(store.load().unwrap().refresh_token.unwrap().expose(), "rt");
    assert!(!key_file(machine_b.path()).exists());
}

#[test]
fn key_file_file_is_re_encrypted_with_the_passphrase_once_one_is_set() {
    let dir = tempdir();
    keyfile_store(dir.path()).save(&record("at", "rt")).unwrap();
    let store = pass_store(dir.path(), "now portable");
    let rec = store.load().unwrap();
    assert_eq!(rec.access_token.expose(), "at");
    store.save(&rec).unwrap();
    let bytes = fs::read(settings(dir.path())).unwrap();
    assert_eq!(bytes[9], 2, "KDF id is PBKDF2 after the next save");
    fs::remove_file(key_file(dir.path())).unwrap();
    assert_eq!(
        pass_store(dir.path(), "now portable")
            .load()
            .unwrap()
            .access_token
            .expose(),
        "at"
    );
}

#[test]
fn passphrase_files_use_600k_pbkdf2_iterations_and_a_random_salt_by_default() {
    let dir = tempdir();
    let keys = KeyConfig::passphrase(Secret::new("p")).with_key_file(key_file(dir.path()));
    let store = FileStore::new(settings(dir.path()), keys.clone());
    store.save(&record("at", "rt")).unwrap();
    let a = fs::read(settings(dir.path())).unwrap();
    assert_eq!(u32::from_be_bytes(a[10..14].try_into().unwrap()), 600_000);
    // The salt is per file: the same handle reuses it, a new file gets a fresh one.
    store.save(&record("at2", "rt2")).unwrap();
    let b = fs::read(settings(dir.path())).unwrap();
    assert_eq!(a[14..30], b[14..30]);
    let other = tempdir();
    let store2 = FileStore::new(settings(other.path()), keys);
    store2.save(&record("at", "rt")).unwrap();
    let c = fs::read(settings(other.path())).unwrap();
    assert_ne!(a[14..30], c[14..30]);
}

// ---------------------------------------------------------------- FS-6

fn assert_fails_closed(
    store_for: impl Fn() -> FileStore,
    path: &Path,
    good: &[u8],
    positions: std::ops::Range<usize>,
) {
    for i in positions {
        for mask in [1u8 << (i % 8), 0xFF] {
            let mut bad = good.to_vec();
            bad[i] ^= mask;
            fs::write(path, &bad).unwrap();
            let res = store_for().load();
            let err = match res {
                Ok(_) => panic!("byte {i} ^ {mask:#x} was accepted"),
                Err(e) => e,
            };
            let ok = match i {
                0..=7 => matches!(err, Error::UnknownFormat { .. }),
                8 => matches!(err, Error::UnsupportedVersion { .. }),
                9 => matches!(err, Error::UnsupportedKdf { .. }),
                // Key-file mode: the iteration field must be 0; PBKDF2 mode: another cost
                // derives another key, or is out of range.
                10..=13 => matches!(err, Error::Corrupt { .. } | Error::Decrypt { .. }),
                // Key id (the key is not the one on this machine) or salt (another key).
                14..=29 => matches!(err, Error::KeyNotAvailable { .. } | Error::Decrypt { .. }),
                30..=41 => matches!(err, Error::Decrypt { .. }),
                42..=45 => matches!(err, Error::Corrupt { .. }),
                _ => matches!(err, Error::Decrypt { .. }),
            };
            assert!(ok, "byte {i} ^ {mask:#x}: unexpected {err:?}");
        }
    }
    fs::write(path, good).unwrap();
}

#[test]
fn fs_6_every_flipped_byte_fails_closed() {
    let dir = fast_tempdir();
    let mut rec = record("at", "rt");
    rec.extras.insert("padding".into(), "x".repeat(700)); // ~1 KiB file
    keyfile_store(dir.path()).save(&rec).unwrap();
    let path = settings(dir.path());
    let good = fs::read(&path).unwrap();
    assert!(good.len() >= 1000, "{}", good.len());
    let store = keyfile_store(dir.path());
    // One handle for speed: a changed file is never served from its cache.
    assert_fails_closed(|| keyfile_store(dir.path()), &path, &good, 0..HEADER_LEN);
    for i in HEADER_LEN..good.len() {
        let mut bad = good.clone();
        bad[i] ^= 1 << (i % 8);
        fs::write(&path, &bad).unwrap();
        assert!(
            matches!(store.load(), Err(Error::Decrypt { .. })),
            "byte {i}"
        );
    }
    fs::write(&path, &good).unwrap();
    assert!(store.load().is_ok());
}

#[test]
fn fs_6_flipped_passphrase_header_bytes_fail_closed() {
    let dir = fast_tempdir();
    pass_store(dir.path(), "p")
        .save(&record("at", "rt"))
        .unwrap();
    let path = settings(dir.path());
    let good = fs::read(&path).unwrap();
    // Only the low byte of the iteration count: higher bytes would make each attempt
    // derive millions of iterations (they are covered in key-file mode and by the range
    // check in `fs_7`).
    assert_fails_closed(
        || pass_store(dir.path(), "p"),
        &path,
        &good,
        13..HEADER_LEN + 4,
    );
}

// ---------------------------------------------------------------- FS-7

#[test]
fn fs_7_unknown_version_kdf_or_magic_is_reported_as_such() {
    let dir = tempdir();
    keyfile_store(dir.path()).save(&record("at", "rt")).unwrap();
    let path = settings(dir.path());
    let good = fs::read(&path).unwrap();

    let mut too_new = good.clone();
    too_new[8] = 2;
    fs::write(&path, &too_new).unwrap();
    let err = keyfile_store(dir.path()).load().unwrap_err();
    assert!(
        matches!(
            err,
            Error::UnsupportedVersion {
                found: 2,
                supported: 1,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("update the connector"), "{err}");
    assert_eq!(fs::read(&path).unwrap(), too_new);

    // A newer version is recognised from its first 9 bytes, whatever follows.
    fs::write(&path, &too_new[..9 + 1]).unwrap();
    assert!(matches!(
        keyfile_store(dir.path()).load(),
        Err(Error::UnsupportedVersion { .. })
    ));

    let mut kdf = good.clone();
    kdf[9] = 7;
    fs::write(&path, &kdf).unwrap();
    assert!(matches!(
        keyfile_store(dir.path()).load(),
        Err(Error::UnsupportedKdf { kdf_id: 7, .. })
    ));

    fs::write(&path, b"RCLONE_ENCRYPT_V0:abcdef").unwrap();
    assert!(matches!(
        keyfile_store(dir.path()).load(),
        Err(Error::UnknownFormat { .. })
    ));
    assert!(path.exists());
}

// ---------------------------------------------------------------- FS-8

#[test]
fn fs_8_plaintext_json_is_rejected_not_parsed() {
    let dir = tempdir();
    let path = settings(dir.path());
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    for body in [
        format!("{{\"access_token\":\"{CANARY_AT}\",\"refresh_token\":\"{CANARY_RT}\"}}"),
        format!("\n  {{\"OAuthAccessToken\": \"{CANARY_AT}\"}}"),
        "[]".to_owned(),
    ] {
        fs::write(&path, &body).unwrap();
        let err = keyfile_store(dir.path()).load().unwrap_err();
        assert!(matches!(err, Error::PlaintextFile { .. }), "{err:?}");
        let msg = format!("{err} {err:?}");
        assert!(
            !msg.contains(CANARY_AT) && !msg.contains(CANARY_RT),
            "{msg}"
        );
        assert_eq!(fs::read_to_string(&path).unwrap(), body);
    }
}

// ---------------------------------------------------------------- FS-9

#[cfg(unix)]
#[test]
fn fs_9_symlink_target_is_replaced_atomically_and_the_link_kept() {
    use std::os::unix::fs::symlink;
    let dir = tempdir();
    let real_dir = dir.path().join("real");
    fs::create_dir(&real_dir).unwrap();
    let target = real_dir.join("OAuthSettings.txt");
    let link_dir = dir.path().join("links");
    fs::create_dir(&link_dir).unwrap();
    // A relative link to a link to the target.
    let hop = link_dir.join("hop.txt");
    symlink("../real/OAuthSettings.txt", &hop).unwrap();
    let link = link_dir.join("OAuthSettings.txt");
    symlink(&hop, &link).unwrap();

    let keys = KeyConfig::key_file(key_file(dir.path()));
    let store = FileStore::new(&link, keys.clone());
    // Dangling link: the first save creates the target.
    store.save(&record("at-1", "rt-1")).unwrap();
    store.save(&record("at-2", "rt-2")).unwrap();
    assert!(
        fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink(),
        "link kept"
    );
    assert!(
        fs::symlink_metadata(&hop).unwrap().file_type().is_symlink(),
        "link kept"
    );
    assert!(fs::symlink_metadata(&target).unwrap().is_file());
    assert_eq!(
        FileStore::new(&target, keys.clone())
            .load()
            .unwrap()
            .access_token
            .expose(),
        "at-2"
    );
    // The lock and backup sit next to the target, shared by every path to it.
    assert_eq!(
        store.lock_file_path().unwrap(),
        real_dir.join("OAuthSettings.txt.lock")
    );
    assert_eq!(
        FileStore::new(&target, keys).lock_file_path().unwrap(),
        store.lock_file_path().unwrap()
    );
    assert!(real_dir.join("OAuthSettings.txt.bak").exists());
    assert!(!link_dir.join("OAuthSettings.txt.bak").exists());
    assert!(temp_files(&link_dir).is_empty() && temp_files(&real_dir).is_empty());
}

#[test]
fn fs_9_directory_at_the_path_is_a_clear_error() {
    let dir = tempdir();
    let path = dir.path().join("OAuthSettings.txt");
    fs::create_dir(&path).unwrap();
    let store = FileStore::new(&path, KeyConfig::key_file(key_file(dir.path())));
    assert!(matches!(store.load(), Err(Error::IsADirectory { .. })));
    let err = store.save(&record("at", "rt")).unwrap_err();
    assert!(err.is_not_persisted());
    assert!(matches!(err.root(), Error::IsADirectory { .. }), "{err:?}");
    assert!(err.to_string().contains("is a directory"), "{err}");
    assert!(matches!(
        store.lock(std::time::Duration::from_millis(10)),
        Err(Error::IsADirectory { .. })
    ));
    assert!(path.is_dir());
}

// ---------------------------------------------------------------- FS-10

#[cfg(unix)]
#[test]
fn fs_10_loose_mode_becomes_0600_on_the_next_write() {
    let dir = tempdir();
    let store = keyfile_store(dir.path());
    store.save(&record("at", "rt")).unwrap();
    let path = settings(dir.path());
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(path.parent().unwrap()), 0o700);
    assert_eq!(mode(&key_file(dir.path())), 0o600);
    assert_eq!(mode(key_file(dir.path()).parent().unwrap()), 0o700);
    for loose in [0o644, 0o660, 0o666] {
        chmod(&path, loose);
        store.save(&record("at", "rt")).unwrap();
        assert_eq!(mode(&path), 0o600);
        assert_eq!(
            mode(&store.backup_file_path().unwrap()),
            0o600,
            "the .bak is tightened too"
        );
    }
}

// ---------------------------------------------------------------- FS-11

/// FS-11 (Windows ACLs) is a documented limitation (see `FileStore` docs): files inherit the
/// directory's ACL. On Unix the equivalent guarantee is owner-only modes, checked here on a
/// freshly created tree.
#[cfg(unix)]
#[test]
fn fs_11_owner_only_permissions_on_unix_windows_acl_documented() {
    let dir = tempdir();
    let nested = dir.path().join("a/b/c/OAuthSettings.txt");
    let store = FileStore::new(
        &nested,
        KeyConfig::key_file(dir.path().join("k/settings.key")),
    );
    store.save(&record("at", "rt")).unwrap();
    let _lock = store.lock(std::time::Duration::from_secs(1)).unwrap();
    for p in [
        nested.clone(),
        dir.path().join("a/b/c/OAuthSettings.txt.lock"),
        dir.path().join("k/settings.key"),
    ] {
        assert_eq!(mode(&p), 0o600, "{}", p.display());
    }
    for d in ["a", "a/b", "a/b/c", "k"] {
        assert_eq!(mode(&dir.path().join(d)), 0o700, "{d}");
    }
}

// ---------------------------------------------------------------- FS-13

#[test]
fn fs_13_thousand_saves_use_thousand_distinct_nonces() {
    let dir = fast_tempdir();
    let store = keyfile_store(dir.path());
    let path = settings(dir.path());
    let rec = record("at", "rt");
    let mut nonces = std::collections::HashSet::new();
    for _ in 0..1000 {
        store.save(&rec).unwrap();
        let bytes = fs::read(&path).unwrap();
        nonces.insert(bytes[30..42].to_vec());
    }
    assert_eq!(nonces.len(), 1000);
    assert_eq!(store.load().unwrap().revision, 1000);
}

// ---------------------------------------------------------------- FS-14

#[test]
fn fs_14_no_secret_bytes_in_the_settings_or_key_file() {
    for passphrase in [false, true] {
        let dir = tempdir();
        let store = if passphrase {
            pass_store(dir.path(), CANARY_PASSPHRASE)
        } else {
            keyfile_store(dir.path())
        };
        store.save(&canary_record()).unwrap();
        store.save(&canary_record()).unwrap(); // also produces the .bak
        let _lock = store.lock(std::time::Duration::from_secs(1)).unwrap();
        let mut files = vec![
            settings(dir.path()),
            store.backup_file_path().unwrap(),
            store.lock_file_path().unwrap(),
        ];
        if !passphrase {
            files.push(key_file(dir.path()));
        }
        for f in files {
            let bytes = fs::read(&f).unwrap();
            for c in canaries() {
                assert!(!contains(&bytes, c), "{c} found in {}", f.display());
            }
            // Nor any recognisable field name of the record.
            assert!(!contains(&bytes, "refresh_token"), "{}", f.display());
        }
        assert_eq!(
            store.load().unwrap().refresh_token.unwrap().expose(),
            CANARY_RT
        );
    }
}

// ---------------------------------------------------------------- other behaviour

#[test]
fn revision_grows_and_change_detection_sees_other_writers() {
    let dir = tempdir();
    let a = keyfile_store(dir.path());
    let b = keyfile_store(dir.path());
    assert_eq!(a.save(&record("at-1", "rt-1")).unwrap(), 1);
    assert!(b.has_changed().unwrap(), "b never loaded, a file appeared");
    assert_eq!(b.load().unwrap().revision, 1);
    assert!(!b.has_changed().unwrap());
    assert!(!a.has_changed().unwrap());

    // b writes (as another process would); a notices and reloads.
    let mut rec = b.load().unwrap();
    rec.access_token = Secret::new("at-2");
    assert_eq!(b.save(&rec).unwrap(), 2);
    assert!(a.has_changed().unwrap());
    let seen = a.load().unwrap();
    assert_eq!((seen.revision, seen.access_token.expose()), (2, "at-2"));
    assert!(!a.has_changed().unwrap());

    // A record built from scratch still gets a higher revision than the one on disk.
    assert_eq!(a.save(&record("at-3", "rt-3")).unwrap(), 3);

    b.clear().unwrap();
    assert!(a.has_changed().unwrap());
    assert!(a.load().unwrap_err().is_not_found());
    assert!(!store_backup_exists(&a));
}

fn store_backup_exists(s: &FileStore) -> bool {
    s.backup_file_path().unwrap().exists()
}

#[test]
fn record_round_trips_every_field() {
    let dir = tempdir();
    let store = keyfile_store(dir.path());
    let rec = canary_record();
    store.save(&rec).unwrap();
    let got = keyfile_store(dir.path()).load().unwrap();
    assert_eq!(got.access_token.expose(), CANARY_AT);
    assert_eq!(got.refresh_token.as_ref().unwrap().expose(), CANARY_RT);
    assert_eq!(got.secret_extras["pkce_verifier"].expose(), CANARY_VERIFIER);
    assert_eq!(got.extras["pkce_state"], "public-state");
    assert_eq!(got.client_id.as_deref(), Some("client-id-123"));
    assert_eq!(got.scope.as_deref(), Some("PRODUCTION"));
    assert_eq!(got.expires_in, Some(3600));
    assert_eq!(got.obtained_at_ms, 1_700_000_000_000);
    assert_eq!(got.expires_at_ms, Some(1_700_003_600_000));
    assert_eq!(
        (
            got.source.as_str(),
            got.auth_scheme.as_str(),
            got.token_type.as_str()
        ),
        ("Act-On", "OAuth", "Bearer")
    );
}

#[test]
fn corrupt_key_file_is_its_own_error() {
    let dir = tempdir();
    keyfile_store(dir.path()).save(&record("at", "rt")).unwrap();
    fs::write(key_file(dir.path()), b"short").unwrap();
    assert!(matches!(
        keyfile_store(dir.path()).load(),
        Err(Error::KeyFileCorrupt { .. })
    ));
}

#[test]
fn threads_sharing_a_store_serialise_on_the_file_lock() {
    let dir = tempdir();
    let store = Arc::new(keyfile_store(dir.path()));
    store.save(&record("0", "rt")).unwrap();
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let store = Arc::clone(&store);
            std::thread::spawn(move || {
                for _ in 0..10 {
                    let _g = store.lock(std::time::Duration::from_secs(30)).unwrap();
                    let mut r = store.load().unwrap();
                    let n: u32 = r.access_token.expose().parse().unwrap();
                    r.access_token = Secret::new((n + 1).to_string());
                    store.save(&r).unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(store.load().unwrap().access_token.expose(), "40");
}

#[test]
fn header_layout_matches_the_documented_format() {
    let dir = tempdir();
    keyfile_store(dir.path()).save(&record("at", "rt")).unwrap();
    let b = fs::read(settings(dir.path())).unwrap();
    assert_eq!(&b[..8], token_store::MAGIC.as_slice());
    assert_eq!(&b[..8], b"\x89CONNTOK");
    assert_eq!(b[8], token_store::VERSION);
    assert_eq!(b[9], 1, "key-file KDF id");
    assert_eq!(&b[10..14], &[0, 0, 0, 0], "no iterations for the key file");
    let ct_len = u32::from_be_bytes(b[42..46].try_into().unwrap()) as usize;
    assert_eq!(b.len(), HEADER_LEN + ct_len);
    let key = fs::read(key_file(dir.path())).unwrap();
    assert_eq!(
        (key.len(), &key[..8], key[8]),
        (41, b"\x89CONNKEY".as_slice(), 1)
    );
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]

    /// FS-2/FS-7: arbitrary content (raw, or behind a valid signature and version) never
    /// panics and never loads.
    #[test]
    fn fs_2_arbitrary_bytes_never_panic_and_never_load(
        tail in proptest::collection::vec(proptest::num::u8::ANY, 0..300),
        prefix in 0usize..4,
    ) {
        let dir = fast_tempdir();
        keyfile_store(dir.path()).save(&record("at", "rt")).unwrap();
        let good = fs::read(settings(dir.path())).unwrap();
        let keep = [0, 8, 10, HEADER_LEN][prefix];
        let mut bytes = good[..keep].to_vec();
        bytes.extend_from_slice(&tail);
        fs::write(settings(dir.path()), &bytes).unwrap();
        proptest::prop_assert!(keyfile_store(dir.path()).load().is_err());
    }
}

#[test]
fn a_replaced_key_file_is_used_on_the_next_write() {
    let dir = tempdir();
    let a = keyfile_store(dir.path());
    a.save(&record("at-1", "rt-1")).unwrap();
    // The key file is deleted (user reset); the next write must not use a cached old key.
    fs::remove_file(key_file(dir.path())).unwrap();
    a.save(&record("at-2", "rt-2")).unwrap();
    assert_eq!(
        keyfile_store(dir.path())
            .load()
            .unwrap()
            .access_token
            .expose(),
        "at-2"
    );
}
