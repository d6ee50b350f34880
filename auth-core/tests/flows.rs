//! The auth flows against the HubSpot and Act-On emulators, over real loopback HTTP.
//! Tests are named after the reliability catalogue's fault IDs where one applies.

// A failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use auth_core::provider::{ClientAuth, Provider};
use auth_core::time::{ManualTimeSource, SystemTimeSource, TimeSource};
use auth_core::{Authenticator, Error, Grant, Secret, TokenProvider};
use connstr::validate::InitiateOAuth;
use emulator::{Emulator, Fault, FaultKind, FaultTarget, RefreshRotation};
use token_store::{KeyConfig, Location, TokenStore, open_store};

struct Fixture {
    emu: Emulator,
    dir: tempfile::TempDir,
    clock: Arc<ManualTimeSource>,
}

async fn fixture() -> Fixture {
    let emu = Emulator::builder()
        .hubdb_rows(20)
        .acton_records(20)
        .auto_approve(true)
        .acton_refresh_rotation(RefreshRotation::RotateRevokeOnReuse)
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
        p.client_auth = ClientAuth::RequestBody;
        p.default_scopes = vec!["PRODUCTION".into()];
        p.single_use_refresh_tokens = true;
        p.default_expires_in = Some(3600);
        p
    }

    fn hubspot_provider(&self) -> Provider {
        let info = self.emu.hubspot().info();
        let mut p = Provider::new(
            "HubSpot",
            "HubDB",
            &info.authorize_url,
            &format!("{}/oauth/v3/token", info.base_url),
        )
        .unwrap();
        p.default_scopes = vec![
            "hubdb".into(),
            "crm.objects.owners.read".into(),
            "oauth".into(),
        ];
        p
    }

    fn store(&self, name: &str) -> Arc<dyn TokenStore> {
        open_store(
            &Location::File(self.dir.path().join(name)),
            KeyConfig::key_file(self.dir.path().join("settings.key")).with_iterations(1_000),
        )
    }

    fn acton_password(&self, store: Option<Arc<dyn TokenStore>>) -> Authenticator {
        let info = self.emu.acton().info();
        let mut b = Authenticator::builder(self.acton_provider())
            .client(
                info.client_id.clone(),
                Some(Secret::new(info.client_secret.clone())),
            )
            .initiate(InitiateOAuth::GetAndRefresh)
            .grant(Grant::Password {
                user: info.user.clone(),
                password: Secret::new(info.password.clone()),
            })
            .time_source(self.clock.clone());
        if let Some(store) = store {
            b = b.store(store);
        }
        b.build().unwrap()
    }

    fn advance_past_expiry(&self) {
        self.clock.advance_ms(3_600_000);
    }
}

#[tokio::test]
async fn password_grant_persists_and_a_second_connection_reuses_the_token() {
    let f = fixture().await;
    let first = f.acton_password(Some(f.store("s.txt")));
    let token = first.access_token().await.unwrap();
    let second = f.acton_password(Some(f.store("s.txt")));
    assert!(second.access_token().await.unwrap().ct_eq(&token));
    let stats = f.emu.acton().stats();
    assert_eq!(stats.token_grants.password, 1);
    assert_eq!(stats.token_grants.refresh_token, 0);
    // The password is never stored.
    let bytes = std::fs::read(f.dir.path().join("s.txt")).unwrap();
    let password = f.emu.acton().info().password.clone();
    assert!(
        !bytes
            .windows(password.len())
            .any(|w| w == password.as_bytes())
    );
}

#[tokio::test]
async fn rt_1_fifty_tasks_at_expiry_cause_one_refresh() {
    let f = fixture().await;
    let auth = Arc::new(f.acton_password(Some(f.store("s.txt"))));
    let old = auth.access_token().await.unwrap();
    f.advance_past_expiry();
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let auth = auth.clone();
            tokio::spawn(async move { auth.access_token().await })
        })
        .collect();
    let mut tokens = Vec::new();
    for t in tasks {
        tokens.push(t.await.unwrap().unwrap());
    }
    assert!(tokens.iter().all(|t| t.ct_eq(&tokens[0])));
    assert!(!tokens[0].ct_eq(&old));
    assert_eq!(f.emu.acton().stats().token_grants.refresh_token, 1);
}

#[tokio::test]
async fn rt_9_a_sibling_refresh_is_adopted_without_a_request() {
    let f = fixture().await;
    let a = f.acton_password(Some(f.store("s.txt")));
    let b = f.acton_password(Some(f.store("s.txt")));
    a.access_token().await.unwrap();
    b.access_token().await.unwrap();
    f.advance_past_expiry();
    let new_a = a.access_token().await.unwrap();
    let new_b = b.access_token().await.unwrap();
    assert!(new_a.ct_eq(&new_b));
    let stats = f.emu.acton().stats();
    assert_eq!(stats.token_grants.refresh_token, 1);
    assert_eq!(
        stats.token_errors, 0,
        "no stale single-use refresh token was presented"
    );
}

#[tokio::test]
async fn act_on_rotation_over_many_refreshes_never_reuses_a_refresh_token() {
    let f = fixture().await;
    let a = f.acton_password(Some(f.store("s.txt")));
    let b = f.acton_password(Some(f.store("s.txt")));
    a.access_token().await.unwrap();
    for round in 0..6 {
        f.advance_past_expiry();
        let who = if round % 2 == 0 { &a } else { &b };
        who.access_token().await.unwrap();
        let other = if round % 2 == 0 { &b } else { &a };
        other.access_token().await.unwrap();
    }
    let stats = f.emu.acton().stats();
    assert_eq!(stats.token_grants.refresh_token, 6);
    assert_eq!(stats.token_errors, 0);
}

#[tokio::test]
async fn rt_11_failed_proactive_refresh_keeps_the_valid_token() {
    let f = fixture().await;
    let auth = f.acton_password(Some(f.store("s.txt")));
    let token = auth.access_token().await.unwrap();
    // Inside the refresh margin, before expiry.
    f.clock.advance_ms(3_600_000 - 120_000);
    f.emu
        .acton()
        .inject(Fault::status(503, 100).on(FaultTarget::Token));
    let again = auth.access_token().await.unwrap();
    assert!(again.ct_eq(&token));
    let failures = f.emu.acton().stats().token_errors;
    assert!(failures >= 1);
    // RT-2: no retry storm while the valid token lasts.
    auth.access_token().await.unwrap();
    assert_eq!(f.emu.acton().stats().token_errors, failures);
    f.emu.acton().clear_faults();
    f.clock.advance_ms(60_000);
    assert!(!auth.access_token().await.unwrap().ct_eq(&token));
}

#[tokio::test]
async fn rt_12_a_refused_fresh_token_does_not_loop() {
    let f = fixture().await;
    let auth = f.acton_password(Some(f.store("s.txt")));
    let token = auth.access_token().await.unwrap();
    let refreshed = auth.on_unauthorized(&token).await.unwrap();
    assert!(!refreshed.ct_eq(&token));
    let err = auth.on_unauthorized(&refreshed).await.unwrap_err();
    assert!(
        matches!(err, Error::ReauthorizationRequired { .. }),
        "{err}"
    );
    assert_eq!(f.emu.acton().stats().token_grants.refresh_token, 1);
}

#[tokio::test]
async fn rt_13_a_401_for_an_outdated_token_retries_with_the_current_one() {
    let f = fixture().await;
    let auth = f.acton_password(Some(f.store("s.txt")));
    let old = auth.access_token().await.unwrap();
    f.advance_past_expiry();
    let current = auth.access_token().await.unwrap();
    let retry = auth.on_unauthorized(&old).await.unwrap();
    assert!(retry.ct_eq(&current));
    assert_eq!(f.emu.acton().stats().token_grants.refresh_token, 1);
}

#[tokio::test]
async fn rt_15_private_app_token_401_is_terminal() {
    let p = auth_core::StaticTokenProvider::private_app(Secret::new("pat"));
    let err = p.on_unauthorized(&Secret::new("pat")).await.unwrap_err();
    assert!(matches!(err, Error::InvalidStaticToken { .. }));
    assert!(err.to_string().contains("PrivateAppToken"), "{err}");
}

#[tokio::test]
async fn te_16_rate_limited_password_grant_is_reported_once_without_looping() {
    let f = fixture().await;
    f.emu.acton().update_settings(emulator::SettingsPatch {
        auth_grant_limit: Some(1),
        ..Default::default()
    });
    f.acton_password(None).access_token().await.unwrap();
    let before = f.emu.acton().stats().token_errors;
    let err = f.acton_password(None).access_token().await.unwrap_err();
    assert!(
        matches!(err, Error::RateLimited { .. } | Error::TokenEndpoint { .. }),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("5 password or code grants per hour")
            || err.to_string().contains("rate"),
        "{err}"
    );
    assert_eq!(
        f.emu.acton().stats().token_errors,
        before + 1,
        "exactly one attempt"
    );
}

/// Runs the HubSpot authorization page with auto-approve and returns the callback URL it
/// redirects to (what a user would paste as OAuthVerifier).
async fn authorize_via_redirect(f: &Fixture, state: &str, verifier: Option<&Secret>) -> String {
    let info = f.emu.hubspot().info();
    let url = auth_core::authorization_url(
        &f.hubspot_provider(),
        &info.client_id,
        &info.redirect_uri,
        &f.hubspot_provider().default_scopes,
        state,
        verifier,
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
    f: &Fixture,
    verifier: Option<Secret>,
    store: Arc<dyn TokenStore>,
) -> Authenticator {
    let info = f.emu.hubspot().info();
    let mut b = Authenticator::builder(f.hubspot_provider())
        .client(
            info.client_id.clone(),
            Some(Secret::new(info.client_secret.clone())),
        )
        .initiate(InitiateOAuth::Refresh)
        .callback_url(info.redirect_uri.clone())
        .store(store)
        .time_source(f.clock.clone());
    if let Some(v) = verifier {
        b = b.verifier(v);
    }
    b.build().unwrap()
}

#[tokio::test]
async fn headless_option_1_exchanges_the_verifier_once_then_refreshes_from_the_store() {
    let f = fixture().await;
    let secret = Secret::new(f.emu.hubspot().info().client_secret.clone());
    let state = "state-123";
    let pkce = auth_core::pkce::derived_verifier(&secret, state);
    let callback = authorize_via_redirect(&f, state, Some(&pkce)).await;
    // HL-1: the whole callback URL (with stray whitespace) is accepted.
    let verifier = Secret::new(format!("  {callback}\n"));
    let first = hubspot_refresh_mode(&f, Some(verifier.clone()), f.store("h.txt"));
    let token = first.access_token().await.unwrap();
    // Leaving OAuthVerifier in the connection string does not exchange the used code again.
    let second = hubspot_refresh_mode(&f, Some(verifier), f.store("h.txt"));
    assert!(second.access_token().await.unwrap().ct_eq(&token));
    let third = hubspot_refresh_mode(&f, None, f.store("h.txt"));
    third.access_token().await.unwrap();
    f.advance_past_expiry();
    let refreshed = third.access_token().await.unwrap();
    assert!(!refreshed.ct_eq(&token));
    let stats = f.emu.hubspot().stats();
    assert_eq!(stats.token_grants.authorization_code, 1);
    assert_eq!(stats.token_grants.refresh_token, 1);
}

#[tokio::test]
async fn hl_2_a_verifier_from_another_authorization_is_refused() {
    let f = fixture().await;
    let secret = Secret::new(f.emu.hubspot().info().client_secret.clone());
    let pkce = auth_core::pkce::derived_verifier(&secret, "state-a");
    let callback = authorize_via_redirect(&f, "state-a", Some(&pkce)).await;
    let forged = callback.replace("state-a", "state-b");
    let auth = hubspot_refresh_mode(&f, Some(Secret::new(forged)), f.store("h.txt"));
    let err = auth.access_token().await.unwrap_err();
    assert!(
        matches!(err, Error::ReauthorizationRequired { .. }),
        "{err}"
    );
    assert_eq!(f.emu.hubspot().stats().token_grants.authorization_code, 0);
}

#[tokio::test]
async fn hl_4_verifier_without_a_callback_url_names_the_property() {
    let f = fixture().await;
    let info = f.emu.hubspot().info();
    let auth = Authenticator::builder(f.hubspot_provider())
        .client(info.client_id.clone(), None)
        .initiate(InitiateOAuth::Refresh)
        .verifier(Secret::new("code"))
        .store(f.store("h.txt"))
        .build()
        .unwrap();
    let err = auth.access_token().await.unwrap_err();
    assert!(err.to_string().contains("CallbackURL"), "{err}");
}

#[tokio::test]
async fn headless_option_2_a_passphrase_settings_file_works_on_another_machine() {
    let f = fixture().await;
    let passphrase = KeyConfig::passphrase(Secret::new("correct horse")).with_iterations(1_000);
    let original = f.dir.path().join("machine-a.txt");
    let a = f.acton_password(Some(open_store(
        &Location::File(original.clone()),
        passphrase.clone(),
    )));
    let token = a.access_token().await.unwrap();
    // "Copy" to a second machine: a different directory and no key file.
    let other = tempfile::tempdir().unwrap();
    let copied = other.path().join("OAuthSettings.txt");
    std::fs::copy(&original, &copied).unwrap();
    let info = f.emu.acton().info();
    let b = Authenticator::builder(f.acton_provider())
        .client(
            info.client_id.clone(),
            Some(Secret::new(info.client_secret.clone())),
        )
        .initiate(InitiateOAuth::Refresh)
        .store(open_store(&Location::File(copied.clone()), passphrase))
        .time_source(f.clock.clone())
        .build()
        .unwrap();
    assert!(b.access_token().await.unwrap().ct_eq(&token));
    assert_eq!(f.emu.acton().stats().token_grants.password, 1);
}

#[tokio::test]
async fn hl_7_a_file_encrypted_with_this_machines_key_fails_clearly_elsewhere() {
    let f = fixture().await;
    let a = f.acton_password(Some(f.store("s.txt")));
    a.access_token().await.unwrap();
    let other = tempfile::tempdir().unwrap();
    let store = open_store(
        &Location::File(f.dir.path().join("s.txt")),
        KeyConfig::key_file(other.path().join("other.key")),
    );
    let info = f.emu.acton().info();
    let b = Authenticator::builder(f.acton_provider())
        .client(info.client_id.clone(), None)
        .initiate(InitiateOAuth::Refresh)
        .store(store)
        .build()
        .unwrap();
    let err = b.access_token().await.unwrap_err();
    // Exactly "the key is not on this machine": not the wrong-passphrase, tampered or corrupt
    // errors, which also mention the passphrase.
    match err.inner() {
        Error::Store(token_store::Error::KeyNotAvailable { reason, .. }) => {
            assert_eq!(*reason, "the key file does not exist", "{err}")
        }
        other => panic!("expected Store(KeyNotAvailable), got {other:?}"),
    }
    let text = err.to_string();
    for needle in [
        "encrypted with a per-machine key that is not on this machine",
        "OAuthSettingsPassphrase",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from: {text}");
    }
    for wrong in ["corrupt", "tampered", "wrong key or passphrase"] {
        assert!(!text.contains(wrong), "{wrong:?} in: {text}");
    }

    // The other machine has a key file of its own: the same error, saying so.
    let own = other.path().join("own.key");
    open_store(
        &Location::File(other.path().join("own-settings.txt")),
        KeyConfig::key_file(own.clone()).with_iterations(1_000),
    )
    .save(&token_store::TokenRecord::new(
        "Act-On",
        "OAuth",
        Secret::new("x"),
    ))
    .unwrap();
    let b = Authenticator::builder(f.acton_provider())
        .client(info.client_id.clone(), None)
        .initiate(InitiateOAuth::Refresh)
        .store(open_store(
            &Location::File(f.dir.path().join("s.txt")),
            KeyConfig::key_file(own),
        ))
        .build()
        .unwrap();
    let err = b.access_token().await.unwrap_err();
    assert!(
        matches!(
            err.inner(),
            Error::Store(token_store::Error::KeyNotAvailable { reason, .. })
                if *reason == "the key file holds a different key"
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn refresh_mode_with_given_tokens_and_no_expiry_refreshes_before_first_use() {
    let f = fixture().await;
    let seed = f.acton_password(None);
    seed.access_token().await.unwrap();
    // Take the tokens out of a throwaway memory store.
    let mem = open_store(
        &Location::parse("memory://refresh-first").unwrap(),
        KeyConfig::from_env(None),
    );
    let seeded = f.acton_password(Some(mem.clone()));
    seeded.access_token().await.unwrap();
    let record = mem.load().unwrap();
    let info = f.emu.acton().info();
    let auth = Authenticator::builder(f.acton_provider())
        .client(
            info.client_id.clone(),
            Some(Secret::new(info.client_secret.clone())),
        )
        .initiate(InitiateOAuth::Refresh)
        .given_tokens(
            Some(record.access_token.clone()),
            record.refresh_token.clone(),
            None,
            None,
        )
        .build()
        .unwrap();
    let token = auth.access_token().await.unwrap();
    assert!(!token.ct_eq(&record.access_token));
    assert_eq!(f.emu.acton().stats().token_grants.refresh_token, 1);
}

#[tokio::test]
async fn refresh_mode_without_tokens_never_prompts() {
    let f = fixture().await;
    let auth = hubspot_refresh_mode(&f, None, f.store("empty.txt"));
    let err = auth.access_token().await.unwrap_err();
    assert!(
        matches!(err, Error::ReauthorizationRequired { .. }),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("InitiateOAuth=REFRESH never prompts"),
        "{err}"
    );
}

#[tokio::test]
async fn initiate_off_uses_the_given_token_and_never_refreshes() {
    let cs: connstr::ConnectionString =
        "InitiateOAuth=OFF;OAuthAccessToken=given-token;OAuthClientId=x"
            .parse()
            .unwrap();
    // Only the shared properties matter here: a property set with no source-specific ones.
    static SHARED_ONLY: connstr::Properties = connstr::Properties::new("Test", &[]);
    let mut v = connstr::Validator::new(&SHARED_ONLY, &cs);
    let base = url::Url::parse("https://api.hubapi.com").unwrap();
    let common = v.common(base.clone(), base.clone(), base);
    let common = v.finish(common).unwrap();
    let provider = Provider::new(
        "HubSpot",
        "HubDB",
        "https://app.hubspot.com/oauth/authorize",
        "https://api.hubapi.com/oauth/v3/token",
    )
    .unwrap();
    let p = auth_core::authenticator_for(provider, &common, Grant::AuthorizationCode).unwrap();
    let token = p.access_token().await.unwrap();
    assert_eq!(token.expose(), "given-token");
    assert!(matches!(
        p.on_unauthorized(&token).await,
        Err(Error::InvalidStaticToken { .. })
    ));
}

#[tokio::test]
async fn fs_3_a_failed_save_keeps_the_new_tokens_and_retries_later() {
    #[derive(Debug)]
    struct FailOnce(std::sync::atomic::AtomicBool);
    impl token_store::WriteHook for FailOnce {
        fn before(
            &self,
            step: token_store::WriteStep,
            _path: &std::path::Path,
        ) -> std::io::Result<()> {
            if step == token_store::WriteStep::Rename
                && self.0.swap(false, std::sync::atomic::Ordering::SeqCst)
            {
                return Err(std::io::Error::other("disk full (injected)"));
            }
            Ok(())
        }
    }
    let f = fixture().await;
    let path = f.dir.path().join("s.txt");
    let keys = KeyConfig::key_file(f.dir.path().join("settings.key")).with_iterations(1_000);
    let plain: Arc<dyn TokenStore> =
        Arc::new(token_store::FileStore::new(path.clone(), keys.clone()));
    let auth = f.acton_password(Some(plain));
    auth.access_token().await.unwrap();
    let hook = Arc::new(FailOnce(std::sync::atomic::AtomicBool::new(true)));
    let failing: Arc<dyn TokenStore> =
        Arc::new(token_store::FileStore::new(path.clone(), keys.clone()).with_write_hook(hook));
    let auth = f.acton_password(Some(failing.clone()));
    auth.access_token().await.unwrap();
    f.advance_past_expiry();
    let new = auth.access_token().await.unwrap();
    // The file still holds the old tokens; the connection works with the new ones.
    assert!(!failing.load().unwrap().access_token.ct_eq(&new));
    // Next call writes them.
    assert!(auth.access_token().await.unwrap().ct_eq(&new));
    assert!(failing.load().unwrap().access_token.ct_eq(&new));
    assert_eq!(f.emu.acton().stats().token_grants.refresh_token, 1);
}

#[tokio::test]
async fn sec_2_trace_logs_of_every_flow_carry_no_secret() {
    use base64::Engine;
    use std::io::Write;
    #[derive(Clone, Default)]
    struct Buf(Arc<std::sync::Mutex<Vec<u8>>>);
    impl Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    // A process-wide subscriber (and `log` bridge, for reqwest's own records): a thread-local
    // one would miss events from `spawn_blocking` threads (the store's lock and writes), from
    // detached refresh tasks and from runtime worker threads. Other tests of this binary log
    // into it too; none of their values are this test's canaries.
    let buf = Buf::default();
    let writer = buf.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .try_init()
        .expect("no other test of this binary installs a global subscriber");
    let log = || String::from_utf8_lossy(&buf.0.lock().unwrap()).into_owned();
    // The capture works off the test's thread.
    tokio::task::spawn_blocking(|| tracing::info!("sec-2 marker from a blocking thread"))
        .await
        .unwrap();
    std::thread::spawn(|| tracing::trace!("sec-2 marker from another thread"))
        .join()
        .unwrap();

    let f = fixture().await;
    let acton = f.emu.acton().info().clone();
    let hubspot = f.emu.hubspot().info().clone();
    let basic = |id: &str, secret: &str| {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
        )
    };
    let mut secrets = vec![
        acton.password.clone(),
        acton.client_secret.clone(),
        hubspot.client_secret.clone(),
        basic(&acton.client_id, &acton.client_secret),
        basic(&hubspot.client_id, &hubspot.client_secret),
    ];
    let store = f.store("s.txt");
    let remember = |secrets: &mut Vec<String>, token: &Secret| {
        secrets.push(token.expose().to_owned());
        secrets.push(format!("Bearer {}", token.expose()));
        if let Ok(record) = store.load()
            && let Some(rt) = record.refresh_token
        {
            secrets.push(rt.expose().to_owned());
        }
    };

    // Act-On: password grant, refresh, then refresh errors (TE-3, TE-5, TE-7, TR-3, TR-16).
    let auth = f.acton_password(Some(store.clone()));
    let token = auth.access_token().await.unwrap();
    remember(&mut secrets, &token);
    f.advance_past_expiry();
    let token = auth.access_token().await.unwrap();
    remember(&mut secrets, &token);
    for fault in [
        Fault::new(FaultKind::TokenError200 { error: None }, 1),
        Fault::status(503, 3),
        Fault::new(FaultKind::Truncate, 1),
    ] {
        f.emu.acton().inject(fault.on(FaultTarget::Token));
        f.advance_past_expiry();
        if let Ok(token) = auth.access_token().await {
            remember(&mut secrets, &token);
        }
        f.emu.acton().clear_faults();
    }
    if let Ok(token) = auth.access_token().await {
        remember(&mut secrets, &token);
    }
    // The bearer token on an API request through the shared client.
    let http = auth_core::http::client(&auth_core::http::HttpSettings::default()).unwrap();
    let _ = http
        .get(format!("{}/api/1/account", acton.base_url))
        .bearer_auth(token.expose())
        .send()
        .await;
    // Client credentials in an Authorization: Basic header, refused (TE-17).
    let mut basic_provider = f.acton_provider();
    basic_provider.client_auth = ClientAuth::BasicAuth;
    let refused = Authenticator::builder(basic_provider)
        .client(
            acton.client_id.clone(),
            Some(Secret::new(acton.client_secret.clone())),
        )
        .grant(Grant::Password {
            user: acton.user.clone(),
            password: Secret::new(acton.password.clone()),
        })
        .build()
        .unwrap();
    assert!(refused.access_token().await.is_err());

    // HubSpot: the headless verifier exchange (code, PKCE verifier) and a refresh.
    let state = "sec-2-state";
    let pkce =
        auth_core::pkce::derived_verifier(&Secret::new(hubspot.client_secret.clone()), state);
    secrets.push(pkce.expose().to_owned());
    let callback = authorize_via_redirect(&f, state, Some(&pkce)).await;
    let (code, _) = auth_core::parse_verifier(&Secret::new(callback.clone())).unwrap();
    secrets.push(code.expose().to_owned());
    let hs_store = f.store("h.txt");
    let hs = hubspot_refresh_mode(&f, Some(Secret::new(callback)), hs_store.clone());
    let token = hs.access_token().await.unwrap();
    secrets.push(token.expose().to_owned());
    secrets.push(
        hs_store
            .load()
            .unwrap()
            .refresh_token
            .unwrap()
            .expose()
            .to_owned(),
    );
    f.advance_past_expiry();
    let token = hs.access_token().await.unwrap();
    secrets.push(token.expose().to_owned());
    secrets.push(
        hs_store
            .load()
            .unwrap()
            .refresh_token
            .unwrap()
            .expose()
            .to_owned(),
    );

    let log = log();
    for marker in [
        "token request",
        "sec-2 marker from a blocking thread",
        "sec-2 marker from another thread",
    ] {
        assert!(
            log.contains(marker),
            "the log is being captured: {marker:?} missing"
        );
    }
    assert!(secrets.len() >= 16, "{} canaries", secrets.len());
    for (i, s) in secrets.iter().enumerate() {
        assert!(s.len() >= 8, "canary {i} is too short to mean anything");
        assert!(
            !log.contains(s.as_str()),
            "canary {i} (of {}) leaked into the trace log",
            secrets.len()
        );
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The desktop flow with a scripted "browser" (curl following the auto-approve redirect).
async fn desktop_flow_with_curl(hubspot: bool) {
    let port = free_port();
    let callback = format!("http://localhost:{port}/callback");
    let emu = Emulator::builder()
        .hubdb_rows(5)
        .acton_records(5)
        .auto_approve(true)
        .redirect_uri(callback.clone())
        .start()
        .await
        .unwrap();
    let f = Fixture {
        emu,
        dir: tempfile::tempdir().unwrap(),
        clock: Arc::new(ManualTimeSource::new(SystemTimeSource.now_ms())),
    };
    let (provider, id, secret) = if hubspot {
        let i = f.emu.hubspot().info();
        (
            f.hubspot_provider(),
            i.client_id.clone(),
            i.client_secret.clone(),
        )
    } else {
        let i = f.emu.acton().info();
        (
            f.acton_provider(),
            i.client_id.clone(),
            i.client_secret.clone(),
        )
    };
    let store = f.store("desktop.txt");
    let auth = Authenticator::builder(provider)
        .client(id, Some(Secret::new(secret)))
        .initiate(InitiateOAuth::GetAndRefresh)
        .callback_url(callback)
        .browser_command("curl -s -L -o /dev/null %s")
        .browser_timeout(std::time::Duration::from_secs(20))
        .store(store.clone())
        .build()
        .unwrap();
    let token = auth.access_token().await.unwrap();
    assert!(store.load().unwrap().access_token.ct_eq(&token));
    let stats = if hubspot {
        f.emu.hubspot().stats()
    } else {
        f.emu.acton().stats()
    };
    assert_eq!(stats.token_grants.authorization_code, 1);
    // The listener is closed once the callback arrived (L5).
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
}

#[tokio::test]
async fn desktop_flow_hubspot_with_a_scripted_browser() {
    desktop_flow_with_curl(true).await;
}

#[tokio::test]
async fn desktop_flow_acton_with_a_scripted_browser() {
    desktop_flow_with_curl(false).await;
}
