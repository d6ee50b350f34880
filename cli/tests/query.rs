//! `connector <source> query` and `connector demo` as users run them.

// A failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used)]

use std::process::{Command, Output};

use emulator::Emulator;

fn connector(args: &[&str], connection: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_connector"))
        .args(args)
        .env("CONNECTOR_CONNECTION", connection)
        .output()
        .unwrap()
}

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

async fn hubdb() -> (Emulator, String) {
    let emu = Emulator::builder()
        .hubdb_rows(300)
        .acton_records(20)
        .start()
        .await
        .unwrap();
    let info = emu.hubspot().info();
    let conn = format!(
        "AuthScheme=PrivateApp;PrivateAppToken={};APIBaseURL={}",
        info.private_app_token, info.base_url
    );
    (emu, conn)
}

#[tokio::test(flavor = "multi_thread")]
async fn query_formats_json_ndjson_csv_and_parquet() {
    let (emu, conn) = hubdb().await;
    let sql = "SELECT Id, title, attendees FROM events WHERE attendees >= 100 ORDER BY Id LIMIT 3";
    let json: serde_json::Value = serde_json::from_str(&ok(connector(
        &["hubdb", "query", sql, "--format", "json"],
        &conn,
    )))
    .unwrap();
    let rows = json.as_array().unwrap();
    assert_eq!(rows.len(), 3);
    assert!(
        rows[0].get("title").is_some() && rows[0].get("Id").is_some(),
        "objects keyed by column name"
    );
    let ndjson = ok(connector(
        &["hubdb", "query", sql, "--format", "ndjson"],
        &conn,
    ));
    assert_eq!(ndjson.lines().count(), 3);
    let csv = ok(connector(
        &["hubdb", "query", sql, "--format", "csv"],
        &conn,
    ));
    assert_eq!(csv.lines().next(), Some("Id,title,attendees"));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("out.parquet");
    ok(connector(
        &[
            "hubdb",
            "query",
            "SELECT * FROM events",
            "--format",
            "parquet",
            "--output",
            file.to_str().unwrap(),
        ],
        &conn,
    ));
    let bytes = std::fs::read(&file).unwrap();
    assert_eq!(&bytes[..4], b"PAR1");
    // The filter reached the API.
    assert!(
        emu.hubspot()
            .requests()
            .iter()
            .any(|r| r.has_param("attendees__gte", "100"))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn query_dml_exec_and_errors() {
    let (_emu, conn) = hubdb().await;
    let out = ok(connector(
        &[
            "hubdb",
            "query",
            "INSERT INTO events_Draft (title, attendees) VALUES ('a', 1), ('b', 2)",
        ],
        &conn,
    ));
    assert!(out.contains("2 rows affected"), "{out}");
    let out = ok(connector(
        &[
            "hubdb",
            "query",
            "EXEC PublishTable TableName='events'",
            "--format",
            "csv",
        ],
        &conn,
    ));
    assert!(out.contains("events"), "{out}");
    let err = connector(&["hubdb", "query", "SELECT * FROM evnts"], &conn);
    assert_eq!(err.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&err.stderr).contains("did you mean events?"));
    let props = ok(connector(
        &[
            "hubdb",
            "query",
            "SELECT Name, Value FROM sys_connection_props WHERE Name = 'PrivateAppToken'",
            "--format",
            "csv",
        ],
        &conn,
    ));
    assert!(
        props.contains("********") && !props.contains(&conn[40..50]),
        "{props}"
    );
}

#[test]
fn demo_walks_through_every_step() {
    let out = Command::new(env!("CARGO_BIN_EXE_connector"))
        .arg("demo")
        .output()
        .unwrap();
    let text = ok(out);
    for step in [
        "== 1.",
        "== 4.",
        "== 7.",
        "== 8.",
        "registered sources: hubdb, acton",
        "| Germany |",
        "Connector demo launch",
        "sent: GET /cms/hubdb/2026-03/tables/",
    ] {
        assert!(text.contains(step), "missing {step:?} in:\n{text}");
    }
    // The Act-On write: one contact inserted, then read back by the record id it got.
    let lines: Vec<&str> = text.lines().collect();
    let insert = "sql> INSERT INTO acton.List_Newsletter_Subscribers (\"First Name\", \"E-mail Address\", Company) VALUES ('Demo', 'demo@connector.example', 'Connector')";
    let at = lines.iter().position(|l| *l == insert).unwrap();
    assert!(
        lines[at + 1].starts_with("1 rows affected ("),
        "{}",
        lines[at + 1]
    );
    assert_eq!(
        lines[at + 2],
        "sql> SELECT * FROM acton.List_Newsletter_Subscribers WHERE ContactId = SCOPE_IDENTITY()"
    );
    assert_eq!(
        lines[at + 4],
        "| ContactId  | First Name | Last Name | E-mail Address         | Company   | __created_date           | __modified_date          |"
    );
    assert!(
        lines[at + 6].starts_with(
            "| l-0002:120 | Demo       |           | demo@connector.example | Connector | "
        ),
        "{}",
        lines[at + 6]
    );
    // The default API version: every HubSpot path the emulator served was date-versioned.
    assert_eq!(
        version_lines(&text),
        "HubSpot paths by API version:\n\
         \x20 /cms/hubdb/2026-03    12 requests\n\
         \x20 /oauth/2026-03         1 request\n\
         \x20 /oauth/authorize       1 request (the consent page: unversioned)\n"
    );
}

/// The demo's last lines: the HubSpot paths it sent, counted by API version prefix.
fn version_lines(text: &str) -> String {
    let from = text.find("HubSpot paths by API version:").expect(text);
    text[from..].to_owned()
}

#[test]
fn demo_with_api_version_v3_sends_only_v3_paths() {
    let out = Command::new(env!("CARGO_BIN_EXE_connector"))
        .args(["demo", "--hubdb-api-version", "v3"])
        .output()
        .unwrap();
    assert_eq!(
        version_lines(&ok(out)),
        "HubSpot paths by API version:\n\
         \x20 /cms/v3/hubdb         12 requests\n\
         \x20 /oauth/authorize       1 request (the consent page: unversioned)\n\
         \x20 /oauth/v3              1 request\n"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn max_rows_caps_results_but_not_aggregates() {
    let (_emu, conn) = hubdb().await;
    let conn = format!("{conn};MaxRows=7");
    let rows = ok(connector(
        &[
            "hubdb",
            "query",
            "SELECT Id FROM events LIMIT 50",
            "--format",
            "ndjson",
        ],
        &conn,
    ));
    assert_eq!(
        rows.lines().count(),
        7,
        "MaxRows takes precedence over LIMIT"
    );
    let count = ok(connector(
        &[
            "hubdb",
            "query",
            "SELECT COUNT(*) AS n FROM events",
            "--format",
            "csv",
        ],
        &conn,
    ));
    assert_eq!(
        count.lines().nth(1),
        Some("300"),
        "aggregates see every row"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn shell_runs_statements_from_its_input_and_keeps_history() {
    use std::io::Write;
    let (_emu, conn) = hubdb().await;
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("history.txt");
    let mut child = Command::new(env!("CARGO_BIN_EXE_connector"))
        .args(["hubdb", "shell"])
        .env("CONNECTOR_CONNECTION", &conn)
        .env("CONNECTOR_HISTORY", &history)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"SELECT COUNT(*) AS n\n  FROM events;\nSELECT * FROM nope;\n.quit\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("300"), "{stdout}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("table nope not found"));
    assert!(
        std::fs::read_to_string(&history)
            .unwrap()
            .contains("FROM events")
    );
}
