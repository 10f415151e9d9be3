//! E-mail addresses as written and as hidden.
//!
//! The plain form (`taro@example.jp`) is read strictly around its `@`. People who want a
//! filter to miss theirs write it in full-width letters (`ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ`), with
//! spaces around the `@`, or with the separators spelled out: `taro at example dot com`,
//! `taro(at)example[dot]com`, `taroアットexample.jp`, `taro★example.jp` (★を@に変えて),
//! `taro 골뱅이 example 닷 com`. The loose reader folds these to the plain form character by
//! character and reports the span of the original text, so offsets stay byte offsets into it.
//!
//! Spelled markers are found by the detector's single pass over the bytes, which stops at
//! their first characters (`a` after a space, brackets, ア, あ, ★, …); what a marker must prove
//! grows with how little it looks like an address: any spelled or spaced form needs a
//! real top-level domain, and a bare ` at ` between words also a spelled dot or an e-mail word
//! nearby (`look at example.com` is prose).
//!
//! What looks like an address and is not personal stays out: image-density suffixes
//! (`logo@2x.png`), file names, SCP-style remotes (`git@github.com:org/repo.git`) and the user
//! part of a URL (`ssh://git@host/…`).

use kamei_core::PiiType;

use crate::context::{Ctx, TextContext};
use crate::digit::char_at;
use crate::names::Found;

/// At-markers that are not an `@` character: spelled, bracketed or a stand-in symbol, ASCII
/// words in the cases people type them.
const SPELLED_AT: &[&str] = &[
    "(at)",
    "(AT)",
    "[at]",
    "[AT]",
    "{at}",
    "<at>",
    "(@)",
    "[@]",
    "（at）",
    "（AT）",
    "［at］",
    "【at】",
    "（＠）",
    "アットマーク",
    "あっとまーく",
    "＠マーク",
    "@マーク",
    "アット",
    "あっと",
    "ｱｯﾄ",
    "★",
    "☆",
    "艾特",
    "골뱅이",
    "앳",
    "แอท",
];

/// ` at ` between words: needs more proof than a bracketed marker.
const WORD_AT: &[&str] = &[" at ", " AT ", " At ", " a còng "];

/// Spelled or bracketed dots. ASCII words count only with a space on each side (glued to
/// letters they would be part of a label).
pub(crate) const DOT_WORDS: &[&str] = &[
    "(dot)",
    "(DOT)",
    "[dot]",
    "[DOT]",
    "{dot}",
    "<dot>",
    "(.)",
    "[.]",
    "（dot）",
    "［dot］",
    "【dot】",
    "ドット",
    "どっと",
    "ﾄﾞｯﾄ",
    "点",
    "點",
    "닷",
    "점",
    "ดอท",
    "จุด",
];
pub(crate) const DOT_SPACED_WORDS: &[&str] = &["dot", "DOT", "Dot", "chấm"];

/// File extensions that are not top-level domains people have mail at: `x@y.png` is a file.
const FILE_EXTENSIONS: &[&[u8]] = &[
    b"png", b"jpg", b"jpeg", b"gif", b"webp", b"svg", b"bmp", b"ico", b"tif", b"tiff", b"heic", b"avif",
    b"pdf", b"mp4", b"mov", b"mp3", b"wav", b"txt", b"csv", b"json", b"yaml", b"yml", b"toml", b"xml",
    b"html", b"htm", b"css", b"js", b"ts", b"tsx", b"jsx", b"rb", b"java", b"kt", b"swift", b"cpp", b"lock",
    b"log", b"zip", b"gz", b"tar", b"exe", b"apk", b"ipa", b"psd", b"git",
];

/// Generic top-level domains that mail is commonly at; any two-letter (country) domain counts
/// too. A spelled or spaced address must end in one of these.
const GENERIC_TLDS: &[&[u8]] = &[
    b"com", b"net", b"org", b"edu", b"gov", b"mil", b"int", b"info", b"biz", b"name", b"pro", b"mobi",
    b"asia", b"app", b"dev", b"xyz", b"online", b"site", b"tech", b"store", b"shop", b"club", b"email",
    b"example", b"test", b"jobs", b"travel", b"tokyo", b"bkk",
];

/// The first labels of the domains of the mail providers people in the service's countries
/// use most: an address at one needs no other proof that it is an address. Not the ones that
/// are also words (`me`, `i`, `au`, `live`, `mac`): `See you at Live.com` is prose.
const MAIL_PROVIDERS: &[&str] = &[
    "gmail",
    "googlemail",
    "yahoo",
    "ymail",
    "hotmail",
    "outlook",
    "msn",
    "icloud",
    "aol",
    "proton",
    "protonmail",
    "docomo",
    "ezweb",
    "softbank",
    "naver",
    "hanmail",
    "daum",
    "kakao",
    "qq",
    "163",
    "126",
    "sina",
];

/// Whether the domain starting at `b[at]` is a mail provider's (`gmail.com`, `docomo.ne.jp`).
fn mail_provider(b: &[u8], at: usize) -> bool {
    let mut k = at;
    let mut label = [0u8; 12];
    let mut n = 0;
    while let Some((c, l)) = folded_at(b, k)
        && c.is_ascii_alphanumeric()
        && n < label.len()
    {
        label[n] = c.to_ascii_lowercase();
        n += 1;
        k += l;
    }
    n > 0 && dot_after(b, k).is_some() && MAIL_PROVIDERS.iter().any(|p| p.as_bytes() == &label[..n])
}

/// How an address's `@` was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Marker {
    /// `@`, `＠` or `﹫`.
    Symbol,
    /// A spelled, bracketed or stand-in marker.
    Spelled,
    /// ` at ` between words.
    Word,
}

/// Whether code point `c` is the first character of a non-ASCII at-marker: the detector's
/// pass asks this of characters it decodes anyway, so the markers cost no pass of their own.
#[inline]
pub(crate) fn starts_marker(b: &[u8], i: usize, c: u32) -> bool {
    // あ and ア start most words of Japanese text; their markers go on with っ or ッ.
    match c {
        0x3042 => return b.get(i + 3..i + 6) == Some("っ".as_bytes()),
        0x30A2 => return b.get(i + 3..i + 6) == Some("ッ".as_bytes()),
        _ => {}
    }
    // One bit per code point modulo 64 turns most characters away with a shift.
    const BLOOM: u64 = {
        let mut bloom = 0u64;
        let mut k = 0;
        while k < MARKER_STARTS.len() {
            bloom |= 1 << (MARKER_STARTS[k] % 64);
            k += 1;
        }
        bloom
    };
    BLOOM & (1 << (c % 64)) != 0 && MARKER_STARTS.contains(&c)
}

/// ア あ ＠ ｱ （ ［ 【 ★ ☆ 艾 골 앳 แ: the first characters of the non-ASCII at-markers.
pub(crate) const MARKER_STARTS: &[u32] = &[
    0x30A2, 0x3042, 0xFF20, 0xFF71, 0xFF08, 0xFF3B, 0x3010, 0x2605, 0x2606, 0x827E, 0xACE8, 0xC573, 0x0E41,
];

/// The spelled or stand-in at-marker that starts at `b[i]`, if any, and its length.
fn marker_at(b: &[u8], i: usize) -> Option<(usize, Marker)> {
    let rest = b.get(i..)?;
    let longest = |list: &[&str]| {
        list.iter()
            .filter(|m| rest.starts_with(m.as_bytes()))
            .map(|m| m.len())
            .max()
    };
    if rest.first() == Some(&b' ') {
        return longest(WORD_AT).map(|l| (l, Marker::Word));
    }
    longest(SPELLED_AT).map(|l| (l, Marker::Spelled))
}

/// The address around a spelled or stand-in at-marker starting at `i` (for ` at `, the
/// space before it), if one starts there: the address's end, or the marker's when there is
/// no address. `None` when no marker starts at `i`.
pub(crate) fn spelled_at(text: &str, i: usize, ctx: &TextContext<'_>, out: &mut Vec<Found>) -> Option<usize> {
    let (len, marker) = marker_at(text.as_bytes(), i)?;
    Some(loose(text, i, i + len, marker, ctx, out))
}

/// The address around the `@` at `at`, read strictly and, where that fails or stops short,
/// loosely. Returns where scanning goes on.
pub(crate) fn at_sign(text: &str, at: usize, ctx: &TextContext<'_>, out: &mut Vec<Found>) -> usize {
    let b = text.as_bytes();
    if b[at + 1..].starts_with("マーク".as_bytes()) {
        return spelled_at(text, at, ctx, out).unwrap_or(at + 1).max(at + 1);
    }
    let strict_end = strict(text, at, out);
    // A plain address that ends where nothing could go on (`．jp`, ` dot com`) is whole.
    if strict_end > at + 1 && dot_after(b, strict_end).is_none() {
        return strict_end;
    }
    let loose_end = loose(text, at, at + 1, Marker::Symbol, ctx, out);
    strict_end.max(loose_end).max(at + 1)
}

/// The address around a full-width `＠` or small `﹫` at `text[at..at + len]`.
pub(crate) fn wide_at_sign(
    text: &str,
    at: usize,
    len: usize,
    ctx: &TextContext<'_>,
    out: &mut Vec<Found>,
) -> usize {
    if let Some(end) = spelled_at(text, at, ctx, out) {
        return end.max(at + len);
    }
    loose(text, at, at + len, Marker::Symbol, ctx, out).max(at + len)
}

fn is_local(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'%' | b'+' | b'-')
}

/// An e-mail address around the `@` at `at`, in plain ASCII: its end, or `at + 1`.
/// SPEC: RFC 5322 §3.4.1 dot-atom, restricted to the characters addresses use in practice.
fn strict(text: &str, at: usize, out: &mut Vec<Found>) -> usize {
    let b = text.as_bytes();
    let mut s = at;
    while s > 0 && at - s < 64 && is_local(b[s - 1]) {
        s -= 1;
    }
    while s < at && matches!(b[s], b'.' | b'-' | b'+') {
        s += 1;
    }
    if s == at {
        return at + 1;
    }
    let mut e = at + 1;
    while e < b.len() && e - at < 255 && (b[e].is_ascii_alphanumeric() || b[e] == b'-' || b[e] == b'.') {
        if b[e] == b'.' && (b[e - 1] == b'.' || e == at + 1) {
            break;
        }
        e += 1;
    }
    // A sentence's full stop or a trailing hyphen is not part of the domain.
    while e > at + 1 && matches!(b[e - 1], b'.' | b'-') {
        e -= 1;
    }
    let domain = &b[at + 1..e];
    let Some(dot) = domain.iter().rposition(|&c| c == b'.') else {
        return at + 1;
    };
    let tld = &domain[dot + 1..];
    if tld.len() < 2 || !tld.iter().all(u8::is_ascii_alphabetic) {
        return at + 1;
    }
    let density = domain[..dot].split(|&c| c == b'.').any(is_density);
    if not_personal(b, s, e, tld, density) {
        return at + 1;
    }
    out.push(Found {
        pii_type: PiiType::Email,
        start: s,
        end: e,
        score: 0.95,
    });
    e
}

/// Whether a domain label is an image density (`2x`, the `5x` of `1.5x`): `logo@2x.png`.
fn is_density(label: &[u8]) -> bool {
    label.len() >= 2
        && label[label.len() - 1].eq_ignore_ascii_case(&b'x')
        && label[..label.len() - 1].iter().all(u8::is_ascii_digit)
}

/// Whether an address-shaped span `b[s..e]` is a file, a remote or a URL's user instead;
/// `density` says whether a label before the top-level domain was an image density.
fn not_personal(b: &[u8], s: usize, e: usize, tld: &[u8], density: bool) -> bool {
    let tld_lower = |ext: &&[u8]| ext.eq_ignore_ascii_case(tld);
    // git@github.com:org/repo.git: SSH's user@host:path.
    let scp = b.get(e) == Some(&b':')
        && b.get(e + 1)
            .is_some_and(|&c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'~' | b'/' | b'.'));
    // ssh://git@host/…: a URL's user part.
    let url_user = b[..s].ends_with(b"://");
    FILE_EXTENSIONS.iter().any(tld_lower) || density || scp || url_user
}

/// A character of an address, folded to ASCII: ASCII itself, a full-width form
/// (U+FF01..U+FF5E) or a mathematical letter or digit (`𝐭𝐚𝐫𝐨`, U+1D400..), the forms whose
/// NFKC fold is ASCII. Returns the folded byte and the length.
pub(crate) fn folded_at(b: &[u8], i: usize) -> Option<(u8, usize)> {
    let c = *b.get(i)?;
    if c < 0x80 {
        return Some((c, 1));
    }
    if c != 0xEF && c != 0xF0 {
        return None;
    }
    let (ch, len) = char_at(b, i)?;
    let u = u32::from(ch);
    let folded = match u {
        0xFF01..=0xFF5E => u - 0xFEE0,
        // Thirteen alphabets (bold, italic, script, fraktur, …) of A-Z then a-z.
        0x1D400..=0x1D6A3 => match (u - 0x1D400) % 52 {
            k @ 0..26 => u32::from(b'A') + k,
            k => u32::from(b'a') + k - 26,
        },
        0x1D7CE..=0x1D7FF => u32::from(b'0') + (u - 0x1D7CE) % 10,
        _ => return None,
    };
    Some((u8::try_from(folded).ok()?, len))
}

/// The folded character that ends at `i`.
pub(crate) fn folded_before(b: &[u8], i: usize) -> Option<(u8, usize)> {
    match i.checked_sub(1).map(|k| b[k]) {
        Some(c) if c < 0x80 => Some((c, 1)),
        Some(_) => [3, 4].into_iter().find_map(|len| {
            let k = i.checked_sub(len)?;
            folded_at(b, k).filter(|&(_, l)| l == len)
        }),
        None => None,
    }
}

/// A character of an address as [`folded_at`] reads it, or a letter of the scripts whose
/// letters look like Latin ones (Latin-1 and Extended, Greek, Cyrillic), read as `x`: one
/// `о` (U+043E) in `tarо@gmail.com` must not carry the whole address past the redactor.
fn addr_at(b: &[u8], i: usize) -> Option<(u8, usize)> {
    folded_at(b, i).or_else(|| {
        let (c, len) = char_at(b, i)?;
        look_alike(c).then_some((b'x', len))
    })
}

/// The character of an address that ends at `i`, as [`addr_at`] reads it.
fn addr_before(b: &[u8], i: usize) -> Option<(u8, usize)> {
    folded_before(b, i).or_else(|| {
        let k = i.checked_sub(2)?;
        let (c, len) = char_at(b, k)?;
        (len == 2 && look_alike(c)).then_some((b'x', 2))
    })
}

/// A letter that passes for a Latin one: Latin-1 and Latin Extended-A/B, Greek, Cyrillic.
fn look_alike(c: char) -> bool {
    matches!(c, '\u{C0}'..='\u{24F}' | '\u{370}'..='\u{4FF}') && c.is_alphabetic()
}

/// After at most one space (ASCII or ideographic) at `i`.
fn skip_space(b: &[u8], i: usize) -> usize {
    if b.get(i) == Some(&b' ') {
        i + 1
    } else if b.get(i..i + 3) == Some("\u{3000}".as_bytes()) {
        i + 3
    } else {
        i
    }
}

/// Before at most one space ending at `i`.
fn skip_space_back(b: &[u8], i: usize) -> usize {
    if i >= 1 && b[i - 1] == b' ' {
        i - 1
    } else if i >= 3 && &b[i - 3..i] == "\u{3000}".as_bytes() {
        i - 3
    } else {
        i
    }
}

/// A dot after a label ending at `i`: where the next label starts and whether it was spelled.
fn dot_after(b: &[u8], i: usize) -> Option<(usize, bool)> {
    let q = skip_space(b, i);
    let spaced = q > i;
    if let Some((c, l)) = folded_at(b, q)
        && c == b'.'
    {
        return Some((skip_space(b, q + l), false));
    }
    for ideographic in ["。", "｡"] {
        if b[q..].starts_with(ideographic.as_bytes()) {
            return Some((skip_space(b, q + ideographic.len()), false));
        }
    }
    for w in DOT_WORDS {
        if b[q..].starts_with(w.as_bytes()) {
            return Some((skip_space(b, q + w.len()), true));
        }
    }
    if spaced {
        for w in DOT_SPACED_WORDS {
            if b[q..].starts_with(w.as_bytes()) && b.get(q + w.len()) == Some(&b' ') {
                return Some((q + w.len() + 1, true));
            }
        }
    }
    None
}

/// A dot before a label starting at `i` (in a local part): where the label before it ends.
fn dot_before(b: &[u8], i: usize) -> Option<usize> {
    let q = skip_space_back(b, i);
    if let Some((b'.', l)) = folded_before(b, q) {
        return Some(skip_space_back(b, q - l));
    }
    for w in DOT_WORDS {
        if b[..q].ends_with(w.as_bytes()) {
            return Some(skip_space_back(b, q - w.len()));
        }
    }
    if q < i {
        for w in DOT_SPACED_WORDS {
            if b[..q].ends_with(w.as_bytes()) && q > w.len() && b[q - w.len() - 1] == b' ' {
                return Some(q - w.len() - 1);
            }
        }
    }
    None
}

/// The local part that ends at `end` (folded): where it starts and whether a dot in it was
/// spelled.
fn local_part(b: &[u8], end: usize) -> Option<(usize, bool)> {
    let mut s = end;
    let mut spelled = false;
    let mut chars = 0;
    loop {
        let word_end = s;
        while let Some((c, l)) = addr_before(b, s)
            && is_local(c)
            && chars < 64
        {
            s -= l;
            chars += 1;
        }
        if s == word_end {
            // Nothing before this dot: it was not one.
            return None;
        }
        match dot_before(b, s) {
            Some(p) if folded_before(b, p).is_some_and(|(c, _)| c.is_ascii_alphanumeric()) && s - p > 1 => {
                spelled = true;
                s = p;
            }
            _ => break,
        }
    }
    // Leading dots, hyphens and plus signs belong to the text before.
    while let Some((c, l)) = folded_at(b, s)
        && s < end
        && matches!(c, b'.' | b'-' | b'+')
    {
        s += l;
    }
    let mut k = s;
    let mut alnum = false;
    while k < end {
        let Some((c, l)) = addr_at(b, k) else { break };
        alnum |= c.is_ascii_alphanumeric();
        k += l;
    }
    (s < end && alnum).then_some((s, spelled))
}

/// Words of English prose that come before `at` (`sign in at`, `I work at`, `see you at`,
/// `it is at`): a local part that is one of them is no handle. Lower case; compared ASCII
/// case-insensitively.
const PROSE_BEFORE_AT: &[&str] = &[
    "a", "all", "also", "am", "an", "and", "are", "as", "at", "based", "be", "been", "both", "but", "buy",
    "bought", "by", "employed", "find", "for", "found", "from", "get", "go", "going", "got", "he", "her",
    "here", "him", "hired", "hosted", "i", "in", "intern", "is", "it", "its", "job", "listed", "live",
    "lived", "lives", "living", "located", "log", "logged", "look", "looked", "looking", "me", "meet", "my",
    "not", "now", "of", "off", "on", "one", "only", "or", "our", "out", "posted", "see", "sell", "she",
    "shop", "shopping", "sign", "signed", "so", "sold", "stay", "staying", "still", "study", "studying",
    "that", "the", "them", "then", "there", "they", "this", "to", "today", "up", "us", "was", "we", "went",
    "were", "with", "work", "worked", "working", "works", "you", "your",
];

/// Whether the local part `b[s..end]` before a spelled or stand-in marker `marker` looks like
/// a handle: a digit or `. _ - +` in it, or a word that is not English prose before `at`
/// and, before a stand-in star (`NEW★Amazon.co.jp`), not a capitalised advertising word.
fn handle_like(b: &[u8], s: usize, end: usize, marker: &[u8]) -> bool {
    let mut word = [0u8; 64];
    let mut n = 0;
    let mut upper = 0;
    let mut k = s;
    while k < end
        && n < word.len()
        && let Some((c, l)) = addr_at(b, k)
    {
        if c.is_ascii_digit() || matches!(c, b'.' | b'_' | b'-' | b'+') {
            return true;
        }
        upper += usize::from(c.is_ascii_uppercase());
        word[n] = c.to_ascii_lowercase();
        n += 1;
        k += l;
    }
    let star = marker == "★".as_bytes() || marker == "☆".as_bytes();
    if star && n >= 2 && upper == n {
        return false;
    }
    !PROSE_BEFORE_AT.iter().any(|w| w.as_bytes() == &word[..n])
}

/// An address around the marker at `b[ms..me]`, with its parts in full-width forms, spaced
/// or spelled. Returns its end, or `me` when there is none.
fn loose(
    text: &str,
    ms: usize,
    me: usize,
    marker: Marker,
    ctx: &TextContext<'_>,
    out: &mut Vec<Found>,
) -> usize {
    let b = text.as_bytes();
    let local_end = if marker == Marker::Word {
        ms
    } else {
        skip_space_back(b, ms)
    };
    let Some((s, local_spelled)) = local_part(b, local_end) else {
        return me;
    };
    let domain_start = if marker == Marker::Word {
        me
    } else {
        skip_space(b, me)
    };
    // `thanks @taro.jp` is a mention: a symbol spaced on one side only must be so on the
    // other too (`taro @ example.com`), unless what follows is a mail provider's domain
    // (`taro @gmail.com`), which no one is mentioned by.
    if marker == Marker::Symbol && local_end < ms && domain_start == me && !mail_provider(b, me) {
        return me;
    }
    let spaced = local_end < ms || domain_start > me;
    // The labels of the domain, read without allocating: the last one's folded letters are
    // kept for the checks, and of the others only whether one was an image density.
    let mut label = [0u8; 63];
    let mut label_len = 0;
    let mut labels = 0;
    let mut density = false;
    let mut e = domain_start;
    let mut label_end = domain_start;
    let mut dot_spelled = false;
    let mut len = 0;
    loop {
        let mut n = 0;
        while let Some((c, l)) = addr_at(b, e)
            && (c.is_ascii_alphanumeric() || c == b'-')
            && n < label.len()
        {
            if n == 0 && labels > 0 {
                density |= is_density(&label[..label_len]);
            }
            label[n] = c.to_ascii_lowercase();
            n += 1;
            e += l;
        }
        if n == 0 {
            break;
        }
        label_len = n;
        labels += 1;
        len += n;
        label_end = e;
        match dot_after(b, e) {
            Some((next, spelled))
                if len < 255 && addr_at(b, next).is_some_and(|(c, _)| c.is_ascii_alphanumeric()) =>
            {
                dot_spelled |= spelled;
                e = next;
            }
            _ => break,
        }
    }
    let e = label_end;
    let tld = &label[..label_len];
    if labels < 2 || !(2..=24).contains(&tld.len()) || !tld.iter().all(u8::is_ascii_alphabetic) {
        return me;
    }
    let hidden = marker != Marker::Symbol || spaced || local_spelled || dot_spelled;
    let known_tld = tld.len() == 2 || GENERIC_TLDS.contains(&tld);
    if hidden && !known_tld {
        return me;
    }
    // `look at example.com` is prose; `taro at example dot com`, a mail provider's domain
    // (`taro at gmail.com`) or an e-mail word nearby makes it an address.
    if marker == Marker::Word
        && !dot_spelled
        && !mail_provider(b, domain_start)
        && !ctx.around(s, e).has(Ctx::EMAIL)
    {
        return me;
    }
    // `Sign in at outlook.com`, `The file is at docs [dot] google [dot] com`,
    // `NEW★Amazon.co.jp`: a word of prose before a spelled marker is no handle.
    if marker != Marker::Symbol
        && !local_spelled
        && !handle_like(b, s, local_end, &b[ms..me])
        && !ctx.around(s, e).has(Ctx::EMAIL)
    {
        return me;
    }
    if not_personal(b, s, e, tld, density) {
        return me;
    }
    out.push(Found {
        pii_type: PiiType::Email,
        start: s,
        end: e,
        score: if hidden { 0.85 } else { 0.9 },
    });
    e
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::Context;

    fn emails(text: &str) -> Vec<&str> {
        static C: std::sync::OnceLock<Context> = std::sync::OnceLock::new();
        let ctx = TextContext::new(C.get_or_init(Context::new), text);
        let b = text.as_bytes();
        let mut out = Vec::new();
        for (i, &c) in b.iter().enumerate() {
            if c == b'@' {
                at_sign(text, i, &ctx, &mut out);
            } else if b[i..].starts_with("＠".as_bytes()) || b[i..].starts_with("﹫".as_bytes()) {
                wide_at_sign(text, i, 3, &ctx, &mut out);
            } else if text.is_char_boundary(i) {
                spelled_at(text, i, &ctx, &mut out);
            }
        }
        let mut spans: Vec<&str> = out.iter().map(|f| &text[f.start..f.end]).collect();
        // The longest per start, as the detector's resolution keeps.
        spans.sort_by_key(|s| std::cmp::Reverse(s.len()));
        let mut kept: Vec<&str> = Vec::new();
        for s in spans {
            if !kept.iter().any(|k| k.contains(s)) {
                kept.push(s);
            }
        }
        kept
    }

    #[test]
    fn full_width_and_mixed_forms() {
        assert_eq!(
            emails("メアドはｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐです"),
            ["ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ"]
        );
        assert_eq!(emails("taro＠example.co.jp まで"), ["taro＠example.co.jp"]);
        assert_eq!(emails("taro.yamada@example．com"), ["taro.yamada@example．com"]);
        assert_eq!(
            emails("連絡先：hanako_99＠mail．example．com"),
            ["hanako_99＠mail．example．com"]
        );
        assert_eq!(emails("taro﹫example.jp"), ["taro﹫example.jp"]);
        assert_eq!(emails("mail me: taro @ example.com"), ["taro @ example.com"]);
        assert_eq!(
            emails("gmail。comじゃなくて taro@gmail。com"),
            ["taro@gmail。com"]
        );
    }

    #[test]
    fn spelled_out_separators() {
        assert_eq!(emails("taro(at)example.com"), ["taro(at)example.com"]);
        assert_eq!(
            emails("taro [at] example [dot] com"),
            ["taro [at] example [dot] com"]
        );
        assert_eq!(
            emails("john.smith at example dot com thanks"),
            ["john.smith at example dot com"]
        );
        assert_eq!(
            emails("john dot smith at example dot co dot uk"),
            ["john dot smith at example dot co dot uk"]
        );
        assert_eq!(emails("email: jane at example.org"), ["jane at example.org"]);
        assert_eq!(emails("hit me up: budi.s at gmail.com"), ["budi.s at gmail.com"]);
        assert_eq!(emails("yuki at docomo.ne.jp に送って"), ["yuki at docomo.ne.jp"]);
        assert_eq!(emails("taroアットexample.jpに送って"), ["taroアットexample.jp"]);
        assert_eq!(
            emails("taro あっと example どっと jp"),
            ["taro あっと example どっと jp"]
        );
        assert_eq!(emails("taro＠マークexample.ne.jp"), ["taro＠マークexample.ne.jp"]);
        assert_eq!(emails("★を@に変えてね taro★example.jp"), ["taro★example.jp"]);
        assert_eq!(emails("wang艾特example点cn"), ["wang艾特example点cn"]);
        assert_eq!(
            emails("minsu 골뱅이 example 닷 kr"),
            ["minsu 골뱅이 example 닷 kr"]
        );
        assert_eq!(
            emails("somchai แอท example ดอท com"),
            ["somchai แอท example ดอท com"]
        );
    }

    #[test]
    fn prose_files_and_remotes_are_not_addresses() {
        for text in [
            "look at example.com for details",
            "meet at 7.30 at the station",
            "logo@2x.png and icon@3x.webp",
            "sprite@1.5x.png",
            "git clone git@github.com:org/repo.git",
            "ssh://git@github.com/org/repo",
            "hi @taro.yamada",
            "thanks @taro.jp for the link",
            "@username and a@b and x@y.z1",
            "npm i react@18.2.0",
            "★★★ great.com",
            "taro at home dot",
            "mail me @ noon",
            "the @ sign",
        ] {
            assert_eq!(emails(text), Vec::<&str>::new(), "in {text:?}");
        }
    }

    #[test]
    fn plain_addresses_are_unchanged() {
        assert_eq!(
            emails("mail: taro.yamada+x@example.co.jp."),
            ["taro.yamada+x@example.co.jp"]
        );
        assert_eq!(emails("a@example.jp、〒"), ["a@example.jp"]);
    }
}
