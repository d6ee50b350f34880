//! Writing a result set to a file as it streams: Parquet (row groups flushed as they fill)
//! and CSV (batch by batch), so memory stays at a few pages whatever the table size.
//!
//! ```no_run
//! # async fn run(session: &sql::Session) -> Result<(), sql::Error> {
//! let sql::QueryResult::Rows(rows) = session.execute("SELECT * FROM events", &[]).await? else {
//!     unreachable!("SELECT gives rows")
//! };
//! let file = std::fs::File::create("events.parquet").map_err(|e| sql::Error::Export(e.to_string()))?;
//! let written = sql::export::write_parquet(rows, file).await?;
//! # let _ = written; Ok(()) }
//! ```

use std::io::Write;

use futures::StreamExt;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use source_core::format::BatchWriter;

use crate::{Error, Result, RowStream};

/// Rows per Parquet row group: a group is buffered (encoded) until full, so this bounds
/// the writer's memory (about 100 MB would be a million wide rows).
pub const ROW_GROUP_ROWS: usize = 65_536;

/// The Parquet settings of every export: Snappy, row groups of [`ROW_GROUP_ROWS`] (parquet's
/// default of a million rows per group would buffer a whole table that size in memory).
///
/// ```
/// let props = sql::export::parquet_properties();
/// assert_eq!(props.max_row_group_row_count(), Some(sql::export::ROW_GROUP_ROWS));
/// ```
pub fn parquet_properties() -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .build()
}

/// Writes every batch of `rows` to `out` as Parquet ([`parquet_properties`]); returns the row
/// count.
pub async fn write_parquet<W: Write + Send>(mut rows: RowStream, out: W) -> Result<u64> {
    let props = parquet_properties();
    let export = |e: parquet::errors::ParquetError| Error::Export(e.to_string());
    let mut writer = ArrowWriter::try_new(out, rows.schema(), Some(props)).map_err(export)?;
    let mut count = 0u64;
    while let Some(batch) = rows.next().await {
        let batch = batch?;
        count += batch.num_rows() as u64;
        writer.write(&batch).map_err(export)?;
    }
    writer.close().map_err(export)?;
    Ok(count)
}

/// Writes every batch of `rows` to `out` as CSV with a header (the CLI's CSV format);
/// returns the row count.
pub async fn write_csv(rows: RowStream, out: &mut dyn Write) -> Result<u64> {
    write_delimited(rows, out, b',').await
}

/// As [`write_csv`], with fields separated by `delimiter` (`SELECT … INTO [csv://f;delimiter=tab]`).
pub async fn write_delimited(
    mut rows: RowStream,
    out: &mut dyn Write,
    delimiter: u8,
) -> Result<u64> {
    let mut writer = BatchWriter::delimited(rows.schema(), out, delimiter)?;
    let mut count = 0u64;
    while let Some(batch) = rows.next().await {
        let batch = batch?;
        count += batch.num_rows() as u64;
        writer.write(&batch)?;
    }
    writer.finish()?;
    Ok(count)
}
