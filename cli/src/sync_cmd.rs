//! `connector <source> sync [TABLE…] --to DEST --state FILE`: copies tables into Parquet files
//! or a SQLite database, reading only what changed since the last run (the `sync` crate).

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use source_core::DataSource;
use source_plugin::{AnySource, Connection};

use crate::{ConnectionArgs, Failure};

/// Exit code when the service or the destination failed.
const SYNC_FAILED: u8 = 4;

#[derive(Debug, Clone, Args)]
pub(crate) struct SyncArgs {
    /// Tables to copy (default: every table with one key column and a cursor column).
    tables: Vec<String>,
    /// Where to copy: parquet:DIR (a directory per table) or sqlite:FILE.
    #[arg(long, value_name = "DEST")]
    to: String,
    /// The state file holding each table's cursor (created by the first run).
    #[arg(long, value_name = "FILE")]
    state: PathBuf,
    /// Sync these profiles of the profiles file instead of one connection (comma-separated or
    /// repeated); each table lands as `<profile>__<table>`.
    #[arg(long, value_delimiter = ',', value_name = "NAME")]
    profiles: Vec<String>,
    /// Seconds the cursor is held back from the run's start, so rows written while a run reads
    /// (or on a server clock behind ours) are read by the next run.
    #[arg(long, value_name = "SECONDS", default_value_t = 60.0)]
    skew: f64,
    /// Read every table whole this time (keys not read are deleted).
    #[arg(long)]
    full: bool,
    /// Do not look for deleted rows on incremental runs.
    #[arg(long)]
    no_deletions: bool,
}

/// One connection to sync: its name in the state file and its table-name prefix.
struct Job {
    name: String,
    namespace: Option<String>,
    connection: Connection,
}

pub(crate) fn run(
    source: &'static dyn AnySource,
    connection: &ConnectionArgs,
    args: SyncArgs,
) -> Result<(), Failure> {
    let jobs = jobs(source, connection, &args)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::new(1, format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async {
        tokio::select! {
            result = sync_all(&jobs, &args) => result,
            _ = tokio::signal::ctrl_c() => {
                crate::auth::finish_pending_refreshes(crate::auth::Stopping::Exit).await;
                Err(Failure::new(130, "cancelled; tables already finished are saved, the next run resumes from there"))
            }
        }
    })
}

fn jobs(
    source: &'static dyn AnySource,
    connection: &ConnectionArgs,
    args: &SyncArgs,
) -> Result<Vec<Job>, Failure> {
    if args.profiles.is_empty() {
        return Ok(vec![Job {
            name: source.info().name.to_owned(),
            namespace: None,
            connection: crate::connection_for(source, connection)?,
        }]);
    }
    args.profiles
        .iter()
        .map(|name| {
            let one = ConnectionArgs {
                connection: None,
                profile: Some(name.clone()),
                profiles_file: connection.profiles_file.clone(),
            };
            Ok(Job {
                name: name.to_lowercase(),
                namespace: Some(name.to_lowercase()),
                connection: crate::connection_for(source, &one)?,
            })
        })
        .collect()
}

async fn sync_all(jobs: &[Job], args: &SyncArgs) -> Result<(), Failure> {
    let destination: sync::Destination = args
        .to
        .parse()
        .map_err(|e: sync::Error| Failure::new(2, e.to_string()))?;
    if !(args.skew.is_finite() && args.skew >= 0.0) {
        return Err(Failure::new(
            2,
            "--skew must be a number of seconds, 0 or more",
        ));
    }
    let options = sync::Options {
        skew_ms: (args.skew * 1000.0).round() as i64,
        full: args.full,
        deletions: !args.no_deletions,
        ..sync::Options::default()
    };
    let failed = |e: sync::Error| Failure::new(SYNC_FAILED, e.to_string());
    let mut run = sync::Run::open(destination, args.state.clone(), options).map_err(failed)?;
    for job in jobs {
        let source = job
            .connection
            .open_for_sql()
            .map_err(|e| Failure::new(3, e.to_string()))?;
        for table in tables(&source, &args.tables).await? {
            let summary = run
                .table(
                    &job.name,
                    job.namespace.as_deref(),
                    source.as_ref(),
                    &table,
                    &mut progress_line,
                )
                .await;
            clear_progress();
            let summary = summary.map_err(failed)?;
            let prefix = job
                .namespace
                .as_deref()
                .map(|n| format!("{n}."))
                .unwrap_or_default();
            crate::print_stdout(&format!("{prefix}{summary}"))?;
        }
    }
    Ok(())
}

/// The tables named, or every table with one key column and a cursor column.
async fn tables(source: &Arc<dyn DataSource>, named: &[String]) -> Result<Vec<String>, Failure> {
    if !named.is_empty() {
        return Ok(named.to_vec());
    }
    let all = source
        .described_tables()
        .await
        .map_err(|e| Failure::new(SYNC_FAILED, e.to_string()))?;
    Ok(all
        .iter()
        .filter(|t| t.key_columns().count() == 1 && t.required_filters.is_empty())
        .filter(|t| sync::cursor_column(source.as_ref(), t).is_some())
        .map(|t| t.name.clone())
        .collect())
}

/// `events: 12,000 rows read, 13 requests` on a terminal's stderr, rewritten in place.
fn progress_line(p: &sync::Progress<'_>) {
    let mut err = std::io::stderr();
    if !err.is_terminal() {
        return;
    }
    let requests = p
        .requests
        .map(|n| format!(", {} requests", sync::thousands(n)))
        .unwrap_or_default();
    let _ = write!(
        err,
        "\r\x1b[2K{}: {} rows read{requests}",
        p.table,
        sync::thousands(p.rows)
    );
    let _ = err.flush();
}

fn clear_progress() {
    let mut err = std::io::stderr();
    if err.is_terminal() {
        let _ = write!(err, "\r\x1b[2K");
        let _ = err.flush();
    }
}
