//! The procedure contract: what a stored procedure declares ([`ProcedureDef`]: inputs with
//! type, default, allowed values and sensitivity; result columns), how its inputs are checked
//! ([`validate`]: nearest-name suggestions, required inputs, allowed values, defaults), what it
//! returns ([`ProcedureOutput`]), and the procedures of one connection ([`Procedures`], a list
//! of [`ProcedureSet`]s). `EXEC` statements are parsed by the SQL layer, which calls
//! [`Procedures::execute`]; `sys_procedures` and `sys_procedureparameters` are built from
//! [`Procedures::definitions`].

use std::fmt;
use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};

use crate::{BoxFuture, Error, Result, Value};

/// How masked values appear in messages.
const MASK: &str = "********";

/// A value as procedure inputs see it: text, `None` for NULL.
fn value_text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::Str(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        other => Some(other.to_string()),
    }
}

/// The type of a procedure input or result column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    /// Text.
    String,
    /// An integer.
    Int,
    /// A boolean.
    Bool,
}

impl ParamType {
    /// The Arrow type of values of this type.
    pub fn data_type(self) -> DataType {
        match self {
            Self::String => DataType::Utf8,
            Self::Int => DataType::Int64,
            Self::Bool => DataType::Boolean,
        }
    }
}

impl fmt::Display for ParamType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::String => "String",
            Self::Int => "Int",
            Self::Bool => "Bool",
        })
    }
}

/// One input of a procedure.
#[derive(Debug, Clone)]
pub struct InputDef {
    /// CData's name.
    pub name: &'static str,
    /// Type.
    pub ty: ParamType,
    /// Whether it must be given (after defaults).
    pub required: bool,
    /// Default, as text.
    pub default: Option<&'static str>,
    /// Allowed values (case-insensitive), empty for any.
    pub allowed: &'static [&'static str],
    /// Whether the value is a secret (never echoed in errors).
    pub sensitive: bool,
    /// What it is.
    pub description: &'static str,
}

/// One result column of a procedure.
#[derive(Debug, Clone)]
pub struct ResultColumn {
    /// Name.
    pub name: &'static str,
    /// Type.
    pub ty: ParamType,
    /// What it is.
    pub description: &'static str,
}

/// A procedure's signature.
#[derive(Debug, Clone)]
pub struct ProcedureDef {
    /// Name.
    pub name: &'static str,
    /// What it does.
    pub description: &'static str,
    /// Inputs.
    pub inputs: Vec<InputDef>,
    /// Result columns.
    pub results: Vec<ResultColumn>,
}

impl InputDef {
    /// An optional input of `ty`.
    pub const fn new(name: &'static str, ty: ParamType, description: &'static str) -> Self {
        Self {
            name,
            ty,
            required: false,
            default: None,
            allowed: &[],
            sensitive: false,
            description,
        }
    }

    /// An optional text input.
    pub const fn text(name: &'static str, description: &'static str) -> Self {
        Self::new(name, ParamType::String, description)
    }

    /// Makes it required.
    pub const fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// Gives it a default (as text).
    pub const fn default(mut self, default: &'static str) -> Self {
        self.default = Some(default);
        self
    }

    /// Restricts it to these values (compared ignoring case).
    pub const fn allowed(mut self, allowed: &'static [&'static str]) -> Self {
        self.allowed = allowed;
        self
    }

    /// Marks it secret: never echoed in errors.
    pub const fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }
}

impl ProcedureDef {
    /// A procedure with no inputs and no result columns yet.
    pub fn new(name: &'static str, description: &'static str) -> Self {
        Self {
            name,
            description,
            inputs: Vec::new(),
            results: Vec::new(),
        }
    }

    /// Adds an input.
    pub fn input(mut self, input: InputDef) -> Self {
        self.inputs.push(input);
        self
    }

    /// Adds a result column.
    pub fn result(mut self, name: &'static str, ty: ParamType, description: &'static str) -> Self {
        self.results.push(ResultColumn {
            name,
            ty,
            description,
        });
        self
    }
}

/// Validated inputs of one call.
#[derive(Debug, Clone, Default)]
pub struct Args {
    values: Vec<(&'static str, Value)>,
}

impl Args {
    /// The text of input `name` (after defaults), `None` when unset or NULL.
    pub fn text(&self, name: &str) -> Option<String> {
        self.values
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| value_text(v))
    }

    /// Input `name` as a boolean (`true`, `1`, `yes`).
    pub fn flag(&self, name: &str) -> Option<bool> {
        self.text(name)
            .map(|t| matches!(t.to_ascii_lowercase().as_str(), "true" | "1" | "yes"))
    }
}

/// What a procedure returns: string columns, one or more rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcedureOutput {
    /// Column names.
    pub columns: Vec<String>,
    /// Rows of values (`None` is NULL).
    pub rows: Vec<Vec<Option<String>>>,
}

impl ProcedureOutput {
    /// One row.
    pub fn row(pairs: Vec<(&str, Option<String>)>) -> Self {
        Self {
            columns: pairs.iter().map(|(n, _)| (*n).to_owned()).collect(),
            rows: vec![pairs.into_iter().map(|(_, v)| v).collect()],
        }
    }

    /// The value of `column` in the first row.
    pub fn first(&self, column: &str) -> Option<&str> {
        let i = self
            .columns
            .iter()
            .position(|c| c.eq_ignore_ascii_case(column))?;
        self.rows.first()?.get(i)?.as_deref()
    }

    /// As an Arrow batch of Utf8 columns.
    pub fn to_record_batch(&self) -> RecordBatch {
        let fields: Vec<Field> = self
            .columns
            .iter()
            .map(|c| Field::new(c, DataType::Utf8, true))
            .collect();
        let arrays: Vec<ArrayRef> = (0..self.columns.len())
            .map(|i| {
                Arc::new(StringArray::from(
                    self.rows
                        .iter()
                        .map(|r| r.get(i).cloned().flatten())
                        .collect::<Vec<_>>(),
                )) as ArrayRef
            })
            .collect();
        RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
            .unwrap_or_else(|_| RecordBatch::new_empty(Arc::new(Schema::empty())))
    }
}

/// Something that runs procedures: a source's own, or the OAuth trio.
///
/// Its errors are [`Error`]s: a source wraps its own with [`Error::with_kind`] (or its
/// `From` impl), so callers learn the [`crate::ErrorKind`] without knowing the source.
pub trait ProcedureSet: Send + Sync + fmt::Debug {
    /// The procedures it offers.
    fn definitions(&self) -> Vec<ProcedureDef>;
    /// Runs `name` (one of `definitions`) with validated `args`.
    fn run<'a>(&'a self, name: &'static str, args: Args) -> BoxFuture<'a, Result<ProcedureOutput>>;
}

/// The procedures of one connection: several [`ProcedureSet`]s behind one name space, with
/// inputs validated before anything runs.
///
/// ```
/// # async fn run() -> Result<(), source_core::Error> {
/// use std::sync::Arc;
/// use source_core::procedure::{Args, ProcedureDef, ProcedureOutput, ProcedureSet, Procedures};
/// use source_core::{BoxFuture, Value};
/// #[derive(Debug)]
/// struct Hello;
/// impl ProcedureSet for Hello {
///     fn definitions(&self) -> Vec<ProcedureDef> {
///         vec![ProcedureDef::new("Hello", "Greets.").input(
///             source_core::procedure::InputDef::text("Name", "Who to greet.").required(),
///         )]
///     }
///     fn run<'a>(&'a self, _name: &'static str, args: Args) -> BoxFuture<'a, source_core::Result<ProcedureOutput>> {
///         let name = args.text("Name").unwrap_or_default();
///         Box::pin(async move { Ok(ProcedureOutput::row(vec![("Greeting", Some(format!("hello {name}")))])) })
///     }
/// }
/// let procedures = Procedures::new(vec![Arc::new(Hello)]);
/// let out = procedures.execute("hello", vec![("NAME".into(), Value::Str("Ada".into()))]).await?;
/// assert_eq!(out.first("Greeting"), Some("hello Ada"));
/// let err = procedures.execute("Hello", vec![]).await.unwrap_err();
/// assert_eq!(err.to_string(), "Hello needs input Name: Who to greet.");
/// # Ok(()) }
/// # futures::executor::block_on(run()).unwrap();
/// ```
#[derive(Debug, Clone, Default)]
pub struct Procedures {
    sets: Vec<Arc<dyn ProcedureSet>>,
}

impl Procedures {
    /// The procedures of these sets (earlier sets win on a name both offer).
    pub fn new(sets: Vec<Arc<dyn ProcedureSet>>) -> Self {
        Self { sets }
    }

    /// Adds a set.
    pub fn push(&mut self, set: Arc<dyn ProcedureSet>) {
        self.sets.push(set);
    }

    /// Every procedure's signature.
    pub fn definitions(&self) -> Vec<ProcedureDef> {
        self.sets.iter().flat_map(|s| s.definitions()).collect()
    }

    /// The signature of `name` (case-insensitive), or an error with the nearest name.
    pub fn describe(&self, name: &str) -> Result<ProcedureDef> {
        let defs = self.definitions();
        if let Some(def) = defs.iter().find(|d| d.name.eq_ignore_ascii_case(name)) {
            return Ok(def.clone());
        }
        let folded = name.to_lowercase();
        let suggestion = defs
            .iter()
            .map(|d| {
                (
                    strsim::normalized_damerau_levenshtein(&folded, &d.name.to_lowercase()),
                    d.name,
                )
            })
            .filter(|(s, _)| *s >= 0.5)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, n)| n);
        Err(Error::UnknownProcedure {
            name: name.to_owned(),
            suggestion,
            available: defs.iter().map(|d| d.name).collect::<Vec<_>>().join(", "),
        })
    }

    /// Validates `inputs` against the procedure and runs it.
    pub async fn execute(
        &self,
        name: &str,
        inputs: Vec<(String, Value)>,
    ) -> Result<ProcedureOutput> {
        let def = self.describe(name)?;
        let args = validate(&def, inputs)?;
        let set = self
            .sets
            .iter()
            .find(|s| s.definitions().iter().any(|d| d.name == def.name))
            .ok_or_else(|| Error::UnknownProcedure {
                name: name.to_owned(),
                suggestion: None,
                available: String::new(),
            })?;
        set.run(def.name, args).await
    }
}

/// Checks inputs against a signature: names (with suggestions), required inputs, allowed
/// values; fills in defaults.
pub fn validate(def: &ProcedureDef, inputs: Vec<(String, Value)>) -> Result<Args> {
    let mut values: Vec<(&'static str, Value)> = Vec::new();
    let available = || {
        def.inputs
            .iter()
            .map(|i| i.name)
            .collect::<Vec<_>>()
            .join(", ")
    };
    for (name, value) in inputs {
        let Some(input) = def
            .inputs
            .iter()
            .find(|i| i.name.eq_ignore_ascii_case(&name))
        else {
            let folded = name.to_lowercase();
            let suggestion = def
                .inputs
                .iter()
                .map(|i| {
                    (
                        strsim::normalized_damerau_levenshtein(&folded, &i.name.to_lowercase()),
                        i.name,
                    )
                })
                .filter(|(s, _)| *s >= 0.5)
                .max_by(|a, b| a.0.total_cmp(&b.0))
                .map(|(_, n)| n);
            return Err(Error::UnknownInput {
                procedure: def.name,
                input: name,
                suggestion,
                available: available(),
            });
        };
        if let (false, Some(text)) = (input.allowed.is_empty(), value_text(&value)) {
            match input.allowed.iter().find(|a| a.eq_ignore_ascii_case(&text)) {
                Some(canonical) => {
                    values.push((input.name, Value::Str((*canonical).to_owned())));
                    continue;
                }
                None => {
                    return Err(Error::InvalidInput {
                        procedure: def.name,
                        input: input.name,
                        value: if input.sensitive {
                            MASK.to_owned()
                        } else {
                            text
                        },
                        allowed: input.allowed.join(", "),
                    });
                }
            }
        }
        values.retain(|(n, _)| *n != input.name);
        values.push((input.name, value));
    }
    for input in &def.inputs {
        let present = values
            .iter()
            .any(|(n, v)| *n == input.name && *v != Value::Null);
        if !present {
            if let Some(default) = input.default {
                values.retain(|(n, _)| *n != input.name);
                values.push((input.name, Value::Str(default.to_owned())));
            } else if input.required {
                return Err(Error::MissingInput {
                    procedure: def.name,
                    input: input.name,
                    description: input.description,
                });
            }
        }
    }
    Ok(Args { values })
}
