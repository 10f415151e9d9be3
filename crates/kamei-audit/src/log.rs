//! The log: opening and recovery, appends, proofs, keys. The group commit that makes appends
//! durable is in [`crate::commit`].
//!
//! # On disk (relative to the log's storage root)
//!
//! - `tile/<L>/<N>[.p/<W>]`, `tile/entries/<N>[.p/<W>]`: the C2SP tlog-tiles layout. Full entry
//!   bundles are the durable home of entries; hash tiles are derived and rebuilt when missing.
//! - `journal/<N>`: entry bundle `N` while it fills, each entry with its subject index entry
//!   (see [`crate::journal`]); the one file a commit syncs. When its 256th entry is durable the
//!   log writes `tile/entries/<N>` and the bundle's `subjects/index` entries from it, then
//!   removes it.
//! - `subjects/index`: the subject index of the entries in full bundles, one framed entry per
//!   record (see [`crate::subjects`]); the entries of the bundle being filled have theirs in
//!   its journal.
//! - `checkpoint`: the latest signed checkpoint; `key.vkey`: the public verifier key;
//!   `key` (0600): the signing key, only for a log that keeps its own (the command line
//!   passes the keyring's `audit-signing` key instead, see [`Options::key`]).

use crate::checkpoint::{Checkpoint, CheckpointError, LogKey};
use crate::commit::{Committer, Job, Publisher, Reply, run_committer, run_notifier};
use crate::journal::push_frame as push_journal_frame;
use crate::merkle::{Hash, ProofError, Tree, leaf_hash};
use crate::record::{AuditRecord, RecordError, RecordInput};
use crate::recover::{check_against, read_tree, recover};
use crate::storage::{LocalDir, LogStorage};
use crate::subjects::SubjectSet;
use crate::tiles::TILE_WIDTH;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{Sender, channel, sync_channel};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;

/// The default origin (and signing key name) of a log.
pub const DEFAULT_ORIGIN: &str = "kamei.local/audit";
pub(crate) const SUBJECTS: &str = "subjects/index";
pub(crate) const CHECKPOINT: &str = "checkpoint";
pub(crate) const KEY: &str = "key";
pub(crate) const VKEY: &str = "key.vkey";

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
    #[error("the log is damaged at index {index}: {what}")]
    Damaged { index: u64, what: String },
    #[error("the log is damaged: {0}")]
    DamagedLog(String),
    /// Writing or syncing failed (disk full, I/O error): the record is not in the log, and
    /// the log refuses appends until it is reopened (recovery then decides from the files).
    #[error("cannot write the audit log: {0}")]
    Write(String),
    #[error("the log is signed by a key this keyring does not hold (see its `key.vkey`)")]
    UnknownKey,
    #[error("the log is closed after an earlier write failure; reopen it")]
    Closed,
    /// A journal disappeared while a reader read the log (a writer retired it); the reader
    /// reads again.
    #[error("a journal was removed while the log was read; try again")]
    Vanished,
}

/// The record's digest must be the subject set's: a record bound to other subjects would make
/// the subject index lie about who was read.
fn check_digest(record: &AuditRecord, subjects: &SubjectSet) -> Result<(), AuditError> {
    if record.subjects.count != subjects.count() || record.subjects.digest != subjects.digest().to_hex() {
        return Err(AuditError::Record(crate::record::RecordError::Field {
            field: "subjects",
            what: "the record's subject digest is not that of the subject set given with it".into(),
        }));
    }
    Ok(())
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

/// The audit log: append-only, tamper-evident, durable.
///
/// `append` may be called from many threads at once; each call returns once its record is on
/// disk, and calls that arrive together share one sync (group commit: the committer thread
/// takes whatever is queued, writes it, syncs once, then answers every caller; a call that
/// finds nothing queued and nobody committing writes and syncs on its own thread).
#[derive(Debug)]
pub struct AuditLog {
    storage: Arc<dyn LogStorage>,
    tree: Arc<RwLock<Tree>>,
    key: Arc<LogKey>,
    origin: String,
    jobs: Mutex<Option<Sender<Job>>>,
    /// The committer's state, shared by its thread and a caller that commits alone.
    committer: Arc<Mutex<Committer>>,
    /// Appends sent to the committer's thread and not yet taken by it.
    queued: Arc<AtomicUsize>,
    /// The writer, sync, notify and publish threads (joined in that order on close).
    writer: Mutex<Vec<JoinHandle<()>>>,
}

/// An entry's leaf hash and journal frame, computed on the caller's thread so that the
/// committer only writes and syncs.
fn journal_entry(leaf: &[u8], subjects: &[u8]) -> (Hash, Vec<u8>) {
    let mut frame = Vec::with_capacity(leaf.len() + subjects.len() + 14);
    push_journal_frame(&mut frame, leaf, subjects);
    (leaf_hash(leaf), frame)
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
    /// the tree and missing tiles, checks the stored checkpoint, and starts the committer.
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
        let checkpoint = match storage.read(CHECKPOINT).map_err(io_err("read", CHECKPOINT))? {
            Some(bytes) => Some(Checkpoint::open(&bytes, key.verifier_key())?),
            None => None,
        };
        let (tree, retired) = recover(storage.as_ref(), checkpoint.as_ref())?;
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
            retired,
            failed: Arc::clone(&failed),
        };
        publisher.retire()?;
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
        let (tx, rx) = channel();
        let committer = Arc::new(Mutex::new(Committer {
            storage: Arc::clone(&storage),
            tree: Arc::clone(&tree),
            failed,
            answers: notify_tx,
            finished: finish_tx,
            publish_every: options.publish_every,
            reported: size,
            committed: size,
        }));
        let queued = Arc::new(AtomicUsize::new(0));
        let (shared, counted) = (Arc::clone(&committer), Arc::clone(&queued));
        // Joined in this order on close: each stage ends when the one before it has.
        let threads = vec![
            spawn("commit", Box::new(move || run_committer(shared, counted, rx)))?,
            spawn("notify", Box::new(move || run_notifier(notify_rx)))?,
            spawn("publish", Box::new(move || publisher.run(finish_rx)))?,
        ];
        Ok(AuditLog {
            storage,
            tree,
            key,
            origin,
            jobs: Mutex::new(Some(tx)),
            committer,
            queued,
            writer: Mutex::new(threads),
        })
    }

    fn send(&self, job: Job) -> Result<(), AuditError> {
        let jobs = self
            .jobs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let appending = matches!(job, Job::Append { .. });
        if appending {
            self.queued.fetch_add(1, Ordering::SeqCst);
        }
        let sent = jobs
            .as_ref()
            .ok_or(AuditError::Closed)
            .and_then(|jobs| jobs.send(job).map_err(|_| AuditError::Closed));
        if sent.is_err() && appending {
            self.queued.fetch_sub(1, Ordering::SeqCst);
        }
        sent
    }

    /// Appends a record with its subject set; returns its index once both are durable.
    pub fn append(&self, record: &AuditRecord, subjects: &SubjectSet) -> Result<u64, AuditError> {
        check_digest(record, subjects)?;
        let leaf = record.to_leaf()?;
        self.append_leaf(leaf, subjects.to_bytes())
    }

    /// Validates an input record, then appends it.
    pub fn append_input(&self, input: RecordInput) -> Result<u64, AuditError> {
        let (record, subjects) = input.into_record()?;
        self.append(&record, &subjects)
    }

    fn append_leaf(&self, leaf: Vec<u8>, subjects: Vec<u8>) -> Result<u64, AuditError> {
        let (hash, frame) = journal_entry(&leaf, &subjects);
        if let Some(done) = self.commit_alone(&frame, hash) {
            return done;
        }
        let (reply, answer) = sync_channel(1);
        self.send(Job::Append {
            frame,
            hash,
            reply: Reply::Blocking(reply),
        })?;
        answer
            .recv()
            .map_err(|_| AuditError::Closed)?
            .map_err(AuditError::Write)
    }

    /// Appends a record on the caller's thread when nothing is queued and nobody is committing,
    /// and returns its index once it is durable; `None` when others are (then `submit` joins
    /// their group commit). The caller blocks for one sync: an async caller runs it where
    /// blocking is allowed (`tokio::task::block_in_place`).
    pub fn append_alone(
        &self,
        record: &AuditRecord,
        subjects: &SubjectSet,
    ) -> Option<Result<u64, AuditError>> {
        if let Err(e) = check_digest(record, subjects) {
            return Some(Err(e));
        }
        let leaf = match record.to_leaf() {
            Ok(leaf) => leaf,
            Err(e) => return Some(Err(e.into())),
        };
        let (hash, frame) = journal_entry(&leaf, &subjects.to_bytes());
        self.commit_alone(&frame, hash)
    }

    /// Whether an append would now be committed on its caller's thread.
    pub fn idle(&self) -> bool {
        self.queued.load(Ordering::SeqCst) == 0
    }

    fn commit_alone(&self, frame: &[u8], hash: Hash) -> Option<Result<u64, AuditError>> {
        if !self.idle() {
            return None;
        }
        let mut committer = self.committer.try_lock().ok()?;
        if self
            .jobs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .is_none()
        {
            return Some(Err(AuditError::Closed));
        }
        let (reply, answer) = sync_channel(1);
        committer.commit(vec![(frame.to_vec(), hash, Reply::Blocking(reply))]);
        drop(committer);
        Some(
            answer
                .recv()
                .map_err(|_| AuditError::Closed)
                .and_then(|a| a.map_err(AuditError::Write)),
        )
    }

    /// Submits a record with its subject set and returns at once; the returned future resolves
    /// to its index once both are durable. For async callers, which must not block a runtime
    /// thread on a sync (the way Tessera's `Add` returns a future).
    pub fn submit(
        &self,
        record: &AuditRecord,
        subjects: &SubjectSet,
    ) -> Result<impl Future<Output = Result<u64, AuditError>> + Send + 'static, AuditError> {
        check_digest(record, subjects)?;
        let (reply, answer) = futures_channel::oneshot::channel();
        self.submit_leaf(record.to_leaf()?, subjects.to_bytes(), Reply::Future(reply))?;
        Ok(async move {
            answer
                .await
                .map_err(|_| AuditError::Closed)?
                .map_err(AuditError::Write)
        })
    }

    fn submit_leaf(&self, leaf: Vec<u8>, subjects: Vec<u8>, reply: Reply) -> Result<(), AuditError> {
        let (hash, frame) = journal_entry(&leaf, &subjects);
        self.send(Job::Append { frame, hash, reply })
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
        inclusion(&tree, index, size.unwrap_or(tree.size()))
    }

    /// The consistency proof from `old_size` to `size` (default: now).
    pub fn consistency(&self, old_size: u64, size: Option<u64>) -> Result<ConsistencyProof, AuditError> {
        let tree = self.read_tree();
        consistency(&tree, old_size, size.unwrap_or(tree.size()))
    }

    /// Stops the committer after the queued appends and publishes a final checkpoint.
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

impl AuditLog {
    /// Opens (or creates) the log at `dir` signed by one of `seeds` (the keyring's audit-signing
    /// keys, newest first): the one whose public key the log names (`key.vkey`), or for a new
    /// log the first. A log that keeps its own key file (`key`) signs with it. Errors when the
    /// log names a key none of the seeds is.
    pub fn open_signed_by(dir: &Path, seeds: &[&[u8; 32]], options: Options) -> Result<Self, AuditError> {
        if dir.join(KEY).exists() {
            return Self::open_with(dir, options);
        }
        let stored = if dir.exists() {
            let storage = LocalDir::new(dir).map_err(io_err("open", &dir.display().to_string()))?;
            stored_verifier_key(&storage)?
        } else {
            None
        };
        for seed in seeds {
            let key = LogKey::from_seed(&options.origin, seed)?;
            if stored.as_deref().is_none_or(|vkey| vkey == key.verifier_key()) {
                let options = Options {
                    key: Some(Arc::new(key)),
                    ..options
                };
                return Self::open_with(dir, options);
            }
        }
        Err(AuditError::UnknownKey)
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

fn inclusion(tree: &Tree, index: u64, size: u64) -> Result<InclusionProof, AuditError> {
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

fn consistency(tree: &Tree, old_size: u64, size: u64) -> Result<ConsistencyProof, AuditError> {
    let hashes = tree.consistency_proof(old_size, size)?;
    Ok(ConsistencyProof {
        old_size,
        tree_size: size,
        old_root: tree.root(old_size)?,
        hashes,
        root: tree.root(size)?,
    })
}

/// A log opened for reading only, as an auditor does: proofs from its tiles and journals and
/// its latest signed checkpoint. It takes no lock and needs no signing key, so it may be used
/// while a writer appends (it sees the log as it was when opened).
#[derive(Debug)]
pub struct LogView {
    tree: Tree,
    checkpoint: Checkpoint,
    note: Vec<u8>,
}

impl LogView {
    /// Reads the log on `storage`. `vkey` overrides the verifier key stored in the log
    /// (`key.vkey`). Fails when the log has no checkpoint that this key verifies, or when the
    /// stored entries do not match it.
    pub fn open(storage: &dyn LogStorage, vkey: Option<&str>) -> Result<Self, AuditError> {
        let vkey = match vkey {
            Some(v) => v.trim().to_owned(),
            None => stored_verifier_key(storage)?
                .ok_or_else(|| AuditError::DamagedLog("the log has no verifier key (`key.vkey`)".into()))?,
        };
        let note = storage
            .read(CHECKPOINT)
            .map_err(io_err("read", CHECKPOINT))?
            .ok_or_else(|| AuditError::DamagedLog("the log has no checkpoint".into()))?;
        let checkpoint = Checkpoint::open(&note, &vkey)?;
        let tree = read_tree(storage)?;
        check_against(&tree, &checkpoint)?;
        Ok(LogView {
            tree,
            checkpoint,
            note,
        })
    }

    /// The latest signed checkpoint, as stored (C2SP signed-note text).
    pub fn checkpoint_note(&self) -> &[u8] {
        &self.note
    }

    pub fn checkpoint(&self) -> &Checkpoint {
        &self.checkpoint
    }

    /// Entries stored (at least the checkpoint's size).
    pub fn size(&self) -> u64 {
        self.tree.size()
    }

    /// The inclusion proof of entry `index` in the tree of `size` entries (default: the
    /// checkpoint's size, so that the proof checks against a signed root).
    pub fn prove(&self, index: u64, size: Option<u64>) -> Result<InclusionProof, AuditError> {
        inclusion(&self.tree, index, size.unwrap_or(self.checkpoint.size))
    }

    /// The consistency proof from `old_size` to `size` (default: the checkpoint's size).
    pub fn consistency(&self, old_size: u64, size: Option<u64>) -> Result<ConsistencyProof, AuditError> {
        consistency(&self.tree, old_size, size.unwrap_or(self.checkpoint.size))
    }
}
