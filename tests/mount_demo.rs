//! Real mounts through the kernel: `notionfs mount` (the binary) against the in-process
//! emulator, exercised with `ls -R`, `cat`, `grep -r`, `find`, `stat`, `getfattr` and
//! plain syscalls. Each mount lives in a temp dir and is unmounted on drop.
//!
//! Skipped (with the reason printed) only where FUSE cannot work: no /dev/fuse or no
//! fusermount3.

use std::collections::BTreeSet;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;

use common::{fuse_usable, mounted, Mount, BIN};
use notionfs::emulator::demo;
use notionfs::emulator::{Emulator, EmulatorConfig, Faults};
use notionfs::fs::render::PathMap;
use notionfs::notion::tree::fetch_tree;
use notionfs::notion::{Client, ClientConfig, Token};

impl Mount {
    fn start(emu: &Emulator, extra: &[&str]) -> Mount {
        let mpd = tempfile::tempdir().unwrap();
        let cache = tempfile::tempdir().unwrap();
        let logd = tempfile::tempdir().unwrap();
        let mp = mpd.path().canonicalize().unwrap();
        let log = logd.path().join("stderr.log");
        let mut cmd = Command::new(BIN);
        cmd.arg("mount")
            .arg(&mp)
            .arg("--cache-dir")
            .arg(cache.path())
            .args(["--rate", "1000"])
            .args(extra)
            .env("NOTION_TOKEN", emu.token())
            .env("NOTION_API_URL", emu.base_url())
            .env("XDG_CONFIG_HOME", logd.path());
        Mount::spawn(cmd, mp, log, vec![mpd, cache, logd])
    }

    fn sh(&self, cmd: &str) -> std::process::Output {
        Command::new("sh")
            .arg("-c")
            .arg(cmd)
            .current_dir(&self.mp)
            .env("LC_ALL", "C")
            .output()
            .expect("sh")
    }
}

fn emulator() -> Emulator {
    Emulator::start_blocking(EmulatorConfig::default()).expect("emulator")
}

fn client(emu: &Emulator) -> Client {
    let mut cfg = ClientConfig::new(emu.base_url(), Token::new(emu.token()));
    cfg.rate = None;
    Client::new(cfg).unwrap()
}

/// Paths of `ls -R` output (relative, `./` stripped).
fn ls_r_paths(out: &str) -> BTreeSet<String> {
    let mut set = BTreeSet::new();
    let mut dir = String::new();
    for line in out.lines() {
        if line.is_empty() {
            continue;
        }
        if let Some(d) = line.strip_suffix(':') {
            dir = d
                .trim_start_matches('.')
                .trim_start_matches('/')
                .to_string();
            continue;
        }
        set.insert(if dir.is_empty() {
            line.to_string()
        } else {
            format!("{dir}/{line}")
        });
    }
    set
}

/// The front matter context of a row whose hosted files are attachments in `stem/`.
fn row_context(
    page: &notionfs::notion::model::Page,
    stem: &str,
) -> notionfs::frontmatter::MemoryContext {
    use notionfs::notion::model::property::PropertyData;
    let mut ctx = notionfs::frontmatter::MemoryContext::default();
    for v in page.properties.values() {
        if let PropertyData::Files(files) = &v.data {
            for f in files {
                if let (notionfs::notion::model::FileObject::File(h), Some(n)) = (&f.file, &f.name)
                {
                    ctx = ctx.with_attachment(&h.url, &format!("{stem}/{n}"));
                }
            }
        }
    }
    ctx
}

#[test]
fn shell_tools_see_the_workspace() {
    if !fuse_usable() {
        return;
    }
    let emu = emulator();
    let m = Mount::start(&emu, &[]);
    // grep -r reads every file and finds the marker four levels deep, once.
    let g = m.sh(&format!("grep -r {} .", demo::MARKER));
    assert!(g.status.success(), "{}", m.stderr());
    let out = String::from_utf8_lossy(&g.stdout).to_string();
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(
        out.starts_with("./Engineering Wiki/Architecture/Storage Layer/Deep Dive: Compaction.md:")
    );
    // ls -R and find see the same tree, and it has the demo's shape.
    let ls = m.sh("ls -R -1 --quoting-style=literal .");
    assert!(ls.status.success());
    let tree = ls_r_paths(&String::from_utf8_lossy(&ls.stdout));
    let find = m.sh("find . -mindepth 1");
    let found: BTreeSet<String> = String::from_utf8_lossy(&find.stdout)
        .lines()
        .map(|l| l.trim_start_matches("./").to_string())
        .collect();
    let visible: BTreeSet<String> = found
        .iter()
        .filter(|p| !p.rsplit('/').next().unwrap_or("").starts_with('.'))
        .cloned()
        .collect();
    assert_eq!(tree, visible);
    for want in [
        "Engineering Wiki.md",
        "Engineering Wiki/Tasks/Write spec.md",
        "Engineering Wiki/Tasks/.schema.yaml",
        "Engineering Wiki/Tracker/Bugs",
        "Engineering Wiki/Tracker/Features",
        "Engineering Wiki/Block Showcase/logo.png",
        "Team Home/Meeting Notes (2).md",
        "Team Home/Q3\u{2215}Q4 Planning.md",
        "Team Home/Untitled.md",
    ] {
        assert!(found.contains(want), "missing {want}: {found:#?}");
    }
    let md = found.iter().filter(|p| p.ends_with(".md")).count();
    let rows = demo::TASK_ROWS as usize
        + emu.control().rows(&demo::bugs_ds_id()).len()
        + emu.control().rows(&demo::features_ds_id()).len();
    assert!(md >= rows + 10, "{md} .md files");

    // cat of a page and of a row equals the converters' output.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let c = client(&emu);
    let permits = tokio::sync::Semaphore::new(4);
    let blocks = rt
        .block_on(fetch_tree(&c, &demo::architecture_id(), Some(&permits)))
        .unwrap();
    let mut links = PathMap::default();
    links
        .children
        .insert(demo::storage_id(), "Architecture/Storage Layer.md".into());
    let want = notionfs::markdown::render_with(&blocks, &links);
    let got = std::fs::read_to_string(m.p("Engineering Wiki/Architecture.md")).unwrap();
    assert_eq!(got, want);
    let page = rt.block_on(c.page(&demo::task_row_id(1))).unwrap();
    let schema = rt.block_on(c.data_source(&demo::tasks_ds_id())).unwrap();
    let blocks = rt
        .block_on(fetch_tree(&c, &demo::task_row_id(1), Some(&permits)))
        .unwrap();
    let want = format!(
        "{}{}",
        notionfs::frontmatter::render(&page, &schema, &row_context(&page, "Write spec")),
        notionfs::markdown::render(&blocks)
    );
    let cat = m.sh("cat 'Engineering Wiki/Tasks/Write spec.md'");
    assert_eq!(String::from_utf8_lossy(&cat.stdout), want);

    // stat: exact size once read, mtime = last_edited_time, mode 0644 / 0755.
    let meta = std::fs::metadata(m.p("Engineering Wiki/Tasks/Write spec.md")).unwrap();
    assert_eq!(meta.len(), want.len() as u64);
    assert_eq!(meta.permissions().mode() & 0o777, 0o644);
    let dir = std::fs::metadata(m.p("Engineering Wiki")).unwrap();
    assert!(dir.is_dir());
    assert_eq!(dir.permissions().mode() & 0o777, 0o755);
    let st = m.sh("stat -c %s 'Engineering Wiki/Architecture.md'");
    assert_eq!(
        String::from_utf8_lossy(&st.stdout).trim(),
        got.len().to_string()
    );
    let mt = m.sh("stat -c %Y 'Engineering Wiki.md'");
    let secs: i64 = String::from_utf8_lossy(&mt.stdout).trim().parse().unwrap();
    let edited = emu.control().page_json(&demo::wiki_id()).unwrap()["last_edited_time"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        secs,
        chrono::DateTime::parse_from_rfc3339(&edited)
            .unwrap()
            .timestamp()
    );

    // Extended attributes, with getfattr and with the syscall.
    let gf = m.sh("getfattr --only-values -n user.notion.id 'Engineering Wiki.md'");
    assert_eq!(String::from_utf8_lossy(&gf.stdout), demo::wiki_id());
    let path = std::ffi::CString::new(m.p("Engineering Wiki.md").to_str().unwrap()).unwrap();
    let name = std::ffi::CString::new("user.notionfs.sync").unwrap();
    let mut buf = [0u8; 64];
    // SAFETY: valid C strings and a buffer of the given length.
    let n = unsafe {
        libc::getxattr(
            path.as_ptr(),
            name.as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    };
    assert_eq!(&buf[..n as usize], b"clean");

    // Attachments are byte-exact.
    let png: Vec<u8> = (0..demo::PNG_HEX.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&demo::PNG_HEX[i..i + 2], 16).unwrap())
        .collect();
    let mut f = std::fs::File::open(m.p("Engineering Wiki/Block Showcase/logo.png")).unwrap();
    let mut got = Vec::new();
    f.read_to_end(&mut got).unwrap();
    assert_eq!(got, png);
    let cp = m.sh("cp 'Engineering Wiki/Block Showcase/spec.pdf' /dev/stdout");
    assert_eq!(cp.stdout, demo::PDF_TEXT.as_bytes());
    assert!(mounted(&m.mp));
}

#[test]
fn read_only_mount_and_remote_edits_after_the_ttl() {
    if !fuse_usable() {
        return;
    }
    let emu = emulator();
    let m = Mount::start(&emu, &["--read-only", "--ttl", "1"]);
    // The first read of a page can be a shared mmap (size learnt at open, no direct I/O).
    let planning = m.p("Team Home/Q3\u{2215}Q4 Planning.md");
    let f = std::fs::File::open(&planning).unwrap();
    let len = f.metadata().unwrap().len() as usize;
    assert!(len > 0);
    // SAFETY: mapping an open file read-only for its whole length, unmapped below.
    let mapped = unsafe {
        use std::os::fd::AsRawFd;
        let p = libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ,
            libc::MAP_SHARED,
            f.as_raw_fd(),
            0,
        );
        assert_ne!(p, libc::MAP_FAILED, "mmap failed");
        let v = std::slice::from_raw_parts(p as *const u8, len).to_vec();
        libc::munmap(p, len);
        v
    };
    assert_eq!(mapped, std::fs::read(&planning).unwrap());
    let meta = std::fs::metadata(m.p("Team Home.md")).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o444);
    // Every write is refused with EROFS, and nothing reaches Notion.
    let before = emu.control().stats();
    let erofs = |r: std::io::Result<()>| {
        assert_eq!(r.unwrap_err().raw_os_error(), Some(libc::EROFS));
    };
    erofs(std::fs::write(m.p("Team Home/New.md"), "x"));
    erofs(std::fs::write(m.p("Team Home.md"), "x"));
    erofs(std::fs::create_dir(m.p("Team Home/Dir")));
    erofs(std::fs::remove_file(m.p("Team Home.md")));
    erofs(std::fs::rename(m.p("Team Home.md"), m.p("Other.md")));
    let writes = |s: &std::collections::BTreeMap<String, u64>| -> u64 {
        s.iter()
            .filter(|(k, _)| {
                !k.starts_with("GET ") && !k.contains("/query") && !k.contains("/search")
            })
            .map(|(_, n)| n)
            .sum()
    };
    assert_eq!(
        writes(&before),
        writes(&emu.control().stats()),
        "a read-only mount wrote to Notion"
    );
    let path = m.p("Engineering Wiki/Architecture/Storage Layer/Deep Dive: Compaction.md");
    let old = std::fs::read_to_string(&path).unwrap();
    assert!(old.contains(demo::MARKER));
    emu.control()
        .set_block_text(&demo::block_id(100), "Edited remotely, longer than before.")
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let new = std::fs::read_to_string(&path).unwrap();
    assert!(new.contains("Edited remotely"), "{new}");
    let cat = m.sh(&format!("cat '{}'", path.display()));
    assert_eq!(String::from_utf8_lossy(&cat.stdout), new);
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(std::fs::metadata(&path).unwrap().len(), new.len() as u64);
    // A remote rename shows after the TTL too.
    emu.control()
        .rename_page(&demo::unicode_title_id(), "Renamed remotely")
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let names: Vec<String> = std::fs::read_dir(m.p("Team Home"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert!(
        names.contains(&"Renamed remotely.md".to_string()),
        "{names:?}"
    );
}

#[test]
fn faults_are_retried_and_a_dead_api_gives_eio_but_the_mount_stays() {
    if !fuse_usable() {
        return;
    }
    // An emulator on a runtime of our own, so it can be shut down completely (listener and
    // every connection closed) when the API is to go away.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let emu = rt
        .block_on(Emulator::start(EmulatorConfig::default()))
        .unwrap();
    let m = Mount::start(&emu, &[]);
    emu.control().set_faults(Faults {
        rate: None,
        burst: 10,
        fault_rate: 0.2,
        latency_ms: 0,
    });
    let body = std::fs::read_to_string(m.p("Engineering Wiki/Block Showcase.md")).unwrap();
    assert!(body.len() > 100);
    emu.control().set_faults(Faults {
        rate: Some(2.0),
        burst: 1,
        fault_rate: 0.0,
        latency_ms: 0,
    });
    // 429s from the emulator's own limiter are waited out.
    for name in ["Meeting Notes.md", "Untitled.md"] {
        std::fs::read_to_string(m.p(&format!("Team Home/{name}"))).unwrap();
    }
    rt.block_on(emu.shutdown());
    rt.shutdown_timeout(Duration::from_secs(2));
    let err = std::fs::read_to_string(m.p("Team Home/Meeting Notes (2).md")).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::EIO));
    assert!(m.stderr().contains("I/O error"), "{}", m.stderr());
    // Still mounted and serving what it has.
    assert!(mounted(&m.mp));
    assert_eq!(
        std::fs::read_to_string(m.p("Engineering Wiki/Block Showcase.md")).unwrap(),
        body
    );
    assert!(std::fs::read_dir(&m.mp).unwrap().count() >= 4);
}

#[test]
fn command_line_errors_and_clean_unmount_on_sigterm() {
    if !fuse_usable() {
        return;
    }
    let emu = emulator();
    let mp = tempfile::tempdir().unwrap();
    let run = |args: &[&str], token: Option<&str>, url: &str| {
        let mut c = Command::new(BIN);
        c.args(args)
            .env("NOTION_API_URL", url)
            .env_remove("NOTION_TOKEN");
        if let Some(t) = token {
            c.env("NOTION_TOKEN", t);
        }
        c.env("XDG_CONFIG_HOME", mp.path()).output().unwrap()
    };
    let mps = mp.path().to_str().unwrap();
    let url = emu.base_url();
    let o = run(&["mount", mps], None, &url);
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(
        e.contains("NOTION_TOKEN") && e.contains("--token-file"),
        "{e}"
    );
    assert_eq!(e.trim().lines().count(), 1);
    let o = run(&["mount", mps], Some("secret_wrong_token_123"), &url);
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(e.contains("rejected"), "{e}");
    assert!(!e.contains("secret_wrong_token_123"));
    let o = run(&["mount", mps], Some(emu.token()), "http://127.0.0.1:9");
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot reach"));
    let o = run(&["mount", "/nonexistent/mp"], Some(emu.token()), &url);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("does not exist"));
    // Busy.
    let m = Mount::start(&emu, &[]);
    let o = run(&["mount", m.mp.to_str().unwrap()], Some(emu.token()), &url);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("busy"));
    // SIGTERM unmounts cleanly.
    let mut m = m;
    let mut child = m.child.take().unwrap();
    // SAFETY: signalling our own child process.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "did not exit on SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{}", m.stderr());
    assert!(!mounted(&m.mp));
    // -d detaches once mounted; the token can come from a file (given as a mount option).
    let token_file = mp.path().join("token");
    std::fs::write(&token_file, format!("{}\n", emu.token())).unwrap();
    let mpd = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let o = Command::new(BIN)
        .arg("mount")
        .arg(mpd.path())
        .arg("-d")
        .arg("-o")
        .arg(format!(
            "token_file={},cache_dir={},ttl=5,noatime",
            token_file.display(),
            cache.path().display()
        ))
        .env("NOTION_API_URL", &url)
        .env_remove("NOTION_TOKEN")
        .env("XDG_CONFIG_HOME", mp.path())
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let dmp = mpd.path().canonicalize().unwrap();
    assert!(mounted(&dmp));
    assert!(std::fs::read_dir(&dmp).unwrap().count() >= 4);
    let ok = Command::new("fusermount3")
        .arg("-u")
        .arg(&dmp)
        .status()
        .unwrap();
    assert!(ok.success());
    assert!(cache.path().join("notionfs.log").exists());
    // fusermount3 -u ends a mount too.
    let m2 = Mount::start(&emu, &[]);
    let ok = Command::new("fusermount3")
        .arg("-u")
        .arg(&m2.mp)
        .status()
        .unwrap();
    assert!(ok.success());
    assert!(!mounted(&m2.mp));
}

#[test]
fn demo_mounts_the_demo_workspace() {
    if !fuse_usable() {
        return;
    }
    let mpd = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let mp = mpd.path().canonicalize().unwrap();
    let mut child = Command::new(BIN)
        .arg("demo")
        .arg(&mp)
        .arg("--cache-dir")
        .arg(cache.path())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while !mounted(&mp) {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "demo not mounted"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let names: BTreeSet<String> = std::fs::read_dir(&mp)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    let text = std::fs::read_to_string(
        mp.join("Engineering Wiki/Architecture/Storage Layer/Deep Dive: Compaction.md"),
    );
    let _ = Command::new("fusermount3").arg("-u").arg(&mp).status();
    let _ = child.wait();
    assert!(names.contains("Engineering Wiki.md") && names.contains("Team Home"));
    assert!(text.unwrap().contains(demo::MARKER));
}
