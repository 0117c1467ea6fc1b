//! `notionfs prefetch [PATH]`: asks the running mount to read every page under PATH into
//! its disk cache and shows the progress — a progress bar (pages done of found, API calls,
//! rate, ETA) when stdout is a terminal, else one plain line every [`LINE_EVERY`] pages and
//! a last one. Interrupting the command (Ctrl-C) stops the prefetch in the mount; a second
//! run skips what is cached and unchanged. The mount does the work
//! ([`crate::fs::prefetch`]); this is the client.

use std::io::{BufRead, BufReader, IsTerminal, Write};
use std::path::{Path, PathBuf};

use crate::daemon::control::{Request, Response};
use crate::fs::prefetch::PrefetchProgress;

use super::status::{find_socket, innermost_mount, ControlError};

/// Pages between two lines of plain output.
pub const LINE_EVERY: u64 = 100;

/// `notionfs prefetch [PATH]`.
#[derive(Debug, Clone, clap::Args)]
pub struct PrefetchArgs {
    /// A folder or page inside a mount (default: the whole workspace of the only notionfs
    /// mount running).
    pub path: Option<PathBuf>,
}

/// The control socket and the path relative to the mount root of `path` (or of the only
/// mount's root).
fn target(path: Option<&Path>) -> Result<(PathBuf, String), ControlError> {
    let Some(path) = path else {
        return Ok((find_socket(None)?, String::new()));
    };
    let (abs, root) = innermost_mount(path)?;
    let rel = abs
        .strip_prefix(&root)
        .map(|r| r.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok((find_socket(Some(&root))?, rel))
}

/// How the progress is shown.
enum Display {
    Bar(indicatif::ProgressBar),
    Lines { next: u64 },
}

impl Display {
    fn new() -> Display {
        if !std::io::stdout().is_terminal() {
            return Display::Lines { next: LINE_EVERY };
        }
        let bar = indicatif::ProgressBar::new(0);
        let style = indicatif::ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} pages  {msg}  ETA {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
        bar.set_style(style);
        Display::Bar(bar)
    }

    fn show(&mut self, p: &PrefetchProgress) {
        match self {
            Display::Bar(bar) => {
                bar.set_length(p.pages);
                bar.set_position(p.done());
                bar.set_message(format!("{} calls, {}", p.calls, rate(p)));
            }
            Display::Lines { next } => {
                if p.done() >= *next {
                    println!("{}", line(p));
                    *next = (p.done() / LINE_EVERY + 1) * LINE_EVERY;
                }
            }
        }
    }

    fn finish(self, p: &PrefetchProgress) {
        if let Display::Bar(bar) = self {
            bar.finish_and_clear();
        }
        println!("{}", line(p));
    }
}

fn rate(p: &PrefetchProgress) -> String {
    let secs = p.millis as f64 / 1000.0;
    if secs <= 0.0 {
        return "0.0 pages/s".into();
    }
    format!("{:.1} pages/s", p.read as f64 / secs)
}

/// One line of plain progress output.
pub fn line(p: &PrefetchProgress) -> String {
    let of = if p.counted {
        format!("{}", p.pages)
    } else {
        format!("{}+", p.pages)
    };
    let state = if p.running { "prefetch" } else { "prefetched" };
    format!(
        "{state}: {}/{of} pages ({} read, {} already cached, {} failed), {} API calls, {}, {:.1} s",
        p.done(),
        p.read,
        p.skipped,
        p.failed,
        p.calls,
        rate(p),
        p.millis as f64 / 1000.0
    )
}

/// `notionfs prefetch`: runs the prefetch and shows its progress; fails (exit 1) if the
/// mount refused or some page could not be read.
pub fn run_prefetch(args: PrefetchArgs) -> Result<(), ControlError> {
    let (socket, rel) = target(args.path.as_deref())?;
    let mut s =
        std::os::unix::net::UnixStream::connect(&socket).map_err(|e| ControlError::Connect {
            path: socket.clone(),
            source: e,
        })?;
    let mut req = serde_json::to_vec(&Request::Prefetch { path: rel })
        .map_err(|e| ControlError::Protocol(e.to_string()))?;
    req.push(b'\n');
    s.write_all(&req)
        .map_err(|e| ControlError::Protocol(format!("cannot send: {e}")))?;
    let mut display = Display::new();
    for line in BufReader::new(s).lines() {
        let line = line.map_err(|e| ControlError::Protocol(format!("no answer: {e}")))?;
        let resp: Response = serde_json::from_str(line.trim())
            .map_err(|e| ControlError::Protocol(format!("bad answer: {e}")))?;
        if !resp.ok {
            return Err(ControlError::Remote(resp.error.unwrap_or_default()));
        }
        let p = resp
            .prefetch
            .ok_or_else(|| ControlError::Protocol("the answer has no progress".into()))?;
        if p.running {
            display.show(&p);
            continue;
        }
        display.finish(&p);
        if p.failed > 0 {
            return Err(ControlError::Remote(format!(
                "{} pages could not be read (see the mount's log); run again to retry them",
                p.failed
            )));
        }
        return Ok(());
    }
    Err(ControlError::Protocol(
        "the mount closed the connection before the prefetch ended".into(),
    ))
}
