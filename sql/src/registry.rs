//! The `procedures` crate's registry as a session's [`ProcedureRunner`] (feature
//! `procedures`, which the CLI and the Python module turn on; the SQL layer itself does not
//! need the source crates that registry brings).

use arrow_schema::DataType;
use source_core::{BoxFuture, ParameterInfo, ProcedureInfo, RecordBatchStream, Value};

use crate::ProcedureRunner;

/// A [`procedures::Registry`] (the OAuth procedures, HubDB's table procedures) serving `EXEC`
/// and the `sys_procedures` / `sys_procedureparameters` tables of a session.
///
/// ```no_run
/// # fn demo(cs: &connstr::ConnectionString) -> Result<(), Box<dyn std::error::Error>> {
/// use std::sync::Arc;
/// let registry = procedures::Registry::hubdb(&connstr::validate::hubdb(cs)?)?;
/// let mut session = sql::Session::new();
/// session.register_procedures("hubdb", Arc::new(sql::RegistryProcedures(registry)));
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct RegistryProcedures(pub procedures::Registry);

impl ProcedureRunner for RegistryProcedures {
    fn procedures(&self) -> Vec<ProcedureInfo> {
        self.0
            .definitions()
            .into_iter()
            .map(|d| ProcedureInfo {
                name: d.name.to_owned(),
                description: d.description.to_owned(),
                parameters: d
                    .inputs
                    .iter()
                    .map(|i| ParameterInfo {
                        name: i.name.to_owned(),
                        data_type: match i.ty {
                            procedures::ParamType::Int => DataType::Int64,
                            procedures::ParamType::Bool => DataType::Boolean,
                            procedures::ParamType::String => DataType::Utf8,
                        },
                        required: i.required,
                        description: i.description.to_owned(),
                    })
                    .collect(),
            })
            .collect()
    }

    fn execute<'a>(
        &'a self,
        name: &'a str,
        args: Vec<(String, Value)>,
    ) -> BoxFuture<'a, source_core::Result<RecordBatchStream>> {
        Box::pin(async move {
            let inputs = args.into_iter().map(|(k, v)| (k, exec_value(v))).collect();
            let output = self
                .0
                .execute(name, inputs)
                .await
                .map_err(source_core::Error::source)?;
            let batch = output.to_record_batch();
            let schema = batch.schema();
            Ok(RecordBatchStream::new(
                schema,
                futures::stream::iter(vec![Ok(batch)]),
            ))
        })
    }
}

/// A bound `EXEC` argument in the registry's terms (numbers keep their text).
fn exec_value(value: Value) -> procedures::exec::Value {
    use procedures::exec::Value as V;
    match value {
        Value::Null => V::Null,
        Value::Bool(b) => V::Bool(b),
        Value::Int(n) => V::Number(n.to_string()),
        Value::Float(f) => V::Number(f.to_string()),
        Value::Str(s) => V::Text(s),
        other => V::Text(format!("{other:?}")),
    }
}
