//! `connector serve --emulator`: the ready line, the README's Python example against it, and a
//! clean stop on SIGTERM with no secret in the log.

// A failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// The README's Python example (kept identical to the snippet there).
const README_EXAMPLE: &str = r#"import json, adbc_driver_flightsql.dbapi as flightsql, pandas
ready = json.loads(open("gateway.json").readline())
conn = flightsql.connect(ready["uri"], db_kwargs={"username": ready["username"], "password": ready["password"]})
print(pandas.read_sql("SELECT title, attendees FROM hubdb.events WHERE city = 'Berlin' ORDER BY attendees DESC LIMIT 3", conn))
"#;

fn python() -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/py-venv/bin/python");
    assert!(
        path.exists(),
        "{} is missing: run scripts/setup.sh",
        path.display()
    );
    path
}

#[test]
fn serve_emulator_prints_its_ready_line_serves_adbc_and_stops_on_sigterm() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_connector"))
        .args(["serve", "--emulator", "--address", "127.0.0.1:0"])
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let ready: serde_json::Value = serde_json::from_str(&line).unwrap();
    let keys: Vec<&str> = ready
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["uri", "username", "password", "emulator"]);
    assert!(
        ready["uri"]
            .as_str()
            .unwrap()
            .starts_with("grpc://127.0.0.1:")
    );
    assert_eq!(ready["username"], "gateway");
    let password = ready["password"].as_str().unwrap().to_owned();
    assert_eq!(password.len(), 43);

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("gateway.json"), &line).unwrap();
    let out = Command::new(python())
        .args(["-W", "ignore", "-c", README_EXAMPLE])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout
            .lines()
            .next()
            .unwrap()
            .split_whitespace()
            .collect::<Vec<_>>(),
        ["title", "attendees"]
    );
    assert_eq!(stdout.lines().count(), 4, "{stdout}");

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{:?}", output.status);
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(
        log.contains("handshake: session token issued user=gateway"),
        "{log}"
    );
    assert!(log.contains("gateway stopped"), "{log}");
    assert!(
        !log.contains(&password),
        "the password is in the log:\n{log}"
    );
}
