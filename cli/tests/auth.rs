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
    // Act-On publishes no revocation endpoint: said plainly, and not a failure.
    assert_eq!(
        text(&logout.stdout),
        format!(
            "stored tokens deleted from {}\n\
             refresh token not revoked: no revocation endpoint is known for Act-On; set \
             OAuthRevocationURL, or remove the app's access in Act-On's settings\n",
            settings.display()
        )
    );
    assert_eq!(text(&logout.stderr), "");
    let again = connector(&["acton", "logout"], &conn, dir.path());
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert_eq!(
        text(&again.stdout),
        format!(
            "no stored tokens at {}\nno refresh token to revoke\n",
            settings.display()
        )
    );
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

/// `connector` with the formatting clock fixed: `now_ms` and a UTC offset.
fn connector_at(
    args: &[&str],
    connection: &str,
    dir: &std::path::Path,
    now_ms: u64,
    offset: &str,
) -> Output {
    Command::new(env!("CARGO_BIN_EXE_connector"))
        .args(args)
        .env("CONNECTOR_CONNECTION", connection)
        .env("CONNECTOR_KEY_FILE", dir.join("settings.key"))
        .env("CONNECTOR_NOW_MS", now_ms.to_string())
        .env("CONNECTOR_UTC_OFFSET", offset)
        .env_remove("CONNECTOR_SETTINGS_PASSPHRASE")
        .output()
        .unwrap()
}

fn now_ms() -> u64 {
    auth_core::time::TimeSource::now_ms(&auth_core::time::SystemTimeSource)
}

/// The Unix ms of a shown `YYYY-MM-DD HH:MM:SS ±HH:MM`.
fn shown_ms(shown: &str) -> u64 {
    let t = chrono::DateTime::parse_from_str(shown, "%Y-%m-%d %H:%M:%S %:z").unwrap();
    u64::try_from(t.timestamp_millis()).unwrap()
}

fn shown_at(ms: u64, offset_secs: i32) -> String {
    let offset = chrono::FixedOffset::east_opt(offset_secs).unwrap();
    chrono::DateTime::from_timestamp_millis(i64::try_from(ms).unwrap())
        .unwrap()
        .with_timezone(&offset)
        .format("%Y-%m-%d %H:%M:%S %:z")
        .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn login_and_status_print_one_field_per_line_with_local_times() {
    let emu = acton_emulator(Duration::from_secs(3600)).await;
    let dir = tempfile::tempdir().unwrap();
    let settings = dir.path().join("OAuthSettings.txt");
    let conn = password_connection(&emu, &settings);
    let before = now_ms();
    // "Now" ten days on, as if the output were read then: the relative parts do not depend on
    // how long the login took.
    let login = connector_at(
        &["acton", "login"],
        &conn,
        dir.path(),
        before + 10 * 86_400_000,
        "+01:00",
    );
    let after = now_ms();
    assert!(login.status.success(), "{}", text(&login.stderr));
    let shown = text(&login.stdout);
    // The one value the test cannot know in advance: when the token was obtained (to the second).
    let obtained_line = shown
        .lines()
        .find_map(|l| l.strip_prefix("obtained at:   "))
        .unwrap();
    let obtained = shown_ms(obtained_line.split(" (").next().unwrap());
    assert!(
        before / 1000 * 1000 <= obtained && obtained <= after,
        "{before} <= {obtained} <= {after}"
    );
    let expires = obtained + 3_600_000;
    assert_eq!(
        shown,
        format!(
            "logged in to Act-On\n\
             location:      {}\n\
             access token:  stored\n\
             refresh token: stored\n\
             scope:         offline-access\n\
             obtained at:   {} (10 days ago)\n\
             expires at:    {} (expired 9 days ago)\n\
             revision:      1\n",
            settings.display(),
            shown_at(obtained, 3600),
            shown_at(expires, 3600),
        )
    );

    // 12.5 min after the login (whatever its sub-second part was): obtained 12 min ago,
    // expires in 47 min; then 3 h 10.5 min after it, expired 2 h 10 min ago.
    for (later_ms, obtained_rel, expires_rel) in [
        (750_000, "12 min ago", "in 47 min"),
        (11_430_000, "3 h 10 min ago", "expired 2 h 10 min ago"),
    ] {
        let status = connector_at(
            &["acton", "status"],
            &conn,
            dir.path(),
            after + later_ms,
            "UTC",
        );
        assert!(status.status.success(), "{}", text(&status.stderr));
        assert_eq!(
            text(&status.stdout),
            format!(
                "location:      {}\n\
                 access token:  stored\n\
                 refresh token: stored\n\
                 scope:         offline-access\n\
                 obtained at:   {} ({obtained_rel})\n\
                 expires at:    {} ({expires_rel})\n\
                 revision:      1\n",
                settings.display(),
                shown_at(obtained, 0),
                shown_at(expires, 0),
            )
        );
    }
}

#[test]
fn status_relative_times_over_their_boundaries() {
    // Tokens given as properties (no request is made by `status`): obtained at T =
    // 2026-12-04 20:14:05 UTC, valid for two days.
    const T: u64 = 1_796_415_245_000;
    const S: u64 = 1000;
    const MIN: u64 = 60 * S;
    const H: u64 = 60 * MIN;
    const DAY: u64 = 24 * H;
    let dir = tempfile::tempdir().unwrap();
    let settings = dir.path().join("none.txt");
    let conn = format!(
        "InitiateOAuth=REFRESH;OAuthClientId=app;APIBaseURL=http://127.0.0.1:9;OAuthAccessToken=a;\
         OAuthRefreshToken=r;OAuthTokenTimestamp={T};OAuthExpiresIn={};OAuthSettingsLocation='{}'",
        2 * DAY / S,
        settings.display()
    );
    let status = |now: u64, offset: &str| {
        let out = connector_at(&["acton", "status"], &conn, dir.path(), now, offset);
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    assert_eq!(
        status(T + 59 * S, "UTC"),
        format!(
            "location:      {}\n\
             access token:  stored\n\
             refresh token: stored\n\
             scope:         -\n\
             obtained at:   2026-12-04 20:14:05 +00:00 (59 s ago)\n\
             expires at:    2026-12-06 20:14:05 +00:00 (in 1 day)\n\
             revision:      -\n",
            settings.display()
        )
    );
    assert_eq!(
        status(T + 59 * S, "-05:30").lines().nth(4).unwrap(),
        "obtained at:   2026-12-04 14:44:05 -05:30 (59 s ago)"
    );
    for (now, obtained, expires) in [
        (T - 40 * S, "in 40 s", "in 2 days"),
        (T, "0 s ago", "in 2 days"),
        (T + 59 * S, "59 s ago", "in 1 day"),
        (T + 60 * S, "1 min ago", "in 1 day"),
        (T + 59 * MIN, "59 min ago", "in 1 day"),
        (T + H, "1 h ago", "in 1 day"),
        (T + 23 * H + 59 * MIN, "23 h 59 min ago", "in 1 day"),
        (T + DAY, "1 day ago", "in 1 day"),
        (T + DAY + MIN, "1 day ago", "in 23 h 59 min"),
        (T + 2 * DAY - H, "1 day ago", "in 1 h"),
        (T + 2 * DAY - 59 * MIN, "1 day ago", "in 59 min"),
        (T + 2 * DAY - 60 * S, "1 day ago", "in 1 min"),
        (T + 2 * DAY - 59 * S, "1 day ago", "in 59 s"),
        (T + 2 * DAY, "2 days ago", "expired 0 s ago"),
        (T + 2 * DAY + 59 * S, "2 days ago", "expired 59 s ago"),
        (T + 2 * DAY + 60 * S, "2 days ago", "expired 1 min ago"),
        (T + 2 * DAY + 59 * MIN, "2 days ago", "expired 59 min ago"),
        (T + 2 * DAY + H, "2 days ago", "expired 1 h ago"),
        (
            T + 2 * DAY + 3 * H + 10 * MIN,
            "2 days ago",
            "expired 3 h 10 min ago",
        ),
        (
            T + 2 * DAY + 23 * H + 59 * MIN,
            "2 days ago",
            "expired 23 h 59 min ago",
        ),
        (T + 3 * DAY, "3 days ago", "expired 1 day ago"),
    ] {
        let shown = status(now, "UTC");
        let lines: Vec<&str> = shown.lines().collect();
        assert_eq!(
            (lines[4], lines[5]),
            (
                format!("obtained at:   2026-12-04 20:14:05 +00:00 ({obtained})").as_str(),
                format!("expires at:    2026-12-06 20:14:05 +00:00 ({expires})").as_str()
            ),
            "now = T + {} ms",
            i128::from(now) - i128::from(T)
        );
    }
}

/// A HubDB login through the headless verifier flow: the authorization URL from
/// `GetOAuthAuthorizationURL`, the emulator's auto-approving page as the browser, then
/// `connector hubdb login` with the callback URL as `OAuthVerifier`.
async fn hubdb_login(emu: &Emulator, dir: &std::path::Path, conn: &str) {
    let info = emu.hubspot().info();
    let app = format!(
        "OAuthClientId={};OAuthClientSecret='{}';APIBaseURL={};OAuthAuthorizationURL={};CallbackURL={}",
        info.client_id, info.client_secret, info.base_url, info.authorize_url, info.redirect_uri,
    );
    let out = connector(
        &[
            "hubdb",
            "exec",
            "EXEC GetOAuthAuthorizationURL",
            "--format",
            "json",
        ],
        &format!("InitiateOAuth=OFF;{app}"),
        dir,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let rows: serde_json::Value = serde_json::from_str(&text(&out.stdout)).unwrap();
    let url = rows[0]["URL"].as_str().unwrap().to_owned();
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = browser.get(&url).send().await.unwrap();
    let callback = page.headers()["location"].to_str().unwrap().to_owned();
    assert!(callback.contains("code="), "{callback}");
    let login = connector(
        &["hubdb", "login"],
        &format!("{conn};OAuthVerifier='{callback}'"),
        dir,
    );
    assert!(login.status.success(), "{}", text(&login.stderr));
    assert!(text(&login.stdout).contains("refresh token: stored"));
}

fn hubdb_connection(emu: &Emulator, settings: &std::path::Path) -> String {
    let info = emu.hubspot().info();
    format!(
        "InitiateOAuth=REFRESH;OAuthClientId={};OAuthClientSecret='{}';APIBaseURL={};CallbackURL={};OAuthSettingsLocation='{}'",
        info.client_id,
        info.client_secret,
        info.base_url,
        info.redirect_uri,
        settings.display()
    )
}

fn active_refresh_tokens(emu: &Emulator) -> usize {
    emu.hubspot().tokens()["refresh_tokens"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["active"] == true)
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn hubdb_logout_revokes_the_refresh_token_and_says_so() {
    let emu = Emulator::builder()
        .hubdb_rows(5)
        .acton_records(5)
        .auto_approve(true)
        .start()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let settings = dir.path().join("hubdb.txt");
    let conn = hubdb_connection(&emu, &settings);
    hubdb_login(&emu, dir.path(), &conn).await;
    assert!(settings.exists());
    assert_eq!(active_refresh_tokens(&emu), 1);

    let logout = connector(&["hubdb", "logout"], &conn, dir.path());
    assert!(logout.status.success(), "{}", text(&logout.stderr));
    assert_eq!(
        text(&logout.stdout),
        format!(
            "stored tokens deleted from {}\nrefresh token revoked at {}\n",
            settings.display(),
            emu.hubspot().url("/oauth/2026-03/token/revoke")
        )
    );
    assert_eq!(text(&logout.stderr), "");
    assert!(!settings.exists());
    assert_eq!(active_refresh_tokens(&emu), 0, "revoked at the emulator");

    let again = connector(&["hubdb", "logout"], &conn, dir.path());
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert_eq!(
        text(&again.stdout),
        format!(
            "no stored tokens at {}\nno refresh token to revoke\n",
            settings.display()
        )
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn hubdb_logout_whose_revocation_fails_deletes_then_exits_3() {
    let emu = Emulator::builder()
        .hubdb_rows(5)
        .acton_records(5)
        .auto_approve(true)
        .start()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let settings = dir.path().join("hubdb.txt");
    let revoke = emu.hubspot().url("/oauth/v9/token/revoke");
    let conn = format!(
        "{};OAuthRevocationURL={revoke}",
        hubdb_connection(&emu, &settings)
    );
    hubdb_login(&emu, dir.path(), &conn).await;

    let logout = connector(&["hubdb", "logout"], &conn, dir.path());
    assert_eq!(logout.status.code(), Some(3), "{}", text(&logout.stderr));
    assert_eq!(
        text(&logout.stdout),
        format!("stored tokens deleted from {}\n", settings.display())
    );
    assert_eq!(
        text(&logout.stderr),
        format!(
            "error: refresh token NOT revoked: {revoke} answered HTTP 404; it stays valid at \
             HubSpot until it expires or you remove the app's access in HubSpot's settings\n"
        )
    );
    assert!(
        !settings.exists(),
        "deleted even though the revocation failed"
    );
    assert_eq!(
        active_refresh_tokens(&emu),
        1,
        "still valid at the emulator"
    );
}
