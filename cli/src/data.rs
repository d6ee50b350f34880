//! `connector <source> tables | describe | read | exec | procedures | describe-procedure`.

use std::io::Write;

use source_core::format::Format;
use source_core::procedure::ProcedureOutput;
use source_plugin::Connection;

use crate::{Failure, SourceCommand};

/// Exit code when the service refused or failed a request.
const SOURCE_FAILED: u8 = 4;
/// Exit code when the connection could not be opened (authentication, settings).
const OPEN_FAILED: u8 = 3;

pub(crate) fn run(connection: &Connection, command: &SourceCommand) -> Result<(), Failure> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::new(1, format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async {
        if matches!(command, SourceCommand::Shell) {
            return shell(connection).await;
        }
        tokio::select! {
            result = run_async(connection, command) => result,
            _ = tokio::signal::ctrl_c() => {
                // A token refresh cut off here goes on in its own task: let it save.
                crate::auth::finish_pending_refreshes(crate::auth::Stopping::Exit).await;
                Err(Failure::new(130, "cancelled"))
            }
        }
    })
}

/// `shell`: Ctrl-C while the session opens (a login or token refresh may run) stops the command.
/// Once the prompt is up, the shell handles Ctrl-C itself (the prompt drops the line, a running
/// statement is cancelled and the prompt comes back): a Ctrl-C racing the whole shell here would
/// end it instead.
async fn shell(connection: &Connection) -> Result<(), Failure> {
    let session = tokio::select! {
        session = crate::sqlcmd::open_session(connection) => session?,
        _ = tokio::signal::ctrl_c() => {
            crate::auth::finish_pending_refreshes(crate::auth::Stopping::Exit).await;
            return Err(Failure::new(130, "cancelled"));
        }
    };
    crate::sqlcmd::shell(&session, connection.info().display_name).await
}

fn format_of(text: &str) -> Result<Format, Failure> {
    text.parse::<Format>().map_err(|_| {
        Failure::new(
            2,
            format!("unknown --format {text:?}: use table, json or csv"),
        )
    })
}

/// The connection's procedures (no network).
fn procedures(connection: &Connection) -> Result<source_core::procedure::Procedures, Failure> {
    connection
        .procedures()
        .map_err(|e| Failure::new(2, e.to_string()))
}

fn write_output(
    output: &ProcedureOutput,
    format: Format,
    out: &mut impl Write,
) -> Result<(), Failure> {
    let batch = output.to_record_batch();
    source_core::format::write_batches(format, &batch.schema(), &[batch], out)
        .map_err(|e| Failure::new(SOURCE_FAILED, e.to_string()))
}

async fn run_async(connection: &Connection, command: &SourceCommand) -> Result<(), Failure> {
    let open = || {
        connection
            .open()
            .map_err(|e| Failure::new(OPEN_FAILED, e.to_string()))
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let source_error = |e: source_core::Error| Failure::new(SOURCE_FAILED, e.to_string());
    match command {
        SourceCommand::Tables { format } => {
            let format = format_of(format)?;
            let src = open()?;
            source_core::format::print_tables(src.as_ref(), format, &mut out)
                .await
                .map_err(source_error)?;
        }
        SourceCommand::Describe { table, format } => {
            let format = format_of(format)?;
            let src = open()?;
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
            let src = open()?;
            source_core::format::print_read(src.as_ref(), table, *limit, format, &mut out)
                .await
                .map_err(source_error)?;
        }
        SourceCommand::Exec { statement, format } => {
            let format = format_of(format)?;
            // The one EXEC parser is the SQL layer's: a session with only the procedures.
            let session = crate::sqlcmd::procedure_session(connection)?;
            drop(out);
            let output = crate::sqlcmd::Output::Text(format);
            crate::sqlcmd::run_query(&session, statement, &output, None).await?;
            return Ok(());
        }
        SourceCommand::Procedures { format } => {
            let format = format_of(format)?;
            let defs = procedures(connection)?.definitions();
            let output = ProcedureOutput {
                columns: vec!["ProcedureName".into(), "Description".into()],
                rows: defs
                    .iter()
                    .map(|d| vec![Some(d.name.to_owned()), Some(d.description.to_owned())])
                    .collect(),
            };
            write_output(&output, format, &mut out)?;
        }
        SourceCommand::DescribeProcedure { name, format } => {
            let format = format_of(format)?;
            let def = procedures(connection)?
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
            let output = ProcedureOutput {
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
            write_output(&output, format, &mut out)?;
        }
        SourceCommand::Query {
            statement,
            format,
            output,
        } => {
            let output_format = crate::sqlcmd::output_of(format)?;
            let session = crate::sqlcmd::open_session(connection).await?;
            drop(out);
            crate::sqlcmd::run_query(&session, statement, &output_format, output.as_deref())
                .await?;
            return Ok(());
        }
        _ => {}
    }
    out.flush()
        .map_err(|e| Failure::new(1, format!("cannot write to stdout: {e}")))
}
