//! Record batches as text for the CLI: an aligned table, a JSON array of objects, or CSV.
//!
//! Every source's `tables`, `describe` and `read` commands go through these functions, so the
//! output looks the same whatever the source:
//!
//! - [`tables_batch`] / [`columns_batch`]: metadata as a batch (the `sys_tables` /
//!   `sys_tablecolumns` columns), then [`write_batches`].
//! - [`write_stream`]: a scan, written batch by batch (JSON and CSV stream; the text table
//!   buffers the rows to size its columns).
//! - [`print_tables`], [`print_describe`], [`print_read`]: the three CLI commands in one call
//!   each, for any [`DataSource`].
//!
//! ```
//! use source_core::format::{Format, write_batches, tables_batch};
//! use source_core::{DataSource, memory::MemorySource};
//! # futures::executor::block_on(async {
//! let tables = MemorySource::example().list_tables().await?;
//! let batch = tables_batch(&tables)?;
//! let mut out = Vec::new();
//! write_batches(Format::Csv, &batch.schema(), &[batch], &mut out)?;
//! let text = String::from_utf8(out).unwrap();
//! assert!(text.starts_with("TableName,TableType,"));
//! assert!(text.contains("colours,VIEW,"));
//! # Ok::<(), source_core::Error>(()) }).unwrap();
//! ```

use std::io::Write;
use std::str::FromStr;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type,
    UInt32Type, UInt64Type,
};
use arrow_array::{Array, ArrayRef, BooleanArray, RecordBatch, StringArray};
use arrow_cast::display::{ArrayFormatter, FormatOptions};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use futures::StreamExt;

use crate::{DataSource, Error, RecordBatchStream, Result, ScanRequest, TableInfo};

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// An aligned text table with a header (the default).
    #[default]
    Table,
    /// A JSON array of objects, one per row, keys in column order.
    Json,
    /// CSV with a header line (RFC 4180 quoting).
    Csv,
    /// One JSON object per line (newline-delimited JSON), for streaming consumers.
    Ndjson,
}

impl FromStr for Format {
    type Err = String;

    /// `table`, `json` or `csv`, any case.
    ///
    /// ```
    /// use source_core::format::Format;
    /// assert_eq!("JSON".parse::<Format>(), Ok(Format::Json));
    /// assert!("xml".parse::<Format>().is_err());
    /// ```
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "table" => Ok(Format::Table),
            "json" => Ok(Format::Json),
            "csv" => Ok(Format::Csv),
            "ndjson" | "jsonl" => Ok(Format::Ndjson),
            other => Err(format!(
                "unknown format `{other}`; use table, json, ndjson or csv"
            )),
        }
    }
}

/// The table list as a batch: `TableName, TableType, IsWritable, Description, RequiredFilters`.
pub fn tables_batch(tables: &[TableInfo]) -> Result<RecordBatch> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("TableName", DataType::Utf8, false),
        Field::new("TableType", DataType::Utf8, false),
        Field::new("IsWritable", DataType::Boolean, false),
        Field::new("Description", DataType::Utf8, false),
        Field::new("RequiredFilters", DataType::Utf8, false),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(
            tables.iter().map(|t| &t.name),
        )),
        Arc::new(StringArray::from_iter_values(
            tables.iter().map(|t| t.kind.to_string()),
        )),
        Arc::new(BooleanArray::from_iter(tables.iter().map(|t| {
            Some(t.writable.insert || t.writable.update || t.writable.delete)
        }))),
        Arc::new(StringArray::from_iter_values(
            tables.iter().map(|t| &t.description),
        )),
        Arc::new(StringArray::from_iter_values(
            tables.iter().map(|t| t.required_filters.join(",")),
        )),
    ];
    Ok(RecordBatch::try_new(schema, columns)?)
}

/// A table's columns as a batch, like `sys_tablecolumns`: `ColumnName, DataTypeName,
/// NativeType, IsNullable, IsKey, IsReadOnly, Description`.
pub fn columns_batch(table: &TableInfo) -> Result<RecordBatch> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("ColumnName", DataType::Utf8, false),
        Field::new("DataTypeName", DataType::Utf8, false),
        Field::new("NativeType", DataType::Utf8, false),
        Field::new("IsNullable", DataType::Boolean, false),
        Field::new("IsKey", DataType::Boolean, false),
        Field::new("IsReadOnly", DataType::Boolean, false),
        Field::new("Description", DataType::Utf8, false),
    ]));
    let c = &table.columns;
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(c.iter().map(|c| &c.name))),
        Arc::new(StringArray::from_iter_values(
            c.iter().map(|c| c.data_type.to_string()),
        )),
        Arc::new(StringArray::from_iter_values(
            c.iter().map(|c| &c.native_type),
        )),
        Arc::new(BooleanArray::from_iter(c.iter().map(|c| Some(c.nullable)))),
        Arc::new(BooleanArray::from_iter(c.iter().map(|c| Some(c.key)))),
        Arc::new(BooleanArray::from_iter(c.iter().map(|c| Some(c.read_only)))),
        Arc::new(StringArray::from_iter_values(
            c.iter().map(|c| &c.description),
        )),
    ];
    Ok(RecordBatch::try_new(schema, columns)?)
}

/// Writes batches in `format` (all at once).
pub fn write_batches(
    format: Format,
    schema: &SchemaRef,
    batches: &[RecordBatch],
    out: &mut dyn Write,
) -> Result<()> {
    let mut writer = BatchWriter::new(format, schema.clone(), out)?;
    for b in batches {
        writer.write(b)?;
    }
    writer.finish()
}

/// Drains a scan into `out` in `format`; returns the number of rows written.
///
/// JSON and CSV are written as each batch arrives, so memory stays at one page.
pub async fn write_stream(
    mut stream: RecordBatchStream,
    format: Format,
    out: &mut dyn Write,
) -> Result<u64> {
    let mut writer = BatchWriter::new(format, stream.schema(), out)?;
    let mut rows = 0u64;
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        rows += batch.num_rows() as u64;
        writer.write(&batch)?;
    }
    writer.finish()?;
    Ok(rows)
}

/// `connector <source> tables`: every table and view of `source`, one per row.
pub async fn print_tables(
    source: &dyn DataSource,
    format: Format,
    out: &mut dyn Write,
) -> Result<()> {
    let tables = source.list_tables().await?;
    let batch = tables_batch(&tables)?;
    write_batches(format, &batch.schema(), &[batch], out)
}

/// `connector <source> describe <table>`: the columns of `table`, one per row.
pub async fn print_describe(
    source: &dyn DataSource,
    table: &str,
    format: Format,
    out: &mut dyn Write,
) -> Result<()> {
    let info = source.table(table).await?;
    let batch = columns_batch(&info)?;
    write_batches(format, &batch.schema(), &[batch], out)
}

/// `connector <source> read <table> [--limit N]`: the rows of `table`, streamed page by page
/// (JSON and CSV); returns the number of rows written.
pub async fn print_read(
    source: &dyn DataSource,
    table: &str,
    limit: Option<u64>,
    format: Format,
    out: &mut dyn Write,
) -> Result<u64> {
    let request = ScanRequest {
        limit,
        ..ScanRequest::default()
    };
    let stream = source.scan(table, request).await?;
    write_stream(stream, format, out).await
}

/// An incremental writer: [`BatchWriter::write`] each batch, then [`BatchWriter::finish`].
pub struct BatchWriter<'w> {
    format: Format,
    schema: SchemaRef,
    out: &'w mut dyn Write,
    csv: bool,
    /// The CSV field separator (`,` unless [`BatchWriter::delimited`] chose another).
    delimiter: u8,
    table_rows: Vec<Vec<String>>,
    json_rows: u64,
}

impl std::fmt::Debug for BatchWriter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchWriter")
            .field("format", &self.format)
            .finish_non_exhaustive()
    }
}

/// CSV text of `records` (RFC 4180 quoting), fields separated by `delimiter`.
fn csv_bytes(records: &[Vec<String>], delimiter: u8) -> Result<Vec<u8>> {
    let io = |e: csv::Error| Error::Io(std::io::Error::other(e.to_string()));
    let mut csv = csv::WriterBuilder::new()
        .delimiter(delimiter)
        .from_writer(Vec::new());
    for r in records {
        csv.write_record(r).map_err(io)?;
    }
    csv.into_inner()
        .map_err(|e| Error::Io(std::io::Error::other(e.to_string())))
}

impl<'w> BatchWriter<'w> {
    /// Starts output (the CSV header, the JSON `[`).
    pub fn new(format: Format, schema: SchemaRef, out: &'w mut dyn Write) -> Result<Self> {
        Self::start(format, schema, out, b',')
    }

    /// Starts CSV output whose fields are separated by `delimiter` (e.g. `b'\t'`).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow_schema::{DataType, Field, Schema};
    /// let schema = Arc::new(Schema::new(vec![Field::new("a", DataType::Utf8, true), Field::new("b", DataType::Utf8, true)]));
    /// let mut out = Vec::new();
    /// source_core::format::BatchWriter::delimited(schema, &mut out, b'\t')?.finish()?;
    /// assert_eq!(out, b"a\tb\n");
    /// # Ok::<(), source_core::Error>(())
    /// ```
    pub fn delimited(schema: SchemaRef, out: &'w mut dyn Write, delimiter: u8) -> Result<Self> {
        Self::start(Format::Csv, schema, out, delimiter)
    }

    fn start(
        format: Format,
        schema: SchemaRef,
        out: &'w mut dyn Write,
        delimiter: u8,
    ) -> Result<Self> {
        let writer = Self {
            format,
            schema,
            out,
            csv: format == Format::Csv,
            delimiter,
            table_rows: Vec::new(),
            json_rows: 0,
        };
        match format {
            Format::Csv => {
                let header: Vec<String> = writer
                    .schema
                    .fields()
                    .iter()
                    .map(|f| f.name().clone())
                    .collect();
                let bytes = csv_bytes(&[header], writer.delimiter)?;
                writer.out.write_all(&bytes)?;
            }
            Format::Json => writer.out.write_all(b"[")?,
            Format::Table | Format::Ndjson => {}
        }
        Ok(writer)
    }

    /// Writes (or, for the text table, buffers) one batch.
    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        let options = FormatOptions::default().with_null("");
        match self.format {
            Format::Table | Format::Csv => {
                let formatters = batch
                    .columns()
                    .iter()
                    .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
                    .collect::<std::result::Result<Vec<_>, _>>()?;
                let rows = (0..batch.num_rows()).map(|row| -> Vec<String> {
                    formatters
                        .iter()
                        .map(|f| f.value(row).to_string())
                        .collect()
                });
                if self.csv {
                    let bytes = csv_bytes(&rows.collect::<Vec<_>>(), self.delimiter)?;
                    self.out.write_all(&bytes)?;
                } else {
                    self.table_rows.extend(rows);
                }
            }
            Format::Json | Format::Ndjson => {
                let ndjson = self.format == Format::Ndjson;
                for row in 0..batch.num_rows() {
                    let mut object = serde_json::Map::new();
                    for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
                        object.insert(field.name().clone(), json_value(column.as_ref(), row)?);
                    }
                    if ndjson {
                        serde_json::to_writer(&mut *self.out, &object)
                            .map_err(|e| Error::Io(std::io::Error::other(e)))?;
                        self.out.write_all(b"\n")?;
                        continue;
                    }
                    if self.json_rows > 0 {
                        self.out.write_all(b",")?;
                    }
                    self.out.write_all(b"\n")?;
                    serde_json::to_writer(&mut *self.out, &object)
                        .map_err(|e| Error::Io(std::io::Error::other(e)))?;
                    self.json_rows += 1;
                }
            }
        }
        Ok(())
    }

    /// Ends output (the JSON `]`, the whole text table).
    pub fn finish(self) -> Result<()> {
        match self.format {
            Format::Csv | Format::Ndjson => {}
            Format::Json => {
                self.out
                    .write_all(if self.json_rows > 0 { b"\n]\n" } else { b"]\n" })?
            }
            Format::Table => {
                let header: Vec<String> = self
                    .schema
                    .fields()
                    .iter()
                    .map(|f| f.name().clone())
                    .collect();
                let text = text_table(&header, &self.table_rows);
                self.out.write_all(text.as_bytes())?;
            }
        }
        self.out.flush()?;
        Ok(())
    }
}

/// `+---+` framed table; cells are single-line (newlines shown as `\n`).
fn text_table(header: &[String], rows: &[Vec<String>]) -> String {
    let clean = |s: &str| s.replace('\r', "\\r").replace('\n', "\\n");
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(|c| clean(c)).collect())
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let rule = {
        let mut s = String::from("+");
        for w in &widths {
            s.push_str(&"-".repeat(w + 2));
            s.push('+');
        }
        s.push('\n');
        s
    };
    let line = |cells: &[String]| {
        let mut s = String::from("|");
        for (w, cell) in widths.iter().zip(cells) {
            let pad = w - cell.chars().count();
            s.push(' ');
            s.push_str(cell);
            s.push_str(&" ".repeat(pad + 1));
            s.push('|');
        }
        s.push('\n');
        s
    };
    let mut out = rule.clone();
    out.push_str(&line(header));
    out.push_str(&rule);
    for row in &rows {
        out.push_str(&line(row));
    }
    if !rows.is_empty() {
        out.push_str(&rule);
    }
    out
}

/// One cell as JSON: numbers, booleans, strings, arrays and objects natively, NaN and
/// infinities as null, everything else (dates, timestamps, decimals) as Arrow's display text.
fn json_value(array: &dyn Array, row: usize) -> Result<serde_json::Value> {
    use serde_json::Value as J;
    if array.is_null(row) {
        return Ok(J::Null);
    }
    macro_rules! prim {
        ($t:ty) => {
            J::from(array.as_primitive::<$t>().value(row))
        };
    }
    Ok(match array.data_type() {
        DataType::Boolean => J::Bool(array.as_boolean().value(row)),
        DataType::Int8 => prim!(Int8Type),
        DataType::Int16 => prim!(Int16Type),
        DataType::Int32 => prim!(Int32Type),
        DataType::Int64 => prim!(Int64Type),
        DataType::UInt8 => prim!(UInt8Type),
        DataType::UInt16 => prim!(UInt16Type),
        DataType::UInt32 => prim!(UInt32Type),
        DataType::UInt64 => prim!(UInt64Type),
        DataType::Float32 => {
            serde_json::Number::from_f64(f64::from(array.as_primitive::<Float32Type>().value(row)))
                .map_or(J::Null, J::Number)
        }
        DataType::Float64 => {
            serde_json::Number::from_f64(array.as_primitive::<Float64Type>().value(row))
                .map_or(J::Null, J::Number)
        }
        DataType::Utf8 => J::String(array.as_string::<i32>().value(row).to_owned()),
        DataType::LargeUtf8 => J::String(array.as_string::<i64>().value(row).to_owned()),
        DataType::List(_) => {
            let values = array.as_list::<i32>().value(row);
            J::Array(
                (0..values.len())
                    .map(|i| json_value(values.as_ref(), i))
                    .collect::<Result<_>>()?,
            )
        }
        DataType::Struct(fields) => {
            let s = array.as_struct();
            let mut object = serde_json::Map::new();
            for (f, column) in fields.iter().zip(s.columns()) {
                object.insert(f.name().clone(), json_value(column.as_ref(), row)?);
            }
            J::Object(object)
        }
        _ => {
            let options = FormatOptions::default();
            let formatter = ArrayFormatter::try_new(array, &options)?;
            J::String(formatter.value(row).to_string())
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::builder::{ListBuilder, StringBuilder};
    use arrow_array::{Float64Array, Int64Array, TimestampMillisecondArray};

    fn sample() -> RecordBatch {
        let mut tags = ListBuilder::new(StringBuilder::new());
        tags.values().append_value("a");
        tags.values().append_value("b,c");
        tags.append(true);
        tags.append(false);
        let schema = Arc::new(Schema::new(vec![
            Field::new("Id", DataType::Int64, false),
            Field::new("title", DataType::Utf8, true),
            Field::new("price", DataType::Float64, true),
            Field::new("at", crate::timestamp_ms_utc(), true),
            Field::new("tags", tags.finish().data_type().clone(), true),
        ]));
        let mut tags = ListBuilder::new(StringBuilder::new());
        tags.values().append_value("a");
        tags.values().append_value("b,c");
        tags.append(true);
        tags.append(false);
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Int64Array::from(vec![1, 2])),
                Arc::new(StringArray::from(vec![Some("say \"hi\"\nthere"), None])),
                Arc::new(Float64Array::from(vec![Some(1.5), Some(f64::NAN)])),
                Arc::new(
                    TimestampMillisecondArray::from(vec![Some(0), None]).with_timezone(crate::UTC),
                ),
                Arc::new(tags.finish()),
            ],
        )
        .unwrap()
    }

    fn render(format: Format) -> String {
        let b = sample();
        let mut out = Vec::new();
        write_batches(format, &b.schema(), &[b], &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn json_is_an_array_of_typed_objects() {
        let v: serde_json::Value = serde_json::from_str(&render(Format::Json)).unwrap();
        assert_eq!(
            v,
            serde_json::json!([
                {"Id": 1, "title": "say \"hi\"\nthere", "price": 1.5, "at": "1970-01-01T00:00:00Z", "tags": ["a", "b,c"]},
                {"Id": 2, "title": null, "price": null, "at": null, "tags": null}
            ])
        );
    }

    #[test]
    fn csv_quotes_and_leaves_nulls_empty() {
        let text = render(Format::Csv);
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("Id,title,price,at,tags"));
        assert!(text.contains("1,\"say \"\"hi\"\"\nthere\",1.5,1970-01-01T00:00:00Z,\"[a, b,c]\""));
        assert!(text.ends_with("2,,NaN,,\n"));
    }

    #[test]
    fn table_aligns_and_escapes_newlines() {
        let text = render(Format::Table);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 6);
        assert!(lines[1].starts_with("| Id | title "));
        assert!(lines[3].contains("say \"hi\"\\nthere"));
        let widths: Vec<usize> = lines.iter().map(|l| l.chars().count()).collect();
        assert!(widths.iter().all(|w| *w == widths[0]));
    }

    #[test]
    fn cli_commands_render_any_source() {
        use crate::memory::MemorySource;
        let s = MemorySource::example();
        let mut out = Vec::new();
        futures::executor::block_on(print_describe(&s, "colours", Format::Csv, &mut out)).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with(
            "ColumnName,DataTypeName,NativeType,IsNullable,IsKey,IsReadOnly,Description\n"
        ));
        assert!(text.contains("Id,Int64,BIGINT,false,true,true,Row id\n"));
        let mut out = Vec::new();
        let n =
            futures::executor::block_on(print_read(&s, "colours", Some(3), Format::Json, &mut out))
                .unwrap();
        assert_eq!(n, 3);
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v[2], serde_json::json!({"Id": 3, "Name": "blue"}));
        let mut out = Vec::new();
        let err =
            futures::executor::block_on(print_read(&s, "colour", None, Format::Table, &mut out))
                .unwrap_err();
        assert!(err.to_string().contains("did you mean `colours`"));
    }

    #[test]
    fn empty_results_still_have_a_header() {
        let b = sample();
        let mut out = Vec::new();
        write_batches(Format::Json, &b.schema(), &[], &mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "[]\n");
        let mut out = Vec::new();
        write_batches(Format::Table, &b.schema(), &[], &mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap().lines().count(), 3);
    }
}

#[cfg(test)]
mod ndjson_tests {
    use std::sync::Arc;

    use arrow_array::{Int64Array, RecordBatch, StringArray};
    use arrow_schema::{DataType, Field, Schema};

    use super::*;

    #[test]
    fn ndjson_writes_one_object_per_line_across_batches() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("name", DataType::Utf8, true),
        ]));
        let batch = |ids: Vec<i64>, names: Vec<Option<&str>>| {
            RecordBatch::try_new(
                schema.clone(),
                vec![
                    Arc::new(Int64Array::from(ids)),
                    Arc::new(StringArray::from(names)),
                ],
            )
            .unwrap()
        };
        let mut out = Vec::new();
        write_batches(
            Format::Ndjson,
            &schema,
            &[
                batch(vec![1, 2], vec![Some("a"), None]),
                batch(vec![3], vec![Some("c")]),
            ],
            &mut out,
        )
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0], r#"{"id":1,"name":"a"}"#);
        assert_eq!(lines[1], r#"{"id":2,"name":null}"#);
    }
}
