//! Chat messages as people write them, with labels for the personal data they carry.
//!
//! A template is text with `{slot}` markers, parsed once. Slots that are personal data are
//! labelled with their type and code-point span; look-alike slots (order numbers, prices,
//! versions, event dates, room numbers, coupons) are written as plain text and not labelled,
//! so a detector is scored on telling them apart.

use std::sync::OnceLock;

use kamei_core::{PiiType, thousands};

use crate::country::{self, Country, PhoneStyle};
use crate::person;
use crate::rng::Rng;
use crate::time;

/// A span of personal data in a message body: code points into the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Label {
    pub pii_type: PiiType,
    pub start: usize,
    pub end: usize,
    /// How the writer hid the value from filters (`kanji-digits`, `spelled-at`, …), for the
    /// obfuscated contacts of `obfuscate.rs`; `None` for the forms the templates write.
    pub form: Option<&'static str>,
}

/// A handle others know the writer by (a LINE ID after a cue word): the vocabulary's
/// ACCOUNT_ID, which is a column category and not a personal-data type, so it is labelled
/// apart from [`Label`] (labels/account_ids.jsonl).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HandleLabel {
    pub start: usize,
    pub end: usize,
    pub form: &'static str,
}

/// A message body under construction, counting code points as it grows.
#[derive(Debug, Default)]
pub(crate) struct Body {
    pub text: String,
    pub labels: Vec<Label>,
    pub handles: Vec<HandleLabel>,
    chars: usize,
}

impl Body {
    pub(crate) fn push(&mut self, s: &str) {
        self.text.push_str(s);
        self.chars += s.chars().count();
    }

    fn push_pii(&mut self, pii_type: PiiType, s: &str) {
        self.push_hidden(pii_type, s, None);
    }

    /// Personal data written in `form` (`None`: as the templates write it).
    pub(crate) fn push_hidden(&mut self, pii_type: PiiType, s: &str, form: Option<&'static str>) {
        let start = self.chars;
        self.push(s);
        self.labels.push(Label {
            pii_type,
            start,
            end: self.chars,
            form,
        });
    }

    pub(crate) fn push_handle(&mut self, s: &str, form: &'static str) {
        let start = self.chars;
        self.push(s);
        self.handles.push(HandleLabel {
            start,
            end: self.chars,
            form,
        });
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    // Personal data, labelled.
    Phone,
    Mobile,
    Email,
    PostalAddress,
    Address,
    Card,
    MyNumber,
    /// A friend's family name (the honorific follows in the template, unlabelled).
    Friend,
    FullName,
    Dob,
    Ip,
    Iban,
    Passport,
    License,
    Account,
    CorporateNumber,
    // Look-alikes, not labelled.
    Order,
    Price,
    EventDate,
    Time,
    Version,
    Room,
    Coupon,
    Tracking,
    Percent,
    Twelve,
    Year,
}

impl Slot {
    fn parse(name: &str) -> Option<Slot> {
        Some(match name {
            "phone" => Slot::Phone,
            "mobile" => Slot::Mobile,
            "email" => Slot::Email,
            "postal_address" => Slot::PostalAddress,
            "address" => Slot::Address,
            "card" => Slot::Card,
            "mynumber" => Slot::MyNumber,
            "friend" => Slot::Friend,
            "fullname" => Slot::FullName,
            "dob" => Slot::Dob,
            "ip" => Slot::Ip,
            "iban" => Slot::Iban,
            "passport" => Slot::Passport,
            "license" => Slot::License,
            "account" => Slot::Account,
            "corpnum" => Slot::CorporateNumber,
            "order" => Slot::Order,
            "price" => Slot::Price,
            "date" => Slot::EventDate,
            "time" => Slot::Time,
            "version" => Slot::Version,
            "room" => Slot::Room,
            "coupon" => Slot::Coupon,
            "tracking" => Slot::Tracking,
            "percent" => Slot::Percent,
            "twelve" => Slot::Twelve,
            "year" => Slot::Year,
            _ => return None,
        })
    }
}

#[derive(Debug)]
enum Piece {
    Text(&'static str),
    Slot(Slot),
}

type Template = Vec<Piece>;

fn parse_template(src: &'static str) -> Template {
    let mut pieces = Vec::new();
    let mut rest = src;
    while let Some(open) = rest.find('{') {
        let close = open
            + rest[open..]
                .find('}')
                .unwrap_or_else(|| panic!("unclosed slot in template {src:?}"));
        if open > 0 {
            pieces.push(Piece::Text(&rest[..open]));
        }
        let slot =
            Slot::parse(&rest[open + 1..close]).unwrap_or_else(|| panic!("unknown slot in template {src:?}"));
        pieces.push(Piece::Slot(slot));
        rest = &rest[close + 1..];
    }
    if !rest.is_empty() {
        pieces.push(Piece::Text(rest));
    }
    pieces
}

/// The templates of one language, by kind.
#[derive(Debug)]
struct Language {
    personal: Vec<Template>,
    lookalike: Vec<Template>,
    plain: Vec<Template>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lang {
    Ja,
    En,
    Th,
    Zh,
    Id,
}

fn languages() -> &'static [Language; 5] {
    static LANGS: OnceLock<[Language; 5]> = OnceLock::new();
    LANGS.get_or_init(|| {
        let build = |(p, l, c): (&[&'static str], &[&'static str], &[&'static str])| Language {
            personal: p.iter().map(|s| parse_template(s)).collect(),
            lookalike: l.iter().map(|s| parse_template(s)).collect(),
            plain: c.iter().map(|s| parse_template(s)).collect(),
        };
        [
            build(crate::templates::JA),
            build(crate::templates::EN),
            build(crate::templates::TH),
            build(crate::templates::ZH),
            build(crate::templates::ID),
        ]
    })
}

/// The body of one message from a sender of `country`: about 15 % carry personal data,
/// about a quarter carry look-alikes, the rest are plain chat.
pub(crate) fn message(rng: &mut Rng, country: Country) -> Body {
    let lang = language(rng, country);
    let language = &languages()[lang as usize];
    let templates = match rng.weighted(&[15, 25, 60]) {
        0 => &language.personal,
        1 => &language.lookalike,
        _ => &language.plain,
    };
    let template = rng.pick(templates);
    let mut body = Body::default();
    for piece in template {
        match piece {
            Piece::Text(s) => body.push(s),
            Piece::Slot(slot) => fill(rng, &mut body, *slot, country, lang),
        }
    }
    body
}

/// The language a sender of `country` writes a message in: mostly the country's own, else
/// English.
pub(crate) fn language(rng: &mut Rng, country: Country) -> Lang {
    match (country, rng.below(100)) {
        (Country::Jp, x) if x < 88 => Lang::Ja,
        (Country::Th, x) if x < 70 => Lang::Th,
        (Country::Tw, x) if x < 75 => Lang::Zh,
        (Country::Id, x) if x < 75 => Lang::Id,
        _ => Lang::En,
    }
}

fn fill(rng: &mut Rng, body: &mut Body, slot: Slot, country: Country, lang: Lang) {
    let mut s = String::new();
    let pii = match slot {
        Slot::Phone => {
            s = country::phone(rng, country, PhoneStyle::Chat);
            Some(PiiType::Phone)
        }
        Slot::Mobile => {
            // A mobile number: draw until the country's mobile prefix comes up (a few tries at most).
            for _ in 0..16 {
                s = country::phone(rng, country, PhoneStyle::Chat);
                if is_mobile(&s, country) {
                    break;
                }
            }
            Some(PiiType::Phone)
        }
        Slot::Email => {
            let name = person::name(rng, country);
            s = person::email(rng, country, &name);
            Some(PiiType::Email)
        }
        Slot::PostalAddress => {
            // 〒150-0043 東京都渋谷区… : two spans, the 〒 mark outside both.
            let a = country::address(rng, country);
            if country == Country::Jp {
                body.push("〒");
            }
            body.push_pii(PiiType::PostalCode, &a.postal_code);
            body.push(" ");
            body.push_pii(PiiType::Address, &a.address);
            return;
        }
        Slot::Address => {
            s = country::address(rng, country).address;
            Some(PiiType::Address)
        }
        Slot::Card => {
            let grouped = rng.percent(70);
            s = person::card_number(rng, grouped);
            Some(PiiType::CreditCard)
        }
        Slot::MyNumber => {
            let n = person::my_number(rng);
            s = if rng.percent(30) {
                format!("{} {} {}", &n[..4], &n[4..8], &n[8..])
            } else {
                n
            };
            Some(PiiType::MyNumber)
        }
        Slot::Friend => {
            s = match lang {
                Lang::Ja | Lang::En => person::name(rng, Country::Jp).family.to_string(),
                _ => person::name(rng, country).given.to_string(),
            };
            Some(PiiType::Person)
        }
        Slot::FullName => {
            let name = person::name(rng, if lang == Lang::Ja { Country::Jp } else { country });
            s = if lang == Lang::En {
                format!(
                    "{} {}",
                    capitalise(name.given_latin),
                    capitalise(name.family_latin)
                )
            } else if lang == Lang::Ja && rng.percent(50) {
                name.full.replace(' ', "")
            } else {
                name.full
            };
            Some(PiiType::Person)
        }
        Slot::Dob => {
            let d = time::days(rng.range(1950, 2010) as i32, 1, 1) + rng.below(365) as i32;
            let (y, m, dd) = time::civil(d);
            s = match (lang, rng.below(2)) {
                (Lang::Ja | Lang::Zh, 0) => format!("{y}年{m}月{dd}日"),
                (Lang::En, 0) => format!("{} {dd}, {y}", MONTHS[m as usize - 1]),
                _ => format!("{y}/{m:02}/{dd:02}"),
            };
            Some(PiiType::DateOfBirth)
        }
        Slot::Ip => {
            s = if rng.percent(80) {
                format!(
                    "{}.{}.{}.{}",
                    rng.pick(&[203, 198, 61, 126, 210, 118]),
                    rng.range(0, 255),
                    rng.range(0, 255),
                    rng.range(1, 254)
                )
            } else {
                format!(
                    "2001:db8:{:x}:{:x}::{:x}",
                    rng.below(0xffff),
                    rng.below(0xffff),
                    rng.range(1, 0xffff)
                )
            };
            Some(PiiType::IpAddress)
        }
        Slot::Iban => {
            s = iban(rng);
            Some(PiiType::Iban)
        }
        Slot::Passport => {
            s = format!("{}{}", rng.pick(&["TK", "TR", "TZ", "MU", "RE"]), {
                let mut d = String::new();
                rng.digits(&mut d, 7);
                d
            });
            Some(PiiType::Passport)
        }
        Slot::License => {
            rng.digits(&mut s, 12);
            Some(PiiType::DriverLicense)
        }
        Slot::Account => {
            rng.digits(&mut s, 7);
            Some(PiiType::BankAccount)
        }
        Slot::CorporateNumber => {
            s = corporate_number(rng);
            Some(PiiType::CorporateNumber)
        }
        Slot::Order => {
            s = match rng.below(3) {
                0 => format!(
                    "{}-{}-{}",
                    rng.range(100, 999),
                    rng.range(1_000_000, 9_999_999),
                    rng.range(1_000_000, 9_999_999)
                ),
                1 => format!("#{}", rng.range(100_000, 99_999_999)),
                _ => format!("{}-{}", rng.range(1000, 9999), rng.range(1000, 9999)),
            };
            None
        }
        Slot::Price => {
            s = match lang {
                Lang::Ja => thousands(rng.range(1, 300) * 100),
                _ => thousands(rng.range(10, 5000)),
            };
            None
        }
        Slot::EventDate => {
            s = match lang {
                Lang::Ja | Lang::Zh => format!("{}月{}日", rng.range(1, 12), rng.range(1, 28)),
                _ => format!("{}/{}", rng.range(1, 12), rng.range(1, 28)),
            };
            None
        }
        Slot::Time => {
            s = format!("{}:{:02}", rng.range(7, 23), rng.pick(&[0, 15, 30, 45]));
            None
        }
        Slot::Version => {
            s = format!("{}.{}.{}", rng.range(1, 17), rng.range(0, 20), rng.range(0, 9));
            None
        }
        Slot::Room => {
            s = rng.range(101, 1210).to_string();
            None
        }
        Slot::Coupon => {
            const ALNUM: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
            s = (0..8).map(|_| char::from(*rng.pick(ALNUM))).collect();
            None
        }
        Slot::Tracking => {
            s = format!(
                "{}-{}-{}",
                rng.range(1000, 9999),
                rng.range(1000, 9999),
                rng.range(1000, 9999)
            );
            None
        }
        Slot::Percent => {
            s = rng.range(1, 99).to_string();
            None
        }
        Slot::Twelve => {
            rng.digits(&mut s, 12);
            None
        }
        Slot::Year => {
            s = rng.range(2019, 2027).to_string();
            None
        }
    };
    match pii {
        Some(t) => body.push_pii(t, &s),
        None => body.push(&s),
    }
}

/// Whether a generated phone number is a mobile number of the country (by its leading digits,
/// with or without the country code).
fn is_mobile(phone: &str, country: Country) -> bool {
    let digits: String = phone
        .chars()
        .filter_map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32),
            '0'..='9' => Some(c),
            _ => None,
        })
        .collect();
    let prefixes: &[&str] = match country {
        Country::Jp => &["070", "080", "090", "8170", "8180", "8190"],
        Country::Th => &["06", "08", "09", "666", "668", "669"],
        Country::Tw => &["09", "8869"],
        Country::Id => &["08", "628"],
    };
    prefixes.iter().any(|p| digits.starts_with(p))
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// A German IBAN (22 characters) with valid mod-97 check digits, grouped by four.
///
/// SPEC: ISO 13616-1 (IBAN), check digits = 98 − (BBAN ‖ "DE00" as digits mod 97).
fn iban(rng: &mut Rng) -> String {
    let mut bban = String::new();
    rng.digits(&mut bban, 18);
    // "DE" → 13 14, then "00".
    let numeric = format!("{bban}131400");
    let rem = numeric
        .bytes()
        .fold(0u32, |acc, b| (acc * 10 + u32::from(b - b'0')) % 97);
    let iban = format!("DE{:02}{bban}", 98 - rem);
    if rng.percent(50) {
        iban
    } else {
        iban.as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// A Japanese corporate number (法人番号): a check digit followed by twelve digits.
///
/// SPEC: 法人番号の指定等に関する省令 第二条: check = 9 − (Σ Pn·Qn mod 9), Pn the n-th of the
/// twelve digits from the right, Qn = 1 for odd n and 2 for even n.
fn corporate_number(rng: &mut Rng) -> String {
    let mut twelve = String::new();
    rng.digits(&mut twelve, 12);
    let sum: u32 = twelve
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 1 } else { 2 })
        .sum();
    format!("{}{twelve}", 9 - sum % 9)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_parses() {
        for lang in languages() {
            assert!(!lang.personal.is_empty() && !lang.lookalike.is_empty() && !lang.plain.is_empty());
            for t in &lang.personal {
                assert!(
                    t.iter()
                        .any(|p| matches!(p, Piece::Slot(s) if (*s as u8) < Slot::Order as u8)),
                    "{t:?}"
                );
            }
        }
    }

    #[test]
    fn labels_slice_the_body_to_the_value() {
        let mut rng = Rng::new(5);
        let mut labelled = 0;
        for i in 0..5000 {
            let body = message(
                &mut rng,
                [Country::Jp, Country::Th, Country::Tw, Country::Id][i % 4],
            );
            let chars: Vec<char> = body.text.chars().collect();
            for l in &body.labels {
                labelled += 1;
                assert!(l.start < l.end && l.end <= chars.len());
                let span: String = chars[l.start..l.end].iter().collect();
                assert_eq!(span, span.trim(), "spans carry no surrounding spaces: {span:?}");
            }
        }
        assert!(labelled > 500);
    }

    #[test]
    fn iban_and_corporate_number_check_digits() {
        let mut rng = Rng::new(9);
        for _ in 0..200 {
            let iban: String = iban(&mut rng).replace(' ', "");
            let rearranged = format!("{}{}", &iban[4..], "1314") + &iban[2..4];
            assert_eq!(
                rearranged
                    .bytes()
                    .fold(0u32, |a, b| (a * 10 + u32::from(b - b'0')) % 97),
                1
            );
            let corp = corporate_number(&mut rng);
            let d = kamei_core::check_digit::digits_of(&corp);
            let sum: u32 = d[1..]
                .iter()
                .rev()
                .enumerate()
                .map(|(i, x)| u32::from(*x) * (1 + (i as u32 % 2)))
                .sum();
            assert_eq!(u32::from(d[0]), 9 - sum % 9, "{corp}");
        }
    }
}
