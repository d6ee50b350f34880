//! [`FilesSource`]: the [`DataSource`] of one connection, tying discovery, pushdown, scans
//! and writes together.

use std::sync::Mutex;

use futures::stream;
use source_core::{
    BoxFuture, DataSource, Error, Filter, FilterSupport, RecordBatch, RecordBatchStream, Result,
    ScanRequest, TableInfo, WriteOutcome,
};

use crate::config::FilesConfig;
use crate::pushdown::{self, compile};
use crate::scan::Scan;
use crate::schema::{self, CsvTable, check_folder, find_file, table_files};
use crate::write;

/// A folder of CSV files as a [`DataSource`]. Every call reads the folder again, so files
/// added, removed or changed since are seen at once; nothing is cached.
#[derive(Debug)]
pub struct FilesSource {
    config: FilesConfig,
    /// Serialises appends, so that rows of concurrent inserts into one file never interleave.
    write_lock: Mutex<()>,
}

impl FilesSource {
    /// The source of `config`; fails with an [`ErrorKind::Config`](source_core::ErrorKind)
    /// error when `Folder` is not a directory.
    pub fn connect(config: &FilesConfig) -> Result<Self> {
        check_folder(&config.folder)?;
        Ok(Self {
            config: config.clone(),
            write_lock: Mutex::new(()),
        })
    }

    /// The table called `name`, with its column types inferred now.
    fn load(&self, name: &str) -> Result<CsvTable> {
        let files = table_files(&self.config.folder)?;
        let (name, path) = find_file(&files, name)?;
        Ok(CsvTable::load(
            name,
            path,
            self.config.delimiter,
            self.config.row_scan_depth,
        )?)
    }

    /// The scan of `request` over `table`, before its first read.
    fn start_scan(&self, table: &CsvTable, request: ScanRequest) -> Result<Scan> {
        let info = table.info();
        let index = |name: &str| -> Result<usize> {
            // Exact, then ignoring case; an unknown name gets the nearest as a suggestion.
            let column = info.column(name)?;
            // Always found: `info` was built from `table`.
            Ok(table
                .columns
                .iter()
                .position(|(n, _)| *n == column.name)
                .unwrap_or_default())
        };
        let projection = match &request.projection {
            None => (0..table.columns.len()).collect(),
            Some(names) => names.iter().map(|n| index(n)).collect::<Result<_>>()?,
        };
        let mut filters = Vec::new();
        for filter in &request.filters {
            let i = index(&filter.column)?;
            // The caller passes only filters `filter_support` accepted; anything else is a bug.
            let predicate =
                compile(table.columns[i].1, filter).ok_or_else(|| Error::UnsupportedFilter {
                    table: table.name.clone(),
                    column: filter.column.clone(),
                    op: filter.op.to_string(),
                })?;
            filters.push((i, predicate));
        }
        let remaining = request
            .limit
            .into_iter()
            .chain(self.config.common.max_rows)
            .min()
            .unwrap_or(u64::MAX);
        // Nothing to return: do not even open the file.
        let reader = match remaining {
            0 => None,
            _ => Some(schema::open(&table.path, self.config.delimiter)?),
        };
        Ok(Scan {
            reader,
            path: table.path.clone(),
            columns: table.columns.clone(),
            projection,
            filters,
            schema: info.projected_schema(request.projection.as_deref())?,
            page_size: self.config.page_size.max(1),
            remaining,
            depth: self.config.row_scan_depth,
            record: csv::StringRecord::new(),
        })
    }
}

impl DataSource for FilesSource {
    fn name(&self) -> &str {
        "files"
    }

    fn list_tables(&self) -> BoxFuture<'_, Result<Vec<TableInfo>>> {
        Box::pin(async move {
            let (delimiter, depth) = (self.config.delimiter, self.config.row_scan_depth);
            table_files(&self.config.folder)?
                .iter()
                .map(|(name, path)| Ok(CsvTable::load(name, path, delimiter, depth)?.info()))
                .collect()
        })
    }

    // Overridden so that asking for one table reads one file, not every file of the folder.
    fn table<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<TableInfo>> {
        Box::pin(async move { Ok(self.load(name)?.info()) })
    }

    fn filter_support(&self, table: &TableInfo, filter: &Filter) -> FilterSupport {
        pushdown::support(table, filter)
    }

    fn scan<'a>(
        &'a self,
        table: &'a str,
        request: ScanRequest,
    ) -> BoxFuture<'a, Result<RecordBatchStream>> {
        Box::pin(async move {
            let scan = self.start_scan(&self.load(table)?, request)?;
            let schema = scan.schema.clone();
            // `stream::iter` advances the iterator only when polled: one page per poll.
            Ok(RecordBatchStream::new(schema, stream::iter(scan)))
        })
    }

    fn insert<'a>(
        &'a self,
        table: &'a str,
        rows: RecordBatch,
    ) -> BoxFuture<'a, Result<WriteOutcome>> {
        Box::pin(async move {
            // A panic while appending cannot leave the lock's `()` inconsistent: ignore poison.
            let _guard = self
                .write_lock
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            // Loaded under the lock, so types are inferred from what earlier inserts wrote.
            let table = self.load(table)?;
            write::insert(&table, self.config.delimiter, &rows)
        })
    }
}
