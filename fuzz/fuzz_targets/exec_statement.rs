//! Fuzzes the SQL layer's lexer and `EXEC` statement parser: no panic, and a parsed call
//! survives being written back and parsed again (`sql::fuzzing::check_exec_statement`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sql::fuzzing::check_exec_statement(data));
