//! Inserts: rows appended to the file as text. A value is written only if it reads back as
//! its column's type, so a write never changes what the table's columns hold; a row with a
//! value that does not fit is reported as a [`RowError`] and not written.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type,
    UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;
use source_core::{Result, RowError, WriteOutcome};

use crate::error::FilesError;
use crate::schema::{CsvTable, format_date};

/// Appends the rows of `rows` to `table`'s file; see the module docs.
pub(crate) fn insert(table: &CsvTable, delimiter: u8, rows: &RecordBatch) -> Result<WriteOutcome> {
    let info = table.info();
    // For each column of the file, the batch column that fills it (unnamed columns stay NULL).
    let mut sources: Vec<Option<&dyn Array>> = vec![None; table.columns.len()];
    for (field, array) in rows.schema_ref().fields().iter().zip(rows.columns()) {
        let name = &info.column(field.name())?.name;
        if let Some(i) = table.columns.iter().position(|(n, _)| n == name) {
            sources[i] = Some(array.as_ref());
        }
    }
    let mut outcome = WriteOutcome::default();
    let mut lines = Vec::with_capacity(rows.num_rows());
    for row in 0..rows.num_rows() {
        match line(table, &sources, row) {
            Ok(fields) => lines.push(fields),
            Err(error) => outcome.errors.push(error),
        }
    }
    append(&table.path, delimiter, &lines)?;
    outcome.affected = lines.len() as u64;
    Ok(outcome)
}

/// Row `row` as the fields of one line, or why it cannot be written.
fn line(
    table: &CsvTable,
    sources: &[Option<&dyn Array>],
    row: usize,
) -> Result<Vec<String>, RowError> {
    let mut fields = Vec::with_capacity(table.columns.len());
    for ((name, ty), source) in table.columns.iter().zip(sources) {
        let error = |message: String| RowError {
            index: row,
            key: None,
            column: Some(name.clone()),
            message,
        };
        let text = match source {
            Some(array) => text(*array, row).map_err(error)?,
            None => None,
        };
        match text {
            None => fields.push(String::new()),
            Some(text) if text.is_empty() => {
                return Err(error(
                    "an empty text cannot be stored: an empty cell reads as NULL".to_owned(),
                ));
            }
            Some(text) if ty.parse(&text).is_none() => {
                return Err(error(format!(
                    "{text:?} is not {} (the column's type)",
                    ty.expected()
                )));
            }
            Some(text) => fields.push(text),
        }
    }
    Ok(fields)
}

/// A cell as the text to write; `None` for NULL.
fn text(array: &dyn Array, row: usize) -> Result<Option<String>, String> {
    if array.is_null(row) {
        return Ok(None);
    }
    let text = match array.data_type() {
        DataType::Utf8 => array.as_string::<i32>().value(row).to_owned(),
        DataType::LargeUtf8 => array.as_string::<i64>().value(row).to_owned(),
        DataType::Utf8View => array.as_string_view().value(row).to_owned(),
        DataType::Boolean => array.as_boolean().value(row).to_string(),
        DataType::Int8 => array.as_primitive::<Int8Type>().value(row).to_string(),
        DataType::Int16 => array.as_primitive::<Int16Type>().value(row).to_string(),
        DataType::Int32 => array.as_primitive::<Int32Type>().value(row).to_string(),
        DataType::Int64 => array.as_primitive::<Int64Type>().value(row).to_string(),
        DataType::UInt8 => array.as_primitive::<UInt8Type>().value(row).to_string(),
        DataType::UInt16 => array.as_primitive::<UInt16Type>().value(row).to_string(),
        DataType::UInt32 => array.as_primitive::<UInt32Type>().value(row).to_string(),
        DataType::UInt64 => array.as_primitive::<UInt64Type>().value(row).to_string(),
        // Display is the shortest text that reads back as the same number.
        DataType::Float32 => array.as_primitive::<Float32Type>().value(row).to_string(),
        DataType::Float64 => array.as_primitive::<Float64Type>().value(row).to_string(),
        DataType::Date32 => format_date(array.as_primitive::<Date32Type>().value(row)),
        other => {
            return Err(format!(
                "values of type {other} cannot be written to a CSV file"
            ));
        }
    };
    Ok(Some(text))
}

/// Appends `lines` to the file, after a line break if its last line lacks one.
fn append(path: &Path, delimiter: u8, lines: &[Vec<String>]) -> Result<(), FilesError> {
    if lines.is_empty() {
        return Ok(());
    }
    let io = |e| FilesError::io("append to", path, e);
    let mut file = OpenOptions::new()
        .read(true)
        .append(true)
        .open(path)
        .map_err(io)?;
    if !ends_with_newline(&mut file).map_err(io)? {
        file.write_all(b"\n").map_err(io)?;
    }
    let mut writer = csv::WriterBuilder::new()
        .delimiter(delimiter)
        .from_writer(file);
    for fields in lines {
        writer
            .write_record(fields)
            .map_err(|e| FilesError::io("append to", path, e.into()))?;
    }
    writer.flush().map_err(io)
}

/// Whether the file is empty or ends with `\n` (otherwise the first new row would be glued
/// onto its last line).
fn ends_with_newline(file: &mut File) -> std::io::Result<bool> {
    if file.metadata()?.len() == 0 {
        return Ok(true);
    }
    file.seek(SeekFrom::End(-1))?;
    let mut last = [0u8];
    file.read_exact(&mut last)?;
    Ok(last[0] == b'\n')
}
