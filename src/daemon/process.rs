//! Detaching from the terminal (`-d`): fork, new session, stdio on /dev/null, and a pipe
//! through which the child tells the waiting parent whether the mount came up.

use crate::cli::CliError;

/// Forks into the background. The parent exits once the child reports the mount is up
/// (0) or failed (1); the child continues with a new session and stdio on /dev/null.
/// Returns the write end of the status pipe in the child.
pub fn daemonize() -> Result<i32, CliError> {
    let mut fds = [0i32; 2];
    // SAFETY: plain POSIX calls on owned descriptors; no other thread exists yet (the
    // runtime used for the token check was shut down before this call).
    unsafe {
        if libc::pipe(fds.as_mut_ptr()) != 0 {
            return Err(CliError::Mount("pipe failed".into()));
        }
        match libc::fork() {
            -1 => Err(CliError::Mount("fork failed".into())),
            0 => {
                libc::close(fds[0]);
                libc::setsid();
                let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
                if null >= 0 {
                    libc::dup2(null, 0);
                    libc::dup2(null, 1);
                    libc::dup2(null, 2);
                }
                Ok(fds[1])
            }
            _ => {
                libc::close(fds[1]);
                let mut b = [1u8; 1];
                let n = libc::read(fds[0], b.as_mut_ptr().cast(), 1);
                std::process::exit(if n == 1 && b[0] == 0 { 0 } else { 1 });
            }
        }
    }
}

/// Tells the waiting parent (if detached) whether the mount came up.
pub fn report(fd: Option<i32>, ok: bool) {
    if let Some(fd) = fd {
        let b = [if ok { 0u8 } else { 1u8 }];
        // SAFETY: fd is the pipe's write end, owned by this process.
        unsafe {
            libc::write(fd, b.as_ptr().cast(), 1);
            libc::close(fd);
        }
    }
}
