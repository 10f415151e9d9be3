//! One user of the demo world: every attribute is a pure function of (seed, user id).

use crate::country::{self, Country, PhoneStyle};
use crate::rng::Rng;
use crate::time;
use kamei_core::check_digit::{luhn_check_digit, my_number_check_digit};

const USER_STREAM: u64 = 0x05E2;

/// A person's name in the forms the tables and messages need.
#[derive(Debug, Clone)]
pub(crate) struct Name {
    /// Family name as written in the person's script (山田, 陳, …).
    pub family: &'static str,
    /// Given name as written (太郎, 怡君, Budi, …).
    pub given: &'static str,
    /// The full name as the country writes it.
    pub full: String,
    /// Katakana reading, for Japanese names only.
    pub kana: Option<String>,
    /// Romanised given and family name, lower case, for handles and e-mail addresses.
    pub given_latin: &'static str,
    pub family_latin: &'static str,
    pub female: bool,
}

pub(crate) fn name(rng: &mut Rng, country: Country) -> Name {
    let female = rng.percent(51);
    match country {
        Country::Jp => {
            let data = crate::refdata::get();
            let family = &data.surnames[rng.zipf_index(data.surnames.len())];
            let givens = if female { &data.female } else { &data.male };
            let given = rng.pick(givens);
            Name {
                family: family.kanji,
                given: given.kanji,
                full: format!("{} {}", family.kanji, given.kanji),
                kana: Some(format!("{} {}", family.katakana, given.katakana)),
                given_latin: given.romaji,
                family_latin: family.romaji,
                female,
            }
        }
        Country::Th => {
            let (family, family_latin) = *rng.pick(&TH_SURNAMES);
            let (given, given_latin) = *rng.pick(if female { &TH_FEMALE } else { &TH_MALE });
            Name {
                family,
                given,
                full: format!("{given} {family}"),
                kana: None,
                given_latin,
                family_latin,
                female,
            }
        }
        Country::Tw => {
            let (family, family_latin) = *rng.pick(&TW_SURNAMES);
            let (given, given_latin) = *rng.pick(if female { &TW_FEMALE } else { &TW_MALE });
            Name {
                family,
                given,
                full: format!("{family}{given}"),
                kana: None,
                given_latin,
                family_latin,
                female,
            }
        }
        Country::Id => {
            let (given, given_latin) = *rng.pick(if female { &ID_FEMALE } else { &ID_MALE });
            let (family, family_latin) = *rng.pick(&ID_SURNAMES);
            Name {
                family,
                given,
                full: format!("{given} {family}"),
                kana: None,
                given_latin,
                family_latin,
                female,
            }
        }
    }
}

/// An e-mail address built from a name, on a domain people of the country use.
pub(crate) fn email(rng: &mut Rng, country: Country, name: &Name) -> String {
    let year = rng.range(70, 99);
    let local = match rng.below(5) {
        0 => format!("{}.{}", name.given_latin, name.family_latin),
        1 => format!("{}{year}", name.given_latin),
        2 => format!(
            "{}_{}{}",
            name.family_latin,
            &name.given_latin[..1],
            rng.range(1, 999)
        ),
        3 => format!(
            "{}-{}",
            name.given_latin,
            rng.pick(&["love", "happy", "smile", "cat", "sky", "jp", "0w0"])
        ),
        _ => format!(
            "{}.{}{}",
            &name.given_latin[..1],
            name.family_latin,
            rng.range(1, 99)
        ),
    };
    let domain = match country {
        Country::Jp => JP_DOMAINS[rng.weighted(&JP_DOMAIN_WEIGHTS)],
        Country::Th => *rng.pick(&["gmail.com", "hotmail.com", "yahoo.com", "outlook.co.th"]),
        Country::Tw => *rng.pick(&["gmail.com", "yahoo.com.tw", "hotmail.com", "msa.hinet.net"]),
        Country::Id => *rng.pick(&["gmail.com", "yahoo.co.id", "yahoo.com", "outlook.com"]),
    };
    format!("{local}@{domain}")
}

const JP_DOMAINS: [&str; 10] = [
    "gmail.com",
    "yahoo.co.jp",
    "docomo.ne.jp",
    "ezweb.ne.jp",
    "softbank.ne.jp",
    "icloud.com",
    "outlook.jp",
    "i.softbank.jp",
    "au.com",
    "nifty.com",
];
const JP_DOMAIN_WEIGHTS: [u32; 10] = [30, 20, 12, 6, 6, 12, 5, 4, 3, 2];

/// A LINE ID: lower-case letters, digits, dots, underscores and hyphens, up to 20 characters.
pub(crate) fn line_id(rng: &mut Rng, name: &Name) -> String {
    let mut id = match rng.below(4) {
        0 => format!("{}_{}", name.given_latin, rng.range(1, 9999)),
        1 => format!("{}.{}", name.given_latin, name.family_latin),
        2 => format!("{}{}", name.family_latin, rng.range(10, 99)),
        _ => format!(
            "{}-{}",
            &name.given_latin[..name.given_latin.len().min(4)],
            rng.range(100, 999)
        ),
    };
    id.truncate(20);
    id
}

/// A nickname shown to friends.
fn display_name(rng: &mut Rng, country: Country, name: &Name) -> String {
    let deco = ["", "", "", "🍀", "☆", "🐱", "♪", "🌸"];
    match (country, rng.below(4)) {
        (Country::Jp, 0) => name.given.to_string(),
        (Country::Jp, 1) => {
            let kana = name.kana.as_deref().unwrap_or("");
            let given_kana = kana.split(' ').nth(1).unwrap_or(kana);
            format!("{}{}", katakana_to_hiragana(given_kana), rng.pick(&deco))
        }
        (Country::Jp, 2) => format!("{}{}", capitalise(name.given_latin), rng.pick(&deco)),
        (Country::Jp, _) => format!("{}{}", name.family, rng.pick(&["", "です", "@仕事用"])),
        (_, 0) => capitalise(name.given_latin),
        (_, 1) => format!("{}{}", name.given, rng.pick(&deco)),
        (_, _) => format!(
            "{} {}",
            capitalise(name.given_latin),
            &name.family_latin[..1].to_uppercase()
        ),
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

fn katakana_to_hiragana(s: &str) -> String {
    s.chars()
        .map(|c| {
            if ('ァ'..='ヶ').contains(&c) {
                char::from_u32(c as u32 - 0x60).unwrap_or(c)
            } else {
                c
            }
        })
        .collect()
}

/// A card number in a test range (Visa 4111…, Mastercard 5555…, JCB 3530 11…, Amex 3782…)
/// with a valid Luhn digit, written in 4-digit groups with spaces, hyphens or none.
pub(crate) fn card_number(rng: &mut Rng, grouped: bool) -> String {
    let (prefix, len): (&[u8], usize) = *rng.pick(&[
        (&[4, 1, 1, 1][..], 16),
        (&[5, 5, 5, 5][..], 16),
        (&[3, 5, 3, 0, 1, 1][..], 16),
        (&[3, 7, 8, 2][..], 15),
    ]);
    let mut digits = prefix.to_vec();
    while digits.len() < len - 1 {
        digits.push(rng.below(10) as u8);
    }
    digits.push(luhn_check_digit(&digits));
    let plain: String = digits.iter().map(|d| char::from(b'0' + d)).collect();
    if !grouped {
        return plain;
    }
    let sep = *rng.pick(&[" ", "-", " "]);
    let groups: &[usize] = if len == 15 { &[4, 6, 5] } else { &[4, 4, 4, 4] };
    let mut out = String::new();
    let mut at = 0;
    for (i, g) in groups.iter().enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        out.push_str(&plain[at..at + g]);
        at += g;
    }
    out
}

/// A My Number: eleven random digits and the check digit.
pub(crate) fn my_number(rng: &mut Rng) -> String {
    let mut eleven = [0u8; 11];
    for d in &mut eleven {
        *d = rng.below(10) as u8;
    }
    let check = my_number_check_digit(&eleven);
    eleven
        .iter()
        .chain([check].iter())
        .map(|d| char::from(b'0' + d))
        .collect()
}

/// One row of the users table.
#[derive(Debug)]
pub(crate) struct User {
    pub user_id: i64,
    pub line_id: String,
    pub display_name: String,
    pub name: Name,
    pub phone: String,
    pub email: String,
    /// Days since 1970-01-01.
    pub birth_date: i32,
    pub gender: &'static str,
    pub postal_code: String,
    pub address: String,
    pub country: Country,
    pub my_number: Option<String>,
    /// Microseconds since 1970-01-01T00:00:00.
    pub created_at: i64,
}

impl User {
    pub(crate) fn generate(seed: u64, user_id: u64) -> User {
        let country = Country::of_user(seed, user_id);
        let mut rng = Rng::for_row(seed, USER_STREAM, user_id);
        let name = name(&mut rng, country);
        let address = country::address(&mut rng, country);
        // Ages 13 to 80, most users between 18 and 45.
        let age = [
            rng.range(13, 17),
            rng.range(18, 45),
            rng.range(18, 45),
            rng.range(46, 80),
        ][rng.weighted(&[8, 40, 30, 22])];
        let birth_date = time::days(2026 - age as i32, 1, 1) + rng.below(365) as i32;
        let created_at = time::micros_between(&mut rng, time::days(2011, 6, 23), time::days(2026, 10, 31));
        User {
            user_id: user_id as i64,
            line_id: line_id(&mut rng, &name),
            display_name: display_name(&mut rng, country, &name),
            phone: country::phone(&mut rng, country, PhoneStyle::Profile),
            email: email(&mut rng, country, &name),
            birth_date,
            gender: match (rng.percent(3), name.female) {
                (true, _) => "unspecified",
                (false, true) => "female",
                (false, false) => "male",
            },
            postal_code: address.postal_code,
            address: address.address,
            my_number: (country == Country::Jp && rng.percent(20)).then(|| my_number(&mut rng)),
            country,
            created_at,
            name,
        }
    }
}

const TH_SURNAMES: [(&str, &str); 10] = [
    ("ใจดี", "jaidee"),
    ("สุขสวัสดิ์", "suksawat"),
    ("ศรีสุข", "srisuk"),
    ("วงศ์สวัสดิ์", "wongsawat"),
    ("ทองดี", "thongdee"),
    ("แสงทอง", "saengthong"),
    ("บุญมา", "boonma"),
    ("รัตนพันธ์", "rattanaphan"),
    ("พึ่งบุญ", "phuengboon"),
    ("มั่นคง", "mankong"),
];
const TH_MALE: [(&str, &str); 8] = [
    ("สมชาย", "somchai"),
    ("ประเสริฐ", "prasert"),
    ("วิชัย", "wichai"),
    ("อนุชา", "anucha"),
    ("ธนากร", "thanakorn"),
    ("กิตติ", "kitti"),
    ("ณัฐพล", "nattapon"),
    ("สุรชัย", "surachai"),
];
const TH_FEMALE: [(&str, &str); 8] = [
    ("สมหญิง", "somying"),
    ("วันเพ็ญ", "wanphen"),
    ("ปิยะนุช", "piyanuch"),
    ("กัญญา", "kanya"),
    ("สุดารัตน์", "sudarat"),
    ("นภัสสร", "napatsorn"),
    ("อรทัย", "orathai"),
    ("พิมพ์ชนก", "pimchanok"),
];
const TW_SURNAMES: [(&str, &str); 10] = [
    ("陳", "chen"),
    ("林", "lin"),
    ("黃", "huang"),
    ("張", "chang"),
    ("李", "lee"),
    ("王", "wang"),
    ("吳", "wu"),
    ("劉", "liu"),
    ("蔡", "tsai"),
    ("楊", "yang"),
];
const TW_MALE: [(&str, &str); 8] = [
    ("志明", "chihming"),
    ("家豪", "chiahao"),
    ("俊傑", "chunchieh"),
    ("宗翰", "tsunghan"),
    ("冠宇", "kuanyu"),
    ("建宏", "chienhung"),
    ("承恩", "chengen"),
    ("柏翰", "pohan"),
];
const TW_FEMALE: [(&str, &str); 8] = [
    ("怡君", "yichun"),
    ("淑芬", "shufen"),
    ("雅婷", "yating"),
    ("美玲", "meiling"),
    ("詩涵", "shihhan"),
    ("佳穎", "chiaying"),
    ("欣怡", "hsinyi"),
    ("宜蓁", "yichen"),
];
const ID_SURNAMES: [(&str, &str); 10] = [
    ("Santoso", "santoso"),
    ("Wijaya", "wijaya"),
    ("Pratama", "pratama"),
    ("Saputra", "saputra"),
    ("Hidayat", "hidayat"),
    ("Lestari", "lestari"),
    ("Kusuma", "kusuma"),
    ("Nugroho", "nugroho"),
    ("Siregar", "siregar"),
    ("Wibowo", "wibowo"),
];
const ID_MALE: [(&str, &str); 8] = [
    ("Budi", "budi"),
    ("Agus", "agus"),
    ("Andi", "andi"),
    ("Rizky", "rizky"),
    ("Dimas", "dimas"),
    ("Eko", "eko"),
    ("Fajar", "fajar"),
    ("Hendra", "hendra"),
];
const ID_FEMALE: [(&str, &str); 8] = [
    ("Siti", "siti"),
    ("Dewi", "dewi"),
    ("Rina", "rina"),
    ("Putri", "putri"),
    ("Ayu", "ayu"),
    ("Indah", "indah"),
    ("Nur", "nur"),
    ("Fitri", "fitri"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use kamei_core::check_digit::{digits_of, luhn_valid, my_number_valid};

    #[test]
    fn generated_identifiers_carry_valid_check_digits() {
        let mut rng = Rng::new(11);
        for _ in 0..1000 {
            assert!(my_number_valid(&digits_of(&my_number(&mut rng))));
            let card = card_number(&mut rng, true);
            assert!(luhn_valid(&digits_of(&card)), "{card}");
        }
    }

    #[test]
    fn japanese_users_have_kanji_names_with_katakana_readings() {
        let jp = (1..200)
            .map(|id| User::generate(7, id))
            .filter(|u| u.country == Country::Jp)
            .take(50);
        for u in jp {
            let kana = u.name.kana.as_deref().expect("JP users have a reading");
            assert!(
                kana.chars()
                    .all(|c| c == ' ' || ('ァ'..='ヺ').contains(&c) || c == 'ー'),
                "{kana}"
            );
            assert!(
                u.name
                    .full
                    .chars()
                    .any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c) || ('ぁ'..='ヺ').contains(&c))
            );
        }
    }

    #[test]
    fn about_a_fifth_of_japanese_users_have_a_my_number() {
        let users: Vec<_> = (1..=5000).map(|id| User::generate(7, id)).collect();
        let jp = users.iter().filter(|u| u.country == Country::Jp).count();
        let with = users.iter().filter(|u| u.my_number.is_some()).count();
        assert!(
            users
                .iter()
                .all(|u| u.my_number.is_none() || u.country == Country::Jp)
        );
        let share = with as f64 / jp as f64;
        assert!((0.17..0.23).contains(&share), "{share}");
    }
}
