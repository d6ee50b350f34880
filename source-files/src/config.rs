//! The connection properties and the typed configuration [`validate`] checks them into.
//!
//! ```
//! let cs: connstr::ConnectionString = "Folder=/data/exports;Delimiter=|;Pagesize=50000".parse()?;
//! let config = source_files::validate(&cs)?;
//! assert_eq!(config.delimiter, b'|');
//! assert_eq!(config.page_size, source_files::MAX_PAGE_SIZE); // capped, not rejected
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::path::PathBuf;

use connstr::registry::{Group, PropertyDef, PropertyType as T};
use connstr::{CommonConfig, ConnectionString, Properties, ValidationError, Validator};

/// Rows per batch when `Pagesize` is not set.
pub const DEFAULT_PAGE_SIZE: usize = 1000;
/// The largest `Pagesize` honoured; larger values are capped, not rejected.
pub const MAX_PAGE_SIZE: usize = 10_000;
/// Rows read to infer column types when `RowScanDepth` is not set.
pub const DEFAULT_ROW_SCAN_DEPTH: usize = 100;

// Consts rather than statics, so that `validate` can name the definition it reports on.
const FOLDER: PropertyDef = PropertyDef::new(
    "Folder",
    T::Path,
    None,
    Group::Connection,
    "The directory whose *.csv files are the tables, one table per file named after the file (subdirectories are not read). Required.",
);
const DELIMITER: PropertyDef = PropertyDef::new(
    "Delimiter",
    T::String,
    Some(","),
    Group::Miscellaneous,
    "The field separator: one ASCII character, or \\t for a tab. Quote a semicolon: Delimiter=';'.",
);

static OWN: &[PropertyDef] = &[FOLDER, DELIMITER];

/// Every property a Files connection accepts: `Folder` and `Delimiter`, then the shared ones
/// (of which it uses `Pagesize`, `RowScanDepth` and `MaxRows`).
pub static PROPERTIES: Properties = Properties::new("Files", OWN);

/// A validated Files configuration.
#[derive(Debug, Clone)]
pub struct FilesConfig {
    /// `Folder`, as given (checked to be a directory when the source connects).
    pub folder: PathBuf,
    /// `Delimiter`, as a byte.
    pub delimiter: u8,
    /// `Pagesize`: rows per batch, at most [`MAX_PAGE_SIZE`].
    pub page_size: usize,
    /// `RowScanDepth`: data rows read to infer column types.
    pub row_scan_depth: usize,
    /// The shared properties (`MaxRows` caps scans).
    pub common: CommonConfig,
}

// `source_plugin::Source` needs these to reach the shared part (e.g. to drop `MaxRows` for SQL).
impl AsRef<CommonConfig> for FilesConfig {
    fn as_ref(&self) -> &CommonConfig {
        &self.common
    }
}

impl AsMut<CommonConfig> for FilesConfig {
    fn as_mut(&mut self) -> &mut CommonConfig {
        &mut self.common
    }
}

/// Checks a Files connection string, reporting every problem at once.
pub fn validate(cs: &ConnectionString) -> Result<FilesConfig, ValidationError> {
    let mut v = Validator::new(&PROPERTIES, cs);
    let folder = v.string(FOLDER.name);
    v.require(
        folder.is_some(),
        FOLDER.name,
        "to name the directory of .csv files to serve (e.g. Folder=/data/exports)",
    );
    // Read raw: a tab is whitespace, which `Validator::string` trims away.
    let delimiter = match cs.get(DELIMITER.name) {
        None => b',',
        Some(text) => parse_delimiter(text).unwrap_or_else(|| {
            v.invalid(
                &DELIMITER,
                text,
                "one ASCII character such as , ; | or \\t for a tab".to_owned(),
            );
            b','
        }),
    };
    // Nothing is fetched over HTTP: no endpoints.
    let common = v.common_local();
    let page_size = common
        .pagesize
        .map_or(DEFAULT_PAGE_SIZE, |n| {
            usize::try_from(n).unwrap_or(MAX_PAGE_SIZE)
        })
        .min(MAX_PAGE_SIZE);
    // `common` has already reported a bad RowScanDepth; reading it again here through the
    // validator would report it twice, so a bad value simply falls back to the default.
    let row_scan_depth = cs
        .get("RowScanDepth")
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or(DEFAULT_ROW_SCAN_DEPTH);
    v.finish(FilesConfig {
        folder: PathBuf::from(folder.unwrap_or_default()),
        delimiter,
        page_size,
        row_scan_depth,
        common,
    })
}

/// One ASCII character, `\t`, or a real tab; never a quote or a line break, which would make
/// the file unreadable.
fn parse_delimiter(text: &str) -> Option<u8> {
    match text.as_bytes() {
        b"\\t" | b"\t" => Some(b'\t'),
        [b] if b.is_ascii_graphic() && *b != b'"' => Some(*b),
        _ => None,
    }
}
