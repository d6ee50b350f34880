//! `OAuthSettingsLocation` values and default paths.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::key::KEY_FILE_ENV;

/// The product directory name under the user's config directory.
pub const PRODUCT: &str = "Connector";
/// The settings file name CData uses.
pub const SETTINGS_FILE_NAME: &str = "OAuthSettings.txt";
const MEMORY_SCHEME: &str = "memory://";

/// Where OAuth settings live: a file, or process memory shared by id.
///
/// ```
/// use std::path::PathBuf;
/// use token_store::Location;
/// assert_eq!(Location::parse("memory://acton-1").unwrap(), Location::Memory("acton-1".into()));
/// assert_eq!(
///     Location::parse("/var/lib/app/OAuthSettings.txt").unwrap(),
///     Location::File(PathBuf::from("/var/lib/app/OAuthSettings.txt"))
/// );
/// assert!(Location::parse("memory://").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Location {
    /// An encrypted settings file.
    File(PathBuf),
    /// `memory://<id>`: process-wide, shared by every connection naming the same id.
    Memory(String),
}

impl Location {
    /// Parses an `OAuthSettingsLocation` value.
    ///
    /// `memory://<id>` selects the memory backend. Anything else is a file path: a leading
    /// `~` is the home directory and `%APPDATA%` (any case) is the `APPDATA` variable on
    /// Windows and the user's config directory elsewhere (`~/.config` on Linux,
    /// `~/Library/Application Support` on macOS), as CData does.
    pub fn parse(value: &str) -> Result<Location> {
        parse_with(value, &Dirs::system())
    }

    /// The CData default for a data source (`"Act-On"` or `"HubDB"`):
    /// `<config dir>/Connector/<source> Data Provider/OAuthSettings.txt`.
    pub fn default_for_source(source: &str) -> Result<Location> {
        default_settings_path(source)
            .map(Location::File)
            .ok_or(Error::InvalidLocation {
                location: String::new(),
                reason: "no user config directory is known; set OAuthSettingsLocation explicitly",
            })
    }

    /// The file path, for the file backend.
    pub fn as_path(&self) -> Option<&Path> {
        match self {
            Location::File(p) => Some(p),
            Location::Memory(_) => None,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::File(p) => write!(f, "{}", p.display()),
            Location::Memory(id) => write!(f, "{MEMORY_SCHEME}{id}"),
        }
    }
}

/// The default settings file for a data source display name (e.g. `"Act-On"`, `"HubDB"`):
/// `<config dir>/Connector/<source> Data Provider/OAuthSettings.txt`.
///
/// ```
/// if let Some(p) = token_store::default_settings_path("HubDB") {
///     assert!(p.ends_with("Connector/HubDB Data Provider/OAuthSettings.txt"));
/// }
/// ```
pub fn default_settings_path(source: &str) -> Option<PathBuf> {
    dirs::config_dir().map(|d| {
        d.join(PRODUCT)
            .join(format!("{source} Data Provider"))
            .join(SETTINGS_FILE_NAME)
    })
}

/// The per-user key file: `CONNECTOR_KEY_FILE` when set, else
/// `<config dir>/Connector/keys/settings.key`.
pub fn default_key_file_path() -> Option<PathBuf> {
    match std::env::var_os(KEY_FILE_ENV) {
        Some(p) if !p.is_empty() => Some(PathBuf::from(p)),
        _ => dirs::config_dir().map(|d| d.join(PRODUCT).join("keys").join("settings.key")),
    }
}

/// The directories used for expansion (injected so tests never read the real home).
pub(crate) struct Dirs {
    pub(crate) home: Option<PathBuf>,
    pub(crate) appdata: Option<PathBuf>,
}

impl Dirs {
    fn system() -> Dirs {
        let appdata = if cfg!(windows) {
            std::env::var_os("APPDATA")
                .map(PathBuf::from)
                .or_else(dirs::config_dir)
        } else {
            dirs::config_dir()
        };
        Dirs {
            home: dirs::home_dir(),
            appdata,
        }
    }
}

pub(crate) fn parse_with(value: &str, dirs: &Dirs) -> Result<Location> {
    let invalid = |reason| Error::InvalidLocation {
        location: value.to_owned(),
        reason,
    };
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(invalid("empty"));
    }
    if trimmed.len() >= MEMORY_SCHEME.len()
        && trimmed[..MEMORY_SCHEME.len()].eq_ignore_ascii_case(MEMORY_SCHEME)
    {
        let id = &trimmed[MEMORY_SCHEME.len()..];
        if id.is_empty() {
            return Err(invalid("memory:// needs an id, e.g. memory://acton"));
        }
        return Ok(Location::Memory(id.to_owned()));
    }
    if let Some((scheme, _)) = trimmed.split_once("://")
        && scheme.len() > 1
        && scheme.chars().all(|c| c.is_ascii_alphanumeric())
    {
        return Err(invalid(
            "unsupported scheme: use a file path or memory://<id>",
        ));
    }

    let mut path = trimmed.to_owned();
    const APPDATA: &str = "%APPDATA%";
    while let Some(i) = path.to_ascii_uppercase().find(APPDATA) {
        let dir = dirs
            .appdata
            .as_ref()
            .ok_or_else(|| invalid("%APPDATA% is not known on this system"))?;
        path.replace_range(i..i + APPDATA.len(), &dir.to_string_lossy());
    }
    if path == "~" || path.starts_with("~/") || path.starts_with("~\\") {
        let home = dirs
            .home
            .as_ref()
            .ok_or_else(|| invalid("the home directory (~) is not known"))?;
        let rest = path[1..].trim_start_matches(['/', '\\']);
        return Ok(Location::File(if rest.is_empty() {
            home.clone()
        } else {
            home.join(rest)
        }));
    }
    Ok(Location::File(PathBuf::from(path)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dirs() -> Dirs {
        Dirs {
            home: Some(PathBuf::from("/home/u")),
            appdata: Some(PathBuf::from("/home/u/.config")),
        }
    }

    #[test]
    fn expands_tilde_and_appdata() {
        let d = dirs();
        assert_eq!(
            parse_with("~/a/b.txt", &d).unwrap(),
            Location::File("/home/u/a/b.txt".into())
        );
        assert_eq!(
            parse_with("%APPDATA%/CData/x.txt", &d).unwrap(),
            Location::File("/home/u/.config/CData/x.txt".into())
        );
        assert_eq!(
            parse_with("%appdata%/x", &d).unwrap(),
            Location::File("/home/u/.config/x".into())
        );
        assert_eq!(
            parse_with("rel/x.txt", &d).unwrap(),
            Location::File("rel/x.txt".into())
        );
        assert_eq!(
            parse_with("~user/x", &d).unwrap(),
            Location::File("~user/x".into())
        );
    }

    #[test]
    fn memory_and_invalid_locations() {
        let d = dirs();
        assert_eq!(
            parse_with("memory://x", &d).unwrap(),
            Location::Memory("x".into())
        );
        assert_eq!(
            parse_with("MEMORY://x", &d).unwrap(),
            Location::Memory("x".into())
        );
        assert!(matches!(
            parse_with("", &d),
            Err(Error::InvalidLocation { .. })
        ));
        assert!(matches!(
            parse_with("memory://", &d),
            Err(Error::InvalidLocation { .. })
        ));
        assert!(matches!(
            parse_with("registry://DSN", &d),
            Err(Error::InvalidLocation { .. })
        ));
        let none = Dirs {
            home: None,
            appdata: None,
        };
        assert!(matches!(
            parse_with("~/x", &none),
            Err(Error::InvalidLocation { .. })
        ));
        // A Windows drive path is not a scheme.
        assert!(parse_with("C:\\Users\\u\\x.txt", &d).is_ok());
    }

    #[test]
    fn default_paths_follow_the_cdata_layout() {
        match default_settings_path("Act-On") {
            Some(p) => {
                assert!(
                    p.ends_with("Connector/Act-On Data Provider/OAuthSettings.txt"),
                    "{}",
                    p.display()
                );
                let config = dirs::config_dir().expect("the path came from the config dir");
                assert!(
                    p.starts_with(&config),
                    "{} under {}",
                    p.display(),
                    config.display()
                );
            }
            // Only a machine with no home directory has no config directory; then there is no
            // default, which `default_for_source` reports. Anything else is a bug.
            None => {
                assert!(
                    dirs::home_dir().is_none(),
                    "a home directory exists but no default settings path was derived"
                );
                eprintln!(
                    "SKIPPED the layout check of default_paths_follow_the_cdata_layout: this machine has no home or config directory"
                );
                assert!(matches!(
                    Location::default_for_source("Act-On"),
                    Err(Error::InvalidLocation { .. })
                ));
            }
        }
    }

    #[test]
    fn the_default_key_file_lives_beside_the_settings_in_the_product_directory() {
        // CONNECTOR_KEY_FILE, when the environment of the test run sets it, wins by design.
        if std::env::var_os(KEY_FILE_ENV).is_some_and(|v| !v.is_empty()) {
            eprintln!(
                "SKIPPED the_default_key_file_lives_beside_the_settings_in_the_product_directory: {KEY_FILE_ENV} is set in this environment"
            );
            return;
        }
        match (default_key_file_path(), dirs::config_dir()) {
            (Some(key), Some(config)) => {
                assert_eq!(key, config.join(PRODUCT).join("keys").join("settings.key"));
            }
            (None, None) => eprintln!(
                "SKIPPED the_default_key_file_lives_beside_the_settings_in_the_product_directory: this machine has no config directory"
            ),
            (key, config) => panic!("key file {key:?} but config directory {config:?}"),
        }
    }
}
