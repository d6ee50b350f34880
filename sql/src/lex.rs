//! A small lexer for the parts of CData's dialect DataFusion's parser does not know:
//! `?` parameters, `[bracket]` identifiers and `EXEC` statements.
//!
//! It only needs to know where string literals, quoted identifiers and comments are, so that
//! a `?` or `[` inside them is left alone; everything else is copied through unchanged.

use crate::Error;

/// What a token is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Kind {
    /// A bare word: keyword, identifier or `@name`.
    Word(String),
    /// `"name"`, `` `name` `` or `[name]`, unquoted.
    Quoted(String),
    /// `'text'`, unescaped.
    Str(String),
    /// A numeric literal, as written.
    Number(String),
    /// `?`.
    Param,
    /// Any other single character.
    Punct(char),
}

/// A token and the bytes of the input it covers.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub(crate) kind: Kind,
    pub(crate) start: usize,
    pub(crate) end: usize,
    /// A `[name]` identifier (rewritten to `"name"` for DataFusion).
    pub(crate) bracket: bool,
}

/// Words after which `[` opens an identifier rather than an array subscript or literal.
const BEFORE_IDENTIFIER: &[&str] = &[
    "SELECT", "FROM", "JOIN", "WHERE", "ON", "BY", "AND", "OR", "NOT", "SET", "INTO", "UPDATE",
    "AS", "DISTINCT", "HAVING", "WHEN", "THEN", "ELSE", "CASE", "IN", "IS", "LIKE", "BETWEEN",
    "EXEC", "EXECUTE", "TABLE", "DELETE", "INSERT", "ASC", "DESC", "UNION", "ALL", "USING", "END",
    "TOP", "LIMIT", "OFFSET",
];

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '$' || c == '@' || c == '#'
}

/// Splits `sql` into tokens, skipping whitespace and comments.
pub(crate) fn tokenize(sql: &str) -> Result<Vec<Token>, Error> {
    let chars: Vec<(usize, char)> = sql.char_indices().collect();
    let at = |i: usize| chars.get(i).map(|(_, c)| *c);
    let offset = |i: usize| chars.get(i).map_or(sql.len(), |(o, _)| *o);
    let mut tokens: Vec<Token> = Vec::new();
    let mut i = 0;
    while let Some(c) = at(i) {
        let start = offset(i);
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c == '-' && at(i + 1) == Some('-') {
            while at(i).is_some_and(|c| c != '\n') {
                i += 1;
            }
            continue;
        }
        if c == '/' && at(i + 1) == Some('*') {
            i += 2;
            while at(i).is_some() && !(at(i) == Some('*') && at(i + 1) == Some('/')) {
                i += 1;
            }
            if at(i).is_none() {
                return Err(Error::Syntax("unterminated /* comment".into()));
            }
            i += 2;
            continue;
        }
        let (kind, bracket) = match c {
            '\'' | '"' | '`' => {
                // Quoted text: a doubled quote is an escaped quote.
                let mut text = String::new();
                i += 1;
                loop {
                    match at(i) {
                        None => {
                            let what = if c == '\'' {
                                "string literal"
                            } else {
                                "quoted identifier"
                            };
                            return Err(Error::Syntax(format!(
                                "unterminated {what} starting at byte {start}"
                            )));
                        }
                        Some(q) if q == c && at(i + 1) == Some(c) => {
                            text.push(c);
                            i += 2;
                        }
                        Some(q) if q == c => {
                            i += 1;
                            break;
                        }
                        Some(other) => {
                            text.push(other);
                            i += 1;
                        }
                    }
                }
                if c == '\'' {
                    (Kind::Str(text), false)
                } else {
                    (Kind::Quoted(text), false)
                }
            }
            '[' if opens_identifier(tokens.last()) => {
                // T-SQL style: `]]` is an escaped `]`.
                let mut text = String::new();
                let mut j = i + 1;
                let mut closed = false;
                while let Some(d) = at(j) {
                    if d == ']' && at(j + 1) == Some(']') {
                        text.push(']');
                        j += 2;
                    } else if d == ']' {
                        closed = true;
                        j += 1;
                        break;
                    } else {
                        text.push(d);
                        j += 1;
                    }
                }
                if closed && !text.is_empty() {
                    i = j;
                    (Kind::Quoted(text), true)
                } else {
                    i += 1;
                    (Kind::Punct('['), false)
                }
            }
            '?' => {
                i += 1;
                (Kind::Param, false)
            }
            c if c.is_ascii_digit()
                || (c == '.' && at(i + 1).is_some_and(|d| d.is_ascii_digit())) =>
            {
                let mut text = String::new();
                while let Some(d) = at(i) {
                    let exponent_sign = (d == '+' || d == '-')
                        && text.ends_with(['e', 'E'])
                        && !text.starts_with("0x");
                    if d.is_ascii_alphanumeric() || d == '.' || exponent_sign {
                        text.push(d);
                        i += 1;
                    } else {
                        break;
                    }
                }
                (Kind::Number(text), false)
            }
            c if is_word_char(c) => {
                let mut text = String::new();
                while let Some(d) = at(i).filter(|d| is_word_char(*d)) {
                    text.push(d);
                    i += 1;
                }
                (Kind::Word(text), false)
            }
            other => {
                i += 1;
                (Kind::Punct(other), false)
            }
        };
        tokens.push(Token {
            kind,
            start,
            end: offset(i),
            bracket,
        });
    }
    Ok(tokens)
}

/// Whether a `[` after `prev` starts an identifier: at the start, after punctuation other
/// than a closing bracket, or after a keyword that is followed by a name.
fn opens_identifier(prev: Option<&Token>) -> bool {
    match prev.map(|t| &t.kind) {
        None => true,
        Some(Kind::Punct(c)) => !matches!(c, ')' | ']'),
        Some(Kind::Word(w)) => BEFORE_IDENTIFIER.iter().any(|k| k.eq_ignore_ascii_case(w)),
        Some(Kind::Number(_) | Kind::Param | Kind::Str(_) | Kind::Quoted(_)) => false,
    }
}

/// `sql` with `?` rewritten to `$1`, `$2`, … and `[name]` to `"name"`, plus the number of
/// `?` parameters.
///
/// ```text
/// SELECT [Page Name] FROM events WHERE city = ? AND x = '?'
/// SELECT "Page Name" FROM events WHERE city = $1 AND x = '?'
/// ```
pub(crate) fn rewrite(sql: &str) -> Result<(String, usize), Error> {
    let tokens = tokenize(sql)?;
    refuse_named_parameters(&tokens)?;
    let mut out = String::with_capacity(sql.len() + 8);
    let mut last = 0;
    let mut params = 0;
    for t in &tokens {
        match &t.kind {
            Kind::Param => {
                out.push_str(&sql[last..t.start]);
                params += 1;
                out.push_str(&format!("${params}"));
                last = t.end;
            }
            Kind::Quoted(name) if t.bracket => {
                out.push_str(&sql[last..t.start]);
                out.push('"');
                out.push_str(&name.replace('"', "\"\""));
                out.push('"');
                last = t.end;
            }
            Kind::Word(w) if w.starts_with('$') && w[1..].chars().all(|c| c.is_ascii_digit()) => {
                // `$1` written by the caller would collide with rewritten `?` markers.
                return Err(Error::Syntax(format!("use `?` for parameters, not `{w}`")));
            }
            _ => {}
        }
    }
    out.push_str(&sql[last..]);
    Ok((out, params))
}

/// `@name` parameters belong to `EXEC`; elsewhere DataFusion would fail on them as untyped
/// variables without naming the cure, so the user is told to write `?` instead.
fn refuse_named_parameters(tokens: &[Token]) -> Result<(), Error> {
    if matches!(first_word(tokens).as_deref(), Some("EXEC" | "EXECUTE")) {
        return Ok(());
    }
    let named = tokens.iter().find_map(|t| match &t.kind {
        Kind::Word(w) if w.starts_with('@') => Some((w, t.start)),
        _ => None,
    });
    match named {
        None => Ok(()),
        Some((name, at)) => Err(Error::Syntax(format!(
            "named parameter `{name}` at byte {at}: named parameters work only in EXEC; \
             write `?` and pass the values in order"
        ))),
    }
}

/// The first word of a statement, upper-cased (`SELECT`, `EXEC`, …).
pub(crate) fn first_word(tokens: &[Token]) -> Option<String> {
    match tokens.first().map(|t| &t.kind) {
        Some(Kind::Word(w)) => Some(w.to_ascii_uppercase()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_become_numbered_placeholders_outside_literals() {
        let (text, n) =
            rewrite("SELECT * FROM t WHERE a = ? AND b = '?' AND \"c?\" = ? -- ?\n").unwrap();
        assert_eq!(
            text,
            "SELECT * FROM t WHERE a = $1 AND b = '?' AND \"c?\" = $2 -- ?\n"
        );
        assert_eq!(n, 2);
    }

    #[test]
    fn brackets_become_double_quotes_but_subscripts_stay() {
        let (text, _) = rewrite(
            "SELECT [Page Name], tags[1], [a\"b] FROM [CData].[HubDB].[my]]t] WHERE [x] IN (1)",
        )
        .unwrap();
        assert_eq!(
            text,
            "SELECT \"Page Name\", tags[1], \"a\"\"b\" FROM \"CData\".\"HubDB\".\"my]t\" WHERE \"x\" IN (1)"
        );
        let (text, _) = rewrite("SELECT make_array(1)[1], ARRAY[1,2]").unwrap();
        assert_eq!(text, "SELECT make_array(1)[1], ARRAY[1,2]");
    }

    #[test]
    fn unterminated_literals_are_syntax_errors() {
        assert!(rewrite("SELECT 'abc").is_err());
        assert!(rewrite("SELECT \"abc").is_err());
        assert!(rewrite("SELECT 1 /* x").is_err());
        assert!(rewrite("SELECT $1").is_err());
    }

    #[test]
    fn named_parameters_outside_exec_say_to_use_question_marks() {
        let err = rewrite("SELECT title FROM events WHERE city = @city").unwrap_err();
        assert_eq!(
            err.to_string(),
            "syntax error: named parameter `@city` at byte 38: named parameters work only in \
             EXEC; write `?` and pass the values in order"
        );
        assert!(rewrite("EXEC GetOAuthAuthorizationURL @CallbackUrl = 'x'").is_ok());
        assert!(rewrite("SELECT 'a@b.example' FROM events").is_ok());
    }

    #[test]
    fn tokens_cover_exec_syntax() {
        let t = tokenize("EXEC Proc @a = 'it''s', b=-1.5e3, c = ?").unwrap();
        let kinds: Vec<Kind> = t.into_iter().map(|t| t.kind).collect();
        assert_eq!(
            kinds,
            vec![
                Kind::Word("EXEC".into()),
                Kind::Word("Proc".into()),
                Kind::Word("@a".into()),
                Kind::Punct('='),
                Kind::Str("it's".into()),
                Kind::Punct(','),
                Kind::Word("b".into()),
                Kind::Punct('='),
                Kind::Punct('-'),
                Kind::Number("1.5e3".into()),
                Kind::Punct(','),
                Kind::Word("c".into()),
                Kind::Punct('='),
                Kind::Param,
            ]
        );
    }
}
