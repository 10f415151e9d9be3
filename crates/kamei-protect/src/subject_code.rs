//! Codes for integer subject keys that kamei can turn back into keys and no reader can:
//! FF1 (NIST SP 800-38G) over 62 bits, keyed per domain, placed in `[2^62, 2^63)`.
//!
//! A pseudonymised subject key must join inside an org (deterministic, one key per org), tell
//! nothing across orgs (a key per org), and let the gateway find the one row a reader asks for
//! by its code without transforming the whole table: `WHERE sender_id = <code>` becomes
//! `WHERE sender_id = <key>` in the source, where an index answers it. A truncated HMAC cannot
//! be inverted; a keyed permutation can, by whoever holds the key. FF1 is the standard one;
//! it is written out here for its one shape (fpe's general version, used for tokens, costs
//! five times as much per value) and held to fpe's in the tests.
//!
//! Codes live in `[2^62, 2^63)`: still non-negative BIGINTs, and never equal to a key (keys
//! are below `2^62` in any real id space), so a column that is raw for some rows and coded for
//! others cannot confuse the two, and a number below `2^62` is no code at all. Keys outside
//! `[0, 2^62)` have no code: the kernel suppresses them.
//!
//! See docs/design/subject-key-codes.md.

use aes::Aes256;
use aes::cipher::generic_array::GenericArray;
use aes::cipher::{BlockEncrypt, KeyInit};

use crate::keyring::DomainKeys;

/// The first code; also the number of keys that have one.
const TAG: u64 = 1 << 62;
/// Half of the 62 bits FF1 permutes (`u = v = 31`).
const HALF: u32 = 31;
/// The tweak: every subject-key column of a domain shares it, so codes join across tables.
const TWEAK: &[u8; 11] = b"SUBJECT_KEY";
/// FF1's rounds.
const ROUNDS: u8 = 10;

/// A domain's subject-key codes: FF1 (SP 800-38G, radix 2, n = 62) written out for this one
/// shape, so a value costs ten AES blocks and no allocation. The tests hold it to fpe's
/// general FF1, bit for bit.
pub(crate) struct SubjectKeyCode {
    aes: Aes256,
    /// CIPH(P): the first block of every round's PRF, the same for every value.
    p: [u8; 16],
}

impl SubjectKeyCode {
    pub(crate) fn new(keys: &DomainKeys) -> Result<SubjectKeyCode, String> {
        let aes = Aes256::new_from_slice(keys.subject_code.bytes()).map_err(|_| "bad FF1 key length")?;
        // P = [1, 2, 1] || [radix]^3 || [10] || [u mod 256] || [n]^4 || [t]^4
        let mut p = [
            1,
            2,
            1,
            0,
            0,
            2,
            10,
            HALF as u8,
            0,
            0,
            0,
            62,
            0,
            0,
            0,
            TWEAK.len() as u8,
        ];
        encrypt_block(&aes, &mut p);
        Ok(SubjectKeyCode { aes, p })
    }

    /// The code of `key`, if it has one (`0 <= key < 2^62`).
    pub(crate) fn encode(&self, key: i64) -> Option<i64> {
        let key = u64::try_from(key).ok().filter(|k| *k < TAG)?;
        let (mut a, mut b) = (key >> HALF, key & MASK);
        for i in 0..ROUNDS {
            let c = a.wrapping_add(self.round(i, b)) & MASK;
            (a, b) = (b, c);
        }
        i64::try_from(TAG | (a << HALF) | b).ok()
    }

    /// The key whose code is `code`, if `code` is one.
    pub(crate) fn decode(&self, code: i64) -> Option<i64> {
        let code = u64::try_from(code).ok().filter(|c| *c >= TAG)? - TAG;
        let (mut a, mut b) = (code >> HALF, code & MASK);
        for i in (0..ROUNDS).rev() {
            let c = b.wrapping_sub(self.round(i, a)) & MASK;
            (a, b) = (c, a);
        }
        i64::try_from((a << HALF) | b).ok()
    }

    /// NUM(S) of round `i` with half `half`: the PRF (CBC-MAC) over P || Q, where
    /// Q = T || [i] || [NUM(half)]^4 fills one block exactly (t + 1 + b = 16); d = 8 bytes.
    fn round(&self, i: u8, half: u64) -> u64 {
        let (round, num) = ([i], (half as u32).to_be_bytes());
        let q = TWEAK.iter().chain(&round).chain(&num);
        let mut block = self.p;
        for (x, q) in block.iter_mut().zip(q) {
            *x ^= q;
        }
        encrypt_block(&self.aes, &mut block);
        u64::from_be_bytes(*block.first_chunk().unwrap_or(&[0; 8]))
    }
}

/// The low 31 bits.
const MASK: u64 = (1 << HALF) - 1;

fn encrypt_block(aes: &Aes256, block: &mut [u8; 16]) {
    aes.encrypt_block(GenericArray::from_mut_slice(block));
}

#[cfg(test)]
mod tests {
    use super::*;
    use fpe::ff1::{FF1, FlexibleNumeralString};
    use proptest::prelude::*;

    fn codes(domain: &str) -> SubjectKeyCode {
        SubjectKeyCode::new(&DomainKeys::for_testing(domain)).unwrap()
    }

    /// FF1 through `Bits` must be FF1 itself: the same cipher through fpe's general numeral
    /// strings, bit for bit.
    fn reference(key: &[u8; 32], value: u64) -> u64 {
        let ff1 = FF1::<aes::Aes256>::new(key, 2).unwrap();
        let numerals: Vec<u16> = (0..62).rev().map(|i| ((value >> i) & 1) as u16).collect();
        let out: Vec<u16> = ff1
            .encrypt(TWEAK, &FlexibleNumeralString::from(numerals))
            .unwrap()
            .into();
        out.iter().fold(0, |acc, n| (acc << 1) | u64::from(*n))
    }

    proptest! {
        #[test]
        fn codes_are_ff1_invert_and_stay_in_their_range(key in 0i64..(1 << 62)) {
            let keys = DomainKeys::for_testing("ldt-shanghai");
            let c = SubjectKeyCode::new(&keys).unwrap();
            let code = c.encode(key).unwrap();
            prop_assert!(code >= 1 << 62);
            prop_assert_eq!(code as u64 - TAG, reference(keys.subject_code.bytes(), key as u64));
            prop_assert_eq!(c.decode(code), Some(key));
        }

        #[test]
        fn numbers_below_the_range_are_no_codes(v in i64::MIN..(1 << 62)) {
            prop_assert_eq!(codes("ldt-shanghai").decode(v), None);
        }
    }

    #[test]
    fn keys_outside_the_range_have_no_code_and_domains_differ() {
        let c = codes("ldt-shanghai");
        for key in [-1, i64::MIN, 1 << 62, i64::MAX] {
            assert_eq!(c.encode(key), None, "{key}");
        }
        let other = codes("naver-kr");
        let differ = (0..100).filter(|k| c.encode(*k) != other.encode(*k)).count();
        assert_eq!(differ, 100);
        // A code of one domain is some other key's code in another: it decodes, to another key.
        let code = c.encode(42).unwrap();
        assert_ne!(other.decode(code), Some(42));
    }
}
