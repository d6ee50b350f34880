//! The contract every connector source implements: list tables, scan them as Arrow batches
//! with pushdown, and optionally write rows and run procedures.
//!
//! A source is a [`DataSource`]: an object-safe trait (`Send + Sync + Debug`) whose async
//! methods return boxed futures and streams, so the CLI and the SQL layer hold any source as
//! `Arc<dyn DataSource>`. Data is Arrow ([`arrow_array::RecordBatch`]), not DataFusion: the
//! `sql` crate adapts a source to a DataFusion `TableProvider` later.
//!
//! - Discovery: [`DataSource::list_tables`] / [`DataSource::table`] give [`TableInfo`]
//!   (columns with Arrow types, key, nullability, read-only, description, native type; table
//!   kind, writable operations, required filters).
//! - Pushdown: [`DataSource::filter_support`] says per [`Filter`] whether the source applies
//!   it [`FilterSupport::Exact`]ly, [`Loose`](FilterSupport::Loose)ly (the caller re-checks) or
//!   not at all; [`DataSource::sort_support`] says whether an ORDER BY can be pushed.
//! - Scans: [`DataSource::scan`] takes a [`ScanRequest`] (projection, supported filters,
//!   order, limit) and returns a [`RecordBatchStream`]: one batch per API page, fetched as the
//!   stream is polled, so memory does not grow with the table.
//! - Writes: [`DataSource::insert`], [`DataSource::update`], [`DataSource::delete`] take a
//!   [`RecordBatch`] and report per-row errors in a [`WriteOutcome`]; they default to
//!   [`Error::Unsupported`].
//! - Procedures: the [`procedure`] contract (declared inputs and results, validation,
//!   [`procedure::Procedures`]); a source offers them through its plugin (`source-plugin`).
//! - [`format`](mod@format): batches as a text table, JSON or CSV, for the CLI.
//! - [`datetime`] (API date texts → Unix milliseconds) and [`json`] (lenient JSON values).
//! - Errors: [`Error`], whose [`Error::kind`] ([`ErrorKind`]) tells callers what to do without
//!   knowing the source.
//!
//! This crate is the contract only: Arrow, futures and a few small crates. The HTTP runtime
//! sources share (send loop, retries, rate limiter) is `source-http`; how a source registers
//! (names, properties, auth, `connect`) is `source-plugin`.
//!
//! # The scan contract
//! 1. The caller splits the WHERE clause into conjuncts and asks `filter_support` for each.
//! 2. It passes the `Exact` and `Loose` ones in [`ScanRequest::filters`], and evaluates the
//!    `Loose` and `Unsupported` ones itself on the batches it gets back. A pushed filter
//!    never drops a row that SQL would keep.
//! 3. It passes [`ScanRequest::order_by`] only when `sort_support` said yes, and
//!    [`ScanRequest::limit`] only when nothing is left to evaluate client-side (every
//!    filter `Exact`, and the order, if any, pushed). The source may still return more rows
//!    than the limit; the caller truncates.
//! 4. Batches have the schema of [`TableInfo::projected_schema`] for the projection (all
//!    columns when `None`; no columns, only row counts, for `Some(vec![])`).
//!
//! # Adding a source
//! See the recipe in `source-plugin`'s crate docs (`docs/adding-a-source.md`): one crate that
//! implements [`DataSource`] and `source_plugin::Source`, and one line in the `sources` list.
//!
//! # Example
//! ```
//! use futures::TryStreamExt;
//! use source_core::{DataSource, ScanRequest, memory::MemorySource};
//! # async fn run() -> Result<(), source_core::Error> {
//! let source = MemorySource::example();
//! let table = source.table("colours").await?;
//! assert_eq!(table.columns[0].name, "Id");
//! let batches: Vec<_> = source
//!     .scan("colours", ScanRequest::all().limit(2))
//!     .await?
//!     .try_collect()
//!     .await?;
//! assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 2);
//! # Ok(()) }
//! # futures::executor::block_on(run()).unwrap();
//! ```
#![forbid(unsafe_code)]

pub mod datetime;
mod error;
mod filter;
pub mod format;
pub mod json;
pub mod memory;
pub mod procedure;
mod stream;
mod table;
#[cfg(feature = "test-util")]
pub mod test_util;

use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;

pub use arrow_array::RecordBatch;
pub use error::{Error, ErrorKind, Result, nearest};
pub use filter::{Filter, FilterSupport, Op, SortKey, Value};
pub use stream::RecordBatchStream;
pub use table::{
    ColumnInfo, ColumnRef, DESCRIPTION_KEY, NATIVE_TYPE_KEY, TableInfo, TableKind, Writable,
};

/// The time zone of every timestamp column: an offset rather than `UTC`, so Arrow can format
/// and cast it without the `chrono-tz` database.
pub const UTC: &str = "+00:00";

/// `Timestamp(Millisecond, "+00:00")`: the type of instants in every source.
pub fn timestamp_ms_utc() -> arrow_schema::DataType {
    arrow_schema::DataType::Timestamp(arrow_schema::TimeUnit::Millisecond, Some(UTC.into()))
}

/// A boxed future, as the object-safe trait methods return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What to read from a table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScanRequest {
    /// Columns to return, in this order; `None` for all.
    pub projection: Option<Vec<String>>,
    /// Filters the source declared `Exact` or `Loose`, all ANDed.
    pub filters: Vec<Filter>,
    /// Order to return rows in (only when [`DataSource::sort_support`] accepted it).
    pub order_by: Vec<SortKey>,
    /// Rows the caller needs at most (see the scan contract in the crate docs).
    pub limit: Option<u64>,
}

impl ScanRequest {
    /// Every row and column.
    pub fn all() -> Self {
        Self::default()
    }

    /// Only these columns.
    pub fn project<I, S>(mut self, columns: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.projection = Some(columns.into_iter().map(Into::into).collect());
        self
    }

    /// Adds a filter.
    pub fn filter(mut self, filter: Filter) -> Self {
        self.filters.push(filter);
        self
    }

    /// Adds a sort key.
    pub fn order(mut self, key: SortKey) -> Self {
        self.order_by.push(key);
        self
    }

    /// At most `n` rows.
    pub fn limit(mut self, n: u64) -> Self {
        self.limit = Some(n);
        self
    }
}

/// The result of a write: how many rows it changed, the keys of inserted rows, and every row
/// that failed. A write never drops a row silently: each input row is either counted in
/// `affected` or listed in `errors`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WriteOutcome {
    /// Rows inserted, updated or deleted.
    pub affected: u64,
    /// The keys of inserted rows, in input order (inserts only).
    pub keys: Vec<Value>,
    /// The rows that failed.
    pub errors: Vec<RowError>,
}

impl WriteOutcome {
    /// `Ok(self)` when no row failed, else the first failure as an [`Error::InvalidValue`]
    /// that also counts the others.
    pub fn into_result(self, table: &str) -> Result<Self> {
        match self.errors.first() {
            None => Ok(self),
            Some(first) => Err(Error::InvalidValue {
                table: table.to_owned(),
                column: first.column.clone(),
                row: Some(first.row_label()),
                message: if self.errors.len() > 1 {
                    format!(
                        "{} (and {} more failed rows)",
                        first.message,
                        self.errors.len() - 1
                    )
                } else {
                    first.message.clone()
                },
            }),
        }
    }
}

/// One row a write could not apply.
#[derive(Debug, Clone, PartialEq)]
pub struct RowError {
    /// The row's position in the input batch.
    pub index: usize,
    /// The row's key, when it has one (updates and deletes).
    pub key: Option<Value>,
    /// The column at fault, when known.
    pub column: Option<String>,
    /// What went wrong.
    pub message: String,
}

impl RowError {
    /// `#3` or `#3 (Id=42)`.
    pub fn row_label(&self) -> String {
        match &self.key {
            Some(k) => format!("#{} (key {k})", self.index),
            None => format!("#{}", self.index),
        }
    }
}

/// The requests a connection has sent and the pace its API allows, for progress lines and
/// summaries that compare a run's time with the rate-limit floor.
///
/// ```
/// let stats = source_core::RequestStats { sent: 20, per_second: Some(10.0) };
/// assert_eq!(stats.floor_seconds(20), Some(2.0));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RequestStats {
    /// Requests sent through the connection's limiter since it was created (shared by every
    /// connection of the process that spends the same allowance).
    pub sent: u64,
    /// Requests per second the limit allows when sustained; `None` when unpaced.
    pub per_second: Option<f64>,
}

impl RequestStats {
    /// The least time `requests` requests can take at the allowed pace; `None` when unpaced.
    pub fn floor_seconds(&self, requests: u64) -> Option<f64> {
        self.per_second
            .filter(|r| *r > 0.0)
            .map(|r| requests as f64 / r)
    }
}

/// A data source: discovery, scans with pushdown, and optional writes and procedures.
///
/// Methods are object-safe (boxed futures), so sources are used as `Arc<dyn DataSource>`.
/// See the crate docs for the scan contract and for how to add a source.
pub trait DataSource: Send + Sync + Debug {
    /// The source's short name (`hubdb`, `acton`).
    fn name(&self) -> &str;

    /// Every table and view. A source may list a table without its columns when describing it
    /// costs requests of its own (an Act-On list's columns come from a one-record download):
    /// such a table is not [`TableInfo::is_described`], and [`DataSource::table`] (which the
    /// source must then implement) gives its columns. Callers that need every table's columns
    /// use [`DataSource::described_tables`].
    fn list_tables(&self) -> BoxFuture<'_, Result<Vec<TableInfo>>>;

    /// One table's metadata, columns included; an [`Error::UnknownTable`] with a suggestion
    /// when absent.
    fn table<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<TableInfo>> {
        Box::pin(async move {
            let tables = self.list_tables().await?;
            find_table(&tables, name).cloned()
        })
    }

    /// [`DataSource::list_tables`] with every table described (its columns read).
    ///
    /// ```
    /// # use source_core::{memory::MemorySource, DataSource};
    /// # futures::executor::block_on(async {
    /// let tables = MemorySource::example().described_tables().await?;
    /// assert!(tables.iter().all(|t| t.is_described()));
    /// # Ok::<(), source_core::Error>(()) }).unwrap();
    /// ```
    fn described_tables(&self) -> BoxFuture<'_, Result<Vec<TableInfo>>> {
        Box::pin(async move {
            let mut tables = self.list_tables().await?;
            for t in &mut tables {
                if !t.is_described() {
                    *t = self.table(&t.name).await?;
                }
            }
            Ok(tables)
        })
    }

    /// Whether `scan` can apply `filter` on `table` server-side, and how faithfully.
    fn filter_support(&self, _table: &TableInfo, _filter: &Filter) -> FilterSupport {
        FilterSupport::Unsupported
    }

    /// Whether `scan` returns rows of `table` in this order.
    fn sort_support(&self, _table: &TableInfo, _order: &[SortKey]) -> bool {
        false
    }

    /// The table's row count when the API tells it cheaply (one small request), else `None`.
    /// Syncs use it to skip listing every key when no row can have been deleted.
    fn row_count<'a>(&'a self, _table: &'a str) -> BoxFuture<'a, Result<Option<u64>>> {
        Box::pin(async { Ok(None) })
    }

    /// The requests this connection has sent so far and its pace, when it is paced.
    fn request_stats(&self) -> Option<RequestStats> {
        None
    }

    /// Reads `table`: one Arrow batch per page, fetched lazily as the stream is polled.
    fn scan<'a>(
        &'a self,
        table: &'a str,
        request: ScanRequest,
    ) -> BoxFuture<'a, Result<RecordBatchStream>>;

    /// Inserts the rows of `rows` (its columns name the table's columns).
    fn insert<'a>(
        &'a self,
        table: &'a str,
        _rows: RecordBatch,
    ) -> BoxFuture<'a, Result<WriteOutcome>> {
        Box::pin(async move { Err(Error::unsupported("insert", Some(table))) })
    }

    /// Updates rows: each row of `rows` carries the key column(s) and the columns to set.
    fn update<'a>(
        &'a self,
        table: &'a str,
        _rows: RecordBatch,
    ) -> BoxFuture<'a, Result<WriteOutcome>> {
        Box::pin(async move { Err(Error::unsupported("update", Some(table))) })
    }

    /// Deletes rows: `keys` carries the key column(s) of the rows to delete.
    fn delete<'a>(
        &'a self,
        table: &'a str,
        _keys: RecordBatch,
    ) -> BoxFuture<'a, Result<WriteOutcome>> {
        Box::pin(async move { Err(Error::unsupported("delete", Some(table))) })
    }
}

/// The table called `name` in `tables` (exact, then case-insensitive), or
/// [`Error::UnknownTable`] suggesting the nearest.
pub fn find_table<'a>(tables: &'a [TableInfo], name: &str) -> Result<&'a TableInfo> {
    tables
        .iter()
        .find(|t| t.name == name)
        .or_else(|| tables.iter().find(|t| t.name.eq_ignore_ascii_case(name)))
        .ok_or_else(|| Error::unknown_table(name, tables.iter().map(|t| &t.name)))
}
