//! Fuzzes auth-core's token-response parser with arbitrary bodies under several HTTP statuses:
//! no panic, tokens only from a 2xx, and the request's secret never in an error message
//! (`auth_core::fuzzing::check_token_response`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| auth_core::fuzzing::check_token_response(data));
