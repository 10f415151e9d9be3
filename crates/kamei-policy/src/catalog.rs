//! catalog.toml: the tables, whose data each row is, and what each column holds.

use std::collections::{BTreeMap, HashSet};

use kamei_core::{
    Category, ColumnType, Jurisdiction, JurisdictionSource, Level, RedactionProfile, Subject, Transform,
    TransformChoice,
};
use serde::Deserialize;
use toml::Spanned;

use crate::error::Problem;
use crate::source::Source;

/// The validated catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalog {
    /// The jurisdictions decisions are compiled for, in file order.
    pub jurisdictions: Vec<Jurisdiction>,
    /// The subject directory: the table whose subject key and jurisdiction column map any
    /// subject key to its jurisdiction (`users`), for subjects whose jurisdiction is not in
    /// their own row.
    pub directory: Option<String>,
    /// The smallest equivalence class a masked reader may see over a table's
    /// quasi-identifiers (k-anonymity); exports check it by default.
    pub min_k: u64,
    /// The tables, in file order.
    pub tables: Vec<CatalogTable>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogTable {
    pub name: String,
    /// The data subjects of a row, each a subject-key column with the source of its
    /// jurisdiction; the first is the table's own `subject_key`, the default owner of its
    /// columns.
    pub subjects: Vec<Subject>,
    /// Every column, in the data's order.
    pub columns: Vec<CatalogColumn>,
    /// The columns that identify in combination (birth date, gender, postal code, address):
    /// `quasi_identifiers`, else every column of those categories.
    pub quasi_identifiers: Vec<String>,
    /// The kamei.toml source the table is read from (`source = "NAME"`); needed only where
    /// several sources are configured.
    pub source: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogColumn {
    pub name: String,
    pub category: Category,
    /// The transforms chosen for this column: its own choice, else its category's
    /// (`[transforms.CATEGORY]`), else none (the defaults of DESIGN.md apply).
    pub transforms: TransformChoice,
    /// The SQL type the data must have (`type`); required for subject keys.
    pub data_type: Option<ColumnType>,
    /// Indices into the table's `subjects`: whose data this column is.
    pub subjects: Vec<usize>,
}

impl Catalog {
    pub fn table(&self, name: &str) -> Option<&CatalogTable> {
        self.tables.iter().find(|t| t.name == name)
    }

    /// The directory table with its key and jurisdiction columns, when one is configured.
    pub fn directory_table(&self) -> Option<(&CatalogTable, &str, &str)> {
        let table = self.table(self.directory.as_deref()?)?;
        match &table.subjects.first()?.jurisdiction {
            JurisdictionSource::Column(c) => Some((table, table.subject_key(), c)),
            JurisdictionSource::Fixed(_) | JurisdictionSource::Directory => None,
        }
    }

    /// The category a column that the catalog does not list is treated as: the strictest,
    /// free text that may hold personal data of any type.
    pub const UNLISTED_CATEGORY: Category = Category::FreeText;
}

impl CatalogTable {
    /// The table's own subject key (the first subject).
    pub fn subject_key(&self) -> &str {
        self.subjects.first().map_or("", |s| s.key.as_str())
    }

    pub fn column(&self, name: &str) -> Option<&CatalogColumn> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// The default smallest equivalence class (k) of a masked view.
pub const DEFAULT_MIN_K: u64 = 5;

/// The categories that identify a person in combination, the default quasi-identifiers.
fn is_quasi_identifier(category: Category) -> bool {
    use kamei_core::PiiType;
    matches!(
        category,
        Category::QuasiIdentifier
            | Category::Pii(PiiType::DateOfBirth | PiiType::PostalCode | PiiType::Address)
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    jurisdictions: Vec<Spanned<String>>,
    directory: Option<Spanned<String>>,
    k_anonymity: Option<Spanned<i64>>,
    /// Per category name, the transforms that replace its defaults.
    #[serde(default)]
    transforms: BTreeMap<Spanned<String>, ChoiceFile>,
    #[serde(default)]
    tables: Vec<TableFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChoiceFile {
    masked: Option<Spanned<String>>,
    pseudonymized: Option<Spanned<String>>,
    /// `balanced` or `recall` (FREE_TEXT only): how free text is searched before redaction.
    profile: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TableFile {
    name: Spanned<String>,
    subject_key: Spanned<String>,
    jurisdiction_column: Option<Spanned<String>>,
    jurisdiction: Option<Spanned<String>>,
    #[serde(default)]
    subjects: Vec<SubjectFile>,
    quasi_identifiers: Option<Vec<Spanned<String>>>,
    source: Option<String>,
    columns: Vec<ColumnFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SubjectFile {
    key: Spanned<String>,
    jurisdiction_column: Option<Spanned<String>>,
    jurisdiction: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ColumnFile {
    name: Spanned<String>,
    category: Spanned<String>,
    masked: Option<Spanned<String>>,
    pseudonymized: Option<Spanned<String>>,
    profile: Option<Spanned<String>>,
    #[serde(rename = "type")]
    data_type: Option<Spanned<String>>,
    subjects: Option<Vec<Spanned<String>>>,
}

/// A column's or a category's `masked`, `pseudonymized` and `profile` fields.
type ChoiceFields<'a> = (
    &'a Option<Spanned<String>>,
    &'a Option<Spanned<String>>,
    &'a Option<Spanned<String>>,
);

/// Checks one `masked = …` / `pseudonymized = …` / `profile = …` choice: a known transform
/// that reveals no more than its level and fits the category, and a redaction profile only
/// for free text. `whose` names the place for the message.
fn parse_choice(
    source: &Source<'_>,
    problems: &mut Vec<Problem>,
    (masked, pseudonymized, profile): ChoiceFields<'_>,
    category: Category,
    whose: &str,
) -> TransformChoice {
    let mut one = |field: &Option<Spanned<String>>, level: Level| -> Option<Transform> {
        let field = field.as_ref()?;
        let at = field.span().start;
        match field.get_ref().parse::<Transform>() {
            Err(e) => problems.push(source.problem_at(at, format!("field `{level}` of {whose}: {e}"))),
            Ok(t) if !t.allowed_at(level) => problems.push(source.problem_at(
                at,
                format!("field `{level}` of {whose}: `{t}` reveals more than the `{level}` level allows"),
            )),
            Ok(t) if !t.fits(category) => problems.push(source.problem_at(
                at,
                format!("field `{level}` of {whose}: `{t}` does not apply to category `{category}`"),
            )),
            Ok(t) => return Some(t),
        }
        None
    };
    let masked = one(masked, Level::Masked);
    let pseudonymized = one(pseudonymized, Level::Pseudonymized);
    let profile = profile.as_ref().and_then(|field| {
        let at = field.span().start;
        match field.get_ref().parse::<RedactionProfile>() {
            Err(e) => problems.push(source.problem_at(at, format!("field `profile` of {whose}: {e}"))),
            Ok(_) if category != Category::FreeText => problems.push(source.problem_at(
                at,
                format!(
                    "field `profile` of {whose}: a redaction profile applies only to category \
                     `FREE_TEXT`, not `{category}`; remove it"
                ),
            )),
            Ok(p) => return Some(p),
        }
        None
    });
    TransformChoice {
        masked,
        pseudonymized,
        profile,
    }
}

/// Whether `name` is usable as a table or column identifier.
pub(crate) fn is_identifier(name: &str) -> bool {
    !name.is_empty() && name.len() <= 128 && name.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

pub(crate) fn parse(source: &Source<'_>, problems: &mut Vec<Problem>) -> Option<Catalog> {
    let file: CatalogFile = match source.parse_toml() {
        Ok(f) => f,
        Err(p) => {
            problems.push(p);
            return None;
        }
    };
    let before = problems.len();
    let mut jurisdictions = Vec::new();
    for j in &file.jurisdictions {
        match j.get_ref().parse::<Jurisdiction>() {
            Ok(code) if jurisdictions.contains(&code) => problems.push(source.problem_at(
                j.span().start,
                format!("field `jurisdictions`: `{code}` is listed twice"),
            )),
            Ok(code) => jurisdictions.push(code),
            Err(e) => problems.push(source.problem_at(j.span().start, format!("field `jurisdictions`: {e}"))),
        }
    }
    if file.jurisdictions.is_empty() {
        problems.push(source.problem(
            "field `jurisdictions` is empty; list the data subjects' jurisdictions, e.g. [\"JP\"]".into(),
        ));
    }
    let mut by_category: BTreeMap<Category, TransformChoice> = BTreeMap::new();
    for (name, choice) in &file.transforms {
        match name.get_ref().parse::<Category>() {
            Ok(category) => {
                let whose = format!("`[transforms.{category}]`");
                let fields = (&choice.masked, &choice.pseudonymized, &choice.profile);
                let chosen = parse_choice(source, problems, fields, category, &whose);
                by_category.insert(category, chosen);
            }
            Err(e) => problems.push(source.problem_at(name.span().start, format!("table `transforms`: {e}"))),
        }
    }
    let mut tables = Vec::new();
    let mut table_names = HashSet::new();
    for t in file.tables {
        if let Some(table) = parse_table(source, problems, t, &by_category, &mut table_names) {
            tables.push(table);
        }
    }
    let directory = file.directory.as_ref().map(|d| d.get_ref().clone());
    check_directory(source, problems, file.directory.as_ref(), &tables);
    let min_k = match &file.k_anonymity {
        None => DEFAULT_MIN_K,
        Some(k) => match u64::try_from(*k.get_ref()) {
            Ok(k) if k >= 1 => k,
            _ => {
                problems.push(source.problem_at(
                    k.span().start,
                    "field `k_anonymity`: must be at least 1 (the smallest class a masked reader may see)".into(),
                ));
                DEFAULT_MIN_K
            }
        },
    };
    (problems.len() == before).then_some(Catalog {
        jurisdictions,
        directory,
        min_k,
        tables,
    })
}

fn at(s: &Spanned<String>) -> usize {
    s.span().start
}

/// One `[[tables]]` entry, checked: names, columns, subjects and whose data each column is.
fn parse_table(
    source: &Source<'_>,
    problems: &mut Vec<Problem>,
    t: TableFile,
    by_category: &BTreeMap<Category, TransformChoice>,
    table_names: &mut HashSet<String>,
) -> Option<CatalogTable> {
    let name = t.name.get_ref().clone();
    if !is_identifier(&name) {
        problems.push(source.problem_at(
            at(&t.name),
            "field `name` of a table: not a valid table name (letters, digits, `_`, `-`)".into(),
        ));
        return None;
    }
    if !table_names.insert(name.clone()) {
        problems.push(source.problem_at(at(&t.name), format!("table `{name}` is listed twice")));
        return None;
    }
    if t.columns.is_empty() {
        problems.push(source.problem_at(at(&t.name), format!("table `{name}` lists no columns")));
    }
    let column_names: HashSet<&str> = t.columns.iter().map(|c| c.name.get_ref().as_str()).collect();
    let is_column = |s: &Spanned<String>, field: &str, problems: &mut Vec<Problem>| -> bool {
        let ok = column_names.contains(s.get_ref().as_str());
        if !ok {
            problems.push(source.problem_at(
                at(s),
                format!(
                    "field `{field}` of table `{name}`: `{}` is not one of its columns",
                    s.get_ref()
                ),
            ));
        }
        ok
    };

    // The subjects: the table's own first, then the declared others.
    let mut subjects: Vec<Subject> = Vec::new();
    let mut subject_spans: Vec<usize> = Vec::new();
    let own = (&t.subject_key, &t.jurisdiction_column, &t.jurisdiction);
    let others = t
        .subjects
        .iter()
        .map(|s| (&s.key, &s.jurisdiction_column, &s.jurisdiction));
    for (i, (key, column, fixed)) in std::iter::once(own).chain(others).enumerate() {
        let field = if i == 0 { "subject_key" } else { "subjects" };
        if !is_column(key, field, problems) {
            continue;
        }
        if subjects.iter().any(|s| s.key == *key.get_ref()) {
            problems.push(source.problem_at(
                at(key),
                format!("subject `{}` of table `{name}` is listed twice", key.get_ref()),
            ));
            continue;
        }
        let whose = if i == 0 {
            format!("table `{name}`")
        } else {
            format!("subject `{}` of table `{name}`", key.get_ref())
        };
        let jurisdiction = match (column, fixed) {
            (Some(col), None) => {
                if !is_column(col, "jurisdiction_column", problems) {
                    continue;
                }
                JurisdictionSource::Column(col.get_ref().clone())
            }
            (None, Some(fixed)) if fixed.get_ref() == "directory" => JurisdictionSource::Directory,
            (None, Some(fixed)) => match fixed.get_ref().parse::<Jurisdiction>() {
                Ok(j) => JurisdictionSource::Fixed(j),
                Err(e) => {
                    problems.push(source.problem_at(
                        at(fixed),
                        format!("field `jurisdiction` of {whose}: {e}, or \"directory\""),
                    ));
                    continue;
                }
            },
            (Some(_), Some(fixed)) => {
                problems.push(source.problem_at(
                    at(fixed),
                    format!("{whose} has both `jurisdiction_column` and `jurisdiction`; keep one"),
                ));
                continue;
            }
            (None, None) => {
                problems.push(source.problem_at(
                    at(key),
                    format!(
                        "{whose} needs `jurisdiction_column` (the column holding the subject's \
                         jurisdiction), `jurisdiction = \"directory\"` (looked up by key in the \
                         subject directory) or a fixed `jurisdiction`"
                    ),
                ));
                continue;
            }
        };
        subjects.push(Subject {
            key: key.get_ref().clone(),
            jurisdiction,
        });
        subject_spans.push(at(key));
    }

    let mut columns = Vec::new();
    let mut seen = HashSet::new();
    for c in &t.columns {
        let cname = c.name.get_ref();
        if !is_identifier(cname) {
            problems.push(source.problem_at(
                at(&c.name),
                format!("field `name` of a column of table `{name}`: not a valid column name"),
            ));
            continue;
        }
        if !seen.insert(cname.clone()) {
            problems.push(source.problem_at(
                at(&c.name),
                format!("column `{cname}` of table `{name}` is listed twice"),
            ));
            continue;
        }
        let category = match c.category.get_ref().parse::<Category>() {
            Ok(category) => category,
            Err(e) => {
                problems.push(source.problem_at(
                    at(&c.category),
                    format!("field `category` of column `{cname}` in table `{name}`: {e}"),
                ));
                continue;
            }
        };
        let whose = format!("column `{cname}` in table `{name}`");
        let fields = (&c.masked, &c.pseudonymized, &c.profile);
        let own = parse_choice(source, problems, fields, category, &whose);
        let inherited = by_category.get(&category).copied().unwrap_or_default();
        let data_type = match &c.data_type {
            None => None,
            Some(ty) => match ty.get_ref().parse::<ColumnType>() {
                Ok(ty) => Some(ty),
                Err(e) => {
                    problems.push(source.problem_at(at(ty), format!("field `type` of {whose}: {e}")));
                    None
                }
            },
        };
        let own_subject = subjects.iter().position(|s| s.key == *cname);
        // Fail closed: a key that links a row to a person is read at the level of that
        // person's jurisdiction, so it must be a declared subject, never a neighbour's column.
        if category == Category::SubjectKey {
            if own_subject.is_none() {
                problems.push(source.problem_at(
                    at(&c.name),
                    format!(
                        "{whose} is a SUBJECT_KEY but not a subject of the table; add \
                         `{{ key = \"{cname}\", jurisdiction = \"directory\" }}` (or its \
                         `jurisdiction_column`) to the table's `subjects`"
                    ),
                ));
            }
            if !matches!(
                data_type,
                Some(ColumnType::Bigint | ColumnType::Integer | ColumnType::Text)
            ) {
                problems.push(source.problem_at(
                    at(&c.name),
                    format!(
                        "{whose} is a SUBJECT_KEY without `type = \"BIGINT\"`, `\"INTEGER\"` or \
                         `\"TEXT\"`; give its type so every pseudonym keeps it"
                    ),
                ));
            }
        } else if let Some(i) = own_subject {
            problems.push(source.problem_at(
                subject_spans.get(i).copied().unwrap_or(0),
                format!("subject key `{cname}` of table `{name}` must be of category SUBJECT_KEY"),
            ));
        }
        let owners = match (&c.subjects, own_subject) {
            (Some(list), _) => {
                let mut owners = Vec::new();
                for s in list {
                    match subjects.iter().position(|x| x.key == *s.get_ref()) {
                        Some(i) if !owners.contains(&i) => owners.push(i),
                        Some(_) => {}
                        None => problems.push(source.problem_at(
                            at(s),
                            format!(
                                "field `subjects` of {whose}: `{}` is not a subject of the table",
                                s.get_ref()
                            ),
                        )),
                    }
                }
                if list.is_empty() {
                    problems.push(source.problem_at(
                        at(&c.name),
                        format!("field `subjects` of {whose} is empty; name whose data it is"),
                    ));
                }
                owners
            }
            (None, Some(i)) => vec![i],
            (None, None) => vec![0],
        };
        columns.push(CatalogColumn {
            name: cname.clone(),
            category,
            transforms: own.or(inherited),
            data_type,
            subjects: owners,
        });
    }
    let quasi_identifiers = match &t.quasi_identifiers {
        Some(list) => list
            .iter()
            .filter(|q| is_column(q, "quasi_identifiers", problems))
            .map(|q| q.get_ref().clone())
            .collect(),
        None => columns
            .iter()
            .filter(|c| is_quasi_identifier(c.category))
            .map(|c| c.name.clone())
            .collect(),
    };
    (subjects.len() == 1 + t.subjects.len()).then_some(CatalogTable {
        name,
        subjects,
        columns,
        quasi_identifiers,
        source: t.source.clone(),
    })
}

/// A subject whose jurisdiction is `directory` needs the catalog's `directory`, a table whose
/// own subject has a jurisdiction column.
fn check_directory(
    source: &Source<'_>,
    problems: &mut Vec<Problem>,
    directory: Option<&Spanned<String>>,
    tables: &[CatalogTable],
) {
    if let Some(d) = directory {
        let ok = tables.iter().find(|t| t.name == *d.get_ref()).is_some_and(|t| {
            matches!(
                t.subjects.first().map(|s| &s.jurisdiction),
                Some(JurisdictionSource::Column(_))
            )
        });
        if !ok {
            problems.push(source.problem_at(
                at(d),
                format!(
                    "field `directory`: `{}` is not a table of the catalog whose subject has a \
                     `jurisdiction_column`",
                    d.get_ref()
                ),
            ));
        }
        return;
    }
    for t in tables {
        for s in &t.subjects {
            if s.jurisdiction == JurisdictionSource::Directory {
                problems.push(source.problem(format!(
                    "subject `{}` of table `{}` takes its jurisdiction from the directory, but the \
                     catalog names none; add `directory = \"users\"` (the table mapping subject keys \
                     to jurisdictions) at the top",
                    s.key, t.name
                )));
            }
        }
    }
}
