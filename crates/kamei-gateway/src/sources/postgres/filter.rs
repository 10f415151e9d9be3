//! Filters PostgreSQL may apply for the guard: rendered to SQL only in shapes whose answer
//! PostgreSQL computes exactly as the engine does, on columns whose type makes it so.
//!
//! The guard hands a source only filters on non-personal columns the principal reads unchanged
//! in every jurisdiction (`Projection::passes_unchanged`) and lookups of stored subject keys
//! (`source_filter.rs`), so a filter run in the database answers as it would on the protected
//! values, or more widely. What it can still get wrong is semantics, so
//! the shapes are few and written here rather than through a general unparser: comparisons of
//! a column with a literal, `IN` lists, `BETWEEN`, `IS [NOT] NULL`, `AND`, `OR`, `NOT`, on
//! numbers, booleans, dates and timestamps without time zone. Text is left out: its equality
//! depends on the column's collation (a nondeterministic one drops rows the engine keeps) and
//! on the database's encoding. Anything else stays with the engine, which applies every filter
//! again above the source in any case. Values go as bound parameters, never in the text: the
//! database's statement statistics (`pg_stat_statements`) keep the text, and a lookup's raw
//! keys should not be in them.

use std::collections::HashSet;

use bytes::{BufMut, BytesMut};
use chrono::{DateTime, NaiveDate};
use datafusion::common::ScalarValue;
use datafusion::logical_expr::{BinaryExpr, Expr, Operator};
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};

use super::copy::{EPOCH_DAYS, EPOCH_MICROS};

/// Whether the database compares a column of this type OID exactly as the engine does:
/// `int8`, `int4`, `bool`, `date`, `timestamp`. `timestamptz` (compared under the session's
/// time zone), floats (NaN) and text (collations, encodings) are left to the engine.
pub(crate) fn comparable(oid: u32) -> bool {
    matches!(oid, 20 | 23 | 16 | 1082 | 1114)
}

/// Most items of an `IN` list sent to the database.
const MAX_IN_LIST: usize = 1000;

/// A filter as SQL whose values are parameters (`$1`, `$2`, …), sent apart from the text: the
/// database's statement statistics and logs keep the text, and a lookup's raw keys are not in
/// it.
#[derive(Debug, Clone, Default)]
pub(crate) struct SourceSql {
    pub(crate) text: String,
    pub(crate) params: Vec<Param>,
}

impl SourceSql {
    /// The filters that render, joined by `AND`; `None` when none does.
    pub(crate) fn render_all(filters: &[Expr], columns: &HashSet<String>) -> Option<SourceSql> {
        let mut params = Vec::new();
        let parts: Vec<String> = filters
            .iter()
            .filter_map(|f| {
                let mark = params.len();
                let part = render(f, columns, &mut params);
                if part.is_none() {
                    params.truncate(mark);
                }
                part
            })
            .collect();
        (!parts.is_empty()).then(|| SourceSql {
            text: parts.join(" AND "),
            params,
        })
    }

    /// The parameters with their types, as `query_typed` takes them.
    pub(crate) fn typed(&self) -> Vec<(&(dyn ToSql + Sync), Type)> {
        self.params
            .iter()
            .map(|p| (p as &(dyn ToSql + Sync), p.pg_type()))
            .collect()
    }

    /// The parameters' types, as a statement is prepared with them.
    pub(crate) fn types(&self) -> Vec<Type> {
        self.params.iter().map(Param::pg_type).collect()
    }

    /// The parameters, as a prepared statement takes them.
    pub(crate) fn values(&self) -> impl ExactSizeIterator<Item = &(dyn ToSql + Sync)> {
        self.params.iter().map(|p| p as &(dyn ToSql + Sync))
    }
}

/// A value a filter compares with, in the binary form of its PostgreSQL type.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Param {
    Int8(i64),
    Int4(i32),
    Bool(bool),
    /// Days since 2000-01-01.
    Date(i32),
    /// Microseconds since 2000-01-01 00:00.
    Timestamp(i64),
    /// The items of an `IN` list, all of one of the types above.
    List(Vec<Param>),
}

impl Param {
    fn pg_type(&self) -> Type {
        match self {
            Param::Int8(_) => Type::INT8,
            Param::Int4(_) => Type::INT4,
            Param::Bool(_) => Type::BOOL,
            Param::Date(_) => Type::DATE,
            Param::Timestamp(_) => Type::TIMESTAMP,
            Param::List(items) => match items.first().map(Param::pg_type) {
                Some(Type::INT4) => Type::INT4_ARRAY,
                Some(Type::BOOL) => Type::BOOL_ARRAY,
                Some(Type::DATE) => Type::DATE_ARRAY,
                Some(Type::TIMESTAMP) => Type::TIMESTAMP_ARRAY,
                _ => Type::INT8_ARRAY,
            },
        }
    }

    /// The SQL that names it as parameter `n`, with its type, so the database need not guess.
    fn placeholder(&self, n: usize) -> String {
        match self {
            Param::List(items) => format!("{}[]", items.first().map_or("$0".into(), |i| i.placeholder(n))),
            scalar => format!("${n}::{}", scalar.pg_type().name()),
        }
    }
}

impl ToSql for Param {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Param::Int8(v) | Param::Timestamp(v) => out.put_i64(*v),
            Param::Int4(v) | Param::Date(v) => out.put_i32(*v),
            Param::Bool(v) => out.put_u8(u8::from(*v)),
            Param::List(items) => return items.as_slice().to_sql(ty, out),
        }
        Ok(IsNull::No)
    }

    fn accepts(_ty: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// `expr` as PostgreSQL SQL, if its shape and columns allow (`columns`: those the guard lets
/// through whose type is [`comparable`]); its values are pushed onto `params`.
fn render(expr: &Expr, columns: &HashSet<String>, params: &mut Vec<Param>) -> Option<String> {
    match expr {
        Expr::BinaryExpr(BinaryExpr { left, op, right }) => match op {
            Operator::And | Operator::Or => Some(format!(
                "({} {} {})",
                render(left, columns, params)?,
                if *op == Operator::And { "AND" } else { "OR" },
                render(right, columns, params)?
            )),
            _ => comparison(left, *op, right, columns, params),
        },
        // A lookup by a value no row can show (`source_filter.rs`).
        Expr::Literal(ScalarValue::Boolean(Some(false)), _) => Some("FALSE".to_owned()),
        Expr::Not(inner) => Some(format!("(NOT {})", render(inner, columns, params)?)),
        Expr::IsNull(inner) => Some(format!("({} IS NULL)", column(inner, columns)?)),
        Expr::IsNotNull(inner) => Some(format!("({} IS NOT NULL)", column(inner, columns)?)),
        Expr::InList(list) if list.list.len() <= MAX_IN_LIST && !list.list.is_empty() => {
            let name = column(&list.expr, columns)?;
            let items: Vec<Param> = list.list.iter().map(literal).collect::<Option<_>>()?;
            let first = items.first().map(Param::pg_type);
            if items.iter().any(|i| Some(i.pg_type()) != first) {
                return None;
            }
            // `= ANY(array)` is `IN (list)`, NULLs aside (a list holds none): one statement
            // text whatever the list's length.
            let not = if list.negated { "NOT " } else { "" };
            Some(format!(
                "({not}{name} = ANY({}))",
                bind(Param::List(items), params)
            ))
        }
        Expr::Between(b) => {
            let name = column(&b.expr, columns)?;
            let not = if b.negated { "NOT " } else { "" };
            let (low, high) = (literal(&b.low)?, literal(&b.high)?);
            Some(format!(
                "({name} {not}BETWEEN {} AND {})",
                bind(low, params),
                bind(high, params)
            ))
        }
        _ => None,
    }
}

/// `value` as the next parameter.
fn bind(value: Param, params: &mut Vec<Param>) -> String {
    let placeholder = value.placeholder(params.len() + 1);
    params.push(value);
    placeholder
}

fn comparison(
    left: &Expr,
    op: Operator,
    right: &Expr,
    columns: &HashSet<String>,
    params: &mut Vec<Param>,
) -> Option<String> {
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
    Some(format!("({name} {sql} {})", bind(value, params)))
}

/// A bare column the guard lets through, quoted.
fn column(expr: &Expr, columns: &HashSet<String>) -> Option<String> {
    let Expr::Column(c) = expr else {
        return None;
    };
    columns.contains(&c.name).then(|| super::quote(&c.name))
}

/// A literal of a type the columns above hold; `None` for NULL and other types (a comparison
/// with NULL is left to the engine).
fn literal(expr: &Expr) -> Option<Param> {
    let Expr::Literal(value, _) = expr else {
        return None;
    };
    match value {
        ScalarValue::Int64(Some(v)) => Some(Param::Int8(*v)),
        ScalarValue::Int32(Some(v)) => Some(Param::Int4(*v)),
        ScalarValue::Boolean(Some(v)) => Some(Param::Bool(*v)),
        ScalarValue::Date32(Some(days)) => {
            let date = NaiveDate::from_ymd_opt(1970, 1, 1)?
                .checked_add_signed(chrono::Duration::days(i64::from(*days)))?;
            plain_year(&date).then(|| Param::Date(days - EPOCH_DAYS))
        }
        ScalarValue::TimestampMicrosecond(Some(micros), None) => {
            let t = DateTime::from_timestamp_micros(*micros)?.naive_utc();
            plain_year(&t.date()).then(|| Param::Timestamp(micros - EPOCH_MICROS))
        }
        _ => None,
    }
}

/// Years within both sides' ranges and written alike (PostgreSQL writes year 0 and before as
/// BC).
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

    fn one(expr: &Expr) -> Option<SourceSql> {
        SourceSql::render_all(std::slice::from_ref(expr), &columns())
    }

    #[test]
    fn the_shapes_render_with_their_values_as_parameters() {
        let micros = 1_700_000_000_123_456;
        for (expr, sql, params) in [
            (
                col("chat_id").eq(lit(42i64)),
                "(\"chat_id\" = $1::int8)",
                vec![Param::Int8(42)],
            ),
            (
                lit(42i32).lt(col("chat_id")),
                "(\"chat_id\" > $1::int4)",
                vec![Param::Int4(42)],
            ),
            (
                col("flagged").eq(lit(true)).or(col("chat_id").is_null()),
                "((\"flagged\" = $1::bool) OR (\"chat_id\" IS NULL))",
                vec![Param::Bool(true)],
            ),
            (
                col("chat_id").in_list(vec![lit(1i64), lit(2i64)], true),
                "(NOT \"chat_id\" = ANY($1::int8[]))",
                vec![Param::List(vec![Param::Int8(1), Param::Int8(2)])],
            ),
            (
                col("sent_at").gt_eq(Expr::Literal(
                    ScalarValue::TimestampMicrosecond(Some(micros), None),
                    None,
                )),
                "(\"sent_at\" >= $1::timestamp)",
                vec![Param::Timestamp(micros - EPOCH_MICROS)],
            ),
            (
                !col("chat_id").between(lit(1i64), lit(9i64)),
                "(NOT (\"chat_id\" BETWEEN $1::int8 AND $2::int8))",
                vec![Param::Int8(1), Param::Int8(9)],
            ),
        ] {
            let rendered = one(&expr).unwrap_or_else(|| panic!("{expr} did not render"));
            assert_eq!((rendered.text.as_str(), rendered.params), (sql, params), "{expr}");
        }
    }

    #[test]
    fn other_shapes_stay_with_the_engine_and_leave_no_parameter_behind() {
        for expr in [
            // A column the guard does not let through, a text literal, a function, NULL, a
            // column against a column, a part that cannot go down.
            col("phone").eq(lit("x")),
            col("chat_id").eq(lit("42")),
            datafusion::functions::expr_fn::abs(col("chat_id")).eq(lit(1i64)),
            col("chat_id").eq(lit(ScalarValue::Int64(None))),
            col("chat_id").eq(col("sent_at")),
            col("chat_id").eq(lit(1i64)).and(col("phone").is_null()),
            col("chat_id").in_list(vec![lit(1i64), lit(2i32)], false),
        ] {
            assert!(one(&expr).is_none(), "{expr}");
        }
        // A filter that does not render takes its values with it: the next one is `$1`.
        let both = SourceSql::render_all(
            &[
                col("chat_id").eq(lit(1i64)).and(col("phone").is_null()),
                col("chat_id").eq(lit(7i64)),
            ],
            &columns(),
        )
        .unwrap();
        assert_eq!(
            (both.text.as_str(), both.params),
            ("(\"chat_id\" = $1::int8)", vec![Param::Int8(7)])
        );
    }
}
