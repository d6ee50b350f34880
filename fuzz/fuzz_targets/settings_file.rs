//! Fuzzes token-store's settings-file decoder (header, AES-256-GCM, record JSON) with a fixed
//! key: arbitrary bytes never decode, an encoded record does, and a changed image does not
//! (`token_store::fuzzing::check_settings_file`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| token_store::fuzzing::check_settings_file(data));
