//! What the last write of a session did: `sys_identity` (one row per written or refused
//! row) and `SCOPE_IDENTITY()` (the key of the last row inserted), as CData has them.

use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, MutexGuard};

use datafusion::arrow::datatypes::DataType;
use datafusion::error::Result as DfResult;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::scalar::ScalarValue;
use source_core::{Value, WriteOutcome};

/// One row of `sys_identity`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct IdentityRow {
    /// The key the source gave an inserted row; `None` for a refused row.
    pub(crate) id: Option<String>,
    /// The row's position in the statement, from 1.
    pub(crate) batch: u32,
    /// `INSERT`, `UPDATE` or `DELETE`.
    pub(crate) operation: &'static str,
    /// `SUCCESS`, or why the source refused the row.
    pub(crate) message: String,
}

/// The session's record of its last write.
#[derive(Debug, Default)]
pub(crate) struct IdentityLog {
    rows: Mutex<Vec<IdentityRow>>,
    last_inserted: Mutex<Option<String>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // The values are replaced whole, so a panic elsewhere cannot leave them half-written.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A key as text: `42`, `l-0001:12` (no SQL quotes).
fn key_text(v: &Value) -> String {
    match v {
        Value::Str(s) => s.clone(),
        other => other.to_string(),
    }
}

impl IdentityLog {
    /// Replaces the record with `outcome` of one statement. Inserted keys come in input
    /// order for the rows that did not fail; the failed rows carry their input index.
    pub(crate) fn record(&self, operation: &'static str, outcome: &WriteOutcome) {
        let mut keys = outcome.keys.iter();
        let rows_in = outcome.keys.len() + outcome.errors.len();
        let mut rows = Vec::new();
        for index in 0..rows_in {
            let batch = u32::try_from(index + 1).unwrap_or(u32::MAX);
            if let Some(e) = outcome.errors.iter().find(|e| e.index == index) {
                rows.push(IdentityRow {
                    id: None,
                    batch,
                    operation,
                    message: e.message.clone(),
                });
            } else if let Some(key) = keys.next() {
                rows.push(IdentityRow {
                    id: Some(key_text(key)),
                    batch,
                    operation,
                    message: "SUCCESS".into(),
                });
            }
        }
        if let Some(last) = outcome.keys.last() {
            *lock(&self.last_inserted) = Some(key_text(last));
        }
        *lock(&self.rows) = rows;
    }

    pub(crate) fn rows(&self) -> Vec<IdentityRow> {
        lock(&self.rows).clone()
    }

    /// The key of the last row inserted by this session, if any.
    pub(crate) fn last_inserted(&self) -> Option<String> {
        lock(&self.last_inserted).clone()
    }
}

/// `SCOPE_IDENTITY()`: the key of the last row this session inserted, as text (HubDB ids
/// are numbers, Act-On record ids are not), NULL before any insert.
#[derive(Debug)]
pub(crate) struct ScopeIdentity {
    log: Arc<IdentityLog>,
    signature: Signature,
}

impl ScopeIdentity {
    pub(crate) fn udf(log: Arc<IdentityLog>) -> ScalarUDF {
        ScalarUDF::new_from_impl(Self {
            log,
            // Stable: constant within a statement, so the planner folds it into a literal that
            // can be pushed (`WHERE ContactId = SCOPE_IDENTITY()`).
            signature: Signature::nullary(Volatility::Stable),
        })
    }
}

impl PartialEq for ScopeIdentity {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.log, &other.log)
    }
}

impl Eq for ScopeIdentity {}

impl Hash for ScopeIdentity {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name().hash(state);
    }
}

impl ScalarUDFImpl for ScopeIdentity {
    fn name(&self) -> &str {
        "scope_identity"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, _args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        Ok(ColumnarValue::Scalar(ScalarValue::Utf8(
            self.log.last_inserted(),
        )))
    }
}
