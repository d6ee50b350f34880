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
        T::Enum(&["OAuth", "PrivateApp", "PrivateAppToken"]),
        Some("OAuth"),
        Group::Authentication,
        "OAuth: a public HubSpot app. PrivateApp (or PrivateAppToken): a private app's static access token.",
    ),
    PropertyDef::new(
        "PrivateAppToken",
        T::Secret,
        None,
        Group::Authentication,
        "The private app's access token (OAuthAccessToken is accepted too when AuthScheme is a private app).",
    ),
    PropertyDef::new(
        "APIBaseURL",
        T::Url,
        Some(HUBSPOT_API_BASE_URL),
        Group::Connection,
        "(ours) Base URL of the HubSpot API; the token endpoint defaults to {base}/oauth/v3/token.",
    ),
];

/// Every property a HubDB connection accepts: its own, then the shared ones.
pub static PROPERTIES: Properties = Properties::new("HubDB", OWN);

/// HubDB `AuthScheme`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HubDbAuthScheme {
    /// A public HubSpot app.
    OAuth,
    /// A private app's static token (`PrivateApp` or `PrivateAppToken`).
    PrivateApp,
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
        _ => HubDbAuthScheme::OAuth,
    };
    let explicit_token = v.secret("PrivateAppToken");
    let base = v.url("APIBaseURL", HUBSPOT_API_BASE_URL);
    let base_text = base.as_str().trim_end_matches('/').to_owned();
    let authorize = v.url("OAuthAuthorizationURL", HUBSPOT_AUTHORIZATION_URL);
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
            "1 problem in the HubDB connection string:\n  - invalid value \"Basic\" for AuthScheme: expected one of OAuth, PrivateApp, PrivateAppToken"
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
        assert_eq!(
            config.common.oauth_access_token_url.as_str(),
            "https://api.hubapi.com/oauth/v3/token"
        );
        let local = validate(&cs("APIBaseURL=http://127.0.0.1:9000/")).unwrap();
        assert_eq!(
            local.common.oauth_access_token_url.as_str(),
            "http://127.0.0.1:9000/oauth/v3/token"
        );
        assert!(PROPERTIES.find("Region").is_none());
    }
}
