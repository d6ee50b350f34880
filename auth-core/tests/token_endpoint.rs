//! The token endpoint's configuration-type errors and transport faults (reliability catalogue
//! F-TE rows 3, 4, 8, 9, 11, 12, 13, 15 and 17), over real sockets: the emulators, canned-byte
//! servers, a recording proxy, and TLS servers with certificates made by the `openssl` command
//! line tool and served by Python's `ssl` module (the TLS rows say so loudly and skip when
//! either program is missing; nothing else here needs them).

// A failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used)]

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use auth_core::grants::{ClientCredentials, TokenClient};
use auth_core::http::HttpSettings;
use auth_core::provider::{ClientAuth, Provider};
use auth_core::time::{ManualTimeSource, SystemTimeSource, TimeSource};
use auth_core::{Authenticator, Error, Grant, Secret, TokenProvider};
use connstr::validate::InitiateOAuth;
use emulator::{Emulator, Fault, FaultKind, FaultTarget, RefreshRotation};
use support::canned::{canned, read_request};
use token_store::{KeyConfig, Location, TokenStore, open_store};
use tokio::io::AsyncWriteExt;

const TOKEN_BODY: &str =
    r#"{"access_token":"at-ok","token_type":"bearer","expires_in":3600,"refresh_token":"rt-ok"}"#;

// ---------------------------------------------------------------------------------------------
// Helpers: canned servers, a recording proxy, clients.

fn http_response(status: u16, extra_headers: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status} Canned\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n{extra_headers}\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// What the recording proxy does with a request.
#[derive(Clone, Copy)]
enum ProxyMode {
    /// Answer plain-HTTP requests itself with a token; refuse CONNECT.
    AnswerTokens,
    /// Answer CONNECT with 407.
    RequireAuth,
    /// Tunnel CONNECT to 127.0.0.1 on the requested port.
    Tunnel,
}

/// A proxy on 127.0.0.1 that records each request head.
async fn proxy(mode: ProxyMode) -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let log = log.clone();
            tokio::spawn(async move {
                let head = read_request(&mut stream).await;
                log.lock().unwrap().push(head.clone());
                let connect = head.starts_with("CONNECT ");
                match (mode, connect) {
                    (ProxyMode::AnswerTokens, false) => {
                        let _ = stream.write_all(&http_response(200, "", TOKEN_BODY)).await;
                    }
                    (ProxyMode::RequireAuth, true) => {
                        let _ = stream
                            .write_all(b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"corp\"\r\nContent-Length: 0\r\n\r\n")
                            .await;
                    }
                    (ProxyMode::Tunnel, true) => {
                        // CONNECT host:port HTTP/1.1 — tunnel to that port on this machine.
                        let port: u16 = head
                            .split_whitespace()
                            .nth(1)
                            .and_then(|t| t.rsplit(':').next())
                            .and_then(|p| p.parse().ok())
                            .unwrap_or(0);
                        let Ok(mut upstream) =
                            tokio::net::TcpStream::connect(("127.0.0.1", port)).await
                        else {
                            let _ = stream.write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n").await;
                            return;
                        };
                        let _ = stream
                            .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                            .await;
                        let _ = tokio::io::copy_bidirectional(&mut stream, &mut upstream).await;
                    }
                    _ => {
                        let _ = stream.write_all(b"HTTP/1.1 405 Not Here\r\n\r\n").await;
                    }
                }
                let _ = stream.shutdown().await;
            });
        }
    });
    (port, seen)
}

fn clock() -> Arc<ManualTimeSource> {
    Arc::new(ManualTimeSource::new(SystemTimeSource.now_ms()))
}

fn provider_for(token_url: &str) -> Provider {
    Provider::new("Test", "Test", "https://auth.example/authorize", token_url).unwrap()
}

fn token_client(token_url: &str, settings: &HttpSettings) -> TokenClient {
    TokenClient::new(
        provider_for(token_url),
        ClientCredentials {
            id: "cid".into(),
            secret: Some(Secret::new("CANARY-CLIENT-SECRET")),
        },
        auth_core::http::client(settings).unwrap(),
        clock(),
    )
}

fn assert_no_canary(err: &Error) {
    for text in [err.to_string(), format!("{err:?}")] {
        assert!(!text.contains("CANARY"), "a secret leaked: {text}");
    }
}

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

fn file_store(dir: &tempfile::TempDir) -> Arc<dyn TokenStore> {
    open_store(
        &Location::File(dir.path().join("s.txt")),
        KeyConfig::key_file(dir.path().join("settings.key")).with_iterations(1_000),
    )
}

/// Stored Act-On tokens (from a real password grant) and a REFRESH-mode authenticator over
/// them with `client_secret`, its clock already past the token's expiry.
async fn acton_due_for_refresh(
    emu: &Emulator,
    dir: &tempfile::TempDir,
    client_secret: &str,
) -> Authenticator {
    let info = emu.acton().info();
    let clock = clock();
    Authenticator::builder(acton_provider(emu))
        .client(
            info.client_id.clone(),
            Some(Secret::new(info.client_secret.clone())),
        )
        .grant(Grant::Password {
            user: info.user.clone(),
            password: Secret::new(info.password.clone()),
        })
        .store(file_store(dir))
        .time_source(clock.clone())
        .build()
        .unwrap()
        .access_token()
        .await
        .unwrap();
    clock.advance_ms(3_600_000);
    Authenticator::builder(acton_provider(emu))
        .client(info.client_id.clone(), Some(Secret::new(client_secret)))
        .initiate(InitiateOAuth::Refresh)
        .store(file_store(dir))
        .time_source(clock)
        .build()
        .unwrap()
}

/// The token endpoint's requests so far.
fn token_requests(emu: &Emulator) -> usize {
    emu.acton().requests_to("/token").len()
}

// ---------------------------------------------------------------------------------------------
// TE-3, TE-4: configuration errors are terminal and keep the tokens.

/// Act-On answers a wrong client secret with 401 `access_denied` (its documented shape); the
/// RFC 6749 form, 401 `invalid_client` with `WWW-Authenticate: Basic`, is checked after it.
#[tokio::test]
async fn te_3_invalid_client_is_a_terminal_config_error_that_keeps_the_tokens() {
    let emu = emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let auth = acton_due_for_refresh(&emu, &dir, "CANARY-WRONG-SECRET").await;
    let before = file_store(&dir).load().unwrap();
    let requests = token_requests(&emu);
    let err = auth.access_token().await.unwrap_err();
    match err.inner() {
        Error::TokenEndpoint { status, error, .. } => {
            assert_eq!(*status, 401);
            assert!(
                matches!(error.as_deref(), Some("invalid_client" | "access_denied")),
                "{err:?}"
            );
        }
        other => panic!("expected a TokenEndpoint error, got {other:?}"),
    }
    let text = err.to_string();
    assert!(
        text.contains("check OAuthClientId and OAuthClientSecret"),
        "{text}"
    );
    assert!(!err.is_transient() && !err.is_invalid_grant(), "{err:?}");
    assert!(
        !matches!(err.inner(), Error::ReauthorizationRequired { .. }),
        "a wrong secret is not a dead refresh token: {err:?}"
    );
    assert_no_canary(&err);
    assert_eq!(token_requests(&emu), requests + 1, "no retry");
    // The tokens are kept: fixing the secret is enough.
    let after = file_store(&dir).load().unwrap();
    assert!(after.access_token.ct_eq(&before.access_token));
    assert!(
        after
            .refresh_token
            .as_ref()
            .unwrap()
            .ct_eq(before.refresh_token.as_ref().unwrap())
    );
    let fixed = acton_due_for_refresh_with_store(&emu, &dir).await;
    fixed.access_token().await.unwrap();

    let (server, seen) = canned(http_response(
        401,
        "WWW-Authenticate: Basic realm=\"oauth\"\r\n",
        r#"{"error":"invalid_client","error_description":"Client authentication failed"}"#,
    ))
    .await;
    let client = token_client(&format!("http://{server}/token"), &HttpSettings::default());
    let err = client
        .refresh(&Secret::new("CANARY-REFRESH-TOKEN"), None, 3)
        .await
        .unwrap_err();
    assert!(
        matches!(err.inner(), Error::TokenEndpoint { status: 401, error: Some(e), .. } if e == "invalid_client"),
        "{err:?}"
    );
    assert!(err.to_string().contains("check OAuthClientId"), "{err}");
    assert_no_canary(&err);
    assert_eq!(seen.lock().unwrap().len(), 1, "not retried");
}

/// A REFRESH-mode authenticator with the right secret over the same store and a late clock.
async fn acton_due_for_refresh_with_store(
    emu: &Emulator,
    dir: &tempfile::TempDir,
) -> Authenticator {
    let info = emu.acton().info();
    let clock = clock();
    clock.advance_ms(3_600_000);
    Authenticator::builder(acton_provider(emu))
        .client(
            info.client_id.clone(),
            Some(Secret::new(info.client_secret.clone())),
        )
        .initiate(InitiateOAuth::Refresh)
        .store(file_store(dir))
        .time_source(clock)
        .build()
        .unwrap()
}

#[tokio::test]
async fn te_4_unauthorized_client_unsupported_grant_and_invalid_scope_are_terminal() {
    for (error, advice) in [
        ("unauthorized_client", "AuthScheme"),
        ("unsupported_grant_type", "OAuthAccessTokenURL"),
        ("invalid_scope", "Scope property"),
    ] {
        let emu = emulator().await;
        let dir = tempfile::tempdir().unwrap();
        let info = emu.acton().info();
        let auth = acton_due_for_refresh(&emu, &dir, &info.client_secret.clone()).await;
        let before = file_store(&dir).load().unwrap();
        emu.acton().inject(
            Fault::new(
                FaultKind::Status {
                    status: 400,
                    retry_after: None,
                    body: Some(format!(
                        r#"{{"error":"{error}","error_description":"refused"}}"#
                    )),
                    content_type: None,
                },
                5,
            )
            .on(FaultTarget::Token),
        );
        let requests = token_requests(&emu);
        let err = auth.access_token().await.unwrap_err();
        assert!(
            matches!(err.inner(), Error::TokenEndpoint { error: Some(e), status: 400, .. } if e == error),
            "{error}: {err:?}"
        );
        assert!(err.to_string().contains(advice), "{error}: {err}");
        assert!(!err.is_transient() && !err.is_invalid_grant(), "{error}");
        assert_eq!(token_requests(&emu), requests + 1, "{error}: no retry");
        let after = file_store(&dir).load().unwrap();
        assert!(
            after.access_token.ct_eq(&before.access_token),
            "{error}: tokens kept"
        );
        assert!(after.refresh_token.is_some(), "{error}: tokens kept");
    }
}

// ---------------------------------------------------------------------------------------------
// TE-8: connection refused, DNS failure.

#[tokio::test]
async fn te_8_connection_refused_is_transient_retried_and_names_the_host() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}/token");
    let client = token_client(&url, &HttpSettings::default());
    let rt = Secret::new("CANARY-REFRESH-TOKEN");
    let started = Instant::now();
    let err = client.refresh(&rt, None, 1).await.unwrap_err();
    let single = started.elapsed();
    assert!(err.is_transient(), "{err:?}");
    assert!(
        matches!(err.inner(), Error::Transport { .. }),
        "not reached, so safe to retry: {err:?}"
    );
    assert!(
        err.to_string().contains(&format!("127.0.0.1:{port}")),
        "{err}"
    );
    assert_no_canary(&err);
    // With more attempts it backs off between them.
    let started = Instant::now();
    let err = client.refresh(&rt, None, 2).await.unwrap_err();
    assert!(err.is_transient());
    assert!(
        started.elapsed() >= single + Duration::from_millis(200),
        "no backoff: {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn te_8_a_dns_failure_is_transient_and_names_the_host() {
    // RFC 6761: `.invalid` never resolves.
    let client = token_client(
        "https://token-endpoint.invalid/oauth/token",
        &HttpSettings::default(),
    );
    let err = tokio::time::timeout(
        Duration::from_secs(60),
        client.refresh(&Secret::new("CANARY-REFRESH-TOKEN"), None, 1),
    )
    .await
    .expect("resolution fails in bounded time")
    .unwrap_err();
    assert!(err.is_transient(), "{err:?}");
    assert!(err.to_string().contains("token-endpoint.invalid"), "{err}");
    assert_no_canary(&err);
}

// ---------------------------------------------------------------------------------------------
// TE-9: TLS.

/// A child process killed (by its own handle) when dropped.
struct ChildGuard(std::process::Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Certificates for the TLS tests, made with the `openssl` command.
struct Certs {
    dir: tempfile::TempDir,
}

impl Certs {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

fn run(dir: &Path, program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Whether `program --version` runs; when not, says loudly which test part is skipped.
fn available(program: &str, what: &str) -> bool {
    let ok = Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!(
            "SKIPPED {what}: `{program}` is not installed on this machine, and the TLS servers of these tests need it"
        );
    }
    ok
}

/// A CA, and server certificates: `good` (localhost and 127.0.0.1, signed by the CA), `wrong`
/// (only other.example), `expired` (2020), `self` (self-signed). `None` without `openssl`.
fn make_certs(what: &str) -> Option<Certs> {
    if !available("openssl", what) {
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let write = |name: &str, text: &str| std::fs::write(d.join(name), text).unwrap();
    write(
        "ca.cnf",
        "[req]\ndistinguished_name = dn\nprompt = no\nx509_extensions = ext\n[dn]\nCN = Connector Test CA\n[ext]\nbasicConstraints = critical,CA:TRUE\nkeyUsage = critical,keyCertSign,cRLSign\nsubjectKeyIdentifier = hash\n",
    );
    write(
        "leaf.cnf",
        "[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = localhost\n",
    );
    let leaf_ext = |san: &str| {
        format!(
            "basicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature\nextendedKeyUsage = serverAuth\nsubjectAltName = {san}\n"
        )
    };
    write("good.ext", &leaf_ext("DNS:localhost,IP:127.0.0.1"));
    write("wrong.ext", &leaf_ext("DNS:other.example"));
    write(
        "self.cnf",
        &format!(
            "[req]\ndistinguished_name = dn\nprompt = no\nx509_extensions = ext\n[dn]\nCN = localhost\n[ext]\n{}",
            leaf_ext("DNS:localhost,IP:127.0.0.1")
        ),
    );
    write(
        "sign.cnf",
        "[ca]\ndefault_ca = d\n[d]\ndatabase = index.txt\nserial = serial\nnew_certs_dir = .\ndefault_md = sha256\npolicy = p\nunique_subject = no\n[p]\ncommonName = supplied\n",
    );
    write("index.txt", "");
    write("serial", "1000\n");
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    let mut ok = run(
        d,
        "openssl",
        &[
            &["req", "-x509", "-config", "ca.cnf", "-days", "3"],
            &ec[..],
            &["-keyout", "ca.key", "-out", "ca.pem"],
        ]
        .concat(),
    );
    ok &= run(
        d,
        "openssl",
        &[
            &["req", "-x509", "-config", "self.cnf", "-days", "3"],
            &ec[..],
            &["-keyout", "self.key", "-out", "self.pem"],
        ]
        .concat(),
    );
    for (name, ext, serial) in [("good", "good.ext", "11"), ("wrong", "wrong.ext", "12")] {
        ok &= run(
            d,
            "openssl",
            &[
                &["req", "-new", "-config", "leaf.cnf"],
                &ec[..],
                &[
                    "-keyout",
                    &format!("{name}.key"),
                    "-out",
                    &format!("{name}.csr"),
                ],
            ]
            .concat(),
        );
        ok &= run(
            d,
            "openssl",
            &[
                "x509",
                "-req",
                "-in",
                &format!("{name}.csr"),
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-set_serial",
                serial,
                "-days",
                "3",
                "-extfile",
                ext,
                "-out",
                &format!("{name}.pem"),
            ],
        );
    }
    // `openssl ca` can backdate: valid for one day in 2020 only.
    ok &= run(
        d,
        "openssl",
        &[
            "ca",
            "-batch",
            "-config",
            "sign.cnf",
            "-cert",
            "ca.pem",
            "-keyfile",
            "ca.key",
            "-in",
            "good.csr",
            "-startdate",
            "20200101000000Z",
            "-enddate",
            "20200102000000Z",
            "-extfile",
            "good.ext",
            "-out",
            "expired.pem",
        ],
    );
    assert!(
        ok,
        "openssl is installed but could not make the test certificates"
    );
    Some(Certs { dir })
}

/// Python's TLS + HTTP server: one port per `name,cert,key`; answers every POST with a token
/// and appends the server name to `log` first, so a handshake that fails leaves no line.
const TLS_SERVER: &str = r#"
import http.server, ssl, sys, threading
log = sys.argv[1]
body = sys.argv[2].encode()
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get('Content-Length', 0)))
        with open(log, 'a') as f:
            f.write(self.server.name + '\n')
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        self.send_header('Connection', 'close')
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
servers = []
for spec in sys.argv[3:]:
    name, cert, key = spec.split(',')
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), H)
    srv.name = name
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    servers.append(srv)
print(' '.join(str(s.server_address[1]) for s in servers), flush=True)
for s in servers:
    threading.Thread(target=s.serve_forever, daemon=True).start()
sys.stdin.read()
"#;

/// TLS servers for `names` (certificate files `<name>.pem`/`<name>.key` in `certs`): their
/// ports, the log of requests that got through, and the process guard.
fn tls_servers(
    certs: &Certs,
    names: &[&str],
    what: &str,
) -> Option<(Vec<u16>, PathBuf, ChildGuard)> {
    if !available("python3", what) {
        return None;
    }
    let log = certs.path("requests.log");
    std::fs::write(&log, "").unwrap();
    let mut args = vec![
        "-c".to_owned(),
        TLS_SERVER.to_owned(),
        log.display().to_string(),
        TOKEN_BODY.to_owned(),
    ];
    for name in names {
        args.push(format!(
            "{name},{},{}",
            certs.path(&format!("{name}.pem")).display(),
            certs.path(&format!("{name}.key")).display()
        ));
    }
    let mut child = Command::new("python3")
        .args(&args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let guard = ChildGuard(child);
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line).unwrap();
    let ports: Vec<u16> = line
        .split_whitespace()
        .map(|p| p.parse().unwrap())
        .collect();
    assert_eq!(ports.len(), names.len(), "python TLS server: {line:?}");
    Some((ports, log, guard))
}

fn served(log: &Path) -> String {
    std::fs::read_to_string(log).unwrap()
}

fn with_ca(certs: &Certs) -> HttpSettings {
    HttpSettings {
        ssl_server_cert: Some(certs.path("ca.pem").display().to_string()),
        ..HttpSettings::default()
    }
}

async fn password_grant(
    url: &str,
    settings: &HttpSettings,
) -> Result<auth_core::token::TokenSet, Error> {
    token_client(url, settings)
        .password("user", &Secret::new("CANARY-PASSWORD"), "")
        .await
}

#[tokio::test]
async fn te_9_an_untrusted_certificate_fails_with_no_insecure_fallback() {
    let what = "te_9_an_untrusted_certificate_fails_with_no_insecure_fallback";
    let Some(certs) = make_certs(what) else {
        return;
    };
    let Some((ports, log, _server)) = tls_servers(&certs, &["self", "good"], what) else {
        return;
    };
    // A self-signed certificate, and one from a CA nobody configured.
    for port in &ports {
        let url = format!("https://127.0.0.1:{port}/token");
        let err = password_grant(&url, &HttpSettings::default())
            .await
            .unwrap_err();
        assert!(
            matches!(err.inner(), Error::Transport { .. }),
            "{url}: {err:?}"
        );
        assert!(
            err.to_string().contains(&format!("127.0.0.1:{port}")),
            "{err}"
        );
        assert_no_canary(&err);
    }
    assert_eq!(
        served(&log),
        "",
        "no request got through without a trusted certificate"
    );
}

#[tokio::test]
async fn te_9_a_configured_ca_is_trusted_but_not_for_an_expired_or_foreign_certificate() {
    let what = "te_9_a_configured_ca_is_trusted_but_not_for_an_expired_or_foreign_certificate";
    let Some(certs) = make_certs(what) else {
        return;
    };
    let Some((ports, log, _server)) = tls_servers(&certs, &["good", "expired", "wrong"], what)
    else {
        return;
    };
    let (good, expired, wrong) = (ports[0], ports[1], ports[2]);
    // SSLServerCert as a file path, and as PEM text.
    let pem_text = HttpSettings {
        ssl_server_cert: Some(std::fs::read_to_string(certs.path("ca.pem")).unwrap()),
        ..HttpSettings::default()
    };
    for settings in [with_ca(&certs), pem_text] {
        let tokens = password_grant(&format!("https://127.0.0.1:{good}/token"), &settings)
            .await
            .unwrap();
        assert_eq!(tokens.access_token.expose(), "at-ok");
        let tokens = password_grant(&format!("https://localhost:{good}/token"), &settings)
            .await
            .unwrap();
        assert_eq!(tokens.access_token.expose(), "at-ok");
    }
    assert_eq!(served(&log), "good\ngood\ngood\ngood\n");
    // The CA does not rescue an expired certificate or one for another host name.
    for port in [expired, wrong] {
        let url = format!("https://localhost:{port}/token");
        let err = password_grant(&url, &with_ca(&certs)).await.unwrap_err();
        assert!(
            matches!(err.inner(), Error::Transport { .. }),
            "{url}: {err:?}"
        );
        assert_no_canary(&err);
    }
    assert_eq!(served(&log), "good\ngood\ngood\ngood\n");
}

// ---------------------------------------------------------------------------------------------
// TE-11: redirects.

#[tokio::test]
async fn te_11_redirects_are_not_followed_and_their_target_receives_nothing() {
    let (target, target_seen) = canned(http_response(200, "", TOKEN_BODY)).await;
    for status in [301, 302, 303, 307, 308] {
        for location in [
            format!("http://{target}/token"),
            format!("http://localhost:{}/token", target.port()),
        ] {
            let (first, first_seen) = canned(http_response(
                status,
                &format!("Location: {location}\r\n"),
                "",
            ))
            .await;
            let client = token_client(&format!("http://{first}/token"), &HttpSettings::default());
            for result in [
                client
                    .password("user", &Secret::new("CANARY-PASSWORD"), "")
                    .await,
                client
                    .refresh(&Secret::new("CANARY-REFRESH-TOKEN"), None, 3)
                    .await,
            ] {
                let err = result.unwrap_err();
                match err.inner() {
                    Error::TokenEndpoint {
                        status: s, hint, ..
                    } => {
                        assert_eq!(*s, status);
                        assert!(
                            hint.is_some_and(|h| h.contains("OAuthAccessTokenURL")),
                            "{err}"
                        );
                    }
                    other => panic!("{status}: expected a redirect error, got {other:?}"),
                }
                assert!(err.to_string().contains("redirect"), "{err}");
                assert!(!err.is_transient(), "a redirect is not retried: {err}");
                assert_no_canary(&err);
            }
            assert_eq!(
                first_seen.lock().unwrap().len(),
                2,
                "{status}: one request each"
            );
        }
    }
    assert!(
        target_seen.lock().unwrap().is_empty(),
        "the redirect target received a request"
    );
}

// ---------------------------------------------------------------------------------------------
// TE-12, TE-13: proxies.

/// A proxy that wants credentials: the user learns it, and what to set.
#[tokio::test]
async fn te_12_a_proxy_answering_407_is_reported_as_proxy_authentication_required() {
    let (port, seen) = proxy(ProxyMode::RequireAuth).await;
    let settings = HttpSettings {
        proxy: Some(("127.0.0.1".into(), port)),
        ..HttpSettings::default()
    };
    let err = password_grant("https://token.example.test/token", &settings)
        .await
        .unwrap_err();
    let text = err.to_string().to_lowercase();
    assert!(
        text.contains("proxy authentication required"),
        "the user must learn the proxy wants credentials: {err}"
    );
    assert_no_canary(&err);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    assert!(
        seen[0].starts_with("CONNECT token.example.test:443 "),
        "{}",
        seen[0]
    );
}

#[tokio::test]
async fn te_12_https_token_requests_tunnel_through_the_proxy_with_connect() {
    let what = "te_12_https_token_requests_tunnel_through_the_proxy_with_connect";
    let Some(certs) = make_certs(what) else {
        return;
    };
    let Some((ports, log, _server)) = tls_servers(&certs, &["good"], what) else {
        return;
    };
    let (proxy_port, seen) = proxy(ProxyMode::Tunnel).await;
    let settings = HttpSettings {
        proxy: Some(("127.0.0.1".into(), proxy_port)),
        proxy_credentials: Some(("proxy-user".into(), Secret::new("CANARY-PROXY-PASS"))),
        ..with_ca(&certs)
    };
    let tokens = password_grant(&format!("https://localhost:{}/token", ports[0]), &settings)
        .await
        .unwrap();
    assert_eq!(tokens.access_token.expose(), "at-ok");
    assert_eq!(served(&log), "good\n");
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    let head = &seen[0];
    assert!(
        head.starts_with(&format!("CONNECT localhost:{} HTTP/1.1", ports[0])),
        "{head}"
    );
    // Basic base64("proxy-user:CANARY-PROXY-PASS") on the CONNECT, and nothing of the token
    // request itself (it is inside the TLS tunnel).
    assert!(
        head.contains("cHJveHktdXNlcjpDQU5BUlktUFJPWFktUEFTUw=="),
        "{head}"
    );
    assert!(
        !head.contains("CANARY-PASSWORD") && !head.contains("grant_type"),
        "{head}"
    );
}

#[tokio::test]
async fn te_13_proxy_exceptions_send_the_token_request_directly() {
    let (proxy_port, proxy_seen) = proxy(ProxyMode::AnswerTokens).await;
    let (server, server_seen) = canned(http_response(200, "", TOKEN_BODY)).await;
    let url = format!("http://localhost:{}/token", server.port());
    let proxied = HttpSettings {
        proxy: Some(("127.0.0.1".into(), proxy_port)),
        ..HttpSettings::default()
    };
    // Without an exception the proxy gets it (so the next check means something) …
    password_grant(&url, &proxied).await.unwrap();
    assert_eq!(proxy_seen.lock().unwrap().len(), 1);
    assert_eq!(server_seen.lock().unwrap().len(), 0);
    // … with the host in ProxyExceptions it goes straight to the server.
    let excepted = HttpSettings {
        proxy_exceptions: vec!["localhost".into()],
        ..proxied
    };
    password_grant(&url, &excepted).await.unwrap();
    assert_eq!(
        proxy_seen.lock().unwrap().len(),
        1,
        "the proxy saw nothing more"
    );
    assert_eq!(server_seen.lock().unwrap().len(), 1);
}

/// The environment variable the child process of the NO_PROXY test reads.
const CHILD_URL: &str = "AUTH_CORE_TEST_ENV_PROXY_URL";

/// Not a test of its own: the child process of
/// `te_13_no_proxy_in_the_environment_sends_the_token_request_directly`, which sets the proxy
/// environment (process-wide state no test may change in-process). Without [`CHILD_URL`] set
/// it has nothing to do.
#[tokio::test]
async fn child_process_password_grant_with_environment_proxies() {
    let Ok(url) = std::env::var(CHILD_URL) else {
        return;
    };
    let settings = HttpSettings {
        proxy_auto_detect: true,
        ..HttpSettings::default()
    };
    match password_grant(&url, &settings).await {
        Ok(tokens) => println!("CHILD-RESULT ok {}", tokens.access_token.expose()),
        Err(e) => println!("CHILD-RESULT error {e}"),
    }
}

#[tokio::test]
async fn te_13_no_proxy_in_the_environment_sends_the_token_request_directly() {
    let (proxy_port, proxy_seen) = proxy(ProxyMode::AnswerTokens).await;
    let (server, server_seen) = canned(http_response(200, "", TOKEN_BODY)).await;
    let url = format!("http://localhost:{}/token", server.port());
    let child = |no_proxy: Option<&str>| {
        let mut cmd = Command::new(std::env::current_exe().unwrap());
        cmd.args([
            "--exact",
            "child_process_password_grant_with_environment_proxies",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_URL, &url)
        .env("HTTP_PROXY", format!("http://127.0.0.1:{proxy_port}"));
        for var in [
            "http_proxy",
            "https_proxy",
            "HTTPS_PROXY",
            "all_proxy",
            "ALL_PROXY",
            "no_proxy",
            "NO_PROXY",
            "REQUEST_METHOD",
        ] {
            cmd.env_remove(var);
        }
        if let Some(value) = no_proxy {
            cmd.env("NO_PROXY", value);
        }
        async move {
            let output = tokio::task::spawn_blocking(move || cmd.output().unwrap())
                .await
                .unwrap();
            let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
            assert!(output.status.success(), "child failed: {stdout}");
            stdout
        }
    };
    // HTTP_PROXY alone: the request goes through the proxy (it answers the token itself).
    let out = child(None).await;
    assert!(out.contains("CHILD-RESULT ok at-ok"), "{out}");
    assert_eq!(proxy_seen.lock().unwrap().len(), 1, "{out}");
    assert_eq!(server_seen.lock().unwrap().len(), 0);
    // NO_PROXY naming the token host: straight to the server.
    let out = child(Some("example.com,localhost")).await;
    assert!(out.contains("CHILD-RESULT ok at-ok"), "{out}");
    assert_eq!(
        proxy_seen.lock().unwrap().len(),
        1,
        "the proxy saw nothing more: {out}"
    );
    assert_eq!(server_seen.lock().unwrap().len(), 1);
}

// ---------------------------------------------------------------------------------------------
// TE-15, TE-17: the authorization code is never sent twice.

/// A code from the HubSpot emulator's auto-approving authorization page.
async fn hubspot_code(emu: &Emulator, provider: &Provider, state: &str) -> String {
    let info = emu.hubspot().info();
    let url = auth_core::authorization_url(
        provider,
        &info.client_id,
        &info.redirect_uri,
        &["oauth".to_owned()],
        state,
        None,
    );
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = no_redirects.get(url).send().await.unwrap();
    resp.headers()[reqwest::header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned()
}

fn hubspot_provider(emu: &Emulator, auth: ClientAuth) -> Provider {
    let info = emu.hubspot().info();
    let mut p = Provider::new(
        "HubSpot",
        "HubDB",
        &info.authorize_url,
        &format!("{}/oauth/v3/token", info.base_url),
    )
    .unwrap();
    p.client_auth = auth;
    p.pkce = false;
    p
}

#[tokio::test]
async fn te_15_a_code_exchange_5xx_is_not_retried_and_says_to_start_again() {
    let emu = emulator().await;
    let info = emu.hubspot().info();
    let provider = hubspot_provider(&emu, ClientAuth::RequestBody);
    let callback = hubspot_code(&emu, &provider, "state-15").await;
    emu.hubspot()
        .inject(Fault::status(503, 5).on(FaultTarget::Token));
    let dir = tempfile::tempdir().unwrap();
    let store = file_store(&dir);
    // The headless exchange (OAuthVerifier = the pasted callback URL).
    let auth = Authenticator::builder(provider)
        .client(
            info.client_id.clone(),
            Some(Secret::new(info.client_secret.clone())),
        )
        .initiate(InitiateOAuth::Refresh)
        .callback_url(info.redirect_uri.clone())
        .verifier(Secret::new(callback.clone()))
        .store(store.clone())
        .build()
        .unwrap();
    let err = auth.access_token().await.unwrap_err();
    assert!(
        matches!(err.inner(), Error::TokenEndpoint { status: 503, .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains("start the authorization again") && text.contains("only once"),
        "{text}"
    );
    assert_eq!(
        emu.hubspot().requests_to("/oauth/v3/token").len(),
        1,
        "the code was sent once"
    );
    assert!(store.try_load().unwrap().is_none());
    let code = url::Url::parse(&callback)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    assert!(!text.contains(&code), "{text}");
}

#[tokio::test]
async fn te_17_basic_auth_where_body_credentials_are_required_fails_once_clearly() {
    let emu = emulator().await;
    let info = emu.hubspot().info();
    let basic = hubspot_provider(&emu, ClientAuth::BasicAuth);
    let callback = hubspot_code(&emu, &basic, "state-17").await;
    let (code, _) = auth_core::parse_verifier(&Secret::new(callback)).unwrap();
    let credentials = ClientCredentials {
        id: info.client_id.clone(),
        secret: Some(Secret::new(info.client_secret.clone())),
    };
    let http = auth_core::http::client(&HttpSettings::default()).unwrap();
    let client = TokenClient::new(basic, credentials.clone(), http.clone(), clock());
    let err = client
        .exchange_code(&code, &info.redirect_uri, None)
        .await
        .unwrap_err();
    assert!(
        matches!(err.inner(), Error::TokenEndpoint { error: Some(e), .. } if e == "invalid_client"),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("check OAuthClientId and OAuthClientSecret"),
        "{err}"
    );
    assert!(!err.is_transient());
    assert!(!err.to_string().contains(&info.client_secret), "{err}");
    assert_eq!(
        emu.hubspot().requests_to("/oauth/v3/token").len(),
        1,
        "no second attempt with the other style"
    );
    // The code was not burnt by a silent retry: the configured style works with it.
    let body_style = TokenClient::new(
        hubspot_provider(&emu, ClientAuth::RequestBody),
        credentials,
        http,
        clock(),
    );
    body_style
        .exchange_code(&code, &info.redirect_uri, None)
        .await
        .unwrap();

    // Exactly one style per request: Basic carries the secret, the body does not.
    let (server, seen) = canned(http_response(
        401,
        "WWW-Authenticate: Basic realm=\"token\"\r\n",
        r#"{"error":"invalid_client"}"#,
    ))
    .await;
    let mut p = provider_for(&format!("http://{server}/token"));
    p.client_auth = ClientAuth::BasicAuth;
    let client = TokenClient::new(
        p,
        ClientCredentials {
            id: "cid".into(),
            secret: Some(Secret::new("CANARY-CLIENT-SECRET")),
        },
        auth_core::http::client(&HttpSettings::default()).unwrap(),
        clock(),
    );
    let err = client
        .exchange_code(&Secret::new("CANARY-CODE"), "http://localhost:1/cb", None)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("check OAuthClientId"), "{err}");
    assert_no_canary(&err);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "one attempt");
    let request = &seen[0];
    assert!(
        request.to_lowercase().contains("authorization: basic "),
        "{request}"
    );
    assert!(
        !request.contains("client_secret") && !request.contains("CANARY-CLIENT-SECRET"),
        "{request}"
    );
}
