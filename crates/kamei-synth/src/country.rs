//! The four countries of the demo world and the country-specific formats of their data.

use crate::rng::{Rng, mix};

/// A data subject's country (their jurisdiction in the demo world).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Country {
    Jp,
    Th,
    Tw,
    Id,
}

/// The mix of DESIGN.md / issue 2: JP 70 %, TH 12 %, TW 10 %, ID 8 %.
const MIX: [(Country, u64); 4] = [
    (Country::Jp, 70),
    (Country::Th, 12),
    (Country::Tw, 10),
    (Country::Id, 8),
];

/// Stream name for a user's country: shared by every table that needs a user's country, so
/// that `messages.sender_country` always equals the sender's `users.country`.
const COUNTRY_STREAM: u64 = 0xC0;

impl Country {
    /// The country of a user: a pure function of (seed, user id), so any table can know it
    /// without looking the user up.
    pub(crate) fn of_user(seed: u64, user_id: u64) -> Country {
        let mut x = mix(seed, COUNTRY_STREAM, user_id) % 100;
        for (country, share) in MIX {
            if x < share {
                return country;
            }
            x -= share;
        }
        Country::Id
    }

    pub(crate) const fn code(self) -> &'static str {
        match self {
            Country::Jp => "JP",
            Country::Th => "TH",
            Country::Tw => "TW",
            Country::Id => "ID",
        }
    }

    /// The E.164 country calling code, without `+`.
    pub(crate) const fn calling_code(self) -> &'static str {
        match self {
            Country::Jp => "81",
            Country::Th => "66",
            Country::Tw => "886",
            Country::Id => "62",
        }
    }

    pub(crate) const fn currency(self) -> &'static str {
        match self {
            Country::Jp => "JPY",
            Country::Th => "THB",
            Country::Tw => "TWD",
            Country::Id => "IDR",
        }
    }
}

/// Characters people put between phone-number groups besides the ASCII hyphen: the long
/// vowel mark an IME gives for "-", full-width hyphen-minus, hyphen, en dash.
const DASHES: [&str; 4] = ["ー", "－", "‐", "–"];

/// How much variety a generated phone number may show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PhoneStyle {
    /// As entered in a profile form: mostly hyphenated, sometimes bare digits.
    Profile,
    /// As typed in chat: also spaces, +country forms, full-width digits, other dashes, brackets.
    Chat,
}

/// A phone number of the country, in one of the forms people write.
pub(crate) fn phone(rng: &mut Rng, country: Country, style: PhoneStyle) -> String {
    let groups = phone_groups(rng, country);
    let cc = country.calling_code();
    let toll_free = groups[0].starts_with("0120") || groups[0].starts_with("0800");
    let variant = match style {
        PhoneStyle::Profile => rng.weighted(&[80, 15, 5, 0, 0, 0, 0]),
        PhoneStyle::Chat => rng.weighted(&[45, 15, 8, 10, 8, 7, 7]),
    };
    let international = |sep: &str| {
        // +81 90-1234-5678: the trunk prefix 0 is dropped after the country code.
        let mut g = groups.clone();
        g[0] = g[0][1..].to_string();
        format!("+{cc} {}", g.join(sep))
    };
    match variant {
        0 => groups.join("-"),
        1 => groups.concat(),
        2 if !toll_free => international("-"),
        3 => groups.join(" "),
        4 => to_full_width(&groups.join("-")),
        5 => groups.join(*rng.pick(&DASHES)),
        6 if country == Country::Jp => format!("{}({}){}", groups[0], groups[1], groups[2]),
        _ => groups.join("-"),
    }
}

/// The digit groups of a national phone number of the country (`090`, `1234`, `5678`), the
/// first with its trunk prefix 0.
pub(crate) fn phone_groups(rng: &mut Rng, country: Country) -> Vec<String> {
    match country {
        Country::Jp => jp_phone_groups(rng),
        Country::Th => {
            if rng.percent(85) {
                vec![
                    format!("0{}", rng.pick(&["6", "8", "9"])) + &rng.range(0, 9).to_string(),
                    num(rng, 3),
                    num(rng, 4),
                ]
            } else {
                vec!["02".into(), num(rng, 3), num(rng, 4)]
            }
        }
        Country::Tw => {
            if rng.percent(85) {
                vec![format!("09{}", num(rng, 2)), num(rng, 3), num(rng, 3)]
            } else {
                vec!["02".into(), format!("2{}", num(rng, 3)), num(rng, 4)]
            }
        }
        Country::Id => {
            let operator = rng.pick(&[
                "11", "12", "13", "21", "22", "52", "53", "57", "77", "78", "81", "95",
            ]);
            let last = rng.range(3, 4) as usize;
            vec![format!("08{operator}"), num(rng, 4), num(rng, last)]
        }
    }
}

fn jp_phone_groups(rng: &mut Rng) -> Vec<String> {
    match rng.weighted(&[70, 10, 8, 5, 4, 3]) {
        0 => vec![
            rng.pick(&["070", "080", "090"]).to_string(),
            num(rng, 4),
            num(rng, 4),
        ],
        1 => vec!["03".into(), num(rng, 4), num(rng, 4)],
        2 => vec!["06".into(), num(rng, 4), num(rng, 4)],
        3 => vec![
            rng.pick(&["011", "022", "045", "052", "075", "078", "082", "092", "098"])
                .to_string(),
            num(rng, 3),
            num(rng, 4),
        ],
        4 => vec!["050".into(), num(rng, 4), num(rng, 4)],
        _ => vec![rng.pick(&["0120", "0800"]).to_string(), num(rng, 3), num(rng, 3)],
    }
}

/// `n` random digits; the first is not 0 so groups look like real exchange numbers.
fn num(rng: &mut Rng, n: usize) -> String {
    let mut s = String::with_capacity(n);
    s.push(char::from(b'1' + rng.below(9) as u8));
    rng.digits(&mut s, n - 1);
    s
}

/// ASCII digits and hyphens to their full-width forms (０-９, －), as Japanese IMEs type them.
pub(crate) fn to_full_width(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '0'..='9' => char::from_u32(c as u32 - '0' as u32 + '０' as u32).unwrap_or(c),
            '-' => '－',
            _ => c,
        })
        .collect()
}

/// An address and its postal code in the country's format.
pub(crate) struct Address {
    pub postal_code: String,
    pub address: String,
}

pub(crate) fn address(rng: &mut Rng, country: Country) -> Address {
    match country {
        Country::Jp => jp_address(rng),
        Country::Th => {
            let (area, postal) = *rng.pick(&TH_AREAS);
            let house = format!("{}/{}", rng.range(1, 999), rng.range(1, 99));
            let street = rng.pick(&TH_STREETS);
            Address {
                postal_code: postal.into(),
                address: format!("{house} {street} {area}"),
            }
        }
        Country::Tw => {
            let (city, postal, street) = *rng.pick(&TW_AREAS);
            let floor = if rng.percent(60) {
                format!("{}樓", rng.range(2, 15))
            } else {
                String::new()
            };
            Address {
                postal_code: postal.into(),
                address: format!("{city}{street}{}號{floor}", rng.range(1, 300)),
            }
        }
        Country::Id => {
            let (area, postal) = *rng.pick(&ID_AREAS);
            let street = rng.pick(&ID_STREETS);
            Address {
                postal_code: postal.into(),
                address: format!(
                    "{street} No. {}, RT {:03}/RW {:03}, {area}",
                    rng.range(1, 200),
                    rng.range(1, 15),
                    rng.range(1, 12)
                ),
            }
        }
    }
}

fn jp_address(rng: &mut Rng) -> Address {
    let data = crate::refdata::get();
    let prefecture = rng.weighted(&crate::refdata::PREFECTURE_POPULATION);
    let range = data.prefecture_ranges[prefecture].clone();
    let town = &data.towns[range.start + rng.below(range.len() as u64) as usize];
    let (chome, ban, go) = (rng.range(1, 6), rng.range(1, 30), rng.range(1, 25));
    let block = match (town.has_chome, rng.weighted(&[55, 30, 15])) {
        (true, 0) => format!("{chome}-{ban}-{go}"),
        (true, 1) => format!("{}丁目{ban}番{go}号", kanji_number(chome)),
        (true, _) => format!("{chome}丁目{ban}-{go}"),
        (false, 0) => format!("{}-{go}", rng.range(1, 3000)),
        (false, _) => format!("{}番地{go}", rng.range(1, 3000)),
    };
    let building = if rng.percent(40) {
        let name = rng.pick(&JP_BUILDINGS);
        format!(" {name}{}{:02}号室", rng.range(1, 12), rng.range(1, 12))
    } else {
        String::new()
    };
    Address {
        postal_code: format!("{}-{}", &town.postal_code[..3], &town.postal_code[3..]),
        address: format!("{}{}{}{block}{building}", town.prefecture, town.city, town.town),
    }
}

fn kanji_number(n: u64) -> &'static str {
    ["〇", "一", "二", "三", "四", "五", "六", "七", "八", "九"][n as usize % 10]
}

const JP_BUILDINGS: [&str; 10] = [
    "サンハイツ",
    "グランドメゾン",
    "コーポ桜",
    "パークハウス",
    "ライオンズマンション",
    "メゾン・ド・ソレイユ",
    "ハイム青葉",
    "シティタワー",
    "レジデンス",
    "フラット緑",
];
const TH_AREAS: [(&str, &str); 6] = [
    ("แขวงคลองตันเหนือ เขตวัฒนา กรุงเทพมหานคร", "10110"),
    ("แขวงสีลม เขตบางรัก กรุงเทพมหานคร", "10500"),
    ("ตำบลสุเทพ อำเภอเมืองเชียงใหม่ จังหวัดเชียงใหม่", "50200"),
    ("ตำบลตลาดใหญ่ อำเภอเมืองภูเก็ต จังหวัดภูเก็ต", "83000"),
    ("ตำบลในเมือง อำเภอเมืองขอนแก่น จังหวัดขอนแก่น", "40000"),
    ("ตำบลหนองปรือ อำเภอบางละมุง จังหวัดชลบุรี", "20150"),
];
const TH_STREETS: [&str; 5] = [
    "ซอยสุขุมวิท 31",
    "ถนนสีลม",
    "ถนนนิมมานเหมินท์",
    "ซอยรามคำแหง 24",
    "ถนนพระราม 4",
];
const TW_AREAS: [(&str, &str, &str); 6] = [
    ("臺北市大安區", "106", "忠孝東路四段"),
    ("臺北市信義區", "110", "松仁路"),
    ("新北市板橋區", "220", "文化路一段"),
    ("臺中市西屯區", "407", "臺灣大道三段"),
    ("臺南市東區", "701", "大學路"),
    ("高雄市前鎮區", "806", "中山二路"),
];
const ID_AREAS: [(&str, &str); 6] = [
    ("Karet Semanggi, Setiabudi, Jakarta Selatan", "12930"),
    ("Menteng, Jakarta Pusat", "10310"),
    ("Cihapit, Bandung Wetan, Bandung", "40114"),
    ("Gubeng, Surabaya", "60281"),
    ("Dauh Puri Kauh, Denpasar Barat, Denpasar", "80113"),
    ("Petisah Tengah, Medan Petisah, Medan", "20112"),
];
const ID_STREETS: [&str; 5] = [
    "Jl. Jend. Sudirman",
    "Jl. Diponegoro",
    "Jl. Gatot Subroto",
    "Jl. Merdeka",
    "Jl. Melati",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn country_mix_follows_the_issue() {
        let n = 100_000;
        let mut counts = [0u32; 4];
        for id in 1..=n {
            counts[Country::of_user(7, id) as usize] += 1;
        }
        let pct = counts.map(|c| f64::from(c) * 100.0 / n as f64);
        for (got, want) in pct.iter().zip([70.0, 12.0, 10.0, 8.0]) {
            assert!((got - want).abs() < 0.6, "mix {pct:?}");
        }
    }

    #[test]
    fn full_width_maps_digits_and_hyphen() {
        assert_eq!(to_full_width("090-1234"), "０９０－１２３４");
    }

    #[test]
    fn jp_addresses_have_matching_postal_codes() {
        let data = crate::refdata::get();
        let mut rng = Rng::new(3);
        for _ in 0..200 {
            let a = address(&mut rng, Country::Jp);
            let code = a.postal_code.replace('-', "");
            let town = data
                .towns
                .iter()
                .find(|t| t.postal_code == code)
                .expect("postal code from the table");
            assert!(
                a.address
                    .starts_with(&format!("{}{}{}", town.prefecture, town.city, town.town))
            );
        }
    }
}
