//! Table and column metadata: what `sys_tables` and `sys_tablecolumns` show.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use arrow_schema::{DataType, Field, Schema, SchemaRef};

use crate::{Error, Result};

/// Field-metadata key holding [`ColumnInfo::native_type`] in [`TableInfo::schema`].
pub const NATIVE_TYPE_KEY: &str = "source.native_type";
/// Field-metadata key holding [`ColumnInfo::description`] in [`TableInfo::schema`].
pub const DESCRIPTION_KEY: &str = "source.description";

/// Whether a relation can be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TableKind {
    /// Writable (at least some of insert, update, delete).
    Table,
    /// Read-only.
    View,
}

impl fmt::Display for TableKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TableKind::Table => "TABLE",
            TableKind::View => "VIEW",
        })
    }
}

/// One column.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnInfo {
    /// The name used in SQL and in [`crate::Filter::column`].
    pub name: String,
    /// The Arrow type of its values in scans.
    pub data_type: DataType,
    /// Whether the value can be NULL.
    pub nullable: bool,
    /// Part of the primary key.
    pub key: bool,
    /// Cannot be set by insert or update.
    pub read_only: bool,
    /// What it holds.
    pub description: String,
    /// The source's own type name (`TEXT`, `NUMBER`, ... for HubDB).
    pub native_type: String,
    /// The key column of another table whose values this column holds (a foreign key).
    pub references: Option<ColumnRef>,
}

/// A column of another table of the same source, which a foreign key points to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnRef {
    /// The table's name.
    pub table: String,
    /// The column's name.
    pub column: String,
}

impl ColumnInfo {
    /// A nullable, writable, non-key column.
    ///
    /// ```
    /// use arrow_schema::DataType;
    /// let c = source_core::ColumnInfo::new("title", DataType::Utf8, "TEXT").describe("The title");
    /// assert!(c.nullable && !c.key && !c.read_only);
    /// ```
    pub fn new(
        name: impl Into<String>,
        data_type: DataType,
        native_type: impl Into<String>,
    ) -> Self {
        Self {
            name: name.into(),
            data_type,
            nullable: true,
            key: false,
            read_only: false,
            description: String::new(),
            native_type: native_type.into(),
            references: None,
        }
    }

    /// Marks the column as holding keys of `table`'s `column`.
    ///
    /// ```
    /// use arrow_schema::DataType;
    /// let c = source_core::ColumnInfo::new("organizer", DataType::Utf8, "FOREIGN_ID")
    ///     .references("organizers", "Id");
    /// assert_eq!(c.references.unwrap().table, "organizers");
    /// ```
    pub fn references(mut self, table: impl Into<String>, column: impl Into<String>) -> Self {
        self.references = Some(ColumnRef {
            table: table.into(),
            column: column.into(),
        });
        self
    }

    /// Sets the description.
    pub fn describe(mut self, description: impl Into<String>) -> Self {
        self.description = description.into();
        self
    }

    /// Marks the column as the (non-null, read-only) primary key.
    pub fn key(mut self) -> Self {
        self.key = true;
        self.nullable = false;
        self.read_only = true;
        self
    }

    /// Marks the column read-only.
    pub fn read_only(mut self) -> Self {
        self.read_only = true;
        self
    }

    /// Marks the column non-nullable.
    pub fn not_null(mut self) -> Self {
        self.nullable = false;
        self
    }

    /// The Arrow field, with the native type and description as metadata.
    pub fn field(&self) -> Field {
        let mut metadata = HashMap::new();
        metadata.insert(NATIVE_TYPE_KEY.to_owned(), self.native_type.clone());
        if !self.description.is_empty() {
            metadata.insert(DESCRIPTION_KEY.to_owned(), self.description.clone());
        }
        Field::new(&self.name, self.data_type.clone(), self.nullable).with_metadata(metadata)
    }
}

/// One table or view.
#[derive(Debug, Clone, PartialEq)]
pub struct TableInfo {
    /// The name used in SQL.
    pub name: String,
    /// Table (writable) or view (read-only).
    pub kind: TableKind,
    /// What it holds, and how it relates to the source's own objects.
    pub description: String,
    /// Columns in order.
    pub columns: Vec<ColumnInfo>,
    /// Which of insert, update and delete the source accepts.
    pub writable: Writable,
    /// Columns that every query must filter on with `=` (none for HubDB).
    pub required_filters: Vec<String>,
}

/// The writes a table accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Writable {
    /// `INSERT`.
    pub insert: bool,
    /// `UPDATE`.
    pub update: bool,
    /// `DELETE`.
    pub delete: bool,
}

impl Writable {
    /// No writes (a view).
    pub const NONE: Writable = Writable {
        insert: false,
        update: false,
        delete: false,
    };
    /// Insert, update and delete.
    pub const ALL: Writable = Writable {
        insert: true,
        update: true,
        delete: true,
    };
}

impl TableInfo {
    /// Whether the columns are known. A source lists a table with no columns when reading them
    /// costs requests (see [`crate::DataSource::list_tables`]); [`crate::DataSource::table`]
    /// then describes it.
    ///
    /// ```
    /// use source_core::{TableInfo, TableKind, Writable};
    /// let listed = TableInfo {
    ///     name: "List_Customers".into(), kind: TableKind::Table, description: String::new(),
    ///     columns: vec![], writable: Writable::ALL, required_filters: vec![],
    /// };
    /// assert!(!listed.is_described());
    /// ```
    pub fn is_described(&self) -> bool {
        !self.columns.is_empty()
    }

    /// The column called `name` (exact match first, then case-insensitive), or an
    /// [`Error::UnknownColumn`] suggesting the nearest one.
    ///
    /// ```
    /// use arrow_schema::DataType;
    /// use source_core::{ColumnInfo, TableInfo, TableKind, Writable};
    /// let t = TableInfo {
    ///     name: "events".into(), kind: TableKind::View, description: String::new(),
    ///     columns: vec![ColumnInfo::new("Id", DataType::Int64, "ID").key()],
    ///     writable: Writable::NONE, required_filters: vec![],
    /// };
    /// assert_eq!(t.column("id")?.name, "Id");
    /// assert!(t.column("idd").unwrap_err().to_string().contains("did you mean `Id`"));
    /// # Ok::<(), source_core::Error>(())
    /// ```
    pub fn column(&self, name: &str) -> Result<&ColumnInfo> {
        self.columns
            .iter()
            .find(|c| c.name == name)
            .or_else(|| {
                self.columns
                    .iter()
                    .find(|c| c.name.eq_ignore_ascii_case(name))
            })
            .ok_or_else(|| {
                Error::unknown_column(&self.name, name, self.columns.iter().map(|c| &c.name))
            })
    }

    /// The Arrow schema of a full scan.
    pub fn schema(&self) -> SchemaRef {
        Arc::new(Schema::new(
            self.columns
                .iter()
                .map(ColumnInfo::field)
                .collect::<Vec<_>>(),
        ))
    }

    /// The columns a projection selects, in projection order (all columns for `None`).
    pub fn project(&self, projection: Option<&[String]>) -> Result<Vec<&ColumnInfo>> {
        match projection {
            None => Ok(self.columns.iter().collect()),
            Some(names) => names.iter().map(|n| self.column(n)).collect(),
        }
    }

    /// The Arrow schema of a scan with this projection.
    pub fn projected_schema(&self, projection: Option<&[String]>) -> Result<SchemaRef> {
        let fields: Vec<Field> = self
            .project(projection)?
            .into_iter()
            .map(ColumnInfo::field)
            .collect();
        Ok(Arc::new(Schema::new(fields)))
    }

    /// The key columns.
    pub fn key_columns(&self) -> impl Iterator<Item = &ColumnInfo> {
        self.columns.iter().filter(|c| c.key)
    }
}
