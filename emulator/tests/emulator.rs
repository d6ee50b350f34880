//! Integration tests: every endpoint over real HTTP on loopback.

mod emulator {
    mod acton;
    mod cli;
    mod common;
    mod control;
    mod faults;
    mod hubdb;
    mod hubspot_oauth;
}
