//! SQLite: one table per synced table, the key as its primary key, rows upserted
//! (`INSERT … ON CONFLICT DO UPDATE`) and deleted in one transaction per table. A column added
//! at the source is added with `ALTER TABLE … ADD COLUMN`; old rows hold NULL there.
//!
//! Types: integers and booleans are INTEGER, floats REAL, binary BLOB, everything else TEXT
//! as Arrow displays it (timestamps as ISO 8601 with `+00:00`, which SQLite's date functions
//! read; lists as `[a, b]`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::DataType;
use rusqlite::types::Value;

use super::{Change, Store, Target};
use crate::error::{Error, Result};
use crate::merge;

pub(crate) struct SqliteStore {
    path: PathBuf,
    db: rusqlite::Connection,
}

/// `"name"` with inner quotes doubled.
fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The SQLite column type of an Arrow type.
fn affinity(ty: &DataType) -> &'static str {
    match ty {
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64
        | DataType::Boolean => "INTEGER",
        DataType::Float16 | DataType::Float32 | DataType::Float64 | DataType::Decimal128(..) => {
            "REAL"
        }
        DataType::Binary | DataType::LargeBinary => "BLOB",
        _ => "TEXT",
    }
}

/// The cells of `array` as SQLite values.
fn values(table: &str, array: &ArrayRef) -> Result<Vec<Value>> {
    let cast = |to: &DataType| {
        arrow_cast::cast(array, to)
            .map_err(|e| Error::merge(table, format!("cannot convert a value for SQLite: {e}")))
    };
    let n = array.len();
    let out: Vec<Value> = match affinity(array.data_type()) {
        "INTEGER" => {
            let ints = cast(&DataType::Int64)?;
            let ints = ints.as_primitive::<Int64Type>();
            (0..n)
                .map(|i| {
                    if ints.is_null(i) {
                        Value::Null
                    } else {
                        Value::Integer(ints.value(i))
                    }
                })
                .collect()
        }
        "REAL" => {
            let reals = cast(&DataType::Float64)?;
            let reals = reals.as_primitive::<Float64Type>();
            (0..n)
                .map(|i| {
                    if reals.is_null(i) {
                        Value::Null
                    } else {
                        Value::Real(reals.value(i))
                    }
                })
                .collect()
        }
        "BLOB" => {
            let bytes = cast(&DataType::LargeBinary)?;
            let bytes = bytes.as_binary::<i64>();
            (0..n)
                .map(|i| {
                    if bytes.is_null(i) {
                        Value::Null
                    } else {
                        Value::Blob(bytes.value(i).to_vec())
                    }
                })
                .collect()
        }
        _ => merge::column_texts(table, array)?
            .into_iter()
            .map(|t| t.map_or(Value::Null, Value::Text))
            .collect(),
    };
    Ok(out)
}

impl SqliteStore {
    pub(crate) fn open(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let db = rusqlite::Connection::open(path).map_err(|e| Error::io(path, e))?;
        Ok(Self {
            path: path.to_owned(),
            db,
        })
    }

    fn failed(&self, target: &Target, e: impl std::fmt::Display) -> Error {
        Error::Sqlite {
            path: self.path.clone(),
            table: target.name.clone(),
            message: e.to_string(),
        }
    }

    /// The table's columns and their declared types; empty when it does not exist.
    fn columns(&self, target: &Target) -> Result<Vec<(String, String)>> {
        let sql = format!(
            "SELECT name, type FROM pragma_table_info({})",
            sql_text(&target.name)
        );
        let mut stmt = self.db.prepare(&sql).map_err(|e| self.failed(target, e))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .map_err(|e| self.failed(target, e))?;
        rows.collect::<Result<_, _>>()
            .map_err(|e| self.failed(target, e))
    }
}

/// `'text'` with inner quotes doubled.
fn sql_text(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

impl Store for SqliteStore {
    fn existing(&mut self, target: &Target) -> Result<HashMap<String, Option<String>>> {
        let columns = self.columns(target)?;
        if columns.is_empty() {
            return Ok(HashMap::new());
        }
        let cursor = match &target.cursor {
            Some(c) if columns.iter().any(|(n, _)| n == c) => {
                format!("CAST({} AS TEXT)", quote(c))
            }
            _ => "NULL".to_owned(),
        };
        let sql = format!(
            "SELECT CAST({} AS TEXT), {cursor} FROM {}",
            quote(&target.key),
            quote(&target.name)
        );
        let mut stmt = self.db.prepare(&sql).map_err(|e| self.failed(target, e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, Option<String>>(0)?,
                    r.get::<_, Option<String>>(1)?,
                ))
            })
            .map_err(|e| self.failed(target, e))?;
        let mut out = HashMap::new();
        for row in rows {
            let (k, c) = row.map_err(|e| self.failed(target, e))?;
            if let Some(k) = k {
                out.insert(k, c);
            }
        }
        Ok(out)
    }

    fn apply(&mut self, target: &Target, change: Change) -> Result<()> {
        let existing = self.columns(target)?;
        let path = self.path.clone();
        let failed = |e: rusqlite::Error| Error::Sqlite {
            path: path.clone(),
            table: target.name.clone(),
            message: e.to_string(),
        };
        let tx = self.db.transaction().map_err(failed)?;
        let table = quote(&target.name);
        if existing.is_empty() {
            let defs: Vec<String> = target
                .schema
                .fields()
                .iter()
                .map(|f| format!("{} {}", quote(f.name()), affinity(f.data_type())))
                .collect();
            tx.execute_batch(&format!(
                "CREATE TABLE {table} ({}, PRIMARY KEY ({}))",
                defs.join(", "),
                quote(&target.key)
            ))
            .map_err(failed)?;
        } else {
            for f in target.schema.fields() {
                if !existing.iter().any(|(n, _)| n == f.name()) {
                    tx.execute_batch(&format!(
                        "ALTER TABLE {table} ADD COLUMN {} {}",
                        quote(f.name()),
                        affinity(f.data_type())
                    ))
                    .map_err(failed)?;
                }
            }
        }
        upsert(&tx, target, &change.rows).map_err(|e| match e {
            Upsert::Sql(e) => failed(e),
            Upsert::Other(e) => e,
        })?;
        delete(&tx, target, &change.deleted).map_err(failed)?;
        tx.commit().map_err(failed)
    }
}

enum Upsert {
    Sql(rusqlite::Error),
    Other(Error),
}

impl From<rusqlite::Error> for Upsert {
    fn from(e: rusqlite::Error) -> Self {
        Upsert::Sql(e)
    }
}

/// `INSERT … ON CONFLICT (key) DO UPDATE` of every row of `batches`.
fn upsert(
    tx: &rusqlite::Transaction<'_>,
    target: &Target,
    batches: &[RecordBatch],
) -> Result<(), Upsert> {
    for batch in batches.iter().filter(|b| b.num_rows() > 0) {
        let schema = batch.schema();
        let names: Vec<String> = schema.fields().iter().map(|f| quote(f.name())).collect();
        let updates: Vec<String> = names
            .iter()
            .filter(|n| **n != quote(&target.key))
            .map(|n| format!("{n} = excluded.{n}"))
            .collect();
        let on_conflict = if updates.is_empty() {
            "DO NOTHING".to_owned()
        } else {
            format!("DO UPDATE SET {}", updates.join(", "))
        };
        let sql = format!(
            "INSERT INTO {} ({}) VALUES ({}) ON CONFLICT ({}) {on_conflict}",
            quote(&target.name),
            names.join(", "),
            vec!["?"; names.len()].join(", "),
            quote(&target.key)
        );
        let columns: Vec<Vec<Value>> = batch
            .columns()
            .iter()
            .map(|a| values(&target.source_table, a))
            .collect::<Result<_>>()
            .map_err(Upsert::Other)?;
        let mut stmt = tx.prepare(&sql)?;
        for row in 0..batch.num_rows() {
            let params = columns.iter().map(|c| &c[row]);
            stmt.execute(rusqlite::params_from_iter(params))?;
        }
    }
    Ok(())
}

/// Deletes the rows of `keys`, binding integer keys as integers so the primary key is used.
fn delete(
    tx: &rusqlite::Transaction<'_>,
    target: &Target,
    keys: &std::collections::HashSet<String>,
) -> Result<(), rusqlite::Error> {
    if keys.is_empty() {
        return Ok(());
    }
    let integer_key = target
        .schema
        .field_with_name(&target.key)
        .is_ok_and(|f| affinity(f.data_type()) == "INTEGER");
    let mut stmt = tx.prepare(&format!(
        "DELETE FROM {} WHERE {} = ?",
        quote(&target.name),
        quote(&target.key)
    ))?;
    for k in keys {
        let value = match k.parse::<i64>() {
            Ok(i) if integer_key => Value::Integer(i),
            _ => Value::Text(k.clone()),
        };
        stmt.execute([value])?;
    }
    Ok(())
}
