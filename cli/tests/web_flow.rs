//! The web flow and the headless verifier flow with the CLI alone, every step a separate
//! process: `connector emulator`, `connector <source> exec ...`, curl as the user's browser,
//! then data commands with the tokens.

// A failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used)]

use std::io::BufRead;
use std::process::{Child, Command, Output, Stdio};

struct EmulatorProcess {
    child: Child,
    info: serde_json::Value,
}

impl EmulatorProcess {
    fn start() -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_connector"))
            .args([
                "emulator",
                "--auto-approve",
                "--hubdb-rows",
                "50",
                "--acton-records",
                "50",
            ])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let info = serde_json::from_str(&line).unwrap();
        Self { child, info }
    }

    fn field(&self, service: &str, name: &str) -> String {
        self.info[service][name].as_str().unwrap().to_owned()
    }
}

impl Drop for EmulatorProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn connector(args: &[&str], connection: &str, dir: &std::path::Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_connector"))
        .args(args)
        .env("CONNECTOR_CONNECTION", connection)
        .env("CONNECTOR_KEY_FILE", dir.join("settings.key"))
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

/// The one row of `--format json` output.
fn json_row(text: &str) -> serde_json::Value {
    let rows: serde_json::Value = serde_json::from_str(text).unwrap();
    rows[0].clone()
}

/// curl plays the browser: the auto-approving page redirects to the callback URL.
fn browse(url: &str) -> String {
    let out = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{redirect_url}", url])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}

fn web_flow(service: &str, source: &str, data_command: &[&str]) {
    let emu = EmulatorProcess::start();
    let dir = tempfile::tempdir().unwrap();
    let base = emu.field(service, "base_url");
    let app = format!(
        "OAuthClientId={};OAuthClientSecret='{}';APIBaseURL={};OAuthAuthorizationURL={};CallbackURL={}",
        emu.field(service, "client_id"),
        emu.field(service, "client_secret"),
        base,
        emu.field(service, "authorize_url"),
        emu.field(service, "redirect_uri"),
    );
    let url = json_row(&ok(connector(
        &[
            source,
            "exec",
            "EXEC GetOAuthAuthorizationURL",
            "--format",
            "json",
        ],
        &app,
        dir.path(),
    )))["URL"]
        .as_str()
        .unwrap()
        .to_owned();
    let callback = browse(&url);
    assert!(callback.contains("code="), "{callback}");
    let tokens = json_row(&ok(connector(
        &[
            source,
            "exec",
            &format!("EXEC GetOAuthAccessToken AuthMode='WEB', Verifier='{callback}'"),
            "--format",
            "json",
        ],
        &app,
        dir.path(),
    )));
    let access = tokens["OAuthAccessToken"].as_str().unwrap().to_owned();
    let refresh = tokens["OAuthRefreshToken"].as_str().unwrap().to_owned();

    let with_token =
        |token: &str| format!("InitiateOAuth=OFF;OAuthAccessToken={token};APIBaseURL={base}");
    let mut args = vec![source];
    args.extend_from_slice(data_command);
    ok(connector(&args, &with_token(&access), dir.path()));

    let refreshed = json_row(&ok(connector(
        &[
            source,
            "exec",
            &format!("EXEC RefreshOAuthAccessToken OAuthRefreshToken='{refresh}'"),
            "--format",
            "json",
        ],
        &app,
        dir.path(),
    )));
    let new_access = refreshed["OAuthAccessToken"].as_str().unwrap();
    assert_ne!(new_access, access);
    ok(connector(&args, &with_token(new_access), dir.path()));
    if source == "acton" {
        // Act-On refresh tokens are single-use: the old one is rejected now.
        let again = connector(
            &[
                source,
                "exec",
                &format!("EXEC RefreshOAuthAccessToken OAuthRefreshToken='{refresh}'"),
            ],
            &app,
            dir.path(),
        );
        assert!(!again.status.success());
        assert!(String::from_utf8_lossy(&again.stderr).contains("refused"));
    }
}

#[test]
fn web_flow_with_the_cli_alone_hubdb() {
    web_flow(
        "hubspot",
        "hubdb",
        &["read", "events", "--limit", "5", "--format", "csv"],
    );
}

#[test]
fn web_flow_with_the_cli_alone_acton() {
    web_flow("acton", "acton", &["tables", "--format", "csv"]);
}

#[test]
fn headless_verifier_flow_with_the_cli_alone() {
    let emu = EmulatorProcess::start();
    let dir = tempfile::tempdir().unwrap();
    let settings = dir.path().join("OAuthSettings.txt");
    let app = format!(
        "OAuthClientId={};OAuthClientSecret='{}';APIBaseURL={};OAuthAuthorizationURL={};CallbackURL={}",
        emu.field("hubspot", "client_id"),
        emu.field("hubspot", "client_secret"),
        emu.field("hubspot", "base_url"),
        emu.field("hubspot", "authorize_url"),
        emu.field("hubspot", "redirect_uri"),
    );
    // On the "device with a browser": InitiateOAuth=OFF and GetOAuthAuthorizationURL.
    let url = json_row(&ok(connector(
        &[
            "hubdb",
            "exec",
            "EXEC GetOAuthAuthorizationURL",
            "--format",
            "json",
        ],
        &format!("InitiateOAuth=OFF;{app}"),
        dir.path(),
    )))["URL"]
        .as_str()
        .unwrap()
        .to_owned();
    let callback = browse(&url);
    // On the "headless machine": REFRESH + OAuthVerifier + OAuthSettingsLocation.
    let headless = format!(
        "InitiateOAuth=REFRESH;{app};OAuthSettingsLocation='{}'",
        settings.display()
    );
    ok(connector(
        &["hubdb", "read", "events", "--limit", "3"],
        &format!("{headless};OAuthVerifier='{callback}'"),
        dir.path(),
    ));
    assert!(settings.exists());
    // Later connections refresh from the settings file, without the verifier.
    ok(connector(
        &["hubdb", "read", "events", "--limit", "3"],
        &headless,
        dir.path(),
    ));
    let status = ok(connector(&["hubdb", "status"], &headless, dir.path()));
    assert!(status.contains("refresh token: stored"), "{status}");
}
