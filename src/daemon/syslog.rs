//! Logs of a detached mount to syslog (journald reads it too), as notionfs(1) says (FILES).
//!
//! One `tracing` event is formatted into one buffer and written once, so each `write` here
//! is one log line; its priority comes from the event's level.

use std::ffi::CString;
use std::io;
use std::sync::Once;

use tracing::{Level, Metadata};
use tracing_subscriber::fmt::MakeWriter;

/// A `MakeWriter` that sends each formatted event to `syslog(3)` as `notionfs[PID]`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Syslog;

/// One event's writer, at the event's priority.
#[derive(Debug)]
pub struct SyslogWriter {
    priority: libc::c_int,
}

static OPEN: Once = Once::new();

fn open() {
    OPEN.call_once(|| {
        // openlog keeps the pointer: the identity must live for the whole process.
        static IDENT: &[u8] = b"notionfs\0";
        // SAFETY: IDENT is a NUL-terminated static string; openlog has no other inputs.
        unsafe { libc::openlog(IDENT.as_ptr().cast(), libc::LOG_PID, libc::LOG_DAEMON) };
    });
}

fn priority(level: &Level) -> libc::c_int {
    match *level {
        Level::ERROR => libc::LOG_ERR,
        Level::WARN => libc::LOG_WARNING,
        Level::INFO => libc::LOG_INFO,
        _ => libc::LOG_DEBUG,
    }
}

impl io::Write for SyslogWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let line = String::from_utf8_lossy(buf);
        let line = line.trim_end_matches('\n').replace('\0', "");
        if let Ok(msg) = CString::new(line) {
            open();
            // SAFETY: both strings are NUL-terminated; "%s" makes the message plain data.
            unsafe { libc::syslog(self.priority, c"%s".as_ptr(), msg.as_ptr()) };
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Syslog {
    type Writer = SyslogWriter;

    fn make_writer(&'a self) -> SyslogWriter {
        SyslogWriter {
            priority: libc::LOG_INFO,
        }
    }

    fn make_writer_for(&'a self, meta: &Metadata<'_>) -> SyslogWriter {
        SyslogWriter {
            priority: priority(meta.level()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_map_to_syslog_priorities() {
        assert_eq!(priority(&Level::ERROR), libc::LOG_ERR);
        assert_eq!(priority(&Level::WARN), libc::LOG_WARNING);
        assert_eq!(priority(&Level::INFO), libc::LOG_INFO);
        assert_eq!(priority(&Level::TRACE), libc::LOG_DEBUG);
    }

    #[test]
    fn writing_reports_the_whole_line_taken() {
        use std::io::Write;
        let mut w = SyslogWriter {
            priority: libc::LOG_DEBUG,
        };
        let line = b"notionfs test line with a \0 NUL\n";
        assert_eq!(w.write(line).unwrap(), line.len());
    }
}
