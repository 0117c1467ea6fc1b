//! Real mounts: whether FUSE works here, a `notionfs mount` child process that is waited
//! for, watched and unmounted on drop, shell commands run inside it, its extended
//! attributes read with the syscalls, and `notionfs status`/`sync` against it.

use std::collections::BTreeSet;
use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use notionfs::emulator::Emulator;
use serde_json::Value;

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_notionfs");

/// Whether /dev/fuse and fusermount3 are usable; prints why a test is skipped if not. With
/// `NOTIONFS_REQUIRE_FUSE=1` (CI sets it) an unusable FUSE fails the test instead. Every
/// test that mounts asks this first.
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

/// Runs `notionfs ARGS` (no log filter from the environment).
pub fn notionfs(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("run notionfs")
}

/// A command's exit status and output, for failure messages.
pub fn describe(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn c_path(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes()).map_err(io::Error::other)
}

/// `getxattr(2)` of `path` (the errno of a failure kept).
pub fn getxattr(path: &Path, name: &str) -> io::Result<Vec<u8>> {
    let (p, n) = (c_path(path)?, CString::new(name).map_err(io::Error::other)?);
    let mut buf = vec![0u8; 64 * 1024];
    // SAFETY: valid NUL-terminated strings and a buffer of the given length.
    let len = unsafe { libc::getxattr(p.as_ptr(), n.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    if len < 0 {
        return Err(io::Error::last_os_error());
    }
    buf.truncate(len as usize);
    Ok(buf)
}

/// `listxattr(2)` of `path`: the attribute names.
pub fn listxattr(path: &Path) -> io::Result<Vec<String>> {
    let p = c_path(path)?;
    let mut buf = vec![0u8; 64 * 1024];
    // SAFETY: a valid NUL-terminated path and a buffer of the given length.
    let len = unsafe { libc::listxattr(p.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    if len < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(names_of(&buf[..len as usize]))
}

/// The names of a NUL-separated attribute list.
pub fn names_of(list: &[u8]) -> Vec<String> {
    list.split(|b| *b == 0)
        .filter(|n| !n.is_empty())
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .collect()
}

/// The `user.notionfs.sync` attribute of `path` (empty if it cannot be read).
pub fn sync_xattr(path: &Path) -> String {
    getxattr(path, "user.notionfs.sync")
        .map(|v| String::from_utf8_lossy(&v).into_owned())
        .unwrap_or_default()
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

    /// `notionfs mount` of the emulator's workspace at `mpd` (its cache, config and log in
    /// `cache`, no client rate limit), with `extra` flags such as `--write-delay 100`.
    pub fn start_on(emu: &Emulator, mpd: &Path, cache: &Path, extra: &[&str]) -> Mount {
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

    /// [`Mount::start_on`] a mountpoint and cache dir of its own (removed on drop).
    pub fn start(emu: &Emulator, extra: &[&str]) -> Mount {
        let (mpd, cache) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let mut m = Mount::start_on(emu, mpd.path(), cache.path(), extra);
        m._dirs = vec![mpd, cache];
        m
    }

    /// Runs `sh -c cmd` in the mount (C locale).
    pub fn sh(&self, cmd: &str) -> Output {
        Command::new("sh")
            .arg("-c")
            .arg(cmd)
            .current_dir(&self.mp)
            .env("LC_ALL", "C")
            .output()
            .expect("sh")
    }

    /// Runs `cmd` in the mount; whether it succeeded, and its stderr.
    pub fn try_shell(&self, cmd: &str) -> (bool, String) {
        let o = self.sh(cmd);
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

    /// The names `ls -a` shows in `rel` (without `.` and `..`).
    pub fn ls(&self, rel: &str) -> BTreeSet<String> {
        std::fs::read_dir(self.p(rel))
            .unwrap_or_else(|e| panic!("ls {rel}: {e}"))
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect()
    }

    /// An extended attribute of `rel` as text (empty if it cannot be read).
    pub fn xattr(&self, rel: &str, name: &str) -> String {
        getxattr(&self.p(rel), name)
            .map(|v| String::from_utf8_lossy(&v).into_owned())
            .unwrap_or_default()
    }

    /// The `user.notionfs.sync` attribute of `rel`.
    pub fn sync_xattr(&self, rel: &str) -> String {
        sync_xattr(&self.p(rel))
    }

    /// What the mount process logged so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits up to 30 s for `ok`; on timeout fails with the mount's log.
    pub fn wait(&self, what: &str, mut ok: impl FnMut() -> bool) {
        let t = Instant::now();
        while !ok() {
            assert!(
                t.elapsed() < Duration::from_secs(30),
                "timed out: {what}\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `notionfs status --json` of this mount.
    pub fn status(&self) -> Value {
        let o = notionfs(&["status", self.mp.to_str().unwrap(), "--json"]);
        assert!(o.status.success(), "{}\n{}", describe(&o), self.stderr());
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", describe(&o)))
    }

    /// Sends `signal` and waits for the process to exit (after SIGTERM it unmounts and
    /// pushes first); a mount left behind (SIGKILL) is detached.
    pub fn stop(mut self, signal: i32) {
        let mut c = self.child.take().expect("child");
        // SAFETY: sending a signal to our own child process.
        unsafe { libc::kill(c.id() as i32, signal) };
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = c.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = c.kill();
        let _ = c.wait();
        if mounted(&self.mp) {
            let _ = Command::new("fusermount3")
                .arg("-uz")
                .arg(&self.mp)
                .status();
        }
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
