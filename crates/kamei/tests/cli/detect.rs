//! `kamei detect`, `redact` and `eval-detect` end to end.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use crate::kamei;

fn run(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = kamei()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

fn json_lines(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn detect_reports_code_point_offsets_per_line() {
    let out = run(&["detect"], "電話 090-1234-5678\nnothing here\n".as_bytes());
    assert!(out.status.success());
    let v = json_lines(&out);
    assert_eq!(v.len(), 2);
    assert_eq!(v[0]["line"], 1);
    let e = &v[0]["entities"][0];
    assert_eq!(
        (e["type"].as_str(), e["start"].as_u64(), e["end"].as_u64()),
        (Some("PHONE"), Some(3), Some(16))
    );
    assert!(e["score"].as_f64().unwrap() > 0.5);
    assert_eq!(v[1], serde_json::json!({"line": 2, "entities": []}));
}

#[test]
fn detect_reports_bad_lines_and_goes_on() {
    let mut input = b"ok a@example.com\n".to_vec();
    input.extend_from_slice(b"bad \xff\xfe 090-1234-5678\n");
    input.extend_from_slice(b"third\n");
    let out = run(&["detect", "-"], &input);
    assert!(out.status.success());
    let v = json_lines(&out);
    assert_eq!(v.len(), 3);
    assert_eq!(v[1]["line"], 2);
    let err = v[1]["error"].as_str().unwrap();
    assert!(err.contains("UTF-8"), "{err}");
    // The error never quotes the line's content.
    assert!(!err.contains("090"));
    assert_eq!(v[2]["line"], 3);
}

#[test]
fn detect_strict_stops_with_exit_2_naming_the_line() {
    let out = run(&["detect", "--strict"], b"fine\n\xff\nafter\n");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 2"), "{err}");
    assert_eq!(json_lines(&out).len(), 1);
}

#[test]
fn detect_jsonl_reads_text_fields_and_reports_bad_json() {
    let input = "{\"text\": \"mail taro@example.jp\"}\nnot json\n{\"other\": 1}\n";
    let out = run(&["detect", "--jsonl"], input.as_bytes());
    assert!(out.status.success());
    let v = json_lines(&out);
    assert_eq!(v[0]["entities"][0]["type"], "EMAIL");
    assert_eq!(v[0]["entities"][0]["start"], 5);
    assert!(v[1]["error"].as_str().unwrap().contains("JSON"));
    assert!(v[2]["error"].as_str().unwrap().contains("`text`"));
    let out = run(&["detect", "--jsonl", "--strict"], input.as_bytes());
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn detect_missing_file_is_one_line_error() {
    let out = run(&["detect", "/nonexistent/input.txt"], b"");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("kamei: error: cannot open"), "{err}");
    assert_eq!(err.lines().count(), 1);
}

#[test]
fn redact_tags_and_masks_line_for_line() {
    let input = "携帯は090-1234-5678です\nmail a@example.com\n";
    let out = run(&["redact"], input.as_bytes());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "携帯は<PHONE>です\nmail <EMAIL>\n"
    );
    let out = run(&["redact", "--style", "mask"], input.as_bytes());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "携帯は***-****-****です\nmail *@*******.***\n"
    );
}

/// `redact` defaults to the recall-first profile (a redactor fails closed); `--profile
/// balanced` gives what `detect` reports, and a wrong name is a one-line error.
#[test]
fn redact_is_recall_first_unless_told_otherwise() {
    let input = "Order #4111 1111 1111 1111\nLINE: taro_88\n";
    let out = run(&["redact"], input.as_bytes());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "Order #<CREDIT_CARD>\nLINE: <PERSON>\n"
    );
    let out = run(&["redact", "--profile", "balanced"], input.as_bytes());
    assert_eq!(String::from_utf8(out.stdout).unwrap(), input);
    let out = run(
        &["detect", "--profile", "recall"],
        b"Order #4111 1111 1111 1111\n",
    );
    assert_eq!(json_lines(&out)[0]["entities"][0]["type"], "CREDIT_CARD");
    // eval-detect reports what each profile leaves of the gold values.
    let dir = tempfile::tempdir().unwrap();
    let gold = dir.path().join("gold.jsonl");
    std::fs::write(
        &gold,
        "{\"text\": \"Order #4111 1111 1111 1111\", \"entities\": [{\"type\": \"CREDIT_CARD\", \"start\": 7, \"end\": 26}]}\n",
    )
    .unwrap();
    for (profile, survived) in [("balanced", "1"), ("recall", "0")] {
        let out = run(
            &[
                "eval-detect",
                "--gold",
                gold.to_str().unwrap(),
                "--profile",
                profile,
            ],
            b"",
        );
        let text = String::from_utf8(out.stdout).unwrap();
        let row = text
            .lines()
            .find(|l| l.starts_with("all six"))
            .unwrap_or_default();
        assert_eq!(row.split_whitespace().nth(3), Some(survived), "{profile}: {text}");
    }
    let out = run(&["redact", "--profile", "strict"], b"");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("expected `balanced` or `recall`"));
}

#[test]
fn redact_never_passes_an_unreadable_line_through() {
    let out = run(&["redact"], b"a\n\xff 090-1234-5678\nb\n");
    assert!(out.status.success());
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "a\n\nb\n");
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 2"));
}

#[test]
fn eval_detect_prints_per_type_scores() {
    let dir = tempfile::tempdir().unwrap();
    let gold = dir.path().join("gold.jsonl");
    std::fs::write(
        &gold,
        concat!(
            "{\"text\": \"電話 090-1234-5678\", \"entities\": [{\"type\": \"PHONE\", \"start\": 3, \"end\": 16}]}\n",
            "{\"text\": \"mail a@example.jp\", \"entities\": [{\"type\": \"EMAIL\", \"start\": 5, \"end\": 17}]}\n",
            "{\"text\": \"nothing\", \"entities\": [{\"type\": \"PERSON\", \"start\": 0, \"end\": 7}]}\n",
        ),
    )
    .unwrap();
    let out = run(&["eval-detect", "--gold", gold.to_str().unwrap()], b"");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let row = |name: &str| text.lines().find(|l| l.starts_with(name)).unwrap().to_owned();
    assert!(row("PHONE").ends_with("1.000"), "{text}");
    assert!(row("PERSON").ends_with("0.000"), "{text}");
    assert!(
        row("overall").contains("0.667") || row("overall").contains("0.800"),
        "{text}"
    );

    std::fs::write(
        &gold,
        "{\"text\": \"x\", \"entities\": [{\"type\": \"NOPE\", \"start\": 0, \"end\": 1}]}\n",
    )
    .unwrap();
    let out = run(&["eval-detect", "--gold", gold.to_str().unwrap()], b"");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 1"));
}

#[test]
fn scan_proposes_the_demo_categories_for_a_generated_world() {
    let dir = tempfile::tempdir().unwrap();
    let world = dir.path().join("world");
    let out = kamei()
        .args(["generate", "--out", world.to_str().unwrap(), "--users", "300"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let catalog = dir.path().join("catalog.toml");
    let out = kamei()
        .args([
            "scan",
            world.to_str().unwrap(),
            "--out",
            catalog.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(&catalog).unwrap();
    for (column, category) in [
        ("user_id", "SUBJECT_KEY"),
        ("full_name", "PERSON"),
        ("phone", "PHONE"),
        ("email", "EMAIL"),
        ("birth_date", "DATE_OF_BIRTH"),
        ("postal_code", "POSTAL_CODE"),
        ("address", "ADDRESS"),
        ("my_number", "MY_NUMBER"),
        ("card_number", "CREDIT_CARD"),
        ("body", "FREE_TEXT"),
        ("gender", "QUASI_IDENTIFIER"),
    ] {
        let line = format!("{{ name = \"{column}\", category = \"{category}\", type = ");
        assert!(text.contains(&line), "missing {line} in\n{text}");
    }
    assert!(text.contains("jurisdiction_column = \"sender_country\""));
    // Evidence is counts and hints, never a value: no e-mail address appears in the catalog.
    assert!(!text.contains('@'));
}

#[test]
fn scan_of_a_directory_without_tables_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = kamei()
        .args(["scan", dir.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no Parquet or CSV files"));
}

/// The `{ name, category, type }` line of each column, by table, of a proposed catalog.
fn proposed_columns(catalog: &str) -> std::collections::BTreeMap<String, Vec<String>> {
    let mut tables = std::collections::BTreeMap::new();
    let mut current = String::new();
    for line in catalog.lines() {
        if let Some(name) = line.strip_prefix("name = ") {
            current = name.trim_matches('"').to_owned();
        } else if line.trim_start().starts_with("{ name = ") {
            tables
                .entry(current.clone())
                .or_insert_with(Vec::new)
                .push(line.trim().to_owned());
        }
    }
    tables
}

/// `kamei scan postgres://…` reads the same world out of PostgreSQL (scripts/test's server)
/// and proposes what a scan of its files proposes; a password in the URL is refused unread.
#[test]
fn scan_of_a_postgres_database_proposes_what_a_scan_of_its_files_does() {
    let (Ok(server), Ok(password)) = (
        std::env::var("KAMEI_TEST_POSTGRES"),
        std::env::var("KAMEI_TEST_POSTGRES_PASSWORD"),
    ) else {
        panic!("KAMEI_TEST_POSTGRES names a PostgreSQL server (run scripts/test)");
    };
    let psql = std::env::var("KAMEI_TEST_PSQL").unwrap_or_else(|_| "psql".into());
    let dir = tempfile::tempdir().unwrap();
    let world = dir.path().join("world");
    let out = kamei()
        .args(["generate", "--format", "csv", "--users", "300", "--out"])
        .arg(&world)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let db = format!("scan_{}", std::process::id());
    let url = format!("{}/{db}", server.rsplit_once('/').unwrap().0);
    for (target, args) in [
        (
            &server,
            vec!["-c".to_owned(), format!("DROP DATABASE IF EXISTS {db}")],
        ),
        (&server, vec!["-c".to_owned(), format!("CREATE DATABASE {db}")]),
        (&url, vec!["-f".to_owned(), "load.sql".to_owned()]),
    ] {
        let out = Command::new(&psql)
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", target])
            .args(&args)
            .current_dir(&world)
            .env("PGPASSWORD", &password)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let files = kamei().arg("scan").arg(&world).output().unwrap();
    assert!(
        files.status.success(),
        "{}",
        String::from_utf8_lossy(&files.stderr)
    );
    let database = kamei()
        .args(["scan", &url, "--password-env", "SCAN_TEST_PASSWORD"])
        .env("SCAN_TEST_PASSWORD", &password)
        .output()
        .unwrap();
    assert!(
        database.status.success(),
        "{}",
        String::from_utf8_lossy(&database.stderr)
    );
    // Names and categories agree; types come from the database's own (a CSV file's are
    // guessed: its 12-digit My Numbers look like BIGINT, the database says text).
    let without_types = |catalog: &[u8]| {
        let mut tables = proposed_columns(&String::from_utf8_lossy(catalog));
        for columns in tables.values_mut() {
            for c in columns.iter_mut() {
                c.truncate(c.find(", type = ").unwrap_or(c.len()));
            }
        }
        tables
    };
    let (from_files, from_database) = (without_types(&files.stdout), without_types(&database.stdout));
    for table in ["users", "messages", "reports", "payments"] {
        assert_eq!(from_database.get(table), from_files.get(table), "{table}");
        assert!(from_database.get(table).is_some_and(|c| c.len() >= 7), "{table}");
    }
    let text = String::from_utf8_lossy(&database.stdout);
    assert!(
        text.contains(r#"{ name = "my_number", category = "MY_NUMBER", type = "TEXT" }"#),
        "{text}"
    );
    // The first line names the scanned URL (no password); the rest holds no value.
    assert!(text.lines().skip(1).all(|l| !l.contains('@')), "{text}");
    let with_password = url.replacen("kamei@", "kamei:s3cret@", 1);
    let out = kamei().args(["scan", &with_password]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr.contains("holds a password") && !stderr.contains("s3cret"),
        "{stderr}"
    );
}
