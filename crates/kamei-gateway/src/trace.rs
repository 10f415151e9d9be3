//! What one statement read: the columns at their levels and the data subjects whose rows left
//! a guarded scan, by jurisdiction and level. The audit record is built from it.
//!
//! A subject counts when a column of theirs left a guarded scan in one of their rows at a level
//! that reveals something (denied and suppressed cells do not count); they are listed at the
//! most revealing level any such column of theirs was read at, under their jurisdiction (`--`
//! where it was unknown and the fallback applied). A scan applies the filters on its own table
//! before rows leave it (`guarded.rs`), so they count only matching rows; rows a later join,
//! filter across tables or limit dropped are counted: the guard cannot know, and the record
//! errs towards naming too many people rather than too few. Integer keys are recorded as they are;
//! a text key as the first eight bytes of its SHA-256.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use datafusion::arrow::array::{Array, AsArray, BooleanArray, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Int64Type, UInt64Type};
use kamei_audit::SubjectSet;
use kamei_audit::subjects::UNKNOWN_JURISDICTION;
use kamei_core::Level;
use kamei_protect::SubjectRows;
use sha2::{Digest, Sha256};

/// One statement's reads, shared by the guarded scans of its plan.
#[derive(Debug, Default)]
pub(crate) struct Trace {
    state: Mutex<Reads>,
}

/// The reads of one statement.
#[derive(Debug, Default, Clone)]
pub struct Reads {
    /// Table → column → the most revealing level the column can be read at.
    pub tables: BTreeMap<String, BTreeMap<String, Level>>,
    pub subjects: SubjectSet,
}

impl Trace {
    fn lock(&self) -> MutexGuard<'_, Reads> {
        // A panic while holding the lock leaves only counts behind: keep going with them.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The columns read so far, at their levels.
    pub fn tables(&self) -> BTreeMap<String, BTreeMap<String, Level>> {
        self.lock().tables.clone()
    }

    /// The reads so far.
    pub fn take(&self) -> Reads {
        std::mem::take(&mut *self.lock())
    }

    pub fn read_column(&self, table: &str, column: &str, level: Level) {
        let mut reads = self.lock();
        let at = reads
            .tables
            .entry(table.to_owned())
            .or_default()
            .entry(column.to_owned())
            .or_insert(level);
        if at.index() < level.index() {
            *at = level;
        }
    }

    /// Adds the subjects of one batch that left a guarded scan (`raw` is the batch before the
    /// projection, which holds the key columns).
    pub fn read_subjects(&self, raw: &RecordBatch, subjects: &[SubjectRows]) {
        let groups = subject_groups(raw, subjects, None);
        if groups.is_empty() {
            return;
        }
        let mut reads = self.lock();
        for (group, keys) in groups {
            reads.subjects.extend_group(group, keys);
        }
    }
}

/// The subjects of one projected batch by (jurisdiction, level), as audit records count them;
/// with `kept`, only the rows it keeps (an export that suppressed rows).
pub fn subject_groups(
    raw: &RecordBatch,
    subjects: &[SubjectRows],
    kept: Option<&BooleanArray>,
) -> BTreeMap<([u8; 2], Level), Vec<u64>> {
    let mut groups: BTreeMap<([u8; 2], Level), Vec<u64>> = BTreeMap::new();
    for s in subjects {
        let Some(keys) = s.key_index.map(|i| raw.column(i)).map(|a| keys_of(a.as_ref())) else {
            continue;
        };
        for (row, ((key, level), jurisdiction)) in
            keys.iter().zip(&s.levels).zip(&s.jurisdictions).enumerate()
        {
            if kept.is_some_and(|k| !k.is_valid(row) || !k.value(row)) {
                continue;
            }
            if let (Some(key), Some(level)) = (key, level) {
                let code = jurisdiction.map_or(UNKNOWN_JURISDICTION, |j| {
                    let b = j.as_str().as_bytes();
                    [
                        b.first().copied().unwrap_or(b'-'),
                        b.get(1).copied().unwrap_or(b'-'),
                    ]
                });
                groups.entry((code, *level)).or_default().push(*key);
            }
        }
    }
    groups
}

/// A key column's values as subject keys.
fn keys_of(array: &dyn Array) -> Vec<Option<u64>> {
    match array.data_type() {
        DataType::Int64 => array
            .as_primitive::<Int64Type>()
            .iter()
            .map(|v| v.map(|v| v as u64))
            .collect(),
        DataType::UInt64 => array.as_primitive::<UInt64Type>().iter().collect(),
        _ => match datafusion::arrow::compute::cast(array, &DataType::Utf8) {
            Ok(text) => text
                .as_string::<i32>()
                .iter()
                .map(|v| {
                    v.map(|v| {
                        let d = Sha256::digest(v.as_bytes());
                        let mut first = [0u8; 8];
                        first.copy_from_slice(d.get(..8).unwrap_or(&[0; 8]));
                        u64::from_be_bytes(first)
                    })
                })
                .collect(),
            Err(_) => vec![None; array.len()],
        },
    }
}
