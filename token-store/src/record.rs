//! The stored OAuth values.

use std::collections::BTreeMap;

use connstr::Secret;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The OAuth values kept in `OAuthSettingsLocation`.
///
/// Secrets are [`Secret`]s (Debug prints `[redacted]`, zeroized on drop). The record is
/// serialized to JSON only inside the ciphertext of the settings file.
///
/// `revision` is maintained by the store: every save writes `max(revision, last seen) + 1`,
/// so it grows on each write and can be used to tell versions apart.
///
/// ```
/// use token_store::{Secret, TokenRecord};
/// let mut rec = TokenRecord::new("Act-On", "OAuth", Secret::new("at-value"));
/// rec.refresh_token = Some(Secret::new("rt-value"));
/// rec.set_expiry(1_700_000_000_000, Some(3600));
/// assert_eq!(rec.expires_at_ms, Some(1_700_003_600_000));
/// assert!(!format!("{rec:?}").contains("rt-value"));
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TokenRecord {
    /// Generation counter, set by the store on each save.
    #[serde(default)]
    pub revision: u64,
    /// The data source the tokens belong to ("Act-On", "HubDB").
    pub source: String,
    /// The auth scheme ("OAuth", "OAuthPassword", ...).
    pub auth_scheme: String,
    /// OAuthAccessToken.
    #[serde(with = "secret_serde")]
    pub access_token: Secret,
    /// OAuthRefreshToken, when the grant returned one.
    #[serde(default, with = "opt_secret_serde")]
    pub refresh_token: Option<Secret>,
    /// `token_type` of the token response (usually "Bearer").
    #[serde(default)]
    pub token_type: String,
    /// OAuthExpiresIn: seconds the access token was valid for when obtained.
    #[serde(default)]
    pub expires_in: Option<u64>,
    /// OAuthTokenTimestamp: when the token was obtained, Unix epoch milliseconds.
    #[serde(default)]
    pub obtained_at_ms: u64,
    /// Absolute expiry, Unix epoch milliseconds (`obtained_at_ms + expires_in * 1000`).
    #[serde(default)]
    pub expires_at_ms: Option<u64>,
    /// OAuthClientId the tokens were issued to.
    #[serde(default)]
    pub client_id: Option<String>,
    /// Granted scope.
    #[serde(default)]
    pub scope: Option<String>,
    /// Non-secret provider extras.
    #[serde(default)]
    pub extras: BTreeMap<String, String>,
    /// Secret provider extras (e.g. a pending PKCE verifier for the headless two-step flow).
    #[serde(default, with = "secret_map_serde")]
    pub secret_extras: BTreeMap<String, Secret>,
}

impl TokenRecord {
    /// A record with the given source, scheme and access token; everything else empty.
    pub fn new(
        source: impl Into<String>,
        auth_scheme: impl Into<String>,
        access_token: Secret,
    ) -> Self {
        TokenRecord {
            revision: 0,
            source: source.into(),
            auth_scheme: auth_scheme.into(),
            access_token,
            refresh_token: None,
            token_type: "Bearer".to_owned(),
            expires_in: None,
            obtained_at_ms: 0,
            expires_at_ms: None,
            client_id: None,
            scope: None,
            extras: BTreeMap::new(),
            secret_extras: BTreeMap::new(),
        }
    }

    /// Sets `obtained_at_ms`, `expires_in` and the absolute `expires_at_ms` together.
    pub fn set_expiry(&mut self, obtained_at_ms: u64, expires_in: Option<u64>) {
        self.obtained_at_ms = obtained_at_ms;
        self.expires_in = expires_in;
        self.expires_at_ms =
            expires_in.map(|s| obtained_at_ms.saturating_add(s.saturating_mul(1000)));
    }
}

mod secret_serde {
    use super::*;

    pub(super) fn serialize<S: Serializer>(s: &Secret, ser: S) -> Result<S::Ok, S::Error> {
        ser.serialize_str(s.expose())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(de: D) -> Result<Secret, D::Error> {
        String::deserialize(de).map(Secret::from)
    }
}

mod opt_secret_serde {
    use super::*;

    pub(super) fn serialize<S: Serializer>(s: &Option<Secret>, ser: S) -> Result<S::Ok, S::Error> {
        match s {
            Some(s) => ser.serialize_some(s.expose()),
            None => ser.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        de: D,
    ) -> Result<Option<Secret>, D::Error> {
        Option::<String>::deserialize(de).map(|o| o.map(Secret::from))
    }
}

mod secret_map_serde {
    use serde::ser::SerializeMap;

    use super::*;

    pub(super) fn serialize<S: Serializer>(
        m: &BTreeMap<String, Secret>,
        ser: S,
    ) -> Result<S::Ok, S::Error> {
        let mut map = ser.serialize_map(Some(m.len()))?;
        for (k, v) in m {
            map.serialize_entry(k, v.expose())?;
        }
        map.end()
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        de: D,
    ) -> Result<BTreeMap<String, Secret>, D::Error> {
        BTreeMap::<String, String>::deserialize(de)
            .map(|m| m.into_iter().map(|(k, v)| (k, Secret::from(v))).collect())
    }
}
