//! Logging of a mount: to stderr in the foreground; detached, to syslog (journald reads it)
//! and to `notionfs.log` in the cache dir (0600) for machines that run no syslog daemon.

use std::path::Path;

/// Installs the log subscriber: notionfs at `level` unless `RUST_LOG` says otherwise;
/// `file` set means detached. A subscriber already installed (tests, a second mount in one
/// process) is kept.
pub fn init(level: &str, file: Option<&Path>) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(format!("notionfs={level},fuser=error,warn")));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let log_file = file.and_then(|p| {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(p)
            .ok()
    });
    let res = match log_file {
        Some(f) => {
            use tracing_subscriber::fmt::writer::MakeWriterExt;
            builder
                .with_ansi(false)
                .with_writer(std::sync::Mutex::new(f).and(super::syslog::Syslog))
                .try_init()
        }
        None => builder.with_writer(std::io::stderr).try_init(),
    };
    let _ = res;
}
