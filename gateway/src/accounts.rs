//! The accounts the gateway serves: each connection's data source, procedures and options,
//! built once for the whole gateway and shared by every user's SQL session.
//!
//! Sharing the one `Arc<dyn DataSource>` of a connection is what gives an account a single
//! token owner (its token provider refreshes once, under the token store's lock) and a single
//! rate budget (its limiter or pacer paces every query of every client together).

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use source_core::procedure::Procedures;
use source_core::{BoxFuture, DataSource, RecordBatchStream, Result as SourceResult, ScanRequest};
use source_core::{Filter, FilterSupport, SortKey, TableInfo, WriteOutcome};
use source_plugin::Connection;
use tokio::sync::{Mutex, OnceCell};

use crate::error::{Error, Result};
use crate::users::Visibility;

/// One served connection: its schema name and what every session shares.
#[derive(Debug, Clone)]
pub struct Account {
    /// The schema name (the profile's name, lower case): `portal_eu`.
    pub name: String,
    source: Arc<dyn DataSource>,
    procedures: Arc<Procedures>,
    options: sql::SessionOptions,
}

impl Account {
    /// Opens `connection` once under `name` (no request is made until a query needs one).
    pub fn open(name: &str, connection: &Connection) -> Result<Self> {
        let failed = |e: source_core::Error| Error::Profiles {
            path: Default::default(),
            message: format!("connection {name:?}: {e}"),
        };
        Ok(Self {
            name: name.to_lowercase(),
            source: Arc::new(SharedTables::new(
                connection.open_for_sql().map_err(failed)?,
            )),
            procedures: Arc::new(connection.procedures().map_err(failed)?),
            options: sql::SessionOptions::from_connection(connection),
        })
    }
}

/// Every account, and one SQL session per distinct set of visible connections.
#[derive(Debug)]
pub struct Accounts {
    accounts: Vec<Account>,
    sessions: Mutex<HashMap<Vec<String>, Arc<sql::Session>>>,
}

impl Accounts {
    /// The accounts to serve; their names must differ.
    pub fn new(accounts: Vec<Account>) -> Result<Self> {
        if accounts.is_empty() {
            return Err(Error::NoConnections);
        }
        for (i, a) in accounts.iter().enumerate() {
            if accounts[..i].iter().any(|b| b.name == a.name) {
                return Err(Error::DuplicateConnection {
                    name: a.name.clone(),
                });
            }
        }
        Ok(Self {
            accounts,
            sessions: Mutex::new(HashMap::new()),
        })
    }

    /// Every profile of a profiles file, each opened once under its profile's name.
    ///
    /// ```no_run
    /// let accounts = gateway::Accounts::from_profiles(std::path::Path::new("profiles.toml"))?;
    /// assert!(!accounts.names().is_empty());
    /// # Ok::<(), gateway::Error>(())
    /// ```
    pub fn from_profiles(path: &Path) -> Result<Self> {
        let mut accounts = Vec::new();
        for (name, connection) in crate::profiles::connections(path)? {
            accounts.push(Account::open(&name, &connection).map_err(|e| match e {
                Error::Profiles { message, .. } => Error::Profiles {
                    path: path.to_owned(),
                    message,
                },
                other => other,
            })?);
        }
        Self::new(accounts)
    }

    /// The names of the served connections, in order.
    pub fn names(&self) -> Vec<String> {
        self.accounts.iter().map(|a| a.name.clone()).collect()
    }

    /// The SQL session over the connections `visibility` allows, made on first use (reading
    /// each account's table list once for the whole gateway) and shared afterwards.
    pub async fn session(&self, visibility: &Visibility) -> sql::Result<Arc<sql::Session>> {
        let visible: Vec<&Account> = self
            .accounts
            .iter()
            .filter(|a| visibility.allows(&a.name))
            .collect();
        let key: Vec<String> = visible.iter().map(|a| a.name.clone()).collect();
        let mut sessions = self.sessions.lock().await;
        if let Some(session) = sessions.get(&key) {
            return Ok(session.clone());
        }
        let mut session = sql::Session::new();
        for account in visible {
            session
                .register_source(
                    &account.name,
                    account.source.clone(),
                    account.options.clone(),
                )
                .await?;
            session.register_procedures(&account.name, account.procedures.clone());
        }
        let session = Arc::new(session);
        sessions.insert(key, session.clone());
        Ok(session)
    }
}

/// A connection's data source whose table list is read once and shared by every session:
/// users' sessions are built from it without asking the service again.
#[derive(Debug)]
struct SharedTables {
    inner: Arc<dyn DataSource>,
    tables: OnceCell<Vec<TableInfo>>,
}

impl SharedTables {
    fn new(inner: Arc<dyn DataSource>) -> Self {
        Self {
            inner,
            tables: OnceCell::new(),
        }
    }
}

impl DataSource for SharedTables {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn list_tables(&self) -> BoxFuture<'_, SourceResult<Vec<TableInfo>>> {
        Box::pin(async move {
            self.tables
                .get_or_try_init(|| self.inner.list_tables())
                .await
                .cloned()
        })
    }

    /// From the shared list; a table listed without columns is described by the source.
    fn table<'a>(&'a self, name: &'a str) -> BoxFuture<'a, SourceResult<TableInfo>> {
        Box::pin(async move {
            let tables = self.list_tables().await?;
            let listed = source_core::find_table(&tables, name)?;
            if listed.is_described() {
                Ok(listed.clone())
            } else {
                self.inner.table(&listed.name).await
            }
        })
    }

    fn filter_support(&self, table: &TableInfo, filter: &Filter) -> FilterSupport {
        self.inner.filter_support(table, filter)
    }

    fn sort_support(&self, table: &TableInfo, order: &[SortKey]) -> bool {
        self.inner.sort_support(table, order)
    }

    fn scan<'a>(
        &'a self,
        table: &'a str,
        request: ScanRequest,
    ) -> BoxFuture<'a, SourceResult<RecordBatchStream>> {
        self.inner.scan(table, request)
    }

    fn insert<'a>(
        &'a self,
        table: &'a str,
        rows: arrow_array::RecordBatch,
    ) -> BoxFuture<'a, SourceResult<WriteOutcome>> {
        self.inner.insert(table, rows)
    }

    fn update<'a>(
        &'a self,
        table: &'a str,
        rows: arrow_array::RecordBatch,
    ) -> BoxFuture<'a, SourceResult<WriteOutcome>> {
        self.inner.update(table, rows)
    }

    fn delete<'a>(
        &'a self,
        table: &'a str,
        keys: arrow_array::RecordBatch,
    ) -> BoxFuture<'a, SourceResult<WriteOutcome>> {
        self.inner.delete(table, keys)
    }
}
