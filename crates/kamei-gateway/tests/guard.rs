//! SQL written to leak, run through guarded sessions over the generated demo world, each
//! result checked against the raw tables.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use arrow::array::{AsArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use kamei_gateway::{Gateway, GatewayError, MemoryLimits};
use kamei_policy::Config;
use kamei_protect::Keyring;

mod common;
use common::{demo_gateway, raw, rows, texts, world};

fn gateway() -> Gateway {
    demo_gateway(Config::demo().unwrap())
}

fn run(principal: &str, sql: &str) -> Result<Vec<RecordBatch>, GatewayError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let g = gateway();
    let session = g.session(principal).unwrap();
    runtime.block_on(session.query(sql))
}

/// Every cell of every batch, as text.
fn cells(batches: &[RecordBatch]) -> Vec<String> {
    let mut out = Vec::new();
    for b in batches {
        for c in b.columns() {
            let text = cast(c, &DataType::Utf8).unwrap();
            out.extend(text.as_string::<i32>().iter().flatten().map(str::to_owned));
        }
    }
    out
}

fn count(batches: &[RecordBatch]) -> i64 {
    let c = batches[0].column(0);
    c.as_primitive::<arrow::datatypes::Int64Type>().value(0)
}

/// Raw phones, e-mails, names, addresses and ids of every user.
fn raw_values() -> HashSet<String> {
    let mut set = HashSet::new();
    for column in ["phone", "email", "full_name", "address", "line_id", "my_number"] {
        set.extend(raw("users", column).into_iter().flatten());
    }
    set.extend(raw("payments", "card_number").into_iter().flatten());
    set
}

#[test]
fn statements_written_to_leak_return_no_raw_value_to_the_contractor() {
    let ids: HashSet<String> = raw("users", "user_id").into_iter().flatten().collect();
    let raw = raw_values();
    let statements = [
        "SELECT phone, email, full_name FROM users",
        "SELECT min(phone), max(phone), min(email), max(full_name) FROM users",
        "SELECT phone FROM users ORDER BY phone LIMIT 3",
        "SELECT DISTINCT phone FROM users",
        "SELECT substr(phone, 1, 20), upper(email), lower(full_name) FROM users",
        "SELECT phone FROM users WHERE phone LIKE '0%' OR phone > '0'",
        "SELECT first_value(phone) OVER (ORDER BY phone) FROM users",
        "WITH t AS (SELECT phone, user_id FROM users) SELECT * FROM t",
        "SELECT phone FROM (SELECT phone FROM users) s UNION ALL SELECT card_number FROM payments",
        "SELECT u.phone, p.card_number FROM users u JOIN payments p ON u.user_id = p.user_id",
        "SELECT user_id, CAST(user_id AS VARCHAR) AS id_text FROM users",
        "SELECT body FROM messages",
        "SELECT array_agg(phone) FROM users",
        "SELECT string_agg(email, ',') FROM users",
    ];
    for sql in statements {
        let out = run("cn_contractor", sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
        for cell in cells(&out) {
            assert!(!raw.contains(&cell), "{sql}: a raw value came back");
            for value in raw.iter().filter(|v| v.chars().count() >= 8) {
                assert!(!cell.contains(value.as_str()), "{sql}: a raw value inside a cell");
            }
        }
        // Ids are numbers a body may hold too: checked in the id columns only.
        for b in &out {
            for name in ["user_id", "id_text"] {
                if b.column_by_name(name).is_some() {
                    let leaked = texts(b, name)
                        .into_iter()
                        .flatten()
                        .filter(|v| ids.contains(v))
                        .count();
                    assert_eq!(leaked, 0, "{sql}: raw ids came back");
                }
            }
        }
    }
}

/// cn_contractor's view of every message body of the generated world through a guarded
/// session (a share of the bodies hiding a contact on purpose): the structured spans, how many
/// survive (counted conservatively, `kamei_synth::survives`) and how many of those were
/// written in a plain form.
fn contractor_survivals() -> (usize, usize, usize) {
    let by_id = |ids: Vec<Option<String>>, bodies: Vec<Option<String>>| -> HashMap<i64, String> {
        ids.into_iter()
            .zip(bodies)
            .filter_map(|(id, b)| Some((id?.parse().ok()?, b?)))
            .collect()
    };
    let stored = by_id(raw("messages", "message_id"), raw("messages", "body"));
    let spans = kamei_synth::structured_spans(world(), &stored);
    let batches = run("cn_contractor", "SELECT message_id, body FROM messages").unwrap();
    let (mut ids, mut bodies) = (Vec::new(), Vec::new());
    for b in &batches {
        ids.extend(texts(b, "message_id"));
        bodies.extend(texts(b, "body"));
    }
    let seen = by_id(ids, bodies);
    assert_eq!(seen.len(), stored.len());
    let (survived, per_type) = kamei_synth::count_survivors(&spans, &seen);
    let plain: Vec<_> = spans.iter().filter(|s| !s.obfuscated).cloned().collect();
    let (plain_survived, _) = kamei_synth::count_survivors(&plain, &seen);
    let obfuscated = spans.len() - plain.len();
    eprintln!(
        "cn_contractor through the gateway: {survived} of {} structured spans ({obfuscated} obfuscated) survive: {}",
        spans.len(),
        per_type.join(", ")
    );
    assert!(spans.len() > 200 && obfuscated > 50, "{}", spans.len());
    (survived, spans.len(), plain_survived)
}

/// Issue 17: no structured value written the plain way survives the contractor's view of the
/// bodies through the gateway; the obfuscated ones are measured (printed) here.
#[test]
fn the_contractor_reads_no_plainly_written_structured_span_in_bodies() {
    let (_, _, plain_survived) = contractor_survivals();
    assert_eq!(plain_survived, 0);
}

/// Issue 17, done when, through the gateway: at most 0.5 % of the structured spans survive,
/// obfuscated ones included.
#[test]
fn the_contractor_reads_at_most_half_a_percent_of_structured_spans_in_bodies() {
    let (survived, total, _) = contractor_survivals();
    assert!(
        survived as f64 <= total as f64 * 0.005,
        "{survived} of {total} structured spans survive"
    );
}

#[test]
fn filters_count_protected_values_never_raw_ones() {
    let phones = raw("users", "phone");
    let countries = raw("users", "country");
    let jp = phones
        .iter()
        .zip(&countries)
        .find(|(p, c)| p.is_some() && c.as_deref() == Some("JP"))
        .and_then(|(p, _)| p.clone())
        .unwrap();
    let sql = format!("SELECT count(*) FROM users WHERE phone = '{jp}'");
    assert_eq!(count(&run("cn_contractor", &sql).unwrap()), 0);
    assert_eq!(count(&run("jp_support", &sql).unwrap()), 1);
    let like = format!("SELECT count(*) FROM users WHERE phone LIKE '{}%'", &jp[..4]);
    assert_eq!(count(&run("cn_contractor", &like).unwrap()), 0);
}

#[test]
fn pseudonyms_join_inside_an_org() {
    let sql = "SELECT count(*) FROM users u JOIN payments p ON u.user_id = p.user_id";
    let raw_join = count(&run("admin", sql).unwrap());
    assert!(raw_join > 0);
    assert_eq!(count(&run("cn_contractor", sql).unwrap()), raw_join);
}

#[test]
fn denied_columns_and_tables_are_errors_naming_policies() {
    let e = run("cn_contractor", "SELECT my_number FROM users")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("`my_number`") && e.contains("`engineer-no-my-number`"),
        "{e}"
    );
    let e = run("cn_contractor", "SELECT * FROM users")
        .unwrap_err()
        .to_string();
    assert!(e.contains("`my_number`") && e.contains("leave it out"), "{e}");
    // A table the principal may read nothing of is not there at all.
    assert!(run("kr_moderator", "SELECT count(*) FROM users").is_err());
    assert!(run("auditor", "SELECT count(*) FROM messages").is_err());
}

#[test]
fn statements_that_are_not_one_read_only_query_are_refused() {
    let users = world().join("users.parquet");
    let users = users.display();
    for sql in [
        format!("CREATE EXTERNAL TABLE raw STORED AS PARQUET LOCATION '{users}'"),
        "CREATE TABLE t AS SELECT phone FROM users".to_owned(),
        "CREATE VIEW v AS SELECT phone FROM users".to_owned(),
        "INSERT INTO users SELECT * FROM users".to_owned(),
        "DELETE FROM users".to_owned(),
        "COPY (SELECT phone FROM users) TO '/tmp/kamei-leak.csv'".to_owned(),
        format!("SELECT * FROM '{users}'"),
        "SET datafusion.execution.batch_size = 1".to_owned(),
        "EXPLAIN SELECT phone FROM users".to_owned(),
        "SELECT 1; SELECT phone FROM users".to_owned(),
        "DROP TABLE users".to_owned(),
    ] {
        let e = run("cn_contractor", &sql);
        assert!(
            matches!(e, Err(GatewayError::Refused(_)) | Err(GatewayError::Query(_))),
            "{sql}: not refused: {e:?}"
        );
    }
    assert!(!std::path::Path::new("/tmp/kamei-leak.csv").exists());
    // The admin may EXPLAIN; the plan shows the guard, not the inner source.
    let plan = run("admin", "EXPLAIN SELECT phone FROM users WHERE phone = 'x'").unwrap();
    let text = cells(&plan).join("\n");
    assert!(text.contains("GuardedExec"), "{text}");
}

#[test]
fn jp_support_reads_jp_phones_raw_and_others_as_pseudonyms() {
    let out = run("jp_support", "SELECT phone, country FROM users").unwrap();
    let raw_phones: HashSet<String> = raw("users", "phone").into_iter().flatten().collect();
    let (mut jp, mut other) = (0, 0);
    for b in &out {
        for (phone, country) in texts(b, "phone").into_iter().zip(texts(b, "country")) {
            let phone = phone.unwrap();
            if country.as_deref() == Some("JP") {
                assert!(raw_phones.contains(&phone));
                jp += 1;
            } else {
                assert!(phone.starts_with("tel_"), "a non-JP phone read raw");
                other += 1;
            }
        }
    }
    assert!(jp > 0 && other > 0);
}

/// One statement that needs more than its share of memory fails alone, with an error that says
/// so, and the next statement of the same gateway runs.
#[test]
fn a_statement_past_its_memory_limit_fails_alone() {
    let config = Arc::new(Config::demo().unwrap());
    let sources = common::sources(&config);
    let limits = MemoryLimits {
        server: 1 << 30,
        statement: 4 << 20,
    };
    let g = Gateway::new(config, sources, Arc::new(Keyring::demo()), limits).unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let session = g.session("cn_contractor").unwrap();
    let big = "SELECT a.body, b.body FROM messages a CROSS JOIN messages b ORDER BY 1, 2";
    let err = runtime.block_on(session.query(big)).unwrap_err().to_string();
    assert!(err.contains("memory limit of 4 MiB"), "{err}");
    let small = runtime
        .block_on(session.query("SELECT count(*) FROM users"))
        .unwrap();
    assert!(count(&small) > 0);
    // Functions allocate outside the pools: those that expand their input are bounded first
    // (a reviewer's `repeat(phone, 3000000)` asked for 60 GB and the allocator aborted).
    let long = "x".repeat(600_000);
    let short = "x".repeat(8_000);
    let many_phones = vec!["phone"; 100_000].join(", ");
    let doubled = (0..11).fold("SELECT body AS t FROM messages".to_owned(), |inner, _| {
        format!("SELECT t || t AS t FROM ({inner}) s")
    });
    let hex = (0..11).fold("body".to_owned(), |inner, _| format!("encode({inner}, 'hex')"));
    let shown = |t: &str| t.chars().take(200).collect::<String>();
    for sql in [
        "SELECT length(repeat(phone, 3000000)) FROM users".to_owned(),
        "SELECT length(lpad(phone, 100000000)) FROM users".to_owned(),
        // Functions that copy their input many times over.
        format!("SELECT length(concat({many_phones})) FROM users"),
        format!("SELECT length(concat_ws({many_phones})) FROM users"),
        format!("SELECT length(replace(body, ' ', '{short}')) FROM messages"),
        format!("SELECT length(regexp_replace(body, '', '{short}', 'g')) FROM messages"),
        "SELECT length(regexp_replace(phone || repeat('y', 2000), '(.*)', '$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1', 'g')) FROM users".to_owned(),
        format!("SELECT length(to_char(created_at, '{}')) FROM users", "%c".repeat(4_000)),
        format!("SELECT length({hex}) FROM messages"),
        // `||` doubling through nested subqueries: 2^11 bodies per row.
        format!("SELECT length(t) FROM ({doubled}) d"),
    ] {
        let err = runtime.block_on(session.query(&sql)).unwrap_err().to_string();
        assert!(err.contains("at most 64 MiB"), "{}: {}", shown(&sql), shown(&err));
    }
    // A constant can be copied to every row (as a value, a default, a struct field, a format),
    // as written, bound, or folded by the optimizer.
    for sql in [
        "SELECT length(repeat('x', 1000000000))".to_owned(),
        format!("SELECT '{long}' FROM users"),
        "SELECT repeat('x', 60000000), phone FROM users".to_owned(),
        format!("SELECT CASE WHEN phone IS NULL THEN 'n' ELSE '{long}' END FROM users"),
        "SELECT named_struct('a', repeat('x', 1000000)) FROM users".to_owned(),
        format!("SELECT length(lag(email, 100000, '{long}') OVER ()) FROM users"),
    ] {
        let err = runtime.block_on(session.query(&sql)).unwrap_err().to_string();
        assert!(err.contains("at most 8 KiB"), "{}: {}", shown(&sql), shown(&err));
    }
    // Engine functions a session does not offer (each let a reviewer abort the server).
    for (sql, function) in [
        ("SELECT arrow_cast(phone, 'LargeUtf8') FROM users", "arrow_cast"),
        (
            "SELECT arrow_try_cast(phone, 'LargeUtf8') FROM users",
            "arrow_try_cast",
        ),
        (
            "SELECT approx_percentile_cont(user_id, 0.5, 1000000000) FROM users",
            "approx_percentile_cont",
        ),
        ("SELECT levenshtein(phone, email) FROM users", "levenshtein"),
    ] {
        let err = runtime.block_on(session.query(sql)).unwrap_err().to_string();
        assert!(err.contains(function), "{sql}: {}", shown(&err));
    }
    // Bounded calls side by side, each under the limit (a reviewer's 500-argument `concat` of
    // 62 MB values asked for 30 GB), and too many of them in one statement.
    let repeated =
        "SELECT concat(r, r, r, r, r, r, r, r) FROM (SELECT repeat(email, 1400) AS r FROM users) t";
    let err = runtime.block_on(session.query(repeated)).unwrap_err().to_string();
    assert!(err.contains("at most 64 MiB"), "{err}");
    let calls: Vec<String> = (0..40)
        .map(|i| format!("repeat(email, {}) AS c{i}", i + 2))
        .collect();
    let side_by_side = format!("SELECT {} FROM users", calls.join(", "));
    let err = runtime
        .block_on(session.query(&side_by_side))
        .unwrap_err()
        .to_string();
    assert!(err.contains("at most 32 are allowed"), "{err}");
    // `||` keeps its meaning: NULL when either side is.
    let either_null = runtime
        .block_on(session.query("SELECT count(*) FROM users WHERE (phone || email) IS NULL"))
        .unwrap();
    let nulls = runtime
        .block_on(session.query("SELECT count(*) FROM users WHERE phone IS NULL OR email IS NULL"))
        .unwrap();
    assert_eq!(count(&either_null), count(&nulls));
    let joined = runtime
        .block_on(
            session
                .query("SELECT count(*) FROM users WHERE phone || '/' || email = concat(phone, '/', email)"),
        )
        .unwrap();
    let both = runtime
        .block_on(session.query("SELECT count(*) FROM users WHERE phone IS NOT NULL AND email IS NOT NULL"))
        .unwrap();
    assert_eq!(count(&joined), count(&both));
    let repeated = runtime
        .block_on(session.query("SELECT count(repeat(phone, 3)) FROM users"))
        .unwrap();
    let phones = runtime
        .block_on(session.query("SELECT count(phone) FROM users"))
        .unwrap();
    assert_eq!(count(&repeated), count(&phones));
}

/// Placeholders are numbered $1 to $65535, `LIMIT $n` is a count (a reviewer's `SELECT $4294967297` made the server
/// allocate a slot per number up to it, 100 GB, and abort).
#[test]
fn placeholders_past_the_protocols_count_are_refused() {
    use kamei_gateway::parameter_types;
    use kamei_gateway::statement::classify;

    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let g = gateway();
    let session = g.session("auditor").unwrap();
    let types = |sql: &str| {
        let plan = runtime
            .block_on(session.plan(&classify(sql).unwrap()[0]))
            .map_err(|e| e.to_string())?;
        parameter_types(&plan).map(|t| t.len()).map_err(|e| e.to_string())
    };
    assert_eq!(types("SELECT $65535"), Ok(65535));
    // Counts are integers, as PostgreSQL infers them, whatever type the client sends.
    let plan = runtime
        .block_on(session.plan(&classify("SELECT 1 LIMIT $1 OFFSET $2").unwrap()[0]))
        .unwrap();
    assert_eq!(
        parameter_types(&plan).unwrap(),
        vec![Some(DataType::Int64), Some(DataType::Int64)]
    );
    for sql in [
        "SELECT $65536",
        "SELECT $4294967297",
        "SELECT $18446744073709551615",
        "SELECT $0",
    ] {
        let err = types(sql).unwrap_err();
        assert!(err.contains("placeholder"), "{sql}: {err}");
    }
}

/// A prepared statement is planned once and run with each execution's values in its slots
/// (`template.rs`): every execution must answer, and name in its audit record, exactly what
/// the same statement planned afresh with those values does, in any order of executions.
/// A long list of columns is written out as comparisons (`in_lists.rs`) nested a few levels
/// deep, not one per item: the statement runs on a test thread's small stack and answers.
#[test]
fn a_long_in_list_of_columns_answers() {
    let items = vec!["user_id"; 5000].join(", ");
    let all = count(&run("jp_support", "SELECT count(*) FROM users").unwrap());
    let sql = format!("SELECT count(*) FROM users WHERE user_id IN ({items})");
    assert_eq!(count(&run("jp_support", &sql).unwrap()), all);
}

#[test]
fn prepared_statements_answer_as_the_same_statement_planned_afresh() {
    use datafusion::common::ScalarValue;
    use kamei_gateway::statement::classify;
    use kamei_gateway::{Executable, parameter_types};

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let g = gateway();
    let countries = raw("users", "country");
    let ids = raw("users", "user_id");
    let phones = raw("users", "phone");
    let jp = countries.iter().position(|c| c.as_deref() == Some("JP")).unwrap();
    let th = countries.iter().position(|c| c.as_deref() == Some("TH")).unwrap();
    let id = |i: usize| ScalarValue::Int64(Some(ids[i].as_deref().unwrap().parse().unwrap()));
    let text = |s: &str| ScalarValue::Utf8(Some(s.to_owned()));
    let jp_phone = text(phones[jp].as_deref().unwrap());
    // (statement, whether its plan is kept, value sets run one after another)
    let cases: Vec<(&str, bool, Vec<Vec<ScalarValue>>)> = vec![
        (
            "SELECT user_id, phone, email, country FROM users WHERE user_id = $1",
            true,
            vec![
                vec![id(jp)],
                vec![id(th)],
                vec![ScalarValue::Int64(Some(-1))],
                vec![id(jp)],
            ],
        ),
        (
            "SELECT count(*) FROM users WHERE phone = $1",
            true,
            vec![vec![jp_phone.clone()], vec![text("tel_0000")], vec![jp_phone]],
        ),
        (
            "SELECT user_id, user_id = $2 AS chosen, phone FROM users WHERE country = $1 AND user_id > $3",
            true,
            vec![
                vec![text("JP"), id(jp), ScalarValue::Int64(Some(0))],
                vec![text("TH"), id(th), id(jp)],
            ],
        ),
        (
            "SELECT u.user_id, p.card_number FROM users u JOIN payments p ON u.user_id = p.user_id WHERE u.country = $1",
            true,
            vec![vec![text("JP")], vec![text("TH")]],
        ),
        (
            // The engine would merge these lists as sets of expressions and drop `user_id = $1`
            // when both are bound to one value (`in_lists.rs`).
            "SELECT user_id, phone FROM users WHERE NOT (user_id IN ($1) AND user_id NOT IN ($2))",
            true,
            vec![vec![id(jp), id(jp)], vec![id(jp), id(th)]],
        ),
        (
            "SELECT count(*) FILTER (WHERE country = $1) FROM users",
            false,
            vec![vec![text("JP")], vec![text("KR")]],
        ),
        (
            "SELECT user_id, phone FROM users WHERE country = $1 ORDER BY user_id LIMIT $2",
            false,
            vec![
                vec![text("JP"), ScalarValue::Int64(Some(3))],
                vec![text("TH"), ScalarValue::Int64(Some(1))],
            ],
        ),
    ];
    for principal in ["admin", "jp_support", "cn_contractor"] {
        let session = g.session(principal).unwrap();
        for (sql, kept, value_sets) in &cases {
            let steps = classify(sql).unwrap();
            let plan = runtime.block_on(session.plan(&steps[0])).unwrap();
            let params = parameter_types(&plan).unwrap();
            let template = runtime
                .block_on(session.template(&steps[0], &plan, &params))
                .map(Arc::new);
            assert_eq!(template.is_some(), *kept, "{principal}: {sql}");
            for values in value_sets {
                let afresh = Executable::Plan(session.bind(&plan, values.clone()).unwrap());
                let prepared = match &template {
                    Some(t) => Executable::Prepared(t.clone(), values.clone()),
                    None => Executable::Plan(session.bind(&plan, values.clone()).unwrap()),
                };
                let outcome = |statement| {
                    runtime.block_on(async {
                        let mut running = session.run_statement(statement).await.unwrap();
                        let batches: Vec<RecordBatch> =
                            futures::TryStreamExt::try_collect(&mut running.stream)
                                .await
                                .unwrap();
                        (rows(&batches), running.take_reads())
                    })
                };
                let (want_rows, want_reads) = outcome(afresh);
                let (got_rows, got_reads) = outcome(prepared);
                assert_eq!(got_rows, want_rows, "{principal}: {sql} with {values:?}");
                assert!(
                    got_reads.tables == want_reads.tables && got_reads.subjects == want_reads.subjects,
                    "{principal}: {sql} with {values:?}: another audit record"
                );
            }
        }
    }
}
