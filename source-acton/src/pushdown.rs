//! Filters → API calls: which filters each view applies, and the plan of calls for a scan.

use std::collections::HashMap;
use std::sync::Arc;

use source_core::datetime::DAY_MS;
use source_core::{Filter, FilterSupport, Op, TableInfo, Value};

use crate::Error;
use crate::client::{Call, api_call};
use crate::decode::parse_datetime_ms;
use crate::scan::{Items, Part};
use crate::views::{
    CREATED_DATE, DRILLDOWN_TYPES, Kind, LISTING_TYPES, MESSAGE_TYPES, MODIFIED_DATE,
    PROGRAM_TYPES, Relation, UCL_SECONDS, contact_id_hint,
};

/// The string values of an `=` or `IN` filter with text literals.
fn strings(f: &Filter) -> Option<Vec<String>> {
    match (f.op, &f.value) {
        (Op::Eq, Value::Str(s)) => Some(vec![s.clone()]),
        (Op::In, Value::List(items)) => items
            .iter()
            .map(|v| match v {
                Value::Str(s) => Some(s.clone()),
                _ => None,
            })
            .collect(),
        _ => None,
    }
}

/// Unix milliseconds of a filter literal on a date-qualifier column.
fn millis(v: &Value) -> Option<i64> {
    match v {
        Value::TimestampMs(t) | Value::Int(t) => Some(*t),
        Value::Date(d) => Some(i64::from(*d) * DAY_MS),
        Value::Str(s) => s.trim().parse().ok().or_else(|| parse_datetime_ms(s)),
        _ => None,
    }
}

/// The columns of each view that take `=` / `IN` text filters.
fn eq_columns(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Messages | Kind::Programs => &["Type"],
        Kind::Images | Kind::Media | Kind::LandingPages | Kind::Header | Kind::Footer => {
            &["FolderName", "Id"]
        }
        Kind::Campaigns | Kind::Categories => &["Id"],
        Kind::ScoreDetails | Kind::ListScore | Kind::SegmentScore => &["ContactId"],
        Kind::Reports => &["MessageId"],
        Kind::DrilldownReports => &["MessageId", "DrilldownType"],
        Kind::ReportsByPeriod => &["Period"],
        Kind::ContactList => &["ListingType"],
        _ => &[],
    }
}

/// How faithfully a scan of `kind` applies `f`.
pub(crate) fn support(kind: Kind, info: &TableInfo, f: &Filter) -> FilterSupport {
    let Ok(col) = info.column(&f.column) else {
        return FilterSupport::Unsupported;
    };
    let name = col.name.as_str();
    if eq_columns(kind).contains(&name) {
        return match strings(f) {
            Some(_) => FilterSupport::Exact,
            None => FilterSupport::Unsupported,
        };
    }
    if kind == Kind::List
        && (name == CREATED_DATE || name == MODIFIED_DATE)
        && matches!(f.op, Op::Eq | Op::Lt | Op::Le | Op::Gt | Op::Ge)
        && millis(&f.value).is_some()
    {
        // The API's bounds are exclusive in the emulator but UNVERIFIED upstream: the bound
        // sent keeps every row SQL keeps under either reading, and the caller re-checks.
        return FilterSupport::Loose;
    }
    FilterSupport::Unsupported
}

/// The values every `=` / `IN` filter on `column` allows (their intersection, in the order
/// of the first), or `None` when no filter names the column.
fn values(info: &TableInfo, filters: &[Filter], column: &str) -> Option<Vec<String>> {
    let mut out: Option<Vec<String>> = None;
    for f in filters {
        if !info.column(&f.column).is_ok_and(|c| c.name == column) {
            continue;
        }
        let Some(vals) = strings(f) else { continue };
        out = Some(match out {
            None => {
                let mut unique: Vec<String> = Vec::new();
                for v in vals {
                    if !unique.contains(&v) {
                        unique.push(v);
                    }
                }
                unique
            }
            Some(prev) => prev.into_iter().filter(|v| vals.contains(v)).collect(),
        });
    }
    out
}

fn allowed_list(allowed: &[&str]) -> String {
    allowed.join(", ")
}

/// The filter's values, each checked against `allowed`; every allowed value when absent.
fn enum_values(
    info: &TableInfo,
    filters: &[Filter],
    column: &str,
    allowed: &[&str],
) -> Result<Vec<String>, Error> {
    match values(info, filters, column) {
        None => Ok(allowed.iter().map(|s| (*s).to_owned()).collect()),
        Some(vals) => {
            if let Some(bad) = vals.iter().find(|v| !allowed.contains(&v.as_str())) {
                return Err(Error::InvalidFilterValue {
                    table: info.name.clone(),
                    column: column.to_owned(),
                    value: Value::Str(bad.clone()).to_string(),
                    allowed: allowed_list(allowed),
                });
            }
            Ok(vals)
        }
    }
}

/// The filter's values; a [`Error::MissingFilter`] when the query has none.
fn required(
    info: &TableInfo,
    filters: &[Filter],
    column: &str,
    allowed: &str,
) -> Result<Vec<String>, Error> {
    values(info, filters, column).ok_or_else(|| Error::MissingFilter {
        table: info.name.clone(),
        column: column.to_owned(),
        allowed: allowed.to_owned(),
    })
}

const MESSAGE_ID_HINT: &str = "the Id of a SENT or TRIGGERED message (SELECT Id FROM Messages WHERE Type = 'SENT'), e.g. 's-0001-2401'";

/// Whether `p` is a YYMM month.
fn is_period(p: &str) -> bool {
    p.len() == 4
        && p.bytes().all(|b| b.is_ascii_digit())
        && p.get(2..4)
            .and_then(|m| m.parse::<u32>().ok())
            .is_some_and(|m| (1..=12).contains(&m))
}

/// The calls that answer a scan of `rel` with `filters` (already checked to be supported).
/// `views` maps contact-list ids to their view names.
pub(crate) fn plan(
    rel: &Relation,
    filters: &[Filter],
    views: Arc<HashMap<String, String>>,
    list_query: Vec<(String, String)>,
    account: Option<&str>,
) -> Result<Vec<Part>, Error> {
    let info = &rel.info;
    let parts = match rel.kind {
        Kind::Messages => enum_values(info, filters, "Type", &MESSAGE_TYPES)?
            .into_iter()
            .map(|t| {
                Part::new(
                    api_call(&["message"], "").param("type", &t),
                    true,
                    Items::Key("msgresult"),
                )
                .inject("__type", t)
            })
            .collect(),
        Kind::Programs => enum_values(info, filters, "Type", &PROGRAM_TYPES)?
            .into_iter()
            .map(|t| {
                Part::new(
                    api_call(&["program"], "").param("type", &t),
                    false,
                    Items::Programs,
                )
                .inject("__type", t)
            })
            .collect(),
        Kind::Images | Kind::Media => {
            let segment = if rel.kind == Kind::Images {
                "image"
            } else {
                "media"
            };
            let folders: Vec<Option<String>> = match values(info, filters, "FolderName") {
                None => vec![None],
                Some(f) => f.into_iter().map(Some).collect(),
            };
            // CData pushes `FolderName` of these two to the server: one call per folder. The
            // parameter is not in the spec copy (GUESS), so the rows are re-checked here too.
            folders
                .into_iter()
                .map(|folder| {
                    let mut call = api_call(&[segment], "");
                    if let Some(f) = &folder {
                        call = call.param("folderName", f);
                    }
                    folder_part(info, filters, call, "name")
                })
                .collect()
        }
        Kind::LandingPages | Kind::Header | Kind::Footer => {
            let segment = match rel.kind {
                Kind::LandingPages => "page",
                Kind::Header => "header",
                _ => "footer",
            };
            vec![folder_part(
                info,
                filters,
                api_call(&[segment], ""),
                "folder",
            )]
        }
        Kind::Campaigns | Kind::Categories => {
            let (path, keys): (&[&str], &'static [&'static str]) = if rel.kind == Kind::Campaigns {
                (&["campaigns"], &["campaigns", "result"])
            } else {
                (&["subscription", "category"], &["categories", "result"])
            };
            let mut part = Part::new(api_call(path, ""), false, Items::AnyOf(keys));
            part.keep
                .extend(values(info, filters, "Id").map(|ids| ("/id", ids)));
            vec![part]
        }
        Kind::ScoreDetails | Kind::ListScore => {
            let hint = contact_id_hint(rel.kind);
            let ids = required(info, filters, "ContactId", hint)?;
            let mut parts = Vec::new();
            for id in ids {
                let Some(list) = record_list(&id) else {
                    return Err(Error::InvalidFilterValue {
                        table: info.name.clone(),
                        column: "ContactId".into(),
                        value: Value::Str(id).to_string(),
                        allowed: hint.into(),
                    });
                };
                // A record of another list is not a row of this list's score view.
                if rel.kind == Kind::ListScore && rel.list_id.as_deref() != Some(list) {
                    continue;
                }
                let call = api_call(&["list", list, "record", &id, "facts"], "");
                let mut part = if rel.kind == Kind::ListScore {
                    Part::new(call, false, Items::One)
                } else {
                    Part::new(call, false, Items::Key("activitylist"))
                };
                part.lift.push(("__score", "/activity/score"));
                part.missing_is_empty = true;
                parts.push(part.inject("__contact_id", id));
            }
            parts
        }
        Kind::Segment => {
            let (Some(account), Some(segment)) = (account, rel.list_id.as_deref()) else {
                return Ok(Vec::new());
            };
            let call = ucl_call(account, &["segment", segment, "contacts"]);
            let mut part = Part::new(
                call,
                true,
                Items::AnyOf(&["contacts", "result", "content", "data"]),
            );
            part.page_numbers = true;
            part.seconds = UCL_SECONDS;
            vec![part]
        }
        Kind::SegmentScore => {
            let ids = required(info, filters, "ContactId", contact_id_hint(rel.kind))?;
            let Some(account) = account else {
                return Ok(Vec::new());
            };
            ids.into_iter()
                .map(|id| {
                    let call = ucl_call(account, &["contactReport", "id", &id, "scores"]);
                    let mut part = Part::new(call, false, Items::AnyOf(&["scores", "result"]));
                    part.missing_is_empty = true;
                    part.inject("__contact_id", id)
                })
                .collect()
        }
        Kind::Users => vec![Part::new(
            api_call(&["account", "senders"], ""),
            false,
            Items::Root,
        )],
        Kind::Account => vec![Part::new(api_call(&["account"], ""), false, Items::One)],
        Kind::Hardbounce | Kind::Spamcomplaint | Kind::SubscriptionOptOuts | Kind::Optout => {
            let segment = match rel.kind {
                Kind::Hardbounce => "hardbounce",
                Kind::Spamcomplaint => "spamcomplaint",
                _ => "optout",
            };
            vec![Part::new(
                api_call(&["list", segment], ""),
                true,
                Items::Table,
            )]
        }
        Kind::Reports => required(info, filters, "MessageId", MESSAGE_ID_HINT)?
            .into_iter()
            .map(|id| {
                Part::new(api_call(&["message", &id, "report"], ""), false, Items::One)
                    .inject("__message_id", id)
            })
            .collect(),
        Kind::DrilldownReports => {
            let ids = required(info, filters, "MessageId", MESSAGE_ID_HINT)?;
            let kinds = required(
                info,
                filters,
                "DrilldownType",
                &allowed_list(&DRILLDOWN_TYPES),
            )?;
            let kinds = enum_values(
                info,
                &[Filter::in_list(
                    "DrilldownType",
                    kinds.into_iter().map(Value::Str).collect(),
                )],
                "DrilldownType",
                &DRILLDOWN_TYPES,
            )?;
            let mut parts = Vec::new();
            for id in &ids {
                for k in &kinds {
                    parts.push(
                        Part::new(
                            api_call(&["message", id, "report", k], ""),
                            true,
                            Items::Key("result"),
                        )
                        .inject("__message_id", id.clone())
                        .inject("__drilldown", k.clone()),
                    );
                }
            }
            parts
        }
        Kind::ReportsByPeriod => {
            let hint = "a month as YYMM, e.g. '2401' for January 2024";
            let periods = required(info, filters, "Period", hint)?;
            if let Some(bad) = periods.iter().find(|p| !is_period(p)) {
                return Err(Error::InvalidFilterValue {
                    table: info.name.clone(),
                    column: "Period".into(),
                    value: Value::Str(bad.clone()).to_string(),
                    allowed: hint.into(),
                });
            }
            periods
                .into_iter()
                .map(|p| {
                    let mut part = Part::new(
                        api_call(&["message", "report"], "").param("period", &p),
                        false,
                        Items::Key("counts"),
                    )
                    .inject("__period", p);
                    part.lift.push(("__month", "/month"));
                    part
                })
                .collect()
        }
        Kind::ContactList => enum_values(info, filters, "ListingType", &LISTING_TYPES)?
            .into_iter()
            .map(|t| {
                let mut part = Part::new(
                    api_call(&["list"], "").param("listingtype", &t),
                    true,
                    Items::Key("result"),
                )
                .inject("__listing_type", t);
                part.views = Some(views.clone());
                part
            })
            .collect(),
        Kind::List => {
            let Some(id) = rel.list_id.as_deref() else {
                return Ok(Vec::new());
            };
            let mut call = api_call(&["list", id], "");
            call.query = list_query;
            vec![Part::new(call, true, Items::Table)]
        }
    };
    Ok(parts)
}

/// One call of a folder array, keeping the rows the `FolderName` and `Id` filters allow.
fn folder_part(info: &TableInfo, filters: &[Filter], call: Call, group_key: &'static str) -> Part {
    let mut part = Part::new(call, false, Items::Folders(group_key));
    part.keep
        .extend(values(info, filters, "FolderName").map(|f| ("/folderName", f)));
    part.keep
        .extend(values(info, filters, "Id").map(|ids| ("/id", ids)));
    part
}

/// The list id of a record id (`l-0001:12` → `l-0001`), if it has that shape.
fn record_list(id: &str) -> Option<&str> {
    let (list, n) = id.split_once(':')?;
    (!list.is_empty() && !n.is_empty() && !n.contains(':')).then_some(list)
}

/// `GET {base}/ucl/v2/{account}/{segments...}`; a trailing `""` gives the trailing `/` the
/// spec's listing paths have.
fn ucl_call(account: &str, segments: &[&str]) -> Call {
    let path = ["ucl", "v2", account]
        .into_iter()
        .chain(segments.iter().copied());
    Call::get(path, "")
}

/// Exclusive bounds (`after < t < before`) for one date-qualifier column.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Bounds {
    pub(crate) after: Option<i64>,
    pub(crate) before: Option<i64>,
}

impl Bounds {
    /// Whether no whole millisecond satisfies both bounds.
    pub(crate) fn is_empty(&self) -> bool {
        matches!((self.after, self.before), (Some(a), Some(b)) if b.saturating_sub(a) <= 1)
    }
}

/// The bounds the filters on `column` imply: `> v` → after v, `>= v` → after v−1, `< v` →
/// before v, `<= v` → before v+1, `= v` → both. Sent as the API's exclusive `…after` /
/// `…before`, they select exactly the SQL rows; an inclusive API would add only rows at the
/// bound, which the caller's re-check (Loose) removes.
pub(crate) fn bounds(info: &TableInfo, filters: &[Filter], column: &str) -> Bounds {
    let mut b = Bounds::default();
    let mut lower = |v: i64| b.after = Some(b.after.map_or(v, |a| a.max(v)));
    let mut pending_upper = Vec::new();
    for f in filters {
        if !info.column(&f.column).is_ok_and(|c| c.name == column) {
            continue;
        }
        let Some(v) = millis(&f.value) else { continue };
        match f.op {
            Op::Gt => lower(v),
            Op::Ge => lower(v.saturating_sub(1)),
            Op::Lt => pending_upper.push(v),
            Op::Le => pending_upper.push(v.saturating_add(1)),
            Op::Eq => {
                lower(v.saturating_sub(1));
                pending_upper.push(v.saturating_add(1));
            }
            _ => {}
        }
    }
    b.before = pending_upper.into_iter().min();
    b
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::views::static_views;

    fn info(name: &str) -> TableInfo {
        static_views()
            .into_iter()
            .find(|v| v.info.name == name)
            .map(|v| v.info)
            .expect("view")
    }

    #[test]
    fn support_table() {
        let m = info("Messages");
        assert_eq!(
            support(Kind::Messages, &m, &Filter::new("type", Op::Eq, "SENT")),
            FilterSupport::Exact
        );
        assert_eq!(
            support(Kind::Messages, &m, &Filter::new("Type", Op::Ne, "SENT")),
            FilterSupport::Unsupported
        );
        assert_eq!(
            support(Kind::Messages, &m, &Filter::new("Title", Op::Eq, "x")),
            FilterSupport::Unsupported
        );
        let i = info("Images");
        let folders = Filter::in_list("FolderName", vec!["A".into(), "B".into()]);
        assert_eq!(support(Kind::Images, &i, &folders), FilterSupport::Exact);
        assert_eq!(
            support(Kind::Images, &i, &Filter::new("Size", Op::Gt, 1i64)),
            FilterSupport::Unsupported
        );
    }

    #[test]
    fn values_intersect_and_enums_are_checked() {
        let m = info("Messages");
        let filters = [
            Filter::in_list("Type", vec!["SENT".into(), "DRAFT".into()]),
            Filter::new("Type", Op::Eq, "DRAFT"),
        ];
        assert_eq!(values(&m, &filters, "Type"), Some(vec!["DRAFT".to_owned()]));
        let err = enum_values(
            &m,
            &[Filter::new("Type", Op::Eq, "sent")],
            "Type",
            &MESSAGE_TYPES,
        )
        .unwrap_err();
        assert!(err.to_string().contains("SENT, DRAFT, TEMPLATE"), "{err}");
    }

    #[test]
    fn date_bounds_are_exclusive_and_combined() {
        let t = crate::views::list_view(
            &crate::views::ListEntry {
                id: "l-1".into(),
                name: "x".into(),
                folder: None,
                size: None,
                view: "List_x".into(),
            },
            &["E-mail Address".to_owned()],
            None,
        )
        .info;
        let f = [
            Filter::new(MODIFIED_DATE, Op::Ge, Value::TimestampMs(1000)),
            Filter::new(MODIFIED_DATE, Op::Gt, Value::TimestampMs(500)),
            Filter::new(MODIFIED_DATE, Op::Le, Value::TimestampMs(2000)),
        ];
        assert_eq!(
            bounds(&t, &f, MODIFIED_DATE),
            Bounds {
                after: Some(999),
                before: Some(2001)
            }
        );
        let eq = bounds(
            &t,
            &[Filter::new(CREATED_DATE, Op::Eq, Value::TimestampMs(7))],
            CREATED_DATE,
        );
        assert_eq!(
            eq,
            Bounds {
                after: Some(6),
                before: Some(8)
            }
        );
        assert!(!eq.is_empty());
        let none = bounds(
            &t,
            &[
                Filter::new(CREATED_DATE, Op::Gt, Value::TimestampMs(7)),
                Filter::new(CREATED_DATE, Op::Lt, Value::TimestampMs(8)),
            ],
            CREATED_DATE,
        );
        assert!(none.is_empty());
        assert!(is_period("2401") && !is_period("2413") && !is_period("24-01"));
    }
}
