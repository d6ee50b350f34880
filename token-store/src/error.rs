//! The error type of the crate.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

use crate::fault::WriteStep;

/// Everything that can go wrong while reading, writing or locking an OAuth settings store.
///
/// Every variant is distinct so that callers (and users reading the message) can tell a
/// missing file from a damaged one, a wrong key from a missing one, and so on. No variant
/// ever carries a secret value: messages name paths, sizes and versions only.
///
/// ```
/// use token_store::Error;
/// let err = Error::NotFound { location: "/tmp/OAuthSettings.txt".into() };
/// assert!(err.is_not_found());
/// assert!(err.to_string().contains("/tmp/OAuthSettings.txt"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No settings are stored at the location yet (FS-1): the connection is not authenticated.
    #[error(
        "no OAuth settings stored at {location}: not authenticated yet (connect with InitiateOAuth=GETANDREFRESH to sign in)"
    )]
    NotFound {
        /// The file path or `memory://` id.
        location: String,
    },

    /// The location is a directory, not a file (FS-9).
    #[error(
        "OAuthSettingsLocation {path} is a directory; it must name a file, e.g. {path}/OAuthSettings.txt"
    )]
    IsADirectory {
        /// The offending path.
        path: PathBuf,
    },

    /// The file is damaged: truncated, empty, or with inconsistent lengths (FS-2).
    ///
    /// The file is left in place for diagnosis; `backup` names the copy of the previous
    /// version when one exists.
    #[error("OAuth settings file {path} is corrupt ({reason}); it was left in place for diagnosis{}", backup_hint(.backup))]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong, e.g. "truncated: expected 512 bytes of ciphertext, found 100".
        reason: String,
        /// The previous version of the file (`<file>.bak`) when it exists.
        backup: Option<PathBuf>,
    },

    /// The file starts with this crate's signature but a format version it does not know (FS-7).
    #[error(
        "OAuth settings file {path} uses format version {found}, but this build reads only version {supported}: update the connector"
    )]
    UnsupportedVersion {
        /// The file.
        path: PathBuf,
        /// The version byte found.
        found: u8,
        /// The version this build reads.
        supported: u8,
    },

    /// The header names a key-derivation function this build does not know (FS-7).
    #[error(
        "OAuth settings file {path} uses key-derivation id {kdf_id}, unknown to this build: update the connector"
    )]
    UnsupportedKdf {
        /// The file.
        path: PathBuf,
        /// The KDF id found.
        kdf_id: u8,
    },

    /// The file does not start with this crate's signature (and is not JSON) (FS-7).
    #[error(
        "{path} is not an encrypted OAuth settings file written by this connector (unknown file signature); it was left in place"
    )]
    UnknownFormat {
        /// The file.
        path: PathBuf,
    },

    /// A plaintext JSON file sits where an encrypted one is expected (FS-8). It is never parsed.
    #[error(
        "{path} holds plaintext JSON, not an encrypted OAuth settings file; refusing to read it (plaintext tokens are not imported silently); remove it and authenticate again"
    )]
    PlaintextFile {
        /// The file.
        path: PathBuf,
    },

    /// Authenticated decryption failed: the key or passphrase is wrong, or the file was
    /// modified (FS-5, FS-6). No part of the plaintext is used.
    #[error(
        "cannot decrypt OAuth settings file {path}: wrong key or passphrase, or the file was tampered with"
    )]
    Decrypt {
        /// The file.
        path: PathBuf,
    },

    /// The file was encrypted with a per-machine key that is not on this machine.
    #[error("OAuth settings file {path} was encrypted with a per-machine key that is not on this machine (key file {}: {reason}). Per-machine keys do not travel with the settings file. To move settings between machines, set the OAuthSettingsPassphrase property (or the CONNECTOR_SETTINGS_PASSPHRASE environment variable) on the machine that created the file and connect once so the file is re-encrypted with the passphrase, then copy it and use the same passphrase here; or copy the key file along, or authenticate again on this machine", .key_file.display())]
    KeyNotAvailable {
        /// The settings file.
        path: PathBuf,
        /// The key file consulted.
        key_file: PathBuf,
        /// "the key file does not exist" or "the key file holds a different key".
        reason: &'static str,
    },

    /// The file is encrypted with a passphrase, and none is configured.
    #[error(
        "OAuth settings file {path} is protected by a passphrase: set the OAuthSettingsPassphrase property or the CONNECTOR_SETTINGS_PASSPHRASE environment variable"
    )]
    PassphraseRequired {
        /// The settings file.
        path: PathBuf,
    },

    /// No per-machine key file location is known (no config directory and no
    /// `CONNECTOR_KEY_FILE`), and no passphrase is configured.
    #[error(
        "no key for the OAuth settings file: set CONNECTOR_KEY_FILE or the OAuthSettingsPassphrase property"
    )]
    NoKeyConfigured,

    /// The key file exists but is not a valid key file.
    #[error("key file {path} is not a valid settings key file ({reason}); it was left in place")]
    KeyFileCorrupt {
        /// The key file.
        path: PathBuf,
        /// What is wrong.
        reason: &'static str,
    },

    /// The file decrypted, but its content is not a valid token record.
    #[error("OAuth settings file {path} decrypted but its content is invalid ({reason})")]
    InvalidRecord {
        /// The file.
        path: PathBuf,
        /// Category and position only, never the content.
        reason: String,
    },

    /// Permission denied (FS-4).
    #[error("permission denied: cannot {op} {path}")]
    PermissionDenied {
        /// The path concerned.
        path: PathBuf,
        /// What was attempted ("read", "create a temporary file in", "write", ...).
        op: &'static str,
    },

    /// Any other I/O error, naming the path.
    #[error("cannot {op} {path}: {source}")]
    Io {
        /// The path concerned.
        path: PathBuf,
        /// What was attempted.
        op: &'static str,
        /// The OS error.
        #[source]
        source: io::Error,
    },

    /// A save failed (FS-3, FS-4). The previous file is intact; the new tokens were **not**
    /// persisted. The caller keeps them in memory ("dirty") and retries the save later.
    #[error(
        "OAuth settings were NOT saved to {path} (failed at step {step:?}); the previous file is unchanged and the new tokens exist only in memory: {cause}"
    )]
    NotPersisted {
        /// The settings file.
        path: PathBuf,
        /// The write step that failed.
        step: WriteStep,
        /// Why.
        #[source]
        cause: Box<Error>,
    },

    /// The cross-process lock could not be taken in time (RT-7).
    #[error("timed out after {waited:?} waiting for the lock on {path}{}", holder_hint(*.holder_pid))]
    LockTimeout {
        /// The lock file.
        path: PathBuf,
        /// How long we waited.
        waited: Duration,
        /// The pid recorded by the holder, when known.
        holder_pid: Option<u32>,
    },

    /// The location string is not valid.
    #[error("invalid OAuthSettingsLocation {location:?}: {reason}")]
    InvalidLocation {
        /// The location as given.
        location: String,
        /// Why.
        reason: &'static str,
    },
}

fn backup_hint(backup: &Option<PathBuf>) -> String {
    match backup {
        // The previous version's refresh token was used for the refresh that wrote the
        // current file: restoring it helps only where refresh tokens are reusable.
        Some(b) => format!(
            "; the previous version is at {} — restore it only for HubDB: its refresh token has already been used once, which Act-On refuses, so for Act-On log in again",
            b.display()
        ),
        None => String::new(),
    }
}

fn holder_hint(pid: Option<u32>) -> String {
    match pid {
        Some(pid) => format!(" (held by process {pid})"),
        None => " (holder unknown)".to_owned(),
    }
}

impl Error {
    /// Whether nothing is stored yet (FS-1).
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::NotFound { .. })
    }

    /// Whether a save failed and the tokens exist only in memory (FS-3): keep them and retry.
    pub fn is_not_persisted(&self) -> bool {
        matches!(self, Error::NotPersisted { .. })
    }

    /// The innermost error of a [`Error::NotPersisted`], or `self`.
    pub fn root(&self) -> &Error {
        match self {
            Error::NotPersisted { cause, .. } => cause.root(),
            other => other,
        }
    }

    /// Maps an OS error on `path` to `PermissionDenied`, `IsADirectory`, `NotFound` or `Io`.
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Error {
        let path = path.into();
        match source.kind() {
            io::ErrorKind::PermissionDenied | io::ErrorKind::ReadOnlyFilesystem => {
                Error::PermissionDenied { path, op }
            }
            io::ErrorKind::IsADirectory => Error::IsADirectory { path },
            _ => Error::Io { path, op, source },
        }
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
