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
/// `entities` must be sorted by start and non-overlapping, as [`crate::Detector::find`]
/// returns them; an entity that overlaps an earlier one or lies outside the text is skipped
/// rather than allowed to corrupt the output.
pub fn redact(text: &str, entities: &[Entity], mut replace: impl FnMut(&Entity, &str) -> String) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for e in entities {
        if e.start < at || e.end < e.start || e.end > text.len() {
            continue;
        }
        let (Some(before), Some(matched)) = (text.get(at..e.start), text.get(e.start..e.end)) else {
            continue;
        };
        out.push_str(before);
        out.push_str(&replace(e, matched));
        at = e.end;
    }
    out.push_str(text.get(at..).unwrap_or(""));
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
pub fn mask(matched: &str) -> String {
    matched
        .chars()
        .map(|c| {
            if c.is_alphanumeric() {
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

    #[test]
    fn tag_and_mask_replace_only_the_spans() {
        let text = "call 090-1234-5678 now";
        let ents = [e(PiiType::Phone, 5, 18)];
        assert_eq!(redact_tag(text, &ents), "call <PHONE> now");
        assert_eq!(redact_mask(text, &ents), "call ***-****-**** now");
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
    fn overlapping_or_out_of_range_entities_are_skipped() {
        let text = "abcdef";
        let ents = [
            e(PiiType::Email, 1, 3),
            e(PiiType::Phone, 2, 4),
            e(PiiType::Iban, 5, 99),
        ];
        assert_eq!(redact_tag(text, &ents), "a<EMAIL>def");
    }
}
