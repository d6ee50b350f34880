//! The example binary that wraps `cli::run`: startup time, the JSON line, SIGTERM.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use emulator::ConnectionInfo;

fn example_binary() -> PathBuf {
    // tests run from target/debug/deps; examples are built to target/debug/examples.
    let exe = std::env::current_exe().expect("exe");
    let dir = exe.parent().and_then(|p| p.parent()).expect("target dir");
    dir.join("examples").join(if cfg!(windows) {
        "emulator.exe"
    } else {
        "emulator"
    })
}

/// Kills the child if the test panics before stopping it, so a failed assertion does
/// not leave an emulator holding the test runner's stdout open.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

#[test]
fn cli_prints_one_json_line_within_a_second_and_stops_on_sigterm() {
    let bin = example_binary();
    assert!(
        bin.exists(),
        "{} missing: cargo test builds examples",
        bin.display()
    );
    let started = Instant::now();
    let mut child = Command::new(&bin)
        .args([
            "--auto-approve",
            "--hubdb-rows",
            "100000",
            "--redirect-uri",
            "http://127.0.0.1:5555/cb",
            "--token-ttl-s",
            "60",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut child = KillOnDrop(child);
    let mut line = String::new();
    out.read_line(&mut line).expect("line");
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(1), "ready after {elapsed:?}");
    let info: ConnectionInfo = serde_json::from_str(&line).expect("json line");
    assert_eq!(info.hubspot.redirect_uri, "http://127.0.0.1:5555/cb");
    let raw: serde_json::Value = serde_json::from_str(&line).expect("json");
    let keys = |o: &serde_json::Value| {
        let mut k: Vec<String> = o.as_object().expect("obj").keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(
        keys(&raw["hubspot"]),
        [
            "authorize_url",
            "base_url",
            "client_id",
            "client_secret",
            "private_app_token",
            "redirect_uri",
            "service_key",
            "token_url",
            "user_email",
            "user_password"
        ]
    );
    assert_eq!(
        keys(&raw["acton"]),
        [
            "authorize_url",
            "base_url",
            "client_id",
            "client_secret",
            "password",
            "redirect_uri",
            "token_url",
            "user"
        ]
    );
    // The server answers.
    let stats = std::net::TcpStream::connect(info.hubspot.base_url.trim_start_matches("http://"))
        .expect("connect");
    drop(stats);
    let status = Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let t = Instant::now();
    loop {
        if let Some(code) = child.0.try_wait().expect("wait") {
            assert!(code.success(), "exit {code:?}");
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut rest = String::new();
    out.read_line(&mut rest).expect("eof");
    assert!(rest.is_empty(), "exactly one line on stdout");
}

/// Runs `script` with the venv's Python (scripts/setup.sh creates it; or HUBSPOT_SDK_PYTHON)
/// against an emulator it spawns with a 2,500-row `events` table.
fn run_sdk_check(script: &str, package: &str, expected_rows: Option<&str>) {
    let python = std::env::var("HUBSPOT_SDK_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/py-venv/bin/python")
        });
    assert!(
        python.exists(),
        "{} is missing: run scripts/setup.sh to create the venv with {package}",
        python.display()
    );
    let mut command = Command::new(python);
    command
        .arg(
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("scripts")
                .join(script),
        )
        .args(["--spawn", "--"])
        .arg(example_binary())
        .args(["--hubdb-rows", "2500"]);
    if let Some(rows) = expected_rows {
        command.env("EXPECTED_ROWS", rows);
    }
    assert!(command.status().expect("python").success());
}

#[test]
fn python_sdk_pages_through_events() {
    run_sdk_check("hubspot_sdk_check.py", "hubspot-api-client", None);
}

#[test]
fn new_python_sdk_pages_reads_a_draft_row_and_publishes() {
    // HubSpot's date-versioned SDK (PyPI hubspot-sdk).
    run_sdk_check("hubspot_sdk_new_check.py", "hubspot-sdk", Some("2500"));
}
