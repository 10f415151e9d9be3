//! Street addresses in English (ADDRESS): a house number, the street's name and its suffix,
//! then perhaps a unit, the city and the state: `1189 Maple Ave, Apt 4B, Columbus, OH`,
//! `27 Harbour Street, Whitby`, `350 5th Ave #12`, `221B Baker Street`.
//!
//! The structured pass stops at every digit run, so it asks here when a short run is followed
//! by a space and a capital letter or a digit; nothing is paid per byte. The ZIP code or
//! postcode after the address is a POSTAL_CODE of its own, as the evaluation sets label it.
//! A number and capitalised words are not enough: the street's suffix decides ("3 main roads",
//! "Route 66" and "Top 10 Best Way to…" are prose), and a suffix that is also an ordinary word
//! (Way, Place, Square, Park…) counts only with a unit, a city or a cue word ("lives at").
//!
//! SPEC: USPS Publication 28, Appendix C1 (street suffix abbreviations) and C2 (secondary
//! unit designators).

use kamei_core::PiiType;

use crate::names::Found;

/// Street suffixes that name a street and little else (USPS C1's common ones, in the forms
/// people write, and their British counterparts).
const STRONG: &[&str] = &[
    "St",
    "Street",
    "Ave",
    "Av",
    "Avenue",
    "Rd",
    "Road",
    "Blvd",
    "Boulevard",
    "Ln",
    "Lane",
    "Pkwy",
    "Parkway",
    "Hwy",
    "Highway",
    "Ct",
    "Cir",
    "Pl",
    "Ter",
    "Terrace",
    "Crescent",
    "Cres",
    "Gardens",
    "Mews",
    "Trl",
    "Expy",
    "Fwy",
    "Sq",
];

/// Suffixes that are ordinary words too: they need a unit, a city or a cue word ("4 Data
/// Drive" is a disk, "2 Hard Drive bays" too).
const WEAK: &[&str] = &[
    "Dr", "Drive", "Loop", "Way", "Place", "Court", "Square", "Circle", "Close", "Row", "Walk", "Grove",
    "Hill", "Park", "Plaza", "Trail", "Alley", "Green", "View",
];

/// Secondary unit designators (USPS C2) and `#`.
const UNITS: &[&str] = &[
    "Apt",
    "Apartment",
    "Unit",
    "Suite",
    "Ste",
    "Fl",
    "Floor",
    "Rm",
    "Room",
    "Bldg",
    "Flat",
    "No",
];

/// Directions before or after a street's name.
const DIRECTIONS: &[&str] = &[
    "N", "S", "E", "W", "NE", "NW", "SE", "SW", "North", "South", "East", "West",
];

/// Words before the house number that say an address follows.
const CUES: &[&str] = &[
    "live at ",
    "lives at ",
    "living at ",
    "located at ",
    "moved to ",
    "move to ",
    "ship to ",
    "send to ",
    "send it to ",
    "deliver to ",
    "address is ",
    "address: ",
    "address ",
    "addr: ",
];

/// The ASCII word (letters, digits, `'`, `-`) at `at`: its end.
fn word_end(b: &[u8], at: usize) -> usize {
    let mut k = at;
    while k < b.len() && (b[k].is_ascii_alphanumeric() || b[k] == b'\'' || b[k] == b'-') {
        k += 1;
    }
    k
}

/// Capitalised words that start no street's name: articles and possessives ("chapter 12 The
/// Long Road"), and the words before Drive that make it a disk ("5 Google Drive files").
const NOT_NAMES: &[&str] = &[
    "The", "A", "An", "My", "Our", "Your", "His", "Her", "Their", "This", "That", "Google", "Hard", "Flash",
    "Test", "External", "Thumb", "Disk", "Solid", "Shared", "Network",
];

/// Whether `w` is one of `list`, as written or in capitals (`ST`, `AVE`).
fn listed(list: &[&str], w: &[u8]) -> bool {
    list.iter()
        .any(|s| s.as_bytes() == w || (s.as_bytes().eq_ignore_ascii_case(w) && all_caps(w)))
}

fn all_caps(w: &[u8]) -> bool {
    !w.iter().any(u8::is_ascii_lowercase)
}

/// A word of a street's name: capitalised (`Maple`, `O'Neil`), in capitals (`MAIN`), or an
/// ordinal (`5th`, `42nd`).
fn name_word(w: &[u8]) -> bool {
    let capitalised = w.len() >= 2
        && w[0].is_ascii_uppercase()
        && (w[1..]
            .iter()
            .all(|c| c.is_ascii_lowercase() || matches!(c, b'\'' | b'-'))
            || w.iter().all(u8::is_ascii_uppercase));
    let digits = w.iter().take_while(|c| c.is_ascii_digit()).count();
    let ordinal = (1..=3).contains(&digits) && matches!(&w[digits..], b"st" | b"nd" | b"rd" | b"th");
    (capitalised && !NOT_NAMES.iter().any(|n| n.as_bytes() == w)) || ordinal
}

/// The street address whose house number spans `start..number_end` (digits, perhaps one
/// capital: 221B), followed by a space.
pub(crate) fn address(text: &str, start: usize, number_end: usize) -> Option<Found> {
    let b = text.as_bytes();
    // A number inside something else (`#12`, `$5`, `v2`, `3.5`) is no house number.
    if start > 0
        && !matches!(
            b[start - 1],
            b' ' | b'(' | b'"' | b'\'' | b',' | b':' | b'\n' | b'\t'
        )
    {
        return None;
    }
    // Most numbers before a space are followed by another number or a lower-case word.
    let first = &b[number_end + 1..word_end(b, number_end + 1)];
    if !(name_word(first) || listed(DIRECTIONS, first)) {
        return None;
    }
    // A year after `in`, `since`, `by` (In 2019 Main Street was…).
    if number_end - start == 4 && matches!(&b[start..start + 2], b"19" | b"20") {
        let before = text[..start].trim_end();
        let last = before.rsplit(' ').next().unwrap_or(before);
        if ["in", "In", "since", "Since", "by", "from", "of", "until"].contains(&last) {
            return None;
        }
    }
    // Up to four words of the name (a direction first is one of them), then the suffix.
    let mut at = number_end + 1;
    let mut suffix_end = None;
    let mut strong = false;
    // A name in capitals (MAIN) goes with a suffix in capitals (ST): "2 TB Drive" is a disk.
    let mut caps = false;
    for names in 0..5 {
        let e = word_end(b, at);
        let w = &b[at..e];
        if w.is_empty() {
            return None;
        }
        if names > 0 && (listed(STRONG, w) || listed(WEAK, w)) && (!caps || all_caps(w)) {
            strong = listed(STRONG, w);
            suffix_end = Some(e);
            break;
        }
        if !(name_word(w) || listed(DIRECTIONS, w)) {
            return None;
        }
        caps |= w.len() >= 2 && all_caps(w) && !listed(DIRECTIONS, w) && !w[0].is_ascii_digit();
        if b.get(e) != Some(&b' ') {
            return None;
        }
        at = e + 1;
    }
    let mut end = suffix_end?;
    if b.get(end) == Some(&b'.') {
        end += 1;
    }
    // A direction after the suffix (Pennsylvania Avenue NW).
    if b.get(end) == Some(&b' ') {
        let e = word_end(b, end + 1);
        if e > end + 1
            && listed(DIRECTIONS, &b[end + 1..e])
            && b.get(e).is_none_or(|c| !c.is_ascii_alphanumeric())
        {
            end = e;
        }
    }
    let mut tail = false;
    // A unit: `, Apt 4B`, ` #12`, ` Suite 300`.
    if let Some(e) = unit(b, end) {
        end = e;
        tail = true;
    }
    // The city: capitalised words after a comma (`, Columbus`, `, Salt Lake City`), and a
    // district before it (`, Didsbury, Manchester`).
    if let Some(e) = city(b, end) {
        end = city(b, e).unwrap_or(e);
        tail = true;
        // The state after the city: `, OH`, ` OH`.
        let s = if b.get(end) == Some(&b',') { end + 1 } else { end };
        if b.get(s) == Some(&b' ') {
            let e = word_end(b, s + 1);
            if e == s + 3
                && crate::numeric::us_state(&b[s + 1..e])
                && b.get(e).is_none_or(|c| !c.is_ascii_alphabetic())
            {
                end = e;
            }
        }
    }
    let cue = CUES.iter().any(|c| {
        start >= c.len()
            && text
                .get(start - c.len()..start)
                .is_some_and(|t| t.eq_ignore_ascii_case(c))
    });
    if !strong && !tail && !cue {
        return None;
    }
    let score = if tail || cue { 0.85 } else { 0.7 };
    Some(Found {
        pii_type: PiiType::Address,
        start,
        end,
        score,
    })
}

/// A unit designator and its number after `at` (`, Apt 4B`, ` #12`, ` Suite 300`): its end.
fn unit(b: &[u8], at: usize) -> Option<usize> {
    let mut k = at;
    if b.get(k) == Some(&b',') {
        k += 1;
    }
    if b.get(k) != Some(&b' ') {
        return None;
    }
    k += 1;
    if b.get(k) == Some(&b'#') {
        k += 1;
    } else {
        let e = word_end(b, k);
        if !listed(UNITS, &b[k..e]) {
            return None;
        }
        k = e;
        if b.get(k) == Some(&b'.') {
            k += 1;
        }
        if b.get(k) == Some(&b' ') {
            k += 1;
        }
        if b.get(k) == Some(&b'#') {
            k += 1;
        }
    }
    let e = word_end(b, k);
    let id = &b[k..e];
    (!id.is_empty() && id.len() <= 6 && id.iter().any(u8::is_ascii_digit)).then_some(e)
}

/// A city after a comma at `at`: one to three capitalised words. Its end.
fn city(b: &[u8], at: usize) -> Option<usize> {
    if b.get(at..at + 2) != Some(b", ") {
        return None;
    }
    let mut k = at + 2;
    let mut end = None;
    for _ in 0..3 {
        let e = word_end(b, k);
        let w = &b[k..e];
        let capitalised = w.len() >= 3
            && w[0].is_ascii_uppercase()
            && w[1..].iter().all(|c| c.is_ascii_lowercase() || *c == b'-');
        if !capitalised {
            break;
        }
        end = Some(e);
        if b.get(e) != Some(&b' ') {
            break;
        }
        k = e + 1;
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The address at the first digit of `text`.
    fn span(text: &str) -> Option<&str> {
        let b = text.as_bytes();
        let start = b.iter().position(u8::is_ascii_digit)?;
        let mut e = start;
        while e < b.len() && b[e].is_ascii_digit() {
            e += 1;
        }
        if b.get(e).is_some_and(u8::is_ascii_uppercase) {
            e += 1;
        }
        address(text, start, e).map(|f| &text[f.start..f.end])
    }

    #[test]
    fn street_addresses_with_units_cities_and_states() {
        for (text, want) in [
            (
                "i moved! 1189 Maple Ave, Apt 4B, Columbus, OH 43206",
                "1189 Maple Ave, Apt 4B, Columbus, OH",
            ),
            (
                "the vet is at 27 Harbour Street, Whitby YO21 3DT",
                "27 Harbour Street, Whitby",
            ),
            (
                "1600 Pennsylvania Avenue NW, Washington, DC 20500",
                "1600 Pennsylvania Avenue NW, Washington, DC",
            ),
            ("office: 350 5th Ave #12 see you", "350 5th Ave #12"),
            (
                "ship to 42 W 23rd St. Suite 300, New York, NY 10010",
                "42 W 23rd St. Suite 300, New York, NY",
            ),
            ("221B Baker Street, London", "221B Baker Street, London"),
            (
                "88 Kingfisher Lane, Leeds, go say hi",
                "88 Kingfisher Lane, Leeds",
            ),
            ("meet at 12 Oak St tomorrow", "12 Oak St"),
            (
                "Deliver to 1 Infinite Loop, Cupertino, CA 95014",
                "1 Infinite Loop, Cupertino, CA",
            ),
            ("8 Mulholland Dr, Los Angeles", "8 Mulholland Dr, Los Angeles"),
            ("she lives at 5 Hanover Square now", "5 Hanover Square"),
            ("14 Elmfield Road, Bristol BS8 3JQ", "14 Elmfield Road, Bristol"),
            (
                "58 Wren Close, Didsbury, Manchester M20 6RT",
                "58 Wren Close, Didsbury, Manchester",
            ),
            ("123 MAIN ST, Springfield", "123 MAIN ST, Springfield"),
        ] {
            assert_eq!(span(text), Some(want), "{text}");
        }
    }

    #[test]
    fn numbers_before_capitalised_words_are_not_addresses() {
        for text in [
            "I have 3 main roads to cross",
            "Route 66 is closed",
            "Top 10 Best Way to cook rice",
            "we need 2 Park passes",
            "In 2019 Main Street was closed",
            "I scored 3 Goals",
            "price $5 Main St deal",
            "chapter 12 The Long Road",
            "v2 Oak Street",
            "upload 5 Google Drive files",
            "I bought 2 TB Drive",
            "See section 4 Data Drive",
        ] {
            assert_eq!(span(text), None, "{text}");
        }
    }
}
