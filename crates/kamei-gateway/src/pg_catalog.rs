//! Just enough of PostgreSQL's catalog for psql's `\dt`, `\dn`, `\l` and `\d table`, and for
//! the queries drivers and BI tools send at connect time: a `pg_catalog` schema per session
//! listing only the tables and columns this principal may read, a few functions, and the
//! rewrites that let DataFusion plan psql's spellings (`OPERATOR(pg_catalog.~)`, `COLLATE
//! pg_catalog.default`, `::pg_catalog.regclass`).
//!
//! A statement that reads only catalog tables and still cannot be planned answers with no rows
//! (psql asks about policies, publications and statistics objects kamei does not have).

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{ArrayRef, BooleanArray, Int32Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::catalog::{MemorySchemaProvider, SchemaProvider};
use datafusion::common::{Result, ScalarValue};
use datafusion::datasource::MemTable;
use datafusion::execution::context::SessionContext;
use datafusion::logical_expr::{ColumnarValue, Volatility, create_udf};
use regex::Regex;

use crate::wire::pg_type;

/// The oid of the `public` namespace in PostgreSQL, and of `pg_catalog`.
const PUBLIC_OID: i32 = 2200;
const PG_CATALOG_OID: i32 = 11;
/// The oid of the first table; tables are numbered in catalog order.
pub const FIRST_TABLE_OID: i32 = 16385;

/// One readable table: its name and readable columns with their types.
pub struct Listed {
    pub name: String,
    pub columns: Vec<(String, DataType)>,
}

fn table(fields: Vec<(&str, DataType)>, columns: Vec<ArrayRef>) -> Result<Arc<MemTable>> {
    let schema = Arc::new(Schema::new(
        fields
            .into_iter()
            .map(|(n, t)| Field::new(n, t, true))
            .collect::<Vec<_>>(),
    ));
    let batch = RecordBatch::try_new(schema.clone(), columns)?;
    Ok(Arc::new(MemTable::try_new(schema, vec![vec![batch]])?))
}

fn ints(v: Vec<i32>) -> ArrayRef {
    Arc::new(Int32Array::from(v))
}

fn texts<S: AsRef<str>>(v: &[S]) -> ArrayRef {
    Arc::new(StringArray::from_iter_values(v.iter().map(|s| s.as_ref())))
}

fn bools(v: Vec<bool>) -> ArrayRef {
    Arc::new(BooleanArray::from(v))
}

/// Registers `pg_catalog` (the listed tables only) and the catalog functions on `ctx`.
pub fn register(ctx: &SessionContext, tables: &[Listed], principal: &str) -> Result<()> {
    let schema = MemorySchemaProvider::new();
    let n = tables.len();
    let oids: Vec<i32> = (0..n as i32).map(|i| FIRST_TABLE_OID + i).collect();
    let names: Vec<&str> = tables.iter().map(|t| t.name.as_str()).collect();
    schema.register_table(
        "pg_namespace".into(),
        table(
            vec![
                ("oid", DataType::Int32),
                ("nspname", DataType::Utf8),
                ("nspowner", DataType::Int32),
            ],
            vec![
                ints(vec![PUBLIC_OID, PG_CATALOG_OID]),
                texts(&["public", "pg_catalog"]),
                ints(vec![10, 10]),
            ],
        )?,
    )?;
    let f = |v: bool| bools(vec![v; n]);
    let z = || ints(vec![0; n]);
    let s = |v: &str| texts(&vec![v; n]);
    schema.register_table(
        "pg_class".into(),
        table(
            vec![
                ("oid", DataType::Int32),
                ("relname", DataType::Utf8),
                ("relnamespace", DataType::Int32),
                ("relkind", DataType::Utf8),
                ("relowner", DataType::Int32),
                ("relam", DataType::Int32),
                ("relchecks", DataType::Int32),
                ("relhasindex", DataType::Boolean),
                ("relhasrules", DataType::Boolean),
                ("relhastriggers", DataType::Boolean),
                ("relrowsecurity", DataType::Boolean),
                ("relforcerowsecurity", DataType::Boolean),
                ("relispartition", DataType::Boolean),
                ("reltablespace", DataType::Int32),
                ("reloftype", DataType::Int32),
                ("relpersistence", DataType::Utf8),
                ("relreplident", DataType::Utf8),
                ("reltoastrelid", DataType::Int32),
            ],
            vec![
                ints(oids.clone()),
                texts(&names),
                ints(vec![PUBLIC_OID; n]),
                s("r"),
                ints(vec![10; n]),
                ints(vec![2; n]),
                z(),
                f(false),
                f(false),
                f(false),
                f(false),
                f(false),
                f(false),
                z(),
                z(),
                s("p"),
                s("d"),
                z(),
            ],
        )?,
    )?;
    let (mut rel, mut name, mut typ, mut num) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (t, oid) in tables.iter().zip(&oids) {
        for (i, (c, dt)) in t.columns.iter().enumerate() {
            rel.push(*oid);
            name.push(c.as_str());
            typ.push(pg_type(dt).oid() as i32);
            num.push(i as i32 + 1);
        }
    }
    let m = rel.len();
    schema.register_table(
        "pg_attribute".into(),
        table(
            vec![
                ("attrelid", DataType::Int32),
                ("attname", DataType::Utf8),
                ("atttypid", DataType::Int32),
                ("atttypmod", DataType::Int32),
                ("attnum", DataType::Int32),
                ("attnotnull", DataType::Boolean),
                ("atthasdef", DataType::Boolean),
                ("attisdropped", DataType::Boolean),
                ("attidentity", DataType::Utf8),
                ("attgenerated", DataType::Utf8),
                ("attcollation", DataType::Int32),
            ],
            vec![
                ints(rel),
                texts(&name),
                ints(typ),
                ints(vec![-1; m]),
                ints(num),
                bools(vec![false; m]),
                bools(vec![false; m]),
                bools(vec![false; m]),
                texts(&vec![""; m]),
                texts(&vec![""; m]),
                ints(vec![0; m]),
            ],
        )?,
    )?;
    schema.register_table(
        "pg_am".into(),
        table(
            vec![("oid", DataType::Int32), ("amname", DataType::Utf8)],
            vec![ints(vec![2]), texts(&["heap"])],
        )?,
    )?;
    schema.register_table(
        "pg_database".into(),
        table(
            vec![
                ("oid", DataType::Int32),
                ("datname", DataType::Utf8),
                ("datdba", DataType::Int32),
                ("encoding", DataType::Int32),
                ("datcollate", DataType::Utf8),
                ("datctype", DataType::Utf8),
                ("daticulocale", DataType::Utf8),
                ("datlocprovider", DataType::Utf8),
                ("datacl", DataType::Utf8),
            ],
            vec![
                ints(vec![16384]),
                texts(&["kamei"]),
                ints(vec![10]),
                ints(vec![6]),
                texts(&["C.UTF-8"]),
                texts(&["C.UTF-8"]),
                texts(&[""]),
                texts(&["c"]),
                texts(&[""]),
            ],
        )?,
    )?;
    schema.register_table(
        "pg_roles".into(),
        table(
            vec![
                ("oid", DataType::Int32),
                ("rolname", DataType::Utf8),
                ("rolsuper", DataType::Boolean),
            ],
            vec![ints(vec![10]), texts(&[principal]), bools(vec![false])],
        )?,
    )?;
    // Catalogs psql's `\d` joins against, empty here (no defaults, no collations).
    schema.register_table(
        "pg_attrdef".into(),
        table(
            vec![
                ("adrelid", DataType::Int32),
                ("adnum", DataType::Int32),
                ("adbin", DataType::Utf8),
            ],
            vec![ints(vec![]), ints(vec![]), texts::<&str>(&[])],
        )?,
    )?;
    schema.register_table(
        "pg_collation".into(),
        table(
            vec![("oid", DataType::Int32), ("collname", DataType::Utf8)],
            vec![ints(vec![]), texts::<&str>(&[])],
        )?,
    )?;
    let types = [
        pgwire::api::Type::BOOL,
        pgwire::api::Type::BYTEA,
        pgwire::api::Type::INT8,
        pgwire::api::Type::INT2,
        pgwire::api::Type::INT4,
        pgwire::api::Type::TEXT,
        pgwire::api::Type::FLOAT4,
        pgwire::api::Type::FLOAT8,
        pgwire::api::Type::DATE,
        pgwire::api::Type::TIMESTAMP,
        pgwire::api::Type::TIMESTAMPTZ,
        pgwire::api::Type::NUMERIC,
    ];
    schema.register_table(
        "pg_type".into(),
        table(
            vec![
                ("oid", DataType::Int32),
                ("typname", DataType::Utf8),
                ("typnamespace", DataType::Int32),
                ("typcollation", DataType::Int32),
            ],
            vec![
                ints(types.iter().map(|t| t.oid() as i32).collect()),
                texts(&types.iter().map(|t| t.name()).collect::<Vec<_>>()),
                ints(vec![PG_CATALOG_OID; types.len()]),
                ints(vec![0; types.len()]),
            ],
        )?,
    )?;
    let info = MemorySchemaProvider::new();
    info.register_table(
        "tables".into(),
        table(
            vec![
                ("table_catalog", DataType::Utf8),
                ("table_schema", DataType::Utf8),
                ("table_name", DataType::Utf8),
                ("table_type", DataType::Utf8),
            ],
            vec![
                texts(&vec!["kamei"; n]),
                texts(&vec!["public"; n]),
                texts(&names),
                texts(&vec!["BASE TABLE"; n]),
            ],
        )?,
    )?;
    let (mut tname, mut cname, mut pos, mut dtype) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for t in tables {
        for (i, (c, dt)) in t.columns.iter().enumerate() {
            tname.push(t.name.as_str());
            cname.push(c.as_str());
            pos.push(i as i32 + 1);
            dtype.push(pg_type(dt).name().to_owned());
        }
    }
    let m = tname.len();
    info.register_table(
        "columns".into(),
        table(
            vec![
                ("table_catalog", DataType::Utf8),
                ("table_schema", DataType::Utf8),
                ("table_name", DataType::Utf8),
                ("column_name", DataType::Utf8),
                ("ordinal_position", DataType::Int32),
                ("data_type", DataType::Utf8),
                ("is_nullable", DataType::Utf8),
            ],
            vec![
                texts(&vec!["kamei"; m]),
                texts(&vec!["public"; m]),
                texts(&tname),
                texts(&cname),
                ints(pos),
                texts(&dtype),
                texts(&vec!["YES"; m]),
            ],
        )?,
    )?;
    if let Some(catalog) = ctx.catalog("kamei") {
        catalog.register_schema("pg_catalog", Arc::new(schema))?;
        catalog.register_schema("information_schema", Arc::new(info))?;
    }
    register_functions(ctx, principal);
    Ok(())
}

fn constant(value: ScalarValue) -> datafusion::logical_expr::ScalarFunctionImplementation {
    Arc::new(move |_| Ok(ColumnarValue::Scalar(value.clone())))
}

fn register_functions(ctx: &SessionContext, principal: &str) {
    let text = |s: &str| ScalarValue::Utf8(Some(s.to_owned()));
    let udfs = [
        (
            "pg_get_userbyid",
            vec![DataType::Int32],
            DataType::Utf8,
            text(principal),
        ),
        (
            "pg_table_is_visible",
            vec![DataType::Int32],
            DataType::Boolean,
            ScalarValue::Boolean(Some(true)),
        ),
        (
            "pg_encoding_to_char",
            vec![DataType::Int32],
            DataType::Utf8,
            text("UTF8"),
        ),
        (
            "obj_description",
            vec![DataType::Int32, DataType::Utf8],
            DataType::Utf8,
            ScalarValue::Utf8(None),
        ),
        (
            "col_description",
            vec![DataType::Int32, DataType::Int32],
            DataType::Utf8,
            ScalarValue::Utf8(None),
        ),
        (
            "array_to_string",
            vec![DataType::Utf8, DataType::Utf8],
            DataType::Utf8,
            ScalarValue::Utf8(None),
        ),
        (
            "pg_get_expr",
            vec![DataType::Utf8, DataType::Int32, DataType::Boolean],
            DataType::Utf8,
            ScalarValue::Utf8(None),
        ),
        ("current_schema", vec![], DataType::Utf8, text("public")),
        ("current_database", vec![], DataType::Utf8, text("kamei")),
        (
            "version",
            vec![],
            DataType::Utf8,
            text(&format!("PostgreSQL 16.6 (kamei {})", env!("CARGO_PKG_VERSION"))),
        ),
    ];
    for (name, args, ret, value) in udfs {
        ctx.register_udf(create_udf(name, args, ret, Volatility::Stable, constant(value)));
    }
    // format_type(oid, typmod): the type's name.
    let format_type: datafusion::logical_expr::ScalarFunctionImplementation = Arc::new(|args| {
        let oid = match args.first() {
            Some(ColumnarValue::Scalar(ScalarValue::Int32(Some(o)))) => Some(*o),
            _ => None,
        };
        let name = oid
            .and_then(|o| pgwire::api::Type::from_oid(o as u32))
            .map(|t| t.name().to_owned());
        match args.first() {
            Some(ColumnarValue::Array(a)) => {
                let a = datafusion::arrow::compute::cast(a, &DataType::Int32)?;
                let oids = a.as_any().downcast_ref::<Int32Array>();
                let names: StringArray = match oids {
                    Some(o) => o
                        .iter()
                        .map(|o| {
                            o.and_then(|o| pgwire::api::Type::from_oid(o as u32))
                                .map(|t| t.name().to_owned())
                        })
                        .collect(),
                    None => StringArray::new_null(a.len()),
                };
                Ok(ColumnarValue::Array(Arc::new(names)))
            }
            _ => Ok(ColumnarValue::Scalar(ScalarValue::Utf8(name))),
        }
    });
    ctx.register_udf(create_udf(
        "format_type",
        vec![DataType::Int32, DataType::Int32],
        DataType::Utf8,
        Volatility::Immutable,
        format_type,
    ));
}

/// psql's catalog spellings that DataFusion does not plan, rewritten; other text unchanged.
pub fn rewrite(sql: &str) -> std::borrow::Cow<'_, str> {
    static RULES: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
        [
            // psql's `\d` column query asks for defaults and collations in correlated
            // subqueries DataFusion cannot plan; kamei's tables have neither.
            (
                r"\(SELECT pg_catalog\.pg_get_expr\(d\.adbin, d\.adrelid, true\)\s+FROM pg_catalog\.pg_attrdef d\s+WHERE d\.adrelid = a\.attrelid AND d\.adnum = a\.attnum AND a\.atthasdef\)",
                "NULL",
            ),
            (
                r"\(SELECT c\.collname FROM pg_catalog\.pg_collation c, pg_catalog\.pg_type t\s+WHERE c\.oid = a\.attcollation AND t\.oid = a\.atttypid AND a\.attcollation <> t\.typcollation\)",
                "NULL",
            ),
            (r"OPERATOR\(pg_catalog\.([~!=<>]+)\)", "$1"),
            (r"(?i)\s+COLLATE\s+pg_catalog\.default", ""),
            (r"::pg_catalog\.(regclass|regtype|regnamespace|regproc|oid)(\[\])?", ""),
            (r"::pg_catalog\.(text|name|char)\b", "::text"),
            (r"pg_catalog\.([a-z_]+)\s*\(", "$1("),
        ]
        .into_iter()
        .filter_map(|(p, r)| Regex::new(p).ok().map(|re| (re, r)))
        .collect()
    });
    if !sql.contains("pg_catalog") {
        return sql.into();
    }
    let mut out = sql.to_owned();
    for (re, to) in RULES.iter() {
        out = re.replace_all(&out, *to).into_owned();
    }
    out.into()
}

/// An empty answer to a statement that reads only catalog tables and could not be planned
/// (psql asks about policies, publications, statistics objects): its select list's names, no
/// rows. Never for a statement that touches any other table.
pub fn empty_answer(
    state: &datafusion::execution::session_state::SessionState,
    statement: &datafusion::sql::parser::Statement,
) -> Option<datafusion::logical_expr::LogicalPlan> {
    use datafusion::logical_expr::{LogicalPlanBuilder, lit};
    use datafusion::sql::sqlparser::ast::{SelectItem, SetExpr, Statement};
    let references = state.resolve_table_references(statement).ok()?;
    // Catalog tables, and the table function psql spells `pg_catalog.generate_series`:
    // nothing that holds data.
    let catalog_only = !references.is_empty()
        && references.iter().all(|r| match r.schema() {
            Some("pg_catalog" | "information_schema") => true,
            None => r.table() == "generate_series",
            _ => false,
        });
    if !catalog_only {
        return None;
    }
    let datafusion::sql::parser::Statement::Statement(inner) = statement else {
        return None;
    };
    let Statement::Query(query) = inner.as_ref() else {
        return None;
    };
    let mut body = query.body.as_ref();
    while let SetExpr::SetOperation { left, .. } = body {
        body = left.as_ref();
    }
    let SetExpr::Select(select) = body else {
        return None;
    };
    let mut seen = std::collections::HashSet::new();
    let columns: Vec<_> = select
        .projection
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let mut name = match item {
                SelectItem::ExprWithAlias { alias, .. } => alias.value.clone(),
                SelectItem::UnnamedExpr(datafusion::sql::sqlparser::ast::Expr::Identifier(id)) => {
                    id.value.clone()
                }
                SelectItem::UnnamedExpr(datafusion::sql::sqlparser::ast::Expr::CompoundIdentifier(ids)) => {
                    ids.last().map(|id| id.value.clone()).unwrap_or_default()
                }
                _ => format!("column{}", i + 1),
            };
            if !seen.insert(name.clone()) {
                name = format!("{name}_{}", i + 1);
            }
            lit(ScalarValue::Utf8(None)).alias(name)
        })
        .collect();
    LogicalPlanBuilder::empty(false)
        .project(columns)
        .ok()?
        .build()
        .ok()
}
