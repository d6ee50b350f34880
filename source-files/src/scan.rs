//! The scan: an iterator that reads one page of rows from the file each time it is advanced,
//! keeps those that pass the pushed filters, and builds only the projected columns. Wrapped in
//! a stream, it reads as the caller polls, so memory holds one page, whatever the file's size.

use std::fs::File;
use std::path::PathBuf;
use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Date32Builder, Float64Builder, Int64Builder, StringBuilder,
};
use arrow_array::{ArrayRef, RecordBatch, RecordBatchOptions};
use arrow_schema::SchemaRef;
use source_core::Result;

use crate::error::{FilesError, file_name};
use crate::pushdown::Predicate;
use crate::schema::{Cell, ColumnType};

/// A scan in progress.
pub(crate) struct Scan {
    /// `None` once the file is finished (or the limit reached): the file is closed early.
    pub(crate) reader: Option<csv::Reader<File>>,
    pub(crate) path: PathBuf,
    /// Every column of the file: name and type.
    pub(crate) columns: Vec<(String, ColumnType)>,
    /// The columns to build, as indexes into `columns`, in output order.
    pub(crate) projection: Vec<usize>,
    /// The pushed filters, each on a column index.
    pub(crate) filters: Vec<(usize, Predicate)>,
    pub(crate) schema: SchemaRef,
    pub(crate) page_size: usize,
    /// Rows still to return (the request's limit and `MaxRows`).
    pub(crate) remaining: u64,
    /// `RowScanDepth`, for messages about cells that do not fit.
    pub(crate) depth: usize,
    pub(crate) record: csv::StringRecord,
}

impl Iterator for Scan {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        let page = self.page();
        if page.is_err() {
            // After an error the position in the file is meaningless: end the stream.
            self.reader = None;
        }
        page.transpose()
    }
}

impl Scan {
    /// The next page, `None` when there is none.
    fn page(&mut self) -> Result<Option<RecordBatch>> {
        let want = self
            .page_size
            .min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
        let mut builders: Vec<Builder> = self
            .projection
            .iter()
            .map(|&i| Builder::new(self.columns[i].1, want))
            .collect();
        let mut rows = 0;
        while rows < want {
            let Some(reader) = self.reader.as_mut() else {
                break;
            };
            if !reader
                .read_record(&mut self.record)
                .map_err(|e| FilesError::csv(&self.path, e))?
            {
                self.reader = None;
                break;
            }
            if !self.passes()? {
                continue;
            }
            for (builder, &i) in builders.iter_mut().zip(&self.projection) {
                builder.append(self.cell(i)?);
            }
            rows += 1;
        }
        self.remaining -= rows as u64;
        if self.remaining == 0 {
            // The limit is reached: stop reading rather than scan the rest of the file.
            self.reader = None;
        }
        if rows == 0 {
            return Ok(None);
        }
        let arrays: Vec<ArrayRef> = builders.iter_mut().map(Builder::finish).collect();
        // The row count matters for an empty projection, whose batches have no column to count.
        let options = RecordBatchOptions::new().with_row_count(Some(rows));
        Ok(Some(RecordBatch::try_new_with_options(
            self.schema.clone(),
            arrays,
            &options,
        )?))
    }

    /// Whether the current record passes every pushed filter.
    fn passes(&self) -> Result<bool> {
        for (i, predicate) in &self.filters {
            if !predicate.matches(self.cell(*i)?) {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Cell `i` of the current record as its column's type; `None` when empty (NULL).
    fn cell(&self, i: usize) -> Result<Option<Cell<'_>>, FilesError> {
        let text = self.record.get(i).unwrap_or_default();
        if text.is_empty() {
            return Ok(None);
        }
        let (name, ty) = &self.columns[i];
        ty.parse(text).map(Some).ok_or_else(|| FilesError::BadCell {
            file: file_name(&self.path),
            line: self.record.position().map_or(0, csv::Position::line),
            column: name.clone(),
            value: text.to_owned(),
            expected: ty.expected(),
            depth: self.depth,
        })
    }
}

/// An Arrow builder for one projected column.
enum Builder {
    Int(Int64Builder),
    Float(Float64Builder),
    Bool(BooleanBuilder),
    Date(Date32Builder),
    Text(StringBuilder),
}

impl Builder {
    fn new(ty: ColumnType, capacity: usize) -> Self {
        match ty {
            ColumnType::Integer => Self::Int(Int64Builder::with_capacity(capacity)),
            ColumnType::Float => Self::Float(Float64Builder::with_capacity(capacity)),
            ColumnType::Boolean => Self::Bool(BooleanBuilder::with_capacity(capacity)),
            ColumnType::Date => Self::Date(Date32Builder::with_capacity(capacity)),
            ColumnType::Text => Self::Text(StringBuilder::with_capacity(capacity, capacity * 16)),
        }
    }

    /// Appends a cell parsed as this builder's type (see `Scan::cell`); `None` is NULL.
    fn append(&mut self, cell: Option<Cell<'_>>) {
        match (self, cell) {
            (Self::Int(b), Some(Cell::Int(v))) => b.append_value(v),
            (Self::Float(b), Some(Cell::Float(v))) => b.append_value(v),
            (Self::Bool(b), Some(Cell::Bool(v))) => b.append_value(v),
            (Self::Date(b), Some(Cell::Date(v))) => b.append_value(v),
            (Self::Text(b), Some(Cell::Text(v))) => b.append_value(v),
            (builder, cell) => {
                // Cells are parsed with the column's own type, so only NULL reaches here.
                debug_assert!(cell.is_none(), "a {cell:?} cell in a mismatched builder");
                builder.append_null();
            }
        }
    }

    fn append_null(&mut self) {
        match self {
            Self::Int(b) => b.append_null(),
            Self::Float(b) => b.append_null(),
            Self::Bool(b) => b.append_null(),
            Self::Date(b) => b.append_null(),
            Self::Text(b) => b.append_null(),
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Self::Int(b) => Arc::new(b.finish()),
            Self::Float(b) => Arc::new(b.finish()),
            Self::Bool(b) => Arc::new(b.finish()),
            Self::Date(b) => Arc::new(b.finish()),
            Self::Text(b) => Arc::new(b.finish()),
        }
    }
}
