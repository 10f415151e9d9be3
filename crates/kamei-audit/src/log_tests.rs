//! The log end to end: appends, proofs, recovery and tampering.

use crate::journal::{journal_path, parse_journal, push_frame as push_journal_frame};
use crate::log::SUBJECTS;
use crate::tiles::{bundle_path, parse_bundle, push_entry};
use crate::{
    AuditLog, LocalDir, LogStorage, Options, RecordInput, verify_consistency, verify_inclusion, verify_log,
};
use std::path::Path;

fn input(i: u64) -> RecordInput {
    let json = format!(
        r#"{{"time": "2026-01-05T09:{:02}:{:02}Z", "principal": "p{}", "org": "ldt-shanghai", "country": "CN",
            "client_addr": "127.0.0.1", "action": "query", "statement": "SELECT phone FROM users WHERE user_id = {i}",
            "columns": [{{"table": "users", "column": "phone", "level": "pseudonymized"}}], "rows": 1,
            "subjects": [{i}, {}]}}"#,
        (i / 60) % 60,
        i % 60,
        i % 3,
        i + 1000
    );
    RecordInput::from_json(&json).unwrap()
}

/// Appends `n` records from 16 threads (so group commit batches them).
fn fill(log: &AuditLog, n: u64) {
    let next = std::sync::atomic::AtomicU64::new(0);
    std::thread::scope(|s| {
        for _ in 0..16 {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    if i >= n {
                        break;
                    }
                    log.append_input(input(i)).unwrap();
                }
            });
        }
    });
}

fn storage(dir: &Path) -> LocalDir {
    LocalDir::new(dir).unwrap()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn the_log_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<AuditLog>();
    check::<crate::AuditRecord>();
}

/// Issue 14: a record is bound to its subject set; one appended with another set is refused,
/// and a record's statement never carries the literals it was given.
#[test]
fn a_record_is_bound_to_its_subjects_and_holds_no_literal() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(dir.path()).unwrap();
    let (record, subjects) = input(7).into_record().unwrap();
    assert_eq!(record.statement(), "SELECT phone FROM users WHERE user_id = ?");
    let (_, other) = input(8).into_record().unwrap();
    let err = log.append(&record, &other).unwrap_err().to_string();
    assert!(err.contains("subject"), "{err}");
    assert_eq!(log.size(), 0);
    assert_eq!(log.append(&record, &subjects).unwrap(), 0);
}

#[test]
fn concurrent_appends_get_distinct_indices_and_provable_entries() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(dir.path()).unwrap();
    fill(&log, 600);
    assert_eq!(log.size(), 600);
    let root = log.root(600).unwrap();
    for index in [0, 1, 255, 256, 511, 599] {
        let p = log.prove(index, None).unwrap();
        verify_inclusion(index, 600, &p.leaf_hash, &p.hashes, &root).unwrap();
    }
    let c = log.consistency(300, None).unwrap();
    verify_consistency(300, 600, &c.old_root, &c.root, &c.hashes).unwrap();
    let cp = log.checkpoint().unwrap();
    assert!(
        String::from_utf8(cp)
            .unwrap()
            .starts_with("kamei.local/audit\n600\n")
    );
    log.close().unwrap();
    drop(log);

    let st = storage(dir.path());
    let report = verify_log(&st, None, None).unwrap();
    assert_eq!(report.problem, None);
    assert_eq!((report.size, report.root), (600, root));
    // Full bundles are where C2SP puts them; the tail is a published partial bundle.
    assert_eq!(
        parse_bundle(&st.read("tile/entries/001").unwrap().unwrap())
            .entries
            .len(),
        256
    );
    assert_eq!(
        parse_bundle(&st.read("tile/entries/002.p/88").unwrap().unwrap())
            .entries
            .len(),
        88
    );
    assert_eq!(st.read("tile/0/002.p/88").unwrap().unwrap().len(), 88 * 32);
    assert_eq!(st.read("tile/1/000.p/2").unwrap().unwrap().len(), 64);

    let reopened = AuditLog::open(dir.path()).unwrap();
    assert_eq!((reopened.size(), reopened.root(600).unwrap()), (600, root));
    assert_eq!(reopened.append_input(input(600)).unwrap(), 600);
}

#[test]
fn the_key_file_is_private_and_never_in_debug_output() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(dir.path()).unwrap();
    let meta = std::fs::metadata(dir.path().join("key")).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let secret = std::fs::read_to_string(dir.path().join("key")).unwrap();
    let secret_b64 = secret.trim().splitn(5, '+').nth(4).unwrap().to_owned();
    assert!(!format!("{log:?}").contains(&secret_b64));
    let vkey = std::fs::read_to_string(dir.path().join("key.vkey")).unwrap();
    assert_eq!(vkey.trim(), log.verifier_key());
    assert!(vkey.starts_with("kamei.local/audit+"));
}

#[test]
fn a_torn_tail_is_cut_on_open_and_acknowledged_records_stay() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open_with(
        dir.path(),
        Options {
            publish_every: 0,
            ..Options::default()
        },
    )
    .unwrap();
    fill(&log, 10);
    let root = log.root(10).unwrap();
    log.close().unwrap();
    drop(log);
    let st = storage(dir.path());
    // A crash mid-append: half a frame in the journal.
    let mut half = Vec::new();
    push_journal_frame(&mut half, b"{\"action\":\"query\"}", b"");
    st.append(&journal_path(0), &half[..half.len() - 3]).unwrap();
    st.sync(&journal_path(0)).unwrap();
    let problem = verify_log(&st, None, None).unwrap().problem.unwrap();
    assert_eq!(problem.index, Some(10), "{problem}");
    drop(st);

    let log = AuditLog::open(dir.path()).unwrap();
    assert_eq!((log.size(), log.root(10).unwrap()), (10, root));
    assert_eq!(log.append_input(input(10)).unwrap(), 10);
    log.close().unwrap();
    assert_eq!(
        verify_log(&storage(dir.path()), None, None).unwrap().problem,
        None
    );
}

/// The journal of full bundle `n` as it was before the log retired it.
fn journal_of(dir: &Path, n: u64) -> Vec<u8> {
    let bundle = std::fs::read(dir.join(bundle_path(n, 256))).unwrap();
    let index = std::fs::read(dir.join(SUBJECTS)).unwrap();
    let (frames, _) = crate::subjects::parse_frames(&index);
    let mut out = Vec::new();
    for (j, e) in parse_bundle(&bundle).entries.iter().enumerate() {
        push_journal_frame(&mut out, e, frames[n as usize * 256 + j]);
    }
    out
}

#[test]
fn a_retirement_cut_short_by_a_crash_is_finished_on_open() {
    // Crashes at each step of retiring bundle 1: before the bundle was written, after it was
    // written but before the subject index had its entries (none of them, or a torn part),
    // and after both but before the journal was removed.
    for step in ["no bundle", "no subjects", "torn subjects", "journal left"] {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::open(dir.path()).unwrap();
        fill(&log, 600);
        log.close().unwrap();
        drop(log);
        let d = dir.path();
        std::fs::write(d.join(journal_path(1)), journal_of(d, 1)).unwrap();
        let index = std::fs::read(d.join(SUBJECTS)).unwrap();
        let (frames, _) = crate::subjects::parse_frames(&index);
        let upto = |k: usize| frames[..k].iter().map(|f| f.len() + 4).sum::<usize>();
        match step {
            "no bundle" => {
                // Bundle 2's journal moves on as well: nothing was retired past bundle 0.
                std::fs::remove_file(d.join(bundle_path(1, 256))).unwrap();
                std::fs::write(d.join(SUBJECTS), &index[..upto(256)]).unwrap();
            }
            "no subjects" => std::fs::write(d.join(SUBJECTS), &index[..upto(256)]).unwrap(),
            "torn subjects" => std::fs::write(d.join(SUBJECTS), &index[..upto(300) + 5]).unwrap(),
            _ => {}
        }
        let log = AuditLog::open(d).unwrap();
        assert_eq!(log.size(), 600, "{step}");
        log.close().unwrap();
        drop(log);
        assert!(d.join(bundle_path(1, 256)).exists(), "{step}");
        assert!(!d.join(journal_path(1)).exists(), "{step}");
        assert_eq!(std::fs::read(d.join(SUBJECTS)).unwrap(), index, "{step}");
        assert_eq!(
            verify_log(&storage(d), None, None).unwrap().problem,
            None,
            "{step}"
        );
    }
}

/// One tampering and the index `verify` must name.
struct Case {
    name: &'static str,
    tamper: fn(&Path),
    index: Option<u64>,
}

fn rewrite_bundle(dir: &Path, rel: &str, edit: impl FnOnce(&mut Vec<Vec<u8>>)) {
    let path = dir.join(rel);
    let bytes = std::fs::read(&path).unwrap();
    let mut entries: Vec<Vec<u8>> = parse_bundle(&bytes)
        .entries
        .into_iter()
        .map(<[u8]>::to_vec)
        .collect();
    edit(&mut entries);
    let mut out = Vec::new();
    for e in &entries {
        push_entry(&mut out, e);
    }
    std::fs::write(path, out).unwrap();
}

/// Rewrites a journal's frames (entry, subject entry) with fresh checks, as someone who knows
/// the format would.
fn rewrite_journal(dir: &Path, n: u64, edit: impl FnOnce(&mut Vec<(Vec<u8>, Vec<u8>)>)) {
    let path = dir.join(journal_path(n));
    let bytes = std::fs::read(&path).unwrap();
    let mut frames: Vec<(Vec<u8>, Vec<u8>)> = parse_journal(&bytes)
        .frames
        .iter()
        .map(|f| (f.entry.to_vec(), f.subjects.to_vec()))
        .collect();
    edit(&mut frames);
    let mut out = Vec::new();
    for (e, s) in &frames {
        push_journal_frame(&mut out, e, s);
    }
    std::fs::write(path, out).unwrap();
}

fn flip_byte(path: &Path, offset: usize) {
    let mut bytes = std::fs::read(path).unwrap();
    bytes[offset] ^= 0x01;
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn tampering_is_found_and_the_first_bad_index_named() {
    let base = tempfile::tempdir().unwrap();
    let log = AuditLog::open(base.path()).unwrap();
    fill(&log, 600);
    log.close().unwrap();
    drop(log);
    let saved = std::fs::read(base.path().join("checkpoint")).unwrap();

    let cases = [
        Case {
            name: "one byte of an entry in a full bundle",
            tamper: |d| rewrite_bundle(d, "tile/entries/001", |e| e[300 - 256][40] ^= 0x20),
            index: Some(300),
        },
        Case {
            name: "one byte of an entry's length prefix",
            tamper: |d| flip_byte(&d.join("tile/entries/000"), 0),
            index: Some(0),
        },
        Case {
            name: "one byte of an entry in the journal, its check recomputed",
            tamper: |d| rewrite_journal(d, 2, |f| f[550 - 512].0[60] ^= 0x01),
            index: Some(550),
        },
        Case {
            name: "one byte of an entry in the journal",
            tamper: |d| {
                let bytes = std::fs::read(d.join(journal_path(2))).unwrap();
                let at = parse_journal(&bytes).frames[550 - 512 - 1].end + 60;
                flip_byte(&d.join(journal_path(2)), at);
            },
            index: Some(550),
        },
        Case {
            name: "the subject index edited in the journal, its check recomputed",
            tamper: |d| rewrite_journal(d, 2, |f| f[560 - 512].1[10] ^= 0x01),
            index: Some(560),
        },
        Case {
            name: "an entry deleted",
            tamper: |d| rewrite_bundle(d, "tile/entries/001", |e| drop(e.remove(44))),
            index: Some(300),
        },
        Case {
            name: "two entries swapped",
            tamper: |d| rewrite_bundle(d, "tile/entries/000", |e| e.swap(10, 11)),
            index: Some(10),
        },
        Case {
            name: "entries truncated from the tail",
            tamper: |d| rewrite_journal(d, 2, |f| f.truncate(40)),
            index: Some(552),
        },
        Case {
            name: "the tail bundle and its published copy deleted",
            tamper: |d| {
                std::fs::remove_file(d.join(journal_path(2))).unwrap();
                std::fs::remove_dir_all(d.join("tile/entries/002.p")).unwrap();
            },
            index: Some(512),
        },
        Case {
            name: "the subject index edited",
            tamper: |d| {
                let path = d.join(SUBJECTS);
                let bytes = std::fs::read(&path).unwrap();
                let (frames, _) = crate::subjects::parse_frames(&bytes);
                let offset: usize = frames[..42].iter().map(|f| f.len() + 4).sum::<usize>() + 4 + 3 + 4 + 10;
                flip_byte(&path, offset);
            },
            index: Some(42),
        },
        Case {
            name: "the subject index truncated",
            tamper: |d| {
                let path = d.join(SUBJECTS);
                let bytes = std::fs::read(&path).unwrap();
                let (frames, _) = crate::subjects::parse_frames(&bytes);
                let keep: usize = frames[..500].iter().map(|f| f.len() + 4).sum();
                std::fs::write(&path, &bytes[..keep]).unwrap();
            },
            index: Some(500),
        },
        Case {
            name: "a hash tile edited",
            tamper: |d| flip_byte(&d.join("tile/0/001"), 32 * 7),
            index: Some(256 + 7),
        },
        Case {
            name: "the checkpoint's size edited",
            tamper: |d| {
                let text = std::fs::read_to_string(d.join("checkpoint"))
                    .unwrap()
                    .replacen("\n600\n", "\n599\n", 1);
                std::fs::write(d.join("checkpoint"), text).unwrap();
            },
            index: None,
        },
    ];
    for case in cases {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(base.path(), dir.path());
        (case.tamper)(dir.path());
        let st = storage(dir.path());
        let report = verify_log(&st, Some(&saved), None).unwrap();
        let problem = report
            .problem
            .unwrap_or_else(|| panic!("{}: verify found nothing", case.name));
        assert_eq!(problem.index, case.index, "{}: {problem}", case.name);
        // The saved checkpoint alone proves the log changed or shrank.
        let against_saved = crate::Checkpoint::open(
            &saved,
            std::fs::read_to_string(dir.path().join("key.vkey"))
                .unwrap()
                .trim(),
        )
        .unwrap();
        if case.index.is_some()
            && case.name != "a hash tile edited"
            && !case.name.starts_with("the subject index")
        {
            let entries_root = report.root;
            let consistent = report.size >= against_saved.size
                && crate::Tree::root(&rebuild_tree(&st), against_saved.size).ok() == Some(against_saved.root);
            assert!(
                !consistent,
                "{}: the saved checkpoint should disagree (root {entries_root})",
                case.name
            );
        }
    }
}

/// The tree recomputed from the entries alone (what an outside verifier would do).
fn rebuild_tree(st: &LocalDir) -> crate::Tree {
    let mut t = crate::Tree::new();
    let mut n = 0;
    loop {
        if let Some(bytes) = st.read(&bundle_path(n, 256)).unwrap() {
            for e in parse_bundle(&bytes).entries {
                t.push(crate::leaf_hash(e));
            }
        } else if let Some(bytes) = st.read(&journal_path(n)).unwrap() {
            for f in parse_journal(&bytes).frames {
                t.push(crate::leaf_hash(f.entry));
            }
        } else {
            break;
        }
        n += 1;
    }
    t
}

#[test]
fn a_rewritten_and_resigned_log_is_caught_by_a_saved_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(dir.path()).unwrap();
    fill(&log, 300);
    log.close().unwrap();
    drop(log);
    let saved = std::fs::read(dir.path().join("checkpoint")).unwrap();
    // Someone with the key changes who read entry 5 (same length, still canonical), deletes the
    // derived files and lets the log rebuild and re-sign them.
    rewrite_bundle(dir.path(), "tile/entries/000", |e| {
        let at = String::from_utf8(e[5].clone())
            .unwrap()
            .find("\"principal\":\"p")
            .unwrap()
            + 14;
        e[5][at] = if e[5][at] == b'9' { b'8' } else { b'9' };
    });
    std::fs::remove_dir_all(dir.path().join("tile/0")).unwrap();
    std::fs::remove_dir_all(dir.path().join("tile/1")).unwrap();
    std::fs::remove_dir_all(dir.path().join("tile/entries/001.p")).unwrap();
    std::fs::remove_file(dir.path().join("checkpoint")).unwrap();
    let log = AuditLog::open(dir.path()).unwrap();
    log.close().unwrap();
    drop(log);
    let st = storage(dir.path());
    assert_eq!(
        verify_log(&st, None, None).unwrap().problem,
        None,
        "a consistent rewrite passes on its own"
    );
    let problem = verify_log(&st, Some(&saved), None).unwrap().problem.unwrap();
    assert!(
        problem.what.contains("not consistent with the saved checkpoint"),
        "{problem}"
    );
}

#[test]
fn open_refuses_a_log_shorter_than_its_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(dir.path()).unwrap();
    fill(&log, 20);
    log.close().unwrap();
    drop(log);
    rewrite_journal(dir.path(), 0, |f| f.truncate(15));
    let err = AuditLog::open(dir.path()).unwrap_err().to_string();
    assert!(err.contains("index 15"), "{err}");
}

#[test]
fn a_second_writer_is_refused_while_the_first_holds_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let first = AuditLog::open(dir.path()).unwrap();
    let err = AuditLog::open(dir.path()).unwrap_err().to_string();
    assert!(err.contains("another process is writing"), "{err}");
    first.close().unwrap();
    drop(first);
    AuditLog::open(dir.path()).unwrap();
}

proptest::proptest! {
    /// What the fuzz target checks, on every `cargo test`: the file parsers never panic, and
    /// what parses round-trips.
    #[test]
    fn file_parsers_never_panic_on_arbitrary_bytes(data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600)) {
        let bundle = parse_bundle(&data);
        proptest::prop_assert!(bundle.whole_len <= data.len());
        for entry in &bundle.entries {
            if let Ok(record) = crate::AuditRecord::from_leaf(entry) {
                proptest::prop_assert_eq!(record.to_leaf().unwrap(), entry.to_vec());
            }
        }
        for entry in &bundle.entries {
            proptest::prop_assert_eq!(
                crate::AuditRecord::check_leaf(entry).is_ok(),
                crate::AuditRecord::from_leaf(entry).is_ok()
            );
        }
        // Journals: frames lie end to end inside the bytes, an intact frame encodes back to its
        // own bytes, and what recovery keeps is a prefix.
        let journal = parse_journal(&data);
        let mut at = 0;
        for f in &journal.frames {
            proptest::prop_assert!(f.end > at && f.end <= data.len());
            if f.intact {
                let mut again = Vec::new();
                push_journal_frame(&mut again, f.entry, f.subjects);
                proptest::prop_assert_eq!(&again[..], &data[at..f.end]);
            }
            at = f.end;
        }
        if let Ok(keep) = journal.whole() {
            proptest::prop_assert!(journal.frames[..keep].iter().all(|f| f.intact));
            proptest::prop_assert!(journal.len_of(keep) <= data.len());
        }
        let (frames, whole) = crate::subjects::parse_frames(&data);
        proptest::prop_assert!(whole <= data.len());
        for frame in frames {
            if let Ok(set) = crate::SubjectSet::from_bytes(frame) {
                proptest::prop_assert_eq!(crate::SubjectSet::from_bytes(&set.to_bytes()).unwrap(), set);
            }
        }
        let _ = crate::Checkpoint::open(&data, "kamei.local/audit+41205e8d+AewRBY5JbAPFtg40seXgU+nMA7Th9nqDgcikGV+/e7Yr");
        if let Ok(text) = std::str::from_utf8(&data)
            && let Ok(t) = crate::Timestamp::parse(text)
        {
            proptest::prop_assert_eq!(crate::Timestamp::parse(&t.to_string()).unwrap(), t);
        }
    }
}

#[test]
fn a_log_signed_by_an_external_key_keeps_no_secret_and_refuses_another_key() {
    use crate::LogKey;
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    let with = |seed: u8| Options {
        key: Some(Arc::new(
            LogKey::from_seed(crate::DEFAULT_ORIGIN, &[seed; 32]).unwrap(),
        )),
        ..Options::default()
    };
    let log = AuditLog::open_with(dir.path(), with(1)).unwrap();
    fill(&log, 300);
    let vkey = log.verifier_key().to_owned();
    log.close().unwrap();
    drop(log);
    assert!(
        !dir.path().join("key").exists(),
        "no secret key file beside the log"
    );
    let storage = LocalDir::new(dir.path()).unwrap();
    assert_eq!(
        crate::stored_verifier_key(&storage).unwrap().as_deref(),
        Some(vkey.as_str())
    );
    let report = verify_log(&storage, None, None).unwrap();
    assert_eq!(report.problem, None);
    assert_eq!(report.size, 300);
    drop(storage);
    let err = AuditLog::open_with(dir.path(), with(2)).unwrap_err().to_string();
    assert!(err.contains("signed by another key"), "{err}");
    // Without a key the log would make its own and sign with it: refused too.
    let err = AuditLog::open(dir.path()).unwrap_err().to_string();
    assert!(err.contains("held elsewhere"), "{err}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("key.vkey"))
            .unwrap()
            .trim(),
        vkey
    );
    let reopened = AuditLog::open_with(dir.path(), with(1)).unwrap();
    assert_eq!(reopened.size(), 300);
}

/// Local storage that lets a test act around two calls: before a sync (which may fail) and
/// after a listing (when a writer may change the log under a reader).
#[derive(Debug)]
struct Hooked<H> {
    inner: LocalDir,
    hook: H,
}

trait Hook: std::fmt::Debug + Send + Sync {
    fn before_sync(&self, _path: &str) -> std::io::Result<()> {
        Ok(())
    }
    fn after_list(&self, _inner: &LocalDir, _dir: &str) -> std::io::Result<()> {
        Ok(())
    }
}

impl<H: Hook> LogStorage for Hooked<H> {
    fn lock_exclusive(&self) -> std::io::Result<()> {
        self.inner.lock_exclusive()
    }
    fn read(&self, path: &str) -> std::io::Result<Option<Vec<u8>>> {
        self.inner.read(path)
    }
    fn exists(&self, path: &str) -> std::io::Result<bool> {
        self.inner.exists(path)
    }
    fn append(&self, path: &str, bytes: &[u8]) -> std::io::Result<()> {
        self.inner.append(path, bytes)
    }
    fn sync(&self, path: &str) -> std::io::Result<()> {
        self.hook.before_sync(path)?;
        self.inner.sync(path)
    }
    fn write(&self, path: &str, bytes: &[u8], durable: bool) -> std::io::Result<()> {
        self.inner.write(path, bytes, durable)
    }
    fn truncate(&self, path: &str, len: u64) -> std::io::Result<()> {
        self.inner.truncate(path, len)
    }
    fn remove(&self, path: &str) -> std::io::Result<()> {
        self.inner.remove(path)
    }
    fn list(&self, dir: &str) -> std::io::Result<Vec<String>> {
        let listed = self.inner.list(dir)?;
        self.hook.after_list(&self.inner, dir)?;
        Ok(listed)
    }
    fn create_private(&self, path: &str, bytes: &[u8]) -> std::io::Result<bool> {
        self.inner.create_private(path, bytes)
    }
}

/// The `n`th journal sync fails once; the syncs after it succeed again, as on a disk whose
/// write-back error is reported once (a later sync may then succeed on pages an earlier one
/// lost).
#[derive(Debug)]
struct FailingSync {
    syncs: std::sync::atomic::AtomicU64,
    fail_at: u64,
}

impl Hook for FailingSync {
    fn before_sync(&self, path: &str) -> std::io::Result<()> {
        if path.starts_with("journal/")
            && self.syncs.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == self.fail_at
        {
            return Err(std::io::Error::other("injected sync failure"));
        }
        Ok(())
    }
}

#[test]
fn nothing_is_acknowledged_after_a_failed_sync_and_the_log_reopens_with_every_acknowledged_record() {
    for fail_at in [0, 3, 40] {
        let dir = tempfile::tempdir().unwrap();
        let storage = std::sync::Arc::new(Hooked {
            inner: LocalDir::new(dir.path()).unwrap(),
            hook: FailingSync {
                syncs: Default::default(),
                fail_at,
            },
        });
        let log = AuditLog::open_storage(storage.clone(), Options::default()).unwrap();
        let next = std::sync::atomic::AtomicU64::new(0);
        // (input number, answer) per append, from 16 writers that keep going after errors.
        let results = std::sync::Mutex::new(Vec::new());
        std::thread::scope(|s| {
            for _ in 0..16 {
                s.spawn(|| {
                    let mut failed = false;
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        if i >= 3000 {
                            break;
                        }
                        let answer = log.append_input(input(i));
                        // Once this writer saw a failure, it never sees an acknowledgement.
                        assert!(
                            !(failed && answer.is_ok()),
                            "fail_at {fail_at}: acknowledged after a failure"
                        );
                        failed |= answer.is_err();
                        results.lock().unwrap().push((i, answer.ok()));
                    }
                });
            }
        });
        let results = results.into_inner().unwrap();
        assert!(
            results.iter().any(|(_, a)| a.is_none()),
            "fail_at {fail_at}: the sync failure went unnoticed"
        );
        assert!(
            log.append_input(input(9999)).is_err(),
            "the log refuses appends after a failed sync"
        );
        let _ = log.close();
        drop(log);
        drop(storage);
        // Acknowledged indices are 0..k without a gap: no batch after the failed one got through.
        let mut acked: Vec<(u64, u64)> = results
            .iter()
            .filter_map(|(i, a)| a.map(|index| (index, *i)))
            .collect();
        acked.sort_unstable();
        assert!(
            acked.iter().enumerate().all(|(n, (index, _))| *index == n as u64),
            "fail_at {fail_at}: acknowledged indices have gaps"
        );
        // The log opens, verifies, and holds every acknowledged record where it was acknowledged.
        let reopened = AuditLog::open(dir.path()).unwrap();
        assert!(reopened.size() >= acked.len() as u64);
        reopened.close().unwrap();
        drop(reopened);
        let st = crate::storage::LocalDir::new(dir.path()).unwrap();
        assert_eq!(
            verify_log(&st, None, None).unwrap().problem,
            None,
            "fail_at {fail_at}"
        );
        let records = crate::read_records(&st).unwrap();
        for (index, i) in acked {
            let (record, _) = input(i).into_record().unwrap();
            assert_eq!(
                records[index as usize].1, record,
                "fail_at {fail_at}: record {index}"
            );
        }
    }
}

/// An auditor's read-only view opens while a writer fills and retires journals: it never sees
/// a half-retired bundle as damage, and its proofs check against its signed checkpoint.
#[test]
fn a_read_only_view_opens_while_the_writer_retires_journals() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(dir.path()).unwrap();
    let vkey = log.verifier_key().to_owned();
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            fill(&log, 4000);
            done.store(true, std::sync::atomic::Ordering::SeqCst);
        });
        let st = storage(dir.path());
        let mut views = 0;
        while !done.load(std::sync::atomic::Ordering::SeqCst) || views == 0 {
            let view = crate::LogView::open(&st, None).unwrap();
            let cp = view.checkpoint().clone();
            assert!(view.size() >= cp.size);
            if cp.size > 0 {
                let p = view.prove(cp.size - 1, None).unwrap();
                verify_inclusion(p.index, p.tree_size, &p.leaf_hash, &p.hashes, &cp.root).unwrap();
            }
            views += 1;
        }
    });
    log.close().unwrap();
    let view = crate::LogView::open(&storage(dir.path()), Some(&vkey)).unwrap();
    assert_eq!((view.size(), view.checkpoint().size), (4000, 4000));
}

/// Runs `read` over and over while 8 threads append `n` records; returns what it reported.
fn while_appending(n: u64, read: impl Fn(&LocalDir) -> Option<String>) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(dir.path()).unwrap();
    let done = std::sync::atomic::AtomicBool::new(false);
    let mut found = Vec::new();
    std::thread::scope(|s| {
        s.spawn(|| {
            fill(&log, n);
            done.store(true, std::sync::atomic::Ordering::SeqCst);
        });
        let st = storage(dir.path());
        let mut runs = 0;
        while !done.load(std::sync::atomic::Ordering::SeqCst) || runs == 0 {
            found.extend(read(&st));
            runs += 1;
        }
    });
    log.close().unwrap();
    found
}

/// Regression: `read_records` read the subject index, counted bundles, then read each journal;
/// a journal retired in between was taken for an empty bundle and a query silently lost 256
/// records (or failed on a missing subject index entry).
#[test]
fn read_records_while_the_writer_retires_journals_returns_every_record_without_a_gap() {
    let found = while_appending(8000, |st| match crate::read_records(st) {
        Err(e) => Some(e.to_string()),
        Ok(records) => records
            .iter()
            .enumerate()
            .position(|(k, r)| r.0 != k as u64)
            .map(|k| {
                format!(
                    "{} records, record #{k} has index {}",
                    records.len(),
                    records[k].0
                )
            }),
    });
    assert!(found.is_empty(), "{found:?}");
}

/// Regression: `verify_log` on a live log reported a bundle retired while it read as missing
/// (and tiles, partial bundles and subject index entries written meanwhile as damage).
#[test]
fn verify_while_the_writer_retires_journals_reports_no_damage() {
    let found = while_appending(8000, |st| match verify_log(st, None, None) {
        Err(e) => Some(format!("error: {e}")),
        Ok(r) => r.problem.map(|p| p.to_string()),
    });
    assert!(found.is_empty(), "{found:?}");
}

/// A writer finishes retiring bundle 1 (writes its bundle and subject index entries, removes
/// its journal) right after a reader lists the journals: the moment at which a reader that
/// counted bundles first took the vanished journal for an empty bundle.
#[derive(Debug)]
struct RetiresAfterListing {
    bundle: Vec<u8>,
    index: Vec<u8>,
    armed: std::sync::atomic::AtomicBool,
}

impl Hook for RetiresAfterListing {
    fn after_list(&self, inner: &LocalDir, dir: &str) -> std::io::Result<()> {
        if dir == "journal" && self.armed.swap(false, std::sync::atomic::Ordering::SeqCst) {
            inner.write(&bundle_path(1, 256), &self.bundle, true)?;
            inner.write(SUBJECTS, &self.index, true)?;
            inner.remove(&journal_path(1))?;
        }
        Ok(())
    }
}

/// The log of 600 records as it was just before bundle 1 was retired, on storage that retires
/// it as soon as a reader has listed the journals.
fn about_to_retire_bundle_1(d: &Path) -> Hooked<RetiresAfterListing> {
    let log = AuditLog::open(d).unwrap();
    fill(&log, 600);
    log.close().unwrap();
    drop(log);
    std::fs::write(d.join(journal_path(1)), journal_of(d, 1)).unwrap();
    let bundle = std::fs::read(d.join(bundle_path(1, 256))).unwrap();
    let index = std::fs::read(d.join(SUBJECTS)).unwrap();
    let (frames, _) = crate::subjects::parse_frames(&index);
    let upto: usize = frames[..256].iter().map(|f| f.len() + 4).sum();
    std::fs::write(d.join(SUBJECTS), &index[..upto]).unwrap();
    std::fs::remove_file(d.join(bundle_path(1, 256))).unwrap();
    Hooked {
        inner: storage(d),
        hook: RetiresAfterListing {
            bundle,
            index,
            armed: std::sync::atomic::AtomicBool::new(true),
        },
    }
}

#[test]
fn read_records_when_a_journal_is_retired_after_listing_loses_no_record() {
    let dir = tempfile::tempdir().unwrap();
    let st = about_to_retire_bundle_1(dir.path());
    let records = crate::read_records(&st).unwrap();
    let indices: Vec<u64> = records.iter().map(|r| r.0).collect();
    assert_eq!(indices, (0..600).collect::<Vec<_>>());
}

#[test]
fn verify_when_a_journal_is_retired_after_listing_reports_no_damage() {
    let dir = tempfile::tempdir().unwrap();
    let st = about_to_retire_bundle_1(dir.path());
    let report = verify_log(&st, None, None).unwrap();
    assert_eq!((report.size, report.problem), (600, None));
}

/// A log of 300 records whose stored checkpoint is at `checkpoint` (256 or 300): with 256, the
/// state a writer killed after 300 acknowledged appends leaves (the next automatic checkpoint
/// was due at 512).
fn three_hundred_acknowledged(d: &Path, checkpoint: u64) {
    let log = AuditLog::open(d).unwrap();
    fill(&log, 256);
    let cp = log.checkpoint().unwrap();
    for i in 256..300 {
        assert_eq!(log.append_input(input(i)).unwrap(), i);
    }
    log.close().unwrap();
    drop(log);
    if checkpoint == 256 {
        std::fs::write(d.join("checkpoint"), &cp).unwrap();
        std::fs::remove_file(d.join(bundle_path(1, 44))).unwrap();
        std::fs::remove_file(d.join(crate::tiles::hash_tile_path(0, 1, 44))).unwrap();
    }
    assert_eq!(verify_log(&storage(d), None, None).unwrap().problem, None);
}

/// Damages journal 1 with `damage`, then checks that opening the log refuses it with a one-line
/// error naming the journal and the entry's index, changes no byte of the journal, that verify
/// names the same index, and that the log opens with all 300 records once the byte is back.
fn open_refuses_and_keeps(checkpoint: u64, index: u64, damage: impl Fn(&mut Vec<u8>)) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    three_hundred_acknowledged(d, checkpoint);
    let path = d.join(journal_path(1));
    let good = std::fs::read(&path).unwrap();
    let mut bad = good.clone();
    damage(&mut bad);
    std::fs::write(&path, &bad).unwrap();

    let problem = verify_log(&storage(d), None, None).unwrap().problem.unwrap();
    assert_eq!(problem.index, Some(index), "{problem}");
    let err = AuditLog::open(d).unwrap_err().to_string();
    assert!(
        err.contains(&format!("index {index}")) && err.contains("`journal/1`") && !err.contains('\n'),
        "{err}"
    );
    assert_eq!(
        std::fs::read(&path).unwrap(),
        bad,
        "open changed the damaged journal"
    );

    std::fs::write(&path, &good).unwrap();
    let log = AuditLog::open(d).unwrap();
    assert_eq!(log.size(), 300);
    log.close().unwrap();
}

/// Regression: one damaged byte (the high byte of a subject entry length) in an acknowledged
/// journal frame past the checkpoint was taken for a torn tail; open cut entries 266..300 away
/// and the log then verified clean.
#[test]
fn a_damaged_length_in_a_journal_frame_is_not_cut_away_as_a_torn_tail() {
    open_refuses_and_keeps(256, 266, |bytes| {
        let p = parse_journal(bytes);
        let at = p.frames[9].end + 2 + p.frames[10].entry.len();
        bytes[at] ^= 0x80;
    });
}

/// Regression: with the checkpoint covering the damaged entries, open truncated them first and
/// only then refused to open; repairing the byte could not bring them back.
#[test]
fn open_refuses_damage_within_the_checkpoint_before_changing_the_journal() {
    open_refuses_and_keeps(300, 266, |bytes| {
        let p = parse_journal(bytes);
        let at = p.frames[9].end + 2 + p.frames[10].entry.len();
        bytes[at] ^= 0x80;
    });
}

/// Regression: a flipped bit in the last acknowledged frame was dropped as a torn tail.
#[test]
fn a_flipped_bit_in_the_last_journal_frame_is_not_cut_away_as_a_torn_tail() {
    open_refuses_and_keeps(256, 299, |bytes| {
        let at = parse_journal(bytes).frames[42].end + 10;
        bytes[at] ^= 0x01;
    });
}

/// Regression: a stray file named like a journal whose first index overflows u64
/// (`journal/72057594037927936`) made open and every read-only command panic on `n * 256`.
#[test]
fn a_journal_named_past_the_last_index_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let log = AuditLog::open(d).unwrap();
    fill(&log, 256);
    log.close().unwrap();
    drop(log);
    // Names the log never writes are not journals.
    std::fs::write(d.join("journal/01"), b"").unwrap();
    std::fs::write(d.join("journal/+2"), b"").unwrap();
    assert_eq!(verify_log(&storage(d), None, None).unwrap().problem, None);
    AuditLog::open(d).unwrap().close().unwrap();

    std::fs::write(d.join("journal/72057594037927936"), b"").unwrap();
    let err = crate::LogView::open(&storage(d), None).unwrap_err().to_string();
    assert!(err.contains("`journal/72057594037927936`"), "{err}");
    let err = AuditLog::open(d).unwrap_err().to_string();
    assert!(
        err.contains("`journal/72057594037927936`") && !err.contains('\n'),
        "{err}"
    );
    let problem = verify_log(&storage(d), None, None).unwrap().problem.unwrap();
    assert_eq!(problem.index, Some(256), "{problem}");
}

/// The log of 600 records as a power loss during the retirement of bundle 1 leaves it: bundle
/// 1 written, its journal still there, and the subject index entries appended for it read as
/// `zeros` bytes of zeros (the append was not synced).
fn index_zeros_while_retiring_bundle_1(d: &Path, zeros: impl FnOnce(&[u8], usize) -> usize) -> Vec<u8> {
    let log = AuditLog::open(d).unwrap();
    fill(&log, 600);
    log.close().unwrap();
    drop(log);
    std::fs::write(d.join(journal_path(1)), journal_of(d, 1)).unwrap();
    let index = std::fs::read(d.join(SUBJECTS)).unwrap();
    let (frames, _) = crate::subjects::parse_frames(&index);
    let upto: usize = frames[..256].iter().map(|f| f.len() + 4).sum();
    let mut torn = index[..upto].to_vec();
    torn.resize(zeros(&index, upto), 0);
    std::fs::write(d.join(SUBJECTS), &torn).unwrap();
    index
}

/// Regression: zeros at the end of the subject index while the journal of the bundle they
/// belong to still existed made the log unopenable (more entries than full bundles), or were
/// kept as empty subject sets (as many entries as full bundles).
#[test]
fn zeros_in_the_subject_index_of_a_bundle_with_a_journal_are_rebuilt_from_it() {
    let same_length = |index: &[u8], _: usize| index.len();
    let one_empty_entry_each = |_: &[u8], upto: usize| upto + 4 * 256;
    for (name, zeros) in [
        ("same length", &same_length as &dyn Fn(&[u8], usize) -> usize),
        ("one empty entry each", &one_empty_entry_each),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let index = index_zeros_while_retiring_bundle_1(d, zeros);
        let log = AuditLog::open(d).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(log.size(), 600, "{name}");
        log.close().unwrap();
        drop(log);
        assert!(!d.join(journal_path(1)).exists(), "{name}");
        assert_eq!(std::fs::read(d.join(SUBJECTS)).unwrap(), index, "{name}");
        assert_eq!(
            verify_log(&storage(d), None, None).unwrap().problem,
            None,
            "{name}"
        );
    }
}

/// A query by subject is answered from the subject index: it returns exactly what filtering
/// every record gives, and it does not parse the records of a bundle none of whose index
/// entries names the subject (a leaf made unreadable there goes unnoticed by it, while a query
/// that must read that bundle reports the damage).
#[test]
fn a_query_by_subject_reads_only_the_records_the_subject_index_names() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(dir.path()).unwrap();
    for i in 0..600 {
        assert_eq!(log.append_input(input(i)).unwrap(), i);
    }
    log.close().unwrap();
    drop(log);
    let st = storage(dir.path());
    let all = crate::read_records(&st).unwrap();
    // Subject 1300 is in record 300 (bundle 1), subject 550 in record 550 (the journal of
    // bundle 2), subject 5 in record 5 (bundle 0); jurisdiction `--` is in every record.
    for (subject, expect) in [
        (1300, vec![300]),
        (550, vec![550]),
        (5, vec![5]),
        (99_999, vec![]),
    ] {
        let q = crate::Query {
            subject: Some(subject),
            ..Default::default()
        };
        let found: Vec<u64> = q.run(&st).unwrap().iter().map(|m| m.index).collect();
        let brute: Vec<u64> = all
            .iter()
            .filter(|(_, _, s)| s.contains(subject))
            .map(|(i, _, _)| *i)
            .collect();
        assert_eq!(found, brute, "subject {subject}");
        assert_eq!(found, expect, "subject {subject}");
    }
    let by_jurisdiction = crate::Query {
        jurisdiction: Some(*b"JP"),
        ..Default::default()
    };
    assert!(by_jurisdiction.run(&st).unwrap().is_empty());

    // Make record 10's leaf unreadable (bundle 0): a query for a subject of bundle 1, or for
    // another record's subject in bundle 0, never parses it; one for its own subject does, and
    // names the damage, as reading every record does.
    rewrite_bundle(dir.path(), "tile/entries/000", |e| e[10] = b"not json".to_vec());
    let q = |subject| crate::Query {
        subject: Some(subject),
        ..Default::default()
    };
    assert_eq!(q(1300).run(&st).unwrap().len(), 1);
    assert_eq!(q(5).run(&st).unwrap().len(), 1);
    assert!(matches!(
        q(1010).run(&st),
        Err(crate::AuditError::Damaged { index: 10, .. })
    ));
    assert!(matches!(
        crate::read_records(&st),
        Err(crate::AuditError::Damaged { index: 10, .. })
    ));
}

/// The size of the checkpoint the publisher has stored, once it reaches `at_least` (waits at
/// most 10 s: the publisher runs on its own thread).
fn published_size(d: &Path, log: &AuditLog, at_least: u64) -> u64 {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let note = std::fs::read(d.join(crate::log::CHECKPOINT)).unwrap();
        let size = crate::Checkpoint::open(&note, log.verifier_key()).unwrap().size;
        if size >= at_least || std::time::Instant::now() > deadline {
            return size;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

#[test]
fn appends_alone_publish_checkpoints_and_retire_full_journals() {
    // One append at a time, as a lone client's statements come: the committer tells the publisher
    // only when there is work for it, and that must still be every bundle and every
    // `publish_every` entries.
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(dir.path()).unwrap();
    for i in 0..300 {
        log.append_input(input(i)).unwrap();
    }
    assert_eq!(published_size(dir.path(), &log, 256), 256);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while dir.path().join(journal_path(0)).exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(
        dir.path().join(bundle_path(0, 256)).exists(),
        "the full bundle was written"
    );
    assert!(
        !dir.path().join(journal_path(0)).exists(),
        "the full journal was retired"
    );
    drop(log);

    let dir = tempfile::tempdir().unwrap();
    let options = Options {
        publish_every: 10,
        ..Options::default()
    };
    let log = AuditLog::open_with(dir.path(), options).unwrap();
    for i in 0..25 {
        log.append_input(input(i)).unwrap();
    }
    let size = published_size(dir.path(), &log, 20);
    assert!(
        (20..=25).contains(&size),
        "published at {size}, every 10 entries expected"
    );
}
