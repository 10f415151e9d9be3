//! Verification of a whole log from its files alone, without trusting anything it derived:
//! every entry is re-hashed and re-parsed, the tree is recomputed, and every hash tile, partial
//! bundle, subject index entry and checkpoint is compared with what the entries imply.
//!
//! Verification only reads; it never repairs (opening the log for appending recovers a torn
//! tail, see [`crate::AuditLog::open`]).

use crate::checkpoint::Checkpoint;
use crate::journal::{journal_path, parse_journal};
use crate::log::{AuditError, CHECKPOINT, SUBJECTS, VKEY, io_err};
use crate::merkle::{Hash, Tree, leaf_hash, subtree_levels};
use crate::record::AuditRecord;
use crate::recover::list_journals;
use crate::storage::LogStorage;
use crate::subjects::{SubjectSet, digest_bytes, parse_frames};
use crate::tiles::{TILE_HEIGHT, TILE_WIDTH, bundle_path, hash_tile_path, parse_bundle};
use rayon::prelude::*;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

/// The first thing found wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The first entry index the problem concerns, when it concerns one.
    pub index: Option<u64>,
    pub what: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.index {
            Some(i) => write!(f, "index {i}: {}", self.what),
            None => f.write_str(&self.what),
        }
    }
}

/// The outcome of [`verify_log`].
#[derive(Debug, Clone)]
pub struct VerifyReport {
    /// Entries found.
    pub size: u64,
    /// The root recomputed from the entries.
    pub root: Hash,
    /// The log's checkpoint size, when it verified.
    pub checkpoint_size: Option<u64>,
    /// The problem with the lowest index (problems without an index come last).
    pub problem: Option<Problem>,
}

/// Problems found so far. A mismatch in a hash tile above level 0 concerns a range of entries
/// (`ranges` holds the end of it); it is reported only when nothing more precise lies inside.
///
/// A file a writer may have written after the snapshot was taken (a tile, a partial bundle
/// or subject index entries for entries past it) is damage only if the log does not hold those
/// entries now either: `ahead` holds such problems with the entries they need, until
/// [`Problems::settle`].
#[derive(Default)]
struct Problems {
    found: Vec<Problem>,
    ranges: Vec<(Problem, u64)>,
    ahead: Vec<(Problem, u64)>,
}

impl Problems {
    fn at(&mut self, index: u64, what: impl Into<String>) {
        self.found.push(Problem {
            index: Some(index),
            what: what.into(),
        });
    }
    fn range(&mut self, start: u64, end: u64, what: impl Into<String>) {
        self.ranges.push((
            Problem {
                index: Some(start),
                what: what.into(),
            },
            end,
        ));
    }
    /// A problem unless the log holds `needed` entries when verification ends.
    fn ahead(&mut self, index: u64, needed: u64, what: impl Into<String>) {
        self.ahead.push((
            Problem {
                index: Some(index),
                what: what.into(),
            },
            needed,
        ));
    }
    /// Keeps the `ahead` problems that the `stored` entries found now do not explain.
    fn settle(&mut self, stored: u64) {
        for (p, needed) in std::mem::take(&mut self.ahead) {
            if needed > stored {
                self.found.push(p);
            }
        }
    }
    fn log(&mut self, what: impl Into<String>) {
        self.found.push(Problem {
            index: None,
            what: what.into(),
        });
    }
    fn extend(&mut self, other: Problems) {
        self.found.extend(other.found);
        self.ranges.extend(other.ranges);
        self.ahead.extend(other.ahead);
    }
    fn first(self) -> Option<Problem> {
        let Problems {
            mut found, ranges, ..
        } = self;
        for (p, end) in ranges {
            let start = p.index.unwrap_or(0);
            if !found
                .iter()
                .any(|q| q.index.is_some_and(|i| i >= start && i < end))
            {
                found.push(p);
            }
        }
        found.into_iter().min_by_key(|p| (p.index.is_none(), p.index))
    }
}

/// One bundle's files as found on disk.
struct BundleFiles<'s> {
    /// The full entry bundle, or else the journal of a bundle being filled.
    bytes: Cow<'s, [u8]>,
    journal: bool,
    /// The journal of a full bundle, left by a crash while it was retired or not yet removed by
    /// a writer retiring it (its subject index entries may be there rather than in
    /// `subjects/index`).
    leftover: Option<&'s [u8]>,
}

/// One entry with its subject index entry, wherever each is stored.
struct Item<'a> {
    entry: &'a [u8],
    subjects: Option<&'a [u8]>,
    /// False for a journal frame whose check fails.
    intact: bool,
}

/// A bundle's entries as read.
struct Entries<'a> {
    items: Vec<Item<'a>>,
    /// Index in `items` where a torn tail begins (cut short, or frames whose checks fail with
    /// no whole frame after them); those items are not entries of the log.
    torn_at: Option<usize>,
    /// What begins at `torn_at` is damage, not what a crash leaves (see
    /// [`crate::journal::Journal::whole`]).
    damaged: bool,
}

/// Tries at taking a [`Snapshot`] while a writer keeps retiring journals.
const SNAPSHOT_ATTEMPTS: usize = 8;

/// The log's entries as of one moment, read without a lock while a writer may append and
/// retire journals.
///
/// INVARIANT (no entry lost to a concurrent retirement): a writer retires bundle `n` by writing
/// `tile/entries/<n>`, then appending its `subjects/index` entries, then removing
/// `journal/<n>` (see `Publisher::retire`). [`Snapshot::take`] reads in the opposite order:
/// it lists the journals, counts the full bundles, reads the journals, and reads the subject
/// index last. So every entry is either in a bundle counted or in a journal listed, and every
/// subject index entry of a counted bundle is either in the index or in a journal read. A
/// journal of a bundle not yet full that vanished between listing and reading was retired
/// meanwhile: the snapshot is taken again (bundles are never removed, so counting resumes
/// where it stopped). A missing file is never taken for an empty bundle.
struct Snapshot {
    /// Full entry bundles.
    full: u64,
    /// The journals of bundles `full..`, without a gap.
    journals: Vec<Vec<u8>>,
    /// Journals of full bundles that were not removed yet.
    leftovers: BTreeMap<u64, Vec<u8>>,
    /// The first journal listed past a gap, if any.
    stray: Option<u64>,
    subjects: Vec<u8>,
}

/// The number of full entry bundles, counting on from `from` (which are known to exist).
fn count_full(storage: &dyn LogStorage, from: u64) -> Result<u64, AuditError> {
    let mut full = from;
    loop {
        let path = bundle_path(full, TILE_WIDTH);
        if !storage.exists(&path).map_err(io_err("read", &path))? {
            return Ok(full);
        }
        full += 1;
    }
}

impl Snapshot {
    fn take(storage: &dyn LogStorage) -> Result<Snapshot, AuditError> {
        let mut full = count_full(storage, 0)?;
        for attempt in 1..=SNAPSHOT_ATTEMPTS {
            let listed = list_journals(storage)?;
            full = count_full(storage, full)?;
            let mut journals = Vec::new();
            let mut leftovers = BTreeMap::new();
            let mut stray = None;
            let mut vanished = false;
            for n in listed {
                let path = journal_path(n);
                if n < full {
                    // Removed meanwhile: its subject index entries are in the index, read last.
                    if let Some(bytes) = storage.read(&path).map_err(io_err("read", &path))? {
                        leftovers.insert(n, bytes);
                    }
                    continue;
                }
                if n != full + journals.len() as u64 {
                    stray.get_or_insert(n);
                    continue;
                }
                match storage.read(&path).map_err(io_err("read", &path))? {
                    Some(bytes) => journals.push(bytes),
                    None => {
                        vanished = true;
                        break;
                    }
                }
            }
            // A journal past a gap may be one a directory listing saw while another was being
            // created: look again before calling it damage.
            if vanished || (stray.is_some() && attempt < SNAPSHOT_ATTEMPTS) {
                continue;
            }
            let subjects = storage
                .read(SUBJECTS)
                .map_err(io_err("read", SUBJECTS))?
                .unwrap_or_default();
            return Ok(Snapshot {
                full,
                journals,
                leftovers,
                stray,
                subjects,
            });
        }
        Err(AuditError::Vanished)
    }

    /// Bundles, full or being filled.
    fn bundles(&self) -> u64 {
        self.full + self.journals.len() as u64
    }

    /// Bundle `n`'s files; `None` only when a full bundle counted a moment ago is gone.
    fn files(&self, storage: &dyn LogStorage, n: u64) -> Result<Option<BundleFiles<'_>>, AuditError> {
        if n < self.full {
            let path = bundle_path(n, TILE_WIDTH);
            return Ok(storage
                .read(&path)
                .map_err(io_err("read", &path))?
                .map(|bytes| BundleFiles {
                    bytes: Cow::Owned(bytes),
                    journal: false,
                    leftover: self.leftovers.get(&n).map(Vec::as_slice),
                }));
        }
        let k = usize::try_from(n - self.full).unwrap_or(usize::MAX);
        Ok(self.journals.get(k).map(|bytes| BundleFiles {
            bytes: Cow::Borrowed(bytes.as_slice()),
            journal: true,
            leftover: None,
        }))
    }
}

/// How many entries the log holds now, at least (a writer may be appending): `(full bundles,
/// entries)`, counting the whole frames of the journals after the full bundles.
fn stored_now(storage: &dyn LogStorage, from_full: u64) -> Result<(u64, u64), AuditError> {
    let listed = list_journals(storage)?;
    let full = count_full(storage, from_full)?;
    let mut size = full * TILE_WIDTH;
    for n in listed.into_iter().filter(|n| *n >= full) {
        if n.checked_mul(TILE_WIDTH) != Some(size) {
            break;
        }
        let path = journal_path(n);
        let count = match storage.read(&path).map_err(io_err("read", &path))? {
            Some(bytes) => (parse_journal(&bytes)
                .frames
                .iter()
                .take_while(|f| f.intact)
                .count() as u64)
                .min(TILE_WIDTH),
            // Retired since it was listed: its bundle is full.
            None => TILE_WIDTH,
        };
        size += count;
        if count < TILE_WIDTH {
            break;
        }
    }
    Ok((full, size))
}

impl BundleFiles<'_> {
    fn entries<'a>(&'a self, n: u64, frames: &[&'a [u8]]) -> Entries<'a> {
        let first = (n * TILE_WIDTH) as usize;
        if self.journal {
            let j = parse_journal(&self.bytes);
            let items: Vec<Item<'a>> = j
                .frames
                .iter()
                .map(|f| Item {
                    entry: f.entry,
                    subjects: Some(f.subjects),
                    intact: f.intact,
                })
                .collect();
            let (whole, damaged) = match j.whole() {
                Ok(c) => (c, false),
                Err(_) => (items.len(), true),
            };
            let torn_at = (whole < items.len() || j.torn_at.is_some()).then_some(whole);
            return Entries {
                items,
                torn_at,
                damaged,
            };
        }
        let b = parse_bundle(&self.bytes);
        let leftover = self.leftover.map(parse_journal);
        let items = b
            .entries
            .iter()
            .enumerate()
            .map(|(j, entry)| Item {
                entry,
                subjects: frames.get(first + j).copied().or_else(|| {
                    leftover
                        .as_ref()
                        .and_then(|l| l.frames.get(j))
                        .filter(|f| f.intact && f.entry == *entry)
                        .map(|f| f.subjects)
                }),
                intact: true,
            })
            .collect();
        Entries {
            items,
            torn_at: b.torn_at.map(|_| b.entries.len()),
            damaged: false,
        }
    }
}

struct BundleCheck {
    /// The bundle's subtree, level by level (only its leaf hashes when it is not full).
    levels: Vec<Vec<Hash>>,
    problems: Problems,
}

fn check_bundle(
    storage: &dyn LogStorage,
    snap: &Snapshot,
    n: u64,
    frames: &[&[u8]],
) -> Result<BundleCheck, AuditError> {
    let mut problems = Problems::default();
    let first = n * TILE_WIDTH;
    let last = n + 1 == snap.bundles();
    let Some(files) = snap.files(storage, n)? else {
        problems.at(first, format!("entry bundle {n} is missing"));
        return Ok(BundleCheck {
            levels: Vec::new(),
            problems,
        });
    };
    let Entries {
        mut items,
        torn_at,
        damaged,
    } = files.entries(n, frames);
    if let Some(t) = torn_at {
        let i = first + t as u64;
        if damaged {
            problems.at(
                i,
                format!(
                    "entry {t} of `{}` runs past its end but whole entries follow (a damaged length, not a torn tail)",
                    journal_path(n)
                ),
            );
        } else if files.journal && last {
            // On a live log, an append being written; it is a torn tail if it stays so.
            problems.ahead(
                i,
                i + 1,
                format!("entry {i} is cut short (a torn tail; opening the log recovers it)"),
            );
        } else {
            problems.at(i, format!("entry {i} is cut short"));
        }
        items.truncate(t);
    }
    let count = items.len() as u64;
    if count > TILE_WIDTH {
        problems.at(
            first + TILE_WIDTH,
            format!("entry bundle {n} holds {count} entries, more than 256"),
        );
    } else if !files.journal && count != TILE_WIDTH {
        problems.at(
            first + count,
            format!("entry bundle {n} holds {count} entries instead of 256 (entries deleted or cut)"),
        );
    } else if files.journal && !last && count != TILE_WIDTH {
        problems.at(
            first + count,
            format!("journal {n} holds {count} entries although later entries exist"),
        );
    }
    let hashes: Vec<Hash> = items.iter().map(|it| leaf_hash(it.entry)).collect();
    for (j, item) in items.iter().enumerate() {
        let i = first + j as u64;
        if !item.intact {
            problems.at(i, "the journal entry was changed (its check fails)");
            continue;
        }
        let (count, digest) = match AuditRecord::check_leaf(item.entry) {
            Ok(r) => r,
            Err(e) => {
                problems.at(i, format!("the entry is not a canonical record: {e}"));
                continue;
            }
        };
        let Some(frame) = item.subjects else {
            problems.at(i, "the subject index has no entry for this record");
            continue;
        };
        if digest != Some(digest_bytes(frame)) {
            problems.at(
                i,
                "the subject index entry does not match the digest in the record",
            );
            continue;
        }
        match SubjectSet::from_bytes(frame) {
            Ok(set) if set.count() == count => {}
            Ok(_) => problems.at(
                i,
                "the subject count in the record does not match its subject set",
            ),
            Err(e) => problems.at(i, e.to_string()),
        }
    }
    // Partial bundles published for earlier checkpoints must be prefixes of this bundle.
    let pdir = format!("{}.p", bundle_path(n, TILE_WIDTH));
    for name in storage.list(&pdir).map_err(io_err("list", &pdir))? {
        let Ok(w) = name.parse::<u64>() else { continue };
        let path = format!("{pdir}/{name}");
        let bytes = storage
            .read(&path)
            .map_err(io_err("read", &path))?
            .unwrap_or_default();
        let pb = parse_bundle(&bytes);
        if w == 0 || w >= TILE_WIDTH || pb.entries.len() as u64 != w || pb.torn_at.is_some() {
            problems.at(first, format!("partial bundle `{path}` is malformed"));
            continue;
        }
        for (j, e) in pb.entries.iter().enumerate() {
            if j >= items.len() {
                // Published after the snapshot, or entries since lost.
                problems.ahead(
                    first + j as u64,
                    first + w,
                    format!("the entry published in `{path}` is missing"),
                );
                break;
            }
            if items.get(j).map(|it| it.entry) != Some(e) {
                problems.at(
                    first + j as u64,
                    format!("the entry differs from the one published in `{path}`"),
                );
                break;
            }
        }
    }
    // The bundle's subtree is hashed here, in parallel with the other bundles.
    let levels = if hashes.len() as u64 == TILE_WIDTH {
        subtree_levels(hashes)
    } else {
        vec![hashes]
    };
    Ok(BundleCheck { levels, problems })
}

/// Verifies the log on `storage`; `saved` is a checkpoint saved earlier that the log must still
/// be consistent with. `vkey` overrides the verifier key stored in the log (`key.vkey`).
///
/// It may run while a writer appends: it verifies the log as of one moment after the stored
/// checkpoint was read, and does not take files the writer adds meanwhile for damage.
pub fn verify_log(
    storage: &dyn LogStorage,
    saved: Option<&[u8]>,
    vkey: Option<&str>,
) -> Result<VerifyReport, AuditError> {
    let mut problems = Problems::default();
    let stored_vkey = storage.read(VKEY).map_err(io_err("read", VKEY))?;
    let vkey = match (vkey, &stored_vkey) {
        (Some(v), _) => Some(v.trim().to_owned()),
        (None, Some(v)) => Some(String::from_utf8_lossy(v).trim().to_owned()),
        (None, None) => {
            problems.log("the log has no verifier key (`key.vkey`)");
            None
        }
    };

    // The checkpoint first: a writer publishes one only after the entries and tiles it covers,
    // so the snapshot taken next holds all of them.
    let checkpoint = storage.read(CHECKPOINT).map_err(io_err("read", CHECKPOINT))?;
    let snap = Snapshot::take(storage)?;
    let (frames, whole) = parse_frames(&snap.subjects);
    let (full, bundles) = (snap.full, snap.bundles());
    let checks: Vec<BundleCheck> = (0..bundles)
        .into_par_iter()
        .map(|n| check_bundle(storage, &snap, n, &frames))
        .collect::<Result<_, _>>()?;
    let tree = assemble_tree(&checks);
    for c in checks {
        problems.extend(c.problems);
    }
    let size = tree.size();
    if let Some(n) = snap.stray {
        problems.at(
            bundles * TILE_WIDTH,
            format!("journal {bundles} is missing but a later one exists (journal {n})"),
        );
    }

    let mut checkpoint_size = None;
    let mut checkpoints = Vec::new();
    if let Some(vkey) = &vkey {
        match &checkpoint {
            None => problems.log("the log has no checkpoint"),
            Some(bytes) => match Checkpoint::open(bytes, vkey) {
                Err(e) => problems.log(format!("the log's checkpoint: {e}")),
                Ok(cp) => {
                    checkpoint_size = Some(cp.size);
                    checkpoints.push((cp, "the log's checkpoint"));
                }
            },
        }
        if let Some(saved) = saved {
            match Checkpoint::open(saved, vkey) {
                Err(e) => problems.log(format!("the saved checkpoint: {e}")),
                Ok(cp) => checkpoints.push((cp, "the saved checkpoint")),
            }
        }
    }
    for (cp, which) in &checkpoints {
        check_against(&tree, cp, which, &mut problems)?;
    }
    check_tiles(storage, &tree, checkpoint_size.unwrap_or(0), &mut problems)?;
    let root = tree.root(size)?;

    // What a writer may have added since the snapshot is judged against the log as it is now.
    let (full_now, stored) = stored_now(storage, full)?;
    problems.settle(stored.max(size));
    if frames.len() as u64 > full_now * TILE_WIDTH {
        problems.at(
            full * TILE_WIDTH,
            "the subject index has entries past the last full entry bundle",
        );
    }
    if whole < snap.subjects.len() {
        // A writer appending to the index as it was read leaves a longer one behind.
        let now = storage.read(SUBJECTS).map_err(io_err("read", SUBJECTS))?;
        if now.is_none_or(|b| b.len() == snap.subjects.len()) {
            problems.at(frames.len() as u64, "the subject index ends in a cut-short entry");
        }
    }
    // A full bundle past the last one found means entries in between are gone.
    let after = bundle_path(full_now + 1, TILE_WIDTH);
    if storage.exists(&after).map_err(io_err("read", &after))? {
        problems.at(
            full_now * TILE_WIDTH,
            format!("entry bundle {full_now} is missing but a later one exists"),
        );
    }
    Ok(VerifyReport {
        size,
        root,
        checkpoint_size,
        problem: problems.first(),
    })
}

/// The tree from the bundles' subtrees: the run of whole bundles is laid out level by level
/// on both cores (one thread copying 10 M leaves and their nodes took longer than checking a
/// tenth of the records), the bundles after it are pushed.
#[expect(
    clippy::indexing_slicing,
    reason = "the first `whole` checks have every level at full width; the tree covers at most them"
)]
fn assemble_tree(checks: &[BundleCheck]) -> Tree {
    let whole = checks
        .iter()
        .take_while(|c| c.levels.len() == TILE_HEIGHT as usize + 1)
        .count();
    let lower: Vec<Vec<Hash>> = (0..=TILE_HEIGHT as usize)
        .map(|h| {
            let per = (TILE_WIDTH >> h) as usize;
            (0..whole * per)
                .into_par_iter()
                .map(|i| checks[i / per].levels[h][i % per])
                .collect()
        })
        .collect();
    let mut tree = Tree::from_lower_levels(lower).unwrap_or_default();
    for c in &checks[tree.size() as usize / TILE_WIDTH as usize..] {
        tree.push_subtree(c.levels.clone());
    }
    tree
}

fn check_against(
    tree: &Tree,
    cp: &Checkpoint,
    which: &str,
    problems: &mut Problems,
) -> Result<(), AuditError> {
    let size = tree.size();
    if cp.size > size {
        problems.at(
            size,
            format!(
                "the entry is missing: {which} commits to {} entries, the log holds {size}",
                cp.size
            ),
        );
    } else if tree.root(cp.size)? != cp.root {
        problems.log(format!(
            "the log is not consistent with {which} (size {}): its first {} entries were changed",
            cp.size, cp.size
        ));
    }
    Ok(())
}

/// Compares every hash tile on disk, full and partial, with the recomputed tree.
///
/// A full tile is required only up to `published` entries (the checkpoint's size): a writer
/// writes the tiles of newer entries after them, and opening the log rebuilds missing ones.
fn check_tiles(
    storage: &dyn LogStorage,
    tree: &Tree,
    published: u64,
    problems: &mut Problems,
) -> Result<(), AuditError> {
    let size = tree.size();
    let mut level = 0u32;
    loop {
        let h = (level * TILE_HEIGHT) as usize;
        let hashes = tree.level(h);
        let count = hashes.len() as u64;
        let tiles = count.div_ceil(TILE_WIDTH);
        let first_leaf = |node: u64| node << h;
        let found: Vec<Problems> = (0..=tiles)
            .into_par_iter()
            .map(|n| -> Result<Problems, AuditError> {
                let mut p = Problems::default();
                let mut candidates = Vec::new();
                let full = hash_tile_path(level, n, TILE_WIDTH);
                if let Some(bytes) = storage.read(&full).map_err(io_err("read", &full))? {
                    candidates.push((full, TILE_WIDTH, bytes));
                } else if (n + 1) * TILE_WIDTH <= count && first_leaf((n + 1) * TILE_WIDTH) <= published {
                    p.at(
                        first_leaf(n * TILE_WIDTH),
                        format!("hash tile `{full}` is missing"),
                    );
                }
                let pdir = format!("{}.p", hash_tile_path(level, n, TILE_WIDTH));
                for name in storage.list(&pdir).map_err(io_err("list", &pdir))? {
                    let Ok(w) = name.parse::<u64>() else { continue };
                    let path = format!("{pdir}/{name}");
                    let bytes = storage
                        .read(&path)
                        .map_err(io_err("read", &path))?
                        .unwrap_or_default();
                    candidates.push((path, w, bytes));
                }
                for (path, w, bytes) in candidates {
                    if bytes.len() as u64 != w.saturating_mul(32) {
                        p.at(
                            first_leaf(n * TILE_WIDTH),
                            format!("hash tile `{path}` has the wrong length"),
                        );
                        continue;
                    }
                    for (j, chunk) in bytes.chunks_exact(32).enumerate() {
                        let node = n * TILE_WIDTH + j as u64;
                        match hashes.get(node as usize) {
                            None => {
                                p.ahead(
                                    first_leaf(node).min(size),
                                    first_leaf((n * TILE_WIDTH).saturating_add(w)),
                                    format!("hash tile `{path}` covers entries the log does not hold"),
                                );
                                break;
                            }
                            Some(hash) if hash.0[..] != *chunk => {
                                let what = format!("the entries do not match hash tile `{path}`");
                                if level == 0 {
                                    p.at(node, what);
                                } else {
                                    p.range(first_leaf(node), first_leaf(node + 1), what);
                                }
                                break;
                            }
                            Some(_) => {}
                        }
                    }
                }
                Ok(p)
            })
            .collect::<Result<Vec<_>, _>>()?;
        for p in found {
            problems.extend(p);
        }
        if count < TILE_WIDTH {
            break;
        }
        level += 1;
    }
    Ok(())
}

/// Every record and its subject set, in log order, as far as the entries are whole (a torn
/// tail is skipped). For queries; [`verify_log`] is what checks them.
///
/// It may run while a writer appends and retires journals: it reads the files in the reverse of
/// the order the writer changes them, so it returns every record up to some moment, without a
/// gap, or an error (never a missing file taken for an empty bundle).
pub fn read_records(storage: &dyn LogStorage) -> Result<Vec<(u64, AuditRecord, SubjectSet)>, AuditError> {
    read_records_where(storage, |_| true)
}

/// [`read_records`], keeping only the records whose subject set `keep` accepts, decided from
/// the subject index before the record is read: a full bundle none of whose index entries is
/// kept is not read at all, and a record not kept is not parsed. Parsing the JSON leaves is most
/// of what reading records costs, so "which records touched subject 42" reads the index and a
/// handful of leaves rather than the whole log.
///
/// A record not kept is not checked against its index entry (the digest): [`verify_log`]
/// checks every one.
pub fn read_records_where<F>(
    storage: &dyn LogStorage,
    keep: F,
) -> Result<Vec<(u64, AuditRecord, SubjectSet)>, AuditError>
where
    F: Fn(&SubjectSet) -> bool + Sync,
{
    let snap = Snapshot::take(storage)?;
    let (frames, _) = parse_frames(&snap.subjects);
    let per_bundle: Vec<Vec<(u64, AuditRecord, SubjectSet)>> = (0..snap.bundles())
        .into_par_iter()
        .map(|n| -> Result<_, AuditError> {
            if n < snap.full && none_kept(&frames, n, &keep) {
                return Ok(Vec::new());
            }
            let Some(files) = snap.files(storage, n)? else {
                return Err(AuditError::Damaged {
                    index: n * TILE_WIDTH,
                    what: format!("entry bundle {n} is missing"),
                });
            };
            let Entries {
                mut items,
                torn_at,
                damaged,
            } = files.entries(n, &frames);
            if let Some(t) = torn_at.filter(|_| damaged) {
                return Err(AuditError::Damaged {
                    index: n * TILE_WIDTH + t as u64,
                    what: format!("entry {t} of `{}` is damaged", journal_path(n)),
                });
            }
            items.truncate(torn_at.unwrap_or(items.len()));
            let mut out = Vec::new();
            for (j, item) in items.iter().enumerate() {
                let i = n * TILE_WIDTH + j as u64;
                let damaged = |what: String| AuditError::Damaged { index: i, what };
                if !item.intact {
                    return Err(damaged("the journal entry was changed (its check fails)".into()));
                }
                let frame = item
                    .subjects
                    .ok_or_else(|| damaged("the subject index has no entry for this record".into()))?;
                let set = SubjectSet::from_bytes(frame).map_err(|e| damaged(e.to_string()))?;
                if !keep(&set) {
                    continue;
                }
                let record = AuditRecord::from_leaf(item.entry).map_err(|e| damaged(e.to_string()))?;
                if Hash::from_hex(&record.subjects.digest) != Some(digest_bytes(frame)) {
                    return Err(damaged(
                        "the subject index entry does not match the digest in the record".into(),
                    ));
                }
                out.push((i, record, set));
            }
            Ok(out)
        })
        .collect::<Result<_, _>>()?;
    Ok(per_bundle.into_iter().flatten().collect())
}

/// Whether the subject index holds every entry of full bundle `n` and `keep` accepts none of
/// them. An entry missing from the index (a retirement under way) or one that does not decode
/// answers false, so that the bundle is read and the problem reported as [`read_records`] does.
fn none_kept(frames: &[&[u8]], n: u64, keep: &(impl Fn(&SubjectSet) -> bool + Sync)) -> bool {
    let first = (n * TILE_WIDTH) as usize;
    let Some(bundle) = frames.get(first..first + TILE_WIDTH as usize) else {
        return false;
    };
    bundle
        .iter()
        .all(|f| SubjectSet::from_bytes(f).is_ok_and(|set| !keep(&set)))
}
