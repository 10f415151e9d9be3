//! catalog.toml: the tables, whose data each row is, and what each column holds.

use std::collections::{BTreeMap, HashSet};

use kamei_core::{Category, Jurisdiction, JurisdictionSource, Level, Transform, TransformChoice};
use serde::Deserialize;
use toml::Spanned;

use crate::error::Problem;
use crate::source::Source;

/// The validated catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalog {
    /// The jurisdictions decisions are compiled for, in file order.
    pub jurisdictions: Vec<Jurisdiction>,
    /// The tables, in file order.
    pub tables: Vec<CatalogTable>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogTable {
    pub name: String,
    /// The column whose value says whose data a row is.
    pub subject_key: String,
    pub jurisdiction: JurisdictionSource,
    /// Every column, in the data's order.
    pub columns: Vec<CatalogColumn>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogColumn {
    pub name: String,
    pub category: Category,
    /// The transforms chosen for this column: its own choice, else its category's
    /// (`[transforms.CATEGORY]`), else none (the defaults of DESIGN.md apply).
    pub transforms: TransformChoice,
}

impl Catalog {
    pub fn table(&self, name: &str) -> Option<&CatalogTable> {
        self.tables.iter().find(|t| t.name == name)
    }

    /// The category a column that the catalog does not list is treated as: the strictest,
    /// free text that may hold personal data of any type.
    pub const UNLISTED_CATEGORY: Category = Category::FreeText;
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    jurisdictions: Vec<Spanned<String>>,
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
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TableFile {
    name: Spanned<String>,
    subject_key: Spanned<String>,
    jurisdiction_column: Option<Spanned<String>>,
    jurisdiction: Option<Spanned<String>>,
    columns: Vec<ColumnFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ColumnFile {
    name: Spanned<String>,
    category: Spanned<String>,
    masked: Option<Spanned<String>>,
    pseudonymized: Option<Spanned<String>>,
}

/// Checks one `masked = …` / `pseudonymized = …` choice: a known transform that reveals no
/// more than its level and fits the category. `whose` names the place for the message.
fn parse_choice(
    source: &Source<'_>,
    problems: &mut Vec<Problem>,
    (masked, pseudonymized): (&Option<Spanned<String>>, &Option<Spanned<String>>),
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
    TransformChoice {
        masked: one(masked, Level::Masked),
        pseudonymized: one(pseudonymized, Level::Pseudonymized),
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
                let fields = (&choice.masked, &choice.pseudonymized);
                let chosen = parse_choice(source, problems, fields, category, &whose);
                by_category.insert(category, chosen);
            }
            Err(e) => problems.push(source.problem_at(name.span().start, format!("table `transforms`: {e}"))),
        }
    }
    let mut tables = Vec::new();
    let mut table_names = HashSet::new();
    for t in file.tables {
        let name = t.name.get_ref().clone();
        let at = |s: &Spanned<String>| s.span().start;
        if !is_identifier(&name) {
            problems.push(source.problem_at(
                at(&t.name),
                "field `name` of a table: not a valid table name (letters, digits, `_`, `-`)".into(),
            ));
            continue;
        }
        if !table_names.insert(name.clone()) {
            problems.push(source.problem_at(at(&t.name), format!("table `{name}` is listed twice")));
            continue;
        }
        let mut columns = Vec::new();
        let mut column_names = HashSet::new();
        for c in &t.columns {
            let cname = c.name.get_ref();
            if !is_identifier(cname) {
                problems.push(source.problem_at(
                    at(&c.name),
                    format!("field `name` of a column of table `{name}`: not a valid column name"),
                ));
                continue;
            }
            if !column_names.insert(cname.clone()) {
                problems.push(source.problem_at(
                    at(&c.name),
                    format!("column `{cname}` of table `{name}` is listed twice"),
                ));
                continue;
            }
            match c.category.get_ref().parse::<Category>() {
                Ok(category) => {
                    let whose = format!("column `{cname}` in table `{name}`");
                    let fields = (&c.masked, &c.pseudonymized);
                    let own = parse_choice(source, problems, fields, category, &whose);
                    let inherited = by_category.get(&category).copied().unwrap_or_default();
                    columns.push(CatalogColumn {
                        name: cname.clone(),
                        category,
                        transforms: own.or(inherited),
                    });
                }
                Err(e) => problems.push(source.problem_at(
                    at(&c.category),
                    format!("field `category` of column `{cname}` in table `{name}`: {e}"),
                )),
            }
        }
        if t.columns.is_empty() {
            problems.push(source.problem_at(at(&t.name), format!("table `{name}` lists no columns")));
        }
        let key = t.subject_key.get_ref();
        if !column_names.contains(key) {
            problems.push(source.problem_at(
                at(&t.subject_key),
                format!("field `subject_key` of table `{name}`: `{key}` is not one of its columns"),
            ));
        }
        let jurisdiction = match (&t.jurisdiction_column, &t.jurisdiction) {
            (Some(col), None) => {
                if !column_names.contains(col.get_ref()) {
                    problems.push(source.problem_at(
                        at(col),
                        format!(
                            "field `jurisdiction_column` of table `{name}`: `{}` is not one of its columns",
                            col.get_ref()
                        ),
                    ));
                }
                JurisdictionSource::Column(col.get_ref().clone())
            }
            (None, Some(fixed)) => match fixed.get_ref().parse::<Jurisdiction>() {
                Ok(j) => JurisdictionSource::Fixed(j),
                Err(e) => {
                    problems.push(
                        source.problem_at(at(fixed), format!("field `jurisdiction` of table `{name}`: {e}")),
                    );
                    continue;
                }
            },
            (Some(_), Some(fixed)) => {
                problems.push(source.problem_at(
                    at(fixed),
                    format!("table `{name}` has both `jurisdiction_column` and `jurisdiction`; keep one"),
                ));
                continue;
            }
            (None, None) => {
                problems.push(source.problem_at(
                    at(&t.name),
                    format!(
                        "table `{name}` needs `jurisdiction_column` (the column holding each row's \
                         jurisdiction) or `jurisdiction` (one for every row)"
                    ),
                ));
                continue;
            }
        };
        tables.push(CatalogTable {
            name,
            subject_key: key.clone(),
            jurisdiction,
            columns,
        });
    }
    (problems.len() == before).then_some(Catalog {
        jurisdictions,
        tables,
    })
}
