//! Contact details written so that filters miss them, as people write them on purpose.
//!
//! Scam and spam reports, and users who move a chat off the platform, carry e-mail addresses,
//! phone numbers and LINE IDs in forms chosen to slip past a pattern: full-width letters,
//! spelled-out `@` and `.`, kanji or Thai digits, digits split by spaces, dots or emoji,
//! E.164 with spaces, a handle after a cue word. A share of the generated bodies is replaced
//! by such a message, in the sender's language, labelled with the exact span of the value and
//! the form it was written in, so a redactor can be measured on exactly the values a filter
//! misses.
//!
//! INVARIANT (the rest of the world stays put): every draw here comes from the stream
//! [`OBFUSCATION_STREAM`] of the message id, never from the message's own stream, so users,
//! counts, times, reports and every other body are byte-identical with and without this
//! module; only the chosen bodies (and their labels) change.

use kamei_core::PiiType;

use crate::country::{self, Country};
use crate::person;
use crate::rng::Rng;
use crate::text::{self, Body, Lang};

/// The stream of the obfuscation draws (see the module's INVARIANT).
const OBFUSCATION_STREAM: u64 = 0x0B5C;

/// Percent of messages whose body is an obfuscated contact.
///
/// Six: about 15 % of bodies carry personal data, about half of those a structured value
/// (e-mail, phone, card, My Number, IBAN, account), so 6 % makes the obfuscated values
/// roughly two in five of the world's structured spans. That is the design for its
/// blind set (at least a third obfuscated), enough for a leak share of 0.5 % to be measured
/// on a few thousand messages, and small enough that the plain forms still dominate the
/// generated set's per-type scores.
pub(crate) const OBFUSCATED_PERCENT: u64 = 6;

/// The body of message `message_id` if it is one of the obfuscated share, else `None` (the
/// template body stands). `country` is the sender's.
pub(crate) fn message(seed: u64, message_id: u64, country: Country) -> Option<Body> {
    let mut rng = Rng::for_row(seed, OBFUSCATION_STREAM, message_id);
    if !rng.percent(OBFUSCATED_PERCENT) {
        return None;
    }
    let lang = text::language(&mut rng, country);
    let mut body = Body::default();
    let template = match rng.weighted(&[35, 45, 20]) {
        0 => {
            let name = person::name(&mut rng, country);
            let address = person::email(&mut rng, country, &name);
            let (value, form) = email(&mut rng, lang, &address);
            let t = *rng.pick(email_templates(lang));
            (t, Contact::Pii(PiiType::Email, value, form))
        }
        1 => {
            let (value, form) = phone(&mut rng, lang, country);
            let t = *rng.pick(phone_templates(lang));
            (t, Contact::Pii(PiiType::Phone, value, form))
        }
        _ => {
            let name = person::name(&mut rng, country);
            let value = person::line_id(&mut rng, &name);
            let t = *rng.pick(handle_templates(lang));
            (t, Contact::Handle(value))
        }
    };
    let (text, contact) = template;
    let (before, after) = text.split_once("{}").unwrap_or((text, ""));
    body.push(before);
    match contact {
        Contact::Pii(t, value, form) => body.push_hidden(t, &value, Some(form)),
        Contact::Handle(value) => body.push_handle(&value, "line-id"),
    }
    body.push(after);
    Some(body)
}

enum Contact {
    Pii(PiiType, String, &'static str),
    Handle(String),
}

/// An e-mail address in one of the forms writers of `lang` use to hide it.
fn email(rng: &mut Rng, lang: Lang, address: &str) -> (String, &'static str) {
    let (local, domain) = address.split_once('@').unwrap_or((address, "example.com"));
    let mut forms: Vec<&'static str> = vec!["spelled-at-dot", "paren-at", "bracket-at-dot"];
    match lang {
        Lang::Ja => forms.extend(["full-width", "full-width", "kana-at"]),
        Lang::Zh => forms.extend(["full-width", "hanzi-at"]),
        Lang::Th => forms.push("thai-at"),
        Lang::En | Lang::Id => {}
    }
    let form = *rng.pick(&forms);
    let value = match form {
        "full-width" => full_width(address),
        "spelled-at-dot" => format!("{local} at {}", domain.replace('.', " dot ")),
        "paren-at" => format!("{local}{}{domain}", rng.pick(&["(at)", "（at）", "(@)"])),
        "bracket-at-dot" => format!("{local} [at] {}", domain.replace('.', " [dot] ")),
        "kana-at" => match rng.below(3) {
            0 => format!("{local}アット{domain}"),
            1 => format!("{local}あっと{domain}"),
            _ => format!("{local}アット{}", domain.replace('.', "ドット")),
        },
        "hanzi-at" => format!("{local}艾特{domain}"),
        _ => format!("{local} แอท {domain}"),
    };
    (value, form)
}

/// A phone number of `country` in one of the forms writers of `lang` use to hide it.
fn phone(rng: &mut Rng, lang: Lang, country: Country) -> (String, &'static str) {
    let groups = country::phone_groups(rng, country);
    let digits = groups.concat();
    let toll_free = groups[0].starts_with("0120") || groups[0].starts_with("0800");
    let mut forms: Vec<&'static str> = vec!["spaced-digits", "dotted", "emoji-separated", "keycap"];
    if !toll_free {
        forms.extend(["e164-spaced", "e164-spaced"]);
    }
    match lang {
        Lang::Ja | Lang::Zh => forms.extend(["kanji-digits", "kanji-digits", "full-width"]),
        Lang::Th => forms.extend(["thai-digits", "thai-digits"]),
        Lang::En | Lang::Id => {}
    }
    let form = *rng.pick(&forms);
    let value = match form {
        "spaced-digits" => spaced(&digits, " "),
        "dotted" => groups.join("."),
        "emoji-separated" => groups.join(*rng.pick(&["🍀", "⭐", "🌸", "✨", "📞"])),
        "keycap" => digits.chars().map(|d| format!("{d}\u{FE0F}\u{20E3}")).collect(),
        "e164-spaced" => {
            let mut g = groups.clone();
            g[0].remove(0);
            format!("+{} {}", country.calling_code(), g.join(" "))
        }
        "kanji-digits" => {
            let sep = *rng.pick(&["ー", "", "-"]);
            in_script(&groups.join(sep), &KANJI_DIGITS)
        }
        "full-width" => country::to_full_width(&groups.join("-")).replace('－', "ー"),
        _ => in_script(&groups.join(*rng.pick(&["-", ""])), &THAI_DIGITS),
    };
    (value, form)
}

const KANJI_DIGITS: [char; 10] = ['〇', '一', '二', '三', '四', '五', '六', '七', '八', '九'];
const THAI_DIGITS: [char; 10] = ['๐', '๑', '๒', '๓', '๔', '๕', '๖', '๗', '๘', '๙'];

/// ASCII digits in another script's digits; other characters kept.
fn in_script(s: &str, script: &[char; 10]) -> String {
    s.chars()
        .map(|c| c.to_digit(10).map_or(c, |d| script[d as usize]))
        .collect()
}

/// Every character with `sep` between: `0 9 0 1 2 …`.
fn spaced(s: &str, sep: &str) -> String {
    let mut out = String::with_capacity(s.len() * 2);
    for (i, c) in s.chars().enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        out.push(c);
    }
    out
}

/// Printable ASCII in its full-width forms (`ｔａｒｏ＠ｇｍａｉｌ．ｃｏｍ`), as an IME left in
/// full-width mode types it.
fn full_width(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '!'..='~' => char::from_u32(c as u32 - 0x21 + 0xFF01).unwrap_or(c),
            _ => c,
        })
        .collect()
}

// Templates: `{}` is the value. Handle templates put a cue word (LINE, ライン, ID, ไลน์) before it.

fn email_templates(lang: Lang) -> &'static [&'static str] {
    match lang {
        Lang::Ja => &[
            "メアドはこれ→{}",
            "こっちに連絡して {}",
            "迷惑メール対策で変な書き方してるけど {} ね",
            "詳しくはメールで！{}",
        ],
        Lang::En => &[
            "email me at {}",
            "contact: {} (spam filter, you know)",
            "send the details to {}",
        ],
        Lang::Th => &["อีเมลนะ {}", "ติดต่อทางเมล {} ได้เลย"],
        Lang::Zh => &["信箱是 {}", "詳情請寄信到 {}"],
        Lang::Id => &["email aku {} ya", "kirim ke email {}"],
    }
}

fn phone_templates(lang: Lang) -> &'static [&'static str] {
    match lang {
        Lang::Ja => &[
            "電話はこっち {}",
            "番号送るね {} 夜なら出られる",
            "ここに電話して→{}",
            "直接連絡ください {}",
        ],
        Lang::En => &[
            "text me on {}",
            "call me {} anytime",
            "my number {} (whatsapp too)",
        ],
        Lang::Th => &["โทรมาที่ {} นะ", "เบอร์ {} ทักมาได้"],
        Lang::Zh => &["打給我 {}", "電話 {} 晚上都在"],
        Lang::Id => &["WA aku {}", "telp {} aja"],
    }
}

fn handle_templates(lang: Lang) -> &'static [&'static str] {
    match lang {
        Lang::Ja => &[
            "ライン ID は {} です",
            "LINE: {} 追加してね",
            "LINEのIDは{}だよ",
            "ID: {} で検索して",
        ],
        Lang::En => &["add me on LINE: {}", "my line id is {}", "LINE ID: {}"],
        Lang::Th => &["แอดไลน์มา ID: {}", "ไลน์ {} นะ"],
        Lang::Zh => &["加我LINE: {}", "我的LINE ID：{}"],
        Lang::Id => &["add LINE aku ya, ID: {}", "ID LINE: {}"],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The digits of a phone form, of any script, as ASCII.
    fn ascii_digits(value: &str) -> String {
        value
            .chars()
            .filter_map(|c| {
                let script = KANJI_DIGITS.iter().chain(&THAI_DIGITS).position(|k| *k == c);
                match (script, c) {
                    (Some(i), _) => Some(i % 10),
                    (None, '０'..='９') => Some(c as usize - '０' as usize),
                    (None, '0'..='9') => Some(c as usize - '0' as usize),
                    _ => None,
                }
            })
            .map(|d| char::from(b'0' + d as u8))
            .collect()
    }

    #[test]
    fn phone_forms_keep_the_numbers_digits() {
        let mut rng = Rng::new(3);
        for (lang, country) in [
            (Lang::Ja, Country::Jp),
            (Lang::En, Country::Jp),
            (Lang::Th, Country::Th),
            (Lang::Zh, Country::Tw),
            (Lang::Id, Country::Id),
        ] {
            for _ in 0..300 {
                let (value, form) = phone(&mut rng, lang, country);
                let digits = ascii_digits(&value);
                assert!((9..=13).contains(&digits.len()), "{form}: {value}");
                if form == "e164-spaced" {
                    assert!(
                        value.starts_with(&format!("+{} ", country.calling_code())),
                        "{value}"
                    );
                } else {
                    assert!(digits.starts_with('0'), "{form}: {value}");
                }
            }
        }
        assert_eq!(ascii_digits("〇九〇ー一二三四"), "0901234");
        assert_eq!(ascii_digits("๐๘๑"), "081");
    }

    #[test]
    fn e_mail_forms_hide_the_at_sign_or_widen_it() {
        let mut rng = Rng::new(4);
        for lang in [Lang::Ja, Lang::En, Lang::Th, Lang::Zh, Lang::Id] {
            for _ in 0..200 {
                let (value, form) = email(&mut rng, lang, "taro.yamada@gmail.com");
                assert!(!value.contains('@') || form == "paren-at", "{form}: {value}");
                assert!(
                    value.starts_with("taro") || value.starts_with("ｔａｒｏ"),
                    "{value}"
                );
            }
        }
        assert_eq!(full_width("a@b.jp"), "ａ＠ｂ．ｊｐ");
        assert_eq!(spaced("090", " "), "0 9 0");
    }
}
