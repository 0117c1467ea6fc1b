//! The filesystem's typed error and its errno: the ONE place where failures become errno
//! values (the FUSE adapter only calls [`FsError::errno`]), and the size limits whose breach
//! is EFBIG.

use thiserror::Error;

use crate::notion::ApiError;
use crate::sync::JournalError;

/// Largest page file (`T.md`) a write buffer holds: writes, `truncate` and `O_TRUNC` past it
/// fail with EFBIG (the whole file lives in memory until it is journaled). 32 MiB: far more
/// Markdown than a Notion page holds.
pub const MAX_PAGE_FILE: u64 = 32 << 20;

/// Largest local file kept in memory (editor temp, swap and backup files, conflict copies):
/// EFBIG past it. The same as a page file, since an editor's temp file becomes the page when
/// it is renamed over it. (Files copied into a page's folder are spooled to disk instead and
/// bounded by the workspace's upload limit.)
pub const MAX_LOCAL_FILE: u64 = MAX_PAGE_FILE;

/// Why a filesystem operation failed.
#[derive(Debug, Error)]
pub enum FsError {
    /// No such entry (or the inode is unknown).
    #[error("no such file or directory")]
    NotFound,
    /// A directory operation on a file.
    #[error("not a directory")]
    NotDir,
    /// A file operation on a directory.
    #[error("is a directory")]
    IsDir,
    /// A write to this mount (read-only mount, or the write path is not available).
    #[error("read-only file system: {0}")]
    ReadOnly(&'static str),
    /// An operation Notion has nothing to hold (hard link, symlink, device node, owner or
    /// mode change).
    #[error("operation not permitted: Notion cannot hold a {0}")]
    Unsupported(&'static str),
    /// A namespace operation Notion has no way to carry out (the reason is logged and
    /// shown): creating a page at the workspace root with an internal integration, moving
    /// a database, moving a page to the root.
    #[error("operation not permitted: {0}")]
    Cannot(&'static str),
    /// The name is taken by another entry.
    #[error("file exists")]
    Exists,
    /// `rmdir` of a folder that still holds entries.
    #[error("directory not empty")]
    NotEmpty,
    /// A name that cannot be a page (empty title, or not ending in `.md`).
    #[error("invalid name: {0}")]
    BadName(&'static str),
    /// An extended attribute that the entry does not have.
    #[error("no such attribute")]
    NoAttr,
    /// A caller's buffer is too small for the value.
    #[error("result too large for the buffer")]
    Range,
    /// An unknown or already released file handle.
    #[error("bad file handle")]
    BadHandle,
    /// The request is not implemented by this mount (the kernel stops sending it).
    #[error("not implemented")]
    NotImplemented,
    /// No handle has this file open for writing (an internal signal of `truncate`).
    #[error("the file is not open for writing")]
    NotOpen,
    /// Notion refused or could not be reached; the reason is logged.
    #[error("{0}")]
    Api(#[from] ApiError),
    /// Local I/O (cache dir, attachment download).
    #[error("local I/O: {0}")]
    Io(#[from] std::io::Error),
    /// Downloading an attachment from its signed URL failed.
    #[error("attachment download failed: {0}")]
    Download(String),
    /// A file copied into a page's folder is larger than the workspace accepts.
    #[error("file too large: {size} bytes, the workspace accepts at most {limit} bytes per file")]
    TooBig {
        /// The size the file would have.
        size: u64,
        /// The workspace's per-file upload limit.
        limit: u64,
    },
    /// A file would grow past what notionfs holds for it ([`MAX_PAGE_FILE`],
    /// [`MAX_LOCAL_FILE`]).
    #[error("file too large: {size} bytes, notionfs holds at most {limit} bytes in {what}")]
    TooLarge {
        /// The size the file would have.
        size: u64,
        /// The limit.
        limit: u64,
        /// What kind of file (`a page file`, `a local file`).
        what: &'static str,
    },
    /// The journal could not take a save (a full disk is ENOSPC; nothing was accepted).
    #[error("{0}")]
    Journal(#[from] JournalError),
    /// The page has a save Notion does not hold (its last push failed or is still pending):
    /// moving it to the trash now would lose that save's trace.
    #[error("device or resource busy: {0}")]
    Unsynced(String),
}

impl FsError {
    /// The errno reported to the kernel.
    pub fn errno(&self) -> i32 {
        match self {
            FsError::NotFound => libc::ENOENT,
            FsError::NotDir => libc::ENOTDIR,
            FsError::IsDir => libc::EISDIR,
            FsError::ReadOnly(_) => libc::EROFS,
            FsError::Unsupported(_) | FsError::Cannot(_) => libc::EPERM,
            FsError::Exists => libc::EEXIST,
            FsError::NotEmpty => libc::ENOTEMPTY,
            FsError::BadName(_) => libc::EINVAL,
            FsError::NoAttr => libc::ENODATA,
            FsError::Range => libc::ERANGE,
            FsError::BadHandle | FsError::NotOpen => libc::EBADF,
            FsError::TooBig { .. } | FsError::TooLarge { .. } => libc::EFBIG,
            FsError::Journal(JournalError::TooBig { .. }) => libc::EFBIG,
            FsError::Journal(e) => journal_errno(e.os_error()),
            FsError::Io(e) => journal_errno(e.raw_os_error()),
            FsError::Unsynced(_) => libc::EBUSY,
            FsError::NotImplemented => libc::ENOSYS,
            // An object deleted or unshared in Notion is simply gone.
            FsError::Api(e) if e.is_not_found() => libc::ENOENT,
            FsError::Api(_) | FsError::Download(_) => libc::EIO,
        }
    }
}

/// A local disk failure as the caller should see it: a full disk or quota as such (the
/// user can act on it), anything else as EIO.
fn journal_errno(os: Option<i32>) -> i32 {
    match os {
        Some(e @ (libc::ENOSPC | libc::EDQUOT | libc::EFBIG)) => e,
        _ => libc::EIO,
    }
}

/// Result of filesystem operations.
pub type FsResult<T> = Result<T, FsError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_mapping() {
        assert_eq!(FsError::NotFound.errno(), libc::ENOENT);
        assert_eq!(FsError::ReadOnly("write").errno(), libc::EROFS);
        assert_eq!(FsError::Cannot("move a database").errno(), libc::EPERM);
        assert_eq!(FsError::Exists.errno(), libc::EEXIST);
        assert_eq!(FsError::NotEmpty.errno(), libc::ENOTEMPTY);
        let big = FsError::TooBig { size: 6, limit: 5 };
        assert_eq!(big.errno(), libc::EFBIG);
        assert!(big.to_string().contains("at most 5 bytes"));
        let gone = ApiError::Api {
            status: 404,
            code: "object_not_found".into(),
            message: "x".into(),
            endpoint: "GET /v1/pages/{id}".into(),
        };
        assert_eq!(FsError::from(gone).errno(), libc::ENOENT);
        let down = ApiError::Transport {
            endpoint: "GET /v1/pages/{id}".into(),
            reason: "connection failed".into(),
        };
        assert_eq!(FsError::from(down).errno(), libc::EIO);
        let full = JournalError::Io {
            path: "/j".into(),
            source: std::io::Error::from_raw_os_error(libc::ENOSPC),
        };
        assert_eq!(FsError::from(full).errno(), libc::ENOSPC);
        let eio = JournalError::Io {
            path: "/j".into(),
            source: std::io::Error::from_raw_os_error(libc::EACCES),
        };
        assert_eq!(FsError::from(eio).errno(), libc::EIO);
        let big = FsError::TooLarge {
            size: 1 << 40,
            limit: MAX_PAGE_FILE,
            what: "a page file",
        };
        assert_eq!(big.errno(), libc::EFBIG);
    }
}
