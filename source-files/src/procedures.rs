//! The source's own procedure, `CreateTable`: a new CSV file holding only a header row.

use std::fs::OpenOptions;
use std::io;
use std::path::PathBuf;

use source_core::procedure::{
    Args, InputDef, ParamType, ProcedureDef, ProcedureOutput, ProcedureSet,
};
use source_core::{BoxFuture, Result};

use crate::config::FilesConfig;
use crate::error::FilesError;
use crate::schema::{check_folder, table_files};

/// The procedures of a Files connection (`CreateTable`).
///
/// ```
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use source_plugin::AnySource;
/// let folder = tempfile::tempdir()?;
/// let cs = format!("Folder={}", folder.path().display()).parse()?;
/// let procedures = source_files::SOURCE.configure(&cs)?.procedures()?;
/// let inputs = vec![("Name".into(), "people".into()), ("Columns".into(), "id, name".into())];
/// let out = procedures.execute("CreateTable", inputs).await?;
/// assert_eq!(out.first("Table"), Some("people"));
/// assert_eq!(std::fs::read_to_string(folder.path().join("people.csv"))?, "id,name\n");
/// # Ok(()) }
/// # futures::executor::block_on(run()).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct FilesProcedures {
    folder: PathBuf,
    delimiter: u8,
}

impl FilesProcedures {
    /// The procedures of the connection `config` describes.
    pub fn new(config: &FilesConfig) -> Self {
        Self {
            folder: config.folder.clone(),
            delimiter: config.delimiter,
        }
    }

    /// Creates `<Folder>/<name>.csv` with the header `columns` (comma-separated).
    fn create_table(&self, name: &str, columns: &str) -> Result<ProcedureOutput, FilesError> {
        let bad_name = |reason| FilesError::BadName {
            name: name.to_owned(),
            reason,
        };
        if name.is_empty() {
            return Err(bad_name("it is empty"));
        }
        // The name becomes a file name: it must not reach outside the folder.
        if name.contains(['/', '\\']) || name.contains(std::path::is_separator) {
            return Err(bad_name("a table name cannot contain a path separator"));
        }
        if name.starts_with('.') || name.chars().any(char::is_control) {
            return Err(bad_name(
                "a table name cannot start with a dot or hold control characters",
            ));
        }
        let header = column_list(columns)?;
        check_folder(&self.folder)?;
        // Lookups ignore case, so `People` would be ambiguous beside an existing `people`.
        if let Some((existing, path)) = table_files(&self.folder)?
            .into_iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            return Err(FilesError::TableExists {
                name: existing,
                path,
            });
        }
        let path = self.folder.join(format!("{name}.csv"));
        // `create_new` refuses an existing file atomically, even one created since the check.
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| match e.kind() {
                io::ErrorKind::AlreadyExists => FilesError::TableExists {
                    name: name.to_owned(),
                    path: path.clone(),
                },
                _ => FilesError::io("create", &path, e),
            })?;
        let mut writer = csv::WriterBuilder::new()
            .delimiter(self.delimiter)
            .from_writer(file);
        writer
            .write_record(&header)
            .map_err(|e| FilesError::io("write", &path, e.into()))?;
        writer
            .flush()
            .map_err(|e| FilesError::io("write", &path, e))?;
        Ok(ProcedureOutput::row(vec![
            ("Table", Some(name.to_owned())),
            ("File", Some(path.display().to_string())),
        ]))
    }
}

/// `Columns` as header fields: trimmed, none empty, no two equal ignoring case.
fn column_list(columns: &str) -> Result<Vec<String>, FilesError> {
    let bad = |reason: String| FilesError::BadColumns {
        columns: columns.to_owned(),
        reason,
    };
    let names: Vec<String> = columns.split(',').map(|c| c.trim().to_owned()).collect();
    if names.iter().any(String::is_empty) {
        return Err(bad("a column name is empty".to_owned()));
    }
    for (i, name) in names.iter().enumerate() {
        if names[..i].iter().any(|n| n.eq_ignore_ascii_case(name)) {
            return Err(bad(format!(
                "column `{name}` appears twice (names are compared ignoring case)"
            )));
        }
    }
    Ok(names)
}

impl ProcedureSet for FilesProcedures {
    fn definitions(&self) -> Vec<ProcedureDef> {
        vec![
            ProcedureDef::new(
                "CreateTable",
                "Creates an empty table: a new file <Folder>/<Name>.csv holding only a header row.",
            )
            .input(InputDef::text("Name", "The table name; the file is <Name>.csv.").required())
            .input(
                InputDef::text("Columns", "Comma-separated column names, the header row.")
                    .required(),
            )
            .result("Table", ParamType::String, "The new table's name.")
            .result("File", ParamType::String, "The path of the new file."),
        ]
    }

    fn run<'a>(&'a self, name: &'static str, args: Args) -> BoxFuture<'a, Result<ProcedureOutput>> {
        Box::pin(async move {
            match name {
                "CreateTable" => {
                    // Both are required inputs: `Procedures::execute` has checked they are set.
                    let table = args.text("Name").unwrap_or_default();
                    let columns = args.text("Columns").unwrap_or_default();
                    Ok(self.create_table(table.trim(), &columns)?)
                }
                other => Err(source_core::Error::unsupported(
                    format!("procedure {other}"),
                    None,
                )),
            }
        })
    }
}
