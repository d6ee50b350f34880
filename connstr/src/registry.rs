//! Connection properties: their declaration ([`PropertyDef`]), the properties every source
//! shares ([`SHARED`]), and a source's whole set ([`Properties`]: its own, then the shared
//! ones it does not redefine).
//!
//! Names, groups, types and defaults follow CData's documentation
//! (`shared/reference/cdata-properties.md` §1.2); where CData's value is unverified the CData
//! convention is used and the description says so. Our own additions (the endpoint properties
//! and `OAuthSettingsPassphrase`) are marked "(ours)". A source crate declares its own
//! properties with [`PropertyDef::new`] and validates them with [`crate::validate::Validator`].
//!
//! ```
//! use connstr::registry::{Group, Properties, PropertyDef, PropertyType};
//! static OWN: &[PropertyDef] = &[PropertyDef::new(
//!     "Region", PropertyType::Enum(&["US", "EU"]), Some("US"), Group::Connection, "Where the account lives.",
//! )];
//! static EXAMPLE: Properties = Properties::new("Example", OWN);
//! assert_eq!(EXAMPLE.find("oauthclientid").unwrap().name, "OAuthClientId");
//! assert_eq!(EXAMPLE.suggest("Regoin"), Some("Region"));
//! assert!(EXAMPLE.find("PrivateAppToken").is_none());
//! ```

use std::fmt;

use crate::grammar::fold_key;

/// The type of a property's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PropertyType {
    /// Free text.
    String,
    /// An integer within an inclusive range.
    Int {
        /// Smallest accepted value.
        min: i64,
        /// Largest accepted value.
        max: i64,
    },
    /// `true`/`false` (also `yes`/`no`, `1`/`0`, `on`/`off`).
    Bool,
    /// One of a fixed set of values, compared case-insensitively.
    Enum(&'static [&'static str]),
    /// A file or directory path; `~` and `%APPDATA%` are expanded where it is used.
    Path,
    /// An absolute `http(s)` URL; `http` only for loopback hosts.
    Url,
    /// A secret: never displayed, logged or put in an error.
    Secret,
}

impl fmt::Display for PropertyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::String => f.write_str("string"),
            Self::Int { .. } => f.write_str("int"),
            Self::Bool => f.write_str("bool"),
            Self::Enum(_) => f.write_str("enum"),
            Self::Path => f.write_str("path"),
            Self::Url => f.write_str("url"),
            Self::Secret => f.write_str("secret"),
        }
    }
}

/// The CData group a property is listed under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Group {
    /// AuthScheme, User, Password, PrivateAppToken.
    Authentication,
    /// The OAuth properties.
    OAuth,
    /// Endpoints and region (ours).
    Connection,
    /// TLS.
    Ssl,
    /// Firewall / SOCKS.
    Firewall,
    /// HTTP proxy.
    Proxy,
    /// Log file and verbosity.
    Logging,
    /// Schema files and table selection.
    Schema,
    /// Everything else.
    Miscellaneous,
}

impl fmt::Display for Group {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Authentication => "Authentication",
            Self::OAuth => "OAuth",
            Self::Connection => "Connection",
            Self::Ssl => "SSL",
            Self::Firewall => "Firewall",
            Self::Proxy => "Proxy",
            Self::Logging => "Logging",
            Self::Schema => "Schema",
            Self::Miscellaneous => "Miscellaneous",
        })
    }
}

/// One connection property.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PropertyDef {
    /// CData's spelling.
    pub name: &'static str,
    /// Value type.
    pub ty: PropertyType,
    /// The default, as text; `None` when unset by default.
    pub default: Option<&'static str>,
    /// CData group.
    pub group: Group,
    /// What it does.
    pub description: &'static str,
    /// Whether the value must be masked everywhere.
    pub sensitive: bool,
}

impl PropertyDef {
    /// The allowed values of an enum property.
    pub fn allowed_values(&self) -> &'static [&'static str] {
        match self.ty {
            PropertyType::Enum(values) => values,
            _ => &[],
        }
    }
}

impl PropertyDef {
    /// A property; it is sensitive exactly when its type is [`PropertyType::Secret`].
    pub const fn new(
        name: &'static str,
        ty: PropertyType,
        default: Option<&'static str>,
        group: Group,
        description: &'static str,
    ) -> Self {
        let sensitive = matches!(ty, PropertyType::Secret);
        Self {
            name,
            ty,
            default,
            group,
            description,
            sensitive,
        }
    }
}

const fn prop(
    name: &'static str,
    ty: PropertyType,
    default: Option<&'static str>,
    group: Group,
    description: &'static str,
) -> PropertyDef {
    PropertyDef::new(name, ty, default, group, description)
}

use Group as G;
use PropertyType as T;

const PORT: PropertyType = T::Int { min: 0, max: 65535 };
const NON_NEGATIVE: PropertyType = T::Int {
    min: 0,
    max: i64::MAX,
};

/// Properties every source accepts (a source may redefine one, e.g. `AuthScheme`).
pub static SHARED: &[PropertyDef] = &[
    prop(
        "InitiateOAuth",
        T::Enum(&["OFF", "REFRESH", "GETANDREFRESH"]),
        Some("OFF"),
        G::OAuth,
        "OFF: use OAuthAccessToken as given. REFRESH: never prompt; use stored or given tokens, exchange OAuthVerifier, refresh automatically. GETANDREFRESH: as REFRESH, and run the login flow when there is no token.",
    ),
    prop(
        "OAuthClientId",
        T::String,
        None,
        G::OAuth,
        "Client id of the OAuth app.",
    ),
    prop(
        "OAuthClientSecret",
        T::Secret,
        None,
        G::OAuth,
        "Client secret of the OAuth app.",
    ),
    prop(
        "OAuthAccessToken",
        T::Secret,
        None,
        G::OAuth,
        "An access token obtained elsewhere (InitiateOAuth=OFF or REFRESH).",
    ),
    prop(
        "OAuthRefreshToken",
        T::Secret,
        None,
        G::OAuth,
        "A refresh token used to obtain new access tokens.",
    ),
    prop(
        "OAuthSettingsLocation",
        T::Path,
        None,
        G::OAuth,
        "Where OAuth values persist: a file (encrypted; ~ and %APPDATA% expanded) or memory://<id>. Default <config dir>/Connector/<Source> Data Provider/OAuthSettings.txt when a flow needs persistence.",
    ),
    prop(
        "OAuthSettingsPassphrase",
        T::Secret,
        None,
        G::OAuth,
        "(ours) Encrypt OAuthSettingsLocation with this passphrase instead of the per-user key file, so the file can be copied to another machine. Also read from CONNECTOR_SETTINGS_PASSPHRASE.",
    ),
    prop(
        "CallbackURL",
        T::String,
        None,
        G::OAuth,
        "The redirect URI registered with the OAuth app, sent exactly as given.",
    ),
    prop(
        "OAuthVerifier",
        T::Secret,
        None,
        G::OAuth,
        "The code from the OAuth callback (a bare code or the whole callback URL), exchanged on connect. Requires OAuthSettingsLocation and CallbackURL.",
    ),
    prop(
        "OAuthExpiresIn",
        T::Int {
            min: -1,
            max: i64::MAX,
        },
        None,
        G::OAuth,
        "Lifetime of OAuthAccessToken in seconds from OAuthTokenTimestamp; -1 never expires.",
    ),
    prop(
        "OAuthTokenTimestamp",
        NON_NEGATIVE,
        None,
        G::OAuth,
        "When OAuthAccessToken was issued, Unix epoch milliseconds.",
    ),
    prop(
        "Scope",
        T::String,
        None,
        G::OAuth,
        "Space-separated scopes to request instead of the source's defaults.",
    ),
    prop(
        "OAuthAuthorizationURL",
        T::Url,
        None,
        G::Connection,
        "(ours) The OAuth authorization endpoint; defaults to the real service.",
    ),
    prop(
        "OAuthAccessTokenURL",
        T::Url,
        None,
        G::Connection,
        "(ours) The OAuth token endpoint; defaults to the real service.",
    ),
    prop(
        "OAuthRevocationURL",
        T::Url,
        None,
        G::Connection,
        "(ours) The OAuth token revocation endpoint (RFC 7009) that logout uses; defaults to the real service's, where it has one.",
    ),
    prop(
        "SSLServerCert",
        T::String,
        None,
        G::Ssl,
        "The certificate to accept from the server: a PEM file path or PEM text, or * to accept any (testing only).",
    ),
    prop(
        "FirewallType",
        T::Enum(&["NONE", "TUNNEL", "SOCKS4", "SOCKS5"]),
        Some("NONE"),
        G::Firewall,
        "Proxy protocol of the firewall. Default ports: TUNNEL 80, SOCKS4/SOCKS5 1080.",
    ),
    prop(
        "FirewallServer",
        T::String,
        None,
        G::Firewall,
        "Host of the firewall.",
    ),
    prop(
        "FirewallPort",
        PORT,
        None,
        G::Firewall,
        "Port of the firewall.",
    ),
    prop(
        "FirewallUser",
        T::String,
        None,
        G::Firewall,
        "User for the firewall.",
    ),
    prop(
        "FirewallPassword",
        T::Secret,
        None,
        G::Firewall,
        "Password for the firewall.",
    ),
    prop(
        "ProxyAutoDetect",
        T::Bool,
        Some("false"),
        G::Proxy,
        "Use the system proxy settings (HTTPS_PROXY, HTTP_PROXY, NO_PROXY).",
    ),
    prop(
        "ProxyServer",
        T::String,
        None,
        G::Proxy,
        "Host of the HTTP proxy.",
    ),
    prop(
        "ProxyPort",
        PORT,
        Some("80"),
        G::Proxy,
        "Port of the HTTP proxy.",
    ),
    prop(
        "ProxyAuthScheme",
        T::Enum(&[
            "BASIC",
            "DIGEST",
            "NONE",
            "NEGOTIATE",
            "NTLM",
            "PROPRIETARY",
        ]),
        Some("BASIC"),
        G::Proxy,
        "Authentication to the proxy (CData convention; only BASIC and NONE are implemented).",
    ),
    prop(
        "ProxyUser",
        T::String,
        None,
        G::Proxy,
        "User for the proxy.",
    ),
    prop(
        "ProxyPassword",
        T::Secret,
        None,
        G::Proxy,
        "Password for the proxy.",
    ),
    prop(
        "ProxySSLType",
        T::Enum(&["AUTO", "ALWAYS", "NEVER", "TUNNEL"]),
        Some("AUTO"),
        G::Proxy,
        "How TLS goes through the proxy (CData convention).",
    ),
    prop(
        "ProxyExceptions",
        T::String,
        None,
        G::Proxy,
        "Semicolon-separated hosts that bypass the proxy.",
    ),
    prop(
        "Logfile",
        T::Path,
        None,
        G::Logging,
        "Write a log here; secrets are masked.",
    ),
    prop(
        "Verbosity",
        T::Int { min: 1, max: 5 },
        Some("1"),
        G::Logging,
        "1 queries and errors; 2 HTTP headers; 3 HTTP bodies; 4 transport; 5 everything.",
    ),
    prop(
        "LogModules",
        T::String,
        None,
        G::Logging,
        "Semicolon-separated modules to log; all by default.",
    ),
    prop(
        "MaxLogFileSize",
        T::String,
        Some("100MB"),
        G::Logging,
        "Size at which the log file rolls over (CData convention).",
    ),
    prop(
        "MaxLogFileCount",
        T::Int {
            min: -1,
            max: i64::MAX,
        },
        Some("-1"),
        G::Logging,
        "How many rolled log files to keep; -1 keeps all (CData convention).",
    ),
    prop(
        "Location",
        T::Path,
        None,
        G::Schema,
        "Directory of schema files.",
    ),
    prop(
        "BrowsableSchemas",
        T::String,
        None,
        G::Schema,
        "Comma-separated schemas to list.",
    ),
    prop(
        "Tables",
        T::String,
        None,
        G::Schema,
        "Comma-separated tables to list.",
    ),
    prop(
        "Views",
        T::String,
        None,
        G::Schema,
        "Comma-separated views to list.",
    ),
    prop(
        "MaxRows",
        T::Int {
            min: -1,
            max: i64::MAX,
        },
        Some("-1"),
        G::Miscellaneous,
        "Limit on rows returned by queries without aggregation; -1 for no limit. Takes precedence over LIMIT.",
    ),
    prop(
        "Other",
        T::String,
        None,
        G::Miscellaneous,
        "Hidden properties for specific cases, itself a connection string: Other=\"A=1;B=2\".",
    ),
    prop(
        "Pagesize",
        T::Int {
            min: 1,
            max: i64::MAX,
        },
        None,
        G::Miscellaneous,
        "Rows per page requested from the API; capped at the API's maximum (HubDB 1000 rows, Act-On 1000 records).",
    ),
    prop(
        "PseudoColumns",
        T::String,
        None,
        G::Miscellaneous,
        "Pseudo columns to expose as table columns.",
    ),
    prop(
        "RowScanDepth",
        NON_NEGATIVE,
        Some("100"),
        G::Miscellaneous,
        "Rows scanned to infer column types of dynamic tables (CData convention).",
    ),
    prop(
        "Timeout",
        NON_NEGATIVE,
        Some("60"),
        G::Miscellaneous,
        "Seconds for each request to the server; 0 disables the timeout.",
    ),
    prop(
        "TypeDetectionScheme",
        T::Enum(&["None", "RowScan"]),
        Some("RowScan"),
        G::Miscellaneous,
        "How column types of dynamic tables are found (CData convention).",
    ),
    prop(
        "UserDefinedViews",
        T::Path,
        None,
        G::Miscellaneous,
        "Path to a JSON file of view definitions.",
    ),
];

/// Every property one source accepts: its own, then the [`SHARED`] ones it does not redefine.
#[derive(Debug, Clone, Copy)]
pub struct Properties {
    /// The source's display name, used in messages (`HubDB`, `Act-On`).
    pub source: &'static str,
    /// The source's own properties.
    pub own: &'static [PropertyDef],
}

impl Properties {
    /// The set of `source` (a display name) with its `own` properties.
    pub const fn new(source: &'static str, own: &'static [PropertyDef]) -> Self {
        Self { source, own }
    }

    /// Every property, own ones first.
    pub fn iter(&self) -> impl Iterator<Item = &'static PropertyDef> + use<> {
        let own = self.own;
        own.iter().chain(
            SHARED
                .iter()
                .filter(move |p| !own.iter().any(|o| o.name == p.name)),
        )
    }

    /// The property `name` (case-insensitive).
    pub fn find(&self, name: &str) -> Option<&'static PropertyDef> {
        let folded = fold_key(name.trim());
        self.iter().find(|p| fold_key(p.name) == folded)
    }

    /// The known property nearest to an unknown `name`, if one is close enough to be a typo.
    pub fn suggest(&self, name: &str) -> Option<&'static str> {
        let folded = fold_key(name.trim());
        self.iter()
            .map(|p| {
                (
                    strsim::normalized_damerau_levenshtein(&folded, &fold_key(p.name)),
                    p.name,
                )
            })
            .filter(|(score, _)| *score >= 0.6)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, name)| name)
    }

    /// Whether `name` is sensitive; unknown names fall back to the grammar-level rule
    /// ([`crate::is_sensitive_key`]).
    pub fn is_sensitive(&self, name: &str) -> bool {
        match self.find(name) {
            Some(def) => def.sensitive,
            None => crate::is_sensitive_key(name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static OWN: &[PropertyDef] = &[
        PropertyDef::new(
            "AuthScheme",
            PropertyType::Enum(&["OAuth", "PrivateApp"]),
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
    ];
    static TEST: Properties = Properties::new("Test", OWN);

    #[test]
    fn names_are_unique_and_own_properties_come_first() {
        let mut names: Vec<String> = TEST.iter().map(|p| fold_key(p.name)).collect();
        assert_eq!(names[0], "authscheme");
        let count = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), count);
        assert_eq!(count, SHARED.len() + OWN.len());
    }

    #[test]
    fn every_secret_is_sensitive_and_defaults_are_valid_enum_values() {
        for p in TEST.iter() {
            assert_eq!(p.sensitive, p.ty == PropertyType::Secret, "{}", p.name);
            if let (PropertyType::Enum(values), Some(default)) = (p.ty, p.default) {
                assert!(values.contains(&default), "{}", p.name);
            }
        }
        assert!(TEST.is_sensitive("privateapptoken"));
        assert!(TEST.is_sensitive("SomeUnknownSecret"));
        assert!(!TEST.is_sensitive("Timeout"));
    }

    #[test]
    fn suggestions_catch_typos_but_not_nonsense() {
        assert_eq!(TEST.suggest("OAuthClinetId"), Some("OAuthClientId"));
        assert_eq!(TEST.suggest("privateapptokn"), Some("PrivateAppToken"));
        assert_eq!(TEST.suggest("Colour"), None);
    }
}
