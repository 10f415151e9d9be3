//! Which filters a guarded scan hands its source, and in what form (DESIGN.md "Computation
//! before the guard").
//!
//! A source filters raw values, the principal's filters name protected ones, so a filter may go
//! down only where its answer over the raw values is provably no narrower than over the
//! protected ones (the scan and the engine apply every filter again on protected values, so a
//! wider answer costs only rows read):
//!
//! - as it is, when every column it names is non-personal and read exactly as stored in every
//!   jurisdiction (`Projection::passes_unchanged`);
//! - rewritten, when it is `key = v` or `key IN (…)` on a subject key read raw, as its code or
//!   not at all (`Projection::lookup`): a row can show `v` only if its stored key is `v` (where
//!   some level reads it raw) or the key whose code `v` is, so the source gets `key IN (those)`
//!   — the one row a contractor asks for by its code, found by the source's index;
//! - through `AND` (either side alone is wider still) and `OR` (both sides needed), never
//!   through `NOT` or any other shape (a wider answer would become a narrower one).

use std::collections::HashMap;

use datafusion::common::ScalarValue;
use datafusion::logical_expr::{BinaryExpr, Expr, Operator, lit};
use kamei_protect::KeyLookup;

/// Most stored keys one rewritten filter names.
const MAX_KEYS: usize = 1000;

/// What a guarded table may hand its source.
#[derive(Debug, Default)]
pub(crate) struct SourceFilters {
    /// Non-personal columns read exactly as stored in every jurisdiction.
    pub(crate) unchanged: Vec<String>,
    /// Subject-key columns a lookup by protected value can be rewritten on.
    pub(crate) lookups: HashMap<String, KeyLookup>,
}

impl SourceFilters {
    /// `filter` as the source may apply it, if any part of it may go down. Rewrites of lookups
    /// only with `rewrite`: the scan must then filter the rows itself before it traces whose
    /// they are, so the wider answer reaches no audit record.
    pub(crate) fn for_source(&self, filter: &Expr, rewrite: bool) -> Option<Expr> {
        if filter.is_volatile() {
            return None;
        }
        if filter
            .column_refs()
            .iter()
            .all(|c| self.unchanged.contains(&c.name))
        {
            return Some(filter.clone());
        }
        if !rewrite {
            return None;
        }
        match filter {
            Expr::BinaryExpr(BinaryExpr { left, op, right }) => match op {
                Operator::And => match (self.for_source(left, rewrite), self.for_source(right, rewrite)) {
                    (Some(l), Some(r)) => Some(l.and(r)),
                    (l, r) => l.or(r),
                },
                Operator::Or => Some(
                    self.for_source(left, rewrite)?
                        .or(self.for_source(right, rewrite)?),
                ),
                Operator::Eq => match (left.as_ref(), right.as_ref()) {
                    (Expr::Column(c), value) | (value, Expr::Column(c)) => {
                        self.stored_keys(&c.name, &[integer(value)?])
                    }
                    _ => None,
                },
                _ => None,
            },
            Expr::InList(list) if !list.negated => {
                let Expr::Column(c) = list.expr.as_ref() else {
                    return None;
                };
                let values: Vec<i64> = list.list.iter().map(integer).collect::<Option<_>>()?;
                self.stored_keys(&c.name, &values)
            }
            _ => None,
        }
    }

    /// Each filter, with whether the scan applies it itself, in the form the source may
    /// apply it (those that may not go down left out).
    pub(crate) fn for_source_all<'a>(&self, filters: impl Iterator<Item = (&'a Expr, bool)>) -> Vec<Expr> {
        filters
            .filter_map(|(f, filtered_here)| self.for_source(f, filtered_here))
            .collect()
    }

    /// `column IN (the stored keys that can show one of values)`; `FALSE` when none can.
    fn stored_keys(&self, column: &str, values: &[i64]) -> Option<Expr> {
        let lookup = self.lookups.get(column)?;
        let mut keys: Vec<i64> = values.iter().flat_map(|v| lookup.candidates(*v)).collect();
        keys.sort_unstable();
        keys.dedup();
        let column = Expr::Column(datafusion::common::Column::new_unqualified(column));
        match keys.as_slice() {
            [] => Some(lit(false)),
            [key] => Some(column.eq(lit(*key))),
            _ if keys.len() <= MAX_KEYS => Some(column.in_list(keys.into_iter().map(lit).collect(), false)),
            _ => None,
        }
    }
}

/// A 64-bit integer literal.
fn integer(expr: &Expr) -> Option<i64> {
    match expr {
        Expr::Literal(ScalarValue::Int64(Some(v)), _) => Some(*v),
        _ => None,
    }
}
