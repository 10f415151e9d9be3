//! HMAC-SHA-256 (RFC 2104) for the pseudonym kernels, written over SHA-256's compression
//! function so that a value costs exactly its compressions and nothing else.
//!
//! A full scan pseudonymizes several columns of every row, and the `hmac` crate's keyed state
//! spends about a fifth of each value's time outside SHA-256 (cloning the state and its block
//! buffer, padding through the generic digest layers). Here the key's inner and outer blocks
//! and the kernel's fixed prefix are absorbed once; a value then builds its last block(s) on
//! the stack and runs two compressions when prefix and value fit in 55 bytes. The output is
//! HMAC-SHA-256 bit for bit (tested against RFC 4231 and the `hmac` crate), so pseudonyms do
//! not change.

use sha2::compress256;
use sha2::digest::generic_array::GenericArray;

const BLOCK: usize = 64;

// SPEC: FIPS 180-4, 5.3.3 (SHA-256 initial hash value).
const IV: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// HMAC-SHA-256 keyed with `key`, of messages that all start with the same `prefix`.
pub(crate) struct KeyedPrefix {
    /// SHA-256 state after `key ⊕ ipad` and every whole block of the prefix.
    inner: [u32; 8],
    /// The prefix's bytes after its last whole block (fewer than 64).
    tail: Vec<u8>,
    /// Bytes absorbed into `inner`.
    absorbed: u64,
    /// SHA-256 state after `key ⊕ opad`.
    outer: [u32; 8],
}

impl KeyedPrefix {
    // SPEC: RFC 2104, section 2 (keys longer than the block are hashed first).
    #[expect(
        clippy::indexing_slicing,
        reason = "a key of at most 64 bytes, or its 32-byte digest, into a 64-byte block"
    )]
    pub(crate) fn new(key: &[u8], prefix: &[u8]) -> KeyedPrefix {
        let mut block = [0u8; BLOCK];
        if key.len() > BLOCK {
            block[..32].copy_from_slice(&sha256(key));
        } else {
            block[..key.len()].copy_from_slice(key);
        }
        let pad = |byte: u8| {
            let mut state = IV;
            let padded: [u8; BLOCK] = std::array::from_fn(|i| block[i] ^ byte);
            compress(&mut state, &padded);
            state
        };
        let mut inner = pad(0x36);
        let outer = pad(0x5c);
        let mut blocks = prefix.chunks_exact(BLOCK);
        for whole in blocks.by_ref() {
            compress(&mut inner, whole);
        }
        let tail = blocks.remainder().to_vec();
        let absorbed = (BLOCK + prefix.len() - tail.len()) as u64;
        KeyedPrefix {
            inner,
            tail,
            absorbed,
            outer,
        }
    }

    /// HMAC-SHA-256 of `prefix ‖ value`.
    pub(crate) fn mac(&self, value: &[u8]) -> [u8; 32] {
        let inner = finish(self.inner, self.absorbed, &self.tail, value);
        finish(self.outer, BLOCK as u64, &inner, &[])
    }
}

/// SHA-256 of a whole message (for an over-long key).
fn sha256(message: &[u8]) -> [u8; 32] {
    finish(IV, 0, message, &[])
}

/// Completes a SHA-256 whose `state` has absorbed `absorbed` bytes (a multiple of 64) with the
/// message's remaining bytes `a ‖ b`, and returns the digest.
// SPEC: FIPS 180-4, 5.1.1 (padding: 0x80, zeros, the length in bits as 64-bit big-endian).
#[expect(
    clippy::indexing_slicing,
    reason = "`filled` stays below 64: a full block is compressed and emptied at once"
)]
fn finish(mut state: [u32; 8], absorbed: u64, a: &[u8], b: &[u8]) -> [u8; 32] {
    let total = absorbed + (a.len() + b.len()) as u64;
    let mut block = [0u8; BLOCK];
    let mut filled = 0;
    for part in [a, b] {
        let mut rest = part;
        while !rest.is_empty() {
            let take = rest.len().min(BLOCK - filled);
            let (now, later) = rest.split_at(take);
            block[filled..filled + take].copy_from_slice(now);
            filled += take;
            rest = later;
            if filled == BLOCK {
                compress(&mut state, &block);
                filled = 0;
            }
        }
    }
    block[filled] = 0x80;
    block[filled + 1..].fill(0);
    if filled + 1 > BLOCK - 8 {
        compress(&mut state, &block);
        block.fill(0);
    }
    block[BLOCK - 8..].copy_from_slice(&(total * 8).to_be_bytes());
    compress(&mut state, &block);
    let mut digest = [0u8; 32];
    for (out, word) in digest.chunks_exact_mut(4).zip(state) {
        out.copy_from_slice(&word.to_be_bytes());
    }
    digest
}

fn compress(state: &mut [u32; 8], block: &[u8]) {
    compress256(state, std::slice::from_ref(GenericArray::from_slice(block)));
}

#[cfg(test)]
mod tests {
    use hmac::{Hmac, Mac};
    use proptest::prelude::*;

    use super::*;

    fn reference(key: &[u8], prefix: &[u8], value: &[u8]) -> [u8; 32] {
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(key).unwrap();
        mac.update(prefix);
        mac.update(value);
        mac.finalize().into_bytes().into()
    }

    // SPEC: RFC 4231, test cases 1, 2, 3, 6 (a 131-byte key, hashed first) and 7.
    #[test]
    fn matches_rfc_4231() {
        let long = "This is a test using a larger than block-size key and a larger than block-size \
                    data. The key needs to be hashed before being used by the HMAC algorithm.";
        let cases: [(Vec<u8>, &[u8], &str); 5] = [
            (
                vec![0x0b; 20],
                b"Hi There",
                "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
            ),
            (
                b"Jefe".to_vec(),
                b"what do ya want for nothing?",
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
            ),
            (
                vec![0xaa; 20],
                &[0xdd; 50],
                "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
            ),
            (
                vec![0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First",
                "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
            ),
            (
                vec![0xaa; 131],
                long.as_bytes(),
                "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
            ),
        ];
        for (key, data, expected) in cases {
            // Split anywhere between prefix and value: the same MAC.
            for cut in [0, 1, data.len() / 2, data.len()] {
                let (prefix, value) = data.split_at(cut);
                assert_eq!(hex::encode(KeyedPrefix::new(&key, prefix).mac(value)), expected);
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Every length around the block and padding boundaries, keys short and over-long.
        #[test]
        fn equals_the_hmac_crate(
            key in proptest::collection::vec(any::<u8>(), 0..150),
            prefix in proptest::collection::vec(any::<u8>(), 0..140),
            value in proptest::collection::vec(any::<u8>(), 0..200),
        ) {
            let keyed = KeyedPrefix::new(&key, &prefix);
            prop_assert_eq!(keyed.mac(&value), reference(&key, &prefix, &value));
            prop_assert_eq!(keyed.mac(&[]), reference(&key, &prefix, &[]));
        }
    }
}
