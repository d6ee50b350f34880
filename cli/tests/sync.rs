//! `connector <source> sync` as users run it: the summary lines, the second run, several
//! profiles into one SQLite file, and no secret anywhere.

// A failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output};

use emulator::Emulator;

fn connector(args: &[&str], connection: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_connector"));
    cmd.args(args).env_remove("CONNECTOR_CONNECTION");
    if let Some(c) = connection {
        cmd.env("CONNECTOR_CONNECTION", c);
    }
    cmd.output().unwrap()
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// A summary line with its seconds replaced by `T`: `… in T s (rate-limit floor 0.3 s)`.
fn timeless(line: &str) -> String {
    let (head, tail) = line.split_once(" in ").unwrap();
    let (seconds, rest) = tail.split_once(" s").unwrap();
    assert!(seconds.parse::<f64>().is_ok(), "{line}");
    format!("{head} in T s{rest}")
}

async fn emulator() -> (Emulator, String) {
    let emu = Emulator::builder().hubdb_rows(300).start().await.unwrap();
    let info = emu.hubspot().info();
    let conn = format!(
        "AuthScheme=PrivateApp;PrivateAppToken={};APIBaseURL={}",
        info.private_app_token, info.base_url
    );
    (emu, conn)
}

fn arg(path: &Path) -> String {
    path.display().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn sync_prints_one_summary_per_table_and_the_second_run_reads_nothing() {
    let (emu, conn) = emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let to = format!("parquet:{}", arg(&dir.path().join("w")));
    let state = arg(&dir.path().join("state.json"));
    let args = ["hubdb", "sync", "events", "--to", &to, "--state", &state];
    let first = connector(&args, Some(&conn));
    assert_eq!(
        timeless(ok(&first).trim_end()),
        "events: 300 new, 0 changed, 0 deleted; 3 requests in T s (rate-limit floor 0.3 s)"
    );
    assert!(dir.path().join("w/events/data.parquet").is_file());
    // The table lists again (a new process), the rows changed since (none), the row count.
    let second = connector(&args, Some(&conn));
    assert_eq!(
        timeless(ok(&second).trim_end()),
        "events: 0 new, 0 changed, 0 deleted; 4 requests in T s (rate-limit floor 0.4 s)"
    );
    let token = &emu.hubspot().info().private_app_token;
    for text in [
        String::from_utf8_lossy(&first.stderr).into_owned(),
        String::from_utf8_lossy(&second.stderr).into_owned(),
        std::fs::read_to_string(dir.path().join("state.json")).unwrap(),
    ] {
        assert!(!text.contains(token.as_str()), "{text}");
    }
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sync_copies_several_profiles_into_one_sqlite_file() {
    let (emu, _) = emulator().await;
    let info = emu.hubspot().info();
    let dir = tempfile::tempdir().unwrap();
    let profiles = dir.path().join("profiles.toml");
    let mut text = String::new();
    for name in ["portal_eu", "portal_us"] {
        text.push_str(&format!(
            "[profiles.{name}]\nsource = \"hubdb\"\nconnection = \"AuthScheme=PrivateApp;PrivateAppToken={};APIBaseURL={}\"\n",
            info.private_app_token, info.base_url
        ));
    }
    std::fs::write(&profiles, text).unwrap();
    let db = dir.path().join("w.db");
    let to = format!("sqlite:{}", arg(&db));
    let state = arg(&dir.path().join("state.json"));
    let out = connector(
        &[
            "hubdb",
            "--profiles-file",
            &arg(&profiles),
            "sync",
            "events",
            "--profiles",
            "portal_eu,portal_us",
            "--to",
            &to,
            "--state",
            &state,
        ],
        None,
    );
    let lines: Vec<String> = ok(&out).lines().map(timeless).collect();
    assert_eq!(
        lines,
        [
            "portal_eu.events: 300 new, 0 changed, 0 deleted; 3 requests in T s (rate-limit floor 0.3 s)",
            "portal_us.events: 300 new, 0 changed, 0 deleted; 3 requests in T s (rate-limit floor 0.3 s)",
        ]
    );
    let db = rusqlite::Connection::open(&db).unwrap();
    let count: i64 = db
        .query_row(
            "SELECT (SELECT COUNT(*) FROM portal_eu__events) + (SELECT COUNT(*) FROM portal_us__events)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(count, 600);
    emu.shutdown().await;
}

#[test]
fn an_unknown_destination_says_which_are_known() {
    let out = connector(
        &[
            "hubdb",
            "sync",
            "events",
            "--to",
            "duckdb:w.duckdb",
            "--state",
            "s.json",
        ],
        Some("AuthScheme=PrivateApp;PrivateAppToken=pat-na1-canary"),
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim_end(),
        "error: unknown destination \"duckdb:w.duckdb\": use parquet:DIR or sqlite:FILE"
    );
}
