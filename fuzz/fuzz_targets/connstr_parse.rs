//! Fuzzes the connection-string parser: it never panics, errors render, and whatever parses
//! survives a serialise/parse round trip.
#![no_main]

use connstr::ConnectionString;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    match ConnectionString::parse(input) {
        Ok(map) => {
            let text = map.to_connection_string();
            let again = ConnectionString::parse(&text).expect("serialised form parses");
            assert_eq!(again, map, "round trip of {input:?} via {text:?}");
            let _ = map.to_string();
        }
        Err(e) => {
            assert!(e.offset() <= input.len());
            let _ = e.to_string();
        }
    }
});
