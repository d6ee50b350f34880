//! Building sources, procedure registries and SQL sessions from a connection string.
//!
//! The same steps as the CLI's `data::open_source`, `data::registry` and
//! `sqlcmd::open_session` / `RegistryRunner`, with errors kept typed for the PEP 249 mapping
//! instead of turned into exit codes.

use std::sync::Arc;

use arrow_schema::DataType;
use connstr::validate;
use connstr::{ConnectionString, Source};
use source_core::{BoxFuture, DataSource, ParameterInfo, ProcedureInfo, RecordBatchStream};

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
pub(crate) fn source(
    source: Source,
    cs: &ConnectionString,
) -> Result<Arc<dyn DataSource>, DbError> {
    match source {
        Source::HubDb => {
            let config = validate::hubdb(cs)?;
            let tokens = source_hubdb::token_provider(&config)?;
            let src = source_hubdb::HubDbSource::connect(&config, tokens)?;
            Ok(Arc::new(src))
        }
        Source::ActOn => {
            let config = validate::acton(cs)?;
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
    session.register_procedures(source.cli_name(), Arc::new(RegistryRunner(registry)));
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
        Arc::new(RegistryRunner(registry(source, cs)?)),
    );
    Ok(session)
}

/// The `procedures` registry as the SQL session's procedure runner (`EXEC`,
/// `sys_procedures`). A copy of the CLI's adapter.
#[derive(Debug)]
struct RegistryRunner(procedures::Registry);

impl sql::ProcedureRunner for RegistryRunner {
    fn procedures(&self) -> Vec<ProcedureInfo> {
        self.0
            .definitions()
            .into_iter()
            .map(|d| ProcedureInfo {
                name: d.name.to_owned(),
                description: d.description.to_owned(),
                parameters: d
                    .inputs
                    .iter()
                    .map(|i| ParameterInfo {
                        name: i.name.to_owned(),
                        data_type: match i.ty {
                            procedures::ParamType::Int => DataType::Int64,
                            procedures::ParamType::Bool => DataType::Boolean,
                            procedures::ParamType::String => DataType::Utf8,
                        },
                        required: i.required,
                        description: i.description.to_owned(),
                    })
                    .collect(),
            })
            .collect()
    }

    fn execute<'a>(
        &'a self,
        name: &'a str,
        args: Vec<(String, source_core::Value)>,
    ) -> BoxFuture<'a, source_core::Result<RecordBatchStream>> {
        Box::pin(async move {
            let inputs = args.into_iter().map(|(k, v)| (k, exec_value(v))).collect();
            let output = self
                .0
                .execute(name, inputs)
                .await
                .map_err(source_core::Error::source)?;
            let batch = output.to_record_batch();
            let schema = batch.schema();
            Ok(RecordBatchStream::new(
                schema,
                futures::stream::iter(vec![Ok(batch)]),
            ))
        })
    }
}

fn exec_value(value: source_core::Value) -> procedures::exec::Value {
    use procedures::exec::Value as V;
    use source_core::Value as S;
    match value {
        S::Null => V::Null,
        S::Bool(b) => V::Bool(b),
        S::Int(n) => V::Number(n.to_string()),
        S::Float(f) => V::Number(f.to_string()),
        S::Str(s) => V::Text(s),
        other => V::Text(format!("{other:?}")),
    }
}
