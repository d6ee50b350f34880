//! `EXEC` / `EXECUTE`: the one parser of the statement. The procedures it runs are a
//! connection's [`source_core::procedure::Procedures`], registered with
//! [`crate::Session::register_procedures`].
//!
//! Grammar (CData): `{EXEC | EXECUTE} name [@]input = value [, ...]`, where a value is a
//! string literal, a number, `TRUE`/`FALSE`, `NULL` or a `?` parameter. Input names are
//! matched ignoring case.

use source_core::Value;

use crate::Error;
use crate::lex::{Kind, Token, tokenize};

/// A parsed `EXEC` statement with its parameters bound.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ExecCall {
    /// The procedure name parts as written (`[schema.]name`).
    pub(crate) name: Vec<String>,
    /// `(input, value)` in order, without `@`.
    pub(crate) args: Vec<(String, Value)>,
}

/// Parses `EXEC name a = 1, @b = 'x', c = ?` and binds `?` to `params` in order.
pub(crate) fn parse(sql: &str, params: &[Value]) -> Result<ExecCall, Error> {
    let tokens = tokenize(sql)?;
    let mut it = tokens.iter().peekable();
    let syntax = |t: Option<&Token>, what: &str| match t {
        Some(t) => Error::Syntax(format!(
            "EXEC: expected {what} at byte {} (`{}`)",
            t.start,
            &sql[t.start..t.end]
        )),
        None => Error::Syntax(format!("EXEC: expected {what} at the end of the statement")),
    };
    match it.next().map(|t| &t.kind) {
        Some(Kind::Word(w))
            if w.eq_ignore_ascii_case("exec") || w.eq_ignore_ascii_case("execute") => {}
        _ => return Err(Error::Syntax("expected EXEC or EXECUTE".into())),
    }
    let mut name = Vec::new();
    loop {
        match it.next() {
            Some(Token {
                kind: Kind::Word(w) | Kind::Quoted(w),
                ..
            }) => name.push(w.clone()),
            other => return Err(syntax(other, "a procedure name")),
        }
        if it.peek().map(|t| &t.kind) == Some(&Kind::Punct('.')) {
            it.next();
        } else {
            break;
        }
    }
    let mut args = Vec::new();
    let mut next_param = 0;
    while let Some(t) = it.next() {
        if t.kind == Kind::Punct(';') {
            if let Some(extra) = it.next() {
                return Err(syntax(Some(extra), "nothing after `;`"));
            }
            break;
        }
        let t = if args.is_empty() {
            t
        } else if t.kind == Kind::Punct(',') {
            match it.next() {
                Some(t) => t,
                None => return Err(syntax(None, "an input name")),
            }
        } else {
            return Err(syntax(Some(t), "`,` between inputs"));
        };
        let input = match &t.kind {
            Kind::Word(w) | Kind::Quoted(w) => w.trim_start_matches('@').to_owned(),
            _ => return Err(syntax(Some(t), "an input name")),
        };
        if input.is_empty() {
            return Err(syntax(Some(t), "an input name"));
        }
        match it.next() {
            Some(Token {
                kind: Kind::Punct('='),
                ..
            }) => {}
            other => return Err(syntax(other, &format!("`=` after {input}"))),
        }
        let negative = it.peek().map(|t| &t.kind) == Some(&Kind::Punct('-'));
        if negative {
            it.next();
        }
        let v = it.next();
        let value = match v.map(|t| &t.kind) {
            Some(Kind::Str(s)) if !negative => Value::Str(s.clone()),
            Some(Kind::Number(n)) => {
                let text = if negative { format!("-{n}") } else { n.clone() };
                match text.parse::<i64>() {
                    Ok(i) => Value::Int(i),
                    Err(_) => Value::Float(text.parse::<f64>().map_err(|_| syntax(v, "a number"))?),
                }
            }
            Some(Kind::Word(w)) if !negative && w.eq_ignore_ascii_case("null") => Value::Null,
            Some(Kind::Word(w)) if !negative && w.eq_ignore_ascii_case("true") => Value::Bool(true),
            Some(Kind::Word(w)) if !negative && w.eq_ignore_ascii_case("false") => {
                Value::Bool(false)
            }
            Some(Kind::Param) if !negative => {
                let value =
                    params
                        .get(next_param)
                        .cloned()
                        .ok_or_else(|| Error::ParameterCount {
                            expected: next_param + 1,
                            given: params.len(),
                        })?;
                next_param += 1;
                value
            }
            _ => {
                return Err(syntax(
                    v,
                    "a value ('text', a number, TRUE, FALSE, NULL or ?)",
                ));
            }
        };
        args.push((input, value));
    }
    if next_param != params.len() {
        return Err(Error::ParameterCount {
            expected: next_param,
            given: params.len(),
        });
    }
    Ok(ExecCall { name, args })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cdata_exec_forms() {
        let call = parse(
            "EXECUTE [hubdb].PublishTable @TableId = '42', Force=TRUE, n = -3, x = ?;",
            &[Value::Float(1.5)],
        )
        .unwrap();
        assert_eq!(call.name, vec!["hubdb", "PublishTable"]);
        assert_eq!(
            call.args,
            vec![
                ("TableId".into(), Value::Str("42".into())),
                ("Force".into(), Value::Bool(true)),
                ("n".into(), Value::Int(-3)),
                ("x".into(), Value::Float(1.5)),
            ]
        );
        assert_eq!(parse("exec Foo", &[]).unwrap().args, vec![]);
    }

    #[test]
    fn bad_exec_statements_say_what_was_expected() {
        let e = parse("EXEC Foo a 1", &[]).unwrap_err().to_string();
        assert!(e.contains("`=` after a"), "{e}");
        let e = parse("EXEC Foo a = 1 b = 2", &[]).unwrap_err().to_string();
        assert!(e.contains("`,` between inputs"), "{e}");
        let e = parse("EXEC Foo a = ?", &[]).unwrap_err().to_string();
        assert!(e.contains("1 `?` parameter"), "{e}");
        let e = parse("EXEC Foo a = 1", &[Value::Int(1)])
            .unwrap_err()
            .to_string();
        assert!(e.contains("0 `?` parameter"), "{e}");
        assert!(parse("EXEC", &[]).is_err());
    }
}
