//! Parquet: `DIR/<table>/data.parquet`, rewritten from old ∪ new with the newest row per key
//! on each run (simple and correct at HubDB and Act-On sizes), through a temporary file and a
//! rename so an interrupted run leaves the old file whole.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use arrow_array::{RecordBatch, RecordBatchReader};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use super::{Change, Store, Target};
use crate::error::{Error, Result};
use crate::merge;
use crate::state::temp_path;

/// The file name inside each table's directory.
const FILE: &str = "data.parquet";

pub(crate) struct ParquetStore {
    dir: PathBuf,
    /// Tables read by `existing`, kept for `apply`.
    loaded: HashMap<String, Option<RecordBatch>>,
}

impl ParquetStore {
    pub(crate) fn new(dir: PathBuf) -> Self {
        Self {
            dir,
            loaded: HashMap::new(),
        }
    }

    fn file(&self, target: &Target) -> PathBuf {
        self.dir.join(&target.name).join(FILE)
    }

    fn load(&mut self, target: &Target) -> Result<Option<RecordBatch>> {
        if let Some(b) = self.loaded.get(&target.name) {
            return Ok(b.clone());
        }
        let batch = read(&self.file(target))?;
        self.loaded.insert(target.name.clone(), batch.clone());
        Ok(batch)
    }
}

/// The whole file as one batch; `None` when it does not exist.
fn read(path: &Path) -> Result<Option<RecordBatch>> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(path, e)),
    };
    let unreadable = |e: &dyn std::fmt::Display| {
        Error::io(
            path,
            format!("not a readable Parquet file ({e}); move it away to sync the table afresh"),
        )
    };
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .and_then(|b| b.build())
        .map_err(|e| unreadable(&e))?;
    let schema = reader.schema();
    let batches: Vec<RecordBatch> = reader
        .collect::<Result<_, _>>()
        .map_err(|e| unreadable(&e))?;
    arrow_select::concat::concat_batches(&schema, &batches)
        .map(Some)
        .map_err(|e| unreadable(&e))
}

/// Writes `batch` to `path` through a temporary file and a rename.
fn write(path: &Path, batch: &RecordBatch) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let tmp = temp_path(path);
    let result = (|| -> Result<(), Box<dyn std::error::Error>> {
        let file = File::create(&tmp)?;
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .build();
        let mut writer = ArrowWriter::try_new(file, batch.schema(), Some(props))?;
        writer.write(batch)?;
        writer.into_inner()?.sync_all()?;
        std::fs::rename(&tmp, path)?;
        Ok(())
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(path, e)
    })
}

impl Store for ParquetStore {
    fn existing(&mut self, target: &Target) -> Result<HashMap<String, Option<String>>> {
        let Some(batch) = self.load(target)? else {
            return Ok(HashMap::new());
        };
        let keys = merge::texts(&target.source_table, &batch, &target.key)?;
        let cursors = match &target.cursor {
            Some(c) if batch.column_by_name(c).is_some() => {
                merge::texts(&target.source_table, &batch, c)?
            }
            _ => vec![None; keys.len()],
        };
        Ok(keys
            .into_iter()
            .zip(cursors)
            .filter_map(|(k, c)| Some((k?, c)))
            .collect())
    }

    fn apply(&mut self, target: &Target, change: Change) -> Result<()> {
        let old = self.load(target)?;
        let schema = merge::union_schema(
            &target.schema,
            old.as_ref().map(|b| b.schema_ref().as_ref()),
        );
        let merged = merge::newest_per_key(
            &target.source_table,
            &schema,
            old.as_ref(),
            &change.rows,
            &target.key,
            &change.deleted,
        )?;
        write(&self.file(target), &merged)?;
        self.loaded.insert(target.name.clone(), Some(merged));
        Ok(())
    }
}
