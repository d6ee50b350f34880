//! `OAuthSettingsLocation`: where the connectors keep OAuth values (access token, refresh
//! token, expiry, timestamp, client id, scope, provider extras) across connections and
//! processes.
//!
//! * [`Location::parse`] picks the backend: a file path (`~` and `%APPDATA%` expanded) or
//!   `memory://<id>` (process-wide, shared by id). [`default_settings_path`] gives the CData
//!   default `<config dir>/Connector/<Source> Data Provider/OAuthSettings.txt`.
//! * [`TokenStore`] is the one interface: `load`, `save`, `clear`, `lock` (RAII
//!   [`StoreLock`], cross-process for files) and `has_changed`. See its docs for the
//!   lock → re-read → refresh → save pattern that keeps single-use refresh tokens safe.
//! * Files are encrypted with AES-256-GCM (`ring`) under a versioned header that is
//!   authenticated as AAD; the key is a random per-user key file or a passphrase through
//!   PBKDF2-HMAC-SHA256 ([`KeyConfig`]). Every failure mode has its own [`Error`] variant;
//!   nothing falls back silently, nothing panics, and a bad file is left in place.
//!
//! # File format (version 1)
//!
//! ```text
//! offset  size  field
//!      0     8  magic 89 43 4F 4E 4E 54 4F 4B ("\x89CONNTOK")
//!      8     1  format version (1)
//!      9     1  KDF id: 1 = per-machine key file, 2 = PBKDF2-HMAC-SHA256 passphrase
//!     10     4  PBKDF2 iterations, u32 big-endian (0 for the key file)
//!     14    16  PBKDF2 salt (random per file) | key id (HMAC-SHA256(key, label)[..16])
//!     30    12  AES-GCM nonce (random, fresh on every write)
//!     42     4  ciphertext length including the 16-byte tag, u32 big-endian
//!     46     n  AES-256-GCM(JSON of TokenRecord) || tag
//! AAD = "connector token-store v1\0" || header[0..46]
//! ```
//!
//! The key file (`<config dir>/Connector/keys/settings.key`, or `CONNECTOR_KEY_FILE`) is
//! 41 bytes: magic `"\x89CONNKEY"`, version 1, 32 random key bytes; mode 0600 in a 0700
//! directory.
//!
//! # Example
//!
//! ```
//! use std::time::Duration;
//! use token_store::{open_store, KeyConfig, Location, Secret, TokenRecord};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("OAuthSettings.txt");
//! let keys = KeyConfig::key_file(dir.path().join("settings.key"));
//! let store = open_store(&Location::File(path), keys);
//!
//! let guard = store.lock(Duration::from_secs(5)).unwrap();
//! let mut rec = TokenRecord::new("Act-On", "OAuth", Secret::new("access"));
//! rec.refresh_token = Some(Secret::new("refresh"));
//! store.save(&rec).unwrap();
//! drop(guard);
//!
//! assert_eq!(store.load().unwrap().refresh_token.unwrap().expose(), "refresh");
//! ```
//!
//! # Windows
//!
//! File modes (0600/0700) are Unix concepts; on Windows the files inherit the ACL of their
//! directory (owner-only under `%APPDATA%`). An explicit owner-only ACL is not set (FS-11).

mod error;
pub mod fault;
mod file;
mod format;
mod fsio;
#[doc(hidden)]
pub mod fuzzing;
mod key;
mod location;
mod lock;
mod memory;
mod record;
mod store;
mod unsaved;

pub use connstr::Secret;
pub use error::{Error, Result};
pub use fault::{WriteHook, WriteStep};
pub use file::FileStore;
pub use format::{HEADER_LEN, MAGIC, VERSION};
pub use key::{
    DEFAULT_PBKDF2_ITERATIONS, KEY_FILE_ENV, KeyConfig, MAX_PBKDF2_ITERATIONS, PASSPHRASE_ENV,
    PASSPHRASE_PROPERTY,
};
pub use location::{
    Location, PRODUCT, SETTINGS_FILE_NAME, default_key_file_path, default_settings_path,
};
pub use memory::MemoryStore;
pub use record::TokenRecord;
pub use store::{DEFAULT_LOCK_TIMEOUT, StoreLock, TokenStore, open_store};
pub use unsaved::UnsavedMark;
