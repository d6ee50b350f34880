//! Multi-process tests: the test binary re-invokes itself (`child_entry`) in a role given
//! by an environment variable. Covers RT-4/FS-12 (bracket check with and without the lock),
//! RT-5 and RT-6 (SIGKILL while holding the lock / mid-write), RT-7 (lock timeout naming
//! the holder), RT-8 (stale lock file), FS-10 under hostile umasks, and cross-process
//! change detection.
#![cfg(unix)]
#![allow(missing_docs, clippy::unwrap_used)] // test code: helpers outside #[test] fns too

mod common;

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::thread::sleep;
use std::time::{Duration, Instant};

use common::*;
use token_store::{
    Error, FileStore, KeyConfig, Secret, TokenRecord, TokenStore, WriteHook, WriteStep,
};

const ROLE: &str = "TOKEN_STORE_TEST_ROLE";
const DIR: &str = "TOKEN_STORE_TEST_DIR";
const LOG: &str = "TOKEN_STORE_TEST_LOG";
const ITERS: &str = "TOKEN_STORE_TEST_ITERS";
const USE_LOCK: &str = "TOKEN_STORE_TEST_USE_LOCK";
const MARKER: &str = "TOKEN_STORE_TEST_MARKER";
const GO: &str = "TOKEN_STORE_TEST_GO";
const STEP: &str = "TOKEN_STORE_TEST_STEP";
const VALUE: &str = "TOKEN_STORE_TEST_VALUE";

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_default()
}

fn child_cmd(role: &str, vars: &[(&str, &str)]) -> Command {
    let mut c = Command::new(std::env::current_exe().unwrap());
    c.args([
        "--exact",
        "child_entry",
        "--nocapture",
        "--test-threads=1",
        "--quiet",
    ])
    .env(ROLE, role)
    .stdout(Stdio::null());
    for (k, v) in vars {
        c.env(k, v);
    }
    c
}

fn spawn(role: &str, vars: &[(&str, &str)]) -> Child {
    child_cmd(role, vars).spawn().expect("spawn child")
}

fn wait_for(path: &Path, child: &mut Child) {
    let start = Instant::now();
    while !path.exists() {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("child exited early: {status}");
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "child never reached {}",
            path.display()
        );
        sleep(Duration::from_millis(2));
    }
}

fn counter(r: &TokenRecord) -> u64 {
    r.extras.get("counter").map_or(0, |c| c.parse().unwrap())
}

/// Stalls at one write step: announces it through the marker file, then sleeps until killed.
#[derive(Debug)]
struct StallAt {
    step: String,
    marker: PathBuf,
}

impl WriteHook for StallAt {
    fn before(&self, step: WriteStep, _path: &Path) -> io::Result<()> {
        if format!("{step:?}") == self.step {
            fs::write(&self.marker, b"here")?;
            sleep(Duration::from_secs(60));
        }
        Ok(())
    }
}

/// The child side. A no-op when run as an ordinary test.
#[test]
fn child_entry() {
    let role = env(ROLE);
    if role.is_empty() {
        return;
    }
    let dir = PathBuf::from(env(DIR));
    match role.as_str() {
        "worker" => {
            let store = keyfile_store(&dir);
            let go = PathBuf::from(env(GO));
            while !go.exists() {
                sleep(Duration::from_millis(1));
            }
            let pid = std::process::id();
            let mut log = OpenOptions::new().append(true).open(env(LOG)).unwrap();
            for _ in 0..env(ITERS).parse::<u32>().unwrap() {
                let guard =
                    (env(USE_LOCK) == "1").then(|| store.lock(Duration::from_secs(60)).unwrap());
                log.write_all(format!("<{pid}\n").as_bytes()).unwrap();
                // Any torn or half-written file would fail here.
                let mut rec = store.load().unwrap();
                let next = counter(&rec) + 1;
                rec.extras.insert("counter".into(), next.to_string());
                sleep(Duration::from_millis(1));
                store.save(&rec).unwrap();
                log.write_all(format!(">{pid}\n").as_bytes()).unwrap();
                drop(guard);
            }
        }
        "hold_lock" => {
            let store = keyfile_store(&dir);
            let _guard = store.lock(Duration::from_secs(10)).unwrap();
            fs::write(env(MARKER), b"locked").unwrap();
            sleep(Duration::from_secs(60));
        }
        "stall_write" => {
            let hook = Arc::new(StallAt {
                step: env(STEP),
                marker: PathBuf::from(env(MARKER)),
            });
            let store = keyfile_store(&dir).with_write_hook(hook);
            let _guard = store.lock(Duration::from_secs(10)).unwrap();
            let mut rec = store.load().unwrap();
            rec.access_token = Secret::new("new");
            store.save(&rec).unwrap();
            sleep(Duration::from_secs(60));
        }
        "save_loop" => {
            let store = keyfile_store(&dir);
            let mut rec = store.load().unwrap();
            for i in 0u64.. {
                let _guard = store.lock(Duration::from_secs(10)).unwrap();
                rec.extras.insert("counter".into(), i.to_string());
                rec.extras
                    .insert("padding".into(), "p".repeat((i % 997) as usize));
                store.save(&rec).unwrap();
                if i == 0 {
                    fs::write(env(MARKER), b"saving").unwrap();
                }
            }
        }
        "save_once" => {
            let store = keyfile_store(&dir);
            let mut rec = store
                .try_load()
                .unwrap()
                .unwrap_or_else(|| record("at", "rt"));
            rec.access_token = Secret::new(env(VALUE));
            store.save(&rec).unwrap();
        }
        other => panic!("unknown role {other}"),
    }
}

// ------------------------------------------------------------- RT-4 / FS-12

/// The msal-extensions bracket check: inside the lock every `<pid` is followed by `>pid` of
/// the same process, and no update is lost.
fn run_workers(use_lock: bool, procs: usize, iters: u32) -> Result<(), String> {
    let dir = tempdir();
    let store = keyfile_store(dir.path());
    store.save(&record("at", "rt")).unwrap();
    let log = dir.path().join("brackets.log");
    fs::write(&log, b"").unwrap();
    let go = dir.path().join("go");
    let (d, l, g, n) = (
        dir.path().to_str().unwrap().to_owned(),
        log.to_str().unwrap().to_owned(),
        go.to_str().unwrap().to_owned(),
        iters.to_string(),
    );
    let lock_flag = if use_lock { "1" } else { "0" };
    let mut children: Vec<Child> = (0..procs)
        .map(|_| {
            spawn(
                "worker",
                &[
                    (DIR, &d),
                    (LOG, &l),
                    (GO, &g),
                    (ITERS, &n),
                    (USE_LOCK, lock_flag),
                ],
            )
        })
        .collect();
    fs::write(&go, b"go").unwrap();
    for c in &mut children {
        assert!(
            c.wait().unwrap().success(),
            "a worker failed (torn file or error)"
        );
    }

    // The file is whole and decrypts.
    let final_rec = keyfile_store(dir.path())
        .load()
        .map_err(|e| format!("final load: {e}"))?;
    let text = fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    if lines.len() != 2 * procs * iters as usize {
        return Err(format!("garbled log: {} lines", lines.len()));
    }
    for (i, pair) in lines.chunks(2).enumerate() {
        let (open, close) = (pair[0], pair[1]);
        if !open.starts_with('<') || !close.starts_with('>') || open[1..] != close[1..] {
            return Err(format!(
                "process overlap found at pair {i}: {open:?} then {close:?}"
            ));
        }
    }
    let expected = procs as u64 * u64::from(iters);
    if counter(&final_rec) != expected {
        return Err(format!(
            "lost updates: counter {} != {expected}",
            counter(&final_rec)
        ));
    }
    assert_eq!(final_rec.revision, expected + 1);
    Ok(())
}

#[test]
fn rt_4_processes_sharing_one_file_never_interleave_under_the_lock() {
    run_workers(true, 8, 25).unwrap();
}

#[test]
fn fs_12_without_the_lock_the_bracket_check_fails() {
    let err = run_workers(false, 8, 25).expect_err("without the lock the check must fail");
    eprintln!("without the lock: {err}");
    assert!(
        err.contains("overlap") || err.contains("lost updates"),
        "{err}"
    );
}

// ------------------------------------------------------------- RT-5 / RT-7 / RT-8

#[test]
fn rt_7_lock_timeout_names_the_holder_pid() {
    let dir = tempdir();
    let marker = dir.path().join("marker");
    let mut child = spawn(
        "hold_lock",
        &[
            (DIR, dir.path().to_str().unwrap()),
            (MARKER, marker.to_str().unwrap()),
        ],
    );
    wait_for(&marker, &mut child);
    let store = keyfile_store(dir.path());
    let start = Instant::now();
    let err = store.lock(Duration::from_millis(300)).unwrap_err();
    let waited = start.elapsed();
    child.kill().unwrap();
    child.wait().unwrap();
    match &err {
        Error::LockTimeout {
            holder_pid,
            waited: w,
            ..
        } => {
            assert_eq!(*holder_pid, Some(child.id()));
            assert!(*w >= Duration::from_millis(300));
        }
        other => panic!("{other:?}"),
    }
    assert!(waited < Duration::from_secs(5), "bounded wait: {waited:?}");
    assert!(
        err.to_string()
            .contains(&format!("held by process {}", child.id())),
        "{err}"
    );
}

#[test]
fn rt_5_sigkill_while_holding_the_lock_releases_it() {
    let dir = tempdir();
    keyfile_store(dir.path()).save(&record("at", "rt")).unwrap();
    let before = fs::read(settings(dir.path())).unwrap();
    let marker = dir.path().join("marker");
    let mut child = spawn(
        "hold_lock",
        &[
            (DIR, dir.path().to_str().unwrap()),
            (MARKER, marker.to_str().unwrap()),
        ],
    );
    wait_for(&marker, &mut child);
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    let store = keyfile_store(dir.path());
    let start = Instant::now();
    let guard = store.lock(Duration::from_secs(10)).unwrap();
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "the OS released the dead holder's lock"
    );
    // The dead holder's pid is replaced by ours.
    let lock_text = fs::read_to_string(store.lock_file_path().unwrap()).unwrap();
    assert_eq!(lock_text.trim(), std::process::id().to_string());
    drop(guard);
    assert_eq!(fs::read(settings(dir.path())).unwrap(), before);
    assert_eq!(store.load().unwrap().access_token.expose(), "at");
}

#[test]
fn rt_8_stale_lock_file_never_blocks() {
    let dir = tempdir();
    let store = keyfile_store(dir.path());
    store.save(&record("at", "rt")).unwrap();
    let lock_file = store.lock_file_path().unwrap();
    fs::write(&lock_file, b"999999\n").unwrap();
    let start = Instant::now();
    let guard = store.lock(Duration::from_secs(10)).unwrap();
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "no waiting for a dead holder"
    );
    assert_eq!(
        fs::read_to_string(&lock_file).unwrap().trim(),
        std::process::id().to_string()
    );
    drop(guard);
    assert!(lock_file.exists(), "the lock file is never deleted");
    let _relock = store.lock(Duration::from_millis(200)).unwrap();
}

// ------------------------------------------------------------- RT-6

#[test]
fn rt_6_sigkill_mid_write_leaves_old_or_new_file_and_a_free_lock() {
    for (step, expect_new) in [
        ("PrepareKey", false),
        ("CreateTemp", false),
        ("WriteData", false),
        ("SyncFile", false),
        ("Backup", false),
        ("Rename", false),
        ("SyncDir", true),
    ] {
        let dir = tempdir();
        keyfile_store(dir.path())
            .save(&record("old", "rt"))
            .unwrap();
        let marker = dir.path().join("marker");
        let mut child = spawn(
            "stall_write",
            &[
                (DIR, dir.path().to_str().unwrap()),
                (MARKER, marker.to_str().unwrap()),
                (STEP, step),
            ],
        );
        wait_for(&marker, &mut child);
        child.kill().unwrap();
        child.wait().unwrap();

        let store = keyfile_store(dir.path());
        let _guard = store
            .lock(Duration::from_secs(5))
            .expect("the lock is free after SIGKILL");
        let rec = store.load().unwrap_or_else(|e| panic!("{step}: {e}"));
        let want = if expect_new { "new" } else { "old" };
        assert_eq!(rec.access_token.expose(), want, "{step}");
        assert_eq!(rec.revision, if expect_new { 2 } else { 1 }, "{step}");
    }
}

#[test]
fn rt_6_random_sigkill_during_a_save_loop_never_tears_the_file() {
    let dir = tempdir();
    keyfile_store(dir.path()).save(&record("at", "rt")).unwrap();
    let mut seed: u64 = u64::from(std::process::id()) | 1;
    for round in 0..6 {
        let marker = dir.path().join(format!("marker-{round}"));
        let mut child = spawn(
            "save_loop",
            &[
                (DIR, dir.path().to_str().unwrap()),
                (MARKER, marker.to_str().unwrap()),
            ],
        );
        wait_for(&marker, &mut child);
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        sleep(Duration::from_micros((seed >> 33) % 40_000));
        child.kill().unwrap();
        child.wait().unwrap();
        let store = keyfile_store(dir.path());
        let _guard = store.lock(Duration::from_secs(5)).unwrap();
        let rec = store
            .load()
            .unwrap_or_else(|e| panic!("round {round}: {e}"));
        assert_eq!(rec.access_token.expose(), "at");
    }
}

// ------------------------------------------------------------- FS-10 under umasks

#[test]
fn fs_10_modes_are_0600_and_0700_whatever_the_umask() {
    let exe = std::env::current_exe().unwrap();
    for umask in ["000", "277", "022"] {
        let dir = tempdir();
        let base = dir.path().join(format!("u{umask}"));
        let status = Command::new("sh")
            .arg("-c")
            .arg(format!("umask {umask} && exec \"$0\" --exact child_entry --nocapture --test-threads=1 --quiet"))
            .arg(&exe)
            .env(ROLE, "save_once")
            .env(DIR, &base)
            .env(VALUE, "v")
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "umask {umask}");
        assert_eq!(mode(&settings(&base)), 0o600, "umask {umask}");
        assert_eq!(
            mode(settings(&base).parent().unwrap()),
            0o700,
            "umask {umask}"
        );
        assert_eq!(mode(&base), 0o700, "umask {umask}");
        assert_eq!(mode(&key_file(&base)), 0o600, "umask {umask}");
        assert_eq!(
            mode(key_file(&base).parent().unwrap()),
            0o700,
            "umask {umask}"
        );
    }
}

// ------------------------------------------------------------- change detection

#[test]
fn a_reader_notices_another_process_rewrote_the_file() {
    let dir = tempdir();
    let store = keyfile_store(dir.path());
    store.save(&record("mine", "rt")).unwrap();
    assert!(!store.has_changed().unwrap());
    let status = child_cmd(
        "save_once",
        &[(DIR, dir.path().to_str().unwrap()), (VALUE, "from-child")],
    )
    .status()
    .unwrap();
    assert!(status.success());
    assert!(store.has_changed().unwrap());
    assert_eq!(store.load().unwrap().access_token.expose(), "from-child");
    assert!(!store.has_changed().unwrap());
}

#[test]
fn a_passphrase_file_written_by_one_process_is_read_by_another_with_the_passphrase() {
    // The headless copy flow in miniature: no shared key file, only the passphrase.
    let dir = tempdir();
    let store = FileStore::new(settings(dir.path()), pass_keys(dir.path(), "pw"));
    store.save(&record("at", "rt")).unwrap();
    let copy = dir.path().join("copy.txt");
    fs::copy(settings(dir.path()), &copy).unwrap();
    let other = FileStore::new(
        &copy,
        KeyConfig::passphrase(Secret::new("pw")).with_key_file(dir.path().join("none.key")),
    );
    assert_eq!(other.load().unwrap().refresh_token.unwrap().expose(), "rt");
}
