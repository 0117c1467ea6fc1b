//! Shared by the real-mount tests: whether FUSE works here, and a `notionfs mount` child
//! process that is waited for, watched, and unmounted on drop.

// Each test binary uses its own part of this module.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_notionfs");

/// Whether /dev/fuse and fusermount3 are usable; prints why a test is skipped if not. With
/// `NOTIONFS_REQUIRE_FUSE=1` (CI sets it) an unusable FUSE fails the test instead.
pub fn fuse_usable() -> bool {
    let dev = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/fuse")
        .is_ok();
    let fm = Command::new("fusermount3")
        .arg("--version")
        .output()
        .is_ok();
    if !(dev && fm) {
        let why = "/dev/fuse is not usable or fusermount3 is missing";
        if std::env::var("NOTIONFS_REQUIRE_FUSE").is_ok_and(|v| v == "1") {
            panic!("{why}, and NOTIONFS_REQUIRE_FUSE=1 requires the mount tests to run");
        }
        eprintln!("skipping: {why}");
    }
    dev && fm
}

/// Whether something is mounted at `mp` (from /proc/self/mountinfo).
pub fn mounted(mp: &Path) -> bool {
    let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let want = mp.to_string_lossy().to_string();
    info.lines()
        .any(|l| l.split(' ').nth(4).is_some_and(|m| m == want))
}

/// A running `notionfs mount`, unmounted (and its process reaped) on drop.
pub struct Mount {
    /// The mountpoint (canonical).
    pub mp: PathBuf,
    /// The mount process, until a test takes it.
    pub child: Option<Child>,
    /// Where the process's stderr goes.
    pub log: PathBuf,
    /// Temp dirs that must outlive the mount.
    pub _dirs: Vec<tempfile::TempDir>,
}

impl Mount {
    /// Spawns `cmd` (a `notionfs mount` of `mp`, stderr to `log`), waits until the mount is
    /// up, and arms a watchdog: after 90 s the mount is detached lazily, so a hung request
    /// fails the test instead of hanging the suite.
    pub fn spawn(
        mut cmd: Command,
        mp: PathBuf,
        log: PathBuf,
        dirs: Vec<tempfile::TempDir>,
    ) -> Mount {
        let child = cmd
            .env_remove("RUST_LOG")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("spawn notionfs");
        let m = Mount {
            mp,
            child: Some(child),
            log,
            _dirs: dirs,
        };
        let start = Instant::now();
        while !mounted(&m.mp) {
            assert!(
                start.elapsed() < Duration::from_secs(15),
                "not mounted: {}",
                m.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let mp = m.mp.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_secs(90));
            if mounted(&mp) {
                eprintln!("watchdog: detaching {}", mp.display());
                let _ = Command::new("fusermount3").arg("-uz").arg(&mp).status();
            }
        });
        m
    }

    /// `notionfs mount` of the emulator's workspace at `mpd` (its cache and config in
    /// `cache`, no client rate limit), with `extra` flags such as `--write-delay 100`.
    pub fn start_on(
        emu: &notionfs::emulator::Emulator,
        mpd: &Path,
        cache: &Path,
        extra: &[&str],
    ) -> Mount {
        let mp = mpd.canonicalize().unwrap();
        let log = cache.join("stderr.log");
        let mut cmd = Command::new(BIN);
        cmd.arg("mount")
            .arg(&mp)
            .arg("--cache-dir")
            .arg(cache)
            .args(["--rate", "1000"])
            .args(extra)
            .env("NOTION_TOKEN", emu.token())
            .env("NOTION_API_URL", emu.base_url())
            .env("XDG_CONFIG_HOME", cache);
        Mount::spawn(cmd, mp, log, Vec::new())
    }

    /// Runs `sh -c cmd` in the mount (C locale); whether it succeeded, and its stderr.
    pub fn try_shell(&self, cmd: &str) -> (bool, String) {
        let o = Command::new("sh")
            .arg("-c")
            .arg(cmd)
            .current_dir(&self.mp)
            .env("LC_ALL", "C")
            .output()
            .expect("sh");
        (
            o.status.success(),
            String::from_utf8_lossy(&o.stderr).to_string(),
        )
    }

    /// Runs `cmd` in the mount; fails the test (with the mount's log) if it fails.
    pub fn shell(&self, cmd: &str) {
        let (ok, err) = self.try_shell(cmd);
        assert!(ok, "{cmd}: {err}\n{}", self.stderr());
    }

    /// Runs `cmd`, which must fail with `msg` (strerror text) in its stderr.
    pub fn shell_fails(&self, cmd: &str, msg: &str) {
        let (ok, err) = self.try_shell(cmd);
        assert!(!ok, "{cmd} succeeded");
        assert!(err.contains(msg), "{cmd}: {err}");
    }

    /// A path inside the mount.
    pub fn p(&self, rel: &str) -> PathBuf {
        self.mp.join(rel)
    }

    /// What the mount process logged so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("fusermount3")
            .arg("-u")
            .arg(&self.mp)
            .stderr(Stdio::null())
            .status();
        if let Some(mut c) = self.child.take() {
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// The `user.notionfs.sync` attribute of `path` (empty if it cannot be read).
pub fn sync_xattr(path: &Path) -> String {
    let o = Command::new("getfattr")
        .args(["--only-values", "-n", "user.notionfs.sync"])
        .arg(path)
        .output()
        .expect("getfattr");
    String::from_utf8_lossy(&o.stdout).to_string()
}
