//! The `connector` binary as users run it.

use std::process::{Command, Output};

fn connector(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_connector"));
    cmd.args(args)
        .env_remove("CONNECTOR_CONNECTION")
        .env_remove("CONNECTOR_PROFILES");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("connector runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn connstr_parse_prints_one_json_object_with_last_spellings() {
    let out = connector(
        &["connstr", "parse", "A=1; b='x;y' ;a=2;OAuthClientID=id"],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        value,
        serde_json::json!({"a": "2", "b": "x;y", "OAuthClientID": "id"})
    );
    assert_eq!(text(&out.stdout).lines().count(), 1);
}

#[test]
fn connstr_parse_syntax_error_shows_a_caret_and_masks_secrets() {
    let out = connector(
        &["connstr", "parse", "OAuthClientSecret=CANARY-S;Scope='x"],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("byte 27"), "{err}");
    assert!(err.contains('^'), "{err}");
    assert!(!err.contains("CANARY"), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn check_lists_every_problem_with_suggestions_and_fails() {
    let out = connector(
        &[
            "hubdb",
            "check",
            "--connection",
            "OAuthClinetId=x;InitiateOAuth=ALWAYS;Timeout=-3",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("3 problems"), "{err}");
    assert!(err.contains("did you mean OAuthClientId?"), "{err}");
    assert!(err.contains("OFF, REFRESH, GETANDREFRESH"), "{err}");
}

#[test]
fn check_prints_resolved_properties_with_defaults_and_masked_secrets() {
    let conn = "AuthScheme=OAuthPassword;User=me;Password=CANARY-PW;OAuthClientId=cid;OAuthClientSecret=CANARY-CS";
    let out = connector(&["acton", "check"], &[("CONNECTOR_CONNECTION", conn)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("InitiateOAuth"), "{stdout}");
    assert!(stdout.contains("(default)"), "{stdout}");
    assert!(stdout.contains("********"), "{stdout}");
    let json = connector(&["acton", "check", "--json", "--connection", conn], &[]);
    let all = format!(
        "{stdout}{}{}{}",
        text(&out.stderr),
        text(&json.stdout),
        text(&json.stderr)
    );
    assert!(!all.contains("CANARY"), "{all}");
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(value["problems"], serde_json::json!([]));
}

#[test]
fn check_masks_secrets_even_when_the_string_has_problems() {
    let conn = "OAuthAccessToken=CANARY-AT;PrivateAppTokn=CANARY-PAT;Verbosity=7";
    let out = connector(&["hubdb", "check", "--connection", conn], &[]);
    assert_eq!(out.status.code(), Some(2));
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(all.contains("did you mean PrivateAppToken?"), "{all}");
    assert!(!all.contains("CANARY-AT"), "{all}");
}

#[test]
fn check_reads_a_named_profile() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("profiles.toml");
    std::fs::write(
        &path,
        "[profiles.work]\nsource = \"hubdb\"\nconnection = \"AuthScheme=PrivateApp;PrivateAppToken=CANARY-P\"\n",
    )
    .unwrap();
    let out = connector(
        &["hubdb", "check", "--profile", "work"],
        &[("CONNECTOR_PROFILES", path.to_str().unwrap())],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!text(&out.stdout).contains("CANARY"));
    let wrong = connector(
        &["acton", "check", "--profile", "work"],
        &[("CONNECTOR_PROFILES", path.to_str().unwrap())],
    );
    assert_eq!(wrong.status.code(), Some(2));
    assert!(
        text(&wrong.stderr).contains("is for HubDB"),
        "{}",
        text(&wrong.stderr)
    );
}

#[test]
fn missing_connection_is_a_clear_error() {
    let out = connector(&["acton", "check"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("CONNECTOR_CONNECTION"));
}
