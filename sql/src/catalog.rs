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
use source_core::{DataSource, TableInfo};

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
            let batch = system::build(system, &self.catalog)
                .map_err(|e| DataFusionError::External(Box::new(e)))?;
            let table = MemTable::try_new(batch.schema(), vec![vec![batch]])?;
            return Ok(Some(Arc::new(table)));
        }
        Ok(self
            .catalog
            .find_table(name)
            .map(|(s, info)| Arc::new(SourceTable::new(s.source.clone(), info)) as _))
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
        Ok(self
            .entry
            .table(name)
            .map(|info| Arc::new(SourceTable::new(self.entry.source.clone(), info)) as _))
    }

    fn table_exist(&self, name: &str) -> bool {
        self.entry.table(name).is_some()
    }
}
