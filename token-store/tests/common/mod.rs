//! Shared test helpers: temp dirs only, explicit key files, low PBKDF2 cost.
#![allow(dead_code, unreachable_pub, missing_docs)]

use std::path::{Path, PathBuf};

use token_store::{FileStore, KeyConfig, Secret, TokenRecord};

/// PBKDF2 iterations for tests that are not about the KDF.
pub const TEST_ITERATIONS: u32 = 1_000;

pub const CANARY_AT: &str = "CANARY-ACCESS-7f3a9c1e";
pub const CANARY_RT: &str = "CANARY-REFRESH-b2d4e6f8";
pub const CANARY_VERIFIER: &str = "CANARY-PKCE-VERIFIER-5a5a5a";
pub const CANARY_CLIENT_SECRET: &str = "CANARY-CLIENT-SECRET-0c0c0c";
pub const CANARY_PASSPHRASE: &str = "CANARY-PASSPHRASE-e1e2e3";

pub fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("token-store-test")
        .tempdir()
        .expect("tempdir")
}

/// A temp dir on tmpfs when available (fsync is free there), for tests doing many writes.
pub fn fast_tempdir() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir()
        && let Ok(d) = tempfile::Builder::new()
            .prefix("token-store-test")
            .tempdir_in(shm)
    {
        return d;
    }
    tempdir()
}

pub fn key_file(dir: &Path) -> PathBuf {
    dir.join("keys").join("settings.key")
}

pub fn settings(dir: &Path) -> PathBuf {
    dir.join("Act-On Data Provider").join("OAuthSettings.txt")
}

pub fn keyfile_store(dir: &Path) -> FileStore {
    FileStore::new(settings(dir), KeyConfig::key_file(key_file(dir)))
}

pub fn pass_keys(dir: &Path, pass: &str) -> KeyConfig {
    KeyConfig::passphrase(Secret::new(pass))
        .with_key_file(key_file(dir))
        .with_iterations(TEST_ITERATIONS)
}

pub fn pass_store(dir: &Path, pass: &str) -> FileStore {
    FileStore::new(settings(dir), pass_keys(dir, pass))
}

pub fn record(at: &str, rt: &str) -> TokenRecord {
    let mut r = TokenRecord::new("Act-On", "OAuth", Secret::new(at));
    r.refresh_token = Some(Secret::new(rt));
    r.client_id = Some("client-id-123".into());
    r.scope = Some("PRODUCTION".into());
    r.set_expiry(1_700_000_000_000, Some(3600));
    r
}

pub fn canary_record() -> TokenRecord {
    let mut r = record(CANARY_AT, CANARY_RT);
    r.secret_extras
        .insert("pkce_verifier".into(), Secret::new(CANARY_VERIFIER));
    r.secret_extras
        .insert("client_secret".into(), Secret::new(CANARY_CLIENT_SECRET));
    r.extras.insert("pkce_state".into(), "public-state".into());
    r
}

pub fn canaries() -> [&'static str; 5] {
    [
        CANARY_AT,
        CANARY_RT,
        CANARY_VERIFIER,
        CANARY_CLIENT_SECRET,
        CANARY_PASSPHRASE,
    ]
}

pub fn contains(haystack: &[u8], needle: &str) -> bool {
    let n = needle.as_bytes();
    haystack.windows(n.len()).any(|w| w == n)
}

#[cfg(unix)]
pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

#[cfg(unix)]
pub fn chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// Files in `dir` whose names end with `.tmp` (leftover temp files).
pub fn temp_files(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "tmp"))
                .collect()
        })
        .unwrap_or_default()
}
