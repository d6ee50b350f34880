//! The manual and headless flows (reliability catalogue F-WEB/HL rows 3, 5 and 6) against the
//! emulators: a stale or reused verifier, a settings file copied to a second machine, and a
//! second machine whose clock is off. HL-7 (a file bound to another machine's key) is
//! `hl_7_…` in `flows.rs`.

// A failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use auth_core::provider::{ClientAuth, Provider};
use auth_core::time::{ManualTimeSource, SystemTimeSource, TimeSource};
use auth_core::{Authenticator, Error, Grant, Secret, TokenProvider};
use connstr::validate::InitiateOAuth;
use emulator::{Emulator, RefreshRotation};
use token_store::{KeyConfig, Location, TokenStore, open_store};

const MINUTE_MS: u64 = 60_000;

async fn emulator() -> Emulator {
    Emulator::builder()
        .hubdb_rows(1)
        .acton_records(1)
        .auto_approve(true)
        .acton_refresh_rotation(RefreshRotation::RotateRevokeOnReuse)
        .start()
        .await
        .expect("emulator starts")
}

fn clock_at(ms: u64) -> Arc<ManualTimeSource> {
    Arc::new(ManualTimeSource::new(ms))
}

/// A passphrase-protected settings file: portable between machines, as the headless
/// "copy the settings file" flow needs.
fn portable_store(path: &Path) -> Arc<dyn TokenStore> {
    open_store(
        &Location::File(path.to_owned()),
        KeyConfig::passphrase(Secret::new("correct horse battery staple")).with_iterations(1_000),
    )
}

// ---------------------------------------------------------------------------------------------
// HL-3: HubSpot, an authorization code pasted as OAuthVerifier.

fn hubspot_provider(emu: &Emulator) -> Provider {
    let info = emu.hubspot().info();
    let mut p = Provider::new(
        "HubSpot",
        "HubDB",
        &info.authorize_url,
        &format!("{}/oauth/v3/token", info.base_url),
    )
    .unwrap();
    p.default_scopes = vec!["hubdb".into(), "oauth".into()];
    p
}

/// The callback URL the auto-approving authorization page redirects to, for `state`, with the
/// PKCE challenge the two-step flow derives from the client secret and the state.
async fn authorize(emu: &Emulator, state: &str) -> String {
    let info = emu.hubspot().info();
    let pkce = auth_core::pkce::derived_verifier(&Secret::new(info.client_secret.clone()), state);
    let provider = hubspot_provider(emu);
    let url = auth_core::authorization_url(
        &provider,
        &info.client_id,
        &info.redirect_uri,
        &provider.default_scopes,
        state,
        Some(&pkce),
    );
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = client.get(url).send().await.unwrap();
    assert!(resp.status().is_redirection(), "{}", resp.status());
    resp.headers()[reqwest::header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned()
}

fn hubspot_refresh_mode(
    emu: &Emulator,
    verifier: Option<String>,
    store: Arc<dyn TokenStore>,
) -> Authenticator {
    let info = emu.hubspot().info();
    let mut b = Authenticator::builder(hubspot_provider(emu))
        .client(
            info.client_id.clone(),
            Some(Secret::new(info.client_secret.clone())),
        )
        .initiate(InitiateOAuth::Refresh)
        .callback_url(info.redirect_uri.clone())
        .store(store)
        .time_source(clock_at(SystemTimeSource.now_ms()));
    if let Some(v) = verifier {
        b = b.verifier(Secret::new(v));
    }
    b.build().unwrap()
}

/// The error a stale or used code must give: "restart the authorization", and nothing that
/// blames a refresh token.
fn assert_code_refused(err: &Error) {
    assert!(
        matches!(err.inner(), Error::ReauthorizationRequired { .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(text.contains("authorization code"), "{text}");
    assert!(
        text.contains("expire") && text.contains("work once"),
        "says why: {text}"
    );
    assert!(text.contains("authorize again"), "says what to do: {text}");
    assert!(
        !text.to_lowercase().contains("refresh token"),
        "a stale code is not a dead refresh token: {text}"
    );
}

#[tokio::test]
async fn hl_3_a_verifier_older_than_ten_minutes_asks_to_authorize_again() {
    let emu = emulator().await;
    let callback = authorize(&emu, "state-old").await;
    // The user pastes it eleven minutes later.
    emu.advance_clock(Duration::from_secs(11 * 60));
    let dir = tempfile::tempdir().unwrap();
    let store = portable_store(&dir.path().join("s.txt"));
    let err = hubspot_refresh_mode(&emu, Some(callback.clone()), store.clone())
        .access_token()
        .await
        .unwrap_err();
    assert_code_refused(&err);
    let code = auth_core::parse_verifier(&Secret::new(callback)).unwrap().0;
    assert!(!err.to_string().contains(code.expose()), "{err}");
    assert!(store.try_load().unwrap().is_none(), "nothing stored");
    assert_eq!(emu.hubspot().stats().token_grants.authorization_code, 0);
}

#[tokio::test]
async fn hl_3_a_reused_verifier_asks_to_authorize_again() {
    let emu = emulator().await;
    let callback = authorize(&emu, "state-once").await;
    let dir = tempfile::tempdir().unwrap();
    // Exchanged once on one machine …
    hubspot_refresh_mode(
        &emu,
        Some(callback.clone()),
        portable_store(&dir.path().join("a.txt")),
    )
    .access_token()
    .await
    .unwrap();
    // … and pasted again into another configuration (its own, empty, settings file).
    let err = hubspot_refresh_mode(
        &emu,
        Some(callback),
        portable_store(&dir.path().join("b.txt")),
    )
    .access_token()
    .await
    .unwrap_err();
    assert_code_refused(&err);
    assert_eq!(emu.hubspot().stats().token_grants.authorization_code, 1);
}

#[tokio::test]
async fn hl_3_a_stale_verifier_leaves_the_stored_tokens_alone() {
    let emu = emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.txt");
    // Working tokens from an earlier exchange.
    let first = authorize(&emu, "state-first").await;
    hubspot_refresh_mode(&emu, Some(first), portable_store(&path))
        .access_token()
        .await
        .unwrap();
    let before = portable_store(&path).load().unwrap();
    // A new verifier, pasted too late, into the same configuration.
    let late = authorize(&emu, "state-late").await;
    emu.advance_clock(Duration::from_secs(11 * 60));
    let err = hubspot_refresh_mode(&emu, Some(late), portable_store(&path))
        .access_token()
        .await
        .unwrap_err();
    assert_code_refused(&err);
    // The stored refresh token was neither cleared nor marked dead: it still works.
    let after = portable_store(&path).load().unwrap();
    assert!(after.access_token.ct_eq(&before.access_token));
    assert!(
        after
            .refresh_token
            .as_ref()
            .unwrap()
            .ct_eq(before.refresh_token.as_ref().unwrap())
    );
    hubspot_refresh_mode(&emu, None, portable_store(&path))
        .access_token()
        .await
        .unwrap();
}

// ---------------------------------------------------------------------------------------------
// HL-5, HL-6: Act-On, a settings file copied to another machine.

fn acton_provider(emu: &Emulator) -> Provider {
    let info = emu.acton().info();
    let mut p = Provider::new("Act-On", "Act-On", &info.authorize_url, &info.token_url).unwrap();
    p.client_auth = ClientAuth::RequestBody;
    p.default_scopes = vec!["PRODUCTION".into()];
    p.single_use_refresh_tokens = true;
    p.default_expires_in = Some(3600);
    p
}

/// A machine using the settings file at `path` with its own wall clock: REFRESH mode, as a
/// headless machine runs (no password to fall back on).
fn acton_machine(emu: &Emulator, path: &Path, clock: Arc<ManualTimeSource>) -> Authenticator {
    let info = emu.acton().info();
    Authenticator::builder(acton_provider(emu))
        .client(
            info.client_id.clone(),
            Some(Secret::new(info.client_secret.clone())),
        )
        .initiate(InitiateOAuth::Refresh)
        .store(portable_store(path))
        .time_source(clock)
        .build()
        .unwrap()
}

/// Logs in on "machine A" (password grant) into a portable file and copies it to "machine B".
/// Returns the two paths and the access token; the emulator's clock and A's read `now`.
async fn copied_settings(
    emu: &Emulator,
    dir: &tempfile::TempDir,
    now: u64,
) -> (std::path::PathBuf, std::path::PathBuf, Secret) {
    let a = dir.path().join("machine-a").join("OAuthSettings.txt");
    let b = dir.path().join("machine-b").join("OAuthSettings.txt");
    std::fs::create_dir_all(a.parent().unwrap()).unwrap();
    std::fs::create_dir_all(b.parent().unwrap()).unwrap();
    let info = emu.acton().info();
    let token = Authenticator::builder(acton_provider(emu))
        .client(
            info.client_id.clone(),
            Some(Secret::new(info.client_secret.clone())),
        )
        .grant(Grant::Password {
            user: info.user.clone(),
            password: Secret::new(info.password.clone()),
        })
        .store(portable_store(&a))
        .time_source(clock_at(now))
        .build()
        .unwrap()
        .access_token()
        .await
        .unwrap();
    std::fs::copy(&a, &b).unwrap();
    (a, b, token)
}

async fn api_status(emu: &Emulator, token: &Secret) -> u16 {
    reqwest::Client::new()
        .get(format!("{}/api/1/account", emu.acton().info().base_url))
        .bearer_auth(token.expose())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn hl_5_a_copied_settings_file_the_loser_is_told_it_was_used_elsewhere() {
    let emu = emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let now = SystemTimeSource.now_ms();
    let (a_path, b_path, _) = copied_settings(&emu, &dir, now).await;
    let clock = clock_at(now);
    let a = acton_machine(&emu, &a_path, clock.clone());
    let b = acton_machine(&emu, &b_path, clock.clone());
    a.access_token().await.unwrap();
    b.access_token().await.unwrap();
    // An hour later the copy on B refreshes first: Act-On rotates the refresh token …
    clock.advance_ms(60 * MINUTE_MS);
    emu.advance_clock(Duration::from_secs(3600));
    let b_token = b.access_token().await.unwrap();
    assert_eq!(api_status(&emu, &b_token).await, 200);
    // … so A, still holding the used one, loses.
    let err = a.access_token().await.unwrap_err();
    assert!(
        matches!(err.inner(), Error::ReauthorizationRequired { .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains("copy of this settings file") || text.contains("another copy"),
        "the loser learns the refresh token was probably used elsewhere: {text}"
    );
    assert!(
        text.contains("move settings files, don't copy them"),
        "and how to avoid it: {text}"
    );
    assert!(
        text.contains(&a_path.display().to_string()),
        "names the file: {text}"
    );
    // The loser's own file was not turned into something else: it still holds its tokens for
    // diagnosis, and B's file is B's.
    assert!(
        portable_store(&a_path)
            .load()
            .unwrap()
            .refresh_token
            .is_some()
    );
    let stats = emu.acton().stats();
    assert_eq!(stats.token_grants.refresh_token, 1);
}

#[tokio::test]
async fn hl_6_a_machine_ten_minutes_ahead_refreshes_early_and_harmlessly() {
    let emu = emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let now = SystemTimeSource.now_ms();
    let (_, b_path, old) = copied_settings(&emu, &dir, now).await;
    // B's clock is 10 minutes ahead of the server's.
    let b_clock = clock_at(now + 10 * MINUTE_MS);
    let b = acton_machine(&emu, &b_path, b_clock.clone());
    assert!(b.access_token().await.unwrap().ct_eq(&old));
    // 46 minutes later by the server: B believes 56, past its refresh point (60 − 5 margin).
    emu.advance_clock(Duration::from_secs(46 * 60));
    b_clock.advance_ms(46 * MINUTE_MS);
    assert_eq!(
        api_status(&emu, &old).await,
        200,
        "the old token still works"
    );
    let new = b.access_token().await.unwrap();
    assert!(!new.ct_eq(&old), "B refreshed early");
    assert_eq!(api_status(&emu, &new).await, 200, "harmlessly");
    assert_eq!(emu.acton().stats().token_grants.refresh_token, 1);
    assert_eq!(emu.acton().stats().token_errors, 0);
}

/// HL-6 also asks for a warning when the server's `Date` differs from the local clock by more
/// than 2 minutes; the token client does not read `Date` yet (auth-core/src/grants.rs), so only
/// the recovery is checked here.
#[tokio::test]
async fn hl_6_a_machine_ten_minutes_behind_recovers_through_the_401_retry() {
    let emu = emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let now = SystemTimeSource.now_ms();
    let (_, b_path, old) = copied_settings(&emu, &dir, now).await;
    let b_clock = clock_at(now - 10 * MINUTE_MS);
    let b = acton_machine(&emu, &b_path, b_clock.clone());
    // 61 minutes later by the server (the token expired), 51 by B: B still trusts it.
    emu.advance_clock(Duration::from_secs(61 * 60));
    b_clock.advance_ms(61 * MINUTE_MS);
    let believed = b.access_token().await.unwrap();
    assert!(believed.ct_eq(&old));
    assert_eq!(api_status(&emu, &believed).await, 401);
    // API 401 → one forced refresh → success.
    let retry = b.on_unauthorized(&believed).await.unwrap();
    assert!(!retry.ct_eq(&old));
    assert_eq!(api_status(&emu, &retry).await, 200);
    assert_eq!(emu.acton().stats().token_grants.refresh_token, 1);
    assert!(
        portable_store(&b_path)
            .load()
            .unwrap()
            .access_token
            .ct_eq(&retry)
    );
}
