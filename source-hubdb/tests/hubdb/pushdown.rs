//! Every operator against the emulator: the rows HubDB returns for a pushed filter are
//! compared with SQL semantics evaluated here on a full scan. Exact must match exactly,
//! Loose must return a superset; the request log shows what was sent.

use std::collections::BTreeSet;

use source_core::{DataSource, Filter, FilterSupport, Op, ScanRequest, SortKey, Value};

use crate::common::{self, builder, column, ids, read, source};

const DAY: i32 = 19_800; // 2024-03-18
const TS: i64 = 1_711_000_000_000; // 2024-03-21T05:46:40Z

fn num(v: &Value) -> Option<f64> {
    match v {
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        Value::Date(d) => Some(f64::from(*d)),
        Value::TimestampMs(t) => Some(*t as f64),
        _ => None,
    }
}

fn cmp(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Value::Str(x), Value::Str(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        _ => num(a)?.partial_cmp(&num(b)?),
    }
}

fn like(s: &str, p: &str) -> bool {
    fn go(s: &[char], p: &[char]) -> bool {
        match p.split_first() {
            None => s.is_empty(),
            Some(('%', rest)) => (0..=s.len()).any(|i| go(&s[i..], rest)),
            Some(('_', rest)) => !s.is_empty() && go(&s[1..], rest),
            Some((c, rest)) => s.first() == Some(c) && go(&s[1..], rest),
        }
    }
    go(
        &s.chars().collect::<Vec<_>>(),
        &p.chars().collect::<Vec<_>>(),
    )
}

/// SQL semantics of `cell op value` (NULL never matches but for IS NULL).
fn sql(cell: &Value, op: Op, value: &Value) -> bool {
    use std::cmp::Ordering::*;
    match op {
        Op::IsNull => return *cell == Value::Null,
        Op::IsNotNull => return *cell != Value::Null,
        _ if *cell == Value::Null => return false,
        _ => {}
    }
    let text = |v: &Value| match v {
        Value::Str(s) => s.clone(),
        _ => String::new(),
    };
    match op {
        Op::Eq => cmp(cell, value) == Some(Equal),
        Op::Ne => cmp(cell, value).is_some_and(|o| o != Equal),
        Op::Lt => cmp(cell, value) == Some(Less),
        Op::Le => matches!(cmp(cell, value), Some(Less | Equal)),
        Op::Gt => cmp(cell, value) == Some(Greater),
        Op::Ge => matches!(cmp(cell, value), Some(Greater | Equal)),
        Op::In => match value {
            Value::List(items) => items.iter().any(|v| cmp(cell, v) == Some(Equal)),
            _ => false,
        },
        Op::Like => like(&text(cell), &text(value)),
        Op::NotLike => !like(&text(cell), &text(value)),
        Op::Contains => match cell {
            Value::List(items) => items.contains(value),
            Value::Str(s) => s.contains(&text(value)),
            _ => false,
        },
        Op::IContains => text(cell)
            .to_lowercase()
            .contains(&text(value).to_lowercase()),
        Op::StartsWith => text(cell).starts_with(&text(value)),
        _ => false,
    }
}

fn f(column: &str, op: Op, value: impl Into<Value>) -> Filter {
    Filter::new(column, op, value)
}

fn cases() -> Vec<(Filter, FilterSupport, &'static str)> {
    use FilterSupport::{Exact, Loose};
    let s = |x: &str| Value::Str(x.into());
    vec![
        (f("city", Op::Eq, "Berlin"), Exact, "city__eq"),
        (f("city", Op::Ne, "Berlin"), Exact, "city__ne"),
        (f("city", Op::Lt, "Dublin"), Exact, "city__lt"),
        (f("city", Op::Le, "Dublin"), Exact, "city__lte"),
        (f("city", Op::Gt, "Paris"), Exact, "city__gt"),
        (f("city", Op::Ge, "Paris"), Exact, "city__gte"),
        (f("city", Op::Eq, "berlin"), Exact, "city__eq"),
        (
            Filter::in_list("city", vec![s("Berlin"), s("Tokyo")]),
            Exact,
            "city__in",
        ),
        (f("title", Op::Like, "Rust%"), Exact, "title__like"),
        (f("title", Op::Like, "%Meetup #1_"), Exact, "title__like"),
        (
            f("title", Op::NotLike, "%Summit%"),
            Exact,
            "title__not_like",
        ),
        (f("title", Op::Contains, "Data"), Exact, "title__contains"),
        (
            f("title", Op::StartsWith, "SEO"),
            Exact,
            "title__startswith",
        ),
        (f("title", Op::IContains, "rust"), Loose, "title__icontains"),
        (
            Filter::is_null("description"),
            Exact,
            "description__is_null",
        ),
        (
            Filter::is_not_null("description"),
            Exact,
            "description__not_null",
        ),
        (
            f("description", Op::Contains, "Tokyo"),
            Exact,
            "description__contains",
        ),
        (Filter::is_null("website"), Exact, "website__is_null"),
        (
            f(
                "website",
                Op::StartsWith,
                "https://events.example.com/event-1",
            ),
            Exact,
            "website__startswith",
        ),
        (f("attendees", Op::Gt, 250i64), Exact, "attendees__gt"),
        (f("attendees", Op::Eq, 100i64), Exact, "attendees__eq"),
        (f("attendees", Op::Ne, 100i64), Exact, "attendees__ne"),
        (f("attendees", Op::Le, 10.5), Exact, "attendees__lte"),
        (
            Filter::in_list(
                "attendees",
                vec![Value::Int(1), Value::Int(2), Value::Int(100)],
            ),
            Exact,
            "attendees__in",
        ),
        (Filter::is_null("attendees"), Exact, "attendees__is_null"),
        (f("ticket_price", Op::Le, 10.5), Exact, "ticket_price__lte"),
        (f("ticket_price", Op::Ge, 199.5), Exact, "ticket_price__gte"),
        (f("is_online", Op::Eq, true), Exact, "is_online__eq"),
        (f("is_online", Op::Ne, true), Exact, "is_online__ne"),
        (
            f("event_date", Op::Eq, Value::Date(DAY)),
            Exact,
            "event_date__eq",
        ),
        (
            f("event_date", Op::Lt, Value::Date(DAY)),
            Exact,
            "event_date__lt",
        ),
        (
            f("event_date", Op::Ge, Value::Date(DAY)),
            Exact,
            "event_date__gte",
        ),
        (
            f("starts_at", Op::Gt, Value::TimestampMs(TS)),
            Exact,
            "starts_at__gt",
        ),
        (
            f("starts_at", Op::Le, Value::TimestampMs(TS)),
            Exact,
            "starts_at__lte",
        ),
        (Filter::is_null("starts_at"), Exact, "starts_at__is_null"),
        (f("category", Op::Eq, "meetup"), Loose, "category__eq"),
        (f("category", Op::Eq, "MEETUP"), Loose, "category__eq"),
        (
            Filter::in_list("category", vec![s("meetup"), s("party")]),
            Loose,
            "category__in",
        ),
        (f("tags", Op::Contains, "rust"), Loose, "tags__contains"),
        (f("tags", Op::Contains, "RUST"), Loose, "tags__contains"),
        (Filter::is_null("tags"), Exact, "tags__is_null"),
        (Filter::is_not_null("tags"), Exact, "tags__not_null"),
        (
            f("organizer", Op::Contains, "5000000003"),
            Exact,
            "organizer__contains",
        ),
        (Filter::is_null("organizer"), Exact, "organizer__is_null"),
        (Filter::is_null("banner"), Exact, "banner__is_null"),
        (Filter::is_not_null("venue"), Exact, "venue__not_null"),
        (Filter::is_null("metadata"), Exact, "metadata__is_null"),
        (
            Filter::is_not_null("promo_video"),
            Exact,
            "promo_video__not_null",
        ),
        (
            f("promo_video", Op::Gt, 50_000_000i64),
            Exact,
            "promo_video__gt",
        ),
        (f("Id", Op::Lt, 4_000_000_050i64), Exact, "hs_id__lt"),
        (
            Filter::in_list(
                "Id",
                vec![Value::Int(4_000_000_003), Value::Int(4_000_000_007)],
            ),
            Exact,
            "hs_id__in",
        ),
        (
            f(
                "CreatedAt",
                Op::Ge,
                Value::TimestampMs(1_704_067_200_000 + 60_000 * 2000),
            ),
            Exact,
            "hs_created_at__gte",
        ),
        // The sync cursor: `>` exclusive, `>=` inclusive, milliseconds.
        (
            f(
                "UpdatedAt",
                Op::Gt,
                Value::TimestampMs(1_704_067_200_000 + 15 * 86_400_000),
            ),
            Exact,
            "hs_updated_at__gt",
        ),
        (
            f(
                "UpdatedAt",
                Op::Ge,
                Value::TimestampMs(1_704_067_200_000 + 20 * 86_400_000),
            ),
            Exact,
            "hs_updated_at__gte",
        ),
        (f("PagePath", Op::Eq, "event-5"), Exact, "hs_path__eq"),
        (
            f("PageName", Op::StartsWith, "Event 1"),
            Exact,
            "hs_name__startswith",
        ),
        (f("PageName", Op::Like, "Event _"), Exact, "hs_name__like"),
    ]
}

#[tokio::test]
async fn every_operator_matches_sql_semantics() {
    let emu = builder().start().await.unwrap();
    let s = source(&emu, "");
    let table = s.table("events").await.unwrap();
    let all = read(&s, "events", ScanRequest::all()).await;
    let all_ids = ids(&all);
    assert_eq!(all_ids.len(), 2500);
    for (filter, expected_support, param) in cases() {
        let support = s.filter_support(&table, &filter);
        assert_eq!(support, expected_support, "support of {filter}");
        let values = column(&all, &filter.column);
        let expected: BTreeSet<i64> = all_ids
            .iter()
            .zip(&values)
            .filter(|(_, v)| sql(v, filter.op, &filter.value))
            .map(|(id, _)| *id)
            .collect();
        emu.hubspot().clear_requests();
        let got = read(
            &s,
            "events",
            ScanRequest::all()
                .project(["Id", filter.column.as_str()])
                .filter(filter.clone()),
        )
        .await;
        let got: BTreeSet<i64> = ids(&got).into_iter().collect();
        match support {
            FilterSupport::Exact => {
                assert_eq!(got, expected, "{filter}: pushed result differs from SQL")
            }
            _ => assert!(
                got.is_superset(&expected),
                "{filter}: loose result dropped rows"
            ),
        }
        let log = emu.hubspot().requests_to(&common::tables_prefix());
        assert!(
            log.iter()
                .any(|r| r.query_pairs().iter().any(|(k, _)| k == param)),
            "{filter}: no {param} in {:?}",
            log.iter().map(|r| r.query.clone()).collect::<Vec<_>>()
        );
    }
    // The loose ones really are loose: HubDB matched where SQL would not.
    let upper = read(
        &s,
        "events",
        ScanRequest::all().filter(f("category", Op::Eq, "MEETUP")),
    )
    .await;
    assert!(!ids(&upper).is_empty());
    emu.shutdown().await;
}

#[tokio::test]
async fn unsupported_filters_are_refused_not_guessed() {
    let emu = builder().start().await.unwrap();
    let s = source(&emu, "");
    let t = s.table("events").await.unwrap();
    let draft = s.table("events_Draft").await.unwrap();
    for filter in [
        f("category", Op::Ne, "meetup"),
        f("tags", Op::Eq, "rust"),
        f("tags", Op::Contains, "rust,data"),
        f("PublishedAt", Op::Gt, Value::TimestampMs(0)),
        f("title", Op::Like, "a\\%"),
        Filter::in_list("city", vec![Value::Str("a,b".into())]),
        Filter::in_list("city", vec![Value::Str(" Berlin".into())]),
        f("attendees", Op::Eq, "100"),
        f("banner", Op::Eq, "x"),
        f("is_online", Op::Lt, true),
        f("no_such_column", Op::Eq, 1i64),
    ] {
        assert_eq!(
            s.filter_support(&t, &filter),
            FilterSupport::Unsupported,
            "{filter}"
        );
        assert_eq!(
            s.filter_support(&draft, &filter),
            FilterSupport::Unsupported,
            "{filter}"
        );
    }
    let err = s
        .scan(
            "events",
            ScanRequest::all().filter(f("category", Op::Ne, "x")),
        )
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("cannot be applied by the source on `events`"),
        "{err}"
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn projection_id_lookup_sort_and_limit_are_pushed() {
    let emu = builder().start().await.unwrap();
    let s = source(&emu, "");
    let hs = emu.hubspot();
    s.table("events").await.unwrap();

    hs.clear_requests();
    let got = read(
        &s,
        "events",
        ScanRequest::all().project(["Id", "title"]).limit(5),
    )
    .await;
    assert_eq!(crate::common::rows(&got), 5);
    assert_eq!(got[0].num_columns(), 2);
    let log = hs.requests_to(&common::tables_prefix());
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].param("properties").as_deref(), Some("title"));
    assert_eq!(log[0].param("limit").as_deref(), Some("5"));

    hs.clear_requests();
    let got = read(
        &s,
        "events_Draft",
        ScanRequest::all().filter(f("Id", Op::Eq, 4_000_000_010i64)),
    )
    .await;
    assert_eq!(ids(&got), vec![4_000_000_010]);
    let log = hs.requests_to(&common::tables_prefix());
    assert_eq!(log.len(), 1);
    assert!(
        log[0].path.ends_with("/rows/4000000010/draft"),
        "{}",
        log[0].path
    );
    let none = read(
        &s,
        "events",
        ScanRequest::all().filter(f("Id", Op::Eq, 1i64)),
    )
    .await;
    assert!(none.is_empty());

    let t = s.table("events").await.unwrap();
    let order = [SortKey::desc("attendees"), SortKey::asc("Id")];
    assert!(s.sort_support(&t, &order));
    assert!(!s.sort_support(&t, &[SortKey::asc("category")]));
    assert!(!s.sort_support(
        &t,
        &[SortKey {
            column: "attendees".into(),
            descending: false,
            nulls_first: true
        }]
    ));
    hs.clear_requests();
    let mut req = ScanRequest::all().project(["Id", "attendees"]).limit(200);
    req.order_by = order.to_vec();
    let got = read(&s, "events", req).await;
    let log = hs.requests_to(&common::tables_prefix());
    assert_eq!(
        log[0].params("sort"),
        vec!["-attendees".to_string(), "hs_id".to_string()]
    );
    let att = column(&got, "attendees");
    assert_eq!(att.len(), 200);
    // DESC puts NULLs first, then the largest values.
    let first_value = att.iter().position(|v| *v != Value::Null).unwrap();
    assert!(
        att[first_value..]
            .windows(2)
            .all(|w| cmp(&w[0], &w[1]) != Some(std::cmp::Ordering::Less))
    );
    emu.shutdown().await;
}
