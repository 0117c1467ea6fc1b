//! The filesystem's typed error and its errno: the ONE place where failures become errno
//! values (the FUSE adapter only calls [`FsError::errno`]).

use thiserror::Error;

use crate::notion::ApiError;

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
            FsError::TooBig { .. } => libc::EFBIG,
            FsError::NotImplemented => libc::ENOSYS,
            // An object deleted or unshared in Notion is simply gone.
            FsError::Api(e) if e.is_not_found() => libc::ENOENT,
            FsError::Api(_) | FsError::Io(_) | FsError::Download(_) => libc::EIO,
        }
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
    }
}
