//! HubDB table metadata → [`TableInfo`]: naming, the common columns and the type mapping.

use std::sync::Arc;

use arrow_schema::{DataType, Field, Fields};
use serde::Deserialize;
use source_core::{ColumnInfo, TableInfo, TableKind, Writable, timestamp_ms_utc};

/// Suffix of the writable table that holds a HubDB table's draft version.
pub const DRAFT_SUFFIX: &str = "_Draft";
/// The name of the CRM owners view.
pub const OWNERS: &str = "Owners";

/// `HubDbTableV3`, as far as discovery needs it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct HubTable {
    pub(crate) id: String,
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) label: String,
    #[serde(default)]
    pub(crate) columns: Vec<HubColumn>,
    #[serde(default)]
    pub(crate) row_count: Option<u64>,
}

/// `Column`, as far as discovery needs it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct HubColumn {
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) label: String,
    #[serde(rename = "type")]
    pub(crate) kind: String,
    #[serde(default)]
    pub(crate) description: String,
    #[serde(default)]
    pub(crate) deleted: bool,
    #[serde(default)]
    pub(crate) options: Vec<HubOption>,
    #[serde(default)]
    pub(crate) foreign_table_id: Option<serde_json::Value>,
}

/// A SELECT / MULTISELECT option.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct HubOption {
    #[serde(default)]
    pub(crate) name: String,
}

/// How a column's values are decoded and encoded; one per HubDB column type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// TEXT, RICHTEXT, URL, CODE, EMBED → Utf8.
    Text,
    /// NUMBER, CURRENCY → Float64.
    Number,
    /// VIDEO (a player id) → Int64.
    Integer,
    /// BOOLEAN → Boolean.
    Boolean,
    /// DATE → Date32.
    Date,
    /// DATETIME → Timestamp(ms, UTC).
    DateTime,
    /// SELECT → Utf8 (the option name).
    Select,
    /// MULTISELECT → List<Utf8> (option names).
    MultiSelect,
    /// FOREIGN_ID → List<Utf8> (row ids of the foreign table).
    ForeignId,
    /// IMAGE → Struct{url, width, height}.
    Image,
    /// LOCATION → Struct{lat, long}.
    Location,
    /// JSON and anything else → Utf8 holding the value's JSON text.
    Json,
}

impl Kind {
    pub(crate) fn of(hubdb_type: &str) -> Kind {
        match hubdb_type.to_ascii_uppercase().as_str() {
            "TEXT" | "RICHTEXT" | "URL" | "CODE" | "EMBED" => Kind::Text,
            "NUMBER" | "CURRENCY" => Kind::Number,
            "VIDEO" => Kind::Integer,
            "BOOLEAN" => Kind::Boolean,
            "DATE" => Kind::Date,
            "DATETIME" => Kind::DateTime,
            "SELECT" => Kind::Select,
            "MULTISELECT" => Kind::MultiSelect,
            "FOREIGN_ID" => Kind::ForeignId,
            "IMAGE" => Kind::Image,
            "LOCATION" => Kind::Location,
            // JSON, FILE, COMPOSITE, CTA, HUBSPOT_VIDEO, NULL and types added later: the
            // JSON text loses nothing, whatever the shape.
            _ => Kind::Json,
        }
    }

    pub(crate) fn data_type(self) -> DataType {
        match self {
            Kind::Text | Kind::Select | Kind::Json => DataType::Utf8,
            Kind::Number => DataType::Float64,
            Kind::Integer => DataType::Int64,
            Kind::Boolean => DataType::Boolean,
            Kind::Date => DataType::Date32,
            Kind::DateTime => timestamp_ms_utc(),
            Kind::MultiSelect | Kind::ForeignId => {
                DataType::List(Arc::new(Field::new("item", DataType::Utf8, true)))
            }
            Kind::Image => DataType::Struct(image_fields()),
            Kind::Location => DataType::Struct(location_fields()),
        }
    }
}

pub(crate) fn image_fields() -> Fields {
    Fields::from(vec![
        Field::new("url", DataType::Utf8, true),
        Field::new("width", DataType::Int64, true),
        Field::new("height", DataType::Int64, true),
    ])
}

pub(crate) fn location_fields() -> Fields {
    Fields::from(vec![
        Field::new("lat", DataType::Float64, true),
        Field::new("long", DataType::Float64, true),
    ])
}

/// The seven columns every HubDB table and view has, before the table's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Common {
    Id,
    CreatedAt,
    UpdatedAt,
    PublishedAt,
    PagePath,
    PageName,
    ChildTableId,
}

impl Common {
    pub(crate) const ALL: [Common; 7] = [
        Common::Id,
        Common::CreatedAt,
        Common::UpdatedAt,
        Common::PublishedAt,
        Common::PagePath,
        Common::PageName,
        Common::ChildTableId,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Common::Id => "Id",
            Common::CreatedAt => "CreatedAt",
            Common::UpdatedAt => "UpdatedAt",
            Common::PublishedAt => "PublishedAt",
            Common::PagePath => "PagePath",
            Common::PageName => "PageName",
            Common::ChildTableId => "ChildTableId",
        }
    }

    pub(crate) fn by_name(name: &str) -> Option<Common> {
        Self::ALL.into_iter().find(|c| c.name() == name)
    }

    fn column(self) -> ColumnInfo {
        let ts = timestamp_ms_utc();
        match self {
            Common::Id => ColumnInfo::new("Id", DataType::Int64, "hs_id")
                .key()
                .describe("Row id (hs_id)."),
            Common::CreatedAt => ColumnInfo::new("CreatedAt", ts, "hs_created_at")
                .read_only()
                .not_null()
                .describe("When the row was created."),
            Common::UpdatedAt => ColumnInfo::new("UpdatedAt", ts, "hs_updated_at")
                .read_only()
                .describe("When the row was last changed."),
            Common::PublishedAt => ColumnInfo::new("PublishedAt", ts, "publishedAt")
                .read_only()
                .describe("When the row's table version was published."),
            Common::PagePath => ColumnInfo::new("PagePath", DataType::Utf8, "hs_path")
                .describe("Path of the row's dynamic page (hs_path)."),
            Common::PageName => ColumnInfo::new("PageName", DataType::Utf8, "hs_name")
                .describe("Title of the row's dynamic page (hs_name)."),
            Common::ChildTableId => {
                ColumnInfo::new("ChildTableId", DataType::Int64, "hs_child_table_id")
                    .describe("Id of the child table of the row's page (0 for none).")
            }
        }
    }
}

/// A column of a HubDB table or view: a common one or one of the table's own.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Col {
    Common(Common),
    User { name: String, kind: Kind },
}

/// One relation the source exposes, with what scans and writes need.
#[derive(Debug, Clone)]
pub(crate) struct Relation {
    pub(crate) info: TableInfo,
    pub(crate) target: Target,
}

/// What a relation reads from.
#[derive(Debug, Clone)]
pub(crate) enum Target {
    /// A HubDB table's published (`draft == false`) or draft version.
    HubDb {
        /// Table id, used in paths.
        id: String,
        /// HubDB table name, for messages.
        hub_name: String,
        draft: bool,
        columns: Vec<Col>,
    },
    /// CRM owners.
    Owners,
}

/// Table ids to the names SQL sees them under (`organizers`), for foreign keys.
pub(crate) type TableNames = std::collections::HashMap<String, String>;

/// A JSON id (`"123"` or `123`) as text.
pub(crate) fn id_text(v: &serde_json::Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_owned)
}

fn user_column(c: &HubColumn, tables: &TableNames) -> ColumnInfo {
    let kind = Kind::of(&c.kind);
    let mut description = if c.label.is_empty() || c.label == c.name {
        format!("HubDB {} column", c.kind)
    } else {
        format!("{} (HubDB {} column)", c.label, c.kind)
    };
    if !c.description.is_empty() {
        description.push_str(&format!(": {}", c.description));
    }
    if matches!(kind, Kind::Select | Kind::MultiSelect) && !c.options.is_empty() {
        let names: Vec<&str> = c.options.iter().map(|o| o.name.as_str()).collect();
        description.push_str(&format!("; options: {}", names.join(", ")));
    }
    let target = c.foreign_table_id.as_ref().map(|t| {
        let id = id_text(t);
        tables.get(&id).cloned().unwrap_or(id)
    });
    if let Some(t) = &target {
        description.push_str(&format!("; row ids of table {t}"));
    }
    let info = ColumnInfo::new(&c.name, kind.data_type(), c.kind.to_ascii_uppercase())
        .describe(description);
    match target {
        Some(t) => info.references(t, "Id"),
        None => info,
    }
}

/// The relation for one version of `table`.
pub(crate) fn relation(
    table: &HubTable,
    draft: bool,
    name: String,
    tables: &TableNames,
) -> Relation {
    let mut columns: Vec<ColumnInfo> = Common::ALL.into_iter().map(Common::column).collect();
    let mut cols: Vec<Col> = Common::ALL.into_iter().map(Col::Common).collect();
    for c in table.columns.iter().filter(|c| !c.deleted) {
        // A user column spelled like a common one would be ambiguous; HubDB reserves the
        // hs_ names, so this only happens with an explicit `Id`-like column: keep it reachable.
        let mut info = user_column(c, tables);
        if Common::by_name(&info.name).is_some() {
            info.name = format!("{}_column", c.name);
        }
        cols.push(Col::User {
            name: c.name.clone(),
            kind: Kind::of(&c.kind),
        });
        columns.push(info);
    }
    let label = if table.label.is_empty() || table.label == table.name {
        String::new()
    } else {
        format!(" ({})", table.label)
    };
    let rows = table
        .row_count
        .map(|n| format!(" {n} rows."))
        .unwrap_or_default();
    let (kind, writable, description) = if draft {
        for c in columns.iter_mut() {
            // Row ids and timestamps are HubSpot's; PublishedAt only changes on publish.
            if matches!(
                Common::by_name(&c.name),
                Some(Common::CreatedAt | Common::UpdatedAt | Common::PublishedAt)
            ) {
                c.read_only = true;
            }
        }
        (
            TableKind::Table,
            Writable::ALL,
            format!(
                "Draft version of HubDB table `{}`{label}, id {}: writable; changes reach the view `{}` when the table is published.{rows}",
                table.name, table.id, table.name
            ),
        )
    } else {
        for c in columns.iter_mut() {
            c.read_only = true;
        }
        (
            TableKind::View,
            Writable::NONE,
            format!(
                "Published version of HubDB table `{}`{label}, id {}: read-only; write to `{}{DRAFT_SUFFIX}`.{rows}",
                table.name, table.id, table.name
            ),
        )
    };
    Relation {
        info: TableInfo {
            name,
            kind,
            description,
            columns,
            writable,
            required_filters: Vec::new(),
        },
        target: Target::HubDb {
            id: table.id.clone(),
            hub_name: table.name.clone(),
            draft,
            columns: cols,
        },
    }
}

/// The user-facing column name for a HubDB column (see [`relation`]).
pub(crate) fn exposed_name(col: &Col) -> String {
    match col {
        Col::Common(c) => c.name().to_owned(),
        Col::User { name, .. } if Common::by_name(name).is_some() => format!("{name}_column"),
        Col::User { name, .. } => name.clone(),
    }
}

/// The `Owners` view.
pub(crate) fn owners() -> Relation {
    let ts = timestamp_ms_utc();
    let columns = vec![
        ColumnInfo::new("Id", DataType::Int64, "id")
            .key()
            .describe("Owner id."),
        ColumnInfo::new("Email", DataType::Utf8, "email").describe("E-mail address."),
        ColumnInfo::new("FirstName", DataType::Utf8, "firstName").describe("First name."),
        ColumnInfo::new("LastName", DataType::Utf8, "lastName").describe("Last name."),
        ColumnInfo::new("UserId", DataType::Int64, "userId")
            .describe("The HubSpot user behind the owner."),
        ColumnInfo::new("Type", DataType::Utf8, "type").describe("PERSON or QUEUE."),
        ColumnInfo::new(
            "Teams",
            DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))),
            "teams",
        )
        .describe("Names of the owner's teams."),
        ColumnInfo::new("CreatedAt", ts.clone(), "createdAt")
            .describe("When the owner was created."),
        ColumnInfo::new("UpdatedAt", ts, "updatedAt").describe("When the owner was last changed."),
        ColumnInfo::new("Archived", DataType::Boolean, "archived")
            .not_null()
            .describe("Whether the owner was archived (deactivated)."),
    ]
    .into_iter()
    .map(ColumnInfo::read_only)
    .collect();
    Relation {
        info: TableInfo {
            name: OWNERS.into(),
            kind: TableKind::View,
            description: "HubSpot CRM owners (users who can own records), active and archived."
                .into(),
            columns,
            writable: Writable::NONE,
            required_filters: Vec::new(),
        },
        target: Target::Owners,
    }
}
