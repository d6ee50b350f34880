//! INSERT, UPDATE and DELETE, mapped onto the source's writes.
//!
//! The values to write are computed by DataFusion: the VALUES list or SELECT of an INSERT,
//! and for UPDATE and DELETE a `SELECT key, new values FROM t WHERE …` that uses the same
//! pushdown as any query. Every matching row is read before the first write, so a write
//! that changes a filtered column cannot make paging skip rows.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, RecordBatch, RecordBatchOptions};
use datafusion::arrow::buffer::NullBuffer;
use datafusion::arrow::compute::{cast, concat_batches};
use datafusion::arrow::datatypes::{Field, Schema};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::scalar::ScalarValue;
use datafusion::sql::parser::{DFParser, Statement as DfStatement};
use datafusion::sql::sqlparser::ast::{
    AssignmentTarget, Delete, FromTable, Insert, ObjectName, ObjectNamePart, Statement,
    TableFactor, TableObject, TableWithJoins, Update,
};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use source_core::{ColumnInfo, DataSource, TableInfo, TableKind, WriteOutcome};

use crate::resolve::{self, TableRef};
use crate::{Error, QueryResult, Result, Session};

/// The written table: its source and metadata.
struct Target {
    source: Arc<dyn DataSource>,
    info: TableInfo,
}

fn parts(name: &ObjectName) -> Vec<String> {
    name.0
        .iter()
        .map(|p| match p {
            ObjectNamePart::Identifier(i) => i.value.clone(),
            ObjectNamePart::Function(f) => f.name.value.clone(),
        })
        .collect()
}

/// Resolves the written table and checks that it accepts `operation`.
fn target(session: &Session, name: &ObjectName, operation: &'static str) -> Result<Target> {
    let catalog = session.catalog();
    let TableRef {
        schema, info, name, ..
    } = resolve::resolve_name(&parts(name), catalog)?;
    let (Some(schema), Some(info)) = (schema, info) else {
        return Err(Error::NotWritable {
            operation,
            table: name,
            reason: "system tables are read-only".into(),
        });
    };
    let allowed = match operation {
        "INSERT" => info.writable.insert,
        "UPDATE" => info.writable.update,
        _ => info.writable.delete,
    };
    if !allowed {
        let source = catalog.source(&schema).ok_or_else(|| Error::UnknownTable {
            name: name.clone(),
            suggestion: None,
        })?;
        // Point at a writable sibling (HubDB's `events` → `events_Draft`).
        let sibling = source
            .tables()
            .iter()
            .filter(|t| t.name != info.name && t.name.starts_with(&info.name))
            .find(|t| match operation {
                "INSERT" => t.writable.insert,
                "UPDATE" => t.writable.update,
                _ => t.writable.delete,
            })
            .map(|t| t.name.clone());
        let what = if info.kind == TableKind::View {
            "it is a read-only view".to_owned()
        } else {
            format!("the source does not support {operation} on it")
        };
        return Err(Error::NotWritable {
            operation,
            table: info.name.clone(),
            reason: match sibling {
                Some(s) => format!("{what}; write to {s} instead"),
                None => what,
            },
        });
    }
    let source = catalog
        .source(&schema)
        .map(|s| s.source.clone())
        .ok_or_else(|| Error::UnknownTable {
            name: info.name.clone(),
            suggestion: None,
        })?;
    Ok(Target { source, info })
}

/// The table's column `name` (any case), or the error naming the nearest.
fn column<'a>(info: &'a TableInfo, name: &str) -> Result<&'a ColumnInfo> {
    info.column(name).map_err(|_| Error::UnknownColumn {
        table: Some(info.name.clone()),
        column: name.to_owned(),
        suggestion: source_core::nearest(name, info.columns.iter().map(|c| &c.name)),
    })
}

fn writable_column<'a>(
    info: &'a TableInfo,
    name: &str,
    operation: &'static str,
) -> Result<&'a ColumnInfo> {
    let c = column(info, name)?;
    if c.read_only || c.key {
        return Err(Error::NotWritable {
            operation,
            table: info.name.clone(),
            reason: format!("column {} is read-only", c.name),
        });
    }
    Ok(c)
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Converts a column of values to `column`'s type. A value that does not convert is an error
/// naming the column, the value and the type, never a NULL written in its place (Arrow's
/// lenient cast turns failures into NULLs, so the two null masks are compared).
fn convert(table: &str, values: &ArrayRef, column: &ColumnInfo) -> Result<ArrayRef> {
    let invalid = |row: usize, message: String| {
        Error::Source(source_core::Error::InvalidValue {
            table: table.to_owned(),
            column: Some(column.name.clone()),
            row: Some((row + 1).to_string()),
            message,
        })
    };
    let converted = cast(values, &column.data_type).map_err(|e| {
        invalid(
            0,
            format!(
                "cannot convert {} to {}: {e}",
                values.data_type(),
                column.data_type
            ),
        )
    })?;
    // Logical nulls: a NULL literal is a `NullArray`, which has no null buffer.
    let given = values.logical_nulls();
    let kept = converted.logical_nulls();
    let is_null =
        |nulls: &Option<NullBuffer>, r: usize| nulls.as_ref().is_some_and(|n| n.is_null(r));
    let lost = (0..values.len()).find(|&r| !is_null(&given, r) && is_null(&kept, r));
    if let Some(row) = lost {
        let shown = ArrayFormatter::try_new(values.as_ref(), &FormatOptions::default())
            .map(|f| f.value(row).to_string())
            .unwrap_or_default();
        return Err(invalid(
            row,
            format!(
                "'{shown}' is not a valid {} ({}); nothing was written",
                type_name(column),
                column.data_type
            ),
        ));
    }
    Ok(converted)
}

/// The column's type as its source names it (`NUMBER`, `Datetime`), else Arrow's.
fn type_name(column: &ColumnInfo) -> String {
    if column.native_type.is_empty() {
        column.data_type.to_string()
    } else {
        column.native_type.clone()
    }
}

/// Parses SQL we generated from the user's own (already parsed) pieces.
fn parse_query(text: &str) -> Result<Statement> {
    let mut statements = DFParser::parse_sql_with_dialect(text, &GenericDialect {})
        .map_err(|e| Error::Syntax(e.to_string()))?;
    match statements.pop_front() {
        Some(DfStatement::Statement(s)) => Ok(*s),
        _ => Err(Error::Syntax(format!("cannot plan `{text}`"))),
    }
}

/// Concatenates the query result and casts/renames its columns to `columns`.
fn shape(
    table: &str,
    batches: &[RecordBatch],
    columns: &[&ColumnInfo],
) -> Result<Option<RecordBatch>> {
    let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
    if rows == 0 {
        return Ok(None);
    }
    let Some(first) = batches.first() else {
        return Ok(None);
    };
    let all = concat_batches(&first.schema(), batches)?;
    let mut arrays: Vec<ArrayRef> = Vec::with_capacity(columns.len());
    let mut fields: Vec<Field> = Vec::with_capacity(columns.len());
    for (i, c) in columns.iter().enumerate() {
        let array = convert(table, all.column(i), c)?;
        arrays.push(array);
        // Nullable here: the source reports NULLs in non-null columns per row.
        fields.push(Field::new(&c.name, c.data_type.clone(), true));
    }
    let options = RecordBatchOptions::new().with_row_count(Some(all.num_rows()));
    Ok(Some(RecordBatch::try_new_with_options(
        Arc::new(Schema::new(fields)),
        arrays,
        &options,
    )?))
}

fn finish(
    session: &Session,
    operation: &'static str,
    table: &str,
    outcome: WriteOutcome,
) -> Result<QueryResult> {
    session.catalog().identity.record(operation, &outcome);
    if outcome.errors.is_empty() {
        Ok(QueryResult::Affected(outcome.affected))
    } else {
        Err(Error::PartialWrite {
            operation,
            table: table.to_owned(),
            affected: outcome.affected,
            errors: outcome.errors,
        })
    }
}

/// `INSERT INTO t [(cols)] {VALUES … | SELECT …}`.
pub(crate) async fn insert(
    session: &Session,
    insert: Insert,
    params: Vec<ScalarValue>,
) -> Result<QueryResult> {
    let TableObject::TableName(name) = &insert.table else {
        return Err(Error::Unsupported("INSERT INTO a table function".into()));
    };
    if insert.on.is_some() || insert.returning.is_some() || !insert.assignments.is_empty() {
        return Err(Error::Unsupported(
            "INSERT … ON CONFLICT / RETURNING / SET is not supported; use INSERT INTO t (cols) VALUES (…)"
                .into(),
        ));
    }
    let t = target(session, name, "INSERT")?;
    let columns: Vec<&ColumnInfo> = if insert.columns.is_empty() {
        t.info
            .columns
            .iter()
            .filter(|c| !c.read_only && !c.key)
            .collect()
    } else {
        insert
            .columns
            .iter()
            .map(|c| {
                let parts = parts(c);
                writable_column(&t.info, parts.last().map_or("", String::as_str), "INSERT")
            })
            .collect::<Result<_>>()?
    };
    let Some(query) = insert.source else {
        return Err(Error::Syntax("INSERT needs VALUES or a SELECT".into()));
    };
    let batches = session
        .collect_internal(Statement::Query(query), params)
        .await?;
    if let Some(b) = batches.first()
        && b.num_columns() != columns.len()
    {
        return Err(Error::Syntax(format!(
            "INSERT into {} names {} column(s) but gives {} value(s) per row",
            t.info.name,
            columns.len(),
            b.num_columns()
        )));
    }
    let Some(rows) = shape(&t.info.name, &batches, &columns)? else {
        return Ok(QueryResult::Affected(0));
    };
    let outcome = t.source.insert(&t.info.name, rows).await?;
    finish(session, "INSERT", &t.info.name, outcome)
}

/// The single table an UPDATE or DELETE names, as SQL text (with its alias).
fn single_table(twj: &TableWithJoins, operation: &str) -> Result<ObjectName> {
    if !twj.joins.is_empty() {
        return Err(Error::Unsupported(format!(
            "{operation} with JOIN; use WHERE key IN (SELECT …)"
        )));
    }
    match &twj.relation {
        TableFactor::Table { name, .. } => Ok(name.clone()),
        _ => Err(Error::Unsupported(format!(
            "{operation} of a derived table"
        ))),
    }
}

fn key_columns<'a>(info: &'a TableInfo, operation: &str) -> Result<Vec<&'a ColumnInfo>> {
    let keys: Vec<&ColumnInfo> = info.key_columns().collect();
    if keys.is_empty() {
        return Err(Error::Unsupported(format!(
            "{operation} on {} needs a key column, and it has none",
            info.name
        )));
    }
    Ok(keys)
}

/// `UPDATE t SET c = expr, … [WHERE …]`.
pub(crate) async fn update(
    session: &Session,
    update: Update,
    params: Vec<ScalarValue>,
) -> Result<QueryResult> {
    if update.from.is_some() || update.returning.is_some() || update.limit.is_some() {
        return Err(Error::Unsupported(
            "UPDATE … FROM / RETURNING / LIMIT is not supported".into(),
        ));
    }
    let name = single_table(&update.table, "UPDATE")?;
    let t = target(session, &name, "UPDATE")?;
    let keys = key_columns(&t.info, "UPDATE")?;
    let mut set: Vec<&ColumnInfo> = Vec::new();
    let mut exprs = Vec::new();
    for a in &update.assignments {
        let AssignmentTarget::ColumnName(c) = &a.target else {
            return Err(Error::Unsupported("UPDATE … SET (a, b) = …".into()));
        };
        let parts = parts(c);
        let col = writable_column(&t.info, parts.last().map_or("", String::as_str), "UPDATE")?;
        if set.iter().any(|s| s.name == col.name) {
            return Err(Error::Syntax(format!("column {} is set twice", col.name)));
        }
        set.push(col);
        exprs.push(format!(
            "({}) AS {}",
            a.value,
            quote(&format!("__set_{}", col.name))
        ));
    }
    let select: Vec<String> = keys.iter().map(|k| quote(&k.name)).chain(exprs).collect();
    let text = format!(
        "SELECT {} FROM {}{}",
        select.join(", "),
        update.table.relation,
        update
            .selection
            .as_ref()
            .map(|w| format!(" WHERE {w}"))
            .unwrap_or_default()
    );
    let batches = session
        .collect_internal(parse_query(&text)?, params)
        .await?;
    let columns: Vec<&ColumnInfo> = keys.iter().copied().chain(set).collect();
    let Some(rows) = shape(&t.info.name, &batches, &columns)? else {
        return Ok(QueryResult::Affected(0));
    };
    let outcome = t.source.update(&t.info.name, rows).await?;
    finish(session, "UPDATE", &t.info.name, outcome)
}

/// `DELETE FROM t [WHERE …]`.
pub(crate) async fn delete(
    session: &Session,
    delete: Delete,
    params: Vec<ScalarValue>,
) -> Result<QueryResult> {
    if delete.using.is_some()
        || delete.returning.is_some()
        || delete.limit.is_some()
        || !delete.tables.is_empty()
    {
        return Err(Error::Unsupported(
            "DELETE … USING / RETURNING / LIMIT is not supported".into(),
        ));
    }
    let from = match &delete.from {
        FromTable::WithFromKeyword(v) | FromTable::WithoutKeyword(v) => v,
    };
    let [twj] = from.as_slice() else {
        return Err(Error::Unsupported("DELETE from several tables".into()));
    };
    let name = single_table(twj, "DELETE")?;
    let t = target(session, &name, "DELETE")?;
    let keys = key_columns(&t.info, "DELETE")?;
    let text = format!(
        "SELECT {} FROM {}{}",
        keys.iter()
            .map(|k| quote(&k.name))
            .collect::<Vec<_>>()
            .join(", "),
        twj.relation,
        delete
            .selection
            .as_ref()
            .map(|w| format!(" WHERE {w}"))
            .unwrap_or_default()
    );
    let batches = session
        .collect_internal(parse_query(&text)?, params)
        .await?;
    let Some(rows) = shape(&t.info.name, &batches, &keys)? else {
        return Ok(QueryResult::Affected(0));
    };
    let outcome = t.source.delete(&t.info.name, rows).await?;
    finish(session, "DELETE", &t.info.name, outcome)
}
