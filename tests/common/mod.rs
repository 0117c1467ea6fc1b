//! The one helper module of the integration suites (`mod common;` in each test file):
//!
//! - [`mount`]: whether FUSE works here, and a real `notionfs mount` child process (shell
//!   commands in it, its log, signals, `notionfs status`/`sync`);
//! - [`core`]: an HTTP client of the emulator and filesystem cores built on it, with the
//!   path, read, save and sync-state helpers of the core-only suites;
//! - [`emu`]: the demo workspace's paths, and what Notion (the emulator) holds: pages by
//!   title, parents, block texts, row properties;
//! - [`blocks`]: block builders, a one-page emulator, random pages and edits (the `sync_*`
//!   suites);
//! - [`driver`]: one [`driver::Driver`] trait over the filesystem, implemented directly on
//!   the core and through a real mount, so one scenario runs both ways (`conformance.rs`).

// Each test binary uses its own part of these modules.
#![allow(dead_code)]

pub mod blocks;
pub mod core;
pub mod driver;
pub mod emu;
pub mod mount;

use std::time::{Duration, Instant};

/// How long a test waits for something that should happen within a second or two before it
/// fails (a bound for failures, never a pause).
pub const PATIENCE: Duration = Duration::from_secs(15);

/// Polls `ok` every 20 ms until it holds; fails the test after [`PATIENCE`].
pub fn wait_for(what: &str, ok: impl FnMut() -> bool) {
    wait_within(PATIENCE, what, ok);
}

/// Polls `ok` every 20 ms until it holds; fails the test after `limit`.
pub fn wait_within(limit: Duration, what: &str, mut ok: impl FnMut() -> bool) {
    let t = Instant::now();
    while !ok() {
        assert!(t.elapsed() < limit, "timed out: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs one future to completion on a runtime of its own (for plain `#[test]`s that need an
/// async call, such as reading a page with an independent client).
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(f)
}
