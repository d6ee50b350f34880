//! The error every [`crate::DataSource`] method returns.

/// What went wrong, naming the table, column or row involved.
///
/// Sources map their own failures onto the shared variants where one fits (an unknown table
/// is [`Error::UnknownTable`] whatever the source) and wrap the rest in [`Error::Source`] with its [`ErrorKind`].
/// Messages start lowercase, carry no secrets and, for unknown names, suggest the nearest one.
///
/// ```
/// use source_core::Error;
/// let e = Error::unknown_table("evnts", ["events", "Owners"]);
/// assert_eq!(e.to_string(), "unknown table `evnts`; did you mean `events`?");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No table or view has this name.
    #[error("unknown table `{name}`{}", suggestion_text(suggestion))]
    UnknownTable {
        /// The name asked for.
        name: String,
        /// The nearest existing name, if one is close.
        suggestion: Option<String>,
    },
    /// The table has no column of this name.
    #[error(
        "table `{table}` has no column `{column}`{}",
        suggestion_text(suggestion)
    )]
    UnknownColumn {
        /// The table.
        table: String,
        /// The column asked for.
        column: String,
        /// The nearest existing column, if one is close.
        suggestion: Option<String>,
    },
    /// The source cannot do this at all (writes on a source without them, an unknown procedure).
    #[error("{operation} is not supported{}", table.as_ref().map(|t| format!(" on `{t}`")).unwrap_or_default())]
    Unsupported {
        /// What was asked (`insert`, `procedure Foo`, ...).
        operation: String,
        /// The table, when one was involved.
        table: Option<String>,
    },
    /// A filter was passed to `scan` that `filter_support` declares unsupported.
    #[error(
        "filter `{column} {op}` cannot be applied by the source on `{table}`; evaluate it client-side"
    )]
    UnsupportedFilter {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// The operator, as SQL.
        op: String,
    },
    /// A write on a read-only table or column.
    #[error("`{table}`{} is read-only{}", column.as_ref().map(|c| format!(".`{c}`")).unwrap_or_default(), hint.as_ref().map(|h| format!("; {h}")).unwrap_or_default())]
    ReadOnly {
        /// The table.
        table: String,
        /// The column, when only the column is read-only.
        column: Option<String>,
        /// What to do instead.
        hint: Option<String>,
    },
    /// A value does not fit its column (a write, a filter literal, or data the API returned).
    #[error("{}: {message}", location(table, column.as_deref(), row.as_deref()))]
    InvalidValue {
        /// The table.
        table: String,
        /// The column, when known.
        column: Option<String>,
        /// The row (its key, or its position in a write), when known.
        row: Option<String>,
        /// What is wrong.
        message: String,
    },
    /// The operation did not finish within the connection's `Timeout`.
    #[error(
        "{operation} on `{table}` timed out after {seconds}s (raise Timeout or narrow the query)"
    )]
    Timeout {
        /// The table.
        table: String,
        /// What timed out (`scan`, `insert`, ...).
        operation: String,
        /// The limit, in seconds.
        seconds: u64,
    },
    /// Building or reading an Arrow batch failed.
    #[error("arrow: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
    /// Writing formatted output failed.
    #[error("output: {0}")]
    Io(#[from] std::io::Error),
    /// No procedure of this name.
    #[error("unknown procedure {name}{}; available: {available}", suggestion.map(|s| format!(" (did you mean {s}?)")).unwrap_or_default())]
    UnknownProcedure {
        /// As written.
        name: String,
        /// The nearest known procedure.
        suggestion: Option<&'static str>,
        /// All procedures, comma-separated.
        available: String,
    },
    /// The procedure has no such input.
    #[error("{procedure} has no input {input}{}; inputs: {available}", suggestion.map(|s| format!(" (did you mean {s}?)")).unwrap_or_default())]
    UnknownInput {
        /// The procedure.
        procedure: &'static str,
        /// As written.
        input: String,
        /// The nearest known input.
        suggestion: Option<&'static str>,
        /// All inputs, comma-separated.
        available: String,
    },
    /// A required procedure input is missing.
    #[error("{procedure} needs input {input}: {description}")]
    MissingInput {
        /// The procedure.
        procedure: &'static str,
        /// The input.
        input: &'static str,
        /// What it is.
        description: &'static str,
    },
    /// A procedure input value is not allowed.
    #[error("{procedure}: {input} must be one of {allowed}, not {value:?}")]
    InvalidInput {
        /// The procedure.
        procedure: &'static str,
        /// The input.
        input: &'static str,
        /// What was given (masked for a secret input).
        value: String,
        /// The allowed values.
        allowed: String,
    },
    /// A failure specific to one source (HTTP status, authentication, rate limit ...), with
    /// the kind callers act on.
    #[error("{error}")]
    Source {
        /// What kind of failure it is.
        kind: ErrorKind,
        /// The source's own error.
        error: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// What kind of failure an [`Error`] is, for callers that act on it without knowing the
/// source: exit codes, PEP 249 exception classes, retry decisions.
///
/// ```
/// use source_core::{Error, ErrorKind};
/// let e = Error::with_kind(ErrorKind::RateLimited, "still rate limited after 8 attempts");
/// assert_eq!(e.kind(), ErrorKind::RateLimited);
/// assert_eq!(Error::unknown_table("x", ["y"]).kind(), ErrorKind::NotFound);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The connection properties cannot be used.
    Config,
    /// Authentication failed or was refused (401/403, revoked tokens, missing scopes).
    Auth,
    /// The service's rate limit, after the retries allowed.
    RateLimited,
    /// A named thing does not exist (table, column, procedure, record, HTTP 404).
    NotFound,
    /// The statement cannot run as written (a required filter or input is missing).
    InvalidQuery,
    /// A value the source or the service refuses (HTTP 400/422, bad input values).
    BadInput,
    /// The request conflicts with the service's state (HTTP 409).
    Conflict,
    /// The source does not do this at all.
    Unsupported,
    /// Network failures, timeouts, 5xx, unreadable answers, local files.
    Unavailable,
    /// A bug: a contract broken between layers.
    Internal,
    /// Anything else.
    Other,
}

fn suggestion_text(s: &Option<String>) -> String {
    s.as_ref()
        .map(|s| format!("; did you mean `{s}`?"))
        .unwrap_or_default()
}

fn location(table: &str, column: Option<&str>, row: Option<&str>) -> String {
    let mut text = format!("`{table}`");
    if let Some(c) = column {
        text.push_str(&format!(" column `{c}`"));
    }
    if let Some(r) = row {
        text.push_str(&format!(" row {r}"));
    }
    text
}

impl Error {
    /// An unknown table, with the nearest of `candidates` as a suggestion.
    pub fn unknown_table<I, S>(name: &str, candidates: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        Self::UnknownTable {
            name: name.to_owned(),
            suggestion: nearest(name, candidates),
        }
    }

    /// An unknown column of `table`, with the nearest of `candidates` as a suggestion.
    ///
    /// ```
    /// let e = source_core::Error::unknown_column("events", "titel", ["Id", "title"]);
    /// assert_eq!(e.to_string(), "table `events` has no column `titel`; did you mean `title`?");
    /// ```
    pub fn unknown_column<I, S>(table: &str, column: &str, candidates: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        Self::UnknownColumn {
            table: table.to_owned(),
            column: column.to_owned(),
            suggestion: nearest(column, candidates),
        }
    }

    /// An operation the source does not offer.
    pub fn unsupported(operation: impl Into<String>, table: Option<&str>) -> Self {
        Self::Unsupported {
            operation: operation.into(),
            table: table.map(str::to_owned),
        }
    }

    /// Wraps a source-specific error of kind [`ErrorKind::Other`].
    pub fn source(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::with_kind(ErrorKind::Other, error)
    }

    /// Wraps a source-specific error of a known kind.
    pub fn with_kind(
        kind: ErrorKind,
        error: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Self::Source {
            kind,
            error: error.into(),
        }
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::UnknownTable { .. } | Self::UnknownColumn { .. } => ErrorKind::NotFound,
            Self::UnknownProcedure { .. } | Self::UnknownInput { .. } => ErrorKind::NotFound,
            Self::MissingInput { .. } => ErrorKind::InvalidQuery,
            Self::ReadOnly { .. } => ErrorKind::InvalidQuery,
            Self::InvalidInput { .. } | Self::InvalidValue { .. } | Self::Arrow(_) => {
                ErrorKind::BadInput
            }
            Self::Unsupported { .. } => ErrorKind::Unsupported,
            Self::UnsupportedFilter { .. } => ErrorKind::Internal,
            Self::Timeout { .. } | Self::Io(_) => ErrorKind::Unavailable,
            Self::Source { kind, .. } => *kind,
        }
    }

    /// The source's own error, when this wraps one (for tests and diagnostics).
    pub fn source_error(&self) -> Option<&(dyn std::error::Error + Send + Sync + 'static)> {
        match self {
            Self::Source { error, .. } => Some(error.as_ref()),
            _ => None,
        }
    }
}

/// The candidate closest to `name`, if it is close enough to be a likely typo.
///
/// Case-insensitive equality wins outright; otherwise the Jaro-Winkler similarity must be at
/// least 0.8, which catches transpositions and missing letters without suggesting unrelated names.
///
/// ```
/// assert_eq!(source_core::nearest("EVENTS", ["events", "owners"]).as_deref(), Some("events"));
/// assert_eq!(source_core::nearest("zzz", ["events", "owners"]), None);
/// ```
pub fn nearest<I, S>(name: &str, candidates: I) -> Option<String>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let lower = name.to_lowercase();
    let mut best: Option<(f64, String)> = None;
    for candidate in candidates {
        let candidate = candidate.as_ref();
        let score = if candidate.to_lowercase() == lower {
            2.0
        } else {
            strsim::jaro_winkler(&lower, &candidate.to_lowercase())
        };
        if score >= 0.8 && best.as_ref().is_none_or(|(b, _)| score > *b) {
            best = Some((score, candidate.to_owned()));
        }
    }
    best.map(|(_, name)| name)
}

/// source-core's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
