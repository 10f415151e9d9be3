//! Japanese names (PERSON) and addresses (ADDRESS) from reference lists.
//!
//! One cheap pass finds where to look: an Aho-Corasick automaton of triggers (the last
//! character of a place name — 都 道 府 県 市 区 町 村 郡 —, honorifics such as さん and 様, and
//! words that introduce a name such as 氏名) and of surnames. Around each hit the
//! recognizer looks names up in hash sets built from Japan Post's municipalities and gimei's
//! name lists, and extends an address over its town, its chome-banchi numbers
//! (1丁目2番3号, 1-2-3) and a building with a room number. These recognizers are weaker than
//! the validated ones, and the evaluation reports them separately.

use crate::fx::WordSet;
use crate::latin::capitalised_word;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use kamei_core::PiiType;

const PREFECTURES: &str = include_str!("../data/prefectures.txt");
const MUNICIPALITIES: &str = include_str!("../data/municipalities.txt");
const SURNAMES: &str = include_str!("../data/surnames.txt");
const GIVEN_NAMES: &str = include_str!("../data/given_names.txt");

/// Taiwan's special municipalities and cities, which addresses in Chinese start with.
const TW_CITIES: &[&str] = &[
    "台北市",
    "臺北市",
    "新北市",
    "桃園市",
    "台中市",
    "臺中市",
    "台南市",
    "臺南市",
    "高雄市",
    "基隆市",
    "新竹市",
    "嘉義市",
    "新竹縣",
    "苗栗縣",
    "彰化縣",
    "南投縣",
    "雲林縣",
    "嘉義縣",
    "屏東縣",
    "宜蘭縣",
    "花蓮縣",
    "台東縣",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trigger {
    /// The last character of a place name.
    Place,
    /// An honorific or a word that follows a name (さん, 様, 名義).
    After,
    /// A word that introduces a name (氏名, 担当).
    Before,
    /// A phrase that introduces a Latin-script name ("my name is", "Mr.").
    Latin,
    /// The province word that ends a Thai address (จังหวัด…, กรุงเทพ…).
    ThaiProvince,
    /// The street word that starts an Indonesian address (Jl.).
    IdStreet,
    /// A title after a Chinese name (小姐, 老師); 先生 and the Japanese titles count too.
    ZhTitle,
    /// A word before a Chinese name (姓名, 戶名, 跟).
    ZhBefore,
    /// The start of a quotation, where a sentence and so maybe a name starts.
    ZhOpen,
    /// A Thai title or phrase before a name; formal ones come with a surname.
    ThaiBefore { formal: bool },
    /// A Korean district word before a space (강남구 , 양평군 , 성남시 ).
    KrDistrict,
    /// A Thai verb of saying or calling after a name (บอกว่า, โทรมา).
    ThaiVerb,
}

const TRIGGERS: &[(&str, Trigger)] = &[
    ("都", Trigger::Place),
    ("道", Trigger::Place),
    ("府", Trigger::Place),
    ("県", Trigger::Place),
    ("市", Trigger::Place),
    ("区", Trigger::Place),
    ("區", Trigger::Place),
    ("縣", Trigger::Place),
    ("町", Trigger::Place),
    ("村", Trigger::Place),
    ("郡", Trigger::Place),
    ("さん", Trigger::After),
    ("様", Trigger::After),
    ("さま", Trigger::After),
    ("くん", Trigger::After),
    ("君", Trigger::After),
    ("ちゃん", Trigger::After),
    ("氏", Trigger::After),
    ("先生", Trigger::After),
    ("先輩", Trigger::After),
    ("部長", Trigger::After),
    ("課長", Trigger::After),
    ("社長", Trigger::After),
    ("係長", Trigger::After),
    ("宛", Trigger::After),
    ("名義", Trigger::After),
    ("氏名", Trigger::Before),
    ("名前", Trigger::Before),
    ("本名", Trigger::Before),
    ("担当", Trigger::Before),
    ("契約者", Trigger::Before),
    ("代表者", Trigger::Before),
    ("配偶者", Trigger::Before),
    ("受取人", Trigger::Before),
    ("名義人", Trigger::Before),
    ("旧姓", Trigger::Before),
    ("妻", Trigger::Before),
    ("夫", Trigger::Before),
    ("娘、", Trigger::Before),
    ("家族の", Trigger::Before),
    // Latin-script names follow these in English and Indonesian text.
    ("my name is ", Trigger::Latin),
    ("My name is ", Trigger::Latin),
    ("this is ", Trigger::Latin),
    ("This is ", Trigger::Latin),
    ("I'm ", Trigger::Latin),
    ("I am ", Trigger::Latin),
    ("Mr. ", Trigger::Latin),
    ("Mr ", Trigger::Latin),
    ("Mrs. ", Trigger::Latin),
    ("Ms. ", Trigger::Latin),
    ("Ms ", Trigger::Latin),
    ("Dr. ", Trigger::Latin),
    ("Hi ", Trigger::Latin),
    ("Dear ", Trigger::Latin),
    ("name: ", Trigger::Latin),
    ("Name: ", Trigger::Latin),
    ("attn. ", Trigger::Latin),
    ("Attn: ", Trigger::Latin),
    ("holder: ", Trigger::Latin),
    ("beneficiary ", Trigger::Latin),
    ("customer ", Trigger::Latin),
    ("contact ", Trigger::Latin),
    ("saya ", Trigger::Latin),
    ("Pak ", Trigger::Latin),
    ("Bu ", Trigger::Latin),
    ("Ibu ", Trigger::Latin),
    ("Mas ", Trigger::Latin),
    ("a.n. ", Trigger::Latin),
    ("受取人", Trigger::Latin),
    ("จังหวัด", Trigger::ThaiProvince),
    ("กรุงเทพ", Trigger::ThaiProvince),
    ("Jl. ", Trigger::IdStreet),
    ("Jalan ", Trigger::IdStreet),
    ("代表者", Trigger::Latin),
    ("名義人", Trigger::Latin),
    ("小姐", Trigger::ZhTitle),
    ("女士", Trigger::ZhTitle),
    ("老師", Trigger::ZhTitle),
    ("老师", Trigger::ZhTitle),
    ("太太", Trigger::ZhTitle),
    ("醫師", Trigger::ZhTitle),
    ("經理", Trigger::ZhTitle),
    ("同學", Trigger::ZhTitle),
    ("阿姨", Trigger::ZhTitle),
    ("主任", Trigger::ZhTitle),
    ("律師", Trigger::ZhTitle),
    ("姓名", Trigger::ZhBefore),
    ("戶名", Trigger::ZhBefore),
    ("收件人", Trigger::ZhBefore),
    ("聯絡人", Trigger::ZhBefore),
    ("負責人", Trigger::ZhBefore),
    ("持卡人", Trigger::ZhBefore),
    ("申請人", Trigger::ZhBefore),
    ("我是", Trigger::ZhBefore),
    ("我叫", Trigger::ZhBefore),
    ("名叫", Trigger::ZhBefore),
    ("人資", Trigger::ZhBefore),
    ("客戶", Trigger::ZhBefore),
    ("跟", Trigger::ZhBefore),
    ("告訴", Trigger::ZhBefore),
    ("收款人", Trigger::ZhBefore),
    ("「", Trigger::ZhOpen),
    ("名單", Trigger::ZhBefore),
    ("คุณ", Trigger::ThaiBefore { formal: true }),
    ("นาย", Trigger::ThaiBefore { formal: true }),
    ("นาง", Trigger::ThaiBefore { formal: true }),
    ("นางสาว", Trigger::ThaiBefore { formal: true }),
    ("ชื่อ", Trigger::ThaiBefore { formal: true }),
    ("ชื่อบัญชี", Trigger::ThaiBefore { formal: true }),
    ("ลูกค้า", Trigger::ThaiBefore { formal: true }),
    ("พี่", Trigger::ThaiBefore { formal: false }),
    ("น้อง", Trigger::ThaiBefore { formal: false }),
    ("ฝากบอก", Trigger::ThaiBefore { formal: false }),
    ("บอกว่า", Trigger::ThaiVerb),
    ("พูดว่า", Trigger::ThaiVerb),
    ("ถามว่า", Trigger::ThaiVerb),
    ("โทรมา", Trigger::ThaiVerb),
    ("ทักมา", Trigger::ThaiVerb),
    ("구 ", Trigger::KrDistrict),
    ("군 ", Trigger::KrDistrict),
    ("시 ", Trigger::KrDistrict),
];

/// Cities, Tokyo's wards and the districts people name as meeting places, which are
/// surnames too (渋谷, 上野, 梅田). Every municipality would be too many: 村上 and 大野 are
/// towns, and far more often people.
#[rustfmt::skip]
const MEETING_PLACES: &[&str] = &[
    "札幌", "仙台", "千葉", "横浜", "川崎", "新潟", "静岡", "浜松", "名古屋", "京都", "大阪", "神戸",
    "岡山", "広島", "福岡", "熊本", "北九州", "堺", "千代田", "中央", "港", "新宿", "文京", "台東",
    "墨田", "江東", "品川", "目黒", "大田", "世田谷", "渋谷", "中野", "杉並", "豊島", "北", "荒川",
    "板橋", "練馬", "足立", "葛飾", "江戸川", "上野", "池袋", "原宿", "秋葉原", "銀座", "浅草", "六本木",
    "吉祥寺", "梅田", "難波", "天神", "博多", "三宮", "横須賀", "鎌倉", "日本", "東京", "金沢", "大津",
    "高松", "松山", "松江", "那覇", "盛岡", "水戸", "宇都宮", "前橋", "甲府", "函館", "旭川", "姫路",
    "倉敷", "松本", "軽井沢", "箱根", "熱海", "日光", "長崎", "宮崎", "鹿児島",
];

/// Words that end like a name before an honorific but are not names (お母さん, 皆さん).
const NOT_NAMES: &[&str] = &[
    "みな",
    "皆",
    "お母",
    "お父",
    "おかあ",
    "おとう",
    "お兄",
    "お姉",
    "奥",
    "お客",
    "みんな",
];

/// What the name pass keeps about the text it is in.
struct Scan {
    /// Triggers before this offset lie inside an address already found.
    skip_to: usize,
    /// Whether the text has no kana, so Chinese triggers count; checked once on first need.
    chinese: std::cell::OnceCell<bool>,
}

impl Scan {
    fn chinese(&self, text: &str) -> bool {
        *self.chinese.get_or_init(|| !crate::chinese::has_kana(text))
    }
}

#[derive(Debug)]
pub(crate) struct Names {
    /// The triggers, then the surnames, in one automaton.
    words: AhoCorasick,
    /// The triggers alone, for the ones a longer surname covers (市 in 市川, 村 in 野村).
    triggers: AhoCorasick,
    /// The longest trigger, in bytes.
    max_trigger: usize,
    prefectures: WordSet,
    municipalities: WordSet,
    surnames: WordSet,
    given: WordSet,
    /// Prefectures without their last character (岡山 of 岡山県) and the places people meet
    /// at (渋谷, 梅田): a surname that is also such a place is not taken as a name on its own.
    place_stems: WordSet,
    /// The longest entry of each set, in characters.
    max_place: usize,
    max_name: usize,
}

/// A found span.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Found {
    pub(crate) pii_type: PiiType,
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) score: f32,
}

/// The entries of a reference list: one per line, blank lines skipped.
pub(crate) fn lines(s: &'static str) -> impl Iterator<Item = &'static str> {
    s.lines().map(str::trim).filter(|l| !l.is_empty())
}

fn is_kanji(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '々' | '〆' | 'ヶ' | 'ケ')
}

fn is_katakana(c: char) -> bool {
    matches!(c, '\u{30A1}'..='\u{30FA}' | 'ー')
}

fn is_hiragana(c: char) -> bool {
    matches!(c, '\u{3041}'..='\u{3096}')
}

fn is_digit(c: char) -> bool {
    c.is_ascii_digit() || matches!(c, '０'..='９')
}

fn is_kanji_numeral(c: char) -> bool {
    matches!(
        c,
        '一' | '二' | '三' | '四' | '五' | '六' | '七' | '八' | '九' | '十' | '百' | '千' | '〇'
    )
}

fn is_dash(c: char) -> bool {
    matches!(c, '-' | '－' | '‐' | '‑' | '–' | '—' | '−' | 'ー')
}

/// Characters an address may end on: a number, or the counter after one.
fn ends_address(c: char) -> bool {
    is_digit(c)
        || is_kanji_numeral(c)
        || matches!(
            c,
            '号' | '番' | '地' | '目' | '號' | '樓' | '楼' | '階' | '室' | 'F' | '棟'
        )
}

/// Honorifics, which are never the start of a given name.
const HONORIFICS: &[&str] = &["さん", "さま", "ちゃん", "くん", "様", "君", "氏", "殿"];

/// Particles that may follow a name written in hiragana (あかりに, ゆうきの).
const PARTICLES: &[char] = &['に', 'は', 'が', 'を', 'の', 'と', 'で', 'も', 'へ'];

/// Words before 様 or さん that are not names (お客様, 皆様, 王様).
const NOT_SURNAMES: &[&str] = &[
    "客",
    "皆",
    "王",
    "神",
    "仏",
    "奥",
    "殿",
    "貴方",
    "各位",
    "御中",
    "先方",
    "担当者",
    "皆々",
];

/// A kanji surname that is not in the list, before an honorific: two or three kanji after a
/// boundary (a space, punctuation, the start of the text).
fn unlisted_surname_before(text: &str, end: usize) -> Option<usize> {
    let mut start = end;
    let mut n = 0;
    for (i, c) in text[..end].char_indices().rev() {
        if !is_kanji(c) || n == 3 {
            let boundary = !is_kanji(c) && !is_hiragana(c) && !is_katakana(c);
            return (boundary && n >= 2 && !NOT_SURNAMES.contains(&&text[start..end])).then_some(start);
        }
        start = i;
        n += 1;
    }
    (n >= 2 && !NOT_SURNAMES.contains(&&text[start..end])).then_some(start)
}

/// Up to three capitalised words after `at` (one space allowed before the first).
fn latin_name_after(text: &str, mut at: usize) -> Option<Found> {
    if text.as_bytes().get(at) == Some(&b' ') {
        at += 1;
    }
    let start = at;
    let mut end = capitalised_word(text, at)?;
    for _ in 0..2 {
        match text.as_bytes().get(end) {
            Some(b' ') => match capitalised_word(text, end + 1) {
                Some(e) => end = e,
                None => break,
            },
            _ => break,
        }
    }
    if NOT_LATIN_NAMES.contains(&&text[start..end]) {
        return None;
    }
    Some(Found {
        pii_type: PiiType::Person,
        start,
        end,
        score: 0.7,
    })
}

/// Up to three capitalised words that end at `end` (before さん, 様).
fn latin_name_before(text: &str, end: usize) -> Option<Found> {
    let b = text.as_bytes();
    let word_start = |e: usize| {
        let mut s = e;
        while s > 0 && (b[s - 1].is_ascii_alphabetic() || b[s - 1] == b'\'' || b[s - 1] == b'-') {
            s -= 1;
        }
        s
    };
    let mut start = end;
    let mut words = 0;
    loop {
        let s = word_start(start);
        if s == start || capitalised_word(text, s) != Some(start) {
            break;
        }
        words += 1;
        let (from, e) = (s, s.wrapping_sub(1));
        let prev_ok = words < 3 && s > 0 && b[e] == b' ' && {
            let ps = word_start(e);
            ps < e && capitalised_word(text, ps) == Some(e)
        };
        if !prev_ok {
            start = from;
            break;
        }
        start = e;
    }
    (words > 0).then_some(Found {
        pii_type: PiiType::Person,
        start,
        end,
        score: 0.75,
    })
}

/// Capitalised words that follow "this is", "Hi" and the like but are not names.
const NOT_LATIN_NAMES: &[&str] = &[
    "The",
    "This",
    "That",
    "It",
    "My",
    "Our",
    "Your",
    "We",
    "You",
    "He",
    "She",
    "They",
    "Please",
    "Thanks",
    "Thank",
    "All",
    "Everyone",
    "There",
    "Team",
    "Sir",
    "Madam",
    "Customer",
    "Support",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
    "Good",
    "Just",
    "Not",
    "What",
    "How",
    "Why",
    "When",
    "Where",
];

fn is_thai(c: char) -> bool {
    matches!(c, '\u{0E00}'..='\u{0E7F}')
}

/// A Thai address that ends with the province at `start..end` (จังหวัดเชียงใหม่, กรุงเทพฯ):
/// it starts at the house number (99/12) before the street, sub-district and district.
fn thai_address(text: &str, start: usize, end: usize) -> Option<Found> {
    // The province name runs on in Thai letters (กรุงเทพมหานคร, จังหวัดขอนแก่น).
    let mut e = end;
    for c in text[end..].chars() {
        if !is_thai(c) {
            break;
        }
        e += c.len_utf8();
    }
    // Back over Thai words, spaces and numbers, up to 40 characters of them.
    let mut s = start;
    for (i, c) in text[..start].char_indices().rev().take(60) {
        if !(is_thai(c) || c == ' ' || c == '/' || c == '-' || c.is_ascii_digit()) {
            break;
        }
        s = i;
    }
    let window = &text[s..start];
    // The house number: the first "N/N", else the first number.
    let b = window.as_bytes();
    let number_start = |k: usize| b[k].is_ascii_digit() && (k == 0 || !b[k - 1].is_ascii_digit());
    let slash = (0..b.len()).find(|&k| {
        number_start(k) && {
            let mut j = k;
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            b.get(j) == Some(&b'/') && b.get(j + 1).is_some_and(u8::is_ascii_digit)
        }
    });
    let first = slash.or_else(|| (0..b.len()).find(|&k| number_start(k)))?;
    Some(Found {
        pii_type: PiiType::Address,
        start: s + first,
        end: e,
        score: 0.85,
    })
}

/// An Indonesian address from `Jl.` to the last place name of its comma-separated list.
fn indonesian_address(text: &str, start: usize) -> Option<Found> {
    let b = text.as_bytes();
    if start > 0 && b[start - 1].is_ascii_alphanumeric() {
        return None;
    }
    let mut last_good = start;
    let mut k = start;
    while k < b.len() && k - start < 160 {
        let c = b[k];
        if c.is_ascii_alphanumeric() || matches!(c, b'.' | b',' | b'/' | b' ' | b'-') {
            // A word that starts with a lower-case letter after a space ends the address (… ya).
            if c == b' ' && b.get(k + 1).is_some_and(u8::is_ascii_lowercase) {
                break;
            }
            if c.is_ascii_alphanumeric() {
                last_good = k + 1;
            }
            k += 1;
        } else {
            break;
        }
    }
    // A five-digit number that ends the list is the postal code, a span of its own.
    let tail = &b[start..last_good];
    let word = tail
        .iter()
        .rposition(|&c| c == b' ' || c == b',')
        .map_or(0, |p| p + 1);
    if tail.len() - word == 5 && tail[word..].iter().all(u8::is_ascii_digit) {
        last_good = start
            + tail[..word]
                .iter()
                .rposition(u8::is_ascii_alphanumeric)
                .map_or(0, |p| p + 1);
    }
    (last_good > start + 8).then_some(Found {
        pii_type: PiiType::Address,
        start,
        end: last_good,
        score: 0.8,
    })
}

fn is_space(c: char) -> bool {
    c == ' ' || c == '　'
}

impl Names {
    pub(crate) fn new() -> Names {
        let surnames: WordSet = lines(SURNAMES).collect();
        // Hiragana surnames are ordinary words too often (たなか is safe, but いし is not).
        let mut surname_forms: Vec<&str> = surnames
            .iter()
            .copied()
            .filter(|s| !s.chars().all(is_hiragana))
            .collect();
        surname_forms.sort_unstable();
        // One pass for both: triggers first (pattern ids below `TRIGGERS.len()`), then surnames.
        let words = AhoCorasickBuilder::new()
            .kind(Some(AhoCorasickKind::DFA))
            // Japanese text is full of every lead byte: a prefilter only adds restarts.
            .prefilter(false)
            .match_kind(MatchKind::LeftmostLongest)
            .build(
                TRIGGERS
                    .iter()
                    .map(|(w, _)| *w)
                    .chain(surname_forms.iter().copied()),
            )
            .unwrap_or_else(|_| unreachable!("the trigger and surname lists are valid pattern sets"));
        let triggers = AhoCorasickBuilder::new()
            .kind(Some(AhoCorasickKind::DFA))
            .match_kind(MatchKind::LeftmostLongest)
            .build(TRIGGERS.iter().map(|(w, _)| w))
            .unwrap_or_else(|_| unreachable!("the trigger list is a valid, small pattern set"));
        let max_trigger = TRIGGERS.iter().map(|(w, _)| w.len()).max().unwrap_or(0);
        let prefectures: WordSet = lines(PREFECTURES).collect();
        let municipalities: WordSet = lines(MUNICIPALITIES).chain(TW_CITIES.iter().copied()).collect();
        let given: WordSet = lines(GIVEN_NAMES).collect();
        let place_stems: WordSet = prefectures
            .iter()
            .filter_map(|p| p.char_indices().next_back().map(|(i, _)| &p[..i]))
            .chain(MEETING_PLACES.iter().copied())
            .collect();
        let chars = |s: &&str| s.chars().count();
        let max_place = prefectures
            .iter()
            .chain(&municipalities)
            .map(chars)
            .max()
            .unwrap_or(1);
        let max_name = surnames.iter().chain(&given).map(chars).max().unwrap_or(1).min(6);
        Names {
            words,
            triggers,
            max_trigger,
            prefectures,
            municipalities,
            surnames,
            given,
            place_stems,
            max_place,
            max_name,
        }
    }

    pub(crate) fn find(&self, text: &str, out: &mut Vec<Found>) {
        let mut scan = Scan {
            skip_to: 0,
            chinese: std::cell::OnceCell::new(),
        };
        // A Chinese name that opens the text (林志豪換手機了).
        if text.chars().next().is_some_and(crate::chinese::is_surname)
            && scan.chinese(text)
            && let Some(f) = crate::chinese::opening(text, 0)
        {
            out.push(f);
            crate::chinese::list_after(text, f.end, out);
        }
        // A text in ASCII holds no Japanese surname and only the Latin triggers: the trigger
        // automaton alone finds them, and its prefilter skips through Latin text.
        let words = if text.is_ascii() {
            &self.triggers
        } else {
            &self.words
        };
        for m in words.find_iter(text) {
            let Some((_, trigger)) = TRIGGERS.get(m.pattern().as_usize()) else {
                if let Some(f) = self
                    .full_name_at(text, m.start(), m.end())
                    .or_else(|| self.lone_surname(text, m.start(), m.end()))
                {
                    out.push(f);
                }
                // A surname can cover a trigger that starts inside it (村 of 野村 in 忍野村,
                // 部長 after 岡部): the separate trigger pass found those, so look again.
                let to = crate::context::ceil(text, m.end() + self.max_trigger);
                for t in self.triggers.find_iter(&text[m.start()..to]) {
                    let start = m.start() + t.start();
                    if start >= m.end() {
                        break;
                    }
                    let (_, trigger) = TRIGGERS[t.pattern().as_usize()];
                    self.on_trigger(text, trigger, start, m.start() + t.end(), &mut scan, out);
                }
                continue;
            };
            self.on_trigger(text, *trigger, m.start(), m.end(), &mut scan, out);
        }
    }

    /// Looks for the name or address a trigger at `start..end` points to.
    fn on_trigger(
        &self,
        text: &str,
        trigger: Trigger,
        start: usize,
        end: usize,
        scan: &mut Scan,
        out: &mut Vec<Found>,
    ) {
        if start < scan.skip_to {
            return;
        }
        match trigger {
            Trigger::ZhTitle => {
                if scan.chinese(text)
                    && let Some(f) = crate::chinese::before_title(text, start)
                {
                    out.push(f);
                }
            }
            Trigger::ZhBefore => {
                if scan.chinese(text)
                    && let Some(f) = crate::chinese::after_cue(text, end)
                {
                    out.push(f);
                    crate::chinese::list_after(text, f.end, out);
                }
            }
            Trigger::ZhOpen => {
                if scan.chinese(text)
                    && let Some(f) = crate::chinese::opening(text, end)
                {
                    out.push(f);
                }
            }
            Trigger::ThaiBefore { formal } => {
                if let Some(f) = crate::thai::name_after(text, start, end, formal) {
                    out.push(f);
                }
            }
            Trigger::Place => {
                if let Some(f) = self.address(text, end) {
                    scan.skip_to = f.end;
                    out.push(f);
                }
            }
            Trigger::After => {
                if let Some(f) = self.name_before(text, start) {
                    out.push(f);
                }
                if scan.chinese(text)
                    && let Some(f) = crate::chinese::before_title(text, start)
                {
                    out.push(f);
                }
            }
            Trigger::Before => {
                if let Some(f) = self.name_after(text, end) {
                    out.push(f);
                }
                if let Some(f) = latin_name_after(text, end) {
                    out.push(f);
                }
            }
            Trigger::ThaiProvince => {
                if let Some(f) = thai_address(text, start, end) {
                    scan.skip_to = f.end;
                    out.push(f);
                }
            }
            Trigger::ThaiVerb => {
                if let Some(f) = crate::thai::name_before_verb(text, start) {
                    out.push(f);
                }
            }
            Trigger::KrDistrict => {
                if let Some(f) = crate::korean::address(text, end - 1) {
                    scan.skip_to = f.end;
                    out.push(f);
                }
            }
            Trigger::IdStreet => {
                if let Some(f) = indonesian_address(text, start) {
                    scan.skip_to = f.end;
                    out.push(f);
                }
            }
            Trigger::Latin => {
                if let Some(f) = latin_name_after(text, end).or_else(|| self.name_after(text, end)) {
                    out.push(f);
                }
            }
        }
    }

    /// Byte offsets of the char boundaries going back from `end`, up to `n` characters.
    fn starts_before(text: &str, end: usize, n: usize) -> impl Iterator<Item = usize> + '_ {
        text[..end].char_indices().rev().take(n).map(|(i, _)| i)
    }

    /// Byte offsets of the char boundaries going forward from `start`, up to `n` characters.
    fn ends_after(text: &str, start: usize, n: usize) -> impl Iterator<Item = usize> + '_ {
        text[start..]
            .char_indices()
            .skip(1)
            .map(move |(i, _)| start + i)
            .chain(std::iter::once(text.len()))
            .take(n)
    }

    /// The longest entry of `set` that ends at `end`.
    fn longest_ending(&self, text: &str, end: usize, set: &WordSet, max: usize) -> Option<usize> {
        Self::starts_before(text, end, max)
            .filter(|&s| set.contains(&text[s..end]))
            .last()
    }

    /// The longest entry of `set` that starts at `start`.
    fn longest_starting(&self, text: &str, start: usize, set: &WordSet, max: usize) -> Option<usize> {
        Self::ends_after(text, start, max)
            .filter(|&e| set.contains(&text[start..e]))
            .last()
    }

    /// An address whose place name ends at `end` (the trigger character).
    fn address(&self, text: &str, end: usize) -> Option<Found> {
        let pref = self.longest_ending(text, end, &self.prefectures, 4);
        let muni = self.longest_ending(text, end, &self.municipalities, self.max_place);
        let (start, mut at, has_pref, has_muni) = match (pref, muni) {
            (Some(p), _) => {
                // A prefecture, then maybe a municipality.
                match self.longest_starting(text, end, &self.municipalities, self.max_place) {
                    Some(e) => (p, e, true, true),
                    None => (p, end, true, false),
                }
            }
            (None, Some(m)) => {
                // A municipality: take the longest one starting there (福岡市 → 福岡市中央区).
                let e = self
                    .longest_starting(text, m, &self.municipalities, self.max_place)
                    .unwrap_or(end);
                (m, e.max(end), false, true)
            }
            (None, None) => return None,
        };
        if !has_muni {
            return None;
        }
        // The town and its numbers: kanji, katakana, digits, dashes, の between them.
        let mut last_number = None;
        let mut chars = text[at..].char_indices().peekable();
        let mut taken = 0;
        while let Some((i, c)) = chars.next() {
            let next = chars.peek().map(|&(_, n)| n);
            let ok = is_kanji(c)
                || is_katakana(c)
                || is_digit(c)
                || is_dash(c)
                || (matches!(c, 'の' | 'ノ' | '之' | '・')
                    && next.is_some_and(|n| is_kanji(n) || is_digit(n)))
                || (c.is_ascii_uppercase() && last_number.is_some());
            if !ok || taken >= 40 {
                break;
            }
            taken += 1;
            if ends_address(c) && (is_digit(c) || is_kanji_numeral(c) || last_number.is_some() || c == '目')
            {
                last_number = Some(at + i + c.len_utf8());
            }
        }
        let Some(mut end) = last_number else {
            return has_pref.then_some(Found {
                pii_type: PiiType::Address,
                start,
                end: at,
                score: 0.6,
            });
        };
        at = end;
        // A building after a space: words, then a room or floor number.
        let mut it = text[at..].char_indices();
        if let Some((_, c)) = it.next()
            && is_space(c)
        {
            let mut last = None;
            for (i, c) in it.take(25) {
                let ok =
                    is_kanji(c) || is_katakana(c) || c.is_ascii_alphanumeric() || is_digit(c) || c == '・';
                if !ok {
                    break;
                }
                if is_digit(c) || matches!(c, '階' | '室' | 'F') {
                    last = Some(at + i + c.len_utf8());
                }
            }
            if let Some(l) = last {
                end = l;
            }
        }
        let score = if has_pref { 0.95 } else { 0.9 };
        Some(Found {
            pii_type: PiiType::Address,
            start,
            end,
            score,
        })
    }

    /// A name that ends at `end`, where an honorific starts.
    fn name_before(&self, text: &str, end: usize) -> Option<Found> {
        if let Some(f) = latin_name_before(text, end) {
            return Some(f);
        }
        let mut best: Option<(usize, f32)> = None;
        let max = self.max_name;
        if let Some(s) = self.longest_ending(text, end, &self.surnames, max) {
            best = Some((s, 0.85));
        }
        if let Some(g) = self.longest_ending(text, end, &self.given, max) {
            let name = &text[g..end];
            let before = text[..g].chars().next_back();
            // A given name in kana only after a boundary (not inside a run of kana).
            let kana_ok = !name.chars().all(is_hiragana) || !before.is_some_and(is_hiragana);
            if kana_ok && best.is_none_or(|(s, _)| g < s) {
                best = Some((g, 0.8));
            }
            // Surname, maybe a space, given name.
            let mut sep = g;
            if let Some(c) = text[..g].chars().next_back()
                && is_space(c)
            {
                sep -= c.len_utf8();
            }
            if let Some(s) = self.longest_ending(text, sep, &self.surnames, max) {
                best = Some((s, 0.9));
            }
        }
        let (start, score) = match best {
            Some(b) => b,
            None if ["様", "さん", "氏", "さま"]
                .iter()
                .any(|h| text[end..].starts_with(h)) =>
            {
                (unlisted_surname_before(text, end)?, 0.6)
            }
            None => return None,
        };
        let name = &text[start..end];
        if NOT_NAMES.contains(&name)
            || NOT_NAMES
                .iter()
                .any(|w| text[..end].ends_with(w) && w.len() > name.len())
        {
            return None;
        }
        // Inside a longer kanji word the "name" is a word (会社, 駅長).
        if let Some(c) = text[..start].chars().next_back()
            && is_kanji(c)
            && score < 0.9
        {
            return None;
        }
        Some(Found {
            pii_type: PiiType::Person,
            start,
            end,
            score,
        })
    }

    /// A name that starts after a word that introduces one (氏名：, 担当).
    fn name_after(&self, text: &str, mut start: usize) -> Option<Found> {
        let mut n = 0;
        for c in text[start..].chars() {
            if n < 6
                && matches!(
                    c,
                    '：' | ':' | 'は' | ' ' | '　' | '（' | '）' | 'カ' | 'ナ' | '者' | '「' | '、'
                )
            {
                start += c.len_utf8();
                n += 1;
            } else {
                break;
            }
        }
        let max = self.max_name;
        if let Some(e) = self.longest_starting(text, start, &self.surnames, max) {
            let full = self
                .given_after(text, e)
                .or_else(|| unlisted_given_after_space(text, e));
            return Some(Found {
                pii_type: PiiType::Person,
                start,
                end: full.unwrap_or(e),
                score: 0.85,
            });
        }
        let e = self.longest_starting(text, start, &self.given, max)?;
        Some(Found {
            pii_type: PiiType::Person,
            start,
            end: e,
            score: 0.75,
        })
    }

    /// The end of a given name right after `at` (a space allowed between).
    fn given_after(&self, text: &str, at: usize) -> Option<usize> {
        let mut g = at;
        if let Some(c) = text[at..].chars().next()
            && is_space(c)
        {
            g += c.len_utf8();
        }
        if HONORIFICS.iter().any(|h| text[g..].starts_with(h)) {
            return None;
        }
        let e = self.longest_starting(text, g, &self.given, self.max_name)?;
        // The given name must end the word: not followed by more kanji (中村進行 is not a name).
        let next = text[e..].chars().next();
        let name = &text[g..e];
        let ok = match next {
            Some(c) if is_kanji(c) => false,
            Some(c) if is_katakana(c) => !name.chars().all(is_katakana),
            Some(c) if is_hiragana(c) => !name.chars().all(is_hiragana) || PARTICLES.contains(&c),
            _ => true,
        };
        ok.then_some(e)
    }

    /// A full name (surname and given name) at a surname hit, or a surname that introduces
    /// its speaker (…の大野です).
    fn full_name_at(&self, text: &str, start: usize, end: usize) -> Option<Found> {
        let before = text[..start].chars().next_back();
        // A surname glued to kanji before it is part of a word (東京都中野区 → 中野).
        if before
            .is_some_and(|c| is_kanji(c) || (is_katakana(c) && text[start..end].chars().all(is_katakana)))
        {
            return None;
        }
        if let Some(e) = self.given_after(text, end) {
            return Some(Found {
                pii_type: PiiType::Person,
                start,
                end: e,
                score: 0.85,
            });
        }
        if let Some(e) = unlisted_given_after_space(text, end) {
            return Some(Found {
                pii_type: PiiType::Person,
                start,
                end: e,
                score: 0.7,
            });
        }
        let rest = &text[end..];
        let after = rest.chars().next();
        if before.is_some_and(|c| matches!(c, '（' | '(' | '「'))
            && after.is_some_and(|c| matches!(c, '）' | ')' | '」'))
        {
            return Some(Found {
                pii_type: PiiType::Person,
                start,
                end,
                score: 0.7,
            });
        }
        let boundary = before.is_none_or(|c| !is_kanji(c) && !is_katakana(c));
        if boundary
            && (rest.starts_with("です") || rest.starts_with("と申します") || rest.starts_with("と申し"))
        {
            return Some(Found {
                pii_type: PiiType::Person,
                start,
                end,
                score: 0.7,
            });
        }
        None
    }
}

impl Names {
    /// A surname on its own, as people name colleagues and friends (村上がさ, 佐野から,
    /// 岩崎、野口、杉山の3名): after a boundary and before a particle or a separator. A
    /// surname that is also a place (渋谷, 岡山) is left alone: 渋谷の店 is about the place.
    fn lone_surname(&self, text: &str, start: usize, end: usize) -> Option<Found> {
        let name = &text[start..end];
        if name.chars().count() < 2 || self.place_stems.contains(name) {
            return None;
        }
        let before = text[..start].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || is_kanji(c) || is_katakana(c) || is_hiragana(c)) {
            return None;
        }
        let rest = &text[end..];
        let mut next = rest.chars();
        let ok = match next.next() {
            None => true,
            Some('が' | 'は' | 'の' | 'と' | 'も' | '、' | '，' | '。' | '」' | '）' | ')' | '・') => {
                true
            }
            Some(' ' | '　') => next.next().is_some_and(is_digit),
            Some(_) => ["って", "から", "より", "いわく"]
                .iter()
                .any(|p| rest.starts_with(p)),
        };
        ok.then_some(Found {
            pii_type: PiiType::Person,
            start,
            end,
            score: 0.6,
        })
    }
}

/// A given name not in the list after a surname and a space (青木 勇気, 吉田 真理奈): two or
/// three kanji, or two to four hiragana, that end the word. Titles (部長, 先生) are not names.
fn unlisted_given_after_space(text: &str, at: usize) -> Option<usize> {
    let mut chars = text[at..].char_indices();
    let (_, space) = chars.next()?;
    if !is_space(space) {
        return None;
    }
    let from = at + space.len_utf8();
    let first = text[from..].chars().next()?;
    let script: fn(char) -> bool = if is_kanji(first) {
        is_kanji
    } else if is_hiragana(first) {
        is_hiragana
    } else {
        return None;
    };
    let len = text[from..].chars().take_while(|&c| script(c)).count();
    let (min, max) = if is_kanji(first) { (2, 3) } else { (2, 4) };
    if !(min..=max).contains(&len) {
        return None;
    }
    let e = from + text[from..].chars().take(len).map(char::len_utf8).sum::<usize>();
    let given = &text[from..e];
    let after = text[e..].chars().next();
    // Not before a particle: @田中 明日の資料 is tomorrow's papers.
    let boundary =
        after.is_none_or(|c| !(is_kanji(c) || is_katakana(c) || is_hiragana(c) || c.is_alphanumeric()));
    let title =
        TRIGGERS.iter().any(|(w, _)| given.starts_with(w)) || HONORIFICS.iter().any(|h| given.starts_with(h));
    (boundary && !title).then_some(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<(PiiType, &str)> {
        static NAMES: std::sync::OnceLock<Names> = std::sync::OnceLock::new();
        let mut out = Vec::new();
        NAMES.get_or_init(Names::new).find(text, &mut out);
        out.sort_by_key(|f| (f.start, f.end));
        let mut v: Vec<_> = out
            .into_iter()
            .map(|f| (f.pii_type, &text[f.start..f.end]))
            .collect();
        v.dedup();
        v
    }

    #[test]
    fn addresses_with_chome_banchi_and_buildings() {
        let a = PiiType::Address;
        assert_eq!(
            found("住所は東京都世田谷区桜新町2-14-7 ハイツ桜203だよ"),
            vec![(a, "東京都世田谷区桜新町2-14-7 ハイツ桜203")]
        );
        assert_eq!(
            found("大阪市北区梅田三丁目8番15号に移転"),
            vec![(a, "大阪市北区梅田三丁目8番15号")]
        );
        assert_eq!(
            found("福岡市中央区大名1丁目3-22で"),
            vec![(a, "福岡市中央区大名1丁目3-22")]
        );
        assert_eq!(
            found("東京都渋谷区渋谷２－１７－８"),
            vec![(a, "東京都渋谷区渋谷２－１７－８")]
        );
        assert_eq!(
            found("台北市大安區忠孝東路四段123號5樓，"),
            vec![(a, "台北市大安區忠孝東路四段123號5樓")]
        );
        assert_eq!(found("東京都に行った"), vec![]);
        assert_eq!(found("市場で会おう"), vec![]);
    }

    #[test]
    fn thai_and_indonesian_addresses() {
        let a = PiiType::Address;
        assert_eq!(
            found("ส่งของมาที่ 954/2 ถนนสีลม ตำบลตลาดใหญ่ อำเภอเมืองภูเก็ต จังหวัดภูเก็ต นะคะ"),
            vec![(a, "954/2 ถนนสีลม ตำบลตลาดใหญ่ อำเภอเมืองภูเก็ต จังหวัดภูเก็ต")]
        );
        assert_eq!(
            found("My address is 50200 297/11 ถนนสีลม เขตบางรัก กรุงเทพมหานคร"),
            vec![(a, "297/11 ถนนสีลม เขตบางรัก กรุงเทพมหานคร")]
        );
        assert_eq!(
            found("kirim ke Jl. Merdeka No. 48, RT 011/RW 002, Menteng, Jakarta Pusat ya"),
            vec![(a, "Jl. Merdeka No. 48, RT 011/RW 002, Menteng, Jakarta Pusat")]
        );
        assert_eq!(found("ไปกรุงเทพ"), vec![]);
    }

    #[test]
    fn latin_names_with_context() {
        let p = PiiType::Person;
        assert_eq!(
            found("hi, my name is Daniel Brooks and I"),
            vec![(p, "Daniel Brooks")]
        );
        assert_eq!(found("Mr. Whitfield asked"), vec![(p, "Whitfield")]);
        assert_eq!(found("Hiroshi Katoさんの入社"), vec![(p, "Hiroshi Kato")]);
        assert_eq!(found("代表者Sato Kenji"), vec![(p, "Sato Kenji")]);
        assert_eq!(found("this is the IBAN"), vec![]);
    }

    #[test]
    fn names_with_honorifics_lists_and_context() {
        let p = PiiType::Person;
        assert_eq!(found("田中さんの番号"), vec![(p, "田中")]);
        assert_eq!(found("兄の嫁の恵理子さんが"), vec![(p, "恵理子")]);
        assert_eq!(found("氏名：石川 大輔、電話"), vec![(p, "石川 大輔")]);
        assert_eq!(found("ヤマダ タロウ名義で予約"), vec![(p, "ヤマダ タロウ")]);
        assert_eq!(found("契約者：藤井健司"), vec![(p, "藤井健司")]);
        assert_eq!(
            found("新しい名前は橋本 あかりになりました"),
            vec![(p, "橋本 あかり")]
        );
        assert_eq!(found("書類を送ってください（遠藤）"), vec![(p, "遠藤")]);
        assert_eq!(found("3F 有村様 099"), vec![(p, "有村")]);
        assert_eq!(found("お母さんに電話"), vec![]);
        assert_eq!(found("お客様各位"), vec![]);
        assert_eq!(found("村上がさ、遅刻してきた"), vec![(p, "村上")]);
        assert_eq!(found("岩崎、野口の2名"), vec![(p, "岩崎"), (p, "野口")]);
        assert_eq!(found("連絡網：今井 090-1187-4420"), vec![(p, "今井")]);
        assert_eq!(found("扶養の件、青木 勇気 個人番号"), vec![(p, "青木 勇気")]);
        assert_eq!(found("岡山の高校"), vec![]);
        assert_eq!(found("中村部長"), vec![(p, "中村")]);
        assert_eq!(found("みなさんこんにちは"), vec![]);
    }
}
