//! The log: durable appends with group commit, recovery of a torn tail, tiles and checkpoints.
//!
//! # On disk (relative to the log's storage root)
//!
//! - `tile/<L>/<N>[.p/<W>]`, `tile/entries/<N>[.p/<W>]`: the C2SP tlog-tiles layout. Full entry
//!   bundles are the durable home of entries; hash tiles are derived and rebuilt when missing.
//! - `pending/<N>`: entry bundle `N` while it fills (same format: uint16 length, bytes); it is
//!   appended to and synced before an append is acknowledged, and renamed to
//!   `tile/entries/<N>` when its 256th entry is durable.
//! - `subjects/index`: the subject index, one framed entry per record (see [`crate::subjects`]).
//! - `checkpoint`: the latest signed checkpoint; `key.vkey`: the public verifier key;
//!   `key` (0600): the signing key, only for a log that keeps its own (the command line
//!   passes the keyring's `audit-signing` key instead, see [`Options::key`]).

use crate::checkpoint::{Checkpoint, CheckpointError, LogKey};
use crate::merkle::{Hash, ProofError, Tree, leaf_hash};
use crate::record::{AuditRecord, RecordError, RecordInput};
use crate::storage::{LocalDir, LogStorage};
use crate::subjects::{SubjectSet, parse_frames, push_frame};
use crate::tiles::{TILE_HEIGHT, TILE_WIDTH, bundle_path, hash_tile_path, parse_bundle, push_entry};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;

/// The default origin (and signing key name) of a log.
pub const DEFAULT_ORIGIN: &str = "kamei.local/audit";
pub(crate) const SUBJECTS: &str = "subjects/index";
pub(crate) const CHECKPOINT: &str = "checkpoint";
pub(crate) const KEY: &str = "key";
pub(crate) const VKEY: &str = "key.vkey";
/// Most appends one group commit takes.
const MAX_BATCH: usize = 4096;

pub(crate) fn pending_path(n: u64) -> String {
    format!("pending/{n}")
}

/// Errors of the audit log.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("cannot {op} `{path}`: {source}")]
    Io {
        op: &'static str,
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Record(#[from] RecordError),
    #[error(transparent)]
    Proof(#[from] ProofError),
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    #[error("the log is damaged at index {index}: {what}; run `kamei audit verify`")]
    Damaged { index: u64, what: String },
    #[error("the log is damaged: {0}; run `kamei audit verify`")]
    DamagedLog(String),
    #[error("the log is closed after an earlier write failure; reopen it")]
    Closed,
}

pub(crate) fn io_err(op: &'static str, path: &str) -> impl FnOnce(std::io::Error) -> AuditError {
    let path = path.to_owned();
    move |source| AuditError::Io { op, path, source }
}

/// How a log is opened.
#[derive(Debug, Clone)]
pub struct Options {
    /// The checkpoint origin and signing key name (used when the log creates its key).
    pub origin: String,
    /// Sign and publish a checkpoint (with its partial tiles) whenever this many entries were
    /// added since the last one; 0 publishes only on [`AuditLog::checkpoint`] and close.
    pub publish_every: u64,
    /// The signing key, held elsewhere (the keyring). `None`: the log keeps its own key in
    /// `key` (0600), created on first open. A log created with one key refuses another: its
    /// checkpoints stay verifiable by the same `key.vkey`.
    pub key: Option<Arc<LogKey>>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            origin: DEFAULT_ORIGIN.to_owned(),
            publish_every: TILE_WIDTH,
            key: None,
        }
    }
}

/// An inclusion proof (RFC 9162 §2.1.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InclusionProof {
    pub index: u64,
    pub tree_size: u64,
    pub leaf_hash: Hash,
    pub hashes: Vec<Hash>,
    pub root: Hash,
}

/// A consistency proof (RFC 9162 §2.1.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsistencyProof {
    pub old_size: u64,
    pub tree_size: u64,
    pub old_root: Hash,
    pub hashes: Vec<Hash>,
    pub root: Hash,
}

enum Job {
    Append {
        leaf: Vec<u8>,
        hash: Hash,
        subjects: Vec<u8>,
        reply: SyncSender<Result<u64, String>>,
    },
    Publish {
        reply: SyncSender<Result<Vec<u8>, String>>,
    },
}

/// The audit log: append-only, tamper-evident, durable.
///
/// `append` may be called from many threads at once; each call returns once its record is on
/// disk, and calls that arrive together share one sync (group commit: one writer thread takes
/// whatever is queued, writes it, syncs once, then answers every caller).
#[derive(Debug)]
pub struct AuditLog {
    storage: Arc<dyn LogStorage>,
    tree: Arc<RwLock<Tree>>,
    key: Arc<LogKey>,
    origin: String,
    jobs: Mutex<Option<Sender<Job>>>,
    /// The writer, sync, notify and publish threads (joined in that order on close).
    writer: Mutex<Vec<JoinHandle<()>>>,
}

impl AuditLog {
    /// Opens (or creates) the log in a local directory.
    pub fn open(dir: &Path) -> Result<Self, AuditError> {
        Self::open_with(dir, Options::default())
    }

    pub fn open_with(dir: &Path, options: Options) -> Result<Self, AuditError> {
        let storage = LocalDir::new(dir).map_err(io_err("create", &dir.display().to_string()))?;
        Self::open_storage(Arc::new(storage), options)
    }

    /// Opens the log on any storage: loads or creates the key, recovers a torn tail, rebuilds
    /// the tree and missing tiles, checks the stored checkpoint, and starts the writer.
    pub fn open_storage(storage: Arc<dyn LogStorage>, options: Options) -> Result<Self, AuditError> {
        storage.lock_exclusive().map_err(io_err("lock", "lock"))?;
        let key = match &options.key {
            Some(key) => {
                adopt_key(storage.as_ref(), key)?;
                Arc::clone(key)
            }
            None => Arc::new(load_or_create_key(storage.as_ref(), &options.origin)?),
        };
        let origin = key.name().to_owned();
        let tree = recover(storage.as_ref())?;
        // The stored checkpoint must describe a prefix of what is here.
        if let Some(bytes) = storage.read(CHECKPOINT).map_err(io_err("read", CHECKPOINT))? {
            let cp = Checkpoint::open(&bytes, key.verifier_key())?;
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
        }
        let size = tree.size();
        let failed = Arc::new(AtomicBool::new(false));
        let tree = Arc::new(RwLock::new(tree));
        let mut publisher = Publisher {
            storage: Arc::clone(&storage),
            tree: Arc::clone(&tree),
            key: Arc::clone(&key),
            origin: origin.clone(),
            publish_every: options.publish_every,
            published: 0,
            end: size,
            failed: Arc::clone(&failed),
        };
        publisher.write_full_tiles(0)?;
        publisher.publish()?;
        let spawn = |name: &str, f: Box<dyn FnOnce() + Send>| {
            std::thread::Builder::new()
                .name(format!("kamei-audit-{name}"))
                .spawn(f)
                .map_err(io_err("start a thread for", "log"))
        };
        let (notify_tx, notify_rx) = channel();
        let (finish_tx, finish_rx) = channel();
        let (stage_tx, stage_rx) = channel();
        let (tx, rx) = channel();
        let syncer = Syncer {
            storage: Arc::clone(&storage),
            tree: Arc::clone(&tree),
            failed: Arc::clone(&failed),
            answers: notify_tx,
            finished: finish_tx,
        };
        let first_stage = Arc::clone(&storage);
        // Joined in this order on close: each stage ends when the one before it has.
        let threads = vec![
            spawn(
                "writer",
                Box::new(move || run_writer(first_stage, size, failed, rx, stage_tx)),
            )?,
            spawn("sync", Box::new(move || syncer.run(stage_rx)))?,
            spawn("notify", Box::new(move || run_notifier(notify_rx)))?,
            spawn("publish", Box::new(move || publisher.run(finish_rx)))?,
        ];
        Ok(AuditLog {
            storage,
            tree,
            key,
            origin,
            jobs: Mutex::new(Some(tx)),
            writer: Mutex::new(threads),
        })
    }

    fn send(&self, job: Job) -> Result<(), AuditError> {
        let jobs = self
            .jobs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        jobs.as_ref()
            .ok_or(AuditError::Closed)?
            .send(job)
            .map_err(|_| AuditError::Closed)
    }

    /// Appends a record with its subject set; returns its index once both are durable.
    pub fn append(&self, record: &AuditRecord, subjects: &SubjectSet) -> Result<u64, AuditError> {
        let leaf = record.to_leaf()?;
        self.append_leaf(leaf, subjects.to_bytes())
    }

    /// Validates an input record, then appends it.
    pub fn append_input(&self, input: RecordInput) -> Result<u64, AuditError> {
        let (record, subjects) = input.into_record()?;
        self.append(&record, &subjects)
    }

    fn append_leaf(&self, leaf: Vec<u8>, subjects: Vec<u8>) -> Result<u64, AuditError> {
        // Hash here, on the caller's thread, so the writer only writes and syncs.
        let hash = leaf_hash(&leaf);
        let (reply, answer) = sync_channel(1);
        self.send(Job::Append {
            leaf,
            hash,
            subjects,
            reply,
        })?;
        answer
            .recv()
            .map_err(|_| AuditError::Closed)?
            .map_err(AuditError::DamagedLog)
    }

    /// Publishes the tiles for the current size and returns the newly signed checkpoint.
    pub fn checkpoint(&self) -> Result<Vec<u8>, AuditError> {
        let (reply, answer) = sync_channel(1);
        self.send(Job::Publish { reply })?;
        answer
            .recv()
            .map_err(|_| AuditError::Closed)?
            .map_err(AuditError::DamagedLog)
    }

    /// Number of durable entries.
    pub fn size(&self) -> u64 {
        self.read_tree().size()
    }

    fn read_tree(&self) -> std::sync::RwLockReadGuard<'_, Tree> {
        self.tree
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The public verifier key (signed-note format).
    pub fn verifier_key(&self) -> &str {
        self.key.verifier_key()
    }

    pub fn storage(&self) -> &Arc<dyn LogStorage> {
        &self.storage
    }

    /// The root at `size`.
    pub fn root(&self, size: u64) -> Result<Hash, AuditError> {
        Ok(self.read_tree().root(size)?)
    }

    /// The inclusion proof of entry `index` in the tree of `size` entries (default: now).
    pub fn prove(&self, index: u64, size: Option<u64>) -> Result<InclusionProof, AuditError> {
        let tree = self.read_tree();
        let size = size.unwrap_or(tree.size());
        let hashes = tree.inclusion_proof(index, size)?;
        Ok(InclusionProof {
            index,
            tree_size: size,
            leaf_hash: tree
                .leaf(index)
                .ok_or(ProofError::IndexOutOfRange { index, size })?,
            hashes,
            root: tree.root(size)?,
        })
    }

    /// The consistency proof from `old_size` to `size` (default: now).
    pub fn consistency(&self, old_size: u64, size: Option<u64>) -> Result<ConsistencyProof, AuditError> {
        let tree = self.read_tree();
        let size = size.unwrap_or(tree.size());
        let hashes = tree.consistency_proof(old_size, size)?;
        Ok(ConsistencyProof {
            old_size,
            tree_size: size,
            old_root: tree.root(old_size)?,
            hashes,
            root: tree.root(size)?,
        })
    }

    /// Stops the writer after the queued appends and publishes a final checkpoint.
    pub fn close(&self) -> Result<(), AuditError> {
        let published = self.checkpoint();
        self.jobs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        let threads = std::mem::take(
            &mut *self
                .writer
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        for h in threads {
            let _ = h.join();
        }
        published.map(|_| ())
    }
}

impl Drop for AuditLog {
    fn drop(&mut self) {
        let _ = self.close();
    }
}

/// The verifier key of the log in `storage`, if it has one (`key.vkey`).
pub fn stored_verifier_key(storage: &dyn LogStorage) -> Result<Option<String>, AuditError> {
    let bytes = storage.read(VKEY).map_err(io_err("read", VKEY))?;
    Ok(bytes.map(|b| String::from_utf8_lossy(&b).trim().to_owned()))
}

/// Uses a key held elsewhere: a new log records its verifier key; an existing one must have
/// been created with the same key and must not keep a secret key of its own.
fn adopt_key(storage: &dyn LogStorage, key: &LogKey) -> Result<(), AuditError> {
    if storage.exists(KEY).map_err(io_err("read", KEY))? {
        return Err(AuditError::Checkpoint(CheckpointError::Key(
            "this log keeps its own signing key (file `key`); open it without an external key",
        )));
    }
    match stored_verifier_key(storage)? {
        Some(vkey) if vkey != key.verifier_key() => Err(AuditError::Checkpoint(CheckpointError::Key(
            "this log's checkpoints are signed by another key (see `key.vkey`)",
        ))),
        Some(_) => Ok(()),
        None => {
            // A log that lost its `key.vkey` is bound again only to the key that signed its
            // checkpoint.
            if let Some(note) = storage.read(CHECKPOINT).map_err(io_err("read", CHECKPOINT))? {
                Checkpoint::open(&note, key.verifier_key())?;
            }
            storage
                .write(VKEY, format!("{}\n", key.verifier_key()).as_bytes(), true)
                .map_err(io_err("write", VKEY))
        }
    }
}

fn load_or_create_key(storage: &dyn LogStorage, origin: &str) -> Result<LogKey, AuditError> {
    let key = match storage.read(KEY).map_err(io_err("read", KEY))? {
        Some(bytes) => {
            let text = zeroize::Zeroizing::new(
                String::from_utf8(bytes).map_err(|_| CheckpointError::Key("not UTF-8"))?,
            );
            LogKey::from_secret(&text)?
        }
        None if storage.exists(VKEY).map_err(io_err("read", VKEY))? => {
            return Err(AuditError::Checkpoint(CheckpointError::Key(
                "this log is signed by a key held elsewhere (the keyring); open it with that key",
            )));
        }
        None => {
            let (skey, key) = LogKey::generate(origin)?;
            let mut text = zeroize::Zeroizing::new(skey.to_string());
            text.push('\n');
            if !storage
                .create_private(KEY, text.as_bytes())
                .map_err(io_err("create", KEY))?
            {
                // Another process created it first: use that one.
                return load_or_create_key(storage, origin);
            }
            key
        }
    };
    // The verifier key is the log's trust record: written once, never replaced by another.
    match stored_verifier_key(storage)? {
        Some(vkey) if vkey != key.verifier_key() => Err(AuditError::Checkpoint(CheckpointError::Key(
            "the log's `key` does not match its `key.vkey`; restore the original key",
        ))),
        Some(_) => Ok(key),
        None => {
            let vkey = format!("{}\n", key.verifier_key());
            storage
                .write(VKEY, vkey.as_bytes(), true)
                .map_err(io_err("write", VKEY))?;
            Ok(key)
        }
    }
}

/// Finds the entries, cuts a torn tail that no acknowledged append covers, finishes an
/// interrupted bundle rename, and rebuilds the tree.
fn recover(storage: &dyn LogStorage) -> Result<Tree, AuditError> {
    let mut tree = Tree::new();
    let mut n = 0u64;
    // Full bundles: hash tiles where present (verify checks them), else the entries.
    loop {
        let path = bundle_path(n, TILE_WIDTH);
        if !storage.exists(&path).map_err(io_err("read", &path))? {
            break;
        }
        let tile_path = hash_tile_path(0, n, TILE_WIDTH);
        let tile = storage.read(&tile_path).map_err(io_err("read", &tile_path))?;
        match tile {
            Some(t) if t.len() == 32 * TILE_WIDTH as usize => {
                for chunk in t.chunks_exact(32) {
                    let mut h = [0u8; 32];
                    h.copy_from_slice(chunk);
                    tree.push(Hash(h));
                }
            }
            _ => {
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
                for e in b.entries {
                    tree.push(leaf_hash(e));
                }
            }
        }
        n += 1;
    }
    // Pending bundles: normally at most one (bundle n); a full one left by a crash before its
    // rename is renamed now.
    let subjects = storage
        .read(SUBJECTS)
        .map_err(io_err("read", SUBJECTS))?
        .unwrap_or_default();
    let (frames, whole) = parse_frames(&subjects);
    let mut subject_count = frames.len() as u64;
    if (whole as u64) < subjects.len() as u64 {
        storage
            .truncate(SUBJECTS, whole as u64)
            .map_err(io_err("truncate", SUBJECTS))?;
    }
    loop {
        let path = pending_path(n);
        let Some(bytes) = storage.read(&path).map_err(io_err("read", &path))? else {
            break;
        };
        let b = parse_bundle(&bytes);
        let next_exists = storage
            .exists(&pending_path(n + 1))
            .map_err(io_err("read", &path))?;
        let mut count = b.entries.len() as u64;
        if count > TILE_WIDTH {
            return Err(AuditError::Damaged {
                index: n * TILE_WIDTH + TILE_WIDTH,
                what: format!("pending bundle {n} holds more than 256 entries"),
            });
        }
        let mut keep = b.whole_len;
        if !next_exists {
            // The last bundle: entries without a subject index entry were never acknowledged.
            let first = n * TILE_WIDTH;
            if first + count > subject_count && subject_count >= first {
                count = subject_count - first;
                keep = b.entries[..count as usize].iter().map(|e| e.len() + 2).sum();
            }
        } else if b.torn_at.is_some() || count != TILE_WIDTH {
            return Err(AuditError::Damaged {
                index: n * TILE_WIDTH + count,
                what: format!("pending bundle {n} is incomplete but a later one exists"),
            });
        }
        if keep < bytes.len() {
            storage
                .truncate(&path, keep as u64)
                .map_err(io_err("truncate", &path))?;
        }
        for e in &b.entries[..count as usize] {
            tree.push(leaf_hash(e));
        }
        if count == TILE_WIDTH {
            storage
                .rename(&path, &bundle_path(n, TILE_WIDTH), true)
                .map_err(io_err("rename", &path))?;
            n += 1;
            continue;
        }
        break;
    }
    if subject_count > tree.size() {
        // Subject entries of appends whose entry never reached disk: never acknowledged.
        let keep: usize = frames[..tree.size() as usize].iter().map(|f| f.len() + 4).sum();
        storage
            .truncate(SUBJECTS, keep as u64)
            .map_err(io_err("truncate", SUBJECTS))?;
        subject_count = tree.size();
    }
    // What a crash left written but unsynced is adopted now: make it durable before a
    // checkpoint can cover it.
    if storage.exists(SUBJECTS).map_err(io_err("read", SUBJECTS))? {
        storage.sync(SUBJECTS).map_err(io_err("sync", SUBJECTS))?;
    }
    let tail = pending_path(tree.size() / TILE_WIDTH);
    if storage.exists(&tail).map_err(io_err("read", &tail))? {
        storage.sync(&tail).map_err(io_err("sync", &tail))?;
    }
    if subject_count < tree.size() {
        return Err(AuditError::Damaged {
            index: subject_count,
            what: "the subject index has no entry for this record".into(),
        });
    }
    Ok(tree)
}

type Reply = SyncSender<Result<u64, String>>;

/// A batch the first stage wrote, waiting for its sync.
struct Written {
    start: u64,
    hashes: Vec<Hash>,
    bundles: Vec<u64>,
    replies: Vec<Reply>,
}

/// What the first stage hands the second, in log order.
enum Stage {
    Written(Written),
    Publish(SyncSender<Result<Vec<u8>, String>>),
}

/// First stage of the group commit: writes each batch as soon as it arrives and hands it to
/// the syncer, without waiting for the sync. While one sync runs, the next batch gathers every
/// append that arrives meanwhile, so batches grow with load instead of alternating between
/// large and tiny.
fn run_writer(
    storage: Arc<dyn LogStorage>,
    mut size: u64,
    failed: Arc<AtomicBool>,
    rx: Receiver<Job>,
    tx: Sender<Stage>,
) {
    while let Ok(first) = rx.recv() {
        let mut leaves = Vec::new();
        let mut publishes = Vec::new();
        let mut job = Some(first);
        while let Some(j) = job {
            match j {
                Job::Append {
                    leaf,
                    hash,
                    subjects,
                    reply,
                } => leaves.push((leaf, hash, subjects, reply)),
                Job::Publish { reply } => publishes.push(reply),
            }
            job = if leaves.len() < MAX_BATCH {
                rx.try_recv().ok()
            } else {
                None
            };
        }
        if !leaves.is_empty() {
            if failed.load(Ordering::SeqCst) {
                for (_, _, _, reply) in leaves {
                    let _ = reply.send(Err(AuditError::Closed.to_string()));
                }
            } else {
                match write_entries(storage.as_ref(), size, &leaves) {
                    Ok(bundles) => {
                        let start = size;
                        size += leaves.len() as u64;
                        let (hashes, replies) = leaves.into_iter().map(|(_, h, _, r)| (h, r)).unzip();
                        let _ = tx.send(Stage::Written(Written {
                            start,
                            hashes,
                            bundles,
                            replies,
                        }));
                    }
                    Err(e) => {
                        // What is on disk is unknown now: refuse further appends until the log
                        // is reopened, where recovery decides from the files.
                        failed.store(true, Ordering::SeqCst);
                        let msg = e.to_string();
                        for (_, _, _, reply) in leaves {
                            let _ = reply.send(Err(msg.clone()));
                        }
                    }
                }
            }
        }
        for reply in publishes {
            let _ = tx.send(Stage::Publish(reply));
        }
    }
}

/// Appends a batch's subject index frames and entries (not synced); returns the bundles touched.
fn write_entries(
    storage: &dyn LogStorage,
    start: u64,
    batch: &[(Vec<u8>, Hash, Vec<u8>, Reply)],
) -> Result<Vec<u64>, AuditError> {
    let mut frames = Vec::new();
    let mut bundles: Vec<(u64, Vec<u8>)> = Vec::new();
    for (i, (leaf, _, subjects, _)) in batch.iter().enumerate() {
        push_frame(&mut frames, subjects);
        let n = (start + i as u64) / TILE_WIDTH;
        match bundles.last_mut() {
            Some((last, bytes)) if *last == n => push_entry(bytes, leaf),
            _ => {
                let mut bytes = Vec::new();
                push_entry(&mut bytes, leaf);
                bundles.push((n, bytes));
            }
        }
    }
    // Subject frames first: recovery drops entries that have no subject frame.
    storage
        .append(SUBJECTS, &frames)
        .map_err(io_err("append to", SUBJECTS))?;
    for (n, bytes) in &bundles {
        let path = pending_path(*n);
        storage.append(&path, bytes).map_err(io_err("append to", &path))?;
    }
    Ok(bundles.into_iter().map(|(n, _)| n).collect())
}

/// Answers for the callers of one commit.
type Answers = Vec<(Reply, Result<u64, String>)>;

/// What the sync stage hands the publish stage, in log order.
enum Finish {
    /// Entries `start..end` are durable and visible; `bundles` were touched.
    Committed {
        bundles: Vec<u64>,
        start: u64,
        end: u64,
    },
    Publish(SyncSender<Result<Vec<u8>, String>>),
}

/// Second stage: syncs, makes entries visible, hands the answers and the finishing work on.
/// The only code that changes the tree.
struct Syncer {
    storage: Arc<dyn LogStorage>,
    tree: Arc<RwLock<Tree>>,
    failed: Arc<AtomicBool>,
    /// Waking dozens of callers one by one costs about as much as a sync, and renaming
    /// bundles, writing tiles and signing checkpoints costs more: both run on threads of their
    /// own, so the next sync starts as soon as the previous one ends.
    answers: Sender<Answers>,
    finished: Sender<Finish>,
}

/// Third stage: wakes the callers of a committed batch.
fn run_notifier(rx: Receiver<Answers>) {
    while let Ok(answers) = rx.recv() {
        for (reply, answer) in answers {
            let _ = reply.send(answer);
        }
    }
}

impl Syncer {
    fn run(self, rx: Receiver<Stage>) {
        while let Ok(first) = rx.recv() {
            let mut items = vec![first];
            while let Ok(more) = rx.try_recv() {
                items.push(more);
            }
            let mut batches = Vec::new();
            for item in items {
                match item {
                    Stage::Written(w) => batches.push(w),
                    Stage::Publish(reply) => {
                        self.commit(std::mem::take(&mut batches));
                        let _ = self.finished.send(Finish::Publish(reply));
                    }
                }
            }
            self.commit(batches);
        }
    }

    /// One sync for every batch written so far, then the answers.
    fn commit(&self, batches: Vec<Written>) {
        let Some(start) = batches.first().map(|b| b.start) else {
            return;
        };
        let mut bundles: Vec<u64> = batches.iter().flat_map(|b| b.bundles.iter().copied()).collect();
        bundles.dedup();
        // After a failed sync what is on disk is unknown, and a later sync may succeed on
        // pages an earlier one lost: nothing written after a failure is acknowledged.
        let synced = if self.failed.load(Ordering::SeqCst) {
            Err(AuditError::Closed)
        } else {
            self.sync(&bundles)
        };
        if let Err(e) = synced {
            self.failed.store(true, Ordering::SeqCst);
            let msg = e.to_string();
            let answers = batches
                .into_iter()
                .flat_map(|b| b.replies)
                .map(|reply| (reply, Err(msg.clone())))
                .collect();
            let _ = self.answers.send(answers);
            return;
        }
        // Durable: make the entries visible, then answer.
        {
            let mut tree = self
                .tree
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            for b in &batches {
                for h in &b.hashes {
                    tree.push(*h);
                }
            }
        }
        let end = batches.last().map_or(start, |b| b.start + b.hashes.len() as u64);
        let answers = batches
            .into_iter()
            .flat_map(|b| {
                let first = b.start;
                b.replies
                    .into_iter()
                    .enumerate()
                    .map(move |(i, reply)| (reply, Ok(first + i as u64)))
            })
            .collect();
        let _ = self.answers.send(answers);
        let _ = self.finished.send(Finish::Committed { bundles, start, end });
    }

    fn sync(&self, bundles: &[u64]) -> Result<(), AuditError> {
        // The syncs run side by side: the file system folds them into one journal commit, so
        // the batch pays for about one sync, not one per file.
        let storage = &self.storage;
        std::thread::scope(|scope| -> Result<(), AuditError> {
            let subjects = scope.spawn(|| storage.sync(SUBJECTS).map_err(io_err("sync", SUBJECTS)));
            for n in bundles {
                let path = pending_path(*n);
                storage.sync(&path).map_err(io_err("sync", &path))?;
            }
            subjects
                .join()
                .unwrap_or_else(|_| Err(AuditError::DamagedLog("the sync thread failed".into())))
        })
    }
}

/// Fourth stage: renames full bundles, writes hash tiles, signs and publishes checkpoints.
/// The entries are durable whatever happens here, and opening the log redoes any of it that
/// is missing.
struct Publisher {
    storage: Arc<dyn LogStorage>,
    tree: Arc<RwLock<Tree>>,
    key: Arc<LogKey>,
    origin: String,
    publish_every: u64,
    published: u64,
    /// The entries the processed commits cover: tiles and checkpoints describe this size,
    /// which may lag the tree (the sync stage runs ahead).
    end: u64,
    failed: Arc<AtomicBool>,
}

impl Publisher {
    fn run(mut self, rx: Receiver<Finish>) {
        while let Ok(item) = rx.recv() {
            match item {
                Finish::Committed { bundles, start, end } => {
                    if self.finish(&bundles, start, end).is_err() {
                        self.failed.store(true, Ordering::SeqCst);
                    }
                }
                Finish::Publish(reply) => {
                    let answer = if self.failed.load(Ordering::SeqCst) {
                        Err(AuditError::Closed.to_string())
                    } else {
                        self.publish().map_err(|e| e.to_string())
                    };
                    let _ = reply.send(answer);
                }
            }
        }
    }

    fn finish(&mut self, bundles: &[u64], start: u64, end: u64) -> Result<(), AuditError> {
        self.end = end;
        for n in bundles {
            if (n + 1) * TILE_WIDTH <= end {
                let path = pending_path(*n);
                self.storage
                    .rename(&path, &bundle_path(*n, TILE_WIDTH), false)
                    .map_err(io_err("rename", &path))?;
            }
        }
        self.write_full_tiles(start)?;
        if self.publish_every > 0 && end - self.published >= self.publish_every {
            self.publish()?;
        }
        Ok(())
    }

    /// Writes every full hash tile completed between tree sizes `since` and `self.end` (all of them for 0, when
    /// missing).
    fn write_full_tiles(&self, since: u64) -> Result<(), AuditError> {
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
                let hashes = &tree.level(h)[(n * TILE_WIDTH) as usize..((n + 1) * TILE_WIDTH) as usize];
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
    fn publish(&mut self) -> Result<Vec<u8>, AuditError> {
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
                    let hashes = &tree.partial[level as usize];
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
                let pending = pending_path(n);
                let bytes = self
                    .storage
                    .read(&pending)
                    .map_err(io_err("read", &pending))?
                    .unwrap_or_default();
                let b = parse_bundle(&bytes);
                let len: usize = b.entries.iter().take(w as usize).map(|e| e.len() + 2).sum();
                self.storage
                    .write(&path, &bytes[..len], false)
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
            partial.push(self.level(h)[start..count as usize].to_vec());
            level += 1;
        }
        Ok(TreeShape { size, root, partial })
    }
}
