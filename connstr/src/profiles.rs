//! Named connection profiles, like ODBC DSNs.
//!
//! A TOML file (default `<config dir>/Connector/profiles.toml`, or the path in
//! `CONNECTOR_PROFILES`) holds one table per profile: either a whole connection string, or a
//! table of properties. Environment variables override single properties:
//! `CONNECTOR_PROFILE_<NAME>_<PROPERTY>` (upper case, e.g. `CONNECTOR_PROFILE_WORK_OAUTHCLIENTID`).
//!
//! ```toml
//! [profiles.work]
//! source = "hubdb"
//! connection = "AuthScheme=PrivateApp;PrivateAppToken=pat-na1-…"
//!
//! [profiles.acton-eu]
//! source = "acton"
//! [profiles.acton-eu.properties]
//! AuthScheme = "OAuthPassword"
//! Region = "EU"
//! User = "me@example.com"
//! ```
//!
//! ```
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("profiles.toml");
//! std::fs::write(&path, "[profiles.demo]\nconnection = \"A=1;B='x;y'\"\n[profiles.demo.properties]\nC = \"3\"\n")?;
//! let profile = connstr::profiles::load_from(&path, "demo", &[])?;
//! assert_eq!(profile.connection.get("b"), Some("x;y"));
//! assert_eq!(profile.connection.get("C"), Some("3"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::grammar::ConnectionString;

/// Why a profile could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProfileError {
    /// The file could not be read or is not valid TOML of the expected shape.
    #[error("cannot read profiles file {path}: {message}")]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// No profile of that name.
    #[error("no profile named {name:?} in {path} (profiles there: {known})")]
    NotFound {
        /// The name asked for.
        name: String,
        /// The file.
        path: PathBuf,
        /// The names that exist, comma-separated.
        known: String,
    },
    /// The profile's connection string does not parse.
    #[error("profile {name:?} in {path}: {source}")]
    Syntax {
        /// The profile.
        name: String,
        /// The file.
        path: PathBuf,
        /// The syntax error (masked).
        source: crate::SyntaxError,
    },
    /// No config directory could be found for the default path.
    #[error("no user config directory; set CONNECTOR_PROFILES to the profiles file")]
    NoConfigDir,
}

/// A loaded profile.
#[derive(Debug, Clone)]
pub struct Profile {
    /// The profile's name.
    pub name: String,
    /// The source it declares (`source = "hubdb"`), as written; the `sources` list resolves it.
    pub source: Option<String>,
    /// Its properties.
    pub connection: ConnectionString,
}

#[derive(Debug, Deserialize)]
struct FileShape {
    #[serde(default)]
    profiles: BTreeMap<String, ProfileShape>,
}

#[derive(Debug, Deserialize)]
struct ProfileShape {
    source: Option<String>,
    connection: Option<String>,
    #[serde(default)]
    properties: BTreeMap<String, toml_value::Scalar>,
}

mod toml_value {
    use serde::Deserialize;

    /// A property value written as a TOML string, integer or boolean.
    #[derive(Debug, Deserialize)]
    #[serde(untagged)]
    pub(super) enum Scalar {
        Text(String),
        Int(i64),
        Bool(bool),
    }

    impl Scalar {
        pub(super) fn into_text(self) -> String {
            match self {
                Self::Text(s) => s,
                Self::Int(n) => n.to_string(),
                Self::Bool(b) => b.to_string(),
            }
        }
    }
}

/// The profiles file used when none is given: `$CONNECTOR_PROFILES`, else
/// `<config dir>/Connector/profiles.toml`.
pub fn default_path() -> Result<PathBuf, ProfileError> {
    if let Some(path) = std::env::var_os("CONNECTOR_PROFILES") {
        return Ok(PathBuf::from(path));
    }
    dirs::config_dir()
        .map(|d| d.join("Connector").join("profiles.toml"))
        .ok_or(ProfileError::NoConfigDir)
}

/// Loads profile `name` from the default file, with environment overrides.
pub fn load(name: &str) -> Result<Profile, ProfileError> {
    let env: Vec<(String, String)> = std::env::vars().collect();
    load_from(&default_path()?, name, &env)
}

/// Loads profile `name` from `path`; `env` holds `(variable, value)` pairs checked for
/// `CONNECTOR_PROFILE_<NAME>_<PROPERTY>` overrides.
pub fn load_from(
    path: &Path,
    name: &str,
    env: &[(String, String)],
) -> Result<Profile, ProfileError> {
    let file_error = |message: String| ProfileError::File {
        path: path.to_owned(),
        message,
    };
    let settings = config::Config::builder()
        .add_source(config::File::from(path).format(config::FileFormat::Toml))
        .build()
        .map_err(|e| file_error(e.to_string()))?;
    // `config` lower-cases keys; property names are case-insensitive, so nothing is lost, and
    // profile names are matched case-insensitively too.
    let shape: FileShape = settings
        .try_deserialize()
        .map_err(|e| file_error(e.to_string()))?;
    let wanted = name.to_lowercase();
    let (found_name, profile) = shape
        .profiles
        .into_iter()
        .find(|(n, _)| n.to_lowercase() == wanted)
        .ok_or_else(|| ProfileError::NotFound {
            name: name.to_owned(),
            path: path.to_owned(),
            known: "see the file".to_owned(),
        })?;
    let mut connection = match &profile.connection {
        Some(text) => ConnectionString::parse(text).map_err(|source| ProfileError::Syntax {
            name: found_name.clone(),
            path: path.to_owned(),
            source,
        })?,
        None => ConnectionString::new(),
    };
    for (key, value) in profile.properties {
        connection.set(key, value.into_text());
    }
    let prefix = format!(
        "CONNECTOR_PROFILE_{}_",
        found_name.to_uppercase().replace('-', "_")
    );
    for (variable, value) in env {
        if let Some(property) = variable.strip_prefix(&prefix) {
            connection.set(property.to_owned(), value.clone());
        }
    }
    Ok(Profile {
        name: found_name,
        source: profile.source.map(|s| s.trim().to_owned()),
        connection,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("profiles.toml");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    #[test]
    fn a_profile_can_be_a_table_of_properties_with_env_overrides() {
        let (_dir, path) = write(
            "[profiles.eu]\nsource = \"acton\"\n[profiles.eu.properties]\nRegion = \"EU\"\nTimeout = 30\nProxyAutoDetect = true\n",
        );
        let env = vec![(
            "CONNECTOR_PROFILE_EU_USER".to_owned(),
            "me@example.com".to_owned(),
        )];
        let profile = load_from(&path, "EU", &env).unwrap();
        assert_eq!(profile.source.as_deref(), Some("acton"));
        assert_eq!(profile.connection.get("region"), Some("EU"));
        assert_eq!(profile.connection.get("timeout"), Some("30"));
        assert_eq!(profile.connection.get("proxyautodetect"), Some("true"));
        assert_eq!(profile.connection.get("User"), Some("me@example.com"));
    }

    #[test]
    fn missing_profile_and_bad_syntax_are_clear_errors() {
        let (_dir, path) = write("[profiles.a]\nconnection = \"Password='open\"\n");
        let err = load_from(&path, "b", &[]).unwrap_err();
        assert!(err.to_string().contains("no profile named \"b\""), "{err}");
        let err = load_from(&path, "a", &[]).unwrap_err().to_string();
        assert!(err.contains("profile \"a\""), "{err}");
        assert!(!err.contains("open"), "{err}");
    }
}
