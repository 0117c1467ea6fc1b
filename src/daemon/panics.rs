//! What a panic does in a mount (notionfs(1), PANICS). A panic is a bug; it is never silent:
//!
//! - every panic is logged with its thread, location, message and a backtrace, at error
//!   level, through the mount's log (stderr in the foreground; syslog and
//!   `CACHE_DIR/notionfs.log` when detached with `-d`, where stderr is /dev/null);
//! - a panic in a request thread (FUSE worker `fuser-N`): the request fails with EIO (fuser
//!   answers EIO for a request left unanswered) and the mount then unmounts cleanly, as on
//!   SIGTERM: pending saves are pushed within the unmount window and what is left stays in
//!   the journal for the next mount. A request thread that panicked is gone for good, so
//!   carrying on would leave the mount with fewer workers after each panic, and hung after
//!   the last; the exit status is 1. The unmount waits for requests in flight (the one that
//!   panicked is answered as its thread unwinds) and, if a process still keeps the mount busy
//!   after 5 s (an open file, a shell's working directory), detaches it lazily;
//! - a panic in a background task (a push, the change feed, an upload) ends that task only:
//!   its work stays in the journal or is taken up again by the next poll, and the mount
//!   stays up.

use std::sync::atomic::{AtomicBool, Ordering};

/// Thread name prefix of fuser's request threads.
const REQUEST_THREAD: &str = "fuser-";

static REQUEST_PANICKED: AtomicBool = AtomicBool::new(false);

/// Whether a request thread panicked (the mount is unmounting because of it).
pub fn request_panicked() -> bool {
    REQUEST_PANICKED.load(Ordering::SeqCst)
}

/// Installs the panic hook (once per process; a later call replaces it).
pub fn install() {
    std::panic::set_hook(Box::new(|info| {
        let thread = std::thread::current();
        let name = thread.name().unwrap_or("unnamed").to_string();
        let message = match info.payload().downcast_ref::<&str>() {
            Some(s) => (*s).to_string(),
            None => match info.payload().downcast_ref::<String>() {
                Some(s) => s.clone(),
                None => "(no message)".to_string(),
            },
        };
        let location = info
            .location()
            .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()))
            .unwrap_or_default();
        let backtrace = std::backtrace::Backtrace::force_capture();
        tracing::error!(thread = %name, %location, "panic: {message}\n{backtrace}");
        if name.starts_with(REQUEST_THREAD) && !REQUEST_PANICKED.swap(true, Ordering::SeqCst) {
            tracing::error!(
                "a request thread panicked: that request failed with EIO; unmounting cleanly \
                 (pending saves are pushed, what is left stays in the journal)"
            );
            // The signal task unmounts and the mount drains, as on SIGTERM.
            // SAFETY: sending a signal to this very process.
            unsafe {
                libc::kill(libc::getpid(), libc::SIGTERM);
            }
        }
    }));
}
