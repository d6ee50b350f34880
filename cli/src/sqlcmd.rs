//! `connector <source> query "<SQL>"` and `connector <source> shell`: SQL over a connection.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use futures::StreamExt;
use source_core::format::{BatchWriter, Format};
use source_plugin::Connection;

use crate::Failure;

/// Exit code when a statement fails.
const QUERY_FAILED: u8 = 4;

/// A session with the connection's tables and procedures registered.
pub(crate) async fn open_session(connection: &Connection) -> Result<sql::Session, Failure> {
    let mut session = sql::Session::new();
    session
        .add_connection(connection)
        .await
        .map_err(|e| Failure::new(QUERY_FAILED, e.to_string()))?;
    Ok(session)
}

/// A session with only the connection's procedures: `EXEC` needs no token or table list.
pub(crate) fn procedure_session(connection: &Connection) -> Result<sql::Session, Failure> {
    let mut session = sql::Session::new();
    session
        .add_procedures(connection)
        .map_err(|e| Failure::new(2, e.to_string()))?;
    Ok(session)
}

/// An output format of `query`: the text formats, or Parquet.
pub(crate) enum Output {
    Text(Format),
    Parquet,
}

pub(crate) fn output_of(text: &str) -> Result<Output, Failure> {
    if text.eq_ignore_ascii_case("parquet") {
        return Ok(Output::Parquet);
    }
    text.parse::<Format>().map(Output::Text).map_err(|_| {
        Failure::new(
            2,
            format!("unknown --format {text:?}: use table, json, ndjson, csv or parquet"),
        )
    })
}

/// Counts rows and pages as they stream and, when stderr is a terminal, shows progress.
struct Progress {
    enabled: bool,
    started: Instant,
    last: Instant,
    rows: u64,
    pages: u64,
}

impl Progress {
    fn new() -> Self {
        let now = Instant::now();
        Self {
            enabled: std::io::stderr().is_terminal(),
            started: now,
            last: now,
            rows: 0,
            pages: 0,
        }
    }

    fn add(&mut self, rows: usize) {
        self.rows += rows as u64;
        self.pages += 1;
        if self.enabled && self.last.elapsed() >= Duration::from_millis(200) {
            self.last = Instant::now();
            let secs = self.started.elapsed().as_secs_f64().max(0.001);
            eprint!(
                "\r\x1b[2K{} rows, {} pages, {:.0} rows/s",
                self.rows,
                self.pages,
                self.rows as f64 / secs
            );
        }
    }

    fn done(&self) {
        if self.enabled && self.pages > 0 {
            eprint!("\r\x1b[2K");
        }
    }
}

/// Runs one statement and writes its result to `out_path` (or stdout).
pub(crate) async fn run_query(
    session: &sql::Session,
    statement: &str,
    output: &Output,
    out_path: Option<&Path>,
) -> Result<(), Failure> {
    let failed = |e: sql::Error| Failure::new(QUERY_FAILED, e.to_string());
    let io = |e: std::io::Error| Failure::new(1, format!("cannot write the output: {e}"));
    let result = session.execute(statement, &[]).await.map_err(failed)?;
    let mut stream = match result {
        sql::QueryResult::Affected(n) => {
            println!("{n} rows affected");
            return Ok(());
        }
        sql::QueryResult::Rows(rows) => rows,
    };
    let mut out: Box<dyn Write + Send> = match out_path {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .map_err(|e| Failure::new(1, format!("cannot create {}: {e}", path.display())))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout())),
    };
    let mut progress = Progress::new();
    match output {
        Output::Parquet => {
            if out_path.is_none() && std::io::stdout().is_terminal() {
                return Err(Failure::new(
                    2,
                    "--format parquet writes binary data: add --output FILE",
                ));
            }
            let schema = stream.schema();
            let mut writer = parquet_writer(&mut out, schema)?;
            while let Some(batch) = stream.next().await {
                let batch = batch.map_err(failed)?;
                progress.add(batch.num_rows());
                writer
                    .write(&batch)
                    .map_err(|e| Failure::new(1, format!("parquet: {e}")))?;
            }
            writer
                .close()
                .map_err(|e| Failure::new(1, format!("parquet: {e}")))?;
        }
        Output::Text(format) => {
            let mut writer = BatchWriter::new(*format, stream.schema(), &mut out)
                .map_err(|e| Failure::new(1, e.to_string()))?;
            while let Some(batch) = stream.next().await {
                let batch = batch.map_err(failed)?;
                progress.add(batch.num_rows());
                writer
                    .write(&batch)
                    .map_err(|e| Failure::new(1, e.to_string()))?;
            }
            writer
                .finish()
                .map_err(|e| Failure::new(1, e.to_string()))?;
        }
    }
    progress.done();
    out.flush().map_err(io)
}

fn parquet_writer(
    out: &mut Box<dyn Write + Send>,
    schema: arrow_schema::SchemaRef,
) -> Result<parquet::arrow::ArrowWriter<&mut Box<dyn Write + Send>>, Failure> {
    let props = sql::export::parquet_properties();
    parquet::arrow::ArrowWriter::try_new(out, schema, Some(props))
        .map_err(|e| Failure::new(1, format!("parquet: {e}")))
}

/// The interactive prompt: one statement per line (or several ending with `;`), with history
/// in `<config dir>/Connector/history.txt`.
pub(crate) async fn shell(session: &sql::Session, source: &str) -> Result<(), Failure> {
    let mut editor = rustyline::DefaultEditor::new()
        .map_err(|e| Failure::new(1, format!("cannot start the prompt: {e}")))?;
    let history = dirs_history();
    if let Some(path) = &history {
        let _ = editor.load_history(path);
    }
    eprintln!(
        "{source} SQL shell: end statements with ';', `.tables` lists tables, `.quit` or Ctrl-D exits"
    );
    let mut buffer = String::new();
    loop {
        let prompt = if buffer.is_empty() { "sql> " } else { "...> " };
        let line = match editor.readline(prompt) {
            Ok(line) => line,
            Err(rustyline::error::ReadlineError::Interrupted) => {
                buffer.clear();
                continue;
            }
            Err(_) => break,
        };
        let trimmed = line.trim();
        if buffer.is_empty() && (trimmed == ".quit" || trimmed == ".exit") {
            break;
        }
        if buffer.is_empty() && trimmed == ".tables" {
            let _ = editor.add_history_entry(trimmed);
            run_and_report(
                session,
                "SELECT TableName, TableType, Description FROM sys_tables",
            )
            .await;
            continue;
        }
        if trimmed.is_empty() {
            continue;
        }
        buffer.push_str(&line);
        buffer.push('\n');
        if !trimmed.ends_with(';') {
            continue;
        }
        let statement = std::mem::take(&mut buffer);
        let _ = editor.add_history_entry(statement.trim());
        run_and_report(session, statement.trim().trim_end_matches(';')).await;
    }
    if let Some(path) = &history {
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let _ = editor.save_history(path);
    }
    Ok(())
}

async fn run_and_report(session: &sql::Session, statement: &str) {
    let outcome = tokio::select! {
        r = run_query(session, statement, &Output::Text(Format::Table), None) => r,
        _ = tokio::signal::ctrl_c() => {
            // The prompt blocks this thread: a token refresh the statement started must finish
            // and save before it is shown again.
            crate::auth::finish_pending_refreshes(crate::auth::Stopping::Statement).await;
            Err(Failure::new(130, "cancelled"))
        }
    };
    if let Err(e) = outcome {
        eprintln!("error: {}", e.message);
    }
}

fn dirs_history() -> Option<std::path::PathBuf> {
    std::env::var_os("CONNECTOR_HISTORY")
        .map(std::path::PathBuf::from)
        .or_else(|| dirs::config_dir().map(|d| d.join("Connector").join("history.txt")))
}
