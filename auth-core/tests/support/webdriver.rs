//! A minimal W3C WebDriver client for end-to-end tests in a real browser: Debian's
//! `chromedriver` driving headless Chromium.
//!
//! Chromium runs with a fresh profile and the flags that keep it off the network
//! (`--disable-background-networking` and friends): this machine's network is closed, and
//! without them Chromium's own background connections are refused at every start.
//!
//! The binaries default to Debian's `/usr/bin/chromedriver` and `/usr/bin/chromium`
//! (`scripts/setup.sh` installs the packages `chromium` and `chromium-driver`); the environment
//! variables `CHROMEDRIVER` and `CHROMIUM` override them.
//!
//! ```ignore
//! let driver = WebDriver::start().await?;
//! driver.navigate("http://127.0.0.1:8080/").await?;
//! let el = driver.find_css("#email").await?;
//! driver.send_keys(&el, "user@example.com").await?;
//! driver.quit().await?;
//! ```

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// What to tell someone whose machine lacks the browser.
pub(crate) const SETUP_HINT: &str =
    "install them with scripts/setup.sh (Debian packages chromium and chromium-driver)";

/// The W3C key of an element reference in WebDriver JSON.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A running chromedriver with one browser session.
///
/// Dropping it ends the session (which closes Chromium) and kills chromedriver, so a failing
/// test leaves no browser behind.
pub(crate) struct WebDriver {
    http: reqwest::Client,
    port: u16,
    session: Option<String>,
    child: Option<Child>,
    /// Holds the Chromium profile and the chromedriver log; removed on drop.
    dir: tempfile::TempDir,
}

/// Errors are plain strings: these are test helpers, and the message is what a failing test
/// should print.
pub(crate) type WdResult<T> = Result<T, String>;

fn binary(var: &str, default: &str) -> WdResult<PathBuf> {
    let path = std::env::var_os(var).map_or_else(|| PathBuf::from(default), PathBuf::from);
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!(
            "{} not found (set {var} to override): {SETUP_HINT}",
            path.display()
        ))
    }
}

/// A port that was free a moment ago (chromedriver wants a number, not a socket).
fn free_port() -> WdResult<u16> {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    probe
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| e.to_string())
}

impl WebDriver {
    /// Starts chromedriver and a headless Chromium session.
    pub(crate) async fn start() -> WdResult<Self> {
        let chromedriver = binary("CHROMEDRIVER", "/usr/bin/chromedriver")?;
        let chromium = binary("CHROMIUM", "/usr/bin/chromium")?;
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let profile = dir.path().join("profile");
        let log = dir.path().join("chromedriver.log");
        let port = free_port()?;
        let child = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}; {SETUP_HINT}", chromedriver.display()))?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .no_proxy()
            .build()
            .map_err(|e| e.to_string())?;
        let mut driver = Self {
            http,
            port,
            session: None,
            child: Some(child),
            dir,
        };
        driver.wait_ready(Duration::from_secs(30)).await?;
        let capabilities = json!({
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "goog:chromeOptions": {
                        "binary": chromium.display().to_string(),
                        "args": [
                            "--headless=new",
                            "--no-sandbox",
                            "--disable-gpu",
                            "--disable-dev-shm-usage",
                            "--disable-quic",
                            "--no-first-run",
                            "--no-default-browser-check",
                            "--disable-background-networking",
                            "--disable-component-update",
                            "--disable-sync",
                            format!("--user-data-dir={}", profile.display()),
                        ],
                    },
                },
            },
        });
        let value = driver
            .call(reqwest::Method::POST, "/session", Some(capabilities))
            .await
            .map_err(|e| format!("cannot start a Chromium session: {e}\n{}", driver.log()))?;
        let session = value
            .get("sessionId")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("no sessionId in {value}"))?;
        driver.session = Some(session.to_owned());
        Ok(driver)
    }

    async fn wait_ready(&mut self, timeout: Duration) -> WdResult<()> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                return Err(format!("chromedriver exited ({status})\n{}", self.log()));
            }
            if let Ok(value) = self.call(reqwest::Method::GET, "/status", None).await
                && value.get("ready").and_then(Value::as_bool) == Some(true)
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "chromedriver not ready after {timeout:?}\n{}",
                    self.log()
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The last lines of chromedriver's log, for failure messages.
    pub(crate) fn log(&self) -> String {
        let text = std::fs::read_to_string(self.log_path()).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines.len().saturating_sub(40);
        format!("chromedriver log (tail):\n{}", lines[tail..].join("\n"))
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("chromedriver.log")
    }

    /// The Chromium profile directory of this session.
    pub(crate) fn profile_dir(&self) -> PathBuf {
        self.dir.path().join("profile")
    }

    /// One WebDriver command; returns the response's `value`, or its error as text.
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> WdResult<Value> {
        let url = format!("http://127.0.0.1:{}{path}", self.port);
        let mut request = self.http.request(method.clone(), &url);
        // POST commands always carry a JSON object, even an empty one.
        if let Some(body) = body.or_else(|| (method == reqwest::Method::POST).then(|| json!({}))) {
            request = request.json(&body);
        }
        let response = request
            .send()
            .await
            .map_err(|e| format!("{method} {path}: {e}"))?;
        let status = response.status();
        let mut value: Value = response
            .json()
            .await
            .map_err(|e| format!("{method} {path}: HTTP {status}, not JSON: {e}"))?;
        let value = value
            .get_mut("value")
            .map(Value::take)
            .unwrap_or(Value::Null);
        if let Some(error) = value.get("error").and_then(Value::as_str) {
            let message = value.get("message").and_then(Value::as_str).unwrap_or("");
            return Err(format!("{method} {path}: {error}: {message}"));
        }
        if !status.is_success() {
            return Err(format!("{method} {path}: HTTP {status}: {value}"));
        }
        Ok(value)
    }

    fn session_path(&self, suffix: &str) -> WdResult<String> {
        let session = self.session.as_deref().ok_or("no session")?;
        Ok(format!("/session/{session}{suffix}"))
    }

    /// Loads `url` and waits for the page load to finish.
    pub(crate) async fn navigate(&self, url: &str) -> WdResult<()> {
        let path = self.session_path("/url")?;
        self.call(reqwest::Method::POST, &path, Some(json!({ "url": url })))
            .await
            .map(drop)
    }

    /// The first element matching a CSS selector, as an element id.
    pub(crate) async fn find_css(&self, selector: &str) -> WdResult<String> {
        let path = self.session_path("/element")?;
        let value = self
            .call(
                reqwest::Method::POST,
                &path,
                Some(json!({ "using": "css selector", "value": selector })),
            )
            .await?;
        value
            .get(ELEMENT_KEY)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| format!("no element reference for {selector:?}: {value}"))
    }

    /// Like [`WebDriver::find_css`], polling until the element appears or `timeout` passes.
    pub(crate) async fn wait_for_css(&self, selector: &str, timeout: Duration) -> WdResult<String> {
        let deadline = Instant::now() + timeout;
        loop {
            match self.find_css(selector).await {
                Ok(el) => return Ok(el),
                Err(e) if Instant::now() > deadline => return Err(e),
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    /// Types `text` into an element.
    pub(crate) async fn send_keys(&self, element: &str, text: &str) -> WdResult<()> {
        let path = self.session_path(&format!("/element/{element}/value"))?;
        self.call(reqwest::Method::POST, &path, Some(json!({ "text": text })))
            .await
            .map(drop)
    }

    /// Clicks an element.
    pub(crate) async fn click(&self, element: &str) -> WdResult<()> {
        let path = self.session_path(&format!("/element/{element}/click"))?;
        self.call(reqwest::Method::POST, &path, None)
            .await
            .map(drop)
    }

    /// An element's rendered text.
    pub(crate) async fn text(&self, element: &str) -> WdResult<String> {
        let path = self.session_path(&format!("/element/{element}/text"))?;
        let value = self.call(reqwest::Method::GET, &path, None).await?;
        Ok(value.as_str().unwrap_or_default().to_owned())
    }

    /// The URL of the current page.
    pub(crate) async fn current_url(&self) -> WdResult<String> {
        let path = self.session_path("/url")?;
        let value = self.call(reqwest::Method::GET, &path, None).await?;
        Ok(value.as_str().unwrap_or_default().to_owned())
    }

    /// The current page's HTML.
    pub(crate) async fn page_source(&self) -> WdResult<String> {
        let path = self.session_path("/source")?;
        let value = self.call(reqwest::Method::GET, &path, None).await?;
        Ok(value.as_str().unwrap_or_default().to_owned())
    }

    /// Polls until the current URL starts with `prefix`.
    pub(crate) async fn wait_for_url(&self, prefix: &str, timeout: Duration) -> WdResult<String> {
        let deadline = Instant::now() + timeout;
        loop {
            let url = self.current_url().await?;
            if url.starts_with(prefix) {
                return Ok(url);
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "still at {url} after {timeout:?}, expected {prefix}…"
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Ends the session (closing Chromium) and stops chromedriver.
    pub(crate) async fn quit(mut self) -> WdResult<()> {
        let result = match self.session_path("") {
            Ok(path) => self
                .call(reqwest::Method::DELETE, &path, None)
                .await
                .map(drop),
            Err(_) => Ok(()),
        };
        self.session = None;
        self.kill_driver();
        result
    }

    fn kill_driver(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Ends a session with a blocking request (Drop cannot await): killing chromedriver alone
/// would leave Chromium running.
fn delete_session_blocking(port: u16, session: &str) {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_secs(2)) else {
        return;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let request = format!(
        "DELETE /session/{session} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    if stream.write_all(request.as_bytes()).is_err() {
        return;
    }
    // chromedriver keeps the connection open despite `Connection: close`: read exactly one
    // response (head plus Content-Length bytes) instead of waiting for EOF.
    let mut response = Vec::new();
    let mut chunk = [0u8; 4096];
    while let Ok(n) = stream.read(&mut chunk) {
        if n == 0 {
            break;
        }
        response.extend_from_slice(&chunk[..n]);
        if let Some(end) = response.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&response[..end]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if response.len() >= end + 4 + length {
                break;
            }
        }
    }
}

impl Drop for WebDriver {
    fn drop(&mut self) {
        if let Some(session) = self.session.take() {
            delete_session_blocking(self.port, &session);
        }
        self.kill_driver();
    }
}

/// Logs in on the emulator's authorize page (HubSpot's `#email` or Act-On's `#username`,
/// then `#password`) and clicks Authorize.
///
/// Returns once the click is sent; the browser then follows the redirect to the callback.
/// Fails with the page's text when the emulator shows its error page instead of a login form.
pub(crate) async fn approve_in_browser(
    driver: &WebDriver,
    authorize_url: &str,
    email: &str,
    password: &str,
) -> WdResult<()> {
    fill_login(driver, authorize_url, email, password).await?;
    let button = driver.find_css("#authorize").await?;
    driver.click(&button).await
}

/// Opens the authorize page and clicks Deny (the provider then redirects with
/// `error=access_denied`).
pub(crate) async fn deny_in_browser(driver: &WebDriver, authorize_url: &str) -> WdResult<()> {
    driver.navigate(authorize_url).await?;
    login_form(driver).await?;
    let button = driver.find_css("#deny").await?;
    driver.click(&button).await
}

async fn fill_login(
    driver: &WebDriver,
    authorize_url: &str,
    email: &str,
    password: &str,
) -> WdResult<()> {
    driver.navigate(authorize_url).await?;
    let user_field = login_form(driver).await?;
    driver.send_keys(&user_field, email).await?;
    let password_field = driver.find_css("#password").await?;
    driver.send_keys(&password_field, password).await
}

/// The username/email field of whichever login page is shown.
async fn login_form(driver: &WebDriver) -> WdResult<String> {
    const USER_FIELD: &str = "#email, #username";
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(el) = driver.find_css(USER_FIELD).await {
            return Ok(el);
        }
        if let Ok(error) = driver.find_css("#oauth-error").await {
            let text = driver.text(&error).await.unwrap_or_default();
            let url = driver.current_url().await.unwrap_or_default();
            return Err(format!(
                "the authorize page shows an error at {url}: {text}"
            ));
        }
        if Instant::now() > deadline {
            let source = driver.page_source().await.unwrap_or_default();
            return Err(format!("no login form appeared; page:\n{source}"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
