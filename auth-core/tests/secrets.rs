//! Redaction and misuse (reliability catalogue F-SEC rows 1 and 3 … 7). SEC-2, the trace log of
//! every flow, is `sec_2_…` in `flows.rs` (and the CLI's log file in `cli/tests/auth.rs`).
//!
//! Canary values (`CANARY-…`) are planted wherever a secret goes in, and every way out —
//! `Debug`, `Display`, error chains, logs, URLs — is searched for them.

// A failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used)]

mod support;

use std::net::SocketAddr;
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use auth_core::callback::CallbackResult;
use auth_core::grants::{ClientCredentials, TokenClient};
use auth_core::http::HttpSettings;
use auth_core::provider::Provider;
use auth_core::time::ManualTimeSource;
use auth_core::token::TokenSet;
use auth_core::{Authenticator, Grant, Secret, StaticTokenProvider};
use connstr::registry::{Group, Properties, PropertyDef, PropertyType};
use connstr::validate::{InitiateOAuth, Problem};
use connstr::{ConnectionString, Validator};
use support::canned::canned;
use token_store::{KeyConfig, Location, TokenRecord, open_store};

// ---------------------------------------------------------------------------------------------
// Helpers

/// Every `Debug` and `Display` form a caller could print.
fn forms(value: &(impl std::fmt::Debug + ?Sized)) -> Vec<String> {
    vec![format!("{value:?}"), format!("{value:#?}")]
}

fn assert_clean(what: &str, texts: &[String]) {
    for text in texts {
        assert!(
            !text.contains("CANARY"),
            "{what} printed a canary secret: {text}"
        );
    }
}

/// Display and Debug of an error and of every error in its `source()` chain.
fn chain(err: &(dyn std::error::Error + 'static)) -> Vec<String> {
    let mut out = Vec::new();
    let mut next = Some(err);
    while let Some(e) = next {
        out.push(e.to_string());
        out.push(format!("{e:?}"));
        out.push(format!("{e:#?}"));
        next = e.source();
    }
    out
}

/// A process-wide TRACE log capture (this binary's tests share it; canaries are per test).
fn captured_log() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOG: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOG.get_or_init(|| {
        #[derive(Clone)]
        struct Buf(Arc<Mutex<Vec<u8>>>);
        impl std::io::Write for Buf {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buf = Arc::new(Mutex::new(Vec::new()));
        let writer = Buf(buf.clone());
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .try_init()
            .expect("the only global subscriber of this test binary");
        buf
    })
}

fn log_text() -> String {
    String::from_utf8_lossy(&captured_log().lock().unwrap()).into_owned()
}

fn response(status: u16, content_type: &str, headers: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status} Canned\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n{headers}\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn token_client(addr: SocketAddr) -> TokenClient {
    TokenClient::new(
        Provider::new(
            "Canned",
            "Canned",
            "https://auth.example/authorize",
            &format!("http://{addr}/token"),
        )
        .unwrap(),
        ClientCredentials {
            id: "cid".into(),
            secret: Some(Secret::new("CANARY-CLIENT-SECRET")),
        },
        auth_core::http::client(&HttpSettings::default()).unwrap(),
        Arc::new(ManualTimeSource::new(0)),
    )
}

/// The shared properties plus an API base URL, as a source defines them.
static API_BASE: &[PropertyDef] = &[PropertyDef::new(
    "APIBaseURL",
    PropertyType::Url,
    Some("https://api.example.com"),
    Group::Connection,
    "Base URL.",
)];
static TEST_SOURCE: Properties = Properties::new("Test", API_BASE);

// ---------------------------------------------------------------------------------------------
// SEC-1

#[tokio::test]
async fn sec_1_no_public_type_prints_a_secret_with_debug_or_display() {
    let secret = Secret::new("CANARY-SECRET");
    let mut texts = forms(&secret);
    texts.push(secret.to_string());
    texts.extend(forms(&Some(secret.clone())));
    assert_clean("Secret", &texts);

    let tokens = TokenSet {
        access_token: Secret::new("CANARY-AT"),
        refresh_token: Some(Secret::new("CANARY-RT")),
        token_type: "Bearer".into(),
        expires_in: Some(60),
        obtained_at_ms: 0,
        scope: Some("oauth".into()),
    };
    assert_clean("TokenSet", &forms(&tokens));

    let credentials = ClientCredentials {
        id: "cid".into(),
        secret: Some(Secret::new("CANARY-CLIENT-SECRET")),
    };
    assert_clean("ClientCredentials", &forms(&credentials));

    let settings = HttpSettings {
        proxy: Some(("proxy.example".into(), 8080)),
        proxy_credentials: Some(("proxy-user".into(), Secret::new("CANARY-PROXY-PASSWORD"))),
        socks5: Some(("socks.example".into(), 1080)),
        socks5_credentials: Some(("socks-user".into(), Secret::new("CANARY-SOCKS-PASSWORD"))),
        ..HttpSettings::default()
    };
    assert_clean("HttpSettings", &forms(&settings));

    let provider = Provider::new(
        "P",
        "P",
        "https://p.example/authorize",
        "https://p.example/token",
    )
    .unwrap();
    let client = TokenClient::new(
        provider.clone(),
        credentials,
        auth_core::http::client(&settings).unwrap(),
        Arc::new(ManualTimeSource::new(0)),
    );
    assert_clean("TokenClient", &forms(&client));

    let password = Grant::Password {
        user: "user".into(),
        password: Secret::new("CANARY-PASSWORD"),
    };
    assert_clean("Grant", &forms(&password));

    let dir = tempfile::tempdir().unwrap();
    let store = open_store(
        &Location::File(dir.path().join("s.txt")),
        KeyConfig::passphrase(Secret::new("CANARY-PASSPHRASE")).with_iterations(1_000),
    );
    assert_clean("TokenStore", &forms(&store));
    let builder = Authenticator::builder(provider.clone())
        .client("cid", Some(Secret::new("CANARY-CLIENT-SECRET")))
        .grant(password)
        .verifier(Secret::new("CANARY-VERIFIER"))
        .given_tokens(
            Some(Secret::new("CANARY-AT")),
            Some(Secret::new("CANARY-RT")),
            Some(60),
            Some(0),
        )
        .http(settings)
        .store(store);
    assert_clean("AuthenticatorBuilder", &forms(&builder));
    let auth = builder.build().unwrap();
    assert_clean("Authenticator", &forms(&auth));

    let static_token = StaticTokenProvider::private_app(Secret::new("CANARY-PAT"));
    assert_clean("StaticTokenProvider", &forms(&static_token));

    let callback = CallbackResult {
        code: Secret::new("CANARY-CODE"),
        iss: Some("https://issuer.example".into()),
    };
    assert_clean("CallbackResult", &forms(&callback));

    let mut record = TokenRecord::new("P", "OAuth", Secret::new("CANARY-AT"));
    record.refresh_token = Some(Secret::new("CANARY-RT"));
    record
        .secret_extras
        .insert("pending_state".into(), Secret::new("CANARY-STATE"));
    assert_clean("TokenRecord", &forms(&record));
    assert_clean(
        "KeyConfig",
        &forms(&KeyConfig::passphrase(Secret::new("CANARY-PASSPHRASE"))),
    );

    // A whole connection string with every secret property, validated and turned into an
    // authenticator (what a source does with it).
    let text = "InitiateOAuth=REFRESH;OAuthClientId=cid;OAuthClientSecret=CANARY-CS;\
                OAuthAccessToken=CANARY-AT;OAuthRefreshToken=CANARY-RT;\
                OAuthSettingsLocation=memory://sec-1;OAuthSettingsPassphrase=CANARY-PP;\
                CallbackURL=http://localhost:33333;OAuthVerifier=CANARY-VERIFIER;\
                ProxyServer=proxy.example;ProxyUser=u;ProxyPassword=CANARY-PROXY;\
                FirewallType=SOCKS5;FirewallServer=fw.example;FirewallUser=f;FirewallPassword=CANARY-FW";
    let cs: ConnectionString = text.parse().unwrap();
    let mut texts = forms(&cs);
    texts.push(cs.to_string());
    assert_clean("ConnectionString", &texts);
    let mut v = Validator::new(&TEST_SOURCE, &cs);
    let base = v.url("APIBaseURL", "https://api.example.com");
    let common = v.common(base.clone(), base.clone(), base);
    let common = v.finish(common).unwrap();
    assert_clean("CommonConfig", &forms(&common));
    assert_clean(
        "HttpSettings::from_config",
        &forms(&HttpSettings::from_config(&common)),
    );
    let auth =
        Authenticator::from_config(provider.clone(), &common, Grant::AuthorizationCode).unwrap();
    assert_clean("Authenticator::from_config", &forms(&auth));
    let shared = auth_core::authenticator_for(provider, &common, Grant::AuthorizationCode).unwrap();
    assert_clean("SharedTokenProvider", &forms(&shared));
    let status = auth.status().await.unwrap();
    assert_clean("TokenStatus", &forms(&status));
}

// ---------------------------------------------------------------------------------------------
// SEC-3

/// Token-endpoint answers that embed secrets — the request's (client secret, refresh token,
/// password, code) echoed back, and the body's own tokens — in every place a parse error could
/// quote from: the error chain never carries them.
#[tokio::test]
async fn sec_3_error_chains_of_token_responses_never_carry_body_secrets() {
    let _ = captured_log();
    let bodies: Vec<(u16, &str, String)> = vec![
        (200, "application/json", "not json CANARY-AT-1".into()),
        (
            200,
            "application/json",
            r#"{"access_token":"CANARY-AT-2","refresh_token":"CANARY-RT-2""#.into(),
        ),
        (
            200,
            "text/html",
            "<html><body>CANARY-AT-3 login</body></html>".into(),
        ),
        (
            502,
            "text/html",
            "<html><body>upstream CANARY-AT-4</body></html>".into(),
        ),
        (
            200,
            "application/json",
            r#"{"access_token":"CANARY-AT-5","token_type":"CANARY-AT-5","refresh_token":"CANARY-RT-5"}"#
                .into(),
        ),
        (
            200,
            "application/json",
            r#"{"access_token":"CANARY-AT-6","token_type":"mac","refresh_token":"CANARY-RT-6"}"#
                .into(),
        ),
        (
            200,
            "application/json",
            r#"{"access_token":"CANARY-AT-7","access_token":"CANARY-AT-8"}"#.into(),
        ),
        (
            200,
            "application/json",
            r#"{"access_token":12345,"refresh_token":"CANARY-RT-9"}"#.into(),
        ),
        (
            400,
            "application/json",
            r#"{"error":"invalid_grant","error_description":"refresh token CANARY-ECHO for client CANARY-CLIENT-SECRET is invalid"}"#
                .into(),
        ),
        (
            400,
            "application/json",
            r#"{"error":"invalid_request","error_description":"bad credential CANARY-ECHO"}"#
                .into(),
        ),
        (
            401,
            "application/json",
            r#"{"error":"CANARY-CLIENT-SECRET","message":"CANARY-ECHO"}"#.into(),
        ),
        (
            200,
            "application/x-www-form-urlencoded",
            "access_token=CANARY-AT-10&token_type=CANARY-AT-10".into(),
        ),
    ];
    for (status, content_type, body) in &bodies {
        let (addr, _) = canned(response(*status, content_type, "", body)).await;
        let client = token_client(addr);
        // The one value the body echoes is each request's own secret: the refresh token, the
        // password, the code.
        let echo = Secret::new("CANARY-ECHO");
        let results = [
            client.refresh(&echo, None, 1).await,
            client.password("user", &echo, "").await,
            client
                .exchange_code(
                    &echo,
                    "http://localhost:1/cb",
                    Some(&Secret::new("CANARY-VERIFIER")),
                )
                .await,
        ];
        for result in results {
            let err = match result {
                Ok(_) => panic!("{status} {body}: expected an error"),
                Err(e) => e,
            };
            assert_clean(&format!("{status} {body}"), &chain(&err));
        }
    }
    // The same errors went to the log (the token client warns with them): clean there too.
    let log = log_text();
    assert!(log.contains("token request failed"), "the log was captured");
    for canary in [
        "CANARY-AT",
        "CANARY-RT",
        "CANARY-ECHO",
        "CANARY-CLIENT-SECRET",
        "CANARY-VERIFIER",
    ] {
        assert!(!log.contains(canary), "{canary} reached the log");
    }
}

#[tokio::test]
async fn sec_3_transport_error_chains_carry_no_secret() {
    // A truncated body and a reset, with secrets in the request.
    let body = r#"{"access_token":"CANARY-AT","refresh_token":"CANARY-RT","expires_in":3600}"#;
    let truncated = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{}",
        body.len(),
        &body[..body.len() / 2]
    );
    let (addr, _) = canned(truncated.into_bytes()).await;
    let err = token_client(addr)
        .refresh(&Secret::new("CANARY-REFRESH-TOKEN"), None, 1)
        .await
        .unwrap_err();
    assert!(err.is_transient(), "{err:?}");
    assert_clean("truncated-body error chain", &chain(&err));
    let (addr, _) = canned(Vec::new()).await;
    let err = token_client(addr)
        .password("user", &Secret::new("CANARY-PASSWORD"), "")
        .await
        .unwrap_err();
    assert_clean("empty-answer error chain", &chain(&err));
}

// ---------------------------------------------------------------------------------------------
// SEC-4

/// SEC-4: the `state` (and every other secret) is compared in constant time.
///
/// The callback listener checks `state` with [`Secret::ct_eq`] (auth-core/src/callback.rs), and
/// `Secret` has no `PartialEq`, so `==` on secrets does not compile. Timing through the
/// listener itself is not measurable (the network's jitter is far above a comparison's cost),
/// so this test times `ct_eq` directly and calibrates the measurement with a plain `==`, which
/// exits at the first differing byte: the `==` calibration must show a large first-vs-last
/// byte difference (the harness can see an early exit), and `ct_eq` must show none, for
/// inputs that differ in the first byte, the last byte, or the length.
#[test]
fn sec_4_secret_comparison_takes_the_same_time_wherever_the_inputs_differ() {
    const LEN: usize = 256 * 1024;
    const ROUNDS: usize = 41;
    let base = "a".repeat(LEN);
    let mut first = base.clone().into_bytes();
    first[0] = b'b';
    let first = String::from_utf8(first).unwrap();
    let mut last = base.clone().into_bytes();
    last[LEN - 1] = b'b';
    let last = String::from_utf8(last).unwrap();
    let shorter = "a".repeat(LEN - 1);

    let secret = Secret::new(base.clone());
    let cases = [
        Secret::new(first.clone()),
        Secret::new(last.clone()),
        Secret::new(shorter.clone()),
    ];
    // All unequal (and the equal case equal), whatever the position of the difference.
    assert!(secret.ct_eq(&Secret::new(base.clone())));
    assert!(cases.iter().all(|c| !secret.ct_eq(c) && !c.ct_eq(&secret)));

    // The fastest of many interleaved runs of each: robust against a busy machine.
    let mut ct = [Duration::MAX; 3];
    let mut plain = [Duration::MAX; 2];
    for _ in 0..ROUNDS {
        for (i, case) in cases.iter().enumerate() {
            let started = Instant::now();
            let equal = std::hint::black_box(&secret).ct_eq(std::hint::black_box(case));
            ct[i] = ct[i].min(started.elapsed());
            assert!(!equal);
        }
        for (i, other) in [&first, &last].into_iter().enumerate() {
            let started = Instant::now();
            let equal = std::hint::black_box(base.as_str()) == std::hint::black_box(other.as_str());
            plain[i] = plain[i].min(started.elapsed());
            assert!(!equal);
        }
    }
    // Calibration: an early-exit comparison is visibly faster on a first-byte difference.
    assert!(
        plain[1] > plain[0] * 10,
        "the timing harness cannot see an early exit: == took {:?} (first byte) vs {:?} (last byte)",
        plain[0],
        plain[1]
    );
    let fastest = *ct.iter().min().unwrap();
    let slowest = *ct.iter().max().unwrap();
    assert!(
        slowest < fastest * 3,
        "ct_eq time depends on where the inputs differ: first byte {:?}, last byte {:?}, length {:?}",
        ct[0],
        ct[1],
        ct[2]
    );
}

/// `Secret` must not implement `PartialEq`: a derived `==` would exit at the first differing
/// byte. Autoref specialisation picks the `HasEq` probe only when the type has `PartialEq`.
#[test]
// The explicit `&` is the mechanism (method lookup tries `&Probe` before `&&Probe`).
#[allow(clippy::needless_borrow)]
fn sec_4_secrets_cannot_be_compared_with_eq() {
    struct Probe<T>(std::marker::PhantomData<T>);
    trait HasEq {
        fn has_eq(&self) -> bool {
            true
        }
    }
    impl<T: PartialEq> HasEq for Probe<T> {}
    trait NoEq {
        fn has_eq(&self) -> bool {
            false
        }
    }
    impl<T> NoEq for &Probe<T> {}
    // The probe itself works: String has PartialEq.
    assert!((&Probe::<String>(std::marker::PhantomData)).has_eq());
    assert!(
        !(&Probe::<Secret>(std::marker::PhantomData)).has_eq(),
        "Secret implements PartialEq: compare secrets only with Secret::ct_eq"
    );
}

/// No code compares exposed secret text with `==`/`!=` (which would bypass `ct_eq`).
#[test]
fn sec_4_no_source_compares_exposed_secrets_with_eq() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned();
    let mut offenders = Vec::new();
    let mut scanned = 0;
    for krate in ["auth-core", "connstr", "token-store", "cli", "source-http"] {
        let mut dirs = vec![root.join(krate).join("src")];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    scanned += 1;
                    let text = std::fs::read_to_string(&path).unwrap();
                    for (n, line) in text.lines().enumerate() {
                        let code = line.split("//").next().unwrap_or("");
                        if code.contains(".expose()")
                            && (code.contains("==") || code.contains("!="))
                        {
                            offenders.push(format!(
                                "{}:{}: {}",
                                path.display(),
                                n + 1,
                                line.trim()
                            ));
                        }
                    }
                }
            }
        }
    }
    assert!(scanned > 20, "scanned {scanned} files");
    assert!(
        offenders.is_empty(),
        "compare secrets with Secret::ct_eq:\n{}",
        offenders.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// SEC-5

#[test]
fn sec_5_plain_http_endpoints_off_this_machine_are_refused_at_config_load() {
    for property in [
        "APIBaseURL",
        "OAuthAuthorizationURL",
        "OAuthAccessTokenURL",
        "OAuthRevocationURL",
    ] {
        for (value, allowed) in [
            ("http://api.example.com/v1", false),
            ("http://10.0.0.5/token", false),
            ("http://localhost.example.com/token", false),
            ("HTTP://api.example.com/", false),
            ("https://api.example.com/v1", true),
            ("http://localhost:8080/token", true),
            ("http://127.0.0.1:8080/token", true),
            ("http://[::1]:8080/token", true),
        ] {
            let cs: ConnectionString = format!("{property}={value}").parse().unwrap();
            let mut v = Validator::new(&TEST_SOURCE, &cs);
            let base = v.url("APIBaseURL", "https://api.example.com");
            let authorize = v.url("OAuthAuthorizationURL", "https://auth.example/authorize");
            let token = v.url("OAuthAccessTokenURL", "https://auth.example/token");
            let common = v.common(base, authorize, token);
            match (v.finish(common), allowed) {
                (Ok(_), true) => {}
                (Err(e), false) => {
                    assert_eq!(
                        e.problems,
                        vec![Problem::InsecureUrl { property }],
                        "{value}"
                    );
                    let text = e.to_string();
                    assert!(
                        text.contains(property) && text.contains("https://"),
                        "{text}"
                    );
                }
                (Ok(_), false) => panic!("{property}={value} was accepted"),
                (Err(e), true) => panic!("{property}={value} was refused: {e}"),
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// SEC-6

#[tokio::test]
async fn sec_6_a_cross_origin_redirect_from_the_api_never_receives_the_bearer_token() {
    let (target, target_seen) = canned(response(200, "application/json", "", "{}")).await;
    let http = auth_core::http::client(&HttpSettings::default()).unwrap();
    for status in [301, 302, 303, 307, 308] {
        for location in [
            format!("http://localhost:{}/stolen", target.port()),
            format!("http://{target}/stolen"),
        ] {
            let (api, api_seen) = canned(response(
                status,
                "application/json",
                &format!("Location: {location}\r\n"),
                "",
            ))
            .await;
            let resp = http
                .get(format!("http://{api}/crm/v3/objects"))
                .bearer_auth("CANARY-BEARER")
                .send()
                .await
                .unwrap();
            // The redirect comes back to the caller; nothing follows it.
            assert_eq!(resp.status().as_u16(), status);
            let seen = api_seen.lock().unwrap().clone();
            assert_eq!(seen.len(), 1);
            assert!(seen[0].contains("CANARY-BEARER"), "the API got the token");
        }
    }
    assert!(
        target_seen.lock().unwrap().is_empty(),
        "the redirect target received a request"
    );
}

// ---------------------------------------------------------------------------------------------
// SEC-7

const CHILD_URL: &str = "AUTH_CORE_TEST_ANNOUNCE_URL";

/// Not a test of its own: the child process of
/// `sec_7_the_authorization_url_is_shown_to_the_user_but_never_logged`, which needs the
/// process's real stderr. Without [`CHILD_URL`] set it has nothing to do.
#[test]
fn child_process_announce_with_a_trace_log_on_stdout() {
    let Ok(url) = std::env::var(CHILD_URL) else {
        return;
    };
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(std::io::stdout)
        .init();
    tracing::info!("child log starts");
    auth_core::browser::announce(&url);
    tracing::info!("child log ends");
}

#[tokio::test]
async fn sec_7_the_authorization_url_is_shown_to_the_user_but_never_logged() {
    let _ = captured_log();
    let provider = Provider::new(
        "HubSpot",
        "HubDB",
        "https://app.hubspot.com/oauth/authorize",
        "https://api.hubapi.com/oauth/v3/token",
    )
    .unwrap();
    let state = "CANARY-STATE-7b1f";
    let client_secret = Secret::new("CANARY-CLIENT-SECRET");
    let pkce = auth_core::pkce::derived_verifier(&client_secret, state);
    let dir = tempfile::tempdir().unwrap();
    let auth = Authenticator::builder(provider.clone())
        .client("client-id-7", Some(client_secret.clone()))
        .initiate(InitiateOAuth::Refresh)
        .callback_url("http://localhost:33333")
        .store(open_store(
            &Location::File(dir.path().join("s.txt")),
            KeyConfig::key_file(dir.path().join("k.key")).with_iterations(1_000),
        ))
        .build()
        .unwrap();
    // What GetOAuthAuthorizationURL does: the URL, and the state kept for the second step.
    let url = auth.authorization_url("http://localhost:33333", state, Some(&pkce));
    auth.remember_pending_state(state).await.unwrap();

    // Only the public parameters, the state and the S256 challenge: no secret, no verifier.
    let mut names: Vec<String> = url.query_pairs().map(|(k, _)| k.into_owned()).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "client_id",
            "code_challenge",
            "code_challenge_method",
            "redirect_uri",
            "response_type",
            "scope",
            "state"
        ]
    );
    let param = |name: &str| {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
            .unwrap()
    };
    assert_eq!(param("state"), state);
    assert_eq!(param("code_challenge"), auth_core::pkce::challenge(&pkce));
    assert_eq!(param("code_challenge_method"), "S256");
    let text = url.as_str();
    assert!(!text.contains(client_secret.expose()), "{text}");
    assert!(!text.contains(pkce.expose()), "{text}");
    // And nothing about it reached the log.
    let log = log_text();
    assert!(!log.contains(state), "the state was logged");
    assert!(
        !log.contains(&param("code_challenge")),
        "the URL was logged"
    );

    // Printed for the user: in a child process, so its real stderr and log can be read.
    let output = tokio::task::spawn_blocking({
        let url = url.to_string();
        move || {
            Command::new(std::env::current_exe().unwrap())
                .args([
                    "--exact",
                    "child_process_announce_with_a_trace_log_on_stdout",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(CHILD_URL, url)
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("Open this URL in a browser to authorize: {url}")),
        "shown to the user (on stderr, so stdout stays clean for data): {stderr}"
    );
    assert!(
        stdout.contains("child log starts") && stdout.contains("child log ends"),
        "the child's log was captured: {stdout}"
    );
    assert!(!stdout.contains(state), "the URL went to the log: {stdout}");
}
