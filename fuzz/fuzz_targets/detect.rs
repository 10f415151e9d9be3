//! The detector on arbitrary bytes: never panics, and every entity slices the text on char
//! boundaries, sorted and disjoint, with a score in [0, 1]; redaction keeps the text outside
//! the entities.
#![no_main]

use std::sync::OnceLock;

use kamei_detect::Detector;
use libfuzzer_sys::fuzz_target;

static DETECTOR: OnceLock<Detector> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let detector = DETECTOR.get_or_init(Detector::new);
    let found = detector.find(&text);
    let mut last = 0;
    for e in &found {
        assert!(e.start >= last && e.start < e.end && e.end <= text.len());
        assert!(text.is_char_boundary(e.start) && text.is_char_boundary(e.end));
        assert!((0.0..=1.0).contains(&e.score));
        last = e.end;
    }
    let tagged = kamei_detect::redact_tag(&text, &found);
    let kept: usize = text.len() - found.iter().map(|e| e.end - e.start).sum::<usize>();
    let tags: usize = found.iter().map(|e| e.pii_type.as_str().len() + 2).sum();
    assert_eq!(tagged.len(), kept + tags);
});
