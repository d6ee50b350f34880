//! The Flight SQL metadata calls ADBC and JDBC clients make, answered from the session's
//! system tables: one catalog (`CData`), one schema per visible connection, its tables.

use std::sync::Arc;

use arrow_array::{ArrayRef, Int32Array, RecordBatch, StringArray};
use arrow_flight::sql::metadata::{SqlInfoData, SqlInfoDataBuilder};
use arrow_flight::sql::{
    CommandGetCatalogs, CommandGetDbSchemas, CommandGetPrimaryKeys, CommandGetTableTypes,
    CommandGetTables, SqlInfo, SqlSupportedCaseSensitivity,
};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef};
use source_core::Value;

/// Why a metadata answer could not be built.
#[derive(Debug, thiserror::Error)]
pub(crate) enum MetadataError {
    #[error(transparent)]
    Sql(#[from] sql::Error),
    #[error("building the metadata answer: {0}")]
    Arrow(#[from] ArrowError),
    #[error("building the metadata answer: {0}")]
    Flight(#[from] arrow_flight::error::FlightError),
}

type Result<T> = std::result::Result<T, MetadataError>;

/// The rows of a system-table query, collected (system tables are small).
async fn system_rows(
    session: &sql::Session,
    statement: &str,
    params: &[Value],
) -> Result<Vec<RecordBatch>> {
    let rows = session.execute(statement, params).await?;
    Ok(rows.collect().await?)
}

/// The text column `name` of `batch` (system tables' text columns are Utf8).
fn text_column<'a>(batch: &'a RecordBatch, name: &str) -> Result<&'a StringArray> {
    batch
        .column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<StringArray>())
        .ok_or_else(|| {
            MetadataError::Arrow(ArrowError::SchemaError(format!(
                "system table column {name} is missing or not text"
            )))
        })
}

pub(crate) async fn catalogs(
    session: &sql::Session,
    query: CommandGetCatalogs,
) -> Result<RecordBatch> {
    let mut builder = query.into_builder();
    for batch in system_rows(session, "SELECT CatalogName FROM sys_catalogs", &[]).await? {
        for name in text_column(&batch, "CatalogName")?.iter().flatten() {
            builder.append(name);
        }
    }
    Ok(builder.build()?)
}

pub(crate) async fn schemas(
    session: &sql::Session,
    query: CommandGetDbSchemas,
) -> Result<RecordBatch> {
    let mut builder = query.into_builder();
    let statement = "SELECT CatalogName, SchemaName FROM sys_schemas";
    for batch in system_rows(session, statement, &[]).await? {
        let catalogs = text_column(&batch, "CatalogName")?;
        let schemas = text_column(&batch, "SchemaName")?;
        for (catalog, schema) in catalogs.iter().zip(schemas.iter()) {
            if let (Some(c), Some(s)) = (catalog, schema) {
                builder.append(c, s);
            }
        }
    }
    Ok(builder.build()?)
}

pub(crate) async fn tables(session: &sql::Session, query: CommandGetTables) -> Result<RecordBatch> {
    let include_schema = query.include_schema;
    let mut builder = query.into_builder();
    let statement = "SELECT CatalogName, SchemaName, TableName, TableType FROM sys_tables";
    for batch in system_rows(session, statement, &[]).await? {
        let catalogs = text_column(&batch, "CatalogName")?;
        let schemas = text_column(&batch, "SchemaName")?;
        let names = text_column(&batch, "TableName")?;
        let kinds = text_column(&batch, "TableType")?;
        for row in 0..batch.num_rows() {
            let (catalog, schema, name) =
                (catalogs.value(row), schemas.value(row), names.value(row));
            let columns = if include_schema {
                session
                    .describe(&format!("[{schema}].[{name}]"))
                    .await?
                    .schema()
            } else {
                Arc::new(Schema::empty())
            };
            builder.append(catalog, schema, name, kinds.value(row), &columns)?;
        }
    }
    Ok(builder.build()?)
}

pub(crate) async fn table_types(
    session: &sql::Session,
    query: CommandGetTableTypes,
) -> Result<RecordBatch> {
    let mut builder = query.into_builder();
    let statement = "SELECT DISTINCT TableType FROM sys_tables";
    for batch in system_rows(session, statement, &[]).await? {
        for kind in text_column(&batch, "TableType")?.iter().flatten() {
            builder.append(kind);
        }
    }
    Ok(builder.build()?)
}

/// The schema Flight SQL gives `GetPrimaryKeys` answers.
pub(crate) fn primary_keys_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("catalog_name", DataType::Utf8, true),
        Field::new("db_schema_name", DataType::Utf8, true),
        Field::new("table_name", DataType::Utf8, false),
        Field::new("column_name", DataType::Utf8, false),
        Field::new("key_name", DataType::Utf8, true),
        Field::new("key_sequence", DataType::Int32, false),
    ]))
}

pub(crate) async fn primary_keys(
    session: &sql::Session,
    query: CommandGetPrimaryKeys,
) -> Result<RecordBatch> {
    let mut statement = "SELECT CatalogName, SchemaName, TableName, ColumnName, KeyName, CAST(KeySeq AS INT) AS KeySeq FROM sys_primarykeys WHERE TableName = ?".to_owned();
    let mut params = vec![Value::Str(query.table.clone())];
    if let Some(schema) = query.db_schema.filter(|s| !s.is_empty()) {
        statement.push_str(" AND SchemaName = ?");
        params.push(Value::Str(schema));
    }
    statement.push_str(" ORDER BY SchemaName, KeySeq");
    let mut columns: [Vec<Option<String>>; 5] = Default::default();
    let mut sequence = Vec::new();
    for batch in system_rows(session, &statement, &params).await? {
        for (i, name) in [
            "CatalogName",
            "SchemaName",
            "TableName",
            "ColumnName",
            "KeyName",
        ]
        .iter()
        .enumerate()
        {
            columns[i].extend(
                text_column(&batch, name)?
                    .iter()
                    .map(|v| v.map(str::to_owned)),
            );
        }
        let seq = batch
            .column_by_name("KeySeq")
            .and_then(|c| c.as_any().downcast_ref::<Int32Array>())
            .ok_or_else(|| {
                ArrowError::SchemaError("sys_primarykeys.KeySeq is not an INT".into())
            })?;
        sequence.extend(seq.iter().map(|v| v.unwrap_or(1)));
    }
    let [catalog, schema, table, column, key] = columns;
    let text = |v: Vec<Option<String>>| Arc::new(StringArray::from(v)) as ArrayRef;
    Ok(RecordBatch::try_new(
        primary_keys_schema(),
        vec![
            text(catalog),
            text(schema),
            text(table),
            text(column),
            text(key),
            Arc::new(Int32Array::from(sequence)),
        ],
    )?)
}

/// What `GetSqlInfo` reports: the server, and the dialect facts JDBC and ADBC ask first.
pub(crate) fn sql_info() -> std::result::Result<SqlInfoData, arrow_flight::error::FlightError> {
    let case_insensitive = SqlSupportedCaseSensitivity::SqlCaseSensitivityCaseInsensitive as i32;
    let mut builder = SqlInfoDataBuilder::new();
    builder.append(SqlInfo::FlightSqlServerName, "connector gateway");
    builder.append(SqlInfo::FlightSqlServerVersion, env!("CARGO_PKG_VERSION"));
    // The Arrow IPC format version (Schema.fbs MetadataVersion V5 is "1.5").
    builder.append(SqlInfo::FlightSqlServerArrowVersion, "1.5");
    builder.append(SqlInfo::FlightSqlServerReadOnly, false);
    builder.append(SqlInfo::FlightSqlServerSql, true);
    builder.append(SqlInfo::FlightSqlServerSubstrait, false);
    builder.append(SqlInfo::FlightSqlServerTransaction, 0i32);
    builder.append(SqlInfo::FlightSqlServerCancel, false);
    builder.append(SqlInfo::SqlIdentifierQuoteChar, "\"");
    builder.append(SqlInfo::SqlIdentifierCase, case_insensitive);
    builder.append(SqlInfo::SqlQuotedIdentifierCase, case_insensitive);
    builder.append(SqlInfo::SqlAllTablesAreSelectable, true);
    builder.build()
}
