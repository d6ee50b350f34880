//! The settings file format (version 1).
//!
//! ```text
//! offset  size  field
//!      0     8  magic  89 43 4F 4E 4E 54 4F 4B  ("\x89CONNTOK")
//!      8     1  format version = 1
//!      9     1  KDF id: 1 = per-machine key file, 2 = PBKDF2-HMAC-SHA256 passphrase
//!     10     4  KDF iterations, u32 big-endian (0 for the key file)
//!     14    16  PBKDF2: random salt (per file) | key file: key id = HMAC-SHA256(key, label)[..16]
//!     30    12  AES-GCM nonce, random, fresh on every write
//!     42     4  ciphertext length including the 16-byte tag, u32 big-endian
//!     46     n  AES-256-GCM ciphertext of the JSON record, followed by the tag
//! ```
//!
//! The AAD is `"connector token-store v1\0"` followed by the 46 header bytes, so any change to
//! the header fails authentication. The length field lets a truncated file be reported as
//! truncated instead of as a decryption failure.

use std::path::Path;

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::key::{KeyBytes, MAX_PBKDF2_ITERATIONS};

/// File signature.
pub const MAGIC: [u8; 8] = *b"\x89CONNTOK";
/// The format version this build writes and reads.
pub const VERSION: u8 = 1;
/// Header length in bytes.
pub const HEADER_LEN: usize = 46;
/// AES-GCM tag length.
pub(crate) const TAG_LEN: usize = 16;
/// Largest ciphertext accepted (a token record is a few KiB at most).
pub(crate) const MAX_CIPHERTEXT_LEN: usize = 16 * 1024 * 1024;
const AAD_PREFIX: &[u8] = b"connector token-store v1\0";

/// How the key of a file is obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kdf {
    /// Per-machine key file; the 16 bytes are the key id.
    KeyFile { key_id: [u8; 16] },
    /// Passphrase via PBKDF2-HMAC-SHA256.
    Pbkdf2 { iterations: u32, salt: [u8; 16] },
}

const KDF_KEY_FILE: u8 = 1;
const KDF_PBKDF2: u8 = 2;

/// A parsed header.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Header {
    pub(crate) kdf: Kdf,
    pub(crate) nonce: [u8; NONCE_LEN],
}

impl Header {
    fn encode(&self, ct_len: u32) -> [u8; HEADER_LEN] {
        let mut h = [0u8; HEADER_LEN];
        h[..8].copy_from_slice(&MAGIC);
        h[8] = VERSION;
        let (id, iterations, salt) = match self.kdf {
            Kdf::KeyFile { key_id } => (KDF_KEY_FILE, 0u32, key_id),
            Kdf::Pbkdf2 { iterations, salt } => (KDF_PBKDF2, iterations, salt),
        };
        h[9] = id;
        h[10..14].copy_from_slice(&iterations.to_be_bytes());
        h[14..30].copy_from_slice(&salt);
        h[30..42].copy_from_slice(&self.nonce);
        h[42..46].copy_from_slice(&ct_len.to_be_bytes());
        h
    }
}

fn aad(header: &[u8]) -> Vec<u8> {
    let mut a = Vec::with_capacity(AAD_PREFIX.len() + header.len());
    a.extend_from_slice(AAD_PREFIX);
    a.extend_from_slice(header);
    a
}

fn aead_key(key: &KeyBytes) -> LessSafeKey {
    // AES_256_GCM takes exactly 32 bytes, which KeyBytes always is.
    #[allow(clippy::expect_used)]
    LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &key[..]).expect("a 32-byte AES-256 key"))
}

/// Encrypts `plaintext` into a complete file image.
pub(crate) fn seal(kdf: Kdf, key: &KeyBytes, plaintext: &[u8]) -> Vec<u8> {
    let nonce = crate::key::random_bytes::<NONCE_LEN>();
    let header = Header { kdf, nonce };
    let ct_len = plaintext.len() + TAG_LEN;
    let hdr = header.encode(u32::try_from(ct_len).unwrap_or(u32::MAX));
    // Encrypted in place in a buffer with room for the tag, so it never reallocates and no
    // copy of the plaintext is left behind.
    let mut body = Vec::with_capacity(ct_len);
    body.extend_from_slice(plaintext);
    // Sealing fails only for inputs larger than GCM's limit (64 GiB).
    #[allow(clippy::expect_used)]
    aead_key(key)
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad(&hdr)),
            &mut body,
        )
        .expect("record far below the AES-GCM size limit");
    let mut out = Vec::with_capacity(HEADER_LEN + ct_len);
    out.extend_from_slice(&hdr);
    out.extend_from_slice(&body);
    out
}

fn corrupt(path: &Path, reason: String) -> Error {
    Error::Corrupt {
        path: path.to_owned(),
        reason,
        backup: None,
    }
}

/// Parses and checks the header; returns it with the ciphertext (including the tag).
///
/// The checks run in an order that yields the most specific error: plaintext JSON, empty,
/// unknown signature, unknown version, unknown KDF, truncated header, bad lengths.
pub(crate) fn parse<'a>(path: &Path, bytes: &'a [u8]) -> Result<(Header, &'a [u8])> {
    if bytes.is_empty() {
        return Err(corrupt(path, "empty file (0 bytes)".to_owned()));
    }
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if matches!(first, Some(b'{') | Some(b'[')) && !bytes.starts_with(&MAGIC) {
        return Err(Error::PlaintextFile {
            path: path.to_owned(),
        });
    }
    let sig_len = bytes.len().min(MAGIC.len());
    if bytes[..sig_len] != MAGIC[..sig_len] {
        return Err(Error::UnknownFormat {
            path: path.to_owned(),
        });
    }
    if bytes.len() < 10 {
        return Err(corrupt(
            path,
            format!("truncated: {} bytes, shorter than the header", bytes.len()),
        ));
    }
    if bytes[8] != VERSION {
        return Err(Error::UnsupportedVersion {
            path: path.to_owned(),
            found: bytes[8],
            supported: VERSION,
        });
    }
    if bytes[9] != KDF_KEY_FILE && bytes[9] != KDF_PBKDF2 {
        return Err(Error::UnsupportedKdf {
            path: path.to_owned(),
            kdf_id: bytes[9],
        });
    }
    if bytes.len() < HEADER_LEN {
        return Err(corrupt(
            path,
            format!(
                "truncated: {} bytes, shorter than the {HEADER_LEN}-byte header",
                bytes.len()
            ),
        ));
    }
    let u32_at =
        |i: usize| u32::from_be_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
    let iterations = u32_at(10);
    let mut salt = [0u8; 16];
    salt.copy_from_slice(&bytes[14..30]);
    let mut nonce = [0u8; NONCE_LEN];
    nonce.copy_from_slice(&bytes[30..42]);
    let ct_len = u32_at(42) as usize;
    let kdf = match bytes[9] {
        KDF_KEY_FILE if iterations == 0 => Kdf::KeyFile { key_id: salt },
        KDF_KEY_FILE => {
            return Err(corrupt(
                path,
                "key-file header with an iteration count".to_owned(),
            ));
        }
        _ if iterations == 0 || iterations > MAX_PBKDF2_ITERATIONS => {
            return Err(corrupt(
                path,
                format!("PBKDF2 iteration count {iterations} out of range"),
            ));
        }
        _ => Kdf::Pbkdf2 { iterations, salt },
    };
    if !(TAG_LEN..=MAX_CIPHERTEXT_LEN).contains(&ct_len) {
        return Err(corrupt(
            path,
            format!("ciphertext length {ct_len} out of range"),
        ));
    }
    let body = &bytes[HEADER_LEN..];
    if body.len() < ct_len {
        return Err(corrupt(
            path,
            format!(
                "truncated: expected {ct_len} bytes of ciphertext, found {}",
                body.len()
            ),
        ));
    }
    if body.len() > ct_len {
        return Err(corrupt(
            path,
            format!(
                "{} bytes of trailing data after the ciphertext",
                body.len() - ct_len
            ),
        ));
    }
    Ok((Header { kdf, nonce }, body))
}

/// Decrypts a parsed file. Fails closed with [`Error::Decrypt`]; no partial plaintext escapes.
pub(crate) fn open(
    path: &Path,
    bytes: &[u8],
    header: &Header,
    ciphertext: &[u8],
    key: &KeyBytes,
) -> Result<Zeroizing<Vec<u8>>> {
    let mut buf = Zeroizing::new(ciphertext.to_vec());
    let aad = aad(&bytes[..HEADER_LEN]);
    let len = aead_key(key)
        .open_in_place(
            Nonce::assume_unique_for_key(header.nonce),
            Aad::from(aad),
            &mut buf[..],
        )
        .map_err(|_| Error::Decrypt {
            path: path.to_owned(),
        })?
        .len();
    buf.truncate(len);
    Ok(buf)
}
