//! `connector._native`: the Rust half of the Python package `connector`.
//!
//! The package (built with maturin, mixed layout: pure Python in `python/python/connector`)
//! gives Python the shape of CData's `cdata.acton` / `cdata.hubdb` modules on our engine:
//!
//! ```python
//! import connector.hubdb as mod
//! conn = mod.connect("AuthScheme=PrivateApp;PrivateAppToken=...")
//! cur = conn.execute("SELECT title, attendees FROM events WHERE city = ?", ["Berlin"])
//! rows = cur.fetchall()
//! ```
//!
//! This crate holds what needs Rust:
//! - [`Connection`](connection::Connection) and [`Cursor`](connection::Cursor), PEP 249
//!   objects over a [`sql::Session`]. `connect` validates the connection string and builds
//!   the procedure registry without touching the network; the first SELECT or DML opens the
//!   source (so `EXEC GetOAuthAuthorizationURL` works before any token exists). Result sets
//!   stream: a cursor holds the [`sql::RowStream`] and pulls one batch (one API page) at a
//!   time.
//! - The bridge to the async engine ([`runtime`]): one multi-threaded tokio runtime owned by
//!   the extension; every wait releases the GIL and checks for Ctrl-C every 100 ms.
//! - Error mapping ([`errors`]): every Rust error becomes one of the PEP 249 classes defined
//!   in `connector/exceptions.py`, with the Rust message unchanged.
//! - Value conversion ([`convert`]): Arrow values to Python objects, Python parameters to
//!   [`source_core::Value`]; an Arrow C stream ([`arrow_export`]) for `fetch_arrow_table()`.
//! - The emulators for tests and demos ([`testing`]), on the same runtime.
//!
//! Nothing here panics on purpose; a panic that escapes anyway (a bug) is caught at the
//! runtime bridge and raised as `InternalError`.

mod arrow_export;
mod connection;
mod convert;
mod errors;
mod open;
mod runtime;
mod testing;

use pyo3::prelude::*;

/// The native half of the `connector` package; use `connector.acton` and `connector.hubdb`.
#[pymodule]
mod _native {
    use pyo3::prelude::*;

    #[pymodule_export]
    use crate::arrow_export::ArrowStream;
    #[pymodule_export]
    use crate::connection::{Connection, Cursor};
    #[pymodule_export]
    use crate::testing::Emulator;

    /// `connect(source, connection_string)`: a Connection to a registered source.
    ///
    /// Validates the connection string (raising ConnectionStringError with every problem) and
    /// prepares the procedures; the first statement that needs data authenticates.
    #[pyfunction]
    fn connect(source: &str, connection_string: &str) -> PyResult<super::connection::Connection> {
        super::connection::Connection::open(source, connection_string)
    }

    /// The registered sources: `(name, display name, description)`, in order. The package
    /// makes a module `connector.<name>` of each.
    #[pyfunction]
    fn sources() -> Vec<(&'static str, &'static str, &'static str)> {
        ::sources::ALL
            .iter()
            .map(|s| {
                let info = s.info();
                (info.name, info.display_name, info.description)
            })
            .collect()
    }

    /// `wait_for_token_refreshes(seconds)`: waits until no token refresh of this process is
    /// running (at most `seconds`); returns whether none is left. The package calls it at
    /// interpreter exit, so that a refresh interrupted by KeyboardInterrupt still saves the
    /// rotated tokens before the process ends.
    #[pyfunction]
    fn wait_for_token_refreshes(py: Python<'_>, seconds: f64) -> PyResult<bool> {
        let timeout = std::time::Duration::from_secs_f64(seconds.clamp(0.0, 600.0));
        let runtime = crate::runtime::runtime()?;
        Ok(py.detach(|| runtime.block_on(auth_core::wait_for_pending_refreshes(timeout))))
    }

    /// The package version (the Cargo workspace version).
    #[pymodule_export]
    const VERSION: &str = env!("CARGO_PKG_VERSION");
}
