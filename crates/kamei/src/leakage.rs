//! What redaction leaves of the structured values in gold-labelled text, and how much of the
//! text without any it hides: the two figures of a redaction profile (issue 17 item 3),
//! reported by `kamei eval-detect` under the precision and recall table.
//!
//! A gold value *survives* when the redacted text still shows enough of it to be read back:
//! four or more of its digits left unredacted anywhere in its span (all of them if it has
//! fewer than four), and for an e-mail address four characters in a row of its local part
//! (all of it if shorter). Counting digits wherever they are, not in one run, errs towards
//! reporting a leak. Positions, not text search, decide, so a digit elsewhere in the line
//! never counts against a value.

use std::fmt::Write as _;

use kamei_core::PiiType;
use kamei_detect::digit_value;

/// The types whose survival is measured: the structured values a reader must never get back.
pub(crate) const VALUES: [PiiType; 6] = [
    PiiType::Email,
    PiiType::Phone,
    PiiType::CreditCard,
    PiiType::MyNumber,
    PiiType::Iban,
    PiiType::BankAccount,
];

/// Survival and over-redaction counts, summed over lines.
#[derive(Debug, Default, Clone)]
pub(crate) struct Leakage {
    /// Per type of `VALUES`: gold values, and those that survived.
    values: [(usize, usize); 6],
    /// Lines with no gold value of `VALUES` (hard negatives): lines, characters, characters
    /// redacted, characters redacted outside every gold span.
    negatives: [usize; 4],
    /// Lines with no gold entity at all: lines, characters, characters redacted.
    clean: [usize; 3],
}

impl Leakage {
    /// Counts one line: its gold entities and the predicted spans, both in code points.
    pub(crate) fn line(
        text: &str,
        gold: &[(PiiType, usize, usize)],
        found: &[(PiiType, usize, usize)],
    ) -> Leakage {
        let chars: Vec<char> = text.chars().collect();
        let mut hidden = vec![false; chars.len()];
        for &(_, s, e) in found {
            for h in hidden.iter_mut().take(e).skip(s) {
                *h = true;
            }
        }
        let mut out = Leakage::default();
        for &(t, s, e) in gold {
            if let Some(k) = VALUES.iter().position(|v| *v == t) {
                let e = e.min(chars.len());
                let s = s.min(e);
                out.values[k].0 += 1;
                out.values[k].1 += usize::from(survives(t, &chars[s..e], &hidden[s..e]));
            }
        }
        let redacted = hidden.iter().filter(|h| **h).count();
        if !gold.iter().any(|g| VALUES.contains(&g.0)) {
            let in_gold = |k: usize| gold.iter().any(|&(_, s, e)| s <= k && k < e);
            let outside = (0..chars.len()).filter(|&k| hidden[k] && !in_gold(k)).count();
            out.negatives = [1, chars.len(), redacted, outside];
        }
        if gold.is_empty() {
            out.clean = [1, chars.len(), redacted];
        }
        out
    }

    pub(crate) fn add(&mut self, o: &Leakage) {
        for (a, b) in self.values.iter_mut().zip(o.values) {
            a.0 += b.0;
            a.1 += b.1;
        }
        for (a, b) in self.negatives.iter_mut().zip(o.negatives) {
            *a += b;
        }
        for (a, b) in self.clean.iter_mut().zip(o.clean) {
            *a += b;
        }
    }

    /// The share of gold values of `VALUES` that survived.
    #[cfg(test)]
    fn survival(&self) -> f64 {
        let (gold, left) = self.values.iter().fold((0, 0), |a, v| (a.0 + v.0, a.1 + v.1));
        share(left, gold)
    }

    /// The share of the characters of hard-negative lines that were redacted.
    #[cfg(test)]
    fn over_redaction(&self) -> f64 {
        share(self.negatives[2], self.negatives[1])
    }

    /// The report's section, after the precision and recall table.
    pub(crate) fn render(&self, profile: kamei_detect::Profile, out: &mut String) {
        let _ = writeln!(
            out,
            "\nredaction at profile {profile}: structured values surviving (4+ of a value's digits, or 4 \
             characters in a row of an e-mail local part, left unredacted)"
        );
        let _ = writeln!(
            out,
            "{:<18} {:>6} {:>9} {:>7}",
            "type", "gold", "survived", "share"
        );
        let (mut gold, mut left) = (0, 0);
        for (t, (g, l)) in VALUES.iter().zip(self.values) {
            if g > 0 {
                let _ = writeln!(
                    out,
                    "{:<18} {g:>6} {l:>9} {:>6.2}%",
                    t.as_str(),
                    100.0 * share(l, g)
                );
            }
            gold += g;
            left += l;
        }
        let _ = writeln!(
            out,
            "{:<18} {gold:>6} {left:>9} {:>6.2}%",
            "all six",
            100.0 * share(left, gold)
        );
        let [lines, chars, redacted, outside] = self.negatives;
        let _ = writeln!(
            out,
            "hard negatives (lines without a gold value of the six): {lines} lines, {chars} characters, \
             {redacted} redacted ({:.2}%), {outside} of them outside every gold span ({:.2}%)",
            100.0 * share(redacted, chars),
            100.0 * share(outside, chars)
        );
        let [lines, chars, redacted] = self.clean;
        let _ = writeln!(
            out,
            "lines without any gold entity: {lines} lines, {chars} characters, {redacted} redacted ({:.2}%)",
            100.0 * share(redacted, chars)
        );
    }
}

fn share(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// Whether a gold value of type `t` with characters `value` survives redaction that hid the
/// characters marked in `hidden`.
fn survives(t: PiiType, value: &[char], hidden: &[bool]) -> bool {
    if t == PiiType::Email {
        // The local part: up to the at-sign, or (spelled forms) the first run of characters of
        // a handle.
        let local = value
            .iter()
            .position(|c| matches!(c, '@' | '＠' | '﹫'))
            .unwrap_or_else(|| {
                value
                    .iter()
                    .position(|c| !(c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '+' | '．' | '＿')))
                    .unwrap_or(value.len())
            });
        let need = local.clamp(1, 4);
        let mut run = 0;
        for &h in &hidden[..local] {
            run = if h { 0 } else { run + 1 };
            if run >= need {
                return true;
            }
        }
        return false;
    }
    let digits: Vec<bool> = value
        .iter()
        .zip(hidden)
        .filter(|(c, _)| digit_value(**c).is_some())
        .map(|(_, h)| *h)
        .collect();
    let need = digits.len().clamp(1, 4);
    digits.iter().filter(|h| !**h).count() >= need
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(text: &str, gold: &[(PiiType, usize, usize)], found: &[(PiiType, usize, usize)]) -> Leakage {
        Leakage::line(text, gold, found)
    }

    #[test]
    fn a_value_survives_with_four_digits_left_anywhere_in_it() {
        let text = "tel 090-1234-5678";
        let gold = [(PiiType::Phone, 4, 17)];
        assert_eq!(line(text, &gold, &[(PiiType::Phone, 4, 17)]).survival(), 0.0);
        // The last four left: survives.
        assert_eq!(line(text, &gold, &[(PiiType::Phone, 4, 12)]).survival(), 1.0);
        // Two and two left apart: four digits in all, counted as a leak.
        assert_eq!(line(text, &gold, &[(PiiType::Phone, 6, 15)]).survival(), 1.0);
        // Three left: does not.
        assert_eq!(line(text, &gold, &[(PiiType::Phone, 7, 17)]).survival(), 0.0);
    }

    #[test]
    fn an_address_survives_by_its_local_part() {
        let text = "taro.yamada@example.jp";
        let gold = [(PiiType::Email, 0, 22)];
        assert_eq!(line(text, &gold, &[(PiiType::Email, 0, 22)]).survival(), 0.0);
        assert_eq!(line(text, &gold, &[(PiiType::Email, 11, 22)]).survival(), 1.0);
        assert_eq!(line(text, &gold, &[(PiiType::Email, 3, 22)]).survival(), 0.0);
        // A spelled address: the handle before the marker.
        let spelled = "taro at example dot com";
        assert_eq!(line(spelled, &[(PiiType::Email, 0, 23)], &[]).survival(), 1.0);
    }

    #[test]
    fn over_redaction_counts_only_lines_without_values() {
        let mut all = Leakage::default();
        all.add(&line(
            "call 090-1234-5678",
            &[(PiiType::Phone, 5, 18)],
            &[(PiiType::Phone, 5, 18)],
        ));
        all.add(&line(
            "田中さん 1234567",
            &[(PiiType::Person, 0, 2)],
            &[(PiiType::Person, 0, 2), (PiiType::BankAccount, 5, 12)],
        ));
        assert_eq!(all.negatives, [1, 12, 9, 7]);
        assert_eq!(all.clean, [0, 0, 0]);
        assert!((all.over_redaction() - 0.75).abs() < 1e-9);
    }
}
