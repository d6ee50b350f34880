//! Filters and sort keys → HubDB row-query parameters, and how exact each one is.

use source_core::{Filter, FilterSupport, Op, SortKey, TableInfo, Value};

use crate::schema::{Col, Common, Kind, Target, exposed_name};

/// How a column compares on the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmp {
    Text,
    Float,
    Int,
    Bool,
    Date,
    DateTime,
    Select,
    Multi,
    Foreign,
    /// Not comparable server-side in a way SQL can use (IMAGE, LOCATION, JSON): null tests only.
    Opaque,
}

/// Largest integer a double holds exactly; HubDB compares numbers as doubles.
const EXACT_INT: i64 = 1 << 53;

/// The HubDB query name and comparison class of a column, if HubDB can filter on it.
fn field(col: &Col) -> Option<(String, Cmp)> {
    Some(match col {
        Col::Common(Common::Id) => ("hs_id".into(), Cmp::Int),
        Col::Common(Common::CreatedAt) => ("hs_created_at".into(), Cmp::DateTime),
        Col::Common(Common::PagePath) => ("hs_path".into(), Cmp::Text),
        Col::Common(Common::PageName) => ("hs_name".into(), Cmp::Text),
        // The sync cursor. `hs_updated_at` is not in the HubDB guide's list of built-ins
        // (GUESS that HubSpot accepts it like `hs_created_at`; the emulator does): milliseconds,
        // `gt` exclusive and `gte` inclusive, as for every DATETIME (docs/sync.md).
        Col::Common(Common::UpdatedAt) => ("hs_updated_at".into(), Cmp::DateTime),
        // Not filterable: a published row's `publishedAt` is the table's publish time, and
        // no `hs_published_at` filter is documented or served.
        Col::Common(Common::PublishedAt | Common::ChildTableId) => return None,
        Col::User { name, kind } => (
            name.clone(),
            match kind {
                Kind::Text => Cmp::Text,
                Kind::Number => Cmp::Float,
                Kind::Integer => Cmp::Int,
                Kind::Boolean => Cmp::Bool,
                Kind::Date => Cmp::Date,
                Kind::DateTime => Cmp::DateTime,
                Kind::Select => Cmp::Select,
                Kind::MultiSelect => Cmp::Multi,
                Kind::ForeignId => Cmp::Foreign,
                Kind::Image | Kind::Location | Kind::Json => Cmp::Opaque,
            },
        ),
    })
}

/// The column of `target` that `name` (a column of `info`) refers to.
pub(crate) fn resolve<'t>(target: &'t Target, info: &TableInfo, name: &str) -> Option<&'t Col> {
    let exposed = &info.column(name).ok()?.name;
    match target {
        Target::HubDb { columns, .. } => columns.iter().find(|c| exposed_name(c) == *exposed),
        Target::Owners => None,
    }
}

/// One literal as HubDB filter text, if it has the column's type.
fn literal(cmp: Cmp, v: &Value) -> Option<String> {
    match (cmp, v) {
        (Cmp::Text | Cmp::Select | Cmp::Multi | Cmp::Foreign, Value::Str(s)) => Some(s.clone()),
        (Cmp::Float | Cmp::Int, Value::Int(i)) if i.abs() <= EXACT_INT => Some(i.to_string()),
        // Rust prints the shortest text that parses back to the same double.
        (Cmp::Float | Cmp::Int, Value::Float(f)) if f.is_finite() => Some(f.to_string()),
        (Cmp::Bool, Value::Bool(b)) => Some(b.to_string()),
        (Cmp::Date, Value::Date(d)) => Some((i64::from(*d) * 86_400_000).to_string()),
        (Cmp::DateTime, Value::TimestampMs(t)) => Some(t.to_string()),
        _ => None,
    }
}

/// An `IN` list survives HubDB's comma split and trim only if no item has a comma or
/// surrounding spaces.
fn list_items(cmp: Cmp, v: &Value) -> Option<Vec<String>> {
    let Value::List(items) = v else { return None };
    if items.is_empty() {
        return None;
    }
    items
        .iter()
        .map(|i| literal(cmp, i))
        .map(|s| s.filter(|s| !s.contains(',') && s.trim() == s && !s.is_empty()))
        .collect()
}

/// How exactly HubDB applies `filter`; see the crate docs for the table and the reasons.
pub(crate) fn support(target: &Target, info: &TableInfo, filter: &Filter) -> FilterSupport {
    plan(target, info, filter).map_or(FilterSupport::Unsupported, |(_, _, s)| s)
}

/// (`name__op`, value, support) for a filter HubDB can apply.
fn plan(
    target: &Target,
    info: &TableInfo,
    filter: &Filter,
) -> Option<(String, String, FilterSupport)> {
    use FilterSupport::{Exact, Loose};
    let col = resolve(target, info, &filter.column)?;
    let (name, cmp) = field(col)?;
    let ordered = matches!(
        cmp,
        Cmp::Text | Cmp::Float | Cmp::Int | Cmp::Date | Cmp::DateTime
    );
    let scalar = ordered || cmp == Cmp::Bool;
    let (op, value, support) = match filter.op {
        // HubDB stores an empty multi-value cell as empty, and we read it back as NULL, so
        // the null tests agree for every type.
        Op::IsNull => ("is_null", String::new(), Exact),
        Op::IsNotNull => ("not_null", String::new(), Exact),
        // Equality: exact for scalars; SELECT matches option names ignoring case and option
        // ids too, so it may return more rows.
        Op::Eq if scalar => ("eq", literal(cmp, &filter.value)?, Exact),
        Op::Eq if cmp == Cmp::Select => ("eq", literal(cmp, &filter.value)?, Loose),
        // `ne` skips NULL cells, as SQL's `<>` does.
        Op::Ne if scalar => ("ne", literal(cmp, &filter.value)?, Exact),
        Op::Lt if ordered => ("lt", literal(cmp, &filter.value)?, Exact),
        Op::Le if ordered => ("lte", literal(cmp, &filter.value)?, Exact),
        Op::Gt if ordered => ("gt", literal(cmp, &filter.value)?, Exact),
        Op::Ge if ordered => ("gte", literal(cmp, &filter.value)?, Exact),
        Op::In if ordered => ("in", list_items(cmp, &filter.value)?.join(","), Exact),
        Op::In if cmp == Cmp::Select => ("in", list_items(cmp, &filter.value)?.join(","), Loose),
        // LIKE: `%` and `_` as SQL, case-sensitive; HubDB has no escape character, so a
        // pattern using `\` stays client-side.
        Op::Like | Op::NotLike if cmp == Cmp::Text => {
            let pattern = literal(cmp, &filter.value)?;
            if pattern.contains('\\') {
                return None;
            }
            let op = if filter.op == Op::Like {
                "like"
            } else {
                "not_like"
            };
            (op, pattern, Exact)
        }
        Op::Contains if cmp == Cmp::Text => ("contains", literal(cmp, &filter.value)?, Exact),
        Op::StartsWith if cmp == Cmp::Text => ("startswith", literal(cmp, &filter.value)?, Exact),
        // Unicode case folding may differ from the SQL engine's.
        Op::IContains if cmp == Cmp::Text => ("icontains", literal(cmp, &filter.value)?, Loose),
        // MULTISELECT `contains` matches option names ignoring case (and option ids), and
        // splits the value on commas: loose, and only for values that survive the split.
        Op::Contains if cmp == Cmp::Multi => {
            let v = literal(cmp, &filter.value)?;
            if v.is_empty()
                || v.contains(',')
                || v.trim() != v
                || v.bytes().all(|b| b.is_ascii_digit())
            {
                return None;
            }
            ("contains", v, Loose)
        }
        // FOREIGN_ID `contains` matches a row id exactly.
        Op::Contains if cmp == Cmp::Foreign => {
            let v = literal(cmp, &filter.value)?;
            if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            ("contains", v, Exact)
        }
        _ => return None,
    };
    Some((format!("{name}__{op}"), value, support))
}

/// The query parameters for `filters` (each must be supported).
pub(crate) fn params(
    target: &Target,
    info: &TableInfo,
    filters: &[Filter],
) -> Result<Vec<(String, String)>, source_core::Error> {
    filters
        .iter()
        .map(|f| {
            plan(target, info, f)
                .map(|(k, v, _)| (k, v))
                .ok_or_else(|| source_core::Error::UnsupportedFilter {
                    table: info.name.clone(),
                    column: f.column.clone(),
                    op: f.op.to_string(),
                })
        })
        .collect()
}

/// `sort` parameters, if HubDB orders exactly as SQL would: a plain column of a scalar type
/// (not SELECT, whose order HubDB may take from the option list), nulls last ascending and
/// first descending (HubDB's placement).
pub(crate) fn sort_params(
    target: &Target,
    info: &TableInfo,
    order: &[SortKey],
) -> Option<Vec<(String, String)>> {
    order
        .iter()
        .map(|k| {
            let col = resolve(target, info, &k.column)?;
            let (name, cmp) = field(col)?;
            let sortable = matches!(
                cmp,
                Cmp::Text | Cmp::Float | Cmp::Int | Cmp::Bool | Cmp::Date | Cmp::DateTime
            );
            (sortable && k.nulls_first == k.descending).then(|| {
                let spec = if k.descending {
                    format!("-{name}")
                } else {
                    name
                };
                ("sort".to_owned(), spec)
            })
        })
        .collect()
}

/// `Some(id)` when the filters are exactly `Id = id`: then one get-row call answers.
pub(crate) fn single_row(target: &Target, info: &TableInfo, filters: &[Filter]) -> Option<i64> {
    match filters {
        [f] if f.op == Op::Eq => match (resolve(target, info, &f.column)?, &f.value) {
            (Col::Common(Common::Id), Value::Int(id)) if *id >= 0 => Some(*id),
            _ => None,
        },
        _ => None,
    }
}
