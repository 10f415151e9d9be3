//! The C2SP tlog-tiles layout: tile paths, hash tiles and entry bundles.
//!
//! SPEC: c2sp.org/tlog-tiles: tiles of height 8 (256 hashes); a level-L tile holds hashes of
//! subtrees of height 8·L; full tiles at `tile/<L>/<N>`, partial ones at `tile/<L>/<N>.p/<W>`;
//! entry bundles at `tile/entries/<N>[.p/<W>]`, each entry a big-endian uint16 length and its bytes.

/// Hashes (or entries) per full tile.
pub const TILE_WIDTH: u64 = 256;
/// Height of a tile in tree levels.
pub const TILE_HEIGHT: u32 = 8;
/// The largest entry an entry bundle can hold (uint16 length prefix).
pub const MAX_ENTRY: usize = u16::MAX as usize;

// SPEC: c2sp.org/tlog-tiles "<N> is encoded as zero-padded 3-digit path elements, all but the
// last prefixed with x".
/// The path element(s) for tile index `n`: 1234067 → `x001/x234/067`.
pub fn encode_index(mut n: u64) -> String {
    let mut out = format!("{:03}", n % 1000);
    while n >= 1000 {
        n /= 1000;
        out = format!("x{:03}/{out}", n % 1000);
    }
    out
}

/// The path of a hash tile at `level`, index `n`, with `width` hashes (256 = full).
pub fn hash_tile_path(level: u32, n: u64, width: u64) -> String {
    with_width(format!("tile/{level}/{}", encode_index(n)), width)
}

/// The path of entry bundle `n` holding `width` entries (256 = full).
pub fn bundle_path(n: u64, width: u64) -> String {
    with_width(format!("tile/entries/{}", encode_index(n)), width)
}

fn with_width(base: String, width: u64) -> String {
    if width == TILE_WIDTH {
        base
    } else {
        format!("{base}.p/{width}")
    }
}

/// Appends one entry (length prefix and bytes) to a bundle; `data` must be at most [`MAX_ENTRY`].
pub fn push_entry(bundle: &mut Vec<u8>, data: &[u8]) {
    let len = u16::try_from(data.len()).unwrap_or(u16::MAX);
    bundle.extend_from_slice(&len.to_be_bytes());
    bundle.extend(data.iter().take(usize::from(len)));
}

/// The result of reading an entry bundle: the entries that are whole, and where a torn tail
/// (a length prefix or entry cut short) begins, if any.
#[derive(Debug)]
pub struct Bundle<'a> {
    pub entries: Vec<&'a [u8]>,
    /// Byte offset of the first incomplete entry; `None` when the bundle ends cleanly.
    pub torn_at: Option<usize>,
    /// Byte length of the whole entries.
    pub whole_len: usize,
}

/// Splits bundle bytes into entries without copying. Never panics on any input.
pub fn parse_bundle(bytes: &[u8]) -> Bundle<'_> {
    let mut entries = Vec::new();
    let mut pos = 0;
    while pos < bytes.len() {
        let Some(prefix) = bytes.get(pos..pos + 2).and_then(|p| <[u8; 2]>::try_from(p).ok()) else {
            return Bundle {
                entries,
                torn_at: Some(pos),
                whole_len: pos,
            };
        };
        let len = usize::from(u16::from_be_bytes(prefix));
        let Some(data) = bytes.get(pos + 2..pos + 2 + len) else {
            return Bundle {
                entries,
                torn_at: Some(pos),
                whole_len: pos,
            };
        };
        entries.push(data);
        pos += 2 + len;
    }
    Bundle {
        entries,
        torn_at: None,
        whole_len: pos,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_encoding_follows_the_spec_examples() {
        assert_eq!(encode_index(0), "000");
        assert_eq!(encode_index(999), "999");
        assert_eq!(encode_index(1000), "x001/000");
        assert_eq!(encode_index(1234067), "x001/x234/067");
        assert_eq!(hash_tile_path(1, 1234067, 256), "tile/1/x001/x234/067");
        assert_eq!(hash_tile_path(0, 2, 7), "tile/0/002.p/7");
        assert_eq!(bundle_path(5, 256), "tile/entries/005");
        assert_eq!(bundle_path(5, 1), "tile/entries/005.p/1");
    }

    #[test]
    fn bundles_round_trip_and_report_a_torn_tail() {
        let mut b = Vec::new();
        push_entry(&mut b, b"one");
        push_entry(&mut b, b"");
        push_entry(&mut b, b"three");
        let p = parse_bundle(&b);
        assert_eq!(p.entries, vec![&b"one"[..], b"", b"three"]);
        assert_eq!(p.torn_at, None);
        for cut in 1..b.len() {
            let p = parse_bundle(&b[..cut]);
            assert!(p.whole_len <= cut);
            if p.torn_at.is_none() {
                assert_eq!(p.whole_len, cut);
            }
        }
        let p = parse_bundle(&b[..b.len() - 1]);
        assert_eq!(p.entries.len(), 2);
        assert_eq!(p.torn_at, Some(7));
    }
}
