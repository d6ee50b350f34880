//! HubDB's connection properties and its typed configuration.
//!
//! ```
//! let cs: connstr::ConnectionString = "AuthScheme=PrivateApp;PrivateAppToken=pat-123".parse()?;
//! let config = source_hubdb::validate(&cs)?;
//! assert_eq!(config.auth_scheme, source_hubdb::HubDbAuthScheme::PrivateApp);
//! assert_eq!(format!("{:?}", config.private_app_token), "Some(Secret([redacted]))");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use connstr::registry::{Group, PropertyDef, PropertyType as T};
use connstr::{CommonConfig, ConnectionString, Properties, Secret, ValidationError, Validator};

/// The default HubSpot authorization endpoint.
pub const HUBSPOT_AUTHORIZATION_URL: &str = "https://app.hubspot.com/oauth/authorize";
/// The default HubSpot API base URL.
pub const HUBSPOT_API_BASE_URL: &str = "https://api.hubapi.com";

static OWN: &[PropertyDef] = &[
    PropertyDef::new(
        "AuthScheme",
        T::Enum(&["OAuth", "PrivateApp", "PrivateAppToken", "ServiceKey"]),
        Some("OAuth"),
        Group::Authentication,
        "OAuth: a public HubSpot app. PrivateApp (or PrivateAppToken): a legacy private app's static access token. ServiceKey: a service key, the private app's successor.",
    ),
    PropertyDef::new(
        "PrivateAppToken",
        T::Secret,
        None,
        Group::Authentication,
        "The private app's access token (OAuthAccessToken is accepted too when AuthScheme is a private app).",
    ),
    PropertyDef::new(
        "ServiceKey",
        T::Secret,
        None,
        Group::Authentication,
        "(ours) A HubSpot service key (Development > Keys > Service keys) for AuthScheme=ServiceKey; PrivateAppToken and OAuthAccessToken are accepted too.",
    ),
    PropertyDef::new(
        "APIVersion",
        T::Enum(&[API_VERSION_2026_03, API_VERSION_V3]),
        Some(API_VERSION_2026_03),
        Group::Connection,
        "(ours) The HubSpot API version every HubDB call uses: 2026-03 (date-versioned) or v3 (legacy paths, unsupported by HubSpot from September 2027). The OAuth token endpoint follows it.",
    ),
    PropertyDef::new(
        "APIBaseURL",
        T::Url,
        Some(HUBSPOT_API_BASE_URL),
        Group::Connection,
        "(ours) Base URL of the HubSpot API; the token endpoint defaults to {base}/oauth/{APIVersion}/token.",
    ),
];

/// `APIVersion=2026-03`: HubSpot's date-versioned paths (`/cms/hubdb/2026-03/…`).
pub const API_VERSION_2026_03: &str = "2026-03";
/// `APIVersion=v3`: HubSpot's legacy paths (`/cms/v3/hubdb/…`).
pub const API_VERSION_V3: &str = "v3";

/// The HubSpot API version of every HubDB call (`APIVersion`).
///
/// ```
/// use source_hubdb::ApiVersion;
/// assert_eq!(ApiVersion::default().hubdb_path(&["tables"]), ["cms", "hubdb", "2026-03", "tables"]);
/// assert_eq!(ApiVersion::V3.hubdb_path(&["tables"]), ["cms", "v3", "hubdb", "tables"]);
/// assert_eq!(ApiVersion::default().owners_path(), ["crm", "owners", "2026-03"]);
/// assert_eq!(ApiVersion::V3.token_path(), "/oauth/v3/token");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ApiVersion {
    /// `2026-03`, the date version HubSpot's own SDKs use.
    #[default]
    Date2026_03,
    /// `v3`, the legacy paths.
    V3,
}

impl ApiVersion {
    /// The path segments of a HubDB endpoint: the version's prefix, then `rest`.
    pub fn hubdb_path(self, rest: &[&str]) -> Vec<String> {
        let prefix: &[&str] = match self {
            Self::Date2026_03 => &["cms", "hubdb", API_VERSION_2026_03],
            Self::V3 => &["cms", "v3", "hubdb"],
        };
        prefix.iter().chain(rest).map(|s| (*s).to_owned()).collect()
    }

    /// The path of the CRM owners list (`GET`), which the `Owners` view reads.
    pub fn owners_path(self) -> Vec<String> {
        let path: &[&str] = match self {
            Self::Date2026_03 => &["crm", "owners", API_VERSION_2026_03],
            Self::V3 => &["crm", "v3", "owners"],
        };
        path.iter().map(|s| (*s).to_owned()).collect()
    }

    /// The OAuth token endpoint's path for this version.
    pub fn token_path(self) -> &'static str {
        match self {
            Self::Date2026_03 => "/oauth/2026-03/token",
            Self::V3 => "/oauth/v3/token",
        }
    }

    /// The OAuth revocation endpoint's path for this version.
    pub fn revocation_path(self) -> &'static str {
        match self {
            Self::Date2026_03 => "/oauth/2026-03/token/revoke",
            Self::V3 => "/oauth/v3/token/revoke",
        }
    }

    /// The OAuth introspection endpoint's path for this version.
    pub fn introspection_path(self) -> &'static str {
        match self {
            Self::Date2026_03 => "/oauth/2026-03/token/introspect",
            Self::V3 => "/oauth/v3/token/introspect",
        }
    }
}

impl std::fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Date2026_03 => API_VERSION_2026_03,
            Self::V3 => API_VERSION_V3,
        })
    }
}

/// Every property a HubDB connection accepts: its own, then the shared ones.
pub static PROPERTIES: Properties = Properties::new("HubDB", OWN);

/// HubDB `AuthScheme`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HubDbAuthScheme {
    /// A public HubSpot app.
    OAuth,
    /// A private app's static token (`PrivateApp` or `PrivateAppToken`).
    PrivateApp,
    /// A service key (`ServiceKey`): a static bearer token like a private app's.
    ServiceKey,
}

/// A validated HubDB configuration.
#[derive(Debug, Clone)]
pub struct HubDbConfig {
    /// `AuthScheme`.
    pub auth_scheme: HubDbAuthScheme,
    /// The static token of `PrivateApp` or `ServiceKey` (`ServiceKey`, `PrivateAppToken`, or
    /// `OAuthAccessToken` under those schemes).
    pub private_app_token: Option<Secret>,
    /// `APIVersion`: the paths of every HubDB call and the default token endpoint.
    pub api_version: ApiVersion,
    /// The shared properties.
    pub common: CommonConfig,
}

impl AsRef<CommonConfig> for HubDbConfig {
    fn as_ref(&self) -> &CommonConfig {
        &self.common
    }
}

impl AsMut<CommonConfig> for HubDbConfig {
    fn as_mut(&mut self) -> &mut CommonConfig {
        &mut self.common
    }
}

/// Validates a HubDB connection string, every problem at once.
pub fn validate(cs: &ConnectionString) -> Result<HubDbConfig, ValidationError> {
    let mut v = Validator::new(&PROPERTIES, cs);
    let auth_scheme = match v.enum_value("AuthScheme").as_deref() {
        Some("PRIVATEAPP" | "PRIVATEAPPTOKEN") => HubDbAuthScheme::PrivateApp,
        Some("SERVICEKEY") => HubDbAuthScheme::ServiceKey,
        _ => HubDbAuthScheme::OAuth,
    };
    let api_version = match v.enum_value("APIVersion").as_deref() {
        Some("V3") => ApiVersion::V3,
        _ => ApiVersion::Date2026_03,
    };
    let service_key = v.secret("ServiceKey");
    let explicit_token = v.secret("PrivateAppToken");
    let base = v.url("APIBaseURL", HUBSPOT_API_BASE_URL);
    let base_text = base.as_str().trim_end_matches('/').to_owned();
    let authorize = v.url("OAuthAuthorizationURL", HUBSPOT_AUTHORIZATION_URL);
    let token = v.url(
        "OAuthAccessTokenURL",
        &format!("{base_text}{}", api_version.token_path()),
    );
    let common = v.common(base, authorize, token);
    let private_app_token = match auth_scheme {
        // CData's HubSpot connector takes the private app token in OAuthAccessToken.
        HubDbAuthScheme::PrivateApp => explicit_token.or_else(|| common.oauth_access_token.clone()),
        // A service key is the same kind of bearer: accept it wherever a token may be given.
        HubDbAuthScheme::ServiceKey => service_key
            .or(explicit_token)
            .or_else(|| common.oauth_access_token.clone()),
        HubDbAuthScheme::OAuth => explicit_token,
    };
    match auth_scheme {
        HubDbAuthScheme::PrivateApp => v.require(
            private_app_token.is_some(),
            "PrivateAppToken",
            "when AuthScheme=PrivateApp (create a private app in HubSpot under Settings > Integrations > Private apps and copy its access token; new private apps can no longer be created: use AuthScheme=ServiceKey instead)",
        ),
        HubDbAuthScheme::ServiceKey => v.require(
            private_app_token.is_some(),
            "ServiceKey",
            "when AuthScheme=ServiceKey (create one in HubSpot under Development > Keys > Service keys, with the hubdb scope, and copy it)",
        ),
        HubDbAuthScheme::OAuth => {}
    }
    v.finish(HubDbConfig {
        auth_scheme,
        private_app_token,
        api_version,
        common,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cs(text: &str) -> ConnectionString {
        text.parse().unwrap()
    }

    #[test]
    fn bad_enum_names_the_property_and_allowed_values() {
        let err = validate(&cs("AuthScheme=Basic")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "1 problem in the HubDB connection string:\n  - invalid value \"Basic\" for AuthScheme: expected one of OAuth, PrivateApp, PrivateAppToken, ServiceKey"
        );
        let err = validate(&cs("APIVersion=v4")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "1 problem in the HubDB connection string:\n  - invalid value \"v4\" for APIVersion: expected one of 2026-03, v3"
        );
    }

    #[test]
    fn service_key_is_a_static_token_taken_from_any_token_property() {
        for text in [
            "AuthScheme=ServiceKey;ServiceKey=sk",
            "AuthScheme=ServiceKey;PrivateAppToken=sk",
            "AuthScheme=ServiceKey;OAuthAccessToken=sk",
        ] {
            let config = validate(&cs(text)).unwrap();
            assert_eq!(config.auth_scheme, HubDbAuthScheme::ServiceKey);
            assert_eq!(config.private_app_token.unwrap().expose(), "sk");
        }
        let err = validate(&cs("AuthScheme=ServiceKey")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "1 problem in the HubDB connection string:\n  - ServiceKey is required when AuthScheme=ServiceKey (create one in HubSpot under Development > Keys > Service keys, with the hubdb scope, and copy it)"
        );
    }

    #[test]
    fn private_app_token_is_accepted_in_oauth_access_token() {
        for text in [
            "AuthScheme=PrivateApp;PrivateAppToken=pat",
            "AuthScheme=PrivateAppToken;OAuthAccessToken=pat",
        ] {
            let config = validate(&cs(text)).unwrap();
            assert_eq!(config.auth_scheme, HubDbAuthScheme::PrivateApp);
            assert_eq!(config.private_app_token.unwrap().expose(), "pat");
        }
        let err = validate(&cs("AuthScheme=PrivateApp")).unwrap_err();
        assert!(err.to_string().contains("PrivateAppToken is required"));
    }

    #[test]
    fn endpoints_default_to_hubspot_and_follow_the_base_url() {
        let config = validate(&cs("")).unwrap();
        assert_eq!(config.api_version, ApiVersion::Date2026_03);
        assert_eq!(
            config.common.oauth_access_token_url.as_str(),
            "https://api.hubapi.com/oauth/2026-03/token"
        );
        let local = validate(&cs("APIBaseURL=http://127.0.0.1:9000/")).unwrap();
        assert_eq!(
            local.common.oauth_access_token_url.as_str(),
            "http://127.0.0.1:9000/oauth/2026-03/token"
        );
        let legacy = validate(&cs("APIVersion=V3")).unwrap();
        assert_eq!(legacy.api_version, ApiVersion::V3);
        assert_eq!(
            legacy.common.oauth_access_token_url.as_str(),
            "https://api.hubapi.com/oauth/v3/token"
        );
        assert!(PROPERTIES.find("Region").is_none());
    }
}
