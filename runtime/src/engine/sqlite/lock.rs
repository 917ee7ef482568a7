//! One engine per database file, whichever path reaches it.
//!
//! On Linux the lock is an exclusive `flock` on the database file itself
//! (std's `File::try_lock`): every path to the file (a symlink, a hard
//! link, another spelling) meets the same lock, and `flock` locks are
//! independent of the POSIX record locks SQLite takes on the same file.
//! Elsewhere the two kinds of lock may interact (BSD, macOS) or locks are
//! mandatory (Windows, where a lock on the file would block SQLite's own
//! reads), so the lock is on a file beside the database named after its
//! canonical path: symlinks and spellings meet it, a hard link does not.
//!
//! A second engine in this process is refused before it opens the file at
//! all: POSIX record locks belong to the process, and the kernel drops them
//! all when *any* descriptor of the file closes, so opening and closing one
//! to find the lock taken would strip the owning engine's connection of its
//! locks. Files owned in this process are known by device and inode.

use std::collections::BTreeSet;
use std::fs::{File, Metadata, OpenOptions, TryLockError};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

/// A file's identity, the same through every path that reaches it.
type FileId = (u64, u64);

/// Database files an engine of this process owns.
static OWNED: Mutex<BTreeSet<FileId>> = Mutex::new(BTreeSet::new());

/// Why the lock was not taken.
#[derive(Debug)]
pub(super) enum LockError {
    /// Another engine holds it.
    InUse,
    /// The file (or the lock file) could not be opened or locked.
    Io(PathBuf, io::Error),
}

/// The exclusive lock of one database file, held until dropped.
#[derive(Debug)]
pub(super) struct FileLock {
    file: Option<File>,
    id: Option<FileId>,
}

impl FileLock {
    /// Takes the lock of the database at `path`, creating the (empty)
    /// file if there is none.
    pub(super) fn acquire(path: &Path) -> Result<FileLock, LockError> {
        let mut owned = OWNED.lock().unwrap_or_else(PoisonError::into_inner);
        let io = |e| LockError::Io(path.to_path_buf(), e);
        match std::fs::metadata(path) {
            Ok(meta) => {
                if file_id(&meta).is_some_and(|id| owned.contains(&id)) {
                    return Err(LockError::InUse);
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(e)),
        }
        let database = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(io)?;
        let id = file_id(&database.metadata().map_err(io)?);
        if id.is_some_and(|id| owned.contains(&id)) {
            // The path was pointed at an owned file since the look above:
            // closing this descriptor would drop the owner's locks.
            std::mem::forget(database);
            return Err(LockError::InUse);
        }
        let (file, lock_path) = lock_file(path, database)?;
        match file.try_lock() {
            Ok(()) => {}
            // Held by another process. (Closing `file` here drops the POSIX
            // locks of read-only connections this process may have on the
            // file: nothing of an engine's.)
            Err(TryLockError::WouldBlock) => return Err(LockError::InUse),
            Err(TryLockError::Error(e)) => return Err(LockError::Io(lock_path, e)),
        }
        if let Some(id) = id {
            owned.insert(id);
        }
        Ok(FileLock {
            file: Some(file),
            id,
        })
    }
}

impl FileLock {
    /// The database file, open for the lock's life, where the lock is on
    /// the database itself.
    pub(super) fn database(&self) -> Option<&File> {
        if cfg!(target_os = "linux") {
            self.file.as_ref()
        } else {
            None
        }
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        // Closing and forgetting the file are one step for `acquire`: once
        // closed, an unlinked file's inode may be reused by a new file,
        // which must not be taken for this one.
        let mut owned = OWNED.lock().unwrap_or_else(PoisonError::into_inner);
        drop(self.file.take());
        if let Some(id) = self.id {
            owned.remove(&id);
        }
    }
}

/// The file to lock, given the open database file.
#[cfg(target_os = "linux")]
fn lock_file(path: &Path, database: File) -> Result<(File, PathBuf), LockError> {
    Ok((database, path.to_path_buf()))
}

/// The file to lock, given the open database file: `<canonical path>.lock`.
#[cfg(not(target_os = "linux"))]
fn lock_file(path: &Path, database: File) -> Result<(File, PathBuf), LockError> {
    drop(database);
    let canonical =
        std::fs::canonicalize(path).map_err(|e| LockError::Io(path.to_path_buf(), e))?;
    let mut name = canonical.into_os_string();
    name.push(".lock");
    let lock_path = PathBuf::from(name);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| LockError::Io(lock_path.clone(), e))?;
    Ok((file, lock_path))
}

#[cfg(unix)]
fn file_id(meta: &Metadata) -> Option<FileId> {
    use std::os::unix::fs::MetadataExt;
    Some((meta.dev(), meta.ino()))
}

#[cfg(not(unix))]
fn file_id(_: &Metadata) -> Option<FileId> {
    None
}

/// How many names (hard links) the file at `path` has, where that is known.
#[cfg(unix)]
pub(super) fn link_count(path: &Path) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| m.nlink())
}

#[cfg(not(unix))]
pub(super) fn link_count(_: &Path) -> Option<u64> {
    None
}
