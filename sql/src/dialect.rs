//! CData's SELECT extensions, rewritten before DataFusion plans a statement:
//! `SELECT TOP n …` (a `LIMIT n`), `LIMIT count, skip` (CData's order) and
//! `SELECT … INTO [csv://file] FROM …` (an export).

use std::ops::ControlFlow;
use std::path::PathBuf;

use datafusion::sql::sqlparser::ast::{
    Expr, LimitClause, Offset, OffsetRows, Query, SetExpr, Statement, TopQuantity, Value, VisitMut,
    VisitorMut,
};

use crate::{Error, Result};

/// Rewrites every `SELECT TOP n` of `statement` (subqueries too) into `LIMIT n`, and
/// `LIMIT count, skip` into `LIMIT count OFFSET skip`.
pub(crate) fn rewrite_top(statement: &mut Statement) -> Result<()> {
    match statement.visit(&mut TopToLimit) {
        ControlFlow::Break(e) => Err(e),
        ControlFlow::Continue(()) => Ok(()),
    }
}

struct TopToLimit;

impl VisitorMut for TopToLimit {
    type Break = Error;

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<Error> {
        // CData's grammar is `LIMIT <count> [{OFFSET | ,} <skip>]`: in `LIMIT 10, 5` the first
        // number is the row count (MySQL reads it the other way round).
        if let Some(LimitClause::OffsetCommaLimit { offset, limit }) = &query.limit_clause {
            query.limit_clause = Some(LimitClause::LimitOffset {
                limit: Some(offset.clone()),
                offset: Some(Offset {
                    value: limit.clone(),
                    rows: OffsetRows::None,
                }),
                limit_by: Vec::new(),
            });
        }
        let SetExpr::Select(select) = query.body.as_mut() else {
            return ControlFlow::Continue(());
        };
        let Some(top) = select.top.take() else {
            return ControlFlow::Continue(());
        };
        if top.percent || top.with_ties {
            return ControlFlow::Break(Error::Unsupported(
                "TOP … PERCENT / WITH TIES; use TOP n or LIMIT n".into(),
            ));
        }
        if query.limit_clause.is_some() {
            return ControlFlow::Break(Error::Syntax(
                "TOP and LIMIT in one SELECT; use one of them".into(),
            ));
        }
        let limit = match top.quantity {
            Some(TopQuantity::Constant(n)) => Expr::value(Value::Number(n.to_string(), false)),
            Some(TopQuantity::Expr(e)) => e,
            None => return ControlFlow::Break(Error::Syntax("TOP needs a row count".into())),
        };
        query.limit_clause = Some(LimitClause::LimitOffset {
            limit: Some(limit),
            offset: None,
            limit_by: Vec::new(),
        });
        ControlFlow::Continue(())
    }
}

/// Where `SELECT … INTO [csv://…]` writes: a file and its field separator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CsvTarget {
    pub(crate) path: PathBuf,
    pub(crate) delimiter: u8,
}

/// Takes the `INTO` target out of a top-level SELECT (`None` without one). Only CData's
/// `csv://` targets exist: `csv://out.csv`, `csv://filename=out.csv`, with `;delimiter=tab`
/// (or a single character).
pub(crate) fn take_into(statement: &mut Statement) -> Result<Option<CsvTarget>> {
    let Statement::Query(query) = statement else {
        return Ok(None);
    };
    let SetExpr::Select(select) = query.body.as_mut() else {
        return Ok(None);
    };
    let Some(into) = select.into.take() else {
        return Ok(None);
    };
    let name = into
        .name
        .0
        .iter()
        .map(|p| {
            p.as_ident()
                .map_or_else(|| p.to_string(), |i| i.value.clone())
        })
        .collect::<Vec<_>>()
        .join(".");
    parse_target(&name).map(Some)
}

fn parse_target(name: &str) -> Result<CsvTarget> {
    let bad = |why: &str| {
        Error::Unsupported(format!(
            "SELECT … INTO {name}: {why}; write INTO [csv://file.csv] or [csv://file.csv;delimiter=tab]"
        ))
    };
    let rest = name
        .get(..6)
        .filter(|scheme| scheme.eq_ignore_ascii_case("csv://"))
        .map(|_| &name[6..])
        .ok_or_else(|| bad("only csv:// targets are supported"))?;
    let mut parts = rest.split(';');
    let first = parts.next().unwrap_or_default().trim();
    let file = first
        .strip_prefix("filename=")
        .or_else(|| first.strip_prefix("FILENAME="))
        .unwrap_or(first);
    if file.is_empty() {
        return Err(bad("the file name is missing"));
    }
    let mut delimiter = b',';
    for option in parts.map(str::trim).filter(|o| !o.is_empty()) {
        let (key, value) = option.split_once('=').unwrap_or((option, ""));
        if !key.trim().eq_ignore_ascii_case("delimiter") {
            return Err(bad(&format!("unknown option `{}`", key.trim())));
        }
        delimiter = match value.trim() {
            v if v.eq_ignore_ascii_case("tab") => b'\t',
            v if v.len() == 1 && v.is_ascii() => v.as_bytes()[0],
            v => return Err(bad(&format!("delimiter `{v}` is not tab or one character"))),
        };
    }
    Ok(CsvTarget {
        path: PathBuf::from(file),
        delimiter,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_targets_parse_with_options() {
        let t = parse_target("csv://out.csv").unwrap();
        assert_eq!((t.path, t.delimiter), (PathBuf::from("out.csv"), b','));
        let t = parse_target("CSV://filename=/tmp/a b.txt;delimiter=tab").unwrap();
        assert_eq!(
            (t.path, t.delimiter),
            (PathBuf::from("/tmp/a b.txt"), b'\t')
        );
        let t = parse_target("csv://x.csv; delimiter=|").unwrap();
        assert_eq!(t.delimiter, b'|');
        assert_eq!(
            parse_target("parquet://x").unwrap_err().to_string(),
            "SELECT … INTO parquet://x: only csv:// targets are supported; write INTO [csv://file.csv] or [csv://file.csv;delimiter=tab]"
        );
        assert!(parse_target("csv://x.csv;header=no").is_err());
        assert!(parse_target("csv://").is_err());
    }
}
