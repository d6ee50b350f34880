//! Keys: a random per-user key file, or a passphrase through PBKDF2-HMAC-SHA256.

use std::fs;
use std::io::{self, Read, Write};
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};

use connstr::Secret;
use ring::rand::{SecureRandom, SystemRandom};
use ring::{hmac, pbkdf2};
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::location::default_key_file_path;

/// The connection property holding the settings passphrase.
pub const PASSPHRASE_PROPERTY: &str = "OAuthSettingsPassphrase";
/// The environment variable holding the settings passphrase (used when the property is unset).
pub const PASSPHRASE_ENV: &str = "CONNECTOR_SETTINGS_PASSPHRASE";
/// The environment variable overriding the per-user key file path.
pub const KEY_FILE_ENV: &str = "CONNECTOR_KEY_FILE";
/// Default PBKDF2-HMAC-SHA256 iteration count for new passphrase-encrypted files.
pub const DEFAULT_PBKDF2_ITERATIONS: u32 = 600_000;
/// The largest iteration count accepted from a file header (bounds the work a file can demand).
pub const MAX_PBKDF2_ITERATIONS: u32 = 20_000_000;

const KEY_FILE_MAGIC: &[u8; 8] = b"\x89CONNKEY";
const KEY_FILE_VERSION: u8 = 1;
const KEY_FILE_LEN: usize = 8 + 1 + 32;
const KEY_ID_LABEL: &[u8] = b"connector token-store key-id v1";
const PBKDF2_SALT_PREFIX: &[u8] = b"connector token-store pbkdf2 v1/";

/// A 256-bit AES key, zeroized on drop.
pub(crate) type KeyBytes = Zeroizing<[u8; 32]>;

/// Where the encryption key comes from.
///
/// * Default ([`KeyConfig::from_env`] without a passphrase): a random 256-bit key in a
///   per-user key file (`<config dir>/Connector/keys/settings.key`, or `CONNECTOR_KEY_FILE`),
///   created 0600 in a 0700 directory on first save. The settings file alone reveals
///   nothing, and it cannot be read on another machine.
/// * Passphrase: PBKDF2-HMAC-SHA256 with a per-file random salt and
///   [`DEFAULT_PBKDF2_ITERATIONS`] (stored in the header). The file is portable: copy it to
///   a headless machine and set the same passphrase there.
///
/// Writes use the passphrase when one is set, else the key file. Reads follow the file's
/// header, so a key-file-encrypted file can still be read (and re-encrypted with the
/// passphrase on the next save) after a passphrase is configured.
///
/// ```
/// use token_store::{KeyConfig, Secret};
/// let portable = KeyConfig::passphrase(Secret::new("correct horse battery staple"));
/// let per_machine = KeyConfig::key_file("/home/me/.config/Connector/keys/settings.key");
/// assert!(!format!("{portable:?}").contains("horse"));
/// # let _ = per_machine;
/// ```
#[derive(Debug, Clone)]
pub struct KeyConfig {
    pub(crate) key_file: Option<PathBuf>,
    pub(crate) passphrase: Option<Secret>,
    pub(crate) iterations: u32,
}

impl KeyConfig {
    /// Per-machine key in the given key file.
    pub fn key_file(path: impl Into<PathBuf>) -> Self {
        KeyConfig {
            key_file: Some(path.into()),
            passphrase: None,
            iterations: DEFAULT_PBKDF2_ITERATIONS,
        }
    }

    /// Portable passphrase mode (also reads key-file-encrypted files when the default key
    /// file exists).
    pub fn passphrase(passphrase: Secret) -> Self {
        KeyConfig {
            key_file: default_key_file_path(),
            passphrase: Some(passphrase),
            iterations: DEFAULT_PBKDF2_ITERATIONS,
        }
    }

    /// The configuration for a connection: the `OAuthSettingsPassphrase` property when set,
    /// else `CONNECTOR_SETTINGS_PASSPHRASE`, else the per-user key file
    /// (`CONNECTOR_KEY_FILE` or the default path).
    pub fn from_env(passphrase_property: Option<Secret>) -> Self {
        let passphrase = passphrase_property.filter(|p| !p.is_empty()).or_else(|| {
            std::env::var(PASSPHRASE_ENV)
                .ok()
                .filter(|p| !p.is_empty())
                .map(Secret::from)
        });
        KeyConfig {
            key_file: default_key_file_path(),
            passphrase,
            iterations: DEFAULT_PBKDF2_ITERATIONS,
        }
    }

    /// Replaces the key file path.
    pub fn with_key_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.key_file = Some(path.into());
        self
    }

    /// Sets the PBKDF2 iteration count used for *new* passphrase-encrypted files (at least 1;
    /// keep the default in production, lower it only in tests).
    pub fn with_iterations(mut self, iterations: u32) -> Self {
        self.iterations = iterations.clamp(1, MAX_PBKDF2_ITERATIONS);
        self
    }

    /// Whether writes use the passphrase.
    pub fn uses_passphrase(&self) -> bool {
        self.passphrase.is_some()
    }

    /// The key file path, if any.
    pub fn key_file_path(&self) -> Option<&Path> {
        self.key_file.as_deref()
    }
}

/// A per-machine key with its public identifier.
pub(crate) struct MachineKey {
    pub(crate) key: KeyBytes,
    pub(crate) id: [u8; 16],
}

impl MachineKey {
    fn from_bytes(key: KeyBytes) -> Self {
        let id = key_id(&key);
        MachineKey { key, id }
    }
}

/// A public 128-bit identifier of a key: HMAC-SHA256(key, label), truncated.
fn key_id(key: &[u8; 32]) -> [u8; 16] {
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), KEY_ID_LABEL);
    let mut id = [0u8; 16];
    id.copy_from_slice(&tag.as_ref()[..16]);
    id
}

/// Derives the AES key from a passphrase.
pub(crate) fn derive_passphrase_key(
    passphrase: &Secret,
    salt: &[u8; 16],
    iterations: u32,
) -> KeyBytes {
    let mut out = Zeroizing::new([0u8; 32]);
    let mut full_salt = Vec::with_capacity(PBKDF2_SALT_PREFIX.len() + 16);
    full_salt.extend_from_slice(PBKDF2_SALT_PREFIX);
    full_salt.extend_from_slice(salt);
    let iterations = NonZeroU32::new(iterations.max(1)).unwrap_or(NonZeroU32::MIN);
    pbkdf2::derive(
        pbkdf2::PBKDF2_HMAC_SHA256,
        iterations,
        &full_salt,
        passphrase.expose().as_bytes(),
        &mut out[..],
    );
    out
}

pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    // SystemRandom fails only when the OS RNG is unavailable, which is unrecoverable.
    #[allow(clippy::expect_used)]
    SystemRandom::new()
        .fill(&mut b)
        .expect("the OS random number generator failed");
    b
}

/// Loads the key file; `Ok(None)` when it does not exist.
pub(crate) fn load_key_file(path: &Path) -> Result<Option<MachineKey>> {
    let f = match fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("read the key file", path, e)),
    };
    #[cfg(unix)]
    if let Ok(meta) = f.metadata() {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o077 != 0 {
            tracing::warn!(path = %path.display(), mode = format_args!("{:o}", meta.permissions().mode() & 0o777),
                "the settings key file is readable by other users; run chmod 600 on it");
        }
    }
    let mut buf = Zeroizing::new(Vec::with_capacity(KEY_FILE_LEN + 1));
    (&f).take(KEY_FILE_LEN as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(|e| Error::io("read the key file", path, e))?;
    if buf.len() != KEY_FILE_LEN {
        return Err(Error::KeyFileCorrupt {
            path: path.to_owned(),
            reason: "wrong size",
        });
    }
    if &buf[..8] != KEY_FILE_MAGIC {
        return Err(Error::KeyFileCorrupt {
            path: path.to_owned(),
            reason: "unknown signature",
        });
    }
    if buf[8] != KEY_FILE_VERSION {
        return Err(Error::KeyFileCorrupt {
            path: path.to_owned(),
            reason: "unknown version",
        });
    }
    let mut key = Zeroizing::new([0u8; 32]);
    key.copy_from_slice(&buf[9..]);
    Ok(Some(MachineKey::from_bytes(key)))
}

/// Loads the key file, creating it (0600, directory 0700) with a fresh random key if missing.
///
/// Two processes racing to create it agree on one key: the new file is linked into place
/// without replacing an existing one, and the loser loads the winner's key.
pub(crate) fn load_or_create_key_file(path: &Path) -> Result<MachineKey> {
    if let Some(k) = load_key_file(path)? {
        return Ok(k);
    }
    let dir = parent_dir(path);
    crate::fsio::create_private_dir_all(dir)?;
    let key: KeyBytes = Zeroizing::new(random_bytes::<32>());
    let mut content = Zeroizing::new(Vec::with_capacity(KEY_FILE_LEN));
    content.extend_from_slice(KEY_FILE_MAGIC);
    content.push(KEY_FILE_VERSION);
    content.extend_from_slice(&key[..]);

    let mut tmp = tempfile::Builder::new()
        .prefix(".settings-key.")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| Error::io("create the key file in", dir, e))?;
    crate::fsio::set_private_mode(tmp.as_file())
        .map_err(|e| Error::io("set the mode of", path, e))?;
    tmp.write_all(&content)
        .map_err(|e| Error::io("write the key file", path, e))?;
    tmp.as_file()
        .sync_all()
        .map_err(|e| Error::io("sync the key file", path, e))?;
    match tmp.persist_noclobber(path) {
        Ok(_) => {
            crate::fsio::sync_dir(dir);
            tracing::info!(path = %path.display(), "created the per-user settings key file");
            Ok(MachineKey::from_bytes(key))
        }
        Err(e) if e.error.kind() == io::ErrorKind::AlreadyExists => load_key_file(path)?
            .ok_or_else(|| Error::KeyFileCorrupt {
                path: path.to_owned(),
                reason: "vanished while being created",
            }),
        Err(e) => Err(Error::io("create the key file", path, e.error)),
    }
}

pub(crate) fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}
