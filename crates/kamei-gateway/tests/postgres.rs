//! A PostgreSQL source that is not as the configuration expects is refused at start, with an
//! error naming the source, the table and the column. (The suites in guard.rs and wire.rs run
//! against PostgreSQL too: scripts/test's second run.) Needs the server scripts/test starts.

mod common;

use std::sync::OnceLock;

use datafusion::common::ScalarValue;
use kamei_gateway::Sources;
use kamei_policy::Config;
use proptest::prelude::*;

fn server() -> String {
    common::postgres()
        .expect("KAMEI_TEST_POSTGRES names a PostgreSQL server (run scripts/test)")
        .0
}

/// A database of its own on the test server, for one test.
fn database(name: &str) -> String {
    let server = server();
    let db = format!("{name}_{}", std::process::id());
    common::psql_postgres(&server, &format!("DROP DATABASE IF EXISTS {db}"));
    common::psql_postgres(&server, &format!("CREATE DATABASE {db}"));
    let (base, _) = server.rsplit_once('/').unwrap();
    format!("{base}/{db}")
}

#[test]
fn a_source_that_is_down_at_start_is_named() {
    // A loopback port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://kamei@127.0.0.1:{port}/line");
    let err = common::open_postgres(&Config::demo().unwrap(), &url)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with(&format!("source `world`: cannot connect to {url}: ")) && err.contains("refused"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn a_table_that_is_missing_or_whose_column_differs_is_refused_at_start() {
    let url = database("mismatch");
    let config = Config::demo().unwrap();
    let err = common::open_postgres(&config, &url).unwrap_err().to_string();
    assert_eq!(
        err,
        "table `users`: source `world`: the database has no table `users`; create it, or point the catalog table at another source"
    );
    let users = |user_id: &str, phone: &str| {
        format!(
            "DROP TABLE IF EXISTS users; CREATE TABLE users (user_id {user_id}, line_id text, display_name text, \
             full_name text, full_name_kana text, {phone} email text, birth_date date, gender text, \
             postal_code text, address text, country text, my_number text, created_at timestamp)"
        )
    };
    // The catalog says user_id is a BIGINT.
    common::psql_postgres(&url, &users("text", "phone text,"));
    let err = common::open_postgres(&config, &url).unwrap_err().to_string();
    assert_eq!(
        err,
        "table `users`: source `world`: column `user_id` is of type text and the catalog says BIGINT; make them agree"
    );
    common::psql_postgres(&url, &users("bigint", ""));
    let err = common::open_postgres(&config, &url).unwrap_err().to_string();
    assert_eq!(
        err,
        "table `users`: source `world`: the table has no column `phone`"
    );
    common::psql_postgres(&url, &users("bigint", "phone numeric(12),"));
    let err = common::open_postgres(&config, &url).unwrap_err().to_string();
    assert!(
        err.contains("column `phone` is of type numeric(12,0), which kamei does not read"),
        "{err}"
    );
    // A view is not read: its rows have no blocks to shuffle by.
    common::psql_postgres(
        &url,
        "ALTER TABLE users RENAME TO users_t; CREATE VIEW users AS SELECT * FROM users_t",
    );
    let err = common::open_postgres(&config, &url).unwrap_err().to_string();
    assert!(
        err.contains("`users` is not a table or materialized view"),
        "{err}"
    );
}

/// The demo world behind two gateways: its files (no filter reaches them) and the same world
/// in PostgreSQL (filters on columns read unchanged reach the database).
fn both_gateways() -> &'static (kamei_gateway::Gateway, kamei_gateway::Gateway) {
    static BOTH: OnceLock<(kamei_gateway::Gateway, kamei_gateway::Gateway)> = OnceLock::new();
    BOTH.get_or_init(|| {
        let config = Config::demo().unwrap();
        let files = Sources::load_dir(&config, common::world()).unwrap();
        let postgres = common::open_postgres(&config, common::world_database()).unwrap();
        (
            common::gateway_over(config.clone(), files),
            common::gateway_over(config, postgres),
        )
    })
}

/// Each row of the result, sorted, or the error's text.
fn answer(gateway: &kamei_gateway::Gateway, principal: &str, sql: &str) -> Result<Vec<String>, String> {
    answer_prepared(gateway, principal, sql, None)
}

/// The rows of `sql`, sorted, or the error's text; with `values`, run as a prepared statement
/// with those values for its `$n`.
fn answer_prepared(
    gateway: &kamei_gateway::Gateway,
    principal: &str,
    sql: &str,
    values: impl Into<Option<Vec<ScalarValue>>>,
) -> Result<Vec<String>, String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let session = gateway.session(principal).map_err(|e| e.to_string())?;
    let batches = match values.into() {
        Some(values) => runtime.block_on(session.query_prepared(sql, values)),
        None => runtime.block_on(session.query(sql)),
    };
    batches.map(|b| common::rows(&b)).map_err(|e| e.to_string())
}

/// Literals in a generated statement are marked (`OPEN`…`CLOSE`) so that the statement can
/// be written with them or with parameters in their place.
const OPEN: char = '\u{1}';
const CLOSE: char = '\u{2}';

/// The statement with its literals.
fn with_literals(marked: &str) -> String {
    marked.replace([OPEN, CLOSE], "")
}

/// The statement with `$1`, `$2`, … for its literals, and their values (numbers as BIGINT,
/// the rest as text, which the statement's parameter types take by cast).
fn with_parameters(marked: &str) -> (String, Vec<ScalarValue>) {
    let mut sql = String::new();
    let mut values = Vec::new();
    let mut rest = marked;
    while let Some((before, after)) = rest.split_once(OPEN) {
        let (literal, after) = after.split_once(CLOSE).unwrap();
        values.push(
            match literal.strip_prefix('\'').and_then(|l| l.strip_suffix('\'')) {
                Some(text) => ScalarValue::Utf8(Some(text.replace("''", "'"))),
                None => ScalarValue::Int64(Some(literal.parse().unwrap())),
            },
        );
        sql.push_str(before);
        sql.push_str(&format!("${}", values.len()));
        rest = after;
    }
    sql.push_str(rest);
    (sql, values)
}

/// What a column holds, for its literals.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Number,
    Text,
    Time,
}

/// A few of a raw column's values, as SQL literals, marked (`OPEN`…`CLOSE`).
fn literals(table: &str, column: &str, kind: Kind) -> Vec<String> {
    let quoted = kind != Kind::Number;
    let mut values: Vec<String> = common::raw(table, column)
        .into_iter()
        .flatten()
        .step_by(37)
        .take(12)
        .map(|v| {
            if quoted {
                format!("'{}'", v.replace('\'', "''"))
            } else {
                v
            }
        })
        .collect();
    match kind {
        Kind::Text => values.extend(["''", "'it''s'", "'x\\'' OR TRUE --'"].map(str::to_owned)),
        Kind::Number => {
            values.extend(["0", "-1", "4611686018427387904", "9223372036854775807"].map(str::to_owned))
        }
        Kind::Time => values.push("'2000-01-01'".to_owned()),
    }
    if ["sender_id", "user_id"].contains(&column) {
        // Subject keys: also the codes three orgs read for a few of them (the contractor's,
        // support in Japan's, mixed with raw keys, and Thailand's), so lookups by code of this
        // org and of another are drawn.
        let (files, _) = both_gateways();
        for principal in ["cn_contractor", "jp_support", "th_support"] {
            let sql = format!("SELECT DISTINCT {column} FROM {table} ORDER BY {column} DESC LIMIT 3");
            values.extend(answer(files, principal, &sql).unwrap_or_default());
        }
    }
    values.into_iter().map(|v| format!("{OPEN}{v}{CLOSE}")).collect()
}

/// A random filter on `table`: comparisons, IN lists, BETWEEN, IS NULL on its columns (those
/// the database may be given and those it may not), joined by AND, OR and NOT.
fn filter(table: &'static str, columns: &'static [(&'static str, Kind)]) -> impl Strategy<Value = String> {
    let leaf = proptest::sample::select(columns.to_vec()).prop_flat_map(move |(column, kind)| {
        let values = literals(table, column, kind);
        let value = proptest::sample::select(values.clone());
        let op = proptest::sample::select(vec!["=", "<>", "<", "<=", ">", ">="]);
        prop_oneof![
            6 => (op, value.clone()).prop_map(move |(op, v)| format!("{column} {op} {v}")),
            1 => value.clone().prop_map(move |v| format!("{v} < {column}")),
            1 => proptest::sample::subsequence(values.clone(), 1..4)
                .prop_map(move |vs| format!("{column} IN ({})", vs.join(", "))),
            1 => proptest::sample::subsequence(values, 1..3)
                .prop_map(move |vs| format!("{column} NOT IN ({})", vs.join(", "))),
            1 => (value.clone(), value).prop_map(move |(lo, hi)| format!("{column} BETWEEN {lo} AND {hi}")),
            1 => Just(format!("{column} IS NOT NULL")),
        ]
    });
    leaf.prop_recursive(3, 8, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} AND {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} OR {b})")),
            inner.prop_map(|a| format!("NOT ({a})")),
        ]
    })
}

/// Every principal that reads something (the auditor reads no table).
const PRINCIPALS: [&str; 5] = [
    "admin",
    "jp_support",
    "th_support",
    "cn_contractor",
    "kr_moderator",
];

/// A table, what is selected from it, and the columns a filter may name: columns read
/// unchanged by some principals and protected ones.
type Table = (&'static str, &'static str, &'static [(&'static str, Kind)]);

const TABLES: [Table; 3] = {
    use Kind::*;
    [
        (
            "messages",
            "message_id, chat_id, sender_id, sent_at, body",
            &[
                ("message_id", Number),
                ("chat_id", Number),
                ("sent_at", Time),
                ("sender_id", Number),
                ("sender_country", Text),
            ],
        ),
        (
            "payments",
            "payment_id, user_id, amount, currency, card_number",
            &[
                ("amount", Number),
                ("paid_at", Time),
                ("payment_id", Number),
                ("currency", Text),
                ("user_id", Number),
                ("card_number", Text),
            ],
        ),
        (
            "users",
            "user_id, phone, country, created_at",
            &[
                ("created_at", Time),
                ("user_id", Number),
                ("phone", Text),
                ("country", Text),
                ("birth_date", Time),
            ],
        ),
    ]
};

fn statement() -> impl Strategy<Value = (&'static str, String)> {
    let principal = proptest::sample::select(PRINCIPALS.to_vec());
    let query = proptest::sample::select(TABLES.to_vec()).prop_flat_map(|(table, select, columns)| {
        (filter(table, columns), any::<bool>()).prop_map(move |(f, count)| {
            let what = if count { "count(*)" } else { select };
            format!("SELECT {what} FROM {table} WHERE {f}")
        })
    });
    (principal, query)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// The pushdown property: whatever the principal and the filter, a statement answers the
    /// same from PostgreSQL, where the filters on columns read unchanged and lookups run in the
    /// database, as from the files, where every filter runs in the engine on protected values;
    /// and so does the same statement prepared, its literals made parameters.
    #[test]
    fn filters_given_to_the_database_answer_as_the_engine_alone((principal, marked) in statement()) {
        let (files, postgres) = both_gateways();
        let sql = with_literals(&marked);
        let expected = answer(files, principal, &sql);
        prop_assert_eq!(answer(postgres, principal, &sql), expected.clone(), "{} as {}", sql, principal);
        let (prepared, values) = with_parameters(&marked);
        if let Ok(expected) = expected {
            let got = answer_prepared(postgres, principal, &prepared, values.clone());
            prop_assert_eq!(got, Ok(expected), "{} {:?} as {}", prepared, values, principal);
        }
    }
}

/// The demo world in a database of its own, behind a gateway, with the statements the
/// database runs counted (`pg_stat_statements` by database: a new one has none; a reset would
/// clear the other tests' counts too).
fn counted_world(name: &str) -> (String, kamei_gateway::Gateway) {
    let url = common::load_world(name);
    common::psql_postgres(&url, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
    let config = Config::demo().unwrap();
    let sources = common::open_postgres(&config, &url).unwrap();
    (url, common::gateway_over(config, sources))
}

/// The statements kamei ran in the database at `url` that read `table`, as
/// `rows|calls|text`.
fn statements_reading(url: &str, table: &str) -> Vec<(u64, u64, String)> {
    common::psql_postgres(
        url,
        &format!(
            "SELECT rows, calls, query FROM pg_stat_statements WHERE query LIKE '%FROM \"{table}\"%' \
             AND dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
        ),
    )
    .into_iter()
    .map(|line| {
        let mut parts = line.splitn(3, '|');
        let mut number = || parts.next().unwrap().parse::<u64>().unwrap();
        let (rows, calls) = (number(), number());
        (rows, calls, parts.next().unwrap().to_owned())
    })
    .collect()
}

/// A filter on a column read unchanged reaches the database; one on a subject key only
/// rewritten into the stored keys its value can come from; one on any other personal column
/// never, not even next to one that does. Values go as parameters: no statement the database
/// keeps holds one.
#[test]
fn only_filters_on_columns_read_unchanged_or_lookups_reach_the_database() {
    let (files, _) = both_gateways();
    let (url, postgres) = counted_world("pushdown");
    let ids = common::raw("users", "user_id");
    // A key of three digits at least, so that finding it in a statement means something.
    let key = ids.iter().flatten().find(|k| k.len() >= 3).unwrap();
    let marker = 987654321;
    let phone = common::raw("users", "phone")[0].clone().unwrap();
    for principal in ["cn_contractor", "jp_support"] {
        let sql = format!(
            "SELECT message_id, sender_id FROM messages WHERE chat_id <> {marker} AND sender_id = {key} \
             AND (chat_id = 987654322 OR sender_id <> {key})"
        );
        assert_eq!(answer(&postgres, principal, &sql), answer(files, principal, &sql));
        let sql = format!(
            "SELECT count(*) FROM users WHERE phone = '{phone}' AND created_at > TIMESTAMP '1999-12-31 23:59:58'"
        );
        assert_eq!(answer(&postgres, principal, &sql), answer(files, principal, &sql));
    }
    let sql = format!("SELECT phone FROM users WHERE user_id = {key}");
    assert_eq!(
        answer(&postgres, "jp_support", &sql),
        answer(files, "jp_support", &sql)
    );
    let sent: Vec<String> = ["messages", "users"]
        .iter()
        .flat_map(|t| statements_reading(&url, t))
        .map(|(_, _, text)| text)
        .collect();
    let sent_with = |part: &str| sent.iter().filter(|t| t.contains(part)).count();
    // The contractor reads every sender coded: a raw key is no code, no row can show it.
    assert!(sent_with("(\"chat_id\" <> $1::int8) AND FALSE") > 0, "{sent:#?}");
    // Support reads Japanese senders raw: the key itself is a candidate.
    assert!(
        sent_with("(\"chat_id\" <> $1::int8) AND (\"sender_id\" = $2::int8)") > 0,
        "{sent:#?}"
    );
    assert!(sent_with("(\"created_at\" > $1::timestamp)") > 0, "{sent:#?}");
    // A lookup of a unique key (the users' primary key) is read in one statement without
    // asking the database for an estimate first; one of a key that is not unique is not.
    assert!(
        sent_with("WHERE (\"user_id\" = $1::int8) ORDER BY random()") > 0,
        "{sent:#?}"
    );
    assert_eq!(
        sent_with("EXPLAIN (FORMAT JSON) SELECT \"user_id\", \"phone\""),
        0,
        "{sent:#?}"
    );
    assert!(
        sent_with("EXPLAIN (FORMAT JSON) SELECT \"message_id\"") > 0,
        "{sent:#?}"
    );
    // An OR with a part that may not go down (`<>` on a coded key) does not go down at all,
    // nor does the filter on the phone number.
    for never in ["\"phone\" =", "\"sender_id\" <>"] {
        assert_eq!(sent_with(never), 0, "{never}: {sent:#?}");
    }
    for value in [key, &marker.to_string(), &phone, "1999-12-31"] {
        assert_eq!(sent_with(value), 0, "{value}: {sent:#?}");
    }
}

/// A contractor's lookup by a sender's code reads that sender's rows through the index, not
/// the table: the database is asked for the stored key the code stands for, and sends back
/// exactly that sender's rows; a prepared statement's lookup, at each execution, too.
#[test]
fn a_lookup_by_code_reads_through_the_index() {
    let (files, _) = both_gateways();
    let (url, postgres) = counted_world("lookup");
    let message_ids = common::raw("messages", "message_id");
    let senders = common::raw("messages", "sender_id");
    let row = 17;
    let message_id = message_ids[row].as_deref().unwrap();
    let sender = senders[row].as_deref().unwrap();
    let code = answer(
        &postgres,
        "cn_contractor",
        &format!("SELECT sender_id FROM messages WHERE message_id = {message_id}"),
    )
    .unwrap();
    let [code] = code.as_slice() else {
        panic!("one row: {code:?}")
    };
    assert_ne!(code, sender);
    let sent_by = senders.iter().filter(|s| s.as_deref() == Some(sender)).count() as u64;
    let lookup = "SELECT message_id, sender_id, body FROM messages WHERE sender_id = ";
    let sql = format!("{lookup}{code}");
    let found = answer(&postgres, "cn_contractor", &sql).unwrap();
    assert_eq!(Ok(found.clone()), answer(files, "cn_contractor", &sql));
    assert_eq!(found.len() as u64, sent_by);
    let code_value = ScalarValue::Int64(Some(code.parse().unwrap()));
    // Connections opened to the database (each psql here is one too).
    let sessions = || {
        common::psql_postgres(
            &url,
            "SELECT sessions FROM pg_stat_database WHERE datname = current_database()",
        )
        .join("")
        .parse::<u64>()
        .unwrap()
    };
    let before = sessions();
    for _ in 0..3 {
        let prepared = answer_prepared(
            &postgres,
            "cn_contractor",
            &format!("{lookup}$1"),
            vec![code_value.clone()],
        );
        assert_eq!(prepared, Ok(found.clone()));
    }
    // The lookups reuse the pool's connections: at most one new one besides the psql above.
    let opened = sessions() - before;
    assert!(opened <= 2, "{opened} connections opened for three lookups");
    let reads: Vec<_> = statements_reading(&url, "messages")
        .into_iter()
        .filter(|(_, _, text)| text.contains("\"body\"") && !text.starts_with("EXPLAIN"))
        .collect();
    let [(rows, calls, select)] = reads.as_slice() else {
        panic!("one statement read the bodies: {reads:#?}")
    };
    assert!(select.contains("WHERE (\"sender_id\" = $1::int8)"), "{select}");
    assert!(
        !select.contains(code.as_str()) && !select.contains(sender),
        "{select}"
    );
    // Four lookups, each sent back exactly the sender's rows: the key sent was the sender's.
    assert_eq!((*calls, *rows), (4, 4 * sent_by), "{select}");
    let plan = common::psql_postgres(
        &url,
        &format!("PREPARE lookup(int8) AS {select}; EXPLAIN EXECUTE lookup({sender})"),
    )
    .join("\n");
    assert!(plan.contains("Index") && !plan.contains("Seq Scan"), "{plan}");
}

/// A transaction (psql, in the background) that holds table `payments` for `seconds`, once it
/// holds it.
fn lock_payments(url: &str, seconds: u32) -> std::process::Child {
    let (_, password) = common::postgres().unwrap();
    let holder = std::process::Command::new(common::psql_path())
        .args(["-X", "-q", url, "-c"])
        .arg(format!(
            "BEGIN; LOCK TABLE payments IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep({seconds}); COMMIT;"
        ))
        .env("PGPASSWORD", &password)
        .spawn()
        .unwrap();
    let held = (0..300).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(100));
        common::psql_postgres(
            url,
            "SELECT count(*) FROM pg_locks WHERE relation = 'payments'::regclass \
             AND mode = 'AccessExclusiveLock' AND granted",
        ) != ["0"]
    });
    assert!(held, "the transaction never took the lock");
    holder
}

/// A database that goes away while a statement reads it: the client gets one line naming the
/// source and the table, the statement's record says why it stopped, and the next statement
/// runs on a fresh connection.
#[test]
fn a_source_that_goes_away_mid_query_is_named_to_the_client_and_in_the_audit_record() {
    let url = common::load_world("midquery");
    let config = Config::demo().unwrap();
    let sources = common::open_postgres(&config, &url).unwrap();
    let gateway = common::gateway_over(config, sources);
    let server = common::TestServer::serve(gateway, kamei_gateway::ServerOptions::default());
    // A transaction holds the table, so kamei's read waits in the database; then the database
    // ends kamei's connection, as a restart or a failover would.
    let mut holder = lock_payments(&url, 30);
    let (terminated, (out, ok)) = std::thread::scope(|scope| {
        let client =
            scope.spawn(|| server.psql("cn_contractor", "SELECT count(*), sum(amount) FROM payments"));
        let terminated = (0..300).any(|_| {
            std::thread::sleep(std::time::Duration::from_millis(100));
            common::psql_postgres(
                &url,
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
                 WHERE application_name = 'kamei' AND wait_event_type = 'Lock'",
            ) != ["0"]
        });
        let _ = holder.kill();
        let _ = holder.wait();
        (terminated, client.join().unwrap())
    });
    assert!(terminated, "kamei's read never waited on the lock");
    assert!(!ok, "{out}");
    let message = out.lines().find(|l| l.starts_with("ERROR")).unwrap_or_default();
    assert!(
        message.starts_with("ERROR:  source `world` failed while reading table `payments`: "),
        "{out}"
    );
    let dir = kamei_audit::LocalDir::new(server.log_dir.path()).unwrap();
    let records = kamei_audit::read_records(&dir).unwrap();
    let (_, record, _) = records
        .iter()
        .rev()
        .find(|(_, r, _)| r.principal() == "cn_contractor")
        .unwrap();
    assert_eq!(
        (record.action().as_str(), record.rows(), record.failure()),
        (
            "query",
            0,
            Some("source `world` failed while reading table `payments`")
        )
    );
    assert!(record.tables().contains_key("payments"));
    // The pool drops the dead connection and opens a new one.
    let (out, ok) = server.psql("cn_contractor", "SELECT count(*) FROM payments");
    assert!(ok && out.trim().parse::<u64>().unwrap() > 0, "{out}");
}

/// A statement given up on while the database is still running its read (a client gone, a
/// timeout, a `LIMIT` met above the scan) is cancelled in the database, not left to run to its
/// end on a connection the pool no longer counts.
#[test]
fn a_read_given_up_on_is_cancelled_in_the_database() {
    let url = common::load_world("cancel");
    let config = Config::demo().unwrap();
    let gateway = common::gateway_over(config.clone(), common::open_postgres(&config, &url).unwrap());
    // A transaction holds the table, so kamei's read waits in the database.
    let mut holder = lock_payments(&url, 60);
    let waiting = || {
        common::psql_postgres(
            &url,
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'kamei' AND wait_event_type = 'Lock'",
        ) != ["0"]
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let session = gateway.session("cn_contractor").unwrap();
    let gave_up = runtime.block_on(async {
        let read = session.query("SELECT count(*), sum(amount) FROM payments");
        tokio::select! {
            _ = read => false,
            _ = async {
                // Give up once the read waits on the lock.
                while !waiting() {
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
            } => true,
        }
    });
    assert!(gave_up, "the read ended while the table was locked");
    let cancelled = (0..50).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(100));
        !waiting()
    });
    let _ = holder.kill();
    let _ = holder.wait();
    assert!(
        cancelled,
        "kamei's read still waits in the database after the statement was given up"
    );
}
