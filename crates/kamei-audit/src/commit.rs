//! Group commit: the three stages an append goes through after [`crate::AuditLog::append`]
//! queued it, each on a thread of its own.
//!
//! 1. The committer takes whatever appends are queued, appends their journal frames (entry and
//!    subject set, see [`crate::journal`]), syncs the journal once for the whole batch, makes
//!    the entries visible in the tree and answers. It is the only code that changes the tree.
//!    Appends that arrive during a sync form the next batch, so batches grow with load.
//! 2. The notifier wakes the callers of a big batch.
//! 3. The publisher derives full entry bundles and subject index entries from full journals,
//!    writes hash tiles, and signs checkpoints. Entries are durable whatever happens there, and
//!    opening the log redoes any of it that is missing.
//!
//! After a failed write or sync nothing more is acknowledged until the log is reopened: what is
//! on disk is unknown then, and a later sync may succeed on pages an earlier one lost.

use crate::checkpoint::{Checkpoint, LogKey};
use crate::journal::{journal_path, parse_journal};
use crate::log::{AuditError, CHECKPOINT, SUBJECTS, io_err};
use crate::merkle::{Hash, Tree};
use crate::storage::LogStorage;
use crate::subjects::push_frame;
use crate::tiles::{TILE_HEIGHT, TILE_WIDTH, bundle_path, hash_tile_path, push_entry};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender, SyncSender};
use std::sync::{Arc, Mutex, RwLock};

/// Most appends one batch takes.
const MAX_BATCH: usize = 4096;

/// Where an append's answer goes: a caller blocked on it, or a future awaiting it.
pub(crate) enum Reply {
    Blocking(SyncSender<Result<u64, String>>),
    Future(futures_channel::oneshot::Sender<Result<u64, String>>),
}

impl Reply {
    /// Answers the caller (one who stopped waiting is no error).
    pub(crate) fn send(self, answer: Result<u64, String>) {
        let _ = match self {
            Reply::Blocking(tx) => tx.send(answer).map_err(drop),
            Reply::Future(tx) => tx.send(answer).map_err(drop),
        };
    }
}
pub(crate) type PublishReply = SyncSender<Result<Vec<u8>, String>>;

pub(crate) enum Job {
    Append {
        /// The journal frame (entry, subject set, check), encoded by the caller.
        frame: Vec<u8>,
        hash: Hash,
        reply: Reply,
    },
    Publish {
        reply: PublishReply,
    },
}

/// Appends a batch's frames to the journals of the bundles it falls in (not synced); returns
/// those bundles.
fn write_journals(
    storage: &dyn LogStorage,
    start: u64,
    batch: &[(Vec<u8>, Hash, Reply)],
) -> Result<Vec<u64>, AuditError> {
    let mut journals: Vec<(u64, Vec<u8>)> = Vec::new();
    for (i, (frame, _, _)) in batch.iter().enumerate() {
        let n = (start + i as u64) / TILE_WIDTH;
        match journals.last_mut() {
            Some((last, bytes)) if *last == n => bytes.extend_from_slice(frame),
            _ => journals.push((n, frame.clone())),
        }
    }
    for (n, bytes) in &journals {
        let path = journal_path(*n);
        storage.append(&path, bytes).map_err(io_err("append to", &path))?;
    }
    Ok(journals.into_iter().map(|(n, _)| n).collect())
}

/// Answers for the callers of one commit.
pub(crate) type Answers = Vec<(Reply, Result<u64, String>)>;

/// What the committer hands the publisher, in log order.
pub(crate) enum Finish {
    /// Entries `start..end` are durable and visible.
    Committed {
        start: u64,
        end: u64,
    },
    Publish(PublishReply),
}

/// First stage: writes and syncs each batch, makes its entries visible, answers, and hands the
/// finishing work on. Its thread takes what is queued; an append that finds nothing queued
/// and nobody committing is committed on its caller's thread (`AuditLog::commit_alone`), which
/// spares a lone client's statement two thread switches.
pub(crate) struct Committer {
    pub storage: Arc<dyn LogStorage>,
    pub tree: Arc<RwLock<Tree>>,
    pub failed: Arc<AtomicBool>,
    /// Waking dozens of callers one by one costs about as much as a sync, and writing bundles,
    /// tiles and checkpoints costs more: both run on threads of their own. A commit of a few
    /// callers wakes them itself (one thread switch less for a lone client's statement).
    pub answers: Sender<Answers>,
    pub finished: Sender<Finish>,
    /// The publisher's `publish_every`: it is told of commits only when it has work, a bundle
    /// completed or that many entries added, not at every commit.
    pub publish_every: u64,
    /// The size the publisher was last told of, and the size committed.
    pub reported: u64,
    pub committed: u64,
}

impl std::fmt::Debug for Committer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Committer")
            .field("committed", &self.committed)
            .finish_non_exhaustive()
    }
}

/// Sets the log failed when dropped by a panic.
struct FailOnUnwind(Arc<AtomicBool>);

impl Drop for FailOnUnwind {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.store(true, Ordering::SeqCst);
        }
    }
}

/// Most answers the committer sends itself rather than through the notifier.
const INLINE_ANSWERS: usize = 4;

/// Second stage: wakes the callers of a committed batch.
pub(crate) fn run_notifier(rx: Receiver<Answers>) {
    while let Ok(answers) = rx.recv() {
        for (reply, answer) in answers {
            reply.send(answer);
        }
    }
}

/// The committer's thread: takes whatever is queued (at most [`MAX_BATCH`] appends), commits
/// it as one batch, then hands publish requests on, in that order.
pub(crate) fn run_committer(committer: Arc<Mutex<Committer>>, queued: Arc<AtomicUsize>, rx: Receiver<Job>) {
    while let Ok(first) = rx.recv() {
        let mut appends = Vec::new();
        let mut publishes = Vec::new();
        let mut job = Some(first);
        while let Some(j) = job {
            match j {
                Job::Append { frame, hash, reply } => appends.push((frame, hash, reply)),
                Job::Publish { reply } => publishes.push(reply),
            }
            job = if appends.len() < MAX_BATCH {
                rx.try_recv().ok()
            } else {
                None
            };
        }
        let mut committer = committer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        queued.fetch_sub(appends.len(), Ordering::SeqCst);
        committer.commit(appends);
        for reply in publishes {
            committer.report();
            let _ = committer.finished.send(Finish::Publish(reply));
        }
    }
    // The log is closing: the state outlives this thread (the log holds it too), so its senders
    // are dropped here for the notifier and the publisher to end.
    let mut committer = committer
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    committer.answers = std::sync::mpsc::channel().0;
    committer.finished = std::sync::mpsc::channel().0;
}

impl Committer {
    /// Tells the publisher of every commit since it was last told.
    fn report(&mut self) {
        if self.committed > self.reported {
            let _ = self.finished.send(Finish::Committed {
                start: self.reported,
                end: self.committed,
            });
            self.reported = self.committed;
        }
    }

    fn answer(&self, answers: Answers) {
        if answers.len() <= INLINE_ANSWERS {
            for (reply, answer) in answers {
                reply.send(answer);
            }
        } else {
            let _ = self.answers.send(answers);
        }
    }

    /// Writes a batch, syncs it, then answers.
    pub(crate) fn commit(&mut self, batch: Vec<(Vec<u8>, Hash, Reply)>) {
        if batch.is_empty() {
            return;
        }
        // A panic between the write and `committed` (on a caller's thread, which survives it)
        // would leave frames on disk the state does not count: nothing more is acknowledged.
        let _unwinding = FailOnUnwind(Arc::clone(&self.failed));
        let start = self.committed;
        // INVARIANT (nothing acknowledged after a failure): once `failed` is set, no later
        // batch is answered Ok, even if its own write and sync would succeed.
        let synced = if self.failed.load(Ordering::SeqCst) {
            Err(AuditError::Closed)
        } else {
            write_journals(self.storage.as_ref(), start, &batch).and_then(|journals| {
                journals.iter().try_for_each(|n| {
                    let path = journal_path(*n);
                    self.storage.sync(&path).map_err(io_err("sync", &path))
                })
            })
        };
        if let Err(e) = synced {
            // What is on disk is unknown now: refuse further appends until the log is
            // reopened, where recovery decides from the files.
            self.failed.store(true, Ordering::SeqCst);
            let msg = e.to_string();
            let answers = batch
                .into_iter()
                .map(|(_, _, reply)| (reply, Err(msg.clone())))
                .collect();
            self.answer(answers);
            return;
        }
        // Durable: make the entries visible, then answer.
        {
            let mut tree = self
                .tree
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            for (_, hash, _) in &batch {
                tree.push(*hash);
            }
        }
        let end = start + batch.len() as u64;
        let answers = batch
            .into_iter()
            .zip(start..)
            .map(|((_, _, reply), index)| (reply, Ok(index)))
            .collect();
        self.answer(answers);
        self.committed = end;
        let bundle_done = end / TILE_WIDTH > self.reported / TILE_WIDTH;
        if bundle_done || (self.publish_every > 0 && end - self.reported >= self.publish_every) {
            self.report();
        }
    }
}

/// Third stage: retires full journals, writes hash tiles, signs and publishes checkpoints.
pub(crate) struct Publisher {
    pub storage: Arc<dyn LogStorage>,
    pub tree: Arc<RwLock<Tree>>,
    pub key: Arc<LogKey>,
    pub origin: String,
    pub publish_every: u64,
    pub published: u64,
    /// The entries the processed commits cover: tiles and checkpoints describe this size,
    /// which may lag the tree (the committer runs ahead).
    pub end: u64,
    /// Bundles below this have their full entry bundle and subject index entries.
    pub retired: u64,
    pub failed: Arc<AtomicBool>,
}

impl Publisher {
    pub fn run(mut self, rx: Receiver<Finish>) {
        while let Ok(first) = rx.recv() {
            // Take every commit that is waiting: bundles are then retired together, with one
            // sync of the subject index.
            let mut items = vec![first];
            while let Ok(more) = rx.try_recv() {
                items.push(more);
            }
            let mut since = None;
            for item in items {
                match item {
                    Finish::Committed { start, end } => {
                        since.get_or_insert(start);
                        self.end = end;
                    }
                    Finish::Publish(reply) => {
                        let answer = self
                            .catch_up(since.take())
                            .and_then(|()| self.publish())
                            .map_err(|e| e.to_string());
                        let _ = reply.send(answer);
                    }
                }
            }
            let _ = self.catch_up(since);
        }
    }

    /// Brings bundles and tiles up to `self.end` after commits that started at `since`.
    fn catch_up(&mut self, since: Option<u64>) -> Result<(), AuditError> {
        if self.failed.load(Ordering::SeqCst) {
            return Err(AuditError::Closed);
        }
        let Some(since) = since else { return Ok(()) };
        let done = self
            .retire()
            .and_then(|()| self.write_full_tiles(since))
            .and_then(|()| {
                if self.publish_every > 0 && self.end - self.published >= self.publish_every {
                    self.publish().map(|_| ())
                } else {
                    Ok(())
                }
            });
        if done.is_err() {
            self.failed.store(true, Ordering::SeqCst);
        }
        done
    }

    /// Derives the entry bundle and the subject index entries of every full journal, makes
    /// them durable, then removes the journals.
    pub fn retire(&mut self) -> Result<(), AuditError> {
        let full = self.end / TILE_WIDTH;
        if self.retired >= full {
            return Ok(());
        }
        let mut frames = Vec::new();
        for n in self.retired..full {
            let path = journal_path(n);
            let bytes = self
                .storage
                .read(&path)
                .map_err(io_err("read", &path))?
                .unwrap_or_default();
            let journal = parse_journal(&bytes);
            let whole = journal.frames.iter().take_while(|f| f.intact).count();
            if (whole as u64) < TILE_WIDTH {
                return Err(AuditError::Damaged {
                    index: n * TILE_WIDTH + whole as u64,
                    what: format!("journal {n} does not hold 256 whole entries"),
                });
            }
            let mut bundle = Vec::with_capacity(bytes.len());
            for f in journal.frames.iter().take(TILE_WIDTH as usize) {
                push_entry(&mut bundle, f.entry);
                push_frame(&mut frames, f.subjects);
            }
            let full_path = bundle_path(n, TILE_WIDTH);
            self.storage
                .write(&full_path, &bundle, true)
                .map_err(io_err("write", &full_path))?;
        }
        // INVARIANT (retirement order): bundles first (durable, with every directory on their
        // path, see `LocalDir::ensure_parent`), then their subject index entries (synced), then
        // the journals go, lowest first. Opening the log after a crash anywhere here still finds
        // every journal it needs, and a reader without the lock (`verify::Snapshot`), which
        // reads in the reverse order, never misses an entry.
        self.storage
            .append(SUBJECTS, &frames)
            .map_err(io_err("append to", SUBJECTS))?;
        self.storage.sync(SUBJECTS).map_err(io_err("sync", SUBJECTS))?;
        for n in self.retired..full {
            let path = journal_path(n);
            self.storage.remove(&path).map_err(io_err("remove", &path))?;
        }
        self.retired = full;
        Ok(())
    }

    /// Writes every full hash tile completed between tree sizes `since` and `self.end` (all of
    /// them for 0, when missing).
    pub fn write_full_tiles(&self, since: u64) -> Result<(), AuditError> {
        let tree = self
            .tree
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let size = self.end;
        if size > tree.size() {
            return Err(AuditError::DamagedLog(format!(
                "tiles asked for {size} entries but only {} are durable",
                tree.size()
            )));
        }
        let mut level = 0u32;
        loop {
            let h = (level * TILE_HEIGHT) as usize;
            let full_now = (size >> h) / TILE_WIDTH;
            if full_now == 0 {
                break;
            }
            let full_before = (since >> h) / TILE_WIDTH;
            for n in full_before..full_now {
                let path = hash_tile_path(level, n, TILE_WIDTH);
                if since == 0 && self.storage.exists(&path).map_err(io_err("read", &path))? {
                    continue;
                }
                let hashes = tree
                    .level(h)
                    .get((n * TILE_WIDTH) as usize..((n + 1) * TILE_WIDTH) as usize)
                    .ok_or_else(|| {
                        AuditError::DamagedLog(format!("the tree lacks tile {n} of level {level}"))
                    })?;
                let bytes: Vec<u8> = hashes.iter().flat_map(|x| x.0).collect();
                self.storage
                    .write(&path, &bytes, false)
                    .map_err(io_err("write", &path))?;
            }
            level += 1;
        }
        Ok(())
    }

    /// Writes the partial tiles and bundle for `self.end`, then the signed checkpoint.
    pub fn publish(&mut self) -> Result<Vec<u8>, AuditError> {
        let tree = self
            .tree
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone_shape(self.end)?;
        let size = tree.size;
        let mut level = 0u32;
        while (size >> (level * TILE_HEIGHT)) > 0 {
            let count = size >> (level * TILE_HEIGHT);
            let (n, w) = (count / TILE_WIDTH, count % TILE_WIDTH);
            if w > 0 {
                let path = hash_tile_path(level, n, w);
                if !self.storage.exists(&path).map_err(io_err("read", &path))? {
                    let hashes = tree.partial.get(level as usize).ok_or_else(|| {
                        AuditError::DamagedLog(format!("the tree lacks the partial tile of level {level}"))
                    })?;
                    let bytes: Vec<u8> = hashes.iter().flat_map(|x| x.0).collect();
                    self.storage
                        .write(&path, &bytes, false)
                        .map_err(io_err("write", &path))?;
                }
            }
            level += 1;
        }
        let w = size % TILE_WIDTH;
        if w > 0 {
            let n = size / TILE_WIDTH;
            let path = bundle_path(n, w);
            if !self.storage.exists(&path).map_err(io_err("read", &path))? {
                let journal = journal_path(n);
                let bytes = self
                    .storage
                    .read(&journal)
                    .map_err(io_err("read", &journal))?
                    .unwrap_or_default();
                let parsed = parse_journal(&bytes);
                if parsed.frames.len() < w as usize {
                    return Err(AuditError::Damaged {
                        index: size - 1,
                        what: format!("journal {n} holds fewer entries than the tree"),
                    });
                }
                let mut bundle = Vec::new();
                for f in parsed.frames.iter().take(w as usize) {
                    push_entry(&mut bundle, f.entry);
                }
                self.storage
                    .write(&path, &bundle, false)
                    .map_err(io_err("write", &path))?;
            }
        }
        let cp = Checkpoint {
            origin: self.origin.clone(),
            size,
            root: tree.root,
        };
        let note = self.key.sign(&cp)?;
        self.storage
            .write(CHECKPOINT, &note, false)
            .map_err(io_err("write", CHECKPOINT))?;
        self.published = size;
        Ok(note)
    }
}

/// What publishing needs from the tree, copied so the lock is not held during file writes.
struct TreeShape {
    size: u64,
    root: Hash,
    /// Per tile level, the hashes of the partial tile at the right edge.
    partial: Vec<Vec<Hash>>,
}

impl Tree {
    fn clone_shape(&self, size: u64) -> Result<TreeShape, AuditError> {
        // Never a checkpoint for entries the tree does not hold.
        let root = self.root(size)?;
        let mut partial = Vec::new();
        let mut level = 0u32;
        while (size >> (level * TILE_HEIGHT)) > 0 {
            let h = (level * TILE_HEIGHT) as usize;
            let count = size >> h;
            let start = (count / TILE_WIDTH * TILE_WIDTH) as usize;
            let hashes = self.level(h).get(start..count as usize).ok_or_else(|| {
                AuditError::DamagedLog(format!("the tree lacks the partial tile of level {level}"))
            })?;
            partial.push(hashes.to_vec());
            level += 1;
        }
        Ok(TreeShape { size, root, partial })
    }
}
