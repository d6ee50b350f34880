//! One page of Act-On JSON → one Arrow batch.
//!
//! Two shapes exist: arrays of objects (messages, images, reports, ...) read through a JSON
//! pointer per column, and list downloads (`headers` plus `data` rows aligned to them) read
//! by header name. A page is decoded on its own and dropped once its batch is built, so
//! memory depends on the page size, never on the list size.

use arrow_array::builder::{
    ArrayBuilder, BooleanBuilder, Int64Builder, StringBuilder, TimestampMillisecondBuilder,
};
use arrow_array::{ArrayRef, RecordBatch, RecordBatchOptions};
use arrow_schema::SchemaRef;
use serde_json::Value as J;
/// Act-On's date texts are UTC: `YYYY-MM-DD[( |T)HH:MM[:SS[.fff]]][Z]`.
pub(crate) use source_core::datetime::parse_utc_ms as parse_datetime_ms;
use source_core::json::as_i64 as int;

use crate::Error;
use crate::views::{Col, Ty};

/// Text of a cell; empty text is NULL (Act-On does not tell empty from absent).
fn text(v: &J) -> Option<String> {
    match v {
        J::Null => None,
        J::String(s) if s.is_empty() => None,
        J::String(s) => Some(s.clone()),
        J::Bool(b) => Some(b.to_string()),
        J::Number(n) => Some(n.to_string()),
        // Id lists (`srcIds`, `sentto`, `tagNames`) read as comma-separated text.
        J::Array(items) if items.is_empty() => None,
        J::Array(items) => Some(
            items
                .iter()
                .map(|i| match i {
                    J::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join(","),
        ),
        J::Object(_) => Some(v.to_string()),
    }
}

fn boolean(v: &J) -> Option<bool> {
    match v {
        J::Bool(b) => Some(*b),
        J::Number(n) => n.as_i64().map(|i| i != 0),
        J::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Some(true),
            "false" | "0" | "no" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// Unix milliseconds of an `/api/1` date cell in any of its spellings ([`crate::dates`]).
pub(crate) fn time_ms(v: &J) -> Option<i64> {
    crate::dates::api_time_ms(v)
}

/// The e-mail column of a list download: `emailColumn` is an index into `headers` in the
/// spec copy (D3) and was read as a header name before; either is accepted.
pub(crate) fn email_column(value: Option<&J>, headers: &[String]) -> Option<String> {
    match value? {
        J::String(s) if s.is_empty() => None,
        J::String(s) => match s.trim().parse::<usize>() {
            // A string of digits is an index too (the spec mixes strings and numbers).
            Ok(i) => headers.get(i).cloned(),
            Err(_) => Some(s.clone()),
        },
        J::Number(n) => headers.get(usize::try_from(n.as_u64()?).ok()?).cloned(),
        _ => None,
    }
}

/// A count that may come as a number or as a string (`sourceSize: "1"` in the spec copy).
pub(crate) fn count(value: Option<&J>) -> Option<u64> {
    match value? {
        J::Number(n) => n.as_u64(),
        J::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The other spelling of a download header: `datequalifiers=true` adds `created_date` and
/// `modified_date` in the spec copy (D2), `__created_date` and `__modified_date` in the older
/// pages; the list views name the columns after the older spelling.
fn other_spelling(header: &str) -> Option<&'static str> {
    match header {
        crate::views::CREATED_DATE => Some("created_date"),
        crate::views::MODIFIED_DATE => Some("modified_date"),
        _ => None,
    }
}

enum Builder {
    Text(StringBuilder),
    Int(Int64Builder),
    Bool(BooleanBuilder),
    Time(TimestampMillisecondBuilder),
}

impl Builder {
    fn new(ty: Ty, capacity: usize) -> Self {
        match ty {
            Ty::Str => Builder::Text(StringBuilder::with_capacity(capacity, capacity * 16)),
            Ty::Int => Builder::Int(Int64Builder::with_capacity(capacity)),
            Ty::Bool => Builder::Bool(BooleanBuilder::with_capacity(capacity)),
            Ty::Ts => Builder::Time(
                TimestampMillisecondBuilder::with_capacity(capacity)
                    .with_timezone(source_core::UTC),
            ),
        }
    }

    fn push(&mut self, v: Option<&J>) {
        let v = v.unwrap_or(&J::Null);
        match self {
            Builder::Text(b) => match v {
                // The common case (list cells) without an intermediate String.
                J::String(s) if !s.is_empty() => b.append_value(s),
                other => b.append_option(text(other)),
            },
            Builder::Int(b) => b.append_option(int(v)),
            Builder::Bool(b) => b.append_option(boolean(v)),
            Builder::Time(b) => b.append_option(time_ms(v)),
        }
    }

    fn finish(self) -> ArrayRef {
        match self {
            Builder::Text(mut b) => ArrayBuilder::finish(&mut b),
            Builder::Int(mut b) => ArrayBuilder::finish(&mut b),
            Builder::Bool(mut b) => ArrayBuilder::finish(&mut b),
            Builder::Time(mut b) => ArrayBuilder::finish(&mut b),
        }
    }
}

fn batch(
    schema: &SchemaRef,
    builders: Vec<Builder>,
    rows: usize,
    context: &str,
) -> Result<RecordBatch, Error> {
    let columns: Vec<ArrayRef> = builders.into_iter().map(Builder::finish).collect();
    let options = RecordBatchOptions::new().with_row_count(Some(rows));
    RecordBatch::try_new_with_options(schema.clone(), columns, &options)
        .map_err(|e| Error::decode(context, e))
}

/// The value at the first of `col`'s `|`-separated JSON pointers that is present.
fn lookup<'a>(row: &'a J, col: &Col) -> Option<&'a J> {
    col.key
        .split('|')
        .filter_map(|p| row.pointer(p))
        .find(|v| !v.is_null())
}

/// Objects → a batch with `cols` (the projection, in order).
pub(crate) fn decode_objects(
    items: &[J],
    cols: &[Col],
    schema: &SchemaRef,
    context: &str,
) -> Result<RecordBatch, Error> {
    let mut builders: Vec<Builder> = cols
        .iter()
        .map(|c| Builder::new(c.ty, items.len()))
        .collect();
    for item in items {
        for (b, c) in builders.iter_mut().zip(cols) {
            b.push(lookup(item, c));
        }
    }
    batch(schema, builders, items.len(), context)
}

/// A list download page (`headers` and `data` rows) → a batch with `cols`, matched to the
/// page's headers by name (exactly, then ignoring case); a column the page lacks is NULL.
pub(crate) fn decode_table(
    headers: &[String],
    data: &[J],
    cols: &[Col],
    schema: &SchemaRef,
    context: &str,
) -> Result<RecordBatch, Error> {
    let index: Vec<Option<usize>> = cols
        .iter()
        .map(|c| {
            headers
                .iter()
                .position(|h| *h == c.key)
                .or_else(|| headers.iter().position(|h| h.eq_ignore_ascii_case(&c.key)))
                .or_else(|| {
                    let other = other_spelling(&c.key)?;
                    headers.iter().position(|h| h == other)
                })
        })
        .collect();
    if let Some((col, _)) = cols
        .iter()
        .zip(&index)
        .find(|(c, i)| i.is_none() && c.key == crate::views::CONTACT_ID_HEADER && !data.is_empty())
    {
        return Err(Error::decode(
            context,
            format!(
                "the download has no `{}` column (an older API version?), so `{}` cannot be read; select the other columns",
                col.key, col.name
            ),
        ));
    }
    let mut builders: Vec<Builder> = cols
        .iter()
        .map(|c| Builder::new(c.ty, data.len()))
        .collect();
    for row in data {
        let Some(cells) = row.as_array() else {
            return Err(Error::decode(context, "a list row is not an array"));
        };
        for (b, i) in builders.iter_mut().zip(&index) {
            b.push(i.and_then(|i| cells.get(i)));
        }
    }
    batch(schema, builders, data.len(), context)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::views::{ListEntry, Relation, list_view, static_views};
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Int64Type, TimestampMillisecondType};
    use serde_json::json;

    fn view(name: &str) -> Relation {
        static_views()
            .into_iter()
            .find(|v| v.info.name == name)
            .expect("static view")
    }

    /// Every column of `rel` for each item, as text (NULL as `-`).
    fn objects_as_text(rel: &Relation, items: &[J]) -> Vec<Vec<String>> {
        let schema = rel.info.projected_schema(None).expect("schema");
        let batch = decode_objects(items, &rel.cols, &schema, "test").expect("batch");
        cells(&batch)
    }

    fn cells(batch: &RecordBatch) -> Vec<Vec<String>> {
        (0..batch.num_rows())
            .map(|r| {
                batch
                    .columns()
                    .iter()
                    .map(|c| {
                        if c.is_null(r) {
                            return "-".to_owned();
                        }
                        match c.data_type() {
                            arrow_schema::DataType::Utf8 => {
                                c.as_string::<i32>().value(r).to_owned()
                            }
                            arrow_schema::DataType::Int64 => {
                                c.as_primitive::<Int64Type>().value(r).to_string()
                            }
                            arrow_schema::DataType::Boolean => c.as_boolean().value(r).to_string(),
                            _ => c
                                .as_primitive::<TimestampMillisecondType>()
                                .value(r)
                                .to_string(),
                        }
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn message_items_read_in_both_spellings() {
        let rel = view("Messages");
        // The older developer pages (apis.md §B) and the spec copy (api-updates D4).
        let older = json!({"title": "Monthly Update", "msg_id": "s-0001-2409", "type": "SENT",
            "timestamp": 1_725_641_452_528i64, "time_when": "Fri Sep 6 9:50 AM PDT",
            "sender_name": "Jeffrey", "sender_id": "434330", "is_text_only": "false",
            "sender_email": "j@example.com"});
        let newer = json!({"name": "Monthly Update", "msgId": "s-0001-2409", "msgType": "SENT",
            "timeStamp": "1725641452528", "timeWhen": "Fri Sep 6 9:50 AM PDT",
            "senderName": "Jeffrey", "senderId": "434330", "isTextOnly": "false",
            "senderEmail": "j@example.com"});
        let rows = objects_as_text(&rel, &[older, newer]);
        assert_eq!(rows[0], rows[1]);
        let names: Vec<&str> = rel.cols.iter().map(|c| c.name.as_str()).collect();
        let at = |n: &str| names.iter().position(|c| *c == n).expect("column");
        assert_eq!(rows[1][at("Id")], "s-0001-2409");
        assert_eq!(rows[1][at("Timestamp")], "1725641452528");
        assert_eq!(rows[1][at("TimeWhen")], "Fri Sep 6 9:50 AM PDT");
        assert_eq!(rows[1][at("IsTextOnly")], "false");
    }

    #[test]
    fn message_reports_read_in_both_spellings() {
        let rel = view("Reports");
        let older = json!({"__message_id": "s-1", "status": "ok", "sent": 2, "optOut": 1,
            "spamComplaint": 3, "notSent": 4});
        let newer = json!({"__message_id": "s-1", "status": "ok", "sent": 2, "optout": 1,
            "spam": 3, "notsent": [4, 5]});
        let rows = objects_as_text(&rel, &[older, newer]);
        assert_eq!(rows[0], rows[1]);
    }

    #[test]
    fn reports_by_period_read_opt_outs_in_both_spellings() {
        let rel = view("ReportsByPeriod");
        let older = json!({"__period": "2409", "sent": 5, "optOut": 2, "dayOfMonth": 1});
        let newer = json!({"__period": "2409", "sent": 5, "optedOut": 2, "dayOfMonth": 1});
        let rows = objects_as_text(&rel, &[older, newer]);
        assert_eq!(rows[0], rows[1]);
    }

    #[test]
    fn list_assets_read_the_source_time_in_both_spellings() {
        let rel = view("ContactList");
        let at = rel
            .cols
            .iter()
            .position(|c| c.name == "SourceTimestamp")
            .expect("column");
        let size = rel
            .cols
            .iter()
            .position(|c| c.name == "Size")
            .expect("column");
        let older = json!({"id": "l-0001", "size": 1, "tsSource": 1_724_800_440_000i64});
        let newer =
            json!({"id": "l-0001", "sourceSize": "1", "sourceTS": "Aug 27 2024 4:14 PM PDT"});
        let schema = rel.info.projected_schema(None).expect("schema");
        let batch = decode_objects(&[older, newer], &rel.cols, &schema, "test").expect("batch");
        let ts = batch.column(at).as_primitive::<TimestampMillisecondType>();
        assert_eq!(
            (ts.value(0), ts.value(1)),
            (1_724_800_440_000, 1_724_800_440_000)
        );
        let n = batch.column(size).as_primitive::<Int64Type>();
        assert_eq!((n.value(0), n.value(1)), (1, 1));
    }

    fn customers(headers: &[&str]) -> Relation {
        let entry = ListEntry {
            id: "l-0001".into(),
            name: "Customers".into(),
            folder: None,
            size: None,
            view: "List_Customers".into(),
        };
        let headers: Vec<String> = headers.iter().map(|h| (*h).to_owned()).collect();
        list_view(&entry, &headers, None)
    }

    #[test]
    fn list_downloads_read_both_date_qualifier_spellings() {
        let rel = customers(&["_contact_id_", "E-mail Address"]);
        let schema = rel.info.projected_schema(None).expect("schema");
        let decode = |headers: &[&str], row: J| {
            let headers: Vec<String> = headers.iter().map(|h| (*h).to_owned()).collect();
            let batch = decode_table(&headers, &[row], &rel.cols, &schema, "test").expect("batch");
            cells(&batch)
        };
        let older = decode(
            &[
                "_contact_id_",
                "E-mail Address",
                "__created_date",
                "__modified_date",
            ],
            json!(["l-0001:0", "a@b.example", "1704067200000", "1704153600000"]),
        );
        let newer = decode(
            &[
                "_contact_id_",
                "E-mail Address",
                "created_date",
                "modified_date",
            ],
            json!(["l-0001:0", "a@b.example", "1704067200000", "1704153600000"]),
        );
        assert_eq!(older, newer);
        assert_eq!(
            newer[0],
            ["l-0001:0", "a@b.example", "1704067200000", "1704153600000"]
        );
    }

    #[test]
    fn a_download_without_the_record_id_column_cannot_fill_contact_id() {
        // The older shape has no `_contact_id_`. A row's position is not its record id once
        // records were deleted, so no id is made up; `ContactId` is the (non-null) key, so
        // reading it fails with a message, while the other columns read as before.
        let rel = customers(&["E-mail Address"]);
        let headers = vec!["E-mail Address".to_owned()];
        let rows = [json!(["a@b.example"])];
        let schema = rel.info.projected_schema(None).expect("schema");
        let err = decode_table(
            &headers,
            &rows,
            &rel.cols,
            &schema,
            "reading `List_Customers`",
        )
        .expect_err("no record ids");
        assert_eq!(
            err.to_string(),
            "Act-On reading `List_Customers`: unexpected response: the download has no `_contact_id_` column (an older API version?), so `ContactId` cannot be read; select the other columns"
        );
        let email = ["E-mail Address".to_owned()];
        let schema = rel.info.projected_schema(Some(&email)).expect("schema");
        let cols = rel.project(Some(&email)).expect("cols");
        let batch = decode_table(&headers, &rows, &cols, &schema, "t").expect("batch");
        assert_eq!(cells(&batch)[0], ["a@b.example"]);
    }

    #[test]
    fn the_email_column_is_an_index_or_a_name() {
        let headers: Vec<String> = ["_contact_id_", "Name", "E-mail Address"]
            .iter()
            .map(|h| (*h).to_owned())
            .collect();
        let name = Some("E-mail Address".to_owned());
        assert_eq!(email_column(Some(&json!(2)), &headers), name);
        assert_eq!(email_column(Some(&json!("2")), &headers), name);
        assert_eq!(email_column(Some(&json!("E-mail Address")), &headers), name);
        assert_eq!(email_column(Some(&json!(9)), &headers), None);
        assert_eq!(email_column(Some(&json!("")), &headers), None);
        assert_eq!(email_column(None, &headers), None);
    }

    #[test]
    fn list_sizes_are_numbers_or_strings() {
        assert_eq!(count(Some(&json!(2500))), Some(2500));
        assert_eq!(count(Some(&json!("2500"))), Some(2500));
        assert_eq!(count(Some(&json!("many"))), None);
        assert_eq!(count(None), None);
    }

    #[test]
    fn parses_act_on_time_texts() {
        assert_eq!(parse_datetime_ms("2024-01-01"), Some(1_704_067_200_000));
        assert_eq!(
            parse_datetime_ms("2024-01-01 10:00:05"),
            Some(1_704_067_200_000 + 36_005_000)
        );
        assert_eq!(
            time_ms(&J::String("1704067200000".into())),
            Some(1_704_067_200_000)
        );
        assert_eq!(parse_datetime_ms("yesterday"), None);
        assert_eq!(parse_datetime_ms("2024-13-01"), None);
    }

    #[test]
    fn cells_convert_leniently() {
        assert_eq!(text(&J::String(String::new())), None);
        assert_eq!(
            text(&serde_json::json!(["l-0001", "l-0002"])),
            Some("l-0001,l-0002".into())
        );
        assert_eq!(boolean(&J::String("false".into())), Some(false));
        assert_eq!(int(&J::String(" 42 ".into())), Some(42));
        assert_eq!(int(&serde_json::json!(3.0)), Some(3));
    }
}
