//! Token responses over real HTTP (reliability catalogue F-TR): the emulators' fault injection,
//! and a tiny canned-bytes server for answers no real server gives. The parsing rules
//! themselves have unit tests next to the parser (`auth-core/src/token.rs`); these check what
//! reaches the user and the token store through [`TokenClient`] and [`Authenticator`].

// A failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used)]

mod support;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use auth_core::grants::{ClientCredentials, TokenClient};
use auth_core::http::HttpSettings;
use auth_core::provider::{ClientAuth, Provider};
use auth_core::time::{ManualTimeSource, SystemTimeSource, TimeSource};
use auth_core::{Authenticator, Error, Grant, Secret, TokenProvider};
use connstr::validate::InitiateOAuth;
use emulator::{Emulator, Fault, FaultKind, FaultTarget, RefreshRotation};
use support::canned::read_request;
use token_store::{KeyConfig, Location, TokenStore, open_store};
use tokio::io::AsyncWriteExt;

// ---------------------------------------------------------------------------------------------
// A canned-bytes token endpoint.

/// One answer of the canned server.
#[derive(Clone)]
enum Reply {
    /// These bytes, then close.
    Raw(Vec<u8>),
    /// A chunked 200 that never ends.
    Endless,
}

/// An HTTP answer with `Connection: close`.
fn http(status: u16, content_type: &str, body: impl AsRef<[u8]>) -> Reply {
    let body = body.as_ref();
    let mut raw = format!(
        "HTTP/1.1 {status} Canned\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    raw.extend_from_slice(body);
    Reply::Raw(raw)
}

fn json(status: u16, body: &str) -> Reply {
    http(status, "application/json", body)
}

/// A server on 127.0.0.1 answering each connection with the next reply (the last one repeats),
/// recording every request (head and body) as text.
struct Canned {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<String>>>,
}

impl Canned {
    async fn start(replies: Vec<Reply>) -> Canned {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let log = requests.clone();
        tokio::spawn(async move {
            let mut next = 0usize;
            while let Ok((mut stream, _)) = listener.accept().await {
                let reply = replies[next.min(replies.len() - 1)].clone();
                next += 1;
                let log = log.clone();
                tokio::spawn(async move {
                    let request = read_request(&mut stream).await;
                    log.lock().unwrap().push(request);
                    match reply {
                        Reply::Raw(bytes) => {
                            let _ = stream.write_all(&bytes).await;
                            let _ = stream.shutdown().await;
                        }
                        Reply::Endless => {
                            let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
                            if stream.write_all(head.as_bytes()).await.is_err() {
                                return;
                            }
                            let chunk = format!("{:x}\r\n{}\r\n", 64 * 1024, " ".repeat(64 * 1024));
                            // Until the client hangs up.
                            while stream.write_all(chunk.as_bytes()).await.is_ok() {}
                        }
                    }
                });
            }
        });
        Canned { addr, requests }
    }

    fn token_url(&self) -> String {
        format!("http://{}/token", self.addr)
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }

    fn provider(&self) -> Provider {
        let mut p = Provider::new(
            "Canned",
            "Canned",
            "http://127.0.0.1:9/authorize",
            &self.token_url(),
        )
        .unwrap();
        p.default_expires_in = Some(3600);
        p
    }

    fn token_client(&self, clock: Arc<ManualTimeSource>) -> TokenClient {
        TokenClient::new(
            self.provider(),
            ClientCredentials {
                id: "cid".into(),
                secret: Some(Secret::new("CANARY-CLIENT-SECRET")),
            },
            auth_core::http::client(&HttpSettings::default()).unwrap(),
            clock,
        )
    }

    /// A password-grant authenticator (GETANDREFRESH) over this server.
    fn authenticator(
        &self,
        store: Option<Arc<dyn TokenStore>>,
        clock: Arc<ManualTimeSource>,
    ) -> Authenticator {
        let mut b = Authenticator::builder(self.provider())
            .client("cid", Some(Secret::new("CANARY-CLIENT-SECRET")))
            .initiate(InitiateOAuth::GetAndRefresh)
            .grant(Grant::Password {
                user: "user".into(),
                password: Secret::new("CANARY-PASSWORD"),
            })
            .time_source(clock);
        if let Some(store) = store {
            b = b.store(store);
        }
        b.build().unwrap()
    }
}

fn clock() -> Arc<ManualTimeSource> {
    Arc::new(ManualTimeSource::new(SystemTimeSource.now_ms()))
}

fn file_store(dir: &tempfile::TempDir, name: &str) -> Arc<dyn TokenStore> {
    open_store(
        &Location::File(dir.path().join(name)),
        KeyConfig::key_file(dir.path().join("settings.key")).with_iterations(1_000),
    )
}

fn reason(err: &Error) -> String {
    match err.inner() {
        Error::InvalidTokenResponse { reason, .. } => reason.clone(),
        other => panic!("expected InvalidTokenResponse, got {other:?}"),
    }
}

/// Nothing of a failed grant reached the store.
fn assert_nothing_stored(store: &Arc<dyn TokenStore>) {
    assert!(store.try_load().unwrap().is_none(), "a token was stored");
}

// ---------------------------------------------------------------------------------------------
// The emulators.

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

fn acton_provider(emu: &Emulator) -> Provider {
    let info = emu.acton().info();
    let mut p = Provider::new("Act-On", "Act-On", &info.authorize_url, &info.token_url).unwrap();
    p.client_auth = ClientAuth::RequestBody;
    p.default_scopes = vec!["PRODUCTION".into()];
    p.single_use_refresh_tokens = true;
    p.default_expires_in = Some(3600);
    p
}

fn acton_password(
    emu: &Emulator,
    store: Option<Arc<dyn TokenStore>>,
    clock: Arc<ManualTimeSource>,
) -> Authenticator {
    let info = emu.acton().info();
    let mut b = Authenticator::builder(acton_provider(emu))
        .client(
            info.client_id.clone(),
            Some(Secret::new(info.client_secret.clone())),
        )
        .initiate(InitiateOAuth::GetAndRefresh)
        .grant(Grant::Password {
            user: info.user.clone(),
            password: Secret::new(info.password.clone()),
        })
        .time_source(clock);
    if let Some(store) = store {
        b = b.store(store);
    }
    b.build().unwrap()
}

/// The HubSpot emulator's token endpoint, driven with a code from its auto-approving
/// authorization page.
async fn hubspot_code(emu: &Emulator) -> (TokenClient, Secret, String) {
    let info = emu.hubspot().info();
    let provider = Provider::new(
        "HubSpot",
        "HubDB",
        &info.authorize_url,
        &format!("{}/oauth/v3/token", info.base_url),
    )
    .unwrap();
    let url = auth_core::authorization_url(
        &provider,
        &info.client_id,
        &info.redirect_uri,
        &["oauth".to_owned()],
        "state-1",
        None,
    );
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = no_redirects.get(url).send().await.unwrap();
    let location = resp.headers()[reqwest::header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned();
    let code = url::Url::parse(&location)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| Secret::new(v.into_owned()))
        .unwrap();
    let client = TokenClient::new(
        provider,
        ClientCredentials {
            id: info.client_id.clone(),
            secret: Some(Secret::new(info.client_secret.clone())),
        },
        auth_core::http::client(&HttpSettings::default()).unwrap(),
        clock(),
    );
    (client, code, info.redirect_uri.clone())
}

fn status_fault(status: u16, content_type: &str, body: &str) -> Fault {
    Fault::new(
        FaultKind::Status {
            status,
            retry_after: None,
            body: Some(body.to_owned()),
            content_type: Some(content_type.to_owned()),
        },
        1,
    )
    .on(FaultTarget::Token)
}

// ---------------------------------------------------------------------------------------------
// F-TR

#[tokio::test]
async fn tr_1_a_200_that_is_not_json_is_a_parse_error_and_nothing_is_stored() {
    let server = Canned::start(vec![json(200, "broken json CANARY-BODY")]).await;
    let dir = tempfile::tempdir().unwrap();
    let store = file_store(&dir, "s.txt");
    let err = server
        .authenticator(Some(store.clone()), clock())
        .access_token()
        .await
        .unwrap_err();
    assert!(reason(&err).contains("not JSON"), "{err}");
    assert!(!err.is_transient(), "{err}");
    assert!(!format!("{err} {err:?}").contains("CANARY"), "{err:?}");
    assert_nothing_stored(&store);
    assert_eq!(server.requests().len(), 1, "one attempt");
}

#[tokio::test]
async fn tr_2_an_html_page_instead_of_tokens_is_named_and_not_echoed() {
    let emu = emulator().await;
    let page = "<!DOCTYPE html><html><head><title>CANARY-PORTAL login</title></head><body><form action=/login>Sign in</form></body></html>";
    // 200 + HTML (captive portal): terminal for this attempt.
    emu.acton()
        .inject(status_fault(200, "text/html; charset=utf-8", page));
    let err = acton_password(&emu, None, clock())
        .access_token()
        .await
        .unwrap_err();
    assert!(reason(&err).contains("HTML page"), "{err}");
    assert!(!err.is_transient());
    // 502 + HTML (a proxy's error page): transient.
    emu.acton().inject(status_fault(502, "text/html", page));
    let info = emu.acton().info();
    let client = acton_password(&emu, None, clock());
    let err = client
        .token_client()
        .password(&info.user, &Secret::new(info.password.clone()), "")
        .await
        .unwrap_err();
    assert!(err.is_transient(), "{err}");
    let text = err.to_string();
    assert!(text.contains("HTML page") && text.contains("502"), "{text}");
    for text in [err.to_string(), format!("{err:?}")] {
        assert!(
            !text.contains("CANARY") && !text.contains("<form"),
            "{text}"
        );
    }
}

#[tokio::test]
async fn tr_3_an_oauth_error_inside_a_200_is_recognised() {
    let emu = emulator().await;
    emu.acton().inject(
        Fault::new(
            FaultKind::TokenError200 {
                error: Some("invalid_grant".into()),
            },
            1,
        )
        .on(FaultTarget::Token),
    );
    let info = emu.acton().info();
    let auth = acton_password(&emu, None, clock());
    let err = auth
        .token_client()
        .password(&info.user, &Secret::new(info.password.clone()), "")
        .await
        .unwrap_err();
    assert!(err.is_invalid_grant(), "{err}");
    assert!(
        matches!(err.inner(), Error::TokenEndpoint { status: 200, .. }),
        "an OAuth error, not a parse error: {err:?}"
    );
}

#[tokio::test]
async fn tr_4_a_missing_empty_or_null_access_token_is_an_error_and_nothing_is_stored() {
    for body in [
        r#"{"token_type":"bearer","expires_in":3600,"refresh_token":"CANARY-RT"}"#,
        r#"{"access_token":"","token_type":"bearer","refresh_token":"CANARY-RT"}"#,
        r#"{"access_token":null,"token_type":"bearer","refresh_token":"CANARY-RT"}"#,
    ] {
        let server = Canned::start(vec![json(200, body)]).await;
        let dir = tempfile::tempdir().unwrap();
        let store = file_store(&dir, "s.txt");
        let err = server
            .authenticator(Some(store.clone()), clock())
            .access_token()
            .await
            .unwrap_err();
        assert_eq!(reason(&err), "no access_token in the response", "{body}");
        assert!(!err.to_string().contains("CANARY"));
        // The refresh token that came with it is not kept either.
        assert_nothing_stored(&store);
    }
}

/// TR-5 through the token client alone (the store side is checked in the TR-4 test).
#[tokio::test]
async fn tr_5_an_empty_access_token_is_never_stored_or_used() {
    let server = Canned::start(vec![json(
        200,
        r#"{"access_token":"","token_type":"bearer","expires_in":3600}"#,
    )])
    .await;
    let client = server.token_client(clock());
    let err = client
        .password("user", &Secret::new("CANARY-PASSWORD"), "")
        .await
        .unwrap_err();
    assert_eq!(reason(&err), "no access_token in the response");
}

/// TR-6 decision: a missing `token_type` is taken as Bearer for both providers (their APIs take
/// only bearer tokens; golang/oauth2 does the same). Checked against both emulators.
#[tokio::test]
async fn tr_6_a_missing_token_type_is_bearer_for_both_providers() {
    let emu = emulator().await;
    emu.acton()
        .inject(Fault::new(FaultKind::TokenTypeMissing, 1).on(FaultTarget::Token));
    let info = emu.acton().info();
    let auth = acton_password(&emu, None, clock());
    let tokens = auth
        .token_client()
        .password(&info.user, &Secret::new(info.password.clone()), "")
        .await
        .unwrap();
    assert_eq!(tokens.token_type, "Bearer");
    // The token works against the API.
    let resp = reqwest::Client::new()
        .get(format!("{}/api/1/account", info.base_url))
        .bearer_auth(tokens.access_token.expose())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);

    emu.hubspot()
        .inject(Fault::new(FaultKind::TokenTypeMissing, 1).on(FaultTarget::Token));
    let (client, code, redirect) = hubspot_code(&emu).await;
    let tokens = client.exchange_code(&code, &redirect, None).await.unwrap();
    assert_eq!(tokens.token_type, "Bearer");
    assert!(!tokens.access_token.is_empty());
}

#[tokio::test]
async fn tr_7_token_type_in_any_case_is_accepted_over_http() {
    for t in ["bearer", "BEARER", "Bearer"] {
        let body = format!(r#"{{"access_token":"at-{t}","token_type":"{t}","expires_in":60}}"#);
        let server = Canned::start(vec![json(200, &body)]).await;
        let tokens = server
            .token_client(clock())
            .password("user", &Secret::new("pw"), "")
            .await
            .unwrap();
        assert_eq!(tokens.token_type, "Bearer");
        assert_eq!(tokens.access_token.expose(), format!("at-{t}"));
    }
}

#[tokio::test]
async fn tr_8_an_unsupported_token_type_is_refused_and_not_stored() {
    for t in [r#""mac""#, r#""DPoP""#, "123"] {
        let body = format!(
            r#"{{"access_token":"CANARY-AT","token_type":{t},"refresh_token":"CANARY-RT"}}"#
        );
        let server = Canned::start(vec![json(200, &body)]).await;
        let dir = tempfile::tempdir().unwrap();
        let store = file_store(&dir, "s.txt");
        let err = server
            .authenticator(Some(store.clone()), clock())
            .access_token()
            .await
            .unwrap_err();
        assert!(reason(&err).contains("only Bearer"), "{t}: {err}");
        assert!(!err.to_string().contains("CANARY"));
        assert_nothing_stored(&store);
    }
}

/// Replaces the old `te_lenient_token_responses_are_accepted` (flows.rs), and also checks the
/// resulting lifetime: a missing `expires_in` takes the provider default (Act-On 3600 s).
#[tokio::test]
async fn tr_9_a_missing_expires_in_takes_the_provider_default() {
    let emu = emulator().await;
    let clock = clock();
    emu.acton()
        .inject(Fault::new(FaultKind::ExpiresInMissing, 1).on(FaultTarget::Token));
    let dir = tempfile::tempdir().unwrap();
    let auth = acton_password(&emu, Some(file_store(&dir, "s.txt")), clock.clone());
    auth.access_token().await.unwrap();
    let status = auth.status().await.unwrap();
    assert!(status.has_refresh_token);
    let obtained = status.obtained_at_ms.unwrap();
    assert_eq!(obtained, clock.now_ms());
    assert_eq!(status.expires_at_ms, Some(obtained + 3_600_000));

    // Without a provider default the lifetime stays unknown: never "valid forever", the token is
    // refreshed when the API answers 401.
    let server = Canned::start(vec![json(
        200,
        r#"{"access_token":"a","token_type":"bearer"}"#,
    )])
    .await;
    let mut provider = server.provider();
    provider.default_expires_in = None;
    let client = TokenClient::new(
        provider,
        ClientCredentials {
            id: "cid".into(),
            secret: None,
        },
        auth_core::http::client(&HttpSettings::default()).unwrap(),
        clock.clone(),
    );
    let tokens = client.password("u", &Secret::new("p"), "").await.unwrap();
    assert_eq!(tokens.expires_in, None);
    assert_eq!(tokens.expires_at_ms(), None);
}

#[tokio::test]
async fn tr_10_expires_in_sent_as_a_string_is_used() {
    let emu = emulator().await;
    // A lifetime other than the provider default, so the default cannot pass for it.
    emu.acton().update_settings(emulator::SettingsPatch {
        token_ttl_s: Some(1234),
        ..Default::default()
    });
    let clock = clock();
    emu.acton()
        .inject(Fault::new(FaultKind::ExpiresInString, 1).on(FaultTarget::Token));
    let auth = acton_password(&emu, None, clock.clone());
    auth.access_token().await.unwrap();
    let status = auth.status().await.unwrap();
    let obtained = status.obtained_at_ms.unwrap();
    assert_eq!(status.expires_at_ms, Some(obtained + 1_234_000));
}

#[tokio::test]
async fn tr_11_a_huge_expires_in_is_clamped_so_the_token_is_still_refreshed() {
    let server = Canned::start(vec![
        json(
            200,
            r#"{"access_token":"at-1","token_type":"bearer","expires_in":1e20,"refresh_token":"rt-1"}"#,
        ),
        json(
            200,
            r#"{"access_token":"at-2","token_type":"bearer","expires_in":3600,"refresh_token":"rt-2"}"#,
        ),
    ])
    .await;
    let clock = clock();
    let auth = server.authenticator(None, clock.clone());
    assert_eq!(auth.access_token().await.unwrap().expose(), "at-1");
    let status = auth.status().await.unwrap();
    assert_eq!(
        status.expires_at_ms,
        Some(status.obtained_at_ms.unwrap() + 86_400_000),
        "clamped to 24 h"
    );
    clock.advance_ms(23 * 3_600_000);
    assert_eq!(auth.access_token().await.unwrap().expose(), "at-1");
    // A day later it is refreshed, not trusted forever.
    clock.advance_ms(3_600_000);
    assert_eq!(auth.access_token().await.unwrap().expose(), "at-2");
    assert_eq!(server.requests().len(), 2);
    assert!(server.requests()[1].contains("grant_type=refresh_token"));
}

#[tokio::test]
async fn tr_11_zero_or_negative_expires_in_is_used_once_then_refreshed() {
    for lifetime in ["0", "-5", r#""-5""#] {
        let server = Canned::start(vec![
            json(
                200,
                &format!(
                    r#"{{"access_token":"at-1","token_type":"bearer","expires_in":{lifetime},"refresh_token":"rt-1"}}"#
                ),
            ),
            json(
                200,
                r#"{"access_token":"at-2","token_type":"bearer","expires_in":3600,"refresh_token":"rt-2"}"#,
            ),
        ])
        .await;
        let clock = clock();
        let auth = server.authenticator(None, clock.clone());
        // Used once …
        assert_eq!(auth.access_token().await.unwrap().expose(), "at-1");
        let status = auth.status().await.unwrap();
        assert_eq!(status.expires_at_ms, status.obtained_at_ms, "{lifetime}");
        // … and refreshed on the next use, without the clock moving.
        assert_eq!(
            auth.access_token().await.unwrap().expose(),
            "at-2",
            "{lifetime}"
        );
        assert_eq!(
            auth.access_token().await.unwrap().expose(),
            "at-2",
            "{lifetime}"
        );
        assert_eq!(server.requests().len(), 2, "{lifetime}");
    }
}

#[tokio::test]
async fn tr_11_a_non_numeric_expires_in_falls_back_to_the_provider_default() {
    for lifetime in [r#""abc""#, "null", "true"] {
        let server = Canned::start(vec![json(
            200,
            &format!(r#"{{"access_token":"at","token_type":"bearer","expires_in":{lifetime}}}"#),
        )])
        .await;
        let tokens = server
            .token_client(clock())
            .password("user", &Secret::new("pw"), "")
            .await
            .unwrap();
        assert_eq!(tokens.expires_in, Some(3600), "{lifetime}");
    }
}

#[tokio::test]
async fn tr_12_a_refresh_without_a_refresh_token_keeps_the_old_one() {
    let server = Canned::start(vec![
        json(
            200,
            r#"{"access_token":"at-1","token_type":"bearer","expires_in":3600,"refresh_token":"rt-original"}"#,
        ),
        json(
            200,
            r#"{"access_token":"at-2","token_type":"bearer","expires_in":3600}"#,
        ),
        json(
            200,
            r#"{"access_token":"at-3","token_type":"bearer","expires_in":3600}"#,
        ),
    ])
    .await;
    let clock = clock();
    let dir = tempfile::tempdir().unwrap();
    let store = file_store(&dir, "s.txt");
    let auth = server.authenticator(Some(store.clone()), clock.clone());
    assert_eq!(auth.access_token().await.unwrap().expose(), "at-1");
    for expected in ["at-2", "at-3"] {
        clock.advance_ms(3_600_000);
        assert_eq!(auth.access_token().await.unwrap().expose(), expected);
        let stored = store.load().unwrap();
        assert_eq!(
            stored.refresh_token.as_ref().map(Secret::expose),
            Some("rt-original")
        );
    }
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    for refresh in &requests[1..] {
        assert!(
            refresh.contains("refresh_token=rt-original"),
            "the kept refresh token is sent: {refresh}"
        );
    }
}

#[tokio::test]
async fn tr_13_a_rotated_refresh_token_replaces_the_old_one_in_the_store() {
    let emu = emulator().await;
    let clock = clock();
    let dir = tempfile::tempdir().unwrap();
    let store = file_store(&dir, "s.txt");
    let auth = acton_password(&emu, Some(store.clone()), clock.clone());
    auth.access_token().await.unwrap();
    let first = store.load().unwrap().refresh_token.unwrap();
    clock.advance_ms(3_600_000);
    auth.access_token().await.unwrap();
    // Persisted by the time the call returned.
    let second = store.load().unwrap().refresh_token.unwrap();
    assert!(!second.ct_eq(&first), "the rotated refresh token is stored");
    // A new connection on the store uses the rotated token: the emulator revokes the whole
    // family if the old one is presented, so success proves the old one was never sent again.
    let info = emu.acton().info();
    let other = Authenticator::builder(acton_provider(&emu))
        .client(
            info.client_id.clone(),
            Some(Secret::new(info.client_secret.clone())),
        )
        .initiate(InitiateOAuth::Refresh)
        .store(store.clone())
        .time_source(clock.clone())
        .build()
        .unwrap();
    clock.advance_ms(3_600_000);
    other.access_token().await.unwrap();
    let third = store.load().unwrap().refresh_token.unwrap();
    assert!(!third.ct_eq(&second));
    let stats = emu.acton().stats();
    assert_eq!(stats.token_grants.refresh_token, 2);
    assert_eq!(stats.token_errors, 0);
}

#[tokio::test]
async fn tr_14_unknown_fields_are_ignored_and_the_granted_scope_is_recorded() {
    let server = Canned::start(vec![json(
        200,
        r#"{"access_token":"at","token_type":"bearer","expires_in":1800,"refresh_token":"rt",
            "hub_id":62515,"user_id":7,"id_token":"eyJhbGciOi.e30.sig","app_id":1,
            "user":{"email":"x@example.com"},"scope":"oauth"}"#,
    )])
    .await;
    let dir = tempfile::tempdir().unwrap();
    let store = file_store(&dir, "s.txt");
    let auth = server.authenticator(Some(store.clone()), clock());
    assert_eq!(auth.access_token().await.unwrap().expose(), "at");
    let stored = store.load().unwrap();
    assert_eq!(stored.scope.as_deref(), Some("oauth"));
    assert_eq!(stored.expires_in, Some(1800));
    assert_eq!(auth.status().await.unwrap().scope.as_deref(), Some("oauth"));
}

#[tokio::test]
async fn tr_15_a_body_over_1_mib_or_an_endless_stream_is_cut_off() {
    let mut big = br#"{"access_token":"at","pad":""#.to_vec();
    big.resize(2 << 20, b'x');
    big.extend_from_slice(b"\"}");
    for reply in [json(200, &String::from_utf8(big).unwrap()), Reply::Endless] {
        let server = Canned::start(vec![reply]).await;
        let client = server.token_client(clock());
        let started = std::time::Instant::now();
        let err = tokio::time::timeout(
            Duration::from_secs(20),
            client.password("user", &Secret::new("pw"), ""),
        )
        .await
        .expect("the read stops at the cap")
        .unwrap_err();
        assert!(reason(&err).contains("1 MiB"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(20));
    }
}

#[tokio::test]
async fn tr_16_a_truncated_body_is_a_transient_transport_error_and_nothing_is_stored() {
    let emu = emulator().await;
    emu.acton()
        .inject(Fault::new(FaultKind::Truncate, 1).on(FaultTarget::Token));
    let dir = tempfile::tempdir().unwrap();
    let store = file_store(&dir, "s.txt");
    let auth = acton_password(&emu, Some(store.clone()), clock());
    let err = auth.access_token().await.unwrap_err();
    assert!(err.is_transient(), "{err:?}");
    assert!(
        !matches!(err.inner(), Error::InvalidTokenResponse { .. }),
        "a transport failure, not a parse error of the half body: {err:?}"
    );
    let text = err.to_string();
    assert!(text.contains("127.0.0.1"), "names the endpoint: {text}");
    assert!(!text.contains(&emu.acton().info().password), "{text}");
    assert_nothing_stored(&store);
    let log = emu.acton().requests_to("/token");
    assert_eq!(log.len(), 1, "the password grant is not repeated");
    assert_eq!(log[0].fault.as_deref(), Some("truncate"));
}

#[tokio::test]
async fn tr_17_repeated_keys_are_refused_over_http() {
    let server = Canned::start(vec![json(
        200,
        r#"{"access_token":"CANARY-A","token_type":"bearer","access_token":"CANARY-B"}"#,
    )])
    .await;
    let dir = tempfile::tempdir().unwrap();
    let store = file_store(&dir, "s.txt");
    let err = server
        .authenticator(Some(store.clone()), clock())
        .access_token()
        .await
        .unwrap_err();
    assert!(reason(&err).contains("repeats access_token"), "{err}");
    assert!(!err.to_string().contains("CANARY"));
    assert_nothing_stored(&store);
}

#[tokio::test]
async fn tr_18_a_bom_and_blank_lines_are_tolerated_a_no_break_space_is_not() {
    let mut with_bom = b"\xEF\xBB\xBF\r\n\t ".to_vec();
    with_bom.extend_from_slice(br#"{"access_token":"at","token_type":"bearer"}"#);
    with_bom.extend_from_slice(b"\r\n\r\n");
    let server = Canned::start(vec![http(200, "application/json", &with_bom)]).await;
    let tokens = server
        .token_client(clock())
        .password("u", &Secret::new("p"), "")
        .await
        .unwrap();
    assert_eq!(tokens.access_token.expose(), "at");

    let mut nbsp = "\u{a0}".as_bytes().to_vec();
    nbsp.extend_from_slice(br#"{"access_token":"at","token_type":"bearer"}"#);
    let server = Canned::start(vec![http(200, "application/json", &nbsp)]).await;
    let err = server
        .token_client(clock())
        .password("u", &Secret::new("p"), "")
        .await
        .unwrap_err();
    assert!(reason(&err).contains("not JSON"), "{err}");
}

#[tokio::test]
async fn tr_19_a_form_urlencoded_token_response_is_parsed() {
    let server = Canned::start(vec![
        http(
            200,
            "application/x-www-form-urlencoded",
            "access_token=at%2B1&token_type=bearer&expires_in=1800&refresh_token=rt-1&scope=PRODUCTION",
        ),
        http(
            400,
            "application/x-www-form-urlencoded",
            "error=invalid_grant&error_description=refresh+token+expired",
        ),
    ])
    .await;
    let client = server.token_client(clock());
    let tokens = client.password("u", &Secret::new("p"), "").await.unwrap();
    assert_eq!(tokens.access_token.expose(), "at+1");
    assert_eq!(tokens.expires_in, Some(1800));
    assert_eq!(tokens.refresh_token.unwrap().expose(), "rt-1");
    let err = client
        .refresh(&Secret::new("rt-1"), None, 1)
        .await
        .unwrap_err();
    assert!(err.is_invalid_grant(), "{err}");
    assert!(err.to_string().contains("refresh token expired"), "{err}");
}

#[tokio::test]
async fn tr_20_an_8_kib_access_token_is_accepted_and_persisted_whole() {
    let emu = emulator().await;
    let access = format!("at-{}-end", "A1b2".repeat(2 * 1024));
    let refresh = format!("rt-{}-end", "z".repeat(8 * 1024));
    let body = format!(
        r#"{{"access_token":"{access}","token_type":"Bearer","expires_in":3600,"refresh_token":"{refresh}"}}"#
    );
    emu.acton()
        .inject(status_fault(200, "application/json;charset=utf-8", &body));
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let auth = acton_password(&emu, Some(file_store(&dir, "s.txt")), clock.clone());
    assert_eq!(auth.access_token().await.unwrap().expose(), access);
    // A second connection reads both back intact from the encrypted file.
    let record = file_store(&dir, "s.txt").load().unwrap();
    assert_eq!(record.access_token.expose(), access);
    assert_eq!(
        record.refresh_token.as_ref().map(Secret::expose),
        Some(refresh.as_str())
    );
    let again = acton_password(&emu, Some(file_store(&dir, "s.txt")), clock);
    assert_eq!(again.access_token().await.unwrap().expose(), access);
}
