//! Entry points for the `settings_file` fuzz target in `fuzz/` (`cargo xtask fuzz`,
//! `docs/fuzzing.md`). Not part of the API: hidden, unstable, and only here so the target can
//! reach the file format, which is private to this crate.
//!
//! [`decode`] runs what [`crate::FileStore`] runs on the bytes of a settings file — the header
//! parser, AES-256-GCM with the header as AAD, the record's JSON — with one fixed key in place
//! of the key file or passphrase (the KDF is not run: PBKDF2 at the up to 20 million iterations
//! a header may ask for would stall the fuzzer). The unit tests below run [`check_settings_file`]
//! over the seed corpus checked in under `fuzz/corpus/settings_file/`.

use std::path::Path;

use zeroize::Zeroizing;

use crate::Secret;
use crate::error::{Error, Result};
use crate::format::{self, HEADER_LEN, Kdf};
use crate::record::TokenRecord;

/// The key every fuzzed file is encrypted and decrypted with.
const KEY: [u8; 32] = [0x5a; 32];
/// The key id written by [`encode`] (not checked by [`decode`]).
const KEY_ID: [u8; 16] = [0xa5; 16];
/// The path named in errors.
const PATH: &str = "fuzz/OAuthSettings.txt";

/// Decodes a settings file image with the fixed key.
pub fn decode(bytes: &[u8]) -> Result<TokenRecord> {
    let path = Path::new(PATH);
    let (header, ciphertext) = format::parse(path, bytes)?;
    let plaintext = format::open(path, bytes, &header, ciphertext, &Zeroizing::new(KEY))?;
    // As `FileStore` does: category and position only, serde messages can quote the value.
    serde_json::from_slice::<TokenRecord>(&plaintext).map_err(|e| Error::InvalidRecord {
        path: path.to_owned(),
        reason: format!(
            "{:?} error at line {} column {}",
            e.classify(),
            e.line(),
            e.column()
        ),
    })
}

/// Encrypts `plaintext` (the JSON of a record) into a settings file image with the fixed key,
/// as a save with a key file does.
pub fn encode(plaintext: &[u8]) -> Vec<u8> {
    format::seal(
        Kdf::KeyFile { key_id: KEY_ID },
        &Zeroizing::new(KEY),
        plaintext,
    )
}

/// `data` both as a settings file and as the plaintext of one:
///
/// - arbitrary bytes decode to a record only when they are an authentic image, and then no
///   single-bit change, truncation or extension of them decodes;
/// - an image of `data` made by [`encode`] decodes exactly when `data` is the JSON of a record,
///   the record survives a re-encode, and a flipped bit (chosen by the input) is refused;
/// - errors render, and a decoded record's Debug never shows its tokens.
pub fn check_settings_file(data: &[u8]) {
    match decode(data) {
        Ok(_) => must_not_decode_when_changed(data, data.len()),
        Err(e) => {
            let _ = e.to_string();
        }
    }

    let image = encode(data);
    let direct = serde_json::from_slice::<TokenRecord>(data);
    match decode(&image) {
        Ok(record) => {
            assert!(
                direct.is_ok(),
                "decoded a record from a non-record plaintext"
            );
            let json = serde_json::to_vec(&record).unwrap_or_default();
            let again = decode(&encode(&json));
            let again_json = again
                .map(|r| serde_json::to_vec(&r).unwrap_or_default())
                .unwrap_or_default();
            assert_eq!(json, again_json, "a record does not survive a re-encode");
            // A decoded record's Debug does not depend on its secrets' values.
            let mut other = record.clone();
            other.access_token = Secret::new("other");
            other.refresh_token = other.refresh_token.map(|_| Secret::new("other"));
            for value in other.secret_extras.values_mut() {
                *value = Secret::new("other");
            }
            assert_eq!(
                format!("{record:?}"),
                format!("{other:?}"),
                "Debug shows a secret"
            );
        }
        Err(e) => {
            assert!(direct.is_err(), "a record's image does not decode: {e}");
            assert!(matches!(e, Error::InvalidRecord { .. }), "{e:?}");
        }
    }
    let seed = data.iter().fold(0usize, |h, &b| {
        h.wrapping_mul(31).wrapping_add(usize::from(b))
    });
    must_not_decode_when_changed(&image, seed);
}

/// An authentic image with one bit flipped (at a few places, and one picked by `seed`),
/// truncated by a byte, or extended by one, must not decode.
fn must_not_decode_when_changed(image: &[u8], seed: usize) {
    let bits = image.len() * 8;
    if bits == 0 {
        return;
    }
    let picked = seed % bits;
    // The signature, version, KDF, iterations, key id, nonce, length, ciphertext and tag.
    let places = [
        0,
        64,
        72,
        80,
        112,
        240,
        336,
        HEADER_LEN * 8,
        bits - 1,
        picked,
    ];
    for bit in places.into_iter().filter(|&b| b < bits) {
        let mut changed = image.to_vec();
        changed[bit / 8] ^= 1 << (bit % 8);
        assert!(decode(&changed).is_err(), "decoded with bit {bit} flipped");
    }
    assert!(
        decode(&image[..image.len() - 1]).is_err(),
        "decoded truncated"
    );
    let mut longer = image.to_vec();
    longer.push(0);
    assert!(decode(&longer).is_err(), "decoded with a byte appended");
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every file of the seed corpus (none when `fuzz/` is not there).
    fn seeds() -> Vec<Vec<u8>> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/settings_file");
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .collect();
        files.sort();
        files.iter().map(|p| std::fs::read(p).unwrap()).collect()
    }

    #[test]
    fn settings_file_seeds_hold() {
        let mut record = TokenRecord::new("HubDB", "OAuth", Secret::new("access-token-value"));
        record.refresh_token = Some(Secret::new("refresh-token-value"));
        let json = serde_json::to_vec(&record).unwrap();
        let image = encode(&json);
        assert_eq!(
            decode(&image).unwrap().refresh_token.unwrap().expose(),
            "refresh-token-value"
        );
        let mut inputs = seeds();
        inputs.extend([json, image, Vec::new(), b"{}".to_vec(), vec![0x89; 100]]);
        for input in inputs {
            check_settings_file(&input);
        }
    }

    /// Writes the seed corpus: files saved by a `FileStore` (key file; passphrase) and an image
    /// of the same record under the fixed key, plus its plaintext JSON. Run after a format
    /// change: `cargo test -p token-store --lib write_settings_file_seeds -- --ignored`.
    #[test]
    #[ignore = "writes fuzz/corpus/settings_file/"]
    fn write_settings_file_seeds() {
        use crate::{FileStore, KeyConfig, TokenStore};

        let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/settings_file");
        std::fs::create_dir_all(&out).unwrap();
        let mut record = TokenRecord::new("HubDB", "OAuth", Secret::new("CJSP5qf1KhICAQEYs-gD"));
        record.refresh_token = Some(Secret::new("6f18f21e-a743-4509-b7fd-1a5e632fffa1"));
        record.set_expiry(1_700_000_000_000, Some(1800));
        record.client_id = Some("5fc7e3a2-client".to_owned());
        record.scope = Some("hubdb oauth".to_owned());
        record
            .extras
            .insert("hub_id".to_owned(), "12345".to_owned());
        record.secret_extras.insert(
            "pkce_verifier".to_owned(),
            Secret::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
        );
        let dir = tempfile::tempdir().unwrap();
        let configs = [
            (
                "filestore-key-file.bin",
                KeyConfig::key_file(dir.path().join("settings.key")),
            ),
            (
                "filestore-passphrase.bin",
                KeyConfig::passphrase(Secret::new("correct horse battery staple"))
                    .with_key_file(dir.path().join("settings.key"))
                    .with_iterations(1000),
            ),
        ];
        for (name, keys) in configs {
            let path = dir.path().join(name);
            FileStore::new(&path, keys).save(&record).unwrap();
            std::fs::copy(&path, out.join(name)).unwrap();
        }
        let json = serde_json::to_vec(&record).unwrap();
        std::fs::write(out.join("fixed-key-image.bin"), encode(&json)).unwrap();
        std::fs::write(out.join("record-plaintext.json"), json).unwrap();
    }
}
