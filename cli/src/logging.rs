//! `Logfile` and `Verbosity`: a log of what the connector does, with every secret masked.
//!
//! The process-wide subscriber is the application's to set, so it lives here and not in a library.
//! Nothing in this workspace passes a secret to `tracing` (secrets are [`connstr::Secret`]s, whose
//! Debug and Display print `[redacted]`), so the log needs no scrubbing pass; the canary tests
//! check it.

use std::path::Path;
use std::sync::Mutex;

use tracing_subscriber::EnvFilter;

/// Starts writing the process's log to `logfile` at CData's `Verbosity` (1 errors, warnings and
/// a line per request; 2 adds request details; 3 and above everything). Returns `false` when a
/// log is already set up for this process (the first connection's settings win).
///
/// The error names the property and the file.
pub(crate) fn init(logfile: &Path, verbosity: u8) -> Result<bool, String> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(logfile)
        .map_err(|e| {
            format!(
                "Logfile: cannot open {} for writing: {e}",
                logfile.display()
            )
        })?;
    let level = match verbosity {
        0 | 1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let subscriber = tracing_subscriber::fmt()
        .with_writer(Mutex::new(file))
        .with_ansi(false)
        .with_env_filter(EnvFilter::new(level))
        .finish();
    Ok(tracing::subscriber::set_global_default(subscriber).is_ok())
}
