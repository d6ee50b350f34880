//! A parsed connection string checked against the registry into a typed configuration.
//!
//! Every problem is collected, so the user fixes them all in one go. Messages name the property
//! and what to do; values of sensitive properties never appear in them.
//!
//! ```
//! use connstr::{ConnectionString, validate};
//! let cs: ConnectionString = "OAuthClinetId=x;InitiateOAuth=SOMETIMES".parse()?;
//! let err = validate::acton(&cs).unwrap_err();
//! let text = err.to_string();
//! assert!(text.contains("unknown property OAuthClinetId; did you mean OAuthClientId?"));
//! assert!(text.contains("InitiateOAuth"));
//! assert!(text.contains("OFF, REFRESH, GETANDREFRESH"));
//! # Ok::<(), connstr::SyntaxError>(())
//! ```

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use url::Url;

use crate::grammar::ConnectionString;
use crate::registry::{self, PropertyDef, PropertyType, Source};
use crate::secret::{MASK, Secret};

/// One thing wrong with a connection string.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// A property the source does not know.
    UnknownProperty {
        /// The name as written.
        name: String,
        /// The nearest known property, if close.
        suggestion: Option<&'static str>,
    },
    /// A value of the wrong type or outside the allowed set.
    InvalidValue {
        /// CData's name of the property.
        property: &'static str,
        /// The value as written, or `********` for sensitive properties.
        shown_value: String,
        /// What is accepted.
        expected: String,
    },
    /// An `http://` endpoint on a non-loopback host.
    InsecureUrl {
        /// CData's name of the property.
        property: &'static str,
    },
    /// A property that another setting requires.
    Missing {
        /// The missing property.
        property: &'static str,
        /// Why it is needed.
        because: String,
    },
    /// `Other` is not a valid connection string.
    OtherSyntax {
        /// The nested syntax error, already masked.
        message: String,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownProperty { name, suggestion } => {
                write!(f, "unknown property {name}")?;
                match suggestion {
                    Some(s) => write!(f, "; did you mean {s}?"),
                    None => write!(f, "; run `connector <source> properties` to list them"),
                }
            }
            Self::InvalidValue {
                property,
                shown_value,
                expected,
            } => write!(
                f,
                "invalid value {shown_value:?} for {property}: expected {expected}"
            ),
            Self::InsecureUrl { property } => write!(
                f,
                "{property} uses http:// on a non-loopback host; use https:// (plain http is allowed only for localhost / 127.0.0.1 / ::1)"
            ),
            Self::Missing { property, because } => write!(f, "{property} is required {because}"),
            Self::OtherSyntax { message } => write!(f, "property Other: {message}"),
        }
    }
}

/// Everything wrong with a connection string.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ValidationError {
    /// The source being configured.
    pub source_kind: Source,
    /// Each problem, in the order found.
    pub problems: Vec<Problem>,
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.problems.len();
        write!(
            f,
            "{} {} in the {} connection string:",
            count,
            if count == 1 { "problem" } else { "problems" },
            self.source_kind
        )?;
        for problem in &self.problems {
            write!(f, "\n  - {problem}")?;
        }
        Ok(())
    }
}

/// `InitiateOAuth`: how the connector obtains and refreshes tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitiateOAuth {
    /// Use OAuthAccessToken as given; never obtain or refresh.
    Off,
    /// Never prompt; refresh automatically; exchange OAuthVerifier.
    Refresh,
    /// As Refresh, and run the login flow when there is no token.
    GetAndRefresh,
}

/// Act-On `AuthScheme`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActOnAuthScheme {
    /// Authorization-code flows.
    OAuth,
    /// The password grant.
    OAuthPassword,
}

/// HubDB `AuthScheme`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HubDbAuthScheme {
    /// A public HubSpot app.
    OAuth,
    /// A private app's static token (`PrivateApp` or `PrivateAppToken`).
    PrivateApp,
}

/// Act-On `Region`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActOnRegion {
    /// `https://api.actonsoftware.com`.
    Us,
    /// `https://api-eu.actonsoftware.com`.
    Eu,
}

/// An HTTP proxy or firewall.
#[derive(Debug, Clone, Default)]
pub struct ProxyConfig {
    /// Use the environment's proxy settings.
    pub auto_detect: bool,
    /// Host.
    pub server: Option<String>,
    /// Port.
    pub port: u16,
    /// Authentication scheme name, upper case.
    pub auth_scheme: String,
    /// User.
    pub user: Option<String>,
    /// Password.
    pub password: Option<Secret>,
    /// Hosts that bypass the proxy.
    pub exceptions: Vec<String>,
}

/// A firewall (`FirewallType` and friends).
#[derive(Debug, Clone, Default)]
pub struct FirewallConfig {
    /// `NONE`, `TUNNEL`, `SOCKS4` or `SOCKS5`.
    pub kind: String,
    /// Host.
    pub server: Option<String>,
    /// Port (defaulted by kind when 0).
    pub port: u16,
    /// User.
    pub user: Option<String>,
    /// Password.
    pub password: Option<Secret>,
}

/// Properties both connectors share, typed.
#[derive(Debug, Clone)]
pub struct CommonConfig {
    /// `InitiateOAuth`.
    pub initiate_oauth: InitiateOAuth,
    /// `OAuthClientId`.
    pub oauth_client_id: Option<String>,
    /// `OAuthClientSecret`.
    pub oauth_client_secret: Option<Secret>,
    /// `OAuthAccessToken`.
    pub oauth_access_token: Option<Secret>,
    /// `OAuthRefreshToken`.
    pub oauth_refresh_token: Option<Secret>,
    /// `OAuthSettingsLocation`, unexpanded.
    pub oauth_settings_location: Option<String>,
    /// `OAuthSettingsPassphrase`.
    pub oauth_settings_passphrase: Option<Secret>,
    /// `CallbackURL`, exactly as configured.
    pub callback_url: Option<String>,
    /// `OAuthVerifier`.
    pub oauth_verifier: Option<Secret>,
    /// `OAuthExpiresIn`, seconds.
    pub oauth_expires_in: Option<i64>,
    /// `OAuthTokenTimestamp`, Unix ms.
    pub oauth_token_timestamp: Option<i64>,
    /// `Scope`, when overridden.
    pub scope: Option<String>,
    /// Authorization endpoint (resolved default).
    pub oauth_authorization_url: Url,
    /// Token endpoint (resolved default).
    pub oauth_access_token_url: Url,
    /// API base URL (resolved default).
    pub api_base_url: Url,
    /// `SSLServerCert`.
    pub ssl_server_cert: Option<String>,
    /// Firewall.
    pub firewall: FirewallConfig,
    /// Proxy.
    pub proxy: ProxyConfig,
    /// `Logfile`.
    pub logfile: Option<PathBuf>,
    /// `Verbosity`, 1–5.
    pub verbosity: u8,
    /// `MaxRows`; `None` for no limit.
    pub max_rows: Option<u64>,
    /// `Pagesize`, if set (the source caps it).
    pub pagesize: Option<u32>,
    /// `Timeout`; `None` when disabled (0).
    pub timeout: Option<Duration>,
    /// `Other`, parsed.
    pub other: ConnectionString,
}

/// A validated Act-On configuration.
#[derive(Debug, Clone)]
pub struct ActOnConfig {
    /// `AuthScheme`.
    pub auth_scheme: ActOnAuthScheme,
    /// `User`.
    pub user: Option<String>,
    /// `Password`.
    pub password: Option<Secret>,
    /// `Region`.
    pub region: ActOnRegion,
    /// The shared properties.
    pub common: CommonConfig,
}

/// A validated HubDB configuration.
#[derive(Debug, Clone)]
pub struct HubDbConfig {
    /// `AuthScheme`.
    pub auth_scheme: HubDbAuthScheme,
    /// The private app token (`PrivateAppToken`, or `OAuthAccessToken` under a private-app scheme).
    pub private_app_token: Option<Secret>,
    /// The shared properties.
    pub common: CommonConfig,
}

/// Validates an Act-On connection string.
pub fn acton(cs: &ConnectionString) -> Result<ActOnConfig, ValidationError> {
    let mut v = Validator::new(Source::ActOn, cs);
    let auth_scheme = match v.enum_value("AuthScheme").as_deref() {
        Some("OAUTHPASSWORD") => ActOnAuthScheme::OAuthPassword,
        _ => ActOnAuthScheme::OAuth,
    };
    let region = match v.enum_value("Region").as_deref() {
        Some("EU") => ActOnRegion::Eu,
        _ => ActOnRegion::Us,
    };
    let user = v.string("User");
    let password = v.secret("Password");
    let default_base = match region {
        ActOnRegion::Us => registry::ACTON_US_BASE_URL,
        ActOnRegion::Eu => registry::ACTON_EU_BASE_URL,
    };
    let base = v.url("APIBaseURL", default_base);
    let base_text = base.as_str().trim_end_matches('/').to_owned();
    let authorize = v.url("OAuthAuthorizationURL", &format!("{base_text}/authorize"));
    let token = v.url("OAuthAccessTokenURL", &format!("{base_text}/token"));
    let common = v.common(base, authorize, token);
    if auth_scheme == ActOnAuthScheme::OAuthPassword {
        let because = "when AuthScheme=OAuthPassword";
        v.require(user.is_some(), "User", because);
        v.require(password.is_some(), "Password", because);
        v.require(common.oauth_client_id.is_some(), "OAuthClientId", because);
        v.require(
            common.oauth_client_secret.is_some(),
            "OAuthClientSecret",
            because,
        );
    }
    v.finish(ActOnConfig {
        auth_scheme,
        user,
        password,
        region,
        common,
    })
}

/// Validates a HubDB connection string.
pub fn hubdb(cs: &ConnectionString) -> Result<HubDbConfig, ValidationError> {
    let mut v = Validator::new(Source::HubDb, cs);
    let auth_scheme = match v.enum_value("AuthScheme").as_deref() {
        Some("PRIVATEAPP" | "PRIVATEAPPTOKEN") => HubDbAuthScheme::PrivateApp,
        _ => HubDbAuthScheme::OAuth,
    };
    let explicit_token = v.secret("PrivateAppToken");
    let base = v.url("APIBaseURL", "https://api.hubapi.com");
    let base_text = base.as_str().trim_end_matches('/').to_owned();
    let authorize = v.url("OAuthAuthorizationURL", registry::HUBSPOT_AUTHORIZATION_URL);
    let token = v.url(
        "OAuthAccessTokenURL",
        &format!("{base_text}/oauth/v3/token"),
    );
    let common = v.common(base, authorize, token);
    let private_app_token = match auth_scheme {
        // CData's HubSpot connector takes the private app token in OAuthAccessToken.
        HubDbAuthScheme::PrivateApp => explicit_token.or_else(|| common.oauth_access_token.clone()),
        HubDbAuthScheme::OAuth => explicit_token,
    };
    if auth_scheme == HubDbAuthScheme::PrivateApp {
        v.require(
            private_app_token.is_some(),
            "PrivateAppToken",
            "when AuthScheme=PrivateApp (create a private app in HubSpot under Settings > Integrations > Private apps and copy its access token)",
        );
    }
    v.finish(HubDbConfig {
        auth_scheme,
        private_app_token,
        common,
    })
}

/// Validates for either source and returns the problems only (used by `check`).
pub fn problems(source: Source, cs: &ConnectionString) -> Vec<Problem> {
    let result = match source {
        Source::ActOn => acton(cs).map(|_| ()),
        Source::HubDb => hubdb(cs).map(|_| ()),
    };
    result.err().map(|e| e.problems).unwrap_or_default()
}

/// How a resolved property got its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Set in the connection string.
    Set,
    /// The registry's default.
    Default,
}

/// One row of `connector <source> check`: every known property with its value or default,
/// sensitive values masked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedProperty {
    /// The property.
    pub def: &'static PropertyDef,
    /// The value shown: masked when sensitive.
    pub shown_value: Option<String>,
    /// Where the value came from.
    pub origin: Option<Origin>,
}

/// Every property of `source` with the value it resolves to; secrets masked.
pub fn resolve(source: Source, cs: &ConnectionString) -> Vec<ResolvedProperty> {
    registry::properties(source)
        .map(|def| {
            let (shown_value, origin) = match cs.get(def.name) {
                Some(_) if def.sensitive => (Some(MASK.to_owned()), Some(Origin::Set)),
                Some(v) => (Some(v.to_owned()), Some(Origin::Set)),
                None => (
                    def.default.map(str::to_owned),
                    def.default.map(|_| Origin::Default),
                ),
            };
            ResolvedProperty {
                def,
                shown_value,
                origin,
            }
        })
        .collect()
}

struct Validator<'a> {
    source: Source,
    cs: &'a ConnectionString,
    problems: Vec<Problem>,
}

impl<'a> Validator<'a> {
    fn new(source: Source, cs: &'a ConnectionString) -> Self {
        let mut problems = Vec::new();
        for (name, _) in cs.iter() {
            if registry::find(source, name).is_none() {
                problems.push(Problem::UnknownProperty {
                    name: name.to_owned(),
                    suggestion: registry::suggest(source, name),
                });
            }
        }
        Self {
            source,
            cs,
            problems,
        }
    }

    fn def(&self, name: &str) -> &'static PropertyDef {
        registry::find(self.source, name).unwrap_or_else(|| {
            // A programming error: the validator asked for a property the registry lacks.
            panic!(
                "property {name} is missing from the {} registry",
                self.source
            )
        })
    }

    fn raw(&self, name: &str) -> Option<(&'static PropertyDef, &'a str)> {
        let def = self.def(name);
        self.cs.get(def.name).map(|v| (def, v))
    }

    fn invalid(&mut self, def: &'static PropertyDef, value: &str, expected: String) {
        let shown_value = if def.sensitive {
            MASK.to_owned()
        } else {
            value.to_owned()
        };
        self.problems.push(Problem::InvalidValue {
            property: def.name,
            shown_value,
            expected,
        });
    }

    fn string(&mut self, name: &str) -> Option<String> {
        self.raw(name)
            .map(|(_, v)| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    fn secret(&mut self, name: &str) -> Option<Secret> {
        self.raw(name)
            .filter(|(_, v)| !v.is_empty())
            .map(|(_, v)| Secret::new(v))
    }

    /// The value upper-cased, or the default, after checking it is allowed.
    fn enum_value(&mut self, name: &str) -> Option<String> {
        let def = self.def(name);
        let PropertyType::Enum(allowed) = def.ty else {
            return None;
        };
        let text = self.cs.get(def.name).or(def.default)?;
        let upper = text.trim().to_uppercase();
        if allowed.iter().any(|a| a.to_uppercase() == upper) {
            Some(upper)
        } else {
            self.invalid(def, text, format!("one of {}", allowed.join(", ")));
            def.default.map(str::to_uppercase)
        }
    }

    fn int(&mut self, name: &str) -> Option<i64> {
        let def = self.def(name);
        let PropertyType::Int { min, max } = def.ty else {
            return None;
        };
        let text = self.cs.get(def.name).or(def.default)?;
        match text.trim().parse::<i64>() {
            Ok(n) if (min..=max).contains(&n) => Some(n),
            _ => {
                let expected = if max == i64::MAX {
                    format!("an integer >= {min}")
                } else {
                    format!("an integer from {min} to {max}")
                };
                self.invalid(def, text, expected);
                None
            }
        }
    }

    fn bool(&mut self, name: &str) -> bool {
        let def = self.def(name);
        let Some(text) = self.cs.get(def.name).or(def.default) else {
            return false;
        };
        match text.trim().to_lowercase().as_str() {
            "true" | "yes" | "1" | "on" => true,
            "false" | "no" | "0" | "off" => false,
            _ => {
                self.invalid(def, text, "true or false".to_owned());
                false
            }
        }
    }

    fn url(&mut self, name: &str, default: &str) -> Url {
        let def = self.def(name);
        let fallback = || Url::parse(default).expect("registry defaults are valid URLs");
        let Some(text) = self.cs.get(def.name).filter(|t| !t.trim().is_empty()) else {
            return fallback();
        };
        match Url::parse(text.trim()) {
            Ok(url) if url.scheme() == "https" => url,
            Ok(url) if url.scheme() == "http" => {
                if !is_loopback(&url) {
                    self.problems
                        .push(Problem::InsecureUrl { property: def.name });
                }
                url
            }
            _ => {
                self.invalid(def, text, "an absolute https:// URL".to_owned());
                fallback()
            }
        }
    }

    fn require(&mut self, present: bool, property: &'static str, because: &str) {
        if !present {
            self.problems.push(Problem::Missing {
                property,
                because: because.to_owned(),
            });
        }
    }

    fn common(&mut self, api_base_url: Url, authorize: Url, token: Url) -> CommonConfig {
        let initiate_oauth = match self.enum_value("InitiateOAuth").as_deref() {
            Some("REFRESH") => InitiateOAuth::Refresh,
            Some("GETANDREFRESH") => InitiateOAuth::GetAndRefresh,
            _ => InitiateOAuth::Off,
        };
        let callback_url = self.string("CallbackURL");
        if let Some(cb) = &callback_url {
            let oob = cb == "urn:ietf:wg:oauth:2.0:oob";
            if !oob && Url::parse(cb).is_err() {
                let def = self.def("CallbackURL");
                self.invalid(
                    def,
                    cb,
                    "an absolute URL such as http://localhost:33333".to_owned(),
                );
            }
        }
        let oauth_verifier = self.secret("OAuthVerifier");
        let oauth_settings_location = self.string("OAuthSettingsLocation");
        if oauth_verifier.is_some() {
            let because = "when OAuthVerifier is set (the exchanged tokens are saved there and the code must be sent with the same redirect URI)";
            self.require(
                oauth_settings_location.is_some(),
                "OAuthSettingsLocation",
                because,
            );
            self.require(callback_url.is_some(), "CallbackURL", because);
        }
        let firewall = FirewallConfig {
            kind: self.enum_value("FirewallType").unwrap_or_default(),
            server: self.string("FirewallServer"),
            port: self.int("FirewallPort").unwrap_or(0) as u16,
            user: self.string("FirewallUser"),
            password: self.secret("FirewallPassword"),
        };
        let proxy = ProxyConfig {
            auto_detect: self.bool("ProxyAutoDetect"),
            server: self.string("ProxyServer"),
            port: self.int("ProxyPort").unwrap_or(80) as u16,
            auth_scheme: self.enum_value("ProxyAuthScheme").unwrap_or_default(),
            user: self.string("ProxyUser"),
            password: self.secret("ProxyPassword"),
            exceptions: self
                .string("ProxyExceptions")
                .map(|s| {
                    s.split([';', ','])
                        .map(|h| h.trim().to_owned())
                        .filter(|h| !h.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
        };
        // Validate the remaining typed properties even where the typed config does not keep them.
        for name in ["ProxySSLType", "TypeDetectionScheme"] {
            self.enum_value(name);
        }
        for name in ["MaxLogFileCount", "RowScanDepth"] {
            self.int(name);
        }
        let other = match self.cs.get("Other") {
            Some(text) => ConnectionString::parse(text).unwrap_or_else(|e| {
                self.problems.push(Problem::OtherSyntax {
                    message: e.to_string(),
                });
                ConnectionString::new()
            }),
            None => ConnectionString::new(),
        };
        CommonConfig {
            initiate_oauth,
            oauth_client_id: self.string("OAuthClientId"),
            oauth_client_secret: self.secret("OAuthClientSecret"),
            oauth_access_token: self.secret("OAuthAccessToken"),
            oauth_refresh_token: self.secret("OAuthRefreshToken"),
            oauth_settings_location,
            oauth_settings_passphrase: self.secret("OAuthSettingsPassphrase"),
            callback_url,
            oauth_verifier,
            oauth_expires_in: self.int("OAuthExpiresIn"),
            oauth_token_timestamp: self.int("OAuthTokenTimestamp"),
            scope: self.string("Scope"),
            oauth_authorization_url: authorize,
            oauth_access_token_url: token,
            api_base_url,
            ssl_server_cert: self.string("SSLServerCert"),
            firewall,
            proxy,
            logfile: self.string("Logfile").map(PathBuf::from),
            verbosity: self.int("Verbosity").unwrap_or(1) as u8,
            max_rows: self
                .int("MaxRows")
                .and_then(|n| u64::try_from(n).ok())
                .filter(|n| *n > 0),
            pagesize: self
                .int("Pagesize")
                .map(|n| u32::try_from(n).unwrap_or(u32::MAX)),
            timeout: match self.int("Timeout") {
                Some(0) => None,
                Some(n) => Some(Duration::from_secs(n.unsigned_abs())),
                None => Some(Duration::from_secs(60)),
            },
            other,
        }
    }

    fn finish<T>(self, config: T) -> Result<T, ValidationError> {
        if self.problems.is_empty() {
            Ok(config)
        } else {
            Err(ValidationError {
                source_kind: self.source,
                problems: self.problems,
            })
        }
    }
}

/// Whether a URL points at this machine (plain http is acceptable there).
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cs(text: &str) -> ConnectionString {
        text.parse().unwrap()
    }

    const CANARIES: &[&str] = &[
        "CANARY-SECRET-1",
        "CANARY-TOKEN-2",
        "CANARY-REFRESH-3",
        "CANARY-PW-4",
        "CANARY-VERIFIER-5",
        "CANARY-PAT-6",
        "CANARY-PASSPHRASE-7",
        "CANARY-PROXY-8",
    ];

    fn canary_string(extra: &str) -> String {
        format!(
            "OAuthClientSecret=CANARY-SECRET-1;OAuthAccessToken=CANARY-TOKEN-2;OAuthRefreshToken=CANARY-REFRESH-3;\
             OAuthVerifier=CANARY-VERIFIER-5;OAuthSettingsPassphrase=CANARY-PASSPHRASE-7;\
             ProxyPassword=CANARY-PROXY-8;CallbackURL=http://localhost:1;OAuthSettingsLocation=memory://t;{extra}"
        )
    }

    fn assert_no_canary(text: &str) {
        for canary in CANARIES {
            assert!(!text.contains(canary), "{canary} leaked in: {text}");
        }
    }

    #[test]
    fn unknown_property_names_the_nearest_known_one() {
        let err = acton(&cs("OAuthClinetId=abc")).unwrap_err();
        assert_eq!(
            err.problems,
            vec![Problem::UnknownProperty {
                name: "OAuthClinetId".into(),
                suggestion: Some("OAuthClientId")
            }]
        );
        assert!(
            err.to_string()
                .contains("unknown property OAuthClinetId; did you mean OAuthClientId?")
        );
    }

    #[test]
    fn bad_enum_names_the_property_and_allowed_values() {
        let err = hubdb(&cs("AuthScheme=Basic")).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("AuthScheme"), "{text}");
        assert!(
            text.contains("OAuth, PrivateApp, PrivateAppToken"),
            "{text}"
        );
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let err = acton(&cs(
            "Timeout=soon;Verbosity=9;ProxyAutoDetect=maybe;APIBaseURL=http://api.example.com;Colour=red",
        ))
        .unwrap_err();
        assert_eq!(err.problems.len(), 5, "{err}");
    }

    #[test]
    fn keys_are_case_insensitive() {
        let config = hubdb(&cs(
            "oauthclientid=abc;INITIATEOAUTH=getandrefresh;callbackurl=http://localhost:33333",
        ))
        .unwrap();
        assert_eq!(config.common.oauth_client_id.as_deref(), Some("abc"));
        assert_eq!(config.common.initiate_oauth, InitiateOAuth::GetAndRefresh);
    }

    #[test]
    fn http_endpoints_are_refused_unless_loopback() {
        let err = hubdb(&cs("APIBaseURL=http://evil.example")).unwrap_err();
        assert_eq!(
            err.problems,
            vec![Problem::InsecureUrl {
                property: "APIBaseURL"
            }]
        );
        for host in ["127.0.0.1:8080", "localhost:1", "[::1]:9"] {
            hubdb(&cs(&format!("APIBaseURL=http://{host}"))).unwrap();
        }
    }

    #[test]
    fn acton_region_and_base_url_set_the_oauth_endpoints() {
        let eu = acton(&cs("Region=EU")).unwrap();
        assert_eq!(
            eu.common.oauth_access_token_url.as_str(),
            "https://api-eu.actonsoftware.com/token"
        );
        let local = acton(&cs("Region=EU;APIBaseURL=http://127.0.0.1:9000")).unwrap();
        assert_eq!(
            local.common.oauth_authorization_url.as_str(),
            "http://127.0.0.1:9000/authorize"
        );
    }

    #[test]
    fn private_app_token_is_accepted_in_oauth_access_token() {
        for text in [
            "AuthScheme=PrivateApp;PrivateAppToken=pat",
            "AuthScheme=PrivateAppToken;OAuthAccessToken=pat",
        ] {
            let config = hubdb(&cs(text)).unwrap();
            assert_eq!(config.auth_scheme, HubDbAuthScheme::PrivateApp);
            assert_eq!(config.private_app_token.unwrap().expose(), "pat");
        }
        let err = hubdb(&cs("AuthScheme=PrivateApp")).unwrap_err();
        assert!(err.to_string().contains("PrivateAppToken is required"));
    }

    #[test]
    fn password_grant_requires_its_properties() {
        let err = acton(&cs("AuthScheme=OAuthPassword;User=u")).unwrap_err();
        let text = err.to_string();
        for name in ["Password", "OAuthClientId", "OAuthClientSecret"] {
            assert!(text.contains(&format!("{name} is required")), "{text}");
        }
    }

    #[test]
    fn verifier_requires_settings_location_and_callback() {
        let err = hubdb(&cs("InitiateOAuth=REFRESH;OAuthVerifier=code")).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("OAuthSettingsLocation is required"), "{text}");
        assert!(text.contains("CallbackURL is required"), "{text}");
    }

    #[test]
    fn other_is_parsed_with_the_same_grammar() {
        let config = hubdb(&cs("Other='A=1;B=\"x;y\"'")).unwrap();
        assert_eq!(config.common.other.get("b"), Some("x;y"));
        let err = hubdb(&cs("Other=\"A='unterminated\"")).unwrap_err();
        assert!(err.to_string().contains("property Other"));
    }

    #[test]
    fn canaries_never_leak_from_config_debug_errors_or_resolve() {
        let text = canary_string("PrivateAppToken=CANARY-PAT-6;AuthScheme=PrivateApp");
        let hub = hubdb(&cs(&text)).unwrap();
        assert_no_canary(&format!("{hub:?}"));
        assert_no_canary(&format!("{hub:#?}"));
        // Errors: invalid values of secret properties and unknown keys next to secrets.
        let bad =
            canary_string("Bogus=1;Verbosity=x;AuthScheme=OAuthPassword;Password=CANARY-PW-4");
        let err = acton(&cs(&bad)).unwrap_err();
        assert_no_canary(&err.to_string());
        assert_no_canary(&format!("{err:?}"));
        let acton_text =
            canary_string("AuthScheme=OAuthPassword;User=u;OAuthClientId=c;Password=CANARY-PW-4");
        let act = acton(&cs(&acton_text)).unwrap();
        assert_no_canary(&format!("{act:?}"));
        for (source, text) in [(Source::ActOn, &acton_text), (Source::HubDb, &text)] {
            for row in resolve(source, &cs(text)) {
                assert_no_canary(row.shown_value.as_deref().unwrap_or(""));
            }
        }
        let parsed = cs(&text);
        assert_no_canary(&format!("{parsed:?}"));
        assert_no_canary(&parsed.to_string());
    }
}
