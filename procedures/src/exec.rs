//! The `EXEC` grammar: `{EXEC | EXECUTE} name [@]input = value [, ...]`.
//!
//! Values are string literals (`''` inside is one quote), numbers, `NULL`, `TRUE`/`FALSE`, or
//! parameters bound by the caller: `?` (positional, in order) or `@name` (named). Input names
//! are case-insensitive and may come in any order; the procedure name may be written
//! `[Name]` or `"Name"`.
//!
//! ```
//! use procedures::exec::{parse, Literal};
//! let call = parse("EXEC GetOAuthAccessToken AuthMode = 'WEB', @Verifier='it''s'")?;
//! assert_eq!(call.procedure, "GetOAuthAccessToken");
//! assert_eq!(call.inputs[1].name, "Verifier");
//! assert_eq!(call.inputs[1].value, Literal::Text("it's".into()));
//! # Ok::<(), procedures::Error>(())
//! ```

use crate::Error;

/// A value as written in the statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// `'text'`.
    Text(String),
    /// A number, kept as written.
    Number(String),
    /// `TRUE` / `FALSE`.
    Bool(bool),
    /// `NULL`.
    Null,
    /// `?`, the n-th (0-based) positional parameter.
    Positional(usize),
    /// `@name`, a named parameter.
    Named(String),
}

/// One `input = value` pair.
#[derive(Debug, Clone, PartialEq)]
pub struct Input {
    /// The input name as written, without `@`.
    pub name: String,
    /// Its value.
    pub value: Literal,
}

/// A parsed `EXEC` statement.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecCall {
    /// The procedure name as written (unquoted).
    pub procedure: String,
    /// The inputs in order.
    pub inputs: Vec<Input>,
}

/// A bound value: what a procedure receives.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Text.
    Text(String),
    /// A number as text.
    Number(String),
    /// A boolean.
    Bool(bool),
    /// SQL NULL.
    Null,
}

impl Value {
    /// The value as text (`None` for NULL).
    pub fn as_text(&self) -> Option<String> {
        match self {
            Self::Text(s) | Self::Number(s) => Some(s.clone()),
            Self::Bool(b) => Some(b.to_string()),
            Self::Null => None,
        }
    }
}

/// Whether a statement is an `EXEC`/`EXECUTE` (so callers can route it).
///
/// ```
/// assert!(procedures::exec::is_exec("  execute Foo"));
/// assert!(!procedures::exec::is_exec("SELECT 1"));
/// ```
pub fn is_exec(sql: &str) -> bool {
    let head: String = sql
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect();
    head.eq_ignore_ascii_case("exec") || head.eq_ignore_ascii_case("execute")
}

struct Lexer<'a> {
    text: &'a str,
    pos: usize,
    positional: usize,
}

impl<'a> Lexer<'a> {
    fn err(&self, message: impl Into<String>) -> Error {
        Error::ExecSyntax {
            offset: self.pos,
            message: message.into(),
        }
    }

    fn skip_ws(&mut self) {
        while let Some(c) = self.peek() {
            if c.is_whitespace() {
                self.pos += c.len_utf8();
            } else {
                break;
            }
        }
    }

    fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn word(&mut self) -> String {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if c.is_alphanumeric() || c == '_' || c == '.' {
                self.pos += c.len_utf8();
            } else {
                break;
            }
        }
        self.text[start..self.pos].to_owned()
    }

    /// A name: bare, `[bracketed]` or `"quoted"`.
    fn name(&mut self, what: &str) -> Result<String, Error> {
        self.skip_ws();
        match self.peek() {
            Some('[') => self.delimited('[', ']'),
            Some('"') => self.delimited('"', '"'),
            Some(c) if c.is_alphabetic() || c == '_' => Ok(self.word()),
            _ => Err(self.err(format!("expected {what}"))),
        }
    }

    fn delimited(&mut self, open: char, close: char) -> Result<String, Error> {
        let start = self.pos;
        self.bump();
        let mut out = String::new();
        loop {
            match self.bump() {
                Some(c) if c == close => {
                    if self.peek() == Some(close) && open == close {
                        self.bump();
                        out.push(close);
                    } else {
                        return Ok(out);
                    }
                }
                Some(c) => out.push(c),
                None => {
                    self.pos = start;
                    return Err(self.err(format!("no closing {close}")));
                }
            }
        }
    }

    fn value(&mut self) -> Result<Literal, Error> {
        self.skip_ws();
        match self.peek() {
            Some('\'') => {
                let start = self.pos;
                self.bump();
                let mut out = String::new();
                loop {
                    match self.bump() {
                        Some('\'') if self.peek() == Some('\'') => {
                            self.bump();
                            out.push('\'');
                        }
                        Some('\'') => return Ok(Literal::Text(out)),
                        Some(c) => out.push(c),
                        None => {
                            self.pos = start;
                            return Err(self.err("a string literal with no closing quote"));
                        }
                    }
                }
            }
            Some('?') => {
                self.bump();
                self.positional += 1;
                Ok(Literal::Positional(self.positional - 1))
            }
            Some('@') => {
                self.bump();
                let name = self.word();
                if name.is_empty() {
                    return Err(self.err("expected a parameter name after @"));
                }
                Ok(Literal::Named(name))
            }
            Some(c) if c.is_ascii_digit() || c == '-' || c == '+' || c == '.' => {
                let start = self.pos;
                self.bump();
                while let Some(c) = self.peek() {
                    if c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '-' | '+') {
                        self.bump();
                    } else {
                        break;
                    }
                }
                let text = &self.text[start..self.pos];
                if text.parse::<f64>().is_err() {
                    self.pos = start;
                    return Err(self.err(format!("{text:?} is not a number")));
                }
                Ok(Literal::Number(text.to_owned()))
            }
            Some(c) if c.is_alphabetic() => {
                let start = self.pos;
                let word = self.word();
                match word.to_ascii_uppercase().as_str() {
                    "NULL" => Ok(Literal::Null),
                    "TRUE" => Ok(Literal::Bool(true)),
                    "FALSE" => Ok(Literal::Bool(false)),
                    _ => {
                        self.pos = start;
                        Err(self.err(format!("{word} is not a value: quote text as '{word}'")))
                    }
                }
            }
            _ => {
                Err(self.err("expected a value: 'text', a number, NULL, TRUE, FALSE, ? or @param"))
            }
        }
    }
}

/// Parses an `EXEC` statement (a trailing `;` is allowed).
pub fn parse(sql: &str) -> Result<ExecCall, Error> {
    let mut lx = Lexer {
        text: sql,
        pos: 0,
        positional: 0,
    };
    lx.skip_ws();
    let keyword = lx.word();
    if !keyword.eq_ignore_ascii_case("exec") && !keyword.eq_ignore_ascii_case("execute") {
        lx.pos = 0;
        return Err(lx.err("expected EXEC or EXECUTE"));
    }
    let procedure = lx.name("a procedure name")?;
    let mut inputs = Vec::new();
    loop {
        lx.skip_ws();
        match lx.peek() {
            None => break,
            Some(';') => {
                lx.bump();
                lx.skip_ws();
                if lx.peek().is_some() {
                    return Err(lx.err("text after ';'"));
                }
                break;
            }
            Some(',') if !inputs.is_empty() => {
                lx.bump();
            }
            _ if inputs.is_empty() => {}
            _ => return Err(lx.err("expected ',' between inputs")),
        }
        lx.skip_ws();
        if lx.peek() == Some('@') {
            lx.bump();
        }
        let name = lx.name("an input name")?;
        lx.skip_ws();
        if lx.bump() != Some('=') {
            return Err(lx.err(format!("expected '=' after {name}")));
        }
        let value = lx.value()?;
        inputs.push(Input { name, value });
    }
    Ok(ExecCall { procedure, inputs })
}

/// Quotes text as an EXEC string literal (the inverse of parsing `'…'`).
///
/// ```
/// assert_eq!(procedures::exec::quote("it's"), "'it''s'");
/// ```
pub fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Replaces parameters with the caller's values: `positional[i]` for the i-th `?`, `named` for
/// `@name` (case-insensitive).
pub fn bind(
    call: &ExecCall,
    positional: &[Value],
    named: &[(String, Value)],
) -> Result<Vec<(String, Value)>, Error> {
    call.inputs
        .iter()
        .map(|input| {
            let value = match &input.value {
                Literal::Text(s) => Value::Text(s.clone()),
                Literal::Number(n) => Value::Number(n.clone()),
                Literal::Bool(b) => Value::Bool(*b),
                Literal::Null => Value::Null,
                Literal::Positional(i) => {
                    positional.get(*i).cloned().ok_or(Error::MissingParameter {
                        parameter: format!("? #{}", i + 1),
                        given: positional.len(),
                    })?
                }
                Literal::Named(n) => named
                    .iter()
                    .find(|(k, _)| k.trim_start_matches('@').eq_ignore_ascii_case(n))
                    .map(|(_, v)| v.clone())
                    .ok_or(Error::MissingParameter {
                        parameter: format!("@{n}"),
                        given: named.len(),
                    })?,
            };
            Ok((input.name.clone(), value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn every_value_form_and_optional_at_sign() {
        let call = parse(
            "execute [GetOAuthAuthorizationURL] @CallbackUrl='http://localhost:33333', Scope = NULL, n=-1.5e3, b=true, p=?, q=@x ;",
        )
        .unwrap();
        assert_eq!(call.procedure, "GetOAuthAuthorizationURL");
        let values: Vec<_> = call.inputs.iter().map(|i| i.value.clone()).collect();
        assert_eq!(
            values,
            vec![
                Literal::Text("http://localhost:33333".into()),
                Literal::Null,
                Literal::Number("-1.5e3".into()),
                Literal::Bool(true),
                Literal::Positional(0),
                Literal::Named("x".into()),
            ]
        );
        let bound = bind(
            &call,
            &[Value::Text("P".into())],
            &[("@X".into(), Value::Bool(false))],
        )
        .unwrap();
        assert_eq!(bound[4].1, Value::Text("P".into()));
        assert_eq!(bound[5].1, Value::Bool(false));
    }

    #[test]
    fn syntax_errors_carry_an_offset_and_say_what_to_do() {
        let err = parse("EXEC P a='x").unwrap_err();
        assert!(err.to_string().contains("no closing quote"), "{err}");
        let err = parse("EXEC P a=WEB").unwrap_err();
        assert!(err.to_string().contains("quote text as 'WEB'"), "{err}");
        assert!(parse("EXEC P a='1' b='2'").is_err());
        assert!(parse("SELECT 1").is_err());
        assert!(matches!(
            bind(&parse("EXEC P a=?").unwrap(), &[], &[]),
            Err(Error::MissingParameter { .. })
        ));
    }

    proptest! {
        #[test]
        fn any_text_survives_quoting(text in "\\PC*") {
            let call = parse(&format!("EXEC P v = {}", quote(&text))).unwrap();
            prop_assert_eq!(&call.inputs[0].value, &Literal::Text(text));
        }

        #[test]
        fn the_parser_never_panics(text in "\\PC{0,60}") {
            let _ = parse(&format!("EXEC {text}"));
        }
    }
}
