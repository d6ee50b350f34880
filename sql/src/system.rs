//! The system tables, built on each query from the session's sources, procedures and
//! connection properties (cdata-surface §5).
//!
//! Column lists: `sys_tablecolumns` is CData's confirmed 17-column set; `sys_connection_props`
//! starts with the eight confirmed ADO.NET columns; `sys_tables`, `sys_procedures`,
//! `sys_procedureparameters` and `sys_sqlinfo` follow CData convention (UNVERIFIED upstream), as
//! do `sys_primarykeys`, `sys_keycolumns`, `sys_foreignkeys` (columns declaring
//! [`source_core::ColumnRef`]s: HubDB's FOREIGN_ID columns), `sys_indexes` (each table's key), `sys_identity` (the session's last write, one
//! row per row: `Id`, `Batch`, `Operation`, `Message`) and `sys_information` (one row per
//! connection).

use std::sync::Arc;

use connstr::PropertyType;
use datafusion::arrow::array::{ArrayRef, BooleanArray, Int32Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use source_core::TableKind;

use crate::catalog::Catalog;

/// The catalog name CData shows (and that `[CData].[schema].[table]` names may start with).
pub const CATALOG: &str = "CData";

/// Every system table name.
pub const NAMES: &[&str] = &[
    "sys_catalogs",
    "sys_schemas",
    "sys_tables",
    "sys_tablecolumns",
    "sys_procedures",
    "sys_procedureparameters",
    "sys_connection_props",
    "sys_sqlinfo",
    "sys_primarykeys",
    "sys_keycolumns",
    "sys_foreignkeys",
    "sys_indexes",
    "sys_identity",
    "sys_information",
];

/// The system tables built from tables' columns: asking for one describes every table first
/// (see `source_core::DataSource::list_tables`); the others need only the lists.
pub(crate) fn needs_columns(name: &str) -> bool {
    [
        "sys_tablecolumns",
        "sys_primarykeys",
        "sys_keycolumns",
        "sys_foreignkeys",
        "sys_indexes",
    ]
    .iter()
    .any(|n| n.eq_ignore_ascii_case(name))
}

/// One cell of a system table.
enum Cell {
    S(Option<String>),
    I(Option<i32>),
    B(Option<bool>),
}

fn s(v: impl Into<String>) -> Cell {
    Cell::S(Some(v.into()))
}

/// Builds a batch from column definitions (`name`, type letter `S`/`I`/`B`) and rows.
fn batch(
    columns: &[(&str, char)],
    rows: Vec<Vec<Cell>>,
) -> Result<RecordBatch, source_core::Error> {
    let fields: Vec<Field> = columns
        .iter()
        .map(|(name, t)| {
            let dt = match t {
                'I' => DataType::Int32,
                'B' => DataType::Boolean,
                _ => DataType::Utf8,
            };
            Field::new(*name, dt, true)
        })
        .collect();
    let mut arrays: Vec<ArrayRef> = Vec::with_capacity(columns.len());
    for (i, (_, t)) in columns.iter().enumerate() {
        let cells = rows.iter().map(|r| r.get(i));
        let array: ArrayRef = match t {
            'I' => Arc::new(Int32Array::from_iter(cells.map(|c| match c {
                Some(Cell::I(v)) => *v,
                _ => None,
            }))),
            'B' => Arc::new(BooleanArray::from_iter(cells.map(|c| match c {
                Some(Cell::B(v)) => *v,
                _ => None,
            }))),
            _ => Arc::new(StringArray::from_iter(cells.map(|c| match c {
                Some(Cell::S(v)) => v.clone(),
                _ => None,
            }))),
        };
        arrays.push(array);
    }
    Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)?)
}

/// CData-style type name, JDBC type code, length, precision and scale of an Arrow type.
pub(crate) fn type_facts(dt: &DataType) -> (&'static str, i32, i32, i32, i32) {
    match dt {
        DataType::Boolean => ("bool", 16, 1, 1, 0),
        DataType::Int8 | DataType::Int16 | DataType::Int32 => ("int", 4, 10, 10, 0),
        DataType::UInt8 | DataType::UInt16 | DataType::UInt32 => ("int", 4, 10, 10, 0),
        DataType::Int64 | DataType::UInt64 => ("bigint", -5, 19, 19, 0),
        DataType::Float16 | DataType::Float32 => ("float", 7, 7, 7, 0),
        DataType::Float64 => ("double", 8, 15, 15, 0),
        DataType::Decimal128(p, s) | DataType::Decimal256(p, s) => {
            ("decimal", 3, i32::from(*p), i32::from(*p), i32::from(*s))
        }
        DataType::Date32 | DataType::Date64 => ("date", 91, 10, 10, 0),
        DataType::Timestamp(unit, _) => {
            let scale = match unit {
                TimeUnit::Second => 0,
                TimeUnit::Millisecond => 3,
                TimeUnit::Microsecond => 6,
                TimeUnit::Nanosecond => 9,
            };
            ("datetime", 93, 23, 23, scale)
        }
        DataType::List(_) | DataType::LargeList(_) => ("array", 2003, 2000, 2000, 0),
        DataType::Struct(_) => ("struct", 2002, 2000, 2000, 0),
        // CData reports unbounded text as varchar(2000).
        _ => ("varchar", 12, 2000, 2000, 0),
    }
}

/// The system table `name` (one of [`NAMES`]) as of now.
pub(crate) fn build(name: &str, catalog: &Catalog) -> Result<RecordBatch, source_core::Error> {
    match name {
        "sys_catalogs" => batch(&[("CatalogName", 'S')], vec![vec![s(CATALOG)]]),
        "sys_schemas" => batch(
            &[("CatalogName", 'S'), ("SchemaName", 'S')],
            catalog
                .sources()
                .iter()
                .map(|src| vec![s(CATALOG), s(&src.name)])
                .collect(),
        ),
        "sys_tables" => {
            let mut rows = Vec::new();
            for src in catalog.sources() {
                for t in src.tables().iter() {
                    let updatable = t.writable.insert || t.writable.update || t.writable.delete;
                    rows.push(vec![
                        s(CATALOG),
                        s(&src.name),
                        s(&t.name),
                        s(t.kind.to_string()),
                        s(&t.description),
                        Cell::B(Some(updatable)),
                    ]);
                }
            }
            batch(
                &[
                    ("CatalogName", 'S'),
                    ("SchemaName", 'S'),
                    ("TableName", 'S'),
                    ("TableType", 'S'),
                    ("Description", 'S'),
                    ("IsUpdateable", 'B'),
                ],
                rows,
            )
        }
        "sys_tablecolumns" => {
            let mut rows = Vec::new();
            for src in catalog.sources() {
                for t in src.tables().iter() {
                    for (i, c) in t.columns.iter().enumerate() {
                        let (type_name, code, length, precision, scale) = type_facts(&c.data_type);
                        let read_only = c.read_only || t.kind == TableKind::View;
                        rows.push(vec![
                            s(CATALOG),
                            s(&src.name),
                            s(&t.name),
                            s(&c.name),
                            s(type_name),
                            Cell::I(Some(code)),
                            Cell::I(Some(length)),
                            Cell::I(Some(precision)),
                            Cell::I(Some(scale)),
                            Cell::B(Some(c.nullable)),
                            s(&c.description),
                            Cell::I(Some(i32::try_from(i + 1).unwrap_or(i32::MAX))),
                            s(if c.key && c.read_only {
                                "true"
                            } else {
                                "false"
                            }),
                            s("false"),
                            Cell::B(Some(read_only)),
                            Cell::B(Some(c.key)),
                            Cell::B(Some(false)),
                        ]);
                    }
                }
            }
            batch(
                &[
                    ("CatalogName", 'S'),
                    ("SchemaName", 'S'),
                    ("TableName", 'S'),
                    ("ColumnName", 'S'),
                    ("DataTypeName", 'S'),
                    ("DataType", 'I'),
                    ("Length", 'I'),
                    ("NumericPrecision", 'I'),
                    ("NumericScale", 'I'),
                    ("IsNullable", 'B'),
                    ("Description", 'S'),
                    ("Ordinal", 'I'),
                    ("IsAutoIncrement", 'S'),
                    ("IsGeneratedColumn", 'S'),
                    ("IsReadOnly", 'B'),
                    ("IsKey", 'B'),
                    ("IsHidden", 'B'),
                ],
                rows,
            )
        }
        "sys_procedures" => {
            let mut rows = Vec::new();
            for r in catalog.runners() {
                for p in r.procedures.definitions() {
                    rows.push(vec![
                        s(CATALOG),
                        s(&r.schema),
                        s(p.name),
                        s(p.description),
                        s("STOREDPROCEDURE"),
                    ]);
                }
            }
            batch(
                &[
                    ("CatalogName", 'S'),
                    ("SchemaName", 'S'),
                    ("ProcedureName", 'S'),
                    ("Description", 'S'),
                    ("ProcedureType", 'S'),
                ],
                rows,
            )
        }
        "sys_procedureparameters" => {
            let mut rows = Vec::new();
            for r in catalog.runners() {
                for p in r.procedures.definitions() {
                    for (i, param) in p.inputs.iter().enumerate() {
                        let (type_name, code, length, precision, scale) =
                            type_facts(&param.ty.data_type());
                        rows.push(vec![
                            s(CATALOG),
                            s(&r.schema),
                            s(p.name),
                            s(param.name),
                            // 1 = input (the only direction procedures declare).
                            Cell::I(Some(1)),
                            s(type_name),
                            Cell::I(Some(code)),
                            Cell::I(Some(length)),
                            Cell::I(Some(precision)),
                            Cell::I(Some(scale)),
                            Cell::B(Some(!param.required)),
                            Cell::B(Some(param.required)),
                            Cell::B(Some(false)),
                            s(param.description),
                            Cell::I(Some(i32::try_from(i + 1).unwrap_or(i32::MAX))),
                        ]);
                    }
                }
            }
            batch(
                &[
                    ("CatalogName", 'S'),
                    ("SchemaName", 'S'),
                    ("ProcedureName", 'S'),
                    ("ColumnName", 'S'),
                    ("Direction", 'I'),
                    ("DataTypeName", 'S'),
                    ("DataType", 'I'),
                    ("Length", 'I'),
                    ("NumericPrecision", 'I'),
                    ("NumericScale", 'I'),
                    ("IsNullable", 'B'),
                    ("IsRequired", 'B'),
                    ("IsArray", 'B'),
                    ("Description", 'S'),
                    ("Ordinal", 'I'),
                ],
                rows,
            )
        }
        "sys_connection_props" => {
            let mut rows = Vec::new();
            for src in catalog.sources() {
                for p in &src.properties {
                    let (ty, values) = match p.def.ty {
                        PropertyType::Int { .. } => ("int", None),
                        PropertyType::Bool => ("bool", Some("TRUE,FALSE".to_owned())),
                        PropertyType::Enum(values) => ("string", Some(values.join(","))),
                        _ => ("string", None),
                    };
                    rows.push(vec![
                        s(p.def.name),
                        s(p.def.description),
                        s(ty),
                        Cell::S(values),
                        Cell::S(p.def.default.map(str::to_owned)),
                        s(p.def.group.to_string()),
                        // The registry has no per-property "required" flag: requirements
                        // depend on AuthScheme and are checked by `connstr::validate`.
                        Cell::B(Some(false)),
                        Cell::S(p.shown_value.clone()),
                        Cell::B(Some(p.def.sensitive)),
                        s(&src.name),
                    ]);
                }
            }
            batch(
                &[
                    ("Name", 'S'),
                    ("ShortDescription", 'S'),
                    ("Type", 'S'),
                    ("Values", 'S'),
                    ("Default", 'S'),
                    ("Category", 'S'),
                    ("Required", 'B'),
                    ("Value", 'S'),
                    ("IsSensitive", 'B'),
                    ("SchemaName", 'S'),
                ],
                rows,
            )
        }
        "sys_sqlinfo" => batch(
            &[("NAME", 'S'), ("VALUE", 'S')],
            SQLINFO.iter().map(|(n, v)| vec![s(*n), s(*v)]).collect(),
        ),
        "sys_primarykeys" => primary_keys(catalog),
        "sys_keycolumns" => key_columns(catalog),
        "sys_foreignkeys" => foreign_keys(catalog),
        "sys_indexes" => indexes(catalog),
        "sys_identity" => identity(catalog),
        "sys_information" => information(catalog),
        other => Err(source_core::Error::unknown_table(other, NAMES)),
    }
}

/// Every key column of every table: `(schema, table, column, position in the key from 1)`.
fn keys(catalog: &Catalog) -> Vec<(String, String, String, i32)> {
    let mut out = Vec::new();
    for src in catalog.sources() {
        for t in src.tables().iter() {
            for (i, c) in t.key_columns().enumerate() {
                let seq = i32::try_from(i + 1).unwrap_or(i32::MAX);
                out.push((src.name.clone(), t.name.clone(), c.name.clone(), seq));
            }
        }
    }
    out
}

/// The name CData-style tools show for a table's primary key.
fn pk_name(table: &str) -> String {
    format!("PK_{table}")
}

fn primary_keys(catalog: &Catalog) -> Result<RecordBatch, source_core::Error> {
    let rows = keys(catalog)
        .into_iter()
        .map(|(schema, table, column, seq)| {
            let name = pk_name(&table);
            vec![
                s(CATALOG),
                s(schema),
                s(table),
                s(column),
                Cell::I(Some(seq)),
                s(name),
            ]
        })
        .collect();
    batch(
        &[
            ("CatalogName", 'S'),
            ("SchemaName", 'S'),
            ("TableName", 'S'),
            ("ColumnName", 'S'),
            ("KeySeq", 'I'),
            ("KeyName", 'S'),
        ],
        rows,
    )
}

/// A foreign key: `(schema, table, column, referenced table, referenced column)`.
type ForeignKey = (String, String, String, String, String);

fn foreign_key_list(catalog: &Catalog) -> Vec<ForeignKey> {
    let mut out = Vec::new();
    for src in catalog.sources() {
        for t in src.tables().iter() {
            for c in &t.columns {
                if let Some(r) = &c.references {
                    out.push((
                        src.name.clone(),
                        t.name.clone(),
                        c.name.clone(),
                        r.table.clone(),
                        r.column.clone(),
                    ));
                }
            }
        }
    }
    out
}

fn fk_name(table: &str, column: &str) -> String {
    format!("FK_{table}_{column}")
}

/// Key columns, then foreign-key columns (HubDB's FOREIGN_ID columns, which hold row ids of
/// another table).
fn key_columns(catalog: &Catalog) -> Result<RecordBatch, source_core::Error> {
    let mut rows: Vec<Vec<Cell>> = keys(catalog)
        .into_iter()
        .map(|(schema, table, column, _)| {
            let name = pk_name(&table);
            let mut row = vec![
                s(CATALOG),
                s(schema),
                s(table),
                s(column),
                Cell::B(Some(true)),
                Cell::B(Some(false)),
                s(name),
            ];
            row.extend((0..5).map(|_| Cell::S(None)));
            row
        })
        .collect();
    for (schema, table, column, to_table, to_column) in foreign_key_list(catalog) {
        rows.push(vec![
            s(CATALOG),
            s(&schema),
            s(&table),
            s(&column),
            Cell::B(Some(false)),
            Cell::B(Some(true)),
            Cell::S(None),
            s(fk_name(&table, &column)),
            s(CATALOG),
            s(schema),
            s(to_table),
            s(to_column),
        ]);
    }
    batch(
        &[
            ("CatalogName", 'S'),
            ("SchemaName", 'S'),
            ("TableName", 'S'),
            ("ColumnName", 'S'),
            ("IsKey", 'B'),
            ("IsForeignKey", 'B'),
            ("PrimaryKeyName", 'S'),
            ("ForeignKeyName", 'S'),
            ("ReferencedCatalogName", 'S'),
            ("ReferencedSchemaName", 'S'),
            ("ReferencedTableName", 'S'),
            ("ReferencedColumnName", 'S'),
        ],
        rows,
    )
}

fn foreign_keys(catalog: &Catalog) -> Result<RecordBatch, source_core::Error> {
    let rows = foreign_key_list(catalog)
        .into_iter()
        .map(|(schema, table, column, to_table, to_column)| {
            vec![
                s(CATALOG),
                s(&schema),
                s(&table),
                s(&column),
                s(pk_name(&to_table)),
                s(fk_name(&table, &column)),
                s(CATALOG),
                s(schema),
                s(to_table),
                s(to_column),
                // HubDB's FOREIGN_ID columns hold several row ids each.
                s("MANY_TO_MANY"),
            ]
        })
        .collect();
    batch(FOREIGN_KEY_COLUMNS, rows)
}

const FOREIGN_KEY_COLUMNS: &[(&str, char)] = &[
    ("CatalogName", 'S'),
    ("SchemaName", 'S'),
    ("TableName", 'S'),
    ("ColumnName", 'S'),
    ("PrimaryKeyName", 'S'),
    ("ForeignKeyName", 'S'),
    ("ReferencedCatalogName", 'S'),
    ("ReferencedSchemaName", 'S'),
    ("ReferencedTableName", 'S'),
    ("ReferencedColumnName", 'S'),
    ("ForeignKeyType", 'S'),
];

/// The only index a source has is its key, which the API looks rows up by.
fn indexes(catalog: &Catalog) -> Result<RecordBatch, source_core::Error> {
    let rows = keys(catalog)
        .into_iter()
        .map(|(schema, table, column, seq)| {
            let name = pk_name(&table);
            vec![
                s(CATALOG),
                s(schema),
                s(table),
                s(name),
                s(column),
                Cell::B(Some(true)),
                Cell::B(Some(true)),
                // 3 = "other" in ODBC's index types (not clustered, not hashed).
                Cell::I(Some(3)),
                s("A"),
                Cell::I(Some(seq)),
            ]
        })
        .collect();
    batch(
        &[
            ("CatalogName", 'S'),
            ("SchemaName", 'S'),
            ("TableName", 'S'),
            ("IndexName", 'S'),
            ("ColumnName", 'S'),
            ("IsUnique", 'B'),
            ("IsPrimary", 'B'),
            ("Type", 'I'),
            ("SortOrder", 'S'),
            ("OrdinalPosition", 'I'),
        ],
        rows,
    )
}

/// The rows of the session's last INSERT, UPDATE or DELETE.
fn identity(catalog: &Catalog) -> Result<RecordBatch, source_core::Error> {
    let rows = catalog
        .identity
        .rows()
        .into_iter()
        .map(|r| {
            vec![
                Cell::S(r.id),
                s(r.batch.to_string()),
                s(r.operation),
                s(r.message),
            ]
        })
        .collect();
    batch(
        &[
            ("Id", 'S'),
            ("Batch", 'S'),
            ("Operation", 'S'),
            ("Message", 'S'),
        ],
        rows,
    )
}

/// The product and each connection's data source.
fn information(catalog: &Catalog) -> Result<RecordBatch, source_core::Error> {
    let rows = catalog
        .sources()
        .iter()
        .map(|src| {
            vec![
                s("connector"),
                s(env!("CARGO_PKG_VERSION")),
                s(&src.name),
                s(src.source.name()),
                s("Apache-2.0"),
                s(std::env::consts::OS),
                s(std::env::consts::ARCH),
            ]
        })
        .collect();
    batch(
        &[
            ("Product", 'S'),
            ("Version", 'S'),
            ("SchemaName", 'S'),
            ("Datasource", 'S'),
            ("License", 'S'),
            ("Environment", 'S'),
            ("Architecture", 'S'),
        ],
        rows,
    )
}

/// What this engine supports, in `sys_sqlinfo`'s vocabulary.
const SQLINFO: &[(&str, &str)] = &[
    ("AGGREGATE_FUNCTIONS", "AVG, COUNT, MAX, MIN, SUM, DISTINCT"),
    ("COUNT", "YES"),
    ("IDENTIFIER_QUOTE_OPEN_CHAR", "["),
    ("IDENTIFIER_QUOTE_CLOSE_CHAR", "]"),
    (
        "SUPPORTED_OPERATORS",
        "=, >, <, >=, <=, <>, !=, LIKE, NOT LIKE, IN, NOT IN, IS NULL, IS NOT NULL, AND, OR, BETWEEN",
    ),
    ("GROUP_BY", "NO_RELATION"),
    (
        "OJ_CAPABILITIES",
        "LEFT, RIGHT, FULL, INNER, NOT_ORDERED, ALL_COMPARISON_OPS",
    ),
    ("OUTER_JOINS", "YES"),
    (
        "SUBQUERIES",
        "COMPARISON, EXISTS, IN, CORRELATED_SUBQUERIES, QUANTIFIED",
    ),
    (
        "STRING_FUNCTIONS",
        "LENGTH, CHAR_LENGTH, LOWER, UPPER, SUBSTRING, SUBSTR, REPLACE, TRIM, LTRIM, RTRIM, LEFT, RIGHT, CONCAT, STRPOS, LPAD, RPAD, REVERSE, SPLIT_PART, STARTS_WITH, INITCAP",
    ),
    (
        "NUMERIC_FUNCTIONS",
        "ABS, ACOS, ASIN, ATAN, ATAN2, CEIL, COS, COT, EXP, FLOOR, LN, LOG, LOG10, POWER, ROUND, SIGN, SIN, SQRT, TAN, PI, RANDOM, DEGREES, RADIANS, TRUNC",
    ),
    (
        "TIMEDATE_FUNCTIONS",
        "NOW, CURRENT_DATE, CURRENT_TIMESTAMP, DATE_PART, DATE_TRUNC, EXTRACT, TO_TIMESTAMP, TO_DATE",
    ),
    ("SUPPORTS_JOINS", "YES"),
    ("SUPPORTS_TRANSACTIONS", "NO"),
    ("PARAMETER_MARKERS", "?"),
    ("DML", "INSERT, UPDATE, DELETE"),
    ("PROCEDURES", "EXEC, EXECUTE"),
];
