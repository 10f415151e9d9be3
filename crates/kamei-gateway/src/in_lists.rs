//! `IN` lists that hold anything but literals, written out as comparisons before the engine's
//! optimizer sees them.
//!
//! DataFusion 55's expression simplifier merges two lists on one column as sets
//! (`a IN (x) AND a NOT IN (y)` → `a IN (x minus y)`, `a IN (x) AND a IN (y)` → the
//! intersection) comparing the items as expressions, which is right only for literals: with
//! parameters or columns, `NOT (id IN ($1) AND id NOT IN ($2))` became `id <> $1`, and so drops
//! the row `id = $1` when both are bound to the same value. Written as `a = x OR a = y`
//! (`a <> x AND a <> y` for `NOT IN`), which means the same in three-valued logic, such lists
//! reach no set rule, and the engine does not fold comparisons with a non-literal back into a
//! list. Lists of literals stay lists.

use datafusion::common::Result;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::logical_expr::expr::InList;
use datafusion::logical_expr::expr_rewriter::NamePreserver;
use datafusion::logical_expr::{Expr, LogicalPlan};

/// `plan` with every list that holds a non-literal written out as comparisons.
pub(crate) fn expand_in_lists(plan: LogicalPlan) -> Result<LogicalPlan> {
    Ok(plan
        .transform_up_with_subqueries(|node| {
            let names = NamePreserver::new(&node);
            node.map_expressions(|e| {
                let name = names.save(&e);
                let e = e.transform_up(|e| {
                    Ok(match e {
                        Expr::InList(list) if !list.list.is_empty() && !literals(&list) => {
                            Transformed::yes(comparisons(list))
                        }
                        e => Transformed::no(e),
                    })
                })?;
                Ok(e.update_data(|e| name.restore(e)))
            })
        })?
        .data)
}

fn literals(list: &InList) -> bool {
    list.list.iter().all(|e| matches!(e, Expr::Literal(..)))
}

/// `a = x OR a = y …`, or for `NOT IN`, `a <> x AND a <> y …`.
fn comparisons(list: InList) -> Expr {
    let InList { expr, list, negated } = list;
    let compare = |item: Expr| match negated {
        false => expr.as_ref().clone().eq(item),
        true => expr.as_ref().clone().not_eq(item),
    };
    let mut items = list.into_iter().map(compare);
    let first = items.next().unwrap_or(Expr::Literal(
        datafusion::common::ScalarValue::Boolean(Some(negated)),
        None,
    ));
    items.fold(first, |all, next| match negated {
        false => all.or(next),
        true => all.and(next),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::logical_expr::{col, lit, placeholder};

    #[test]
    fn lists_with_parameters_or_columns_become_comparisons_and_literal_lists_stay() {
        let with_parameters = col("id").in_list(vec![placeholder("$1"), lit(3i64)], true);
        assert_eq!(
            comparisons(match with_parameters {
                Expr::InList(l) => l,
                _ => unreachable!(),
            }),
            col("id")
                .not_eq(placeholder("$1"))
                .and(col("id").not_eq(lit(3i64)))
        );
        let of_columns = col("id").in_list(vec![col("a"), col("b")], false);
        assert_eq!(
            comparisons(match of_columns {
                Expr::InList(l) => l,
                _ => unreachable!(),
            }),
            col("id").eq(col("a")).or(col("id").eq(col("b")))
        );
        let Expr::InList(literal) = col("id").in_list(vec![lit(1i64), lit(2i64)], false) else {
            unreachable!()
        };
        assert!(literals(&literal));
    }
}
