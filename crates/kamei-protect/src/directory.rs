//! The subject directory: any subject key's jurisdiction, for subjects whose jurisdiction is
//! not in their own row (a message's recipient, a report's reported user).
//!
//! Loaded once from the directory table (`users.user_id → users.country`) and held compactly:
//! one roaring bitmap of keys per jurisdiction for integer keys, a map for text keys. A key
//! listed under two jurisdictions is ambiguous and, like a key the directory does not know,
//! gets the fail-closed fallback: no guess is ever made about whose rules protect a person.

use std::collections::HashMap;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Int64Type};
use kamei_core::Jurisdiction;
use roaring::RoaringTreemap;

use crate::error::ProtectError;
use crate::kernels::cast_to;

/// Subject key → jurisdiction, for every subject the directory table lists.
#[derive(Debug, Default, Clone)]
pub struct SubjectDirectory {
    /// Per jurisdiction, the integer keys (as their two's-complement bits) of its subjects.
    ints: Vec<(Jurisdiction, RoaringTreemap)>,
    /// Integer keys listed under more than one jurisdiction.
    ambiguous: RoaringTreemap,
    /// Text keys; `None` marks a key listed under more than one jurisdiction.
    texts: HashMap<String, Option<Jurisdiction>>,
}

impl SubjectDirectory {
    /// An empty directory; add the directory table's batches with [`SubjectDirectory::add`].
    pub fn new() -> SubjectDirectory {
        SubjectDirectory::default()
    }

    /// Adds the subjects of one batch of the directory table: `key` is its subject key column,
    /// `jurisdiction` its jurisdiction column. Rows with a null key or a null or malformed
    /// jurisdiction are left out (they fall back like unknown keys).
    pub fn add(&mut self, batch: &RecordBatch, key: &str, jurisdiction: &str) -> Result<(), ProtectError> {
        let column = |name: &str| {
            batch
                .column_by_name(name)
                .ok_or_else(|| ProtectError::MissingColumn {
                    column: name.to_owned(),
                })
        };
        let codes = cast_to(column(jurisdiction)?, &DataType::Utf8).map_err(|message| {
            ProtectError::JurisdictionType {
                column: jurisdiction.to_owned(),
                data_type: message,
            }
        })?;
        let codes = codes.as_string::<i32>();
        let keys = column(key)?;
        match KeyColumn::of(keys)? {
            KeyColumn::Int(ints) => {
                for (k, code) in ints.iter().zip(codes.iter()) {
                    if let (Some(k), Some(j)) = (k, code.and_then(|c| c.parse::<Jurisdiction>().ok())) {
                        self.add_int(k, j);
                    }
                }
            }
            KeyColumn::Text(texts) => {
                for (k, code) in texts.as_string::<i32>().iter().zip(codes.iter()) {
                    if let (Some(k), Some(j)) = (k, code.and_then(|c| c.parse::<Jurisdiction>().ok())) {
                        self.texts
                            .entry(k.to_owned())
                            .and_modify(|known| {
                                if *known != Some(j) {
                                    *known = None;
                                }
                            })
                            .or_insert(Some(j));
                    }
                }
            }
        }
        Ok(())
    }

    fn add_int(&mut self, key: i64, j: Jurisdiction) {
        let bits = key as u64;
        if self.ambiguous.contains(bits) {
            return;
        }
        if let Some((_, other)) = self
            .ints
            .iter_mut()
            .find(|(k, set)| *k != j && set.contains(bits))
        {
            other.remove(bits);
            self.ambiguous.insert(bits);
            return;
        }
        match self.ints.iter_mut().find(|(k, _)| *k == j) {
            Some((_, set)) => {
                set.insert(bits);
            }
            None => self.ints.push((j, RoaringTreemap::from_iter([bits]))),
        }
    }

    /// How many subjects have a jurisdiction.
    pub fn len(&self) -> u64 {
        let ints: u64 = self.ints.iter().map(|(_, s)| s.len()).sum();
        ints + self.texts.values().filter(|j| j.is_some()).count() as u64
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The jurisdiction of every key of an array (null where unknown, null or ambiguous).
    pub(crate) fn lookup(&self, keys: &ArrayRef) -> Result<Vec<Option<Jurisdiction>>, String> {
        Ok(match KeyColumn::of(keys).map_err(|e| e.to_string())? {
            KeyColumn::Int(ints) => ints
                .iter()
                .map(|k| {
                    let bits = k? as u64;
                    self.ints.iter().find(|(_, s)| s.contains(bits)).map(|(j, _)| *j)
                })
                .collect(),
            KeyColumn::Text(texts) => texts
                .as_string::<i32>()
                .iter()
                .map(|k| self.texts.get(k?).copied().flatten())
                .collect(),
        })
    }
}

/// A key column as 64-bit integers or as text.
enum KeyColumn {
    Int(arrow::array::Int64Array),
    Text(ArrayRef),
}

impl KeyColumn {
    fn of(keys: &ArrayRef) -> Result<KeyColumn, ProtectError> {
        let bad = || ProtectError::KeyType {
            data_type: keys.data_type().to_string(),
        };
        match keys.data_type() {
            dt if crate::projection::is_int(dt) => {
                let ints = cast_to(keys, &DataType::Int64).map_err(|_| bad())?;
                Ok(KeyColumn::Int(ints.as_primitive::<Int64Type>().clone()))
            }
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Ok(KeyColumn::Text(
                cast_to(keys, &DataType::Utf8).map_err(|_| bad())?,
            )),
            _ => Err(bad()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Int64Array, StringArray};

    use super::*;

    #[test]
    fn keys_map_to_their_jurisdiction_and_ambiguous_or_unknown_keys_to_none() {
        let batch = RecordBatch::try_from_iter([
            (
                "user_id",
                Arc::new(Int64Array::from(vec![1, 2, 3, 3, -5])) as ArrayRef,
            ),
            (
                "country",
                Arc::new(StringArray::from(vec![
                    Some("JP"),
                    Some("TH"),
                    Some("JP"),
                    Some("ID"),
                    Some("TW"),
                ])),
            ),
        ])
        .unwrap();
        let mut d = SubjectDirectory::new();
        d.add(&batch, "user_id", "country").unwrap();
        let probe: ArrayRef = Arc::new(Int64Array::from(vec![
            Some(1),
            Some(2),
            Some(3),
            Some(4),
            None,
            Some(-5),
        ]));
        assert_eq!(
            d.lookup(&probe).unwrap(),
            vec![
                Some(Jurisdiction::JP),
                Some(Jurisdiction::TH),
                None,
                None,
                None,
                Some(Jurisdiction::TW)
            ]
        );
        assert_eq!(d.len(), 3);
    }
}
