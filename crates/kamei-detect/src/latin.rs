//! Person names written in Latin letters, found without a phrase that introduces them:
//! English first names with or without a surname ("ask Jenny Park", "— Daniel", "cc Priya"),
//! Japanese names in romaji in either order ("Yuki Tanabe", "Hasegawa Rie"), and Indonesian,
//! Thai and Chinese names as they are romanised ("Siti Rahmawati", "Nattapong Srisuk",
//! "Wang Mei-Ling").
//!
//! The structured pass of the detector already stops at every capital letter, so it asks here
//! there: the cost is a hash lookup per capitalised word, nothing per byte. The lists are the
//! US Census 1990 name frequencies (their head only) and gimei's Japanese names in Hepburn
//! romaji; a word alone counts only if it is a first name that is not also an ordinary word
//! ("May", "Will", "Austin"), and a word at the start of a sentence only with a surname after it.

use kamei_core::PiiType;

use crate::fx::WordMap;
use crate::names::{Found, lines};

const EN_GIVEN: &str = include_str!("../data/en_given_names.txt");
const EN_GIVEN_COMMON: &str = include_str!("../data/en_given_common.txt");
const EN_SURNAMES: &str = include_str!("../data/en_surnames.txt");
const ROMAJI_GIVEN: &str = include_str!("../data/romaji_given_names.txt");
const ROMAJI_SURNAMES: &str = include_str!("../data/romaji_surnames.txt");

/// Given names of Indonesia and Thailand (romanised) that chat in those countries uses most;
/// the census lists have none of them.
const ASIAN_GIVEN: &[&str] = &[
    "Agus",
    "Ahmad",
    "Andi",
    "Anisa",
    "Arief",
    "Ayu",
    "Bambang",
    "Bayu",
    "Budi",
    "Dedi",
    "Dewi",
    "Dian",
    "Dimas",
    "Eko",
    "Fajar",
    "Fitri",
    "Gilang",
    "Hendra",
    "Indah",
    "Indra",
    "Intan",
    "Joko",
    "Kartika",
    "Lestari",
    "Maya",
    "Muhammad",
    "Nur",
    "Putri",
    "Rahmat",
    "Ratna",
    "Reza",
    "Rina",
    "Rini",
    "Rizky",
    "Rudi",
    "Santi",
    "Sari",
    "Siti",
    "Sri",
    "Tri",
    "Wahyu",
    "Wati",
    "Wulan",
    "Yanti",
    "Yudi",
    "Yusuf",
    "Arthit",
    "Chai",
    "Kanya",
    "Kittipong",
    "Malee",
    "Nattapong",
    "Niran",
    "Pim",
    "Prasert",
    "Somchai",
    "Somsak",
    "Sompong",
    "Sunisa",
    "Supaporn",
    "Thanakorn",
    "Wichai",
    "Anong",
    "Chaiya",
    "Kamon",
    "Siriporn",
    "Wanida",
];

/// Given names popular since the census lists were made (US, UK and South Asian), which
/// young users carry.
const MODERN_GIVEN: &[&str] = &[
    "Aiden", "Aisha", "Ali", "Aliyah", "Ananya", "Arjun", "Aria", "Ava", "Brayden", "Caden", "Chloe",
    "Elijah", "Emma", "Ethan", "Harper", "Isla", "Jayden", "Kayden", "Liam", "Logan", "Mason", "Mia",
    "Mohammed", "Muhammad", "Noah", "Omar", "Priya", "Rahul", "Raj", "Riya", "Rohan", "Zara", "Zoe", "Zoey",
];

/// Lower-case words after a first name at the start of a sentence that make it a person
/// ("Grace said …").
const VERBS_AFTER_NAME: &[&str] = &[
    "said", "says", "told", "asked", "called", "texted", "sent", "wants", "is", "was", "has", "had", "will",
    "can", "got", "lives", "works", "just", "and",
];

/// Surnames of Chinese romanisation, for the surname-first order with a hyphenated given name
/// ("Wang Mei-Ling", "Chen Yi-Ting").
const CHINESE_SURNAMES: &[&str] = &[
    "Chang", "Chen", "Cheng", "Chou", "Chu", "Hsu", "Huang", "Hung", "Kao", "Ko", "Kuo", "Lai", "Lee", "Li",
    "Liang", "Liao", "Lin", "Liu", "Lu", "Pan", "Tsai", "Wang", "Wu", "Yang", "Yeh", "Zhang", "Zhao", "Zhou",
];

/// First names that are also ordinary words, months or places: never a name alone.
const AMBIGUOUS_GIVEN: &[&str] = &[
    "Amber",
    "Angel",
    "April",
    "Art",
    "Asia",
    "August",
    "Aurora",
    "Austin",
    "Bill",
    "Candy",
    "Carolina",
    "Chase",
    "Cherry",
    "Christian",
    "Cleveland",
    "Crystal",
    "Dale",
    "Dallas",
    "Dawn",
    "Denver",
    "Destiny",
    "Drew",
    "Florence",
    "Georgia",
    "Ginger",
    "Glen",
    "Grant",
    "Guy",
    "Holly",
    "Hope",
    "Hunter",
    "India",
    "Iris",
    "Israel",
    "Ivy",
    "Jade",
    "Jan",
    "Joy",
    "Jordan",
    "June",
    "Kenya",
    "Lane",
    "Lincoln",
    "Major",
    "Mark",
    "Max",
    "May",
    "Miles",
    "Misty",
    "My",
    "Pearl",
    "Precious",
    "Rocky",
    "Rose",
    "Ruby",
    "Rusty",
    "Santa",
    "Savannah",
    "Sierra",
    "Summer",
    "Sunny",
    "Sydney",
    "Van",
    "Victoria",
    "Violet",
    "Virginia",
    "Will",
    "Young",
];

/// Words that, after a capitalised pair, make it a place or a company rather than a person.
const NOT_AFTER_NAME: &[&str] = &[
    "Street",
    "St",
    "Avenue",
    "Ave",
    "Road",
    "Rd",
    "Lane",
    "Ln",
    "Drive",
    "Dr",
    "Close",
    "Mews",
    "Way",
    "Hall",
    "Station",
    "Hotel",
    "University",
    "College",
    "School",
    "Bank",
    "Inc",
    "Ltd",
    "Co",
    "Corp",
    "Pkwy",
    "Blvd",
    "Court",
    "Ct",
    "Square",
    "Place",
    "Center",
    "Centre",
];

/// Lower-case particles inside a name ("Pieter de Vries", "Ahmad bin Yusuf").
const PARTICLES: &[&str] = &[
    "de", "van", "der", "den", "da", "di", "von", "bin", "binti", "le", "la",
];

/// The lists a word is in, one bit each: a single lookup per capitalised word answers all.
#[derive(Debug, Clone, Copy, Default)]
struct Lists(u8);

impl Lists {
    const GIVEN: u8 = 1;
    /// A first name frequent enough to stand alone as a name.
    const GIVEN_ALONE: u8 = 1 << 1;
    const SURNAME: u8 = 1 << 2;
    const ROMAJI_GIVEN: u8 = 1 << 3;
    const ROMAJI_SURNAME: u8 = 1 << 4;
    /// Any of the name lists above.
    const NAME: u8 = (1 << 5) - 1;
    /// A first name that is also an ordinary word (`AMBIGUOUS_GIVEN`).
    const AMBIGUOUS: u8 = 1 << 5;
    /// A word that makes a place of the name before it (`NOT_AFTER_NAME`).
    const PLACE_WORD: u8 = 1 << 6;

    fn has(self, list: u8) -> bool {
        self.0 & list != 0
    }
}

#[derive(Debug)]
pub(crate) struct LatinNames {
    words: WordMap<Lists>,
}

/// A capitalised word ("Emily", "O'Neill", "Mei-Ling") starting at `at`: its end.
pub(crate) fn capitalised_word(text: &str, at: usize) -> Option<usize> {
    let b = text.as_bytes();
    if !b.get(at).is_some_and(u8::is_ascii_uppercase) {
        return None;
    }
    let mut e = at + 1;
    while e < b.len()
        && (b[e].is_ascii_alphabetic()
            || ((b[e] == b'\'' || b[e] == b'-') && b.get(e + 1).is_some_and(u8::is_ascii_alphabetic)))
    {
        e += 1;
    }
    // At least one lower-case letter: "IBAN" and "OK" are not names.
    (e - at >= 2 && b[at + 1..e].iter().any(u8::is_ascii_lowercase)).then_some(e)
}

/// Whether the word at `at` starts a sentence: the text's start, or after `.`, `!`, `?`, a
/// quote or a line break (blanks between allowed).
fn starts_sentence(b: &[u8], at: usize) -> bool {
    let before = b[..at].trim_ascii_end();
    before.is_empty() || matches!(before[before.len() - 1], b'.' | b'!' | b'?' | b'"' | b'\n')
}

impl LatinNames {
    pub(crate) fn new() -> LatinNames {
        let mut words: WordMap<Lists> = WordMap::default();
        let mut add = |list: u8, names: &mut dyn Iterator<Item = &'static str>| {
            for name in names {
                words.entry(name).or_default().0 |= list;
            }
        };
        let asian_and_modern = || ASIAN_GIVEN.iter().chain(MODERN_GIVEN).copied();
        add(Lists::GIVEN, &mut lines(EN_GIVEN).chain(asian_and_modern()));
        add(
            Lists::GIVEN_ALONE,
            &mut lines(EN_GIVEN_COMMON).chain(asian_and_modern()),
        );
        add(Lists::SURNAME, &mut lines(EN_SURNAMES));
        add(Lists::ROMAJI_GIVEN, &mut lines(ROMAJI_GIVEN));
        add(
            Lists::ROMAJI_SURNAME,
            &mut lines(ROMAJI_SURNAMES).chain(CHINESE_SURNAMES.iter().copied()),
        );
        add(Lists::AMBIGUOUS, &mut AMBIGUOUS_GIVEN.iter().copied());
        add(Lists::PLACE_WORD, &mut NOT_AFTER_NAME.iter().copied());
        LatinNames { words }
    }

    fn lists(&self, word: &str) -> Lists {
        self.words.get(word).copied().unwrap_or_default()
    }

    /// A name that starts at the capital letter at `at`, which starts a word.
    pub(crate) fn at(&self, text: &str, at: usize) -> Option<Found> {
        let b = text.as_bytes();
        let mut first_end = capitalised_word(text, at)?;
        // "Josh's number": the name without its possessive.
        if text[..first_end].ends_with("'s") {
            first_end -= 2;
        }
        let first = &text[at..first_end];
        let lists = self.lists(first);
        if !lists.has(Lists::NAME) {
            return None;
        }
        let ambiguous = lists.has(Lists::AMBIGUOUS);
        let first_given = lists.has(Lists::GIVEN);
        let first_romaji_given = lists.has(Lists::ROMAJI_GIVEN);
        let first_romaji_surname = lists.has(Lists::ROMAJI_SURNAME);
        // The next capitalised word, one space (and maybe a particle) away.
        let mut second = None;
        let mut at2 = first_end;
        if b.get(at2) == Some(&b' ') {
            at2 += 1;
            if let Some(p) = PARTICLES.iter().find(|p| {
                b.get(at2).is_some_and(u8::is_ascii_lowercase)
                    && b[at2..].starts_with(p.as_bytes())
                    && b.get(at2 + p.len()) == Some(&b' ')
            }) {
                at2 += p.len() + 1;
            }
            second = capitalised_word(text, at2).map(|e| (at2, e));
        }
        if let Some((s2, e2)) = second {
            let word = &text[s2..e2];
            // "Grace Hopper Street", "Lincoln Park": a place after all.
            let third_is_place = b.get(e2) == Some(&b' ')
                && capitalised_word(text, e2 + 1)
                    .is_some_and(|e3| self.lists(&text[e2 + 1..e3]).has(Lists::PLACE_WORD));
            let second = self.lists(word);
            if second.has(Lists::PLACE_WORD) || third_is_place {
                return None;
            }
            let surname = second.has(Lists::SURNAME) || second.has(Lists::ROMAJI_SURNAME);
            let score = if (first_given || first_romaji_given) && surname {
                0.85
            } else if first_romaji_surname && (second.has(Lists::ROMAJI_GIVEN) || word.contains('-')) {
                0.8
            } else if first_given && !ambiguous {
                0.7
            } else {
                0.0
            };
            if score > 0.0 {
                // A third name ("Siti Rahmawati Putri") when it is a name too.
                let end = match b.get(e2) {
                    Some(b' ') => capitalised_word(text, e2 + 1)
                        .filter(|&e3| {
                            let third = self.lists(&text[e2 + 1..e3]);
                            third.has(Lists::GIVEN) || third.has(Lists::SURNAME)
                        })
                        .unwrap_or(e2),
                    _ => e2,
                };
                return Some(Found {
                    pii_type: PiiType::Person,
                    start: at,
                    end,
                    score,
                });
            }
        }
        // A first name alone, not at the start of a sentence, where it is often another word,
        // unless a verb says it is someone ("Grace said").
        let verb_after = || {
            b.get(first_end) == Some(&b' ')
                && VERBS_AFTER_NAME.iter().any(|v| {
                    b[first_end + 1..].starts_with(v.as_bytes())
                        && b.get(first_end + 1 + v.len())
                            .is_none_or(|c| !c.is_ascii_alphabetic())
                })
        };
        let alone = lists.has(Lists::GIVEN_ALONE) && !ambiguous && (!starts_sentence(b, at) || verb_after());
        alone.then_some(Found {
            pii_type: PiiType::Person,
            start: at,
            end: first_end,
            score: 0.6,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(text: &str) -> Option<&str> {
        static L: std::sync::OnceLock<LatinNames> = std::sync::OnceLock::new();
        let l = L.get_or_init(LatinNames::new);
        let b = text.as_bytes();
        (0..b.len())
            .filter(|&i| b[i].is_ascii_uppercase() && (i == 0 || !b[i - 1].is_ascii_alphanumeric()))
            .find_map(|i| l.at(text, i))
            .map(|f| &text[f.start..f.end])
    }

    #[test]
    fn names_with_and_without_surnames() {
        assert_eq!(name("ask Jenny Park, she has the keys"), Some("Jenny Park"));
        assert_eq!(name("Olivia Bennett and Sam are joining"), Some("Olivia Bennett"));
        assert_eq!(name("thanks for the ride! — Daniel"), Some("Daniel"));
        assert_eq!(name("account holder Peter de Vries"), Some("Peter de Vries"));
        assert_eq!(name("Yuki Tanabeって名前"), Some("Yuki Tanabe"));
        assert_eq!(name("Hasegawa Rieという名前"), Some("Hasegawa Rie"));
        assert_eq!(name("客戶Wang Mei-Ling的"), Some("Wang Mei-Ling"));
        assert_eq!(
            name("atas nama Siti Rahmawati Putri"),
            Some("Siti Rahmawati Putri")
        );
        assert_eq!(name("here's Josh's number"), Some("Josh"));
        assert_eq!(name("Grace said the router"), Some("Grace"));
    }

    #[test]
    fn words_that_are_not_names() {
        assert_eq!(name("May I call you tomorrow"), None);
        assert_eq!(name("Will you be there"), None);
        assert_eq!(name("the office in Austin, TX"), None);
        assert_eq!(name("Daniel Street is closed"), None);
        assert_eq!(name("Send the IBAN please"), None);
        assert_eq!(name("Thanks, see you on Monday"), None);
    }
}
