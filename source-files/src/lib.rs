//! A folder of CSV files as a [`source_core::DataSource`]: one table per `*.csv` file, column
//! types inferred from the first rows, scans streamed page by page with filter pushdown,
//! inserts appended to the file, and a `CreateTable` procedure. Registered as the `files`
//! source (alias `csv`): `connector files …`, `connector.files`, SQL schema `files`.
//!
//! **This crate is the template for a new source**: copy it, rename it, and replace the CSV
//! parts with your service's (the recipe is `docs/adding-a-source.md`). Each part is one file:
//!
//! | file | what it does |
//! |---|---|
//! | `config.rs` | the connection properties, the typed [`FilesConfig`], [`validate`] |
//! | `error.rs` | [`FilesError`]: the source's own failures and their [`ErrorKind`](source_core::ErrorKind) |
//! | `schema.rs` | discovery: which tables exist, their columns and types ([`ColumnType`]) |
//! | `pushdown.rs` | which filters the source applies itself, and how |
//! | `scan.rs` | the lazy, paged scan |
//! | `write.rs` | inserts |
//! | `procedures.rs` | the source's own procedures ([`FilesProcedures`]) |
//! | `source.rs` | [`FilesSource`], the [`DataSource`](source_core::DataSource) tying them together |
//! | `plugin.rs` | [`Files`], the [`Source`](source_plugin::Source) registration, and [`SOURCE`] |
//! | `tests/files.rs` | the integration tests, against real temporary folders |
//!
//! Files are read synchronously, a page at a time, inside the stream: local reads are quick,
//! so the crate needs no async runtime. A source that talks to a service over HTTP uses
//! `source-http` instead.
//!
//! # Connection properties
//! | property | default | meaning |
//! |---|---|---|
//! | `Folder` | (required) | the directory of `*.csv` files; subdirectories are not read, `~` is not expanded |
//! | `Delimiter` | `,` | the field separator: one ASCII character, or `\t` for a tab (quote a semicolon: `Delimiter=';'`) |
//! | `Pagesize` | 1000 | rows per Arrow batch, capped at [`MAX_PAGE_SIZE`] |
//! | `RowScanDepth` | 100 | data rows read to infer column types |
//! | `MaxRows` | -1 (none) | caps every scan (`connector files read`; SQL applies it to results instead) |
//!
//! `validate` reports every problem of a connection string at once (a missing `Folder`, a bad
//! `Delimiter`, an unknown property with the nearest name); a `Folder` that is not a
//! directory fails when the source connects, with an `ErrorKind::Config` error.
//!
//! # Tables and types
//! Every `*.csv` file directly in the folder is a writable table named after the file (`people.csv`
//! is `people`; names match exactly, then ignoring case). The first row is the header: its
//! fields, trimmed, are the column names (a blank one is `column<n>`; names equal ignoring case
//! get a `_2` suffix). Each column's type is the first of these that every non-empty value in
//! the first `RowScanDepth` data rows fits:
//!
//! | values | Arrow type | `native_type` |
//! |---|---|---|
//! | 64-bit integers (`42`, `-7`) | Int64 | `INTEGER` |
//! | finite decimal numbers (`3.5`, `1e3`; not `inf` or `NaN`) | Float64 | `FLOAT` |
//! | `true` / `false`, any case | Boolean | `BOOLEAN` |
//! | calendar dates `YYYY-MM-DD` | Date32 | `DATE` |
//! | anything else, or no value in the scanned rows | Utf8 | `TEXT` |
//!
//! An empty cell is NULL, in every type (so a text column cannot hold an empty string). A
//! later value that does not fit its column's type fails the scan with an error naming the
//! file, line and column (raise `RowScanDepth`, or fix the value). So does a malformed row (a
//! field count unlike the header's, invalid UTF-8); as listing reads the first rows of every
//! file, a malformed row there fails `list_tables` too, naming the file to fix. A UTF-8
//! byte-order mark is skipped.
//!
//! # Scans and pushdown
//! A scan reads the file as the stream is polled and yields one batch per `Pagesize` matching
//! rows: memory holds one page, whatever the file's size. Only projected and filtered cells
//! are parsed; `Some(vec![])` as the projection gives batches of row counts only. A `limit`
//! (or `MaxRows`) stops reading once that many rows are found. Rows come in file order; no
//! ORDER BY is pushed (`sort_support` is false).
//!
//! Filters are applied while reading, before a row reaches a batch, with SQL's semantics: a
//! NULL cell fails every comparison and only `IS NULL` accepts it. Each is `Exact` or
//! unsupported (the SQL engine evaluates those):
//!
//! | column type | `=` `<>` `<` `<=` `>` `>=` | `IN` | `IS NULL` `IS NOT NULL` | `LIKE` |
//! |---|---|---|---|---|
//! | INTEGER | Exact (integer literal) | Exact | Exact | – |
//! | FLOAT | Exact (integer or float literal; not NaN) | Exact | Exact | – |
//! | BOOLEAN | Exact (boolean literal) | Exact | Exact | – |
//! | DATE | Exact (date literal) | Exact | Exact | – |
//! | TEXT | Exact (text literal; case-sensitive, code-point order) | Exact | Exact | Exact |
//!
//! A literal of another type (a float on an INTEGER column, text on a DATE column) is not
//! pushed: the SQL layer casts and compares. A NULL literal (`= NULL`) is pushed and matches
//! no row; NULLs in an `IN` list are ignored, as they can never make a row match. `LIKE` is
//! case-sensitive, `%` matches any run, `_` one character, `\` escapes the next character.
//! `NOT LIKE`, `CONTAINS`, `ICONTAINS` and `STARTS WITH` are not pushed.
//!
//! # Writes and procedures
//! `INSERT` appends rows to the file (see [`FilesSource`]): each value is written as text and
//! must read back as its column's type, or its row is reported in
//! [`WriteOutcome::errors`](source_core::WriteOutcome) and not written; columns the insert
//! does not name are left empty (NULL). `UPDATE` and `DELETE` are not supported.
//! `CreateTable(Name, Columns)` creates `<Folder>/<Name>.csv` holding the header row
//! `Columns` (comma-separated); it refuses a name that is taken or holds a path separator.
//!
//! # Example
//! ```
//! use arrow_array::cast::AsArray;
//! use futures::TryStreamExt;
//! use source_core::{DataSource, Filter, FilterSupport, Op, ScanRequest};
//! use source_plugin::AnySource;
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let folder = tempfile::tempdir()?;
//! std::fs::write(
//!     folder.path().join("people.csv"),
//!     "id,name,born\n1,Ada,1815-12-10\n2,Alan,1912-06-23\n3,Grace,\n",
//! )?;
//! let cs = format!("Folder={}", folder.path().display()).parse()?;
//! let source = source_files::SOURCE.configure(&cs)?.open()?;
//! futures::executor::block_on(async {
//!     let table = source.table("people").await?;
//!     assert_eq!(table.column("born")?.native_type, "DATE");
//!     let filter = Filter::new("id", Op::Ge, 2i64);
//!     assert_eq!(source.filter_support(&table, &filter), FilterSupport::Exact);
//!     let request = ScanRequest::all().project(["name"]).filter(filter);
//!     let batches: Vec<_> = source.scan("people", request).await?.try_collect().await?;
//!     let names = batches[0].column(0).as_string::<i32>();
//!     assert_eq!(names.iter().collect::<Vec<_>>(), [Some("Alan"), Some("Grace")]);
//!     Ok::<_, source_core::Error>(())
//! })?;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]

mod config;
mod error;
mod plugin;
mod procedures;
mod pushdown;
mod scan;
mod schema;
mod source;
mod write;

pub use config::{
    DEFAULT_PAGE_SIZE, DEFAULT_ROW_SCAN_DEPTH, FilesConfig, MAX_PAGE_SIZE, PROPERTIES, validate,
};
pub use error::FilesError;
pub use plugin::{Files, SOURCE};
pub use procedures::FilesProcedures;
pub use schema::ColumnType;
pub use source::FilesSource;
