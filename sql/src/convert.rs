//! Conversions between DataFusion's expressions and values and source-core's [`Filter`]s and
//! [`Value`]s.

use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::logical_expr::{BinaryExpr, Expr, Operator};
use datafusion::scalar::ScalarValue;
use source_core::{Filter, Op, Value};

/// A source value as a DataFusion scalar (`?` parameters, EXEC arguments).
pub(crate) fn scalar_of(value: &Value) -> ScalarValue {
    match value {
        Value::Null => ScalarValue::Null,
        Value::Bool(b) => ScalarValue::Boolean(Some(*b)),
        Value::Int(i) => ScalarValue::Int64(Some(*i)),
        Value::Float(x) => ScalarValue::Float64(Some(*x)),
        Value::Str(s) => ScalarValue::Utf8(Some(s.clone())),
        Value::Date(d) => ScalarValue::Date32(Some(*d)),
        Value::TimestampMs(t) => {
            ScalarValue::TimestampMillisecond(Some(*t), Some(source_core::UTC.into()))
        }
        Value::List(items) => {
            let scalars: Vec<ScalarValue> = items.iter().map(scalar_of).collect();
            let item_type = scalars
                .iter()
                .map(ScalarValue::data_type)
                .find(|t| *t != DataType::Null)
                .unwrap_or(DataType::Null);
            ScalarValue::List(ScalarValue::new_list_nullable(&scalars, &item_type))
        }
    }
}

/// A DataFusion literal as a source value; `None` for types filters cannot carry (and for
/// NULL, which no comparison matches, so it is never pushed).
pub(crate) fn value_of(scalar: &ScalarValue) -> Option<Value> {
    Some(match scalar {
        ScalarValue::Boolean(Some(b)) => Value::Bool(*b),
        ScalarValue::Int8(Some(i)) => Value::Int(i64::from(*i)),
        ScalarValue::Int16(Some(i)) => Value::Int(i64::from(*i)),
        ScalarValue::Int32(Some(i)) => Value::Int(i64::from(*i)),
        ScalarValue::Int64(Some(i)) => Value::Int(*i),
        ScalarValue::UInt8(Some(i)) => Value::Int(i64::from(*i)),
        ScalarValue::UInt16(Some(i)) => Value::Int(i64::from(*i)),
        ScalarValue::UInt32(Some(i)) => Value::Int(i64::from(*i)),
        ScalarValue::UInt64(Some(i)) => Value::Int(i64::try_from(*i).ok()?),
        ScalarValue::Float32(Some(x)) => Value::Float(f64::from(*x)),
        ScalarValue::Float64(Some(x)) => Value::Float(*x),
        ScalarValue::Utf8(Some(s))
        | ScalarValue::LargeUtf8(Some(s))
        | ScalarValue::Utf8View(Some(s)) => Value::Str(s.clone()),
        ScalarValue::Date32(Some(d)) => Value::Date(*d),
        ScalarValue::TimestampMillisecond(Some(t), _) => Value::TimestampMs(*t),
        // Other units only when they convert to milliseconds without losing anything.
        ScalarValue::TimestampSecond(Some(t), _) => Value::TimestampMs(t.checked_mul(1000)?),
        ScalarValue::TimestampMicrosecond(Some(t), _) if t % 1000 == 0 => {
            Value::TimestampMs(t / 1000)
        }
        ScalarValue::TimestampNanosecond(Some(t), _) if t % 1_000_000 == 0 => {
            Value::TimestampMs(t / 1_000_000)
        }
        _ => return None,
    })
}

/// Whether a literal of `value`'s kind compares with a column of `data_type` without a cast
/// (the sources expect literals of the column's own type).
fn fits(value: &Value, data_type: &DataType) -> bool {
    match (value, data_type) {
        (Value::Bool(_), DataType::Boolean) => true,
        (
            Value::Int(_),
            DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
            | DataType::UInt64,
        ) => true,
        (Value::Float(_), DataType::Float32 | DataType::Float64) => true,
        (Value::Str(_), DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View) => true,
        // `array_has(list, 'x')` compares with the element type.
        (Value::Str(_), DataType::List(f) | DataType::LargeList(f)) => {
            matches!(f.data_type(), DataType::Utf8 | DataType::LargeUtf8)
        }
        (Value::Date(_), DataType::Date32) => true,
        (Value::TimestampMs(_), DataType::Timestamp(TimeUnit::Millisecond, _)) => true,
        (Value::List(items), t) => items.iter().all(|v| fits(v, t)),
        _ => false,
    }
}

/// The column an expression reads directly (no cast, no function).
fn column_name(expr: &Expr) -> Option<&str> {
    match expr {
        Expr::Column(c) => Some(c.name.as_str()),
        _ => None,
    }
}

fn literal(expr: &Expr) -> Option<Value> {
    match expr {
        Expr::Literal(s, _) => value_of(s),
        _ => None,
    }
}

fn flip(op: Op) -> Op {
    match op {
        Op::Lt => Op::Gt,
        Op::Le => Op::Ge,
        Op::Gt => Op::Lt,
        Op::Ge => Op::Le,
        other => other,
    }
}

/// One WHERE conjunct as a source [`Filter`], when it has a shape sources understand:
/// `col op literal` (either side), `col [NOT] LIKE 'pattern'`, `col IN (literals)`,
/// `col IS [NOT] NULL`, a bare boolean column or its `NOT`, and `array_has(col, 'x')`.
///
/// `column_type` gives a column's Arrow type, so that only literals of the column's own type
/// are pushed (a comparison DataFusion would evaluate with a cast stays client-side).
pub(crate) fn filter_of(
    expr: &Expr,
    column_type: &dyn Fn(&str) -> Option<DataType>,
) -> Option<Filter> {
    let checked = |f: Filter| -> Option<Filter> {
        let t = column_type(&f.column)?;
        match f.op {
            Op::IsNull | Op::IsNotNull => Some(f),
            _ if fits(&f.value, &t) => Some(f),
            _ => None,
        }
    };
    match expr {
        Expr::BinaryExpr(BinaryExpr {
            op: Operator::Or, ..
        }) => {
            // DataFusion rewrites a short `IN` list (up to 3 values) into ORs of `=`: read it
            // back as one `IN`, so that a source sees the list it can push.
            let (c, values) = equalities(expr)?;
            checked(Filter::in_list(c, values))
        }
        Expr::BinaryExpr(BinaryExpr { left, op, right }) => {
            let op = match op {
                Operator::Eq => Op::Eq,
                Operator::NotEq => Op::Ne,
                Operator::Lt => Op::Lt,
                Operator::LtEq => Op::Le,
                Operator::Gt => Op::Gt,
                Operator::GtEq => Op::Ge,
                _ => return None,
            };
            if let (Some(c), Some(v)) = (column_name(left), literal(right)) {
                checked(Filter::new(c, op, v))
            } else if let (Some(v), Some(c)) = (literal(left), column_name(right)) {
                checked(Filter::new(c, flip(op), v))
            } else {
                None
            }
        }
        Expr::Like(like) if !like.case_insensitive && like.escape_char.is_none() => {
            let c = column_name(&like.expr)?;
            let pattern @ Value::Str(_) = literal(&like.pattern)? else {
                return None;
            };
            let op = if like.negated { Op::NotLike } else { Op::Like };
            checked(Filter::new(c, op, pattern))
        }
        Expr::InList(list) if !list.negated => {
            let c = column_name(&list.expr)?;
            let values: Option<Vec<Value>> = list.list.iter().map(literal).collect();
            checked(Filter::in_list(c, values?))
        }
        Expr::IsNull(inner) => checked(Filter::is_null(column_name(inner)?)),
        Expr::IsNotNull(inner) => checked(Filter::is_not_null(column_name(inner)?)),
        Expr::Column(c) => checked(Filter::new(c.name.as_str(), Op::Eq, true)),
        Expr::Not(inner) => checked(Filter::new(column_name(inner)?, Op::Eq, false)),
        Expr::ScalarFunction(f) if f.func.name() == "array_has" && f.args.len() == 2 => {
            let c = column_name(&f.args[0])?;
            let v @ Value::Str(_) = literal(&f.args[1])? else {
                return None;
            };
            checked(Filter::new(c, Op::Contains, v))
        }
        _ => None,
    }
}

/// `a = 1 OR a = 2 OR a IN (3, 4)` as `("a", [1, 2, 3, 4])`: every disjunct an equality
/// with a literal, or an `IN` list, on one column.
fn equalities(expr: &Expr) -> Option<(&str, Vec<Value>)> {
    match expr {
        Expr::BinaryExpr(BinaryExpr {
            left,
            op: Operator::Or,
            right,
        }) => {
            let (c, mut values) = equalities(left)?;
            let (other, more) = equalities(right)?;
            if c != other {
                return None;
            }
            values.extend(more);
            Some((c, values))
        }
        Expr::BinaryExpr(BinaryExpr {
            left,
            op: Operator::Eq,
            right,
        }) => match (column_name(left), literal(right)) {
            (Some(c), Some(v)) => Some((c, vec![v])),
            _ => Some((column_name(right)?, vec![literal(left)?])),
        },
        Expr::InList(list) if !list.negated => {
            let values: Option<Vec<Value>> = list.list.iter().map(literal).collect();
            Some((column_name(&list.expr)?, values?))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::logical_expr::{ident, lit};

    fn types(name: &str) -> Option<DataType> {
        match name {
            "Id" => Some(DataType::Int64),
            "Name" => Some(DataType::Utf8),
            "online" => Some(DataType::Boolean),
            _ => None,
        }
    }

    #[test]
    fn ors_of_equalities_on_one_column_become_in() {
        let or = ident("Name")
            .eq(lit("a"))
            .or(lit("b").eq(ident("Name")))
            .or(ident("Name").in_list(vec![lit("c")], false));
        assert_eq!(
            filter_of(&or, &types),
            Some(Filter::in_list(
                "Name",
                vec!["a".into(), "b".into(), "c".into()]
            ))
        );
        let mixed = ident("Name").eq(lit("a")).or(ident("Id").eq(lit(1i64)));
        assert_eq!(filter_of(&mixed, &types), None);
        let not_eq = ident("Name").eq(lit("a")).or(ident("Name").gt(lit("b")));
        assert_eq!(filter_of(&not_eq, &types), None);
    }

    #[test]
    fn comparisons_in_either_order_become_filters() {
        assert_eq!(
            filter_of(&ident("Id").eq(lit(3i64)), &types),
            Some(Filter::new("Id", Op::Eq, 3i64))
        );
        assert_eq!(
            filter_of(&lit(3i64).lt(ident("Id")), &types),
            Some(Filter::new("Id", Op::Gt, 3i64))
        );
        assert_eq!(
            filter_of(&ident("Name").like(lit("r%")), &types),
            Some(Filter::new("Name", Op::Like, "r%"))
        );
        assert_eq!(
            filter_of(
                &ident("Name").in_list(vec![lit("a"), lit("b")], false),
                &types
            ),
            Some(Filter::in_list("Name", vec!["a".into(), "b".into()]))
        );
        assert_eq!(
            filter_of(&ident("online"), &types),
            Some(Filter::new("online", Op::Eq, true))
        );
        assert_eq!(
            filter_of(&ident("Name").is_null(), &types),
            Some(Filter::is_null("Name"))
        );
    }

    #[test]
    fn mismatched_types_and_complex_shapes_stay_client_side() {
        // A string literal against an integer column: DataFusion casts, the source must not.
        assert_eq!(filter_of(&ident("Id").eq(lit("3")), &types), None);
        assert_eq!(filter_of(&ident("Id").eq(ident("Id")), &types), None);
        assert_eq!(
            filter_of(&(ident("Id") + lit(1i64)).eq(lit(3i64)), &types),
            None
        );
        assert_eq!(filter_of(&ident("Nope").eq(lit(3i64)), &types), None);
        assert_eq!(
            filter_of(&ident("Name").in_list(vec![lit("a")], true), &types),
            None
        );
    }

    #[test]
    fn values_round_trip_through_scalars() {
        for v in [
            Value::Bool(true),
            Value::Int(-4),
            Value::Float(1.5),
            Value::Str("x".into()),
            Value::Date(19_000),
            Value::TimestampMs(1_700_000_000_000),
        ] {
            assert_eq!(value_of(&scalar_of(&v)), Some(v));
        }
        assert_eq!(value_of(&ScalarValue::Int64(None)), None);
    }
}
