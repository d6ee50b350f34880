//! SQL over connector sources, on Apache DataFusion: the CData-style query layer.
//!
//! A [`Session`] holds one or more connections ([`DataSource`]s). Each source's tables are
//! registered twice: unqualified in the default schema (`SELECT * FROM events`) and under
//! the source's name (`hubdb.events`, so two sources can meet in one join). The system
//! tables (`sys_tables`, `sys_tablecolumns`, `sys_procedures`, `sys_procedureparameters`,
//! `sys_connection_props`, `sys_sqlinfo`, `sys_schemas`, `sys_catalogs`, `sys_primarykeys`,
//! `sys_keycolumns`, `sys_foreignkeys`, `sys_indexes`, `sys_identity`, `sys_information`) sit in
//! the default schema and are built from the sources' metadata at query time.
//!
//! # Statements
//! - `SELECT` with `WHERE`, `ORDER BY`, `GROUP BY`/`HAVING`, aggregates, `JOIN`s, `UNION`,
//!   subqueries, `LIMIT n OFFSET m`, `CASE`, `COALESCE`, window functions and DataFusion's
//!   scalar functions (string, math, date/time, arrays).
//! - `INSERT INTO t (cols) VALUES (…), (…)` or `INSERT INTO t (cols) SELECT …`,
//!   `UPDATE t SET c = expr, … [WHERE …]`, `DELETE FROM t [WHERE …]` on writable tables:
//!   [`QueryResult::Affected`] with the row count. UPDATE and DELETE first select the keys of
//!   the matching rows (with pushdown), then write them; a row the source refuses makes the
//!   statement fail with [`Error::PartialWrite`], which lists every failed row (there are no
//!   transactions: the other rows stay written).
//! - `EXEC name a = 1, @b = 'x'` (or `EXECUTE`): runs a procedure of a registered
//!   connection ([`Session::register_procedures`]); its result set is a [`QueryResult::Rows`].
//! - `EXPLAIN SELECT …`: DataFusion's plan, showing what was pushed to the source.
//! - CData's SELECT extensions: `SELECT TOP n …` (a `LIMIT n`, subqueries too, with
//!   `DISTINCT` and `ORDER BY`), `LIMIT count, skip` (CData's order: `LIMIT 10, 20` returns 10
//!   rows after skipping 20, the reverse of MySQL),
//!   `SELECT … INTO [csv://file.csv] FROM …` (streams the rows into the file, with
//!   `;delimiter=tab` or one character; the result is the row count) and
//!   `SELECT SCOPE_IDENTITY()` (the key of the last row this session inserted, as text;
//!   `sys_identity` lists every row of the last write).
//!
//! CData dialect touches: `?` positional parameters (bound from [`Session::execute`]'s
//! values), `[bracket]` identifiers, `[CData].[schema].[table]` names, and names matched
//! ignoring case (each table and column is rewritten to its canonical spelling). Unknown
//! names fail with the nearest known one: `table evnts not found; did you mean events?`.
//!
//! # Pushdown
//! Each WHERE conjunct DataFusion offers is translated to a [`source_core::Filter`] when it has
//! a shape sources understand (`col op literal`, `LIKE`, `IN`, `IS [NOT] NULL`, boolean
//! columns, `array_has`), and the source's [`DataSource::filter_support`] decides: `Exact`
//! filters are applied only by the source, `Loose` ones by the source and again by
//! DataFusion, the rest by DataFusion. The projection becomes
//! [`source_core::ScanRequest::projection`]; a `LIMIT` reaches the source only when no filter
//! is left for DataFusion to evaluate. Pages are pulled from the source's stream as the query
//! consumes them, so a `LIMIT 10` stops after the first page and an export never holds the
//! table in memory.
//!
//! An `ORDER BY` whose keys are all plain columns of one table goes to the source in
//! [`source_core::ScanRequest::order_by`] when [`DataSource::sort_support`] accepts the keys
//! as DataFusion states them, NULL placement included (SQL's default is `NULLS LAST` for
//! `ASC` and `NULLS FIRST` for `DESC`; HubDB sorts only that way, so an explicit
//! `DESC NULLS LAST` is sorted by DataFusion). The source's order is then trusted: DataFusion
//! drops its sort, so `sort_support` must only say yes for orders the source returns exactly.
//! Its `LIMIT` (plus any `OFFSET`) is then pushed too, under the same rule as above: not when
//! a `Loose` or unsupported filter is re-checked above the scan (the order is still pushed
//! through such a filter, which keeps row order, and the limit is applied after it). Not
//! pushed: expressions (`ORDER BY a + 1`), orders above a join or an aggregate, and an order
//! over a subquery whose own `LIMIT` already reached the scan. `EXPLAIN` shows the result as
//! `SourceScanExec: table=…, filters=[…], order_by=[attendees DESC NULLS FIRST], limit=5`
//! with no `SortExec` above it.
//!
//! # MaxRows
//! [`SessionOptions::max_rows`] caps the rows of a result, taking precedence over `LIMIT`;
//! like CData, it does not apply to queries with aggregation or `GROUP BY` (whose rows are
//! computed from the whole table). With several connections the smallest cap applies.
//!
//! # Example
//! ```
//! use std::sync::Arc;
//! use futures::TryStreamExt;
//! use source_core::memory::MemorySource;
//! # async fn run() -> Result<(), sql::Error> {
//! let mut session = sql::Session::new();
//! session
//!     .register_source("mem", Arc::new(MemorySource::example()), sql::SessionOptions::default())
//!     .await?;
//! let rows = session
//!     .execute("SELECT [Name] FROM colours WHERE id > ? ORDER BY Name LIMIT 2", &[3i64.into()])
//!     .await?
//!     .collect()
//!     .await?;
//! assert_eq!(rows.iter().map(|b| b.num_rows()).sum::<usize>(), 2);
//! let err = session.execute("SELECT * FROM colour", &[]).await.unwrap_err();
//! assert_eq!(err.to_string(), "table colour not found; did you mean colours?");
//! # Ok(()) }
//! # tokio::runtime::Runtime::new().unwrap().block_on(run()).unwrap();
//! ```
#![forbid(unsafe_code)]

mod catalog;
mod convert;
mod dialect;
mod dml;
mod error;
mod exec;
pub mod export;
#[doc(hidden)]
pub mod fuzzing;
mod identity;
mod lex;
mod provider;
mod resolve;
mod scan_exec;
mod sort_rule;
mod system;

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::task::{Context, Poll};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::common::tree_node::TreeNode;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::{DataFrame, SessionConfig, SessionContext};
use datafusion::scalar::ScalarValue;
use datafusion::sql::parser::{DFParser, ExplainStatement, Statement as DfStatement};
use datafusion::sql::sqlparser::ast::Statement;
use datafusion::sql::sqlparser::dialect::GenericDialect;
use futures::{Stream, StreamExt, TryStreamExt};
use source_core::procedure::Procedures;
use source_core::{DataSource, TableInfo, Value};
use source_plugin::Connection;

pub use error::{Error, Result};
pub use system::{CATALOG, NAMES as SYSTEM_TABLES};

use catalog::{Catalog, DefaultSchema, Registered, Runner, SourceSchema};

/// How one connection behaves in a session.
#[derive(Debug, Clone, Default)]
pub struct SessionOptions {
    /// `MaxRows`: the most rows a non-aggregate query returns (`None` or 0: no cap).
    pub max_rows: Option<u64>,
    /// The connection's properties for `sys_connection_props`, secrets already masked
    /// (see [`SessionOptions::from_connection`]).
    pub properties: Vec<connstr::validate::ResolvedProperty>,
}

impl SessionOptions {
    /// Options of a validated connection: its `MaxRows`, and every property for
    /// `sys_connection_props` (sensitive values already masked).
    ///
    /// ```
    /// use source_plugin::AnySource;
    /// let example: &'static dyn AnySource = &source_plugin::example::Example;
    /// let connection = example.configure(&"MaxRows=50;ProxyPassword=p4ss".parse().unwrap()).unwrap();
    /// let options = sql::SessionOptions::from_connection(&connection);
    /// assert_eq!(options.max_rows, Some(50));
    /// let password = options.properties.iter().find(|p| p.def.name == "ProxyPassword").unwrap();
    /// assert_ne!(password.shown_value.as_deref(), Some("p4ss"));
    /// ```
    pub fn from_connection(connection: &Connection) -> Self {
        Self {
            max_rows: connection.common().max_rows,
            properties: connection.resolved_properties().to_vec(),
        }
    }
}

/// What a statement produced.
#[derive(Debug)]
pub enum QueryResult {
    /// A result set (SELECT, EXEC, system tables), streamed.
    Rows(RowStream),
    /// The rows an INSERT, UPDATE or DELETE changed.
    Affected(u64),
}

impl QueryResult {
    /// The result set's batches, all in memory (an empty list for DML).
    pub async fn collect(self) -> Result<Vec<RecordBatch>> {
        match self {
            QueryResult::Rows(rows) => rows.try_collect().await,
            QueryResult::Affected(_) => Ok(Vec::new()),
        }
    }

    /// The affected-row count of DML, `None` for a result set.
    pub fn affected(&self) -> Option<u64> {
        match self {
            QueryResult::Affected(n) => Some(*n),
            QueryResult::Rows(_) => None,
        }
    }
}

/// A result set: its schema, and batches produced as it is polled.
pub struct RowStream {
    schema: SchemaRef,
    inner: SendableRecordBatchStream,
}

impl std::fmt::Debug for RowStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RowStream")
            .field("schema", &self.schema)
            .finish_non_exhaustive()
    }
}

impl RowStream {
    fn new(inner: SendableRecordBatchStream) -> Self {
        Self {
            schema: inner.schema(),
            inner,
        }
    }

    /// The schema of every batch.
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// As a source-core stream, for `source_core::format::write_stream` (CLI output).
    pub fn into_source_stream(self) -> source_core::RecordBatchStream {
        let schema = self.schema.clone();
        source_core::RecordBatchStream::new(
            schema,
            self.map_err(|e| match e {
                Error::Source(s) => s,
                other => source_core::Error::source(other),
            }),
        )
    }
}

impl Stream for RowStream {
    type Item = Result<RecordBatch>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner
            .poll_next_unpin(cx)
            .map(|o| o.map(|r| r.map_err(Error::from)))
    }
}

/// What a statement returns and takes, known without running it: what a prepared statement
/// advertises ([`Session::statement_schema`]).
#[derive(Debug, Clone)]
pub struct StatementSchema {
    /// The result set's columns: `Some` for SELECT and EXPLAIN; `None` for INSERT, UPDATE,
    /// DELETE and `SELECT … INTO` (their result is a row count) and for EXEC (a procedure's
    /// columns are known once it runs).
    pub result: Option<SchemaRef>,
    /// One nullable field per `?` marker, in order, named by its position (`1`, `2`, …) and
    /// typed as DataFusion infers it from where it stands (`Id > ?` takes `Id`'s type); `Null`
    /// where nothing says (`SELECT ?`, `LIMIT ?`, and the markers of writes and EXEC, which
    /// DataFusion does not plan).
    pub parameters: SchemaRef,
}

/// A SQL session over one or more connections.
///
/// Cheap to share behind an `Arc`: [`Session::execute`] takes `&self`. Registration takes
/// `&mut self` so that the set of sources does not change under a running statement.
pub struct Session {
    ctx: SessionContext,
    catalog: Arc<Catalog>,
    max_rows: RwLock<Option<u64>>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("catalog", &self.catalog)
            .finish_non_exhaustive()
    }
}

impl Default for Session {
    fn default() -> Self {
        Self::new()
    }
}

impl Session {
    /// An empty session; add connections with [`Session::register_source`].
    pub fn new() -> Self {
        let mut config = SessionConfig::new()
            .with_information_schema(false)
            .with_default_catalog_and_schema("datafusion", "public")
            // Sources stream one page at a time in their own order: one partition keeps that
            // order (CData returns rows as the API does) and avoids repartition buffers.
            .with_target_partitions(1);
        let options = config.options_mut();
        // Names keep their case (`Id`, `CreatedAt`); `resolve` matches them ignoring case.
        options.sql_parser.enable_ident_normalization = false;
        // Plain Utf8 everywhere, the type sources produce and expect in writes.
        options.sql_parser.map_string_types_to_utf8view = false;
        let state = SessionStateBuilder::new()
            .with_config(config)
            .with_default_features()
            // DataFusion's rules plus ORDER BY pushdown through filters and projections.
            .with_physical_optimizer_rules(sort_rule::physical_rules())
            .build();
        let ctx = SessionContext::new_with_state(state);
        let catalog = Arc::new(Catalog::default());
        ctx.register_udf(identity::ScopeIdentity::udf(catalog.identity.clone()));
        if let Some(df_catalog) = ctx.catalog("datafusion") {
            // Replacing the in-memory default schema cannot fail for the in-memory catalog.
            let _ = df_catalog.register_schema(
                "public",
                Arc::new(DefaultSchema {
                    catalog: catalog.clone(),
                }),
            );
        }
        Self {
            ctx,
            catalog,
            max_rows: RwLock::new(None),
        }
    }

    /// Registers every table of `source` under `name` (and unqualified), its procedures, and
    /// the connection's options. Reads the table list once (see [`Session::refresh`]).
    pub async fn register_source(
        &mut self,
        name: &str,
        source: Arc<dyn DataSource>,
        options: SessionOptions,
    ) -> Result<()> {
        let tables = source.list_tables().await?;
        let entry = Arc::new(Registered {
            name: name.to_owned(),
            source: source.clone(),
            tables: RwLock::new(tables),
            properties: options.properties,
        });
        self.catalog.add_source(entry.clone());
        if let Some(df_catalog) = self.ctx.catalog("datafusion") {
            df_catalog.register_schema(name, Arc::new(SourceSchema { entry }))?;
        }
        if let Some(m) = options.max_rows.filter(|m| *m > 0) {
            let mut cap = self.max_rows.write().unwrap_or_else(|e| e.into_inner());
            *cap = Some(cap.map_or(m, |c| c.min(m)));
        }
        Ok(())
    }

    /// Registers a connection's procedures under `name` (replacing any registered there):
    /// they become callable with `EXEC` and appear in `sys_procedures`.
    pub fn register_procedures(&mut self, name: &str, procedures: Arc<Procedures>) {
        self.catalog.add_runner(Runner {
            schema: name.to_owned(),
            procedures,
        });
    }

    /// Adds a connection of any registered source under its source's name: its tables
    /// (reading the table list: this authenticates), its procedures, its `MaxRows` and its
    /// properties for `sys_connection_props`. What the CLI, Python and the benchmarks share.
    pub async fn add_connection(&mut self, connection: &Connection) -> Result<()> {
        self.add_connection_as(connection.info().name, connection)
            .await
    }

    /// [`Session::add_connection`] under another schema name (two connections of one source).
    pub async fn add_connection_as(&mut self, name: &str, connection: &Connection) -> Result<()> {
        let source = connection.open_for_sql()?;
        self.register_source(name, source, SessionOptions::from_connection(connection))
            .await?;
        self.register_procedures(name, Arc::new(connection.procedures()?));
        Ok(())
    }

    /// Adds only a connection's procedures (no table list, so no token is needed): `EXEC
    /// GetOAuthAuthorizationURL` works before the first login.
    pub fn add_procedures(&mut self, connection: &Connection) -> Result<()> {
        self.register_procedures(connection.info().name, Arc::new(connection.procedures()?));
        Ok(())
    }

    /// Re-reads every source's table list (new HubDB tables, new Act-On lists).
    pub async fn refresh(&self) -> Result<()> {
        for s in self.catalog.sources() {
            let tables = s.source.list_tables().await?;
            *s.tables.write().unwrap_or_else(|e| e.into_inner()) = tables;
        }
        Ok(())
    }

    /// Sets `MaxRows` for the whole session (`None` or 0: no cap).
    pub fn set_max_rows(&self, max_rows: Option<u64>) {
        *self.max_rows.write().unwrap_or_else(|e| e.into_inner()) = max_rows.filter(|m| *m > 0);
    }

    /// Every table of every source: `(source name, table)`, in registration order, as listed
    /// (a table listed without columns has none here: [`Session::describe`] reads them).
    pub fn tables(&self) -> Vec<(String, TableInfo)> {
        self.catalog
            .sources()
            .iter()
            .flat_map(|s| {
                s.tables()
                    .iter()
                    .map(|t| (s.name.clone(), t.clone()))
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    /// One table's metadata (`events`, `hubdb.events`, `[CData].[hubdb].[events]`, any
    /// case), or [`Error::UnknownTable`] with the nearest name.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # async fn run() -> Result<(), sql::Error> {
    /// let mut session = sql::Session::new();
    /// let source = Arc::new(source_core::memory::MemorySource::example());
    /// session.register_source("mem", source, Default::default()).await?;
    /// assert_eq!(session.describe("MEM.Colours").await?.columns.len(), 2);
    /// # Ok(()) }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(run()).unwrap();
    /// ```
    pub async fn describe(&self, name: &str) -> Result<TableInfo> {
        let (text, _) = lex::rewrite(name)?;
        let parts = split_name(&text)?;
        let t = resolve::resolve_name(&parts, &self.catalog)?;
        let info = t.info.ok_or_else(|| {
            Error::Unsupported(format!(
                "{} is a system table; query it with SELECT",
                t.name
            ))
        })?;
        let source = t.schema.as_deref().and_then(|s| self.catalog.source(s));
        match source {
            Some(source) if !info.is_described() => {
                Ok(source.described(&info.name).await?.unwrap_or(info))
            }
            _ => Ok(info),
        }
    }

    /// Runs one statement with `?` parameters bound, in order, to `params`.
    ///
    /// SELECT, EXPLAIN and EXEC give [`QueryResult::Rows`] (consume the stream to run the
    /// query); INSERT, UPDATE and DELETE run to completion and give
    /// [`QueryResult::Affected`].
    pub async fn execute(&self, sql: &str, params: &[Value]) -> Result<QueryResult> {
        match self.execute_once(sql, params).await {
            // A table created since the list was read (`EXEC CreateTable`, `EXEC CreateList`,
            // or elsewhere): read the lists again, once, before saying it does not exist.
            Err(Error::UnknownTable { .. }) => {
                self.refresh().await?;
                self.execute_once(sql, params).await
            }
            other => other,
        }
    }

    /// The schemas of a statement's result and of its `?` parameters, from its plan: names
    /// are resolved and types inferred, but no row is read and nothing is written. Unknown
    /// names and syntax fail as in [`Session::execute`] (an unknown table, there too, makes
    /// the table lists be read again once).
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # async fn run() -> Result<(), sql::Error> {
    /// let mut session = sql::Session::new();
    /// let source = Arc::new(source_core::memory::MemorySource::example());
    /// session.register_source("mem", source, Default::default()).await?;
    /// let schema = session
    ///     .statement_schema("SELECT Name, Id * 2 AS twice FROM colours WHERE Name = ? AND Id > ? LIMIT ?")
    ///     .await?;
    /// let result = schema.result.expect("a query has a result set");
    /// assert_eq!(result.field(0).name(), "Name");
    /// assert_eq!(result.field(1).data_type().to_string(), "Int64");
    /// let parameters: Vec<String> = schema
    ///     .parameters
    ///     .fields()
    ///     .iter()
    ///     .map(|f| format!("{}: {}", f.name(), f.data_type()))
    ///     .collect();
    /// assert_eq!(parameters, ["1: Utf8", "2: Int64", "3: Null"]);
    /// let insert = session.statement_schema("INSERT INTO colours (Name) VALUES (?)").await?;
    /// assert!(insert.result.is_none());
    /// assert_eq!(insert.parameters.field(0).data_type().to_string(), "Null");
    /// # Ok(()) }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(run()).unwrap();
    /// ```
    pub async fn statement_schema(&self, sql: &str) -> Result<StatementSchema> {
        match self.statement_schema_once(sql).await {
            // As in `execute`: a table created since the lists were read.
            Err(Error::UnknownTable { .. }) => {
                self.refresh().await?;
                self.statement_schema_once(sql).await
            }
            other => other,
        }
    }

    async fn statement_schema_once(&self, sql: &str) -> Result<StatementSchema> {
        let tokens = lex::tokenize(sql)?;
        let (text, markers) = lex::rewrite(sql)?;
        let untyped = StatementSchema {
            result: None,
            parameters: parameter_schema(markers, &HashMap::new()),
        };
        if matches!(
            lex::first_word(&tokens).as_deref(),
            Some("EXEC" | "EXECUTE")
        ) {
            return Ok(untyped);
        }
        let plan = match self.parse_described(&text).await? {
            DfStatement::Statement(boxed) => match *boxed {
                Statement::Query(_) => {
                    let mut statement = *boxed;
                    if dialect::take_into(&mut statement)?.is_some() {
                        return Ok(untyped);
                    }
                    self.plan(statement, Vec::new())
                        .await?
                        .into_unoptimized_plan()
                }
                Statement::Insert(_) | Statement::Update(_) | Statement::Delete(_) => {
                    return Ok(untyped);
                }
                other => return Err(unsupported(&other.to_string())),
            },
            DfStatement::Explain(explain) => self.explain_plan(explain).await?,
            other => return Err(unsupported(&other.to_string())),
        };
        Ok(StatementSchema {
            result: Some(plan.schema().inner().clone()),
            parameters: parameter_schema(markers, &plan.get_parameter_types()?),
        })
    }

    async fn execute_once(&self, sql: &str, params: &[Value]) -> Result<QueryResult> {
        let tokens = lex::tokenize(sql)?;
        match lex::first_word(&tokens).as_deref() {
            Some("EXEC" | "EXECUTE") => return self.exec(sql, params).await,
            None if tokens.is_empty() => return Err(Error::Syntax("empty statement".into())),
            _ => {}
        }
        let (text, markers) = lex::rewrite(sql)?;
        if markers != params.len() {
            return Err(Error::ParameterCount {
                expected: markers,
                given: params.len(),
            });
        }
        let scalars: Vec<ScalarValue> = params.iter().map(convert::scalar_of).collect();
        match self.parse_described(&text).await? {
            DfStatement::Statement(boxed) => match *boxed {
                Statement::Query(_) => {
                    let mut statement = *boxed;
                    let into = dialect::take_into(&mut statement)?;
                    let stream = self.query(statement, scalars).await?;
                    match into {
                        None => Ok(QueryResult::Rows(stream)),
                        Some(target) => export_into(stream, &target).await,
                    }
                }
                Statement::Insert(insert) => dml::insert(self, insert, scalars).await,
                Statement::Update(update) => dml::update(self, update, scalars).await,
                Statement::Delete(delete) => dml::delete(self, delete, scalars).await,
                other => Err(unsupported(&other.to_string())),
            },
            DfStatement::Explain(explain) => {
                let plan = self.explain_plan(explain).await?;
                let df = self.ctx.execute_logical_plan(plan).await?;
                Ok(QueryResult::Rows(RowStream::new(
                    df.execute_stream().await?,
                )))
            }
            other => Err(unsupported(&other.to_string())),
        }
    }

    /// Parses one statement and reads the columns of the tables it names that were listed
    /// without them (see `source_core::DataSource::list_tables`): only the tables a statement
    /// uses cost those requests.
    async fn parse_described(&self, text: &str) -> Result<DfStatement> {
        let statement = parse_single(text)?;
        // Unresolvable names fail later, in planning, with the clearer error.
        let references = self
            .ctx
            .state()
            .resolve_table_references(&statement)
            .unwrap_or_default();
        for r in references {
            self.catalog.describe_named(r.schema(), r.table()).await?;
        }
        Ok(statement)
    }

    /// Plans an `EXPLAIN` (its statement's names resolved) without running it.
    async fn explain_plan(&self, mut explain: ExplainStatement) -> Result<LogicalPlan> {
        if let DfStatement::Statement(inner) = explain.statement.as_mut() {
            dialect::rewrite_top(inner)?;
            resolve::canonicalize(inner, &self.catalog)?;
        }
        self.ctx
            .state()
            .statement_to_plan(DfStatement::Explain(explain))
            .await
            .map_err(resolve::column_error)
    }

    /// Plans a query statement (names resolved, parameters bound) into a DataFrame.
    async fn plan(&self, mut statement: Statement, params: Vec<ScalarValue>) -> Result<DataFrame> {
        dialect::rewrite_top(&mut statement)?;
        resolve::canonicalize(&mut statement, &self.catalog)?;
        let plan = self
            .ctx
            .state()
            .statement_to_plan(DfStatement::Statement(Box::new(statement)))
            .await
            .map_err(resolve::column_error)?;
        let mut df = self.ctx.execute_logical_plan(plan).await?;
        if !params.is_empty() {
            df = df.with_param_values(params)?;
        }
        Ok(df)
    }

    /// Runs a query, applying MaxRows.
    async fn query(&self, statement: Statement, params: Vec<ScalarValue>) -> Result<RowStream> {
        let mut df = self.plan(statement, params).await?;
        let cap = *self.max_rows.read().unwrap_or_else(|e| e.into_inner());
        if let Some(max) = cap
            && !aggregates(df.logical_plan())?
        {
            df = df.limit(0, Some(usize::try_from(max).unwrap_or(usize::MAX)))?;
        }
        Ok(RowStream::new(df.execute_stream().await?))
    }

    /// Runs an internal query (DML key selection) and collects it, without MaxRows: a
    /// write must see every matching row.
    pub(crate) async fn collect_internal(
        &self,
        statement: Statement,
        params: Vec<ScalarValue>,
    ) -> Result<Vec<RecordBatch>> {
        let df = self.plan(statement, params).await?;
        Ok(df.collect().await?)
    }

    pub(crate) fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    async fn exec(&self, sql: &str, params: &[Value]) -> Result<QueryResult> {
        let call = exec::parse(sql, params)?;
        let runners = self.catalog.runners();
        let (schema, name) = match call.name.as_slice() {
            [name] => (None, name.as_str()),
            [schema, name] => (Some(schema.as_str()), name.as_str()),
            [.., schema, name] if call.name[0].eq_ignore_ascii_case(CATALOG) => {
                (Some(schema.as_str()), name.as_str())
            }
            _ => {
                return Err(Error::UnknownProcedure {
                    name: call.name.join("."),
                    suggestion: None,
                    known: runners
                        .iter()
                        .flat_map(|r| r.procedures.definitions())
                        .map(|d| d.name.to_owned())
                        .collect(),
                });
            }
        };
        let mut known = Vec::new();
        for exact in [true, false] {
            for r in &runners {
                if schema.is_some_and(|s| !s.eq_ignore_ascii_case(&r.schema)) {
                    continue;
                }
                for p in r.procedures.definitions() {
                    let hit = if exact {
                        p.name == name
                    } else {
                        p.name.eq_ignore_ascii_case(name)
                    };
                    if hit {
                        let output = r.procedures.execute(p.name, call.args).await?;
                        let batch = output.to_record_batch();
                        let schema = batch.schema();
                        let stream = futures::stream::iter(vec![Ok(batch)]);
                        return Ok(QueryResult::Rows(RowStream::new(Box::pin(
                            datafusion::physical_plan::stream::RecordBatchStreamAdapter::new(
                                schema, stream,
                            ),
                        ))));
                    }
                    if exact {
                        known.push(p.name.to_owned());
                    }
                }
            }
        }
        Err(Error::UnknownProcedure {
            name: call.name.join("."),
            suggestion: source_core::nearest(name, &known),
            known,
        })
    }
}

/// Whether a plan aggregates (MaxRows does not apply to such queries).
/// `SELECT … INTO [csv://file]`: streams the rows into the file; the result is their count.
///
/// The file is written on a thread of its own, fed batch by batch: the writer (a `dyn Write`)
/// is not `Send`, and holding it across an await would make every [`Session::execute`] future
/// `!Send`, which a multi-threaded server (the Flight SQL gateway) cannot run.
async fn export_into(mut rows: RowStream, target: &dialect::CsvTarget) -> Result<QueryResult> {
    let (batches, received) = std::sync::mpsc::channel::<RecordBatch>();
    let (done, written) = futures::channel::oneshot::channel();
    let (path, delimiter, schema) = (target.path.clone(), target.delimiter, rows.schema());
    std::thread::spawn(move || {
        let _ = done.send(write_delimited_file(&path, schema, delimiter, received));
    });
    while let Some(batch) = rows.next().await {
        if batches.send(batch?).is_err() {
            break; // the writer stopped: its error is returned below
        }
    }
    drop(batches);
    let count = written
        .await
        .map_err(|_| Error::Export("the export thread stopped unexpectedly".into()))??;
    Ok(QueryResult::Affected(count))
}

/// Writes the batches received into `path` as delimited text with a header; their row count.
fn write_delimited_file(
    path: &std::path::Path,
    schema: SchemaRef,
    delimiter: u8,
    batches: std::sync::mpsc::Receiver<RecordBatch>,
) -> Result<u64> {
    let cannot = |verb: &str, e: std::io::Error| {
        Error::Export(format!("cannot {verb} {}: {e}", path.display()))
    };
    let file = std::fs::File::create(path).map_err(|e| cannot("create", e))?;
    let mut out = std::io::BufWriter::new(file);
    let mut writer = source_core::format::BatchWriter::delimited(schema, &mut out, delimiter)?;
    let mut count = 0u64;
    for batch in batches {
        count += batch.num_rows() as u64;
        writer.write(&batch)?;
    }
    writer.finish()?;
    std::io::Write::flush(&mut out).map_err(|e| cannot("write", e))?;
    Ok(count)
}

/// The one statement of `text` (already rewritten by [`lex::rewrite`]).
fn parse_single(text: &str) -> Result<DfStatement> {
    let mut statements = DFParser::parse_sql_with_dialect(text, &GenericDialect {})
        .map_err(|e| Error::Syntax(strip_sql_error(&e)))?;
    match (statements.pop_front(), statements.is_empty()) {
        (Some(s), true) => Ok(s),
        (None, _) => Err(Error::Syntax("empty statement".into())),
        (Some(_), false) => Err(Error::Unsupported(
            "one statement at a time (split scripts with sql::split_statements)".into(),
        )),
    }
}

fn unsupported(statement: &str) -> Error {
    Error::Unsupported(format!(
        "only SELECT, INSERT, UPDATE, DELETE, EXEC and EXPLAIN are supported, not `{}`",
        first_words(statement)
    ))
}

/// The `?` parameters as fields named `1`, `2`, …, typed as the plan inferred their
/// placeholders (`$1`, `$2`, … after [`lex::rewrite`]), `Null` where it did not.
fn parameter_schema(markers: usize, types: &HashMap<String, Option<DataType>>) -> SchemaRef {
    let fields: Vec<Field> = (1..=markers)
        .map(|i| {
            let data_type = types
                .get(&format!("${i}"))
                .cloned()
                .flatten()
                .unwrap_or(DataType::Null);
            Field::new(i.to_string(), data_type, true)
        })
        .collect();
    Arc::new(Schema::new(fields))
}

fn aggregates(plan: &LogicalPlan) -> Result<bool> {
    Ok(plan.exists(|p| {
        Ok(matches!(
            p,
            LogicalPlan::Aggregate(_) | LogicalPlan::Distinct(_)
        ))
    })?)
}

/// The first few words of a statement, for messages.
fn first_words(text: &str) -> String {
    text.split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// sqlparser's message without DataFusion's "SQL error: ParserError(…)" wrapping.
fn strip_sql_error(e: &datafusion::error::DataFusionError) -> String {
    match e {
        datafusion::error::DataFusionError::SQL(inner, _) => match inner.as_ref() {
            datafusion::sql::sqlparser::parser::ParserError::ParserError(m)
            | datafusion::sql::sqlparser::parser::ParserError::TokenizerError(m) => m.clone(),
            other => other.to_string(),
        },
        other => other.to_string(),
    }
}

/// `a.b.c` (already bracket-rewritten) as its parts, honouring double quotes.
fn split_name(text: &str) -> Result<Vec<String>> {
    let tokens = lex::tokenize(text)?;
    let mut parts = Vec::new();
    let mut expect_name = true;
    for t in tokens {
        match (t.kind, expect_name) {
            (lex::Kind::Word(w) | lex::Kind::Quoted(w), true) => {
                parts.push(w);
                expect_name = false;
            }
            (lex::Kind::Punct('.'), false) => expect_name = true,
            _ => return Err(Error::Syntax(format!("not a table name: {text}"))),
        }
    }
    if expect_name {
        return Err(Error::Syntax(format!("not a table name: {text}")));
    }
    Ok(parts)
}

/// Splits a script into statements at `;` outside literals, quoted names and comments
/// (for a shell or a `.sql` file). Empty statements are dropped.
///
/// ```
/// assert_eq!(
///     sql::split_statements("SELECT ';' FROM t; -- x;\nEXEC P a = 1;")?,
///     vec!["SELECT ';' FROM t", "-- x;\nEXEC P a = 1"]
/// );
/// # Ok::<(), sql::Error>(())
/// ```
pub fn split_statements(script: &str) -> Result<Vec<String>> {
    let tokens = lex::tokenize(script)?;
    let mut out = Vec::new();
    let mut start = 0;
    for t in &tokens {
        if t.kind == lex::Kind::Punct(';') {
            out.push(script[start..t.start].trim().to_owned());
            start = t.end;
        }
    }
    out.push(script[start..].trim().to_owned());
    out.retain(|s| lex::tokenize(s).is_ok_and(|t| !t.is_empty()));
    Ok(out)
}
