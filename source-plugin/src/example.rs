//! The smallest [`Source`]: the in-memory `colours` table of
//! [`MemorySource::example`](source_core::memory::MemorySource::example), for docs and tests
//! of the layers above. The template to copy for a real source is `source-files`.

use std::sync::Arc;

use connstr::registry::{Group, PropertyDef, PropertyType};
use connstr::{CommonConfig, ConnectionString, Properties, Validator};
use source_core::memory::MemorySource;
use source_core::{DataSource, Result};

use crate::{Auth, Source, SourceInfo};

/// The example source (`example`).
#[derive(Debug, Clone, Copy)]
pub struct Example;

static INFO: SourceInfo = SourceInfo {
    name: "example",
    display_name: "Example",
    aliases: &[],
    description: "An in-memory table, for documentation and tests.",
};

static OWN: &[PropertyDef] = &[PropertyDef::new(
    "Rows",
    PropertyType::Int { min: 0, max: 1000 },
    Some("10"),
    Group::Miscellaneous,
    "Accepted and validated; the example table has a fixed size.",
)];

static PROPERTIES: Properties = Properties::new("Example", OWN);

/// The example's configuration.
#[derive(Debug, Clone)]
pub struct ExampleConfig {
    /// `Rows`.
    pub rows: i64,
    /// The shared properties.
    pub common: CommonConfig,
}

impl AsRef<CommonConfig> for ExampleConfig {
    fn as_ref(&self) -> &CommonConfig {
        &self.common
    }
}

impl AsMut<CommonConfig> for ExampleConfig {
    fn as_mut(&mut self) -> &mut CommonConfig {
        &mut self.common
    }
}

impl Source for Example {
    type Config = ExampleConfig;

    fn info(&self) -> &'static SourceInfo {
        &INFO
    }

    fn properties(&self) -> &'static Properties {
        &PROPERTIES
    }

    fn validate(&self, cs: &ConnectionString) -> Result<ExampleConfig, connstr::ValidationError> {
        let mut v = Validator::new(&PROPERTIES, cs);
        let rows = v.int("Rows").unwrap_or(10);
        let common = v.common_local();
        v.finish(ExampleConfig { rows, common })
    }

    fn auth(&self, _config: &ExampleConfig) -> Result<Auth> {
        Ok(Auth::None)
    }

    fn connect(&self, _config: &ExampleConfig) -> Result<Arc<dyn DataSource>> {
        Ok(Arc::new(MemorySource::example()))
    }
}
