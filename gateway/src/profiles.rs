//! Every profile of a profiles file (`connstr::profiles`), configured for its source.

use std::path::Path;

use connstr::profiles;
use serde::Deserialize;
use source_plugin::Connection;

use crate::error::{Error, Result};

#[derive(Deserialize)]
struct Names {
    #[serde(default)]
    profiles: toml::Table,
}

/// `(profile name, connection)` for every profile of `path`, in file order; each profile must
/// declare its source (`source = "hubdb"`). Environment overrides apply as for `--profile`.
pub(crate) fn connections(path: &Path) -> Result<Vec<(String, Connection)>> {
    let problem = |message: String| Error::Profiles {
        path: path.to_owned(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| problem(e.to_string()))?;
    // Only the names are read here; `connstr::profiles` reads each profile (and masks secrets).
    let names: Names = toml::from_str(&text).map_err(|e| problem(e.message().to_owned()))?;
    let env: Vec<(String, String)> = std::env::vars().collect();
    let mut out = Vec::new();
    for name in names.profiles.keys() {
        let profile = profiles::load_from(path, name, &env).map_err(|e| problem(e.to_string()))?;
        let declared = profile.source.as_deref().ok_or_else(|| {
            problem(format!(
                "profile {name:?} names no source; add source = \"hubdb\" (or another registered source) to it"
            ))
        })?;
        let source =
            sources::find(declared).map_err(|e| problem(format!("profile {name:?}: {e}")))?;
        let connection = source
            .configure(&profile.connection)
            .map_err(|e| problem(format!("profile {name:?}: {e}")))?;
        out.push((name.to_lowercase(), connection));
    }
    if out.is_empty() {
        return Err(Error::NoConnections);
    }
    Ok(out)
}
