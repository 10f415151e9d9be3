//! The Merkle tree of RFC 9162 over the log's leaves, kept in memory as every complete subtree
//! hash per height, so that roots, inclusion proofs and consistency proofs at any size cost a
//! few dozen lookups and never a rehash of the leaves.

use sha2::{Digest, Sha256};
use std::fmt;

/// A SHA-256 hash: a leaf hash, a node hash or a tree root.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Hash(pub [u8; 32]);

impl Hash {
    /// The hash as lower-case hex, the form every JSON output uses.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses 64 hex digits (either case). `verify` parses one per record, so this is a
    /// table lookup per digit with one check at the end rather than a general decoder.
    #[expect(
        clippy::indexing_slicing,
        reason = "a byte indexes a 256-entry table; chunks_exact(2) gives pairs"
    )]
    pub fn from_hex(text: &str) -> Option<Self> {
        const BAD: u8 = 0x10;
        const DIGITS: [u8; 256] = {
            let mut t = [BAD; 256];
            let mut c = 0;
            while c < 256 {
                t[c] = match c as u8 {
                    b @ b'0'..=b'9' => b - b'0',
                    b @ b'a'..=b'f' => b - b'a' + 10,
                    b @ b'A'..=b'F' => b - b'A' + 10,
                    _ => BAD,
                };
                c += 1;
            }
            t
        };
        let b: &[u8; 64] = text.as_bytes().try_into().ok()?;
        let mut out = [0u8; 32];
        let mut bad = 0u8;
        for (o, pair) in out.iter_mut().zip(b.chunks_exact(2)) {
            let (hi, lo) = (DIGITS[usize::from(pair[0])], DIGITS[usize::from(pair[1])]);
            bad |= hi | lo;
            *o = (hi << 4) | lo;
        }
        (bad & BAD == 0).then_some(Hash(out))
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

// SPEC: RFC 9162 §2.1.1: MTH({d(0)}) = SHA-256(0x00 || d(0)).
/// The hash of one leaf (one log entry's bytes).
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    Hash(h.finalize().into())
}

// SPEC: RFC 9162 §2.1.1: MTH(D[n]) = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n])).
/// The hash of an interior node.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left.0);
    h.update(right.0);
    Hash(h.finalize().into())
}

/// The root of the empty tree: SHA-256 of the empty string (RFC 9162 §2.1.1).
pub fn empty_root() -> Hash {
    Hash(Sha256::digest([]).into())
}

/// The largest power of two strictly smaller than `n` (n >= 2).
fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1u64 << (63 - (n - 1).leading_zeros())
}

/// The levels of the complete subtree over `leaves` (a power of two of them), leaves first,
/// for [`Tree::push_subtree`]: callers build these in parallel.
#[expect(clippy::indexing_slicing, reason = "chunks_exact(2) gives pairs")]
pub(crate) fn subtree_levels(leaves: Vec<Hash>) -> Vec<Vec<Hash>> {
    let mut levels = vec![leaves];
    while let Some(last) = levels.last()
        && last.len() > 1
        && last.len().is_multiple_of(2)
    {
        let next = last.chunks_exact(2).map(|p| node_hash(&p[0], &p[1])).collect();
        levels.push(next);
    }
    levels
}

/// Why a proof could not be made or did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("index {index} is not below tree size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("tree size {size} is larger than the log ({log_size} entries)")]
    SizeOutOfRange { size: u64, log_size: u64 },
    #[error("old size {old} is not between 1 and the new size {new}")]
    BadSizes { old: u64, new: u64 },
    #[error("the proof has the wrong number of hashes")]
    WrongLength,
    #[error("the proof does not lead to the expected root")]
    RootMismatch,
}

/// Every complete, aligned subtree hash of the tree, per height.
///
/// INVARIANT (levels): `levels[h][i]` is MTH of leaves `[i * 2^h, (i + 1) * 2^h)`, and
/// `levels[h].len() == size >> h` for every stored `h`; maintained by [`Tree::push`] only.
#[derive(Default, Clone)]
pub struct Tree {
    levels: Vec<Vec<Hash>>,
}

impl fmt::Debug for Tree {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tree").field("size", &self.size()).finish()
    }
}

impl Tree {
    pub fn new() -> Self {
        Tree {
            levels: vec![Vec::new()],
        }
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    /// Adds one leaf hash and every subtree it completes.
    #[expect(
        clippy::indexing_slicing,
        reason = "INVARIANT (levels): level h + 1 exists once level h holds an even, non-zero count"
    )]
    pub fn push(&mut self, leaf: Hash) {
        if self.levels.is_empty() {
            self.levels.push(Vec::new());
        }
        self.levels[0].push(leaf);
        let mut h = 0;
        while self.levels[h].len().is_multiple_of(2) {
            let len = self.levels[h].len();
            let parent = node_hash(&self.levels[h][len - 2], &self.levels[h][len - 1]);
            if self.levels.len() == h + 1 {
                self.levels.push(Vec::new());
            }
            self.levels[h + 1].push(parent);
            h += 1;
        }
    }

    /// Appends a complete subtree of `2^k` leaves given level by level (see [`subtree_levels`]);
    /// the same as pushing its leaves one by one, without hashing on this thread. A tree
    /// whose size is not a multiple of `2^k`, or levels of the wrong shape, take the slow way.
    #[expect(
        clippy::indexing_slicing,
        reason = "INVARIANT (levels): the shape is checked first; a level is pushed before it is indexed"
    )]
    pub(crate) fn push_subtree(&mut self, levels: Vec<Vec<Hash>>) {
        let n = levels.first().map_or(0, Vec::len);
        let shaped = n.is_power_of_two()
            && levels.len() == n.trailing_zeros() as usize + 1
            && levels.iter().enumerate().all(|(h, l)| l.len() == n >> h);
        if !shaped || !self.size().is_multiple_of(n as u64) {
            for leaf in levels.into_iter().next().unwrap_or_default() {
                self.push(leaf);
            }
            return;
        }
        let top = levels.len() - 1;
        for (h, level) in levels.into_iter().enumerate() {
            if self.levels.len() == h {
                self.levels.push(Vec::new());
            }
            self.levels[h].extend(level);
        }
        // INVARIANT (levels): one node was added at height `top`; complete what it completes.
        let mut h = top;
        loop {
            let want = self.levels[h].len() / 2;
            if self.levels.len() == h + 1 {
                if want == 0 {
                    break;
                }
                self.levels.push(Vec::new());
            }
            if self.levels[h + 1].len() >= want {
                break;
            }
            let parent = node_hash(&self.levels[h][2 * want - 2], &self.levels[h][2 * want - 1]);
            self.levels[h + 1].push(parent);
            h += 1;
        }
    }

    /// The tree whose lowest levels are `lower` (leaves first, as [`subtree_levels`] gives them
    /// for a run of whole subtrees laid end to end): the levels above are computed from the
    /// top one. `None` unless `lower[h].len() == lower[0].len() >> h` and the leaves fill whole
    /// subtrees of the top height.
    #[expect(clippy::indexing_slicing, reason = "chunks_exact(2) gives pairs")]
    pub(crate) fn from_lower_levels(mut lower: Vec<Vec<Hash>>) -> Option<Self> {
        let n = lower.first()?.len();
        let top = lower.len() - 1;
        if !n.is_multiple_of(1 << top) || lower.iter().enumerate().any(|(h, l)| l.len() != n >> h) {
            return None;
        }
        while let Some(last) = lower.last()
            && last.len() > 1
        {
            let next = last.chunks_exact(2).map(|p| node_hash(&p[0], &p[1])).collect();
            lower.push(next);
        }
        // INVARIANT (levels): every level holds size >> h hashes, the given ones by the check
        // above, the computed ones by pairing the level below.
        Some(Tree { levels: lower })
    }

    /// The stored complete subtree hashes at height `h` (`levels[h]`).
    pub fn level(&self, h: usize) -> &[Hash] {
        self.levels.get(h).map_or(&[], |l| l.as_slice())
    }

    /// The leaf hash at `index`.
    pub fn leaf(&self, index: u64) -> Option<Hash> {
        self.levels.first()?.get(usize::try_from(index).ok()?).copied()
    }

    /// MTH of leaves `[lo, hi)`; the range must be one the RFC 9162 recursion reaches (lo aligned
    /// to the largest power of two that fits in hi - lo), and hi <= size.
    #[expect(
        clippy::indexing_slicing,
        reason = "INVARIANT (levels): level h holds size >> h complete subtrees, and hi <= size"
    )]
    fn range_hash(&self, lo: u64, hi: u64) -> Hash {
        let n = hi - lo;
        if n.is_power_of_two() && lo.is_multiple_of(n) {
            let h = n.trailing_zeros() as usize;
            return self.levels[h][(lo >> h) as usize];
        }
        let k = split_point(n);
        node_hash(&self.range_hash(lo, lo + k), &self.range_hash(lo + k, hi))
    }

    /// The root at tree size `size` (the empty-tree hash for 0).
    pub fn root(&self, size: u64) -> Result<Hash, ProofError> {
        self.check_size(size)?;
        Ok(if size == 0 {
            empty_root()
        } else {
            self.range_hash(0, size)
        })
    }

    fn check_size(&self, size: u64) -> Result<(), ProofError> {
        if size > self.size() {
            return Err(ProofError::SizeOutOfRange {
                size,
                log_size: self.size(),
            });
        }
        Ok(())
    }

    // SPEC: RFC 9162 §2.1.3.1 (PATH).
    /// The inclusion proof of leaf `index` in the tree of size `size`.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, ProofError> {
        self.check_size(size)?;
        if index >= size {
            return Err(ProofError::IndexOutOfRange { index, size });
        }
        let mut out = Vec::new();
        self.path(index, 0, size, &mut out);
        Ok(out)
    }

    fn path(&self, m: u64, lo: u64, hi: u64, out: &mut Vec<Hash>) {
        let n = hi - lo;
        if n <= 1 {
            return;
        }
        let k = split_point(n);
        if m < k {
            self.path(m, lo, lo + k, out);
            out.push(self.range_hash(lo + k, hi));
        } else {
            self.path(m - k, lo + k, hi, out);
            out.push(self.range_hash(lo, lo + k));
        }
    }

    // SPEC: RFC 9162 §2.1.4.1 (PROOF, SUBPROOF).
    /// The consistency proof between tree sizes `old` and `new` (0 < old <= new).
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>, ProofError> {
        self.check_size(new)?;
        if old == 0 || old > new {
            return Err(ProofError::BadSizes { old, new });
        }
        let mut out = Vec::new();
        self.subproof(old, 0, new, true, &mut out);
        Ok(out)
    }

    fn subproof(&self, m: u64, lo: u64, hi: u64, start: bool, out: &mut Vec<Hash>) {
        let n = hi - lo;
        if m == n {
            if !start {
                out.push(self.range_hash(lo, hi));
            }
            return;
        }
        let k = split_point(n);
        if m <= k {
            self.subproof(m, lo, lo + k, start, out);
            out.push(self.range_hash(lo + k, hi));
        } else {
            self.subproof(m - k, lo + k, hi, false, out);
            out.push(self.range_hash(lo, lo + k));
        }
    }
}

// SPEC: RFC 9162 §2.1.3.2 (verifying an inclusion proof).
/// Checks that `leaf` is the leaf at `index` of the tree of `size` leaves whose root is `root`.
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf: &Hash,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if sn == 0 {
            return Err(ProofError::WrongLength);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(ProofError::WrongLength);
    }
    if r != *root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

// SPEC: RFC 9162 §2.1.4.2 (verifying consistency between two tree heads).
/// Checks that the tree of `old` leaves with root `old_root` is a prefix of the tree of `new`
/// leaves with root `new_root`.
pub fn verify_consistency(
    old: u64,
    new: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    if old == 0 || old > new {
        return Err(ProofError::BadSizes { old, new });
    }
    if old == new {
        if !proof.is_empty() {
            return Err(ProofError::WrongLength);
        }
        return if old_root == new_root {
            Ok(())
        } else {
            Err(ProofError::RootMismatch)
        };
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if old.is_power_of_two() {
        path.push(*old_root);
    }
    path.extend_from_slice(proof);
    let Some((first, rest)) = path.split_first() else {
        return Err(ProofError::WrongLength);
    };
    let (mut fn_, mut sn) = (old - 1, new - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if sn == 0 {
            return Err(ProofError::WrongLength);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(ProofError::WrongLength);
    }
    if fr != *old_root || sr != *new_root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn hashes_parse_from_hex_of_either_case_and_nothing_else() {
        let h = Hash([0xab; 32]);
        assert_eq!(Hash::from_hex(&h.to_hex()), Some(h));
        assert_eq!(Hash::from_hex(&h.to_hex().to_uppercase()), Some(h));
        assert_eq!(Hash::from_hex(&h.to_hex()[..62]), None);
        assert_eq!(Hash::from_hex(&format!("{}00", h.to_hex())), None);
        assert_eq!(Hash::from_hex(&"g".repeat(64)), None);
        assert_eq!(Hash::from_hex(&"é".repeat(32)), None);
    }

    use super::*;
    use proptest::prelude::*;

    fn h(hex: &str) -> Hash {
        Hash::from_hex(hex).unwrap()
    }

    proptest! {
        /// Subtrees pushed whole (aligned or not) give the tree that pushing leaf by leaf gives.
        #[test]
        fn a_pushed_subtree_is_the_same_as_its_leaves_pushed_one_by_one(
            blocks in proptest::collection::vec((0u32..4, 1usize..3), 1..12)
        ) {
            let (mut whole, mut single) = (Tree::new(), Tree::new());
            let mut i = 0u64;
            for (k, repeat) in blocks {
                for _ in 0..repeat {
                    let leaves: Vec<Hash> = (0..1u64 << k)
                        .map(|j| leaf_hash(&(i + j).to_be_bytes()))
                        .collect();
                    i += leaves.len() as u64;
                    for l in &leaves {
                        single.push(*l);
                    }
                    whole.push_subtree(subtree_levels(leaves));
                }
            }
            for h in 0..12 {
                prop_assert_eq!(whole.level(h), single.level(h), "height {}", h);
            }
            prop_assert_eq!(whole.levels.len(), single.levels.len());
            // Leaves laid out as whole subtrees of height 2, then the rest pushed.
            let leaves = single.level(0);
            let cut = leaves.len() / 4 * 4;
            if cut > 0 {
                let lower = vec![
                    leaves[..cut].to_vec(),
                    single.level(1)[..cut / 2].to_vec(),
                    single.level(2)[..cut / 4].to_vec(),
                ];
                let mut built = Tree::from_lower_levels(lower).unwrap();
                for l in &leaves[cut..] {
                    built.push(*l);
                }
                for h in 0..12 {
                    prop_assert_eq!(built.level(h), single.level(h), "height {}", h);
                }
            }
        }
    }

    /// Known answers from the Certificate Transparency / transparency-dev Merkle test vectors
    /// (google/certificate-transparency cpp/merkletree/merkle_tree_test.cc; the same constants
    /// are in transparency-dev/merkle testonly and google/trillian testonly): the leaf inputs and
    /// the root after each of the first eight leaves.
    const LEAVES: [&[u8]; 8] = [
        b"",
        b"\x00",
        b"\x10",
        b"\x20\x21",
        b"\x30\x31",
        b"\x40\x41\x42\x43",
        b"\x50\x51\x52\x53\x54\x55\x56\x57",
        b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
    ];
    const ROOTS: [&str; 8] = [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];

    fn kat_tree() -> Tree {
        let mut t = Tree::new();
        for l in LEAVES {
            t.push(leaf_hash(l));
        }
        t
    }

    #[test]
    fn roots_match_the_published_vectors() {
        let t = kat_tree();
        for (i, root) in ROOTS.iter().enumerate() {
            assert_eq!(t.root(i as u64 + 1).unwrap(), h(root), "size {}", i + 1);
        }
        assert_eq!(
            t.root(0).unwrap(),
            h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        );
    }

    #[test]
    fn every_proof_over_the_vectors_verifies_against_the_published_roots() {
        let t = kat_tree();
        for size in 1..=8u64 {
            let root = h(ROOTS[size as usize - 1]);
            for index in 0..size {
                let proof = t.inclusion_proof(index, size).unwrap();
                verify_inclusion(index, size, &leaf_hash(LEAVES[index as usize]), &proof, &root).unwrap();
            }
            for old in 1..=size {
                let proof = t.consistency_proof(old, size).unwrap();
                verify_consistency(old, size, &h(ROOTS[old as usize - 1]), &root, &proof).unwrap();
            }
        }
        // RFC 9162 §2.1.5 example shapes: the proof for leaf 0 of 7 has three hashes, and the
        // consistency proof from 3 to 7 has four.
        assert_eq!(t.inclusion_proof(0, 7).unwrap().len(), 3);
        assert_eq!(t.consistency_proof(3, 7).unwrap().len(), 4);
        assert_eq!(t.consistency_proof(4, 7).unwrap().len(), 1);
    }

    #[test]
    fn out_of_range_requests_are_errors() {
        let t = kat_tree();
        assert!(t.inclusion_proof(8, 8).is_err());
        assert!(t.inclusion_proof(0, 9).is_err());
        assert!(t.consistency_proof(0, 8).is_err());
        assert!(t.consistency_proof(5, 4).is_err());
        assert!(verify_inclusion(3, 3, &Hash::default(), &[], &Hash::default()).is_err());
    }

    fn tree_of(n: u64) -> Tree {
        let mut t = Tree::new();
        for i in 0..n {
            t.push(leaf_hash(&i.to_be_bytes()));
        }
        t
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// A proof verifies iff the leaf is the one at that index in that tree.
        #[test]
        fn inclusion_verifies_iff_the_leaf_is_in_the_tree(
            size in 1u64..300, index_seed in any::<u64>(), other in any::<u64>(), flip in any::<(usize, u8)>()
        ) {
            let t = tree_of(size);
            let index = index_seed % size;
            let root = t.root(size).unwrap();
            let proof = t.inclusion_proof(index, size).unwrap();
            let leaf = leaf_hash(&index.to_be_bytes());
            prop_assert!(verify_inclusion(index, size, &leaf, &proof, &root).is_ok());
            // A different leaf value: in the tree only if it is this index's value.
            let candidate = leaf_hash(&other.to_be_bytes());
            prop_assert_eq!(verify_inclusion(index, size, &candidate, &proof, &root).is_ok(), other == index);
            // Another index with the same proof fails unless the proof is the same shape there
            // and the leaf equal, which distinct leaves rule out.
            let wrong = (index + 1 + other % size) % size;
            if wrong != index {
                prop_assert!(verify_inclusion(wrong, size, &leaf, &proof, &root).is_err());
            }
            // Any flipped bit in the proof breaks it.
            if !proof.is_empty() {
                let mut bad = proof.clone();
                let (i, bit) = flip;
                bad[i % proof.len()].0[(bit as usize) % 32] ^= 1 << (bit % 8);
                prop_assert!(verify_inclusion(index, size, &leaf, &bad, &root).is_err());
            }
        }

        #[test]
        fn consistency_verifies_iff_the_old_tree_is_a_prefix(old in 1u64..200, extra in 0u64..200, tweak in any::<u64>()) {
            let new = old + extra;
            let t = tree_of(new);
            let proof = t.consistency_proof(old, new).unwrap();
            let (old_root, new_root) = (t.root(old).unwrap(), t.root(new).unwrap());
            prop_assert!(verify_consistency(old, new, &old_root, &new_root, &proof).is_ok());
            // A tree whose old part differs in one leaf is not an extension.
            let mut other = Tree::new();
            let changed = tweak % old;
            for i in 0..new {
                other.push(leaf_hash(&(if i == changed { u64::MAX - i } else { i }).to_be_bytes()));
            }
            prop_assert!(verify_consistency(old, new, &other.root(old).unwrap(), &new_root, &proof).is_err());
            prop_assert!(verify_consistency(old, new, &old_root, &other.root(new).unwrap(), &proof).is_err());
        }
    }
}
