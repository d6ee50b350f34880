//! Building sources, procedure registries and SQL sessions from a connection string.
//!
//! The same steps as the CLI's `data::open_source`, `data::registry` and
//! `sqlcmd::open_session`, with errors kept typed for the PEP 249 mapping
//! instead of turned into exit codes.

use std::sync::Arc;

use connstr::validate;
use connstr::{ConnectionString, Source};
use source_core::DataSource;

use crate::errors::DbError;

/// The `procedures` registry of a connection string (validates it; no network).
pub(crate) fn registry(
    source: Source,
    cs: &ConnectionString,
) -> Result<procedures::Registry, DbError> {
    Ok(match source {
        Source::ActOn => procedures::Registry::acton(&validate::acton(cs)?)?,
        Source::HubDb => procedures::Registry::hubdb(&validate::hubdb(cs)?)?,
    })
}

/// The data source of a connection string (builds the token provider; no request yet).
///
/// `MaxRows` is left to the SQL session (as in the CLI): a source that stopped its scans
/// at `MaxRows` would make `COUNT(*)` and other aggregates wrong.
pub(crate) fn source(
    source: Source,
    cs: &ConnectionString,
) -> Result<Arc<dyn DataSource>, DbError> {
    match source {
        Source::HubDb => {
            let mut config = validate::hubdb(cs)?;
            config.common.max_rows = None;
            let tokens = source_hubdb::token_provider(&config)?;
            let src = source_hubdb::HubDbSource::connect(&config, tokens)?;
            Ok(Arc::new(src))
        }
        Source::ActOn => {
            let mut config = validate::acton(cs)?;
            config.common.max_rows = None;
            let tokens = source_acton::token_provider(&config)?;
            let src = source_acton::ActOnSource::connect(&config, tokens)?;
            Ok(Arc::new(src))
        }
    }
}

/// A session with only the connection's procedures: `EXEC` runs here, so the OAuth
/// procedures work before there is any token.
pub(crate) fn procedure_session(source: Source, registry: procedures::Registry) -> sql::Session {
    let mut session = sql::Session::new();
    session.register_procedures(
        source.cli_name(),
        Arc::new(sql::RegistryProcedures(registry)),
    );
    session
}

/// A session with the connection's tables (reads the table list: authenticates) and
/// procedures.
pub(crate) async fn data_session(
    source: Source,
    cs: &ConnectionString,
) -> Result<sql::Session, DbError> {
    let data_source = self::source(source, cs)?;
    let mut session = sql::Session::new();
    session
        .register_source(
            source.cli_name(),
            data_source,
            sql::SessionOptions::from_connection(source, cs),
        )
        .await?;
    session.register_procedures(
        source.cli_name(),
        Arc::new(sql::RegistryProcedures(registry(source, cs)?)),
    );
    Ok(session)
}
