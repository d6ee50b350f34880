//! Fuzzes the loopback callback listener's request handling: head detection (whole and in
//! chunks), request-line parsing, the state/code decision and the page sent back
//! (`auth_core::fuzzing::check_callback_request`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| auth_core::fuzzing::check_callback_request(data));
