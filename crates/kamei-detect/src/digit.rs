//! Decimal digits in every form people type a number in: ASCII, full-width, kanji numerals
//! and the decimal digits of every other script (Thai, Arabic-Indic, Devanagari, …).
//!
//! People who want a filter to miss their phone number write it `〇九〇ー一二三四ー五六七八`,
//! `๐๘๑-๒๓๔-๕๖๗๘` or `٠٩٠١٢٣٤٥٦٧٨`; `char::to_digit` knows none of these, and NFKC folds
//! only the full-width and mathematical ones. Each digit is decoded in place to its ASCII
//! value with its length in bytes, so a run of them is classified on ASCII digits (checksums
//! included) while offsets stay byte offsets into the original text.
//!
//! Every digit has a [`Family`]; a run of digits keeps to one family, so a kanji numeral
//! next to an ASCII number (`唯一090-…`, `…5678一緒に`) is never glued onto it.

/// Which kind of digit a run is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    /// ASCII, full-width (U+FF10..) and mathematical (U+1D7CE..) digits: one family because
    /// NFKC makes them the same.
    Latin,
    /// Kanji numerals, their formal (大字) forms and `○` used as a zero.
    Kanji,
    /// The decimal digits of another script, by the code point of its zero.
    Script(u32),
}

/// The code point of the zero of every block of ten decimal digits (Unicode category Nd)
/// other than ASCII, full-width and mathematical digits, in order. Nd digits come in
/// contiguous blocks of ten from a zero, which is what makes a table of zeros enough.
/// SPEC: Unicode 16.0 UnicodeData.txt, general category Nd (checked against
/// `char::is_numeric` by a test).
pub(crate) const SCRIPT_ZEROS: &[u32] = &[
    0x660, 0x6F0, 0x7C0, 0x966, 0x9E6, 0xA66, 0xAE6, 0xB66, 0xBE6, 0xC66, 0xCE6, 0xD66, 0xDE6, 0xE50, 0xED0,
    0xF20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90, 0x1B50, 0x1BB0, 0x1C40, 0x1C50,
    0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0x104A0, 0x10D30, 0x10D40, 0x11066, 0x110F0,
    0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0, 0x11650, 0x116C0, 0x116D0, 0x116DA, 0x11730, 0x118E0,
    0x11950, 0x11BF0, 0x11C50, 0x11D50, 0x11DA0, 0x11F50, 0x16130, 0x16A60, 0x16AC0, 0x16B50, 0x16D70,
    0x1CCF0, 0x1E140, 0x1E2F0, 0x1E4F0, 0x1E5F1, 0x1E950, 0x1FBF0,
];

/// Mathematical digits (bold, double-struck, sans-serif, …): five blocks of ten from here.
const MATH_ZERO: u32 = 0x1D7CE;

/// The kanji numerals with their values: the everyday forms, the formal ones used on cheques
/// and contracts (壱弐参, 壹貳參, and the mainland's 贰叁陆), 零, the 〇 of vertical writing,
/// the `○` an IME gives for まる, and 幺, how Chinese read a 1 in a phone number.
pub(crate) const KANJI: &[(u32, u8)] = &[
    (0x3007, 0), // 〇
    (0x25CB, 0), // ○
    (0x96F6, 0), // 零
    (0x4E00, 1), // 一
    (0x58F1, 1), // 壱
    (0x58F9, 1), // 壹
    (0x5E7A, 1), // 幺
    (0x4E8C, 2), // 二
    (0x5F10, 2), // 弐
    (0x8CB3, 2), // 貳
    (0x8D30, 2), // 贰
    (0x4E09, 3), // 三
    (0x53C2, 3), // 参
    (0x53C3, 3), // 參
    (0x53C1, 3), // 叁
    (0x56DB, 4), // 四
    (0x8086, 4), // 肆
    (0x4E94, 5), // 五
    (0x4F0D, 5), // 伍
    (0x516D, 6), // 六
    (0x9678, 6), // 陸
    (0x9646, 6), // 陆
    (0x4E03, 7), // 七
    (0x67D2, 7), // 柒
    (0x516B, 8), // 八
    (0x634C, 8), // 捌
    (0x4E5D, 9), // 九
    (0x7396, 9), // 玖
];

/// The range of code points a bitmap marks the kanji numerals in: the CJK blocks that most
/// characters of Japanese and Chinese text come from, so most characters are answered by one
/// bit instead of a search.
const CJK: std::ops::Range<u32> = 0x2500..0xA000;

const KANJI_BITS: [u64; ((CJK.end - CJK.start) / 64) as usize] = {
    let mut bits = [0u64; ((CJK.end - CJK.start) / 64) as usize];
    let mut k = 0;
    while k < KANJI.len() {
        let off = KANJI[k].0 - CJK.start;
        bits[(off / 64) as usize] |= 1 << (off % 64);
        k += 1;
    }
    bits
};

/// The value of a kanji numeral.
#[inline]
fn kanji(c: u32) -> Option<u8> {
    if !CJK.contains(&c) {
        return None;
    }
    let off = c - CJK.start;
    if KANJI_BITS[(off / 64) as usize] & (1 << (off % 64)) == 0 {
        return None;
    }
    KANJI.iter().find(|(k, _)| *k == c).map(|&(_, v)| v)
}

/// The code point of the UTF-8 character at `b[i]` and its length, for lead bytes of two to
/// four bytes; `None` for ASCII, a stray continuation byte or a truncated sequence.
#[inline]
pub(crate) fn decode(b: &[u8], i: usize) -> Option<(u32, usize)> {
    let c0 = u32::from(*b.get(i)?);
    let cont = |k: usize| b.get(i + k).map(|&x| u32::from(x & 0x3F));
    match c0 {
        0xC2..=0xDF => Some(((c0 & 0x1F) << 6 | cont(1)?, 2)),
        0xE0..=0xEF => Some(((c0 & 0x0F) << 12 | cont(1)? << 6 | cont(2)?, 3)),
        0xF0..=0xF4 => Some(((c0 & 0x07) << 18 | cont(1)? << 12 | cont(2)? << 6 | cont(3)?, 4)),
        _ => None,
    }
}

/// The digit at `b[i]` in any form: its ASCII value, its length in bytes and its family.
/// ASCII and full-width digits take the first two branches, so the common case costs what
/// it cost before other scripts were read.
#[inline]
pub(crate) fn at(b: &[u8], i: usize) -> Option<(u8, usize, Family)> {
    match *b.get(i)? {
        d @ b'0'..=b'9' => Some((d, 1, Family::Latin)),
        0xEF if b.get(i + 1) == Some(&0xBC) => match b.get(i + 2) {
            Some(&x @ 0x90..=0x99) => Some((b'0' + (x - 0x90), 3, Family::Latin)),
            _ => None,
        },
        0x00..=0x7F => None,
        _ => other_at(b, i),
    }
}

/// [`at`] for the rarer forms, out of line so `at` stays small enough to inline in the loops
/// that read ASCII digits.
#[inline(never)]
fn other_at(b: &[u8], i: usize) -> Option<(u8, usize, Family)> {
    let (c, len) = decode(b, i)?;
    let (v, family) = value(c)?;
    Some((b'0' + v, len, family))
}

/// The value and family of a non-ASCII code point that is a digit. Ordered by how much of
/// the service's text each range is: CJK, then Thai, then Hangul, then the rest.
#[inline]
pub(crate) fn value(c: u32) -> Option<(u8, Family)> {
    match c {
        0x2500..=0xA61F => kanji(c).map(|v| (v, Family::Kanji)),
        0x0E50..=0x0E59 => Some(((c - 0x0E50) as u8, Family::Script(0x0E50))),
        0x0E00..=0x0E7F | 0xAC00..=0xFFFF => None,
        _ if (MATH_ZERO..MATH_ZERO + 50).contains(&c) => Some((((c - MATH_ZERO) % 10) as u8, Family::Latin)),
        _ => script(c),
    }
}

/// A digit of the other scripts, by a search of their zeros.
#[inline(never)]
fn script(c: u32) -> Option<(u8, Family)> {
    let k = SCRIPT_ZEROS.partition_point(|&z| z <= c).checked_sub(1)?;
    let zero = SCRIPT_ZEROS[k];
    (c - zero < 10).then(|| ((c - zero) as u8, Family::Script(zero)))
}

/// Whether a kanji numeral at `b[i]` of length `len` is part of a word rather than a digit:
/// followed by another Han character (一緒, 三月 is a date's, 二十, 九州, 参加, 七夕).
/// 年, 月 and 日 end a date's parts and are let through.
pub(crate) fn kanji_in_word(b: &[u8], i: usize, len: usize) -> bool {
    match decode(b, i + len) {
        Some((c, _)) => {
            let han = (0x4E00..=0x9FFF).contains(&c) || (0x3400..=0x4DBF).contains(&c);
            han && kanji(c).is_none() && !matches!(c, 0x5E74 | 0x6708 | 0x65E5)
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digits(s: &str) -> Vec<(u8, Family)> {
        let b = s.as_bytes();
        let mut i = 0;
        let mut out = Vec::new();
        while i < b.len() {
            match at(b, i) {
                Some((d, l, f)) => {
                    out.push((d, f));
                    i += l;
                }
                None => i += 1,
            }
        }
        out
    }

    fn values(s: &str) -> String {
        digits(s).into_iter().map(|(d, _)| d as char).collect()
    }

    #[test]
    fn every_form_decodes_to_its_ascii_digit() {
        assert_eq!(values("0123456789"), "0123456789");
        assert_eq!(values("０１２３４５６７８９"), "0123456789");
        assert_eq!(values("〇一二三四五六七八九"), "0123456789");
        assert_eq!(values("零壱弐参四伍陸七捌玖"), "0123456789");
        assert_eq!(values("○壹貳參肆五六柒八九幺贰叁陆"), "01234567891236");
        assert_eq!(values("๐๑๒๓๔๕๖๗๘๙"), "0123456789");
        assert_eq!(values("٠١٢٣٤٥٦٧٨٩"), "0123456789");
        assert_eq!(values("۰۱۲۳۴۵۶۷۸۹"), "0123456789");
        assert_eq!(values("०१२३४५६७८९"), "0123456789");
        assert_eq!(values("၀၁၂၃၄၅၆၇၈၉"), "0123456789");
        assert_eq!(values("𝟎𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖𝟗𝟘𝟡"), "012345678909");
    }

    #[test]
    fn families_keep_scripts_apart() {
        let f: Vec<Family> = digits("1１一๑١").into_iter().map(|(_, f)| f).collect();
        assert_eq!(
            f,
            [
                Family::Latin,
                Family::Latin,
                Family::Kanji,
                Family::Script(0xE50),
                Family::Script(0x660)
            ]
        );
    }

    #[test]
    fn letters_kana_and_other_han_are_not_digits() {
        assert_eq!(values("abc あいう 東京 十百千万 ① ² ½ Ⅻ"), "");
        // Broken UTF-8 tails never panic.
        assert_eq!(at(&[0xE4, 0xB8], 0), None);
        assert_eq!(at(&[0xF0, 0x9D, 0x9F], 0), None);
    }

    /// Every listed zero starts ten characters the standard library calls numeric, and the
    /// character before each block is not a digit of it.
    #[test]
    fn the_table_of_zeros_is_unicode_nd() {
        for &z in SCRIPT_ZEROS.iter().chain(&[MATH_ZERO]) {
            for k in 0..10 {
                let c = char::from_u32(z + k).unwrap_or_else(|| panic!("{z:X}"));
                assert!(c.is_numeric(), "U+{:X}", z + k);
            }
        }
        assert!(SCRIPT_ZEROS.windows(2).all(|w| w[0] + 10 <= w[1]));
    }

    #[test]
    fn a_kanji_numeral_before_another_han_character_is_a_word() {
        let t = "一緒 二十 三月 一二";
        let b = t.as_bytes();
        assert!(kanji_in_word(b, 0, 3));
        assert!(kanji_in_word(b, t.find('二').unwrap(), 3));
        assert!(!kanji_in_word(b, t.find('三').unwrap(), 3));
        assert!(!kanji_in_word(b, t.rfind('一').unwrap(), 3));
    }
}
