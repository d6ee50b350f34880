//! A parsed connection string checked against a source's [`Properties`] into a typed
//! configuration: the shared part ([`CommonConfig`]) here, the source's own part in its crate,
//! both through one [`Validator`].
//!
//! Every problem is collected, so the user fixes them all in one go. Messages name the property
//! and what to do; values of sensitive properties never appear in them.
//!
//! ```
//! use connstr::registry::{Group, Properties, PropertyDef, PropertyType};
//! use connstr::{ConnectionString, validate::Validator};
//! static OWN: &[PropertyDef] = &[PropertyDef::new(
//!     "APIBaseURL", PropertyType::Url, Some("https://api.example.com"), Group::Connection, "Base URL.",
//! )];
//! static EXAMPLE: Properties = Properties::new("Example", OWN);
//! let cs: ConnectionString = "OAuthClinetId=x;InitiateOAuth=SOMETIMES".parse()?;
//! let mut v = Validator::new(&EXAMPLE, &cs);
//! let base = v.url("APIBaseURL", "https://api.example.com");
//! let common = v.common(base.clone(), base.join("/authorize")?, base.join("/token")?);
//! let err = v.finish(common).unwrap_err();
//! let text = err.to_string();
//! assert!(text.starts_with("2 problems in the Example connection string:"));
//! assert!(text.contains("unknown property OAuthClinetId; did you mean OAuthClientId?"));
//! assert!(text.contains("OFF, REFRESH, GETANDREFRESH"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use url::Url;

use crate::grammar::ConnectionString;
use crate::registry::{Properties, PropertyDef, PropertyType};
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
    /// The display name of the source being configured (`HubDB`).
    pub source_name: &'static str,
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
            self.source_name
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
    /// `OAuthRevocationURL`, when set (sources supply their default).
    pub oauth_revocation_url: Option<Url>,
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

/// Every property of a source with the value it resolves to; secrets masked.
pub fn resolve(properties: &Properties, cs: &ConnectionString) -> Vec<ResolvedProperty> {
    properties
        .iter()
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

/// Checks one connection string against a source's [`Properties`], collecting every problem.
///
/// A source's `validate` function creates one, reads its own properties with the typed getters
/// ([`Validator::string`], [`Validator::enum_value`], [`Validator::url`], …), the shared ones with
/// [`Validator::common`], adds its own rules with [`Validator::require`], and ends with
/// [`Validator::finish`]. Unknown properties are reported (with the nearest known name) as soon
/// as it is created. Asking for a property the set does not declare is a programming error and
/// panics (every source's tests validate a connection string, so it cannot ship).
pub struct Validator<'a> {
    properties: &'a Properties,
    cs: &'a ConnectionString,
    problems: Vec<Problem>,
}

impl std::fmt::Debug for Validator<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Validator")
            .field("source", &self.properties.source)
            .field("problems", &self.problems)
            .finish_non_exhaustive()
    }
}

impl<'a> Validator<'a> {
    /// Starts validating `cs` against `properties`; unknown names are reported at once.
    pub fn new(properties: &'a Properties, cs: &'a ConnectionString) -> Self {
        let mut problems = Vec::new();
        for (name, _) in cs.iter() {
            if properties.find(name).is_none() {
                problems.push(Problem::UnknownProperty {
                    name: name.to_owned(),
                    suggestion: properties.suggest(name),
                });
            }
        }
        Self {
            properties,
            cs,
            problems,
        }
    }

    fn def(&self, name: &str) -> &'static PropertyDef {
        self.properties.find(name).unwrap_or_else(|| {
            // A programming error: the validator asked for a property the set lacks.
            panic!(
                "property {name} is missing from the {} properties",
                self.properties.source
            )
        })
    }

    fn raw(&self, name: &str) -> Option<(&'static PropertyDef, &'a str)> {
        let def = self.def(name);
        self.cs.get(def.name).map(|v| (def, v))
    }

    /// Records an invalid value of `def` (masked when sensitive).
    pub fn invalid(&mut self, def: &'static PropertyDef, value: &str, expected: String) {
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

    /// A text property, trimmed; `None` when unset or empty.
    pub fn string(&mut self, name: &str) -> Option<String> {
        self.raw(name)
            .map(|(_, v)| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    /// A secret property; `None` when unset or empty.
    pub fn secret(&mut self, name: &str) -> Option<Secret> {
        self.raw(name)
            .filter(|(_, v)| !v.is_empty())
            .map(|(_, v)| Secret::new(v))
    }

    /// An enum property upper-cased (or its default), after checking it is allowed.
    pub fn enum_value(&mut self, name: &str) -> Option<String> {
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

    /// An integer property (or its default) within its declared range.
    pub fn int(&mut self, name: &str) -> Option<i64> {
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

    /// A boolean property (or its default): `true`/`false`, `yes`/`no`, `1`/`0`, `on`/`off`.
    pub fn bool(&mut self, name: &str) -> bool {
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

    /// A URL property, or `default`: https, or http on a loopback host.
    pub fn url(&mut self, name: &str, default: &str) -> Url {
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

    /// A URL property without a default: `None` when unset (or invalid, which is recorded).
    pub fn optional_url(&mut self, name: &str) -> Option<Url> {
        let def = self.def(name);
        let set = self.cs.get(def.name).is_some_and(|t| !t.trim().is_empty());
        set.then(|| self.url(name, "https://invalid.invalid/"))
    }

    /// Records that `property` is required `because` (e.g. "when AuthScheme=OAuthPassword").
    pub fn require(&mut self, present: bool, property: &'static str, because: &str) {
        if !present {
            self.problems.push(Problem::Missing {
                property,
                because: because.to_owned(),
            });
        }
    }

    /// The properties every source shares, with the source's resolved endpoints.
    pub fn common(&mut self, api_base_url: Url, authorize: Url, token: Url) -> CommonConfig {
        let oauth_revocation_url = self.optional_url("OAuthRevocationURL");
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
            oauth_revocation_url,
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

    /// The shared properties of a source that talks to no server (local files): its endpoints
    /// are a loopback placeholder that nothing requests.
    pub fn common_local(&mut self) -> CommonConfig {
        let local = Url::parse("http://localhost/").expect("a valid literal URL");
        self.common(local.clone(), local.clone(), local)
    }

    /// `config` when nothing was wrong, else every problem found.
    pub fn finish<T>(self, config: T) -> Result<T, ValidationError> {
        if self.problems.is_empty() {
            Ok(config)
        } else {
            Err(ValidationError {
                source_name: self.properties.source,
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
    use crate::registry::{Group, PropertyDef};

    static OWN: &[PropertyDef] = &[
        PropertyDef::new(
            "AuthScheme",
            PropertyType::Enum(&["OAuth", "PrivateApp", "PrivateAppToken"]),
            Some("OAuth"),
            Group::Authentication,
            "How to authenticate.",
        ),
        PropertyDef::new(
            "PrivateAppToken",
            PropertyType::Secret,
            None,
            Group::Authentication,
            "A static token.",
        ),
        PropertyDef::new(
            "Password",
            PropertyType::Secret,
            None,
            Group::Authentication,
            "A password.",
        ),
        PropertyDef::new(
            "APIBaseURL",
            PropertyType::Url,
            Some("https://api.example.com"),
            Group::Connection,
            "Base URL.",
        ),
    ];
    static TEST: Properties = Properties::new("Test", OWN);

    /// A source's validate function in miniature.
    fn validate(cs: &ConnectionString) -> Result<(String, CommonConfig), ValidationError> {
        let mut v = Validator::new(&TEST, cs);
        let scheme = v.enum_value("AuthScheme").unwrap_or_default();
        let token = v.secret("PrivateAppToken");
        v.secret("Password");
        let base = v.url("APIBaseURL", "https://api.example.com");
        let authorize = v.url("OAuthAuthorizationURL", "https://api.example.com/authorize");
        let token_url = v.url("OAuthAccessTokenURL", "https://api.example.com/token");
        let common = v.common(base, authorize, token_url);
        if scheme == "PRIVATEAPP" {
            v.require(
                token.is_some(),
                "PrivateAppToken",
                "when AuthScheme=PrivateApp",
            );
        }
        v.finish((scheme, common))
    }

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
        let err = validate(&cs("OAuthClinetId=abc")).unwrap_err();
        assert_eq!(
            err.problems,
            vec![Problem::UnknownProperty {
                name: "OAuthClinetId".into(),
                suggestion: Some("OAuthClientId")
            }]
        );
        assert_eq!(
            err.to_string(),
            "1 problem in the Test connection string:\n  - unknown property OAuthClinetId; did you mean OAuthClientId?"
        );
    }

    #[test]
    fn bad_enum_names_the_property_and_allowed_values() {
        let err = validate(&cs("AuthScheme=Basic")).unwrap_err();
        assert_eq!(
            err.problems[0].to_string(),
            "invalid value \"Basic\" for AuthScheme: expected one of OAuth, PrivateApp, PrivateAppToken"
        );
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let err = validate(&cs(
            "Timeout=soon;Verbosity=9;ProxyAutoDetect=maybe;APIBaseURL=http://api.example.com;Colour=red",
        ))
        .unwrap_err();
        assert_eq!(err.problems.len(), 5, "{err}");
    }

    #[test]
    fn keys_are_case_insensitive() {
        let (_, common) = validate(&cs(
            "oauthclientid=abc;INITIATEOAUTH=getandrefresh;callbackurl=http://localhost:33333",
        ))
        .unwrap();
        assert_eq!(common.oauth_client_id.as_deref(), Some("abc"));
        assert_eq!(common.initiate_oauth, InitiateOAuth::GetAndRefresh);
    }

    #[test]
    fn http_endpoints_are_refused_unless_loopback() {
        let err = validate(&cs("APIBaseURL=http://evil.example")).unwrap_err();
        assert_eq!(
            err.problems,
            vec![Problem::InsecureUrl {
                property: "APIBaseURL"
            }]
        );
        for host in ["127.0.0.1:8080", "localhost:1", "[::1]:9"] {
            validate(&cs(&format!("APIBaseURL=http://{host}"))).unwrap();
        }
    }

    #[test]
    fn source_rules_add_missing_properties() {
        let err = validate(&cs("AuthScheme=PrivateApp")).unwrap_err();
        assert_eq!(
            err.problems[0].to_string(),
            "PrivateAppToken is required when AuthScheme=PrivateApp"
        );
    }

    #[test]
    fn verifier_requires_settings_location_and_callback() {
        let err = validate(&cs("InitiateOAuth=REFRESH;OAuthVerifier=code")).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("OAuthSettingsLocation is required"), "{text}");
        assert!(text.contains("CallbackURL is required"), "{text}");
    }

    #[test]
    fn other_is_parsed_with_the_same_grammar() {
        let (_, common) = validate(&cs("Other='A=1;B=\"x;y\"'")).unwrap();
        assert_eq!(common.other.get("b"), Some("x;y"));
        let err = validate(&cs("Other=\"A='unterminated\"")).unwrap_err();
        assert!(err.to_string().contains("property Other"));
    }

    #[test]
    fn canaries_never_leak_from_config_debug_errors_or_resolve() {
        let text = canary_string("PrivateAppToken=CANARY-PAT-6;AuthScheme=PrivateApp");
        let config = validate(&cs(&text)).unwrap();
        assert_no_canary(&format!("{config:?}"));
        assert_no_canary(&format!("{config:#?}"));
        let bad = canary_string("Bogus=1;Verbosity=x;AuthScheme=Nope;Password=CANARY-PW-4");
        let err = validate(&cs(&bad)).unwrap_err();
        assert_no_canary(&err.to_string());
        assert_no_canary(&format!("{err:?}"));
        for row in resolve(&TEST, &cs(&text)) {
            assert_no_canary(row.shown_value.as_deref().unwrap_or(""));
        }
        let parsed = cs(&text);
        assert_no_canary(&format!("{parsed:?}"));
        assert_no_canary(&parsed.to_string());
    }
}
