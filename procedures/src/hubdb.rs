//! HubDB table procedures (our names), mapped to the HubDB v3 endpoints:
//!
//! | procedure | endpoint |
//! |---|---|
//! | `PublishTable(TableName)` | `POST /cms/v3/hubdb/tables/{t}/draft/publish` |
//! | `UnpublishTable(TableName)` | `POST /cms/v3/hubdb/tables/{t}/unpublish` |
//! | `ResetDraft(TableName)` | `POST /cms/v3/hubdb/tables/{t}/draft/reset` |
//! | `CloneTable(TableName, NewName, NewLabel, CopyRows)` | `POST /cms/v3/hubdb/tables/{t}/draft/clone` |
//! | `ImportCSV(TableName, File \| Content, SkipRows, Separator, IdSourceColumn, NameSourceColumn, PathSourceColumn, ResetTable, ColumnMappings)` | `POST /cms/v3/hubdb/tables/{t}/draft/import` (multipart `config` + `file`) |
//! | `ExportCSV(TableName, File, Draft)` | `GET /cms/v3/hubdb/tables/{t}[/draft]/export?format=CSV` |
//! | `CreateTable(Name, Label, Columns, Publish)` | `POST /cms/v3/hubdb/tables` (+ publish) |
//! | `DeleteTable(TableName)` | `DELETE /cms/v3/hubdb/tables/{t}` |
//!
//! `Columns` of `CreateTable` is `name:TYPE[, name:TYPE ...]` (types as HubDB spells them:
//! TEXT, NUMBER, BOOLEAN, DATE, DATETIME, ...) or a JSON array of HubDB column objects.

use std::time::Duration;

use auth_core::{BoxFuture, SharedTokenProvider};
use connstr::HubDbConfig;
use serde_json::{Value as J, json};

use crate::{
    Args, Error, InputDef, ParamType, ProcedureDef, ProcedureOutput, ProcedureSet, ResultColumn,
};

/// The HubDB table procedures of one connection. The token provider is created on first use,
/// so listing procedures needs no credentials.
#[derive(Debug)]
pub struct TableProcedures {
    config: HubDbConfig,
    tokens: tokio::sync::OnceCell<SharedTokenProvider>,
}

impl TableProcedures {
    /// The procedures for a HubDB connection.
    pub fn new(config: &HubDbConfig) -> Self {
        Self {
            config: config.clone(),
            tokens: tokio::sync::OnceCell::new(),
        }
    }

    async fn tokens(&self) -> Result<&SharedTokenProvider, Error> {
        self.tokens
            .get_or_try_init(|| async {
                source_hubdb::token_provider(&self.config).map_err(|e| {
                    Error::Auth(auth_core::Error::InvalidConfiguration {
                        property: "AuthScheme",
                        message: e.to_string(),
                    })
                })
            })
            .await
    }

    fn url(&self, path: &str) -> String {
        format!(
            "{}/cms/v3/hubdb/{path}",
            self.config
                .common
                .api_base_url
                .as_str()
                .trim_end_matches('/')
        )
    }

    /// One API call: bearer token, one retry after a 401 (refreshing a still-current token),
    /// bounded retries on 429/5xx honouring Retry-After.
    async fn call(
        &self,
        procedure: &'static str,
        method: reqwest::Method,
        path: &str,
        body: Body,
    ) -> Result<(u16, bytes::Bytes), Error> {
        let http = auth_core::http::client(&auth_core::http::HttpSettings::from_config(
            &self.config.common,
        ))?;
        let tokens = self.tokens().await?;
        let mut token = tokens.access_token().await?;
        let mut refreshed = false;
        let mut attempt = 0;
        let url = self.url(path);
        loop {
            attempt += 1;
            let mut request = http
                .request(method.clone(), &url)
                .bearer_auth(token.expose());
            request = match &body {
                Body::None => request,
                Body::Json(v) => request.json(v),
                Body::Multipart { boundary, bytes } => request
                    .header(
                        "Content-Type",
                        format!("multipart/form-data; boundary={boundary}"),
                    )
                    .body(bytes.clone()),
            };
            let response = request.send().await.map_err(|e| {
                let url = reqwest::Url::parse(&url)
                    .unwrap_or_else(|_| self.config.common.api_base_url.clone());
                Error::Auth(auth_core::http::transport_error(&url, e))
            })?;
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok());
            let bytes = response.bytes().await.unwrap_or_default();
            match status {
                401 if !refreshed => {
                    token = tokens.on_unauthorized(&token).await?;
                    refreshed = true;
                }
                429 | 500..=599 if attempt < 4 => {
                    let wait = retry_after
                        .map_or(Duration::from_millis(250 << attempt), Duration::from_secs);
                    tokio::time::sleep(wait.min(Duration::from_secs(10))).await;
                }
                200..=299 => return Ok((status, bytes)),
                _ => {
                    let message = serde_json::from_slice::<J>(&bytes)
                        .ok()
                        .and_then(|v| v.get("message").and_then(J::as_str).map(str::to_owned))
                        .unwrap_or_else(|| {
                            String::from_utf8_lossy(&bytes).chars().take(300).collect()
                        });
                    return Err(Error::Api {
                        procedure,
                        status,
                        message,
                    });
                }
            }
        }
    }

    async fn json(
        &self,
        procedure: &'static str,
        method: reqwest::Method,
        path: &str,
        body: Body,
    ) -> Result<J, Error> {
        let (_, bytes) = self.call(procedure, method, path, body).await?;
        Ok(serde_json::from_slice(&bytes).unwrap_or(J::Null))
    }

    async fn run_inner(&self, name: &'static str, args: Args) -> Result<ProcedureOutput, Error> {
        let table = args
            .text("TableName")
            .map(|t| encode(&t))
            .unwrap_or_default();
        let post = reqwest::Method::POST;
        match name {
            "PublishTable" => {
                let v = self
                    .json(
                        name,
                        post,
                        &format!("tables/{table}/draft/publish"),
                        Body::None,
                    )
                    .await?;
                Ok(table_row(&v))
            }
            "UnpublishTable" => {
                let v = self
                    .json(name, post, &format!("tables/{table}/unpublish"), Body::None)
                    .await?;
                Ok(table_row(&v))
            }
            "ResetDraft" => {
                let v = self
                    .json(
                        name,
                        post,
                        &format!("tables/{table}/draft/reset"),
                        Body::None,
                    )
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
                        &format!("tables/{table}/draft/clone"),
                        Body::Json(body),
                    )
                    .await?;
                Ok(table_row(&v))
            }
            "DeleteTable" => {
                self.call(
                    name,
                    reqwest::Method::DELETE,
                    &format!("tables/{table}"),
                    Body::None,
                )
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
                    .json(name, post.clone(), "tables", Body::Json(body))
                    .await?;
                if args.flag("Publish").unwrap_or(false) {
                    v = self
                        .json(
                            name,
                            post,
                            &format!("tables/{}/draft/publish", encode(&table_name)),
                            Body::None,
                        )
                        .await?;
                }
                Ok(table_row(&v))
            }
            "ImportCSV" => {
                let content = match (args.text("File"), args.text("Content")) {
                    (Some(path), _) => std::fs::read(&path).map_err(|e| Error::File {
                        procedure: name,
                        path,
                        message: e.to_string(),
                    })?,
                    (None, Some(text)) => text.into_bytes(),
                    (None, None) => {
                        return Err(Error::MissingInput {
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
                        serde_json::from_str(&mappings).map_err(|e| Error::InvalidInput {
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
                        &format!("tables/{table}/draft/import"),
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
                let path = if draft {
                    format!("tables/{table}/draft/export?format=CSV")
                } else {
                    format!("tables/{table}/export?format=CSV")
                };
                let (_, bytes) = self
                    .call(name, reqwest::Method::GET, &path, Body::None)
                    .await?;
                let file = args.text("File").unwrap_or_default();
                std::fs::write(&file, &bytes).map_err(|e| Error::File {
                    procedure: name,
                    path: file.clone(),
                    message: e.to_string(),
                })?;
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
            _ => Err(Error::UnknownProcedure {
                name: name.to_owned(),
                suggestion: None,
                available: String::new(),
            }),
        }
    }
}

enum Body {
    None,
    Json(J),
    Multipart { boundary: String, bytes: Vec<u8> },
}

/// Percent-encodes a table name or id for a path segment.
fn encode(segment: &str) -> String {
    url::form_urlencoded::byte_serialize(segment.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
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
fn parse_columns(text: &str) -> Result<J, Error> {
    let invalid = |value: &str| {
        Error::InvalidInput {
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
    ) -> BoxFuture<'a, Result<ProcedureOutput, Error>> {
        Box::pin(self.run_inner(name, args))
    }
}
