//! Entry points for the `exec_statement` fuzz target in `fuzz/` (`cargo xtask fuzz`,
//! `docs/fuzzing.md`). Not part of the API: hidden, unstable, and only here so the target can
//! reach the `EXEC` parser and the lexer, which are private to this crate and pure text
//! processing (no DataFusion involved).
//!
//! The unit tests below run [`check_exec_statement`] over the seed corpus checked in under
//! `fuzz/corpus/exec_statement/`.

use source_core::Value;

use crate::Error;
use crate::lex::{self, Kind};

/// A parsed `EXEC` call: the procedure name parts and the `(input, value)` pairs.
pub type Call = (Vec<String>, Vec<(String, Value)>);

/// Parses an `EXEC` statement, binding `?` to `params`.
pub fn exec_statement(sql: &str, params: &[Value]) -> Result<Call, Error> {
    crate::exec::parse(sql, params).map(|call| (call.name, call.args))
}

/// `data` (when UTF-8) as an `EXEC` statement with as many parameters as it has `?` tokens:
///
/// - the lexer, the `?`/`[name]` rewrite and the parser never panic, and errors render;
/// - the rewrite counts the same `?` as the lexer;
/// - a parsed call has a name and non-empty input names without `@`, and survives being
///   written back as SQL (quoted names, literal values) and parsed again.
pub fn check_exec_statement(data: &[u8]) {
    let Ok(sql) = std::str::from_utf8(data) else {
        return;
    };
    let markers = match lex::tokenize(sql) {
        Ok(tokens) => tokens.iter().filter(|t| t.kind == Kind::Param).count(),
        Err(e) => {
            let _ = e.to_string();
            0
        }
    };
    match lex::rewrite(sql) {
        Ok((_, count)) => assert_eq!(count, markers, "rewrite and lexer disagree on `?`"),
        Err(e) => {
            let _ = e.to_string();
        }
    }
    // Distinct values of each kind a `?` can carry, so a mix-up of the order shows.
    let params: Vec<Value> = (0..markers)
        .map(|i| match i % 3 {
            0 => Value::Int(i as i64),
            1 => Value::Str(format!("p'{i}")),
            _ => Value::Float(i as f64 + 0.5),
        })
        .collect();
    let (name, args) = match exec_statement(sql, &params) {
        Ok(call) => call,
        Err(e) => {
            let _ = e.to_string();
            return;
        }
    };
    assert!(!name.is_empty(), "a call without a name");
    for (input, _) in &args {
        assert!(
            !input.is_empty() && !input.starts_with('@'),
            "input {input:?}"
        );
    }
    let Some(text) = to_sql(&name, &args) else {
        return;
    };
    match exec_statement(&text, &[]) {
        Ok(again) => assert_eq!(again, (name, args), "{sql:?} written back as {text:?}"),
        Err(e) => panic!("{sql:?} written back as {text:?} does not parse: {e}"),
    }
}

/// The call written back as an `EXEC` statement; `None` for a value no literal spells
/// (an infinite or NaN float).
fn to_sql(name: &[String], args: &[(String, Value)]) -> Option<String> {
    let quote = |s: &str, q: char| format!("{q}{}{q}", s.replace(q, &format!("{q}{q}")));
    let mut out = String::from("EXEC ");
    out.push_str(
        &name
            .iter()
            .map(|part| quote(part, '"'))
            .collect::<Vec<_>>()
            .join("."),
    );
    for (i, (input, value)) in args.iter().enumerate() {
        out.push_str(if i == 0 { " " } else { ", " });
        out.push_str(&quote(input, '"'));
        out.push_str(" = ");
        out.push_str(&match value {
            Value::Null => "NULL".to_owned(),
            Value::Bool(b) => (if *b { "TRUE" } else { "FALSE" }).to_owned(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) if f.is_finite() => format!("{f:?}"),
            Value::Str(s) => quote(s, '\''),
            _ => return None,
        });
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_statement_seeds_hold() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/exec_statement");
        let mut inputs: Vec<Vec<u8>> = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| std::fs::read(e.path()).unwrap())
            .collect();
        inputs.extend(
            [
                "EXECUTE [hubdb].PublishTable @TableId = '42', Force=TRUE, n = -3, x = ?;",
                "EXEC \"a\"\"b\" c = 1e999",
                "EXEC p a = -9223372036854775808, b = 'it''s', c = NULL, d = ?, e = ?",
                "EXEC [",
                "exec x y = 1.5e3",
            ]
            .map(|s| s.as_bytes().to_vec()),
        );
        for input in inputs {
            check_exec_statement(&input);
        }
    }
}
