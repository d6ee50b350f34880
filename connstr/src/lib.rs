//! Connection strings for the Act-On and HubDB connectors.
//!
//! - [`ConnectionString`]: the ADO.NET grammar (`Name=Value;…`, quoting with `'`/`"`, `==` in
//!   keys, last pair wins, `K=` unsets), with positioned, masked [`SyntaxError`]s.
//! - [`registry`]: how a property is declared, the properties every source shares
//!   ([`registry::SHARED`]: OAuth, proxy, firewall, SSL, logging, timeout, paging, …) and a
//!   source's whole set ([`Properties`]). Source crates declare their own properties here.
//! - [`validate`]: a parsed string checked against a source's properties into a typed
//!   configuration with one [`validate::Validator`], every problem reported at once with a
//!   suggestion; [`CommonConfig`] is the typed form of the shared properties.
//! - [`profiles`]: named connection profiles from a TOML file, like ODBC DSNs.
//!
//! This crate knows no source: which sources exist, and their own properties, live in the
//! source crates and the `sources` list above them.
//!
//! ```
//! use connstr::{ConnectionString, Secret};
//! let cs: ConnectionString = "AuthScheme=PrivateApp;PrivateAppToken=pat-123".parse()?;
//! assert_eq!(cs.get("privateapptoken"), Some("pat-123"));
//! assert_eq!(format!("{:?}", Secret::new("pat-123")), "Secret([redacted])");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]

mod grammar;
pub mod profiles;
pub mod registry;
mod secret;
pub mod validate;

pub use grammar::{ConnectionString, SyntaxError, SyntaxErrorKind, is_sensitive_key};
pub use registry::{Properties, PropertyDef, PropertyType};
pub use secret::{MASK, Secret};
pub use validate::{CommonConfig, InitiateOAuth, Problem, ValidationError, Validator};
