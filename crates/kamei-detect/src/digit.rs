//! Decimal digits in every form people type a number in: ASCII, full-width, kanji numerals
//! and the decimal digits of every other script (Thai, Arabic-Indic, Devanagari, …).
//!
//! People who want a filter to miss their phone number write it `〇九〇ー一二三四ー五六七八`,
//! `๐๘๑-๒๓๔-๕๖๗๘` or `٠٩٠١٢٣٤٥٦٧٨`; `char::to_digit` knows none of these, and NFKC folds
//! only the full-width and mathematical ones. Each digit is decoded in place to its ASCII
//! value with its length in bytes, so a run of them is classified on ASCII digits (checksums
//! included) while offsets stay byte offsets into the original text.
//!
//! A run of digits may mix their forms (`090-12三4-5678`, `4111 1111 1111 111๑`): people mix
//! them to get past filters. Only kanji numerals are treated apart, because they are also
//! parts of words (唯一, 一緒, 九州): [`kanji_in_word`] tells a numeral that leans on a word.
//! The values come from kamei-core's table ([`kamei_core::digit`]), which the masks use too.

use kamei_core::digit as table;

/// A digit in any form: its ASCII value, its length in bytes, and whether it is a kanji
/// numeral (which may be part of a word instead).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Digit {
    pub(crate) ascii: u8,
    pub(crate) len: usize,
    pub(crate) kanji: bool,
}

/// The character of two to four bytes at `b[i]` (`b` a `str`'s bytes) and its length; `None`
/// for ASCII, a continuation byte or a cut sequence. The standard library decodes it.
#[inline]
pub(crate) fn char_at(b: &[u8], i: usize) -> Option<(char, usize)> {
    let len = match *b.get(i)? {
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => return None,
    };
    let c = std::str::from_utf8(b.get(i..i + len)?).ok()?.chars().next()?;
    Some((c, len))
}

/// The digit at `b[i]` in any form. ASCII and full-width digits take the first two
/// branches, so the common case costs what it cost before other scripts were read.
#[inline]
pub(crate) fn at(b: &[u8], i: usize) -> Option<Digit> {
    match *b.get(i)? {
        d @ b'0'..=b'9' => Some(Digit {
            ascii: d,
            len: 1,
            kanji: false,
        }),
        0xEF if b.get(i + 1) == Some(&0xBC) => match b.get(i + 2) {
            Some(&x @ 0x90..=0x99) => Some(Digit {
                ascii: b'0' + (x - 0x90),
                len: 3,
                kanji: false,
            }),
            _ => None,
        },
        0x00..=0x7F => None,
        _ => other_at(b, i),
    }
}

/// [`at`] for the rarer forms, out of line so `at` stays small enough to inline in the loops
/// that read ASCII digits.
#[inline(never)]
fn other_at(b: &[u8], i: usize) -> Option<Digit> {
    let (c, len) = char_at(b, i)?;
    let v = table::value(c)?;
    Some(Digit {
        ascii: b'0' + v,
        len,
        kanji: table::kanji(c).is_some(),
    })
}

/// Whether `c` is a Han character that is not a kanji numeral: what a numeral next to it
/// may form a word with.
fn han_word_char(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}') && table::kanji(c).is_none()
}

/// Whether a kanji numeral at `b[i]` of length `len` is part of a word rather than a digit:
/// followed by another Han character (一緒, 二十, 九州, 参加, 七夕). 年, 月 and 日 end a
/// date's parts and are let through. Asked of the first digit of a group only: inside a
/// number, `…五六七八番です` keeps its 八.
pub(crate) fn kanji_in_word(b: &[u8], i: usize, len: usize) -> bool {
    char_at(b, i + len).is_some_and(|(c, _)| han_word_char(c) && !matches!(c, '年' | '月' | '日'))
}

/// Whether the character that ends at `b[i]` is a Han character other than a numeral
/// (唯一, 第一): a numeral after one belongs to that word.
pub(crate) fn han_before(b: &[u8], i: usize) -> bool {
    i >= 3 && char_at(b, i - 3).is_some_and(|(c, l)| l == 3 && han_word_char(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digits(s: &str) -> Vec<Digit> {
        let b = s.as_bytes();
        let mut i = 0;
        let mut out = Vec::new();
        while i < b.len() {
            match at(b, i) {
                Some(d) => {
                    out.push(d);
                    i += d.len;
                }
                None => i += 1,
            }
        }
        out
    }

    fn values(s: &str) -> String {
        digits(s).into_iter().map(|d| d.ascii as char).collect()
    }

    /// The values are kamei-core's table (tested there); here, that each form is read in
    /// place with its length, through the fast ASCII and full-width branches or the other.
    #[test]
    fn every_form_decodes_in_place_to_its_ascii_digit() {
        assert_eq!(values("09０９〇九○玖๐๙٠٩𝟎𝟗"), "09090909090909");
        let lens: Vec<usize> = digits("0０〇๐٠𝟎").into_iter().map(|d| d.len).collect();
        assert_eq!(lens, [1, 3, 3, 3, 2, 4]);
    }

    #[test]
    fn only_kanji_numerals_are_marked_kanji() {
        let k: Vec<bool> = digits("1１一๑١○").into_iter().map(|d| d.kanji).collect();
        assert_eq!(k, [false, false, true, false, false, true]);
    }

    #[test]
    fn letters_kana_and_other_han_are_not_digits() {
        assert_eq!(values("abc あいう 東京 十百千万 ① ² ½ Ⅻ"), "");
        // Broken UTF-8 tails never panic.
        assert_eq!(at(&[0xE4, 0xB8], 0), None);
        assert_eq!(at(&[0xF0, 0x9D, 0x9F], 0), None);
        assert_eq!(char_at(&[0xBE], 0), None);
    }

    #[test]
    fn a_kanji_numeral_next_to_another_han_character_is_a_word() {
        let t = "一緒 二十 三月 一二 唯一";
        let b = t.as_bytes();
        assert!(kanji_in_word(b, 0, 3));
        assert!(kanji_in_word(b, t.find('二').unwrap(), 3));
        assert!(!kanji_in_word(b, t.find('三').unwrap(), 3));
        assert!(!kanji_in_word(b, t.find("一二").unwrap(), 3));
        assert!(han_before(b, t.rfind('一').unwrap()));
        assert!(!han_before(b, t.find("一二").unwrap() + 3));
        assert!(!han_before(b, 0));
    }
}
