use kamei_core::PiiType;

/// One piece of personal data found in a text.
///
/// `start` and `end` are byte offsets into the text given to [`crate::Detector::find`], always
/// on char boundaries, so `&text[start..end]` is the match. The entity holds no copy of the
/// matched text, so its `Debug` output carries no personal data.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Entity {
    pub pii_type: PiiType,
    pub start: usize,
    pub end: usize,
    /// Confidence in `[0, 1]`; the detector reports only matches of at least 0.5.
    pub score: f32,
}

/// Replaces each entity's span of `text` by what `replace(entity, matched_text)` returns.
///
/// Nothing of an entity is ever left in the text: entities that overlap (a detector's
/// recognizers may disagree on where a value ends) are merged into one span, replaced once as
/// the type of the longest of them; an offset inside a character widens to the whole
/// character, and one past the end stops at the end.
pub fn redact(text: &str, entities: &[Entity], mut replace: impl FnMut(&Entity, &str) -> String) -> String {
    let mut spans: Vec<Entity> = entities
        .iter()
        .filter(|e| e.start < e.end.min(text.len()))
        .map(|e| {
            let mut start = e.start;
            while !text.is_char_boundary(start) {
                start -= 1;
            }
            let mut end = e.end.min(text.len());
            while !text.is_char_boundary(end) {
                end += 1;
            }
            Entity { start, end, ..*e }
        })
        .collect();
    spans.sort_by_key(|e| e.start);
    let mut merged: Vec<(Entity, usize)> = Vec::with_capacity(spans.len());
    for e in spans {
        match merged.last_mut() {
            Some((m, longest)) if e.start < m.end => {
                if e.end - e.start > *longest {
                    *longest = e.end - e.start;
                    m.pii_type = e.pii_type;
                }
                m.end = m.end.max(e.end);
            }
            _ => merged.push((e, e.end - e.start)),
        }
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (e, _) in &merged {
        out.push_str(text.get(at..e.start).unwrap_or_default());
        out.push_str(&replace(e, text.get(e.start..e.end).unwrap_or_default()));
        at = e.end;
    }
    out.push_str(text.get(at..).unwrap_or_default());
    out
}

/// Replaces each entity by its type tag, `<PHONE>`.
pub fn redact_tag(text: &str, entities: &[Entity]) -> String {
    redact(text, entities, |e, _| format!("<{}>", e.pii_type))
}

/// Replaces each entity by a mask that keeps its shape (see [`mask`]).
pub fn redact_mask(text: &str, entities: &[Entity]) -> String {
    redact(text, entities, |_, m| mask(m))
}

/// Masks letters and digits (`*`, or `＊` for wide characters) and keeps separators, so
/// `090-1234-5678` becomes `***-****-****` and a reader still sees what kind of value it was.
/// A digit is every character kamei-core's digit table knows, symbols among them: the `○` of
/// `○九○…` is a zero the detector read, and must not stay readable.
pub fn mask(matched: &str) -> String {
    matched
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || kamei_core::digit::value(c).is_some() {
                if c.len_utf8() == 1 { '*' } else { '＊' }
            } else {
                c
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(t: PiiType, start: usize, end: usize) -> Entity {
        Entity {
            pii_type: t,
            start,
            end,
            score: 0.9,
        }
    }

    /// Issue 14 regression: an entity overlapping an earlier one was skipped, leaving its tail
    /// in the text.
    #[test]
    fn overlapping_entities_are_redacted_whole() {
        let text = "mail taro@example.jp or call 090-1234-5678";
        let ents = [
            e(PiiType::Email, 5, 20),
            e(PiiType::Phone, 8, 24),
            e(PiiType::Phone, 29, 42),
        ];
        assert_eq!(redact_tag(text, &ents), "mail <PHONE>call <PHONE>");
        let ents = [
            e(PiiType::Phone, 29, 40),
            e(PiiType::Phone, 35, 42),
            e(PiiType::Email, 5, 20),
        ];
        assert_eq!(redact_tag(text, &ents), "mail <EMAIL> or call <PHONE>");
        // Offsets inside a character widen to it; past the end stop at the end.
        assert_eq!(redact_tag("電話は090", &[e(PiiType::Phone, 4, 99)]), "電<PHONE>");
    }

    #[test]
    fn tag_and_mask_replace_only_the_spans() {
        let text = "call 090-1234-5678 now";
        let ents = [e(PiiType::Phone, 5, 18)];
        assert_eq!(redact_tag(text, &ents), "call <PHONE> now");
        assert_eq!(redact_mask(text, &ents), "call ***-****-**** now");
    }

    /// Regression (review item 7): `○` is a symbol to `is_alphanumeric`, and stayed readable.
    #[test]
    fn mask_hides_every_digit_the_table_knows() {
        assert_eq!(mask("○九○一二三○五六七八"), "＊＊＊＊＊＊＊＊＊＊＊");
        assert_eq!(mask("๐๘๑-๒๓๔"), "＊＊＊-＊＊＊");
        assert_eq!(mask("a★b・c"), "*★*・*");
    }

    #[test]
    fn caller_function_sees_the_matched_text() {
        let text = "田中様のメール a@b.jp";
        let start = text.find('a').unwrap();
        let ents = [e(PiiType::Email, start, text.len())];
        let out = redact(text, &ents, |_, m| format!("[{}]", m.len()));
        assert_eq!(out, "田中様のメール [6]");
    }

    #[test]
    fn overlapping_and_out_of_range_entities_leave_nothing_of_themselves() {
        let ents = [
            e(PiiType::Email, 1, 3),
            e(PiiType::Phone, 2, 4),
            e(PiiType::Iban, 5, 99),
        ];
        assert_eq!(redact_tag("abcdef", &ents), "a<EMAIL>e<IBAN>");
    }
}
