//! How much of the structured personal data in generated bodies a reader still sees: the
//! measure of issue 17's leak tests, shared by the export (`kamei deid`) and gateway suites.
//!
//! A span survives, conservatively, when the reader's text holds it verbatim; or, with digits
//! of every script the generator writes folded to ASCII, any four consecutive digits of it in
//! one run of digits; or, for an e-mail address, its local part; or, for a handle, the handle.

use std::collections::HashMap;
use std::path::Path;

/// The types measured: the structured ones of issue 17, and the handles.
pub const STRUCTURED: [&str; 7] = [
    "EMAIL",
    "PHONE",
    "CREDIT_CARD",
    "MY_NUMBER",
    "IBAN",
    "BANK_ACCOUNT",
    "ACCOUNT_ID",
];

/// One labelled structured value of a message body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StructuredSpan {
    pub message: i64,
    pub value: String,
    pub pii_type: String,
    /// Written to slip past filters (the label has a `form`).
    pub obfuscated: bool,
}

/// The structured spans of a generated world (DIR/labels/messages.jsonl and
/// account_ids.jsonl), cut from `bodies` (message id → body as stored).
///
/// # Panics
/// On labels that are not the generator's (a test helper over files it just wrote).
pub fn structured_spans(world: &Path, bodies: &HashMap<i64, String>) -> Vec<StructuredSpan> {
    let mut out = Vec::new();
    for file in ["messages.jsonl", "account_ids.jsonl"] {
        let path = world.join("labels").join(file);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for line in text.lines() {
            let Some(id) = field(line, "\"message_id\":").and_then(|v| v.parse::<i64>().ok()) else {
                continue;
            };
            let Some(body) = bodies.get(&id) else { continue };
            let body: Vec<char> = body.chars().collect();
            for entity in line.split("{\"type\":\"").skip(1) {
                let pii_type = entity.split('"').next().unwrap_or_default();
                if !STRUCTURED.contains(&pii_type) {
                    continue;
                }
                let number = |name: &str| field(entity, name).and_then(|v| v.parse::<usize>().ok());
                let (Some(start), Some(end)) = (number("\"start\":"), number("\"end\":")) else {
                    continue;
                };
                out.push(StructuredSpan {
                    message: id,
                    value: body.get(start..end).unwrap_or_default().iter().collect(),
                    pii_type: pii_type.to_owned(),
                    obfuscated: entity.contains("\"form\":"),
                });
            }
        }
    }
    out
}

/// The digits after `name` in a label line (the generator writes no spaces).
fn field<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    let rest = &text[text.find(name)? + name.len()..];
    Some(&rest[..rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len())])
}

/// Full-width forms folded to ASCII, kanji and Thai digits to ASCII digits, and the marks that
/// make a keycap digit (U+FE0F, U+20E3) dropped: every form the generator writes digits in.
pub fn folded(text: &str) -> String {
    const KANJI: [char; 10] = ['〇', '一', '二', '三', '四', '五', '六', '七', '八', '九'];
    text.chars()
        .filter(|c| !matches!(c, '\u{FE0F}' | '\u{20E3}'))
        .map(|c| match c {
            '！'..='～' => char::from_u32(c as u32 - 0xFF01 + 0x21).unwrap_or(c),
            '๐'..='๙' => char::from_u32(c as u32 - '๐' as u32 + '0' as u32).unwrap_or(c),
            _ => KANJI
                .iter()
                .position(|k| *k == c)
                .map_or(c, |d| char::from(b'0' + d as u8)),
        })
        .collect()
}

/// Whether `span` survives in `seen`, the body as the reader sees it (see the module).
pub fn survives(span: &StructuredSpan, seen: &str) -> bool {
    if seen.contains(span.value.as_str()) {
        return true;
    }
    let seen = folded(seen);
    let value = folded(&span.value);
    let digits: Vec<u8> = value.bytes().filter(u8::is_ascii_digit).collect();
    let runs: Vec<&[u8]> = seen
        .split(|c: char| !c.is_ascii_digit())
        .filter(|r| r.len() >= 4)
        .map(str::as_bytes)
        .collect();
    if digits
        .windows(4)
        .any(|w| runs.iter().any(|r| r.windows(4).any(|x| x == w)))
    {
        return true;
    }
    match span.pii_type.as_str() {
        "EMAIL" => {
            let local = ["@", " ", "(", "[", "アット", "あっと", "艾特"]
                .iter()
                .fold(value.as_str(), |v, at| v.split(at).next().unwrap_or(v));
            local.chars().count() >= 3 && seen.contains(local)
        }
        "ACCOUNT_ID" => seen.contains(value.as_str()),
        _ => false,
    }
}

/// Survivors of `spans` in `seen` (message id → body as read): the count, and one line per
/// type (`PHONE (obfuscated): 1 of 240`).
pub fn count_survivors(spans: &[StructuredSpan], seen: &HashMap<i64, String>) -> (usize, Vec<String>) {
    let mut per: std::collections::BTreeMap<(&str, bool), (usize, usize)> = Default::default();
    let mut survived = 0;
    for s in spans {
        let hit = seen.get(&s.message).is_some_and(|b| survives(s, b));
        survived += usize::from(hit);
        let e = per.entry((s.pii_type.as_str(), s.obfuscated)).or_default();
        e.0 += usize::from(hit);
        e.1 += 1;
    }
    let lines = per
        .into_iter()
        .map(|((t, o), (k, n))| format!("{t}{}: {k} of {n}", if o { " (obfuscated)" } else { "" }))
        .collect();
    (survived, lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(pii_type: &str, value: &str) -> StructuredSpan {
        StructuredSpan {
            message: 1,
            value: value.into(),
            pii_type: pii_type.into(),
            obfuscated: true,
        }
    }

    #[test]
    fn survival_is_counted_conservatively() {
        let phone = span("PHONE", "〇九〇ー一二三四ー五六七八");
        assert!(survives(&phone, "電話 〇九〇ー一二三四ー五六七八"));
        assert!(survives(&phone, "電話 <PHONE>ー五六七八"), "four digits left");
        assert!(survives(&phone, "call 1234"), "folded to ASCII");
        assert!(!survives(&phone, "電話 <PHONE> 12/28"));
        let keycap = span(
            "PHONE",
            "0\u{FE0F}\u{20E3}9\u{FE0F}\u{20E3}0\u{FE0F}\u{20E3}1\u{FE0F}\u{20E3}",
        );
        assert!(survives(&keycap, "x 0901 y"));
        let email = span("EMAIL", "ｔａｒｏ８５＠ｇｍａｉｌ．ｃｏｍ");
        assert!(survives(&email, "mail taro85 at <EMAIL>"));
        assert!(!survives(&email, "mail <EMAIL>"));
        let spelled = span("EMAIL", "hana.sato [at] gmail [dot] com");
        assert!(survives(&spelled, "<EMAIL> hana.sato"));
        let handle = span("ACCOUNT_ID", "taro_0123");
        assert!(survives(&handle, "LINE: taro_0123"));
        assert!(!survives(&handle, "LINE: <ACCOUNT>"));
    }

    #[test]
    fn spans_are_read_from_both_label_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("labels")).unwrap();
        std::fs::write(
            dir.path().join("labels/messages.jsonl"),
            "{\"message_id\":1,\"entities\":[{\"type\":\"PERSON\",\"start\":0,\"end\":2},{\"type\":\"PHONE\",\"start\":3,\"end\":6,\"form\":\"keycap\"}]}\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("labels/account_ids.jsonl"),
            "{\"message_id\":2,\"entities\":[{\"type\":\"ACCOUNT_ID\",\"start\":6,\"end\":9,\"form\":\"line-id\"}]}\n",
        )
        .unwrap();
        let bodies = HashMap::from([(1, "山田 090".to_owned()), (2, "LINE: abc".to_owned())]);
        let spans = structured_spans(dir.path(), &bodies);
        assert_eq!(
            spans,
            vec![
                StructuredSpan {
                    message: 1,
                    value: "090".into(),
                    pii_type: "PHONE".into(),
                    obfuscated: true
                },
                StructuredSpan {
                    message: 2,
                    value: "abc".into(),
                    pii_type: "ACCOUNT_ID".into(),
                    obfuscated: true
                },
            ]
        );
    }
}
