//! Discovery: which files are tables, their columns, and the column types inferred from their
//! first rows; and the text form of each type's values, shared by scans, filters and inserts.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

use arrow_schema::DataType;
use source_core::datetime::days_from_civil;
use source_core::{ColumnInfo, Error, TableInfo, TableKind, Writable};

use crate::error::FilesError;

/// The type inferred for a column, from the most to the least specific.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ColumnType {
    /// Every value is a 64-bit integer: Arrow `Int64`.
    Integer,
    /// Every value is a finite decimal number: Arrow `Float64`.
    Float,
    /// Every value is `true` or `false` (any case): Arrow `Boolean`.
    Boolean,
    /// Every value is a `YYYY-MM-DD` date: Arrow `Date32`.
    Date,
    /// Anything else, or no value at all: Arrow `Utf8`.
    Text,
}

/// The order inference tries types in: the first that every value fits wins.
const INFERENCE_ORDER: [ColumnType; 4] = [
    ColumnType::Integer,
    ColumnType::Float,
    ColumnType::Boolean,
    ColumnType::Date,
];

/// One non-empty cell read as its column's type (an empty cell is NULL and never parsed).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Cell<'a> {
    Int(i64),
    Float(f64),
    Bool(bool),
    Date(i32),
    Text(&'a str),
}

impl ColumnType {
    /// The Arrow type of the column in scans.
    pub fn data_type(self) -> DataType {
        match self {
            Self::Integer => DataType::Int64,
            Self::Float => DataType::Float64,
            Self::Boolean => DataType::Boolean,
            Self::Date => DataType::Date32,
            Self::Text => DataType::Utf8,
        }
    }

    /// The name shown as the column's `native_type`.
    pub fn native_type(self) -> &'static str {
        match self {
            Self::Integer => "INTEGER",
            Self::Float => "FLOAT",
            Self::Boolean => "BOOLEAN",
            Self::Date => "DATE",
            Self::Text => "TEXT",
        }
    }

    /// The type whose Arrow type is `data_type`, if any.
    pub fn of(data_type: &DataType) -> Option<Self> {
        match data_type {
            DataType::Int64 => Some(Self::Integer),
            DataType::Float64 => Some(Self::Float),
            DataType::Boolean => Some(Self::Boolean),
            DataType::Date32 => Some(Self::Date),
            DataType::Utf8 => Some(Self::Text),
            _ => None,
        }
    }

    /// What values of this type look like, for messages.
    pub(crate) fn expected(self) -> &'static str {
        match self {
            Self::Integer => "an integer",
            Self::Float => "a number",
            Self::Boolean => "true or false",
            Self::Date => "a date (YYYY-MM-DD)",
            Self::Text => "text",
        }
    }

    /// A non-empty cell as this type; `None` when it does not fit.
    pub(crate) fn parse(self, text: &str) -> Option<Cell<'_>> {
        match self {
            Self::Integer => text.parse().ok().map(Cell::Int),
            // Rust also reads `inf` and `NaN`; in a CSV file those are words, not numbers.
            Self::Float => text
                .bytes()
                .any(|b| b.is_ascii_digit())
                .then(|| text.parse::<f64>().ok().filter(|x| x.is_finite()))
                .flatten()
                .map(Cell::Float),
            Self::Boolean => {
                if text.eq_ignore_ascii_case("true") {
                    Some(Cell::Bool(true))
                } else if text.eq_ignore_ascii_case("false") {
                    Some(Cell::Bool(false))
                } else {
                    None
                }
            }
            Self::Date => parse_date(text).map(Cell::Date),
            Self::Text => Some(Cell::Text(text)),
        }
    }
}

/// A table: a file, its column names and their inferred types.
#[derive(Debug, Clone)]
pub(crate) struct CsvTable {
    pub(crate) name: String,
    pub(crate) path: PathBuf,
    pub(crate) columns: Vec<(String, ColumnType)>,
}

impl CsvTable {
    /// Reads the header and the first `depth` data rows of `path`.
    pub(crate) fn load(
        name: &str,
        path: &Path,
        delimiter: u8,
        depth: usize,
    ) -> Result<Self, FilesError> {
        let mut reader = open(path, delimiter)?;
        let names = column_names(reader.headers().map_err(|e| FilesError::csv(path, e))?);
        // Per column: which types every value seen so far fits, and whether any value was seen.
        let mut fits = vec![[true; INFERENCE_ORDER.len()]; names.len()];
        let mut seen = vec![false; names.len()];
        let mut record = csv::StringRecord::new();
        for _ in 0..depth {
            if !reader
                .read_record(&mut record)
                .map_err(|e| FilesError::csv(path, e))?
            {
                break;
            }
            for (i, text) in record.iter().enumerate().filter(|(_, t)| !t.is_empty()) {
                seen[i] = true;
                for (fit, ty) in fits[i].iter_mut().zip(INFERENCE_ORDER) {
                    *fit = *fit && ty.parse(text).is_some();
                }
            }
        }
        let columns = names
            .into_iter()
            .zip(fits.iter().zip(seen))
            .map(|(name, (fits, seen))| {
                // A column with no value yet could be anything: text is the type that cannot fail.
                let ty = INFERENCE_ORDER
                    .into_iter()
                    .zip(fits)
                    .find(|(_, fit)| seen && **fit)
                    .map_or(ColumnType::Text, |(ty, _)| ty);
                (name, ty)
            })
            .collect();
        Ok(Self {
            name: name.to_owned(),
            path: path.to_owned(),
            columns,
        })
    }

    /// The table as `sys_tables` and scans see it.
    pub(crate) fn info(&self) -> TableInfo {
        TableInfo {
            name: self.name.clone(),
            kind: TableKind::Table,
            description: format!("The rows of {}.", crate::error::file_name(&self.path)),
            columns: self
                .columns
                .iter()
                .map(|(name, ty)| ColumnInfo::new(name, ty.data_type(), ty.native_type()))
                .collect(),
            writable: Writable {
                insert: true,
                update: false,
                delete: false,
            },
            required_filters: Vec::new(),
        }
    }
}

/// A reader of `path` positioned after its header row.
pub(crate) fn open(path: &Path, delimiter: u8) -> Result<csv::Reader<File>, FilesError> {
    let file = File::open(path).map_err(|e| FilesError::io("read", path, e))?;
    Ok(csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .from_reader(file))
}

/// Header fields as column names: trimmed, blanks named `column<n>`, and names that differ
/// only in case made unique with a suffix (lookups ignore case, so one would hide the other).
fn column_names(header: &csv::StringRecord) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for (i, field) in header.iter().enumerate() {
        let base = match field.trim() {
            "" => format!("column{}", i + 1),
            text => text.to_owned(),
        };
        let mut name = base.clone();
        let mut n = 2;
        while names.iter().any(|x| x.eq_ignore_ascii_case(&name)) {
            name = format!("{base}_{n}");
            n += 1;
        }
        names.push(name);
    }
    names
}

/// Fails with a configuration error unless `folder` is a directory.
pub(crate) fn check_folder(folder: &Path) -> Result<(), FilesError> {
    match fs::metadata(folder) {
        Ok(meta) if meta.is_dir() => Ok(()),
        Ok(_) => Err(FilesError::NotAFolder {
            path: folder.to_owned(),
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Err(FilesError::FolderMissing {
            path: folder.to_owned(),
        }),
        Err(e) => Err(FilesError::io("open", folder, e)),
    }
}

/// The `*.csv` files of `folder` (not its subdirectories) as (table name, path), by name.
pub(crate) fn table_files(folder: &Path) -> Result<Vec<(String, PathBuf)>, FilesError> {
    check_folder(folder)?;
    let list_error = |e| FilesError::io("list", folder, e);
    let mut files = Vec::new();
    for entry in fs::read_dir(folder).map_err(list_error)? {
        let path = entry.map_err(list_error)?.path();
        let is_csv = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
        // A name that is not UTF-8 cannot be written in SQL; such a file is not a table.
        let stem = path.file_stem().and_then(|s| s.to_str()).map(str::to_owned);
        if let (true, Some(stem)) = (is_csv && path.is_file(), stem) {
            files.push((stem, path));
        }
    }
    files.sort();
    Ok(files)
}

/// The file of table `name` (exact, then ignoring case), as [`source_core::find_table`] finds
/// tables, but without reading every file to build their [`TableInfo`]s first.
pub(crate) fn find_file<'a>(
    files: &'a [(String, PathBuf)],
    name: &str,
) -> source_core::Result<&'a (String, PathBuf)> {
    files
        .iter()
        .find(|(n, _)| n == name)
        .or_else(|| files.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)))
        .ok_or_else(|| Error::unknown_table(name, files.iter().map(|(n, _)| n)))
}

/// `YYYY-MM-DD` (a real calendar day) as days since 1970-01-01.
fn parse_date(text: &str) -> Option<i32> {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let number = |from: usize, to: usize| -> Option<i64> {
        let digits = text.get(from..to)?;
        digits.bytes().all(|c| c.is_ascii_digit()).then_some(())?;
        digits.parse().ok()
    };
    let (y, m, d) = (number(0, 4)?, number(5, 7)?, number(8, 10)?);
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let days_in_month = match m {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        1..=12 => 31,
        _ => return None,
    };
    if !(1..=days_in_month).contains(&d) {
        return None;
    }
    i32::try_from(days_from_civil(y, m, d)).ok()
}

/// Days since 1970-01-01 as `YYYY-MM-DD` (Howard Hinnant's `civil_from_days`).
pub(crate) fn format_date(days: i32) -> String {
    let z = i64::from(days) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_and_reject_impossible_days() {
        for text in [
            "1970-01-01",
            "2024-02-29",
            "1969-12-31",
            "0001-01-01",
            "9999-12-31",
        ] {
            let days = parse_date(text).unwrap();
            assert_eq!(format_date(days), text);
        }
        assert_eq!(parse_date("2024-03-01"), Some(19_783));
        for text in [
            "2023-02-29",
            "2024-13-01",
            "2024-00-10",
            "2024-1-01",
            "+024-01-01",
            "2024/01/01",
        ] {
            assert_eq!(parse_date(text), None, "{text}");
        }
    }

    #[test]
    fn numbers_are_digits_not_words() {
        assert_eq!(ColumnType::Float.parse("1e3"), Some(Cell::Float(1000.0)));
        for word in ["inf", "NaN", "infinity", "1e999"] {
            assert_eq!(ColumnType::Float.parse(word), None, "{word}");
        }
        assert_eq!(ColumnType::Boolean.parse("TRUE"), Some(Cell::Bool(true)));
    }

    #[test]
    fn header_names_are_unique_ignoring_case() {
        let header = csv::StringRecord::from(vec!["id", " Name ", "", "ID", "name"]);
        assert_eq!(
            column_names(&header),
            ["id", "Name", "column3", "ID_2", "name_2"]
        );
    }
}
