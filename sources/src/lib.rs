//! The registered sources: the one list that the `connector` CLI (its subcommands), the
//! Python package (its `connector.<source>` modules), SQL sessions, the benchmarks, the demo
//! and `cargo xtask tidy` (its layers) iterate over.
//!
//! The list is this crate's `Cargo.toml`: every `source-<name>` dependency there is
//! registered, in order, through the crate's `SOURCE` constant. Adding a source is its crate,
//! that one line, and the workspace member; see `docs/adding-a-source.md`.
//!
//! ```
//! let names: Vec<&str> = sources::ALL.iter().map(|s| s.info().name).collect();
//! assert!(names.starts_with(&["hubdb", "acton"]));
//! assert_eq!(sources::find("Act-On").unwrap().info().name, "acton");
//! assert!(sources::find("hubspot-crm").is_err());
//! ```
#![forbid(unsafe_code)]

use source_plugin::{AnySource, UnknownSource};

/// Every registered source, in the order of this crate's `Cargo.toml`.
pub static ALL: &[&'static dyn AnySource] = include!(concat!(env!("OUT_DIR"), "/registered.rs"));

/// The registered source that `name` names: its name, display name or an alias, ignoring case.
pub fn find(name: &str) -> Result<&'static dyn AnySource, UnknownSource> {
    source_plugin::find(ALL, name)
}
