//! Every connection property the Act-On and HubDB connectors accept, declared once.
//!
//! Names, groups, types and defaults follow CData's documentation
//! (`shared/reference/cdata-properties.md` §1.2); where CData's value is unverified the CData
//! convention is used and the description says so. Our own additions (the endpoint properties
//! and `OAuthSettingsPassphrase`) are marked "(ours)".
//!
//! ```
//! use connstr::{Source, registry};
//! let def = registry::find(Source::HubDb, "oauthclientid").unwrap();
//! assert_eq!(def.name, "OAuthClientId");
//! assert_eq!(registry::suggest(Source::HubDb, "OAuthClinetId"), Some("OAuthClientId"));
//! assert!(registry::find(Source::ActOn, "PrivateAppToken").is_none());
//! ```

use std::fmt;

use crate::grammar::fold_key;

/// Which connector a property set belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    /// Act-On (`cdata.acton`).
    ActOn,
    /// HubSpot HubDB (`cdata.hubdb`).
    HubDb,
}

impl Source {
    /// The short name used on the command line: `acton` or `hubdb`.
    pub fn cli_name(self) -> &'static str {
        match self {
            Self::ActOn => "acton",
            Self::HubDb => "hubdb",
        }
    }

    /// The display name used in paths and messages: `Act-On` or `HubDB`.
    pub fn display_name(self) -> &'static str {
        match self {
            Self::ActOn => "Act-On",
            Self::HubDb => "HubDB",
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.display_name())
    }
}

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

const fn prop(
    name: &'static str,
    ty: PropertyType,
    default: Option<&'static str>,
    group: Group,
    description: &'static str,
) -> PropertyDef {
    let sensitive = matches!(ty, PropertyType::Secret);
    PropertyDef {
        name,
        ty,
        default,
        group,
        description,
        sensitive,
    }
}

use Group as G;
use PropertyType as T;

const PORT: PropertyType = T::Int { min: 0, max: 65535 };
const NON_NEGATIVE: PropertyType = T::Int {
    min: 0,
    max: i64::MAX,
};

/// Properties both connectors accept.
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

/// Act-On's own properties.
pub static ACTON: &[PropertyDef] = &[
    prop(
        "AuthScheme",
        T::Enum(&["OAuth", "OAuthPassword"]),
        Some("OAuth"),
        G::Authentication,
        "OAuth: authorization-code flows. OAuthPassword: the password grant with User and Password.",
    ),
    prop(
        "User",
        T::String,
        None,
        G::Authentication,
        "Act-On user name (AuthScheme=OAuthPassword).",
    ),
    prop(
        "Password",
        T::Secret,
        None,
        G::Authentication,
        "Act-On password (AuthScheme=OAuthPassword); never stored.",
    ),
    prop(
        "Region",
        T::Enum(&["US", "EU"]),
        Some("US"),
        G::Connection,
        "(ours) US: https://api.actonsoftware.com; EU: https://api-eu.actonsoftware.com. APIBaseURL overrides it.",
    ),
    prop(
        "APIBaseURL",
        T::Url,
        Some("https://api.actonsoftware.com"),
        G::Connection,
        "(ours) Base URL of the Act-On API; OAuth endpoints default to {base}/authorize and {base}/token.",
    ),
];

/// HubDB's own properties.
pub static HUBDB: &[PropertyDef] = &[
    prop(
        "AuthScheme",
        T::Enum(&["OAuth", "PrivateApp", "PrivateAppToken"]),
        Some("OAuth"),
        G::Authentication,
        "OAuth: a public HubSpot app. PrivateApp (or PrivateAppToken): a private app's static access token.",
    ),
    prop(
        "PrivateAppToken",
        T::Secret,
        None,
        G::Authentication,
        "The private app's access token (OAuthAccessToken is accepted too when AuthScheme is a private app).",
    ),
    prop(
        "APIBaseURL",
        T::Url,
        Some("https://api.hubapi.com"),
        G::Connection,
        "(ours) Base URL of the HubSpot API; the token endpoint defaults to {base}/oauth/v3/token.",
    ),
];

/// The default HubSpot authorization endpoint.
pub const HUBSPOT_AUTHORIZATION_URL: &str = "https://app.hubspot.com/oauth/authorize";
/// The Act-On US base URL.
pub const ACTON_US_BASE_URL: &str = "https://api.actonsoftware.com";
/// The Act-On EU base URL.
pub const ACTON_EU_BASE_URL: &str = "https://api-eu.actonsoftware.com";

/// Every property `source` accepts: the shared ones, then its own.
pub fn properties(source: Source) -> impl Iterator<Item = &'static PropertyDef> {
    let own = match source {
        Source::ActOn => ACTON,
        Source::HubDb => HUBDB,
    };
    own.iter().chain(
        SHARED
            .iter()
            .filter(move |p| !own.iter().any(|o| o.name == p.name)),
    )
}

/// The property `name` (case-insensitive) of `source`.
pub fn find(source: Source, name: &str) -> Option<&'static PropertyDef> {
    let folded = fold_key(name.trim());
    properties(source).find(|p| fold_key(p.name) == folded)
}

/// The known property nearest to an unknown `name`, if one is close enough to be a typo.
pub fn suggest(source: Source, name: &str) -> Option<&'static str> {
    let folded = fold_key(name.trim());
    properties(source)
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

/// Whether `name` is a sensitive property of `source`; unknown names fall back to the
/// grammar-level rule ([`crate::is_sensitive_key`]).
pub fn is_sensitive(source: Source, name: &str) -> bool {
    match find(source, name) {
        Some(def) => def.sensitive,
        None => crate::is_sensitive_key(name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_per_source() {
        for source in [Source::ActOn, Source::HubDb] {
            let mut names: Vec<String> = properties(source).map(|p| fold_key(p.name)).collect();
            let count = names.len();
            names.sort();
            names.dedup();
            assert_eq!(names.len(), count, "{source}");
        }
    }

    #[test]
    fn every_secret_is_sensitive_and_defaults_are_valid_enum_values() {
        for p in properties(Source::ActOn).chain(properties(Source::HubDb)) {
            assert_eq!(p.sensitive, p.ty == PropertyType::Secret, "{}", p.name);
            if let (PropertyType::Enum(values), Some(default)) = (p.ty, p.default) {
                assert!(values.contains(&default), "{}", p.name);
            }
        }
    }

    #[test]
    fn suggestions_catch_typos_but_not_nonsense() {
        assert_eq!(
            suggest(Source::ActOn, "OAuthClinetId"),
            Some("OAuthClientId")
        );
        assert_eq!(
            suggest(Source::HubDb, "privateapptokn"),
            Some("PrivateAppToken")
        );
        assert_eq!(suggest(Source::HubDb, "Colour"), None);
    }
}
