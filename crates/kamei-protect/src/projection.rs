//! The compiled projection: one principal's decisions for one table, applied to record
//! batches.
//!
//! Compiling picks, per projected column, one kernel per level that can occur, and the level
//! of each jurisdiction group. Applying reads the jurisdiction column once per batch into a
//! group per row, then per column either runs the one kernel over the whole array (every row
//! at one level, the common case) or runs each level's kernel only on the rows at that level
//! (`take`) and interleaves the results back into row order. Cedar is never consulted here.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::{Arc, OnceLock};

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch, RecordBatchOptions, UInt32Array};
use arrow::compute::{interleave, take};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use kamei_core::{
    Category, ColumnPlan, Jurisdiction, JurisdictionSource, Level, PiiType, Subject, TablePlan, Transform,
};
use kamei_detect::Detector;

use crate::directory::SubjectDirectory;
use crate::error::ProtectError;
use crate::kernels::{Kernel, KernelContext, Normalize, TextStyle, cast_to, pii_pseudonym};
use crate::keyring::DomainKeys;
use crate::subject_code::SubjectKeyCode;

/// The detector is built once per process: its automata are large and it is Send + Sync.
pub(crate) fn detector() -> &'static Detector {
    static DETECTOR: OnceLock<Detector> = OnceLock::new();
    DETECTOR.get_or_init(Detector::new)
}

/// One principal's protection for one table and one list of columns; cheap to build per
/// query, `Send + Sync`, applied to every batch of a scan or export.
#[derive(Debug)]
pub struct Projection {
    columns: Vec<ColumnProgram>,
    /// The subjects the projected columns belong to, each with where its jurisdiction is read.
    subjects: Vec<SubjectReader>,
    /// Per subject, the input index of its key column where the input has it (for the audit
    /// trail of who a batch was about).
    subject_keys: Vec<Option<usize>>,
    /// The jurisdictions with their own decisions; group `known.len()` is every other row.
    known: Vec<Jurisdiction>,
    output_schema: SchemaRef,
    keys: Arc<DomainKeys>,
    /// Whether a kernel runs the detector (it is built on first use only).
    needs_detector: bool,
}

/// The stored keys a subject-key column's protected value can come from
/// ([`Projection::lookup`]). Holds the domain's code key; prints none of it.
#[derive(Clone)]
pub struct KeyLookup {
    /// Some level reads the key as stored.
    raw: bool,
    codes: Arc<SubjectKeyCode>,
}

impl KeyLookup {
    /// The keys a row whose protected value is `value` can hold: `value` itself where some
    /// level is raw, and the key whose code it is. Empty when no row can show `value`.
    pub fn candidates(&self, value: i64) -> impl Iterator<Item = i64> + '_ {
        self.raw
            .then_some(value)
            .into_iter()
            .chain(self.codes.decode(value))
    }
}

impl fmt::Debug for KeyLookup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyLookup")
            .field("raw", &self.raw)
            .finish_non_exhaustive()
    }
}

#[derive(Debug)]
enum SubjectReader {
    /// The jurisdiction from a column of the row; where a directory is given and knows the
    /// subject's key (`key_index`) under another jurisdiction, the row is of unknown
    /// jurisdiction: which one holds is not guessed.
    Column {
        name: String,
        index: usize,
        key_index: Option<usize>,
        directory: Option<Arc<SubjectDirectory>>,
    },
    Fixed(Jurisdiction),
    Directory {
        key_index: usize,
        directory: Arc<SubjectDirectory>,
    },
}

#[derive(Debug)]
struct ColumnProgram {
    name: String,
    input_index: usize,
    category: Category,
    /// Indices into the projection's subjects: whose data this column is.
    subjects: Vec<usize>,
    /// Per jurisdiction group, the index into `levels`.
    group_slot: Vec<u8>,
    /// The distinct levels this column can be read at, each with its kernel.
    levels: Vec<LevelProgram>,
    output_type: DataType,
}

#[derive(Debug)]
struct LevelProgram {
    level: Level,
    kernel: Kernel,
    input_type: DataType,
    policies: Vec<String>,
    /// How much this level reveals (0: nothing, a suppressed or denied level); a cell about
    /// several people gets the least revealing level of theirs.
    reveals: u8,
}

/// What one projected column does, for the processing record and the audit log.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ColumnReport {
    pub column: String,
    pub category: Category,
    pub output_type: String,
    /// Per level that can occur: the transform and, where a key is used, its id.
    pub levels: Vec<LevelReport>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LevelReport {
    pub level: Level,
    /// The jurisdictions read at this level (`*` for any other or unknown jurisdiction).
    pub jurisdictions: Vec<String>,
    pub transform: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    pub policies: Vec<String>,
}

/// Per projected column, how many cells of a batch were read at each level (indexed by
/// [`Level::index`]; denied cells are the suppressed ones), and how many cells a kept column
/// suppressed because the detector found structured personal data in them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplyStats {
    pub cells_by_level: Vec<[u64; 4]>,
    pub suppressed_as_personal: Vec<u64>,
    /// Rows with a data subject whose jurisdiction is null, malformed or unknown (they get the
    /// fail-closed fallback).
    pub rows_with_unknown_jurisdiction: u64,
}

impl ApplyStats {
    /// Adds another batch's counts.
    pub fn add(&mut self, other: &ApplyStats) {
        if self.cells_by_level.len() < other.cells_by_level.len() {
            self.cells_by_level.resize(other.cells_by_level.len(), [0; 4]);
            self.suppressed_as_personal.resize(other.cells_by_level.len(), 0);
        }
        for (a, b) in self.cells_by_level.iter_mut().zip(&other.cells_by_level) {
            for (x, y) in a.iter_mut().zip(b) {
                *x += y;
            }
        }
        for (a, b) in self
            .suppressed_as_personal
            .iter_mut()
            .zip(&other.suppressed_as_personal)
        {
            *a += b;
        }
        self.rows_with_unknown_jurisdiction += other.rows_with_unknown_jurisdiction;
    }
}

impl Projection {
    /// Compiles the projection of `columns` (by name, in that order) of `plan` over data of
    /// `input_schema`. `directory` maps subject keys to jurisdictions for subjects whose
    /// jurisdiction is not in their row; it must be given when a projected column has such a
    /// subject. Errors if a column is denied for every jurisdiction (naming the deciding
    /// policies), unknown to the plan or the data, or of a type its category cannot hold.
    pub fn compile(
        plan: &TablePlan,
        input_schema: &SchemaRef,
        columns: &[&str],
        keys: &Arc<DomainKeys>,
        directory: Option<&Arc<SubjectDirectory>>,
    ) -> Result<Projection, ProtectError> {
        let plans: Vec<&ColumnPlan> = columns
            .iter()
            .map(|c| {
                plan.column(c).ok_or_else(|| ProtectError::UnknownColumn {
                    table: plan.table().to_owned(),
                    column: (*c).to_owned(),
                })
            })
            .collect::<Result<_, _>>()?;
        let known: Vec<Jurisdiction> = plans
            .iter()
            .flat_map(|p| p.jurisdictions())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if known.len() >= usize::from(u16::MAX) {
            return Err(ProtectError::TooManyJurisdictions {
                table: plan.table().to_owned(),
                count: known.len(),
            });
        }

        // The subjects the projected columns belong to, in plan order.
        let needed: BTreeSet<usize> = plans
            .iter()
            .flat_map(|p| p.subject_indices().iter().copied())
            .collect();
        let mut subjects = Vec::with_capacity(needed.len());
        let mut subject_keys = Vec::with_capacity(needed.len());
        let mut reader_of = Vec::with_capacity(needed.len());
        for s in needed {
            let subject = plan.subjects().get(s).ok_or_else(|| ProtectError::Internal {
                column: String::new(),
                message: format!("the plan names subject {s}, which it does not have"),
            })?;
            subjects.push(subject_reader(plan, subject, input_schema, directory)?);
            subject_keys.push(input_schema.index_of(&subject.key).ok());
            reader_of.push(s);
        }

        let mut programs = Vec::with_capacity(plans.len());
        let mut fields = Vec::with_capacity(plans.len());
        for cp in plans {
            if cp.max_level() == Level::Denied {
                return Err(ProtectError::DeniedColumn {
                    column: cp.column().to_owned(),
                    policies: cp.policies().into_iter().map(str::to_owned).collect(),
                });
            }
            let input_index =
                input_schema
                    .index_of(cp.column())
                    .map_err(|_| ProtectError::MissingColumn {
                        column: cp.column().to_owned(),
                    })?;
            let data_type = input_schema.field(input_index).data_type().clone();
            if !accepts(cp.category(), &data_type) {
                return Err(ProtectError::TypeMismatch {
                    column: cp.column().to_owned(),
                    category: cp.category(),
                    data_type: data_type.to_string(),
                });
            }
            let group_decisions = known.iter().map(|j| cp.decision(Some(*j))).chain([cp.fallback()]);
            let mut levels: Vec<LevelProgram> = Vec::new();
            let mut group_slot = Vec::with_capacity(known.len() + 1);
            for d in group_decisions {
                let slot = match levels.iter().position(|l| l.level == d.level) {
                    Some(slot) => slot,
                    None => {
                        let mut program = level_program(cp, d.level, &data_type)?;
                        // A jurisdiction column holds codes: anything else typed into it is
                        // suppressed, whatever level it is read at.
                        if is_jurisdiction_column(plan, cp.column())
                            && matches!(program.kernel, Kernel::Raw | Kernel::KeepChecked { .. })
                            && is_text(&data_type)
                        {
                            program.kernel = Kernel::JurisdictionCode;
                            program.input_type = DataType::Utf8;
                        }
                        levels.push(program);
                        levels.len() - 1
                    }
                };
                if let Some(l) = levels.get_mut(slot) {
                    for p in &d.policies {
                        if !l.policies.contains(p) {
                            l.policies.push(p.clone());
                        }
                    }
                }
                // At most one slot per level: four.
                group_slot.push(u8::try_from(slot).map_err(|_| ProtectError::Internal {
                    column: cp.column().to_owned(),
                    message: "more level slots than levels".into(),
                })?);
            }
            // One output type per column: the kernels' common type, else text (the raw value
            // printed), so rows of different levels fit one column.
            let types: BTreeSet<String> = levels
                .iter()
                .filter(|l| l.kernel != Kernel::Null)
                .map(|l| l.kernel.output_type(&l.input_type).to_string())
                .collect();
            let output_type = match levels.iter().find(|l| l.kernel != Kernel::Null) {
                Some(l) if types.len() == 1 => l.kernel.output_type(&l.input_type),
                _ => DataType::Utf8,
            };
            fields.push(Field::new(cp.column(), output_type.clone(), true));
            programs.push(ColumnProgram {
                name: cp.column().to_owned(),
                input_index,
                category: cp.category(),
                subjects: cp
                    .subject_indices()
                    .iter()
                    .filter_map(|s| reader_of.iter().position(|r| r == s))
                    .collect(),
                group_slot,
                levels,
                output_type,
            });
        }
        let needs_detector = programs
            .iter()
            .any(|c| c.levels.iter().any(|l| l.kernel.needs_detector()));
        Ok(Projection {
            needs_detector,
            columns: programs,
            subjects,
            subject_keys,
            known,
            output_schema: Arc::new(Schema::new(fields)),
            keys: keys.clone(),
        })
    }

    /// [`Projection::compile`] with the columns given by their indices in `input_schema`, as a
    /// query engine hands a scan's projection.
    pub fn compile_indices(
        plan: &TablePlan,
        input_schema: &SchemaRef,
        indices: &[usize],
        keys: &Arc<DomainKeys>,
        directory: Option<&Arc<SubjectDirectory>>,
    ) -> Result<Projection, ProtectError> {
        let names: Vec<&str> = indices
            .iter()
            .map(|i| {
                input_schema
                    .fields()
                    .get(*i)
                    .map(|f| f.name().as_str())
                    .ok_or_else(|| ProtectError::MissingColumn {
                        column: format!("#{i}"),
                    })
            })
            .collect::<Result<_, _>>()?;
        Projection::compile(plan, input_schema, &names, keys, directory)
    }

    /// Whether a projected column leaves every row exactly as it came in, whatever the row's
    /// jurisdiction: read raw everywhere, and not a text kept only after a check (non-personal
    /// text, jurisdiction codes). Only on such columns does a filter give the same answer
    /// before the projection as after it, so only they may be filtered in a source.
    pub fn passes_unchanged(&self, column: &str) -> bool {
        self.columns
            .iter()
            .find(|c| c.name == column)
            .is_some_and(|c| c.levels.iter().all(|l| matches!(l.kernel, Kernel::Raw)))
    }

    /// How an equality on a subject-key column's protected value maps to the stored keys, when
    /// every level reads the key raw, as its code, or not at all, and at least one as its
    /// code: a lookup by code can then be answered by the source from its own index.
    pub fn lookup(&self, column: &str) -> Option<KeyLookup> {
        let c = self.columns.iter().find(|c| c.name == column)?;
        let exact = c.output_type == DataType::Int64
            && c.levels.iter().all(|l| match l.kernel {
                Kernel::Raw => l.input_type == DataType::Int64,
                Kernel::SubjectKeyCode | Kernel::Null => true,
                _ => false,
            });
        let coded = c.levels.iter().any(|l| l.kernel == Kernel::SubjectKeyCode);
        if !exact || !coded {
            return None;
        }
        Some(KeyLookup {
            raw: c.levels.iter().any(|l| l.kernel == Kernel::Raw),
            codes: Arc::new(SubjectKeyCode::new(&self.keys).ok()?),
        })
    }

    /// The schema of the batches `apply` returns.
    pub fn output_schema(&self) -> SchemaRef {
        self.output_schema.clone()
    }

    /// What each column does at each level, with the key ids used.
    pub fn report(&self) -> Vec<ColumnReport> {
        self.columns
            .iter()
            .map(|c| ColumnReport {
                column: c.name.clone(),
                category: c.category,
                output_type: c.output_type.to_string(),
                levels: c
                    .levels
                    .iter()
                    .enumerate()
                    .map(|(slot, l)| LevelReport {
                        level: l.level,
                        jurisdictions: c
                            .group_slot
                            .iter()
                            .enumerate()
                            .filter(|(_, s)| usize::from(**s) == slot)
                            .map(|(g, _)| self.known.get(g).map_or("*".to_owned(), |j| j.to_string()))
                            .collect(),
                        transform: l.kernel.name(),
                        key_id: l.kernel.key_purpose().map(|p| match p {
                            crate::KeyPurpose::Token => self.keys.token_key_id().to_owned(),
                            crate::KeyPurpose::Pseudonym | crate::KeyPurpose::AuditSigning => {
                                self.keys.pseudonym_key_id().to_owned()
                            }
                        }),
                        policies: l.policies.clone(),
                    })
                    .collect(),
            })
            .collect()
    }

    /// Applies the levels to one batch.
    pub fn apply(&self, batch: &RecordBatch) -> Result<RecordBatch, ProtectError> {
        self.apply_with_stats(batch).map(|(b, _)| b)
    }

    /// Applies the levels to one batch and counts the cells read at each level per column.
    pub fn apply_with_stats(&self, batch: &RecordBatch) -> Result<(RecordBatch, ApplyStats), ProtectError> {
        self.apply_inner(batch, None)
    }

    /// Applies the levels to one batch and says whose data it returned: per subject of the
    /// projection, each row's key column (its index in the input, where the input has it),
    /// jurisdiction and the most revealing level a column of theirs was read at in that row.
    pub fn apply_traced(
        &self,
        batch: &RecordBatch,
    ) -> Result<(RecordBatch, ApplyStats, Vec<SubjectRows>), ProtectError> {
        let mut trace = Vec::with_capacity(self.subjects.len());
        let (out, stats) = self.apply_inner(batch, Some(&mut trace))?;
        Ok((out, stats, trace))
    }

    fn apply_inner(
        &self,
        batch: &RecordBatch,
        mut trace: Option<&mut Vec<SubjectRows>>,
    ) -> Result<(RecordBatch, ApplyStats), ProtectError> {
        let rows = batch.num_rows();
        let groups = self
            .subjects
            .iter()
            .map(|s| self.groups(s, batch))
            .collect::<Result<Vec<_>, _>>()?;
        let ctx = KernelContext {
            keys: &self.keys,
            detector: self.needs_detector.then(detector),
        };
        let other = self.known.len() as u16;
        let unknown = (0..rows)
            .filter(|r| {
                groups.iter().any(|g| match g {
                    Groups::All(g) => *g == other,
                    Groups::PerRow(v) => v.get(*r) == Some(&other),
                })
            })
            .count();
        let mut stats = ApplyStats {
            cells_by_level: Vec::with_capacity(self.columns.len()),
            suppressed_as_personal: Vec::with_capacity(self.columns.len()),
            rows_with_unknown_jurisdiction: unknown as u64,
        };
        if let Some(trace) = trace.as_deref_mut() {
            for (s, (groups, key_index)) in groups.iter().zip(&self.subject_keys).enumerate() {
                let jurisdictions = (0..rows)
                    .map(|r| {
                        let g = match groups {
                            Groups::All(g) => *g,
                            Groups::PerRow(v) => v.get(r).copied().unwrap_or(other),
                        };
                        self.known.get(usize::from(g)).copied()
                    })
                    .collect();
                trace.push(SubjectRows {
                    subject: s,
                    key_index: *key_index,
                    jurisdictions,
                    levels: vec![None; rows],
                });
            }
        }
        let mut arrays = Vec::with_capacity(self.columns.len());
        for c in &self.columns {
            let input = batch.column(c.input_index);
            let internal = |message: String| ProtectError::Internal {
                column: c.name.clone(),
                message,
            };
            let mut checked = 0u64;
            let mut run = |slot: usize, values: &ArrayRef| -> Result<ArrayRef, ProtectError> {
                let l = c
                    .levels
                    .get(slot)
                    .ok_or_else(|| internal(format!("no level in slot {slot}")))?;
                if l.kernel == Kernel::Null {
                    return Ok(arrow::array::new_null_array(&c.output_type, values.len()));
                }
                let cast_in = cast_to(values, &l.input_type).map_err(internal)?;
                let out = l.kernel.apply(&cast_in, &ctx).map_err(internal)?;
                if matches!(l.kernel, Kernel::KeepChecked { .. } | Kernel::JurisdictionCode) {
                    checked += (out.null_count() - cast_in.null_count()) as u64;
                }
                cast_to(&out, &c.output_type).map_err(internal)
            };
            let slots = c.slots(&groups, rows).map_err(internal)?;
            if let Some(trace) = trace.as_deref_mut() {
                c.trace(&slots, rows, trace);
            }
            let mut counts = vec![0usize; c.levels.len()];
            match &slots {
                Slots::All(s) => {
                    if let Some(n) = counts.get_mut(usize::from(*s)) {
                        *n = rows;
                    }
                }
                Slots::PerRow(v) => {
                    for s in v {
                        if let Some(n) = counts.get_mut(usize::from(*s)) {
                            *n += 1;
                        }
                    }
                }
            }
            let mut by_level = [0u64; 4];
            for (l, n) in c.levels.iter().zip(&counts) {
                if let Some(cells) = by_level.get_mut(l.level.index()) {
                    *cells += *n as u64;
                }
            }
            stats.cells_by_level.push(by_level);
            let out = match &slots {
                _ if rows == 0 => arrow::array::new_null_array(&c.output_type, 0),
                Slots::All(s) => run(usize::from(*s), input)?,
                // Every row at one level (the common case): the kernel over the whole array.
                Slots::PerRow(v) if v.iter().all(|s| Some(s) == v.first()) => {
                    run(v.first().map_or(0, |s| usize::from(*s)), input)?
                }
                Slots::PerRow(slots) => {
                    // Each level's kernel only on its rows, then back into row order.
                    let mut pieces: Vec<ArrayRef> = Vec::with_capacity(c.levels.len());
                    let mut piece_of_slot = vec![usize::MAX; c.levels.len()];
                    for (slot, n) in counts.iter().enumerate() {
                        if *n == 0 {
                            continue;
                        }
                        let indices: UInt32Array = slots
                            .iter()
                            .enumerate()
                            .filter(|(_, s)| usize::from(**s) == slot)
                            .map(|(i, _)| i as u32)
                            .collect();
                        let taken =
                            take(input.as_ref(), &indices, None).map_err(|e| internal(e.to_string()))?;
                        if let Some(p) = piece_of_slot.get_mut(slot) {
                            *p = pieces.len();
                        }
                        pieces.push(run(slot, &taken)?);
                    }
                    // Every slot of a row was counted above, so each has its piece and position.
                    let mut position = vec![0usize; c.levels.len()];
                    let order: Vec<(usize, usize)> = slots
                        .iter()
                        .map(|s| {
                            let s = usize::from(*s);
                            let (Some(p), Some(piece)) = (position.get_mut(s), piece_of_slot.get(s)) else {
                                return Err(internal(format!("no piece for slot {s}")));
                            };
                            *p += 1;
                            Ok((*piece, *p - 1))
                        })
                        .collect::<Result<_, _>>()?;
                    let refs: Vec<&dyn Array> = pieces.iter().map(|p| p.as_ref()).collect();
                    interleave(&refs, &order).map_err(|e| internal(e.to_string()))?
                }
            };
            stats.suppressed_as_personal.push(checked);
            arrays.push(out);
        }
        let batch = RecordBatch::try_new_with_options(
            self.output_schema.clone(),
            arrays,
            &RecordBatchOptions::new().with_row_count(Some(rows)),
        )
        .map_err(|e| ProtectError::Internal {
            column: String::new(),
            message: e.to_string(),
        })?;
        Ok((batch, stats))
    }

    /// The jurisdiction group of one subject in every row: one lookup per row in a list of
    /// at most a few two-letter codes.
    fn groups(&self, subject: &SubjectReader, batch: &RecordBatch) -> Result<Groups, ProtectError> {
        let other = self.known.len() as u16;
        let group_of = |j: Option<Jurisdiction>| -> u16 {
            j.and_then(|j| self.known.iter().position(|k| *k == j))
                .map_or(other, |g| g as u16)
        };
        match subject {
            SubjectReader::Fixed(j) => Ok(Groups::All(group_of(Some(*j)))),
            SubjectReader::Directory { key_index, directory } => {
                let found =
                    directory
                        .lookup(batch.column(*key_index))
                        .map_err(|message| ProtectError::Internal {
                            column: String::new(),
                            message,
                        })?;
                Ok(Groups::PerRow(found.into_iter().map(group_of).collect()))
            }
            SubjectReader::Column {
                name,
                index,
                key_index,
                directory,
            } => {
                let column = cast_to(batch.column(*index), &DataType::Utf8).map_err(|message| {
                    ProtectError::JurisdictionType {
                        column: name.clone(),
                        data_type: message,
                    }
                })?;
                let values = column
                    .as_string_opt::<i32>()
                    .ok_or_else(|| ProtectError::JurisdictionType {
                        column: name.clone(),
                        data_type: batch.column(*index).data_type().to_string(),
                    })?;
                let codes: Vec<&[u8]> = self.known.iter().map(|j| j.as_str().as_bytes()).collect();
                let mut groups: Vec<u16> = values
                    .iter()
                    .map(|v| {
                        v.and_then(|v| codes.iter().position(|c| *c == v.as_bytes()))
                            .map_or(other, |g| g as u16)
                    })
                    .collect();
                if let (Some(key_index), Some(directory)) = (key_index, directory) {
                    let listed = directory.lookup(batch.column(*key_index)).map_err(|message| {
                        ProtectError::Internal {
                            column: name.clone(),
                            message,
                        }
                    })?;
                    for ((g, listed), v) in groups.iter_mut().zip(listed).zip(values.iter()) {
                        if let Some(listed) = listed
                            && v != Some(listed.as_str())
                        {
                            *g = other;
                        }
                    }
                }
                Ok(Groups::PerRow(groups))
            }
        }
    }
}

fn is_jurisdiction_column(plan: &TablePlan, column: &str) -> bool {
    plan.subjects()
        .iter()
        .any(|s| matches!(&s.jurisdiction, JurisdictionSource::Column(c) if c == column))
}

/// Where one subject's jurisdiction is read, checked against the input.
fn subject_reader(
    plan: &TablePlan,
    subject: &Subject,
    input_schema: &SchemaRef,
    directory: Option<&Arc<SubjectDirectory>>,
) -> Result<SubjectReader, ProtectError> {
    let index_of = |name: &str| {
        input_schema
            .index_of(name)
            .map_err(|_| ProtectError::MissingColumn {
                column: name.to_owned(),
            })
    };
    Ok(match &subject.jurisdiction {
        JurisdictionSource::Fixed(j) => SubjectReader::Fixed(*j),
        JurisdictionSource::Column(name) => {
            let index = index_of(name)?;
            let dt = input_schema.field(index).data_type();
            if !is_text(dt) {
                return Err(ProtectError::JurisdictionType {
                    column: name.clone(),
                    data_type: dt.to_string(),
                });
            }
            SubjectReader::Column {
                name: name.clone(),
                index,
                key_index: input_schema.index_of(&subject.key).ok(),
                directory: directory.cloned(),
            }
        }
        JurisdictionSource::Directory => SubjectReader::Directory {
            key_index: index_of(&subject.key)?,
            directory: directory.cloned().ok_or_else(|| ProtectError::NoDirectory {
                table: plan.table().to_owned(),
                key: subject.key.clone(),
            })?,
        },
    })
}

/// The kernel of one level of a column: the catalog's choice, else the category's default.
fn level_program(cp: &ColumnPlan, level: Level, data_type: &DataType) -> Result<LevelProgram, ProtectError> {
    let chosen = cp.transforms().at(level);
    let kernel = match chosen {
        // Checked again here: a plan may come from elsewhere than the catalog.
        Some(t) if !(t.allowed_at(level) && t.fits(cp.category())) => None,
        Some(t) => chosen_kernel(t, cp.category(), data_type),
        None => select(cp.category(), level, data_type),
    };
    // The catalog's redaction profile, wherever this column's text is redacted.
    let kernel = kernel.map(|k| match k {
        Kernel::RedactText { style, .. } => Kernel::RedactText {
            style,
            profile: cp.transforms().redaction_profile(),
        },
        k => k,
    });
    let kernel = kernel.ok_or_else(|| ProtectError::NoTransform {
        column: cp.column().to_owned(),
        category: cp.category(),
        level,
        data_type: data_type.to_string(),
    })?;
    let reveals = match (&kernel, level) {
        (Kernel::Null, _) | (_, Level::Denied) => 0,
        (_, level) => level.index() as u8,
    };
    Ok(LevelProgram {
        level,
        input_type: kernel.input_type(data_type),
        kernel,
        policies: Vec::new(),
        reveals,
    })
}

/// Whose data one batch returned, for one subject of a projection (see
/// [`Projection::apply_traced`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectRows {
    /// The subject's position among the projection's subjects.
    pub subject: usize,
    /// The input index of the subject's key column, where the input has it.
    pub key_index: Option<usize>,
    /// Per row, the subject's jurisdiction (`None`: unknown, read at the fallback).
    pub jurisdictions: Vec<Option<Jurisdiction>>,
    /// Per row, the most revealing level a projected column of theirs was read at; `None`
    /// where nothing of theirs left (no column of theirs projected, or all denied).
    pub levels: Vec<Option<Level>>,
}

impl ColumnProgram {
    /// Raises each row's level of this column's subjects to the level this column was read at.
    fn trace(&self, slots: &Slots, rows: usize, trace: &mut [SubjectRows]) {
        let level_of = |slot: u8| {
            self.levels
                .get(usize::from(slot))
                .filter(|l| l.reveals > 0)
                .map(|l| l.level)
        };
        for s in &self.subjects {
            let Some(t) = trace.get_mut(*s) else { continue };
            for (r, current) in t.levels.iter_mut().enumerate().take(rows) {
                let slot = match slots {
                    Slots::All(slot) => Some(*slot),
                    Slots::PerRow(v) => v.get(r).copied(),
                };
                if let Some(l) = slot.and_then(level_of)
                    && current.is_none_or(|c| c.index() < l.index())
                {
                    *current = Some(l);
                }
            }
        }
    }

    /// The level slot of every row: its subject's group's slot, or for a column about several
    /// people the least revealing of their slots.
    fn slots(&self, groups: &[Groups], rows: usize) -> Result<Slots, String> {
        let slot_of = |g: u16| -> Result<u8, String> {
            self.group_slot
                .get(usize::from(g))
                .copied()
                .ok_or_else(|| format!("no slot for group {g}"))
        };
        let reveals = |slot: u8| self.levels.get(usize::from(slot)).map_or(0, |l| l.reveals);
        let mine: Vec<&Groups> = self
            .subjects
            .iter()
            .map(|s| groups.get(*s).ok_or_else(|| format!("no subject {s}")))
            .collect::<Result<_, _>>()?;
        let least = |a: u8, b: u8| if reveals(b) < reveals(a) { b } else { a };
        match mine.as_slice() {
            [] => Err("a column with no subject".into()),
            [Groups::All(g)] => Ok(Slots::All(slot_of(*g)?)),
            [Groups::PerRow(v)] => Ok(Slots::PerRow(
                v.iter().map(|g| slot_of(*g)).collect::<Result<_, _>>()?,
            )),
            [first, rest @ ..] => {
                let mut slots: Vec<u8> = match first {
                    Groups::All(g) => vec![slot_of(*g)?; rows],
                    Groups::PerRow(v) => v.iter().map(|g| slot_of(*g)).collect::<Result<_, _>>()?,
                };
                for other in rest {
                    match other {
                        Groups::All(g) => {
                            let s = slot_of(*g)?;
                            for x in &mut slots {
                                *x = least(*x, s);
                            }
                        }
                        Groups::PerRow(v) => {
                            if v.len() != slots.len() {
                                return Err("subjects of different row counts".into());
                            }
                            for (x, g) in slots.iter_mut().zip(v) {
                                *x = least(*x, slot_of(*g)?);
                            }
                        }
                    }
                }
                Ok(Slots::PerRow(slots))
            }
        }
    }
}

/// The jurisdiction group of one subject: the same for every row, or one per row.
enum Groups {
    All(u16),
    PerRow(Vec<u16>),
}

/// The level slot of a column: the same for every row, or one per row.
enum Slots {
    All(u8),
    PerRow(Vec<u8>),
}

fn is_text(dt: &DataType) -> bool {
    match dt {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
        DataType::Dictionary(_, v) => is_text(v),
        _ => false,
    }
}

pub(crate) fn is_int(dt: &DataType) -> bool {
    matches!(
        dt,
        DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
    )
}

fn is_date(dt: &DataType) -> bool {
    matches!(dt, DataType::Date32 | DataType::Date64 | DataType::Timestamp(..))
}

/// Whether data of type `dt` can hold what the catalog says the column holds: a mismatch is
/// a catalog or data error, reported before any value is read.
fn accepts(category: Category, dt: &DataType) -> bool {
    match category {
        Category::NonPersonal => true,
        Category::SubjectKey | Category::AccountId => is_int(dt) || is_text(dt),
        Category::FreeText => is_text(dt),
        Category::QuasiIdentifier => is_text(dt) || is_int(dt) || is_date(dt) || dt == &DataType::Boolean,
        Category::Pii(PiiType::DateOfBirth) => is_date(dt) || is_text(dt),
        Category::Pii(
            PiiType::Email
            | PiiType::Phone
            | PiiType::CreditCard
            | PiiType::MyNumber
            | PiiType::CorporateNumber
            | PiiType::PostalCode
            | PiiType::Address
            | PiiType::Person
            | PiiType::IpAddress
            | PiiType::Iban
            | PiiType::Passport
            | PiiType::DriverLicense
            | PiiType::BankAccount,
        ) => is_text(dt) || is_int(dt),
    }
}

/// The kernel of a transform the catalog chose; `None` when the column's data type cannot
/// take it (the catalog already checked level and category).
fn chosen_kernel(transform: Transform, category: Category, dt: &DataType) -> Option<Kernel> {
    let kernel = match transform {
        Transform::Suppress => Kernel::Null,
        Transform::Keep => keep_checked(category, dt),
        Transform::Pseudonym => return select(category, Level::Pseudonymized, dt),
        Transform::Token => Kernel::TokenSiv,
        Transform::TokenDigits => Kernel::TokenFf1,
        Transform::MaskDigits => Kernel::MaskDigits { keep_last: 4 },
        Transform::MaskEmail => Kernel::MaskEmail,
        Transform::FirstChar => Kernel::FirstChar,
        Transform::Prefecture => Kernel::Prefecture,
        Transform::PostalPrefix => Kernel::PostalPrefix,
        Transform::Year | Transform::YearMonth if !(is_date(dt) || is_text(dt)) => return None,
        Transform::Year => Kernel::Year,
        Transform::YearMonth => Kernel::YearMonth,
        Transform::AgeBand if !is_int(dt) => return None,
        Transform::AgeBand => Kernel::AgeBand,
        Transform::RedactTags => redact_text(TextStyle::Tags),
        Transform::RedactPseudonyms => redact_text(TextStyle::Pseudonyms),
    };
    Some(kernel)
}

/// Free-text redaction at the default profile; [`level_program`] puts the column's own.
fn redact_text(style: TextStyle) -> Kernel {
    Kernel::RedactText {
        style,
        profile: kamei_core::RedactionProfile::DEFAULT,
    }
}

/// A column kept as it is below raw: text is checked for structured personal data on the way
/// (a number or a date cannot hold an e-mail address), a quasi-identifier's for names too (a
/// name typed into `gender`; a merchant of a non-personal column may look like a surname).
fn keep_checked(category: Category, dt: &DataType) -> Kernel {
    if is_text(dt) {
        Kernel::KeepChecked {
            names: category == Category::QuasiIdentifier,
        }
    } else {
        Kernel::Raw
    }
}

/// The default transform of a category at a level (DESIGN.md, "Levels mean, per category").
fn select(category: Category, level: Level, dt: &DataType) -> Option<Kernel> {
    let text_pseudonym = |family: &'static str, prefix: &'static str| Kernel::PseudonymText {
        family,
        prefix,
        normalize: Normalize::Exact,
    };
    let kernel = match level {
        // A column said to be non-personal is granted raw to everyone: its text is checked on
        // the way, so personal data typed into it (a phone in a `reason`) is suppressed and
        // counted instead of read raw by all.
        Level::Raw if category == Category::NonPersonal => keep_checked(category, dt),
        Level::Raw => Kernel::Raw,
        Level::Denied => Kernel::Null,
        Level::Pseudonymized => match category {
            Category::Pii(t) => {
                let (family, prefix, normalize) = pii_pseudonym(t);
                Kernel::PseudonymText {
                    family,
                    prefix,
                    normalize,
                }
            }
            Category::SubjectKey if is_int(dt) => Kernel::SubjectKeyCode,
            Category::SubjectKey => text_pseudonym("SUBJECT_KEY", "uid_"),
            Category::AccountId => text_pseudonym("ACCOUNT_ID", "acct_"),
            Category::FreeText => redact_text(TextStyle::Pseudonyms),
            Category::QuasiIdentifier if is_int(dt) => Kernel::PseudonymInt {
                family: "QUASI_IDENTIFIER",
            },
            Category::QuasiIdentifier => text_pseudonym("QUASI_IDENTIFIER", "qi_"),
            Category::NonPersonal if is_int(dt) => Kernel::PseudonymInt {
                family: "NON_PERSONAL",
            },
            Category::NonPersonal => text_pseudonym("NON_PERSONAL", "id_"),
        },
        Level::Masked => match category {
            Category::Pii(t) => match t {
                PiiType::Phone | PiiType::CreditCard | PiiType::BankAccount => {
                    Kernel::MaskDigits { keep_last: 4 }
                }
                PiiType::Iban => Kernel::MaskAlnum { keep_last: 4 },
                // Regulated identifiers reveal nothing when masked (My Number Act, passports,
                // licences); corporate numbers and IP addresses likewise.
                PiiType::MyNumber
                | PiiType::CorporateNumber
                | PiiType::Passport
                | PiiType::DriverLicense
                | PiiType::IpAddress => Kernel::MaskAlnum { keep_last: 0 },
                PiiType::Email => Kernel::MaskEmail,
                PiiType::Address => Kernel::Prefecture,
                PiiType::PostalCode => Kernel::PostalPrefix,
                PiiType::Person => Kernel::FirstChar,
                PiiType::DateOfBirth => Kernel::Year,
            },
            // An id has no partial reveal: masked is its pseudonym.
            Category::SubjectKey if is_int(dt) => Kernel::SubjectKeyCode,
            Category::SubjectKey => text_pseudonym("SUBJECT_KEY", "uid_"),
            Category::AccountId => Kernel::FirstChar,
            Category::FreeText => redact_text(TextStyle::Tags),
            Category::QuasiIdentifier if is_int(dt) => Kernel::AgeBand,
            Category::QuasiIdentifier if is_date(dt) => Kernel::YearMonth,
            // A categorical quasi-identifier (gender) is already coarse; `kamei deid`
            // measures what the combination reveals (k-anonymity).
            Category::QuasiIdentifier | Category::NonPersonal => keep_checked(category, dt),
        },
    };
    Some(kernel)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use arrow::array::{Date32Array, Int64Array, StringArray};
    use arrow::datatypes::Int64Type;
    use kamei_core::Decision;

    use super::*;

    fn d(level: Level) -> Decision {
        Decision {
            level,
            policies: vec![format!("p-{level}")],
        }
    }

    fn col(name: &str, category: Category, jp: Level, th: Level) -> ColumnPlan {
        ColumnPlan::new(
            name.into(),
            category,
            BTreeMap::from([(Jurisdiction::JP, d(jp)), (Jurisdiction::TH, d(th))]),
        )
    }

    fn plan(domain: &str, columns: Vec<ColumnPlan>) -> TablePlan {
        plan_with(domain, "country", columns)
    }

    fn plan_with(domain: &str, jurisdiction_column: &str, columns: Vec<ColumnPlan>) -> TablePlan {
        let subjects = vec![Subject {
            key: "user_id".into(),
            jurisdiction: JurisdictionSource::Column(jurisdiction_column.into()),
        }];
        TablePlan::new("p".into(), domain.into(), "users".into(), subjects, columns).unwrap()
    }

    fn batch() -> RecordBatch {
        RecordBatch::try_from_iter([
            (
                "user_id",
                Arc::new(Int64Array::from(vec![1, 2, 3, 4])) as ArrayRef,
            ),
            (
                "phone",
                Arc::new(StringArray::from(vec![
                    Some("090-1111-2222"),
                    Some("+66 81 234 5678"),
                    None,
                    Some("090-3333-4444"),
                ])),
            ),
            (
                "birth_date",
                Arc::new(Date32Array::from(vec![
                    Some(6_273),
                    Some(7_000),
                    Some(8_000),
                    None,
                ])),
            ),
            (
                "country",
                Arc::new(StringArray::from(vec![
                    Some("JP"),
                    Some("TH"),
                    Some("JP"),
                    Some("jp"),
                ])),
            ),
            ("secret", Arc::new(StringArray::from(vec!["a", "b", "c", "d"]))),
        ])
        .unwrap()
    }

    fn support_plan() -> TablePlan {
        plan(
            "line-jp",
            vec![
                col("user_id", Category::SubjectKey, Level::Raw, Level::Pseudonymized),
                col(
                    "phone",
                    Category::Pii(PiiType::Phone),
                    Level::Raw,
                    Level::Pseudonymized,
                ),
                col(
                    "birth_date",
                    Category::Pii(PiiType::DateOfBirth),
                    Level::Raw,
                    Level::Masked,
                ),
                col("country", Category::NonPersonal, Level::Raw, Level::Raw),
                col(
                    "secret",
                    Category::Pii(PiiType::MyNumber),
                    Level::Denied,
                    Level::Denied,
                ),
            ],
        )
    }

    #[test]
    fn rows_get_the_level_of_their_jurisdiction() {
        let b = batch();
        let keys = Arc::new(DomainKeys::for_testing("line-jp"));
        let p = Projection::compile(
            &support_plan(),
            &b.schema(),
            &["user_id", "phone", "birth_date", "country"],
            &keys,
            None,
        )
        .unwrap();
        let (out, stats) = p.apply_with_stats(&b).unwrap();
        let ids = out.column(0).as_primitive::<Int64Type>();
        assert_eq!(ids.value(0), 1);
        assert_ne!(ids.value(1), 2);
        assert_eq!(ids.value(2), 3);
        // Lower-case `jp` is not a jurisdiction: the least revealing known level applies.
        assert_ne!(ids.value(3), 4);
        let phones = out.column(1).as_string::<i32>();
        assert_eq!(phones.value(0), "090-1111-2222");
        assert!(phones.value(1).starts_with("tel_"));
        assert!(phones.is_null(2));
        assert!(phones.value(3).starts_with("tel_"));
        // Raw for JP, a year for TH: one text column.
        let dates = out.column(2).as_string::<i32>();
        assert_eq!(dates.value(0), "1987-03-06");
        assert_eq!(dates.value(1), "1989");
        assert!(dates.is_null(3));
        assert_eq!(out.schema().field(2).data_type(), &DataType::Utf8);
        assert_eq!(stats.cells_by_level[1], [0, 2, 0, 2]);
    }

    #[test]
    fn a_lookup_names_the_stored_keys_a_protected_value_can_come_from() {
        let b = batch();
        let keys = Arc::new(DomainKeys::for_testing("line-jp"));
        let names = ["user_id", "phone", "country"];
        let support = Projection::compile(&support_plan(), &b.schema(), &names, &keys, None).unwrap();
        let lookup = support.lookup("user_id").unwrap();
        let out = support.apply(&b).unwrap();
        let shown = out
            .column_by_name("user_id")
            .unwrap()
            .as_primitive::<Int64Type>()
            .clone();
        let stored = b
            .column_by_name("user_id")
            .unwrap()
            .as_primitive::<Int64Type>()
            .clone();
        for (shown, stored) in shown.iter().zip(stored.iter()) {
            let candidates: Vec<i64> = lookup.candidates(shown.unwrap()).collect();
            assert!(candidates.contains(&stored.unwrap()), "{candidates:?}");
            assert!(candidates.len() <= 2);
        }
        // Codes start at 2^62: a small number is a raw key only.
        assert_eq!(lookup.candidates(3).collect::<Vec<_>>(), [3]);
        assert!(support.lookup("phone").is_none());
        // Coded everywhere: only the code's key; raw everywhere: no lookup (it passes unchanged).
        let coded = plan(
            "ldt-shanghai",
            vec![col(
                "user_id",
                Category::SubjectKey,
                Level::Pseudonymized,
                Level::Masked,
            )],
        );
        let p = Projection::compile(&coded, &b.schema(), &["user_id"], &keys, None).unwrap();
        assert_eq!(p.lookup("user_id").unwrap().candidates(3).count(), 0);
        let raw = plan(
            "line-jp",
            vec![col("user_id", Category::SubjectKey, Level::Raw, Level::Raw)],
        );
        let p = Projection::compile(&raw, &b.schema(), &["user_id"], &keys, None).unwrap();
        assert!(p.lookup("user_id").is_none() && p.passes_unchanged("user_id"));
    }

    #[test]
    fn only_columns_raw_everywhere_and_unchecked_pass_unchanged() {
        let b = batch();
        let keys = Arc::new(DomainKeys::for_testing("line-jp"));
        let mut columns = support_plan().columns().to_vec();
        columns.push(col("amount", Category::NonPersonal, Level::Raw, Level::Raw));
        columns.push(col(
            "created",
            Category::Pii(PiiType::DateOfBirth),
            Level::Raw,
            Level::Raw,
        ));
        let mut b = b;
        for (name, array) in [
            ("amount", Arc::new(Int64Array::from(vec![1, 2, 3, 4])) as ArrayRef),
            ("created", Arc::new(Date32Array::from(vec![1, 2, 3, 4]))),
        ] {
            let mut fields = b.schema().fields().to_vec();
            fields.push(Arc::new(Field::new(name, array.data_type().clone(), true)));
            let mut arrays = b.columns().to_vec();
            arrays.push(array);
            b = RecordBatch::try_new(Arc::new(arrow::datatypes::Schema::new(fields)), arrays).unwrap();
        }
        let plan = plan("line-jp", columns);
        let names = ["user_id", "phone", "birth_date", "country", "amount", "created"];
        let p = Projection::compile(&plan, &b.schema(), &names, &keys, None).unwrap();
        // Raw for JP only; a jurisdiction code (checked); raw everywhere (a number, a date).
        assert!(!p.passes_unchanged("user_id") && !p.passes_unchanged("phone"));
        assert!(!p.passes_unchanged("country") && !p.passes_unchanged("secret"));
        assert!(p.passes_unchanged("amount") && p.passes_unchanged("created"));
        let out = p.apply(&b).unwrap();
        for name in ["amount", "created"] {
            assert_eq!(out.column_by_name(name).unwrap(), b.column_by_name(name).unwrap());
        }
    }

    /// Issue 17: free text is redacted at the recall profile unless the catalog chose
    /// balanced, and the processing record says which.
    #[test]
    fn free_text_is_redacted_at_the_catalogs_profile_recall_by_default() {
        let b = RecordBatch::try_from_iter([
            ("user_id", Arc::new(Int64Array::from(vec![1])) as ArrayRef),
            (
                "body",
                Arc::new(StringArray::from(vec!["Order #4111 1111 1111 1111"])) as ArrayRef,
            ),
            ("country", Arc::new(StringArray::from(vec!["JP"])) as ArrayRef),
        ])
        .unwrap();
        let keys = Arc::new(DomainKeys::for_testing("ldt"));
        let run = |profile: Option<kamei_core::RedactionProfile>| {
            let body = col("body", Category::FreeText, Level::Masked, Level::Pseudonymized).with_transforms(
                kamei_core::TransformChoice {
                    profile,
                    ..Default::default()
                },
            );
            let proj =
                Projection::compile(&plan("ldt", vec![body]), &b.schema(), &["body"], &keys, None).unwrap();
            let out = proj.apply(&b).unwrap();
            let text = out.column(0).as_string::<i32>().value(0).to_owned();
            (text, proj.report()[0].levels[0].transform.clone())
        };
        let (recall, named) = run(None);
        assert!(!recall.contains("1111 1111"), "{recall}");
        assert_eq!(named, "redact-text (type tags, recall profile)");
        let (_, named) = run(Some(kamei_core::RedactionProfile::Balanced));
        assert_eq!(named, "redact-text (type tags, balanced profile)");
    }

    #[test]
    fn a_catalogs_chosen_transforms_replace_the_defaults() {
        let b = batch();
        let chosen = kamei_core::TransformChoice {
            masked: Some(Transform::Suppress),
            pseudonymized: Some(Transform::TokenDigits),
            profile: None,
        };
        let p = plan(
            "line-jp",
            vec![
                col(
                    "phone",
                    Category::Pii(PiiType::Phone),
                    Level::Pseudonymized,
                    Level::Masked,
                )
                .with_transforms(chosen),
            ],
        );
        let keys = Arc::new(DomainKeys::for_testing("line-jp"));
        let proj = Projection::compile(&p, &b.schema(), &["phone"], &keys, None).unwrap();
        let out = proj.apply(&b).unwrap();
        let phones = out.column(0).as_string::<i32>();
        // JP at pseudonymized: a format-preserving token, same shape, other digits.
        assert_eq!(phones.value(0).len(), "090-1111-2222".len());
        assert_eq!(&phones.value(0)[3..4], "-");
        assert_ne!(phones.value(0), "090-1111-2222");
        // TH at masked: suppressed, as chosen.
        assert!(phones.is_null(1));
        let report = proj.report();
        let transforms: Vec<_> = report[0].levels.iter().map(|l| l.transform.as_str()).collect();
        assert!(
            transforms.contains(&"token (FF1, format-preserving)"),
            "{transforms:?}"
        );
        assert!(transforms.contains(&"suppress"), "{transforms:?}");
        // A data type the chosen transform cannot take is an error at compile time.
        let age = col(
            "birth_date",
            Category::QuasiIdentifier,
            Level::Masked,
            Level::Masked,
        )
        .with_transforms(kamei_core::TransformChoice {
            masked: Some(Transform::AgeBand),
            pseudonymized: None,
            profile: None,
        });
        let err = Projection::compile(&plan("o", vec![age]), &b.schema(), &["birth_date"], &keys, None)
            .unwrap_err();
        assert!(err.to_string().contains("birth_date"), "{err}");
    }

    #[test]
    fn a_column_denied_everywhere_is_an_error_naming_the_policies() {
        let b = batch();
        let err = Projection::compile(
            &support_plan(),
            &b.schema(),
            &["secret"],
            &Arc::new(DomainKeys::for_testing("x")),
            None,
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            err,
            "column `secret` is denied for every jurisdiction (decided by `p-denied`)"
        );
    }

    #[test]
    fn denied_rows_are_suppressed_and_counted() {
        let b = batch();
        let p = plan(
            "org",
            vec![col(
                "phone",
                Category::Pii(PiiType::Phone),
                Level::Masked,
                Level::Denied,
            )],
        );
        let proj = Projection::compile(
            &p,
            &b.schema(),
            &["phone"],
            &Arc::new(DomainKeys::for_testing("org")),
            None,
        )
        .unwrap();
        let (out, stats) = proj.apply_with_stats(&b).unwrap();
        let phones = out.column(0).as_string::<i32>();
        assert_eq!(phones.value(0), "****2222");
        assert!(phones.is_null(1), "TH is denied");
        assert!(
            phones.is_null(3),
            "unknown jurisdictions get the least revealing level"
        );
        assert_eq!(stats.cells_by_level[0][0], 2);
    }

    #[test]
    fn a_type_the_category_cannot_hold_is_an_error() {
        let b = RecordBatch::try_from_iter([
            ("phone", Arc::new(Date32Array::from(vec![1])) as ArrayRef),
            ("country", Arc::new(StringArray::from(vec!["JP"]))),
        ])
        .unwrap();
        let p = plan(
            "org",
            vec![col(
                "phone",
                Category::Pii(PiiType::Phone),
                Level::Raw,
                Level::Raw,
            )],
        );
        let err = Projection::compile(
            &p,
            &b.schema(),
            &["phone"],
            &Arc::new(DomainKeys::for_testing("org")),
            None,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("`phone` is PHONE in the catalog, but the data holds Date32"),
            "{err}"
        );
    }

    #[test]
    fn subject_keys_join_across_tables_within_a_domain_only() {
        let users = RecordBatch::try_from_iter([
            ("user_id", Arc::new(Int64Array::from(vec![10, 20])) as ArrayRef),
            ("country", Arc::new(StringArray::from(vec!["JP", "TH"]))),
        ])
        .unwrap();
        let messages = RecordBatch::try_from_iter([
            ("sender_id", Arc::new(Int64Array::from(vec![20, 10])) as ArrayRef),
            ("sender_country", Arc::new(StringArray::from(vec!["TH", "JP"]))),
        ])
        .unwrap();
        let run = |domain: &str, b: &RecordBatch, column: &str, jcol: &str| {
            let p = plan_with(
                domain,
                jcol,
                vec![col(
                    column,
                    Category::SubjectKey,
                    Level::Pseudonymized,
                    Level::Pseudonymized,
                )],
            );
            let proj = Projection::compile(
                &p,
                &b.schema(),
                &[column],
                &Arc::new(DomainKeys::for_testing(domain)),
                None,
            )
            .unwrap();
            proj.apply(b)
                .unwrap()
                .column(0)
                .as_primitive::<Int64Type>()
                .values()
                .to_vec()
        };
        let u = run("ldt-shanghai", &users, "user_id", "country");
        let m = run("ldt-shanghai", &messages, "sender_id", "sender_country");
        assert_eq!(u[0], m[1]);
        assert_eq!(u[1], m[0]);
        let other = run("naver-kr", &messages, "sender_id", "sender_country");
        assert_ne!(other[1], u[0]);
    }

    #[test]
    fn the_report_names_transforms_and_key_ids() {
        let b = batch();
        let p = Projection::compile(
            &support_plan(),
            &b.schema(),
            &["phone"],
            &Arc::new(DomainKeys::for_testing("org")),
            None,
        )
        .unwrap();
        let r = p.report();
        assert_eq!(r[0].levels.len(), 2);
        let pseud = r[0]
            .levels
            .iter()
            .find(|l| l.level == Level::Pseudonymized)
            .unwrap();
        assert_eq!(pseud.key_id.as_deref(), Some("p1"));
        assert_eq!(pseud.jurisdictions, vec!["TH".to_owned(), "*".to_owned()]);
    }

    #[test]
    fn projection_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Projection>();
    }

    fn level_strategy() -> impl proptest::strategy::Strategy<Value = Level> {
        proptest::sample::select(Level::ALL.to_vec())
    }

    proptest::proptest! {
        /// Every cell gets exactly the level its row's jurisdiction is given by the plan (the
        /// fallback for unknown, malformed and null jurisdictions), whatever mix of levels and
        /// jurisdictions a batch holds.
        #[test]
        fn every_cell_gets_the_level_of_its_rows_jurisdiction(
            jp in level_strategy(),
            th in level_strategy(),
            rows in proptest::collection::vec(
                (proptest::sample::select(vec![Some("JP"), Some("TH"), Some("US"), Some("j"), None]),
                 "[0-9]{3}-[0-9]{4}-[0-9]{4}"),
                1..60,
            ),
        ) {
            let plan = plan("org", vec![col("phone", Category::Pii(PiiType::Phone), jp, th)]);
            let cp = plan.columns()[0].clone();
            let countries: Vec<Option<&str>> = rows.iter().map(|(c, _)| *c).collect();
            let phones: Vec<&str> = rows.iter().map(|(_, p)| p.as_str()).collect();
            let b = RecordBatch::try_from_iter([
                ("phone", Arc::new(StringArray::from(phones.clone())) as ArrayRef),
                ("country", Arc::new(StringArray::from(countries.clone()))),
            ])
            .unwrap();
            let keys = Arc::new(DomainKeys::for_testing("org"));
            match Projection::compile(&plan, &b.schema(), &["phone"], &keys, None) {
                Err(_) => proptest::prop_assert_eq!(cp.max_level(), Level::Denied),
                Ok(p) => {
                    let out = p.apply(&b).unwrap();
                    let out = out.column(0).as_string::<i32>();
                    for (i, (country, phone)) in countries.iter().zip(&phones).enumerate() {
                        let j = country.and_then(|c| c.parse::<Jurisdiction>().ok());
                        match cp.decision(j).level {
                            Level::Raw => proptest::prop_assert_eq!(out.value(i), *phone),
                            Level::Masked => {
                                proptest::prop_assert!(out.value(i).starts_with("****"));
                                proptest::prop_assert!(phone.ends_with(&out.value(i)[4..]));
                            }
                            Level::Pseudonymized => {
                                proptest::prop_assert!(out.value(i).starts_with("tel_"));
                                proptest::prop_assert!(!out.value(i).contains(*phone));
                            }
                            Level::Denied => proptest::prop_assert!(out.is_null(i)),
                        }
                    }
                }
            }
        }
    }

    proptest::proptest! {
        /// Rows about two people (a sender whose jurisdiction is in the row, a recipient looked
        /// up in the directory): each key gets its own person's level, and a column about both
        /// the least revealing of theirs, whatever the mix of jurisdictions, unknown ones and
        /// keys the directory does not know.
        #[test]
        fn every_cell_is_at_most_as_revealing_as_its_own_subjects_allow(
            levels in proptest::collection::vec(level_strategy(), 4),
            rows in proptest::collection::vec(
                (proptest::sample::select(vec![Some("JP"), Some("TH"), Some("US"), None]),
                 0i64..6,
                 "[0-9]{3}-[0-9]{4}-[0-9]{4}"),
                1..60,
            ),
        ) {
            let decision = |j: usize| d(levels[j]);
            let per = |a: usize, b: usize| BTreeMap::from([(Jurisdiction::JP, decision(a)), (Jurisdiction::TH, decision(b))]);
            let subjects = vec![
                Subject { key: "sender_id".into(), jurisdiction: JurisdictionSource::Column("sender_country".into()) },
                Subject { key: "recipient_id".into(), jurisdiction: JurisdictionSource::Directory },
            ];
            let columns = vec![
                ColumnPlan::new("sender_id".into(), Category::SubjectKey, per(0, 1)).with_subjects(vec![0]),
                ColumnPlan::new("recipient_id".into(), Category::SubjectKey, per(0, 1)).with_subjects(vec![1]),
                ColumnPlan::new("phone".into(), Category::Pii(PiiType::Phone), per(2, 3)).with_subjects(vec![0, 1]),
            ];
            let plan = TablePlan::new("p".into(), "org".into(), "messages".into(), subjects, columns).unwrap();
            // Directory: recipients 0..3 are JP, TH, ID; 3 is in two jurisdictions; 4, 5 unknown.
            let mut directory = SubjectDirectory::new();
            directory.add(&RecordBatch::try_from_iter([
                ("user_id", Arc::new(Int64Array::from(vec![0, 1, 2, 3, 3])) as ArrayRef),
                ("country", Arc::new(StringArray::from(vec!["JP", "TH", "ID", "JP", "TH"]))),
            ]).unwrap(), "user_id", "country").unwrap();
            let directory = Arc::new(directory);
            let recipient_j = |k: i64| match k { 0 => Some(Jurisdiction::JP), 1 => Some(Jurisdiction::TH), _ => None };
            let b = RecordBatch::try_from_iter([
                ("sender_id", Arc::new(Int64Array::from_iter_values(0..rows.len() as i64)) as ArrayRef),
                ("recipient_id", Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.1)))),
                ("sender_country", Arc::new(StringArray::from(rows.iter().map(|r| r.0).collect::<Vec<_>>()))),
                ("phone", Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.2.as_str())))),
            ]).unwrap();
            let names = ["sender_id", "recipient_id", "phone"];
            let keys = Arc::new(DomainKeys::for_testing("org"));
            // A column denied everywhere cannot be compiled; leave those out.
            let live: Vec<&str> = names.iter().copied().filter(|n| plan.column(n).unwrap().max_level() != Level::Denied).collect();
            let p = Projection::compile(&plan, &b.schema(), &live, &keys, Some(&directory)).unwrap();
            // Without the directory the recipient's columns fail closed at compile time.
            if live.iter().any(|n| *n != "sender_id") {
                proptest::prop_assert!(Projection::compile(&plan, &b.schema(), &live, &keys, None).is_err());
            }
            let out = p.apply(&b).unwrap();
            // The directory also knows senders 0..3: where it disagrees with the row's
            // country, the sender's jurisdiction is unknown.
            let listed = |k: i64| match k { 0 => Some(Jurisdiction::JP), 1 => Some(Jurisdiction::TH), 2 => Some(Jurisdiction::ID), _ => None };
            for (i, (country, recipient, phone)) in rows.iter().enumerate() {
                let said = country.and_then(|c| c.parse::<Jurisdiction>().ok());
                let sender = match listed(i as i64) {
                    Some(l) if Some(l) != said => None,
                    _ => said,
                };
                let recipient = recipient_j(*recipient);
                for (c, name) in live.iter().enumerate() {
                    let cp = plan.column(name).unwrap();
                    let level = match *name {
                        "sender_id" => cp.decision(sender).level,
                        "recipient_id" => cp.decision(recipient).level,
                        _ => cp.decision(sender).level.min(cp.decision(recipient).level),
                    };
                    let col = out.column(c);
                    match (*name, level) {
                        (_, Level::Denied) => proptest::prop_assert!(col.is_null(i)),
                        ("phone", Level::Raw) => proptest::prop_assert_eq!(col.as_string::<i32>().value(i), phone.as_str()),
                        ("phone", _) => {
                            let v = col.as_string::<i32>().value(i);
                            proptest::prop_assert!(!v.contains(phone.as_str()) && !v.contains(&phone[4..]));
                            if level == Level::Pseudonymized {
                                proptest::prop_assert!(v.starts_with("tel_"));
                            }
                        }
                        (key, level) => {
                            let raw = if key == "sender_id" { i as i64 } else { rows[i].1 };
                            let v = col.as_primitive::<Int64Type>().value(i);
                            proptest::prop_assert_eq!(v == raw, level == Level::Raw);
                        }
                    }
                }
            }
        }
    }

    /// Second review of issue 13: a jurisdiction column passes only codes, and a row whose
    /// column says another jurisdiction than the directory gets the fallback, never the
    /// row's word for it.
    #[test]
    fn jurisdiction_columns_pass_codes_only_and_disagreement_with_the_directory_falls_back() {
        let b = RecordBatch::try_from_iter([
            ("user_id", Arc::new(Int64Array::from(vec![1, 2, 3])) as ArrayRef),
            (
                "phone",
                Arc::new(StringArray::from(vec![
                    "090-1111-2222",
                    "081-234-5678",
                    "090-3333-4444",
                ])),
            ),
            (
                "country",
                Arc::new(StringArray::from(vec![
                    "JP",
                    "JP",
                    "Taro Yamada 東京都千代田区1-1",
                ])),
            ),
        ])
        .unwrap();
        let p = plan(
            "line-jp",
            vec![
                col(
                    "phone",
                    Category::Pii(PiiType::Phone),
                    Level::Raw,
                    Level::Pseudonymized,
                ),
                col("country", Category::NonPersonal, Level::Raw, Level::Raw),
            ],
        );
        let mut directory = SubjectDirectory::new();
        directory
            .add(
                &RecordBatch::try_from_iter([
                    ("user_id", Arc::new(Int64Array::from(vec![1, 2])) as ArrayRef),
                    ("country", Arc::new(StringArray::from(vec!["JP", "TH"]))),
                ])
                .unwrap(),
                "user_id",
                "country",
            )
            .unwrap();
        let keys = Arc::new(DomainKeys::for_testing("line-jp"));
        let proj = Projection::compile(
            &p,
            &b.schema(),
            &["phone", "country"],
            &keys,
            Some(&Arc::new(directory)),
        )
        .unwrap();
        let (out, stats) = proj.apply_with_stats(&b).unwrap();
        let phones = out.column(0).as_string::<i32>();
        assert_eq!(phones.value(0), "090-1111-2222");
        // User 2 says JP, the directory says TH: not raw.
        assert!(phones.value(1).starts_with("tel_"), "{}", phones.value(1));
        let countries = out.column(1).as_string::<i32>();
        assert_eq!(countries.value(0), "JP");
        assert!(countries.is_null(2));
        assert_eq!(stats.suppressed_as_personal[1], 1);
    }

    /// Issue 14: more jurisdictions than a byte can number are grouped, not wrapped around.
    #[test]
    fn hundreds_of_jurisdictions_keep_their_own_levels() {
        let codes: Vec<Jurisdiction> = ('A'..='Z')
            .flat_map(|a| ('A'..='Z').map(move |b| format!("{a}{b}")))
            .filter_map(|c| c.parse().ok())
            .take(400)
            .collect();
        assert_eq!(codes.len(), 400);
        let last = codes[399];
        let by_jurisdiction: BTreeMap<Jurisdiction, Decision> = codes
            .iter()
            .map(|j| {
                (
                    *j,
                    d(if *j == last {
                        Level::Raw
                    } else {
                        Level::Pseudonymized
                    }),
                )
            })
            .collect();
        let p = plan(
            "org",
            vec![ColumnPlan::new(
                "phone".into(),
                Category::Pii(PiiType::Phone),
                by_jurisdiction,
            )],
        );
        let b = RecordBatch::try_from_iter([
            (
                "phone",
                Arc::new(StringArray::from(vec!["090-1111-2222", "090-1111-2222"])) as ArrayRef,
            ),
            (
                "country",
                Arc::new(StringArray::from(vec![last.as_str(), codes[0].as_str()])),
            ),
        ])
        .unwrap();
        let proj = Projection::compile(
            &p,
            &b.schema(),
            &["phone"],
            &Arc::new(DomainKeys::for_testing("org")),
            None,
        )
        .unwrap();
        let out = proj.apply(&b).unwrap();
        let phones = out.column(0).as_string::<i32>();
        assert_eq!(phones.value(0), "090-1111-2222");
        assert!(phones.value(1).starts_with("tel_"));
    }

    /// Issue 14: a query engine hands a scan's columns by index; the projection is the same.
    #[test]
    fn columns_by_index_are_columns_by_name() {
        let b = batch();
        let keys = Arc::new(DomainKeys::for_testing("line-jp"));
        let by_name =
            Projection::compile(&support_plan(), &b.schema(), &["phone", "user_id"], &keys, None).unwrap();
        let by_index =
            Projection::compile_indices(&support_plan(), &b.schema(), &[1, 0], &keys, None).unwrap();
        assert_eq!(by_name.apply(&b).unwrap(), by_index.apply(&b).unwrap());
        assert!(Projection::compile_indices(&support_plan(), &b.schema(), &[99], &keys, None).is_err());
    }
}
