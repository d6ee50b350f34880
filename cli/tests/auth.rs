//! `connector <source> login | status | logout | token` against the emulators, and RT-4: eight
//! processes sharing one settings file at token expiry.

// A failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used)]

use std::process::{Command, Output, Stdio};
use std::time::Duration;

use emulator::{Emulator, RefreshRotation};

fn connector(args: &[&str], connection: &str, dir: &std::path::Path) -> Output {
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

async fn acton_emulator(ttl: Duration) -> Emulator {
    Emulator::builder()
        .hubdb_rows(5)
        .acton_records(5)
        .token_ttl(ttl)
        .acton_refresh_rotation(RefreshRotation::RotateRevokeOnReuse)
        .start()
        .await
        .unwrap()
}

fn password_connection(emu: &Emulator, settings: &std::path::Path) -> String {
    let info = emu.acton().info();
    format!(
        "AuthScheme=OAuthPassword;InitiateOAuth=GETANDREFRESH;User={};Password='{}';OAuthClientId={};OAuthClientSecret='{}';APIBaseURL={};OAuthSettingsLocation='{}'",
        info.user,
        info.password,
        info.client_id,
        info.client_secret,
        info.base_url,
        settings.display()
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn login_status_token_logout_round_trip() {
    let emu = acton_emulator(Duration::from_secs(3600)).await;
    let dir = tempfile::tempdir().unwrap();
    let settings = dir.path().join("OAuthSettings.txt");
    let conn = password_connection(&emu, &settings);
    let password = emu.acton().info().password.clone();

    let login = connector(&["acton", "login"], &conn, dir.path());
    assert!(login.status.success(), "{}", text(&login.stderr));
    assert!(
        text(&login.stdout).contains("refresh token: stored"),
        "{}",
        text(&login.stdout)
    );

    let status = connector(&["acton", "status"], &conn, dir.path());
    let shown = text(&status.stdout);
    assert!(shown.contains(&settings.display().to_string()), "{shown}");
    assert!(shown.contains("expires at:"), "{shown}");

    let token = connector(&["acton", "token"], &conn, dir.path());
    assert!(token.status.success(), "{}", text(&token.stderr));
    let token = text(&token.stdout).trim().to_owned();
    assert!(!token.is_empty());
    // `status` never prints the token; nothing prints the password.
    assert!(!shown.contains(&token));
    for out in [&login, &status] {
        assert!(!text(&out.stdout).contains(&password) && !text(&out.stderr).contains(&password));
    }
    assert_eq!(
        emu.acton().stats().token_grants.password,
        1,
        "login stored it; token reused it"
    );

    let logout = connector(&["acton", "logout"], &conn, dir.path());
    assert!(logout.status.success(), "{}", text(&logout.stderr));
    assert!(!settings.exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn refresh_mode_without_stored_tokens_fails_with_exit_code_3_and_names_the_file() {
    let emu = acton_emulator(Duration::from_secs(3600)).await;
    let dir = tempfile::tempdir().unwrap();
    let settings = dir.path().join("missing.txt");
    let info = emu.acton().info();
    let conn = format!(
        "InitiateOAuth=REFRESH;OAuthClientId={};APIBaseURL={};OAuthSettingsLocation='{}'",
        info.client_id,
        info.base_url,
        settings.display()
    );
    let out = connector(&["acton", "token"], &conn, dir.path());
    assert_eq!(out.status.code(), Some(3));
    let err = text(&out.stderr);
    assert!(err.contains("re-authorization required"), "{err}");
    assert!(err.contains("missing.txt"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn rt_4_eight_processes_at_expiry_share_one_refresh() {
    // Short tokens: the refresh margin is capped at half the lifetime (3 s), so the token is
    // due after at most 3 s and still valid until 6 s.
    let emu = acton_emulator(Duration::from_secs(6)).await;
    let dir = tempfile::tempdir().unwrap();
    let settings = dir.path().join("OAuthSettings.txt");
    let conn = password_connection(&emu, &settings);
    let first = connector(&["acton", "token"], &conn, dir.path());
    assert!(first.status.success(), "{}", text(&first.stderr));
    let first_token = text(&first.stdout).trim().to_owned();
    tokio::time::sleep(Duration::from_millis(3_300)).await;

    let children: Vec<_> = (0..8)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_connector"))
                .args(["acton", "token"])
                .env("CONNECTOR_CONNECTION", &conn)
                .env("CONNECTOR_KEY_FILE", dir.path().join("settings.key"))
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outputs: Vec<Output> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    let tokens: Vec<String> = outputs
        .iter()
        .map(|o| {
            assert!(o.status.success(), "{}", text(&o.stderr));
            text(&o.stdout).trim().to_owned()
        })
        .collect();
    assert!(
        tokens.iter().all(|t| t == &tokens[0]),
        "every process ends with the same token"
    );
    assert_ne!(tokens[0], first_token, "the token was refreshed");
    let stats = emu.acton().stats();
    assert_eq!(
        stats.token_grants.refresh_token, 1,
        "exactly one refresh grant"
    );
    assert_eq!(stats.token_grants.password, 1);
    assert_eq!(
        stats.token_errors, 0,
        "no single-use refresh token was presented twice"
    );
    // And the token works against the API.
    let resp = reqwest::Client::new()
        .get(emu.acton().url("/api/1/account"))
        .bearer_auth(&tokens[0])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn sec_2_logfile_at_verbosity_5_carries_no_secret() {
    let emu = acton_emulator(Duration::from_secs(3600)).await;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("connector.log");
    let conn = format!(
        "{};Logfile='{}';Verbosity=5",
        password_connection(&emu, &dir.path().join("s.txt")),
        log.display()
    );
    let out = connector(&["acton", "token"], &conn, dir.path());
    assert!(out.status.success(), "{}", text(&out.stderr));
    let token = text(&out.stdout).trim().to_owned();
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        logged.contains("token request"),
        "the log is written: {logged}"
    );
    let info = emu.acton().info();
    for secret in [&token, &info.password, &info.client_secret] {
        assert!(
            !logged.contains(secret.as_str()),
            "a secret reached the log"
        );
    }
}
