//! Every vector of the dotnet/runtime connection-string test set (`tests/data/vectors.jsonl`).

use std::collections::BTreeMap;

use connstr::ConnectionString;

#[test]
fn every_vector_parses_as_dotnet_does() {
    let text = include_str!("data/vectors.jsonl");
    let mut checked = 0;
    let mut failures = Vec::new();
    for (line_no, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let vector: serde_json::Value = serde_json::from_str(line).expect("vector is JSON");
        if vector
            .get("mode")
            .and_then(|m| m.as_str())
            .unwrap_or("default")
            != "default"
        {
            continue;
        }
        let input = vector["input"].as_str().expect("input is a string");
        let result = ConnectionString::parse(input);
        let expect_error = vector
            .get("error")
            .and_then(|e| e.as_bool())
            .unwrap_or(false);
        match (expect_error, result) {
            (true, Ok(map)) => failures.push(format!(
                "line {}: {input:?} should be a syntax error, parsed as {:?}",
                line_no + 1,
                map.iter().collect::<Vec<_>>()
            )),
            (true, Err(_)) => {}
            (false, Err(e)) => failures.push(format!("line {}: {input:?}: {e}", line_no + 1)),
            (false, Ok(map)) => {
                let got: BTreeMap<String, String> = map
                    .iter()
                    .map(|(k, v)| (k.to_lowercase(), v.to_owned()))
                    .collect();
                let want: BTreeMap<String, String> = vector["expect"]
                    .as_object()
                    .expect("expect is an object")
                    .iter()
                    .map(|(k, v)| (k.clone(), v.as_str().expect("string value").to_owned()))
                    .collect();
                if got != want {
                    failures.push(format!(
                        "line {}: {input:?}: got {got:?}, want {want:?}",
                        line_no + 1
                    ));
                }
                if let Some(normalized) = vector.get("normalized").and_then(|n| n.as_str()) {
                    // .NET's own serialisation must parse back to the same map.
                    let again = ConnectionString::parse(normalized).expect("normalized parses");
                    let again: BTreeMap<String, String> = again
                        .iter()
                        .map(|(k, v)| (k.to_lowercase(), v.to_owned()))
                        .collect();
                    let lossy = want.values().any(String::is_empty);
                    if again != want && !lossy {
                        failures.push(format!(
                            "line {}: normalized {normalized:?} differs",
                            line_no + 1
                        ));
                    }
                }
            }
        }
        checked += 1;
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} vectors failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(checked >= 50, "only {checked} vectors read");
}
