//! Prepared statements planned once.
//!
//! Optimizing and planning a point query costs more CPU than running it. A prepared
//! statement's plan is therefore optimized with its placeholders, planned once with each `$n`
//! as a [`Slot`] (a function the engine cannot evaluate, so nothing folds or prunes on it),
//! and each execution only copies the plan with its values in the slots: the nodes that hold
//! slots are rebuilt with literals, every other node gets fresh execution state. A plan whose
//! slots sit anywhere but in a filter, a projection or a guarded scan's own filter is not
//! kept (its statement is planned at each execution instead), and a copy in which a slot is
//! left fails rather than run. Nor is one that reads the clock (`now()`, `current_date`): the
//! optimizer folds those into the planning time, and each execution must read its own, as in
//! PostgreSQL. A guarded scan whose filters hold slots asks its source again
//! at each execution, with the values in them: a lookup by `$1` reaches the database as the
//! stored key, not as a read of the whole table.

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{DataFusionError, Result, ScalarValue, exec_err};
use datafusion::logical_expr::expr::{Placeholder, ScalarFunction};
use datafusion::logical_expr::expr_rewriter::NamePreserver;
use datafusion::logical_expr::{
    ColumnarValue, Expr, LogicalPlan, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::physical_expr::ScalarFunctionExpr;
use datafusion::physical_expr::expressions::Literal;
use datafusion::physical_plan::filter::{FilterExec, FilterExecBuilder};
use datafusion::physical_plan::projection::{ProjectionExec, ProjectionExpr};
use datafusion::physical_plan::{ExecutionPlan, PhysicalExpr};

use datafusion::execution::SessionState;

use crate::guarded::GuardedExec;

/// A prepared statement's physical plan with a slot for each parameter.
#[derive(Debug)]
pub struct Template {
    plan: Arc<dyn ExecutionPlan>,
    /// The type of each `$n`, in order.
    types: Vec<DataType>,
}

/// `$n` in a planned statement: evaluating it is an error, so the engine keeps it as it is.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Slot {
    name: String,
    index: usize,
    data_type: DataType,
    signature: Signature,
}

impl ScalarUDFImpl for Slot {
    fn name(&self) -> &str {
        &self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(self.data_type.clone())
    }

    fn invoke_with_args(&self, _args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        exec_err!("parameter {} has no value", self.name)
    }
}

impl Template {
    /// The plan to plan physically: `optimized` (the checked plan, optimized with its
    /// placeholders) with a slot for each. `None` when a parameter's type is not known.
    pub(crate) fn slotted(
        optimized: LogicalPlan,
        types: &[Option<DataType>],
    ) -> Option<(LogicalPlan, Vec<DataType>)> {
        let types: Vec<DataType> = types.iter().cloned().collect::<Option<_>>()?;
        let slots: Vec<Arc<ScalarUDF>> = types
            .iter()
            .enumerate()
            .map(|(index, data_type)| {
                Arc::new(ScalarUDF::new_from_impl(Slot {
                    name: format!("${}", index + 1),
                    index,
                    data_type: data_type.clone(),
                    signature: Signature::nullary(Volatility::Stable),
                }))
            })
            .collect();
        let plan = optimized
            .transform_up_with_subqueries(|node| {
                let names = NamePreserver::new(&node);
                node.map_expressions(|e| {
                    let name = names.save(&e);
                    let e = e.transform_up(|e| match e {
                        Expr::Placeholder(Placeholder { id, .. }) => {
                            let slot = id
                                .strip_prefix('$')
                                .and_then(|n| n.parse::<usize>().ok())
                                .and_then(|n| slots.get(n.checked_sub(1)?))
                                .ok_or_else(|| {
                                    DataFusionError::Plan(format!("no type for parameter {id}"))
                                })?;
                            Ok(Transformed::yes(Expr::ScalarFunction(ScalarFunction::new_udf(
                                slot.clone(),
                                Vec::new(),
                            ))))
                        }
                        e => Ok(Transformed::no(e)),
                    })?;
                    Ok(e.update_data(|e| name.restore(e)))
                })
            })
            .ok()?
            .data;
        Some((plan, types))
    }

    /// Keeps `plan` (planned from [`Template::slotted`]) if every slot in it can be filled.
    pub(crate) fn new(plan: Arc<dyn ExecutionPlan>, types: Vec<DataType>) -> Option<Template> {
        let mut fillable = true;
        plan.apply(|node| {
            if !(node.is::<FilterExec>() || node.is::<ProjectionExec>() || node.is::<GuardedExec>())
                && node_holds_slot(node)
            {
                fillable = false;
                return Ok(TreeNodeRecursion::Stop);
            }
            Ok(TreeNodeRecursion::Continue)
        })
        .ok()?;
        fillable.then_some(Template { plan, types })
    }

    /// A copy of the plan to run once, with `values` in its slots. A guarded scan whose
    /// filters held slots asks its source again, with the filters filled (`state` is the
    /// session's, which the source's scan takes).
    pub(crate) async fn bind(
        &self,
        values: Vec<ScalarValue>,
        state: &SessionState,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        if values.len() != self.types.len() {
            return exec_err!(
                "the statement takes {} parameters, {} were given",
                self.types.len(),
                values.len()
            );
        }
        let values: Vec<ScalarValue> = values
            .into_iter()
            .zip(&self.types)
            .map(|(v, t)| if v.data_type() == *t { Ok(v) } else { v.cast_to(t) })
            .collect::<Result<_>>()?;
        // Scans known by their node's address (the template holds the nodes, so it is theirs).
        let mut sources = Vec::new();
        self.plan.apply(|node| {
            if let Some(source) = node.downcast_ref::<GuardedExec>().and_then(GuardedExec::source) {
                sources.push((Arc::as_ptr(node) as *const () as usize, source.clone()));
            }
            Ok(TreeNodeRecursion::Continue)
        })?;
        let mut rescanned = Vec::with_capacity(sources.len());
        for (node, source) in sources {
            if let Some(inner) = source.bound(state, |e| filled(e, &values)).await? {
                rescanned.push((node, inner));
            }
        }
        let fill = |e: &Arc<dyn PhysicalExpr>| -> Result<Arc<dyn PhysicalExpr>> {
            Ok(Arc::clone(e)
                .transform_up(|e| match slot(&e).and_then(|s| values.get(s.index)) {
                    Some(value) => Ok(Transformed::yes(
                        Arc::new(Literal::new(value.clone())) as Arc<dyn PhysicalExpr>
                    )),
                    None => Ok(Transformed::no(e)),
                })?
                .data)
        };
        let plan = Arc::clone(&self.plan)
            .transform_up(|node| {
                let node: Arc<dyn ExecutionPlan> = if let Some(f) = node.downcast_ref::<FilterExec>() {
                    Arc::new(
                        FilterExecBuilder::from(f)
                            .with_predicate(fill(f.predicate())?)
                            .build()?,
                    )
                } else if let Some(p) = node.downcast_ref::<ProjectionExec>() {
                    let exprs = p
                        .expr()
                        .iter()
                        .map(|e| Ok(ProjectionExpr::new(fill(&e.expr)?, e.alias.clone())))
                        .collect::<Result<Vec<_>>>()?;
                    Arc::new(ProjectionExec::try_new(exprs, Arc::clone(p.input()))?)
                } else if let Some(g) = node.downcast_ref::<GuardedExec>() {
                    let predicate = g.filter().map(fill).transpose()?;
                    let inner = rescanned
                        .iter()
                        .find(|(n, _)| *n == Arc::as_ptr(&node) as *const () as usize)
                        .map(|(_, inner)| inner.clone());
                    Arc::new(g.bound(predicate, inner))
                } else {
                    node.reset_state()?
                };
                Ok(Transformed::yes(node))
            })?
            .data;
        let mut unfilled = false;
        plan.apply(|node| {
            unfilled = node_holds_slot(node);
            Ok(if unfilled {
                TreeNodeRecursion::Stop
            } else {
                TreeNodeRecursion::Continue
            })
        })?;
        if unfilled {
            return exec_err!("a parameter of the prepared statement was left unbound");
        }
        Ok(plan)
    }
}

/// Whether the plan calls a function the optimizer folds into a constant of the statement's
/// start (a *stable* function: `now()`, `current_date`); an error counts as a call.
pub(crate) fn reads_the_clock(plan: &LogicalPlan) -> bool {
    let stable = |e: &Expr| {
        Ok(matches!(e, Expr::ScalarFunction(f) if f.func.signature().volatility == Volatility::Stable))
    };
    let mut found = false;
    let looked = plan.apply_with_subqueries(|node| {
        node.apply_expressions(|e| {
            found = found || e.exists(stable)?;
            Ok(if found {
                TreeNodeRecursion::Stop
            } else {
                TreeNodeRecursion::Continue
            })
        })
    });
    found || looked.is_err()
}

/// Whether a filter of the logical plan holds a slot.
pub(crate) fn holds_slot(e: &Expr) -> bool {
    e.exists(|e| Ok(logical_slot(e).is_some())).unwrap_or(true)
}

/// `e` with `values` (of the slots' types) in its slots, and a cast of a value folded into
/// the value (`sent_at > $1::date`), as planning folds a literal's, so that the filter has the
/// shape a source takes.
fn filled(e: &Expr, values: &[ScalarValue]) -> Result<Expr> {
    Ok(e.clone()
        .transform_up(|e| match (logical_slot(&e).map(|s| values.get(s.index)), e) {
            (Some(Some(value)), _) => Ok(Transformed::yes(Expr::Literal(value.clone(), None))),
            (Some(None), _) => exec_err!("a parameter of the prepared statement was left unbound"),
            (None, Expr::Cast(cast)) => {
                let folded = match cast.expr.as_ref() {
                    Expr::Literal(value, _) => value.cast_to(cast.field.data_type()).ok(),
                    _ => None,
                };
                Ok(match folded {
                    Some(value) => Transformed::yes(Expr::Literal(value, None)),
                    None => Transformed::no(Expr::Cast(cast)),
                })
            }
            (None, e) => Ok(Transformed::no(e)),
        })?
        .data)
}

fn logical_slot(e: &Expr) -> Option<&Slot> {
    let Expr::ScalarFunction(f) = e else {
        return None;
    };
    f.func.inner().downcast_ref::<Slot>()
}

/// Whether `node` holds a slot in any of its expressions (a guarded scan's filter included).
fn node_holds_slot(node: &Arc<dyn ExecutionPlan>) -> bool {
    let mut found = false;
    let mut look = |root: &Arc<dyn PhysicalExpr>| {
        found = found || root.exists(|e| Ok(slot(e).is_some())).unwrap_or(true);
        Ok(TreeNodeRecursion::Continue)
    };
    // A plan that cannot be looked through counts as holding one.
    let unreadable = node.apply_expressions(&mut look).is_err();
    if let Some(g) = node.downcast_ref::<GuardedExec>()
        && let Some(predicate) = g.filter()
    {
        let _ = look(predicate);
    }
    found || unreadable
}

fn slot(e: &Arc<dyn PhysicalExpr>) -> Option<&Slot> {
    e.downcast_ref::<ScalarFunctionExpr>()?
        .fun()
        .inner()
        .downcast_ref::<Slot>()
}
