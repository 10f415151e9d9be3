//! The subject index: per record, the set of data subjects whose data it returned, per level.
//!
//! # Entry encoding (version 1)
//!
//! Subjects are grouped by the data subject's jurisdiction (ISO 3166-1 alpha-2, or `--` when
//! the caller did not say) and the level they were read at. For each non-empty group, in the
//! order (jurisdiction, level) with levels ordered denied, pseudonymized, masked, raw: the two
//! ASCII bytes of the jurisdiction, one byte naming the level (0, 1, 2, 3), a big-endian u32 byte
//! length, and the set as a `RoaringTreemap` in its portable serialization. A record with no
//! subjects has an empty entry.
//! The record's `subjects.digest` is SHA-256 over exactly these bytes, so an edited index entry no
//! longer matches the signed leaf.
//!
//! On disk (`subjects/index`) each entry is framed as a big-endian u32 length and its bytes, in
//! log order, for the records in full entry bundles; the records of the bundle being filled
//! keep theirs in its journal (`journal/<N>`) until the bundle is full.

use crate::merkle::Hash;
use kamei_core::Level;
use roaring::RoaringTreemap;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt;

/// The jurisdiction code used when the caller did not give one.
pub const UNKNOWN_JURISDICTION: [u8; 2] = *b"--";

/// A group of subjects: their jurisdiction and the level their data was read at.
pub type GroupKey = ([u8; 2], Level);

/// The data subjects a record touched, per jurisdiction and level.
#[derive(Default, Clone, PartialEq)]
pub struct SubjectSet {
    levels: BTreeMap<GroupKey, RoaringTreemap>,
}

impl fmt::Debug for SubjectSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Subject keys identify people: the Debug output gives counts only.
        let counts: BTreeMap<String, u64> = self
            .levels
            .iter()
            .map(|((j, l), s)| (format!("{}:{}", String::from_utf8_lossy(j), l.as_str()), s.len()))
            .collect();
        f.debug_struct("SubjectSet").field("counts", &counts).finish()
    }
}

/// A level's byte in an entry: its index, denied 0 … raw 3 (`Level::index`).
fn level_code(level: Level) -> u8 {
    level.index() as u8
}

fn level_from_code(code: u8) -> Option<Level> {
    Level::ALL.get(usize::from(code)).copied()
}

/// Why subject index bytes did not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed subject index entry: {0}")]
pub struct SubjectDecodeError(&'static str);

impl SubjectSet {
    /// Adds subjects of unknown jurisdiction read at `level`.
    pub fn extend(&mut self, level: Level, keys: impl IntoIterator<Item = u64>) {
        self.extend_group((UNKNOWN_JURISDICTION, level), keys);
    }

    /// Adds subjects of one jurisdiction (two upper-case ASCII letters or `--`) and level.
    pub fn extend_group(&mut self, key: GroupKey, keys: impl IntoIterator<Item = u64>) {
        let set = self.levels.entry(key).or_default();
        set.extend(keys);
        if set.is_empty() {
            self.levels.remove(&key);
        }
    }

    /// Distinct subjects over all levels.
    pub fn count(&self) -> u64 {
        if self.levels.len() == 1 {
            return self.levels.values().map(RoaringTreemap::len).sum();
        }
        let mut all = RoaringTreemap::new();
        for s in self.levels.values() {
            all |= s;
        }
        all.len()
    }

    /// The keys read at `level` (any jurisdiction), ascending.
    pub fn keys(&self, level: Level) -> Vec<u64> {
        let mut all = RoaringTreemap::new();
        for ((_, l), s) in &self.levels {
            if *l == level {
                all |= s;
            }
        }
        all.iter().collect()
    }

    pub fn contains(&self, key: u64) -> bool {
        self.levels.values().any(|s| s.contains(key))
    }

    /// The groups present, with their sets.
    pub fn iter(&self) -> impl Iterator<Item = (GroupKey, &RoaringTreemap)> {
        self.levels.iter().map(|(k, s)| (*k, s))
    }

    /// The entry bytes (see the module docs).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for ((jurisdiction, level), set) in &self.levels {
            let mut body = Vec::with_capacity(set.serialized_size());
            #[expect(
                clippy::expect_used,
                reason = "writing to a Vec cannot fail; a group is never dropped"
            )]
            set.serialize_into(&mut body).expect("serialize into a Vec");
            out.extend_from_slice(jurisdiction);
            out.push(level_code(*level));
            out.extend_from_slice(&(body.len() as u32).to_be_bytes());
            out.extend_from_slice(&body);
        }
        out
    }

    /// Decodes entry bytes; never panics on any input.
    pub fn from_bytes(mut bytes: &[u8]) -> Result<Self, SubjectDecodeError> {
        let mut set = SubjectSet::default();
        let mut last: Option<GroupKey> = None;
        while !bytes.is_empty() {
            let Some((&[j0, j1, code], rest)) = bytes.split_first_chunk::<3>() else {
                return Err(SubjectDecodeError("truncated group header"));
            };
            let jurisdiction = [j0, j1];
            if jurisdiction != UNKNOWN_JURISDICTION && !jurisdiction.iter().all(u8::is_ascii_uppercase) {
                return Err(SubjectDecodeError("bad jurisdiction code"));
            }
            let level = level_from_code(code).ok_or(SubjectDecodeError("unknown level code"))?;
            let key = (jurisdiction, level);
            if last.is_some_and(|l| l >= key) {
                return Err(SubjectDecodeError("groups out of order"));
            }
            last = Some(key);
            let len_bytes: [u8; 4] = rest
                .get(..4)
                .and_then(|b| b.try_into().ok())
                .ok_or(SubjectDecodeError("truncated length"))?;
            let len = u32::from_be_bytes(len_bytes) as usize;
            let body = rest.get(4..4 + len).ok_or(SubjectDecodeError("truncated set"))?;
            let map = RoaringTreemap::deserialize_from(body)
                .map_err(|_| SubjectDecodeError("not a roaring treemap"))?;
            if map.is_empty() {
                return Err(SubjectDecodeError("empty level"));
            }
            set.levels.insert(key, map);
            bytes = rest.get(4 + len..).unwrap_or_default();
        }
        Ok(set)
    }

    /// SHA-256 of the entry bytes: what the record commits to.
    pub fn digest(&self) -> Hash {
        digest_bytes(&self.to_bytes())
    }
}

/// SHA-256 of subject index entry bytes.
pub fn digest_bytes(bytes: &[u8]) -> Hash {
    Hash(Sha256::digest(bytes).into())
}

/// Appends one framed entry to the index bytes.
pub fn push_frame(index: &mut Vec<u8>, entry: &[u8]) {
    index.extend_from_slice(&(entry.len() as u32).to_be_bytes());
    index.extend_from_slice(entry);
}

/// Splits the index file into entries; returns them and the byte length of the whole frames
/// (anything after is a torn tail). Never panics.
pub fn parse_frames(bytes: &[u8]) -> (Vec<&[u8]>, usize) {
    let mut out = Vec::new();
    let mut pos = 0;
    loop {
        let Some(len) = bytes.get(pos..pos + 4).and_then(|b| <[u8; 4]>::try_from(b).ok()) else {
            return (out, pos);
        };
        let len = u32::from_be_bytes(len) as usize;
        let Some(entry) = bytes.get(pos + 4..pos + 4 + len) else {
            return (out, pos);
        };
        out.push(entry);
        pos += 4 + len;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_garbage() {
        let mut s = SubjectSet::default();
        s.extend(Level::Raw, [5, 1 << 40]);
        s.extend(Level::Pseudonymized, [5, 6, 7]);
        let bytes = s.to_bytes();
        assert_eq!(SubjectSet::from_bytes(&bytes).unwrap(), s);
        assert_eq!(s.count(), 4);
        assert!(SubjectSet::from_bytes(&bytes[..bytes.len() - 1]).is_err());
        assert!(SubjectSet::from_bytes(&[9]).is_err());
        assert!(SubjectSet::from_bytes(b"--\x09").is_err());
        let mut j = SubjectSet::default();
        j.extend_group((*b"JP", Level::Masked), [1]);
        j.extend_group((*b"TH", Level::Masked), [1]);
        assert_eq!(j.count(), 1);
        assert_eq!(SubjectSet::from_bytes(&j.to_bytes()).unwrap(), j);
        assert_eq!(SubjectSet::from_bytes(&[]).unwrap(), SubjectSet::default());
        assert!(!format!("{s:?}").contains("1099511627776"));
    }

    #[test]
    fn frames_split_and_stop_at_a_torn_tail() {
        let mut idx = Vec::new();
        push_frame(&mut idx, b"ab");
        push_frame(&mut idx, b"");
        let (frames, len) = parse_frames(&idx);
        assert_eq!(frames, vec![&b"ab"[..], b""]);
        assert_eq!(len, idx.len());
        let (frames, len) = parse_frames(&idx[..idx.len() - 1]);
        assert_eq!(frames.len(), 1);
        assert_eq!(len, 6);
    }
}
