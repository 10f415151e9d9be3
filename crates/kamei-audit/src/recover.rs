//! Opening a log: the tree rebuilt from full bundles and journals, a torn tail cut, damage
//! within the stored checkpoint refused, and what a crash left half done found for redoing.

use crate::checkpoint::Checkpoint;
use crate::journal::{JOURNAL_DIR, journal_path, parse_journal};
use crate::log::{AuditError, SUBJECTS, io_err};
use crate::merkle::{Hash, Tree, leaf_hash, subtree_levels};
use crate::storage::LogStorage;
use crate::subjects::{parse_frames, push_frame};
use crate::tiles::{TILE_WIDTH, bundle_path, hash_tile_path, parse_bundle};
use rayon::prelude::*;

/// Pushes the leaf hashes of the full entry bundles onto `tree` (from the level-0 hash tiles
/// where present, which verify checks, else from the entries); returns how many there are.
/// Bundles are read and their subtrees hashed in parallel, a chunk at a time so that memory
/// stays near the tree's own.
fn load_full_bundles(storage: &dyn LogStorage, tree: &mut Tree) -> Result<u64, AuditError> {
    const CHUNK: u64 = 1024;
    let mut n = 0u64;
    loop {
        let mut end = n;
        while end < n + CHUNK {
            let path = bundle_path(end, TILE_WIDTH);
            if !storage.exists(&path).map_err(io_err("read", &path))? {
                break;
            }
            end += 1;
        }
        let blocks: Vec<Vec<Vec<Hash>>> = (n..end)
            .into_par_iter()
            .map(|n| bundle_leaves(storage, n).map(subtree_levels))
            .collect::<Result<_, _>>()?;
        for block in blocks {
            tree.push_subtree(block);
        }
        if end < n + CHUNK {
            return Ok(end);
        }
        n = end;
    }
}

/// The 256 leaf hashes of full bundle `n`.
fn bundle_leaves(storage: &dyn LogStorage, n: u64) -> Result<Vec<Hash>, AuditError> {
    let tile_path = hash_tile_path(0, n, TILE_WIDTH);
    let tile = storage.read(&tile_path).map_err(io_err("read", &tile_path))?;
    if let Some(t) = tile.filter(|t| t.len() == 32 * TILE_WIDTH as usize) {
        return Ok(t
            .chunks_exact(32)
            .map(|chunk| {
                let mut h = [0u8; 32];
                h.copy_from_slice(chunk);
                Hash(h)
            })
            .collect());
    }
    let path = bundle_path(n, TILE_WIDTH);
    let bytes = storage
        .read(&path)
        .map_err(io_err("read", &path))?
        .unwrap_or_default();
    let b = parse_bundle(&bytes);
    if b.entries.len() as u64 != TILE_WIDTH || b.torn_at.is_some() {
        return Err(AuditError::Damaged {
            index: n * TILE_WIDTH + (b.entries.len() as u64).min(TILE_WIDTH - 1),
            what: format!("entry bundle {n} does not hold 256 whole entries"),
        });
    }
    Ok(b.entries.iter().map(|e| leaf_hash(e)).collect())
}

/// The bundle numbers that have a journal, ascending. Names the log never writes (`01`, `+1`,
/// temporary files) are not journals and are left alone.
pub(crate) fn list_journals(storage: &dyn LogStorage) -> Result<Vec<u64>, AuditError> {
    let mut out: Vec<u64> = storage
        .list(JOURNAL_DIR)
        .map_err(io_err("list", JOURNAL_DIR))?
        .iter()
        .filter_map(|name| name.parse::<u64>().ok().filter(|n| n.to_string() == *name))
        .collect();
    out.sort_unstable();
    Ok(out)
}

/// A change to the journals that recovery makes once it knows it loses nothing acknowledged.
enum Repair {
    /// Cut a torn tail.
    Truncate(String, u64),
    /// A journal past the bundle being filled: its appends also needed the torn tail.
    Remove(String),
}

/// Reads the journals of the bundles from `full` on (the bundle being filled, and full ones not
/// yet retired) and pushes their entries onto `tree`. Changes nothing; returns the journals
/// kept and the repairs (torn tails to cut, journals past an incomplete one to remove).
fn load_journals(
    storage: &dyn LogStorage,
    full: u64,
    journals: &[u64],
    tree: &mut Tree,
) -> Result<(Vec<u64>, Vec<Repair>), AuditError> {
    let mut kept = Vec::new();
    let mut repairs = Vec::new();
    let mut expect = full;
    let mut rest = journals.iter().copied().filter(|n| *n >= full);
    while let Some(n) = rest.next() {
        // Checked before any arithmetic on `n`: a stray file may carry any number.
        if n != expect {
            return Err(AuditError::Damaged {
                index: expect * TILE_WIDTH,
                what: format!(
                    "journal {expect} is missing but a later one (`{}`) exists",
                    journal_path(n)
                ),
            });
        }
        let first = n * TILE_WIDTH;
        let path = journal_path(n);
        let Some(bytes) = storage.read(&path).map_err(io_err("read", &path))? else {
            // Listed a moment ago: only a writer retiring it removes a journal.
            return Err(AuditError::Vanished);
        };
        let journal = parse_journal(&bytes);
        let count = journal.whole().map_err(|i| AuditError::Damaged {
            index: first + i as u64,
            what: format!(
                "entry {i} of `{path}` is damaged (its check or length is wrong, and it is not a torn tail)"
            ),
        })?;
        if count as u64 > TILE_WIDTH {
            return Err(AuditError::Damaged {
                index: first + TILE_WIDTH,
                what: format!("journal {n} holds more than 256 entries"),
            });
        }
        let keep = journal.len_of(count);
        if keep < bytes.len() {
            repairs.push(Repair::Truncate(path, keep as u64));
        }
        for f in journal.frames.iter().take(count) {
            tree.push(leaf_hash(f.entry));
        }
        kept.push(n);
        if (count as u64) < TILE_WIDTH {
            // The bundle being filled. A later journal holds only appends that were never
            // acknowledged: their commit also needed this journal's missing tail.
            repairs.extend(rest.map(|later| Repair::Remove(journal_path(later))));
            break;
        }
        expect += 1;
    }
    Ok((kept, repairs))
}

/// That `cp` describes a prefix of the entries in `tree`: as many or fewer, with its root.
pub(crate) fn check_against(tree: &Tree, cp: &Checkpoint) -> Result<(), AuditError> {
    if cp.size > tree.size() {
        return Err(AuditError::Damaged {
            index: tree.size(),
            what: format!(
                "the checkpoint commits to {} entries but only {} are stored",
                cp.size,
                tree.size()
            ),
        });
    }
    if tree.root(cp.size)? != cp.root {
        return Err(AuditError::DamagedLog(format!(
            "the entries no longer match the signed checkpoint at size {}",
            cp.size
        )));
    }
    Ok(())
}

/// Finds the entries, checks them against the stored checkpoint, finishes retiring journals
/// that a crash interrupted, cuts a torn journal tail that no acknowledged append covers, and
/// rebuilds the tree. Returns the tree and the number of full (retired) bundles.
///
/// INVARIANT (recovery never destroys what it refuses): every file is changed only after the
/// entries found, torn tails excluded, are checked against the checkpoint; a log that fails
/// that check is left as it is, for `kamei audit verify` and repair by hand.
pub(crate) fn recover(
    storage: &dyn LogStorage,
    checkpoint: Option<&Checkpoint>,
) -> Result<(Tree, u64), AuditError> {
    let mut tree = Tree::new();
    let full = load_full_bundles(storage, &mut tree)?;
    let journals = list_journals(storage)?;
    let (kept, repairs) = load_journals(storage, full, &journals, &mut tree)?;
    // The stored checkpoint must describe a prefix of what is here.
    if let Some(cp) = checkpoint {
        check_against(&tree, cp)?;
    }

    // The subject index covers exactly the full bundles; a crash while retiring may have left
    // it short (or with a torn frame): complete it from the journals, which are still there.
    //
    // INVARIANT (index entries of a bundle with a journal are rebuilt, not trusted): a
    // retirement removes journals only after the index entries of all the bundles it retired
    // are synced, so the journals of full bundles left by a crash form a run ending at `full`,
    // and the index entries of the bundles before that run are durable. Those of the run may
    // not be: after power loss between the append and its sync, they can read as zeros (which
    // parse as empty entries). They are cut and rebuilt from the journals.
    let subjects = storage
        .read(SUBJECTS)
        .map_err(io_err("read", SUBJECTS))?
        .unwrap_or_default();
    let (frames, whole) = parse_frames(&subjects);
    let want = full * TILE_WIDTH;
    let have = frames.len() as u64;
    let mut journaled = full;
    while journaled > 0 && journals.binary_search(&(journaled - 1)).is_ok() {
        journaled -= 1;
    }
    if have > want && journaled == full {
        return Err(AuditError::Damaged {
            index: want,
            what: "the subject index has entries past the last full entry bundle".into(),
        });
    }
    if have < want || whole < subjects.len() || journaled < full {
        let from = (have / TILE_WIDTH).min(journaled);
        let keep: usize = frames
            .iter()
            .take((from * TILE_WIDTH) as usize)
            .map(|f| f.len() + 4)
            .sum();
        let mut add = Vec::new();
        for n in from..full {
            let missing = || AuditError::Damaged {
                index: n * TILE_WIDTH,
                what: "the subject index has no entry for this record".into(),
            };
            let path = journal_path(n);
            let bytes = storage
                .read(&path)
                .map_err(io_err("read", &path))?
                .ok_or_else(missing)?;
            let journal = parse_journal(&bytes);
            if journal.whole().ok().is_none_or(|c| (c as u64) < TILE_WIDTH) {
                return Err(missing());
            }
            for (j, f) in journal.frames.iter().take(TILE_WIDTH as usize).enumerate() {
                let index = n * TILE_WIDTH + j as u64;
                if tree.leaf(index) != Some(leaf_hash(f.entry)) {
                    return Err(AuditError::Damaged {
                        index,
                        what: format!("entry bundle {n} and its journal differ"),
                    });
                }
                push_frame(&mut add, f.subjects);
            }
        }
        if keep < subjects.len() {
            storage
                .truncate(SUBJECTS, keep as u64)
                .map_err(io_err("truncate", SUBJECTS))?;
        }
        if !add.is_empty() {
            storage
                .append(SUBJECTS, &add)
                .map_err(io_err("append to", SUBJECTS))?;
            storage.sync(SUBJECTS).map_err(io_err("sync", SUBJECTS))?;
        }
    }
    for n in journals.iter().copied().filter(|n| *n < full) {
        let path = journal_path(n);
        storage.remove(&path).map_err(io_err("remove", &path))?;
    }

    for repair in repairs {
        match repair {
            Repair::Truncate(path, len) => storage.truncate(&path, len).map_err(io_err("truncate", &path))?,
            Repair::Remove(path) => storage.remove(&path).map_err(io_err("remove", &path))?,
        }
    }
    // What a crash left written but unsynced is adopted now: make it durable before a
    // checkpoint can cover it.
    for n in kept {
        let path = journal_path(n);
        storage.sync(&path).map_err(io_err("sync", &path))?;
    }
    Ok((tree, full))
}

/// The tree of what is stored, read only: full bundles (by their hash tiles) and journals, up
/// to a torn tail. Repairs nothing, takes no lock.
///
/// A writer may retire a journal (write its bundle, then remove it) while this reads: the
/// journals are listed before the bundles are counted, so a journal retired in between is seen
/// as a bundle; one removed between listing and reading makes the attempt fail, and it is made
/// again.
pub(crate) fn read_tree(storage: &dyn LogStorage) -> Result<Tree, AuditError> {
    let mut attempt = 0;
    loop {
        let journals = list_journals(storage)?;
        let mut tree = Tree::new();
        let full = load_full_bundles(storage, &mut tree)?;
        match load_journals(storage, full, &journals, &mut tree) {
            Ok(_) => return Ok(tree),
            Err(AuditError::Vanished) if attempt < 3 => attempt += 1,
            Err(AuditError::Vanished) => {
                return Err(AuditError::DamagedLog(
                    "the journals kept changing while they were read".into(),
                ));
            }
            Err(e) => return Err(e),
        }
    }
}
