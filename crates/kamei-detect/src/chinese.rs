//! Chinese names as written in Taiwan: a common surname and a one- or two-character given
//! name, found where the text points at a person — the title after the name (陳先生,
//! 黃雅婷小姐, 郭秀蓮老師), a word before it (姓名：蘇怡安, 戶名 李承翰, 跟淑芬說), or a list
//! of names (楊博翔、洪詩涵、鄭志遠).
//!
//! Only text without kana is read this way: in Japanese text the same characters are Japanese
//! names and words, which `names.rs` reads with its own lists. There is no given-name list:
//! Chinese given names are free combinations of characters, so the surname and the shape (two
//! or three characters between boundaries) carry the decision, and the scores say so.

use kamei_core::PiiType;

use crate::names::Found;

/// Characters that may stand right before a name: prepositions and verbs that take a person
/// (給黃雅婷小姐, 跟淑芬, 問林先生).
const BEFORE_NAME: &str = "給给跟和與与找問问請请是叫向對对讓让被替幫帮告訴诉";

fn is_han(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}')
}

/// The most common surnames in Taiwan (about 95 % of the population), in traditional and the
/// simplified or Japanese forms people also type. A `matches!` compiles to a few comparisons,
/// where searching a string of them cost a scan per call.
#[rustfmt::skip]
pub(crate) fn is_surname(c: char) -> bool {
    matches!(c, '陳' | '林' | '黃' | '黄' | '張' | '张' | '李' | '王' | '吳' | '吴' | '劉' | '刘' | '蔡' | '楊' | '杨' | '許' | '许' | '鄭' | '郑' | '謝' | '谢' | '洪' | '郭' | '邱' | '曾' | '廖' | '賴' | '赖' | '徐' | '周' | '葉' | '叶' | '蘇' | '苏' | '莊' | '庄' | '呂' | '吕' | '江' | '何' | '蕭' | '萧' | '羅' | '罗' | '高' | '潘' | '簡' | '简' | '朱' | '鍾' | '钟' | '游' | '彭' | '詹' | '胡' | '施' | '沈' | '余' | '盧' | '卢' | '梁' | '趙' | '赵' | '顏' | '颜' | '柯' | '翁' | '魏' | '孫' | '孙' | '戴' | '范' | '方' | '宋' | '鄧' | '邓' | '杜' | '傅' | '侯' | '曹' | '薛' | '丁' | '卓' | '阮' | '馬' | '马' | '董' | '溫' | '温' | '唐' | '藍' | '蓝' | '石' | '蔣' | '蒋' | '古' | '紀' | '纪' | '姚' | '連' | '连' | '馮' | '冯' | '歐' | '欧' | '程' | '湯' | '汤' | '田' | '康' | '姜' | '白' | '汪' | '鄒' | '邹' | '尤' | '巫' | '鐘' | '黎' | '涂' | '龔' | '龚' | '嚴' | '严' | '韓' | '韩' | '袁' | '金' | '童' | '陸' | '陆' | '夏' | '柳' | '凃' | '邵' | '錢' | '钱' | '伍' | '倪' | '于' | '譚' | '谭' | '駱' | '骆' | '熊' | '任' | '甘' | '秦' | '顧' | '顾' | '毛' | '章' | '史' | '官' | '萬' | '万' | '俞' | '雷' | '粘' | '饒' | '饶')
}

/// Whether `c` (the character before a name, if any) ends what came before.
fn boundary_before(c: Option<char>) -> bool {
    c.is_none_or(|c| !is_han(c) || BEFORE_NAME.contains(c))
}

/// Whether the text has kana, which makes it Japanese.
pub(crate) fn has_kana(text: &str) -> bool {
    // Hiragana and katakana are U+3040..U+30FF: UTF-8 E3 81 80 .. E3 83 BF.
    text.as_bytes()
        .windows(2)
        .any(|w| w[0] == 0xE3 && (0x81..=0x83).contains(&w[1]))
}

/// A name that ends at `end`, where a title starts (先生, 小姐, 老師): the surname and up to
/// two characters, or the surname alone.
pub(crate) fn before_title(text: &str, end: usize) -> Option<Found> {
    let before: Vec<(usize, char)> = text[..end].char_indices().rev().take(4).collect();
    for k in (1..=3).rev() {
        let Some(&(start, first)) = before.get(k - 1) else {
            continue;
        };
        let all_han = before[..k].iter().all(|&(_, c)| is_han(c));
        if all_han && is_surname(first) && boundary_before(before.get(k).map(|&(_, c)| c)) {
            return Some(Found {
                pii_type: PiiType::Person,
                start,
                end,
                score: if k == 1 { 0.75 } else { 0.85 },
            });
        }
    }
    None
}

/// A name right after a word that introduces one (姓名：, 戶名, 收件人, 跟): a surname and one
/// or two characters, or after 跟 a given name alone when 說 or 講 follows (跟淑芬說).
pub(crate) fn after_cue(text: &str, mut at: usize) -> Option<Found> {
    for c in text[at..].chars().take(2) {
        if matches!(c, '：' | ':' | ' ' | '　') {
            at += c.len_utf8();
        } else {
            break;
        }
    }
    let run: Vec<(usize, char)> = text[at..]
        .char_indices()
        .take_while(|&(_, c)| is_han(c))
        .take(5)
        .collect();
    let end_of = |k: usize| at + run[..k].iter().map(|&(_, c)| c.len_utf8()).sum::<usize>();
    // A given name alone before a verb of telling (跟淑芬說一聲).
    for k in [2, 3] {
        if run
            .get(k)
            .is_some_and(|&(_, c)| matches!(c, '說' | '说' | '講' | '讲'))
        {
            return Some(Found {
                pii_type: PiiType::Person,
                start: at,
                end: end_of(k),
                score: 0.7,
            });
        }
    }
    let first = run.first()?.1;
    if !is_surname(first) {
        return None;
    }
    // Surname and given name, ending where the Han run ends (or before a particle).
    let k = match run.len() {
        2 | 3 => run.len(),
        _ if run
            .get(3)
            .is_some_and(|&(_, c)| "的說说是在住換换要會会已".contains(c)) =>
        {
            3
        }
        _ => return None,
    };
    Some(Found {
        pii_type: PiiType::Person,
        start: at,
        end: end_of(k),
        score: 0.8,
    })
}

/// Titles, which end a name and are never part of one (張老師 is 張).
const TITLES: &[&str] = &[
    "先生", "小姐", "女士", "老師", "老师", "太太", "醫師", "經理", "同學", "阿姨", "主任", "律師",
];

/// Characters that follow a name as the subject of a sentence (林志豪換手機了, 李淑芬住在…).
const AFTER_SUBJECT: &str = "的說说是在住換换要會会已打跟和也都還还去來来有，,、 ";

/// A name that opens a text or a quotation (「許家瑋住在…): a surname and two characters,
/// then a verb or a comma. Stricter than after a cue word, since nothing announced a name.
pub(crate) fn opening(text: &str, at: usize) -> Option<Found> {
    let chars: Vec<(usize, char)> = text[at..].char_indices().take(4).collect();
    if chars.len() < 4 || !chars[..3].iter().all(|&(_, c)| is_han(c)) || !is_surname(chars[0].1) {
        return None;
    }
    let given = &text[at + chars[1].0..at + chars[3].0];
    if TITLES
        .iter()
        .any(|t| given.starts_with(t) || given.ends_with(&t[..3]))
        || !AFTER_SUBJECT.contains(chars[3].1)
    {
        return None;
    }
    Some(Found {
        pii_type: PiiType::Person,
        start: at,
        end: at + chars[3].0,
        score: 0.6,
    })
}

/// The names that follow `end` as a list (楊博翔、洪詩涵、鄭志遠): three Han characters
/// starting with a surname after each `、`.
pub(crate) fn list_after(text: &str, mut end: usize, out: &mut Vec<Found>) {
    while let Some(rest) = text[end..].strip_prefix('、') {
        let from = text.len() - rest.len();
        let a: Vec<(usize, char)> = rest.char_indices().take(4).collect();
        let item = a.len() >= 3
            && a[..3].iter().all(|&(_, c)| is_han(c))
            && is_surname(a[0].1)
            && a.get(3).is_none_or(|&(_, c)| !is_han(c));
        if !item {
            return;
        }
        end = from + a[..3].iter().map(|&(_, c)| c.len_utf8()).sum::<usize>();
        out.push(Found {
            pii_type: PiiType::Person,
            start: from,
            end,
            score: 0.65,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(text: &str, f: Option<Found>) -> Option<&str> {
        f.map(|f| &text[f.start..f.end])
    }

    #[test]
    fn names_before_titles_after_cues_and_in_lists() {
        let t = "黃雅婷小姐的包裹";
        assert_eq!(
            span(t, before_title(t, t.find("小姐").unwrap_or(0))),
            Some("黃雅婷")
        );
        let t = "陳先生，會議改到";
        assert_eq!(span(t, before_title(t, t.find("先生").unwrap_or(0))), Some("陳"));
        let t = "戶名 李承翰";
        assert_eq!(span(t, after_cue(t, "戶名".len())), Some("李承翰"));
        let t = "幫我跟淑芬說一聲";
        assert_eq!(span(t, after_cue(t, t.find('跟').unwrap_or(0) + 3)), Some("淑芬"));
        let t = "出差名單：楊博翔、洪詩涵、鄭志遠，航班";
        let first = after_cue(t, t.find('：').unwrap_or(0));
        assert_eq!(span(t, first), Some("楊博翔"));
        let mut out = Vec::new();
        list_after(t, first.map_or(0, |f| f.end), &mut out);
        let names: Vec<&str> = out.iter().map(|f| &t[f.start..f.end]).collect();
        assert_eq!(names, ["洪詩涵", "鄭志遠"]);
    }

    #[test]
    fn words_that_are_not_names() {
        // Not a surname first; a long run of Han characters is a phrase.
        let t = "請找客服人員先生";
        assert_eq!(span(t, before_title(t, t.find("先生").unwrap_or(0))), None);
        let t = "戶名 李承翰公司行號";
        assert_eq!(span(t, after_cue(t, "戶名".len())), None);
        assert_eq!(
            span("林志豪換手機了", opening("林志豪換手機了", 0)),
            Some("林志豪")
        );
        assert_eq!(span("連絡先：0759", opening("連絡先：0759", 0)), None);
        assert_eq!(span("張老師說", opening("張老師說", 0)), None);
        assert_eq!(span("謝謝", opening("謝謝", 0)), None);
        assert!(has_kana("田中さん"));
        assert!(!has_kana("陳先生"));
    }
}
