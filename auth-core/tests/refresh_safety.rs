//! No refresh token lost: cancellation, lost answers, slow providers, shared failures.
//!
//! Against the Act-On emulator with single-use, rotating refresh tokens (a reused one revokes
//! the family), over real loopback HTTP and real settings files. Tests are named after the
//! reliability catalogue's fault IDs (`docs/fault-catalogue.md`).

// A failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use auth_core::http::HttpSettings;
use auth_core::provider::Provider;
use auth_core::time::{ManualTimeSource, SystemTimeSource, TimeSource};
use auth_core::{Authenticator, AuthenticatorBuilder, Error, Grant, Secret, TokenProvider};
use connstr::validate::InitiateOAuth;
use emulator::{Emulator, Fault, FaultKind, FaultTarget, RefreshRotation};
use token_store::{
    FileStore, KeyConfig, Location, StoreLock, TokenRecord, TokenStore, UnsavedMark, WriteHook,
    WriteStep, open_store,
};

struct Fixture {
    emu: Emulator,
    dir: tempfile::TempDir,
    clock: Arc<ManualTimeSource>,
}

async fn fixture() -> Fixture {
    fixture_with(RefreshRotation::RotateRevokeOnReuse).await
}

async fn fixture_with(rotation: RefreshRotation) -> Fixture {
    let emu = Emulator::builder()
        .hubdb_rows(5)
        .acton_records(5)
        .auto_approve(true)
        .acton_refresh_rotation(rotation)
        .start()
        .await
        .expect("emulator starts");
    Fixture {
        emu,
        dir: tempfile::tempdir().unwrap(),
        clock: Arc::new(ManualTimeSource::new(SystemTimeSource.now_ms())),
    }
}

impl Fixture {
    fn acton_provider(&self) -> Provider {
        let info = self.emu.acton().info();
        let mut p =
            Provider::new("Act-On", "Act-On", &info.authorize_url, &info.token_url).unwrap();
        p.default_scopes = vec!["PRODUCTION".into()];
        p.single_use_refresh_tokens = true;
        p.default_expires_in = Some(3600);
        p
    }

    fn hubspot_provider(&self) -> Provider {
        let info = self.emu.hubspot().info();
        let token_url = format!("{}/oauth/v3/token", info.base_url);
        let mut p = Provider::new("HubSpot", "HubDB", &info.authorize_url, &token_url).unwrap();
        p.default_scopes = vec!["hubdb".into(), "oauth".into()];
        p
    }

    /// Authorizes on the HubSpot emulator's page (auto-approved) and exchanges the code.
    async fn hubspot_refresh_token(&self) -> Secret {
        let info = self.emu.hubspot().info();
        let provider = self.hubspot_provider();
        let url = auth_core::authorization_url(
            &provider,
            &info.client_id,
            &info.redirect_uri,
            &provider.default_scopes,
            "state-1",
            None,
        );
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let resp = client.get(url).send().await.unwrap();
        let location = resp.headers()[reqwest::header::LOCATION].to_str().unwrap();
        let (code, _) = auth_core::parse_verifier(&Secret::new(location)).unwrap();
        let tokens = auth_core::grants::TokenClient::new(
            provider,
            auth_core::grants::ClientCredentials {
                id: info.client_id.clone(),
                secret: Some(Secret::new(info.client_secret.clone())),
            },
            reqwest::Client::new(),
            self.clock.clone(),
        );
        tokens
            .exchange_code(&code, &info.redirect_uri, None)
            .await
            .unwrap()
            .refresh_token
            .unwrap()
    }

    fn settings(&self) -> std::path::PathBuf {
        self.dir.path().join("settings.txt")
    }

    fn keys(&self) -> KeyConfig {
        KeyConfig::key_file(self.dir.path().join("settings.key")).with_iterations(1_000)
    }

    fn store(&self) -> Arc<dyn TokenStore> {
        open_store(&Location::File(self.settings()), self.keys())
    }

    fn acton(&self, grant: Grant) -> AuthenticatorBuilder {
        let info = self.emu.acton().info();
        Authenticator::builder(self.acton_provider())
            .client(
                info.client_id.clone(),
                Some(Secret::new(info.client_secret.clone())),
            )
            .grant(grant)
            .time_source(self.clock.clone())
    }

    fn password(&self) -> Grant {
        let info = self.emu.acton().info();
        Grant::Password {
            user: info.user.clone(),
            password: Secret::new(info.password.clone()),
        }
    }

    /// A connection that logs in with the password once and then refreshes.
    fn acton_password(&self, store: Arc<dyn TokenStore>) -> Authenticator {
        self.acton(self.password())
            .initiate(InitiateOAuth::GetAndRefresh)
            .store(store)
            .build()
            .unwrap()
    }

    /// A connection that only refreshes stored tokens (`InitiateOAuth=REFRESH`, no password):
    /// what a user of the browser or headless flow has after logging in.
    fn acton_refresh_only(&self, store: Arc<dyn TokenStore>) -> Authenticator {
        self.acton(Grant::AuthorizationCode)
            .initiate(InitiateOAuth::Refresh)
            .store(store)
            .build()
            .unwrap()
    }

    /// Stores a logged-in token pair (one password grant) and lets it expire.
    async fn logged_in_and_expired(&self) -> Secret {
        let first = self.acton_password(self.store());
        let token = first.access_token().await.unwrap();
        self.clock.advance_ms(3_600_000);
        token
    }

    fn token_fault(&self, kind: FaultKind, count: u32) {
        self.emu
            .acton()
            .inject(Fault::new(kind, count).on(FaultTarget::Token));
    }

    fn refreshes(&self) -> u64 {
        self.emu.acton().stats().token_grants.refresh_token
    }

    fn token_errors(&self) -> u64 {
        self.emu.acton().stats().token_errors
    }
}

fn fast_http(timeout: Duration) -> HttpSettings {
    HttpSettings {
        timeout: Some(timeout),
        ..HttpSettings::default()
    }
}

// ----- TE: token endpoint errors ----------------------------------------------------------------

#[tokio::test]
async fn te_1_invalid_grant_on_refresh_is_terminal_and_names_the_login_command() {
    let f = fixture().await;
    let auth = f
        .acton(Grant::AuthorizationCode)
        .initiate(InitiateOAuth::Refresh)
        .given_tokens(None, Some(Secret::new("not-a-refresh-token")), None, None)
        .store(f.store())
        .build()
        .unwrap();
    let err = auth.access_token().await.unwrap_err();
    assert!(err.is_invalid_grant() || matches!(err, Error::ReauthorizationRequired { .. }));
    let text = err.to_string();
    assert_eq!(
        text,
        format!(
            "re-authorization required: Act-On refused the stored refresh token (HTTP 403 invalid_grant: Unknown or invalid refresh token.); Act-On refresh tokens work once, so it was used already — by another program or by a copy of this settings file (move settings files, don't copy them) (OAuth settings: {}; run `connector acton login`, or delete the file and connect with InitiateOAuth=GETANDREFRESH)",
            f.settings().display()
        )
    );
    assert_eq!(f.token_errors(), 1, "no retry of a refused refresh token");
}

#[tokio::test]
async fn te_2_hubspot_bad_refresh_token_is_terminal_without_retry() {
    let f = fixture().await;
    let info = f.emu.hubspot().info();
    let auth = Authenticator::builder(f.hubspot_provider())
        .client(
            info.client_id.clone(),
            Some(Secret::new(info.client_secret.clone())),
        )
        .initiate(InitiateOAuth::Refresh)
        .given_tokens(None, Some(Secret::new("revoked-or-unknown")), None, None)
        .build()
        .unwrap();
    let err = auth.access_token().await.unwrap_err();
    assert!(
        matches!(err, Error::ReauthorizationRequired { .. }),
        "{err}"
    );
    assert!(
        err.to_string().contains("BAD_REFRESH_TOKEN") || err.to_string().contains("invalid_grant"),
        "{err}"
    );
    assert_eq!(f.emu.hubspot().stats().token_errors, 1);
}

#[tokio::test]
async fn te_5_server_errors_are_retried_for_reusable_refresh_tokens() {
    let f = fixture().await;
    let info = f.emu.hubspot().info();
    let hubspot_refresh_token = f.hubspot_refresh_token().await;
    let hubspot = |store: Arc<dyn TokenStore>| {
        Authenticator::builder(f.hubspot_provider())
            .client(
                info.client_id.clone(),
                Some(Secret::new(info.client_secret.clone())),
            )
            .initiate(InitiateOAuth::Refresh)
            .given_tokens(None, Some(hubspot_refresh_token.clone()), None, None)
            .store(store)
            .time_source(f.clock.clone())
            .build()
            .unwrap()
    };
    f.emu
        .hubspot()
        .inject(Fault::status(502, 2).on(FaultTarget::Token));
    let auth = hubspot(f.store());
    auth.access_token().await.unwrap();
    let stats = f.emu.hubspot().stats();
    assert_eq!(
        (stats.token_errors, stats.token_grants.refresh_token),
        (2, 1)
    );
}

#[tokio::test]
async fn te_5_a_single_use_refresh_token_is_sent_again_once_after_a_server_error() {
    let f = fixture().await;
    let old = f.logged_in_and_expired().await;
    // One 502: the guarded second try succeeds (the emulator never processed the first).
    f.token_fault(
        FaultKind::Status {
            status: 502,
            retry_after: None,
            body: None,
            content_type: None,
        },
        1,
    );
    let auth = f.acton_refresh_only(f.store());
    let new = auth.access_token().await.unwrap();
    assert!(!new.ct_eq(&old));
    assert_eq!((f.refreshes(), f.token_errors()), (1, 1));
    // Two 502s with an expired token: an error after exactly two requests, never a third.
    f.clock.advance_ms(3_600_000);
    f.token_fault(
        FaultKind::Status {
            status: 502,
            retry_after: None,
            body: None,
            content_type: None,
        },
        5,
    );
    let err = auth.access_token().await.unwrap_err();
    assert!(err.is_transient(), "{err}");
    assert_eq!(
        f.token_errors(),
        3,
        "the 502'd token was sent twice, not three times"
    );
    // Within 2 s the same error comes back without a request (no storm); then a new try.
    let again = auth.access_token().await.unwrap_err();
    assert!(again.is_transient(), "{again}");
    assert_eq!(f.token_errors(), 3);
    f.emu.acton().clear_faults();
    f.clock.advance_ms(2_000);
    auth.access_token().await.unwrap();
    assert_eq!(f.refreshes(), 2);
}

#[tokio::test]
async fn te_6_rate_limited_refresh_waits_for_retry_after_then_succeeds() {
    let f = fixture().await;
    f.logged_in_and_expired().await;
    f.emu
        .acton()
        .inject(Fault::too_many_requests(Some(1), 1).on(FaultTarget::Token));
    let auth = f.acton_refresh_only(f.store());
    let started = Instant::now();
    auth.access_token().await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After honoured"
    );
    assert_eq!((f.refreshes(), f.token_errors()), (1, 1));
}

#[test]
fn te_7_server_error_and_temporarily_unavailable_are_transient_whatever_the_status() {
    let error = |status: u16, code: &str| Error::TokenEndpoint {
        provider: "P".into(),
        grant: "refresh_token",
        status,
        error: Some(code.into()),
        description: None,
        hint: None,
    };
    for status in [200, 400] {
        assert!(error(status, "server_error").is_transient());
        assert!(error(status, "temporarily_unavailable").is_transient());
        assert!(!error(status, "invalid_grant").is_transient());
    }
    assert!(error(400, "temporarily_unavailable").is_safe_to_replay());
    assert!(
        !error(400, "server_error").is_safe_to_replay(),
        "it may have been processed"
    );
}

#[tokio::test]
async fn te_10_a_stalled_token_endpoint_times_out_and_releases_the_lock() {
    let f = fixture().await;
    f.logged_in_and_expired().await;
    f.token_fault(FaultKind::Stall, 1);
    let auth = f
        .acton(Grant::AuthorizationCode)
        .initiate(InitiateOAuth::Refresh)
        .http(fast_http(Duration::from_millis(500)))
        .store(f.store())
        .build()
        .unwrap();
    let started = Instant::now();
    // The stalled request times out; the guarded second try is answered and saved.
    auth.access_token().await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(f.refreshes(), 1);
    // The lock is free again.
    let _guard: StoreLock = f.store().lock(Duration::from_millis(100)).unwrap();
}

#[test]
fn te_10_token_requests_are_bounded_even_with_timeout_0_and_the_lock_wait_outlasts_them() {
    let provider = Provider::new("P", "P", "https://p.example/a", "https://p.example/t").unwrap();
    let auth = Authenticator::builder(provider)
        .client("id", None)
        .initiate(InitiateOAuth::Refresh)
        .http(HttpSettings {
            timeout: None,
            ..HttpSettings::default()
        })
        .build()
        .unwrap();
    let tokens = auth.token_client();
    assert_eq!(tokens.request_timeout(), Duration::from_secs(60));
    // 3 attempts + the guarded retry + a re-grant, each timing out, and the waits between.
    let worst = tokens.worst_case_refresh(3) + tokens.request_timeout() * 2;
    assert!(
        auth.lock_timeout() > worst,
        "{:?} vs {worst:?}",
        auth.lock_timeout()
    );
}

/// The scenario: the answer to a refresh is truncated after Act-On rotated the token.
#[tokio::test]
async fn te_14_a_lost_refresh_answer_is_reported_precisely_not_blamed_on_a_copy() {
    let f = fixture().await;
    f.logged_in_and_expired().await;
    f.token_fault(FaultKind::Truncate, 1);
    let auth = f.acton_refresh_only(f.store());
    let err = auth.access_token().await.unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(err, Error::ReauthorizationRequired { .. }),
        "{text}"
    );
    let port = f.acton_provider().token_url.port().unwrap();
    assert_eq!(
        text,
        format!(
            "re-authorization required: the answer to a token refresh was lost (the connection closed before the whole answer arrived, http://127.0.0.1:{port}/token), after which Act-On refused the stored refresh token (HTTP 403 invalid_grant: Unknown or invalid refresh token.): Act-On had rotated it, and its refresh tokens work once, so the new pair was lost with the answer (OAuth settings: {}; run `connector acton login`, or delete the file and connect with InitiateOAuth=GETANDREFRESH)",
            f.settings().display()
        )
    );
    assert!(!text.contains("copy"), "the user copied nothing: {text}");
    // Exactly two refresh requests: the lost one and one guarded probe.
    assert_eq!((f.refreshes(), f.token_errors()), (1, 1));
}

#[tokio::test]
async fn te_14_with_the_password_grant_a_lost_answer_ends_with_a_working_token() {
    let f = fixture().await;
    let old = f.logged_in_and_expired().await;
    f.token_fault(FaultKind::Truncate, 1);
    let auth = f.acton_password(f.store());
    let new = auth.access_token().await.unwrap();
    assert!(!new.ct_eq(&old));
    let stats = f.emu.acton().stats();
    assert_eq!(
        stats.token_grants.password, 2,
        "one re-grant after the lost answer"
    );
    // Another connection on the same file works without any further token error.
    let errors = f.token_errors();
    let other = f.acton_password(f.store());
    assert!(other.access_token().await.unwrap().ct_eq(&new));
    assert_eq!(f.token_errors(), errors);
}

#[tokio::test]
async fn te_14_a_reset_before_the_answer_is_probed_once_and_succeeds() {
    let f = fixture().await;
    f.logged_in_and_expired().await;
    f.token_fault(FaultKind::Reset, 1);
    let auth = f.acton_refresh_only(f.store());
    auth.access_token().await.unwrap();
    assert_eq!((f.refreshes(), f.token_errors()), (1, 0));
}

// ----- RT: refresh concurrency ------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rt_2_a_failed_refresh_is_shared_by_every_waiting_task() {
    let f = fixture().await;
    f.logged_in_and_expired().await;
    f.token_fault(
        FaultKind::Status {
            status: 503,
            retry_after: None,
            body: None,
            content_type: None,
        },
        100,
    );
    let auth = Arc::new(f.acton_refresh_only(f.store()));
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let auth = auth.clone();
            tokio::spawn(async move { auth.access_token().await })
        })
        .collect();
    for t in tasks {
        let err = t.await.unwrap().unwrap_err();
        assert!(err.is_transient(), "{err}");
    }
    // One flight: the first try and its guarded probe, not 50 × 3 requests.
    assert_eq!(f.token_errors(), 2);
}

/// RT-3: the caller is dropped at every point of the refresh (lock wait, store read, request
/// sent, answer pending, save); the refresh completes anyway and the next call works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rt_3_a_caller_dropped_anywhere_in_the_refresh_loses_no_token() {
    let f = fixture().await;
    f.logged_in_and_expired().await;
    let auth = f.acton_refresh_only(f.store());
    let cutoffs_us = [
        0, 50, 200, 1_000, 3_000, 10_000, 20_000, 40_000, 60_000, 90_000,
    ];
    for (round, cutoff) in cutoffs_us.into_iter().enumerate() {
        // A slow token endpoint, so that the cut-offs land before, during and after it.
        f.token_fault(FaultKind::Delay { ms: 50 }, 1);
        let cut = tokio::time::timeout(Duration::from_micros(cutoff), auth.access_token()).await;
        drop(cut);
        assert!(
            auth_core::wait_for_pending_refreshes(Duration::from_secs(10)).await,
            "round {round}: the detached refresh finishes"
        );
        auth.access_token().await.unwrap();
        // A new connection (another process would do the same) reads the saved pair.
        let fresh = f.acton_refresh_only(f.store());
        fresh.access_token().await.unwrap();
        f.clock.advance_ms(3_600_000);
    }
    assert_eq!(
        f.token_errors(),
        0,
        "no used refresh token was ever presented"
    );
    assert_eq!(f.refreshes(), cutoffs_us.len() as u64);
}

/// A store handle that first shows an old snapshot (the read happened before a sibling's
/// write), then the real file.
#[derive(Debug)]
struct LaggingStore {
    real: Arc<dyn TokenStore>,
    snapshot: TokenRecord,
    stale_reads: Mutex<u32>,
}

impl TokenStore for LaggingStore {
    fn location(&self) -> &Location {
        self.real.location()
    }
    fn load(&self) -> token_store::Result<TokenRecord> {
        let mut left = self.stale_reads.lock().unwrap();
        if *left == 0 {
            return self.real.load();
        }
        *left -= 1;
        Ok(self.snapshot.clone())
    }
    fn save(&self, record: &TokenRecord) -> token_store::Result<u64> {
        self.real.save(record)
    }
    fn clear(&self) -> token_store::Result<()> {
        self.real.clear()
    }
    fn lock(&self, timeout: Duration) -> token_store::Result<StoreLock> {
        self.real.lock(timeout)
    }
    fn has_changed(&self) -> token_store::Result<bool> {
        self.real.has_changed()
    }
}

#[tokio::test]
async fn rt_10_a_newer_refresh_token_on_disk_is_adopted_even_when_its_access_token_expired() {
    let f = fixture_with(RefreshRotation::Rotate).await;
    f.logged_in_and_expired().await;
    let old = f.store().load().unwrap();
    // A sibling refreshes and saves; its access token then expires too.
    f.acton_refresh_only(f.store())
        .access_token()
        .await
        .unwrap();
    f.clock.advance_ms(3_600_000);
    let lagging = Arc::new(LaggingStore {
        real: f.store(),
        snapshot: old,
        // The lock-free read and the read under the lock both see the old snapshot.
        stale_reads: Mutex::new(2),
    });
    let auth = f.acton_refresh_only(lagging);
    // The stale read's token is refused; the disk's newer one is used instead of asking the
    // user to log in again.
    auth.access_token().await.unwrap();
    assert_eq!(f.refreshes(), 2);
    assert_eq!(
        f.token_errors(),
        1,
        "only the stale snapshot's token was refused"
    );
}

// ----- FS: the settings file --------------------------------------------------------------------

/// Fails the data write of every save while `failing` is set.
#[derive(Debug, Default)]
struct DiskFull {
    failing: std::sync::atomic::AtomicBool,
}

impl WriteHook for DiskFull {
    fn before(&self, step: WriteStep, _path: &Path) -> std::io::Result<()> {
        if step == WriteStep::WriteData && self.failing.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::StorageFull,
                "no space left on device",
            ));
        }
        Ok(())
    }
}

#[tokio::test]
async fn fs_3_other_connections_learn_the_file_is_stale_and_drop_saves_the_tokens() {
    let f = fixture().await;
    f.logged_in_and_expired().await;
    let disk = Arc::new(DiskFull::default());
    disk.failing
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let failing_store: Arc<dyn TokenStore> =
        Arc::new(FileStore::new(f.settings(), f.keys()).with_write_hook(disk.clone()));
    let holder = f.acton_refresh_only(failing_store.clone());
    // The rotation succeeded; the save did not: the caller still gets the new token.
    let new = holder.access_token().await.unwrap();
    let stale_revision = f.store().load().unwrap().revision;
    assert_eq!(
        failing_store.unsaved_mark(),
        Some(UnsavedMark {
            pid: std::process::id(),
            stale_revision
        })
    );
    // Another connection sharing the file is told, instead of presenting the used-up token.
    let other = f.acton_refresh_only(f.store());
    let err = other.access_token().await.unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "the OAuth tokens in {} are out of date: process {} refreshed them but could not save the new ones (disk full or not writable?); it retries on its next use: free space or fix the permissions, then try again",
            f.settings().display(),
            std::process::id()
        )
    );
    assert_eq!(f.token_errors(), 0);
    // Space comes back; the holder goes away: its drop saves the tokens and clears the mark.
    disk.failing
        .store(false, std::sync::atomic::Ordering::SeqCst);
    drop(holder);
    assert_eq!(f.store().unsaved_mark(), None);
    let other = f.acton_refresh_only(f.store());
    assert!(other.access_token().await.unwrap().ct_eq(&new));
    assert_eq!((f.refreshes(), f.token_errors()), (1, 0));
}

#[tokio::test]
async fn fs_4_valid_stored_tokens_are_read_without_taking_the_lock() {
    let f = fixture().await;
    let token = f.acton_password(f.store()).access_token().await.unwrap();
    let lock_file = f.dir.path().join("settings.txt.lock");
    std::fs::remove_file(&lock_file).unwrap();
    // A read-only settings directory cannot get a `.lock` file: reading must not need one.
    let reader = f.acton_refresh_only(f.store());
    assert!(reader.access_token().await.unwrap().ct_eq(&token));
    assert!(
        !lock_file.exists(),
        "a valid token was read without the lock"
    );
}

#[tokio::test]
async fn tokens_of_another_client_id_are_neither_used_nor_overwritten_nor_deleted() {
    let f = fixture().await;
    f.acton_password(f.store()).access_token().await.unwrap();
    let before = std::fs::read(f.settings()).unwrap();
    let other_app = f
        .acton(f.password())
        .client("another-app", Some(Secret::new("s")))
        .initiate(InitiateOAuth::GetAndRefresh)
        .store(f.store())
        .build()
        .unwrap();
    let err = other_app.access_token().await.unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{} holds OAuth tokens of client id {}, not of OAuthClientId another-app; use another OAuthSettingsLocation for this app, or delete the file if those tokens are no longer needed",
            f.settings().display(),
            f.emu.acton().info().client_id
        )
    );
    assert!(other_app.logout().await.is_err());
    assert_eq!(std::fs::read(f.settings()).unwrap(), before);
}
