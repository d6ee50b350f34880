//! Values between Arrow / the engine and Python.
//!
//! Arrow to Python (row values): NULL → `None`; booleans → `bool`; integers → `int`;
//! floats → `float`; strings → `str`; `Date32`/`Date64` → `datetime.date`; timestamps →
//! `datetime.datetime` (UTC-aware when the column has a time zone, as every source column
//! has; naive otherwise); `Time*` → `datetime.time`; decimals → `decimal.Decimal`; binary →
//! `bytes`; lists (multi-valued columns such as HubDB MULTISELECT) → `list`; structs (HubDB
//! IMAGE, LOCATION) → `dict`. Anything else
//! → its Arrow text form (`str`).
//!
//! Python to parameters: `None`, `bool`, `int`, `float`, `str`, `datetime.datetime` (naive
//! values are taken as UTC), `datetime.date`, `decimal.Decimal` (as a float), and lists or
//! tuples of those (for `IN (?)`).

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Date64Type, Decimal128Type, Float16Type, Float32Type, Float64Type, Int8Type,
    Int16Type, Int32Type, Int64Type, Time32MillisecondType, Time32SecondType,
    Time64MicrosecondType, Time64NanosecondType, TimestampMicrosecondType,
    TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType, UInt8Type, UInt16Type,
    UInt32Type, UInt64Type,
};
use arrow_array::{Array, RecordBatch};
use arrow_schema::{DataType, Field, TimeUnit};
use pyo3::IntoPyObjectExt;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::type_object::PyTypeInfo;
use pyo3::types::IntoPyDict;
use pyo3::types::{
    PyBool, PyBytes, PyDate, PyDateTime, PyDict, PyFloat, PyInt, PyList, PyString, PyTime, PyTuple,
    PyType, PyTzInfo,
};
use source_core::Value;

use crate::errors::{Class, DbError};

/// Days from 0001-01-01 (Python ordinal 1) to 1970-01-01.
const UNIX_EPOCH_ORDINAL: i64 = 719_163;

/// `(year, month, day)` of a day count since 1970-01-01 (proleptic Gregorian; Howard
/// Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn out_of_range(what: &str, value: impl std::fmt::Display) -> PyErr {
    DbError::new(
        Class::Data,
        format!("{what} {value} is outside the range Python's datetime supports"),
    )
    .into()
}

fn date<'py>(py: Python<'py>, days: i64) -> PyResult<Bound<'py, PyAny>> {
    let (y, m, d) = civil_from_days(days);
    let year = i32::try_from(y).map_err(|_| out_of_range("date (days since 1970)", days))?;
    Ok(PyDate::new(py, year, m, d)
        .map_err(|_| out_of_range("date (days since 1970)", days))?
        .into_any())
}

/// A datetime from microseconds since the Unix epoch, UTC-aware when `aware`.
fn datetime<'py>(py: Python<'py>, micros: i64, aware: bool) -> PyResult<Bound<'py, PyAny>> {
    let days = micros.div_euclid(86_400_000_000);
    let rest = micros.rem_euclid(86_400_000_000);
    let (y, m, d) = civil_from_days(days);
    let secs = rest / 1_000_000;
    let tz = if aware {
        Some(PyTzInfo::utc(py)?.to_owned())
    } else {
        None
    };
    let year = i32::try_from(y).map_err(|_| out_of_range("timestamp (µs)", micros))?;
    PyDateTime::new(
        py,
        year,
        m,
        d,
        (secs / 3600) as u8,
        (secs / 60 % 60) as u8,
        (secs % 60) as u8,
        (rest % 1_000_000) as u32,
        tz.as_ref(),
    )
    .map(Bound::into_any)
    .map_err(|_| out_of_range("timestamp (µs)", micros))
}

fn time<'py>(py: Python<'py>, micros: i64) -> PyResult<Bound<'py, PyAny>> {
    let secs = micros.div_euclid(1_000_000).rem_euclid(86_400);
    PyTime::new(
        py,
        (secs / 3600) as u8,
        (secs / 60 % 60) as u8,
        (secs % 60) as u8,
        micros.rem_euclid(1_000_000) as u32,
        None,
    )
    .map(Bound::into_any)
}

/// `decimal.Decimal`, imported once.
fn decimal_type(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    static DECIMAL: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    DECIMAL.import(py, "decimal", "Decimal")
}

/// The Python value of row `row` of `array`.
pub(crate) fn value<'py>(
    py: Python<'py>,
    array: &dyn Array,
    row: usize,
) -> PyResult<Bound<'py, PyAny>> {
    if array.is_null(row) {
        return Ok(py.None().into_bound(py));
    }
    macro_rules! prim {
        ($t:ty) => {
            array.as_primitive::<$t>().value(row).into_bound_py_any(py)
        };
    }
    match array.data_type() {
        DataType::Null => Ok(py.None().into_bound(py)),
        DataType::Boolean => array.as_boolean().value(row).into_bound_py_any(py),
        DataType::Int8 => prim!(Int8Type),
        DataType::Int16 => prim!(Int16Type),
        DataType::Int32 => prim!(Int32Type),
        DataType::Int64 => prim!(Int64Type),
        DataType::UInt8 => prim!(UInt8Type),
        DataType::UInt16 => prim!(UInt16Type),
        DataType::UInt32 => prim!(UInt32Type),
        DataType::UInt64 => prim!(UInt64Type),
        DataType::Float16 => {
            f64::from(array.as_primitive::<Float16Type>().value(row).to_f32()).into_bound_py_any(py)
        }
        DataType::Float32 => {
            f64::from(array.as_primitive::<Float32Type>().value(row)).into_bound_py_any(py)
        }
        DataType::Float64 => prim!(Float64Type),
        DataType::Utf8 => array.as_string::<i32>().value(row).into_bound_py_any(py),
        DataType::LargeUtf8 => array.as_string::<i64>().value(row).into_bound_py_any(py),
        DataType::Utf8View => array.as_string_view().value(row).into_bound_py_any(py),
        DataType::Binary => Ok(PyBytes::new(py, array.as_binary::<i32>().value(row)).into_any()),
        DataType::LargeBinary => {
            Ok(PyBytes::new(py, array.as_binary::<i64>().value(row)).into_any())
        }
        DataType::BinaryView => Ok(PyBytes::new(py, array.as_binary_view().value(row)).into_any()),
        DataType::Date32 => date(py, i64::from(array.as_primitive::<Date32Type>().value(row))),
        DataType::Date64 => date(
            py,
            array
                .as_primitive::<Date64Type>()
                .value(row)
                .div_euclid(86_400_000),
        ),
        DataType::Timestamp(unit, tz) => {
            let micros = match unit {
                TimeUnit::Second => array
                    .as_primitive::<TimestampSecondType>()
                    .value(row)
                    .saturating_mul(1_000_000),
                TimeUnit::Millisecond => array
                    .as_primitive::<TimestampMillisecondType>()
                    .value(row)
                    .saturating_mul(1_000),
                TimeUnit::Microsecond => {
                    array.as_primitive::<TimestampMicrosecondType>().value(row)
                }
                TimeUnit::Nanosecond => array
                    .as_primitive::<TimestampNanosecondType>()
                    .value(row)
                    .div_euclid(1_000),
            };
            datetime(py, micros, tz.is_some())
        }
        DataType::Time32(TimeUnit::Second) => time(
            py,
            i64::from(array.as_primitive::<Time32SecondType>().value(row)) * 1_000_000,
        ),
        DataType::Time32(_) => time(
            py,
            i64::from(array.as_primitive::<Time32MillisecondType>().value(row)) * 1_000,
        ),
        DataType::Time64(TimeUnit::Microsecond) => {
            time(py, array.as_primitive::<Time64MicrosecondType>().value(row))
        }
        DataType::Time64(_) => time(
            py,
            array
                .as_primitive::<Time64NanosecondType>()
                .value(row)
                .div_euclid(1_000),
        ),
        DataType::Decimal128(_, _) => {
            let text = array.as_primitive::<Decimal128Type>().value_as_string(row);
            decimal_type(py)?.call1((text,))
        }
        DataType::List(_) => list(py, array.as_list::<i32>().value(row).as_ref()),
        DataType::LargeList(_) => list(py, array.as_list::<i64>().value(row).as_ref()),
        DataType::FixedSizeList(_, _) => list(py, array.as_fixed_size_list().value(row).as_ref()),
        DataType::Struct(fields) => {
            let parts = array.as_struct();
            let dict = PyDict::new(py);
            for (field, column) in fields.iter().zip(parts.columns()) {
                dict.set_item(field.name(), value(py, column.as_ref(), row)?)?;
            }
            Ok(dict.into_any())
        }
        DataType::Dictionary(_, _) => {
            let dict = array.as_any_dictionary();
            let key = dict.normalized_keys()[row];
            value(py, dict.values().as_ref(), key)
        }
        _ => {
            let options = arrow_cast::display::FormatOptions::default();
            let formatter = arrow_cast::display::ArrayFormatter::try_new(array, &options)
                .map_err(|e| DbError::new(Class::Data, e.to_string()))?;
            formatter.value(row).to_string().into_bound_py_any(py)
        }
    }
}

fn list<'py>(py: Python<'py>, items: &dyn Array) -> PyResult<Bound<'py, PyAny>> {
    let values = (0..items.len())
        .map(|i| value(py, items, i))
        .collect::<PyResult<Vec<_>>>()?;
    Ok(PyList::new(py, values)?.into_any())
}

/// Row `row` of `batch` as a tuple.
pub(crate) fn row<'py>(
    py: Python<'py>,
    batch: &RecordBatch,
    row: usize,
) -> PyResult<Bound<'py, PyTuple>> {
    let values = batch
        .columns()
        .iter()
        .map(|c| value(py, c.as_ref(), row))
        .collect::<PyResult<Vec<_>>>()?;
    PyTuple::new(py, values)
}

/// The PEP 249 `description` entry of a field: `(name, type_code, display_size,
/// internal_size, precision, scale, null_ok)`. The type code is the Python type of the values
/// (as pyodbc does), so `STRING == type_code` and friends work.
pub(crate) fn describe<'py>(py: Python<'py>, field: &Field) -> PyResult<Bound<'py, PyTuple>> {
    let datetime = py.import("datetime")?;
    let type_code: Bound<'py, PyAny> = match field.data_type() {
        DataType::Boolean => PyBool::type_object(py).into_any(),
        t if t.is_integer() => PyInt::type_object(py).into_any(),
        DataType::Float16 | DataType::Float32 | DataType::Float64 => {
            PyFloat::type_object(py).into_any()
        }
        DataType::Decimal128(..) => decimal_type(py)?.clone().into_any(),
        DataType::Date32 | DataType::Date64 => datetime.getattr("date")?,
        DataType::Timestamp(..) => datetime.getattr("datetime")?,
        DataType::Time32(_) | DataType::Time64(_) => datetime.getattr("time")?,
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => {
            PyBytes::type_object(py).into_any()
        }
        DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(..) => {
            PyList::type_object(py).into_any()
        }
        DataType::Struct(_) => PyDict::type_object(py).into_any(),
        _ => PyString::type_object(py).into_any(),
    };
    let (precision, scale) = match field.data_type() {
        DataType::Decimal128(p, s) => (p.into_bound_py_any(py)?, s.into_bound_py_any(py)?),
        _ => (py.None().into_bound(py), py.None().into_bound(py)),
    };
    PyTuple::new(
        py,
        [
            field.name().into_bound_py_any(py)?,
            type_code,
            py.None().into_bound(py),
            py.None().into_bound(py),
            precision,
            scale,
            field.is_nullable().into_bound_py_any(py)?,
        ],
    )
}

fn bad_parameter(position: usize, what: &str) -> PyErr {
    DbError::new(
        Class::Programming,
        format!(
            "parameter {position}: {what} is not supported; use None, bool, int, float, str, datetime, date, Decimal, or a list of those"
        ),
    )
    .into()
}

/// One Python parameter (1-based `position`, for messages) as an engine value.
pub(crate) fn parameter(value: &Bound<'_, PyAny>, position: usize) -> PyResult<Value> {
    let py = value.py();
    if value.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(b) = value.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if value.is_instance_of::<PyInt>() {
        return value.extract::<i64>().map(Value::Int).map_err(|_| {
            DbError::new(
                Class::Data,
                format!("parameter {position}: integer does not fit in 64 bits"),
            )
            .into()
        });
    }
    if let Ok(f) = value.cast::<PyFloat>() {
        return Ok(Value::Float(f.value()));
    }
    if let Ok(s) = value.cast::<PyString>() {
        return Ok(Value::Str(s.to_cow()?.into_owned()));
    }
    if value.is_instance_of::<PyDateTime>() {
        // Naive datetimes are UTC, like every timestamp the sources return.
        let aware = if value.getattr("tzinfo")?.is_none() {
            value.call_method(
                "replace",
                (),
                Some(&[("tzinfo", PyTzInfo::utc(py)?.to_owned())].into_py_dict(py)?),
            )?
        } else {
            value.clone()
        };
        let seconds: f64 = aware.call_method0("timestamp")?.extract()?;
        return Ok(Value::TimestampMs((seconds * 1000.0).round() as i64));
    }
    if value.is_instance_of::<PyDate>() {
        let ordinal: i64 = value.call_method0("toordinal")?.extract()?;
        let days = i32::try_from(ordinal - UNIX_EPOCH_ORDINAL)
            .map_err(|_| bad_parameter(position, "a date that far out"))?;
        return Ok(Value::Date(days));
    }
    if value.is_instance(decimal_type(py)?)? {
        return Ok(Value::Float(value.extract::<f64>()?));
    }
    if value.is_instance_of::<PyList>() || value.is_instance_of::<PyTuple>() {
        let items = value
            .try_iter()?
            .map(|item| parameter(&item?, position))
            .collect::<PyResult<Vec<_>>>()?;
        return Ok(Value::List(items));
    }
    // NumPy scalars (pandas hands them over: numpy.int64, numpy.bool_, ...) as the Python
    // value they hold.
    let ty = value.get_type();
    if ty.module()?.to_cow()? == "numpy" && value.hasattr("item")? {
        let item = value.call_method0("item")?;
        if !item.get_type().is(&ty) {
            return parameter(&item, position);
        }
    }
    let type_name = ty.name()?.to_string();
    Err(bad_parameter(position, &format!("type {type_name}")))
}

/// The parameters of one `execute`: `None` or a list/tuple (any sequence but a string).
pub(crate) fn parameters(params: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<Value>> {
    let Some(params) = params.filter(|p| !p.is_none()) else {
        return Ok(Vec::new());
    };
    if params.is_instance_of::<PyString>() || params.is_instance_of::<PyBytes>() {
        return Err(DbError::new(
            Class::Programming,
            "parameters must be a list or tuple of values, not a string",
        )
        .into());
    }
    if params.is_instance_of::<PyDict>() {
        return Err(DbError::new(
            Class::NotSupported,
            "named parameters are not supported: use ? markers and a list or tuple of values (paramstyle 'qmark')",
        )
        .into());
    }
    let iter = params.try_iter().map_err(|_| {
        PyErr::from(DbError::new(
            Class::Programming,
            "parameters must be a list or tuple of values",
        ))
    })?;
    iter.enumerate()
        .map(|(i, item)| parameter(&item?, i + 1))
        .collect()
}
