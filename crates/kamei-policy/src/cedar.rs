//! The Cedar side: kamei's schema, policies parsed and validated with readable ids, entities
//! for principals and data, and what each policy can see of them.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::str::FromStr;

use cedar_policy::{
    Entities, Entity, EntityId, EntityTypeName, EntityUid, Policy, PolicyId, PolicySet, RestrictedExpression,
    Schema, ValidationMode, Validator,
};
use miette::Diagnostic;

use crate::error::Problem;
use crate::source::Source;

pub(crate) const NAMESPACE: &str = "Kamei";

/// The three actions, most revealing first, with the level each grants.
pub(crate) const ACTIONS: [(&str, kamei_core::Level); 3] = [
    ("read_raw", kamei_core::Level::Raw),
    ("read_masked", kamei_core::Level::Masked),
    ("read_pseudonymized", kamei_core::Level::Pseudonymized),
];

/// A bug in kamei rather than in the user's configuration (the built-in schema does not
/// parse, an entity kamei built is rejected).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("internal error in kamei-policy: {0}")]
pub(crate) struct Internal(pub(crate) String);

pub(crate) fn schema() -> Result<Schema, Internal> {
    Schema::from_cedarschema_str(crate::CEDAR_SCHEMA)
        .map(|(schema, _warnings)| schema)
        .map_err(|e| Internal(format!("the built-in Cedar schema does not parse: {e}")))
}

fn type_name(name: &str) -> Result<EntityTypeName, Internal> {
    EntityTypeName::from_str(&format!("{NAMESPACE}::{name}"))
        .map_err(|e| Internal(format!("entity type `{name}`: {e}")))
}

/// Entity uids kamei uses: `Kamei::Principal::"<name>"`, `Kamei::Data::"<table>.<column>@<J>"`,
/// `Kamei::Action::"read_raw"`.
#[derive(Debug, Clone)]
pub(crate) struct Uids {
    principal: EntityTypeName,
    data: EntityTypeName,
    action: EntityTypeName,
}

impl Uids {
    pub(crate) fn new() -> Result<Self, Internal> {
        Ok(Self {
            principal: type_name("Principal")?,
            data: type_name("Data")?,
            action: type_name("Action")?,
        })
    }

    pub(crate) fn principal(&self, name: &str) -> EntityUid {
        EntityUid::from_type_name_and_id(self.principal.clone(), EntityId::new(name))
    }

    pub(crate) fn data(&self, table: &str, column: &str, jurisdiction: &str) -> EntityUid {
        EntityUid::from_type_name_and_id(
            self.data.clone(),
            EntityId::new(format!("{table}.{column}@{jurisdiction}")),
        )
    }

    pub(crate) fn action(&self, name: &str) -> EntityUid {
        EntityUid::from_type_name_and_id(self.action.clone(), EntityId::new(name))
    }
}

/// What Cedar is told about a principal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PrincipalAttrs {
    pub(crate) name: String,
    pub(crate) org: String,
    pub(crate) country: String,
    /// Sorted, without duplicates.
    pub(crate) roles: Vec<String>,
}

/// What Cedar is told about one column for subjects of one jurisdiction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DataAttrs {
    pub(crate) table: String,
    pub(crate) column: String,
    pub(crate) category: String,
    pub(crate) jurisdiction: String,
}

impl PrincipalAttrs {
    /// Every attribute of `Kamei::Principal`: exactly those `entity` sets (dedup soundness
    /// depends on it, see `Footprint`).
    pub(crate) const ALL: [&str; 3] = ["org", "country", "roles"];

    pub(crate) fn attr(&self, name: &str) -> Option<String> {
        match name {
            "org" => Some(self.org.clone()),
            "country" => Some(self.country.clone()),
            "roles" => Some(self.roles.join("\u{1f}")),
            _ => None,
        }
    }

    fn entity(&self, uids: &Uids) -> Result<Entity, Internal> {
        let attrs = HashMap::from([
            (
                "org".to_owned(),
                RestrictedExpression::new_string(self.org.clone()),
            ),
            (
                "country".to_owned(),
                RestrictedExpression::new_string(self.country.clone()),
            ),
            (
                "roles".to_owned(),
                RestrictedExpression::new_set(
                    self.roles
                        .iter()
                        .map(|r| RestrictedExpression::new_string(r.clone())),
                ),
            ),
        ]);
        Entity::new(uids.principal(&self.name), attrs, HashSet::new())
            .map_err(|e| Internal(format!("principal entity: {e}")))
    }
}

impl DataAttrs {
    /// Every attribute of `Kamei::Data`: exactly those `entity` sets (dedup soundness depends
    /// on it, see `Footprint`).
    pub(crate) const ALL: [&str; 4] = ["table", "column", "category", "jurisdiction"];

    pub(crate) fn attr(&self, name: &str) -> Option<String> {
        match name {
            "table" => Some(self.table.clone()),
            "column" => Some(self.column.clone()),
            "category" => Some(self.category.clone()),
            "jurisdiction" => Some(self.jurisdiction.clone()),
            _ => None,
        }
    }

    pub(crate) fn uid(&self, uids: &Uids) -> EntityUid {
        uids.data(&self.table, &self.column, &self.jurisdiction)
    }

    fn entity(&self, uids: &Uids) -> Result<Entity, Internal> {
        let s = |v: &String| RestrictedExpression::new_string(v.clone());
        let attrs = HashMap::from([
            ("table".to_owned(), s(&self.table)),
            ("column".to_owned(), s(&self.column)),
            ("category".to_owned(), s(&self.category)),
            ("jurisdiction".to_owned(), s(&self.jurisdiction)),
        ]);
        Entity::new(self.uid(uids), attrs, HashSet::new()).map_err(|e| Internal(format!("data entity: {e}")))
    }
}

/// All principals and data as one Cedar entity store, checked against the schema.
pub(crate) fn entities(
    uids: &Uids,
    schema: &Schema,
    principals: &[PrincipalAttrs],
    data: &[DataAttrs],
) -> Result<Entities, Internal> {
    let mut all = Vec::with_capacity(principals.len() + data.len());
    for p in principals {
        all.push(p.entity(uids)?);
    }
    for d in data {
        all.push(d.entity(uids)?);
    }
    Entities::from_entities(all, Some(schema)).map_err(|e| Internal(format!("entities: {e}")))
}

/// The policies of one file, in file order, each under its `@id` (or Cedar's `policyN`).
#[derive(Debug, Clone)]
pub(crate) struct Policies {
    pub(crate) list: Vec<Policy>,
}

/// The location of the first label of a Cedar diagnostic.
fn first_offset(d: &dyn Diagnostic) -> Option<usize> {
    d.labels()
        .and_then(|mut labels| labels.next())
        .map(|l| l.offset())
}

fn problem_of(source: &Source<'_>, d: &dyn Diagnostic, prefix: &str) -> Problem {
    let mut message = format!("{prefix}{d}");
    if let Some(help) = d.help() {
        message.push_str(&format!(" ({help})"));
    }
    match first_offset(d) {
        Some(o) => source.problem_at(o, message),
        None => source.problem(message),
    }
}

/// Parses and validates a policy file. Fails closed: any parse or validation error, a
/// template, or a duplicate id is a problem, and no policies are returned.
pub(crate) fn parse_policies(
    source: &Source<'_>,
    schema: &Schema,
    problems: &mut Vec<Problem>,
) -> Option<Policies> {
    let set = match PolicySet::from_str(source.text) {
        Ok(set) => set,
        Err(errors) => {
            for e in errors.iter() {
                problems.push(problem_of(source, e, ""));
            }
            return None;
        }
    };
    let before = problems.len();
    if set.templates().next().is_some() {
        problems
            .push(source.problem("policy templates (`?principal`, `?resource`) are not supported".into()));
    }
    // Cedar numbers unannotated policies `policy0`, `policy1`, … in file order.
    let mut ordered: Vec<(usize, &Policy)> = set
        .policies()
        .map(|p| {
            let n = p
                .id()
                .to_string()
                .strip_prefix("policy")
                .and_then(|n| n.parse().ok())
                .unwrap_or(usize::MAX);
            (n, p)
        })
        .collect();
    ordered.sort_by_key(|(n, _)| *n);
    let mut list = Vec::with_capacity(ordered.len());
    let mut seen = HashSet::new();
    for (_, p) in ordered {
        let policy = match p.annotation("id") {
            Some("") => {
                problems
                    .push(source.problem_at(annotation_offset(source, ""), "`@id` must not be empty".into()));
                continue;
            }
            Some(id) => p.new_id(PolicyId::new(id)),
            None => p.clone(),
        };
        if !seen.insert(policy.id().to_string()) {
            problems.push(source.problem_at(
                annotation_offset(source, policy.id().as_ref()),
                format!(
                    "policy id `{}` is used twice; give each policy its own `@id`",
                    policy.id()
                ),
            ));
            continue;
        }
        list.push(policy);
    }
    if problems.len() > before {
        return None;
    }
    let renamed = match PolicySet::from_policies(list.iter().cloned()) {
        Ok(s) => s,
        Err(e) => {
            problems.push(source.problem(format!("{e}")));
            return None;
        }
    };
    let result = Validator::new(schema.clone()).validate(&renamed, ValidationMode::Strict);
    for e in result.validation_errors() {
        problems.push(problem_of(
            source,
            e,
            // Cedar's message names the policy ("for policy `…`").
            "does not validate: ",
        ));
    }
    (problems.len() == before).then_some(Policies { list })
}

/// Where the last `@id("<id>")` annotation is in the text (the duplicate, for a repeated id).
fn annotation_offset(source: &Source<'_>, id: &str) -> usize {
    source.text.rfind(&format!("@id(\"{id}\")")).unwrap_or(0)
}

/// What one side (principal or resource) of a policy can observe of an entity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Sees {
    /// The named attributes (`None`: all of them) and, if `uid`, whether the entity is one of
    /// the entity literals written in the policy, and which.
    Parts {
        attrs: Option<BTreeSet<String>>,
        uid: bool,
    },
    /// Anything: no two entities may be assumed alike (a policy that could not be analysed).
    Everything,
}

impl Sees {
    fn nothing() -> Self {
        Sees::Parts {
            attrs: Some(BTreeSet::new()),
            uid: false,
        }
    }

    fn add(&mut self, attr: &str) {
        if let Sees::Parts { attrs: Some(set), .. } = self {
            set.insert(attr.to_owned());
        }
    }

    fn compares_uid(&mut self) {
        if let Sees::Parts { uid, .. } = self {
            *uid = true;
        }
    }

    fn whole(&mut self) {
        if let Sees::Parts { attrs, uid } = self {
            *attrs = None;
            *uid = true;
        }
    }
}

/// What a policy can observe of the principal and of the resource.
///
/// INVARIANT (decision dedup soundness): two principals (or data) that agree on every
/// attribute a side `Sees` and, when it compares uids, on which of the policy's entity
/// literals they are (or on being none of them), get the same outcome from this policy for
/// any fixed other side and action.
///
/// Why that holds for kamei's entity store (built in `entities`): entities have no parents,
/// so `in` is equality; attributes hold only strings and sets of strings, and the context is
/// empty, so the only entity values an expression can produce are the variables themselves
/// (of different types, except for comparing a variable with itself) and the entity literals
/// written in the policy. An entity is therefore observable only through its attributes and
/// through equality with those literals. `footprint` records attribute reads of the form
/// `var.attr` / `var has attr`; a scope `==` / `in` makes the side compare uids; any other use
/// of the variable counts as reading every attribute and comparing uids; a policy that cannot
/// be analysed sees `Everything`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Footprint {
    pub(crate) principal: Sees,
    pub(crate) resource: Sees,
    /// The entity literals written in the policy (scope and conditions).
    pub(crate) literals: Vec<EntityUid>,
}

pub(crate) fn footprint(policy: &Policy) -> Footprint {
    let everything = Footprint {
        principal: Sees::Everything,
        resource: Sees::Everything,
        literals: Vec::new(),
    };
    let Ok(json) = policy.to_json() else {
        return everything;
    };
    let mut fp = Footprint {
        principal: Sees::nothing(),
        resource: Sees::nothing(),
        literals: policy.entity_literals(),
    };
    for (side, key) in [(&mut fp.principal, "principal"), (&mut fp.resource, "resource")] {
        let scope = json.get(key);
        match scope.and_then(|c| c.get("op")).and_then(|op| op.as_str()) {
            Some("All") => {}
            // `is T` alone tests the type, which is the same for every entity of this side.
            Some("is") if scope.and_then(|c| c.get("in")).is_none() => {}
            Some("==" | "in" | "is") => side.compares_uid(),
            _ => *side = Sees::Everything,
        }
    }
    match json.get("conditions") {
        Some(conditions) => walk(conditions, &mut fp),
        None => return everything,
    }
    fp
}

fn walk(v: &serde_json::Value, fp: &mut Footprint) {
    use serde_json::Value;
    match v {
        Value::Object(map) => {
            if map.len() == 1 {
                for op in [".", "has"] {
                    if let Some(inner) = map.get(op) {
                        let left = inner
                            .get("left")
                            .and_then(|l| l.get("Var"))
                            .and_then(|v| v.as_str());
                        let attr = inner.get("attr").and_then(|a| a.as_str());
                        match (left, attr) {
                            (Some("principal"), Some(a)) => return fp.principal.add(a),
                            (Some("resource"), Some(a)) => return fp.resource.add(a),
                            _ => {}
                        }
                    }
                }
                if let Some(var) = map.get("Var").and_then(|v| v.as_str()) {
                    match var {
                        "principal" => fp.principal.whole(),
                        "resource" => fp.resource.whole(),
                        // `action` is fixed per evaluation; `context` is empty.
                        _ => {}
                    }
                    return;
                }
            }
            for value in map.values() {
                walk(value, fp);
            }
        }
        Value::Array(items) => {
            for item in items {
                walk(item, fp);
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(src: &str) -> Footprint {
        footprint(&Policy::parse(None, src).unwrap())
    }

    fn attrs(list: &[&str]) -> Sees {
        Sees::Parts {
            attrs: Some(list.iter().map(|s| s.to_string()).collect()),
            uid: false,
        }
    }

    fn uid_and(list: &[&str]) -> Sees {
        Sees::Parts {
            attrs: Some(list.iter().map(|s| s.to_string()).collect()),
            uid: true,
        }
    }

    const WHOLE: Sees = Sees::Parts {
        attrs: None,
        uid: true,
    };

    #[test]
    fn the_schema_parses() {
        schema().unwrap();
    }

    #[test]
    fn footprints_name_the_attributes_read() {
        let f = fp(
            r#"permit(principal, action, resource) when { principal.roles.contains("x") && resource.jurisdiction == principal.country };"#,
        );
        assert_eq!(f.principal, attrs(&["country", "roles"]));
        assert_eq!(f.resource, attrs(&["jurisdiction"]));
        let f = fp(r#"permit(principal, action, resource) when { resource has category };"#);
        assert_eq!(f.resource, attrs(&["category"]));
        assert_eq!(f.principal, attrs(&[]));
    }

    #[test]
    fn uid_comparisons_and_whole_uses_are_recorded() {
        for src in [
            r#"permit(principal == Kamei::Principal::"a", action, resource);"#,
            r#"permit(principal in Kamei::Principal::"a", action, resource);"#,
            r#"permit(principal is Kamei::Principal in Kamei::Principal::"a", action, resource);"#,
        ] {
            assert_eq!(fp(src).principal, uid_and(&[]), "{src}");
        }
        for src in [
            r#"permit(principal, action, resource) when { principal == Kamei::Principal::"a" };"#,
            r#"permit(principal, action, resource) when { [principal].contains(Kamei::Principal::"a") };"#,
            r#"permit(principal, action, resource) when { principal is Kamei::Principal };"#,
            r#"permit(principal, action, resource) when { (if true then principal else principal).org == "x" };"#,
        ] {
            assert_eq!(fp(src).principal, WHOLE, "{src}");
        }
        let f = fp(r#"forbid(principal, action, resource == Kamei::Data::"users.phone@JP");"#);
        assert_eq!(f.resource, uid_and(&[]));
        assert_eq!(f.principal, attrs(&[]));
        assert_eq!(f.literals.len(), 1);
    }
}
