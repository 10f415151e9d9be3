//! The one table of decimal digits in every form people type a number in: ASCII, full-width,
//! mathematical, the decimal digits of every other script (Thai, Arabic-Indic, Devanagari, …)
//! and the kanji numerals.
//!
//! The detector reads a phone number written `〇九〇ー一二三四ー五六七八` or `๐๘๑-๒๓๔-๕๖๗๘`
//! through this table, and the masks of kamei-protect and kamei-detect hide every character it
//! knows: when the two disagreed, a digit one of them read was left readable by the other.
//! `char::to_digit` knows only ASCII, and NFKC folds only the full-width and mathematical forms.

/// The code point of the zero of every block of ten decimal digits (Unicode category Nd), in
/// order, ASCII, full-width and the five mathematical blocks included. Nd digits come in
/// contiguous blocks of ten from a zero, which is what makes a table of zeros enough.
/// SPEC: Unicode 16.0 UnicodeData.txt, general category Nd (checked against `\p{Nd}` by a test).
pub const ND_ZEROS: &[u32] = &[
    0x30, 0x660, 0x6F0, 0x7C0, 0x966, 0x9E6, 0xA66, 0xAE6, 0xB66, 0xBE6, 0xC66, 0xCE6, 0xD66, 0xDE6, 0xE50,
    0xED0, 0xF20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90, 0x1B50, 0x1BB0, 0x1C40,
    0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10, 0x104A0, 0x10D30, 0x10D40,
    0x11066, 0x110F0, 0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0, 0x11650, 0x116C0, 0x116D0, 0x116DA,
    0x11730, 0x118E0, 0x11950, 0x11BF0, 0x11C50, 0x11D50, 0x11DA0, 0x11F50, 0x16130, 0x16A60, 0x16AC0,
    0x16B50, 0x16D70, 0x1CCF0, 0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6, 0x1E140, 0x1E2F0, 0x1E4F0,
    0x1E5F1, 0x1E950, 0x1FBF0,
];

/// The kanji numerals with their values: the everyday forms, the formal ones used on cheques
/// and contracts (壱弐参, 壹貳參, and the mainland's 贰叁陆), 零, the 〇 of vertical writing,
/// the `○` an IME gives for まる, and 幺, how Chinese read a 1 in a phone number.
pub const KANJI: &[(char, u8)] = &[
    ('〇', 0),
    ('○', 0),
    ('零', 0),
    ('一', 1),
    ('壱', 1),
    ('壹', 1),
    ('幺', 1),
    ('二', 2),
    ('弐', 2),
    ('貳', 2),
    ('贰', 2),
    ('三', 3),
    ('参', 3),
    ('參', 3),
    ('叁', 3),
    ('四', 4),
    ('肆', 4),
    ('五', 5),
    ('伍', 5),
    ('六', 6),
    ('陸', 6),
    ('陆', 6),
    ('七', 7),
    ('柒', 7),
    ('八', 8),
    ('捌', 8),
    ('九', 9),
    ('玖', 9),
];

/// The value of a decimal digit in any form, or `None` for every other character (letters,
/// `十`, circled and superscript numbers, fractions).
#[inline]
pub fn value(c: char) -> Option<u8> {
    let u = u32::from(c);
    if u < 0x80 {
        return c.is_ascii_digit().then(|| c as u8 - b'0');
    }
    if let Some(v) = kanji(c) {
        return Some(v);
    }
    let k = ND_ZEROS.partition_point(|&z| z <= u).checked_sub(1)?;
    let d = u - ND_ZEROS.get(k)?;
    u8::try_from(d).ok().filter(|&d| d < 10)
}

/// The value of a kanji numeral (`〇一二…`, `壱弐参`, `○`), `None` for every other character:
/// the numerals that may be part of a word (一緒, 九州), which the detector treats apart.
#[inline]
pub fn kanji(c: char) -> Option<u8> {
    // Every numeral lies between ○ (U+25CB) and 零 (U+96F6): Latin, kana and Hangul are
    // turned away here.
    if !('○'..='零').contains(&c) {
        return None;
    }
    KANJI.iter().find(|(k, _)| *k == c).map(|&(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(s: &str) -> String {
        s.chars()
            .filter_map(value)
            .map(|d| char::from(b'0' + d))
            .collect()
    }

    #[test]
    fn every_form_has_its_value() {
        assert_eq!(values("0123456789"), "0123456789");
        assert_eq!(values("０１２３４５６７８９"), "0123456789");
        assert_eq!(values("〇一二三四五六七八九"), "0123456789");
        assert_eq!(values("零壱弐参四伍陸七捌玖"), "0123456789");
        assert_eq!(values("○壹貳參肆五六柒八九幺贰叁陆"), "01234567891236");
        assert_eq!(values("๐๑๒๓๔๕๖๗๘๙"), "0123456789");
        assert_eq!(values("٠١٢٣٤٥٦٧٨٩"), "0123456789");
        assert_eq!(values("𝟎𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖𝟗𝟘𝟡"), "012345678909");
        assert_eq!(values("abc あいう 東京 十百千万 ① ² ½ Ⅻ"), "");
    }

    /// Every character of category Nd has a value equal to its distance from its block's zero,
    /// and every listed zero starts ten of them.
    #[test]
    fn the_table_is_unicode_nd() {
        let nd = regex::Regex::new(r"^\p{Nd}$").unwrap();
        let mut seen = 0;
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            let mut buf = [0; 4];
            if nd.is_match(c.encode_utf8(&mut buf)) {
                assert!(c.is_numeric(), "U+{:X}", u32::from(c));
                let v = value(c).unwrap_or_else(|| panic!("U+{:X} has no value", u32::from(c)));
                let zero = u32::from(c) - u32::from(v);
                assert!(ND_ZEROS.contains(&zero), "U+{:X}", u32::from(c));
                seen += 1;
            }
        }
        assert_eq!(seen, ND_ZEROS.len() * 10);
        assert!(ND_ZEROS.windows(2).all(|w| w[0] + 10 <= w[1]));
    }

    /// Every kanji form has a value, and no other character of the CJK blocks has one.
    #[test]
    fn kanji_forms_and_nothing_else() {
        for &(k, v) in KANJI {
            assert_eq!(value(k), Some(v), "{k}");
            assert_eq!(kanji(k), Some(v), "{k}");
        }
        let others = ('\u{2500}'..='\u{9FFF}').filter(|c| value(*c).is_some()).count();
        assert_eq!(others, KANJI.len());
    }
}
