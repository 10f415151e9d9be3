//! Fuzzes everything the audit log parses from its files: entry bundles, subject index frames
//! and entries, canonical records, checkpoints and timestamps. Nothing may panic, and what
//! parses must round-trip to the same bytes.
//!
//! cargo +nightly fuzz run audit_log
#![no_main]

use kamei_audit::record::AuditRecord;
use kamei_audit::subjects::{SubjectSet, parse_frames};
use kamei_audit::{Checkpoint, Timestamp, parse_bundle};
use libfuzzer_sys::fuzz_target;

const VKEY: &str = "kamei.local/audit+41205e8d+AewRBY5JbAPFtg40seXgU+nMA7Th9nqDgcikGV+/e7Yr";

fuzz_target!(|data: &[u8]| {
    let bundle = parse_bundle(data);
    assert!(bundle.whole_len <= data.len());
    for entry in &bundle.entries {
        if let Ok(record) = AuditRecord::from_leaf(entry) {
            assert_eq!(record.to_leaf().ok().as_deref(), Some(*entry));
        }
    }
    let (frames, whole) = parse_frames(data);
    assert!(whole <= data.len());
    for frame in frames {
        if let Ok(set) = SubjectSet::from_bytes(frame) {
            assert_eq!(SubjectSet::from_bytes(&set.to_bytes()).ok(), Some(set));
        }
    }
    let _ = Checkpoint::open(data, VKEY);
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(t) = Timestamp::parse(text)
    {
        assert_eq!(Timestamp::parse(&t.to_string()).ok(), Some(t));
    }
});
