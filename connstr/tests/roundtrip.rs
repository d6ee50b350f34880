//! `parse(serialise(m)) == m` for arbitrary maps.

use connstr::ConnectionString;
use proptest::prelude::*;

fn key() -> impl Strategy<Value = String> {
    // Keys cannot start with whitespace or ';' and cannot hold control characters; anything else
    // (unicode, quotes, '=', ';' inside) is fair game. Trailing whitespace is trimmed by the
    // grammar, so it is excluded too.
    "[^\\s;\\p{Cc}][^\\p{Cc}]{0,12}".prop_filter("no trailing whitespace", |k| {
        !k.ends_with(char::is_whitespace)
    })
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[^\\p{Cc}]{0,16}",
        Just(String::new()),
        "[ '\";=a-zé漢]{0,10}",
        " [a-z]{1,4} ",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn parse_of_serialise_is_identity(pairs in proptest::collection::vec((key(), value()), 0..8)) {
        let mut map = ConnectionString::new();
        for (k, v) in &pairs {
            map.set(k.clone(), v.clone());
        }
        let text = map.to_connection_string();
        let back = ConnectionString::parse(&text)
            .map_err(|e| TestCaseError::fail(format!("{text:?}: {e}")))?;
        prop_assert_eq!(back, map, "serialised as {:?}", text);
    }

    #[test]
    fn parser_never_panics(input in "\\PC{0,40}|[=;'\" a\\x00\\r]{0,20}") {
        let _ = ConnectionString::parse(&input);
    }
}
