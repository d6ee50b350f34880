//! The crate's error type.

/// Errors from starting, controlling or stopping the emulators.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A listener could not be bound to the requested loopback address.
    #[error("could not bind {addr}: {source}")]
    Bind {
        /// The address that was asked for.
        addr: String,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// Another I/O failure (signal handler installation, stdout).
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// A fault or settings document did not parse.
    #[error("invalid control document: {0}")]
    InvalidControl(String),
    /// Seed data given to the builder was inconsistent (for example an unknown column type).
    #[error("invalid seed data: {0}")]
    InvalidSeed(String),
}
