//! Reviewing a change of configuration: which cells a new configuration exposes more than the
//! old one, what else changed that can reveal more though no cell's level did, and permits that
//! grant nothing today but would the day a name appears.

use kamei_core::Jurisdiction;

use crate::catalog::{CatalogColumn, CatalogTable};
use crate::compile::{ExposureChange, MatrixRow};
use crate::config::Config;

impl Config {
    /// The cells whose level differs from `old`'s, in configuration order, then the cells
    /// `old` had and this configuration has not. The two may differ in everything — policies,
    /// principals (a country or a role changed), catalog (a column recategorised, a table
    /// added) — so cells are matched by principal, table, column and jurisdiction; a cell one
    /// side lacks is denied there.
    pub fn exposure_changes_since(&self, old: &Config) -> Vec<ExposureChange> {
        type Key<'a> = (&'a str, &'a str, &'a str, Jurisdiction);
        let before: std::collections::HashMap<Key<'_>, kamei_core::Level> = old
            .matrix()
            .into_iter()
            .map(|r| ((r.principal, r.table, r.column, r.jurisdiction), r.level))
            .collect();
        let mut seen = std::collections::HashSet::new();
        let mut changes = Vec::new();
        let change =
            |r: &MatrixRow<'_>, old: kamei_core::Level, new: kamei_core::Level, policies: &[&str]| {
                ExposureChange {
                    principal: r.principal.to_owned(),
                    table: r.table.to_owned(),
                    column: r.column.to_owned(),
                    jurisdiction: r.jurisdiction.to_string(),
                    old,
                    new,
                    policies: policies.iter().map(|p| (*p).to_owned()).collect(),
                }
            };
        for r in self.matrix() {
            let key = (r.principal, r.table, r.column, r.jurisdiction);
            let was = before.get(&key).copied().unwrap_or(kamei_core::Level::Denied);
            seen.insert(key);
            if was != r.level {
                changes.push(change(&r, was, r.level, &r.policies));
            }
        }
        for r in old.matrix() {
            let key = (r.principal, r.table, r.column, r.jurisdiction);
            if seen.contains(&key) {
                continue;
            }
            // A jurisdiction no longer listed is not denied: its subjects get the fallback of
            // the principal's column, which can be as revealing as the least revealing listed
            // jurisdiction.
            let fallback = self
                .table_plan(r.principal, r.table)
                .ok()
                .and_then(|plan| plan.column(r.column).map(|c| c.fallback().clone()));
            let (now, policies) = match &fallback {
                Some(d) => (d.level, d.policies.iter().map(String::as_str).collect()),
                None => (kamei_core::Level::Denied, Vec::new()),
            };
            if now != r.level {
                changes.push(change(&r, r.level, now, &policies));
            }
        }
        changes
    }

    /// Permits that name a principal, table or column this configuration does not have: they
    /// grant nothing today and would grant at once when such a name is added (a principal
    /// hired, a table catalogued), unreviewed. One line each, for `kamei policy check`.
    pub fn latent_grants(&self) -> Vec<String> {
        let tables: std::collections::HashSet<&str> =
            self.catalog().tables.iter().map(|t| t.name.as_str()).collect();
        let columns: std::collections::HashSet<&str> = self
            .catalog()
            .tables
            .iter()
            .flat_map(|t| t.columns.iter().map(|c| c.name.as_str()))
            .collect();
        let mut out = Vec::new();
        for policy in self.policy_list() {
            if policy.effect() != cedar_policy::Effect::Permit {
                continue;
            }
            let id = policy.id();
            for uid in policy.entity_literals() {
                let name = uid.id().unescaped();
                if uid.type_name().basename() == "Data" && !self.data_exists(name) {
                    out.push(format!(
                        "policy `{id}` names data `{}`, which catalog.toml does not have",
                        name.escape_debug()
                    ));
                }
                if uid.type_name().basename() == "Principal" && self.principal(name).is_none() {
                    out.push(format!(
                        "policy `{id}` names principal `{}`, which principals.toml does not have",
                        name.escape_debug()
                    ));
                }
            }
            let Ok(json) = policy.to_json() else { continue };
            let mut named = Vec::new();
            compared_names(&json, &mut named);
            for (attr, name) in named {
                let known = match attr {
                    "table" => tables.contains(name.as_str()),
                    "column" => columns.contains(name.as_str()),
                    "jurisdiction" => self.catalog().jurisdictions.iter().any(|j| j.as_str() == name),
                    "role" => self.principals().iter().any(|p| p.roles.contains(&name)),
                    _ => self.principals().iter().any(|p| p.org == name),
                };
                let file = match attr {
                    "role" | "org" => "principals.toml",
                    _ => "catalog.toml",
                };
                if !known {
                    out.push(format!(
                        "policy `{id}` names {attr} `{}`, which {file} does not have",
                        name.escape_debug()
                    ));
                }
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// Whether a `Data` entity id (`table.column@JP`) names a catalogued cell.
    fn data_exists(&self, id: &str) -> bool {
        let Some((column, jurisdiction)) = id.rsplit_once('@') else {
            return false;
        };
        let Some((table, column)) = column.split_once('.') else {
            return false;
        };
        let catalog = self.catalog();
        catalog.table(table).is_some_and(|t| t.column(column).is_some())
            && catalog.jurisdictions.iter().any(|j| j.as_str() == jurisdiction)
    }

    /// Changes since `old` that can let someone read more though no cell's level changed, one
    /// line each: a column whose people changed (a message body that no longer belongs to its
    /// recipient follows the sender's level alone); a transform chosen differently (a postal
    /// prefix where there was none, a reversible token where there was a pseudonym); a weaker
    /// k-anonymity (a lower `k_anonymity`, fewer quasi-identifiers); a principal moved to
    /// another org (its pseudonyms then join another org's); another subject directory.
    pub fn review_changes_since(&self, old: &Config) -> Vec<String> {
        let owners = |t: &CatalogTable, c: &CatalogColumn| -> Vec<String> {
            let mut v: Vec<String> = c
                .subjects
                .iter()
                .filter_map(|s| t.subjects.get(*s))
                .map(|s| format!("{} ({})", s.key, source_name(&s.jurisdiction)))
                .collect();
            v.sort();
            v
        };
        let mut changes = Vec::new();
        if self.catalog().min_k < old.catalog().min_k {
            changes.push(format!(
                "k_anonymity lowered from {} to {}",
                old.catalog().min_k,
                self.catalog().min_k
            ));
        }
        if self.catalog().directory != old.catalog().directory {
            changes.push(format!(
                "the subject directory is now {}",
                self.catalog().directory.as_deref().unwrap_or("none")
            ));
        }
        for p in self.principals() {
            if let Some(before) = old.principal(&p.name)
                && before.org != p.org
            {
                changes.push(format!(
                    "principal `{}` moved from org `{}` to `{}`: its pseudonyms now join that org's",
                    p.name, before.org, p.org
                ));
            }
        }
        for t in &self.catalog().tables {
            let Some(old_table) = old.catalog().table(&t.name) else {
                continue;
            };
            let dropped: Vec<&str> = old_table
                .quasi_identifiers
                .iter()
                .filter(|q| !t.quasi_identifiers.contains(q))
                .map(String::as_str)
                .collect();
            if !dropped.is_empty() {
                changes.push(format!(
                    "{}: no longer quasi-identifiers: {}",
                    t.name,
                    dropped.join(", ")
                ));
            }
            for c in &t.columns {
                let Some(old_column) = old_table.column(&c.name) else {
                    continue;
                };
                let (was, now) = (owners(old_table, old_column), owners(t, c));
                if was != now {
                    changes.push(format!(
                        "{}.{} belonged to {}; now to {}",
                        t.name,
                        c.name,
                        was.join(", "),
                        now.join(", ")
                    ));
                }
                if c.transforms != old_column.transforms {
                    changes.push(format!(
                        "{}.{}: transforms were {}; now {}",
                        t.name,
                        c.name,
                        choice_text(old_column.transforms),
                        choice_text(c.transforms)
                    ));
                }
            }
        }
        changes
    }
}

/// The string literals a policy compares `resource.table`, `.column`, `.jurisdiction`,
/// `principal.roles` or `.org` with (`==`, `in`, a set's `contains`), from Cedar's JSON form of
/// the policy.
fn compared_names(json: &serde_json::Value, out: &mut Vec<(&'static str, String)>) {
    use serde_json::Value;
    let attr_of = |v: &Value| -> Option<&'static str> {
        let access = v.get(".")?;
        let var = access.get("left")?.get("Var")?.as_str()?;
        match (var, access.get("attr")?.as_str()?) {
            ("resource", "table") => Some("table"),
            ("resource", "column") => Some("column"),
            ("resource", "jurisdiction") => Some("jurisdiction"),
            ("principal", "roles") => Some("role"),
            ("principal", "org") => Some("org"),
            _ => None,
        }
    };
    let strings = |v: &Value| -> Vec<String> {
        match (
            v.get("Value").and_then(Value::as_str),
            v.get("Set").and_then(Value::as_array),
        ) {
            (Some(s), _) => vec![s.to_owned()],
            (None, Some(set)) => set
                .iter()
                .filter_map(|e| e.get("Value").and_then(Value::as_str).map(str::to_owned))
                .collect(),
            (None, None) => Vec::new(),
        }
    };
    match json {
        Value::Object(map) => {
            for (op, args) in map {
                if ["==", "contains", "containsAny", "containsAll", "in"].contains(&op.as_str())
                    && let (Some(l), Some(r)) = (args.get("left"), args.get("right"))
                {
                    for (a, b) in [(l, r), (r, l)] {
                        if let Some(attr) = attr_of(a) {
                            out.extend(strings(b).into_iter().map(|s| (attr, s)));
                        }
                    }
                }
                compared_names(args, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| compared_names(v, out)),
        _ => {}
    }
}

/// A column's transform choices as a message shows them.
fn choice_text(choice: kamei_core::TransformChoice) -> String {
    let one = |t: Option<kamei_core::Transform>| t.map_or("default".to_owned(), |t| t.to_string());
    let profile = choice
        .profile
        .map_or(String::new(), |p| format!(", {p} redaction profile"));
    format!(
        "masked {}, pseudonymized {}{profile}",
        one(choice.masked),
        one(choice.pseudonymized)
    )
}

/// How a subject's jurisdiction source reads in a message.
fn source_name(source: &kamei_core::JurisdictionSource) -> String {
    match source {
        kamei_core::JurisdictionSource::Column(c) => format!("jurisdiction from `{c}`"),
        kamei_core::JurisdictionSource::Fixed(j) => format!("always {j}"),
        kamei_core::JurisdictionSource::Directory => "jurisdiction from the directory".into(),
    }
}
