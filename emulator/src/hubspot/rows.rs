//! HubDB rows: compact values, seeded generation from (seed, index), an overlay for
//! edits, filters, sorting and JSON encoding.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::util::{self, fmt_num, iso_ms, pick, push_json_str};

/// HubDB column types (the spec's `Column.type` enum).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[allow(missing_docs)]
pub enum ColumnType {
    Boolean,
    Code,
    Composite,
    Cta,
    Currency,
    Date,
    Datetime,
    Embed,
    File,
    ForeignId,
    HubspotVideo,
    Image,
    Json,
    Location,
    Multiselect,
    Null,
    Number,
    Richtext,
    Select,
    Text,
    Url,
    Video,
}

impl ColumnType {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ColumnType::Boolean => "BOOLEAN",
            ColumnType::Code => "CODE",
            ColumnType::Composite => "COMPOSITE",
            ColumnType::Cta => "CTA",
            ColumnType::Currency => "CURRENCY",
            ColumnType::Date => "DATE",
            ColumnType::Datetime => "DATETIME",
            ColumnType::Embed => "EMBED",
            ColumnType::File => "FILE",
            ColumnType::ForeignId => "FOREIGN_ID",
            ColumnType::HubspotVideo => "HUBSPOT_VIDEO",
            ColumnType::Image => "IMAGE",
            ColumnType::Json => "JSON",
            ColumnType::Location => "LOCATION",
            ColumnType::Multiselect => "MULTISELECT",
            ColumnType::Null => "NULL",
            ColumnType::Number => "NUMBER",
            ColumnType::Richtext => "RICHTEXT",
            ColumnType::Select => "SELECT",
            ColumnType::Text => "TEXT",
            ColumnType::Url => "URL",
            ColumnType::Video => "VIDEO",
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct SelOption {
    pub(crate) id: u32,
    pub(crate) name: String,
    pub(crate) label: String,
    pub(crate) order: u32,
}

#[derive(Clone, Debug)]
pub(crate) struct Column {
    pub(crate) id: u32,
    pub(crate) name: String,
    pub(crate) label: String,
    pub(crate) ctype: ColumnType,
    pub(crate) options: Vec<SelOption>,
    pub(crate) foreign_table_id: Option<u64>,
    pub(crate) foreign_column_id: Option<u32>,
}

impl Column {
    pub(crate) fn option(&self, id: u32) -> Option<&SelOption> {
        self.options.iter().find(|o| o.id == id)
    }

    /// Finds an option by id (as text) or by name, case-insensitively.
    pub(crate) fn option_by_key(&self, key: &str) -> Option<&SelOption> {
        self.options
            .iter()
            .find(|o| o.id.to_string() == key)
            .or_else(|| {
                self.options
                    .iter()
                    .find(|o| o.name.eq_ignore_ascii_case(key))
            })
    }
}

/// One cell.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Value {
    Null,
    Str(String),
    Num(f64),
    Bool(bool),
    Time(i64),
    Select(u32),
    Multi(Vec<u32>),
    Image {
        url: String,
        width: u32,
        height: u32,
    },
    Location {
        lat: f64,
        long: f64,
    },
    Foreign(Vec<(u64, String)>),
    /// Raw JSON text (JSON columns and other structured types).
    Json(String),
}

#[derive(Clone, Debug)]
pub(crate) struct Row {
    pub(crate) id: u64,
    pub(crate) created_at: i64,
    pub(crate) updated_at: i64,
    pub(crate) path: Option<String>,
    pub(crate) name: Option<String>,
    pub(crate) child_table_id: u64,
    pub(crate) values: Vec<(u32, Value)>,
}

impl Row {
    pub(crate) fn value(&self, col: u32) -> Value {
        self.values
            .iter()
            .find(|(c, _)| *c == col)
            .map(|(_, v)| v.clone())
            .unwrap_or(Value::Null)
    }

    pub(crate) fn set(&mut self, col: u32, v: Value) {
        match self.values.iter_mut().find(|(c, _)| *c == col) {
            Some(slot) => slot.1 = v,
            None => self.values.push((col, v)),
        }
    }
}

/// 2024-01-01T00:00:00Z: seeded timestamps start here so they do not depend on today.
pub(crate) const EPOCH_2024: i64 = 1_704_067_200_000;

const CITIES: &[(&str, f64, f64)] = &[
    ("Boston", 42.3601, -71.0589),
    ("Berlin", 52.52, 13.405),
    ("Dublin", 53.3498, -6.2603),
    ("Singapore", 1.3521, 103.8198),
    ("Sydney", -33.8688, 151.2093),
    ("Tokyo", 35.6762, 139.6503),
    ("Paris", 48.8566, 2.3522),
    ("Austin", 30.2672, -97.7431),
    ("Toronto", 43.6532, -79.3832),
    ("São Paulo", -23.5505, -46.6333),
];
const TOPICS: &[&str] = &[
    "Rust",
    "Data Engineering",
    "Inbound Marketing",
    "SEO",
    "Email Automation",
    "CRM Hygiene",
    "Cloud Costs",
    "Analytics",
    "Content Strategy",
    "Sales Enablement",
];
const FORMATS: &[&str] = &[
    "Meetup",
    "Summit",
    "Workshop",
    "Webinar",
    "Roadshow",
    "Office Hours",
];

/// Column ids of the seeded `events` table.
pub(crate) mod events_cols {
    pub(crate) const TITLE: u32 = 1;
    pub(crate) const DESCRIPTION: u32 = 2;
    pub(crate) const ATTENDEES: u32 = 3;
    pub(crate) const TICKET_PRICE: u32 = 4;
    pub(crate) const IS_ONLINE: u32 = 5;
    pub(crate) const EVENT_DATE: u32 = 6;
    pub(crate) const STARTS_AT: u32 = 7;
    pub(crate) const CATEGORY: u32 = 8;
    pub(crate) const TAGS: u32 = 9;
    pub(crate) const WEBSITE: u32 = 10;
    pub(crate) const BANNER: u32 = 11;
    pub(crate) const PROMO_VIDEO: u32 = 12;
    pub(crate) const VENUE: u32 = 13;
    pub(crate) const ORGANIZER: u32 = 14;
    pub(crate) const METADATA: u32 = 15;
    pub(crate) const CITY: u32 = 16;
}

/// Generates the rows of the seeded `events` table from (seed, index), so a table of a
/// million rows costs no memory until rows are edited.
#[derive(Debug)]
pub(crate) struct EventsGen {
    pub(crate) seed: u64,
    /// (row id, name) of the rows of the table the FOREIGN_ID column points at.
    pub(crate) organizers: Vec<(u64, String)>,
}

impl EventsGen {
    pub(crate) fn created_at(&self, idx: u64) -> i64 {
        // One row a minute from 2024-01-01, so hs_created_at is increasing like an insert log.
        EPOCH_2024 + (idx as i64) * 60_000
    }

    pub(crate) fn updated_at(&self, idx: u64) -> i64 {
        self.created_at(idx) + (pick(self.seed, idx, 99, 30 * 86_400) as i64) * 1000
    }

    pub(crate) fn path(&self, idx: u64) -> String {
        format!("event-{}", idx + 1)
    }

    pub(crate) fn name(&self, idx: u64) -> String {
        format!("Event {}", idx + 1)
    }

    fn is_null(&self, idx: u64, col: u32, per_100: u64) -> bool {
        pick(self.seed, idx, 1000 + u64::from(col), 100) < per_100
    }

    pub(crate) fn value(&self, idx: u64, col: u32) -> Value {
        use events_cols::*;
        let s = self.seed;
        let topic = TOPICS[pick(s, idx, 1, TOPICS.len() as u64) as usize];
        let format = FORMATS[pick(s, idx, 2, FORMATS.len() as u64) as usize];
        let city = CITIES[pick(s, idx, 3, CITIES.len() as u64) as usize];
        match col {
            TITLE => Value::Str(format!("{topic} {format} #{}", idx + 1)),
            DESCRIPTION => {
                if self.is_null(idx, col, 8) {
                    Value::Null
                } else {
                    Value::Str(format!(
                        "<p>Join us in <strong>{}</strong> for a {} on {}.</p>",
                        city.0,
                        format.to_lowercase(),
                        topic
                    ))
                }
            }
            ATTENDEES => {
                if self.is_null(idx, col, 5) {
                    Value::Null
                } else {
                    Value::Num(pick(s, idx, 4, 501) as f64)
                }
            }
            TICKET_PRICE => {
                if self.is_null(idx, col, 10) {
                    Value::Null
                } else {
                    Value::Num(pick(s, idx, 5, 20_000) as f64 / 100.0)
                }
            }
            IS_ONLINE => Value::Bool(pick(s, idx, 6, 3) == 0),
            EVENT_DATE => {
                let day = pick(s, idx, 7, 3 * 365) as i64;
                Value::Time(EPOCH_2024 + day * 86_400_000)
            }
            STARTS_AT => {
                if self.is_null(idx, col, 4) {
                    Value::Null
                } else {
                    let day = pick(s, idx, 7, 3 * 365) as i64;
                    let minute = 8 * 60 + 30 * pick(s, idx, 8, 20) as i64;
                    Value::Time(EPOCH_2024 + day * 86_400_000 + minute * 60_000)
                }
            }
            CATEGORY => Value::Select(1 + pick(s, idx, 9, 5) as u32),
            TAGS => {
                let mask = pick(s, idx, 10, 64);
                Value::Multi(
                    (0..6)
                        .filter(|b| mask & (1 << b) != 0)
                        .map(|b| b as u32 + 1)
                        .collect(),
                )
            }
            WEBSITE => {
                if self.is_null(idx, col, 15) {
                    Value::Null
                } else {
                    Value::Str(format!("https://events.example.com/{}", self.path(idx)))
                }
            }
            BANNER => {
                if self.is_null(idx, col, 20) {
                    Value::Null
                } else {
                    Value::Image {
                        url: format!(
                            "https://cdn.example.com/banners/{}.png",
                            1 + pick(s, idx, 11, 40)
                        ),
                        width: 1200,
                        height: 630,
                    }
                }
            }
            PROMO_VIDEO => {
                if self.is_null(idx, col, 60) {
                    Value::Null
                } else {
                    Value::Num((10_000_000 + pick(s, idx, 12, 90_000_000)) as f64)
                }
            }
            VENUE => Value::Location {
                lat: city.1,
                long: city.2,
            },
            ORGANIZER => {
                if self.organizers.is_empty() || self.is_null(idx, col, 10) {
                    Value::Null
                } else {
                    let o =
                        &self.organizers[pick(s, idx, 13, self.organizers.len() as u64) as usize];
                    Value::Foreign(vec![o.clone()])
                }
            }
            METADATA => {
                if self.is_null(idx, col, 30) {
                    Value::Null
                } else {
                    Value::Json(format!(
                        "{{\"source\":\"{}\",\"capacity\":{},\"sponsors\":[\"acme\",\"globex\"]}}",
                        ["web", "import", "partner"][pick(s, idx, 14, 3) as usize],
                        50 + pick(s, idx, 15, 950)
                    ))
                }
            }
            CITY => Value::Str(city.0.to_string()),
            _ => Value::Null,
        }
    }

    pub(crate) fn row(&self, idx: u64, id: u64, columns: &[Column]) -> Row {
        Row {
            id,
            created_at: self.created_at(idx),
            updated_at: self.updated_at(idx),
            path: Some(self.path(idx)),
            name: Some(self.name(idx)),
            child_table_id: 0,
            values: columns
                .iter()
                .map(|c| (c.id, self.value(idx, c.id)))
                .collect(),
        }
    }
}

/// The rows of one table version: generated rows `base_id..base_id+gen_count`, edits to
/// them, and rows added later (ids above every generated id).
#[derive(Clone, Debug)]
pub(crate) struct RowStore {
    pub(crate) generator: Option<Arc<EventsGen>>,
    pub(crate) gen_count: u64,
    pub(crate) base_id: u64,
    /// Edits to generated rows: `Some` replaces, `None` deletes.
    pub(crate) edits: BTreeMap<u64, Option<Row>>,
    pub(crate) extra: BTreeMap<u64, Row>,
    deleted: u64,
}

impl RowStore {
    pub(crate) fn new(base_id: u64) -> Self {
        Self {
            generator: None,
            gen_count: 0,
            base_id,
            edits: BTreeMap::new(),
            extra: BTreeMap::new(),
            deleted: 0,
        }
    }

    pub(crate) fn generated(generator: Arc<EventsGen>, count: u64, base_id: u64) -> Self {
        Self {
            generator: Some(generator),
            gen_count: count,
            ..Self::new(base_id)
        }
    }

    pub(crate) fn len(&self) -> u64 {
        self.gen_count - self.deleted + self.extra.len() as u64
    }

    fn gen_index(&self, id: u64) -> Option<u64> {
        (self.generator.is_some() && id >= self.base_id && id < self.base_id + self.gen_count)
            .then(|| id - self.base_id)
    }

    pub(crate) fn get(&self, id: u64, columns: &[Column]) -> Option<Cow<'_, Row>> {
        if let Some(idx) = self.gen_index(id) {
            return match self.edits.get(&id) {
                Some(Some(r)) => Some(Cow::Borrowed(r)),
                Some(None) => None,
                None => self
                    .generator
                    .as_ref()
                    .map(|g| Cow::Owned(g.row(idx, id, columns))),
            };
        }
        self.extra.get(&id).map(Cow::Borrowed)
    }

    pub(crate) fn contains(&self, id: u64) -> bool {
        match self.gen_index(id) {
            Some(_) => !matches!(self.edits.get(&id), Some(None)),
            None => self.extra.contains_key(&id),
        }
    }

    /// Every live row id in id order.
    pub(crate) fn ids(&self) -> Vec<u64> {
        let mut out = Vec::with_capacity(self.len() as usize);
        if self.deleted == 0 {
            out.extend(self.base_id..self.base_id + self.gen_count);
        } else {
            out.extend(
                (self.base_id..self.base_id + self.gen_count)
                    .filter(|id| !matches!(self.edits.get(id), Some(None))),
            );
        }
        out.extend(self.extra.keys().copied());
        out
    }

    /// One cell, without building the whole row for generated rows.
    pub(crate) fn cell(&self, id: u64, target: Target) -> Value {
        if let Some(idx) = self.gen_index(id)
            && !self.edits.contains_key(&id)
            && let Some(g) = &self.generator
        {
            return match target {
                Target::Col(c, _) => g.value(idx, c),
                Target::HsId => Value::Num(id as f64),
                Target::HsCreatedAt => Value::Time(g.created_at(idx)),
                Target::HsUpdatedAt => Value::Time(g.updated_at(idx)),
                Target::HsPath => Value::Str(g.path(idx)),
                Target::HsName => Value::Str(g.name(idx)),
                Target::HsChildTableId => Value::Num(0.0),
            };
        }
        let row = match self.edits.get(&id) {
            Some(Some(r)) => r,
            Some(None) => return Value::Null,
            None => match self.extra.get(&id) {
                Some(r) => r,
                None => return Value::Null,
            },
        };
        match target {
            Target::Col(c, _) => row.value(c),
            Target::HsId => Value::Num(id as f64),
            Target::HsCreatedAt => Value::Time(row.created_at),
            Target::HsUpdatedAt => Value::Time(row.updated_at),
            Target::HsPath => row.path.clone().map_or(Value::Null, Value::Str),
            Target::HsName => row.name.clone().map_or(Value::Null, Value::Str),
            Target::HsChildTableId => Value::Num(row.child_table_id as f64),
        }
    }

    pub(crate) fn next_id(&self) -> u64 {
        let gen_end = self.base_id + self.gen_count;
        self.extra
            .keys()
            .next_back()
            .map_or(gen_end, |k| (k + 1).max(gen_end))
    }

    /// Stores `row` under its id (insert or replace).
    pub(crate) fn put(&mut self, row: Row) {
        if self.gen_index(row.id).is_some() {
            if let Some(None) = self.edits.insert(row.id, Some(row)) {
                self.deleted -= 1;
            }
        } else {
            self.extra.insert(row.id, row);
        }
    }

    pub(crate) fn remove(&mut self, id: u64) -> bool {
        if self.gen_index(id).is_some() {
            if matches!(self.edits.get(&id), Some(None)) {
                return false;
            }
            self.edits.insert(id, None);
            self.deleted += 1;
            true
        } else {
            self.extra.remove(&id).is_some()
        }
    }

    pub(crate) fn clear(&mut self) {
        let base = self.next_id();
        *self = Self::new(base);
    }
}

/// What a filter or sort key reads.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Target {
    /// A user column: id and type.
    Col(u32, ColumnType),
    HsId,
    HsCreatedAt,
    HsUpdatedAt,
    HsPath,
    HsName,
    HsChildTableId,
}

impl Target {
    pub(crate) fn resolve(name: &str, columns: &[Column]) -> Option<Target> {
        Some(match name {
            "hs_id" => Target::HsId,
            "hs_created_at" => Target::HsCreatedAt,
            "hs_updated_at" => Target::HsUpdatedAt,
            "hs_path" => Target::HsPath,
            "hs_name" => Target::HsName,
            "hs_child_table_id" => Target::HsChildTableId,
            _ => {
                let c = columns.iter().find(|c| c.name == name)?;
                Target::Col(c.id, c.ctype)
            }
        })
    }

    fn kind(self) -> Kind {
        match self {
            Target::HsId | Target::HsChildTableId => Kind::Num,
            Target::HsCreatedAt | Target::HsUpdatedAt => Kind::Time,
            Target::HsPath | Target::HsName => Kind::Text,
            Target::Col(_, t) => match t {
                ColumnType::Number
                | ColumnType::Currency
                | ColumnType::Video
                | ColumnType::HubspotVideo => Kind::Num,
                ColumnType::Boolean => Kind::Bool,
                ColumnType::Date | ColumnType::Datetime => Kind::Time,
                ColumnType::Select | ColumnType::Multiselect => Kind::Options,
                ColumnType::ForeignId => Kind::Foreign,
                _ => Kind::Text,
            },
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Num,
    Bool,
    Time,
    Text,
    Options,
    Foreign,
}

/// Filter operators of the HubDB guide.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    Eq,
    Ne,
    Contains,
    Lt,
    Lte,
    Gt,
    Gte,
    IsNull,
    NotNull,
    Like,
    NotLike,
    Icontains,
    Startswith,
    In,
}

impl Op {
    pub(crate) fn parse(s: &str) -> Option<Op> {
        Some(match s {
            "eq" => Op::Eq,
            "ne" => Op::Ne,
            "contains" => Op::Contains,
            "lt" => Op::Lt,
            "lte" => Op::Lte,
            "gt" => Op::Gt,
            "gte" => Op::Gte,
            "is_null" => Op::IsNull,
            "not_null" => Op::NotNull,
            "like" => Op::Like,
            "not_like" => Op::NotLike,
            "icontains" => Op::Icontains,
            "startswith" => Op::Startswith,
            "in" => Op::In,
            _ => return None,
        })
    }
}

/// A comparable form of a cell.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Cmp {
    Null,
    Num(f64),
    Text(String),
    /// Option names or foreign ids (also matched by option id).
    Set(Vec<String>),
}

fn to_cmp(v: &Value, target: Target, columns: &[Column]) -> Cmp {
    let col = match target {
        Target::Col(id, _) => columns.iter().find(|c| c.id == id),
        _ => None,
    };
    match v {
        Value::Null => Cmp::Null,
        Value::Str(s) => Cmp::Text(s.clone()),
        Value::Num(n) => Cmp::Num(*n),
        Value::Bool(b) => Cmp::Num(if *b { 1.0 } else { 0.0 }),
        Value::Time(t) => Cmp::Num(*t as f64),
        Value::Select(id) => Cmp::Set(vec![
            col.and_then(|c| c.option(*id))
                .map_or(id.to_string(), |o| o.name.clone()),
        ]),
        Value::Multi(ids) => {
            if ids.is_empty() {
                Cmp::Null
            } else {
                Cmp::Set(
                    ids.iter()
                        .map(|id| {
                            col.and_then(|c| c.option(*id))
                                .map_or(id.to_string(), |o| o.name.clone())
                        })
                        .collect(),
                )
            }
        }
        Value::Image { url, .. } => Cmp::Text(url.clone()),
        Value::Location { lat, long } => Cmp::Text(format!("{lat},{long}")),
        Value::Foreign(f) => {
            if f.is_empty() {
                Cmp::Null
            } else {
                Cmp::Set(f.iter().map(|(id, _)| id.to_string()).collect())
            }
        }
        Value::Json(j) => Cmp::Text(j.clone()),
    }
}

/// A parsed `column__op=value` filter.
#[derive(Clone, Debug)]
pub(crate) struct Filter {
    pub(crate) target: Target,
    pub(crate) op: Op,
    /// Values: one, or several for `in` (and `contains` on multi-valued columns).
    values: Vec<Cmp>,
    raw: String,
}

impl Filter {
    /// Parses a filter; the error is the message of HubSpot's 400.
    pub(crate) fn parse(
        column: &str,
        target: Target,
        op: Op,
        raw: &str,
        columns: &[Column],
    ) -> Result<Filter, String> {
        let kind = target.kind();
        let parts: Vec<&str> = if op == Op::In || (op == Op::Contains && kind == Kind::Options) {
            raw.split(',').map(str::trim).collect()
        } else {
            vec![raw]
        };
        let mut values = Vec::new();
        if !matches!(op, Op::IsNull | Op::NotNull) {
            for p in parts {
                values.push(match kind {
                    Kind::Num => {
                        p.trim().parse::<f64>().map(Cmp::Num).map_err(|_| {
                            format!("Invalid value '{p}' for number column {column}")
                        })?
                    }
                    Kind::Bool => match p.trim().to_ascii_lowercase().as_str() {
                        "true" | "1" => Cmp::Num(1.0),
                        "false" | "0" => Cmp::Num(0.0),
                        _ => {
                            return Err(format!("Invalid value '{p}' for boolean column {column}"));
                        }
                    },
                    Kind::Time => util::parse_time_ms(p)
                        .map(|t| Cmp::Num(t as f64))
                        .ok_or_else(|| format!("Invalid value '{p}' for date column {column}"))?,
                    Kind::Options => {
                        // Match option names, and option ids given as numbers.
                        let col = match target {
                            Target::Col(id, _) => columns.iter().find(|c| c.id == id),
                            _ => None,
                        };
                        let name = col
                            .and_then(|c| c.option_by_key(p))
                            .map_or_else(|| p.to_string(), |o| o.name.clone());
                        Cmp::Text(name)
                    }
                    Kind::Text | Kind::Foreign => Cmp::Text(p.to_string()),
                });
            }
        }
        let allowed = match op {
            Op::Lt | Op::Lte | Op::Gt | Op::Gte => {
                matches!(kind, Kind::Num | Kind::Time | Kind::Text | Kind::Bool)
            }
            Op::Like | Op::NotLike | Op::Icontains | Op::Startswith => kind == Kind::Text,
            Op::Contains => matches!(kind, Kind::Text | Kind::Options | Kind::Foreign),
            _ => true,
        };
        if !allowed {
            return Err(format!("Operator is not supported for column {column}"));
        }
        Ok(Filter {
            target,
            op,
            values,
            raw: raw.to_string(),
        })
    }

    pub(crate) fn key(&self) -> String {
        format!("{:?}:{:?}:{}", self.target, self.op, self.raw)
    }

    pub(crate) fn matches(&self, cell: &Cmp) -> bool {
        let first = self.values.first();
        match self.op {
            Op::IsNull => is_null(cell),
            Op::NotNull => !is_null(cell),
            _ if is_null(cell) => false,
            Op::Eq => first.is_some_and(|v| eq(cell, v)),
            Op::Ne => first.is_some_and(|v| !eq(cell, v)),
            Op::In => self.values.iter().any(|v| eq(cell, v)),
            Op::Contains => match cell {
                Cmp::Set(_) => self.values.iter().all(|v| eq(cell, v)),
                Cmp::Text(s) => {
                    first.is_some_and(|v| matches!(v, Cmp::Text(t) if s.contains(t.as_str())))
                }
                _ => false,
            },
            Op::Icontains => match (cell, first) {
                (Cmp::Text(s), Some(Cmp::Text(t))) => s.to_lowercase().contains(&t.to_lowercase()),
                _ => false,
            },
            Op::Startswith => match (cell, first) {
                (Cmp::Text(s), Some(Cmp::Text(t))) => s.starts_with(t.as_str()),
                _ => false,
            },
            Op::Like | Op::NotLike => match (cell, first) {
                (Cmp::Text(s), Some(Cmp::Text(p))) => like(s, p) == (self.op == Op::Like),
                _ => false,
            },
            Op::Lt | Op::Lte | Op::Gt | Op::Gte => match first.and_then(|v| order(cell, v)) {
                Some(o) => match self.op {
                    Op::Lt => o.is_lt(),
                    Op::Lte => o.is_le(),
                    Op::Gt => o.is_gt(),
                    _ => o.is_ge(),
                },
                None => false,
            },
        }
    }
}

fn is_null(c: &Cmp) -> bool {
    matches!(c, Cmp::Null)
}

fn eq(cell: &Cmp, v: &Cmp) -> bool {
    match (cell, v) {
        (Cmp::Num(a), Cmp::Num(b)) => a == b,
        (Cmp::Text(a), Cmp::Text(b)) => a == b,
        (Cmp::Set(s), Cmp::Text(b)) => s.iter().any(|x| x.eq_ignore_ascii_case(b)),
        _ => false,
    }
}

fn order(cell: &Cmp, v: &Cmp) -> Option<std::cmp::Ordering> {
    match (cell, v) {
        (Cmp::Num(a), Cmp::Num(b)) => a.partial_cmp(b),
        (Cmp::Text(a), Cmp::Text(b)) => Some(a.as_str().cmp(b.as_str())),
        _ => None,
    }
}

/// SQL LIKE with `%` (any run) and `_` (one character), case-sensitive.
fn like(s: &str, pat: &str) -> bool {
    let s: Vec<char> = s.chars().collect();
    let p: Vec<char> = pat.chars().collect();
    let (mut si, mut pi) = (0usize, 0usize);
    let (mut star, mut mark) = (None::<usize>, 0usize);
    while si < s.len() {
        if pi < p.len() && (p[pi] == '_' || p[pi] == s[si]) {
            si += 1;
            pi += 1;
        } else if pi < p.len() && p[pi] == '%' {
            star = Some(pi);
            mark = si;
            pi += 1;
        } else if let Some(st) = star {
            pi = st + 1;
            mark += 1;
            si = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '%' {
        pi += 1;
    }
    pi == p.len()
}

/// A sort key: `col`, `-col`, `length(col)`, `geo_distance(col,lat,long)`, `random()`.
#[derive(Clone, Debug)]
pub(crate) enum SortKey {
    Col {
        target: Target,
        desc: bool,
    },
    Length {
        target: Target,
        desc: bool,
    },
    Geo {
        target: Target,
        lat: f64,
        long: f64,
        desc: bool,
    },
    Random {
        desc: bool,
    },
}

impl SortKey {
    pub(crate) fn parse(spec: &str, columns: &[Column]) -> Result<SortKey, String> {
        let (desc, body) = match spec.strip_prefix('-') {
            Some(rest) => (true, rest.trim()),
            None => (false, spec.trim()),
        };
        let unknown = |c: &str| format!("Column {c} does not exist");
        if body == "random()" {
            return Ok(SortKey::Random { desc });
        }
        if let Some(inner) = body
            .strip_prefix("length(")
            .and_then(|r| r.strip_suffix(')'))
        {
            let target = Target::resolve(inner.trim(), columns).ok_or_else(|| unknown(inner))?;
            return Ok(SortKey::Length { target, desc });
        }
        if let Some(inner) = body
            .strip_prefix("geo_distance(")
            .and_then(|r| r.strip_suffix(')'))
        {
            let parts: Vec<&str> = inner.split(',').map(str::trim).collect();
            if parts.len() != 3 {
                return Err(format!("Invalid sort {spec}"));
            }
            let target = Target::resolve(parts[0], columns).ok_or_else(|| unknown(parts[0]))?;
            let lat = parts[1]
                .parse()
                .map_err(|_| format!("Invalid sort {spec}"))?;
            let long = parts[2]
                .parse()
                .map_err(|_| format!("Invalid sort {spec}"))?;
            return Ok(SortKey::Geo {
                target,
                lat,
                long,
                desc,
            });
        }
        let target = Target::resolve(body, columns).ok_or_else(|| unknown(body))?;
        Ok(SortKey::Col { target, desc })
    }

    fn desc(&self) -> bool {
        match self {
            SortKey::Col { desc, .. }
            | SortKey::Length { desc, .. }
            | SortKey::Geo { desc, .. }
            | SortKey::Random { desc } => *desc,
        }
    }

    fn key_of(&self, store: &RowStore, id: u64, columns: &[Column], seed: u64) -> Cmp {
        match self {
            SortKey::Col { target, .. } => to_cmp(&store.cell(id, *target), *target, columns),
            SortKey::Length { target, .. } => {
                match to_cmp(&store.cell(id, *target), *target, columns) {
                    Cmp::Text(s) => Cmp::Num(s.chars().count() as f64),
                    Cmp::Null => Cmp::Null,
                    Cmp::Set(v) => Cmp::Num(v.len() as f64),
                    Cmp::Num(n) => Cmp::Num(fmt_num(n).len() as f64),
                }
            }
            SortKey::Geo {
                target, lat, long, ..
            } => match store.cell(id, *target) {
                Value::Location { lat: a, long: b } => Cmp::Num(haversine_m(*lat, *long, a, b)),
                _ => Cmp::Null,
            },
            SortKey::Random { .. } => Cmp::Num(util::mix(seed ^ id) as f64),
        }
    }
}

fn haversine_m(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = (lat2 - lat1).to_radians();
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * 6_371_000.0 * a.sqrt().asin()
}

/// Rows matching every filter, ordered by the sort keys (then by id).
pub(crate) fn select_ids(
    store: &RowStore,
    columns: &[Column],
    filters: &[Filter],
    sort: &[SortKey],
    seed: u64,
) -> Vec<u64> {
    let mut ids = store.ids();
    for f in filters {
        ids.retain(|&id| f.matches(&to_cmp(&store.cell(id, f.target), f.target, columns)));
    }
    if sort.is_empty() {
        return ids;
    }
    let mut keyed: Vec<(Vec<Cmp>, u64)> = ids
        .into_iter()
        .map(|id| {
            (
                sort.iter()
                    .map(|k| k.key_of(store, id, columns, seed))
                    .collect(),
                id,
            )
        })
        .collect();
    keyed.sort_by(|(a, ia), (b, ib)| {
        for (i, k) in sort.iter().enumerate() {
            let o = cmp_sort(&a[i], &b[i], k.desc());
            if o != std::cmp::Ordering::Equal {
                return o;
            }
        }
        ia.cmp(ib)
    });
    keyed.into_iter().map(|(_, id)| id).collect()
}

/// Ascending puts nulls last; descending reverses values and puts nulls first (as PostgreSQL).
fn cmp_sort(a: &Cmp, b: &Cmp, desc: bool) -> std::cmp::Ordering {
    use std::cmp::Ordering::*;
    let o = match (a, b) {
        (Cmp::Null, Cmp::Null) => Equal,
        (Cmp::Null, _) => Greater,
        (_, Cmp::Null) => Less,
        (Cmp::Num(x), Cmp::Num(y)) => x.partial_cmp(y).unwrap_or(Equal),
        (Cmp::Text(x), Cmp::Text(y)) => x.cmp(y),
        (Cmp::Set(x), Cmp::Set(y)) => x.first().cmp(&y.first()),
        (Cmp::Num(_), _) => Less,
        (_, Cmp::Num(_)) => Greater,
        (Cmp::Text(_), _) => Less,
        (_, Cmp::Text(_)) => Greater,
    };
    if desc { o.reverse() } else { o }
}

/// Appends the JSON of one value as HubSpot encodes it for `col`.
pub(crate) fn push_value(out: &mut String, col: &Column, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Str(s) => push_json_str(out, s),
        Value::Num(n) => out.push_str(&fmt_num(*n)),
        Value::Bool(b) => out.push_str(if *b { "1" } else { "0" }),
        Value::Time(t) => out.push_str(&t.to_string()),
        Value::Select(id) => push_option(out, col, *id),
        Value::Multi(ids) => {
            out.push('[');
            for (i, id) in ids.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                push_option(out, col, *id);
            }
            out.push(']');
        }
        Value::Image { url, width, height } => {
            out.push_str("{\"url\":");
            push_json_str(out, url);
            out.push_str(&format!(
                ",\"width\":{width},\"height\":{height},\"type\":\"image\"}}"
            ));
        }
        Value::Location { lat, long } => {
            out.push_str(&format!(
                "{{\"lat\":{},\"long\":{},\"type\":\"location\"}}",
                fmt_num(*lat),
                fmt_num(*long)
            ));
        }
        Value::Foreign(items) => {
            out.push('[');
            for (i, (id, name)) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&format!("{{\"id\":\"{id}\",\"name\":"));
                push_json_str(out, name);
                out.push_str(",\"type\":\"foreignid\"}");
            }
            out.push(']');
        }
        Value::Json(j) => out.push_str(j),
    }
}

fn push_option(out: &mut String, col: &Column, id: u32) {
    match col.option(id) {
        Some(o) => {
            out.push_str(&format!("{{\"id\":\"{}\",\"name\":", o.id));
            push_json_str(out, &o.name);
            out.push_str(",\"label\":");
            push_json_str(out, &o.label);
            out.push_str(&format!(",\"type\":\"option\",\"order\":{}}}", o.order));
        }
        None => out.push_str(&format!("{{\"id\":\"{id}\",\"type\":\"option\"}}")),
    }
}

/// Appends one row as `HubDbTableRowV3`. `only` limits `values` to those column ids.
pub(crate) fn push_row(
    out: &mut String,
    row: &Row,
    columns: &[Column],
    only: Option<&[u32]>,
    published_at: i64,
) {
    out.push_str(&format!(
        "{{\"id\":\"{}\",\"createdAt\":\"{}\",\"updatedAt\":\"{}\",\"publishedAt\":\"{}\",\"values\":{{",
        row.id,
        iso_ms(row.created_at),
        iso_ms(row.updated_at),
        iso_ms(published_at)
    ));
    let mut first = true;
    for col in columns {
        if only.is_some_and(|o| !o.contains(&col.id)) {
            continue;
        }
        let Some((_, v)) = row.values.iter().find(|(c, _)| *c == col.id) else {
            continue;
        };
        // HubSpot leaves empty cells out of `values`.
        if *v == Value::Null {
            continue;
        }
        if !first {
            out.push(',');
        }
        first = false;
        push_json_str(out, &col.name);
        out.push(':');
        push_value(out, col, v);
    }
    out.push_str("},\"path\":");
    match &row.path {
        Some(p) => push_json_str(out, p),
        None => out.push_str("null"),
    }
    out.push_str(",\"name\":");
    match &row.name {
        Some(n) => push_json_str(out, n),
        None => out.push_str("null"),
    }
    out.push_str(&format!(",\"childTableId\":\"{}\"}}", row.child_table_id));
}

/// The text of a value in CSV exports and imports.
pub(crate) fn value_text(col: &Column, v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Str(s) | Value::Json(s) => s.clone(),
        Value::Num(n) => fmt_num(*n),
        Value::Bool(b) => b.to_string(),
        Value::Time(t) => {
            if col.ctype == ColumnType::Date {
                util::iso_date(*t)
            } else {
                iso_ms(*t)
            }
        }
        Value::Select(id) => col.option(*id).map_or(id.to_string(), |o| o.name.clone()),
        Value::Multi(ids) => ids
            .iter()
            .map(|id| col.option(*id).map_or(id.to_string(), |o| o.name.clone()))
            .collect::<Vec<_>>()
            .join(";"),
        Value::Image { url, .. } => url.clone(),
        Value::Location { lat, long } => format!("{lat},{long}"),
        Value::Foreign(f) => f
            .iter()
            .map(|(id, _)| id.to_string())
            .collect::<Vec<_>>()
            .join(";"),
    }
}

/// Parses an input JSON value for `col` (row create and update bodies).
pub(crate) fn parse_input(col: &Column, v: &serde_json::Value) -> Result<Value, String> {
    use serde_json::Value as J;
    let bad = || {
        format!(
            "Invalid value for column {} of type {}: {v}",
            col.name,
            col.ctype.as_str()
        )
    };
    if v.is_null() {
        return Ok(Value::Null);
    }
    Ok(match col.ctype {
        ColumnType::Text
        | ColumnType::Richtext
        | ColumnType::Url
        | ColumnType::Code
        | ColumnType::Embed => match v {
            J::String(s) => Value::Str(s.clone()),
            J::Number(n) => Value::Str(n.to_string()),
            J::Bool(b) => Value::Str(b.to_string()),
            _ => return Err(bad()),
        },
        ColumnType::Number
        | ColumnType::Currency
        | ColumnType::Video
        | ColumnType::HubspotVideo => match v {
            J::Number(n) => Value::Num(n.as_f64().ok_or_else(bad)?),
            J::String(s) => Value::Num(s.trim().parse().map_err(|_| bad())?),
            _ => return Err(bad()),
        },
        ColumnType::Boolean => match v {
            J::Bool(b) => Value::Bool(*b),
            J::Number(n) => Value::Bool(n.as_f64() != Some(0.0)),
            J::String(s) if s == "true" || s == "1" => Value::Bool(true),
            J::String(s) if s == "false" || s == "0" => Value::Bool(false),
            _ => return Err(bad()),
        },
        ColumnType::Date | ColumnType::Datetime => {
            let ms = match v {
                J::Number(n) => n.as_i64().ok_or_else(bad)?,
                J::String(s) => util::parse_time_ms(s).ok_or_else(bad)?,
                _ => return Err(bad()),
            };
            // DATE cells are midnight UTC.
            Value::Time(if col.ctype == ColumnType::Date {
                ms.div_euclid(86_400_000) * 86_400_000
            } else {
                ms
            })
        }
        ColumnType::Select => Value::Select(option_of(col, v).ok_or_else(bad)?),
        ColumnType::Multiselect => match v {
            J::Array(items) => Value::Multi(
                items
                    .iter()
                    .map(|i| option_of(col, i).ok_or_else(bad))
                    .collect::<Result<_, _>>()?,
            ),
            J::String(s) => Value::Multi(
                s.split([';', ','])
                    .filter(|p| !p.trim().is_empty())
                    .map(|p| col.option_by_key(p.trim()).map(|o| o.id).ok_or_else(bad))
                    .collect::<Result<_, _>>()?,
            ),
            _ => return Err(bad()),
        },
        ColumnType::Image => match v {
            J::String(s) => Value::Image {
                url: s.clone(),
                width: 0,
                height: 0,
            },
            J::Object(o) => Value::Image {
                url: o
                    .get("url")
                    .and_then(J::as_str)
                    .ok_or_else(bad)?
                    .to_string(),
                width: o.get("width").and_then(J::as_u64).unwrap_or(0) as u32,
                height: o.get("height").and_then(J::as_u64).unwrap_or(0) as u32,
            },
            _ => return Err(bad()),
        },
        ColumnType::Location => match v {
            J::Object(o) => {
                let lat = o.get("lat").and_then(J::as_f64).ok_or_else(bad)?;
                let long = o
                    .get("long")
                    .or_else(|| o.get("lng"))
                    .or_else(|| o.get("lon"))
                    .and_then(J::as_f64)
                    .ok_or_else(bad)?;
                Value::Location { lat, long }
            }
            J::String(s) => {
                let (a, b) = s.split_once(',').ok_or_else(bad)?;
                Value::Location {
                    lat: a.trim().parse().map_err(|_| bad())?,
                    long: b.trim().parse().map_err(|_| bad())?,
                }
            }
            _ => return Err(bad()),
        },
        ColumnType::ForeignId => {
            let items: Vec<&J> = match v {
                J::Array(a) => a.iter().collect(),
                other => vec![other],
            };
            let mut out = Vec::new();
            for i in items {
                let (id, name) = match i {
                    J::Object(o) => (
                        o.get("id").ok_or_else(bad)?,
                        o.get("name").and_then(J::as_str).unwrap_or("").to_string(),
                    ),
                    other => (other, String::new()),
                };
                let id = match id {
                    J::String(s) => s.trim().parse().map_err(|_| bad())?,
                    J::Number(n) => n.as_u64().ok_or_else(bad)?,
                    _ => return Err(bad()),
                };
                out.push((id, name));
            }
            Value::Foreign(out)
        }
        ColumnType::Json
        | ColumnType::File
        | ColumnType::Composite
        | ColumnType::Cta
        | ColumnType::Null => Value::Json(v.to_string()),
    })
}

fn option_of(col: &Column, v: &serde_json::Value) -> Option<u32> {
    match v {
        serde_json::Value::Object(o) => {
            if let Some(id) = o.get("id") {
                let key = id
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| id.to_string());
                if let Some(opt) = col.option_by_key(&key) {
                    return Some(opt.id);
                }
            }
            o.get("name")
                .and_then(|n| n.as_str())
                .and_then(|n| col.option_by_key(n))
                .map(|o| o.id)
        }
        serde_json::Value::String(s) => col.option_by_key(s).map(|o| o.id),
        serde_json::Value::Number(n) => col.option_by_key(&n.to_string()).map(|o| o.id),
        _ => None,
    }
}

/// Parses CSV cell text for `col` (imports).
pub(crate) fn parse_text(col: &Column, s: &str) -> Result<Value, String> {
    if s.is_empty() {
        return Ok(Value::Null);
    }
    let json = match col.ctype {
        ColumnType::Json | ColumnType::File | ColumnType::Composite | ColumnType::Cta => {
            serde_json::from_str(s).unwrap_or_else(|_| serde_json::Value::String(s.to_string()))
        }
        ColumnType::ForeignId => serde_json::Value::Array(
            s.split(';')
                .map(|p| serde_json::Value::String(p.trim().to_string()))
                .collect(),
        ),
        _ => serde_json::Value::String(s.to_string()),
    };
    parse_input(col, &json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_handles_wildcards() {
        assert!(like("Rust Meetup", "Rust%"));
        assert!(like("Rust Meetup", "%Meet%"));
        assert!(like("abc", "a_c"));
        assert!(!like("abc", "a_"));
        assert!(!like("Rust", "rust%"));
    }
}
