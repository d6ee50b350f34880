//! A real browser against the real listener: headless Chromium (through chromedriver) fills a
//! login form served on loopback, submits it, follows the redirect to `CallbackURL`, and the
//! [`CallbackListener`] returns the code. Nothing else of auth-core takes part.
//!
//! Not gated: without Chromium and chromedriver this test fails, saying that
//! `scripts/setup.sh` installs them.

mod support;

use std::sync::Arc;
use std::time::Duration;

use auth_core::callback::CallbackListener;
use connstr::Secret;
use support::webdriver::WebDriver;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const EMAIL: &str = "user@example.com";
const PASSWORD: &str = "CANARY-password-9d";
const STATE: &str = "CANARY-state-b7Q_x-4";
const CODE: &str = "abc";

/// A one-form "provider": `GET /` shows the login form; `POST /authorize` checks the
/// credentials and redirects to the callback with `code` and `state`, like a provider does.
struct LoginPage {
    url: String,
    task: tokio::task::JoinHandle<()>,
}

impl LoginPage {
    async fn start(redirect_uri: String, state: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("the login page binds");
        let addr = listener.local_addr().expect("a bound address");
        let target = Arc::new((redirect_uri, state));
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, Arc::clone(&target)));
            }
        });
        Self {
            url: format!("http://{addr}/"),
            task,
        }
    }
}

impl Drop for LoginPage {
    fn drop(&mut self) {
        self.task.abort();
    }
}

const FORM: &str = r#"<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Log in</title></head>
<body><form id="consent" method="post" action="/authorize">
<label>Email <input id="email" name="email" type="email" required></label>
<label>Password <input id="password" name="password" type="password"></label>
<button id="authorize" type="submit">Authorize</button>
</form></body></html>"#;

async fn serve(mut stream: TcpStream, target: Arc<(String, String)>) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    // Head, then as much body as Content-Length says.
    let (head, body_start) = loop {
        let Ok(n) = stream.read(&mut chunk).await else {
            return;
        };
        if n == 0 {
            return;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break (String::from_utf8_lossy(&buf[..i]).into_owned(), i + 4);
        }
    };
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    while buf.len() < body_start + length {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let body = &buf[body_start..body_start + length];
    let request_line = head.lines().next().unwrap_or_default();
    let response = if request_line.starts_with("GET / ") {
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{FORM}",
            FORM.len()
        )
    } else if request_line.starts_with("POST /authorize ") {
        let form: Vec<(String, String)> = url::form_urlencoded::parse(body).into_owned().collect();
        let field = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        if field("email") == Some(EMAIL) && field("password") == Some(PASSWORD) {
            let (redirect, state) = &*target;
            let query = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("code", CODE)
                .append_pair("state", state)
                .finish();
            format!(
                "HTTP/1.1 302 Found\r\nLocation: {redirect}?{query}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )
        } else {
            "HTTP/1.1 401 Unauthorized\r\nContent-Length: 12\r\nConnection: close\r\n\r\nwrong login\n"
                .to_owned()
        }
    } else {
        "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_owned()
    };
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_login_delivers_the_code_to_the_listener() {
    let started = std::time::Instant::now();
    // `localhost` as the providers require; the listener binds 127.0.0.1 and ::1 and the
    // browser may use either.
    let listener = CallbackListener::bind_configured("http://localhost:0/callback")
        .await
        .unwrap()
        .with_provider("Test provider");
    let redirect = listener.redirect_uri();
    let page = LoginPage::start(redirect.clone(), STATE.to_owned()).await;
    let flow = tokio::spawn(async move {
        listener
            .wait(&Secret::new(STATE), Duration::from_secs(90))
            .await
    });

    let driver = match WebDriver::start().await {
        Ok(driver) => driver,
        Err(e) => panic!("headless Chromium is needed for this test: {e}"),
    };
    let run = async {
        driver.navigate(&page.url).await?;
        let email = driver.find_css("#email").await?;
        driver.send_keys(&email, EMAIL).await?;
        let password = driver.find_css("#password").await?;
        driver.send_keys(&password, PASSWORD).await?;
        let button = driver.find_css("#authorize").await?;
        driver.click(&button).await
    };
    if let Err(e) = run.await {
        panic!("driving Chromium failed: {e}\n{}", driver.log());
    }

    let result = tokio::time::timeout(Duration::from_secs(60), flow)
        .await
        .expect("the callback arrives")
        .unwrap()
        .expect("the listener returns the code");
    assert_eq!(result.code.expose(), CODE);

    // The browser landed on the callback URL and shows the listener's success page.
    let url = driver
        .wait_for_url(&redirect, Duration::from_secs(10))
        .await
        .unwrap();
    assert!(url.contains("code=abc"), "{url}");
    let source = driver.page_source().await.unwrap();
    assert!(source.contains("Authorization complete"), "{source}");
    driver.quit().await.unwrap();
    eprintln!("browser round trip took {:?}", started.elapsed());
}

/// A port that was free a moment ago (the emulator needs the redirect URI before we bind).
fn free_port() -> u16 {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    probe.local_addr().expect("a bound address").port()
}

/// The emulators' own login pages, driven by `approve_in_browser` / `deny_in_browser`, with
/// the listener bound on a registered `http://localhost:<port>` (no path, as documented).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_logs_in_on_the_emulator_pages() {
    use auth_core::Error;
    use support::webdriver::{approve_in_browser, deny_in_browser};

    let started = std::time::Instant::now();
    let callbacks: Vec<String> = (0..3)
        .map(|_| format!("http://localhost:{}", free_port()))
        .collect();
    let mut builder = emulator::Emulator::builder().hubdb_rows(1).acton_records(1);
    for cb in &callbacks {
        builder = builder.redirect_uri(cb.clone());
    }
    let emu = builder.start().await.expect("the emulator starts");
    let hs = emu.hubspot().info().clone();
    let ao = emu.acton().info().clone();

    let driver = match WebDriver::start().await {
        Ok(driver) => driver,
        Err(e) => panic!("headless Chromium is needed for this test: {e}"),
    };
    let authorize = |base: &str, client_id: &str, redirect: &str, extra: &[(&str, &str)]| {
        let mut url = url::Url::parse(base).expect("an authorize URL");
        url.query_pairs_mut()
            .append_pair("client_id", client_id)
            .append_pair("redirect_uri", redirect)
            .append_pair("state", STATE)
            .extend_pairs(extra);
        url.to_string()
    };
    let flows = [
        (
            "HubSpot approve",
            authorize(
                &hs.authorize_url,
                &hs.client_id,
                &callbacks[0],
                &[("scope", "oauth hubdb")],
            ),
            Some((hs.user_email.clone(), hs.user_password.clone())),
        ),
        (
            "Act-On approve",
            authorize(
                &ao.authorize_url,
                &ao.client_id,
                &callbacks[1],
                &[("response_type", "code"), ("scope", "PRODUCTION")],
            ),
            Some((ao.user.clone(), ao.password.clone())),
        ),
        (
            "HubSpot deny",
            authorize(
                &hs.authorize_url,
                &hs.client_id,
                &callbacks[2],
                &[("scope", "oauth hubdb")],
            ),
            None,
        ),
    ];
    for ((name, url, login), callback) in flows.into_iter().zip(&callbacks) {
        let listener = CallbackListener::bind_configured(callback)
            .await
            .expect("the listener binds")
            .with_provider(name);
        assert_eq!(&listener.redirect_uri(), callback);
        let flow = tokio::spawn(async move {
            listener
                .wait(&Secret::new(STATE), Duration::from_secs(60))
                .await
        });
        let driven = match &login {
            Some((user, password)) => approve_in_browser(&driver, &url, user, password).await,
            None => deny_in_browser(&driver, &url).await,
        };
        if let Err(e) = driven {
            panic!("{name}: {e}\n{}", driver.log());
        }
        let outcome = tokio::time::timeout(Duration::from_secs(30), flow)
            .await
            .unwrap_or_else(|_| panic!("{name}: no callback arrived"))
            .expect("the flow task does not panic");
        match (login.is_some(), outcome) {
            (true, Ok(result)) => assert!(!result.code.is_empty(), "{name}"),
            (false, Err(Error::AccessDenied { description, .. })) => {
                assert!(description.starts_with("access_denied"), "{description}");
            }
            (_, other) => panic!("{name}: unexpected outcome {other:?}"),
        }
        driver
            .wait_for_url(callback, Duration::from_secs(10))
            .await
            .unwrap();
        let source = driver.page_source().await.unwrap();
        let expected = if login.is_some() {
            "Authorization complete"
        } else {
            "Authorization was cancelled"
        };
        assert!(source.contains(expected), "{name}: {source}");
    }
    driver.quit().await.unwrap();
    emu.shutdown().await;
    eprintln!("three emulator logins took {:?}", started.elapsed());
}
