//! The one HTTP client of the process, configured from the connection properties.
//!
//! Clients are cached by their settings, so every connection with the same proxy, timeout and
//! certificate settings shares one connection pool. Redirects are never followed: a token
//! request must not carry credentials to another host, and the APIs do not redirect.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use connstr::Secret;
use connstr::validate::CommonConfig;

use crate::{Error, Result};

/// The network settings of a connection, as a cache key.
#[derive(Debug, Clone, Default)]
pub struct HttpSettings {
    /// Per-request timeout; `None` disables it.
    pub timeout: Option<Duration>,
    /// Use HTTP(S)_PROXY / NO_PROXY from the environment.
    pub proxy_auto_detect: bool,
    /// `host:port` of an HTTP proxy.
    pub proxy: Option<(String, u16)>,
    /// Proxy credentials.
    pub proxy_credentials: Option<(String, Secret)>,
    /// Hosts that bypass the proxy.
    pub proxy_exceptions: Vec<String>,
    /// A SOCKS5 firewall `host:port`.
    pub socks5: Option<(String, u16)>,
    /// SOCKS5 credentials.
    pub socks5_credentials: Option<(String, Secret)>,
    /// `SSLServerCert`: PEM text or a PEM file path, or `*` to accept any certificate.
    pub ssl_server_cert: Option<String>,
}

impl HttpSettings {
    /// The settings a validated connection asks for.
    pub fn from_config(common: &CommonConfig) -> Self {
        let proxy = common
            .proxy
            .server
            .clone()
            .map(|host| (host, common.proxy.port));
        let proxy_credentials = common
            .proxy
            .user
            .clone()
            .map(|u| (u, common.proxy.password.clone().unwrap_or_default()));
        let socks5 = (common.firewall.kind == "SOCKS5")
            .then(|| common.firewall.server.clone())
            .flatten()
            .map(|host| {
                let port = if common.firewall.port == 0 {
                    1080
                } else {
                    common.firewall.port
                };
                (host, port)
            });
        let socks5_credentials = common
            .firewall
            .user
            .clone()
            .map(|u| (u, common.firewall.password.clone().unwrap_or_default()));
        Self {
            timeout: common.timeout,
            proxy_auto_detect: common.proxy.auto_detect,
            proxy,
            proxy_credentials,
            proxy_exceptions: common.proxy.exceptions.clone(),
            socks5,
            socks5_credentials,
            ssl_server_cert: common.ssl_server_cert.clone(),
        }
    }

    fn cache_key(&self) -> String {
        // Secrets are part of the identity of a client but must not sit in a readable key.
        let digest = |s: &Secret| {
            let d = ring::digest::digest(&ring::digest::SHA256, s.expose().as_bytes());
            base64::Engine::encode(
                &base64::engine::general_purpose::STANDARD_NO_PAD,
                d.as_ref(),
            )
        };
        format!(
            "{:?}|{}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}",
            self.timeout,
            self.proxy_auto_detect,
            self.proxy,
            self.proxy_credentials.as_ref().map(|(u, p)| (u, digest(p))),
            self.proxy_exceptions,
            self.socks5,
            self.socks5_credentials
                .as_ref()
                .map(|(u, p)| (u, digest(p))),
            self.ssl_server_cert,
        )
    }
}

/// The shared client for `settings` (built on first use, then reused).
///
/// ```
/// let client = auth_core::http::client(&auth_core::http::HttpSettings::default())?;
/// # let _ = client;
/// # Ok::<(), auth_core::Error>(())
/// ```
pub fn client(settings: &HttpSettings) -> Result<reqwest::Client> {
    static CLIENTS: OnceLock<Mutex<HashMap<String, reqwest::Client>>> = OnceLock::new();
    let key = settings.cache_key();
    let cache = CLIENTS.get_or_init(|| Mutex::new(HashMap::new()));
    let mut clients = cache
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(client) = clients.get(&key) {
        return Ok(client.clone());
    }
    let client = build(settings)?;
    clients.insert(key, client.clone());
    Ok(client)
}

fn build(settings: &HttpSettings) -> Result<reqwest::Client> {
    let setup = |e: reqwest::Error| Error::HttpSetup(e.to_string());
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("connector/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(30))
        .pool_idle_timeout(Duration::from_secs(60));
    if let Some(timeout) = settings.timeout {
        builder = builder.timeout(timeout);
    }
    if !settings.proxy_auto_detect {
        builder = builder.no_proxy();
    }
    let exceptions = reqwest::NoProxy::from_string(&settings.proxy_exceptions.join(","));
    if let Some((host, port)) = &settings.socks5 {
        let mut proxy = reqwest::Proxy::all(format!("socks5h://{host}:{port}")).map_err(setup)?;
        if let Some((user, password)) = &settings.socks5_credentials {
            proxy = proxy.basic_auth(user, password.expose());
        }
        builder = builder.proxy(proxy.no_proxy(exceptions.clone()));
    } else if let Some((host, port)) = &settings.proxy {
        let mut proxy = reqwest::Proxy::all(format!("http://{host}:{port}")).map_err(setup)?;
        if let Some((user, password)) = &settings.proxy_credentials {
            proxy = proxy.basic_auth(user, password.expose());
        }
        builder = builder.proxy(proxy.no_proxy(exceptions));
    }
    match settings.ssl_server_cert.as_deref() {
        None | Some("") => {}
        Some("*") => builder = builder.danger_accept_invalid_certs(true),
        Some(cert) => {
            let pem = if cert.contains("-----BEGIN") {
                cert.as_bytes().to_vec()
            } else {
                std::fs::read(cert).map_err(|e| Error::InvalidConfiguration {
                    property: "SSLServerCert",
                    message: format!("cannot read certificate file {cert}: {e}"),
                })?
            };
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                Error::InvalidConfiguration {
                    property: "SSLServerCert",
                    message: format!("not a PEM certificate: {e}"),
                }
            })?;
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
    }
    builder.build().map_err(setup)
}

/// A URL without its query string, for error messages.
pub fn display_url(url: &reqwest::Url) -> String {
    let mut shown = url.clone();
    shown.set_query(None);
    shown.set_fragment(None);
    shown.to_string()
}

/// Maps a reqwest transport error to [`Error::Transport`], naming the endpoint (never its
/// query) and the cause.
pub fn transport_error(url: &reqwest::Url, error: reqwest::Error) -> Error {
    let message = if error.is_timeout() {
        "timed out (raise Timeout or check the network)".to_owned()
    } else if error.is_connect() {
        // Keep the cause: "proxy authentication required", a TLS reason, "connection refused".
        match causes(&error) {
            Some(cause) if cause.contains("proxy authorization required") => {
                "connection failed: the proxy answered 407 Proxy Authentication Required; set ProxyUser and ProxyPassword".to_owned()
            }
            Some(cause) => format!("connection failed: {cause}"),
            None => "connection failed".to_owned(),
        }
    } else {
        // reqwest's Display includes the URL; keep only the error chain without it.
        let error = error.without_url();
        let mut text = error.to_string();
        if let Some(cause) = causes(&error) {
            text.push_str(": ");
            text.push_str(&cause);
        }
        text
    };
    Error::Transport {
        url: display_url(url),
        message,
    }
}

/// The error's sources, joined with `: `, without repeats (hyper often wraps the same text).
fn causes(error: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut parts: Vec<String> = Vec::new();
    let mut source = error.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    (!parts.is_empty()).then(|| parts.join(": "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssl_server_cert_that_is_not_pem_names_the_property() {
        let settings = HttpSettings {
            ssl_server_cert: Some(
                "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----".into(),
            ),
            ..HttpSettings::default()
        };
        let err = client(&settings).unwrap_err();
        assert!(err.to_string().contains("SSLServerCert"), "{err}");
        let missing = HttpSettings {
            ssl_server_cert: Some("/nonexistent/cert.pem".into()),
            ..HttpSettings::default()
        };
        assert!(
            client(&missing)
                .unwrap_err()
                .to_string()
                .contains("/nonexistent/cert.pem")
        );
    }

    #[test]
    fn proxy_credentials_never_appear_in_debug_or_the_cache_key() {
        let settings = HttpSettings {
            proxy: Some(("proxy.example".into(), 8080)),
            proxy_credentials: Some(("me".into(), Secret::new("CANARY-PROXY"))),
            ..HttpSettings::default()
        };
        assert!(!format!("{settings:?}").contains("CANARY"));
        assert!(!settings.cache_key().contains("CANARY"));
        client(&settings).unwrap();
    }
}
