//! HubDB's registration as a source: names, properties, auth, `connect`, procedures.

use std::sync::Arc;

use connstr::{ConnectionString, Properties, ValidationError};
use source_core::procedure::ProcedureSet;
use source_core::{DataSource, Result};
use source_plugin::oauth::OAuthProcedures;
use source_plugin::{AnySource, Auth, Source, SourceInfo, auth_error};

use crate::config::{self, HubDbConfig};
use crate::{HubDbSource, TableProcedures};

/// HubSpot HubDB as a registered source (`connector hubdb`, `connector.hubdb`).
#[derive(Debug, Clone, Copy)]
pub struct HubDb;

/// HubDB for the `sources` list.
pub const SOURCE: &dyn AnySource = &HubDb;

static INFO: SourceInfo = SourceInfo {
    name: "hubdb",
    display_name: "HubDB",
    aliases: &["hubspot-hubdb"],
    description: "HubSpot HubDB: published tables as views, drafts as writable tables, Owners.",
};

impl Source for HubDb {
    type Config = HubDbConfig;

    fn info(&self) -> &'static SourceInfo {
        &INFO
    }

    fn properties(&self) -> &'static Properties {
        &config::PROPERTIES
    }

    fn validate(&self, cs: &ConnectionString) -> Result<HubDbConfig, ValidationError> {
        config::validate(cs)
    }

    fn auth(&self, config: &HubDbConfig) -> Result<Auth> {
        Ok(match crate::private_app(config).map_err(auth_error)? {
            Some(provider) => Auth::Static {
                provider,
                note: "AuthScheme=PrivateApp uses a static private app token: nothing is stored, refreshed or revoked",
            },
            None => Auth::OAuth {
                provider: Box::new(crate::provider(config)),
                grant: auth_core::Grant::AuthorizationCode,
                common: Box::new(config.common.clone()),
            },
        })
    }

    fn connect(&self, config: &HubDbConfig) -> Result<Arc<dyn DataSource>> {
        let tokens = crate::token_provider(config).map_err(auth_error)?;
        Ok(Arc::new(HubDbSource::connect(config, tokens)?))
    }

    fn procedures(&self, config: &HubDbConfig) -> Result<Vec<Arc<dyn ProcedureSet>>> {
        Ok(vec![Arc::new(TableProcedures::new(config))])
    }

    /// Listed for every connection, private-app ones too (as CData does): they need only the
    /// OAuth app's client id and secret.
    fn oauth_procedures(&self, config: &HubDbConfig) -> Result<Option<OAuthProcedures>> {
        Ok(Some(OAuthProcedures::new(
            crate::provider(config),
            config.common.clone(),
            auth_core::Grant::AuthorizationCode,
        )))
    }
}
