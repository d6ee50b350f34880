//! Typed filters and sort keys, independent of any SQL engine.
//!
//! The `sql` crate turns a WHERE clause into a conjunction of [`Filter`]s, asks the source
//! [`crate::DataSource::filter_support`] for each, pushes the supported ones into
//! [`crate::ScanRequest::filters`] and evaluates the rest (and the `Loose` ones again) itself.

use std::fmt;

/// A literal in a filter, a write or a procedure argument.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// A boolean.
    Bool(bool),
    /// A signed integer.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// Text.
    Str(String),
    /// A calendar date, as days since 1970-01-01 (Arrow `Date32`).
    Date(i32),
    /// An instant, as milliseconds since the Unix epoch in UTC (Arrow `Timestamp(ms, UTC)`).
    TimestampMs(i64),
    /// Several values (the right-hand side of `IN`).
    List(Vec<Value>),
}

impl fmt::Display for Value {
    /// SQL-literal-like text, for messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("NULL"),
            Value::Bool(b) => write!(f, "{}", if *b { "TRUE" } else { "FALSE" }),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => write!(f, "{x}"),
            Value::Str(s) => write!(f, "'{}'", s.replace('\'', "''")),
            Value::Date(d) => write!(f, "DATE {d}"),
            Value::TimestampMs(t) => write!(f, "TIMESTAMP {t}ms"),
            Value::List(items) => {
                f.write_str("(")?;
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str(")")
            }
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Str(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Str(s)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}

impl From<f64> for Value {
    fn from(x: f64) -> Self {
        Value::Float(x)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

/// A comparison, with SQL semantics: a NULL cell never matches any operator except
/// [`Op::IsNull`]; text comparisons are case-sensitive and by code point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Op {
    /// `column = value`.
    Eq,
    /// `column <> value`.
    Ne,
    /// `column < value`.
    Lt,
    /// `column <= value`.
    Le,
    /// `column > value`.
    Gt,
    /// `column >= value`.
    Ge,
    /// `column IN (values…)`; the value is a [`Value::List`].
    In,
    /// `column IS NULL`; the value is ignored.
    IsNull,
    /// `column IS NOT NULL`; the value is ignored.
    IsNotNull,
    /// `column LIKE pattern` (`%` any run, `_` one character, `\` escapes).
    Like,
    /// `column NOT LIKE pattern`.
    NotLike,
    /// Text: `column` contains `value` as a substring (`LIKE '%value%'`, case-sensitive).
    /// List columns: the list has an element equal to `value` (`array_has`).
    Contains,
    /// Text contains `value`, ignoring case (`ILIKE '%value%'`).
    IContains,
    /// Text starts with `value` (`LIKE 'value%'`).
    StartsWith,
}

impl Op {
    /// The operator as SQL, for messages.
    pub fn sql(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "<>",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::In => "IN",
            Op::IsNull => "IS NULL",
            Op::IsNotNull => "IS NOT NULL",
            Op::Like => "LIKE",
            Op::NotLike => "NOT LIKE",
            Op::Contains => "CONTAINS",
            Op::IContains => "ICONTAINS",
            Op::StartsWith => "STARTS WITH",
        }
    }

    /// Every operator, for tables of capabilities.
    pub const ALL: [Op; 14] = [
        Op::Eq,
        Op::Ne,
        Op::Lt,
        Op::Le,
        Op::Gt,
        Op::Ge,
        Op::In,
        Op::IsNull,
        Op::IsNotNull,
        Op::Like,
        Op::NotLike,
        Op::Contains,
        Op::IContains,
        Op::StartsWith,
    ];
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.sql())
    }
}

/// One conjunct of a WHERE clause: `column op value`.
///
/// ```
/// use source_core::{Filter, Op, Value};
/// let f = Filter::new("city", Op::Eq, "Berlin");
/// assert_eq!(f.to_string(), "city = 'Berlin'");
/// assert_eq!(Filter::is_null("website").to_string(), "website IS NULL");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    /// The column name, as the source lists it.
    pub column: String,
    /// The comparison.
    pub op: Op,
    /// The right-hand side ([`Value::Null`] for the null tests, a list for `IN`).
    pub value: Value,
}

impl Filter {
    /// `column op value`.
    pub fn new(column: impl Into<String>, op: Op, value: impl Into<Value>) -> Self {
        Self {
            column: column.into(),
            op,
            value: value.into(),
        }
    }

    /// `column IS NULL`.
    pub fn is_null(column: impl Into<String>) -> Self {
        Self {
            column: column.into(),
            op: Op::IsNull,
            value: Value::Null,
        }
    }

    /// `column IS NOT NULL`.
    pub fn is_not_null(column: impl Into<String>) -> Self {
        Self {
            column: column.into(),
            op: Op::IsNotNull,
            value: Value::Null,
        }
    }

    /// `column IN (values…)`.
    pub fn in_list(column: impl Into<String>, values: Vec<Value>) -> Self {
        Self {
            column: column.into(),
            op: Op::In,
            value: Value::List(values),
        }
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.op {
            Op::IsNull | Op::IsNotNull => write!(f, "{} {}", self.column, self.op),
            _ => write!(f, "{} {} {}", self.column, self.op, self.value),
        }
    }
}

/// How faithfully a source applies a filter server-side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FilterSupport {
    /// The source returns exactly the rows SQL would keep; the caller need not re-check.
    Exact,
    /// The source returns every row SQL would keep, and maybe more (different case or NULL
    /// rules); the caller must evaluate the filter again.
    Loose,
    /// The source cannot apply it; the caller must not pass it to `scan`.
    Unsupported,
}

/// One key of an ORDER BY.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortKey {
    /// The column.
    pub column: String,
    /// `DESC`.
    pub descending: bool,
    /// `NULLS FIRST` (SQL's default is NULLS LAST for ASC, NULLS FIRST for DESC).
    pub nulls_first: bool,
}

impl SortKey {
    /// `column ASC NULLS LAST`.
    pub fn asc(column: impl Into<String>) -> Self {
        Self {
            column: column.into(),
            descending: false,
            nulls_first: false,
        }
    }

    /// `column DESC NULLS FIRST`.
    pub fn desc(column: impl Into<String>) -> Self {
        Self {
            column: column.into(),
            descending: true,
            nulls_first: true,
        }
    }
}
