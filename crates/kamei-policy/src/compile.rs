//! Decision compilation: Cedar evaluated once over the finite domain (principal × column ×
//! jurisdiction × action), stored as a dense table.
//!
//! Evaluating every cell with the whole policy set costs one Cedar call per cell and action
//! (15 million for 1,000 principals × 500 columns × 10 jurisdictions). Instead each policy is
//! evaluated alone, once per distinct pair of what it can see of the principal and of the data
//! (its [`Footprint`]), and the outcomes are combined with Cedar's rules: an action is allowed
//! when a permit holds and no forbid does. A policy that reads `principal.roles` and
//! `resource.category` is evaluated once per distinct role set and category, not per cell.
//! Principals (and data) on which every policy's view agrees share one row (column) of the
//! table. The property tests check the result against direct Cedar evaluation cell by cell.

use std::collections::HashMap;

use cedar_policy::{ActionConstraint, Authorizer, Context, Effect, Entities, Policy, PolicySet, Request};
use kamei_core::{Decision, Level};
use rayon::prelude::*;

use crate::cedar::{self, DataAttrs, Footprint, Internal, PrincipalAttrs, Sees, Uids};

/// Outcome of one policy for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Outcome {
    NotSatisfied = 0,
    Satisfied = 1,
    Error = 2,
}

/// One cell of the table: a level and an index into the interned sets of deciding policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cell {
    level: Level,
    reasons: u32,
}

/// The compiled decisions for every principal and every data item (column × jurisdiction).
///
/// Dense: principals and data items are numbered by the caller (`Config`); each maps to a
/// class, and `cells[principal_class * data_classes + data_class]` holds the level and the
/// interned set of deciding policy ids.
#[derive(Debug, Clone)]
pub struct DecisionTable {
    policy_ids: Vec<String>,
    principal_class: Vec<u32>,
    data_class: Vec<u32>,
    data_classes: usize,
    cells: Vec<Cell>,
    reason_sets: Vec<Box<[u32]>>,
}

impl DecisionTable {
    /// Level and deciding policy ids for principal `p` and data item `d` (indices as passed
    /// to `compile`).
    pub(crate) fn get(&self, p: usize, d: usize) -> (Level, impl Iterator<Item = &str> + '_) {
        let cell = self.cell(p, d);
        let reasons = self
            .reason_sets
            .get(cell.reasons as usize)
            .map(|r| &r[..])
            .unwrap_or(&[])
            .iter()
            .filter_map(|i| self.policy_ids.get(*i as usize).map(String::as_str));
        (cell.level, reasons)
    }

    #[cfg(test)]
    pub(crate) fn level(&self, p: usize, d: usize) -> Level {
        self.cell(p, d).level
    }

    pub(crate) fn decision(&self, p: usize, d: usize) -> Decision {
        let (level, reasons) = self.get(p, d);
        Decision {
            level,
            policies: reasons.map(str::to_owned).collect(),
        }
    }

    fn cell(&self, p: usize, d: usize) -> Cell {
        // Out-of-range indices are a caller bug; they read as denied (fail closed).
        let denied = Cell {
            level: Level::Denied,
            reasons: u32::MAX,
        };
        match (self.principal_class.get(p), self.data_class.get(d)) {
            (Some(pc), Some(dc)) => self
                .cells
                .get(*pc as usize * self.data_classes + *dc as usize)
                .copied()
                .unwrap_or(denied),
            _ => denied,
        }
    }

    /// Number of distinct principal and data classes (how far deduplication went).
    pub fn classes(&self) -> (usize, usize) {
        (
            self.cells.len().checked_div(self.data_classes).unwrap_or(0),
            self.data_classes,
        )
    }
}

/// One row of `kamei policy matrix`, borrowing from the configuration (a large matrix has
/// millions of rows).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MatrixRow<'a> {
    pub principal: &'a str,
    pub table: &'a str,
    pub column: &'a str,
    pub category: kamei_core::Category,
    pub jurisdiction: kamei_core::Jurisdiction,
    pub level: Level,
    /// Personal data read raw across a border: the level is raw, the column is personal and
    /// the principal's country differs from the data subject's jurisdiction.
    pub cross_border_raw: bool,
    pub policies: Vec<&'a str>,
}

/// A cell whose level differs between two policy sets.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ExposureChange {
    pub principal: String,
    pub table: String,
    pub column: String,
    pub jurisdiction: String,
    pub old: Level,
    pub new: Level,
    /// The policies deciding the new level.
    pub policies: Vec<String>,
}

impl ExposureChange {
    pub fn increases(&self) -> bool {
        self.new > self.old
    }
}

/// Per principal class: the mask kind of each data class, and the distinct kinds' masks.
type MaskRow = (Vec<u32>, Vec<Box<[u64]>>);

/// A policy prepared for evaluation: alone in its own set, with its view of the entities.
struct Prepared {
    set: PolicySet,
    effect: Effect,
    /// Per action (ACTIONS order): can the policy apply at all.
    applies: [bool; 3],
    /// Class of each principal / data item as this policy sees it.
    principal_key: Vec<u32>,
    data_key: Vec<u32>,
    /// A representative index per class.
    principal_rep: Vec<usize>,
    data_rep: Vec<usize>,
}

/// Numbers entities by what `sees` observes of them (see `cedar::Footprint`): entities that
/// get the same number are indistinguishable to the policy.
fn classify<T>(
    items: &[T],
    sees: &Sees,
    all_attrs: &[&str],
    literals: &[cedar_policy::EntityUid],
    attr: impl Fn(&T, &str) -> Option<String>,
    uid: impl Fn(&T) -> cedar_policy::EntityUid,
) -> (Vec<u32>, Vec<usize>) {
    let (names, compares_uid): (Vec<&str>, bool) = match sees {
        Sees::Everything => return ((0..items.len() as u32).collect(), (0..items.len()).collect()),
        Sees::Parts { attrs: None, uid } => (all_attrs.to_vec(), *uid),
        Sees::Parts {
            attrs: Some(set),
            uid,
        } => (set.iter().map(String::as_str).collect(), *uid),
    };
    let mut ids: HashMap<(Vec<Option<String>>, Option<usize>), u32> = HashMap::new();
    let mut reps = Vec::new();
    let keys = items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let values: Vec<Option<String>> = names.iter().map(|n| attr(item, n)).collect();
            let literal = if compares_uid {
                let me = uid(item);
                literals.iter().position(|l| *l == me)
            } else {
                None
            };
            *ids.entry((values, literal)).or_insert_with(|| {
                reps.push(i);
                (reps.len() - 1) as u32
            })
        })
        .collect();
    (keys, reps)
}

/// Numbers rows of `keys` (one u32 per policy per item) by equality of the whole row.
#[expect(
    clippy::indexing_slicing,
    reason = "every policy's key has one entry per item: i < n = their length"
)]
fn signatures(n: usize, prepared: &[Prepared], key: impl Fn(&Prepared) -> &[u32]) -> (Vec<u32>, Vec<usize>) {
    let mut ids: HashMap<Vec<u32>, u32> = HashMap::new();
    let mut reps = Vec::new();
    let classes = (0..n)
        .map(|i| {
            let sig: Vec<u32> = prepared.iter().map(|p| key(p)[i]).collect();
            *ids.entry(sig).or_insert_with(|| {
                reps.push(i);
                (reps.len() - 1) as u32
            })
        })
        .collect();
    (classes, reps)
}

fn applies(policy: &Policy, action: &cedar_policy::EntityUid) -> bool {
    match policy.action_constraint() {
        ActionConstraint::Any => true,
        ActionConstraint::Eq(a) => &a == action,
        // kamei's schema defines no action groups, so `in [..]` is membership in the list.
        ActionConstraint::In(list) => list.contains(action),
    }
}

fn evaluate(
    authorizer: &Authorizer,
    set: &PolicySet,
    entities: &Entities,
    principal: cedar_policy::EntityUid,
    action: cedar_policy::EntityUid,
    resource: cedar_policy::EntityUid,
) -> Outcome {
    let Ok(request) = Request::new(principal, action, resource, Context::empty(), None) else {
        return Outcome::Error;
    };
    let response = authorizer.is_authorized(&request, set, entities);
    let diagnostics = response.diagnostics();
    if diagnostics.errors().next().is_some() {
        Outcome::Error
    } else if diagnostics.reason().next().is_some() {
        Outcome::Satisfied
    } else {
        Outcome::NotSatisfied
    }
}

/// Compiles `policies` over every principal and data item.
#[expect(
    clippy::indexing_slicing,
    reason = "indices come from the vectors built here with those lengths: policies, actions (3), \
              representatives, classes, mask words and strides; a missing outcome is read with `get` \
              and counts as an error"
)]
pub(crate) fn compile(
    schema: &cedar_policy::Schema,
    policies: &[Policy],
    principals: &[PrincipalAttrs],
    data: &[DataAttrs],
) -> Result<DecisionTable, Internal> {
    let uids = Uids::new()?;
    let entities = cedar::entities(&uids, schema, principals, data)?;
    let actions: Vec<_> = cedar::ACTIONS.iter().map(|(name, _)| uids.action(name)).collect();
    let principal_uids: Vec<_> = principals.iter().map(|p| uids.principal(&p.name)).collect();
    let data_uids: Vec<_> = data.iter().map(|d| d.uid(&uids)).collect();

    let mut prepared = Vec::with_capacity(policies.len());
    for policy in policies {
        let Footprint {
            principal,
            resource,
            literals,
        } = cedar::footprint(policy);
        let (principal_key, principal_rep) = classify(
            principals,
            &principal,
            &PrincipalAttrs::ALL,
            &literals,
            PrincipalAttrs::attr,
            |p| uids.principal(&p.name),
        );
        let (data_key, data_rep) = classify(
            data,
            &resource,
            &DataAttrs::ALL,
            &literals,
            DataAttrs::attr,
            |d| d.uid(&uids),
        );
        let set = PolicySet::from_policies([policy.clone()])
            .map_err(|e| Internal(format!("policy `{}`: {e}", policy.id())))?;
        prepared.push(Prepared {
            set,
            effect: policy.effect(),
            applies: [0, 1, 2].map(|a| actions.get(a).is_some_and(|uid| applies(policy, uid))),
            principal_key,
            data_key,
            principal_rep,
            data_rep,
        });
    }

    // Outcome per (policy, action, principal class of that policy, data class of that policy).
    let jobs: Vec<(usize, usize)> = (0..prepared.len())
        .flat_map(|p| (0..3).map(move |a| (p, a)))
        .collect();
    let outcomes: Vec<Vec<Outcome>> = jobs
        .par_iter()
        .map(|&(p, a)| {
            let prep = &prepared[p];
            let n = prep.principal_rep.len() * prep.data_rep.len();
            if !prep.applies[a] {
                return vec![Outcome::NotSatisfied; n];
            }
            let authorizer = Authorizer::new();
            let mut out = Vec::with_capacity(n);
            for &pi in &prep.principal_rep {
                for &di in &prep.data_rep {
                    out.push(evaluate(
                        &authorizer,
                        &prep.set,
                        &entities,
                        principal_uids[pi].clone(),
                        actions[a].clone(),
                        data_uids[di].clone(),
                    ));
                }
            }
            out
        })
        .collect();

    let (principal_class, principal_reps) = signatures(principals.len(), &prepared, |p| &p.principal_key);
    let (data_class, data_reps) = signatures(data.len(), &prepared, |p| &p.data_key);

    // Combine per (principal class, data class). Each cell's outcome is summarised as bit
    // masks (satisfied policies per action, erroring policies); cells with equal masks share
    // one (level, reasons) result, computed once.
    let words = prepared.len().div_ceil(64).max(1);
    let stride = 4 * words;
    let mut permit_mask = vec![0u64; words];
    for (p, prep) in prepared.iter().enumerate() {
        if prep.effect == Effect::Permit {
            permit_mask[p / 64] |= 1 << (p % 64);
        }
    }
    // Per policy, its data key for each data class (sequential access in the hot loop).
    let data_key_of_class: Vec<Vec<u32>> = prepared
        .iter()
        .map(|prep| data_reps.iter().map(|&di| prep.data_key[di]).collect())
        .collect();
    // Per policy and principal key: whether any outcome is not "not satisfied" (most policies
    // concern few principals; the others are skipped for that row).
    let relevant: Vec<Vec<bool>> = prepared
        .iter()
        .enumerate()
        .map(|(p, prep)| {
            let ndk = prep.data_rep.len();
            (0..prep.principal_rep.len())
                .map(|pk| {
                    (0..3).any(|a| {
                        outcomes[p * 3 + a]
                            .get(pk * ndk..(pk + 1) * ndk)
                            .is_none_or(|row| row.iter().any(|o| *o != Outcome::NotSatisfied))
                    })
                })
                .collect()
        })
        .collect();
    let rows: Vec<MaskRow> = principal_reps
        .par_iter()
        .map(|&pi| {
            let n = data_reps.len();
            // Layout per data class: [sat raw | sat masked | sat pseudonymized | error], `words` each.
            let mut masks = vec![0u64; n * stride];
            for (p, prep) in prepared.iter().enumerate() {
                let (word, bit) = (p / 64, 1u64 << (p % 64));
                let ndk = prep.data_rep.len();
                let pk = prep.principal_key[pi] as usize;
                if !relevant[p].get(pk).copied().unwrap_or(true) {
                    continue;
                }
                for a in 0..3 {
                    let row = outcomes[p * 3 + a].get(pk * ndk..(pk + 1) * ndk).unwrap_or(&[]);
                    for (d, &dk) in data_key_of_class[p].iter().enumerate() {
                        // A missing outcome is a bug; it counts as an error (fail closed).
                        match row.get(dk as usize).copied().unwrap_or(Outcome::Error) {
                            Outcome::NotSatisfied => {}
                            Outcome::Satisfied => masks[d * stride + a * words + word] |= bit,
                            Outcome::Error => masks[d * stride + 3 * words + word] |= bit,
                        }
                    }
                }
            }
            let mut local: HashMap<&[u64], u32> = HashMap::new();
            let mut kinds: Vec<Box<[u64]>> = Vec::new();
            let mut ids = Vec::with_capacity(n);
            let mut last: Option<(&[u64], u32)> = None;
            for cell in masks.chunks_exact(stride) {
                let id = match last {
                    Some((m, id)) if m == cell => id,
                    _ => *local.entry(cell).or_insert_with(|| {
                        kinds.push(cell.into());
                        (kinds.len() - 1) as u32
                    }),
                };
                last = Some((cell, id));
                ids.push(id);
            }
            (ids, kinds)
        })
        .collect();
    let mut global: HashMap<Box<[u64]>, Cell> = HashMap::new();
    let mut reason_index: HashMap<Vec<u32>, u32> = HashMap::new();
    let mut reason_sets: Vec<Box<[u32]>> = Vec::new();
    let mut cells = Vec::with_capacity(principal_reps.len() * data_reps.len());
    for (ids, kinds) in rows {
        let remap: Vec<Cell> = kinds
            .into_iter()
            .map(|kind| {
                if let Some(cell) = global.get(&kind) {
                    return *cell;
                }
                let (level, reasons) = decide(&kind, words, &permit_mask);
                let next = reason_sets.len() as u32;
                let reasons = *reason_index.entry(reasons).or_insert_with_key(|r| {
                    reason_sets.push(r.clone().into_boxed_slice());
                    next
                });
                let cell = Cell { level, reasons };
                global.insert(kind, cell);
                cell
            })
            .collect();
        let denied = Cell {
            level: Level::Denied,
            reasons: u32::MAX,
        };
        cells.extend(
            ids.into_iter()
                .map(|id| remap.get(id as usize).copied().unwrap_or(denied)),
        );
    }
    Ok(DecisionTable {
        policy_ids: policies.iter().map(|p| p.id().to_string()).collect(),
        principal_class,
        data_class,
        data_classes: data_reps.len(),
        cells,
        reason_sets,
    })
}

fn bits(words: impl Iterator<Item = u64>) -> impl Iterator<Item = u32> {
    words.enumerate().flat_map(|(w, mut word)| {
        std::iter::from_fn(move || {
            (word != 0).then(|| {
                let bit = word.trailing_zeros();
                word &= word - 1;
                w as u32 * 64 + bit
            })
        })
    })
}

/// The level and deciding policies (indices, ascending) for one cell's masks under Cedar's
/// rules, fail closed on errors: the permits granting the level and the forbids that blocked
/// more revealing actions; or, when denied, the erroring policies, else every satisfied forbid.
#[expect(
    clippy::indexing_slicing,
    reason = "masks holds 4 × words words for one cell (its caller's stride)"
)]
fn decide(masks: &[u64], words: usize, permit_mask: &[u64]) -> (Level, Vec<u32>) {
    let sat = |a: usize| &masks[a * words..(a + 1) * words];
    let errors = &masks[3 * words..4 * words];
    // SPEC: DESIGN.md Principles, "an evaluation error denies".
    if errors.iter().any(|w| *w != 0) {
        return (Level::Denied, bits(errors.iter().copied()).collect());
    }
    let mut blocking = vec![0u64; words];
    for (a, (_, level)) in cedar::ACTIONS.iter().enumerate() {
        let forbids = sat(a).iter().zip(permit_mask).map(|(s, p)| s & !p);
        let permits = sat(a).iter().zip(permit_mask).map(|(s, p)| s & p);
        let forbidden = forbids.clone().any(|w| w != 0);
        if !forbidden && permits.clone().any(|w| w != 0) {
            let reasons = permits.zip(&blocking).map(|(p, b)| p | b);
            return (*level, bits(reasons).collect());
        }
        for (b, f) in blocking.iter_mut().zip(forbids) {
            *b |= f;
        }
    }
    (Level::Denied, bits(blocking.into_iter()).collect())
}
