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
    journal.extend(entry.iter().take(usize::from(len)));
    journal.extend_from_slice(&(subjects.len() as u32).to_be_bytes());
    journal.extend_from_slice(subjects);
    let check = Sha256::digest(journal.get(start..).unwrap_or_default());
    journal.extend(check.iter().take(CHECK));
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
    bytes: &'a [u8],
    /// Every frame whose lengths fit in the bytes, intact or not.
    pub frames: Vec<Frame<'a>>,
    /// Byte offset of a last frame cut short, if any.
    pub torn_at: Option<usize>,
}

impl Journal<'_> {
    /// The frames that recovery keeps: all of them before a torn tail. `Err(i)`: frame `i` is
    /// damaged, which no crash leaves, and recovery must not cut it (nor any frame after it)
    /// away.
    ///
    /// INVARIANT (a torn tail is only what a crash leaves): a crash interrupts the append of
    /// the last batch, so its tail is either cut short (the file ends inside the first frame
    /// that does not parse, and no intact frame starts anywhere after it) or, after power loss
    /// on a file system that extends a file before its data lands, all zeros from the first bad
    /// frame on. A whole frame whose check fails, or a frame running past the end with intact
    /// frames after it (a damaged length), is damage: it may hold an acknowledged append.
    pub fn whole(&self) -> Result<usize, usize> {
        match self.frames.iter().position(|f| !f.intact) {
            None => match self.torn_at {
                Some(at) if intact_frame_after(self.bytes, at) => Err(self.frames.len()),
                _ => Ok(self.frames.len()),
            },
            Some(i) => {
                let start = self.len_of(i);
                if self.bytes.iter().skip(start).all(|b| *b == 0) {
                    Ok(i)
                } else {
                    Err(i)
                }
            }
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
                bytes,
                frames,
                torn_at: Some(pos),
            };
        };
        pos = frame.end;
        frames.push(frame);
    }
    Journal {
        bytes,
        frames,
        torn_at: None,
    }
}

/// Whether an intact frame starts anywhere after `at` (a frame that runs past the end of the
/// file then had its length damaged, since frames are only ever appended). Only offsets whose
/// lengths fit in the file are hashed, so a real torn tail (less than one frame) costs little.
fn intact_frame_after(bytes: &[u8], at: usize) -> bool {
    (at + 1..bytes.len()).any(|pos| parse_frame(bytes, pos).is_some_and(|f| f.intact))
}

fn parse_frame(bytes: &[u8], start: usize) -> Option<Frame<'_>> {
    let prefix: [u8; 2] = bytes.get(start..start + 2)?.try_into().ok()?;
    let len = usize::from(u16::from_be_bytes(prefix));
    let entry_at = start + 2;
    let entry = bytes.get(entry_at..entry_at + len)?;
    let slen_at = entry_at + len;
    let slen: [u8; 4] = bytes.get(slen_at..slen_at + 4)?.try_into().ok()?;
    let subjects_at = slen_at + 4;
    let subjects = bytes.get(subjects_at..subjects_at.checked_add(u32::from_be_bytes(slen) as usize)?)?;
    let check_at = subjects_at + subjects.len();
    let check = bytes.get(check_at..check_at + CHECK)?;
    let intact = Sha256::digest(bytes.get(start..check_at)?).get(..CHECK) == Some(check);
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

    /// Regression: a bad frame with no intact frame after it was taken for a torn tail, so a
    /// flipped bit in the last frame, or a damaged length that makes a frame run past the end,
    /// had recovery cut acknowledged frames away.
    #[test]
    fn a_damaged_frame_is_not_a_torn_tail_unless_cut_short_or_zeros() {
        let mut j = Vec::new();
        push_frame(&mut j, b"one", b"s1");
        push_frame(&mut j, b"two", b"s2");
        push_frame(&mut j, b"three", b"s3");
        let ends: Vec<usize> = parse_journal(&j).frames.iter().map(|f| f.end).collect();
        // A flipped bit inside the last frame.
        let mut last = j.clone();
        last[ends[1] + 3] ^= 1;
        assert_eq!(parse_journal(&last).whole(), Err(2));
        // A subject length made huge: frame 1 runs past the end, frame 2 is intact after it.
        let mut long = j.clone();
        long[ends[0] + 2 + 3] ^= 0x80;
        let p = parse_journal(&long);
        assert_eq!((p.frames.len(), p.whole()), (1, Err(1)));
        // A subject length one byte longer: frame 1 is whole but fails its check.
        let mut short = j.clone();
        short[ends[0] + 2 + 3 + 3] ^= 0x01;
        assert_eq!(parse_journal(&short).whole(), Err(1));
        // Zeros from the first bad frame to the end are a torn tail, however long.
        let mut zeros = j[..ends[1]].to_vec();
        zeros.resize(j.len() + 40, 0);
        assert_eq!(parse_journal(&zeros).whole(), Ok(2));
    }
}
