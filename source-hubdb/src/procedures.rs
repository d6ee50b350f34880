//! HubDB table procedures (our names), mapped to the HubDB endpoints (`{hubdb}` is
//! `/cms/hubdb/2026-03`, or `/cms/v3/hubdb` with `APIVersion=v3`):
//!
//! | procedure | endpoint |
//! |---|---|
//! | `PublishTable(TableName)` | `POST {hubdb}/tables/{t}/draft/publish` |
//! | `UnpublishTable(TableName)` | `POST {hubdb}/tables/{t}/unpublish` |
//! | `ResetDraft(TableName)` | `POST {hubdb}/tables/{t}/draft/reset` |
//! | `CloneTable(TableName, NewName, NewLabel, CopyRows)` | `POST {hubdb}/tables/{t}/draft/clone` |
//! | `ImportCSV(TableName, File \| Content, SkipRows, Separator, IdSourceColumn, NameSourceColumn, PathSourceColumn, ResetTable, ColumnMappings)` | `POST {hubdb}/tables/{t}/draft/import` (multipart `config` + `file`) |
//! | `ExportCSV(TableName, File, Draft)` | `GET {hubdb}/tables/{t}[/draft]/export?format=CSV` |
//! | `CreateTable(Name, Label, Columns, Publish)` | `POST {hubdb}/tables` (+ publish) |
//! | `DeleteTable(TableName)` | `DELETE {hubdb}/tables/{t}` |
//!
//! `Columns` of `CreateTable` is `name:TYPE[, name:TYPE ...]` (types as HubDB spells them:
//! TEXT, NUMBER, BOOLEAN, DATE, DATETIME, ...) or a JSON array of HubDB column objects.

use auth_core::SharedTokenProvider;
use reqwest::Method;
use serde_json::{Value as J, json};
use source_core::procedure::{
    Args, InputDef, ParamType, ProcedureDef, ProcedureOutput, ProcedureSet, ResultColumn,
};
use source_core::{BoxFuture, Error as CoreError, ErrorKind};

use crate::client::{Call, Client};
use crate::config::HubDbConfig;
use crate::source;

/// The HubDB table procedures of one connection. The HTTP client (and its token provider) is
/// created on first use, so listing procedures needs no credentials; calls go through the
/// same send loop and per-app rate limiter as scans and writes.
#[derive(Debug)]
pub struct TableProcedures {
    config: HubDbConfig,
    client: tokio::sync::OnceCell<Client>,
}

enum Body {
    None,
    Json(J),
    Multipart { boundary: String, bytes: Vec<u8> },
}

impl TableProcedures {
    /// The procedures for a HubDB connection.
    pub fn new(config: &HubDbConfig) -> Self {
        Self {
            config: config.clone(),
            client: tokio::sync::OnceCell::new(),
        }
    }

    async fn client(&self) -> Result<&Client, CoreError> {
        self.client
            .get_or_try_init(|| async {
                let tokens: SharedTokenProvider =
                    crate::token_provider(&self.config).map_err(source_plugin::auth_error)?;
                Ok(source::client_for(&self.config, tokens)?)
            })
            .await
    }

    /// One API call through the connection's client: `path` is below the HubDB prefix of the
    /// connection's `APIVersion` (`/cms/hubdb/2026-03/` or `/cms/v3/hubdb/`).
    async fn call(
        &self,
        procedure: &'static str,
        method: Method,
        path: &[&str],
        query: &[(&str, &str)],
        body: Body,
    ) -> Result<bytes::Bytes, CoreError> {
        let client = self.client().await?;
        let mut call = Call::new(method, client.hubdb_path(path), procedure);
        for (k, v) in query {
            call = call.param(k, *v);
        }
        call = match body {
            Body::None => call,
            Body::Json(v) => call.json(v),
            Body::Multipart { boundary, bytes } => {
                call.bytes(format!("multipart/form-data; boundary={boundary}"), bytes)
            }
        };
        Ok(client.send(&call).await?)
    }

    async fn json(
        &self,
        procedure: &'static str,
        method: Method,
        path: &[&str],
        body: Body,
    ) -> Result<J, CoreError> {
        let bytes = self.call(procedure, method, path, &[], body).await?;
        Ok(serde_json::from_slice(&bytes).unwrap_or(J::Null))
    }

    async fn run_inner(
        &self,
        name: &'static str,
        args: Args,
    ) -> Result<ProcedureOutput, CoreError> {
        let table = args.text("TableName").unwrap_or_default();
        let table = table.as_str();
        let post = Method::POST;
        match name {
            "PublishTable" => {
                let v = self
                    .json(
                        name,
                        post,
                        &["tables", table, "draft", "publish"],
                        Body::None,
                    )
                    .await?;
                Ok(table_row(&v))
            }
            "UnpublishTable" => {
                let v = self
                    .json(name, post, &["tables", table, "unpublish"], Body::None)
                    .await?;
                Ok(table_row(&v))
            }
            "ResetDraft" => {
                let v = self
                    .json(name, post, &["tables", table, "draft", "reset"], Body::None)
                    .await?;
                Ok(table_row(&v))
            }
            "CloneTable" => {
                let mut body = json!({
                    "newName": args.text("NewName"),
                    "copyRows": args.flag("CopyRows").unwrap_or(true),
                });
                if let Some(label) = args.text("NewLabel") {
                    body["newLabel"] = J::from(label);
                }
                let v = self
                    .json(
                        name,
                        post,
                        &["tables", table, "draft", "clone"],
                        Body::Json(body),
                    )
                    .await?;
                Ok(table_row(&v))
            }
            "DeleteTable" => {
                self.call(name, Method::DELETE, &["tables", table], &[], Body::None)
                    .await?;
                Ok(ProcedureOutput::row(vec![("Success", Some("true".into()))]))
            }
            "CreateTable" => {
                let columns = parse_columns(&args.text("Columns").unwrap_or_default())?;
                let table_name = args.text("Name").unwrap_or_default();
                let body = json!({
                    "name": table_name,
                    "label": args.text("Label").unwrap_or_else(|| table_name.clone()),
                    "columns": columns,
                });
                let mut v = self
                    .json(name, post.clone(), &["tables"], Body::Json(body))
                    .await?;
                if args.flag("Publish").unwrap_or(false) {
                    v = self
                        .json(
                            name,
                            post,
                            &["tables", &table_name, "draft", "publish"],
                            Body::None,
                        )
                        .await?;
                }
                Ok(table_row(&v))
            }
            "ImportCSV" => {
                let content = match (args.text("File"), args.text("Content")) {
                    (Some(path), _) => {
                        std::fs::read(&path).map_err(|e| file_error(name, &path, e))?
                    }
                    (None, Some(text)) => text.into_bytes(),
                    (None, None) => {
                        return Err(CoreError::MissingInput {
                            procedure: name,
                            input: "File",
                            description: "a CSV file path (or inline CSV in Content)",
                        });
                    }
                };
                let mut config = json!({
                    "skipRows": args.text("SkipRows").and_then(|s| s.parse::<u64>().ok()).unwrap_or(1),
                    "separator": args.text("Separator").unwrap_or_else(|| ",".into()),
                    "resetTable": args.flag("ResetTable").unwrap_or(false),
                    "format": "csv",
                    "encoding": "utf-8",
                });
                for (input, key) in [
                    ("IdSourceColumn", "idSourceColumn"),
                    ("NameSourceColumn", "nameSourceColumn"),
                    ("PathSourceColumn", "pathSourceColumn"),
                ] {
                    if let Some(n) = args.text(input).and_then(|s| s.parse::<u64>().ok()) {
                        config[key] = J::from(n);
                    }
                }
                if let Some(mappings) = args.text("ColumnMappings") {
                    config["columnMappings"] =
                        serde_json::from_str(&mappings).map_err(|e| CoreError::InvalidInput {
                            procedure: name,
                            input: "ColumnMappings",
                            value: format!("not JSON: {e}"),
                            allowed: "a JSON array like [{\"source\":1,\"target\":\"title\"}]"
                                .into(),
                        })?;
                }
                let (boundary, bytes) = multipart(&config, &content);
                let v = self
                    .json(
                        name,
                        post,
                        &["tables", table, "draft", "import"],
                        Body::Multipart { boundary, bytes },
                    )
                    .await?;
                Ok(ProcedureOutput::row(vec![
                    ("RowsImported", v.get("rowsImported").map(|n| n.to_string())),
                    (
                        "DuplicateRows",
                        v.get("duplicateRows").map(|n| n.to_string()),
                    ),
                    ("Errors", v.get("errors").map(|e| e.to_string())),
                ]))
            }
            "ExportCSV" => {
                let draft = args.flag("Draft").unwrap_or(false);
                let path: &[&str] = if draft {
                    &["tables", table, "draft", "export"]
                } else {
                    &["tables", table, "export"]
                };
                let bytes = self
                    .call(name, Method::GET, path, &[("format", "CSV")], Body::None)
                    .await?;
                let file = args.text("File").unwrap_or_default();
                std::fs::write(&file, &bytes).map_err(|e| file_error(name, &file, e))?;
                let rows = bytes
                    .iter()
                    .filter(|b| **b == b'\n')
                    .count()
                    .saturating_sub(1);
                Ok(ProcedureOutput::row(vec![
                    ("File", Some(file)),
                    ("Bytes", Some(bytes.len().to_string())),
                    ("Rows", Some(rows.to_string())),
                ]))
            }
            _ => Err(CoreError::UnknownProcedure {
                name: name.to_owned(),
                suggestion: None,
                available: String::new(),
            }),
        }
    }
}

/// A local file the procedure could not read or write.
fn file_error(procedure: &str, path: &str, e: std::io::Error) -> CoreError {
    CoreError::with_kind(ErrorKind::Unavailable, format!("{procedure}: {path}: {e}"))
}

fn table_row(v: &J) -> ProcedureOutput {
    let text = |k: &str| {
        v.get(k)
            .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_owned))
    };
    ProcedureOutput::row(vec![
        ("TableId", text("id")),
        ("Name", text("name")),
        ("Published", text("published")),
        ("PublishedAt", text("publishedAt")),
        ("RowCount", text("rowCount")),
    ])
}

/// `name:TYPE, ...` or a JSON array into HubDB column objects.
fn parse_columns(text: &str) -> Result<J, CoreError> {
    let invalid = |value: &str| {
        CoreError::InvalidInput {
        procedure: "CreateTable",
        input: "Columns",
        value: value.to_owned(),
        allowed: "name:TYPE pairs separated by commas (e.g. title:TEXT, price:NUMBER) or a JSON array of column objects".into(),
    }
    };
    let trimmed = text.trim();
    if trimmed.starts_with('[') {
        return serde_json::from_str(trimmed).map_err(|_| invalid(trimmed));
    }
    let mut columns = Vec::new();
    for part in trimmed.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (name, ty) = part.split_once(':').ok_or_else(|| invalid(part))?;
        let ty = ty.trim().to_ascii_uppercase();
        if ty.is_empty() || !ty.chars().all(|c| c.is_ascii_uppercase() || c == '_') {
            return Err(invalid(part));
        }
        columns.push(json!({"name": name.trim(), "label": name.trim(), "type": ty}));
    }
    if columns.is_empty() {
        return Err(invalid(trimmed));
    }
    Ok(J::Array(columns))
}

/// A multipart body with the `config` JSON part and the `file` part.
fn multipart(config: &J, file: &[u8]) -> (String, Vec<u8>) {
    let boundary = format!(
        "connector-{}",
        &auth_core::pkce::random_token().expose()[..24]
    );
    let mut body = Vec::new();
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"config\"\r\nContent-Type: application/json\r\n\r\n{config}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"import.csv\"\r\nContent-Type: text/csv\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (boundary, body)
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

fn results(cols: &[&'static str]) -> Vec<ResultColumn> {
    cols.iter()
        .map(|name| ResultColumn {
            name,
            ty: ParamType::String,
            description: "",
        })
        .collect()
}

const TABLE_RESULTS: &[&str] = &["TableId", "Name", "Published", "PublishedAt", "RowCount"];

impl ProcedureSet for TableProcedures {
    fn definitions(&self) -> Vec<ProcedureDef> {
        let table = || input("TableName", true, "The HubDB table name or id.");
        let flag = |name, default, description| InputDef {
            ty: ParamType::Bool,
            default: Some(default),
            allowed: &["true", "false"],
            ..input(name, false, description)
        };
        vec![
            ProcedureDef {
                name: "PublishTable",
                description: "Publishes the table's draft: its rows become visible in the published view.",
                inputs: vec![table()],
                results: results(TABLE_RESULTS),
            },
            ProcedureDef {
                name: "UnpublishTable",
                description: "Unpublishes the table.",
                inputs: vec![table()],
                results: results(TABLE_RESULTS),
            },
            ProcedureDef {
                name: "ResetDraft",
                description: "Replaces the draft with the published version, discarding draft edits.",
                inputs: vec![table()],
                results: results(TABLE_RESULTS),
            },
            ProcedureDef {
                name: "CloneTable",
                description: "Copies a table (as a new draft).",
                inputs: vec![
                    table(),
                    input("NewName", true, "Name of the copy."),
                    input("NewLabel", false, "Label of the copy."),
                    flag("CopyRows", "true", "Copy the rows too."),
                ],
                results: results(TABLE_RESULTS),
            },
            ProcedureDef {
                name: "ImportCSV",
                description: "Imports CSV rows into the table's draft (publish to make them visible).",
                inputs: vec![
                    table(),
                    input("File", false, "Path of the CSV file to import."),
                    input("Content", false, "Inline CSV text, instead of File."),
                    InputDef {
                        default: Some("1"),
                        ty: ParamType::Int,
                        ..input("SkipRows", false, "Header rows to skip.")
                    },
                    InputDef {
                        default: Some(","),
                        ..input("Separator", false, "Field separator.")
                    },
                    InputDef {
                        ty: ParamType::Int,
                        ..input(
                            "IdSourceColumn",
                            false,
                            "1-based CSV column holding row ids (update matching rows).",
                        )
                    },
                    InputDef {
                        ty: ParamType::Int,
                        ..input(
                            "NameSourceColumn",
                            false,
                            "1-based CSV column holding the row name (hs_name).",
                        )
                    },
                    InputDef {
                        ty: ParamType::Int,
                        ..input(
                            "PathSourceColumn",
                            false,
                            "1-based CSV column holding the page path (hs_path).",
                        )
                    },
                    flag(
                        "ResetTable",
                        "false",
                        "Delete the draft's rows before importing.",
                    ),
                    input(
                        "ColumnMappings",
                        false,
                        "JSON array mapping 1-based CSV columns to table columns; default: by header name.",
                    ),
                ],
                results: results(&["RowsImported", "DuplicateRows", "Errors"]),
            },
            ProcedureDef {
                name: "ExportCSV",
                description: "Exports the table to a CSV file.",
                inputs: vec![
                    table(),
                    input("File", true, "Path of the CSV file to write."),
                    flag(
                        "Draft",
                        "false",
                        "Export the draft instead of the published version.",
                    ),
                ],
                results: results(&["File", "Bytes", "Rows"]),
            },
            ProcedureDef {
                name: "CreateTable",
                description: "Creates a table from a column definition.",
                inputs: vec![
                    input("Name", true, "Table name."),
                    input("Label", false, "Table label (default: the name)."),
                    input(
                        "Columns",
                        true,
                        "name:TYPE pairs (e.g. title:TEXT, price:NUMBER) or a JSON array of HubDB columns.",
                    ),
                    flag("Publish", "false", "Publish the new table at once."),
                ],
                results: results(TABLE_RESULTS),
            },
            ProcedureDef {
                name: "DeleteTable",
                description: "Deletes (archives) a table.",
                inputs: vec![table()],
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
