//! The registration as a source: names, properties, auth, `connect`, procedures. This is all
//! the CLI, Python and SQL layers know of the crate (through `sources::ALL`).

use std::sync::Arc;

use connstr::{ConnectionString, Properties, ValidationError};
use source_core::procedure::ProcedureSet;
use source_core::{DataSource, Result};
use source_plugin::{AnySource, Auth, Source, SourceInfo};

use crate::config::{self, FilesConfig};
use crate::{FilesProcedures, FilesSource};

/// A folder of CSV files as a registered source (`connector files`, `connector.files`, SQL
/// schema `files`).
#[derive(Debug, Clone, Copy)]
pub struct Files;

/// The Files source, for the `sources` list (its build script names `source_files::SOURCE`).
pub const SOURCE: &dyn AnySource = &Files;

static INFO: SourceInfo = SourceInfo {
    name: "files",
    display_name: "Files",
    aliases: &["csv"],
    description: "A folder of CSV files, one table per file.",
};

impl Source for Files {
    type Config = FilesConfig;

    fn info(&self) -> &'static SourceInfo {
        &INFO
    }

    fn properties(&self) -> &'static Properties {
        &config::PROPERTIES
    }

    fn validate(&self, cs: &ConnectionString) -> Result<FilesConfig, ValidationError> {
        config::validate(cs)
    }

    // Local files: nothing to authenticate, so no token provider, login or OAuth procedures.
    fn auth(&self, _config: &FilesConfig) -> Result<Auth> {
        Ok(Auth::None)
    }

    fn connect(&self, config: &FilesConfig) -> Result<Arc<dyn DataSource>> {
        Ok(Arc::new(FilesSource::connect(config)?))
    }

    fn procedures(&self, config: &FilesConfig) -> Result<Vec<Arc<dyn ProcedureSet>>> {
        Ok(vec![Arc::new(FilesProcedures::new(config))])
    }
}
