//! Column classification: what a column of a table holds, from its name and a sample of its
//! values.
//!
//! The values speak first: when most sampled values are one personal-data type as a whole
//! (a phone number, an e-mail address), that type wins, with the share of values as its
//! confidence. Long values with personal data inside them make free text. Otherwise the
//! column's name decides (`user_id`, `birth_date`, `gender`), with a lower confidence; a column
//! with neither is proposed as not personal, and the evidence says how many values were seen.

use std::collections::BTreeMap;
use std::fmt;

use kamei_core::{Category, PiiType};

use crate::Detector;

/// A proposed category for one column, with how sure the proposal is and why.
#[derive(Clone, PartialEq)]
pub struct ColumnProposal {
    pub category: Category,
    /// In `[0, 1]`.
    pub confidence: f32,
    /// What the proposal rests on, for a reviewer: counts of matching samples and the name
    /// hint that fired. Holds no sampled value.
    pub evidence: String,
}

impl fmt::Debug for ColumnProposal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ColumnProposal")
            .field("category", &self.category)
            .field("confidence", &self.confidence)
            .field("evidence", &self.evidence)
            .finish()
    }
}

/// Name hints, checked in order against the lower-case column name: the first whose every
/// fragment occurs in the name wins.
const NAME_HINTS: &[(&[&str], Category)] = &[
    (&["user", "id"], Category::SubjectKey),
    (&["sender", "id"], Category::SubjectKey),
    (&["recipient", "id"], Category::SubjectKey),
    (&["reporter", "id"], Category::SubjectKey),
    (&["reported_user"], Category::SubjectKey),
    (&["customer", "id"], Category::SubjectKey),
    (&["member", "id"], Category::SubjectKey),
    (&["my_number"], Category::Pii(PiiType::MyNumber)),
    (&["mynumber"], Category::Pii(PiiType::MyNumber)),
    (&["card"], Category::Pii(PiiType::CreditCard)),
    (&["birth"], Category::Pii(PiiType::DateOfBirth)),
    (&["dob"], Category::Pii(PiiType::DateOfBirth)),
    (&["postal"], Category::Pii(PiiType::PostalCode)),
    (&["zip"], Category::Pii(PiiType::PostalCode)),
    (&["email"], Category::Pii(PiiType::Email)),
    (&["mail"], Category::Pii(PiiType::Email)),
    (&["phone"], Category::Pii(PiiType::Phone)),
    (&["tel"], Category::Pii(PiiType::Phone)),
    (&["mobile"], Category::Pii(PiiType::Phone)),
    (&["address"], Category::Pii(PiiType::Address)),
    (&["passport"], Category::Pii(PiiType::Passport)),
    (&["licen"], Category::Pii(PiiType::DriverLicense)),
    (&["iban"], Category::Pii(PiiType::Iban)),
    (&["account"], Category::Pii(PiiType::BankAccount)),
    (&["ip_addr"], Category::Pii(PiiType::IpAddress)),
    (&["ipaddr"], Category::Pii(PiiType::IpAddress)),
    (&["line_id"], Category::AccountId),
    (&["display_name"], Category::AccountId),
    (&["username"], Category::AccountId),
    (&["handle"], Category::AccountId),
    (&["full_name"], Category::Pii(PiiType::Person)),
    (&["name", "kana"], Category::Pii(PiiType::Person)),
    (&["first_name"], Category::Pii(PiiType::Person)),
    (&["last_name"], Category::Pii(PiiType::Person)),
    // Other ids and times are of things, not people.
    (&["_id"], Category::NonPersonal),
    (&["_at"], Category::NonPersonal),
    (&["gender"], Category::QuasiIdentifier),
    (&["sex"], Category::QuasiIdentifier),
    (&["body"], Category::FreeText),
    (&["text"], Category::FreeText),
    (&["message"], Category::FreeText),
    (&["comment"], Category::FreeText),
    (&["note"], Category::FreeText),
    (&["country"], Category::NonPersonal),
    (&["amount"], Category::NonPersonal),
    (&["currency"], Category::NonPersonal),
    (&["merchant"], Category::NonPersonal),
    (&["reason"], Category::NonPersonal),
];

fn name_hint(name: &str) -> Option<(Category, &'static str)> {
    let lower = name.to_ascii_lowercase();
    NAME_HINTS
        .iter()
        .find(|(frags, _)| frags.iter().all(|f| lower.contains(f)))
        .map(|(frags, c)| (*c, frags[0]))
}

impl Detector {
    /// Proposes a category for a column from its name and sampled values (`None` for null).
    pub fn classify_column<'a>(
        &self,
        name: &str,
        samples: impl IntoIterator<Item = Option<&'a str>>,
    ) -> ColumnProposal {
        let mut seen = 0usize;
        let mut whole: BTreeMap<PiiType, usize> = BTreeMap::new();
        let mut inside = 0usize;
        let mut long = 0usize;
        for v in samples.into_iter().flatten() {
            let v = v.trim();
            if v.is_empty() {
                continue;
            }
            seen += 1;
            if v.chars().count() > 30 {
                long += 1;
            }
            let found = self.find(v);
            // A value that is one entity (allowing a little punctuation around it).
            if let [e] = found.as_slice()
                && (e.end - e.start) * 10 >= v.len() * 8
            {
                *whole.entry(e.pii_type).or_default() += 1;
            } else if !found.is_empty() {
                inside += 1;
            }
        }
        let hint = name_hint(name);
        let hint_text = hint.map_or_else(
            || "no name hint".to_owned(),
            |(c, f)| format!("name hint `{f}` → {c}"),
        );
        if seen == 0 {
            let (category, confidence) =
                hint.map_or((Category::Pii(PiiType::Person), 0.2), |(c, _)| (c, 0.5));
            return ColumnProposal {
                category,
                confidence,
                evidence: format!("no non-empty sample; {hint_text}"),
            };
        }
        let best = whole
            .iter()
            .max_by_key(|(t, n)| (**n, std::cmp::Reverse(**t)))
            .map(|(t, n)| (*t, *n));
        let counts = whole
            .iter()
            .map(|(t, n)| format!("{t} {n}"))
            .collect::<Vec<_>>()
            .join(", ");
        let counts = if counts.is_empty() {
            "none".to_owned()
        } else {
            counts
        };
        let evidence = format!(
            "{seen} samples; whole-value matches: {counts}; with personal data inside: {inside}; {hint_text}"
        );
        if let Some((t, n)) = best {
            let share = n as f32 / seen as f32;
            if share >= 0.5 {
                let agrees = hint.is_some_and(|(c, _)| c == Category::Pii(t));
                let confidence = (share + if agrees { 0.1 } else { 0.0 }).min(1.0);
                return ColumnProposal {
                    category: Category::Pii(t),
                    confidence,
                    evidence,
                };
            }
        }
        let free_hint = hint.is_some_and(|(c, _)| c == Category::FreeText);
        if (long * 5 >= seen || free_hint) && (inside + whole.values().sum::<usize>()) * 20 >= seen {
            return ColumnProposal {
                category: Category::FreeText,
                confidence: if free_hint { 0.9 } else { 0.7 },
                evidence,
            };
        }
        match hint {
            Some((c, _)) => ColumnProposal {
                category: c,
                confidence: 0.6,
                evidence,
            },
            None => ColumnProposal {
                category: Category::NonPersonal,
                confidence: 0.5,
                evidence,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classify(name: &str, values: &[&str]) -> ColumnProposal {
        static D: std::sync::OnceLock<Detector> = std::sync::OnceLock::new();
        D.get_or_init(Detector::new)
            .classify_column(name, values.iter().map(|v| Some(*v)))
    }

    #[test]
    fn values_decide_over_names() {
        let p = classify(
            "contact",
            &["090-1234-5678", "03-1234-5678", "080-1111-2222", "n/a"],
        );
        assert_eq!(p.category, Category::Pii(PiiType::Phone));
        assert!(p.confidence >= 0.7);
        assert!(p.evidence.contains("PHONE 3"), "{}", p.evidence);
        let p = classify("email", &["a@example.jp", "b@example.com"]);
        assert_eq!(p.category, Category::Pii(PiiType::Email));
        assert_eq!(p.confidence, 1.0);
    }

    #[test]
    fn names_decide_when_values_say_nothing() {
        assert_eq!(
            classify("user_id", &["1", "2", "3"]).category,
            Category::SubjectKey
        );
        assert_eq!(
            classify("gender", &["F", "M"]).category,
            Category::QuasiIdentifier
        );
        assert_eq!(
            classify("birth_date", &["1990-04-01"]).category,
            Category::Pii(PiiType::DateOfBirth)
        );
        assert_eq!(
            classify("message_id", &["10", "11"]).category,
            Category::NonPersonal
        );
        assert_eq!(classify("amount", &["1200"]).category, Category::NonPersonal);
    }

    #[test]
    fn long_text_with_personal_data_inside_is_free_text() {
        let p = classify(
            "body",
            &[
                "明日の会議の件ですが、田中さんの携帯090-1234-5678に連絡してください",
                "了解しました、後ほど確認してからまた連絡します",
            ],
        );
        assert_eq!(p.category, Category::FreeText);
    }

    #[test]
    fn evidence_never_quotes_a_value() {
        let p = classify("contact", &["090-1234-5678"]);
        assert!(!p.evidence.contains("090"));
        assert!(!format!("{p:?}").contains("090"));
    }
}
