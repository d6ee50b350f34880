//! What a session knows: its sources (with their table lists), procedures and
//! connection properties, exposed to DataFusion as schemas.
//!
//! Every source's tables are in the default schema unqualified (the first registered source
//! wins a name clash) and in a schema named after the source, so `hubdb.events` and
//! `acton.Messages` can meet in one join. System tables live in the default schema.

use std::sync::{Arc, RwLock, RwLockReadGuard};

use async_trait::async_trait;
use connstr::validate::ResolvedProperty;
use datafusion::catalog::{MemTable, SchemaProvider};
use datafusion::datasource::TableProvider;
use datafusion::error::{DataFusionError, Result as DfResult};
use source_core::procedure::Procedures;
use source_core::{DataSource, Error as SourceError, TableInfo};

use crate::identity::IdentityLog;
use crate::provider::SourceTable;
use crate::system;

/// One registered source.
#[derive(Debug)]
pub(crate) struct Registered {
    /// The schema name (`hubdb`).
    pub(crate) name: String,
    pub(crate) source: Arc<dyn DataSource>,
    /// The table list, read at registration and on [`crate::Session::refresh`].
    pub(crate) tables: RwLock<Vec<TableInfo>>,
    /// The connection's properties as `sys_connection_props` shows them (secrets masked).
    pub(crate) properties: Vec<ResolvedProperty>,
}

impl Registered {
    pub(crate) fn tables(&self) -> RwLockReadGuard<'_, Vec<TableInfo>> {
        // A panic elsewhere while holding the lock leaves the list intact: keep serving it.
        self.tables.read().unwrap_or_else(|e| e.into_inner())
    }

    /// The table called `name`: exact, then ignoring case.
    pub(crate) fn table(&self, name: &str) -> Option<TableInfo> {
        let tables = self.tables();
        tables
            .iter()
            .find(|t| t.name == name)
            .or_else(|| tables.iter().find(|t| t.name.eq_ignore_ascii_case(name)))
            .cloned()
    }

    /// The table called `name` with its columns, reading them from the source (once) when it
    /// was listed without them; `None` when there is no such table.
    pub(crate) async fn described(&self, name: &str) -> Result<Option<TableInfo>, SourceError> {
        let Some(info) = self.table(name) else {
            return Ok(None);
        };
        if info.is_described() {
            return Ok(Some(info));
        }
        let described = self.source.table(&info.name).await?;
        let mut tables = self.tables.write().unwrap_or_else(|e| e.into_inner());
        if let Some(slot) = tables.iter_mut().find(|t| t.name == info.name) {
            *slot = described.clone();
        }
        Ok(Some(described))
    }

    /// Reads the columns of every table listed without them.
    pub(crate) async fn describe_all(&self) -> Result<(), SourceError> {
        let pending: Vec<String> = self
            .tables()
            .iter()
            .filter(|t| !t.is_described())
            .map(|t| t.name.clone())
            .collect();
        for name in pending {
            self.described(&name).await?;
        }
        Ok(())
    }
}

/// The procedures of one connection, under its schema name.
#[derive(Debug, Clone)]
pub(crate) struct Runner {
    pub(crate) schema: String,
    pub(crate) procedures: Arc<Procedures>,
}

/// Everything registered in a session.
#[derive(Debug, Default)]
pub(crate) struct Catalog {
    sources: RwLock<Vec<Arc<Registered>>>,
    runners: RwLock<Vec<Runner>>,
    /// The last write's rows (`sys_identity`, `SCOPE_IDENTITY()`).
    pub(crate) identity: Arc<IdentityLog>,
}

impl Catalog {
    pub(crate) fn sources(&self) -> Vec<Arc<Registered>> {
        self.sources
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub(crate) fn runners(&self) -> Vec<Runner> {
        self.runners
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Adds or replaces the source registered under `entry.name`.
    pub(crate) fn add_source(&self, entry: Arc<Registered>) {
        let mut sources = self.sources.write().unwrap_or_else(|e| e.into_inner());
        sources.retain(|s| !s.name.eq_ignore_ascii_case(&entry.name));
        sources.push(entry);
    }

    /// Adds or replaces the runner registered under `runner.schema`.
    pub(crate) fn add_runner(&self, runner: Runner) {
        let mut runners = self.runners.write().unwrap_or_else(|e| e.into_inner());
        runners.retain(|r| !r.schema.eq_ignore_ascii_case(&runner.schema));
        runners.push(runner);
    }

    /// The source registered as `name`, ignoring case.
    pub(crate) fn source(&self, name: &str) -> Option<Arc<Registered>> {
        let sources = self.sources();
        let found = sources
            .iter()
            .find(|s| s.name == name)
            .or_else(|| sources.iter().find(|s| s.name.eq_ignore_ascii_case(name)));
        found.cloned()
    }

    /// An unqualified table: the first source having it exactly, else ignoring case.
    pub(crate) fn find_table(&self, name: &str) -> Option<(Arc<Registered>, TableInfo)> {
        let sources = self.sources();
        for exact in [true, false] {
            for s in &sources {
                let tables = s.tables();
                let hit = tables.iter().find(|t| {
                    if exact {
                        t.name == name
                    } else {
                        t.name.eq_ignore_ascii_case(name)
                    }
                });
                if let Some(t) = hit {
                    return Some((s.clone(), t.clone()));
                }
            }
        }
        None
    }

    /// Describes every table of every source (for the system tables built from columns).
    pub(crate) async fn describe_all(&self) -> Result<(), SourceError> {
        for s in self.sources() {
            s.describe_all().await?;
        }
        Ok(())
    }

    /// Describes the tables a statement names as `schema.table` or `table`: in the source
    /// registered as `schema`, else in every source having the name (an unqualified name
    /// resolves to the first). A system table built from columns describes them all.
    pub(crate) async fn describe_named(
        &self,
        schema: Option<&str>,
        table: &str,
    ) -> Result<(), SourceError> {
        if system::needs_columns(table) {
            return self.describe_all().await;
        }
        let sources = self.sources();
        let named: Vec<_> = sources
            .iter()
            .filter(|s| schema.is_some_and(|n| s.name.eq_ignore_ascii_case(n)))
            .collect();
        let targets = if named.is_empty() {
            sources.iter().collect()
        } else {
            named
        };
        for s in targets {
            s.described(table).await?;
        }
        Ok(())
    }

    /// Every table name, for suggestions.
    pub(crate) fn all_table_names(&self) -> Vec<String> {
        let mut names: Vec<String> = system::NAMES.iter().map(|s| (*s).to_owned()).collect();
        for s in self.sources() {
            names.extend(s.tables().iter().map(|t| t.name.clone()));
        }
        names
    }
}

/// The default schema: system tables and every source's tables unqualified.
#[derive(Debug)]
pub(crate) struct DefaultSchema {
    pub(crate) catalog: Arc<Catalog>,
}

#[async_trait]
impl SchemaProvider for DefaultSchema {
    fn table_names(&self) -> Vec<String> {
        self.catalog.all_table_names()
    }

    async fn table(&self, name: &str) -> DfResult<Option<Arc<dyn TableProvider>>> {
        if let Some(system) = system::NAMES.iter().find(|n| n.eq_ignore_ascii_case(name)) {
            if system::needs_columns(system) {
                self.catalog.describe_all().await.map_err(external)?;
            }
            let batch = system::build(system, &self.catalog).map_err(external)?;
            let table = MemTable::try_new(batch.schema(), vec![vec![batch]])?;
            return Ok(Some(Arc::new(table)));
        }
        let Some((source, info)) = self.catalog.find_table(name) else {
            return Ok(None);
        };
        let info = source.described(&info.name).await.map_err(external)?;
        Ok(info.map(|info| Arc::new(SourceTable::new(source.source.clone(), info)) as _))
    }

    fn table_exist(&self, name: &str) -> bool {
        system::NAMES.iter().any(|n| n.eq_ignore_ascii_case(name))
            || self.catalog.find_table(name).is_some()
    }
}

/// The tables of one source, as the schema named after it.
#[derive(Debug)]
pub(crate) struct SourceSchema {
    pub(crate) entry: Arc<Registered>,
}

#[async_trait]
impl SchemaProvider for SourceSchema {
    fn table_names(&self) -> Vec<String> {
        self.entry.tables().iter().map(|t| t.name.clone()).collect()
    }

    async fn table(&self, name: &str) -> DfResult<Option<Arc<dyn TableProvider>>> {
        let info = self.entry.described(name).await.map_err(external)?;
        Ok(info.map(|info| Arc::new(SourceTable::new(self.entry.source.clone(), info)) as _))
    }

    fn table_exist(&self, name: &str) -> bool {
        self.entry.table(name).is_some()
    }
}

fn external(e: SourceError) -> DataFusionError {
    DataFusionError::External(Box::new(e))
}
