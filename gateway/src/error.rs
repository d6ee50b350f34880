//! Why the gateway could not start. Every message names the file, user or connection at fault
//! and what to do; none carries a secret (password hashes and tokens are never quoted).

use std::net::SocketAddr;
use std::path::PathBuf;

/// A gateway that cannot start, or a configuration it refuses.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The profiles file could not be read, or a profile in it does not configure.
    #[error("profiles file {path}: {message}")]
    Profiles {
        /// The file.
        path: PathBuf,
        /// What is wrong, secrets masked.
        message: String,
    },
    /// The users file could not be read or is not of the expected shape.
    #[error("users file {path}: {message}")]
    Users {
        /// The file.
        path: PathBuf,
        /// What is wrong (no hash or token is quoted).
        message: String,
    },
    /// A stored password hash is not in the `pbkdf2-sha256$ITERATIONS$SALT$HASH` form.
    #[error(
        "user {user:?}: password_hash is not of the form pbkdf2-sha256$ITERATIONS$SALT$HASH (make one with `connector serve --hash-password`)"
    )]
    PasswordHash {
        /// The user whose hash is malformed.
        user: String,
    },
    /// Two connections would share one schema name.
    #[error("connection {name:?} is defined twice; each connection needs its own name")]
    DuplicateConnection {
        /// The name used twice.
        name: String,
    },
    /// Nothing to serve.
    #[error("no connections to serve: the profiles file defines no profile")]
    NoConnections,
    /// Anonymous access asked for on an address other machines can reach.
    #[error(
        "anonymous access is only allowed on a loopback address, and {addr} is not one; give a users file instead"
    )]
    AnonymousNotLoopback {
        /// The address asked for.
        addr: SocketAddr,
    },
    /// Neither users nor anonymous access: nobody could connect.
    #[error("no users: pass --users FILE (or --allow-anonymous on a loopback address)")]
    NoUsers,
    /// A TLS certificate or key file could not be read or used.
    #[error("TLS {what} {path}: {message}")]
    Tls {
        /// `certificate` or `key`.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The listening socket could not be opened.
    #[error("cannot listen on {addr}: {message}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The operating system's reason.
        message: String,
    },
    /// The server stopped with a transport error.
    #[error("the Flight SQL server failed: {0}")]
    Serve(String),
    /// The system's random number generator failed (tokens and salts need it).
    #[error("the system random number generator failed")]
    Random,
}

/// The gateway's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
