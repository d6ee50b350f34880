//! Name resolution before DataFusion plans a statement.
//!
//! CData's engine matches table and column names ignoring case, accepts
//! `[CData].[schema].[table]` and `schema.table`, and names the nearest table when one is
//! unknown. DataFusion matches exactly (identifier normalization is off, so that `Id` and
//! `CreatedAt` keep their case), so each name is rewritten here to its canonical spelling
//! when exactly one known name matches it ignoring case.

use std::collections::HashSet;
use std::ops::ControlFlow;

use datafusion::common::{Column, SchemaError};
use datafusion::error::DataFusionError;
use datafusion::sql::sqlparser::ast::{
    Expr, Ident, ObjectName, ObjectNamePart, Query, Statement, TableFactor, Visit, Visitor,
    visit_expressions_mut, visit_relations_mut,
};
use source_core::{TableInfo, nearest};

use crate::Error;
use crate::catalog::Catalog;
use crate::system;

/// A table a statement refers to, after resolution.
#[derive(Debug, Clone)]
pub(crate) struct TableRef {
    /// The source it belongs to (`None` for system tables).
    pub(crate) schema: Option<String>,
    /// Its metadata (system tables: name and column names only).
    pub(crate) info: Option<TableInfo>,
    /// The canonical name.
    pub(crate) name: String,
    /// Column names, for column canonicalization.
    pub(crate) columns: Vec<String>,
}

/// CTE names and table-function calls (`range(10)`: neither is a table to resolve) and table
/// aliases (which qualify columns).
#[derive(Default)]
struct LocalNames {
    ctes: HashSet<String>,
    table_functions: HashSet<String>,
    aliases: Vec<String>,
}

impl Visitor for LocalNames {
    type Break = ();

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
        if let Some(with) = &query.with {
            for cte in &with.cte_tables {
                self.ctes.insert(cte.alias.name.value.to_lowercase());
                self.aliases.push(cte.alias.name.value.clone());
            }
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<()> {
        if let TableFactor::Table {
            name,
            args: Some(_),
            ..
        } = factor
        {
            self.table_functions.insert(name.to_string().to_lowercase());
        }
        let alias = match factor {
            TableFactor::Table { alias, .. } | TableFactor::Derived { alias, .. } => alias,
            _ => &None,
        };
        if let Some(a) = alias {
            self.aliases.push(a.name.value.clone());
        }
        ControlFlow::Continue(())
    }
}

fn idents_mut(name: &mut ObjectName) -> Option<Vec<&mut Ident>> {
    name.0
        .iter_mut()
        .map(|p| match p {
            ObjectNamePart::Identifier(i) => Some(i),
            ObjectNamePart::Function(_) => None,
        })
        .collect()
}

/// Resolves one relation name (`t`, `schema.t`, `catalog.schema.t`) to a table, or the
/// error naming it with the nearest known table.
pub(crate) fn resolve_name(parts: &[String], catalog: &Catalog) -> Result<TableRef, Error> {
    let mut parts: Vec<&str> = parts.iter().map(String::as_str).collect();
    if parts.len() == 3
        && (parts[0].eq_ignore_ascii_case(system::CATALOG)
            || parts[0].eq_ignore_ascii_case("datafusion"))
    {
        parts.remove(0);
    }
    if parts.len() == 2 && parts[0].eq_ignore_ascii_case("public") {
        parts.remove(0);
    }
    let unknown = |name: &str| Error::UnknownTable {
        name: parts.join("."),
        suggestion: nearest(name, catalog.all_table_names()),
    };
    match parts.as_slice() {
        [table] => {
            if let Some(sys) = system::NAMES.iter().find(|n| n.eq_ignore_ascii_case(table)) {
                let columns = system::build(sys, catalog)?
                    .schema()
                    .fields()
                    .iter()
                    .map(|f| f.name().clone())
                    .collect();
                return Ok(TableRef {
                    schema: None,
                    info: None,
                    name: (*sys).to_owned(),
                    columns,
                });
            }
            let (source, info) = catalog.find_table(table).ok_or_else(|| unknown(table))?;
            Ok(TableRef {
                schema: Some(source.name.clone()),
                name: info.name.clone(),
                columns: info.columns.iter().map(|c| c.name.clone()).collect(),
                info: Some(info),
            })
        }
        [schema, table] => {
            let Some(source) = catalog.source(schema) else {
                let schemas: Vec<String> =
                    catalog.sources().iter().map(|s| s.name.clone()).collect();
                return Err(Error::UnknownTable {
                    name: parts.join("."),
                    suggestion: nearest(schema, &schemas).map(|s| format!("{s}.{table}")),
                });
            };
            let info = source.table(table).ok_or_else(|| Error::UnknownTable {
                name: parts.join("."),
                suggestion: nearest(table, source.tables().iter().map(|t| &t.name))
                    .map(|t| format!("{}.{t}", source.name)),
            })?;
            Ok(TableRef {
                schema: Some(source.name.clone()),
                name: info.name.clone(),
                columns: info.columns.iter().map(|c| c.name.clone()).collect(),
                info: Some(info),
            })
        }
        _ => Err(unknown(parts.last().copied().unwrap_or_default())),
    }
}

/// Rewrites the table and column names of `stmt` to their canonical spelling; returns the
/// tables it refers to.
pub(crate) fn canonicalize(
    stmt: &mut Statement,
    catalog: &Catalog,
) -> Result<Vec<TableRef>, Error> {
    let mut locals = LocalNames::default();
    let _ = stmt.visit(&mut locals);
    let mut tables: Vec<TableRef> = Vec::new();
    let flow = visit_relations_mut(stmt, |name| {
        let Some(mut idents) = idents_mut(name) else {
            return ControlFlow::Continue(());
        };
        if let [only] = idents.as_slice()
            && let lowered = only.value.to_lowercase()
            && (locals.ctes.contains(&lowered) || locals.table_functions.contains(&lowered))
        {
            return ControlFlow::Continue(());
        }
        let parts: Vec<String> = idents.iter().map(|i| i.value.clone()).collect();
        match resolve_name(&parts, catalog) {
            Ok(t) => {
                // Keep the qualification the user wrote, minus a CData catalog prefix.
                let keep = idents.len().min(if t.schema.is_some() { 2 } else { 1 });
                let drop = idents.len() - keep;
                for i in idents.iter_mut().skip(drop) {
                    i.quote_style = Some('"');
                }
                if let Some(last) = idents.last_mut() {
                    last.value = t.name.clone();
                }
                if keep == 2
                    && let (Some(schema), Some(first)) = (&t.schema, idents.get_mut(drop))
                {
                    first.value = schema.clone();
                }
                name.0.drain(..drop);
                tables.push(t);
                ControlFlow::Continue(())
            }
            Err(e) => ControlFlow::Break(e),
        }
    });
    if let ControlFlow::Break(e) = flow {
        return Err(e);
    }
    let columns: Vec<&str> = tables
        .iter()
        .flat_map(|t| t.columns.iter().map(String::as_str))
        .collect();
    let qualifiers: Vec<&str> = tables
        .iter()
        .flat_map(|t| [Some(t.name.as_str()), t.schema.as_deref()])
        .flatten()
        .chain(locals.aliases.iter().map(String::as_str))
        .collect();
    let _ = visit_expressions_mut(stmt, |expr| {
        match expr {
            Expr::Identifier(ident) => canonical(ident, &columns),
            Expr::CompoundIdentifier(idents) => {
                if let Some((last, rest)) = idents.split_last_mut() {
                    canonical(last, &columns);
                    for q in rest {
                        canonical(q, &qualifiers);
                    }
                }
            }
            _ => {}
        }
        ControlFlow::<()>::Continue(())
    });
    Ok(tables)
}

/// Replaces an identifier by the one known name equal to it ignoring case. Quoted names too:
/// CData matches `[name]` and `"name"` ignoring case, and an exact match always wins.
fn canonical(ident: &mut Ident, known: &[&str]) {
    if known.contains(&ident.value.as_str()) {
        return;
    }
    let mut matches = known
        .iter()
        .filter(|k| k.eq_ignore_ascii_case(&ident.value));
    if let Some(first) = matches.next()
        && matches.all(|m| m == first)
    {
        ident.value = (*first).to_owned();
    }
}

/// A planning error about an unknown column, as our error naming the nearest column.
pub(crate) fn column_error(e: DataFusionError) -> Error {
    fn find(e: &DataFusionError) -> Option<(&Column, &[Column])> {
        match e {
            DataFusionError::SchemaError(schema, _) => match schema.as_ref() {
                SchemaError::FieldNotFound {
                    field,
                    valid_fields,
                } => Some((field, valid_fields)),
                _ => None,
            },
            DataFusionError::Context(_, inner) | DataFusionError::Diagnostic(_, inner) => {
                find(inner)
            }
            _ => None,
        }
    }
    match find(&e) {
        Some((field, valid)) => Error::UnknownColumn {
            table: field.relation.as_ref().map(|r| r.table().to_owned()),
            column: field.name.clone(),
            suggestion: nearest(&field.name, valid.iter().map(|c| &c.name)),
        },
        None => Error::from(e),
    }
}
