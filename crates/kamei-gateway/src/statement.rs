//! The statement guard's first step: what a client sent, parsed with the PostgreSQL dialect
//! and sorted into what the gateway runs, answers itself or refuses. Every statement of a
//! string is classified before any runs: one refused statement refuses the whole string.
//!
//! The principal is fixed at authentication: no statement can change who is asking
//! (`SET ROLE`, `SET SESSION AUTHORIZATION`, `RESET ALL`) or how the engine plans
//! (`datafusion.*`). Settings a client library sends on its own are accepted and kept per
//! connection; `kamei.purpose` and `kamei.ticket` go into the audit record.

use datafusion::sql::sqlparser::ast::{
    self, CopySource, CopyTarget, Expr, ObjectName, Set, Statement, Value, ValueWithSpan,
};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::parser::Parser;
use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer};

/// Deepest nesting the parser follows; deeper SQL is refused, not a stack overflow.
const RECURSION_LIMIT: usize = 64;
/// Most operators a statement string may hold. A chain `1+1+…` parses in a loop but is a tree
/// as deep as it is long, which every later step (planning, printing, dropping) walks
/// recursively: thousands of terms overflowed a worker's stack and took the server down.
const MAX_OPERATORS: usize = 1_000;

/// Most parentheses opened after a word (function calls, `FROM (`, `IN (`, `OVER (`) nested
/// inside one another: planning time grows exponentially with nested calls (a reviewer's
/// `concat(concat(…))` 21 deep planned for 28 s, 40 deep never ended and starved every other
/// connection, before any timeout applies).
const MAX_CALL_DEPTH: usize = 12;
/// Longest statement string accepted.
const MAX_SQL_BYTES: usize = 1 << 20;

/// Settings a client may change, lower-cased: what drivers send at connect time, and kamei's
/// own two for the audit record. Anything else is refused.
const SETTABLE: &[&str] = &[
    "application_name",
    "client_encoding",
    "datestyle",
    "extra_float_digits",
    "timezone",
    "statement_timeout",
    "search_path",
    "standard_conforming_strings",
    "intervalstyle",
    "kamei.purpose",
    "kamei.ticket",
];

/// One statement, as the gateway will handle it.
#[derive(Debug, Clone)]
pub enum Step {
    /// A query to plan and run; `copy` when it came as `COPY (query) TO STDOUT`.
    Query {
        statement: Box<Statement>,
        copy: bool,
    },
    /// `EXPLAIN …` (only admins get it past the session).
    Explain(Box<Statement>),
    /// A harmless setting, lower-cased name and its value as text.
    Set {
        name: String,
        value: String,
    },
    /// `SHOW name` (lower-cased).
    Show {
        name: String,
    },
    /// `BEGIN`/`START TRANSACTION`, `COMMIT`/`END`, `ROLLBACK`: read-only, so nothing to do.
    Begin,
    Commit,
    Rollback,
    /// `DISCARD ALL` and the like, which poolers send: clears the connection's settings.
    Discard,
}

/// Why a statement string was refused (the text names no value: the client wrote it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refusal(pub String);

/// Parses `sql` and classifies each of its statements.
pub fn classify(sql: &str) -> Result<Vec<Step>, Refusal> {
    let sql = crate::pg_catalog::rewrite(sql);
    let sql = sql.as_ref();
    if sql.len() > MAX_SQL_BYTES {
        return refuse(format!("the statement is longer than {MAX_SQL_BYTES} bytes"));
    }
    let tokens = Tokenizer::new(&PostgreSqlDialect {}, sql)
        .tokenize()
        .map_err(|e| Refusal(format!("syntax error: {e}")))?;
    let operators = tokens.iter().filter(|t| is_operator(t)).count();
    if operators > MAX_OPERATORS {
        return refuse(format!(
            "the statement has {operators} operators; at most {MAX_OPERATORS} are accepted (split it up)"
        ));
    }
    let depth = call_depth(&tokens);
    if depth > MAX_CALL_DEPTH {
        return refuse(format!(
            "the statement nests {depth} calls or subqueries inside one another; at most {MAX_CALL_DEPTH} are accepted"
        ));
    }
    let statements = Parser::new(&PostgreSqlDialect {})
        .with_recursion_limit(RECURSION_LIMIT)
        .try_with_sql(sql)
        .and_then(|mut p| p.parse_statements())
        .map_err(|e| Refusal(format!("syntax error: {e}")))?;
    statements.into_iter().map(step).collect()
}

/// Whether a token can make the statement's tree one level deeper while the parser reads it in
/// a loop (so the parser's recursion limit does not see it): every operator symbol, the
/// keyword operators (`AND`, `IS`, `LIKE`, `BETWEEN`, `IN`, `COLLATE`, `AT TIME ZONE`…) and
/// set operations and joins, which the planner nests one per term. Literals, names, commas
/// and parentheses are not counted: a long `IN` list or select list stays flat (a list of
/// columns or parameters is written out as a balanced tree of comparisons: `in_lists.rs`).
fn is_operator(t: &Token) -> bool {
    match t {
        Token::Word(w) => matches!(
            w.keyword,
            Keyword::AND
                | Keyword::OR
                | Keyword::NOT
                | Keyword::IS
                | Keyword::LIKE
                | Keyword::ILIKE
                | Keyword::SIMILAR
                | Keyword::BETWEEN
                | Keyword::IN
                | Keyword::COLLATE
                | Keyword::AT
                | Keyword::UNION
                | Keyword::EXCEPT
                | Keyword::INTERSECT
                | Keyword::JOIN
        ),
        Token::EOF
        | Token::Number(..)
        | Token::Char(_)
        | Token::SingleQuotedString(_)
        | Token::DoubleQuotedString(_)
        | Token::TripleSingleQuotedString(_)
        | Token::TripleDoubleQuotedString(_)
        | Token::DollarQuotedString(_)
        | Token::SingleQuotedByteStringLiteral(_)
        | Token::DoubleQuotedByteStringLiteral(_)
        | Token::TripleSingleQuotedByteStringLiteral(_)
        | Token::TripleDoubleQuotedByteStringLiteral(_)
        | Token::SingleQuotedRawStringLiteral(_)
        | Token::DoubleQuotedRawStringLiteral(_)
        | Token::TripleSingleQuotedRawStringLiteral(_)
        | Token::TripleDoubleQuotedRawStringLiteral(_)
        | Token::NationalStringLiteral(_)
        | Token::QuoteDelimitedStringLiteral(_)
        | Token::NationalQuoteDelimitedStringLiteral(_)
        | Token::EscapedStringLiteral(_)
        | Token::UnicodeStringLiteral(_)
        | Token::HexStringLiteral(_)
        | Token::Comma
        | Token::Whitespace(_)
        | Token::LParen
        | Token::RParen
        | Token::Period
        | Token::SemiColon
        | Token::Placeholder(_) => false,
        _ => true,
    }
}

/// The deepest nesting of parentheses that open right after a word.
fn call_depth(tokens: &[Token]) -> usize {
    let mut open: Vec<bool> = Vec::new();
    let (mut depth, mut deepest) = (0usize, 0usize);
    let mut previous_is_word = false;
    for t in tokens {
        match t {
            Token::Whitespace(_) => continue,
            Token::LParen => {
                open.push(previous_is_word);
                if previous_is_word {
                    depth += 1;
                    deepest = deepest.max(depth);
                }
            }
            Token::RParen => depth -= usize::from(open.pop() == Some(true)),
            _ => {}
        }
        previous_is_word = matches!(t, Token::Word(_));
    }
    deepest
}

fn refuse<T>(what: impl Into<String>) -> Result<T, Refusal> {
    Err(Refusal(what.into()))
}

fn step(statement: Statement) -> Result<Step, Refusal> {
    match statement {
        Statement::Query(_) => Ok(Step::Query {
            statement: Box::new(statement),
            copy: false,
        }),
        Statement::Copy {
            source, to, target, ..
        } => match (source, to, target) {
            (CopySource::Query(query), true, CopyTarget::Stdout) => Ok(Step::Query {
                statement: Box::new(Statement::Query(query)),
                copy: true,
            }),
            (CopySource::Table { .. }, true, CopyTarget::Stdout) => {
                refuse("COPY of a table is not supported; write COPY (SELECT … FROM table) TO STDOUT")
            }
            _ => refuse("only COPY (query) TO STDOUT is allowed: kamei writes no files and reads no input"),
        },
        Statement::Explain { .. } | Statement::ExplainTable { .. } => Ok(Step::Explain(Box::new(statement))),
        Statement::Set(set) => set_step(set),
        Statement::ShowVariable { variable } => Ok(Step::Show {
            name: variable
                .iter()
                .map(|i| i.value.to_lowercase())
                .collect::<Vec<_>>()
                .join(" "),
        }),
        Statement::StartTransaction { statements, .. } if statements.is_empty() => Ok(Step::Begin),
        Statement::Commit { .. } => Ok(Step::Commit),
        Statement::Rollback { savepoint: None, .. } => Ok(Step::Rollback),
        Statement::Discard { .. } => Ok(Step::Discard),
        Statement::Reset(_) => refuse("RESET is not allowed: the session's principal and settings are fixed"),
        Statement::Insert(_)
        | Statement::Update { .. }
        | Statement::Delete(_)
        | Statement::Merge { .. }
        | Statement::Truncate { .. } => {
            refuse("kamei is read-only: INSERT, UPDATE, DELETE, MERGE and TRUNCATE are refused")
        }
        Statement::Declare { .. } | Statement::Fetch { .. } | Statement::Close { .. } => refuse(
            "cursors are not supported yet; use the extended protocol's row limit (fetch size) instead",
        ),
        Statement::Prepare { .. } | Statement::Execute { .. } | Statement::Deallocate { .. } => {
            refuse("SQL-level PREPARE/EXECUTE is not supported; use your driver's prepared statements")
        }
        other => refuse(format!(
            "`{}` is not allowed: kamei runs read-only queries",
            statement_kind(&other)
        )),
    }
}

/// The first words of a statement, for refusals (never its literals).
fn statement_kind(statement: &Statement) -> String {
    let text = statement.to_string();
    text.split_whitespace()
        .take_while(|w| w.chars().all(|c| c.is_ascii_alphabetic() || c == '_'))
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

fn set_step(set: Set) -> Result<Step, Refusal> {
    match set {
        Set::SingleAssignment { variable, values, .. } => {
            let name = object_name(&variable);
            let [value] = values.as_slice() else {
                return refuse(format!("SET {name}: one value expected"));
            };
            settable(name, value)
        }
        Set::SetTimeZone { value, .. } => settable("timezone".to_owned(), &value),
        Set::SetRole { .. } | Set::SetSessionAuthorization(_) => refuse(
            "the principal is fixed at authentication: SET ROLE and SET SESSION AUTHORIZATION are refused",
        ),
        _ => refuse("this form of SET is not allowed; use SET name = value with one of the client settings"),
    }
}

fn settable(name: String, value: &Expr) -> Result<Step, Refusal> {
    if !SETTABLE.contains(&name.as_str()) {
        return refuse(format!(
            "SET {name} is not allowed: only client settings ({}) may be set",
            SETTABLE.join(", ")
        ));
    }
    let value = match value {
        Expr::Value(ValueWithSpan {
            value: Value::SingleQuotedString(s) | Value::Number(s, _),
            ..
        }) => s.clone(),
        Expr::Identifier(i) => i.value.clone(),
        other => other.to_string(),
    };
    if name == "client_encoding"
        && !matches!(value.to_uppercase().replace('-', "").as_str(), "UTF8" | "UNICODE")
    {
        return refuse("kamei speaks UTF8 only; set client_encoding to UTF8");
    }
    Ok(Step::Set { name, value })
}

fn object_name(name: &ObjectName) -> String {
    name.0
        .iter()
        .map(|p| match p {
            ast::ObjectNamePart::Identifier(i) => i.value.to_lowercase(),
            other => other.to_string().to_lowercase(),
        })
        .collect::<Vec<_>>()
        .join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(sql: &str) -> String {
        classify(sql).expect_err(sql).0
    }

    #[test]
    fn calls_nested_past_the_limit_are_refused() {
        let nested = |n: usize| {
            let inner = (0..n).fold("body".to_owned(), |e, _| format!("concat({e}, 'ab')"));
            format!("SELECT length({inner}) FROM messages")
        };
        assert!(classify(&nested(MAX_CALL_DEPTH - 1)).is_ok());
        assert!(refused(&nested(MAX_CALL_DEPTH)).contains("at most 12"));
        // Parentheses that only group do not count.
        let grouped = format!("SELECT {}1{}", "(".repeat(40), ")".repeat(40));
        assert!(classify(&grouped).is_ok());
    }

    #[test]
    fn queries_settings_and_transactions_pass() {
        let steps = classify("BEGIN; SELECT 1; SET application_name = 'x'; SHOW TimeZone; COMMIT").unwrap();
        assert!(matches!(steps[0], Step::Begin));
        assert!(matches!(steps[1], Step::Query { copy: false, .. }));
        assert!(matches!(&steps[2], Step::Set { name, value } if name == "application_name" && value == "x"));
        assert!(matches!(&steps[3], Step::Show { name } if name == "timezone"));
        assert!(matches!(steps[4], Step::Commit));
        assert!(matches!(
            classify("COPY (SELECT 1) TO STDOUT").unwrap()[0],
            Step::Query { copy: true, .. }
        ));
    }

    #[test]
    fn identity_engine_and_writes_are_refused() {
        for sql in [
            "SET ROLE admin",
            "SET SESSION AUTHORIZATION admin",
            "RESET ALL",
            "SET datafusion.execution.collect_statistics = true",
            "SET kamei.principal = 'admin'",
            "COPY users TO '/tmp/x'",
            "COPY (SELECT 1) TO '/tmp/x'",
            "COPY users FROM STDIN",
            "INSERT INTO users VALUES (1)",
            "CREATE TABLE t (a int)",
            "DROP TABLE users",
            "SET client_encoding = 'LATIN1'",
        ] {
            refused(sql);
        }
        // One refused statement refuses the whole string.
        refused("SELECT 1; SET ROLE admin");
        // A chain of thousands of terms is refused before it is parsed into a deep tree.
        let chain = format!("SELECT {}", vec!["1"; 5000].join("+"));
        assert!(refused(&chain).contains("operators"));
        // Postfix operators and set operations nest one level per term too (a reviewer's
        // 8,000 `IS NULL` and 20,000 `UNION ALL` took a server down).
        for chain in [
            format!("SELECT 1{}", " IS NULL".repeat(1001)),
            vec!["SELECT 1"; 1002].join(" UNION ALL "),
            format!(
                "SELECT 1 FROM users u0{}",
                (1..1002)
                    .map(|i| format!(" JOIN users u{i} ON true"))
                    .collect::<String>()
            ),
        ] {
            assert!(refused(&chain).contains("operators"), "{}", &chain[..40]);
        }
        // Flat lists stay accepted, however long.
        let list = (0..5000)
            .map(|i| format!("'v{i}'"))
            .collect::<Vec<_>>()
            .join(", ");
        classify(&format!("SELECT 1 WHERE 'a' IN ({list})")).unwrap();
        refused("SELECT $$;$$; CREATE VIEW v AS SELECT 1");
    }
}
