//! Filters the scan applies itself, with SQL's semantics: which ones ([`support`]), and how
//! each tests a cell ([`Predicate`]). Everything is `Exact` or unsupported: a CSV file has no
//! server whose rules could differ from SQL's, so there is no `Loose` case.

use std::cmp::Ordering;

use source_core::{Filter, FilterSupport, Op, TableInfo, Value};

use crate::schema::{Cell, ColumnType};

/// How one pushed filter tests a cell of its column.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Predicate {
    /// `IS NULL`.
    IsNull,
    /// `IS NOT NULL`.
    IsNotNull,
    /// `=`, `<>`, `<`, `<=`, `>`, `>=` against a literal of the column's type.
    Compare(Op, Literal),
    /// `IN`: equal to one of these (NULLs in the list can never make a row match).
    In(Vec<Literal>),
    /// `LIKE`.
    Like(Vec<Token>),
    /// A comparison with a NULL literal: true for no row, as in SQL.
    Never,
}

/// A filter literal converted to the column's type.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Literal {
    Int(i64),
    Float(f64),
    Bool(bool),
    Date(i32),
    Text(String),
}

/// One element of a LIKE pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Token {
    /// `%`: any run of characters, possibly empty.
    Any,
    /// `_`: exactly one character.
    One,
    /// A character that must be there (`\` makes `%`, `_` and `\` literal).
    Char(char),
}

/// Whether the scan applies `filter` on `table`: `Exact` when [`compile`] can build it.
pub(crate) fn support(table: &TableInfo, filter: &Filter) -> FilterSupport {
    let ty = table
        .column(&filter.column)
        .ok()
        .and_then(|c| ColumnType::of(&c.data_type));
    match ty.and_then(|ty| compile(ty, filter)) {
        Some(_) => FilterSupport::Exact,
        None => FilterSupport::Unsupported,
    }
}

/// `filter` as a test of cells of type `ty`; `None` when the scan cannot apply it exactly.
pub(crate) fn compile(ty: ColumnType, filter: &Filter) -> Option<Predicate> {
    match (filter.op, &filter.value) {
        (Op::IsNull, _) => Some(Predicate::IsNull),
        (Op::IsNotNull, _) => Some(Predicate::IsNotNull),
        (Op::Eq | Op::Ne | Op::Lt | Op::Le | Op::Gt | Op::Ge, Value::Null) => {
            Some(Predicate::Never)
        }
        (Op::Eq | Op::Ne | Op::Lt | Op::Le | Op::Gt | Op::Ge, value) => {
            literal(ty, value).map(|l| Predicate::Compare(filter.op, l))
        }
        (Op::In, Value::List(values)) => values
            .iter()
            .filter(|v| **v != Value::Null)
            .map(|v| literal(ty, v))
            .collect::<Option<Vec<_>>>()
            .map(Predicate::In),
        (Op::Like, Value::Str(pattern)) if ty == ColumnType::Text => {
            Some(Predicate::Like(like_pattern(pattern)))
        }
        (Op::Like, Value::Null) if ty == ColumnType::Text => Some(Predicate::Never),
        _ => None,
    }
}

/// `value` as a literal of type `ty`, when SQL would compare them without a lossy cast.
fn literal(ty: ColumnType, value: &Value) -> Option<Literal> {
    match (ty, value) {
        (ColumnType::Integer, Value::Int(i)) => Some(Literal::Int(*i)),
        // SQL compares an integer with a float column as floats, as this does.
        (ColumnType::Float, Value::Int(i)) => Some(Literal::Float(*i as f64)),
        // NaN orders differently in SQL engines than in IEEE comparisons: left to the caller.
        (ColumnType::Float, Value::Float(x)) if !x.is_nan() => Some(Literal::Float(*x)),
        (ColumnType::Boolean, Value::Bool(b)) => Some(Literal::Bool(*b)),
        (ColumnType::Date, Value::Date(d)) => Some(Literal::Date(*d)),
        (ColumnType::Text, Value::Str(s)) => Some(Literal::Text(s.clone())),
        _ => None,
    }
}

impl Predicate {
    /// Whether a cell passes; `None` is a NULL cell, which only `IS NULL` accepts.
    pub(crate) fn matches(&self, cell: Option<Cell<'_>>) -> bool {
        let Some(cell) = cell else {
            return *self == Predicate::IsNull;
        };
        match self {
            Self::IsNull | Self::Never => false,
            Self::IsNotNull => true,
            Self::Compare(op, literal) => compare(cell, literal).is_some_and(|o| holds(*op, o)),
            Self::In(list) => list
                .iter()
                .any(|l| compare(cell, l) == Some(Ordering::Equal)),
            Self::Like(pattern) => matches!(cell, Cell::Text(text) if like(text, pattern)),
        }
    }
}

/// How a cell orders against a literal of the same type (text by code point, as in SQL).
fn compare(cell: Cell<'_>, literal: &Literal) -> Option<Ordering> {
    match (cell, literal) {
        (Cell::Int(a), Literal::Int(b)) => Some(a.cmp(b)),
        (Cell::Float(a), Literal::Float(b)) => a.partial_cmp(b),
        (Cell::Bool(a), Literal::Bool(b)) => Some(a.cmp(b)),
        (Cell::Date(a), Literal::Date(b)) => Some(a.cmp(b)),
        // UTF-8 byte order is code-point order.
        (Cell::Text(a), Literal::Text(b)) => Some(a.cmp(b.as_str())),
        _ => None,
    }
}

fn holds(op: Op, ordering: Ordering) -> bool {
    match op {
        Op::Eq => ordering.is_eq(),
        Op::Ne => ordering.is_ne(),
        Op::Lt => ordering.is_lt(),
        Op::Le => ordering.is_le(),
        Op::Gt => ordering.is_gt(),
        Op::Ge => ordering.is_ge(),
        _ => false,
    }
}

/// A LIKE pattern as tokens. `\` escapes the next character; a trailing `\` is a literal
/// backslash, as in Arrow's (and so the SQL engine's) LIKE.
fn like_pattern(pattern: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        tokens.push(match c {
            '%' => Token::Any,
            '_' => Token::One,
            '\\' => Token::Char(chars.next().unwrap_or('\\')),
            c => Token::Char(c),
        });
    }
    tokens
}

/// Whether `text` matches the pattern: case-sensitive, `_` is one character (not byte).
fn like(text: &str, pattern: &[Token]) -> bool {
    let text: Vec<char> = text.chars().collect();
    let (mut t, mut p) = (0, 0);
    // After a `%`: where the pattern resumes, and the text position the `%` has swallowed up to.
    // On a mismatch the `%` swallows one more character and matching resumes from there.
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(Token::Any) => {
                p += 1;
                backtrack = Some((p, t));
            }
            Some(Token::One) => {
                p += 1;
                t += 1;
            }
            Some(Token::Char(c)) if *c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match backtrack {
                Some((resume, swallowed)) => {
                    p = resume;
                    t = swallowed + 1;
                    backtrack = Some((resume, t));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|token| *token == Token::Any)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(text: &str, pattern: &str) -> bool {
        like(text, &like_pattern(pattern))
    }

    #[test]
    fn like_follows_sql() {
        let cases = [
            ("", "", true),
            ("", "%", true),
            ("abc", "abc", true),
            ("abc", "ab", false),
            ("abc", "a%", true),
            ("abc", "%c", true),
            ("abc", "%b%", true),
            ("abc", "a_c", true),
            ("abc", "a__c", false),
            ("ac", "a%%c", true),
            ("aXbXc", "a%b%c", true),
            ("aXbX", "a%b%c", false),
            ("mississippi", "%issip%", true),
            ("mississippi", "m%ss%pi", true),
            ("ABC", "abc", false),
            ("é!", "__", true),
            ("line\nbreak", "line_break", true),
            ("100%", "100\\%", true),
            ("1000", "100\\%", false),
            ("a_b", "a\\_b", true),
            ("axb", "a\\_b", false),
            ("\\", "\\", true),
            ("\\", "\\\\", true),
            ("a", "\\a", true),
        ];
        for (text, pattern, expected) in cases {
            assert_eq!(
                matches(text, pattern),
                expected,
                "{text:?} LIKE {pattern:?}"
            );
        }
    }

    #[test]
    fn a_null_cell_matches_only_is_null() {
        let predicates = [
            compile(ColumnType::Integer, &Filter::new("x", Op::Ne, 1i64)),
            compile(ColumnType::Integer, &Filter::is_not_null("x")),
            compile(ColumnType::Text, &Filter::new("x", Op::Like, "%")),
        ];
        for p in predicates {
            assert!(!p.unwrap().matches(None));
        }
        assert!(Predicate::IsNull.matches(None));
    }
}
