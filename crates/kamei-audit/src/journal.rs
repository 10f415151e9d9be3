//! The journal: where the entries of the bundle being filled, and their subject index entries,
//! live until the bundle is full. It is the one file a commit syncs.
//!
//! An append is durable when both its entry and its subject set are: keeping them in two files
//! cost two syncs per commit, and two syncs take more than twice as long as one here. So each
//! entry bundle `N` has a journal `journal/<N>` that holds, per entry, one frame:
//!
//! ```text
//! uint16 entry length | entry | uint32 subject entry length | subject entry | check (8 bytes)
//! ```
//!
//! big-endian, where the entry is the leaf bytes (see [`crate::record`]), the subject entry is
//! the record's subject index entry (see [`crate::subjects`]) and `check` is the first 8 bytes
//! of SHA-256 over everything before it in the frame. The check tells a frame that a crash cut
//! short or left as zeros from a whole one; it is no defence against tampering (anyone can
//! recompute it): the Merkle tree, the record's subject digest and the checkpoint are.
//!
//! When bundle `N` holds 256 entries, the log derives from its journal the C2SP entry bundle
//! `tile/entries/<N>` (written durably) and the bundle's 256 frames of `subjects/index`
//! (appended and synced), and only then removes the journal. Opening the log redoes whatever of
//! that a crash interrupted, and cuts a torn journal tail that no acknowledged append covers.

use sha2::{Digest, Sha256};

/// Bytes of the check that ends every frame.
const CHECK: usize = 8;

/// The journal of entry bundle `n`.
pub(crate) fn journal_path(n: u64) -> String {
    format!("journal/{n}")
}

/// The directory holding the journals.
pub(crate) const JOURNAL_DIR: &str = "journal";

/// Appends one frame: `entry` (at most [`crate::tiles::MAX_ENTRY`] bytes, which
/// [`crate::AuditRecord::to_leaf`] guarantees) and its subject index entry.
pub(crate) fn push_frame(journal: &mut Vec<u8>, entry: &[u8], subjects: &[u8]) {
    let start = journal.len();
    let len = u16::try_from(entry.len()).unwrap_or(u16::MAX);
    journal.extend_from_slice(&len.to_be_bytes());
    journal.extend_from_slice(&entry[..usize::from(len)]);
    journal.extend_from_slice(&(subjects.len() as u32).to_be_bytes());
    journal.extend_from_slice(subjects);
    let check = Sha256::digest(&journal[start..]);
    journal.extend_from_slice(&check[..CHECK]);
}

/// One frame as read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Frame<'a> {
    pub entry: &'a [u8],
    pub subjects: &'a [u8],
    /// The check matches: the frame is as it was written (or was rewritten by someone who
    /// recomputed the check).
    pub intact: bool,
    /// Byte offset just past the frame.
    pub end: usize,
}

/// A journal read back.
#[derive(Debug)]
pub(crate) struct Journal<'a> {
    /// Every frame whose lengths fit in the bytes, intact or not.
    pub frames: Vec<Frame<'a>>,
    /// Byte offset of a last frame cut short, if any.
    pub torn_at: Option<usize>,
}

impl Journal<'_> {
    /// The frames that recovery keeps: all of them up to the first frame that is not intact, if
    /// no intact frame follows it (a crash's torn tail: a partly written frame, or zeros).
    /// `Err(i)`: frame `i` is not intact but a later one is, which no crash leaves.
    pub fn whole(&self) -> Result<usize, usize> {
        match self.frames.iter().position(|f| !f.intact) {
            None => Ok(self.frames.len()),
            Some(i) if self.frames[i..].iter().any(|f| f.intact) => Err(i),
            Some(i) => Ok(i),
        }
    }

    /// Byte length of the first `count` frames.
    pub fn len_of(&self, count: usize) -> usize {
        match count.checked_sub(1) {
            None => 0,
            Some(last) => self.frames.get(last).map_or(0, |f| f.end),
        }
    }
}

/// Splits journal bytes into frames without copying. Never panics on any input.
pub(crate) fn parse_journal(bytes: &[u8]) -> Journal<'_> {
    let mut frames = Vec::new();
    let mut pos = 0;
    while pos < bytes.len() {
        let Some(frame) = parse_frame(bytes, pos) else {
            return Journal {
                frames,
                torn_at: Some(pos),
            };
        };
        pos = frame.end;
        frames.push(frame);
    }
    Journal {
        frames,
        torn_at: None,
    }
}

fn parse_frame(bytes: &[u8], start: usize) -> Option<Frame<'_>> {
    let prefix = bytes.get(start..start + 2)?;
    let len = usize::from(u16::from_be_bytes([prefix[0], prefix[1]]));
    let entry_at = start + 2;
    let entry = bytes.get(entry_at..entry_at + len)?;
    let slen_at = entry_at + len;
    let slen: [u8; 4] = bytes.get(slen_at..slen_at + 4)?.try_into().ok()?;
    let subjects_at = slen_at + 4;
    let subjects = bytes.get(subjects_at..subjects_at.checked_add(u32::from_be_bytes(slen) as usize)?)?;
    let check_at = subjects_at + subjects.len();
    let check = bytes.get(check_at..check_at + CHECK)?;
    let intact = Sha256::digest(&bytes[start..check_at])[..CHECK] == *check;
    Some(Frame {
        entry,
        subjects,
        intact,
        end: check_at + CHECK,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_a_torn_or_zeroed_tail_is_told_apart() {
        let mut j = Vec::new();
        push_frame(&mut j, b"one", b"s1");
        push_frame(&mut j, b"", b"");
        push_frame(&mut j, b"three", b"subjects");
        let p = parse_journal(&j);
        assert_eq!(p.torn_at, None);
        assert_eq!(p.whole(), Ok(3));
        assert_eq!(p.len_of(3), j.len());
        let got: Vec<_> = p.frames.iter().map(|f| (f.entry, f.subjects)).collect();
        assert_eq!(
            got,
            vec![(&b"one"[..], &b"s1"[..]), (b"", b""), (b"three", b"subjects")]
        );
        // Every cut keeps exactly the frames that are whole.
        let ends: Vec<usize> = p.frames.iter().map(|f| f.end).collect();
        for cut in 0..j.len() {
            let p = parse_journal(&j[..cut]);
            let whole = p.whole().unwrap();
            assert_eq!(whole, ends.iter().filter(|e| **e <= cut).count(), "cut at {cut}");
            assert_eq!(
                p.len_of(whole),
                ends.get(whole.wrapping_sub(1)).copied().unwrap_or(0)
            );
        }
        // Zeros after the last frame (a crash can leave a file longer than what was written).
        let mut zeroed = j.clone();
        zeroed.extend_from_slice(&[0; 100]);
        let p = parse_journal(&zeroed);
        assert_eq!(p.whole(), Ok(3));
        // A changed byte in the middle is not a torn tail.
        let mut changed = j.clone();
        changed[3] ^= 1;
        assert_eq!(parse_journal(&changed).whole(), Err(0));
    }
}
