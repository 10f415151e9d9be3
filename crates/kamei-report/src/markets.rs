//! The breach-notification rules of the demo world's markets, and their deadlines from the
//! time a breach was discovered: Japan's APPI in full (the triage decides it), and Thailand,
//! Taiwan, Indonesia and the EU as the rule each states, with the number of their residents in
//! the selection, so a privacy officer sees every clock that may be running.
//!
//! The texts paraphrase the statutes; each names its source so that a reader checks the
//! original. Deadlines are computed, never judged: whether a rule applies at all (the risk
//! tests of Thailand and the EU, the GDPR's territorial scope) is the reader's call, and the
//! output says so.

use chrono::{DateTime, Datelike as _, Days, NaiveDate};
use kamei_audit::Timestamp;
use serde::Serialize;

/// Japan's offset from UTC (no daylight saving time): APPI deadlines count Japanese calendar
/// days.
const JST: i64 = 9 * 3_600;

/// EU member states and the EEA (where the GDPR applies through the EEA Agreement), ISO
/// 3166-1 alpha-2.
pub const EU_EEA: [&str; 30] = [
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV", "LT",
    "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO",
];

/// A deadline: what is due, by when, and the rule that sets it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deadline {
    pub what: &'static str,
    /// When it is due, as the rule counts (a JST date for Japan, a UTC instant for a number of
    /// hours), or how the rule words it when it sets no time.
    pub due: String,
    pub source: &'static str,
}

/// Another market's rule, with the selection's subjects in that market.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MarketRule {
    pub market: &'static str,
    pub law: &'static str,
    /// The jurisdiction codes counted for it.
    pub jurisdictions: &'static str,
    /// Distinct subjects of the market whose personal data was read raw or masked, and only
    /// as pseudonyms.
    pub readable: u64,
    pub pseudonymized_only: u64,
    /// What the rule requires, in a sentence.
    pub rule: &'static str,
    pub deadlines: Vec<Deadline>,
    /// What the reader must still decide.
    pub note: &'static str,
}

fn plus(t: Timestamp, secs: i64) -> Timestamp {
    Timestamp {
        secs: t.secs.saturating_add(secs),
        nanos: t.nanos,
    }
}

/// How the Japanese deadlines are counted, said in every report that prints them: the PPC's
/// wording could not be checked here, so each open point takes the earlier date.
pub const JAPAN_COUNTING: &str = "days are counted in Japanese calendar days with the day the operator learned of the \
situation as day 1 (so \"within 30 days\" ends on day 30); a due date that falls on a weekend, a national holiday or \
29 December to 3 January is not moved to the next business day. Both are the earlier reading: check the PPC's \
guidelines (General Rules 3-5-3-3, 3-5-3-4) and Q&A for whether the day of learning counts and whether such a date \
moves";

/// The Japanese calendar day that holds `t`.
fn jst_day(t: Timestamp) -> Option<NaiveDate> {
    DateTime::from_timestamp(t.secs.checked_add(JST)?, 0).map(|d| d.date_naive())
}

/// The Japanese calendar date of day `n` of a period whose day 1 is the day that holds `t`
/// (JST), as `YYYY-MM-DD`; `None` past the calendar's range.
///
/// Day 1 is the day of learning itself: the earlier of the two readings of "within N days of
/// learning" (see [`JAPAN_COUNTING`]), which a report must not get late.
// SPEC: APPI Enforcement Rules Art. 8(2) ("当該事態を知った日から三十日以内"); PPC Guidelines
// (General Rules) 3-5-3-4. Not checked against the guideline's text here: day 1 = the day of
// learning, and no move past weekends or holidays, are the conservative choice.
pub fn jst_day_n(t: Timestamp, n: u32) -> Option<String> {
    let day = jst_day(t)?.checked_add_days(Days::new(u64::from(n.saturating_sub(1))))?;
    // Built from the date's fields, never by slicing a printed instant: a year past 9999 or
    // before 1 would otherwise print as garbage.
    (1..=9999)
        .contains(&day.year())
        .then(|| format!("{:04}-{:02}-{:02}", day.year(), day.month(), day.day()))
}

/// The Japanese calendar date that holds `t`.
pub fn jst_date(t: Timestamp) -> Option<String> {
    jst_day_n(t, 1)
}

fn day_n(t: Timestamp, n: u32) -> String {
    jst_day_n(t, n).unwrap_or_else(|| "(outside the calendar)".into())
}

/// `hours` after `t`, in canonical UTC.
fn after_hours(t: Timestamp, hours: i64) -> String {
    format!("{} ({hours} hours after discovery)", plus(t, hours * 3_600))
}

/// Japan's deadlines from discovery. `sixty` when the final report's 60-day limit applies
/// (Rules Art. 7(iii), an act with an improper purpose); `None` when that is still to be
/// judged, and both dates are given. Days are counted as [`JAPAN_COUNTING`] says.
// SPEC: APPI Enforcement Rules Art. 8(1), 8(2), Art. 10; PPC Guidelines (General Rules) 3-5-3-3, 3-5-3-4
pub fn japan_deadlines(discovered: Timestamp, sixty: Option<bool>) -> Vec<Deadline> {
    let final_due = match sixty {
        Some(false) => format!("by the end of {} JST (day 30)", day_n(discovered, 30)),
        Some(true) => format!(
            "by the end of {} JST (day 60: an act with an improper purpose)",
            day_n(discovered, 60)
        ),
        None => format!(
            "by the end of {} JST (day 30), or {} JST (day 60) if Rules Art. 7(iii) applies",
            day_n(discovered, 30),
            day_n(discovered, 60)
        ),
    };
    vec![
        Deadline {
            what: "preliminary report (速報) to the Personal Information Protection Commission",
            due: format!(
                "promptly; the PPC guidelines read this as about 3-5 days: days 3 to 5 are {} to {} JST",
                day_n(discovered, 3),
                day_n(discovered, 5)
            ),
            source: "APPI Art. 26(1); Enforcement Rules Art. 8(1); PPC Guidelines (General Rules) 3-5-3-3",
        },
        Deadline {
            what: "final report (確報) to the Personal Information Protection Commission",
            due: final_due,
            source: "APPI Art. 26(1); Enforcement Rules Art. 8(2); PPC Guidelines (General Rules) 3-5-3-4 \
                     (Japanese calendar days, the day the operator learned of it as day 1, no move past weekends or holidays)",
        },
        Deadline {
            what: "notice to the affected data subjects",
            due: "promptly, as the situation allows (a public announcement where notice is hard)".into(),
            source: "APPI Art. 26(2); Enforcement Rules Art. 10",
        },
    ]
}

/// The other markets' rules; `count(codes)` gives (readable, pseudonymized only) for the
/// selection's subjects of those jurisdictions.
pub fn other_markets(discovered: Timestamp, count: impl Fn(&[&str]) -> (u64, u64)) -> Vec<MarketRule> {
    let rule = |market, law, jurisdictions, codes: &[&str], rule, deadlines, note| {
        let (readable, pseudonymized_only) = count(codes);
        MarketRule {
            market,
            law,
            jurisdictions,
            readable,
            pseudonymized_only,
            rule,
            deadlines,
            note,
        }
    };
    vec![
        // SPEC: Thailand PDPA B.E. 2562 (2019) s.37(4)
        rule(
            "Thailand",
            "Personal Data Protection Act B.E. 2562 (2019)",
            "TH",
            &["TH"],
            "notify the Office of the PDPC without delay and, where feasible, within 72 hours of becoming aware; \
             if the breach is likely to result in a high risk to the persons, notify them too, with the remedies, without delay",
            vec![
                Deadline {
                    what: "notice to the Office of the Personal Data Protection Committee",
                    due: after_hours(discovered, 72),
                    source: "PDPA s.37(4); PDPC Notification on personal data breach notification (2022)",
                },
                Deadline {
                    what: "notice to the data subjects (high risk only)",
                    due: "without delay".into(),
                    source: "PDPA s.37(4)",
                },
            ],
            "no notice to the Office is due if the breach is unlikely to result in a risk to the persons: the reader judges the risk",
        ),
        // SPEC: Taiwan Personal Data Protection Act Art. 12; Enforcement Rules Art. 22
        rule(
            "Taiwan",
            "Personal Data Protection Act (amended 2023)",
            "TW",
            &["TW"],
            "notify the data subjects by appropriate means once the facts have been clarified (after the investigation); \
             the 2023 amendment created the Personal Data Protection Commission (PDPC) as the supervising authority and raised \
             the fines for failing to keep data secure",
            vec![Deadline {
                what: "notice to the data subjects",
                due: "after the facts have been clarified (no fixed number of days)".into(),
                source: "PDPA Art. 12; Enforcement Rules Art. 22; amendment of 2023-05-31 (PDPC, Art. 48)",
            }],
            "sector regulators' rules may also require notice to the competent authority (some within 72 hours); check the one \
             that governs the operator in Taiwan",
        ),
        // SPEC: Indonesia UU No. 27 Tahun 2022 (UU PDP) Art. 46
        rule(
            "Indonesia",
            "Law No. 27 of 2022 on Personal Data Protection (UU PDP)",
            "ID",
            &["ID"],
            "written notice within 3x24 hours to the data subjects and to the supervising institution: which data, when and how \
             it was disclosed, and what is done to contain and recover; in some cases the public must be told",
            vec![Deadline {
                what: "written notice to the data subjects and the institution",
                due: after_hours(discovered, 72),
                source: "UU PDP Art. 46(1)-(3)",
            }],
            "the duty follows a failure of personal data protection (kegagalan Pelindungan Data Pribadi); whether access by a \
             processor counts as one is the reader's call",
        ),
        // SPEC: GDPR Art. 33(1), Art. 34(1)
        rule(
            "European Union / EEA",
            "General Data Protection Regulation (EU) 2016/679",
            "EU/EEA member states",
            &EU_EEA,
            "notify the supervisory authority without undue delay and, where feasible, within 72 hours of becoming aware, \
             unless the breach is unlikely to result in a risk to the persons (Art. 33); tell the persons without undue delay \
             if it is likely to result in a high risk (Art. 34)",
            vec![
                Deadline {
                    what: "notice to the lead supervisory authority",
                    due: after_hours(discovered, 72),
                    source: "GDPR Art. 33(1)",
                },
                Deadline {
                    what: "communication to the data subjects (high risk only)",
                    due: "without undue delay".into(),
                    source: "GDPR Art. 34(1)",
                },
            ],
            "applies only where the GDPR reaches the operator (Art. 3: an establishment in the EU, or offering services to people there)",
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Japanese days are counted in JST (23:30 UTC is already the next day in Japan), with the
    /// day of learning as day 1: learned on 2026-03-16 JST, day 30 is 2026-04-14 and day 60 is
    /// 2026-05-14, and the 3-5 day window of the 速報 is 03-18 to 03-20. The earlier reading of
    /// "within 30 days of learning" (Rules Art. 8(2); PPC Guidelines 3-5-3-4), which the report
    /// states; a date on a weekend or holiday is not moved (2026-05-14 is a Thursday anyway;
    /// 2026-04-14 a Tuesday).
    #[test]
    fn japanese_deadlines_count_the_day_of_learning_as_day_one() {
        let t = Timestamp::parse("2026-03-15T23:30:00Z").unwrap();
        assert_eq!(jst_date(t).as_deref(), Some("2026-03-16"));
        assert_eq!(jst_day_n(t, 30).as_deref(), Some("2026-04-14"));
        assert_eq!(jst_day_n(t, 60).as_deref(), Some("2026-05-14"));
        let d = japan_deadlines(t, Some(false));
        assert!(d[0].due.contains("2026-03-18 to 2026-03-20 JST"), "{}", d[0].due);
        assert!(d[1].due.starts_with("by the end of 2026-04-14 JST (day 30)"));
        assert!(d[1].source.contains("day 1"), "{}", d[1].source);
        assert!(
            japan_deadlines(t, Some(true))[1]
                .due
                .contains("2026-05-14 JST (day 60")
        );
        assert!(
            japan_deadlines(t, None)[1]
                .due
                .contains("2026-04-14 JST (day 30), or 2026-05-14")
        );
        // A period across the year's end and a leap day.
        let t = Timestamp::parse("2027-12-20T10:00:00+09:00").unwrap();
        assert_eq!(jst_day_n(t, 30).as_deref(), Some("2028-01-18"));
        let t = Timestamp::parse("2028-02-01T00:00:00+09:00").unwrap();
        assert_eq!(jst_day_n(t, 30).as_deref(), Some("2028-03-01"));
    }

    /// Dates are built from the calendar's fields: a discovery at the calendar's edge gives no
    /// date rather than a malformed one (review item 11: `+10000-01-` was printed).
    #[test]
    fn dates_past_year_9999_are_none_not_garbage() {
        let t = Timestamp::parse("9999-12-31T23:59:59Z").unwrap();
        assert_eq!(jst_date(t), None);
        assert_eq!(jst_day_n(Timestamp::parse("9999-12-01").unwrap(), 60), None);
        assert!(
            japan_deadlines(t, Some(false))[1]
                .due
                .contains("outside the calendar")
        );
        assert_eq!(
            jst_date(Timestamp {
                secs: i64::MAX,
                nanos: 0
            }),
            None
        );
    }

    #[test]
    fn hours_are_counted_from_the_instant_of_discovery() {
        let t = Timestamp::parse("2026-03-16T10:00:00+09:00").unwrap();
        let markets = other_markets(t, |codes| (codes.len() as u64, 0));
        let th = &markets[0];
        assert_eq!(
            th.deadlines[0].due,
            "2026-03-19T01:00:00Z (72 hours after discovery)"
        );
        assert_eq!(
            markets.iter().map(|m| m.readable).collect::<Vec<_>>(),
            [1, 1, 1, 30]
        );
    }
}
