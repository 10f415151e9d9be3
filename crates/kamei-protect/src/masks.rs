//! The masked level's partial reveals, written so that what they output is bounded by the
//! transform and never by what the value looks like.
//!
//! Each mask outputs either something drawn from a fixed list (a region name, a public mail
//! provider) or a fixed-shape mask with at most a few kept digits, never the characters around
//! them: a phone column holding `山田太郎 090-…`, a romanised address ending in a phone number,
//! or a 3-digit postal code must not come back whole.

use std::borrow::Cow;
use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use unicode_normalization::{IsNormalized, UnicodeNormalization};

/// The fixed mask every digit and alphanumeric mask starts with, whatever the value's length
/// or shape.
const MASK: &str = "****";

/// The value of a decimal digit in any script, kanji numerals included: kamei-core's one
/// table, the detector's too, so a digit the detector reads is one a mask hides.
pub(crate) use kamei_core::digit::value as digit_value;

/// Whether `c` counts as a digit for masking: a decimal digit of any script, or any other
/// numeric character (circled, superscript), whose value is then never shown.
fn is_digit_like(c: char) -> bool {
    digit_value(c).is_some() || c.is_numeric()
}

/// `value` in NFKC, borrowed when the quick check says it already is (ASCII, most Japanese
/// text): the normalizer was a tenth of a full scan's CPU.
pub(crate) fn nfkc(value: &str) -> Cow<'_, str> {
    if value.chars().all(stays_in_nfkc) {
        return Cow::Borrowed(value);
    }
    if value.chars().all(|c| stays_in_nfkc(c) || is_thai(c)) {
        return thai_nfkc(value);
    }
    match unicode_normalization::is_nfkc_quick(value.chars()) {
        IsNormalized::Yes => Cow::Borrowed(value),
        IsNormalized::No | IsNormalized::Maybe => Cow::Owned(value.nfkc().collect()),
    }
}

/// Characters that are their own NFKC form and never compose with a neighbour from this set:
/// ASCII, hiragana and katakana without the combining sound marks, the CJK unified ideographs.
/// Japanese names and addresses are made of them, and this test costs a fraction of the quick
/// check's table lookups (tested against it for every such character).
fn stays_in_nfkc(c: char) -> bool {
    c.is_ascii() || matches!(c, '\u{3041}'..='\u{3096}' | '\u{30A1}'..='\u{30FC}' | '\u{4E00}'..='\u{9FFF}')
}

fn is_thai(c: char) -> bool {
    matches!(c, '\u{0E00}'..='\u{0E7F}')
}

/// NFKC of text of Thai and the characters above, without the general algorithm's tables
/// (which cost a full scan of Thai addresses several percent of its CPU). Thai has one
/// compatibility decomposition, SARA AM (U+0E33 → U+0E4D U+0E32), no compositions, and marks
/// of non-zero combining class (PHINTHU 9, SARA U and UU 103, the four tone marks 107) that
/// NFKC puts in canonical order where several follow each other. Tested against the general
/// algorithm.
fn thai_nfkc(value: &str) -> Cow<'_, str> {
    let mut previous = 0;
    let unchanged = value.chars().all(|c| {
        let class = thai_combining_class(c);
        let in_order = class == 0 || previous <= class;
        previous = class;
        c != '\u{0E33}' && in_order
    });
    if unchanged {
        return Cow::Borrowed(value);
    }
    let mut out = String::with_capacity(value.len() + 8);
    let mut marks: Vec<char> = Vec::new();
    let flush = |marks: &mut Vec<char>, out: &mut String| {
        // Stable: marks of one class keep their order.
        marks.sort_by_key(|m| thai_combining_class(*m));
        out.extend(marks.drain(..));
    };
    for c in value.chars() {
        if thai_combining_class(c) != 0 {
            marks.push(c);
            continue;
        }
        flush(&mut marks, &mut out);
        if c == '\u{0E33}' {
            out.push_str("\u{0E4D}\u{0E32}");
        } else {
            out.push(c);
        }
    }
    flush(&mut marks, &mut out);
    Cow::Owned(out)
}

// SPEC: Unicode Character Database, DerivedCombiningClass.txt (Thai block).
fn thai_combining_class(c: char) -> u8 {
    match c {
        '\u{0E3A}' => 9,
        '\u{0E38}' | '\u{0E39}' => 103,
        '\u{0E48}'..='\u{0E4B}' => 107,
        _ => 0,
    }
}

/// `****` and then at most the last `keep_last` digits, as ASCII, and never more than half of
/// the value's digits; nothing else of the value.
pub(crate) fn mask_digits(value: &str, keep_last: usize, out: &mut String) {
    let digits: Vec<char> = value.chars().filter(|c| is_digit_like(*c)).collect();
    let keep = keep_last.min(digits.len() / 2);
    out.push_str(MASK);
    for c in digits.iter().skip(digits.len() - keep) {
        out.push(digit_value(*c).map_or('*', |d| char::from(b'0' + d)));
    }
}

/// `****` and then at most the last `keep_last` letters and digits (ASCII only; any other kept
/// character shows as `*`), never more than half of them.
pub(crate) fn mask_alnum(value: &str, keep_last: usize, out: &mut String) {
    let chars: Vec<char> = nfkc(value)
        .chars()
        .filter(|c| c.is_alphanumeric() || is_digit_like(*c))
        .collect();
    let keep = keep_last.min(chars.len() / 2);
    out.push_str(MASK);
    for c in chars.iter().skip(chars.len() - keep) {
        out.push(match digit_value(*c) {
            Some(d) => char::from(b'0' + d),
            None if c.is_ascii_alphanumeric() => c.to_ascii_uppercase(),
            None => '*',
        });
    }
}

/// Mail providers whose name says nothing about the person: kept in a masked e-mail. Any other
/// domain (a company's, a family's own) can identify and is masked.
const PUBLIC_MAIL_DOMAINS: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "yahoo.co.jp",
    "ybb.ne.jp",
    "yahoo.com",
    "ymail.com",
    "outlook.com",
    "outlook.jp",
    "hotmail.com",
    "hotmail.co.jp",
    "live.com",
    "live.jp",
    "msn.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "aol.com",
    "proton.me",
    "protonmail.com",
    "docomo.ne.jp",
    "ezweb.ne.jp",
    "au.com",
    "softbank.ne.jp",
    "i.softbank.jp",
    "ymobile.ne.jp",
    "nifty.com",
    "biglobe.ne.jp",
    "ocn.ne.jp",
    "so-net.ne.jp",
    "naver.com",
    "daum.net",
    "hanmail.net",
    "qq.com",
    "163.com",
    "126.com",
    "sina.com",
    "yahoo.com.tw",
    "hinet.net",
    "yahoo.co.th",
    "hotmail.co.th",
    "yahoo.co.id",
    "gmx.de",
    "gmx.net",
    "web.de",
    "mail.ru",
    "yandex.ru",
    "zoho.com",
];

/// First character of the local part (ASCII letters and digits only, else `*`), `***@`, then
/// the domain if it is a public mail provider, else `***`.
pub(crate) fn mask_email(value: &str, out: &mut String) {
    let value = nfkc(value);
    let Some((local, domain)) = value.trim().rsplit_once('@') else {
        out.push_str("***");
        return;
    };
    out.push(match local.chars().next() {
        Some(c) if c.is_ascii_alphanumeric() => c.to_ascii_lowercase(),
        _ => '*',
    });
    out.push_str("***@");
    let domain = domain.to_ascii_lowercase();
    match PUBLIC_MAIL_DOMAINS.iter().find(|d| **d == domain) {
        Some(d) => out.push_str(d),
        None => out.push_str("***"),
    }
}

/// At most the first three digits of a postal code and always fewer than half of them (a
/// 3-digit Taiwanese code shows one, a 5-digit Thai code two, a Japanese code three), as
/// ASCII; nothing else of the value.
pub(crate) fn postal_prefix(value: &str, out: &mut String) {
    let digits: Vec<u8> = value.chars().filter_map(digit_value).collect();
    let keep = 3.min(digits.len().saturating_sub(1) / 2);
    out.extend(digits.iter().take(keep).map(|d| char::from(b'0' + d)));
    out.push_str(MASK);
}

/// The region of an address: a prefecture, province, city or county found in the text and
/// printed from the reference list (never from the value), else `***`.
pub(crate) fn region(value: &str, out: &mut String) {
    let value = nfkc(value);
    let regions = regions();
    let Some(matcher) = &regions.matcher else {
        out.push_str("***");
        return;
    };
    let found = matcher.find_iter(value.as_ref()).find(|m| {
        // Latin names only as whole words: `Nara` is not the start of `Naradhiwas`.
        let alias = regions.aliases.get(m.pattern().as_usize());
        let latin = alias.is_some_and(|(a, _)| a.is_ascii());
        !latin
            || (boundary(&value[..m.start()].chars().next_back())
                && boundary(&value[m.end()..].chars().next()))
    });
    match found.and_then(|m| regions.aliases.get(m.pattern().as_usize())) {
        Some((_, canonical)) => out.push_str(canonical),
        None => out.push_str("***"),
    }
}

fn boundary(c: &Option<char>) -> bool {
    !c.is_some_and(|c| c.is_alphanumeric())
}

struct Regions {
    /// `None` only if the automaton could not be built: every address then masks to `***`.
    matcher: Option<AhoCorasick>,
    /// Per pattern, the alias as matched and the name printed.
    aliases: Vec<(String, &'static str)>,
}

/// Every alias of every region, matched leftmost-longest and ASCII case-insensitively.
fn regions() -> &'static Regions {
    static REGIONS: OnceLock<Regions> = OnceLock::new();
    REGIONS.get_or_init(|| {
        let mut aliases: Vec<(String, &'static str)> = Vec::new();
        for (canonical, names) in REGION_NAMES {
            aliases.push(((*canonical).to_owned(), canonical));
            for name in names.split('|').filter(|n| !n.is_empty()) {
                aliases.push((name.to_owned(), canonical));
            }
        }
        let matcher = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostLongest)
            .ascii_case_insensitive(true)
            .build(aliases.iter().map(|(a, _)| a.as_str()))
            .ok();
        Regions { matcher, aliases }
    })
}

/// Regions of the service's markets: (the name printed, other names separated by `|`).
/// Japan's 47 prefectures, Taiwan's 22 cities and counties, Thailand's provinces, Indonesia's
/// provinces and largest cities. A region not listed masks to `***` (fail closed).
const REGION_NAMES: &[(&str, &str)] = &[
    ("北海道", "Hokkaido"),
    ("青森県", "Aomori"),
    ("岩手県", "Iwate"),
    ("宮城県", "Miyagi"),
    ("秋田県", "Akita"),
    ("山形県", "Yamagata"),
    ("福島県", "Fukushima"),
    ("茨城県", "Ibaraki"),
    ("栃木県", "Tochigi"),
    ("群馬県", "Gunma"),
    ("埼玉県", "Saitama"),
    ("千葉県", "Chiba"),
    ("東京都", "Tokyo"),
    ("神奈川県", "Kanagawa"),
    ("新潟県", "Niigata"),
    ("富山県", "Toyama"),
    ("石川県", "Ishikawa"),
    ("福井県", "Fukui"),
    ("山梨県", "Yamanashi"),
    ("長野県", "Nagano"),
    ("岐阜県", "Gifu"),
    ("静岡県", "Shizuoka"),
    ("愛知県", "Aichi"),
    ("三重県", "Mie"),
    ("滋賀県", "Shiga"),
    ("京都府", "Kyoto"),
    ("大阪府", "Osaka"),
    ("兵庫県", "Hyogo"),
    ("奈良県", "Nara"),
    ("和歌山県", "Wakayama"),
    ("鳥取県", "Tottori"),
    ("島根県", "Shimane"),
    ("岡山県", "Okayama"),
    ("広島県", "Hiroshima"),
    ("山口県", "Yamaguchi"),
    ("徳島県", "Tokushima"),
    ("香川県", "Kagawa"),
    ("愛媛県", "Ehime"),
    ("高知県", "Kochi"),
    ("福岡県", "Fukuoka"),
    ("佐賀県", "Saga"),
    ("長崎県", "Nagasaki"),
    ("熊本県", "Kumamoto"),
    ("大分県", "Oita"),
    ("宮崎県", "Miyazaki"),
    ("鹿児島県", "Kagoshima"),
    ("沖縄県", "Okinawa"),
    ("臺北市", "台北市|Taipei"),
    ("新北市", "New Taipei"),
    ("桃園市", "Taoyuan"),
    ("臺中市", "台中市|Taichung"),
    ("臺南市", "台南市|Tainan"),
    ("高雄市", "Kaohsiung"),
    ("基隆市", "Keelung"),
    ("新竹市", "Hsinchu City"),
    ("嘉義市", "Chiayi City"),
    ("新竹縣", "Hsinchu County"),
    ("苗栗縣", "Miaoli"),
    ("彰化縣", "Changhua"),
    ("南投縣", "Nantou"),
    ("雲林縣", "Yunlin"),
    ("嘉義縣", "Chiayi County"),
    ("屏東縣", "Pingtung"),
    ("宜蘭縣", "Yilan"),
    ("花蓮縣", "Hualien"),
    ("臺東縣", "台東縣|Taitung"),
    ("澎湖縣", "Penghu"),
    ("金門縣", "Kinmen"),
    ("連江縣", "Lienchiang|Matsu"),
    ("กรุงเทพมหานคร", "กรุงเทพฯ|กรุงเทพ|Bangkok"),
    ("เชียงใหม่", "Chiang Mai"),
    ("เชียงราย", "Chiang Rai"),
    ("ภูเก็ต", "Phuket"),
    ("ขอนแก่น", "Khon Kaen"),
    ("ชลบุรี", "Chonburi|Chon Buri|Pattaya"),
    ("นนทบุรี", "Nonthaburi"),
    ("ปทุมธานี", "Pathum Thani"),
    ("สมุทรปราการ", "Samut Prakan"),
    ("นครราชสีมา", "Nakhon Ratchasima|Korat"),
    ("อุดรธานี", "Udon Thani"),
    ("สงขลา", "Songkhla|Hat Yai"),
    ("สุราษฎร์ธานี", "Surat Thani"),
    ("ระยอง", "Rayong"),
    ("พระนครศรีอยุธยา", "Ayutthaya"),
    ("นครปฐม", "Nakhon Pathom"),
    ("กระบี่", "Krabi"),
    ("อุบลราชธานี", "Ubon Ratchathani"),
    ("พิษณุโลก", "Phitsanulok"),
    ("ประจวบคีรีขันธ์", "Prachuap Khiri Khan|Hua Hin"),
    (
        "DKI Jakarta",
        "Jakarta|Jakarta Selatan|Jakarta Pusat|Jakarta Barat|Jakarta Timur|Jakarta Utara",
    ),
    ("Jawa Barat", "West Java|Bandung|Bekasi|Bogor|Depok"),
    ("Jawa Tengah", "Central Java|Semarang|Solo|Surakarta"),
    ("Jawa Timur", "East Java|Surabaya|Malang"),
    ("DI Yogyakarta", "Yogyakarta|Jogja"),
    ("Banten", "Tangerang"),
    ("Bali", "Denpasar"),
    ("Sumatera Utara", "North Sumatra|Medan"),
    ("Sumatera Barat", "West Sumatra|Padang"),
    ("Sumatera Selatan", "South Sumatra|Palembang"),
    ("Riau", "Pekanbaru"),
    ("Kepulauan Riau", "Batam"),
    ("Lampung", "Bandar Lampung"),
    ("Kalimantan Timur", "East Kalimantan|Balikpapan|Samarinda"),
    ("Sulawesi Selatan", "South Sulawesi|Makassar"),
    ("Sulawesi Utara", "North Sulawesi|Manado"),
    ("Aceh", "Banda Aceh"),
    ("Papua", "Jayapura"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn characters_taken_as_nfkc_without_the_quick_check_are_nfkc_and_compose_with_none() {
        let stable: Vec<char> = (0..=0x10FFFF)
            .filter_map(char::from_u32)
            .filter(|c| stays_in_nfkc(*c))
            .collect();
        for c in &stable {
            let one = c.to_string();
            assert_eq!(one.nfkc().collect::<String>(), one, "U+{:04X}", u32::from(*c));
            assert_eq!(unicode_normalization::char::canonical_combining_class(*c), 0);
        }
        // No pair composes: every such character is a starter that nothing here combines with.
        for (i, a) in stable.iter().enumerate().step_by(97) {
            for b in stable.iter().skip(i % 89).step_by(89) {
                let pair: String = [*a, *b].into_iter().collect();
                assert_eq!(pair.nfkc().collect::<String>(), pair);
            }
        }
    }

    /// Regression (review item 13): this crate's own table lacked ○, 玖, 捌, 壹 and other forms
    /// the detector reads, so a phone written in them kept those digits past a mask.
    #[test]
    fn digits_the_detector_reads_are_digits_here() {
        let mut out = String::new();
        mask_digits("○玖○ 壹貳參肆 伍陸柒捌", 4, &mut out);
        assert_eq!(out, "****5678");
        out.clear();
        mask_alnum("TEL○玖○", 2, &mut out);
        assert_eq!(out, "****90");
    }

    #[test]
    fn thai_takes_the_general_nfkc_path_s_answer() {
        for c in ('\u{0E00}'..='\u{0E7F}').chain(['a', '1', 'あ', 'ア', '東']) {
            assert_eq!(
                thai_combining_class(c),
                unicode_normalization::char::canonical_combining_class(c),
                "U+{:04X}",
                u32::from(c)
            );
        }
        let general = |s: &str| s.nfkc().collect::<String>();
        let block: Vec<char> = ('\u{0E00}'..='\u{0E7F}').chain(['a', 'ア']).collect();
        for a in &block {
            for b in &block {
                let pair: String = [*a, *b].into_iter().collect();
                assert_eq!(thai_nfkc(&pair), general(&pair), "{pair:?}");
            }
        }
        let marks = [
            '\u{0E01}', '\u{0E33}', '\u{0E38}', '\u{0E39}', '\u{0E3A}', '\u{0E48}', '\u{0E4B}', '\u{0E4D}',
            'a',
        ];
        for a in marks {
            for b in marks {
                for c in marks {
                    for d in marks {
                        let four: String = [a, b, c, d].into_iter().collect();
                        assert_eq!(thai_nfkc(&four), general(&four), "{four:?}");
                    }
                }
            }
        }
        let address = "878/67 ซอยสุขุมวิท 31 ตำบลตลาดใหญ่ อำเภอเมืองภูเก็ต จังหวัดภูเก็ต";
        assert_eq!(nfkc(address), general(address));
        assert!(matches!(thai_nfkc("สุขุมวิท"), Cow::Borrowed(_)));
    }

    fn run(f: fn(&str, &mut String), v: &str) -> String {
        let mut out = String::new();
        f(v, &mut out);
        out
    }

    #[test]
    fn digit_masks_show_a_fixed_shape_and_at_most_half_the_digits() {
        let mask = |v: &str| {
            let mut out = String::new();
            mask_digits(v, 4, &mut out);
            out
        };
        assert_eq!(mask("090-1234-5678"), "****5678");
        // Regression: the name beside the number came back with it.
        assert_eq!(mask("山田太郎 090-1234-5678"), "****5678");
        assert_eq!(mask("〇九〇ー一二三四ー五六七八"), "****5678");
        assert_eq!(mask("๐๘๑๒๓๔๕๖๗๘"), "****5678");
        assert_eq!(mask("１２３"), "****3");
        assert_eq!(mask("no digits at all"), "****");
    }

    #[test]
    fn addresses_keep_only_a_listed_region() {
        // Regression: a romanised or comma-separated address gave back its last segment.
        assert_eq!(run(region, "Bangkok, 0812345678"), "กรุงเทพมหานคร");
        assert_eq!(
            run(region, "1-2-3 Nakasange, Kita-ku, Okayama 709-1214"),
            "岡山県"
        );
        assert_eq!(run(region, "東京都新宿区西新宿2-8-1"), "東京都");
        assert_eq!(run(region, "臺北市大安區忠孝東路四段1號"), "臺北市");
        assert_eq!(
            run(
                region,
                "Jl. Diponegoro No. 5, RT 001/RW 002, Menteng, Jakarta Pusat"
            ),
            "DKI Jakarta"
        );
        assert_eq!(run(region, "ตำบลสุเทพ อำเภอเมืองเชียงใหม่ จังหวัดเชียงใหม่"), "เชียงใหม่");
        assert_eq!(run(region, "Flat 3, 12 Some Road, Smalltown, 0812345678"), "***");
        assert_eq!(run(region, "Naradhiwas Road 5"), "***");
    }

    #[test]
    fn postal_codes_show_fewer_than_half_their_digits() {
        assert_eq!(run(postal_prefix, "709-1214"), "709****");
        assert_eq!(run(postal_prefix, "10110"), "10****");
        assert_eq!(run(postal_prefix, "106"), "1****");
        assert_eq!(run(postal_prefix, "７０９－１２１４"), "709****");
        assert_eq!(run(postal_prefix, "1"), "****");
    }

    #[test]
    fn e_mail_masks_keep_only_public_providers() {
        assert_eq!(run(mask_email, "taro.yamada@gmail.com"), "t***@gmail.com");
        assert_eq!(run(mask_email, "taro@yamada-family.jp"), "t***@***");
        assert_eq!(run(mask_email, "ｔａｒｏ＠ＧＭＡＩＬ．ＣＯＭ"), "t***@gmail.com");
        assert_eq!(run(mask_email, "山田@gmail.com"), "****@gmail.com");
        assert_eq!(run(mask_email, "no at sign"), "***");
    }
}
