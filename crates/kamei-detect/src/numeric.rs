//! Runs of digits and separators: phone numbers, cards, My Numbers, postal codes, dates, …
//!
//! A run is read once, folding its digits (full-width, kanji, Thai, Arabic-Indic, …: see
//! [`crate::digit`]) to ASCII into a small buffer and recording which separators stand between
//! its digit groups; classification then works on the folded digits and the group shape, and
//! reports byte offsets of the original text.

use kamei_core::PiiType;

use crate::context::Ctx;
use crate::digit;
use crate::validate;

/// The most digit groups a run may have; a longer run is split at this point. Sixteen lets
/// a card number written one digit at a time (`4 1 1 1 …`) be read whole.
const MAX_GROUPS: usize = 16;

/// A separator between digit groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sep {
    /// `-` and its look-alikes: ‐ ‑ ‒ – — ― − ー － ｰ.
    Hyphen,
    /// ASCII or ideographic space.
    Space,
    Dot,
    Slash,
    Open,
    Close,
    /// 年 (in a Japanese date).
    Year,
    /// 月.
    Month,
    /// A symbol or emoji put between digits to hide them from filters: `_ * ~ | #`, `〜 ・ ★ ♪`,
    /// `· •`, arrows and geometric shapes (`→ ⬛ ■`), `📞 ✨ ❤️ 🇯🇵` (with their variation
    /// selectors and joiners), a keycap's mark (`0️⃣9️⃣0️⃣`), and the の of a number read aloud
    /// (`〇九〇の一二三四の五六七八`).
    Other,
    /// A list's comma, `,` `、` `，`: between a phone's groups only (`090、1234、5678`), since
    /// a comma also groups the thousands of an amount.
    List,
}

impl Sep {
    pub(crate) const fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

const HYPHEN: u16 = Sep::Hyphen.bit();
const SPACE: u16 = Sep::Space.bit();
const DOT: u16 = Sep::Dot.bit();
const SLASH: u16 = Sep::Slash.bit();
const OPEN: u16 = Sep::Open.bit();
const CLOSE: u16 = Sep::Close.bit();
const YEAR: u16 = Sep::Year.bit();
const MONTH: u16 = Sep::Month.bit();
const OTHER: u16 = Sep::Other.bit();
const LIST: u16 = Sep::List.bit();

/// The separator at `b[i]` and its length in bytes.
pub(crate) fn sep_at(b: &[u8], i: usize) -> Option<(Sep, usize)> {
    let c = *b.get(i)?;
    let tail = (b.get(i + 1).copied(), b.get(i + 2).copied());
    match c {
        b'-' => Some((Sep::Hyphen, 1)),
        b' ' => Some((Sep::Space, 1)),
        b'.' => Some((Sep::Dot, 1)),
        b'/' => Some((Sep::Slash, 1)),
        b'(' => Some((Sep::Open, 1)),
        b')' => Some((Sep::Close, 1)),
        b'_' | b'*' | b'~' | b'|' | b'#' => Some((Sep::Other, 1)),
        // Not before a space: `June 9, 1995` is a day and a year.
        b',' if b.get(i + 1).is_some_and(|&c| c != b' ') => Some((Sep::List, 1)),
        // ·
        0xC2 if tail.0 == Some(0xB7) => Some((Sep::Other, 2)),
        0xE2 => match tail {
            (Some(0x80), Some(0x90..=0x95)) | (Some(0x88), Some(0x92)) => Some((Sep::Hyphen, 3)),
            // Miscellaneous symbols and dingbats (★ ☆ ♪ ♡ ❤ ✨ ☎), arrows (→ ⇒), technical
            // symbols (⌚ ⏰), block elements and geometric shapes (■ ▲ ◆) but the ○ that is a
            // zero (U+25CB), U+2B00.. (⬛ ⬆ ⭐), • ‧, the emoji joiner and a keycap's U+20E3.
            (Some(0x98..=0x9E | 0x86 | 0x87 | 0x8C..=0x8F | 0x96 | 0xAC..=0xAF), Some(0x80..=0xBF))
            | (Some(0x97), Some(0x80..=0x8A | 0x8C..=0xBF))
            | (Some(0x80), Some(0x8D | 0xA2 | 0xA7))
            | (Some(0x83), Some(0xA3)) => Some((Sep::Other, 3)),
            _ => None,
        },
        0xE3 => match tail {
            (Some(0x83), Some(0xBC)) => Some((Sep::Hyphen, 3)),
            (Some(0x80), Some(0x80)) => Some((Sep::Space, 3)),
            (Some(0x80), Some(0x81)) => Some((Sep::List, 3)),
            // 〜 ・, and の as a number is read aloud (ゼロキューゼロの…).
            (Some(0x80), Some(0x9C)) | (Some(0x83), Some(0xBB)) | (Some(0x81), Some(0xAE)) => {
                Some((Sep::Other, 3))
            }
            _ => None,
        },
        0xEF => match tail {
            (Some(0xBC), Some(0x8D)) | (Some(0xBD), Some(0xB0)) => Some((Sep::Hyphen, 3)),
            (Some(0xBC), Some(0x88)) => Some((Sep::Open, 3)),
            (Some(0xBC), Some(0x89)) => Some((Sep::Close, 3)),
            (Some(0xBC), Some(0x8E)) => Some((Sep::Dot, 3)),
            (Some(0xBC), Some(0x8F)) => Some((Sep::Slash, 3)),
            (Some(0xBC), Some(0x8C)) => Some((Sep::List, 3)),
            // ～ ｜ ･ ＿ ＊ ＃ and the emoji variation selector.
            (Some(0xBD), Some(0x9E | 0x9C | 0xA5))
            | (Some(0xBC), Some(0xBF | 0x8A | 0x83))
            | (Some(0xB8), Some(0x8F)) => Some((Sep::Other, 3)),
            _ => None,
        },
        // Emoji and pictographs (U+1F000..U+1FAFF: the regional indicators of flags, 🇯🇵, too).
        0xF0 if tail.0 == Some(0x9F) && matches!(tail.1, Some(0x80..=0xAB)) && b.len() > i + 3 => {
            Some((Sep::Other, 4))
        }
        0xE5 if tail == (Some(0xB9), Some(0xB4)) => Some((Sep::Year, 3)),
        0xE6 if tail == (Some(0x9C), Some(0x88)) => Some((Sep::Month, 3)),
        _ => None,
    }
}

/// Whether `b[i]` starts a `+` (ASCII or full-width).
pub(crate) fn plus_at(b: &[u8], i: usize) -> Option<usize> {
    match b.get(i..i + 1) {
        Some(b"+") => Some(1),
        _ if b.get(i..i + 3) == Some("＋".as_bytes()) => Some(3),
        _ => None,
    }
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Group {
    pub(crate) start: usize,
    pub(crate) end: usize,
    d0: usize,
    d1: usize,
}

/// One run of digit groups. Reused between runs so the scan allocates only while warming up.
#[derive(Debug, Default)]
pub(crate) struct Run {
    pub(crate) groups: Vec<Group>,
    /// `seps[k]` is the set of separators between group k and k + 1.
    seps: Vec<u16>,
    digits: Vec<u8>,
    /// Byte offset of a leading `+` or `(`.
    lead: Option<usize>,
    plus: bool,
    /// Whether the last digit taken was a kanji numeral.
    last_kanji: bool,
    pub(crate) end: usize,
}

/// Whether a group of digits may open at `b[i]`: a digit, but not a kanji numeral that is part
/// of a word: one that leans on the Han character after it (一緒, 九州, 参加), or one after a
/// Han character with a digit of another form right after it (`唯一090-…`, `第一0120…`).
fn opens_group(b: &[u8], i: usize) -> bool {
    match digit::at(b, i) {
        Some(d) if d.kanji => {
            let leans_on_word = digit::kanji_in_word(b, i, d.len);
            let ends_word = digit::han_before(b, i) && digit::at(b, i + d.len).is_some_and(|n| !n.kanji);
            !(leans_on_word || ends_word)
        }
        Some(_) => true,
        None => false,
    }
}

impl Run {
    /// Reads the run that starts at `b[i]` (a digit, or `+`/`(` followed by a digit).
    pub(crate) fn read(&mut self, b: &[u8], mut i: usize) {
        self.groups.clear();
        self.seps.clear();
        self.digits.clear();
        self.lead = None;
        self.plus = false;
        if let Some(l) = plus_at(b, i) {
            self.lead = Some(i);
            self.plus = true;
            i += l;
            while let Some((Sep::Space | Sep::Open, l)) = sep_at(b, i) {
                i += l;
            }
        } else if let Some((Sep::Open, l)) = sep_at(b, i) {
            self.lead = Some(i);
            i += l;
        }
        loop {
            let start = i;
            let d0 = self.digits.len();
            if !opens_group(b, i) {
                break;
            }
            while let Some(l) = self.digit(b, i, i == start) {
                i += l;
            }
            if i == start {
                break;
            }
            self.groups.push(Group {
                start,
                end: i,
                d0,
                d1: self.digits.len(),
            });
            let mut j = i;
            let mut set = 0u16;
            let mut k = 0;
            // Up to four: ` - ` and an emoji with its variation selector fit, a gap of words
            // does not.
            while k < 4 {
                let Some((s, l)) = sep_at(b, j) else { break };
                set |= s.bit();
                j += l;
                k += 1;
            }
            if k > 0 && self.groups.len() < MAX_GROUPS && opens_group(b, j) {
                self.seps.push(set);
                i = j;
            } else {
                break;
            }
        }
        self.end = self.groups.last().map_or(i, |g| g.end);
    }

    /// Takes the digit at `b[i]` into the run, returning its length. Digits of every form
    /// mix (`090-12三4-5678`); a kanji numeral after a digit of another form that leans on the
    /// Han character after it (`…5678一緒に`) is the word's, and ends the group.
    #[inline]
    fn digit(&mut self, b: &[u8], i: usize, first: bool) -> Option<usize> {
        let d = digit::at(b, i)?;
        if d.kanji && !first && !self.last_kanji && digit::kanji_in_word(b, i, d.len) {
            return None;
        }
        self.last_kanji = d.kanji;
        self.digits.push(d.ascii);
        Some(d.len)
    }

    /// How many digits the run holds.
    pub(crate) fn digit_count(&self) -> usize {
        self.digits.len()
    }

    fn digits(&self, gi: usize, gj: usize) -> &[u8] {
        &self.digits[self.groups[gi].d0..self.groups[gj].d1]
    }
}

/// What a span of a run is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Verdict {
    Found {
        pii_type: PiiType,
        start: usize,
        end: usize,
        score: f32,
    },
    /// A known shape that is not personal data (an event date, a version): its groups must
    /// not be split into smaller candidates.
    NotPersonal,
}

/// Facts about the text around a run that classification needs.
pub(crate) struct Surround<'a> {
    pub(crate) ctx: Ctx,
    /// Context in the near window before the run only, computed when first asked for.
    pub(crate) near: &'a dyn Fn() -> Ctx,
    /// Upper-case ASCII letters directly before the run (a passport's prefix), 0..=2.
    pub(crate) letters: usize,
    /// `〒` directly before the run (spaces allowed).
    pub(crate) postal_mark: bool,
    /// A `v` or `V` directly before the run (a version).
    pub(crate) version: bool,
    /// The byte offset where a Japanese era name (昭和, 平成, 令和, 大正) starts directly before
    /// the run, and the era's first year.
    pub(crate) era: Option<(usize, u32)>,
    /// An order, tracking or invoice label directly before the run (`注文番号：`, `order #`),
    /// asked only when a span that starts the run would be reported.
    pub(crate) order: &'a dyn Fn() -> bool,
}

/// A score adjusted by context: a word for the type lifts it, a negative word drops it.
fn adjust(base: f32, ctx: Ctx, positive: Ctx) -> f32 {
    adjust_by(base, ctx, positive, 0.4)
}

fn adjust_by(base: f32, ctx: Ctx, positive: Ctx, penalty: f32) -> f32 {
    if ctx.has(positive) {
        base.max(0.95)
    } else if ctx.has(Ctx::NEGATIVE) {
        base - penalty
    } else {
        base
    }
}

fn num(d: &[u8]) -> u32 {
    d.iter().fold(0u32, |a, x| {
        a.saturating_mul(10).saturating_add(u32::from(x - b'0'))
    })
}

/// Classifies groups `gi..=gj` of `run`.
pub(crate) fn classify(text: &str, run: &Run, gi: usize, gj: usize, s: &Surround<'_>) -> Option<Verdict> {
    let b = text.as_bytes();
    let d = run.digits(gi, gj);
    let n = d.len();
    let groups = &run.groups[gi..=gj];
    let seps = &run.seps[gi..gj];
    let sepu = seps.iter().fold(0u16, |a, x| a | x);
    let only = |allowed: u16| sepu & !allowed == 0;
    let first = gi == 0;
    let plus = first && run.plus;
    let start = if first {
        run.lead.unwrap_or(groups[0].start)
    } else {
        groups[0].start
    };
    let mut end = groups[groups.len() - 1].end;
    let lens = |k: usize| groups[k].d1 - groups[k].d0;
    let ctx = s.ctx;
    // `〒○○○-○○○○`, `○○○-○○○○-○○○○`, `000-0000`: a form's placeholder, not a value.
    if d.iter().all(|&x| x == b'0') {
        return Some(Verdict::NotPersonal);
    }
    let found = |pii_type, start, end, score: f32| {
        if score < crate::detector::MIN_SCORE {
            return None;
        }
        // The number an order label names is the order's, whatever its shape, unless its own
        // check digit says it is a card or a My Number: a label typed in front of one must not
        // carry it past the redactor. Every label is a negative context word too, so most
        // numbers are not asked.
        let checked = matches!(pii_type, PiiType::CreditCard | PiiType::MyNumber);
        if first && !checked && ctx.has(Ctx::NEGATIVE) && (s.order)() {
            return Some(Verdict::NotPersonal);
        }
        Some(Verdict::Found {
            pii_type,
            start,
            end,
            score: score.min(1.0),
        })
    };

    // Dates: a date of birth with birth context, otherwise a date that is nothing else.
    if groups.len() == 3 && !plus {
        let g = |k: usize| num(&run.digits[groups[k].d0..groups[k].d1]);
        let mut date = None;
        let mut date_start = start;
        if seps[0] == YEAR && seps[1] == MONTH {
            if b.get(end..end + 3) == Some("日".as_bytes()) {
                end += 3;
            }
            match s.era {
                Some((at, first_year)) if first && lens(0) <= 2 => {
                    date = Some((first_year + g(0) - 1, g(1), g(2)));
                    date_start = at;
                }
                _ if lens(0) == 4 => date = Some((g(0), g(1), g(2))),
                _ => return Some(Verdict::NotPersonal),
            }
        } else if [SLASH, HYPHEN, DOT].iter().any(|&k| seps[0] == k && seps[1] == k) {
            if lens(0) == 4 && lens(1) <= 2 && lens(2) <= 2 {
                date = Some((g(0), g(1), g(2)));
            } else if lens(0) <= 2 && lens(1) <= 2 && lens(2) == 4 {
                // Day-first or month-first: either reading that is a real date will do.
                let (a, m, y) = (g(0), g(1), g(2));
                date = Some(if validate::birth_date(y, m, a) {
                    (y, m, a)
                } else {
                    (y, a, m)
                });
            }
        }
        if let Some((y, m, dd)) = date {
            let born_after = b[end..].starts_with("生".as_bytes()) || b[end..].starts_with("出生".as_bytes());
            if ((s.near)().has(Ctx::BIRTH) || born_after) && validate::birth_date(y, m, dd) {
                return found(PiiType::DateOfBirth, date_start, end, 0.9);
            }
            return Some(Verdict::NotPersonal);
        }
    }

    // IPv4.
    if sepu == DOT && !plus {
        if groups.len() == 4 && (0..4).all(|k| lens(k) <= 3) {
            let ok = (0..4).all(|k| num(&run.digits[groups[k].d0..groups[k].d1]) <= 255);
            // 1.2.3.4, 2.0.1.5: small parts and a one-digit head are how versions look; an
            // address in chat is private (10.…, 192.168.…) or has a part of three digits.
            // Words for networks (IP, DNS, server) make it an address all the same.
            let version_shaped = lens(0) == 1 && (0..4).all(|k| lens(k) <= 2);
            if ok && !s.version && (!version_shaped || ctx.has(Ctx::IP)) {
                return found(PiiType::IpAddress, start, end, adjust(0.85, ctx, Ctx::IP));
            }
        }
        // A version or a decimal; a phone written with dots (0812.3456.7890, 646.555.0123)
        // goes on below.
        let nanp_dots = groups.len() == 3 && lens(0) == 3 && lens(1) == 3 && lens(2) == 4 && d[0] >= b'2';
        if !((d[0] == b'0' && groups.len() >= 3) || nanp_dots) {
            return Some(Verdict::NotPersonal);
        }
    }

    // International numbers (E.164): a country code, then 7 to 14 digits.
    if plus {
        if (8..=15).contains(&n) && d[0] != b'0' && only(HYPHEN | SPACE | OPEN | CLOSE | DOT | OTHER | LIST) {
            return found(PiiType::Phone, start, end, adjust(0.9, ctx, Ctx::PHONE));
        }
        return None;
    }

    let phone_seps = only(HYPHEN | SPACE | OPEN | CLOSE | DOT | OTHER | LIST);
    // Only phones keep a leading bracket.
    let bare = groups[0].start;

    // The international call prefix 00 in place of the `+` (0081 90 1234 5678, 00 86 138
    // 1234 5678), printed in groups: a bare run of zeros and digits is anything.
    if first
        && phone_seps
        && groups.len() >= 2
        && (10..=17).contains(&n)
        && d[0] == b'0'
        && d[1] == b'0'
        && d[2] != b'0'
        && s.letters == 0
    {
        return found(PiiType::Phone, start, end, adjust_by(0.75, ctx, Ctx::PHONE, 0.3));
    }

    // 12 digits: a driver's licence or a My Number, by context only; when words for both are
    // around, the near one decides.
    if n == 12
        && only(HYPHEN | SPACE | OTHER)
        && (groups.len() == 1
            || (0..groups.len()).all(|k| lens(k) == 4)
            || (0..groups.len()).all(|k| lens(k) == 1))
    {
        let valid = validate::my_number(d);
        let licence = ctx.has(Ctx::LICENSE)
            && !(valid && (s.near)().has(Ctx::MY_NUMBER) && !(s.near)().has(Ctx::LICENSE))
            && s.letters == 0;
        if licence {
            return found(PiiType::DriverLicense, bare, end, 0.9);
        }
        if valid {
            // SPEC: a valid check digit alone is 1 in 10 of all 12-digit numbers: context required.
            let score = if ctx.has(Ctx::MY_NUMBER) { 0.97 } else { 0.3 };
            if let Some(v) = found(PiiType::MyNumber, bare, end, score) {
                return Some(v);
            }
        }
    }

    // A phone number printed as one (0X-XXXX-XXXX) stays a phone whatever words are around.
    let phone_shaped = phone_seps
        && (10..=11).contains(&n)
        && d[0] == b'0'
        && d[1] != b'0'
        && groups.len() >= 3
        && (0..groups.len()).all(|k| lens(k) >= 2);
    let bank_first = ctx.has(Ctx::BANK) && !ctx.has(Ctx::PHONE) && !phone_shaped;

    // Bank accounts when the words around say so (before phones: 口座 0123456).
    if bank_first && (6..=14).contains(&n) && only(HYPHEN | SPACE) && s.letters == 0 {
        return found(PiiType::BankAccount, bare, end, 0.85);
    }

    // Cards: Luhn and an issuer's range and length, grouped as cards are printed. One digit at
    // a time (`4 1 1 1 …`) only next to a card word: a tenth of all lists of single digits
    // (survey answers `4 5 3 2 5 4 …`) pass Luhn.
    if (13..=19).contains(&n)
        && only(HYPHEN | SPACE | OTHER)
        && (groups.len() == 1
            || (0..groups.len()).all(|k| (3..=6).contains(&lens(k)))
            || ((0..groups.len()).all(|k| lens(k) == 1) && ctx.has(Ctx::CARD)))
        && validate::luhn(d)
        && validate::card_issuer(d)
    {
        return found(PiiType::CreditCard, bare, end, adjust(0.9, ctx, Ctx::CARD));
    }

    // Corporate numbers: 13 digits, the first a check digit. A `T` before them makes the
    // invoice registration number (適格請求書発行事業者登録番号), which is the corporate
    // number itself for a company: the printed form says what it is whatever the words around.
    // SPEC: Consumption Tax Act Art. 57-2 (registration number = "T" + corporate number).
    // Printed whole or in a few groups (`1 2345 6789 0123`, `4304 8901 5186 8`); a count
    // written out (`5 6 7 8 9 10 11 12 13`) is no corporate number.
    let corporate_groups = groups.len() <= 5 && (1..groups.len().saturating_sub(1)).all(|k| lens(k) >= 3);
    if n == 13 && only(HYPHEN | SPACE) && corporate_groups && validate::corporate_number(d) {
        let invoice = s.letters == 1 && b[bare - 1] == b'T';
        let score = if invoice {
            0.95
        } else {
            adjust(0.5, ctx, Ctx::CORPORATE)
        };
        return found(PiiType::CorporateNumber, bare, end, score);
    }

    // Domestic phone numbers of Japan, Thailand, Taiwan, Indonesia, Korea (010-1234-5678),
    // Vietnam (0912 345 678), China's landlines (021-6234-5678) and Germany: a trunk 0, then
    // a non-zero digit, 9 to 13 digits in all. Indonesian mobiles (08…) run to 13 digits,
    // German ones (015x, 016x, 017x) to 12.
    if phone_seps && d[0] == b'0' && n >= 9 && d[1] != b'0' && s.letters == 0 {
        let max = match (d[1], d[2]) {
            (b'8', _) => 13,
            (b'1', b'5'..=b'7') => 12,
            _ => 11,
        };
        if n <= max {
            let grouped = groups.len() >= 2 && lens(0) >= 2 && (1..groups.len()).all(|k| lens(k) >= 2);
            let base = if grouped {
                0.85
            } else if n == 11 && matches!(&d[..3], b"070" | b"080" | b"090") {
                0.7
            } else if n == 10 && matches!(&d[..2], b"09" | b"08" | b"06") {
                0.6
            } else {
                0.45
            };
            let penalty = if grouped { 0.25 } else { 0.4 };
            if let Some(v) = found(
                PiiType::Phone,
                start,
                end,
                adjust_by(base, ctx, Ctx::PHONE, penalty),
            ) {
                return Some(v);
            }
        }
    }

    // Mainland Chinese mobiles: 1[3-9]X XXXX XXXX, eleven digits written whole, 3-4-4 or
    // 3-8, or one at a time. The bare form is how they are typed in Chinese chat, but an
    // eleven-digit id looks the same, so it scores lower and falls below the threshold
    // next to an order or tracking word. SPEC: MIIT numbering plan (mobile prefixes 13-19).
    if n == 11 && d[0] == b'1' && d[1] >= b'3' && s.letters == 0 && only(HYPHEN | SPACE | OTHER) {
        let shaped = match groups.len() {
            1 => Some(0.6),
            2 if lens(0) == 3 => Some(0.8),
            3 if lens(0) == 3 && lens(1) == 4 => Some(0.85),
            11 => Some(0.8),
            _ => None,
        };
        if let Some(base) = shaped {
            return found(PiiType::Phone, bare, end, adjust_by(base, ctx, Ctx::PHONE, 0.3));
        }
    }

    // North American numbers: (NXX) NXX-XXXX, NXX-NXX-XXXX, 1-NXX-NXX-XXXX.
    if phone_seps && groups.len() >= 3 {
        let l: Vec<usize> = (0..groups.len()).map(lens).collect();
        let nanp = (l == [3, 3, 4] && (b'2'..=b'9').contains(&d[0]))
            || (l == [1, 3, 3, 4] && d[0] == b'1' && (b'2'..=b'9').contains(&d[1]));
        if nanp {
            let base = if first && run.lead.is_some() { 0.85 } else { 0.7 };
            return found(PiiType::Phone, start, end, adjust_by(base, ctx, Ctx::PHONE, 0.25));
        }
    }

    // Japanese postal codes: NNN-NNNN, or seven digits after 〒 or a postal word.
    if groups.len() == 2 && lens(0) == 3 && lens(1) == 4 && sepu == HYPHEN {
        let base = if s.postal_mark || ctx.has(Ctx::POSTAL) {
            0.95
        } else if ctx.has(Ctx::ADDRESS) {
            0.85
        } else {
            0.6
        };
        return found(PiiType::PostalCode, start, end, adjust(base, ctx, Ctx::POSTAL));
    }
    if groups.len() == 1 && (n == 7 && (s.postal_mark || ctx.has(Ctx::POSTAL))) {
        return found(PiiType::PostalCode, start, end, 0.9);
    }
    // Thai, Indonesian (5 digits) and Taiwanese (3, 5 or 6 digits) postal codes, with context,
    // or in front of the city they belong to (104 台北市…, 110208 臺北市…).
    if groups.len() == 1
        && matches!(n, 3 | 5 | 6)
        && s.letters == 0
        && (s.postal_mark || ctx.has(Ctx::POSTAL) || city_follows(text, end))
    {
        return found(PiiType::PostalCode, bare, end, 0.8);
    }
    // A US ZIP code (or ZIP+4) after its state's two-letter code: `Austin, TX 78731-4412`.
    if s.letters == 0
        && ((groups.len() == 1 && n == 5)
            || (groups.len() == 2 && lens(0) == 5 && lens(1) == 4 && sepu == HYPHEN))
        && us_state_before(b, bare)
    {
        return found(PiiType::PostalCode, start, end, 0.85);
    }
    // A five-digit code after an address (Thailand, Indonesia) is its postal code.
    if groups.len() == 1 && n == 5 && ctx.has(Ctx::ADDRESS) && !ctx.has(Ctx::NEGATIVE) && s.letters == 0 {
        return found(PiiType::PostalCode, start, end, 0.7);
    }

    // Passports: one or two letters and 6 to 9 digits (JP TK1234567, TH AA1234567, ID
    // A1234567), or 9 digits (TW), with context.
    if groups.len() == 1 && first && ctx.has(Ctx::PASSPORT) {
        let lead = s.letters;
        if (lead > 0 && (6..=8).contains(&n)) || (lead == 0 && n == 9) {
            return found(PiiType::Passport, groups[0].start - lead, end, 0.9);
        }
    }

    // Driver's licences elsewhere (TH 8 digits, ID SIM 12-14 digits), with context.
    if ctx.has(Ctx::LICENSE) && (7..=14).contains(&n) && only(HYPHEN | SPACE) && first {
        return found(PiiType::DriverLicense, bare - s.letters, end, 0.8);
    }

    if !bank_first && ctx.has(Ctx::BANK) && (6..=14).contains(&n) && only(HYPHEN | SPACE) && s.letters == 0 {
        return found(PiiType::BankAccount, bare, end, 0.75);
    }
    None
}

/// A city or county of Taiwan (or a Japanese prefecture or city) right after `end`, a space
/// allowed: up to three Han characters and then 市, 縣, 都, 道, 府 or 県; or a Korean province
/// or metropolitan city (`06234 서울특별시…`, `(06234) 서울 …`).
fn city_follows(text: &str, end: usize) -> bool {
    let rest = text[end..]
        .strip_prefix([' ', '\u{3000}'])
        .unwrap_or(&text[end..]);
    let korean = rest.strip_prefix(") ").unwrap_or(rest);
    if korean.starts_with(|c: char| matches!(c, '\u{AC00}'..='\u{D7A3}')) {
        return crate::korean::province_at(text, text.len() - korean.len()).is_some();
    }
    for (han, c) in rest.chars().take(4).enumerate() {
        if matches!(c, '市' | '縣' | '都' | '道' | '府' | '県') {
            return han >= 1;
        }
        if !matches!(c, '\u{4E00}'..='\u{9FFF}') {
            return false;
        }
    }
    false
}

/// The two-letter postal codes of the US states, DC and the territories.
const US_STATES: &[&[u8; 2]] = &[
    b"AL", b"AK", b"AZ", b"AR", b"CA", b"CO", b"CT", b"DE", b"DC", b"FL", b"GA", b"HI", b"ID", b"IL", b"IN",
    b"IA", b"KS", b"KY", b"LA", b"ME", b"MD", b"MA", b"MI", b"MN", b"MS", b"MO", b"MT", b"NE", b"NV", b"NH",
    b"NJ", b"NM", b"NY", b"NC", b"ND", b"OH", b"OK", b"OR", b"PA", b"RI", b"SC", b"SD", b"TN", b"TX", b"UT",
    b"VT", b"VA", b"WA", b"WV", b"WI", b"WY", b"PR", b"GU", b"VI",
];

/// Whether `w` is a US state's two-letter code.
pub(crate) fn us_state(w: &[u8]) -> bool {
    US_STATES.iter().any(|s| w == s.as_slice())
}

/// `XX ` directly before `at`, where XX is a state code standing as a word of its own.
fn us_state_before(b: &[u8], at: usize) -> bool {
    at >= 3
        && b[at - 1] == b' '
        && us_state(&b[at - 3..at - 1])
        && (at == 3 || matches!(b[at - 4], b' ' | b','))
}

/// Month names of English, Indonesian and Thai, with their month number.
const MONTHS: &[(&str, u32)] = &[
    ("January", 1),
    ("February", 2),
    ("March", 3),
    ("April", 4),
    ("May", 5),
    ("June", 6),
    ("July", 7),
    ("August", 8),
    ("September", 9),
    ("October", 10),
    ("November", 11),
    ("December", 12),
    ("Sept", 9),
    ("Jan", 1),
    ("Feb", 2),
    ("Mar", 3),
    ("Apr", 4),
    ("Jun", 6),
    ("Jul", 7),
    ("Aug", 8),
    ("Sep", 9),
    ("Oct", 10),
    ("Nov", 11),
    ("Dec", 12),
    ("Januari", 1),
    ("Februari", 2),
    ("Maret", 3),
    ("Mei", 5),
    ("Juni", 6),
    ("Juli", 7),
    ("Agustus", 8),
    ("Oktober", 10),
    ("Desember", 12),
    ("มกราคม", 1),
    ("กุมภาพันธ์", 2),
    ("มีนาคม", 3),
    ("เมษายน", 4),
    ("พฤษภาคม", 5),
    ("มิถุนายน", 6),
    ("กรกฎาคม", 7),
    ("สิงหาคม", 8),
    ("กันยายน", 9),
    ("ตุลาคม", 10),
    ("พฤศจิกายน", 11),
    ("ธันวาคม", 12),
];

/// A month name at the start of `s`, whole word, with its month and length in bytes.
fn month_at(s: &str) -> Option<(u32, usize)> {
    MONTHS
        .iter()
        .filter(|(name, _)| s.starts_with(name))
        .filter(|(name, _)| {
            !name.is_ascii() || !s.as_bytes().get(name.len()).is_some_and(u8::is_ascii_alphabetic)
        })
        .max_by_key(|(name, _)| name.len())
        .map(|(name, m)| (*m, name.len()))
}

/// A month name that ends at `end` (followed by one space before `end`), and where it starts.
fn month_before(text: &str, end: usize) -> Option<(u32, usize)> {
    let before = text.get(..end)?.strip_suffix(' ')?;
    MONTHS
        .iter()
        .filter(|(name, _)| before.ends_with(name))
        .filter(|(name, _)| {
            let s = before.len() - name.len();
            !name.is_ascii() || s == 0 || !before.as_bytes()[s - 1].is_ascii_alphabetic()
        })
        .max_by_key(|(name, _)| name.len())
        .map(|(name, m)| (*m, before.len() - name.len()))
}

/// Four digits (a year) at the start of `s`, not followed by another digit.
fn year_at(s: &str) -> Option<u32> {
    let b = s.as_bytes();
    (b.len() >= 4 && b[..4].iter().all(u8::is_ascii_digit) && !b.get(4).is_some_and(u8::is_ascii_digit))
        .then(|| num(&b[..4]))
}

/// Dates written with a month name: `14 March 1988`, `June 9, 1995`, `17 Agustus 1992`,
/// `5 มีนาคม 2535` (a Thai Buddhist-era year). `day` spans the day's digits.
pub(crate) fn month_name_date(text: &str, day_start: usize, day_end: usize) -> Option<(usize, usize)> {
    let d = text.get(day_start..day_end)?;
    if d.is_empty() || d.len() > 2 || !d.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let day = num(d.as_bytes());
    let rest = &text[day_end..];
    let real = |y: u32, m: u32| {
        let y = if y > 2400 { y - 543 } else { y };
        validate::birth_date(y, m, day)
    };
    // Day, month, year.
    if let Some(r) = rest.strip_prefix(' ')
        && let Some((m, len)) = month_at(r)
        && let Some(r2) = r[len..].strip_prefix(' ')
        && let Some(y) = year_at(r2)
        && real(y, m)
    {
        return Some((day_start, day_end + 1 + len + 1 + 4));
    }
    // Month, day, year.
    if let Some((m, start)) = month_before(text, day_start) {
        let (skip, r2) = match rest.strip_prefix(", ") {
            Some(r2) => (2, r2),
            None => (1, rest.strip_prefix(' ')?),
        };
        if let Some(y) = year_at(r2)
            && real(y, m)
        {
            return Some((start, day_end + skip + 4));
        }
    }
    None
}
