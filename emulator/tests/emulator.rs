//! Integration tests: every endpoint over real HTTP on loopback.

mod emulator {
    mod acton;
    mod acton_writes;
    mod batch_limits;
    mod cli;
    mod common;
    mod control;
    mod faults;
    mod hubdb;
    mod hubspot_oauth;
    mod introspect;
    mod schemas;
    mod service_keys;
    mod versions;
}
