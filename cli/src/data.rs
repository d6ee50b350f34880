//! `connector <source> tables | describe | read | exec | procedures | describe-procedure`.

use std::io::Write;
use std::sync::Arc;

use connstr::validate::{self, ValidationError};
use connstr::{ConnectionString, Source};
use source_core::DataSource;
use source_core::format::Format;

use crate::{Failure, SourceCommand};

/// Exit code when the service refused or failed a request.
const SOURCE_FAILED: u8 = 4;

pub(crate) fn run(
    source: Source,
    cs: &ConnectionString,
    command: &SourceCommand,
) -> Result<(), Failure> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::new(1, format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async {
        tokio::select! {
            result = run_async(source, cs, command) => result,
            _ = tokio::signal::ctrl_c() => Err(Failure::new(130, "cancelled")),
        }
    })
}

fn invalid(e: ValidationError) -> Failure {
    Failure::new(2, e.to_string())
}

fn format_of(text: &str) -> Result<Format, Failure> {
    text.parse::<Format>().map_err(|_| {
        Failure::new(
            2,
            format!("unknown --format {text:?}: use table, json or csv"),
        )
    })
}

pub(crate) fn registry(
    source: Source,
    cs: &ConnectionString,
) -> Result<procedures::Registry, Failure> {
    let registry = match source {
        Source::ActOn => procedures::Registry::acton(&validate::acton(cs).map_err(invalid)?),
        Source::HubDb => procedures::Registry::hubdb(&validate::hubdb(cs).map_err(invalid)?),
    };
    registry.map_err(|e| Failure::new(2, e.to_string()))
}

pub(crate) async fn open_source(
    source: Source,
    cs: &ConnectionString,
) -> Result<Arc<dyn DataSource>, Failure> {
    open_source_for(source, cs, false).await
}

/// Opens the source; `for_sql` leaves `MaxRows` to the SQL session, which applies it to results
/// (not to the rows an aggregate reads, as CData does).
pub(crate) async fn open_source_for(
    source: Source,
    cs: &ConnectionString,
    for_sql: bool,
) -> Result<Arc<dyn DataSource>, Failure> {
    let failed = |e: &dyn std::fmt::Display| Failure::new(3, e.to_string());
    match source {
        Source::HubDb => {
            let mut config = validate::hubdb(cs).map_err(invalid)?;
            if for_sql {
                config.common.max_rows = None;
            }
            let tokens = source_hubdb::token_provider(&config).map_err(|e| failed(&e))?;
            let src =
                source_hubdb::HubDbSource::connect(&config, tokens).map_err(|e| failed(&e))?;
            Ok(Arc::new(src))
        }
        Source::ActOn => {
            let mut config = validate::acton(cs).map_err(invalid)?;
            if for_sql {
                config.common.max_rows = None;
            }
            let tokens = source_acton::token_provider(&config).map_err(|e| failed(&e))?;
            let src =
                source_acton::ActOnSource::connect(&config, tokens).map_err(|e| failed(&e))?;
            Ok(Arc::new(src))
        }
    }
}

async fn run_async(
    source: Source,
    cs: &ConnectionString,
    command: &SourceCommand,
) -> Result<(), Failure> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let source_error = |e: source_core::Error| Failure::new(SOURCE_FAILED, e.to_string());
    match command {
        SourceCommand::Tables { format } => {
            let format = format_of(format)?;
            let src = open_source(source, cs).await?;
            source_core::format::print_tables(src.as_ref(), format, &mut out)
                .await
                .map_err(source_error)?;
        }
        SourceCommand::Describe { table, format } => {
            let format = format_of(format)?;
            let src = open_source(source, cs).await?;
            source_core::format::print_describe(src.as_ref(), table, format, &mut out)
                .await
                .map_err(source_error)?;
        }
        SourceCommand::Read {
            table,
            limit,
            format,
        } => {
            let format = format_of(format)?;
            let src = open_source(source, cs).await?;
            source_core::format::print_read(src.as_ref(), table, *limit, format, &mut out)
                .await
                .map_err(source_error)?;
        }
        SourceCommand::Exec { statement, format } => {
            let format = format_of(format)?;
            let output = registry(source, cs)?
                .execute_sql(statement, &[], &[])
                .await
                .map_err(|e| Failure::new(SOURCE_FAILED, e.to_string()))?;
            let batch = output.to_record_batch();
            source_core::format::write_batches(format, &batch.schema(), &[batch], &mut out)
                .map_err(source_error)?;
        }
        SourceCommand::Procedures { format } => {
            let format = format_of(format)?;
            let defs = registry(source, cs)?.definitions();
            let output = procedures::ProcedureOutput {
                columns: vec!["ProcedureName".into(), "Description".into()],
                rows: defs
                    .iter()
                    .map(|d| vec![Some(d.name.to_owned()), Some(d.description.to_owned())])
                    .collect(),
            };
            let batch = output.to_record_batch();
            source_core::format::write_batches(format, &batch.schema(), &[batch], &mut out)
                .map_err(source_error)?;
        }
        SourceCommand::DescribeProcedure { name, format } => {
            let format = format_of(format)?;
            let def = registry(source, cs)?
                .describe(name)
                .map_err(|e| Failure::new(2, e.to_string()))?;
            let mut rows = Vec::new();
            for i in &def.inputs {
                rows.push(vec![
                    Some(i.name.to_owned()),
                    Some("input".to_owned()),
                    Some(i.ty.to_string()),
                    Some(i.required.to_string()),
                    i.default.map(str::to_owned),
                    (!i.allowed.is_empty()).then(|| i.allowed.join(", ")),
                    Some(i.description.to_owned()),
                ]);
            }
            for r in &def.results {
                rows.push(vec![
                    Some(r.name.to_owned()),
                    Some("result".to_owned()),
                    Some(r.ty.to_string()),
                    None,
                    None,
                    None,
                    Some(r.description.to_owned()),
                ]);
            }
            let output = procedures::ProcedureOutput {
                columns: [
                    "Name",
                    "Direction",
                    "Type",
                    "Required",
                    "Default",
                    "Values",
                    "Description",
                ]
                .iter()
                .map(|c| (*c).to_owned())
                .collect(),
                rows,
            };
            let batch = output.to_record_batch();
            source_core::format::write_batches(format, &batch.schema(), &[batch], &mut out)
                .map_err(source_error)?;
        }
        SourceCommand::Query {
            statement,
            format,
            output,
        } => {
            let output_format = crate::sqlcmd::output_of(format)?;
            let session = crate::sqlcmd::open_session(source, cs).await?;
            drop(out);
            crate::sqlcmd::run_query(&session, statement, &output_format, output.as_deref())
                .await?;
            return Ok(());
        }
        SourceCommand::Shell => {
            let session = crate::sqlcmd::open_session(source, cs).await?;
            drop(out);
            crate::sqlcmd::shell(&session, source).await?;
            return Ok(());
        }
        _ => {}
    }
    out.flush()
        .map_err(|e| Failure::new(1, format!("cannot write to stdout: {e}")))
}
