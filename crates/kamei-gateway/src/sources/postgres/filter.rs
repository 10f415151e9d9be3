//! Filters PostgreSQL may apply for the guard: rendered to SQL only in shapes whose answer
//! PostgreSQL computes exactly as the engine does, on columns whose type makes it so.
//!
//! The guard hands a source only filters on non-personal columns the principal reads unchanged
//! in every jurisdiction (`Projection::passes_unchanged`), so a filter run in the database
//! answers as it would on the protected values. What it can still get wrong is semantics, so
//! the shapes are few and written here rather than through a general unparser: comparisons of
//! a column with a literal, `IN` lists, `BETWEEN`, `IS [NOT] NULL`, `AND`, `OR`, `NOT`, on
//! numbers, booleans, dates and timestamps without time zone. Text is left out: its equality
//! depends on the column's collation (a nondeterministic one drops rows the engine keeps) and
//! on the database's encoding. Anything else stays with the engine, which applies every filter
//! again above the source in any case.

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate};
use datafusion::common::ScalarValue;
use datafusion::logical_expr::{BinaryExpr, Expr, Operator};

/// Whether the database compares a column of this type OID exactly as the engine does:
/// `int8`, `int4`, `bool`, `date`, `timestamp`. `timestamptz` (compared under the session's
/// time zone), floats (NaN) and text (collations, encodings) are left to the engine.
pub(crate) fn comparable(oid: u32) -> bool {
    matches!(oid, 20 | 23 | 16 | 1082 | 1114)
}

/// Most items of an `IN` list sent to the database.
const MAX_IN_LIST: usize = 1000;

/// `expr` as PostgreSQL SQL, if its shape and columns allow (`columns`: those the guard lets
/// through whose type is [`comparable`]).
pub(crate) fn render(expr: &Expr, columns: &HashSet<String>) -> Option<String> {
    match expr {
        Expr::BinaryExpr(BinaryExpr { left, op, right }) => match op {
            Operator::And | Operator::Or => Some(format!(
                "({} {} {})",
                render(left, columns)?,
                if *op == Operator::And { "AND" } else { "OR" },
                render(right, columns)?
            )),
            _ => comparison(left, *op, right, columns),
        },
        // A lookup by a value no row can show (`source_filter.rs`).
        Expr::Literal(ScalarValue::Boolean(Some(false)), _) => Some("FALSE".to_owned()),
        Expr::Not(inner) => Some(format!("(NOT {})", render(inner, columns)?)),
        Expr::IsNull(inner) => Some(format!("({} IS NULL)", column(inner, columns)?)),
        Expr::IsNotNull(inner) => Some(format!("({} IS NOT NULL)", column(inner, columns)?)),
        Expr::InList(list) if list.list.len() <= MAX_IN_LIST && !list.list.is_empty() => {
            let name = column(&list.expr, columns)?;
            let items: Vec<String> = list.list.iter().map(literal).collect::<Option<_>>()?;
            let not = if list.negated { "NOT " } else { "" };
            Some(format!("({name} {not}IN ({}))", items.join(", ")))
        }
        Expr::Between(b) => {
            let name = column(&b.expr, columns)?;
            let not = if b.negated { "NOT " } else { "" };
            Some(format!(
                "({name} {not}BETWEEN {} AND {})",
                literal(&b.low)?,
                literal(&b.high)?
            ))
        }
        _ => None,
    }
}

fn comparison(left: &Expr, op: Operator, right: &Expr, columns: &HashSet<String>) -> Option<String> {
    let (name, value, op) = match (column(left, columns), column(right, columns)) {
        (Some(name), None) => (name, literal(right)?, op),
        (None, Some(name)) => (name, literal(left)?, op.swap()?),
        _ => return None,
    };
    let sql = match op {
        Operator::Eq => "=",
        Operator::NotEq => "<>",
        Operator::Lt => "<",
        Operator::LtEq => "<=",
        Operator::Gt => ">",
        Operator::GtEq => ">=",
        _ => return None,
    };
    Some(format!("({name} {sql} {value})"))
}

/// A bare column the guard lets through, quoted.
fn column(expr: &Expr, columns: &HashSet<String>) -> Option<String> {
    let Expr::Column(c) = expr else {
        return None;
    };
    columns.contains(&c.name).then(|| super::quote(&c.name))
}

/// A literal of a type the columns above hold, as SQL; `None` for NULL and other types (a
/// comparison with NULL is left to the engine).
fn literal(expr: &Expr) -> Option<String> {
    let Expr::Literal(value, _) = expr else {
        return None;
    };
    match value {
        ScalarValue::Int64(Some(v)) => Some(v.to_string()),
        ScalarValue::Int32(Some(v)) => Some(v.to_string()),
        ScalarValue::Boolean(Some(v)) => Some(if *v { "TRUE" } else { "FALSE" }.to_owned()),
        ScalarValue::Date32(Some(days)) => {
            let date = NaiveDate::from_ymd_opt(1970, 1, 1)?
                .checked_add_signed(chrono::Duration::days(i64::from(*days)))?;
            plain_year(&date).then(|| format!("DATE '{}'", date.format("%Y-%m-%d")))
        }
        ScalarValue::TimestampMicrosecond(Some(micros), None) => {
            let t = DateTime::from_timestamp_micros(*micros)?.naive_utc();
            plain_year(&t.date()).then(|| format!("TIMESTAMP '{}'", t.format("%Y-%m-%d %H:%M:%S%.6f")))
        }
        _ => None,
    }
}

/// Years both sides write alike (PostgreSQL writes year 0 and before as BC).
fn plain_year(date: &NaiveDate) -> bool {
    use chrono::Datelike;
    (1..=9999).contains(&date.year())
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::logical_expr::{col, lit};

    fn columns() -> HashSet<String> {
        ["chat_id", "sent_at", "flagged"].map(str::to_owned).into()
    }

    #[test]
    fn the_shapes_render_and_others_stay_with_the_engine() {
        let c = columns();
        let micros = 1_700_000_000_123_456;
        for (expr, sql) in [
            (col("chat_id").eq(lit(42i64)), "(\"chat_id\" = 42)"),
            (lit(42i64).lt(col("chat_id")), "(\"chat_id\" > 42)"),
            (
                col("flagged").eq(lit(true)).or(col("chat_id").is_null()),
                "((\"flagged\" = TRUE) OR (\"chat_id\" IS NULL))",
            ),
            (
                col("chat_id").in_list(vec![lit(1i64), lit(2i64)], true),
                "(\"chat_id\" NOT IN (1, 2))",
            ),
            (
                col("sent_at").gt_eq(Expr::Literal(
                    ScalarValue::TimestampMicrosecond(Some(micros), None),
                    None,
                )),
                "(\"sent_at\" >= TIMESTAMP '2023-11-14 22:13:20.123456')",
            ),
            (
                !col("chat_id").between(lit(1i64), lit(9i64)),
                "(NOT (\"chat_id\" BETWEEN 1 AND 9))",
            ),
        ] {
            assert_eq!(render(&expr, &c).as_deref(), Some(sql), "{expr}");
        }
        for expr in [
            // A column the guard does not let through, a text literal, a function, NULL, a
            // column against a column, a part that cannot go down.
            col("phone").eq(lit("x")),
            col("chat_id").eq(lit("42")),
            datafusion::functions::expr_fn::abs(col("chat_id")).eq(lit(1i64)),
            col("chat_id").eq(lit(ScalarValue::Int64(None))),
            col("chat_id").eq(col("sent_at")),
            col("chat_id").eq(lit(1i64)).and(col("phone").is_null()),
        ] {
            assert_eq!(render(&expr, &c), None, "{expr}");
        }
    }
}
