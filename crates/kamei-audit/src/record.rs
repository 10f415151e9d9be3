//! Audit records: what the gateway (or `kamei audit append`) hands in, and the canonical leaf
//! bytes the log stores and hashes.
//!
//! # Leaf encoding (version 1)
//!
//! A leaf is one JSON object, UTF-8, with no whitespace, keys sorted bytewise at every level,
//! integers in decimal, strings escaped as serde_json does (`"`, `\` and control characters
//! only). Its keys:
//!
//! | key | value |
//! |---|---|
//! | `action` | `query`, `export`, `detokenize` or `denied` |
//! | `client_addr` | the client's IP address (or address:port) in Rust's canonical text form |
//! | `country` | the principal's country, ISO 3166-1 alpha-2 |
//! | `failure` | optional: why the statement stopped before its end (a source that failed, a limit), without the underlying message |
//! | `opens` | only in a closing record: the index of the opening record it completes |
//! | `org` | the principal's organisation |
//! | `policies` | the deciding policy ids (for denials), sorted, distinct |
//! | `principal` | the principal's name |
//! | `purpose` | optional: the purpose the client declared (`SET kamei.purpose`) |
//! | `rows` | rows returned or exported |
//! | `statement` | the statement with every string and number literal replaced by `?`, comments removed |
//! | `subjects` | `{"count": n, "digest": "<hex SHA-256 of the subject index entry>"}` |
//! | `tables` | `{table: {column: level}}`, the level each column was read at |
//! | `ticket` | optional: the ticket the client declared (`SET kamei.ticket`) |
//! | `time` | UTC, `YYYY-MM-DDTHH:MM:SS[.fraction]Z`, fraction without trailing zeros |
//! | `v` | `1` |
//!
//! No field holds a cell value: subjects appear only as a count and a digest, and the
//! statement's literals (where personal data would be) are gone.

use crate::redact::redact_statement;
use crate::subjects::SubjectSet;
use crate::time::Timestamp;
use kamei_core::Level;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// What a record's statement did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Query,
    Export,
    Detokenize,
    Denied,
    /// The gateway started with, or reloaded, a configuration; `policies` lists the policy ids
    /// in force from this record on. No data left.
    Configure,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Query => "query",
            Action::Export => "export",
            Action::Detokenize => "detokenize",
            Action::Denied => "denied",
            Action::Configure => "configure",
        }
    }
}

/// One column read, as the input names it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnRead {
    pub table: String,
    pub column: String,
    pub level: Level,
}

/// One group of subjects in an input record: their jurisdiction, the level read, the keys.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubjectGroup {
    #[serde(default)]
    pub jurisdiction: Option<String>,
    pub level: Level,
    pub keys: Vec<u64>,
}

impl fmt::Debug for SubjectGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SubjectGroup({:?}, {}, {} keys)",
            self.jurisdiction,
            self.level,
            self.keys.len()
        )
    }
}

/// The subjects of an input record: a plain list (read at the record's most revealing level,
/// jurisdiction unknown), a list per level, or groups with their jurisdiction:
/// `[{"jurisdiction": "JP", "level": "pseudonymized", "keys": [17, 42]}]`.
#[derive(Clone, Deserialize)]
#[serde(untagged)]
pub enum SubjectsInput {
    List(Vec<u64>),
    Groups(Vec<SubjectGroup>),
    PerLevel(BTreeMap<Level, Vec<u64>>),
}

impl fmt::Debug for SubjectsInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Subject keys are references to people: print how many, not which.
        let n = match self {
            SubjectsInput::List(v) => v.len(),
            SubjectsInput::PerLevel(m) => m.values().map(Vec::len).sum(),
            SubjectsInput::Groups(g) => g.iter().map(|g| g.keys.len()).sum(),
        };
        write!(f, "SubjectsInput({n} keys)")
    }
}

/// A record as the gateway or `kamei audit append` supplies it (one JSON object).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordInput {
    pub time: String,
    pub principal: String,
    pub org: String,
    pub country: String,
    pub client_addr: String,
    pub action: Action,
    pub statement: String,
    #[serde(default)]
    pub columns: Vec<ColumnRead>,
    #[serde(default)]
    pub rows: u64,
    #[serde(default)]
    pub policies: Vec<String>,
    #[serde(default)]
    pub subjects: Option<SubjectsInput>,
    #[serde(default)]
    pub purpose: Option<String>,
    #[serde(default)]
    pub ticket: Option<String>,
    /// In a closing record: the index of the opening record it completes.
    #[serde(default)]
    pub opens: Option<u64>,
    /// Why the statement stopped before its end, if it did.
    #[serde(default)]
    pub failure: Option<String>,
}

/// The subject reference a record keeps: how many subjects, and the digest that binds the
/// record to its subject index entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubjectRef {
    pub count: u64,
    pub digest: String,
}

/// The canonical record, exactly the leaf's fields (declared in sorted key order, so serde_json
/// writes them sorted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
///
/// INVARIANT (no personal data, digest bound to the subjects): the fields are private and a
/// record is built only by [`RecordInput::into_record`], which redacts the statement's literals
/// and computes `subjects` from the [`SubjectSet`] it returns beside the record, or read back
/// from a canonical leaf. [`crate::AuditLog::append`] refuses a set whose digest differs.
pub struct AuditRecord {
    pub(crate) action: Action,
    pub(crate) client_addr: String,
    pub(crate) country: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) failure: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) opens: Option<u64>,
    pub(crate) org: String,
    pub(crate) policies: Vec<String>,
    pub(crate) principal: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) purpose: Option<String>,
    pub(crate) rows: u64,
    pub(crate) statement: String,
    pub(crate) subjects: SubjectRef,
    pub(crate) tables: BTreeMap<String, BTreeMap<String, Level>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) ticket: Option<String>,
    pub(crate) time: String,
    pub(crate) v: u32,
}

/// Why an input record was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    #[error("record is not valid JSON of the expected shape: {0}")]
    Shape(String),
    #[error("field `{field}`: {what}")]
    Field { field: &'static str, what: String },
    #[error("the record is {0} bytes; a log entry holds at most 65535")]
    TooLarge(usize),
}

fn field(field: &'static str, what: impl Into<String>) -> RecordError {
    RecordError::Field {
        field,
        what: what.into(),
    }
}

/// A declared purpose is free text a person typed: kept short and without the shapes personal
/// data takes most often (an address, a number), since the log keeps no personal data.
/// A run of 5 digits is refused, and so is a number written in groups (`+81 90 1234 5678`,
/// a card number in fours) of 9 digits or more; a date (`2026-02-16`) passes.
pub fn purpose_ok(s: &str) -> bool {
    !s.trim().is_empty()
        && s.chars().count() <= 200
        && !s.contains(['@', '＠'])
        && !holds_number(s, 5)
        && !s.chars().any(char::is_control)
}

/// A ticket is an identifier in a tracker: `INC-2041`, `JIRA:SEC-12345`, `#4411`. Nine digits
/// or more, in a run or in groups, are a phone number or a My Number rather than a ticket.
pub fn ticket_ok(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.:/#-".contains(&b))
        && !holds_number(s, 9)
}

/// Whether `s` holds a run of `run` digits, or 9 digits or more with nothing but spaces and
/// punctuation between them (`090-1234-5678`, `(03) 1234 5678`, `1234#5678#9012`): only a
/// letter ends a number.
fn holds_number(s: &str, run: usize) -> bool {
    let (mut digits, mut grouped) = (0, 0);
    s.chars().any(|c| {
        if c.is_numeric() {
            digits += 1;
            grouped += 1;
        } else if c.is_alphabetic() {
            (digits, grouped) = (0, 0);
        } else {
            digits = 0;
        }
        digits >= run || grouped >= 9
    })
}

fn name_ok(s: &str) -> bool {
    !s.is_empty() && s.len() <= 256 && !s.chars().any(char::is_control)
}

/// The principal of `configure` records: the server is the actor when a configuration is
/// loaded or reloaded. Reports find the configurations in force by it.
pub const CONFIGURER: &str = "kamei serve";

impl RecordInput {
    /// A `configure` record: the gateway started with, or reloaded, a configuration. The
    /// server is the actor, so the record names it (principal `kamei serve`, country `ZZ`:
    /// none) and reads no column; `policies` are the ids in force from this record on.
    pub fn configure(time: String, statement: String, policies: Vec<String>) -> RecordInput {
        RecordInput {
            time,
            principal: CONFIGURER.into(),
            org: "kamei".into(),
            country: "ZZ".into(),
            client_addr: "127.0.0.1".into(),
            action: Action::Configure,
            statement,
            columns: Vec::new(),
            rows: 0,
            policies,
            subjects: None,
            purpose: None,
            ticket: None,
            opens: None,
            failure: None,
        }
    }

    /// Parses one JSON line.
    pub fn from_json(line: &str) -> Result<Self, RecordError> {
        // serde_json's message may quote a value; keep only its position and category.
        serde_json::from_str(line).map_err(|e| {
            RecordError::Shape(format!(
                "{:?} error at line {} column {}",
                e.classify(),
                e.line(),
                e.column()
            ))
        })
    }

    /// Validates and canonicalises the record and splits off its subject set.
    pub fn into_record(self) -> Result<(AuditRecord, SubjectSet), RecordError> {
        let time = Timestamp::parse(&self.time).map_err(|e| {
            field(
                "time",
                format!("{e}; expected RFC 3339 such as 2026-01-05T09:12:00Z"),
            )
        })?;
        for (name, value) in [("principal", &self.principal), ("org", &self.org)] {
            if !name_ok(value) {
                return Err(field(
                    name,
                    "must be 1 to 256 characters without control characters",
                ));
            }
        }
        if self.country.len() != 2 || !self.country.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(field("country", "must be an ISO 3166-1 alpha-2 code such as JP"));
        }
        let client_addr = canonical_addr(&self.client_addr)
            .ok_or_else(|| field("client_addr", "must be an IP address or address:port"))?;
        let mut tables: BTreeMap<String, BTreeMap<String, Level>> = BTreeMap::new();
        let mut top = None;
        for c in &self.columns {
            if !name_ok(&c.table) || !name_ok(&c.column) {
                return Err(field(
                    "columns",
                    "table and column names must be 1 to 256 characters",
                ));
            }
            let slot = tables
                .entry(c.table.clone())
                .or_default()
                .entry(c.column.clone())
                .or_insert(c.level);
            *slot = (*slot).max(c.level);
            top = top.max(Some(c.level));
        }
        let mut policies = BTreeSet::new();
        for p in &self.policies {
            if !name_ok(p) {
                return Err(field("policies", "policy ids must be 1 to 256 characters"));
            }
            policies.insert(p.clone());
        }
        let mut set = SubjectSet::default();
        match self.subjects {
            None => {}
            Some(SubjectsInput::List(keys)) if keys.is_empty() => {}
            Some(SubjectsInput::List(keys)) => {
                let level = match top {
                    Some(Level::Raw) => Level::Raw,
                    Some(Level::Masked) => Level::Masked,
                    Some(Level::Pseudonymized) => Level::Pseudonymized,
                    Some(Level::Denied) | None => {
                        return Err(field(
                            "subjects",
                            "a plain list needs a column read at a level other than denied; \
                                 give subjects per level instead",
                        ));
                    }
                };
                set.extend(level, keys);
            }
            Some(SubjectsInput::PerLevel(map)) => {
                for (level, keys) in map {
                    set.extend(level, keys);
                }
            }
            Some(SubjectsInput::Groups(groups)) => {
                for g in groups {
                    let code = match g.jurisdiction.as_deref() {
                        None => crate::subjects::UNKNOWN_JURISDICTION,
                        Some(j) if j.bytes().all(|b| b.is_ascii_uppercase()) && j.len() == 2 => {
                            <[u8; 2]>::try_from(j.as_bytes()).unwrap_or(crate::subjects::UNKNOWN_JURISDICTION)
                        }
                        Some(_) => {
                            return Err(field(
                                "subjects",
                                "a group's jurisdiction must be ISO 3166-1 alpha-2",
                            ));
                        }
                    };
                    set.extend_group((code, g.level), g.keys);
                }
            }
        }
        if let Some(p) = &self.purpose
            && !purpose_ok(p)
        {
            return Err(field(
                "purpose",
                "must be 1 to 200 characters of text without an @ or a number of 5 digits or more (no personal data)",
            ));
        }
        if let Some(t) = &self.ticket
            && !ticket_ok(t)
        {
            return Err(field(
                "ticket",
                "must be 1 to 64 letters, digits or _.:/#- without a number of 9 digits or more",
            ));
        }
        if let Some(f) = &self.failure
            && !purpose_ok(f)
        {
            return Err(field(
                "failure",
                "must be 1 to 200 characters of text without an @ or a number of 5 digits or more (no personal data)",
            ));
        }
        let record = AuditRecord {
            action: self.action,
            client_addr,
            country: self.country,
            failure: self.failure,
            opens: self.opens,
            org: self.org,
            policies: policies.into_iter().collect(),
            principal: self.principal,
            purpose: self.purpose,
            ticket: self.ticket,
            rows: self.rows,
            statement: redact_statement(&self.statement),
            subjects: SubjectRef {
                count: set.count(),
                digest: set.digest().to_hex(),
            },
            tables,
            time: time.to_string(),
            v: 1,
        };
        Ok((record, set))
    }
}

fn shape_error(e: serde_json::Error) -> RecordError {
    RecordError::Shape(format!(
        "{:?} error at line {} column {}",
        e.classify(),
        e.line(),
        e.column()
    ))
}

/// A parsed leaf is canonical when encoding it again gives exactly its bytes (sorted keys, no
/// whitespace, no duplicate keys, serde_json's escapes).
fn check_canonical(parsed: &impl Serialize, v: u32, bytes: &[u8]) -> Result<(), RecordError> {
    if v != 1 {
        return Err(field("v", "unknown record version"));
    }
    // Encoded into a buffer each thread keeps (a writer that compared piece by piece cost a
    // call per token, more than the copy).
    thread_local! {
        static AGAIN: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    let same = AGAIN.with_borrow_mut(|again| {
        again.clear();
        serde_json::to_writer(&mut *again, parsed).is_ok() && again.as_slice() == bytes
    });
    if !same {
        return Err(RecordError::Shape(
            "the bytes are not the canonical encoding".into(),
        ));
    }
    Ok(())
}

/// [`AuditRecord`] with its strings borrowed from the leaf where they need no unescaping.
/// INVARIANT (same encoding): the fields, their order and their types' encodings are those of
/// [`AuditRecord`], so a leaf re-encodes the same through either (tested below).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LeafRef<'a> {
    action: Action,
    #[serde(borrow)]
    client_addr: Cow<'a, str>,
    #[serde(borrow)]
    country: Cow<'a, str>,
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    failure: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    opens: Option<u64>,
    #[serde(borrow)]
    org: Cow<'a, str>,
    #[serde(borrow)]
    policies: Vec<Cow<'a, str>>,
    #[serde(borrow)]
    principal: Cow<'a, str>,
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    purpose: Option<Cow<'a, str>>,
    rows: u64,
    #[serde(borrow)]
    statement: Cow<'a, str>,
    #[serde(borrow)]
    subjects: SubjectRefRef<'a>,
    #[serde(borrow)]
    tables: BTreeMap<Cow<'a, str>, BTreeMap<Cow<'a, str>, Level>>,
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    ticket: Option<Cow<'a, str>>,
    #[serde(borrow)]
    time: Cow<'a, str>,
    v: u32,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SubjectRefRef<'a> {
    count: u64,
    #[serde(borrow)]
    digest: Cow<'a, str>,
}

fn canonical_addr(s: &str) -> Option<String> {
    if let Ok(ip) = s.parse::<std::net::IpAddr>() {
        return Some(ip.to_string());
    }
    s.parse::<std::net::SocketAddr>().ok().map(|a| a.to_string())
}

impl AuditRecord {
    pub fn action(&self) -> Action {
        self.action
    }

    pub fn client_addr(&self) -> &str {
        &self.client_addr
    }

    /// The principal's country.
    pub fn country(&self) -> &str {
        &self.country
    }

    pub fn org(&self) -> &str {
        &self.org
    }

    /// The deciding policy ids of a denial, or the policies in force of a `configure` record;
    /// sorted.
    pub fn policies(&self) -> &[String] {
        &self.policies
    }

    pub fn principal(&self) -> &str {
        &self.principal
    }

    /// In a closing record (the end of a streamed result), the index of the opening record it
    /// completes; `None` in every other record.
    pub fn opens(&self) -> Option<u64> {
        self.opens
    }

    /// Why the statement stopped before its end, if it did.
    pub fn failure(&self) -> Option<&str> {
        self.failure.as_deref()
    }

    /// The purpose the client declared (`SET kamei.purpose`), if any.
    pub fn purpose(&self) -> Option<&str> {
        self.purpose.as_deref()
    }

    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// The ticket the client declared (`SET kamei.ticket`), if any.
    pub fn ticket(&self) -> Option<&str> {
        self.ticket.as_deref()
    }

    /// The statement with its literals replaced by `?`.
    pub fn statement(&self) -> &str {
        &self.statement
    }

    /// How many subjects, and the digest of their subject index entry.
    pub fn subjects(&self) -> &SubjectRef {
        &self.subjects
    }

    /// `{table: {column: level}}`.
    pub fn tables(&self) -> &BTreeMap<String, BTreeMap<String, Level>> {
        &self.tables
    }

    /// UTC, RFC 3339.
    pub fn time(&self) -> &str {
        &self.time
    }

    /// The canonical leaf bytes (see the module docs).
    pub fn to_leaf(&self) -> Result<Vec<u8>, RecordError> {
        let bytes = serde_json::to_vec(self).map_err(|e| RecordError::Shape(e.to_string()))?;
        if bytes.len() > crate::tiles::MAX_ENTRY {
            return Err(RecordError::TooLarge(bytes.len()));
        }
        Ok(bytes)
    }

    /// Parses leaf bytes and checks they are canonical (re-encoding gives the same bytes).
    pub fn from_leaf(bytes: &[u8]) -> Result<Self, RecordError> {
        let record: AuditRecord = serde_json::from_slice(bytes).map_err(shape_error)?;
        check_canonical(&record, record.v, bytes)?;
        Ok(record)
    }

    /// What `verify` needs of a leaf: that it is a canonical record, and its subject count and
    /// digest. Reads the leaf's strings in place rather than copying them, which is most of
    /// what [`AuditRecord::from_leaf`] costs.
    pub(crate) fn check_leaf(bytes: &[u8]) -> Result<(u64, Option<crate::merkle::Hash>), RecordError> {
        let leaf: LeafRef<'_> = serde_json::from_slice(bytes).map_err(shape_error)?;
        check_canonical(&leaf, leaf.v, bytes)?;
        Ok((
            leaf.subjects.count,
            crate::merkle::Hash::from_hex(&leaf.subjects.digest),
        ))
    }

    /// The record's time (it was canonical when written; a tampered one reads as the epoch).
    pub fn timestamp(&self) -> Option<Timestamp> {
        Timestamp::parse(&self.time).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::Hash;

    const EXAMPLE: &str = r#"{"time": "2026-01-05T09:12:00Z", "principal": "cn_contractor", "org": "ldt-shanghai", "country": "CN", "client_addr": "127.0.0.1", "action": "query", "statement": "SELECT phone FROM users WHERE user_id = ?", "columns": [{"table": "users", "column": "phone", "level": "pseudonymized"}], "rows": 3, "subjects": [17, 42, 96]}"#;

    #[test]
    fn the_issue_example_becomes_a_canonical_leaf() {
        let (record, set) = RecordInput::from_json(EXAMPLE).unwrap().into_record().unwrap();
        assert_eq!(set.count(), 3);
        let leaf = String::from_utf8(record.to_leaf().unwrap()).unwrap();
        let expected = format!(
            "{{\"action\":\"query\",\"client_addr\":\"127.0.0.1\",\"country\":\"CN\",\"org\":\"ldt-shanghai\",\
             \"policies\":[],\"principal\":\"cn_contractor\",\"rows\":3,\
             \"statement\":\"SELECT phone FROM users WHERE user_id = ?\",\
             \"subjects\":{{\"count\":3,\"digest\":\"{}\"}},\"tables\":{{\"users\":{{\"phone\":\"pseudonymized\"}}}},\
             \"time\":\"2026-01-05T09:12:00Z\",\"v\":1}}",
            set.digest().to_hex()
        );
        assert_eq!(leaf, expected);
        assert_eq!(AuditRecord::from_leaf(leaf.as_bytes()).unwrap(), record);
        assert!(!leaf.contains("17"), "subject keys never appear in the leaf");
    }

    #[test]
    fn non_canonical_leaves_are_refused() {
        let (record, _) = RecordInput::from_json(EXAMPLE).unwrap().into_record().unwrap();
        let leaf = String::from_utf8(record.to_leaf().unwrap()).unwrap();
        let spaced = leaf.replacen(',', ", ", 1);
        assert!(AuditRecord::from_leaf(spaced.as_bytes()).is_err());
        let extra = leaf.replacen("{", "{\"x\":1,", 1);
        assert!(AuditRecord::from_leaf(extra.as_bytes()).is_err());
    }

    /// `verify` reads leaves through `check_leaf` and queries through `from_leaf`: both must
    /// accept exactly the same bytes.
    #[test]
    fn check_leaf_accepts_exactly_what_from_leaf_accepts() {
        let (record, _) = RecordInput::from_json(EXAMPLE).unwrap().into_record().unwrap();
        let leaf = String::from_utf8(record.to_leaf().unwrap()).unwrap();
        let mut escaped = record.clone();
        escaped.principal = "a\"b\\c\u{1}é".into();
        escaped.policies = vec!["p\"1".into(), "p2".into()];
        let escaped = String::from_utf8(escaped.to_leaf().unwrap()).unwrap();
        // Every optional field present: `verify` failed on the first record with a `failure`
        // when `LeafRef` lacked the field.
        let mut optional = record.clone();
        optional.failure = Some("source `world` failed while reading table `users`".into());
        optional.opens = Some(7);
        optional.purpose = Some("incident review".into());
        optional.ticket = Some("SEC-12".into());
        let optional = String::from_utf8(optional.to_leaf().unwrap()).unwrap();
        let mut variants = vec![
            leaf.clone(),
            escaped.clone(),
            optional.clone(),
            leaf.replacen(',', ", ", 1),
            leaf.replacen("{", "{\"x\":1,", 1),
            leaf.replacen("\"action\":\"query\",", "", 1)
                .replacen("}", ",\"action\":\"query\"}", 1),
            leaf.replacen("\"v\":1", "\"v\":1,\"v\":1", 1),
            leaf.replacen("\"v\":1", "\"v\":2", 1),
            leaf.replacen("\"rows\":", "\"rows\":0", 1),
            escaped.replacen("\\u0001", "\\u0001\\/", 1),
            escaped.replacen("é", "\\u00e9", 1),
            format!("{leaf} "),
            leaf[..leaf.len() - 1].to_owned(),
        ];
        variants.push(leaf.replacen("pseudonymized", "masked", 1));
        for (i, v) in variants.iter().enumerate() {
            let full = AuditRecord::from_leaf(v.as_bytes());
            let quick = AuditRecord::check_leaf(v.as_bytes());
            assert_eq!(full.is_ok(), quick.is_ok(), "variant {i}: {v}");
            if let Ok(r) = full {
                assert_eq!(
                    quick.unwrap(),
                    (r.subjects.count, Hash::from_hex(&r.subjects.digest))
                );
            }
        }
        for ok in [&leaf, &escaped, &optional] {
            assert!(AuditRecord::check_leaf(ok.as_bytes()).is_ok(), "{ok}");
        }
    }

    #[test]
    fn bad_fields_are_named_without_their_values() {
        let bad = EXAMPLE.replace("\"CN\"", "\"China-secret\"");
        let err = RecordInput::from_json(&bad)
            .unwrap()
            .into_record()
            .unwrap_err()
            .to_string();
        assert!(err.contains("`country`") && !err.contains("secret"), "{err}");
        let bad = EXAMPLE.replace("2026-01-05T09:12:00Z", "yesterday");
        let err = RecordInput::from_json(&bad)
            .unwrap()
            .into_record()
            .unwrap_err()
            .to_string();
        assert!(err.contains("`time`"), "{err}");
        let bad = EXAMPLE.replace(
            "\"rows\": 3",
            "\"rows\": 3, \"failure\": \"bad value +81 90 1234 5678\"",
        );
        let err = RecordInput::from_json(&bad)
            .unwrap()
            .into_record()
            .unwrap_err()
            .to_string();
        assert!(err.contains("`failure`") && !err.contains("1234"), "{err}");
        let bad = EXAMPLE.replace("\"rows\": 3", "\"email\": \"taro@example.com\"");
        let err = RecordInput::from_json(&bad).unwrap_err().to_string();
        assert!(!err.contains("taro"), "{err}");
    }

    #[test]
    fn purposes_failures_and_tickets_hold_no_number_that_could_be_personal() {
        for ok in [
            "fraud review",
            "incident 2026-02-16 (INC-2041)",
            "source `w2` failed while reading table `t`",
        ] {
            assert!(purpose_ok(ok), "{ok}");
        }
        for bad in [
            "call 0901234567",
            "+81 90 1234 5678",
            "card 4111 1111 1111 1111",
            "(03) 1234-5678",
            "+81 (90) 1234-5678",
            "090 - 1234 - 5678",
            "090  1234  5678",
            "taro@example.com",
            "",
            "a\nb",
        ] {
            assert!(!purpose_ok(bad), "{bad}");
        }
        for ok in ["INC-2041", "JIRA:SEC-12345", "#4411", "2026-02-16"] {
            assert!(ticket_ok(ok), "{ok}");
        }
        // A phone number or a My Number is not a ticket (a live review set them as tickets).
        for bad in [
            "050-4732-6333",
            "123456789012",
            "09012345678",
            "090_1234_5678",
            "090:1234:5678",
            "1234#5678#9012",
            "090--1234--5678",
            "a b",
            "",
        ] {
            assert!(!ticket_ok(bad), "{bad}");
        }
    }

    #[test]
    fn a_failure_is_kept_in_its_sorted_place_and_absent_when_none() {
        let failed = EXAMPLE.replace(
            "\"rows\": 3",
            "\"rows\": 3, \"failure\": \"source `world` failed while reading table `users`\"",
        );
        let (record, _) = RecordInput::from_json(&failed).unwrap().into_record().unwrap();
        let leaf = String::from_utf8(record.to_leaf().unwrap()).unwrap();
        assert!(
            leaf.contains(
                r#""country":"CN","failure":"source `world` failed while reading table `users`","org""#
            ),
            "{leaf}"
        );
        assert_eq!(AuditRecord::from_leaf(leaf.as_bytes()).unwrap(), record);
        let (plain, _) = RecordInput::from_json(EXAMPLE).unwrap().into_record().unwrap();
        assert!(
            !String::from_utf8(plain.to_leaf().unwrap())
                .unwrap()
                .contains("failure")
        );
    }

    #[test]
    fn subjects_per_level_and_denials() {
        let per_level = EXAMPLE.replace("[17, 42, 96]", r#"{"raw": [1, 2], "masked": [2, 3]}"#);
        let (record, set) = RecordInput::from_json(&per_level).unwrap().into_record().unwrap();
        assert_eq!(record.subjects.count, 3);
        assert_eq!(set.keys(Level::Masked), vec![2, 3]);
        let groups = EXAMPLE.replace(
            "[17, 42, 96]",
            r#"[{"jurisdiction": "JP", "level": "raw", "keys": [1]}, {"level": "masked", "keys": [2]}]"#,
        );
        let (_, set) = RecordInput::from_json(&groups).unwrap().into_record().unwrap();
        assert_eq!(set.iter().count(), 2);
        let denied = EXAMPLE.replace("\"pseudonymized\"", "\"denied\"");
        assert!(RecordInput::from_json(&denied).unwrap().into_record().is_err());
    }
}
