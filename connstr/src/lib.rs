//! Connection strings for the Act-On and HubDB connectors.
//!
//! - [`ConnectionString`]: the ADO.NET grammar (`Name=Value;…`, quoting with `'`/`"`, `==` in
//!   keys, last pair wins, `K=` unsets), with positioned, masked [`SyntaxError`]s.
//! - [`registry`]: every connection property each source accepts, declared once.
//! - [`validate`]: a parsed string checked against the registry into a typed configuration
//!   ([`ActOnConfig`], [`HubDbConfig`]), every problem reported at once with a suggestion.
//! - [`profiles`]: named connection profiles from a TOML file, like ODBC DSNs.
//!
//! ```
//! use connstr::{ConnectionString, Source, validate};
//! let cs: ConnectionString = "AuthScheme=PrivateApp;PrivateAppToken=pat-123".parse()?;
//! let config = validate::hubdb(&cs)?;
//! assert_eq!(config.auth_scheme, connstr::HubDbAuthScheme::PrivateApp);
//! assert_eq!(format!("{:?}", config.private_app_token), "Some(Secret([redacted]))");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]

mod grammar;
pub mod profiles;
pub mod registry;
mod secret;
pub mod validate;

pub use grammar::{ConnectionString, SyntaxError, SyntaxErrorKind, is_sensitive_key};
pub use registry::{PropertyDef, PropertyType, Source};
pub use secret::{MASK, Secret};
pub use validate::{
    ActOnAuthScheme, ActOnConfig, ActOnRegion, CommonConfig, HubDbAuthScheme, HubDbConfig,
    InitiateOAuth, Problem, ValidationError,
};
