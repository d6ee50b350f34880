//! Act-On's connection properties and its typed configuration.
//!
//! ```
//! let cs: connstr::ConnectionString = "Region=EU".parse()?;
//! let config = source_acton::validate(&cs)?;
//! assert_eq!(config.region, source_acton::ActOnRegion::Eu);
//! assert_eq!(config.common.oauth_access_token_url.as_str(), "https://api-eu.actonsoftware.com/token");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use connstr::registry::{Group, PropertyDef, PropertyType as T};
use connstr::{CommonConfig, ConnectionString, Properties, Secret, ValidationError, Validator};

/// The Act-On US base URL.
pub const ACTON_US_BASE_URL: &str = "https://api.actonsoftware.com";
/// The Act-On EU base URL.
pub const ACTON_EU_BASE_URL: &str = "https://api-eu.actonsoftware.com";

static OWN: &[PropertyDef] = &[
    PropertyDef::new(
        "AuthScheme",
        T::Enum(&["OAuth", "OAuthPassword"]),
        Some("OAuth"),
        Group::Authentication,
        "OAuth: authorization-code flows. OAuthPassword: the password grant with User and Password.",
    ),
    PropertyDef::new(
        "User",
        T::String,
        None,
        Group::Authentication,
        "Act-On user name (AuthScheme=OAuthPassword).",
    ),
    PropertyDef::new(
        "Password",
        T::Secret,
        None,
        Group::Authentication,
        "Act-On password (AuthScheme=OAuthPassword); never stored.",
    ),
    PropertyDef::new(
        "Region",
        T::Enum(&["US", "EU"]),
        Some("US"),
        Group::Connection,
        "(ours) US: https://api.actonsoftware.com; EU: https://api-eu.actonsoftware.com. APIBaseURL overrides it.",
    ),
    PropertyDef::new(
        "APIBaseURL",
        T::Url,
        Some(ACTON_US_BASE_URL),
        Group::Connection,
        "(ours) Base URL of the Act-On API; OAuth endpoints default to {base}/authorize and {base}/token.",
    ),
];

/// Every property an Act-On connection accepts: its own, then the shared ones.
pub static PROPERTIES: Properties = Properties::new("Act-On", OWN);

/// Act-On `AuthScheme`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActOnAuthScheme {
    /// Authorization-code flows.
    OAuth,
    /// The password grant.
    OAuthPassword,
}

/// Act-On `Region`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActOnRegion {
    /// `https://api.actonsoftware.com`.
    Us,
    /// `https://api-eu.actonsoftware.com`.
    Eu,
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

impl AsRef<CommonConfig> for ActOnConfig {
    fn as_ref(&self) -> &CommonConfig {
        &self.common
    }
}

impl AsMut<CommonConfig> for ActOnConfig {
    fn as_mut(&mut self) -> &mut CommonConfig {
        &mut self.common
    }
}

/// Validates an Act-On connection string, every problem at once.
pub fn validate(cs: &ConnectionString) -> Result<ActOnConfig, ValidationError> {
    let mut v = Validator::new(&PROPERTIES, cs);
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
        ActOnRegion::Us => ACTON_US_BASE_URL,
        ActOnRegion::Eu => ACTON_EU_BASE_URL,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn cs(text: &str) -> ConnectionString {
        text.parse().unwrap()
    }

    #[test]
    fn unknown_property_names_the_nearest_known_one() {
        let err = validate(&cs("AuthScheme=OAuthPassword;User=me;Pasword=x")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "4 problems in the Act-On connection string:\n  - unknown property Pasword; did you mean Password?\n  - Password is required when AuthScheme=OAuthPassword\n  - OAuthClientId is required when AuthScheme=OAuthPassword\n  - OAuthClientSecret is required when AuthScheme=OAuthPassword"
        );
    }

    #[test]
    fn region_and_base_url_set_the_oauth_endpoints() {
        let eu = validate(&cs("Region=EU")).unwrap();
        assert_eq!(
            eu.common.oauth_access_token_url.as_str(),
            "https://api-eu.actonsoftware.com/token"
        );
        let local = validate(&cs("Region=EU;APIBaseURL=http://127.0.0.1:9000")).unwrap();
        assert_eq!(
            local.common.oauth_authorization_url.as_str(),
            "http://127.0.0.1:9000/authorize"
        );
        assert!(PROPERTIES.find("PrivateAppToken").is_none());
    }
}
