//! The recall-first profile: what a redactor must hide even when the balanced detector is not
//! sure (issue 17 item 3).
//!
//! [`Profile::Balanced`] is [`Detector::find`]: tuned so that `kamei detect` reports what is
//! personal data with few false alarms. A redactor that shows free text to someone who may
//! not read it raw fails the other way: every structured value it misses crosses the border.
//! [`Profile::Recall`] keeps every balanced entity and adds anything that could be a
//! structured value in context, without the validators and the negative context words the
//! balanced profile trusts:
//!
//! - a run of at least [`MIN_DIGITS`] digits in any script (kanji numerals, Thai, Arabic-Indic,
//!   full-width, mixed) with any separators between them — so a card that fails Luhn or sits
//!   after an order label (`Order #4111 1111 1111 1111`) is hidden too; dates, year ranges
//!   and amounts grouped by thousands are left alone;
//! - the tokens on both sides of `@`, `＠`, `﹫`, `(at)`, `[at]`, アット, あっと, 艾特, 골뱅이,
//!   แอท, and of a bare ` at ` where one side looks like a mail handle or a domain;
//! - a handle after a cue word (`ID:`, `LINE:`, `line id`, `IDは`, ライン, 微信, 아이디, ไอดี);
//! - an IBAN-shaped run (two letters, two digits, then at least 15 letters and digits in all)
//!   whatever its checksum.
//!
//! Each added span carries the type its shape makes most likely (see [`digit_type`]); a
//! handle is reported as [`PiiType::Person`], the type kamei-core masks like an
//! `ACCOUNT_ID` column (first character), since `PiiType` has no account type.
//! Every rule looks at a bounded window around its trigger, so the pass is linear.

use std::fmt;
use std::str::FromStr;

use kamei_core::PiiType;

use crate::context::{Ctx, TextContext};
use crate::detector::Detector;
use crate::digit;
use crate::email::{DOT_SPACED_WORDS, DOT_WORDS, folded_at, folded_before};
use crate::entity::Entity;
use crate::numeric::{Sep, sep_at};
use crate::validate;

/// The fewest digits a run needs to be hidden under the recall profile. Measured on the
/// development sets (tests/data/dev.jsonl and hand_labelled.jsonl): the shortest gold value
/// with digits is seven (a Japanese bank account, by the Zengin format always seven digits,
/// and one local phone number), so eight would let 15 gold values through; six would add
/// runs outside gold spans (11 of them, prices, OTPs and dates) and catch no gold value.
pub const MIN_DIGITS: usize = 7;

/// The score of a span only the recall profile reports: the lowest a detector reports.
const RECALL_SCORE: f32 = crate::detector::MIN_SCORE;

/// The most characters a token beside an at-marker or after a cue word is read for.
const MAX_TOKEN: usize = 64;

/// The most digit groups one run is read for; a longer run goes on as a new run.
const MAX_GROUPS: usize = 32;

/// Which operating point [`Detector::find_with`] works at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Profile {
    /// [`Detector::find`]: precision and recall balanced, for reporting what text holds.
    Balanced,
    /// Everything balanced finds plus anything that could be a structured value in context:
    /// for redaction, where a miss is a leak.
    Recall,
}

impl Profile {
    pub const ALL: [Profile; 2] = [Profile::Balanced, Profile::Recall];

    pub const fn as_str(self) -> &'static str {
        match self {
            Profile::Balanced => "balanced",
            Profile::Recall => "recall",
        }
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A profile name that is neither `balanced` nor `recall`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown detection profile `{0}`; expected `balanced` or `recall`")]
pub struct UnknownProfile(pub String);

impl FromStr for Profile {
    type Err = UnknownProfile;

    fn from_str(s: &str) -> Result<Profile, UnknownProfile> {
        Profile::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownProfile(s.to_owned()))
    }
}

impl Detector {
    /// Finds personal data in `text` at the given operating point. Entities are sorted by
    /// start and do not overlap; offsets are byte offsets on char boundaries. Under
    /// [`Profile::Recall`] every span [`Detector::find`] reports is covered by one of the
    /// result's spans (overlapping spans are merged, keeping the balanced entity's type).
    pub fn find_with(&self, text: &str, profile: Profile) -> Vec<Entity> {
        let found = self.find(text);
        match profile {
            Profile::Balanced => found,
            Profile::Recall => {
                let ctx = TextContext::new(self.context(), text);
                let mut extra = Vec::new();
                scan(text, &ctx, &mut extra);
                merge(text, found, extra)
            }
        }
    }
}

/// The value of a digit in any form the detector reads (ASCII, full-width, kanji numerals,
/// the decimal digits of every script), for tools that compare the digits of a value with
/// what is left of it after redaction.
pub fn digit_value(c: char) -> Option<u8> {
    let mut buf = [0u8; 4];
    let b = c.encode_utf8(&mut buf).as_bytes();
    digit::at(b, 0).map(|d| d.ascii - b'0')
}

/// Merges the balanced entities and the recall spans into sorted, non-overlapping spans:
/// overlapping ones become their union, typed as the longest balanced entity in it (or, with
/// none, the longest recall span).
fn merge(text: &str, balanced: Vec<Entity>, extra: Vec<Entity>) -> Vec<Entity> {
    if extra.is_empty() {
        return balanced;
    }
    let mut all: Vec<(Entity, bool)> = balanced
        .into_iter()
        .map(|e| (e, true))
        .chain(extra.into_iter().map(|e| (e, false)))
        .filter(|(e, _)| e.start < e.end && text.is_char_boundary(e.start) && text.is_char_boundary(e.end))
        .collect();
    all.sort_by_key(|(e, _)| (e.start, std::cmp::Reverse(e.end)));
    let mut out: Vec<Entity> = Vec::with_capacity(all.len());
    // What typed the span being built: whether a balanced entity did, and its length.
    let mut typed_by = (false, 0);
    for (e, balanced) in all {
        let key = (balanced, e.end - e.start);
        match out.last_mut() {
            Some(m) if e.start < m.end => {
                if key > typed_by {
                    typed_by = key;
                    m.pii_type = e.pii_type;
                }
                m.end = m.end.max(e.end);
                m.score = m.score.max(e.score);
            }
            _ => {
                typed_by = key;
                out.push(e);
            }
        }
    }
    out
}

/// The recall pass: every rule at its trigger, each over a bounded window.
fn scan(text: &str, ctx: &TextContext<'_>, out: &mut Vec<Entity>) {
    let b = text.as_bytes();
    let mut run = Run::default();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let next = if c.is_ascii_digit() {
            digit_run(text, ctx, i, &mut run, out)
        } else if c < 0x80 {
            match c {
                b'@' => at_marker(text, i, i + 1, Need::One, out),
                b'(' | b'[' | b'{' | b'<' => bracketed(text, i, out),
                b'A'..=b'Z' | b'a'..=b'z' if word_start(b, i) => letters(text, i, out),
                _ => i + 1,
            }
        } else {
            match digit::char_at(b, i) {
                None => i + 1,
                Some((c, len)) if kamei_core::digit::value(c).is_some() => {
                    digit_run(text, ctx, i, &mut run, out).max(i + len)
                }
                Some((c, len)) if may_start(c as u32) => non_ascii(text, i, c as u32, len, out),
                Some((_, len)) => i + len,
            }
        };
        i = next.max(i + 1);
        while i < b.len() && !text.is_char_boundary(i) {
            i += 1;
        }
    }
}

/// Whether a non-ASCII character may start a wide at-sign, a bracketed or spelled marker or
/// a cue word: most characters of Japanese, Chinese and Thai text are turned away here.
fn may_start(cp: u32) -> bool {
    matches!(
        cp,
        0xFF20 | 0xFE6B | 0xFF08 | 0xFF3B | 0x3010 | 0xFF5B | 0xFF1C // ＠ ﹫ （ ［ 【 ｛ ＜
            | 0x30A2 | 0x3042 | 0xFF71 | 0x827E | 0x5C0F | 0xACE8 | 0xC573 | 0x0E41 | 0x0E40 // markers
            | 0xFF2C | 0xFF29 | 0x30E9 | 0x5FAE | 0x8CF4 | 0xB77C | 0xC544 | 0xCE74 | 0x0E44 // cues
    )
}

fn word_start(b: &[u8], i: usize) -> bool {
    !folded_before(b, i).is_some_and(|(c, _)| c.is_ascii_alphanumeric())
}

fn push(out: &mut Vec<Entity>, pii_type: PiiType, start: usize, end: usize) {
    out.push(Entity {
        pii_type,
        start,
        end,
        score: RECALL_SCORE,
    });
}

// ---------------------------------------------------------------------------------------
// Digit runs.

/// The digit run being read, kept between runs so a text's scan allocates only while
/// warming up.
#[derive(Debug, Default)]
struct Run {
    groups: Vec<Group>,
    /// The separators between group k and k + 1, as `Sep` bits.
    seps: Vec<u16>,
    /// The run's digits folded to ASCII.
    digits: Vec<u8>,
}

/// One group of digits in a run: its byte span and how many digits it holds.
#[derive(Debug, Clone, Copy)]
struct Group {
    start: usize,
    end: usize,
    digits: usize,
}

/// Reads the run of digits (any script, mixed) and separators that starts at `i`, hides it
/// if it holds at least [`MIN_DIGITS`] digits and is not a date, a year range or an amount,
/// and returns the run's end.
fn digit_run(text: &str, ctx: &TextContext<'_>, i: usize, run: &mut Run, out: &mut Vec<Entity>) -> usize {
    let b = text.as_bytes();
    let Run { groups, seps, digits } = run;
    groups.clear();
    seps.clear();
    digits.clear();
    let mut k = i;
    loop {
        let start = k;
        let d0 = digits.len();
        while let Some(d) = digit::at(b, k) {
            if d.kanji && digit::kanji_in_word(b, k, d.len) {
                break;
            }
            digits.push(d.ascii);
            k += d.len;
        }
        if k == start {
            break;
        }
        groups.push(Group {
            start,
            end: k,
            digits: digits.len() - d0,
        });
        let mut j = k;
        let mut set = 0u16;
        let mut units = 0;
        while units < 4 {
            let Some((s, l)) = sep_at(b, j) else { break };
            set |= s.bit();
            j += l;
            units += 1;
        }
        let next_digit = digit::at(b, j).is_some_and(|d| !(d.kanji && digit::kanji_in_word(b, j, d.len)));
        if units == 0 || !next_digit || groups.len() >= MAX_GROUPS {
            break;
        }
        seps.push(set);
        k = j;
    }
    let Some(last) = groups.last() else {
        return i + 1;
    };
    let end = last.end;
    // A leading `+`/`＋` (with a space) or `(`: part of a phone number.
    let (start, plus) = lead(b, i);
    let mut g0 = 0;
    let mut d0 = 0;
    // Dates and year ranges at the front are no value; what follows them may be.
    while let Some(skip) = date_at(groups, seps, &digits[d0..], g0) {
        for g in &groups[g0..g0 + skip] {
            d0 += g.digits;
        }
        g0 += skip;
    }
    let rest = &groups[g0..];
    let rest_digits = &digits[d0..];
    if rest_digits.len() < MIN_DIGITS || amount(b, groups, seps, g0, plus) {
        return end;
    }
    let span_start = if g0 == 0 { start } else { rest[0].start };
    let bank = ctx.around(span_start, end).has(Ctx::BANK);
    let shape = Shape {
        digits: rest_digits,
        groups: rest,
        seps: &seps[g0..],
        plus: plus && g0 == 0,
        bank,
    };
    push(out, digit_type(&shape), span_start, end);
    end
}

/// Where a run starting at digit `i` really starts (a `+` or `(` before it) and whether it
/// had a `+`.
fn lead(b: &[u8], i: usize) -> (usize, bool) {
    let mut s = i;
    if s >= 1 && b[s - 1] == b' ' {
        s -= 1;
    }
    if s >= 1 && b[s - 1] == b'+' {
        return (s - 1, true);
    }
    if s >= 3 && &b[s - 3..s] == "＋".as_bytes() {
        return (s - 3, true);
    }
    if i >= 1 && b[i - 1] == b'(' {
        return (i - 1, false);
    }
    if i >= 3 && &b[i - 3..i] == "（".as_bytes() {
        return (i - 3, false);
    }
    (i, false)
}

/// The number of groups from `g0` that form a date (2026-03-10, 10/03/2026, 2026年3月10,
/// 20260310) or a year range (2019-2024), if they do.
fn date_at(groups: &[Group], seps: &[u16], digits: &[u8], g0: usize) -> Option<usize> {
    let value = |from: usize, n: usize| -> u32 {
        digits[from..from + n]
            .iter()
            .fold(0u32, |v, d| v * 10 + u32::from(d - b'0'))
    };
    let year = |y: u32| (1900..=2099).contains(&y);
    let lens: Vec<usize> = groups[g0..].iter().take(3).map(|g| g.digits).collect();
    // A compact date, 20260310.
    if lens.first() == Some(&8) {
        let (y, m, d) = (value(0, 4), value(4, 2), value(6, 2));
        if year(y) && validate::birth_date(y, m, d) {
            return Some(1);
        }
    }
    let date_seps = Sep::Hyphen.bit() | Sep::Slash.bit() | Sep::Dot.bit() | Sep::Space.bit();
    let same_sep = |k: usize| seps.get(g0 + k).copied().unwrap_or(0);
    if lens.len() == 3 {
        let (a, b2, c) = (lens[0], lens[1], lens[2]);
        let (s0, s1) = (same_sep(0), same_sep(1));
        let ymd_marks = s0 == Sep::Year.bit() && s1 == Sep::Month.bit();
        let plain = s0 == s1 && s0 & date_seps == s0 && s0.count_ones() == 1;
        if ymd_marks || plain {
            let ok = if a == 4 && b2 <= 2 && c <= 2 {
                let (y, m, d) = (value(0, 4), value(4, b2), value(4 + b2, c));
                year(y) && validate::birth_date(y, m, d)
            } else if a <= 2 && b2 <= 2 && c == 4 {
                let (x, y2, yy) = (value(0, a), value(a, b2), value(a + b2, 4));
                year(yy) && (validate::birth_date(yy, y2, x) || validate::birth_date(yy, x, y2))
            } else {
                false
            };
            if ok {
                return Some(3);
            }
        }
    }
    // A year and a month (2026-11, 2026年3), or a year range (2019-2024).
    if lens.len() >= 2 && lens[0] == 4 && year(value(0, 4)) {
        let s0 = same_sep(0);
        let second = value(4, lens[1]);
        if lens[1] == 4
            && year(second)
            && second >= value(0, 4)
            && s0 & (Sep::Hyphen.bit() | Sep::Slash.bit()) != 0
        {
            return Some(2);
        }
    }
    None
}

/// Whether the groups from `g0` are an amount grouped by thousands with dots (Rp 1.250.000,
/// 50.000.000): a first group of one to three digits not starting with 0, then groups of
/// exactly three, at least two of them. A `+` before the run makes it a phone number.
fn amount(b: &[u8], groups: &[Group], seps: &[u16], g0: usize, plus: bool) -> bool {
    let rest = &groups[g0..];
    if plus || rest.len() < 3 {
        return false;
    }
    let first = rest[0];
    let leading_zero = b[first.start] == b'0';
    (1..=3).contains(&first.digits)
        && !leading_zero
        && rest[1..].iter().all(|g| g.digits == 3)
        && seps[g0..g0 + rest.len() - 1].iter().all(|&s| s == Sep::Dot.bit())
}

/// The shape of a run's value: its folded digits, groups and separators, and what is around.
struct Shape<'a> {
    digits: &'a [u8],
    groups: &'a [Group],
    seps: &'a [u16],
    plus: bool,
    bank: bool,
}

/// The most likely type of a run of digits by its shape: a phone number after `+` or `00`,
/// an IPv4 address in four dotted groups of up to 255, a bank account near a bank word, a
/// card for 13 to 19 digits (whatever Luhn says), a My Number for 12, a postal code for
/// `123-4567`, a bank account for seven digits (Japan's account numbers) or more than 19,
/// and a phone number for the rest (8 to 11 digits).
fn digit_type(s: &Shape<'_>) -> PiiType {
    let n = s.digits.len();
    let starts = |p: &[u8]| s.digits.starts_with(p);
    if s.plus || (starts(b"00") && (9..=15).contains(&n)) {
        return PiiType::Phone;
    }
    let dotted = s.seps.iter().all(|&x| x == Sep::Dot.bit());
    if s.groups.len() == 4 && dotted && s.groups.iter().all(|g| g.digits <= 3) {
        return PiiType::IpAddress;
    }
    let card = (13..=19).contains(&n);
    if s.bank && !(card && validate::luhn(s.digits)) {
        return PiiType::BankAccount;
    }
    if card {
        return PiiType::CreditCard;
    }
    if n == 12 && !starts(b"0") {
        return PiiType::MyNumber;
    }
    let lens: Vec<usize> = s.groups.iter().map(|g| g.digits).collect();
    if lens == [3, 4] && s.seps[0] == Sep::Hyphen.bit() {
        return PiiType::PostalCode;
    }
    if n == 7 || n > 19 {
        return PiiType::BankAccount;
    }
    PiiType::Phone
}

// ---------------------------------------------------------------------------------------
// At-markers.

/// Which sides of an at-marker must hold a token for the marker to count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Need {
    /// `@` and bracketed markers: one side is enough (`@tanaka`, `taro(at)`).
    One,
    /// Spelled words (アット, 艾特): both sides, so the words in running text
    /// (アットホーム, あっという間) count for nothing.
    Both,
    /// A bare Latin ` at `: both sides, and a handle or a domain on one of them.
    Evidence,
}

/// Bracketed at-markers, compared ASCII case-insensitively.
const BRACKETED: &[&str] = &[
    "(at)",
    "[at]",
    "{at}",
    "<at>",
    "(@)",
    "[@]",
    "（at）",
    "［at］",
    "【at】",
    "｛at｝",
    "＜at＞",
    "（＠）",
    "［＠］",
    "【＠】",
    "(アット)",
    "（アット）",
    "[アット]",
    "【アット】",
];

/// Spelled at-markers in the service's languages, and their full-width and half-width kana
/// forms.
const SPELLED: &[&str] = &[
    "アット",
    "あっと",
    "ｱｯﾄ",
    "艾特",
    "小老鼠",
    "골뱅이",
    "앳",
    "แอท",
    "เเอท",
    "アットマーク",
    "あっとまーく",
];

/// A dot that joins the labels of a domain at the start of `rest`, spelled (`(dot)`, ドット,
/// 点: the e-mail recognizer's list; ` dot `, ` chấm ` with a space on each side) or wide
/// (`．`, and `。` typed for one): its length.
fn dot_at(rest: &[u8]) -> Option<usize> {
    if rest.starts_with("。".as_bytes()) || rest.starts_with("．".as_bytes()) {
        return Some(3);
    }
    if let Some(w) = DOT_WORDS.iter().find(|w| starts_ignore_case(rest, w)) {
        return Some(w.len());
    }
    let spaced = rest.strip_prefix(b" ")?;
    DOT_SPACED_WORDS
        .iter()
        .find(|w| spaced.starts_with(w.as_bytes()) && spaced.get(w.len()) == Some(&b' '))
        .map(|w| w.len() + 2)
}

/// Mail providers whose name after a bare ` at ` makes it an address (`taro at gmail`).
const PROVIDERS: &[&str] = &[
    "gmail",
    "googlemail",
    "yahoo",
    "hotmail",
    "outlook",
    "icloud",
    "docomo",
    "ezweb",
    "softbank",
    "naver",
    "daum",
    "hanmail",
    "qq",
    "163",
    "126",
    "proton",
    "protonmail",
    "live",
    "msn",
    "aol",
    "ymail",
];

/// Whether a character of a mail handle or a domain label starts at `b[i]` (ASCII or its
/// full-width form): its length.
fn token_char(b: &[u8], i: usize) -> Option<usize> {
    let (c, l) = folded_at(b, i)?;
    (c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-' | b'+' | b'%')).then_some(l)
}

/// The start of the token that ends at `end`, with at most one space between (bounded).
fn left_token(b: &[u8], end: usize) -> Option<usize> {
    let mut e = end;
    if e >= 1 && b[e - 1] == b' ' {
        e -= 1;
    } else if e >= 3 && &b[e - 3..e] == "\u{3000}".as_bytes() {
        e -= 3;
    }
    let mut s = e;
    let mut n = 0;
    while n < MAX_TOKEN {
        match folded_before(b, s) {
            Some((c, l)) if c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-' | b'+' | b'%') => {
                s -= l;
                n += 1;
            }
            _ => break,
        }
    }
    (s < e).then_some(s)
}

/// The end of the token that starts at `start`, with at most one space before (bounded).
fn right_token(b: &[u8], start: usize) -> Option<usize> {
    let mut s = start;
    if b.get(s) == Some(&b' ') {
        s += 1;
    } else if b.get(s..s + 3) == Some("\u{3000}".as_bytes()) {
        s += 3;
    }
    let mut e = s;
    let mut n = 0;
    while n < MAX_TOKEN {
        match token_char(b, e) {
            Some(l) => {
                e += l;
                n += 1;
            }
            None => break,
        }
    }
    (e > s).then_some(e)
}

/// Extends a domain that ends at `end` over spelled dots and the labels after them (a
/// bounded number): the new end and whether a dot joined two labels.
fn domain_end(b: &[u8], mut end: usize) -> (usize, bool) {
    let mut dotted = false;
    for _ in 0..8 {
        let Some(dot) = dot_at(&b[end..]) else {
            break;
        };
        let after = end + dot;
        // A label must follow right away (a sentence's 。 or . then a space joins nothing).
        match token_char(b, after) {
            Some(_) => {
                let mut e = after;
                let mut n = 0;
                while let Some(l) = token_char(b, e).filter(|_| n < MAX_TOKEN) {
                    e += l;
                    n += 1;
                }
                end = e;
                dotted = true;
            }
            None => break,
        }
    }
    (end, dotted)
}

fn starts_ignore_case(rest: &[u8], word: &str) -> bool {
    rest.get(..word.len())
        .is_some_and(|r| r.eq_ignore_ascii_case(word.as_bytes()))
}

/// The address around an at-marker at `marker..marker_end`: the tokens on both sides (and
/// the labels of a domain joined by spelled dots), reported as an e-mail address if the
/// marker's `need` is met. Returns where scanning goes on.
fn at_marker(text: &str, marker: usize, marker_end: usize, need: Need, out: &mut Vec<Entity>) -> usize {
    let b = text.as_bytes();
    let left = left_token(b, marker);
    let right = right_token(b, marker_end).map(|e| domain_end(b, e));
    let ok = match need {
        Need::One => left.is_some() || right.is_some(),
        Need::Both => left.is_some() && right.is_some(),
        Need::Evidence => match (left, right) {
            (Some(s), Some((e, dotted))) => {
                let local = &b[s..marker];
                let domain = &b[marker_end..e];
                handle_like(local.trim_ascii()) || domain_like(domain.trim_ascii(), dotted)
            }
            _ => false,
        },
    };
    if !ok {
        return marker_end;
    }
    let start = left.unwrap_or(marker);
    let end = right.map_or(marker_end, |(e, _)| e);
    push(out, PiiType::Email, start, end);
    end
}

/// Whether a word looks like a mail handle rather than a word of prose or a number: a letter
/// and a digit, `_`, `+`, or a dot inside it.
fn handle_like(w: &[u8]) -> bool {
    let inner = w.len() > 2 && w[1..w.len() - 1].contains(&b'.');
    w.iter().any(u8::is_ascii_alphabetic)
        && (inner || w.iter().any(|c| c.is_ascii_digit() || matches!(c, b'_' | b'+')))
}

/// Whether the text after a bare ` at ` looks like a domain: labels joined by a dot with a
/// letter in the last, or a mail provider's name.
fn domain_like(d: &[u8], dotted: bool) -> bool {
    if dotted {
        return true;
    }
    let word_end = d.iter().position(|&c| c == b'.').unwrap_or(d.len());
    let word = &d[..word_end];
    if PROVIDERS.iter().any(|p| word.eq_ignore_ascii_case(p.as_bytes())) {
        return true;
    }
    let last = d.rsplit(|&c| c == b'.').next().unwrap_or_default();
    word_end < d.len() && last.len() >= 2 && last.iter().all(u8::is_ascii_alphabetic)
}

/// A bracketed marker at `i` (`(at)`, `[at]`, `（at）`, `【＠】`): where scanning goes on.
fn bracketed(text: &str, i: usize, out: &mut Vec<Entity>) -> usize {
    let rest = &text.as_bytes()[i..];
    match BRACKETED.iter().find(|m| starts_ignore_case(rest, m)) {
        Some(m) => at_marker(text, i, i + m.len(), Need::One, out),
        None => i + 1,
    }
}

/// What starts at the ASCII letter at `i` (a word's first letter): a bare ` at `, a cue word
/// before a handle, or an IBAN-shaped run.
fn letters(text: &str, i: usize, out: &mut Vec<Entity>) -> usize {
    let b = text.as_bytes();
    if starts_ignore_case(&b[i..], "at") && i >= 1 && b[i - 1] == b' ' && b.get(i + 2) == Some(&b' ') {
        return at_marker(text, i, i + 2, Need::Evidence, out).max(i + 2);
    }
    // The first letters of the Latin cue words: most words are turned away by one test.
    if matches!(
        b[i].to_ascii_lowercase(),
        b'l' | b'w' | b'k' | b't' | b'i' | b's' | b'z'
    ) && let Some(end) = cue_handle(text, i, out)
    {
        return end;
    }
    if let Some(end) = iban_shaped(b, i) {
        push(out, PiiType::Iban, i, end);
        return end;
    }
    // The rest of the word starts nothing.
    let mut e = i;
    while e < b.len() && b[e].is_ascii_alphabetic() {
        e += 1;
    }
    e
}

/// What starts at the non-ASCII character `cp` at `i`: a wide at-sign, a bracketed or
/// spelled marker, or a cue word.
fn non_ascii(text: &str, i: usize, cp: u32, len: usize, out: &mut Vec<Entity>) -> usize {
    let b = text.as_bytes();
    let rest = &b[i..];
    match cp {
        0xFF20 | 0xFE6B => return at_marker(text, i, i + len, Need::One, out),
        0xFF08 | 0xFF3B | 0x3010 | 0xFF5B | 0xFF1C => return bracketed(text, i, out).max(i + len),
        _ => {}
    }
    if let Some(m) = SPELLED
        .iter()
        .filter(|m| rest.starts_with(m.as_bytes()))
        .max_by_key(|m| m.len())
    {
        return at_marker(text, i, i + m.len(), Need::Both, out).max(i + len);
    }
    cue_handle(text, i, out).unwrap_or(i + len)
}

// ---------------------------------------------------------------------------------------
// Handles after cue words.

/// Cue words before a messenger handle. `bound`: the cue needs a binder after it (`:`, `は`,
/// `is`, `=`, `→`) before the handle; the others may be followed by the handle directly
/// (`line id taro_88`, `ライン taro88`). Compared ASCII case-insensitively, longest first.
const CUES: &[(&str, bool)] = &[
    ("line id", false),
    ("lineid", false),
    ("line", true),
    ("wechat id", false),
    ("wechat", true),
    ("weixin", true),
    ("kakao id", false),
    ("kakaotalk", true),
    ("kakao", true),
    ("telegram", true),
    ("instagram", true),
    ("skype", true),
    ("zalo", true),
    ("id", true),
    ("ＬＩＮＥ ＩＤ", false),
    ("ＬＩＮＥＩＤ", false),
    ("ＬＩＮＥ", true),
    ("ＩＤ", true),
    ("ラインID", false),
    ("ラインＩＤ", false),
    ("ライン", false),
    ("アイディー", false),
    ("アイディ", false),
    ("微信号", false),
    ("微信號", false),
    ("微信", false),
    ("賴ID", false),
    ("라인 아이디", false),
    ("라인", false),
    ("아이디", false),
    ("카톡 아이디", false),
    ("카톡", false),
    ("ไอดีไลน์", false),
    ("ไลน์", false),
    ("ไอดี", false),
];

/// What may stand between a cue word and its handle.
const BINDERS: &[&str] = &[
    ":",
    "：",
    "=",
    "＝",
    "は",
    "→",
    "➡",
    "⇒",
    " is ",
    "是",
    "는",
    "은",
    "คือ",
    "です",
    "も",
];

/// A handle after a cue word starting at `i`: reported, and where scanning goes on; `None`
/// when no cue starts at `i` or no handle follows it.
fn cue_handle(text: &str, i: usize, out: &mut Vec<Entity>) -> Option<usize> {
    let b = text.as_bytes();
    let rest = &b[i..];
    let &(cue, bound) = CUES.iter().find(|(c, _)| starts_ignore_case(rest, c))?;
    let mut k = i + cue.len();
    // An ASCII cue is a whole word (`id` in `idea`, `line` in `lines` are not cues).
    if cue.is_ascii() && b.get(k).is_some_and(u8::is_ascii_alphanumeric) {
        return None;
    }
    let skip_spaces = |mut k: usize| {
        while k < b.len() && (b[k] == b' ' || b[k..].starts_with("\u{3000}".as_bytes())) {
            k += if b[k] == b' ' { 1 } else { 3 };
        }
        k
    };
    let mut bound_seen = false;
    for _ in 0..2 {
        k = skip_spaces(k);
        let here = &b[k..];
        // " is " starts at a space that `skip_spaces` took.
        let binder = BINDERS.iter().find(|w| {
            starts_ignore_case(here, w) || (w.starts_with(' ') && starts_ignore_case(here, &w[1..]))
        });
        match binder {
            Some(w) => {
                k += if starts_ignore_case(here, w) {
                    w.len()
                } else {
                    w.len() - 1
                };
                bound_seen = true;
            }
            None => break,
        }
    }
    if bound && !bound_seen {
        return None;
    }
    k = skip_spaces(k);
    let start = k;
    if b.get(k) == Some(&b'@') {
        k += 1;
    } else if b[k..].starts_with("＠".as_bytes()) {
        k += 3;
    }
    let mut n = 0;
    let mut alnum = 0;
    while n < MAX_TOKEN {
        match folded_at(b, k) {
            Some((c, l)) if c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-') => {
                alnum += usize::from(c.is_ascii_alphanumeric());
                k += l;
                n += 1;
            }
            _ => break,
        }
    }
    // Trailing dots are the sentence's.
    while k > start && b[k - 1] == b'.' {
        k -= 1;
        n -= 1;
    }
    if n < 3 || alnum < 2 {
        return None;
    }
    push(out, PiiType::Person, start, k);
    Some(k)
}

// ---------------------------------------------------------------------------------------
// IBAN shapes.

/// An IBAN-shaped run at `i`: two letters, two digits, then letters and digits to at least 15
/// in all with at least 8 digits; its checksum is not asked. Printed in groups of four split
/// by single spaces, a group after a space holds a digit or is four letters (a bank code such
/// as WEST), so the word after a compact number is not taken in. Returns its end.
fn iban_shaped(b: &[u8], i: usize) -> Option<usize> {
    let head = b.get(i..i + 4)?;
    if !(head[0].is_ascii_alphabetic()
        && head[1].is_ascii_alphabetic()
        && head[2].is_ascii_digit()
        && head[3].is_ascii_digit())
    {
        return None;
    }
    let mut e = i;
    let (mut n, mut digits) = (0, 0);
    while e < b.len() && n < 34 {
        let c = b[e];
        if c.is_ascii_alphanumeric() {
            n += 1;
            digits += usize::from(c.is_ascii_digit());
            e += 1;
        } else if c == b' ' && n % 4 == 0 && group_after(b, e + 1) {
            e += 1;
        } else {
            break;
        }
    }
    while e > i && b[e - 1] == b' ' {
        e -= 1;
    }
    (n >= 15 && digits >= 8 && b.get(e).is_none_or(|c| !c.is_ascii_alphanumeric())).then_some(e)
}

/// Whether the word at `k` may continue an IBAN printed in groups: a digit in it, or exactly
/// four letters.
fn group_after(b: &[u8], k: usize) -> bool {
    let word = b[k.min(b.len())..]
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric())
        .take(5)
        .copied()
        .collect::<Vec<u8>>();
    !word.is_empty() && (word.iter().any(u8::is_ascii_digit) || word.len() == 4)
}

#[cfg(test)]
mod tests;
