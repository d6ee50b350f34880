//! Lenient reading of JSON values as APIs send them (numbers as text, whole floats).

use serde_json::Value;

/// An integer from a JSON number (a whole float too) or from numeric text (trimmed).
///
/// ```
/// use serde_json::json;
/// use source_core::json::as_i64;
/// assert_eq!(as_i64(&json!(42)), Some(42));
/// assert_eq!(as_i64(&json!(3.0)), Some(3));
/// assert_eq!(as_i64(&json!(" 42 ")), Some(42));
/// assert_eq!(as_i64(&json!(3.5)), None);
/// assert_eq!(as_i64(&json!(true)), None);
/// ```
pub fn as_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e18)
                .map(|f| f as i64)
        }),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}
