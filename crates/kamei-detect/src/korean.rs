//! Korean addresses (ADDRESS) and the province names a postal code stands in front of.
//!
//! A road-name address (도로명주소) is a province or metropolitan city, a district (구, 군
//! or 시, and for a city with wards both: 성남시 분당구), the road (a name ending in 로 or 길,
//! 테헤란로, 판교역로, 강남대로94길) and the building number, then perhaps the building's
//! block, unit and floor (101동 1001호, 12층) or a note in brackets (역삼동). The older lot
//! form (지번주소) names a neighbourhood (동, 리, 가) and a lot number (역삼동 123-45) instead of
//! the road. The name pass stops at a district word followed by a space (`구 `, `군 `, `시 `)
//! and asks here; in prose those are mostly hours (3시) or words that do not continue as an
//! address, which the shape below turns away at the first token.
//!
//! SPEC: 도로명주소법 (Road Name Address Act) and its enforcement decree, Art. 3 (the order
//! of an address's parts).

use kamei_core::PiiType;

use crate::names::Found;

/// Provinces and metropolitan cities, in full and in the short forms people write.
const PROVINCES: &[&str] = &[
    "서울특별시",
    "부산광역시",
    "대구광역시",
    "인천광역시",
    "광주광역시",
    "대전광역시",
    "울산광역시",
    "세종특별자치시",
    "경기도",
    "강원도",
    "강원특별자치도",
    "충청북도",
    "충청남도",
    "전라북도",
    "전북특별자치도",
    "전라남도",
    "경상북도",
    "경상남도",
    "제주특별자치도",
    "서울시",
    "부산시",
    "대구시",
    "인천시",
    "광주시",
    "대전시",
    "울산시",
    "세종시",
    "제주도",
    "서울",
    "부산",
    "대구",
    "인천",
    "광주",
    "대전",
    "울산",
    "세종",
    "경기",
    "강원",
    "충북",
    "충남",
    "전북",
    "전남",
    "경북",
    "경남",
    "제주",
];

fn is_hangul(c: char) -> bool {
    matches!(c, '\u{AC00}'..='\u{D7A3}')
}

/// The Hangul token (syllables only) that ends at `end`, from 2 to `max` syllables: its start.
fn token_before(text: &str, end: usize, max: usize) -> Option<usize> {
    let mut start = end;
    let mut n = 0;
    for (i, c) in text[..end].char_indices().rev() {
        if !is_hangul(c) {
            if !(c == ' ' || c == ',' || c == '(' || c == '\u{3000}' || !c.is_alphanumeric()) {
                return None;
            }
            break;
        }
        n += 1;
        if n > max {
            return None;
        }
        start = i;
    }
    (n >= 2).then_some(start)
}

/// The token of Hangul syllables and ASCII digits that starts at `at`, up to 12 characters:
/// its end.
fn token_at(text: &str, at: usize) -> Option<usize> {
    let mut end = at;
    for (n, c) in text[at..].chars().enumerate() {
        if !(is_hangul(c) || c.is_ascii_digit()) {
            break;
        }
        if n >= 12 {
            return None;
        }
        end += c.len_utf8();
    }
    (end > at).then_some(end)
}

/// A province name that starts at `at` and stands as a word: its end.
pub(crate) fn province_at(text: &str, at: usize) -> Option<usize> {
    let end = token_at(text, at)?;
    PROVINCES.contains(&&text[at..end]).then_some(end)
}

/// Whether the token `text[start..end]` is a province or metropolitan city.
fn is_province(token: &str) -> bool {
    PROVINCES.contains(&token) || token.ends_with("특별시") || token.ends_with("광역시")
}

/// A building or lot number at `at` (123, 123-4): its end, when what follows is not a unit
/// that makes it a time, a count or a price (3시, 2명, 5000원).
fn number_at(text: &str, at: usize) -> Option<usize> {
    let b = text.as_bytes();
    let digits = |from: usize| {
        let mut k = from;
        while k < b.len() && b[k].is_ascii_digit() && k - from < 5 {
            k += 1;
        }
        (k > from).then_some(k)
    };
    let mut end = digits(at)?;
    if b.get(end) == Some(&b'-')
        && let Some(e) = digits(end + 1)
    {
        end = e;
    }
    if b.get(end).is_some_and(u8::is_ascii_alphanumeric) {
        return None;
    }
    let rest = &text[end..];
    match rest.chars().next() {
        Some(c) if is_hangul(c) => ["에", "번지", "이", "으로", "로", "까지"]
            .iter()
            .any(|p| rest.starts_with(p))
            .then_some(if rest.starts_with("번지") {
                end + "번지".len()
            } else {
                end
            }),
        _ => Some(end),
    }
}

/// The address around a district word that ends at `trigger_end` (the `구`, `군` or `시`
/// before a space).
pub(crate) fn address(text: &str, trigger_end: usize) -> Option<Found> {
    // The district token, and a province before it.
    let mut start = token_before(text, trigger_end, 7)?;
    if let Some(before) = text[..start].strip_suffix(' ')
        && let Some(s) = token_before(text, before.len(), 7)
        && is_province(&text[s..before.len()])
    {
        start = s;
    }
    // Wards and towns after it (분당구, 양평읍), then the road, or a neighbourhood and a lot.
    let mut at = trigger_end + 1;
    let mut steps = 0;
    loop {
        let end = token_at(text, at)?;
        let token = &text[at..end];
        let last = token.chars().next_back()?;
        let after = text[end..].strip_prefix(' ').map(|r| text.len() - r.len());
        if matches!(last, '구' | '군' | '시' | '읍' | '면') && steps < 2 && token.chars().count() >= 2 {
            at = after?;
            steps += 1;
            continue;
        }
        let road = matches!(last, '로' | '길') && token.chars().count() >= 2;
        let lot = matches!(last, '동' | '리' | '가') && token.chars().count() >= 2;
        if !(road || lot) {
            return None;
        }
        // The number: glued to the road (테헤란로123) or after a space.
        let n_at = match after {
            Some(a) => a,
            None if road && text.as_bytes().get(end).is_some_and(u8::is_ascii_digit) => end,
            None => return None,
        };
        let n_end = number_at(text, n_at)?;
        // A lot number is written with its branch (123-45) or 번지; a bare one is a count.
        if lot && !text[n_at..n_end].contains(['-', '번']) {
            return None;
        }
        let end = details(text, n_end);
        return Some(Found {
            pii_type: PiiType::Address,
            start,
            end,
            score: 0.85,
        });
    }
}

/// The block, unit and floor after a building number (`, 101동 1001호`, ` 12층`) and a note
/// in brackets (` (역삼동)`, `(역삼동, 삼성빌딩)`): where the address ends.
fn details(text: &str, mut end: usize) -> usize {
    for _ in 0..3 {
        let rest = &text[end..];
        let skip = if rest.starts_with(", ") {
            2
        } else if rest.starts_with(' ') || rest.starts_with(',') {
            1
        } else {
            0
        };
        let r = &rest[skip..];
        let digits = r.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 && digits <= 5 && ["동", "호", "층"].iter().any(|u| r[digits..].starts_with(u)) {
            end += skip + digits + 3;
            continue;
        }
        if let Some(inner) = r.strip_prefix('(')
            && let Some(close) = inner.find(')')
            && close <= 60
            && inner.chars().next().is_some_and(is_hangul)
        {
            end += skip + 1 + close + 1;
            continue;
        }
        break;
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(text: &str) -> Option<&str> {
        // The trigger the name pass would stop at: the first district word before a space.
        let mut from = 0;
        while let Some(k) = text[from..].find(['구', '군', '시']) {
            let end = from + k + 3;
            if text[end..].starts_with(' ')
                && let Some(f) = address(text, end)
            {
                return Some(&text[f.start..f.end]);
            }
            from = end;
        }
        None
    }

    #[test]
    fn road_name_and_lot_addresses() {
        for (text, want) in [
            (
                "서울특별시 강남구 테헤란로 152 강남파이낸스센터",
                "서울특별시 강남구 테헤란로 152",
            ),
            (
                "주소: 서울 강남구 테헤란로 123, 12층",
                "서울 강남구 테헤란로 123, 12층",
            ),
            (
                "부산광역시 해운대구 해운대로 570 으로 보내주세요",
                "부산광역시 해운대구 해운대로 570",
            ),
            (
                "경기도 성남시 분당구 판교역로 235 (삼평동)",
                "경기도 성남시 분당구 판교역로 235 (삼평동)",
            ),
            (
                "강남구 강남대로94길 15, 101동 1001호 입니다",
                "강남구 강남대로94길 15, 101동 1001호",
            ),
            ("세종특별자치시 한누리대로 2130", "세종특별자치시 한누리대로 2130"),
            ("양평군 양평읍 양평로 12-3", "양평군 양평읍 양평로 12-3"),
            (
                "서울시 강남구 역삼동 123-45번지",
                "서울시 강남구 역삼동 123-45번지",
            ),
            ("마포구 월드컵로 10에서 만나요", "마포구 월드컵로 10"),
        ] {
            assert_eq!(span(text), Some(want), "{text}");
        }
    }

    #[test]
    fn hours_counts_and_prose_are_not_addresses() {
        for text in [
            "내일 3시 강남역에서 봐",
            "강남구 사람들이 2명 왔어",
            "회사 끝나고 집으로 갈게",
            "서울시 인구는 900만 명",
            "강남구 회사로 3시까지 와",
            "역삼동 3 번 출구",
            "강남구 역삼동 3개 남았어",
        ] {
            assert_eq!(span(text), None, "{text}");
        }
    }

    #[test]
    fn provinces_after_a_postal_code() {
        assert_eq!(province_at("서울특별시 강남구", 0), Some("서울특별시".len()));
        assert_eq!(province_at("서울 강남구", 0), Some("서울".len()));
        assert_eq!(province_at("서울역 앞", 0), None);
    }
}
