//! Opening the authorization URL in the user's browser, and the fallback of printing it.
//!
//! The desktop flow calls `if open_browser(&url).is_err() { announce(&url) }` and keeps
//! waiting for the callback either way: a browser that cannot be started (no display,
//! `xdg-open` missing) is never fatal (CB-16). The URL holds only the client id, redirect URI,
//! scope, `state` and the PKCE challenge — never a secret — so printing it is safe.
//!
//! Only the system browser is used, never an embedded web view (RFC 8252 §8.12).

use std::fmt;
use std::process::{Command, Stdio};

/// Why the browser could not be started. The message names the program, never the URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrowserError(String);

impl fmt::Display for BrowserError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BrowserError {}

/// Opens `url` in a browser: the command in the `BROWSER` environment variable if set, else
/// the platform opener (`xdg-open`, `open`, or the Windows URL handler).
///
/// Returns once the program has been started; it is not waited for.
///
/// # Errors
/// When `url` is not an http(s) URL, no display is available (Linux/BSD without `DISPLAY` or
/// `WAYLAND_DISPLAY`, and no `BROWSER`), or the program cannot be started.
pub fn open_browser(url: &str) -> Result<(), BrowserError> {
    let browser = std::env::var("BROWSER").ok();
    open_browser_with(url, browser.as_deref())
}

/// [`open_browser`] with the value of `BROWSER` given explicitly (for tests and callers that
/// read their own configuration).
///
/// `browser_var` is a command line split on whitespace, run without a shell: `%s` in any
/// argument is replaced by the URL, otherwise the URL is appended as the last argument. `None`
/// or a blank value means the platform opener.
///
/// # Errors
/// As [`open_browser`].
pub fn open_browser_with(url: &str, browser_var: Option<&str>) -> Result<(), BrowserError> {
    check_url(url)?;
    let (program, args) = match browser_var.map(str::trim).filter(|v| !v.is_empty()) {
        Some(command_line) => from_command_line(command_line, url)?,
        None => platform_opener(url)?,
    };
    spawn_detached(&program, &args)
}

/// Prints the URL for the user to open by hand (on stderr, so stdout stays clean for data).
pub fn announce(url: &str) {
    eprintln!("Open this URL in a browser to authorize: {url}");
}

/// Only plain http(s) URLs are handed to an opener: anything else could be a file path or a
/// command-line option (`-…`) to the program.
fn check_url(url: &str) -> Result<(), BrowserError> {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    let scheme_ok = lower.starts_with("https://") || lower.starts_with("http://");
    if !scheme_ok || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(BrowserError(
            "only http:// and https:// URLs without spaces are opened".to_owned(),
        ));
    }
    Ok(())
}

fn from_command_line(command_line: &str, url: &str) -> Result<(String, Vec<String>), BrowserError> {
    let mut words = command_line.split_whitespace();
    let program = words
        .next()
        .ok_or_else(|| BrowserError("BROWSER is empty".to_owned()))?
        .to_owned();
    let mut substituted = false;
    let mut args: Vec<String> = words
        .map(|word| {
            if word.contains("%s") {
                substituted = true;
                word.replace("%s", url)
            } else {
                word.to_owned()
            }
        })
        .collect();
    if !substituted {
        args.push(url.to_owned());
    }
    Ok((program, args))
}

#[cfg(target_os = "macos")]
fn platform_opener(url: &str) -> Result<(String, Vec<String>), BrowserError> {
    Ok(("open".to_owned(), vec![url.to_owned()]))
}

#[cfg(windows)]
fn platform_opener(url: &str) -> Result<(String, Vec<String>), BrowserError> {
    // Not `cmd /c start "" <url>`: cmd.exe would interpret the `&` between query parameters
    // as a command separator. The URL protocol handler takes the URL as one plain argument.
    Ok((
        "rundll32.exe".to_owned(),
        vec!["url.dll,FileProtocolHandler".to_owned(), url.to_owned()],
    ))
}

#[cfg(not(any(target_os = "macos", windows)))]
fn platform_opener(url: &str) -> Result<(String, Vec<String>), BrowserError> {
    // Without a display xdg-open would start a text browser on our terminal or fail after we
    // stopped watching; report it now so the caller prints the URL instead.
    let has_display = ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty()));
    if !has_display {
        return Err(BrowserError(
            "no graphical display (DISPLAY and WAYLAND_DISPLAY are unset) and BROWSER is not set"
                .to_owned(),
        ));
    }
    Ok(("xdg-open".to_owned(), vec![url.to_owned()]))
}

/// Starts the program without waiting for it; a thread reaps it so no zombie remains.
fn spawn_detached(program: &str, args: &[String]) -> Result<(), BrowserError> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        // Browsers and openers chatter on stderr ("Opening in existing browser session");
        // keep the user's terminal for our own messages.
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| BrowserError(format!("cannot start the browser program {program}: {e}")))?;
    let reaper = std::thread::Builder::new()
        .name("browser-reaper".to_owned())
        .spawn(move || {
            if let Ok(status) = child.wait()
                && !status.success()
            {
                tracing::debug!(%status, "the browser opener exited with an error");
            }
        });
    // Without a thread the child is reaped at exit instead; the browser was still started.
    drop(reaper);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_s_is_substituted_in_place() {
        let (p, a) = from_command_line("firefox --new-window=%s -x", "http://a/?b=1&c=2").unwrap();
        assert_eq!(p, "firefox");
        assert_eq!(a, ["--new-window=http://a/?b=1&c=2", "-x"]);
    }

    #[test]
    fn url_is_appended_without_percent_s() {
        let (p, a) = from_command_line("w3m  -o x", "http://a/").unwrap();
        assert_eq!(p, "w3m");
        assert_eq!(a, ["-o", "x", "http://a/"]);
    }

    #[test]
    fn only_http_urls_are_opened() {
        assert!(check_url("https://app.hubspot.com/oauth/authorize?x=1").is_ok());
        assert!(check_url("HTTP://localhost:1/").is_ok());
        assert!(check_url("--help").is_err());
        assert!(check_url("file:///etc/passwd").is_err());
        assert!(check_url("http://a/ b").is_err());
    }
}
