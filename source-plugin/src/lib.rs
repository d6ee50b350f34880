//! How a data source plugs into the connector: one trait, [`Source`], that a source crate
//! implements once, and one line in the `sources` list that the CLI, the Python package, the
//! SQL session, the benchmarks and the demo iterate over.
//!
//! A [`Source`] declares:
//! - its names ([`SourceInfo`]: CLI subcommand and SQL schema, display name, Python module,
//!   accepted aliases);
//! - its connection properties ([`connstr::Properties`]: its own, plus the shared ones) and how
//!   a parsed connection string becomes its typed configuration ([`Source::validate`], with
//!   [`connstr::Validator`]);
//! - how a connection authenticates ([`Auth`]: OAuth over an `auth-core` provider, a static
//!   token, or nothing), from which the token provider, `login`/`status`/`logout` and the OAuth
//!   procedures ([`oauth::OAuthProcedures`]) follow without source-specific code;
//! - `connect` → `Arc<dyn DataSource>`, and its own procedures ([`Source::procedures`]);
//! - its errors' kinds: every error it returns is a [`source_core::Error`] whose
//!   [`kind`](source_core::Error::kind) callers act on, so no caller downcasts.
//!
//! Callers hold sources as `&'static dyn` [`AnySource`] (implemented for every [`Source`]),
//! validate a connection string once at the edge with [`AnySource::configure`], and pass the
//! resulting [`Connection`] down.
//!
//! ```
//! use source_plugin::{AnySource, Connection};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let source: &'static dyn AnySource = &source_plugin::example::Example;
//! assert_eq!(source.info().name, "example");
//! let connection: Connection = source.configure(&"Rows=3".parse()?)?;
//! let data = connection.open()?;
//! assert_eq!(data.name(), "memory");
//! let err = source.configure(&"Rowz=3".parse()?).unwrap_err();
//! assert_eq!(err.to_string(), "1 problem in the Example connection string:\n  - unknown property Rowz; did you mean Rows?");
//! # Ok(()) }
//! ```
//!
//! # Adding a source
//! The recipe, with `source-files` as the template to copy, is in
//! `docs/adding-a-source.md`. In short: a crate `source-<name>` with
//! `default = ["data"]`, whose non-`data` part (properties, typed configuration, auth
//! provider) is usable without Arrow, and whose `data` part implements
//! [`source_core::DataSource`] and [`Source`]; then one line in `sources/Cargo.toml` (whose
//! `build.rs` generates the list) and the workspace member. Nothing else is edited: the CLI, Python, SQL, `tidy` and the docs'
//! property tables derive from the list.
#![forbid(unsafe_code)]

pub mod example;
pub mod oauth;

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use auth_core::provider::Provider;
use auth_core::{Authenticator, Grant, SharedTokenProvider, StaticTokenProvider};
use connstr::validate::{ResolvedProperty, ValidationError};
use connstr::{CommonConfig, ConnectionString, Properties};
use source_core::procedure::{ProcedureSet, Procedures};
use source_core::{DataSource, Error, ErrorKind, Result};

/// The names a source goes by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceInfo {
    /// The CLI subcommand, the SQL schema and the Python module name: `hubdb`.
    pub name: &'static str,
    /// The name in messages and token-file paths: `HubDB`.
    pub display_name: &'static str,
    /// Other spellings accepted where a source is named in text (`act-on`).
    pub aliases: &'static [&'static str],
    /// One line: what it connects to (CLI help, Python module docs).
    pub description: &'static str,
}

impl SourceInfo {
    /// Whether `text` names this source (name, display name or alias, ignoring case).
    pub fn is_named(&self, text: &str) -> bool {
        let text = text.trim();
        [self.name, self.display_name]
            .iter()
            .chain(self.aliases)
            .any(|n| n.eq_ignore_ascii_case(text))
    }
}

/// How a connection authenticates.
#[derive(Debug, Clone)]
pub enum Auth {
    /// OAuth over an `auth-core` provider: tokens obtained with `grant`, stored and refreshed
    /// as `common` says (`InitiateOAuth`, `OAuthSettingsLocation`, …).
    OAuth {
        /// The provider definition.
        provider: Box<Provider>,
        /// The grant that obtains a first token.
        grant: Grant,
        /// The connection's shared properties.
        common: Box<CommonConfig>,
    },
    /// A static bearer token (a private-app token, an API key).
    Static {
        /// The token.
        provider: StaticTokenProvider,
        /// What `login`/`status`/`logout` print instead of acting.
        note: &'static str,
    },
    /// Nothing to authenticate (local data).
    None,
}

impl Auth {
    /// The token provider requests use; `None` when nothing authenticates.
    pub fn token_provider(&self) -> Result<Option<SharedTokenProvider>> {
        match self {
            Self::OAuth {
                provider,
                grant,
                common,
            } => auth_core::authenticator_for((**provider).clone(), common, grant.clone())
                .map(Some)
                .map_err(auth_error),
            Self::Static { provider, .. } => Ok(Some(Arc::new(provider.clone()))),
            Self::None => Ok(None),
        }
    }

    /// The authenticator behind `login`, `status` and `logout`; `None` unless OAuth.
    pub fn authenticator(&self) -> Result<Option<Authenticator>> {
        match self {
            Self::OAuth {
                provider,
                grant,
                common,
            } => Authenticator::from_config((**provider).clone(), common, grant.clone())
                .map(Some)
                .map_err(auth_error),
            _ => Ok(None),
        }
    }

    /// The OAuth procedures (`GetOAuthAuthorizationURL`, `GetOAuthAccessToken`,
    /// `RefreshOAuthAccessToken`) when this is OAuth.
    pub fn procedures(&self) -> Option<oauth::OAuthProcedures> {
        match self {
            Self::OAuth {
                provider,
                grant,
                common,
            } => Some(oauth::OAuthProcedures::new(
                (**provider).clone(),
                (**common).clone(),
                grant.clone(),
            )),
            _ => None,
        }
    }
}

/// An `auth-core` error as a [`source_core::Error`] of the right kind.
pub fn auth_error(e: auth_core::Error) -> Error {
    Error::with_kind(source_http::auth_kind(&e), e)
}

/// What a source crate implements to plug in. See the crate docs.
pub trait Source: Send + Sync + 'static {
    /// The typed configuration [`Source::validate`] produces.
    type Config: AsRef<CommonConfig> + AsMut<CommonConfig> + Clone + fmt::Debug + Send + Sync;

    /// The source's names.
    fn info(&self) -> &'static SourceInfo;

    /// Every connection property it accepts.
    fn properties(&self) -> &'static Properties;

    /// A parsed connection string checked into the typed configuration, every problem at once.
    fn validate(&self, cs: &ConnectionString) -> Result<Self::Config, ValidationError>;

    /// How a connection authenticates (no request is made).
    fn auth(&self, config: &Self::Config) -> Result<Auth>;

    /// The data source of a connection (no request is made until it is used). `MaxRows` in
    /// the configuration caps every scan.
    fn connect(&self, config: &Self::Config) -> Result<Arc<dyn DataSource>>;

    /// The source's own procedures (the OAuth trio comes from [`Source::oauth_procedures`]).
    /// They must not need a token to be listed.
    fn procedures(&self, _config: &Self::Config) -> Result<Vec<Arc<dyn ProcedureSet>>> {
        Ok(Vec::new())
    }

    /// The OAuth procedures: by default those of [`Source::auth`] when it is OAuth. A source
    /// whose static-token schemes still have an OAuth app (CData lists the OAuth procedures for
    /// every HubDB connection) overrides this.
    fn oauth_procedures(&self, config: &Self::Config) -> Result<Option<oauth::OAuthProcedures>> {
        Ok(self.auth(config)?.procedures())
    }
}

/// A [`Source`] as callers hold it: object-safe, implemented for every [`Source`].
pub trait AnySource: Send + Sync + 'static {
    /// The source's names.
    fn info(&self) -> &'static SourceInfo;

    /// Every connection property it accepts.
    fn properties(&self) -> &'static Properties;

    /// Validates `cs` once into a [`Connection`] to pass down.
    fn configure(&'static self, cs: &ConnectionString) -> Result<Connection, ValidationError>;

    #[doc(hidden)]
    fn erased_auth(&self, config: &(dyn Any + Send + Sync)) -> Result<Auth>;

    #[doc(hidden)]
    fn erased_connect(
        &self,
        config: &(dyn Any + Send + Sync),
        max_rows: bool,
    ) -> Result<Arc<dyn DataSource>>;

    #[doc(hidden)]
    fn erased_procedures(
        &self,
        config: &(dyn Any + Send + Sync),
    ) -> Result<Vec<Arc<dyn ProcedureSet>>>;

    #[doc(hidden)]
    fn erased_oauth_procedures(
        &self,
        config: &(dyn Any + Send + Sync),
    ) -> Result<Option<oauth::OAuthProcedures>>;
}

impl fmt::Debug for dyn AnySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Source({})", self.info().name)
    }
}

fn typed<'a, S: Source>(source: &S, config: &'a (dyn Any + Send + Sync)) -> Result<&'a S::Config> {
    config.downcast_ref::<S::Config>().ok_or_else(|| {
        Error::with_kind(
            ErrorKind::Internal,
            format!(
                "a connection was handed to the {} source that it did not configure",
                source.info().display_name
            ),
        )
    })
}

impl<S: Source> AnySource for S {
    fn info(&self) -> &'static SourceInfo {
        Source::info(self)
    }

    fn properties(&self) -> &'static Properties {
        Source::properties(self)
    }

    fn configure(&'static self, cs: &ConnectionString) -> Result<Connection, ValidationError> {
        let config = self.validate(cs)?;
        Ok(Connection {
            source: self,
            common: config.as_ref().clone(),
            resolved: connstr::validate::resolve(Source::properties(self), cs),
            config: Arc::new(config),
        })
    }

    fn erased_auth(&self, config: &(dyn Any + Send + Sync)) -> Result<Auth> {
        self.auth(typed(self, config)?)
    }

    fn erased_connect(
        &self,
        config: &(dyn Any + Send + Sync),
        max_rows: bool,
    ) -> Result<Arc<dyn DataSource>> {
        let config = typed(self, config)?;
        if max_rows {
            self.connect(config)
        } else {
            let mut config = config.clone();
            config.as_mut().max_rows = None;
            self.connect(&config)
        }
    }

    fn erased_procedures(
        &self,
        config: &(dyn Any + Send + Sync),
    ) -> Result<Vec<Arc<dyn ProcedureSet>>> {
        self.procedures(typed(self, config)?)
    }

    fn erased_oauth_procedures(
        &self,
        config: &(dyn Any + Send + Sync),
    ) -> Result<Option<oauth::OAuthProcedures>> {
        self.oauth_procedures(typed(self, config)?)
    }
}

/// A validated connection of some source: what the edges (CLI, Python, gateway) build once
/// from a connection string and pass down. Cheap to clone; its Debug output has no secrets.
#[derive(Clone)]
pub struct Connection {
    source: &'static dyn AnySource,
    config: Arc<dyn Any + Send + Sync>,
    common: CommonConfig,
    resolved: Vec<ResolvedProperty>,
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("source", &self.source.info().name)
            .field("common", &self.common)
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// The source this connection is for.
    pub fn source(&self) -> &'static dyn AnySource {
        self.source
    }

    /// The source's names.
    pub fn info(&self) -> &'static SourceInfo {
        self.source.info()
    }

    /// The shared properties, typed (`Logfile`, `Verbosity`, `MaxRows`, `Timeout`, …).
    pub fn common(&self) -> &CommonConfig {
        &self.common
    }

    /// Every property with the value it resolves to, secrets masked (`sys_connection_props`,
    /// `connector <source> check`).
    pub fn resolved_properties(&self) -> &[ResolvedProperty] {
        &self.resolved
    }

    /// How this connection authenticates.
    pub fn auth(&self) -> Result<Auth> {
        self.source.erased_auth(self.config.as_ref())
    }

    /// The data source, with `MaxRows` capping every scan (`connector <source> read`).
    pub fn open(&self) -> Result<Arc<dyn DataSource>> {
        self.source.erased_connect(self.config.as_ref(), true)
    }

    /// The data source for a SQL session, which applies `MaxRows` to results itself (so that
    /// aggregates still read every row, as CData does).
    pub fn open_for_sql(&self) -> Result<Arc<dyn DataSource>> {
        self.source.erased_connect(self.config.as_ref(), false)
    }

    /// Every procedure of the connection: the source's own and, for OAuth sources, the OAuth
    /// trio. Needs no token.
    pub fn procedures(&self) -> Result<Procedures> {
        let mut procedures = Procedures::new(self.source.erased_procedures(self.config.as_ref())?);
        if let Some(oauth) = self.source.erased_oauth_procedures(self.config.as_ref())? {
            procedures.push(Arc::new(oauth));
        }
        Ok(procedures)
    }
}

/// Why a source name was not found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown source {name:?}{}; sources: {known}", suggestion.map(|s| format!(" (did you mean {s}?)")).unwrap_or_default())]
pub struct UnknownSource {
    /// As written.
    pub name: String,
    /// The nearest registered source.
    pub suggestion: Option<&'static str>,
    /// Every registered source, comma-separated.
    pub known: String,
}

/// The source of `list` that `name` names (its name, display name or an alias, ignoring case).
///
/// ```
/// let list: &[&'static dyn source_plugin::AnySource] = &[&source_plugin::example::Example];
/// assert_eq!(source_plugin::find(list, "EXAMPLE").unwrap().info().name, "example");
/// assert_eq!(
///     source_plugin::find(list, "exmaple").unwrap_err().to_string(),
///     "unknown source \"exmaple\" (did you mean example?); sources: example"
/// );
/// ```
pub fn find(
    list: &[&'static dyn AnySource],
    name: &str,
) -> Result<&'static dyn AnySource, UnknownSource> {
    if let Some(found) = list.iter().find(|s| s.info().is_named(name)) {
        return Ok(*found);
    }
    let names: Vec<&'static str> = list.iter().map(|s| s.info().name).collect();
    Err(UnknownSource {
        name: name.to_owned(),
        suggestion: source_core::nearest(name, &names)
            .and_then(|n| names.iter().copied().find(|k| *k == n)),
        known: names.join(", "),
    })
}
