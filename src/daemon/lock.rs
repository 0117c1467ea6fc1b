//! One mount per cache directory: an exclusive `flock` on `CACHE_DIR/lock`, taken before
//! anything else reads or writes the cache dir (the snapshot, the journal, the control
//! socket), and held for the life of the mount process. The kernel releases it when the
//! process ends, however it ends (`kill -9` included), so a crashed mount never blocks the
//! next one, and a second mount on the same cache dir is refused at once, whatever the
//! length of its path. The file holds the holder's pid (for the refusal message only; the
//! lock, not the pid, is what counts).

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// File name of the lock in the cache dir.
pub const LOCK_NAME: &str = "lock";

/// The held lock of a cache dir (released when dropped or when the process ends).
#[derive(Debug)]
pub struct CacheLock {
    _file: File,
    path: PathBuf,
}

/// Why the lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another live process holds it.
    #[error("the cache dir {dir} is in use by another running notionfs mount{holder} (give this one its own --cache-dir)")]
    InUse {
        /// The cache dir.
        dir: PathBuf,
        /// ` (pid N)` when known.
        holder: String,
    },
    /// The lock file cannot be opened or locked.
    #[error("cannot lock the cache dir {dir}: {source}")]
    Io {
        /// The cache dir.
        dir: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

impl CacheLock {
    /// Takes the lock of `cache_dir` without waiting.
    pub fn acquire(cache_dir: &Path) -> Result<CacheLock, LockError> {
        let path = cache_dir.join(LOCK_NAME);
        let fail = |source| LockError::Io {
            dir: cache_dir.to_path_buf(),
            source,
        };
        // Not truncated at open: the holder's pid stays readable for the message.
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)
            .map_err(fail)?;
        // SAFETY: flock on a descriptor this function owns.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
                let mut pid = String::new();
                let holder = match file.read_to_string(&mut pid) {
                    Ok(_) if !pid.trim().is_empty() => format!(" (pid {})", pid.trim()),
                    _ => String::new(),
                };
                return Err(LockError::InUse {
                    dir: cache_dir.to_path_buf(),
                    holder,
                });
            }
            return Err(fail(e));
        }
        file.set_len(0).map_err(fail)?;
        file.rewind().map_err(fail)?;
        write!(file, "{}", std::process::id()).map_err(fail)?;
        Ok(CacheLock { _file: file, path })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes the holder's pid again (after `-d` forks, the mount runs in the child).
    pub fn note_pid(&self) {
        let mut f = &self._file;
        let res = f
            .set_len(0)
            .and_then(|_| f.rewind())
            .and_then(|_| write!(f, "{}", std::process::id()));
        if let Err(e) = res {
            tracing::debug!(error = %e, "cannot note the pid in the cache dir's lock file");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_until_the_first_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let first = CacheLock::acquire(dir.path()).unwrap();
        // flock locks belong to open files: a second open in the same process conflicts too.
        let second = CacheLock::acquire(dir.path()).unwrap_err();
        assert!(
            matches!(&second, LockError::InUse { holder, .. } if holder.contains(&std::process::id().to_string())),
            "{second}"
        );
        drop(first);
        CacheLock::acquire(dir.path()).unwrap();
    }
}
