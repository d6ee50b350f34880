//! The extension's tokio runtime and the one way Python code waits on it.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::OnceLock;
use std::time::Duration;

use pyo3::prelude::*;

use crate::errors::{Class, DbError};

/// How often a wait wakes up to let Python handle signals (Ctrl-C).
const TICK: Duration = Duration::from_millis(100);

static RUNTIME: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();

/// The runtime every connection, cursor and emulator of the process shares: two worker
/// threads (network I/O and the emulators' servers), started on first use.
pub(crate) fn runtime() -> Result<&'static tokio::runtime::Runtime, DbError> {
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("connector-io")
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| {
            DbError::new(
                Class::Internal,
                format!("cannot start the async runtime: {e}"),
            )
        })
}

/// Runs `fut` to completion with the GIL released.
///
/// Every [`TICK`] the GIL is taken back briefly to run Python's signal handlers: Ctrl-C
/// raises `KeyboardInterrupt` here and drops `fut` (which cancels the request). A panic
/// inside `fut` is caught and raised as `InternalError`, never unwinding into Python.
pub(crate) fn block_on<F, T>(py: Python<'_>, fut: F) -> PyResult<T>
where
    F: Future<Output = T> + Send,
    T: Send,
{
    let rt = runtime()?;
    let mut fut = std::pin::pin!(fut);
    loop {
        let step = py.detach(|| {
            std::panic::catch_unwind(AssertUnwindSafe(|| {
                rt.block_on(async { tokio::time::timeout(TICK, fut.as_mut()).await.ok() })
            }))
        });
        match step {
            Ok(Some(value)) => return Ok(value),
            Ok(None) => py.check_signals()?,
            Err(panic) => return Err(panicked(panic)),
        }
    }
}

/// As [`block_on`], for a future that need not be `Send`: `make` builds it on this thread with
/// the GIL released, and it is polled there until done. Every [`TICK`] the GIL is taken back
/// briefly for Python's signal handlers; Ctrl-C drops the future (cancelling the request).
pub(crate) fn block_on_local<M, F, T>(py: Python<'_>, make: M) -> PyResult<T>
where
    M: FnOnce() -> F + Send,
    F: Future<Output = T>,
    T: Send,
{
    let rt = runtime()?;
    py.detach(|| {
        std::panic::catch_unwind(AssertUnwindSafe(|| {
            let fut = make();
            let mut fut = std::pin::pin!(fut);
            loop {
                let step =
                    rt.block_on(async { tokio::time::timeout(TICK, fut.as_mut()).await.ok() });
                if let Some(value) = step {
                    return Ok(value);
                }
                Python::attach(|py| py.check_signals())?;
            }
        }))
        .unwrap_or_else(|panic| Err(panicked(panic)))
    })
}

/// A panic caught at the bridge, as `InternalError`.
fn panicked(panic: Box<dyn std::any::Any + Send>) -> PyErr {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned());
    DbError::new(
        Class::Internal,
        format!("internal error (please report it): {what}"),
    )
    .into()
}
