//! The gateway through real clients: psql and psycopg over the PostgreSQL protocol, against the
//! generated demo world, every answer checked against the raw tables and the audit log.

mod common;

use std::collections::BTreeMap;

use common::{TestServer, a_jp_user, forbidden, guarded_bodies, hidden_spans, labelled_spans, leaks, raw};
use kamei_audit::{LocalDir, read_records, verify_log};
use kamei_gateway::statement::{Step, classify};

/// The cases of tests/adversarial/leak.sql: (id, principal, SQL).
fn cases() -> Vec<(String, String, String)> {
    let text = include_str!("adversarial/leak.sql");
    let mut out = Vec::new();
    let mut current: Option<(String, String, String)> = None;
    for line in text.lines() {
        if let Some(header) = line.strip_prefix("-- case:") {
            if let Some(c) = current.take() {
                out.push(c);
            }
            let parts: Vec<&str> = header.split('|').map(str::trim).collect();
            let id = parts[0].to_owned();
            let principal = parts[1].strip_prefix("as:").unwrap().trim().to_owned();
            current = Some((id, principal, String::new()));
        } else if let Some((_, _, sql)) = current.as_mut() {
            sql.push_str(line);
            sql.push('\n');
        }
    }
    out.extend(current);
    out
}

#[test]
fn adversarial_statements_leak_no_raw_value() {
    let server = TestServer::start();
    let cases = cases();
    assert!(cases.len() >= 150, "the suite has {} statements", cases.len());
    let mut forbidden_by: BTreeMap<String, _> = BTreeMap::new();
    let mut failures = Vec::new();
    for (id, principal, sql) in &cases {
        let secret = forbidden_by.entry(principal.clone()).or_insert_with(|| {
            let mut secret = forbidden(principal);
            secret.extend(hidden_spans(&server, principal));
            secret
        });
        let (out, _) = server.psql(principal, sql);
        let found = leaks(&out, secret);
        if !found.is_empty() {
            failures.push(format!(
                "{id} ({principal}): {} raw values, e.g. {:?}",
                found.len(),
                &found[..found.len().min(2)]
            ));
        }
    }
    // Nothing the statements tried may have written a file.
    let written: Vec<_> = std::fs::read_dir("/tmp")
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("kamei-leak"))
        .map(|e| e.path())
        .collect();
    assert!(written.is_empty(), "files written: {written:?}");
    assert!(failures.is_empty(), "leaks:\n{}", failures.join("\n"));
    // Every case that is more than settings is in the log, refused and failed ones included.
    let reading = cases
        .iter()
        .filter(|(_, _, sql)| {
            classify(sql).map_or(true, |steps| {
                steps
                    .iter()
                    .any(|s| matches!(s, Step::Query { .. } | Step::Explain(_)))
            })
        })
        .count();
    let records = read_records(&LocalDir::new(server.log_dir.path()).unwrap()).unwrap();
    assert!(
        records.len() >= reading,
        "{} records for {reading} cases that read",
        records.len()
    );
}

#[test]
fn levels_per_principal_and_jurisdiction() {
    let server = TestServer::start();
    let ids = raw("users", "user_id");
    let phones = raw("users", "phone");
    let countries = raw("users", "country");
    let row_of = |country: &str| {
        countries
            .iter()
            .position(|c| c.as_deref() == Some(country))
            .unwrap()
    };
    let (jp, th) = (row_of("JP"), row_of("TH"));
    let jp_phone = phones[jp].clone().unwrap();
    let th_phone = phones[th].clone().unwrap();

    // jp_support reads a Japanese user's phone raw, a Thai user's protected.
    let sql = format!(
        "SELECT phone FROM users WHERE user_id = {} OR user_id = {} ORDER BY country",
        ids[jp].as_ref().unwrap(),
        ids[th].as_ref().unwrap()
    );
    let (out, ok) = server.psql("jp_support", &sql);
    assert!(ok, "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], jp_phone, "{out}");
    assert!(!out.contains(&th_phone), "{out}");

    // cn_contractor sees pseudonyms: no raw phone at all, and a filter on a raw phone counts
    // over pseudonyms (0), while jp_support counts the Japanese user (1).
    let (out, ok) = server.psql("cn_contractor", "SELECT phone FROM users");
    assert!(ok, "{out}");
    assert_eq!(out.lines().count(), phones.len());
    assert!(out.lines().all(|l| l.starts_with("tel_")), "{out}");
    let count = |principal: &str, phone: &str| {
        let (out, ok) = server.psql(
            principal,
            &format!("SELECT count(*) FROM users WHERE phone = '{phone}'"),
        );
        assert!(ok, "{out}");
        out.trim().parse::<u64>().unwrap()
    };
    assert_eq!(count("cn_contractor", &jp_phone), 0);
    assert_eq!(count("jp_support", &jp_phone), 1);
    assert_eq!(count("jp_support", &th_phone), 0);

    // The auditor reads no table data: refused, naming the policy.
    let (out, ok) = server.psql("auditor", "SELECT phone FROM users LIMIT 1");
    assert!(!ok);
    assert!(out.contains("auditor-no-table-data"), "{out}");

    // Pseudonyms join inside an org: the join counts what the raw join counts.
    let (out, ok) = server.psql(
        "cn_contractor",
        "SELECT count(*) FROM users u JOIN payments p ON u.user_id = p.user_id",
    );
    assert!(ok, "{out}");
    let user_ids: std::collections::HashSet<_> = ids.iter().flatten().collect();
    let raw_join = raw("payments", "user_id")
        .iter()
        .flatten()
        .filter(|k| user_ids.contains(k))
        .count();
    assert_eq!(out.trim().parse::<usize>().unwrap(), raw_join);
}

#[test]
fn authentication_and_session_settings() {
    let server = TestServer::start();
    let (out, ok) = server.psql_with_password("cn_contractor", "wrong", "SELECT 1");
    assert!(
        !ok && out.contains("28P01") || out.contains("authentication failed"),
        "{out}"
    );
    let (out, ok) = server.psql_with_password("nobody", "nobody-demo", "SELECT 1");
    assert!(!ok && out.contains("authentication failed"), "{out}");
    // The principal is fixed for the connection.
    for sql in [
        "SET ROLE admin",
        "SET SESSION AUTHORIZATION admin",
        "RESET ALL",
        "SET datafusion.execution.collect_statistics = true",
        "SELECT 1; SET ROLE admin",
        "COPY users TO '/tmp/kamei-test-copy'",
        "EXPLAIN SELECT phone FROM users",
        "INSERT INTO users (user_id) VALUES (1)",
    ] {
        let (out, ok) = server.psql("cn_contractor", sql);
        assert!(!ok, "{sql} was accepted: {out}");
    }
    let (out, ok) = server.psql(
        "cn_contractor",
        "SET application_name = 'report'; SET kamei.ticket = 'INC-2041'; SHOW application_name",
    );
    assert!(ok && out.contains("report"), "{out}");
    let (out, ok) = server.psql("cn_contractor", "SET kamei.purpose = 'call 09012345678'");
    assert!(!ok, "a purpose with a phone number was accepted: {out}");
    // The longest expression accepted plans without exhausting a stack; a longer one is refused.
    let chain = |n: usize| format!("SELECT {}", vec!["1"; n].join("+"));
    let (out, ok) = server.psql("cn_contractor", &chain(1000));
    assert!(ok && out.trim() == "1000", "{out}");
    let (out, ok) = server.psql("cn_contractor", &chain(20_000));
    assert!(!ok && out.contains("operators"), "{out}");
    // Row order says nothing about keys: the n-th row of a scan is not user n.
    let (out, ok) = server.psql(
        "admin",
        "SELECT count(*) FROM (SELECT user_id, row_number() OVER () AS n FROM users) t WHERE user_id = n",
    );
    assert!(ok && out.trim().parse::<u64>().unwrap() < 20, "{out}");
    // COPY (query) TO STDOUT streams the same protected rows.
    let (out, ok) = server.psql(
        "cn_contractor",
        "COPY (SELECT phone FROM users LIMIT 2) TO STDOUT",
    );
    assert!(ok && out.lines().count() == 2 && out.starts_with("tel_"), "{out}");
}

#[test]
fn every_statement_is_audited_and_the_log_verifies() {
    let server = TestServer::start();
    let statements = [
        (
            "cn_contractor",
            "SELECT phone, email FROM users WHERE country = 'JP'",
            true,
        ),
        ("cn_contractor", "SELECT my_number FROM users", false),
        ("cn_contractor", "SET ROLE admin", false),
        ("jp_support", "SELECT phone FROM users LIMIT 5", true),
        (
            "cn_contractor",
            "SET kamei.purpose = 'fraud review'; SELECT count(*) FROM users",
            true,
        ),
    ];
    for (who, sql, should_pass) in statements {
        let (out, ok) = server.psql(who, sql);
        assert_eq!(ok, should_pass, "{sql}: {out}");
    }
    let dir = LocalDir::new(server.log_dir.path()).unwrap();
    let records = read_records(&dir).unwrap();
    let mine: Vec<_> = records
        .iter()
        .map(|(_, r, _)| r)
        .filter(|r| r.principal() == "cn_contractor")
        .collect();
    assert_eq!(mine.len(), 5, "one record per statement sent: {records:?}");
    assert_eq!(mine[0].action().as_str(), "query");
    assert!(mine[0].subjects().count > 0);
    assert!(
        !mine[0].statement().contains("JP"),
        "literals are redacted: {}",
        mine[0].statement()
    );
    assert_eq!(mine[1].action().as_str(), "denied");
    assert!(!mine[1].policies().is_empty());
    assert_eq!(mine[2].action().as_str(), "denied");
    // Settings are statements too; the purpose set goes into its own and later records.
    assert_eq!((mine[3].action().as_str(), mine[3].rows()), ("query", 0));
    assert_eq!(mine[3].purpose(), Some("fraud review"));
    assert_eq!(mine[4].purpose(), Some("fraud review"));
    // Large results stream between an opening and a closing record.
    let (out, ok) = server.psql("cn_contractor", "SELECT m.body FROM messages m CROSS JOIN (SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5) x");
    assert!(ok, "{out}");
    // A statement that fails while running gets a record with a `failure`, and the log with it
    // still verifies (it did not: the verifier's reading of a leaf lacked the field).
    let (out, ok) = server.psql("cn_contractor", "SELECT 1/0");
    assert!(!ok, "{out}");
    let records = read_records(&dir).unwrap();
    assert!(records.last().unwrap().1.failure().is_some());
    server.log.checkpoint().unwrap();
    let report = verify_log(&dir, None, None).unwrap();
    assert!(report.problem.is_none(), "{:?}", report.problem);
}

#[test]
fn a_failing_audit_log_stops_the_statement_before_any_row() {
    let server = TestServer::start();
    let (out, ok) = server.psql("cn_contractor", "SELECT phone FROM users LIMIT 1");
    assert!(ok, "{out}");
    server.log.close().unwrap();
    let (out, ok) = server.psql("cn_contractor", "SELECT phone FROM users LIMIT 1");
    assert!(!ok, "{out}");
    assert!(out.contains("audit log"), "{out}");
    assert!(!out.contains("tel_"), "a row left without its record: {out}");
}

#[test]
fn psycopg_prepared_statements_parameters_and_cancel() {
    let server = TestServer::start();
    let (id, phone) = a_jp_user();
    let (out, ok) = server.python(&[&id, &phone]);
    assert!(ok, "{out}");
    assert!(out.contains("ok"), "{out}");
}

#[test]
fn free_text_survival_of_labelled_spans() {
    let server = TestServer::start();
    let spans = labelled_spans();
    for principal in ["cn_contractor", "kr_moderator"] {
        let guarded = guarded_bodies(&server, principal);
        let (mut total, mut survived) = (0usize, 0usize);
        for (id, list) in &spans {
            let body = guarded.get(id).map(String::as_str).unwrap_or_default();
            for s in list {
                total += 1;
                if body.contains(s.as_str()) {
                    survived += 1;
                }
            }
        }
        let share = survived as f64 / total as f64;
        eprintln!(
            "{principal}: {survived} of {total} labelled spans survive redaction ({:.2} %)",
            share * 100.0
        );
        assert!(total > 100, "{total}");
        assert!(
            share <= 0.02,
            "{principal}: {:.2} % of labelled spans survive",
            share * 100.0
        );
    }
}

#[test]
fn psql_describes_only_what_the_principal_may_read() {
    let server = TestServer::start();
    let (out, ok) = server.psql("cn_contractor", "\\dt");
    assert!(ok, "{out}");
    for t in ["users", "messages", "reports", "payments"] {
        assert!(out.contains(t), "{out}");
    }
    let (out, ok) = server.psql("cn_contractor", "\\d users");
    assert!(ok && out.contains("phone") && out.contains("text"), "{out}");
    assert!(!out.contains("my_number"), "a denied column is listed: {out}");
    let (out, ok) = server.psql("cn_contractor", "\\dn");
    assert!(ok && out.contains("public"), "{out}");
    let (out, ok) = server.psql(
        "cn_contractor",
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'users'",
    );
    assert!(ok && out.contains("phone") && !out.contains("my_number"), "{out}");
    // The auditor reads no table, and the catalog lists none.
    let (out, ok) = server.psql("auditor", "\\dt");
    assert!(ok && !out.contains("users"), "{out}");
}

#[test]
fn tls_when_required_refuses_plaintext() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let made = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
        ])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let server = TestServer::start_with(kamei_gateway::ServerOptions {
        tls: Some(kamei_gateway::Tls::load(&cert, &key).unwrap()),
        require_tls: true,
        ..Default::default()
    });
    // psql's sslmode=disable in TestServer::psql: refused before authentication.
    let (out, ok) = server.psql("cn_contractor", "SELECT 1");
    assert!(!ok && out.contains("requires TLS"), "{out}");
    let run = |sslmode: &str| {
        std::process::Command::new("psql")
            .args(["-X", "-A", "-t", "-c", "SHOW session_authorization"])
            .arg(format!(
                "host=127.0.0.1 port={} user=cn_contractor dbname=kamei sslmode={sslmode}",
                server.addr.port()
            ))
            .env("PGPASSWORD", "cn_contractor-demo")
            .output()
            .unwrap()
    };
    let o = run("require");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "cn_contractor");
    // A bad key file refuses to load, with a one-line reason.
    std::fs::write(&key, "not a key").unwrap();
    let e = kamei_gateway::Tls::load(&cert, &key).unwrap_err().to_string();
    assert!(e.contains("key.pem"), "{e}");
}

/// A reload that revokes a permission applies to connections already open and to statements
/// they prepared before it: a revocation must not wait for the contractor to reconnect.
#[test]
fn a_reload_applies_to_open_connections_and_their_prepared_statements() {
    use std::io::Write;

    let server = TestServer::start();
    let (id, phone) = a_jp_user();
    let script = format!(
        r#"
import os, socket, struct, sys, psycopg
def connect():
    return psycopg.connect(host="127.0.0.1", port={port}, user="jp_support", password="jp_support-demo",
                           dbname="kamei", sslmode="disable", autocommit=True, connect_timeout=10)
conn = connect()
def run():
    row = conn.execute("SELECT phone FROM users WHERE user_id = %s", ({id},), prepare=True).fetchone()
    n = conn.execute("SELECT count(*) FROM users WHERE phone = %s", ("{phone}",)).fetchone()[0]
    print(row[0] if row else None, n, flush=True)
# A portal left suspended before the reload, driven with raw protocol messages.
portal_conn = connect()
raw = socket.socket(fileno=os.dup(portal_conn.pgconn.socket))
raw.setblocking(True)
def msg(t, body): return t + struct.pack("!I", len(body) + 4) + body
def execute(rows): return msg(b"E", b"p\0" + struct.pack("!I", rows))
def replies():
    out, buf = [], b""
    while True:
        while len(buf) < 5 or len(buf) < 1 + struct.unpack("!I", buf[1:5])[0]:
            buf += raw.recv(65536)
        n = struct.unpack("!I", buf[1:5])[0]
        kind, body, buf = buf[:1], buf[5:1 + n], buf[1 + n:]
        out.append(kind)
        if kind == b"E": print("portal error:", "reloaded" in body.decode(errors="replace"), flush=True)
        if kind in (b"s", b"Z", b"C"): return out
raw.sendall(msg(b"P", b"\0SELECT phone FROM users WHERE country = 'JP'\0\0\0")
            + msg(b"B", b"p\0\0\0\0\0\0\0\0") + execute(1) + msg(b"H", b""))
print("portal:", replies().count(b"D"), flush=True)
run()
sys.stdin.readline()
run()
raw.sendall(execute(1) + msg(b"S", b""))
print("portal after:", replies().count(b"D"), flush=True)
"#,
        port = server.addr.port()
    );
    let (mut child, mut lines) = server.python_script(&script);
    assert_eq!(lines.next().unwrap().unwrap(), "portal: 1");
    let before = lines.next().unwrap().unwrap();
    assert_eq!(
        before,
        format!("{phone} 1"),
        "jp_support reads a JP phone raw before the reload"
    );

    let revoked = format!(
        "{}\n@id(\"revoke-support-raw\")\nforbid (principal, action == Kamei::Action::\"read_raw\", resource)\n\
         when {{ principal.roles.contains(\"support\") && resource.category != \"NON_PERSONAL\" }};\n",
        include_str!("../../kamei-policy/demo/policies.cedar")
    );
    let index = server.reload(&revoked);
    writeln!(child.stdin.take().unwrap()).unwrap();
    let after = lines.next().unwrap().unwrap();
    // The suspended portal's rows were computed under the old levels: none leaves any more.
    assert_eq!(lines.next().unwrap().unwrap(), "portal error: True");
    assert_eq!(lines.next().unwrap().unwrap(), "portal after: 0");
    assert!(child.wait().unwrap().success());
    assert_eq!(
        after, "None 0",
        "the open connection still read raw after the revocation"
    );

    let dir = LocalDir::new(server.log_dir.path()).unwrap();
    let records = read_records(&dir).unwrap();
    let (_, reload, _) = records.iter().find(|(i, _, _)| *i == index).unwrap();
    assert_eq!(reload.action().as_str(), "configure");
    assert!(reload.policies().iter().any(|p| p == "revoke-support-raw"));
    for (_, record, _) in records.iter().filter(|(i, _, _)| *i > index) {
        let phone = record.tables().get("users").and_then(|c| c.get("phone"));
        assert_ne!(
            phone,
            Some(&kamei_core::Level::Raw),
            "a record after the reload says phone was read raw"
        );
    }
}

/// A principal a reload removes keeps its open connection, but every statement it still sends
/// there is refused and recorded (under the principal's last session).
#[test]
fn a_principal_removed_by_a_reload_is_refused_and_recorded() {
    use std::io::Write;

    let server = TestServer::start();
    let script = format!(
        r#"
import sys, psycopg
conn = psycopg.connect(host="127.0.0.1", port={port}, user="th_support", password="th_support-demo",
                       dbname="kamei", sslmode="disable", autocommit=True, connect_timeout=10)
print(conn.execute("SELECT count(*) FROM users").fetchone()[0] > 0, flush=True)
sys.stdin.readline()
for sql in ["SELECT phone FROM users LIMIT 1", "SELECT count(*) FROM users WHERE phone = %s"]:
    try:
        conn.execute(sql, ("x",) if "%s" in sql else None, prepare=True)
        print("ran", flush=True)
    except psycopg.Error as e:
        print("refused" if "no session" in str(e) else str(e), flush=True)
"#,
        port = server.addr.port()
    );
    let (mut child, mut lines) = server.python_script(&script);
    assert_eq!(lines.next().unwrap().unwrap(), "True");

    let principals = include_str!("../../kamei-policy/demo/principals.toml");
    let start = principals.find("# Customer support in Thailand").unwrap();
    let end = principals.find("# Overseas development contractor").unwrap();
    let without_th = format!("{}{}", &principals[..start], &principals[end..]);
    let config = kamei_policy::Config::from_texts(
        include_str!("../../kamei-policy/demo/catalog.toml"),
        &without_th,
        include_str!("../../kamei-policy/demo/policies.cedar"),
    )
    .unwrap();
    let index = futures::executor::block_on(server.server.reload(common::demo_gateway(config))).unwrap();
    writeln!(child.stdin.take().unwrap()).unwrap();
    assert_eq!(lines.next().unwrap().unwrap(), "refused");
    assert_eq!(lines.next().unwrap().unwrap(), "refused");
    assert!(child.wait().unwrap().success());

    let dir = LocalDir::new(server.log_dir.path()).unwrap();
    let after: Vec<_> = read_records(&dir)
        .unwrap()
        .into_iter()
        .filter(|(i, r, _)| *i > index && r.principal() == "th_support")
        .collect();
    assert_eq!(
        after.len(),
        2,
        "one record per statement sent after the revocation"
    );
    assert!(after.iter().all(|(_, r, _)| r.action().as_str() == "denied"));
}

/// A guarded scan applies its table's filters itself, on protected values: a point query's
/// record names the one person it returned, and a filter on a raw value the principal reads
/// only as a pseudonym matches no one and names no one.
#[test]
fn a_point_query_names_one_subject() {
    let server = TestServer::start();
    let (id, phone) = a_jp_user();
    let (out, ok) = server.psql(
        "jp_support",
        &format!("SELECT phone FROM users WHERE user_id = {id}"),
    );
    assert!(ok && out.trim() == phone, "{out}");
    let (out, ok) = server.psql(
        "cn_contractor",
        &format!("SELECT count(*) FROM users WHERE phone = '{phone}'"),
    );
    assert!(ok && out.trim() == "0", "{out}");
    let dir = LocalDir::new(server.log_dir.path()).unwrap();
    let records = read_records(&dir).unwrap();
    let subjects = |who: &str| {
        records
            .iter()
            .rev()
            .find(|(_, r, _)| r.principal() == who)
            .map(|(_, r, _)| r.subjects().count)
            .unwrap()
    };
    assert_eq!(subjects("jp_support"), 1);
    assert_eq!(subjects("cn_contractor"), 0);
    // A limit stops rows in the scan too: at most three per partition (one per core).
    let (out, ok) = server.psql("cn_contractor", "SELECT user_id FROM users LIMIT 3");
    assert!(ok && out.lines().count() == 3, "{out}");
    let records = read_records(&dir).unwrap();
    let (_, limited, _) = records
        .iter()
        .rev()
        .find(|(_, r, _)| r.principal() == "cn_contractor")
        .unwrap();
    let cores = std::thread::available_parallelism().unwrap().get() as u64;
    assert!(
        (1..=3 * cores).contains(&limited.subjects().count),
        "{}",
        limited.subjects().count
    );
}

/// The deepest statements the guard accepts run (or fail) without taking the server down: a
/// stack overflow would end every session at once.
#[test]
fn the_deepest_statements_accepted_leave_the_server_up() {
    let server = TestServer::start();
    for sql in [
        format!("SELECT 1{}", " IS NULL".repeat(990)),
        vec!["SELECT 1"; 990].join(" UNION ALL "),
        format!("SELECT {}", vec!["1"; 990].join("+")),
    ] {
        let _ = server.psql("auditor", &sql);
        let (out, ok) = server.psql("auditor", "SELECT 1");
        assert!(
            ok && out.trim() == "1",
            "the server is down after {}…: {out}",
            &sql[..30]
        );
    }
}
