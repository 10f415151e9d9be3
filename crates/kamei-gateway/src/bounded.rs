//! What one expression may produce for one batch of rows.
//!
//! The memory pools (`memory.rs`) see what operators reserve, not what an expression allocates
//! for its result, and an allocation the machine cannot satisfy aborts the whole server: a
//! reviewer's `repeat(phone, 3000000)` asked for 60 GB at once. Two ways let a short statement
//! ask for far more than its input:
//!
//! - functions whose result is a count times their input, or their input many times over
//!   (`repeat`, `lpad`, `rpad`, `replace`, `regexp_replace`, `concat`, `concat_ws`, `overlay`,
//!   `encode`, `to_char`):
//!   each is wrapped ([`Bounded`]) to compute an upper bound of its result from its arguments
//!   and refuse, before allocating, a call above [`MAX_EXPRESSION_OUTPUT`];
//! - a constant computed once and repeated on every row (`SELECT '<a long text>' FROM users`,
//!   or `repeat('x', 60000000)`, which the optimizer folds into a 60 MB constant): a plan in
//!   which one node's expressions would repeat more than that per batch is refused
//!   ([`check_expansion`]);
//! - many bounded calls side by side (`SELECT repeat(email, 1400), repeat(email, 1400), …`):
//!   a statement may hold at most [`MAX_EXPANDING_CALLS`] of them.
//!
//! The `||` operator, which the engine evaluates itself, becomes a bounded `concat` that keeps
//! its NULL rule ([`bound_concatenation`]). No constant may exceed [`MAX_CONSTANT_BYTES`], and
//! the engine functions that size allocations from their arguments or only serve Arrow's own
//! types are not offered ([`UNSERVED_FUNCTIONS`], [`UNSERVED_AGGREGATES`]).

use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, make_array};
use datafusion::arrow::buffer::NullBuffer;
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, FieldRef, Int64Type};
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{Result, ScalarValue, resources_datafusion_err};
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::expr_rewriter::NamePreserver;
use datafusion::logical_expr::{
    BinaryExpr, ColumnarValue, Expr, LogicalPlan, Operator, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF,
    ScalarUDFImpl, Signature,
};
use datafusion::physical_expr::ScalarFunctionExpr;
use datafusion::physical_expr::expressions::{CaseExpr, CastExpr, Literal, TryCastExpr};
use datafusion::physical_plan::{ExecutionPlan, PhysicalExpr};

/// Most bytes one expression may produce for one batch.
pub(crate) const MAX_EXPRESSION_OUTPUT: u64 = 64 << 20;

/// Most calls of [`Bounded`] functions and `||` in one statement.
pub(crate) const MAX_EXPANDING_CALLS: usize = 32;

/// The functions wrapped in [`Bounded`].
pub(crate) const EXPANDING_FUNCTIONS: &[&str] = &[
    "repeat",
    "lpad",
    "rpad",
    "replace",
    "regexp_replace",
    "concat",
    "concat_ws",
    "overlay",
    "encode",
    "to_char",
];

/// Engine functions a gateway session does not offer: no PostgreSQL client sends them, and
/// each let a reviewer take the server down. `arrow_cast` (and `arrow_try_cast`) makes any
/// constant large text (`LargeUtf8`, dictionaries), and nested with `encode` made planning
/// time grow fourfold per level; `levenshtein` of two long constants runs for seconds while
/// the statement is planned.
pub(crate) const UNSERVED_FUNCTIONS: &[&str] = &["arrow_cast", "arrow_try_cast", "levenshtein"];

/// Aggregates a session does not offer: `approx_percentile_cont`'s third argument sizes an
/// allocation (`…, 1000000000)` asked for 16 GB).
pub(crate) const UNSERVED_AGGREGATES: &[&str] =
    &["approx_percentile_cont", "approx_percentile_cont_with_weight"];

/// Most bytes of one constant in a planned statement (after the optimizer folds what it can,
/// and with a prepared statement's values bound): a constant can be copied to every row of a
/// batch, as a value, a window function's default, a struct field or a format.
pub(crate) const MAX_CONSTANT_BYTES: usize = 8 << 10;

/// An expanding function that first checks how much its call would produce.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(crate) struct Bounded {
    inner: Arc<ScalarUDF>,
}

impl Bounded {
    pub(crate) fn new(inner: Arc<ScalarUDF>) -> Bounded {
        Bounded { inner }
    }
}

impl ScalarUDFImpl for Bounded {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn signature(&self) -> &Signature {
        self.inner.signature()
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        self.inner.return_type(args)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        self.inner.return_field_from_args(args)
    }

    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        self.inner.coerce_types(args)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        // Of constant arguments the result is a constant, which can be copied to every row
        // (a window function's default, a struct field): held to the constants' limit.
        if args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_))) {
            let bytes = output_bound(self.name(), &args.args, 1)?;
            if bytes > MAX_CONSTANT_BYTES as u64 {
                return Err(resources_datafusion_err!(
                    "`{}` of constants would make a constant of {} KiB; at most {} KiB are allowed",
                    self.name(),
                    bytes >> 10,
                    MAX_CONSTANT_BYTES >> 10
                ));
            }
        }
        let bytes = output_bound(self.name(), &args.args, args.number_rows)?;
        if bytes > MAX_EXPRESSION_OUTPUT {
            return Err(resources_datafusion_err!(
                "`{}` would produce about {} MiB for {} rows; at most {} MiB are allowed per batch",
                self.name(),
                bytes >> 20,
                args.number_rows,
                MAX_EXPRESSION_OUTPUT >> 20
            ));
        }
        self.inner.invoke_with_args(args)
    }
}

/// An upper bound of the bytes the function `name` produces for `rows` rows, computed without
/// expanding a constant argument to an array.
fn output_bound(name: &str, args: &[ColumnarValue], rows: usize) -> Result<u64> {
    let rows = rows as u64;
    let arg = |i: usize| args.get(i).map(|a| Text::of(a, rows)).unwrap_or_default();
    Ok(match name {
        "repeat" | "lpad" | "rpad" => padded(name, args, rows)?,
        "concat" => args
            .iter()
            .fold(0, |sum, a| sum.saturating_add(Text::of(a, rows).total)),
        // The separator between every two arguments, on every row.
        "concat_ws" => args
            .iter()
            .skip(1)
            .fold(0u64, |sum, a| sum.saturating_add(Text::of(a, rows).total))
            .saturating_add(arg(0).total.saturating_mul(args.len().saturating_sub(2) as u64)),
        // At most one replacement per `from` in the text, each `to` long.
        "replace" => {
            let (text, from, to) = (arg(0), arg(1), arg(2));
            let matches = (text.total / from.shortest.max(1)).saturating_add(rows);
            text.total.saturating_add(matches.saturating_mul(to.longest))
        }
        // A match can be empty (one per position); each one writes the replacement, in which
        // every `$n` or `\n` can stand for the whole text.
        "regexp_replace" => {
            let (text, replacement) = (arg(0), arg(2));
            let per_match = replacement
                .longest
                .saturating_add(replacement.references.saturating_mul(text.longest));
            let matches = text.total.saturating_add(rows);
            text.total.saturating_add(matches.saturating_mul(per_match))
        }
        "overlay" => arg(0).total.saturating_add(arg(1).total),
        // Hex doubles its input; base64 adds a third.
        "encode" => arg(0).total.saturating_mul(2),
        // A pattern such as `%c` writes up to sixteen bytes for each of its own.
        "to_char" => arg(1)
            .longest
            .saturating_mul(16)
            .saturating_add(64)
            .saturating_mul(rows),
        _ => 0,
    })
}

/// Sizes of one text argument over a batch.
#[derive(Debug, Default, Clone, Copy)]
struct Text {
    /// Bytes over all rows (a constant counts once per row).
    total: u64,
    longest: u64,
    /// Shortest non-null value (0 if none).
    shortest: u64,
    /// `$` and `\` in the longest value: group references in a replacement.
    references: u64,
}

impl Text {
    fn of(value: &ColumnarValue, rows: u64) -> Text {
        match value {
            ColumnarValue::Scalar(s) => {
                let len = scalar_len(s);
                let references = match s {
                    ScalarValue::Utf8(Some(v))
                    | ScalarValue::LargeUtf8(Some(v))
                    | ScalarValue::Utf8View(Some(v)) => {
                        v.bytes().filter(|b| matches!(b, b'$' | b'\\')).count() as u64
                    }
                    _ => 0,
                };
                Text {
                    total: len.saturating_mul(rows),
                    longest: len,
                    shortest: len,
                    references,
                }
            }
            ColumnarValue::Array(a) => {
                let lengths: Vec<u64> = match a.data_type() {
                    DataType::Utf8 => a
                        .as_string::<i32>()
                        .iter()
                        .flatten()
                        .map(|v| v.len() as u64)
                        .collect(),
                    DataType::LargeUtf8 => a
                        .as_string::<i64>()
                        .iter()
                        .flatten()
                        .map(|v| v.len() as u64)
                        .collect(),
                    DataType::Utf8View => a
                        .as_string_view()
                        .iter()
                        .flatten()
                        .map(|v| v.len() as u64)
                        .collect(),
                    // Not text: what it holds in memory, an upper bound of its text form's
                    // share for the types functions take.
                    _ => vec![a.get_array_memory_size() as u64],
                };
                let longest = lengths.iter().copied().max().unwrap_or(0);
                Text {
                    total: lengths.iter().sum(),
                    longest,
                    shortest: lengths.iter().copied().min().unwrap_or(0),
                    references: longest,
                }
            }
        }
    }
}

/// `repeat(text, n)` and `lpad`/`rpad(text, n)` (n characters of up to four bytes).
fn padded(name: &str, args: &[ColumnarValue], rows: u64) -> Result<u64> {
    let (Some(text), Some(count)) = (args.first(), args.get(1)) else {
        return Ok(0);
    };
    let text_len = |i: usize| -> u64 {
        match text {
            ColumnarValue::Scalar(s) => scalar_len(s),
            ColumnarValue::Array(a) if a.is_valid(i) => match a.data_type() {
                DataType::Utf8 => a.as_string::<i32>().value(i).len() as u64,
                DataType::LargeUtf8 => a.as_string::<i64>().value(i).len() as u64,
                DataType::Utf8View => a.as_string_view().value(i).len() as u64,
                _ => 0,
            },
            ColumnarValue::Array(_) => 0,
        }
    };
    let per_row = |i: usize, n: i64| -> u64 {
        let n = u64::try_from(n).unwrap_or(0);
        if name == "repeat" {
            text_len(i).saturating_mul(n)
        } else {
            n.saturating_mul(4).max(text_len(i))
        }
    };
    let total = match count {
        ColumnarValue::Scalar(s) => {
            let n = match s.cast_to(&DataType::Int64)? {
                ScalarValue::Int64(Some(n)) => n,
                _ => 0,
            };
            match text {
                ColumnarValue::Scalar(_) => per_row(0, n).saturating_mul(rows),
                ColumnarValue::Array(_) => {
                    (0..rows as usize).fold(0u64, |sum, i| sum.saturating_add(per_row(i, n)))
                }
            }
        }
        ColumnarValue::Array(a) => {
            let counts = cast(a, &DataType::Int64)?;
            let counts = counts.as_primitive::<Int64Type>();
            (0..counts.len())
                .filter(|i| counts.is_valid(*i))
                .fold(0u64, |sum, i| sum.saturating_add(per_row(i, counts.value(i))))
        }
    };
    Ok(total)
}

fn scalar_len(s: &ScalarValue) -> u64 {
    match s {
        ScalarValue::Utf8(Some(v)) | ScalarValue::LargeUtf8(Some(v)) | ScalarValue::Utf8View(Some(v)) => {
            v.len() as u64
        }
        ScalarValue::Binary(Some(v))
        | ScalarValue::LargeBinary(Some(v))
        | ScalarValue::BinaryView(Some(v)) => v.len() as u64,
        _ => 0,
    }
}

/// Refuses a plan in which one node's expressions would repeat constants of more than
/// [`MAX_EXPRESSION_OUTPUT`] over a batch of `batch_rows` rows (a constant is copied to every
/// row where it is a value of the result: the whole expression, or what a cast, `CASE` or
/// `coalesce` passes on; inside a comparison or an `IN` list it is not), or that calls more
/// than [`MAX_EXPANDING_CALLS`] bounded functions and `||` (each may produce up to
/// [`MAX_EXPRESSION_OUTPUT`] per batch, and a select list of them would hold them all at once).
pub(crate) fn check_expansion(plan: &Arc<dyn ExecutionPlan>, batch_rows: usize) -> Result<()> {
    let mut calls = 0usize;
    plan.apply(|node| {
        let mut bytes = 0u64;
        node.apply_expressions(&mut |e| {
            bytes = bytes.saturating_add(repeated_constant(e));
            e.apply(|e| {
                if let Some(l) = e.downcast_ref::<Literal>()
                    && l.value().size() > MAX_CONSTANT_BYTES
                {
                    return Err(constant_too_large(l.value().size()));
                }
                if e.downcast_ref::<ScalarFunctionExpr>()
                    .is_some_and(|f| f.fun().inner().is::<Bounded>() || f.fun().inner().is::<ConcatOperator>())
                {
                    calls += 1;
                }
                Ok(TreeNodeRecursion::Continue)
            })?;
            Ok(TreeNodeRecursion::Continue)
        })?;
        if calls > MAX_EXPANDING_CALLS {
            return Err(resources_datafusion_err!(
                "the statement calls {calls} functions that can multiply text (`repeat`, `lpad`, `rpad`, `replace`, `regexp_replace`, `concat`, `concat_ws`, `overlay`, `||`); at most {MAX_EXPANDING_CALLS} are allowed"
            ));
        }
        let total = bytes.saturating_mul(batch_rows as u64);
        if total > MAX_EXPRESSION_OUTPUT {
            return Err(resources_datafusion_err!(
                "the statement's constants would be copied into about {} MiB for each batch of {batch_rows} rows; at most {} MiB are allowed (shorten its text constants)",
                total >> 20,
                MAX_EXPRESSION_OUTPUT >> 20
            ));
        }
        Ok(TreeNodeRecursion::Continue)
    })?;
    Ok(())
}

/// The bytes of the constants `e` copies to each row of its result.
fn repeated_constant(e: &Arc<dyn PhysicalExpr>) -> u64 {
    if let Some(l) = e.downcast_ref::<Literal>() {
        return scalar_len(l.value());
    }
    let passed_on: Vec<&Arc<dyn PhysicalExpr>> = if let Some(c) = e.downcast_ref::<CastExpr>() {
        vec![c.expr()]
    } else if let Some(c) = e.downcast_ref::<TryCastExpr>() {
        vec![c.expr()]
    } else if let Some(c) = e.downcast_ref::<CaseExpr>() {
        c.when_then_expr()
            .iter()
            .map(|(_, then)| then)
            .chain(c.else_expr())
            .collect()
    } else if let Some(f) = e.downcast_ref::<ScalarFunctionExpr>()
        && matches!(
            f.name(),
            "coalesce" | "nullif" | "nvl" | "nvl2" | "ifnull" | "greatest" | "least"
        )
    {
        f.args().iter().collect()
    } else {
        Vec::new()
    };
    passed_on
        .into_iter()
        .fold(0, |sum, e| sum.saturating_add(repeated_constant(e)))
}

/// Refuses an optimized plan holding a constant of more than [`MAX_CONSTANT_BYTES`] anywhere,
/// window functions' arguments included (the physical window nodes do not list them).
pub(crate) fn check_plan_constants(plan: &LogicalPlan) -> Result<()> {
    plan.apply_with_subqueries(|node| {
        node.apply_expressions(|e| {
            e.apply(|e| {
                if let Expr::Literal(value, _) = e
                    && value.size() > MAX_CONSTANT_BYTES
                {
                    return Err(constant_too_large(value.size()));
                }
                Ok(TreeNodeRecursion::Continue)
            })
        })
    })?;
    Ok(())
}

fn constant_too_large(bytes: usize) -> datafusion::common::DataFusionError {
    resources_datafusion_err!(
        "the statement holds a constant of {} KiB (as written, bound as a parameter or computed while planning); at most {} KiB are allowed",
        bytes >> 10,
        MAX_CONSTANT_BYTES >> 10
    )
}

/// `a || b` as a call of [`ConcatOperator`], in every expression of an optimized plan: the
/// operator is evaluated by the engine itself, unbounded, and `x || x` nested in subqueries
/// doubles at each level.
pub(crate) fn bound_concatenation(plan: LogicalPlan, concat: &Arc<ScalarUDF>) -> Result<LogicalPlan> {
    let operator = Arc::new(ScalarUDF::new_from_impl(ConcatOperator {
        concat: concat.clone(),
    }));
    Ok(plan
        .transform_up_with_subqueries(|node| {
            let names = NamePreserver::new(&node);
            node.map_expressions(|e| {
                let name = names.save(&e);
                let e = e.transform_up(|e| match e {
                    Expr::BinaryExpr(BinaryExpr {
                        left,
                        op: Operator::StringConcat,
                        right,
                    }) => Ok(Transformed::yes(Expr::ScalarFunction(ScalarFunction::new_udf(
                        operator.clone(),
                        vec![*left, *right],
                    )))),
                    e => Ok(Transformed::no(e)),
                })?;
                Ok(e.update_data(|e| name.restore(e)))
            })
        })?
        .data)
}

/// The `||` operator: the session's bounded `concat`, NULL where either side is NULL.
#[derive(Debug, PartialEq, Eq, Hash)]
struct ConcatOperator {
    concat: Arc<ScalarUDF>,
}

impl ScalarUDFImpl for ConcatOperator {
    fn name(&self) -> &str {
        "||"
    }

    fn signature(&self) -> &Signature {
        self.concat.signature()
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        self.concat.return_type(args)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        self.concat.return_field_from_args(args)
    }

    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        self.concat.coerce_types(args)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let operands = args.args.clone();
        let joined = self.concat.invoke_with_args(args)?;
        if operands
            .iter()
            .any(|a| matches!(a, ColumnarValue::Scalar(s) if s.is_null()))
        {
            return Ok(ColumnarValue::Scalar(ScalarValue::try_from(&joined.data_type())?));
        }
        match joined {
            ColumnarValue::Scalar(_) => Ok(joined),
            ColumnarValue::Array(a) => {
                let mut nulls = a.nulls().cloned();
                for operand in &operands {
                    if let ColumnarValue::Array(o) = operand {
                        nulls = NullBuffer::union(nulls.as_ref(), o.nulls());
                    }
                }
                let data = a.to_data().into_builder().nulls(nulls).build()?;
                Ok(ColumnarValue::Array(make_array(data)))
            }
        }
    }
}
