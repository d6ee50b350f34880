//! Act-On's registration as a source: names, properties, auth, `connect`.

use std::sync::Arc;

use connstr::{ConnectionString, Properties, ValidationError};
use source_core::{DataSource, Result};
use source_plugin::{AnySource, Auth, Source, SourceInfo, auth_error};

use crate::ActOnSource;
use crate::config::{self, ActOnConfig};
use crate::procedures::ListProcedures;
use source_core::procedure::ProcedureSet;

/// Act-On as a registered source (`connector acton`, `connector.acton`).
#[derive(Debug, Clone, Copy)]
pub struct ActOn;

/// Act-On for the `sources` list.
pub const SOURCE: &dyn AnySource = &ActOn;

static INFO: SourceInfo = SourceInfo {
    name: "acton",
    display_name: "Act-On",
    aliases: &["act-on"],
    description: "Act-On: accounts, messages, programs, reports and contact lists as views.",
};

impl Source for ActOn {
    type Config = ActOnConfig;

    fn info(&self) -> &'static SourceInfo {
        &INFO
    }

    fn properties(&self) -> &'static Properties {
        &config::PROPERTIES
    }

    fn validate(&self, cs: &ConnectionString) -> Result<ActOnConfig, ValidationError> {
        config::validate(cs)
    }

    fn auth(&self, config: &ActOnConfig) -> Result<Auth> {
        let config = crate::with_embedded_app(config);
        Ok(Auth::OAuth {
            provider: Box::new(crate::provider(&config)),
            grant: crate::grant(&config),
            common: Box::new(config.common),
        })
    }

    fn connect(&self, config: &ActOnConfig) -> Result<Arc<dyn DataSource>> {
        let tokens = crate::token_provider(config).map_err(auth_error)?;
        Ok(Arc::new(ActOnSource::connect(config, tokens)?))
    }

    /// Record upsert and lookup, list create/merge/delete with upload status, opt-outs and
    /// subscriptions (see [`crate::procedures`]).
    fn procedures(&self, config: &ActOnConfig) -> Result<Vec<Arc<dyn ProcedureSet>>> {
        Ok(vec![Arc::new(ListProcedures::new(config))])
    }
}
