//! Act-On-specific failures; every one names what it was doing (view, list, endpoint).

use source_core::ErrorKind;
use source_http::status_kind;

/// A failure talking to Act-On or a query the views cannot answer. Wrapped in
/// [`source_core::Error::Source`] with its [`ErrorKind`] at the trait boundary, so callers
/// need not know this type.
///
/// ```
/// let e = source_acton::Error::MissingFilter {
///     table: "Reports".into(),
///     column: "MessageId".into(),
///     allowed: "a sent or triggered message id, e.g. 's-0001-2401'".into(),
/// };
/// assert!(e.to_string().contains("requires a filter on `MessageId`"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Act-On answered with an error status.
    #[error("Act-On {context}: HTTP {status}: {message}")]
    Api {
        /// What was being done (`reading `List_Customers``).
        context: String,
        /// HTTP status.
        status: u16,
        /// Act-On's `errorCode` (`10004`), sent as a number or a string; `None` for gateway
        /// and older answers.
        code: Option<String>,
        /// Act-On's own words (`message`, or the gateway's `httpMessage`).
        reply: String,
        /// What went wrong and what to do, for the user ([`crate::error::explain`]).
        message: String,
    },
    /// Authentication, rate limit, network, timeout or an unreadable answer.
    #[error(transparent)]
    Http(#[from] source_http::HttpError),
    /// The connection properties cannot be used.
    #[error("Act-On {property}: {message}")]
    Config {
        /// The property to fix.
        property: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The view needs a filter the query does not have (the API has no "all" endpoint for it).
    #[error(
        "`{table}` requires a filter on `{column}` (`{column} = ...` or `{column} IN (...)`); allowed values: {allowed}"
    )]
    MissingFilter {
        /// The view.
        table: String,
        /// The column to filter on.
        column: String,
        /// What values the filter takes.
        allowed: String,
    },
    /// A pushed filter has a value the API does not accept.
    #[error("`{table}`: {value} is not a valid `{column}`; allowed values: {allowed}")]
    InvalidFilterValue {
        /// The view.
        table: String,
        /// The column.
        column: String,
        /// The value given, as SQL.
        value: String,
        /// What values the filter takes.
        allowed: String,
    },
}

impl Error {
    /// HTTP status of an API error.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Act-On's `errorCode` of an API error (`"10004"`), whether it came as a number or a
    /// string.
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Api { code, .. } => code.as_deref(),
            _ => None,
        }
    }

    /// The error with the ids of `call` (list, record, message, period, job, `fields`) named
    /// in its message: Act-On's messages name none of them.
    pub(crate) fn about(self, call: &source_http::Call) -> Self {
        match self {
            Error::Api {
                context,
                status,
                code,
                reply,
                ..
            } => {
                let message = explain(code.as_deref(), &reply, &Subject::of(call));
                Error::Api {
                    context,
                    status,
                    code,
                    reply,
                    message,
                }
            }
            other => other,
        }
    }
}

/// What a request was about, from its path and query: the ids an error message can name.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Subject {
    /// The list of `/api/1/list/{id}…` (or the job of `/api/1/list/{jobid}/status`).
    pub(crate) list: Option<String>,
    /// The record of `…/record/{id}`.
    pub(crate) record: Option<String>,
    /// The message of `/api/1/message/{id}…`.
    pub(crate) message: Option<String>,
    /// The drill-down verb of `/api/1/message/{id}/report/{verb}`.
    pub(crate) verb: Option<String>,
    /// The `period` parameter.
    pub(crate) period: Option<String>,
    /// The `fields` parameter, split at `;`.
    pub(crate) fields: Vec<String>,
    /// Whether the path is an upload job's status (`/api/1/list/{jobid}/status`).
    pub(crate) job: bool,
}

impl Subject {
    fn of(call: &source_http::Call) -> Self {
        let path: Vec<&str> = call.path.iter().map(String::as_str).collect();
        let rest = match path.as_slice() {
            ["api", "1", rest @ ..] => rest,
            other => other,
        };
        let param = |name: &str| {
            call.query
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        let mut s = Subject {
            period: param("period"),
            fields: param("fields")
                .map(|f| f.split(';').map(str::to_owned).collect())
                .unwrap_or_default(),
            ..Subject::default()
        };
        let owned = |v: &&str| Some((*v).to_owned());
        match rest {
            ["list", "lookup", list, ..] => s.list = owned(list),
            ["list", job, "status"] => {
                s.list = owned(job);
                s.job = true;
            }
            ["list", list, "record", record, ..] => {
                s.list = owned(list);
                s.record = owned(record);
            }
            ["list", list, ..] => s.list = owned(list),
            ["message", "report", ..] => {}
            ["message", id, "report", verb, ..] => {
                s.message = owned(id);
                s.verb = owned(verb);
            }
            ["message", id, ..] => s.message = owned(id),
            _ => {}
        }
        s
    }
}

/// `what` in backquotes, or `fallback` when unknown.
fn named(what: Option<&str>, fallback: &str) -> String {
    what.map_or_else(|| fallback.to_owned(), |w| format!("`{w}`"))
}

/// The user's message for an Act-On error: what went wrong, with the ids involved, Act-On's
/// code and words, and what to do. Codes are those of the spec copy (api-updates B7).
pub(crate) fn explain(code: Option<&str>, reply: &str, about: &Subject) -> String {
    let Some(code) = code else {
        return reply.to_owned();
    };
    let act_on = format!("(Act-On error {code}: {reply})");
    match code {
        "10004" => format!(
            "list {} does not exist or was deleted {act_on}; `connector acton tables` lists the current ones",
            named(about.list.as_deref(), "of the request")
        ),
        "10008" => format!(
            "record {} does not exist in list {} or was deleted {act_on}; read current ids with `SELECT ContactId FROM List_<Name>`",
            named(about.record.as_deref(), "of the request"),
            named(about.list.as_deref(), "of the request")
        ),
        "10010" => {
            // The reply may name the column after a colon; else the fields that were asked.
            let column = reply
                .split_once(':')
                .map(|(_, c)| c.trim().to_owned())
                .filter(|c| !c.is_empty())
                .map(|c| format!("column `{c}` is"))
                .unwrap_or_else(|| match about.fields.as_slice() {
                    [] => "a column named in the request is".to_owned(),
                    [one] => format!("column `{one}` is"),
                    many => format!("one of the columns `{}` is", many.join("`, `")),
                });
            format!(
                "{column} not a column of list {} {act_on}; the list's columns are in `sys_tablecolumns`",
                named(about.list.as_deref(), "of the request")
            )
        }
        "10017" => format!(
            "upload job {} is unknown or expired {act_on}; start the upload again and poll its status soon after",
            named(about.list.as_deref(), "of the request")
        ),
        "10030" => format!(
            "message {} does not exist or was deleted {act_on}; reports exist for SENT and TRIGGERED messages: SELECT Id FROM Messages WHERE Type = 'SENT'",
            named(about.message.as_deref(), "of the request")
        ),
        "10089" => format!(
            "{} is not a drill-down type {act_on}; use SENT, SUPPRESSED, OPENED, CLICKED, BOUNCED, OPT_OUT or SPAM",
            named(about.verb.as_deref(), "the drill-down type")
        ),
        "10121" => format!("a required parameter is missing {act_on}"),
        "10160" => format!(
            "period {} is not a valid month {act_on}; expected YYMM, e.g. '2409' for September 2024",
            named(about.period.as_deref(), "of the request")
        ),
        "10003" => format!("the upload has no file {act_on}; pass the CSV content"),
        "10025" => format!(
            "the merge destination list {} does not exist {act_on}",
            named(about.list.as_deref(), "of the request")
        ),
        "10088" => format!(
            "a merge column is missing from the uploaded file {act_on}; every column of the merge specification must be a heading of the CSV"
        ),
        _ => act_on
            .trim_start_matches('(')
            .trim_end_matches(')')
            .to_owned(),
    }
}

impl Error {
    /// What kind of failure this is, for callers that do not know Act-On.
    pub fn kind(&self) -> ErrorKind {
        match self {
            // "Invalid or missing list/contact/message/job" come as 400: they mean not found.
            Error::Api {
                code: Some(code), ..
            } if matches!(
                code.as_str(),
                "10004" | "10008" | "10017" | "10025" | "10030"
            ) =>
            {
                ErrorKind::NotFound
            }
            Error::Api { status, .. } => status_kind(*status),
            Error::Http(e) => e.kind(),
            Error::Config { .. } => ErrorKind::Config,
            Error::MissingFilter { .. } => ErrorKind::InvalidQuery,
            Error::InvalidFilterValue { .. } => ErrorKind::BadInput,
        }
    }

    /// Whether the API said the record (contact) asked for does not exist: a 404, or a
    /// "not found" code other than 10004, which is about the list itself.
    pub(crate) fn is_missing_record(&self) -> bool {
        self.kind() == ErrorKind::NotFound && self.code() != Some("10004")
    }

    /// An unreadable answer.
    pub(crate) fn decode(context: &str, message: impl ToString) -> Self {
        source_http::HttpError::decode(&crate::client::SERVICE, context, message).into()
    }
}

impl From<Error> for source_core::Error {
    fn from(e: Error) -> Self {
        source_core::Error::with_kind(e.kind(), e)
    }
}
