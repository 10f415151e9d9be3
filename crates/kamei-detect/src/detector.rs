use std::net::Ipv6Addr;

use kamei_core::PiiType;

use crate::context::{Context, TextContext};
use crate::digit;
use crate::email;
use crate::entity::Entity;
use crate::latin::LatinNames;
use crate::names::Names;
use crate::numeric::{self, Run, Surround, Verdict};
use crate::validate;

/// Matches below this score are not reported.
pub(crate) const MIN_SCORE: f32 = 0.5;

/// What a byte can start: most bytes start nothing and are skipped by one table lookup.
const NONE: u8 = 0;
const DIGIT: u8 = 1;
const PLUS_OR_OPEN: u8 = 2;
const AT: u8 = 3;
const COLON: u8 = 4;
const UPPER: u8 = 5;
const FULLWIDTH: u8 = 6;
const MULTI: u8 = 7;
/// `a` (after a space: ` at `) and `[`, `{`, `<` (`[at]`): where spelled at-markers start.
const MARKER: u8 = 8;

const TRIGGER: [u8; 256] = {
    let mut t = [NONE; 256];
    let mut c = b'0';
    while c <= b'9' {
        t[c as usize] = DIGIT;
        c += 1;
    }
    let mut c = b'A';
    while c <= b'Z' {
        t[c as usize] = UPPER;
        c += 1;
    }
    t[b'+' as usize] = PLUS_OR_OPEN;
    t[b'(' as usize] = PLUS_OR_OPEN;
    t[b'@' as usize] = AT;
    t[b':' as usize] = COLON;
    // Lead bytes of characters that may be digits of another form: Arabic-Indic (U+0660..,
    // U+06F0..), N'Ko, the Indic, Thai, Lao, Tibetan, Myanmar and Khmer blocks, ○, 〇, kanji
    // numerals (U+4E00..U+9FFF), U+A620.. and the supplementary planes; and the first
    // characters of spelled at-markers (ア, あ, ★, 艾, 골, 앳, แ: see `email::starts_marker`).
    t[0xD9] = MULTI;
    t[0xDB] = MULTI;
    t[0xDF] = MULTI;
    let mut c = 0xE0;
    while c <= 0xEA {
        t[c] = MULTI;
        c += 1;
    }
    t[0xEC] = MULTI;
    t[0xF0] = MULTI;
    t[0xEF] = FULLWIDTH;
    t[b'a' as usize] = MARKER;
    t[b'[' as usize] = MARKER;
    t[b'{' as usize] = MARKER;
    t[b'<' as usize] = MARKER;
    t
};

/// The built-in recognizers. Build once and share: `find` takes `&self` and keeps no state.
#[derive(Debug)]
pub struct Detector {
    context: Context,
    names: Names,
    latin: LatinNames,
}

impl Default for Detector {
    fn default() -> Self {
        Self::new()
    }
}

/// A candidate before overlaps are resolved (the name recognizers make the same).
type Candidate = crate::names::Found;

impl Detector {
    pub fn new() -> Detector {
        Detector {
            context: Context::new(),
            names: Names::new(),
            latin: LatinNames::new(),
        }
    }

    /// The context words, for the recall profile's choice of a digit run's type.
    pub(crate) fn context(&self) -> &Context {
        &self.context
    }

    /// Finds personal data in `text`: entities sorted by start, non-overlapping, each with
    /// byte offsets on char boundaries. Where candidates overlap, the longest wins, then the
    /// higher score, then the earlier start, so the result does not depend on scan order.
    pub fn find(&self, text: &str) -> Vec<Entity> {
        let mut cands = Vec::with_capacity(16);
        self.structured(text, &mut cands);
        self.names.find(text, &mut cands);
        resolve(text, cands)
    }

    /// The single pass over the bytes for the structured types.
    fn structured(&self, text: &str, out: &mut Vec<Candidate>) {
        let b = text.as_bytes();
        let ctx = TextContext::new(&self.context, text);
        let mut run = Run::default();
        let mut i = 0;
        while i < b.len() {
            let kind = TRIGGER[b[i] as usize];
            if kind == NONE {
                i += 1;
                continue;
            }
            // Most characters of Japanese, Chinese and Thai text: turned away here, whole.
            if kind == MULTI && !may_start_at(b, i) {
                i += if b[i] >= 0xF0 {
                    4
                } else if b[i] >= 0xE0 {
                    3
                } else {
                    2
                };
                continue;
            }
            i = match kind {
                DIGIT => self.digits(text, &ctx, i, &mut run, out),
                PLUS_OR_OPEN => {
                    if digit::at(b, i + 1).is_some() || (b[i] == b'+' && b.get(i + 1) == Some(&b'(')) {
                        self.digits(text, &ctx, i, &mut run, out)
                    } else if b[i] == b'(' {
                        spelled_email(text, i, &ctx, out)
                    } else {
                        i + 1
                    }
                }
                FULLWIDTH => self.fullwidth(text, &ctx, i, &mut run, out),
                MULTI => self.multi(text, &ctx, i, &mut run, out),
                AT => email::at_sign(text, i, &ctx, out),
                COLON => ipv6(text, i, out),
                // ` AT `, ` At ` before a capitalised word's own meanings.
                UPPER
                    if b[i] == b'A'
                        && i > 0
                        && b[i - 1] == b' '
                        && matches!(b.get(i + 1..i + 3), Some(b"T " | b"t ")) =>
                {
                    match spelled_email(text, i - 1, &ctx, out) {
                        end if end > i => end,
                        _ => self.capital(text, i, out),
                    }
                }
                UPPER => self.capital(text, i, out),
                MARKER if b[i] == b'a' => {
                    // ` at `, ` a còng `.
                    if i > 0 && b[i - 1] == b' ' && matches!(b.get(i + 1..i + 3), Some(b"t " | b" c")) {
                        spelled_email(text, i - 1, &ctx, out).max(i + 1)
                    } else {
                        i + 1
                    }
                }
                MARKER => spelled_email(text, i, &ctx, out),
                _ => i + 1,
            };
        }
    }

    /// What starts at a character of two to four bytes: a digit of another form, the first
    /// character of a spelled at-marker, or (most often) nothing, and the whole character is
    /// skipped.
    fn multi(
        &self,
        text: &str,
        ctx: &TextContext<'_>,
        i: usize,
        run: &mut Run,
        out: &mut Vec<Candidate>,
    ) -> usize {
        let b = text.as_bytes();
        let Some((c, len)) = digit::char_at(b, i) else {
            return i + 1;
        };
        if kamei_core::digit::value(c).is_some() {
            self.digits(text, ctx, i, run, out)
        } else if email::starts_marker(b, i, u32::from(c)) {
            spelled_email(text, i, ctx, out).max(i + len)
        } else {
            i + len
        }
    }

    /// What starts at a character of the U+FFxx block at `i`: a full-width digit, `＋` or `（`
    /// before one, or `＠`.
    fn fullwidth(
        &self,
        text: &str,
        ctx: &TextContext<'_>,
        i: usize,
        run: &mut Run,
        out: &mut Vec<Candidate>,
    ) -> usize {
        let b = text.as_bytes();
        if digit::at(b, i).is_some() {
            return self.digits(text, ctx, i, run, out);
        }
        match b.get(i..i + 3) {
            Some(c) if c == "＋".as_bytes() || c == "（".as_bytes() => {
                if digit::at(b, i + 3).is_some() {
                    self.digits(text, ctx, i, run, out)
                } else {
                    // （at）, （＠）.
                    spelled_email(text, i, ctx, out).max(i + 3)
                }
            }
            Some(c) if c == "＠".as_bytes() || c == "﹫".as_bytes() => {
                email::wide_at_sign(text, i, 3, ctx, out)
            }
            // Ａ..Ｚ: ＧＢ８２ ＷＥＳＴ…, ＳＷ１Ａ １ＡＡ.
            Some(&[0xEF, 0xBC, 0xA1..=0xBA]) => wide_capital(text, i, out),
            // ｱｯﾄ, ［at］, （at）.
            _ => spelled_email(text, i, ctx, out),
        }
    }

    /// What starts at the capital letter at `i`: a UK postcode, an IBAN or a person's name.
    fn capital(&self, text: &str, i: usize, out: &mut Vec<Candidate>) -> usize {
        let b = text.as_bytes();
        if i > 0 && b[i - 1].is_ascii_alphanumeric() {
            return i + 1;
        }
        if let Some(end) = uk_postcode(text, i) {
            out.push(Candidate {
                pii_type: PiiType::PostalCode,
                start: i,
                end,
                score: 0.75,
            });
            return end;
        }
        let next = iban(text, i, out);
        if next > i + 1 {
            return next;
        }
        match self.latin.at(text, i) {
            // Scanning goes on inside the name: a name never hides an IBAN or a postcode, which
            // have no lower-case letters, but the next word may start a name of its own.
            Some(f) => {
                out.push(f);
                i + 1
            }
            None => i + 1,
        }
    }

    /// Reads the digit run at `i`, classifies it, and returns where scanning goes on.
    fn digits(
        &self,
        text: &str,
        context: &TextContext<'_>,
        i: usize,
        run: &mut Run,
        out: &mut Vec<Candidate>,
    ) -> usize {
        let b = text.as_bytes();
        // Letters before the first digit: a passport prefix (1-2 capitals after a boundary),
        // otherwise a word with digits in it (a hash, an id, "v2") that holds nothing for us.
        let mut letters = 0;
        if b[i].is_ascii_digit() {
            let mut k = i;
            while k > 0 && b[k - 1].is_ascii_alphanumeric() {
                k -= 1;
            }
            if k < i {
                letters = i - k;
                let caps = b[k..i].iter().all(u8::is_ascii_uppercase);
                if !caps || letters > 2 {
                    return skip_word(b, i);
                }
            }
        }
        run.read(b, i);
        if run.groups.is_empty() {
            return i + 1;
        }
        // A house number before a street's name (12 Oak St, 350 5th Ave, 221B Baker Street).
        if letters == 0
            && b[i].is_ascii_digit()
            && let Some(f) = street_at(text, i, run.groups[0].end)
        {
            out.push(f);
            return f.end;
        }
        // A run glued to letters after it ("5kg", "3rd", "090x") is not one of our shapes.
        if let Some(&c) = b.get(run.end)
            && (c.is_ascii_alphabetic() || c == b'_' || c == b'@')
        {
            return if c == b'@' { run.end } else { skip_word(b, run.end) };
        }
        // A day of a date written with a month name, with birth context.
        if run.groups.len() == 1
            && let Some((s, e)) = numeric::month_name_date(text, run.groups[0].start, run.groups[0].end)
            && context.near(s).has(crate::context::Ctx::BIRTH)
        {
            out.push(Candidate {
                pii_type: PiiType::DateOfBirth,
                start: s,
                end: e,
                score: 0.85,
            });
            return e;
        }
        // Runs too short to be anything (a time, a price, a count) cost no context lookup.
        // Digits, not bytes: a lone kanji numeral (一緒 is a word) takes three.
        if run.groups.len() < 3 && run.digit_count() < 3 {
            return run.end.max(i + 1);
        }
        let ctx = context.around(run.groups[0].start, run.end);
        let near = || context.near(run.groups[0].start);
        let before = &b[..i];
        let trimmed = before.trim_ascii_end();
        let postal_mark = trimmed.ends_with("〒".as_bytes())
            || trimmed
                .strip_suffix("　".as_bytes())
                .is_some_and(|t| t.ends_with("〒".as_bytes()));
        let era = [
            ("昭和", 1926),
            ("平成", 1989),
            ("令和", 2019),
            ("大正", 1912),
            ("民國", 1912),
            ("民国", 1912),
        ]
        .iter()
        .find(|(name, _)| before.ends_with(name.as_bytes()))
        .map(|(name, year)| (i - name.len(), *year));
        let order_label = std::cell::OnceCell::new();
        let order = || *order_label.get_or_init(|| crate::context::order_label_before(text, i));
        let surround = Surround {
            ctx,
            near: &near,
            letters,
            postal_mark,
            version: i > 0 && matches!(b[i - 1], b'v' | b'V'),
            era,
            order: &order,
        };
        let n = run.groups.len();
        let mut gi = 0;
        while gi < n {
            let mut next = gi + 1;
            let mut gj = n;
            while gj > gi {
                gj -= 1;
                match numeric::classify(text, run, gi, gj, &surround) {
                    Some(Verdict::Found {
                        pii_type,
                        start,
                        end,
                        score,
                    }) => {
                        out.push(Candidate {
                            pii_type,
                            start,
                            end,
                            score,
                        });
                        next = gj + 1;
                        break;
                    }
                    Some(Verdict::NotPersonal) => {
                        next = gj + 1;
                        break;
                    }
                    None => {}
                }
            }
            gi = next;
        }
        // Letters right after the run may start a word; a digit cannot follow (the run
        // would have taken it), so scanning goes on at the run's end.
        run.end.max(i + 1)
    }
}

/// The pairs of first two UTF-8 bytes that a character of two to four bytes may start
/// something with: a digit of another script, a kanji numeral, the first character of a
/// non-ASCII at-marker (but あ and ア, whose pairs are those of all kana), and every character
/// of four bytes. A bit per pair: 8 KiB, built at compile time.
const MAY_START: [u64; 1024] = {
    let mut bits = [0u64; 1024];
    // The first two bytes of the UTF-8 form of a code point of two or three bytes.
    const fn pair(c: u32) -> usize {
        if c < 0x800 {
            ((0xC0 | (c >> 6)) as usize) << 8 | (0x80 | (c & 0x3F)) as usize
        } else {
            ((0xE0 | (c >> 12)) as usize) << 8 | (0x80 | ((c >> 6) & 0x3F)) as usize
        }
    }
    let mut k = 0;
    while k < kamei_core::digit::ND_ZEROS.len() {
        let z = kamei_core::digit::ND_ZEROS[k];
        let mut d = 0;
        // ASCII and full-width digits have triggers of their own.
        while d < 10 && z >= 0x80 && z != 0xFF10 && z + d < 0x10000 {
            let p = pair(z + d);
            bits[p / 64] |= 1 << (p % 64);
            d += 1;
        }
        k += 1;
    }
    let mut k = 0;
    while k < kamei_core::digit::KANJI.len() {
        let p = pair(kamei_core::digit::KANJI[k].0 as u32);
        bits[p / 64] |= 1 << (p % 64);
        k += 1;
    }
    let mut k = 0;
    while k < email::MARKER_STARTS.len() {
        let c = email::MARKER_STARTS[k];
        if c != 0x3042 && c != 0x30A2 {
            let p = pair(c);
            bits[p / 64] |= 1 << (p % 64);
        }
        k += 1;
    }
    let mut second = 0x80;
    while second < 0xC0 {
        let p = 0xF0 << 8 | second;
        bits[p / 64] |= 1 << (p % 64);
        second += 1;
    }
    bits
};

/// Whether the character of two to four bytes at `b[i]` may start something: by the first
/// two bytes, and for あ and ア (あっと, アット), which share theirs with all kana, by name.
#[inline]
fn may_start_at(b: &[u8], i: usize) -> bool {
    let lead = b[i];
    let second = b.get(i + 1).copied().unwrap_or(0);
    let p = (lead as usize) << 8 | second as usize;
    MAY_START[p / 64] & (1 << (p % 64)) != 0
        || (lead == 0xE3 && matches!((second, b.get(i + 2)), (0x81, Some(0x82)) | (0x82, Some(0xA2))))
}

/// An address around a spelled at-marker at `i`: where scanning goes on (after the address,
/// or at the next byte when there is none; the marker's own bytes start nothing else).
fn spelled_email(text: &str, i: usize, ctx: &TextContext<'_>, out: &mut Vec<Candidate>) -> usize {
    let before = out.len();
    match email::spelled_at(text, i, ctx, out) {
        Some(end) if out.len() > before => end,
        _ => i + 1,
    }
}

/// A street address whose house number's digits span `start..digits_end`, one capital
/// letter allowed after them (221B): asked only where a space and a capital or a digit follow.
fn street_at(text: &str, start: usize, digits_end: usize) -> Option<Candidate> {
    let b = text.as_bytes();
    if digits_end - start > 5 {
        return None;
    }
    let number_end = match (b.get(digits_end), b.get(digits_end + 1)) {
        (Some(b' '), _) => digits_end,
        (Some(c), Some(b' ')) if c.is_ascii_uppercase() => digits_end + 1,
        _ => return None,
    };
    if !b
        .get(number_end + 1)
        .is_some_and(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    {
        return None;
    }
    crate::street::address(text, start, number_end)
}

/// Skips the ASCII word that continues at `i`.
fn skip_word(b: &[u8], mut i: usize) -> usize {
    let from = i;
    while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
        i += 1;
    }
    i.max(from + 1)
}

/// An IBAN or a UK postcode written in full-width letters and digits (ＧＢ８２ ＷＥＳＴ…,
/// ＳＷ１Ａ １ＡＡ), starting at the full-width capital at `i`: read on its NFKC fold (ASCII),
/// reported on the original text. Returns where scanning goes on.
fn wide_capital(text: &str, i: usize, out: &mut Vec<Candidate>) -> usize {
    let b = text.as_bytes();
    // A capital inside a word starts nothing.
    if email::folded_before(b, i).is_some_and(|(c, _)| c.is_ascii_alphanumeric()) {
        return i + 3;
    }
    // The fold, and for each of its bytes the offset in `text` it came from.
    let mut folded = String::with_capacity(48);
    let mut offsets = Vec::with_capacity(49);
    let mut k = i;
    while folded.len() < 48 {
        let (c, l) = match email::folded_at(b, k) {
            Some((c, l)) if c.is_ascii_alphanumeric() || c == b' ' => (c, l),
            _ if b[k..].starts_with("\u{3000}".as_bytes()) => (b' ', 3),
            _ => break,
        };
        offsets.push(k);
        folded.push(char::from(c));
        k += l;
    }
    offsets.push(k);
    let mut found = Vec::new();
    if let Some(end) = uk_postcode(&folded, 0) {
        found.push(Candidate {
            pii_type: PiiType::PostalCode,
            start: 0,
            end,
            score: 0.75,
        });
    } else {
        iban(&folded, 0, &mut found);
    }
    let mut next = i + 3;
    for c in found {
        if let (Some(&start), Some(&end)) = (offsets.get(c.start), offsets.get(c.end)) {
            out.push(Candidate { start, end, ..c });
            next = next.max(end);
        }
    }
    next
}

/// An IPv6 address around the `:` at `colon`. SPEC: RFC 4291 §2.2 (text forms), parsed by
/// the standard library.
fn ipv6(text: &str, colon: usize, out: &mut Vec<Candidate>) -> usize {
    let b = text.as_bytes();
    let hexish = |c: u8| c.is_ascii_hexdigit() || c == b':';
    let mut s = colon;
    while s > 0 && colon - s < 40 && hexish(b[s - 1]) {
        s -= 1;
    }
    let mut e = colon + 1;
    while e < b.len() && e - s < 45 && (hexish(b[e]) || b[e] == b'.') {
        e += 1;
    }
    while e > colon + 1 && matches!(b[e - 1], b'.' | b':') && !b[..e].ends_with(b"::") {
        e -= 1;
    }
    let boundary =
        (s == 0 || !b[s - 1].is_ascii_alphanumeric()) && (e == b.len() || !b[e].is_ascii_alphanumeric());
    let span = &text[s..e];
    let colons = span.bytes().filter(|&c| c == b':').count();
    if boundary && colons >= 2 && span.bytes().any(|c| c.is_ascii_digit()) && span.parse::<Ipv6Addr>().is_ok()
    {
        out.push(Candidate {
            pii_type: PiiType::IpAddress,
            start: s,
            end: e,
            score: 0.95,
        });
        return e;
    }
    colon + 1
}

/// An IBAN starting at the capital letter at `i`: printed compact or in groups of four.
fn iban(text: &str, i: usize, out: &mut Vec<Candidate>) -> usize {
    let b = text.as_bytes();
    let starts = b.get(i + 1).is_some_and(u8::is_ascii_uppercase)
        && b.get(i + 2).is_some_and(u8::is_ascii_digit)
        && b.get(i + 3).is_some_and(u8::is_ascii_digit)
        && (i == 0 || !b[i - 1].is_ascii_alphanumeric());
    if !starts {
        return i + 1;
    }
    let mut compact = [0u8; 34];
    let mut n = 0;
    let mut e = i;
    let mut best = None;
    while e < b.len() && n < 34 {
        let c = b[e];
        if c.is_ascii_uppercase() || c.is_ascii_digit() {
            compact[n] = c;
            n += 1;
            e += 1;
            let at_end = e == b.len() || !b[e].is_ascii_alphanumeric();
            if at_end && validate::iban(&compact[..n]) {
                best = Some(e);
            }
        } else if c == b' '
            && b.get(e + 1)
                .is_some_and(|&x| x.is_ascii_uppercase() || x.is_ascii_digit())
        {
            e += 1;
        } else {
            break;
        }
    }
    match best {
        Some(end) => {
            out.push(Candidate {
                pii_type: PiiType::Iban,
                start: i,
                end,
                score: 0.95,
            });
            end
        }
        None => i + 1,
    }
}

/// A UK postcode starting at `i` (`M20 6RT`, `YO21 3DT`, `SW1A 1AA`): its end.
/// SPEC: BS 7666 — an outward code A9, A99, AA9, AA99, A9A or AA9A, a space, and an inward
/// code of a digit and two letters other than C, I, K, M, O and V.
fn uk_postcode(text: &str, i: usize) -> Option<usize> {
    let b = text.as_bytes();
    if i > 0 && b[i - 1].is_ascii_alphanumeric() {
        return None;
    }
    let space = b[i..].iter().take(5).position(|&c| c == b' ')?;
    let outward = &b[i..i + space];
    // The outward code's shape as "a" for a letter and "9" for a digit.
    let mut shape = [0u8; 4];
    for (k, &c) in outward.iter().enumerate() {
        shape[k] = match c {
            b'A'..=b'Z' => b'a',
            b'0'..=b'9' => b'9',
            _ => return None,
        };
    }
    let outward_ok = matches!(
        &shape[..space],
        b"a9" | b"a99" | b"aa9" | b"aa99" | b"a9a" | b"aa9a"
    );
    let inward = b.get(i + space + 1..i + space + 4)?;
    let inward_letter = |c: &u8| c.is_ascii_uppercase() && !b"CIKMOV".contains(c);
    let end = i + space + 4;
    let boundary = b.get(end).is_none_or(|c| !c.is_ascii_alphanumeric());
    (outward_ok && inward[0].is_ascii_digit() && inward[1..].iter().all(inward_letter) && boundary)
        .then_some(end)
}

/// Picks non-overlapping candidates: longest first, then highest score, then earliest start,
/// then type order, so the outcome is the same whatever order recognizers ran in.
fn resolve(text: &str, mut cands: Vec<Candidate>) -> Vec<Entity> {
    cands.retain(|c| c.start < c.end && text.is_char_boundary(c.start) && text.is_char_boundary(c.end));
    cands.sort_by(|a, b| {
        (b.end - b.start)
            .cmp(&(a.end - a.start))
            .then(b.score.total_cmp(&a.score))
            .then(a.start.cmp(&b.start))
            .then(a.pii_type.cmp(&b.pii_type))
    });
    // Most lines hold a handful of candidates: a linear check against the accepted ones beats
    // a map there. Long texts with many use the map, so the work stays O(n log n).
    let mut taken: Vec<Candidate> = Vec::new();
    if cands.len() <= 16 {
        for c in cands {
            if !taken.iter().any(|t| t.start < c.end && c.start < t.end) {
                taken.push(c);
            }
        }
    } else {
        // Accepted spans by start; non-overlapping, so a neighbour check on each side suffices.
        let mut by_start: std::collections::BTreeMap<usize, Candidate> = Default::default();
        for c in cands {
            let clash_before = by_start
                .range(..c.end)
                .next_back()
                .is_some_and(|(_, p)| p.end > c.start);
            if !clash_before {
                by_start.insert(c.start, c);
            }
        }
        taken.extend(by_start.into_values());
    }
    taken.sort_by_key(|c| c.start);
    taken
        .into_iter()
        .map(|c| Entity {
            pii_type: c.pii_type,
            start: c.start,
            end: c.end,
            score: c.score.clamp(0.0, 1.0),
        })
        .collect()
}

#[cfg(test)]
mod tests;
