//! The generator end to end: what it writes, that it writes it the same way every time, and
//! that it refuses bad output locations without leaving anything behind.

use std::collections::HashMap;
use std::fs;
use std::path::Path;

use arrow::array::{AsArray, RecordBatch};
use arrow::datatypes::Int64Type;
use kamei_synth::{Format, GenerateError, GenerateOptions, generate};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

fn options(out: &Path, users: u64, seed: u64, format: Format) -> GenerateOptions {
    GenerateOptions {
        out: out.to_path_buf(),
        users,
        seed,
        format,
    }
}

fn read_parquet(path: &Path) -> Vec<RecordBatch> {
    let file = fs::File::open(path).unwrap();
    ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap()
        .map(|b| b.unwrap())
        .collect()
}

fn column_names(batches: &[RecordBatch]) -> Vec<String> {
    batches[0]
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect()
}

#[test]
fn writes_the_four_tables_with_the_design_columns_and_labels() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("world");
    let summary = generate(&options(&out, 2000, 7, Format::Parquet), &|_| {}).unwrap();
    assert_eq!(summary.users, 2000);
    assert!(summary.messages > 4000, "{summary:?}");
    assert!(summary.reports > 0 && summary.payments > 1000, "{summary:?}");

    let expected: [(&str, &[&str]); 4] = [
        (
            "users",
            &[
                "user_id",
                "line_id",
                "display_name",
                "full_name",
                "full_name_kana",
                "phone",
                "email",
                "birth_date",
                "gender",
                "postal_code",
                "address",
                "country",
                "my_number",
                "created_at",
            ],
        ),
        (
            "messages",
            &[
                "message_id",
                "chat_id",
                "sender_id",
                "recipient_id",
                "sender_country",
                "sent_at",
                "body",
            ],
        ),
        (
            "reports",
            &[
                "report_id",
                "reporter_id",
                "reported_user_id",
                "message_id",
                "reporter_country",
                "reason",
                "body",
                "reported_at",
            ],
        ),
        (
            "payments",
            &[
                "payment_id",
                "user_id",
                "country",
                "merchant",
                "amount",
                "currency",
                "card_number",
                "paid_at",
            ],
        ),
    ];
    for (table, columns) in expected {
        let batches = read_parquet(&out.join(format!("{table}.parquet")));
        assert_eq!(
            column_names(&batches),
            columns.iter().map(|c| c.to_string()).collect::<Vec<_>>(),
            "{table}"
        );
    }
    assert!(out.join("labels/messages.jsonl").is_file());
    // Nothing else is left in the output's parent: no staging directory.
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
}

/// The message bodies of a generated world, by message id.
fn bodies(out: &Path) -> HashMap<i64, String> {
    let mut bodies = HashMap::new();
    for batch in read_parquet(&out.join("messages.parquet")) {
        let ids = batch.column(0).as_primitive::<Int64Type>();
        let body = batch.column(6).as_string::<i32>();
        for i in 0..batch.num_rows() {
            bodies.insert(ids.value(i), body.value(i).to_string());
        }
    }
    bodies
}

#[test]
fn every_label_slices_the_body_to_the_personal_data_it_names() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("world");
    let summary = generate(&options(&out, 2000, 7, Format::Parquet), &|_| {}).unwrap();

    let bodies = bodies(&out);
    let labels = fs::read_to_string(out.join("labels/messages.jsonl")).unwrap();
    let handles = labelled_handles(&out);
    let mut lines = 0;
    let mut spans = 0;
    let mut messages_with_pii = 0;
    let mut template_messages = 0;
    for line in labels.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let body: Vec<char> = bodies[&v["message_id"].as_i64().unwrap()].chars().collect();
        let entities = v["entities"].as_array().unwrap();
        let hidden = entities.iter().any(|e| e.get("form").is_some())
            || handles.contains_key(&v["message_id"].as_i64().unwrap());
        template_messages += usize::from(!hidden);
        messages_with_pii += usize::from(!entities.is_empty() && !hidden);
        let obfuscated = entities.iter().any(|e| e.get("form").is_some());
        for e in entities {
            let (start, end) = (
                e["start"].as_u64().unwrap() as usize,
                e["end"].as_u64().unwrap() as usize,
            );
            let span: String = body[start..end].iter().collect();
            if obfuscated {
                // Checked form by form in `obfuscated_contacts_…`.
                spans += 1;
                continue;
            }
            let digits = kamei_synth::digits_of(&span.chars().map(fold_width).collect::<String>());
            match e["type"].as_str().unwrap() {
                "MY_NUMBER" => assert!(kamei_synth::my_number_valid(&digits), "{span}"),
                "CREDIT_CARD" => assert!(kamei_synth::luhn_valid(&digits), "{span}"),
                "EMAIL" => assert!(span.contains('@') && !span.contains(' '), "{span}"),
                "PHONE" => assert!((9..=13).contains(&digits.len()), "{span}"),
                "POSTAL_CODE" => assert!(span.chars().all(|c| c.is_ascii_digit() || c == '-'), "{span}"),
                t => assert!(kamei_core_type(t), "{t}"),
            }
            assert_eq!(span.trim(), span);
            spans += 1;
        }
        lines += 1;
    }
    assert_eq!(lines as u64, summary.messages, "one label line per message");
    assert_eq!(spans as u64, summary.labelled_entities);
    let share = messages_with_pii as f64 / template_messages as f64;
    assert!(
        (0.10..0.20).contains(&share),
        "about 15 % of template messages carry personal data: {share}"
    );
}

/// The ACCOUNT_ID labels of labels/account_ids.jsonl, by message id: (start, end, form).
fn labelled_handles(out: &Path) -> HashMap<i64, Vec<(usize, usize, String)>> {
    let text = fs::read_to_string(out.join("labels/account_ids.jsonl")).unwrap();
    let mut by_message = HashMap::new();
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let spans = v["entities"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                assert_eq!(e["type"], "ACCOUNT_ID");
                (
                    e["start"].as_u64().unwrap() as usize,
                    e["end"].as_u64().unwrap() as usize,
                    e["form"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        assert!(
            by_message
                .insert(v["message_id"].as_i64().unwrap(), spans)
                .is_none()
        );
    }
    by_message
}

/// A digit of any script the obfuscated forms use (ASCII, full width, kanji, Thai), as 0–9.
fn digit_value(c: char) -> Option<u32> {
    const KANJI: &str = "〇一二三四五六七八九";
    match c {
        '0'..='9' => c.to_digit(10),
        '０'..='９' => Some(c as u32 - '０' as u32),
        '๐'..='๙' => Some(c as u32 - '๐' as u32),
        _ => KANJI.chars().position(|k| k == c).map(|i| i as u32),
    }
}

/// An obfuscated e-mail address back in its plain form: full width folded, spelled-out `@`
/// and `.` replaced.
fn plain_email(span: &str) -> String {
    let folded: String = span
        .chars()
        .map(|c| match c {
            '！'..='～' => char::from_u32(c as u32 - 0xFF01 + 0x21).unwrap_or(c),
            _ => c,
        })
        .collect();
    let mut s = folded;
    for (from, to) in [
        (" [at] ", "@"),
        (" [dot] ", "."),
        (" at ", "@"),
        (" dot ", "."),
        ("(at)", "@"),
        ("(@)", "@"),
        ("アット", "@"),
        ("あっと", "@"),
        ("ドット", "."),
        ("艾特", "@"),
        (" แอท ", "@"),
    ] {
        s = s.replace(from, to);
    }
    s
}

/// Issue 17: bodies that hide a contact on purpose. Each label covers exactly the value — its
/// plain form is a whole address or number, and the characters beside it are not part of it —
/// and the share of such bodies is the designed 6 %.
#[test]
fn obfuscated_contacts_are_labelled_exactly_and_make_the_designed_share() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("world");
    let summary = generate(&options(&out, 4000, 5, Format::Parquet), &|_| {}).unwrap();
    let bodies: HashMap<i64, Vec<char>> = bodies(&out)
        .into_iter()
        .map(|(id, b)| (id, b.chars().collect()))
        .collect();
    let beside = |body: &[char], start: usize, end: usize| {
        let before = start.checked_sub(1).map(|i| body[i]);
        let after = body.get(end).copied();
        // A value never continues into a neighbouring letter or digit of its own script.
        for c in [before, after].into_iter().flatten() {
            assert!(
                !(c.is_ascii_alphanumeric() || digit_value(c).is_some() || ('ａ'..='ｚ').contains(&c)),
                "{:?}",
                body.iter().collect::<String>()
            );
        }
    };
    let mut forms: HashMap<String, usize> = HashMap::new();
    let mut obfuscated_messages = 0;
    let labels = fs::read_to_string(out.join("labels/messages.jsonl")).unwrap();
    for line in labels.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let body = &bodies[&v["message_id"].as_i64().unwrap()];
        let hidden: Vec<&serde_json::Value> = v["entities"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e.get("form").is_some())
            .collect();
        obfuscated_messages += usize::from(!hidden.is_empty());
        for e in hidden {
            let (start, end) = (
                e["start"].as_u64().unwrap() as usize,
                e["end"].as_u64().unwrap() as usize,
            );
            let span: String = body[start..end].iter().collect();
            let form = e["form"].as_str().unwrap();
            *forms.entry(form.to_owned()).or_default() += 1;
            beside(body, start, end);
            assert_eq!(span.trim(), span, "{form}: {span:?}");
            match e["type"].as_str().unwrap() {
                "EMAIL" => {
                    let plain = plain_email(&span);
                    let (local, domain) = plain.split_once('@').unwrap_or_else(|| panic!("{form}: {span}"));
                    assert!(
                        !local.is_empty()
                            && domain.contains('.')
                            && !plain.contains(char::is_whitespace)
                            && plain.is_ascii(),
                        "{form}: {span} → {plain}"
                    );
                    assert!(!span.contains('@') || form == "paren-at", "{form}: {span}");
                }
                "PHONE" => {
                    let digits = span.chars().filter_map(digit_value).count();
                    assert!((9..=13).contains(&digits), "{form}: {span}");
                    assert!(
                        digit_value(span.chars().next().unwrap()).is_some() || span.starts_with('+'),
                        "{form}: {span}"
                    );
                    // No plain run of the whole number: that is what makes it obfuscated.
                    assert!(
                        !span.chars().all(|c| c.is_ascii_digit() || c == '-'),
                        "{form}: {span}"
                    );
                }
                t => panic!("an obfuscated {t}: {span}"),
            }
        }
    }
    let handles = labelled_handles(&out);
    for (id, spans) in &handles {
        let body = &bodies[id];
        for (start, end, form) in spans {
            let span: String = body[*start..*end].iter().collect();
            assert_eq!(form, "line-id");
            beside(body, *start, *end);
            assert!(
                (1..=20).contains(&span.len())
                    && span
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c)),
                "{span}"
            );
            let cue: String = body[start.saturating_sub(12)..*start].iter().collect();
            assert!(
                ["LINE", "line", "ライン", "ID", "id", "ไลน์"]
                    .iter()
                    .any(|w| cue.contains(w)),
                "no cue word before the handle: {cue:?}"
            );
        }
    }
    obfuscated_messages += handles.len();
    let share = obfuscated_messages as f64 / summary.messages as f64;
    eprintln!(
        "{obfuscated_messages} of {} messages obfuscated ({:.2} %): {forms:?}, {} handles",
        summary.messages,
        share * 100.0,
        handles.len()
    );
    // 6 % of about 11,600 messages: a binomial standard deviation of 0.2 points.
    assert!((0.05..0.07).contains(&share), "obfuscated share {share}");
    for form in [
        "full-width",
        "spelled-at-dot",
        "paren-at",
        "bracket-at-dot",
        "kana-at",
        "kanji-digits",
        "thai-digits",
        "keycap",
        "emoji-separated",
        "spaced-digits",
        "e164-spaced",
    ] {
        assert!(forms.get(form).is_some_and(|n| *n > 0), "no {form} in {forms:?}");
    }
}

fn kamei_core_type(name: &str) -> bool {
    name.parse::<kamei_core::PiiType>().is_ok()
}

fn fold_width(c: char) -> char {
    match c {
        '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
        _ => c,
    }
}

#[test]
fn the_same_arguments_give_byte_identical_files() {
    for format in [Format::Parquet, Format::Csv] {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        generate(&options(&a, 3000, 42, format), &|_| {}).unwrap();
        generate(&options(&b, 3000, 42, format), &|_| {}).unwrap();
        let ext = if format == Format::Csv { "csv" } else { "parquet" };
        for file in ["users", "messages", "reports", "payments"]
            .map(|t| format!("{t}.{ext}"))
            .into_iter()
            .chain(["labels/messages.jsonl".into()])
        {
            assert!(
                fs::read(a.join(&file)).unwrap() == fs::read(b.join(&file)).unwrap(),
                "{file} differs between runs"
            );
        }
        // A different seed gives a different world.
        let c = dir.path().join("c");
        generate(&options(&c, 3000, 43, format), &|_| {}).unwrap();
        assert!(
            fs::read(a.join(format!("users.{ext}"))).unwrap()
                != fs::read(c.join(format!("users.{ext}"))).unwrap()
        );
    }
}

#[test]
fn the_country_mix_is_seventy_twelve_ten_eight() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("w");
    generate(&options(&out, 20_000, 1, Format::Parquet), &|_| {}).unwrap();
    let mut counts: HashMap<String, usize> = HashMap::new();
    for batch in read_parquet(&out.join("users.parquet")) {
        let country = batch.column(11).as_string::<i32>();
        for i in 0..batch.num_rows() {
            *counts.entry(country.value(i).to_string()).or_default() += 1;
        }
    }
    for (code, pct) in [("JP", 70.0), ("TH", 12.0), ("TW", 10.0), ("ID", 8.0)] {
        let got = counts[code] as f64 * 100.0 / 20_000.0;
        assert!((got - pct).abs() < 1.0, "{code}: {got} %");
    }
    assert_eq!(counts.len(), 4);
}

#[test]
fn sender_country_is_the_senders_country_and_ids_are_dense() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("w");
    generate(&options(&out, 1500, 3, Format::Parquet), &|_| {}).unwrap();
    let mut country = HashMap::new();
    for batch in read_parquet(&out.join("users.parquet")) {
        let ids = batch.column(0).as_primitive::<Int64Type>();
        let c = batch.column(11).as_string::<i32>();
        for i in 0..batch.num_rows() {
            country.insert(ids.value(i), c.value(i).to_string());
        }
    }
    let mut next_id = 1;
    for batch in read_parquet(&out.join("messages.parquet")) {
        let ids = batch.column(0).as_primitive::<Int64Type>();
        let sender = batch.column(2).as_primitive::<Int64Type>();
        let recipient = batch.column(3).as_primitive::<Int64Type>();
        let sc = batch.column(4).as_string::<i32>();
        for i in 0..batch.num_rows() {
            assert_eq!(ids.value(i), next_id);
            next_id += 1;
            assert_eq!(country[&sender.value(i)], sc.value(i));
            assert!(country.contains_key(&recipient.value(i)));
        }
    }
    for batch in read_parquet(&out.join("reports.parquet")) {
        let reporter = batch.column(1).as_primitive::<Int64Type>();
        let rc = batch.column(4).as_string::<i32>();
        for i in 0..batch.num_rows() {
            assert_eq!(country[&reporter.value(i)], rc.value(i));
        }
    }
}

#[test]
fn refuses_a_non_empty_output_directory_and_leaves_it_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("taken");
    fs::create_dir(&out).unwrap();
    fs::write(out.join("keep.txt"), "mine").unwrap();
    let err = generate(&options(&out, 10, 1, Format::Csv), &|_| {}).unwrap_err();
    assert!(matches!(err, GenerateError::OutputNotEmpty(_)), "{err}");
    assert_eq!(fs::read_dir(&out).unwrap().count(), 1);
    assert_eq!(
        fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no staging directory left"
    );
}

#[test]
fn an_empty_output_directory_is_filled() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("empty");
    fs::create_dir(&out).unwrap();
    generate(&options(&out, 10, 1, Format::Csv), &|_| {}).unwrap();
    assert!(out.join("users.csv").is_file());
}

#[test]
fn zero_users_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = generate(&options(&dir.path().join("w"), 0, 1, Format::Csv), &|_| {}).unwrap_err();
    assert!(matches!(err, GenerateError::NoUsers));
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn an_unwritable_location_is_an_error_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plain-file");
    fs::write(&file, "x").unwrap();
    // A path below a regular file cannot be created, whoever runs the test (root included).
    let err = generate(&options(&file.join("w"), 10, 1, Format::Csv), &|_| {}).unwrap_err();
    assert!(matches!(err, GenerateError::Io { .. }), "{err}");
    let err = generate(&options(&file, 10, 1, Format::Csv), &|_| {}).unwrap_err();
    assert!(matches!(err, GenerateError::OutputNotDirectory(_)), "{err}");
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
}
