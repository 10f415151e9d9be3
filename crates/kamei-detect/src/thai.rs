//! Thai names after the word that introduces them: a title (คุณ, นาย, นาง, นางสาว), a kinship
//! word used for friends and colleagues (พี่, น้อง), or a phrase (ผมชื่อ, ชื่อบัญชี, ฝากบอก).
//!
//! Thai is written without spaces between words, so a name ends at a space, at a character
//! that is not Thai, or where a common word starts (ด้วย, ครับ, ส่ง, เบอร์); a formal title
//! or a space-separated second word adds the surname (นายธนากร ศรีสุข).

use kamei_core::PiiType;

use crate::names::Found;

fn is_thai(c: char) -> bool {
    matches!(c, '\u{0E01}'..='\u{0E4E}')
}

/// Words that end a name written without a space after it: particles, verbs and nouns
/// that follow a name in chat.
const STOP_WORDS: &[&str] = &[
    "ด้วย",
    "นะ",
    "ครับ",
    "ค่ะ",
    "คะ",
    "จ้า",
    "จ๋า",
    "ว่า",
    "ให้",
    "ที่",
    "เบอร์",
    "โทร",
    "ส่ง",
    "มา",
    "ไป",
    "จะ",
    "ได้",
    "เป็น",
    "อยู่",
    "ช่วย",
    "ฝาก",
    "เกิด",
    "กับ",
    "และ",
    "หน่อย",
    "บ้าน",
    "ขอ",
    "แจ้ง",
    "ย้าย",
    "คือ",
    "เอง",
    "ก็",
    "บอก",
    "ซื้อ",
    "โอน",
    "ไม่",
    "เลย",
    "แล้ว",
];

/// Titles that may stand between a phrase and the name (ชื่อ นางสาว…), longest first.
const TITLES: &[&str] = &["นางสาว", "นาง", "นาย", "คุณ"];

/// Words after คุณ or พี่ that are people's roles, not names (คุณแม่, พี่ชาย, คุณลูกค้า).
const NOT_NAMES: &[&str] = &[
    "แม่",
    "พ่อ",
    "ครู",
    "หมอ",
    "ลูกค้า",
    "ป้า",
    "ลุง",
    "ยาย",
    "ชาย",
    "สาว",
    "ทุกคน",
    "ท่าน",
    "น้อง",
    "พี่",
    "ผู้",
    "เจ้าหน้าที่",
    "พนักงาน",
    "คน",
    "ภาพ",
    "สมบัติ",
    "ค่า",
    "จ้าง",
    "กรัฐ",
    "หน้า",
    "ผม",
    "ฉัน",
    "หนู",
    "เรา",
    "ดิฉัน",
    "ของ",
    "มาก",
    "ครับ",
    "ค่ะ",
    "คะ",
    "ว่า",
    "จ้า",
    "ที่",
    "ให้",
];

/// The name that starts at `at`, after a title or phrase; `formal` titles (นาย, นาง, คุณ,
/// ชื่อ…) are followed by a surname when a second word follows a space.
pub(crate) fn name_after(text: &str, title_start: usize, mut at: usize, formal: bool) -> Option<Found> {
    // ขอบคุณ is "thank you", not a title.
    if text[..title_start].ends_with("ขอบ") {
        return None;
    }
    // Blanks, and a title after a phrase (ชื่อ นายธนากร): the name starts after them.
    loop {
        let rest = &text[at..];
        if let Some(t) = rest.strip_prefix(' ') {
            at = text.len() - t.len();
        } else if let Some(title) = TITLES.iter().find(|t| rest.starts_with(*t)) {
            at += title.len();
        } else {
            break;
        }
    }
    let rest = &text[at..];
    if NOT_NAMES.iter().any(|w| rest.starts_with(w)) {
        return None;
    }
    let end = word_end(rest)?;
    let mut e = at + end;
    if formal && text[e..].starts_with(' ') {
        let next = &text[e + 1..];
        if let Some(len) = word_end(next)
            && !STOP_WORDS.iter().any(|w| next.starts_with(w))
            && next[..len].chars().count() >= 3
            && next[len..].chars().next().is_none_or(|c| !is_thai(c))
        {
            e += 1 + len;
        }
    }
    Some(Found {
        pii_type: PiiType::Person,
        start: at,
        end: e,
        score: 0.75,
    })
}

/// Words that stand before a verb of saying in place of a name: pronouns, kin and roles
/// (เขาบอกว่า, แม่บอกว่า, ลูกค้าโทรมา), and sentence openers (แล้วบอกว่า, วันนี้โทรมา).
const NOT_SPEAKERS: &[&str] = &[
    "เขา",
    "เค้า",
    "เธอ",
    "ผม",
    "ฉัน",
    "เรา",
    "มัน",
    "แก",
    "หนู",
    "ดิฉัน",
    "กู",
    "มึง",
    "ใคร",
    "ทุก",
    "คน",
    "เพื่อน",
    "แม่",
    "พ่อ",
    "ครู",
    "หมอ",
    "หัวหน้า",
    "เจ้า",
    "ลูก",
    "พนักงาน",
    "ร้าน",
    "บริษัท",
    "ธนาคาร",
    "แฟน",
    "ผัว",
    "เมีย",
    "สามี",
    "ภรรยา",
    "ยาย",
    "ป้า",
    "ลุง",
    "น้า",
    "ข่าว",
    "เว็บ",
    "แอป",
    "ระบบ",
    "ทาง",
    "แล้ว",
    "แต่",
    "ก็",
    "และ",
    "ถ้า",
    "ตอน",
    "เมื่อ",
    "วัน",
    "พรุ่งนี้",
    "ที่",
    "ซึ่ง",
    "ยัง",
    "ไม่",
    "จะ",
    "ขอ",
    "ต้อง",
    "อยาก",
    "คุณ",
    "นาย",
    "นาง",
    "พี่",
    "น้อง",
    "ชื่อ",
    "ลูกค้า",
    "ไรเดอร์",
    "คนขับ",
    "แอด",
];

/// Endings of a word before a verb of saying that make it a verb phrase (มาบอกว่า, ได้บอกว่า,
/// เคยบอกว่า), not a name.
const VERB_ENDINGS: &[&str] = &[
    "มา",
    "ไป",
    "ก็",
    "ได้",
    "จะ",
    "ขอ",
    "ต้อง",
    "เคย",
    "แล้ว",
    "ไม่",
    "ยัง",
    "ว่า",
    "อยาก",
    "ยืนยัน",
    "เลย",
    "ก่อน",
    "อีก",
    "ด้วย",
    "นี้",
    "นั้น",
    "ค่ะ",
    "ครับ",
    "นะ",
    "เขา",
    "เค้า",
    "ก็จะ",
    "เพิ่ง",
    "ซ้ำ",
];

/// A name right before a verb of saying or calling that starts at `verb` (สมชายบอกว่า…,
/// ต้น โทรมา): a Thai word of two to twelve characters that starts the text or follows a
/// space or punctuation, and is neither a pronoun, a role nor a verb phrase. A word after a
/// title is left to `name_after`.
pub(crate) fn name_before_verb(text: &str, verb: usize) -> Option<Found> {
    let end = text[..verb].trim_end_matches(' ').len();
    let mut start = end;
    let mut n = 0;
    for (i, c) in text[..end].char_indices().rev() {
        if !is_thai(c) {
            if c.is_alphanumeric() {
                return None;
            }
            break;
        }
        n += 1;
        if n > 12 {
            return None;
        }
        start = i;
    }
    let word = &text[start..end];
    // A name starts with a consonant or a leading vowel (เ แ โ ใ ไ), not with a mark.
    let first = word.chars().next()?;
    if n < 2
        || !matches!(first, '\u{0E01}'..='\u{0E2E}' | '\u{0E40}'..='\u{0E44}')
        || NOT_SPEAKERS.iter().any(|w| word.starts_with(w))
        || VERB_ENDINGS.iter().any(|w| word.ends_with(w))
    {
        return None;
    }
    Some(Found {
        pii_type: PiiType::Person,
        start,
        end,
        score: 0.7,
    })
}

/// Where the Thai word at the start of `s` ends: at a space, a non-Thai character or a stop
/// word (after at least two characters); None when it is shorter than two characters.
fn word_end(s: &str) -> Option<usize> {
    let mut n = 0;
    for (i, c) in s.char_indices() {
        if !is_thai(c) || (n >= 2 && STOP_WORDS.iter().any(|w| s[i..].starts_with(w))) {
            return (n >= 2).then_some(i);
        }
        n += 1;
        if n > 20 {
            return None;
        }
    }
    (n >= 2).then_some(s.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name<'a>(text: &'a str, title: &str, formal: bool) -> Option<&'a str> {
        let start = text.find(title)?;
        name_after(text, start, start + title.len(), formal).map(|f| &text[f.start..f.end])
    }

    #[test]
    fn names_after_titles() {
        assert_eq!(name("พี่ต้น เบอร์ใหม่", "พี่", false), Some("ต้น"));
        assert_eq!(name("ฝากบอกสมชายด้วยนะ", "ฝากบอก", false), Some("สมชาย"));
        assert_eq!(name("ชื่อ นายธนากร ศรีสุข", "นาย", true), Some("ธนากร ศรีสุข"));
        assert_eq!(name("ชื่อ นายธนากร ศรีสุข", "ชื่อ", true), Some("ธนากร ศรีสุข"));
        assert_eq!(name("ลูกค้า สุนิสา ทองดี เกิด", "ลูกค้า", true), Some("สุนิสา ทองดี"));
        assert_eq!(
            name("คุณสมศักดิ์ วงศ์ประเสริฐ โทรมา", "คุณ", true),
            Some("สมศักดิ์ วงศ์ประเสริฐ")
        );
        assert_eq!(name("คุณชลธิชา ส่งสำเนา", "คุณ", true), Some("ชลธิชา"));
    }

    fn speaker(text: &str, verb: &str) -> Option<String> {
        let at = text.find(verb)?;
        name_before_verb(text, at).map(|f| text[f.start..f.end].to_string())
    }

    #[test]
    fn names_before_verbs_of_saying() {
        assert_eq!(speaker("สมชายบอกว่าจะโอนพรุ่งนี้", "บอกว่า").as_deref(), Some("สมชาย"));
        assert_eq!(
            speaker("เมื่อกี้ วิภาวรรณ โทรมาหา", "โทรมา").as_deref(),
            Some("วิภาวรรณ")
        );
        assert_eq!(speaker("ok ธนพล ถามว่าเบอร์อะไร", "ถามว่า").as_deref(), Some("ธนพล"));
        for (text, verb) in [
            ("เขาบอกว่าจะมา", "บอกว่า"),
            ("แม่บอกว่าไม่ว่าง", "บอกว่า"),
            ("เมื่อวานมาบอกว่า", "บอกว่า"),
            ("เคยบอกว่าจะโอน", "บอกว่า"),
            ("ลูกค้าโทรมาถาม", "โทรมา"),
            ("แล้วบอกว่าไง", "บอกว่า"),
            ("พี่ต้นบอกว่า", "บอกว่า"),
            ("ธนาคารโทรมา", "โทรมา"),
        ] {
            assert_eq!(speaker(text, verb), None, "{text}");
        }
    }

    #[test]
    fn roles_are_not_names() {
        assert_eq!(name("คุณแม่บอกว่า", "คุณ", true), None);
        assert_eq!(name("พี่ชายของฉัน", "พี่", false), None);
        assert_eq!(name("คุณภาพดีมาก", "คุณ", true), None);
        assert_eq!(name("ขอบคุณครับ", "คุณ", true), None);
        assert_eq!(name("ขอบคุณมากค่ะ", "คุณ", true), None);
        assert_eq!(name("ฝากบอกว่าจะมาช้า", "ฝากบอก", false), None);
        assert_eq!(name("น้องมายด์ส่งเบอร์มาแล้ว", "น้อง", false), Some("มายด์"));
    }
}
