//! The scenario, as a user runs it: log in to Act-On with `OAuthSettingsLocation`, let
//! the token expire, lose the answer of the next refresh (the emulator truncates it after
//! rotating the refresh token), then run `connector acton token`.

// A failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use emulator::{Emulator, Fault, FaultKind, FaultTarget, RefreshRotation};

fn connector(args: &[&str], connection: &str, dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_connector"))
        .args(args)
        .env("CONNECTOR_CONNECTION", connection)
        .env("CONNECTOR_KEY_FILE", dir.join("settings.key"))
        .env_remove("CONNECTOR_SETTINGS_PASSPHRASE")
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Logs in with the password (2-second tokens), waits for expiry and arms one truncated
/// answer on the token endpoint.
async fn logged_in_then_truncated(dir: &Path) -> (Emulator, String) {
    let emu = Emulator::builder()
        .hubdb_rows(1)
        .acton_records(1)
        .token_ttl(Duration::from_secs(2))
        .acton_refresh_rotation(RefreshRotation::RotateRevokeOnReuse)
        .start()
        .await
        .unwrap();
    let info = emu.acton().info();
    let settings = dir.join("OAuthSettings.txt");
    let oauth = format!(
        "OAuthClientId={};OAuthClientSecret='{}';APIBaseURL={};OAuthSettingsLocation='{}'",
        info.client_id,
        info.client_secret,
        info.base_url,
        settings.display()
    );
    let login = format!(
        "AuthScheme=OAuthPassword;User={};Password='{}';{oauth}",
        info.user, info.password
    );
    let out = connector(&["acton", "login"], &login, dir);
    assert!(out.status.success(), "{}", text(&out.stderr));
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    emu.acton()
        .inject(Fault::new(FaultKind::Truncate, 1).on(FaultTarget::Token));
    (emu, oauth)
}

#[tokio::test(flavor = "multi_thread")]
async fn te_14_refresh_mode_reports_the_lost_answer_precisely() {
    let dir = tempfile::tempdir().unwrap();
    let (emu, oauth) = logged_in_then_truncated(dir.path()).await;
    let out = connector(
        &["acton", "token"],
        &format!("InitiateOAuth=REFRESH;{oauth}"),
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    let port = emu
        .acton()
        .info()
        .token_url
        .split(':')
        .nth(2)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let settings = dir.path().join("OAuthSettings.txt");
    assert_eq!(
        err,
        format!(
            "error: re-authorization required: the answer to a token refresh was lost (the connection closed before the whole answer arrived, http://127.0.0.1:{port}/token), after which Act-On refused the stored refresh token (HTTP 403 invalid_grant: Unknown or invalid refresh token.): Act-On had rotated it, and its refresh tokens work once, so the new pair was lost with the answer (OAuth settings: {}; run `connector acton login`, or delete the file and connect with InitiateOAuth=GETANDREFRESH)\n",
            settings.display()
        )
    );
    let stats = emu.acton().stats();
    assert_eq!(
        stats.token_grants.refresh_token, 1,
        "one refresh, answer lost"
    );
    assert_eq!(
        stats.token_errors, 1,
        "one guarded probe, refused; no retry loop"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn te_14_with_the_password_the_lost_answer_ends_with_a_working_token() {
    let dir = tempfile::tempdir().unwrap();
    let (emu, oauth) = logged_in_then_truncated(dir.path()).await;
    let info = emu.acton().info();
    let conn = format!(
        "AuthScheme=OAuthPassword;InitiateOAuth=GETANDREFRESH;User={};Password='{}';{oauth}",
        info.user, info.password
    );
    let out = connector(&["acton", "token"], &conn, dir.path());
    assert!(out.status.success(), "{}", text(&out.stderr));
    let token = text(&out.stdout).trim().to_owned();
    // The token works, and the next run reuses it without another grant.
    let again = connector(&["acton", "token"], &conn, dir.path());
    assert_eq!(text(&again.stdout).trim(), token);
    let stats = emu.acton().stats();
    assert_eq!(stats.token_grants.password, 2, "the login and one re-grant");
    let resp = reqwest::Client::new()
        .get(emu.acton().url("/api/1/account"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}
