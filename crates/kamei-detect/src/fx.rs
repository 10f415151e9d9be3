//! A fast hasher for the reference-word sets, which are looked up many times per line with
//! short keys. SipHash's resistance to collision flooding buys nothing here: the sets are
//! fixed at build time from committed data, and the detector only asks whether a slice of
//! the input is in one.

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};

/// FxHash (rustc's hasher): multiply-rotate over eight bytes at a time.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct FxHasher(u64);

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A set of words hashed with [`FxHasher`].
pub(crate) type WordSet = HashSet<&'static str, BuildHasherDefault<FxHasher>>;

/// Words hashed with [`FxHasher`], each with a value (the lists a word is in, as bits).
pub(crate) type WordMap<V> = std::collections::HashMap<&'static str, V, BuildHasherDefault<FxHasher>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_what_was_inserted_and_nothing_else() {
        let set: WordSet = ["田中", "佐藤", "a", "abcdefghijk"].into_iter().collect();
        for w in ["田中", "佐藤", "a", "abcdefghijk"] {
            assert!(set.contains(w), "{w}");
        }
        for w in ["田", "中", "", "abcdefghij", "abcdefghijkl"] {
            assert!(!set.contains(w), "{w}");
        }
    }
}
