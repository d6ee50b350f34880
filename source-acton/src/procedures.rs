//! Act-On procedures (our names: CData documents none for Act-On besides the OAuth trio),
//! mapped to the v1 endpoints:
//!
//! | procedure | endpoint |
//! |---|---|
//! | `UpsertRecord(List, Email, Values)` | `PUT /api/1/list/{listid}/record?email=…` |
//! | `LookupRecord(List, Email)` | `GET /api/1/list/lookup/{listid}?email=…` |
//! | `CreateList(ListName, File \| Content, FolderName, FieldSeparator, Headings)` | `POST /api/1/list` (multipart) |
//! | `MergeList(List, File \| Content, FieldSeparator, Headings, PutEmptyValues)` | `PUT /api/1/list/{listid}` (multipart, `mergespecs`) |
//! | `GetUploadStatus(JobId)` | `GET /api/1/list/{jobid}/status` |
//! | `DeleteList(List)` | `DELETE /api/1/list/{listid}` |
//! | `AddOptOuts(Emails)` | `PUT /api/1/list/optout` (multipart CSV of e-mails) |
//! | `RemoveOptOuts(Emails)` | `PUT /api/1/list/optin` (multipart CSV of e-mails) |
//! | `SetSubscription(Email, Category, Action)` | `PUT /api/1/subscription/optout` |
//!
//! `List` is a list id (`l-0001`), a list name or its table name (`List_Customers`).
//! `Values` is a JSON object (`{"City":"Oslo"}`) or `column=value` pairs separated by `;`.
//! `Emails` is e-mail addresses separated by commas, semicolons or new lines.
//! Every call goes through the account's pacer, like scans and writes.

use std::sync::Arc;

use reqwest::Method;
use serde_json::{Map, Value as J, json};
use source_core::procedure::{
    Args, InputDef, ParamType, ProcedureDef, ProcedureOutput, ProcedureSet, ResultColumn,
};
use source_core::{BoxFuture, Error as CoreError, ErrorKind};

use crate::ActOnSource;
use crate::client::Call;
use crate::config::ActOnConfig;
use crate::views::ListEntry;

/// The Act-On procedures of one connection. The client (and its token provider) is created
/// on first use, so listing procedures needs no credentials.
#[derive(Debug)]
pub struct ListProcedures {
    config: ActOnConfig,
    source: tokio::sync::OnceCell<ActOnSource>,
}

impl ListProcedures {
    /// The procedures for an Act-On connection.
    ///
    /// ```
    /// use source_core::procedure::ProcedureSet;
    /// let cs: connstr::ConnectionString =
    ///     "AuthScheme=OAuthPassword;User=u;Password=p;OAuthClientId=c;OAuthClientSecret=s"
    ///         .parse()
    ///         .unwrap();
    /// let p = source_acton::procedures::ListProcedures::new(&source_acton::validate(&cs).unwrap());
    /// assert!(p.definitions().iter().any(|d| d.name == "UpsertRecord"));
    /// ```
    pub fn new(config: &ActOnConfig) -> Self {
        Self {
            config: config.clone(),
            source: tokio::sync::OnceCell::new(),
        }
    }

    async fn source(&self) -> Result<&ActOnSource, CoreError> {
        self.source
            .get_or_try_init(|| async {
                let tokens =
                    crate::token_provider(&self.config).map_err(source_plugin::auth_error)?;
                Ok(ActOnSource::connect(&self.config, tokens)?)
            })
            .await
    }

    async fn send(&self, call: Call) -> Result<J, CoreError> {
        let bytes = self.source().await?.client().send(&call).await?;
        Ok(serde_json::from_slice(&bytes).unwrap_or(J::Null))
    }

    /// The list named by input `List`: an id, a name or a `List_` table name.
    async fn list(&self, procedure: &'static str, args: &Args) -> Result<ListEntry, CoreError> {
        let wanted = args.text("List").unwrap_or_default();
        let lists: Arc<Vec<ListEntry>> = self.source().await?.fresh_lists().await?;
        let found = lists
            .iter()
            .find(|l| l.id == wanted || l.name == wanted || l.view == wanted)
            .or_else(|| {
                lists.iter().find(|l| {
                    l.name.eq_ignore_ascii_case(&wanted) || l.view.eq_ignore_ascii_case(&wanted)
                })
            });
        found.cloned().ok_or_else(|| CoreError::InvalidInput {
            procedure,
            input: "List",
            value: wanted,
            allowed: format!(
                "a contact list id, name or table name: {}",
                lists
                    .iter()
                    .map(|l| format!("{} ({})", l.name, l.id))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })
    }

    async fn run_inner(
        &self,
        name: &'static str,
        args: Args,
    ) -> Result<ProcedureOutput, CoreError> {
        match name {
            "UpsertRecord" => self.upsert(name, &args).await,
            "LookupRecord" => self.lookup(name, &args).await,
            "CreateList" => self.create_list(name, &args).await,
            "MergeList" => self.merge_list(name, &args).await,
            "GetUploadStatus" => self.upload_status(&args).await,
            "DeleteList" => {
                let list = self.list(name, &args).await?;
                let call = api(Method::DELETE, &["list", &list.id], name).idempotent(false);
                self.send(call).await?;
                Ok(ProcedureOutput::row(vec![
                    ("ListId", Some(list.id)),
                    ("Success", Some("true".into())),
                ]))
            }
            "AddOptOuts" | "RemoveOptOuts" => self.opt(name, &args).await,
            "SetSubscription" => self.subscription(name, &args).await,
            _ => Err(CoreError::UnknownProcedure {
                name: name.to_owned(),
                suggestion: None,
                available: String::new(),
            }),
        }
    }

    async fn upsert(&self, name: &'static str, args: &Args) -> Result<ProcedureOutput, CoreError> {
        let list = self.list(name, args).await?;
        let email = args.text("Email").unwrap_or_default();
        let values = parse_values(name, &args.text("Values").unwrap_or_default())?;
        // Upserting the same values twice leaves the same record.
        let call = api(Method::PUT, &["list", &list.id, "record"], name)
            .param("email", email)
            .json(J::Object(values))
            .idempotent(true);
        let v = self.send(call).await?;
        Ok(ProcedureOutput::row(vec![
            ("ListId", Some(list.id)),
            ("ContactId", text(&v, &["id", "contact_id"])),
            ("Message", text(&v, &["message"])),
        ]))
    }

    async fn lookup(&self, name: &'static str, args: &Args) -> Result<ProcedureOutput, CoreError> {
        let list = self.list(name, args).await?;
        let email = args.text("Email").unwrap_or_default();
        let call = api(Method::GET, &["list", "lookup", &list.id], name).param("email", email);
        let v = self.send(call).await?;
        // GUESS: the spec copy shows `{}`; read every spelling of the record id seen.
        Ok(ProcedureOutput::row(vec![
            ("ListId", Some(list.id)),
            (
                "ContactId",
                text(&v, &["recid", "id", "contact_id", "contactId"]),
            ),
        ]))
    }

    async fn create_list(
        &self,
        name: &'static str,
        args: &Args,
    ) -> Result<ProcedureOutput, CoreError> {
        let content = file_content(name, args)?;
        let mut fields = vec![
            ("listname", args.text("ListName").unwrap_or_default()),
            ("headings", yes_no(args.flag("Headings").unwrap_or(true))),
            ("fieldseparator", separator(name, args)?),
            ("quotecharacter", "DOUBLE_QUOTE".to_owned()),
        ];
        if let Some(folder) = args.text("FolderName") {
            fields.push(("foldername", folder));
        }
        let call = api(Method::POST, &["list"], name)
            .bytes_multipart(&fields, &content)
            .idempotent(false);
        let v = self.send(call).await?;
        Ok(job_row(&v))
    }

    async fn merge_list(
        &self,
        name: &'static str,
        args: &Args,
    ) -> Result<ProcedureOutput, CoreError> {
        let list = self.list(name, args).await?;
        let content = file_content(name, args)?;
        // GUESS: `mergeMode` REPLACE (the spec's example) matches records by e-mail.
        let specs = json!([{"mergeMode": "REPLACE", "dstListId": list.id, "columnMap": []}]);
        let fields = vec![
            ("mergespecs", specs.to_string()),
            ("headings", yes_no(args.flag("Headings").unwrap_or(true))),
            ("fieldseparator", separator(name, args)?),
            ("quotecharacter", "DOUBLE_QUOTE".to_owned()),
            (
                "putEmptyValues",
                yes_no(args.flag("PutEmptyValues").unwrap_or(false)),
            ),
        ];
        let call = api(Method::PUT, &["list", &list.id], name)
            .bytes_multipart(&fields, &content)
            .idempotent(false);
        let v = self.send(call).await?;
        Ok(job_row(&v))
    }

    async fn upload_status(&self, args: &Args) -> Result<ProcedureOutput, CoreError> {
        let job = args.text("JobId").unwrap_or_default();
        let call = api(Method::GET, &["list", &job, "status"], "GetUploadStatus");
        let v = self.send(call).await?;
        let details = match &v["details"] {
            J::Object(_) => v["details"].clone(),
            // `jobDetails` repeats `details` as a JSON string.
            _ => v["jobDetails"]
                .as_str()
                .and_then(|s| serde_json::from_str(s).ok())
                .unwrap_or(J::Null),
        };
        let done = details.is_object();
        let status = if done {
            "done".to_owned()
        } else {
            // "The job is running" / "The job is pending".
            let s = text(&v, &["status"]).unwrap_or_default();
            s.rsplit(' ').next().unwrap_or_default().to_owned()
        };
        let count = |k: &str| done.then(|| text(&details, &[k])).flatten();
        Ok(ProcedureOutput::row(vec![
            ("JobId", Some(job)),
            ("Status", Some(status)),
            ("ListId", count("listId")),
            ("AppendCount", count("appendCount")),
            ("UpdateCount", count("updateCount")),
            ("FailedCount", count("failedCount")),
            ("RejectedCount", count("rejectedCount")),
        ]))
    }

    async fn opt(&self, name: &'static str, args: &Args) -> Result<ProcedureOutput, CoreError> {
        let emails = parse_emails(name, &args.text("Emails").unwrap_or_default())?;
        let path = if name == "AddOptOuts" {
            "optout"
        } else {
            "optin"
        };
        let csv = emails.join("\r\n");
        // Adding the same addresses twice leaves the same opt-out list.
        let call = api(Method::PUT, &["list", path], name)
            .bytes_multipart(&[], csv.as_bytes())
            .idempotent(true);
        self.send(call).await?;
        Ok(ProcedureOutput::row(vec![(
            "Count",
            Some(emails.len().to_string()),
        )]))
    }

    async fn subscription(
        &self,
        name: &'static str,
        args: &Args,
    ) -> Result<ProcedureOutput, CoreError> {
        let action = args.text("Action").unwrap_or_default().to_ascii_lowercase();
        if action != "optin" && action != "optout" {
            return Err(CoreError::InvalidInput {
                procedure: name,
                input: "Action",
                value: action,
                allowed: "optin or optout".into(),
            });
        }
        // GUESS: the spec copy lists the fields, not the encoding; JSON like the record calls.
        let body = json!({"email": args.text("Email"), "category": args.text("Category"), "action": action});
        let call = api(Method::PUT, &["subscription", "optout"], name)
            .json(body)
            .idempotent(true);
        self.send(call).await?;
        Ok(ProcedureOutput::row(vec![("Success", Some("true".into()))]))
    }
}

/// `{base}/api/1/{segments…}` with `method`.
fn api(method: Method, segments: &[&str], context: &str) -> Call {
    let path = ["api", "1"].iter().chain(segments).copied();
    Call::new(method, path, context)
}

/// A multipart body: text fields, then the CSV as the `file` part.
trait Multipart {
    fn bytes_multipart(self, fields: &[(&str, String)], file: &[u8]) -> Self;
}

impl Multipart for Call {
    fn bytes_multipart(self, fields: &[(&str, String)], file: &[u8]) -> Self {
        let boundary = format!(
            "connector-{}",
            &auth_core::pkce::random_token().expose()[..24]
        );
        let mut body = Vec::new();
        for (k, v) in fields {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
                )
                .as_bytes(),
            );
        }
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"upload.csv\"\r\nContent-Type: text/csv\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(file);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        self.bytes(format!("multipart/form-data; boundary={boundary}"), body)
    }
}

/// The first of `keys` present in `v`, as text.
fn text(v: &J, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| match v.get(*k)? {
        J::Null => None,
        J::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    })
}

fn job_row(v: &J) -> ProcedureOutput {
    ProcedureOutput::row(vec![
        ("JobId", text(v, &["jobId", "jobid", "id"])),
        ("ListId", text(v, &["listId"])),
        ("Status", text(v, &["status"])),
        ("Message", text(v, &["message"])),
    ])
}

fn yes_no(b: bool) -> String {
    if b { "Y" } else { "N" }.to_owned()
}

fn separator(procedure: &'static str, args: &Args) -> Result<String, CoreError> {
    match args.text("FieldSeparator").as_deref().unwrap_or(",") {
        "," | "COMMA" => Ok("COMMA".into()),
        ";" | "SEMICOLON" => Ok("SEMICOLON".into()),
        other => Err(CoreError::InvalidInput {
            procedure,
            input: "FieldSeparator",
            value: other.to_owned(),
            allowed: "`,` (COMMA) or `;` (SEMICOLON): the separators Act-On accepts".into(),
        }),
    }
}

/// The CSV of input `File` (a path) or `Content` (inline text).
fn file_content(procedure: &'static str, args: &Args) -> Result<Vec<u8>, CoreError> {
    match (args.text("File"), args.text("Content")) {
        (Some(path), _) => std::fs::read(&path).map_err(|e| {
            CoreError::with_kind(ErrorKind::Unavailable, format!("{procedure}: {path}: {e}"))
        }),
        (None, Some(text)) => Ok(text.into_bytes()),
        (None, None) => Err(CoreError::MissingInput {
            procedure,
            input: "File",
            description: "a CSV file path (or inline CSV in Content)",
        }),
    }
}

/// `Values`: a JSON object, or `column=value` pairs separated by `;`.
fn parse_values(procedure: &'static str, text: &str) -> Result<Map<String, J>, CoreError> {
    let invalid = |value: &str| CoreError::InvalidInput {
        procedure,
        input: "Values",
        value: value.to_owned(),
        allowed: "a JSON object like {\"City\":\"Oslo\"} or column=value pairs separated by `;`"
            .into(),
    };
    let trimmed = text.trim();
    if trimmed.starts_with('{') {
        return match serde_json::from_str::<J>(trimmed) {
            Ok(J::Object(o)) => Ok(o),
            _ => Err(invalid(trimmed)),
        };
    }
    let mut out = Map::new();
    for pair in trimmed.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').ok_or_else(|| invalid(pair))?;
        out.insert(k.trim().to_owned(), J::String(v.trim().to_owned()));
    }
    Ok(out)
}

fn parse_emails(procedure: &'static str, text: &str) -> Result<Vec<String>, CoreError> {
    let emails: Vec<String> = text
        .split([',', ';', '\n', '\r'])
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(str::to_owned)
        .collect();
    match emails.iter().find(|e| !e.contains('@')) {
        Some(bad) => Err(CoreError::InvalidInput {
            procedure,
            input: "Emails",
            value: bad.clone(),
            allowed: "e-mail addresses separated by commas, semicolons or new lines".into(),
        }),
        None if emails.is_empty() => Err(CoreError::MissingInput {
            procedure,
            input: "Emails",
            description: "e-mail addresses separated by commas, semicolons or new lines",
        }),
        None => Ok(emails),
    }
}

fn input(name: &'static str, required: bool, description: &'static str) -> InputDef {
    InputDef {
        name,
        ty: ParamType::String,
        required,
        default: None,
        allowed: &[],
        sensitive: false,
        description,
    }
}

fn flag(name: &'static str, default: &'static str, description: &'static str) -> InputDef {
    InputDef {
        ty: ParamType::Bool,
        default: Some(default),
        allowed: &["true", "false"],
        ..input(name, false, description)
    }
}

fn results(cols: &[&'static str]) -> Vec<ResultColumn> {
    cols.iter()
        .map(|name| ResultColumn {
            name,
            ty: ParamType::String,
            description: "",
        })
        .collect()
}

const JOB_RESULTS: &[&str] = &["JobId", "ListId", "Status", "Message"];

fn csv_inputs() -> Vec<InputDef> {
    vec![
        input("File", false, "Path of the CSV file to upload."),
        input("Content", false, "Inline CSV text, instead of File."),
        InputDef {
            default: Some(","),
            allowed: &[",", ";"],
            ..input("FieldSeparator", false, "Field separator: `,` or `;`.")
        },
        flag(
            "Headings",
            "true",
            "The first CSV row holds the column names.",
        ),
    ]
}

impl ProcedureSet for ListProcedures {
    fn definitions(&self) -> Vec<ProcedureDef> {
        let list = || input("List", true, "The list id (l-0001), name or table name.");
        let email = || input("Email", true, "The record's e-mail address.");
        let mut create = vec![
            input("ListName", true, "Name of the new list."),
            input(
                "FolderName",
                false,
                "Folder of the new list (default: Act-On's).",
            ),
        ];
        create.extend(csv_inputs());
        let mut merge = vec![list()];
        merge.extend(csv_inputs());
        merge.push(flag(
            "PutEmptyValues",
            "false",
            "Empty CSV cells overwrite the list's values.",
        ));
        let emails = || {
            input(
                "Emails",
                true,
                "E-mail addresses separated by commas, semicolons or new lines.",
            )
        };
        vec![
            ProcedureDef {
                name: "UpsertRecord",
                description: "Updates the list record with this e-mail address, or inserts one (ours).",
                inputs: vec![
                    list(),
                    email(),
                    input(
                        "Values",
                        true,
                        "The columns to set: a JSON object or column=value pairs separated by `;`.",
                    ),
                ],
                results: results(&["ListId", "ContactId", "Message"]),
            },
            ProcedureDef {
                name: "LookupRecord",
                description: "Finds the record id of an e-mail address in a list (ours).",
                inputs: vec![list(), email()],
                results: results(&["ListId", "ContactId"]),
            },
            ProcedureDef {
                name: "CreateList",
                description: "Creates a contact list from a CSV upload; poll GetUploadStatus (ours).",
                inputs: create,
                results: results(JOB_RESULTS),
            },
            ProcedureDef {
                name: "MergeList",
                description: "Merges a CSV upload into a list, matching records by e-mail; poll GetUploadStatus (ours).",
                inputs: merge,
                results: results(JOB_RESULTS),
            },
            ProcedureDef {
                name: "GetUploadStatus",
                description: "The state of a CreateList or MergeList upload: pending, running or done with its counts (ours).",
                inputs: vec![input(
                    "JobId",
                    true,
                    "The JobId a CreateList or MergeList returned.",
                )],
                results: results(&[
                    "JobId",
                    "Status",
                    "ListId",
                    "AppendCount",
                    "UpdateCount",
                    "FailedCount",
                    "RejectedCount",
                ]),
            },
            ProcedureDef {
                name: "DeleteList",
                description: "Deletes a contact list and its records (ours).",
                inputs: vec![list()],
                results: results(&["ListId", "Success"]),
            },
            ProcedureDef {
                name: "AddOptOuts",
                description: "Adds e-mail addresses to the account's opt-out list (ours).",
                inputs: vec![emails()],
                results: results(&["Count"]),
            },
            ProcedureDef {
                name: "RemoveOptOuts",
                description: "Opts e-mail addresses back in: removes them from the opt-out list (ours).",
                inputs: vec![emails()],
                results: results(&["Count"]),
            },
            ProcedureDef {
                name: "SetSubscription",
                description: "Opts an e-mail address out of (or back into) a subscription category (ours).",
                inputs: vec![
                    email(),
                    input("Category", true, "The subscription category name."),
                    InputDef {
                        allowed: &["optin", "optout"],
                        ..input("Action", true, "optout or optin.")
                    },
                ],
                results: results(&["Success"]),
            },
        ]
    }

    fn run<'a>(
        &'a self,
        name: &'static str,
        args: Args,
    ) -> BoxFuture<'a, Result<ProcedureOutput, CoreError>> {
        Box::pin(self.run_inner(name, args))
    }
}
