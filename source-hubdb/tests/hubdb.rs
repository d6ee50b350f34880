//! Integration tests against the HubSpot emulator over loopback HTTP.

#[path = "hubdb/common.rs"]
mod common;
#[path = "hubdb/discovery.rs"]
mod discovery;
#[path = "hubdb/faults.rs"]
mod faults;
#[path = "hubdb/paging.rs"]
mod paging;
#[path = "hubdb/pushdown.rs"]
mod pushdown;
#[path = "hubdb/writes.rs"]
mod writes;
