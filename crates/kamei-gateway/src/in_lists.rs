//! `IN` lists that hold parameters or columns, written out as comparisons before the engine's
//! optimizer sees them.
//!
//! DataFusion 55's expression simplifier merges two lists on one column as sets
//! (`a IN (x) AND a NOT IN (y)` → `a IN (x minus y)`, `a IN (x) AND a IN (y)` → the
//! intersection) comparing the items as expressions, which is right only for constants (which
//! it folds into literals first): with parameters or columns, `NOT (id IN ($1) AND id NOT IN
//! ($2))` became `id <> $1`, and so dropped the row `id = $1` when both were bound to the same
//! value. Written as `a = x OR a = y` (`a <> x AND a <> y` for `NOT IN`), which means the same
//! in three-valued logic, such lists reach no set rule, and the engine does not fold
//! comparisons with a non-constant back into a list. The comparisons form a balanced tree, so
//! a list of thousands of items nests a dozen levels, not thousands. A list whose left side
//! is volatile or holds a subquery stays a list: written out, it would be evaluated once per
//! item.

use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::expr::InList;
use datafusion::logical_expr::expr_rewriter::NamePreserver;
use datafusion::logical_expr::{Expr, LogicalPlan};

/// `plan` with every list that holds a parameter or a column written out as comparisons.
pub(crate) fn expand_in_lists(plan: LogicalPlan) -> Result<LogicalPlan> {
    Ok(plan
        .transform_up_with_subqueries(|node| {
            let names = NamePreserver::new(&node);
            node.map_expressions(|e| {
                let name = names.save(&e);
                let e = e.transform_up(|e| {
                    Ok(match e {
                        Expr::InList(list) if expands(&list) => Transformed::yes(comparisons(list)),
                        e => Transformed::no(e),
                    })
                })?;
                Ok(e.update_data(|e| name.restore(e)))
            })
        })?
        .data)
}

/// Whether `list` holds an item that is not a constant and its left side may be repeated.
fn expands(list: &InList) -> bool {
    let once = |e: &Expr| e.is_volatile() || has_subquery(e);
    !list.list.is_empty() && !once(&list.expr) && !list.list.iter().all(constant)
}

/// An expression the simplifier folds to a literal: no column, parameter, subquery or
/// volatile call.
fn constant(e: &Expr) -> bool {
    e.column_refs().is_empty()
        && !e.is_volatile()
        && !has_subquery(e)
        && !e
            .exists(|e| Ok(matches!(e, Expr::Placeholder(_))))
            .unwrap_or(true)
}

fn has_subquery(e: &Expr) -> bool {
    e.exists(|e| {
        Ok(matches!(
            e,
            Expr::ScalarSubquery(_) | Expr::Exists(_) | Expr::InSubquery(_) | Expr::SetComparison(_)
        ))
    })
    .unwrap_or(true)
}

/// `a = x OR a = y …`, or for `NOT IN`, `a <> x AND a <> y …`, as a balanced tree.
fn comparisons(list: InList) -> Expr {
    let InList { expr, list, negated } = list;
    let compared: Vec<Expr> = list
        .into_iter()
        .map(|item| match negated {
            false => expr.as_ref().clone().eq(item),
            true => expr.as_ref().clone().not_eq(item),
        })
        .collect();
    balanced(compared, negated)
}

/// The items joined by `AND` (with `all`) or `OR`, halves first; an empty list is its unit.
fn balanced(mut items: Vec<Expr>, all: bool) -> Expr {
    match items.len() {
        0 => Expr::Literal(ScalarValue::Boolean(Some(all)), None),
        1 => items.remove(0),
        n => {
            let right = items.split_off(n / 2);
            let (left, right) = (balanced(items, all), balanced(right, all));
            if all { left.and(right) } else { left.or(right) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::logical_expr::{col, lit, placeholder};

    fn list(e: Expr) -> InList {
        match e {
            Expr::InList(l) => l,
            other => panic!("not a list: {other}"),
        }
    }

    #[test]
    fn lists_with_parameters_or_columns_become_comparisons() {
        let with_parameters = list(col("id").in_list(vec![placeholder("$1"), lit(3i64)], true));
        assert!(expands(&with_parameters));
        assert_eq!(
            comparisons(with_parameters),
            col("id")
                .not_eq(placeholder("$1"))
                .and(col("id").not_eq(lit(3i64)))
        );
        let of_columns = list(col("id").in_list(vec![col("a"), col("b"), col("c")], false));
        assert_eq!(
            comparisons(of_columns),
            col("id")
                .eq(col("a"))
                .or(col("id").eq(col("b")).or(col("id").eq(col("c"))))
        );
    }

    #[test]
    fn constant_lists_and_volatile_left_sides_stay_lists() {
        let cast = Expr::Cast(datafusion::logical_expr::Cast::new(
            Box::new(lit("2024-01-01")),
            datafusion::arrow::datatypes::DataType::Date32,
        ));
        assert!(!expands(&list(col("d").in_list(vec![lit(1i64), cast], false))));
        let random = datafusion::functions::expr_fn::random();
        assert!(!expands(&list(random.in_list(vec![placeholder("$1")], false))));
    }

    #[test]
    fn a_long_list_nests_logarithmically() {
        let items: Vec<Expr> = (0..65_536).map(|i| placeholder(format!("${i}"))).collect();
        let mut depth = 0;
        let mut e = comparisons(list(col("id").in_list(items, false)));
        while let Expr::BinaryExpr(b) = e {
            depth += 1;
            e = *b.left;
        }
        assert_eq!(depth, 17, "16 levels of OR and the comparison");
    }
}
