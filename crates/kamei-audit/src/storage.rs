//! Where the log's files live: a small trait, so that a later issue can put the log on a shared
//! store, and [`LocalDir`], a directory on local disk.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The storage a log sits on. Paths are relative, `/`-separated (`tile/0/x001/234`).
///
/// Contract:
/// - `append` MUST add the bytes at the end of the object, creating it (and its parents) if
///   absent; it MUST NOT reorder appends to one object.
/// - `sync` MUST NOT return `Ok` until every byte appended to that object before the call, and
///   the object's name, survive a crash of the process or the machine. The log acknowledges an
///   append only after `sync` returns.
/// - `write` MUST replace the object atomically: a reader sees the old bytes or the new ones,
///   never a mix or a prefix (write to a temporary name, then rename). With `durable`, it MUST
///   NOT return before the new bytes and name are on stable storage.
/// - `read` returns `None` for an object that does not exist; it MUST NOT invent bytes.
/// - `remove` MUST delete the object if it exists; it need not be durable (the log removes only
///   what opening it would remove again).
/// - `truncate` MUST shorten the object to `len` bytes durably; it is used only to cut a torn
///   tail that no acknowledged append covers.
/// - Implementations MUST be safe to call from several threads; the log serialises writes to
///   any one object itself.
/// - `lock_exclusive` MUST fail while another writer (in this or another process) holds the
///   log, and MUST keep the lock until the storage is dropped: two writers would each take the
///   other's half-written batch for a torn tail.
pub trait LogStorage: Send + Sync + std::fmt::Debug {
    fn lock_exclusive(&self) -> io::Result<()>;
    fn read(&self, path: &str) -> io::Result<Option<Vec<u8>>>;
    fn exists(&self, path: &str) -> io::Result<bool>;
    fn append(&self, path: &str, bytes: &[u8]) -> io::Result<()>;
    fn sync(&self, path: &str) -> io::Result<()>;
    fn write(&self, path: &str, bytes: &[u8], durable: bool) -> io::Result<()>;
    fn truncate(&self, path: &str, len: u64) -> io::Result<()>;
    fn remove(&self, path: &str) -> io::Result<()>;
    /// The names directly inside a directory (empty if it does not exist).
    fn list(&self, dir: &str) -> io::Result<Vec<String>>;
    /// Creates the object with these bytes only if it does not exist yet, readable by the owner
    /// only (for key files). Returns false if it already existed.
    fn create_private(&self, path: &str, bytes: &[u8]) -> io::Result<bool>;
}

/// A log directory on the local file system.
#[derive(Debug)]
pub struct LocalDir {
    root: PathBuf,
    /// Open handles of objects being appended to, so that each append and sync is one syscall.
    open: Mutex<HashMap<String, File>>,
    /// The `lock` file, locked, while this handle is the log's writer.
    lock: Mutex<Option<File>>,
}

impl LocalDir {
    pub fn new(root: impl Into<PathBuf>) -> io::Result<Self> {
        let root = root.into();
        fs::create_dir_all(&root)?;
        Ok(LocalDir {
            root,
            open: Mutex::new(HashMap::new()),
            lock: Mutex::new(None),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path(&self, rel: &str) -> io::Result<PathBuf> {
        if rel.is_empty() || rel.split('/').any(|c| c.is_empty() || c == "." || c == "..") {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "bad log object path"));
        }
        Ok(self.root.join(rel))
    }

    /// Creates the missing directories above `path`.
    ///
    /// INVARIANT (a durable object's path is durable): every directory created here is synced,
    /// and so is the directory holding it, before the object is written. `write(.., true)`
    /// and `sync` then make the whole path survive power loss, not only the last name: the log
    /// removes a journal once its bundle (`tile/entries/<N>`, whose `tile/` and `tile/entries/`
    /// the first retirement creates) is durable, and a bundle whose directory entry was lost
    /// would leave neither. (SPEC: POSIX fsync makes a file's data durable, not the names
    /// leading to it; each directory must be synced for its entries.)
    fn ensure_parent(&self, path: &Path) -> io::Result<()> {
        let Some(parent) = path.parent() else {
            return Ok(());
        };
        let mut missing = Vec::new();
        let mut dir = parent;
        while !dir.exists() {
            missing.push(dir);
            match dir.parent() {
                Some(up) => dir = up,
                None => break,
            }
        }
        if missing.is_empty() {
            return Ok(());
        }
        fs::create_dir_all(parent)?;
        // Deepest first, up to the directory that already existed.
        for dir in &missing {
            sync_dir(dir)?;
            if let Some(up) = dir.parent() {
                sync_dir(up)?;
            }
        }
        Ok(())
    }

    fn handles(&self) -> std::sync::MutexGuard<'_, HashMap<String, File>> {
        self.open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

impl LogStorage for LocalDir {
    fn lock_exclusive(&self) -> io::Result<()> {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.path("lock")?)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(io::Error::new(
                    io::ErrorKind::WouldBlock,
                    "another process is writing to this log",
                ));
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(e),
        }
        *self
            .lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(file);
        Ok(())
    }

    fn read(&self, path: &str) -> io::Result<Option<Vec<u8>>> {
        match fs::read(self.path(path)?) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn exists(&self, path: &str) -> io::Result<bool> {
        Ok(self.path(path)?.exists())
    }

    fn append(&self, path: &str, bytes: &[u8]) -> io::Result<()> {
        let mut open = self.handles();
        if !open.contains_key(path) {
            let full = self.path(path)?;
            self.ensure_parent(&full)?;
            let existed = full.exists();
            let file = OpenOptions::new().create(true).append(true).open(&full)?;
            if !existed && let Some(parent) = full.parent() {
                // The new name must be durable before anything appended to it is acknowledged.
                sync_dir(parent)?;
            }
            open.insert(path.to_owned(), file);
        }
        match open.get_mut(path) {
            Some(f) => f.write_all(bytes),
            None => Err(io::Error::other("append handle vanished")),
        }
    }

    fn sync(&self, path: &str) -> io::Result<()> {
        let file = {
            let open = self.handles();
            match open.get(path) {
                Some(f) => f.try_clone()?,
                None => File::open(self.path(path)?)?,
            }
        };
        file.sync_data()
    }

    fn write(&self, path: &str, bytes: &[u8], durable: bool) -> io::Result<()> {
        let full = self.path(path)?;
        self.ensure_parent(&full)?;
        let name = full
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = full.with_file_name(format!(".{name}.tmp"));
        {
            let mut f = File::create(&tmp)?;
            f.write_all(bytes)?;
            if durable {
                f.sync_data()?;
            }
        }
        fs::rename(&tmp, &full)?;
        if durable && let Some(parent) = full.parent() {
            sync_dir(parent)?;
        }
        Ok(())
    }

    fn truncate(&self, path: &str, len: u64) -> io::Result<()> {
        self.handles().remove(path);
        let f = OpenOptions::new().write(true).open(self.path(path)?)?;
        f.set_len(len)?;
        f.sync_all()
    }

    fn remove(&self, path: &str) -> io::Result<()> {
        self.handles().remove(path);
        match fs::remove_file(self.path(path)?) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    fn list(&self, dir: &str) -> io::Result<Vec<String>> {
        let rd = match fs::read_dir(self.path(dir)?) {
            Ok(rd) => rd,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut out = Vec::new();
        for entry in rd {
            out.push(entry?.file_name().to_string_lossy().into_owned());
        }
        out.sort();
        Ok(out)
    }

    fn create_private(&self, path: &str, bytes: &[u8]) -> io::Result<bool> {
        use std::os::unix::fs::OpenOptionsExt;
        let full = self.path(path)?;
        self.ensure_parent(&full)?;
        let tmp = full.with_extension("tmp");
        {
            let mut f = OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&tmp)?;
            f.write_all(bytes)?;
            f.sync_all()?;
        }
        // hard_link fails if the target exists: the first writer wins, nothing is overwritten.
        let created = match fs::hard_link(&tmp, &full) {
            Ok(()) => true,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => false,
            Err(e) => return Err(e),
        };
        fs::remove_file(&tmp)?;
        if let Some(parent) = full.parent() {
            sync_dir(parent)?;
        }
        Ok(created)
    }
}
