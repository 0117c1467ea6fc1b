//! Hardening, through the kernel against the emulator (issue "Hardening"): no acknowledged
//! edit lost, no silent empty read, no crash on bad input. One test (or more) per item:
//!
//! 1. attachments: `notionfs demo` run twice (stale signed URLs in the cache) reads them all;
//!    a download that fails is EIO, never an empty file;
//! 2. one mount per cache dir, whatever the length of its path; `kill -9` releases it;
//! 3. a damaged or missing journal record is set aside and reported while the others push;
//! 4. the set of open attachment files stays bounded (hundreds read under a low fd limit);
//! 5. size limits: `truncate -s 1T` is EFBIG and the mount lives; copies spool to disk;
//! 6. concurrent first reads of one attachment share one download;
//! 7. a `Retry-After` of 10^12 s holds no cached read and panics nothing (and is capped);
//! 8. pages titled like editor temp files are saved;
//! 9. a push cut off by `kill -9` part way is finished after a remount, once, without a
//!    conflict copy;
//! 10. ENOSPC at write time, conflict copy names, a lost append response, `rm` of a page
//!     whose push failed, the cache dir's mode, `NOTION_TOKEN` and fusermount3, a repeated
//!     cursor, and the panic policy.
//!
//! A small HTTP proxy in front of the emulator ([`proxy`]) injects what the emulator does not
//! (429s with any `Retry-After`, failing file downloads, lost append responses, looping
//! cursors) and counts what goes through it. Skipped (with the reason printed) only where
//! FUSE cannot work.

mod common;

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use common::emu::{demo_emulator, demo_png, last_text, DEEP_DIVE};
use common::mount::{describe, fuse_usable, mounted, notionfs, Mount, BIN};
use common::{wait_for, wait_within};
use notionfs::emulator::{demo, Emulator, EmulatorConfig, Seed};
use serde_json::{json, Value};

/// The page file of the Block Showcase page and its folder (three attachments).
const SHOWCASE_DIR: &str = "Engineering Wiki/Block Showcase";
/// The row whose `files` property holds the demo's PNG.
const LOGO: &str = "Engineering Wiki/Tasks/Write spec/logo.png";

/// A proxy in front of the emulator that injects faults and counts requests.
mod proxy {
    use std::collections::BTreeMap;
    use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
    use std::sync::{Arc, Mutex};

    use axum::extract::{Request, State};
    use axum::response::Response;

    /// What the proxy does to the requests it forwards.
    #[derive(Default)]
    pub struct Rules {
        /// Answer this many `/v1` requests 429 (`u32::MAX`: all of them).
        pub rate_limited: AtomicU32,
        /// The `Retry-After` of those 429s.
        pub retry_after: Mutex<String>,
        /// Carry out this many appends of children, then answer them 502.
        pub lose_appends: AtomicU32,
        /// Refuse every file download (403).
        pub fail_files: AtomicBool,
        /// Delay every file download by this many milliseconds.
        pub slow_files_ms: AtomicU32,
        /// Answer every list of children "has_more" with the same cursor.
        pub loop_children: AtomicBool,
        /// Requests seen, by kind (see `kind`).
        pub counts: Mutex<BTreeMap<String, u64>>,
    }

    /// A running proxy (stopped with its runtime on drop).
    pub struct Proxy {
        /// `http://127.0.0.1:PORT`.
        pub url: String,
        /// What it does.
        pub rules: Arc<Rules>,
        _rt: tokio::runtime::Runtime,
    }

    struct Ctx {
        upstream: String,
        me: String,
        http: reqwest::Client,
        rules: Arc<Rules>,
    }

    impl Proxy {
        /// A proxy forwarding to `upstream` (the emulator's base URL); file URLs in its
        /// answers point at the proxy, so downloads go through it too.
        pub fn start(upstream: &str) -> Proxy {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            let listener = rt
                .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
                .unwrap();
            let me = format!("http://{}", listener.local_addr().unwrap());
            let rules = Arc::new(Rules::default());
            let ctx = Arc::new(Ctx {
                upstream: upstream.to_string(),
                me: me.clone(),
                http: reqwest::Client::new(),
                rules: rules.clone(),
            });
            let app = axum::Router::new().fallback(handle).with_state(ctx);
            rt.spawn(async move { axum::serve(listener, app).await.unwrap() });
            Proxy {
                url: me,
                rules,
                _rt: rt,
            }
        }

        /// Requests of `kind` seen so far.
        pub fn count(&self, kind: &str) -> u64 {
            self.rules
                .counts
                .lock()
                .unwrap()
                .get(kind)
                .copied()
                .unwrap_or(0)
        }
    }

    fn kind(method: &str, path: &str) -> String {
        if path.starts_with("/_files/") {
            return "download".into();
        }
        let children = path.starts_with("/v1/blocks/") && path.ends_with("/children");
        match (method, children) {
            ("PATCH", true) => "append".into(),
            ("GET", true) => "children".into(),
            _ if method == "GET" && path.starts_with("/v1/file_uploads/") => "get upload".into(),
            _ => format!("{method} other"),
        }
    }

    fn bump(rules: &Rules, kind: &str) {
        *rules.counts.lock().unwrap().entry(kind.into()).or_default() += 1;
    }

    fn json_error(status: u16, code: &str, retry_after: Option<&str>) -> Response {
        let body = format!(
            r#"{{"object":"error","status":{status},"code":"{code}","message":"injected by the test proxy"}}"#
        );
        let mut b = Response::builder()
            .status(status)
            .header("content-type", "application/json");
        if let Some(r) = retry_after {
            b = b.header("retry-after", r);
        }
        b.body(axum::body::Body::from(body)).unwrap()
    }

    /// Takes one from a counter that is not exhausted (`u32::MAX` never is).
    fn take(n: &AtomicU32) -> bool {
        n.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |v| match v {
            0 => None,
            u32::MAX => Some(u32::MAX),
            v => Some(v - 1),
        })
        .is_ok()
    }

    async fn handle(State(ctx): State<Arc<Ctx>>, req: Request) -> Response {
        let method = req.method().clone();
        let path = req.uri().path().to_string();
        let pq = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_default();
        let kind = kind(method.as_str(), &path);
        bump(&ctx.rules, &kind);
        let r = &ctx.rules;
        if path.starts_with("/v1/") && take(&r.rate_limited) {
            bump(r, "429");
            let after = r.retry_after.lock().unwrap().clone();
            return json_error(429, "rate_limited", Some(&after));
        }
        if kind == "download" {
            if r.fail_files.load(Ordering::SeqCst) {
                return json_error(403, "AccessDenied", None);
            }
            let ms = r.slow_files_ms.load(Ordering::SeqCst);
            tokio::time::sleep(std::time::Duration::from_millis(ms.into())).await;
        }
        let headers = req.headers().clone();
        let body = axum::body::to_bytes(req.into_body(), usize::MAX)
            .await
            .unwrap();
        let looping = kind == "children" && r.loop_children.load(Ordering::SeqCst);
        let target = match (looping, pq.split_once('?')) {
            // The cursor the proxy made up means nothing to the emulator: ask for page one.
            (true, Some((p, q))) => {
                let kept: Vec<&str> = q
                    .split('&')
                    .filter(|kv| !kv.starts_with("start_cursor="))
                    .collect();
                format!("{p}?{}", kept.join("&"))
            }
            _ => pq.clone(),
        };
        let mut rb = ctx
            .http
            .request(method, format!("{}{}", ctx.upstream, target))
            .body(body);
        for (k, v) in headers.iter() {
            if k != "host" && k != "content-length" {
                rb = rb.header(k, v);
            }
        }
        let Ok(resp) = rb.send().await else {
            return json_error(502, "bad_gateway", None);
        };
        let status = resp.status();
        let ctype = resp.headers().get("content-type").cloned();
        let retry = resp.headers().get("retry-after").cloned();
        let mut bytes = resp.bytes().await.unwrap_or_default().to_vec();
        let is_json = ctype
            .as_ref()
            .is_some_and(|c| c.to_str().unwrap_or("").contains("json"));
        if is_json {
            let mut text = String::from_utf8_lossy(&bytes).replace(&ctx.upstream, &ctx.me);
            if looping && status.is_success() {
                let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
                v["has_more"] = true.into();
                v["next_cursor"] = "the-same-cursor".into();
                text = v.to_string();
            }
            bytes = text.into_bytes();
        }
        if kind == "append" && status.is_success() && take(&r.lose_appends) {
            bump(r, "lost append");
            return json_error(502, "bad_gateway", None);
        }
        let mut b = Response::builder().status(status.as_u16());
        if let Some(c) = ctype {
            b = b.header("content-type", c);
        }
        if let Some(c) = retry {
            b = b.header("retry-after", c);
        }
        b.body(axum::body::Body::from(bytes)).unwrap()
    }
}

use proxy::Proxy;

/// A `notionfs mount` of the workspace behind `api` (the emulator or a proxy of it), with its
/// log in a temp dir of its own (so the cache dir holds only what notionfs writes).
fn mount_api(
    api: &str,
    token: &str,
    mpd: &Path,
    cache: &Path,
    extra: &[&str],
    env: &[(&str, &str)],
) -> Mount {
    let logs = tempfile::tempdir().unwrap();
    let cmd = mount_cmd(api, token, mpd, cache, extra, env);
    let mut m = Mount::spawn(
        cmd,
        mpd.canonicalize().unwrap(),
        logs.path().join("stderr.log"),
        Vec::new(),
    );
    m._dirs.push(logs);
    m
}

fn mount_cmd(
    api: &str,
    token: &str,
    mpd: &Path,
    cache: &Path,
    extra: &[&str],
    env: &[(&str, &str)],
) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.arg("mount")
        .arg(mpd.canonicalize().unwrap())
        .arg("--cache-dir")
        .arg(cache)
        .args(["--rate", "1000"])
        .args(extra)
        .env("NOTION_TOKEN", token)
        .env("NOTION_API_URL", api)
        .env("XDG_CONFIG_HOME", cache);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// A mount of `emu` through `proxy` in temp dirs of its own.
fn mount_via(proxy: &Proxy, emu: &Emulator, extra: &[&str]) -> Mount {
    let (mpd, cache) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut m = mount_api(
        &proxy.url,
        emu.token(),
        mpd.path(),
        cache.path(),
        extra,
        &[],
    );
    m._dirs.extend([mpd, cache]);
    m
}

/// Appends a paragraph to `rel` and makes it durable (`dd conv=fsync`: fsync, then close),
/// from a process of its own: a descriptor opened in this test process could be inherited by
/// a child another test forks meanwhile, whose exec then closes it again — a second,
/// concurrent flush that may journal the same save twice.
fn append(m: &Mount, rel: &str, line: &str) {
    append_at(&m.p(rel), line);
}

/// [`append`] to the file at `path`.
fn append_at(path: &Path, line: &str) {
    let o = Command::new("dd")
        .arg(format!("of={}", path.display()))
        .args(["oflag=append", "conv=notrunc,fsync", "status=none"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            c.stdin
                .take()
                .unwrap()
                .write_all(format!("\n{line}\n").as_bytes())?;
            c.wait_with_output()
        })
        .unwrap();
    assert!(
        o.status.success(),
        "append to {}: {}",
        path.display(),
        describe(&o)
    );
}

/// `notionfs sync --wait` of the mount at `mp`.
fn sync_wait(mp: &Path) -> std::process::Output {
    notionfs(&["sync", mp.to_str().unwrap(), "--wait"])
}

fn out(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The journal record files of `page` in `cache/journal`.
fn records_of(cache: &Path, page: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(cache.join("journal"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rec"))
        .filter(|p| {
            let bytes = std::fs::read(p).unwrap_or_default();
            let header = bytes.split(|b| *b == b'\n').nth(1).unwrap_or_default();
            serde_json::from_slice::<Value>(header).is_ok_and(|h| h["page_id"] == page)
        })
        .collect();
    v.sort();
    v
}

// ----- 1. attachments ------------------------------------------------------------------

/// `notionfs demo MP --cache-dir CACHE`, waited for until mounted.
fn start_demo(mp: &Path, cache: &Path, log: &Path) -> Child {
    let child = Command::new(BIN)
        .arg("demo")
        .arg(mp)
        .arg("--cache-dir")
        .arg(cache)
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap();
    wait_for("demo mounted", || mounted(mp));
    child
}

fn stop_demo(mp: &Path, mut child: Child) {
    let ok = Command::new("fusermount3")
        .arg("-u")
        .arg(mp)
        .status()
        .unwrap();
    assert!(ok.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "demo exit {status:?}");
}

#[test]
fn demo_run_twice_reads_every_attachment() {
    if !fuse_usable() {
        return;
    }
    let (mpd, cache, logs) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let mp = mpd.path().canonicalize().unwrap();
    let expect = [
        (LOGO.to_string(), demo_png()),
        (
            format!("{SHOWCASE_DIR}/spec.pdf"),
            demo::PDF_TEXT.as_bytes().to_vec(),
        ),
        (
            format!("{SHOWCASE_DIR}/notes.txt"),
            b"Release notes\n- first version\n".to_vec(),
        ),
    ];
    // Each run starts a new emulator on a new port: the second one finds the first one's
    // signed URLs in the disk cache and the snapshot.
    for run in 0..2 {
        let log = logs.path().join(format!("run{run}.log"));
        let child = start_demo(&mp, cache.path(), &log);
        for (rel, bytes) in &expect {
            let o = Command::new("cat").arg(mp.join(rel)).output().unwrap();
            assert!(o.status.success(), "run {run}: cat {rel}: {}", describe(&o));
            assert_eq!(&o.stdout, bytes, "run {run}: {rel}");
            let len = std::fs::metadata(mp.join(rel)).unwrap().len();
            assert_eq!(len, bytes.len() as u64, "run {run}: size of {rel}");
        }
        stop_demo(&mp, child);
    }
}

#[test]
fn a_failed_download_is_eio_never_an_empty_file() {
    if !fuse_usable() {
        return;
    }
    let emu = demo_emulator();
    let proxy = Proxy::start(&emu.base_url());
    let m = mount_via(&proxy, &emu, &[]);
    proxy.rules.fail_files.store(true, Ordering::SeqCst);
    let rel = format!("{SHOWCASE_DIR}/spec.pdf");
    let o = m.sh(&format!("cat '{rel}'"));
    assert!(!o.status.success(), "cat succeeded: {}", describe(&o));
    assert!(o.stdout.is_empty());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("Input/output error"),
        "{}",
        describe(&o)
    );
    // Refused, its URL refreshed (a block read), refused again.
    assert_eq!(proxy.count("download"), 2);
    assert!(m.stderr().contains("fresh URL too"), "{}", m.stderr());
    // Downloads work again: the exact bytes, no temp file left behind.
    proxy.rules.fail_files.store(false, Ordering::SeqCst);
    assert_eq!(std::fs::read(m.p(&rel)).unwrap(), demo::PDF_TEXT.as_bytes());
    let cache = m._dirs[2].path().join("attachments");
    let parts = std::fs::read_dir(cache)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .to_string_lossy()
                .ends_with(".part")
        })
        .count();
    assert_eq!(parts, 0);
}

// ----- 2. one mount per cache dir ------------------------------------------------------

#[test]
fn a_long_cache_dir_admits_one_mount_and_kill_9_releases_it() {
    if !fuse_usable() {
        return;
    }
    let emu = demo_emulator();
    let (mpd, mpd2, base) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    // Too long for a Unix socket in it (over 107 bytes with "/control.sock").
    let cache = base.path().join("c".repeat(60)).join("d".repeat(60));
    std::fs::create_dir_all(&cache).unwrap();
    let m = mount_api(
        &emu.base_url(),
        emu.token(),
        mpd.path(),
        &cache,
        &["--write-delay", "60000"],
        &[],
    );
    let sock = m.xattr("", "user.notionfs.control");
    assert!(!sock.is_empty() && sock.len() <= 107, "socket {sock}");
    assert!(!sock.starts_with(cache.to_str().unwrap()));
    assert_eq!(m.status()["writes"], true);
    append(&m, DEEP_DIVE, "Saved before kill -9.");
    assert_eq!(m.sync_xattr(DEEP_DIVE), "pending");

    // A second mount on the same cache dir is refused, before it mounts anything.
    let o = mount_cmd(&emu.base_url(), emu.token(), mpd2.path(), &cache, &[], &[])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", describe(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("in use by another running notionfs mount") && err.contains("pid"),
        "{err}"
    );
    assert!(!mounted(&mpd2.path().canonicalize().unwrap()));
    assert_eq!(m.status()["pending"].as_array().unwrap().len(), 1);

    // kill -9 releases the cache dir: the next mount starts and pushes the save.
    m.stop(libc::SIGKILL);
    let m = mount_api(&emu.base_url(), emu.token(), mpd2.path(), &cache, &[], &[]);
    m.wait("the save made before kill -9 in Notion", || {
        last_text(&emu, &demo::deep_dive_id()) == "Saved before kill -9."
    });
    let o = sync_wait(&m.mp);
    assert!(o.status.success(), "{}", describe(&o));
}

// ----- 3. journal records are independent ----------------------------------------------

#[test]
fn a_damaged_or_missing_record_is_set_aside_while_the_others_push() {
    if !fuse_usable() {
        return;
    }
    let emu = demo_emulator();
    let (mpd, cache) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let slow = ["--write-delay", "60000"];
    let wiki = "Engineering Wiki.md";
    let m = mount_api(
        &emu.base_url(),
        emu.token(),
        mpd.path(),
        cache.path(),
        &slow,
        &[],
    );
    append(&m, DEEP_DIVE, "Damaged on disk.");
    append(&m, wiki, "Pushed although another record is damaged.");
    m.stop(libc::SIGKILL);
    // A flipped byte in the deep dive's record.
    let recs = records_of(cache.path(), &demo::deep_dive_id());
    assert_eq!(recs.len(), 1);
    let mut bytes = std::fs::read(&recs[0]).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x20;
    std::fs::write(&recs[0], bytes).unwrap();

    let m = mount_api(
        &emu.base_url(),
        emu.token(),
        mpd.path(),
        cache.path(),
        &slow,
        &[],
    );
    m.wait("the intact record pushed", || {
        last_text(&emu, &demo::wiki_id()) == "Pushed although another record is damaged."
    });
    assert_ne!(last_text(&emu, &demo::deep_dive_id()), "Damaged on disk.");
    let q = cache.path().join("journal/quarantine");
    let aside: Vec<String> = std::fs::read_dir(&q)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(aside.len(), 2, "{aside:?}");
    assert!(
        aside.iter().any(|n| n.ends_with(".rec.corrupt")),
        "{aside:?}"
    );
    let x = m.sync_xattr(DEEP_DIVE);
    assert!(x.starts_with("failed: ") && x.contains("set aside"), "{x}");
    let s = m.status();
    let failed = s["failed"].as_array().unwrap();
    assert_eq!(failed.len(), 1, "{s}");
    assert_eq!(failed[0]["path"], DEEP_DIVE);
    assert!(
        failed[0]["reason"].as_str().unwrap().contains("checksum"),
        "{s}"
    );
    let o = sync_wait(&m.mp);
    assert_eq!(o.status.code(), Some(1), "{}", describe(&o));
    assert!(out(&o).contains("set aside"), "{}", describe(&o));

    // A record deleted under a running mount: set aside as missing, reported the same way.
    let showcase = "Engineering Wiki/Block Showcase.md";
    append(&m, showcase, "Its record vanishes.");
    let recs = records_of(cache.path(), &demo::showcase_id());
    assert_eq!(recs.len(), 1);
    std::fs::remove_file(&recs[0]).unwrap();
    let o = sync_wait(&m.mp);
    assert_eq!(o.status.code(), Some(1), "{}", describe(&o));
    assert!(
        out(&o).contains("missing"),
        "{}\n{}",
        describe(&o),
        m.stderr()
    );
    assert_eq!(m.status()["failed"].as_array().unwrap().len(), 2);

    // New saves of both pages supersede what was set aside: everything reaches Notion.
    append(&m, DEEP_DIVE, "Saved again.");
    append(&m, showcase, "Saved again too.");
    let o = sync_wait(&m.mp);
    assert!(o.status.success(), "{}\n{}", describe(&o), m.stderr());
    assert_eq!(last_text(&emu, &demo::deep_dive_id()), "Saved again.");
    assert_eq!(last_text(&emu, &demo::showcase_id()), "Saved again too.");
    assert_eq!(m.sync_xattr(DEEP_DIVE), "clean");
    assert_eq!(m.status()["failed"], json!([]));
}

// ----- 4. bounded open files -----------------------------------------------------------

const MANY: usize = 300;

/// One workspace page holding [`MANY`] attachments, each a text file of its own.
fn many_files_seed() -> Seed {
    let files: Vec<Value> = (0..MANY)
        .map(|i| {
            json!({"key": format!("f{i}"), "name": format!("f{i:03}.txt"),
                        "content_type": "text/plain", "text": format!("attachment number {i}\n")})
        })
        .collect();
    let children: Vec<Value> = (0..MANY)
        .map(|i| {
            json!({"type": "file", "file": {"type": "file", "file": {"hosted": format!("f{i}")},
                        "caption": [], "name": format!("f{i:03}.txt")}})
        })
        .collect();
    let seed = json!({
        "workspace_name": "Files",
        "workspace_id": "f11e5000-0000-4000-8000-000000000001",
        "bot": {"id": "f11e5000-0000-4000-8000-0000000000b0", "name": "Files bot"},
        "files": files,
        "pages": [{"id": "f11e5000-0000-4000-8000-000000000100", "parent": {"workspace": true},
                   "title": "Files", "children": children}],
    });
    Seed::from_json(&seed.to_string()).expect("seed")
}

fn fd_count(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count()
}

#[test]
fn hundreds_of_attachments_read_under_a_low_fd_limit() {
    if !fuse_usable() {
        return;
    }
    let emu = Emulator::start_blocking(EmulatorConfig {
        seed: many_files_seed(),
        ..EmulatorConfig::default()
    })
    .unwrap();
    let (mpd, cache, logs) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let mut cmd = mount_cmd(
        &emu.base_url(),
        emu.token(),
        mpd.path(),
        cache.path(),
        &[],
        &[],
    );
    // Fewer descriptors than attachments: one kept per attachment ever read would run out.
    // SAFETY: setrlimit only, in the child between fork and exec.
    unsafe {
        use std::os::unix::process::CommandExt;
        cmd.pre_exec(|| {
            let lim = libc::rlimit {
                rlim_cur: 160,
                rlim_max: 160,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let m = Mount::spawn(
        cmd,
        mpd.path().canonicalize().unwrap(),
        logs.path().join("stderr.log"),
        Vec::new(),
    );
    let pid = m.child.as_ref().unwrap().id();
    let names = m.ls("Files");
    assert_eq!(names.len(), MANY);
    let base_fds = fd_count(pid);
    // All open at once, then read interleaved.
    let mut open: Vec<(usize, std::fs::File)> = (0..MANY)
        .map(|i| {
            (
                i,
                std::fs::File::open(m.p(&format!("Files/f{i:03}.txt"))).unwrap(),
            )
        })
        .collect();
    for (i, f) in open.iter_mut().rev() {
        use std::io::Read;
        let mut s = String::new();
        f.read_to_string(&mut s).unwrap();
        assert_eq!(s, format!("attachment number {i}\n"));
    }
    let fds = fd_count(pid);
    assert!(
        fds <= base_fds + notionfs::fs::attachments::MAX_OPEN_ATTACHMENTS + 4,
        "{fds} descriptors open (before the reads: {base_fds})"
    );
    drop(open);
    // And every one again after they were closed; saves still work.
    for i in (0..MANY).step_by(7) {
        let s = std::fs::read_to_string(m.p(&format!("Files/f{i:03}.txt"))).unwrap();
        assert_eq!(s, format!("attachment number {i}\n"));
    }
    append(&m, "Files.md", "Still saving.");
    let o = sync_wait(&m.mp);
    assert!(o.status.success(), "{}\n{}", describe(&o), m.stderr());
    assert!(
        !m.stderr().contains("Too many open files"),
        "{}",
        m.stderr()
    );
}

// ----- 5. size limits ------------------------------------------------------------------

#[test]
fn truncate_to_1t_is_efbig_and_kill_9_loses_nothing() {
    if !fuse_usable() {
        return;
    }
    let emu = demo_emulator();
    let (mpd, cache, src) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let slow = ["--write-delay", "60000"];
    let m = mount_api(
        &emu.base_url(),
        emu.token(),
        mpd.path(),
        cache.path(),
        &slow,
        &[],
    );
    append(&m, DEEP_DIVE, "Accepted before the big truncate.");
    m.shell_fails(&format!("truncate -s 1T '{DEEP_DIVE}'"), "File too large");
    // Past the page limit (32 MiB) through an open file, and a write far out.
    m.shell_fails(&format!("truncate -s 33M '{DEEP_DIVE}'"), "File too large");
    m.shell_fails(
        &format!("dd if=/dev/zero of='{DEEP_DIVE}' bs=1 count=1 seek=1T conv=notrunc status=none"),
        "File too large",
    );
    // An editor's temp file (memory only) has its limit too.
    let swp = "Engineering Wiki/.Wiki.md.swp";
    m.shell(&format!("echo swap > '{swp}'"));
    m.shell_fails(&format!("truncate -s 1T '{swp}'"), "File too large");
    assert_eq!(std::fs::read_to_string(m.p(swp)).unwrap(), "swap\n");
    // A copy into a page's folder is spooled to disk as it is written, never kept in memory
    // (Notion is down so the upload waits and the spool can be seen).
    m.ls(SHOWCASE_DIR);
    let healthy = emu.control().faults();
    emu.control().set_faults(notionfs::emulator::Faults {
        fault_rate: 1.0,
        ..healthy
    });
    let big = src.path().join("big.pdf");
    std::fs::write(&big, vec![7u8; 24 << 20]).unwrap();
    m.shell(&format!("cp '{}' '{SHOWCASE_DIR}/'", big.display()));
    let spooled: Vec<u64> = std::fs::read_dir(cache.path().join("uploads"))
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_name().to_string_lossy().starts_with("spool-"))
        .map(|e| e.metadata().unwrap().len())
        .collect();
    assert_eq!(spooled, vec![24 << 20]);
    // The mount is alive and still holds the earlier save.
    assert!(mounted(&m.mp));
    assert_eq!(m.sync_xattr(DEEP_DIVE), "pending");
    m.stop(libc::SIGKILL);
    emu.control().set_faults(healthy);
    let m = mount_api(
        &emu.base_url(),
        emu.token(),
        mpd.path(),
        cache.path(),
        &[],
        &[],
    );
    m.wait("the save and the copy in Notion after kill -9", || {
        last_text(&emu, &demo::deep_dive_id()) == "Accepted before the big truncate."
            && m.xattr(&format!("{SHOWCASE_DIR}/big.pdf"), "user.notion.object") == "block"
    });
    // Read back from Notion (an attachment's size is known once downloaded): every byte.
    let back = std::fs::read(m.p(&format!("{SHOWCASE_DIR}/big.pdf"))).unwrap();
    assert_eq!(back.len(), 24 << 20);
    assert!(back.iter().all(|&b| b == 7));
}

// ----- 6. single-flight downloads ------------------------------------------------------

#[test]
fn concurrent_first_reads_of_an_attachment_share_one_download() {
    if !fuse_usable() {
        return;
    }
    let emu = demo_emulator();
    let proxy = Proxy::start(&emu.base_url());
    let m = mount_via(&proxy, &emu, &[]);
    m.ls(SHOWCASE_DIR);
    // Slow downloads make the first reads overlap.
    proxy.rules.slow_files_ms.store(400, Ordering::SeqCst);
    let path = m.p(&format!("{SHOWCASE_DIR}/spec.pdf"));
    let readers: Vec<_> = (0..8)
        .map(|_| {
            let p = path.clone();
            std::thread::spawn(move || std::fs::read(p))
        })
        .collect();
    for r in readers {
        assert_eq!(r.join().unwrap().unwrap(), demo::PDF_TEXT.as_bytes());
    }
    assert_eq!(proxy.count("download"), 1);
    let files: Vec<String> = std::fs::read_dir(m._dirs[2].path().join("attachments"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
}

// ----- 7. Retry-After ------------------------------------------------------------------

#[test]
fn a_huge_retry_after_holds_no_cached_read_and_panics_nothing() {
    if !fuse_usable() {
        return;
    }
    let emu = demo_emulator();
    let proxy = Proxy::start(&emu.base_url());
    let mut m = mount_via(&proxy, &emu, &["--ttl", "1"]);
    let text = std::fs::read_to_string(m.p(DEEP_DIVE)).unwrap();
    let root = m.ls("");
    *proxy.rules.retry_after.lock().unwrap() = "1000000000000".into();
    proxy.rules.rate_limited.store(u32::MAX, Ordering::SeqCst);
    // The feed's next poll meets the 429: the client pauses (capped).
    wait_for("a poll rate limited", || proxy.count("429") > 0);
    let calls = proxy.count("GET other") + proxy.count("children") + proxy.count("POST other");
    // What is cached is served meanwhile.
    let (tx, rx) = std::sync::mpsc::channel();
    let (p, d) = (m.p(DEEP_DIVE), m.p(""));
    std::thread::spawn(move || {
        let read = std::fs::read_to_string(&p).unwrap();
        let listed = std::fs::read_dir(&d).unwrap().count();
        let size = std::fs::metadata(&p).unwrap().len();
        tx.send((read, listed, size)).unwrap();
    });
    let (read, listed, size) = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("cached reads answered during the pause");
    assert_eq!(read, text);
    assert_eq!(listed, root.len());
    assert_eq!(size, text.len() as u64);
    assert_eq!(m.xattr(DEEP_DIVE, "user.notion.id"), demo::deep_dive_id());
    // Served without a request to Notion; the process is alive and logged no panic.
    assert_eq!(
        proxy.count("GET other") + proxy.count("children") + proxy.count("POST other"),
        calls
    );
    assert!(m.child.as_mut().unwrap().try_wait().unwrap().is_none());
    assert!(!m.stderr().contains("panic"), "{}", m.stderr());
}

/// A client of the emulator through `proxy`, with short backoffs and the given caps.
fn capped_client(
    proxy: &Proxy,
    emu: &Emulator,
    cap: Duration,
    total: Duration,
) -> notionfs::notion::Client {
    let mut cfg =
        notionfs::notion::ClientConfig::new(&proxy.url, notionfs::notion::Token::new(emu.token()));
    cfg.rate = None;
    cfg.max_retry_after = cap;
    cfg.max_rate_limited_wait = total;
    notionfs::notion::Client::new(cfg).unwrap()
}

#[test]
fn retry_after_is_capped_and_a_request_never_waits_forever() {
    let emu = demo_emulator();
    let proxy = Proxy::start(&emu.base_url());
    *proxy.rules.retry_after.lock().unwrap() = "1000000000000".into();
    // One 429 saying 10^12 s: the request goes through after the cap (1 s here).
    proxy.rules.rate_limited.store(1, Ordering::SeqCst);
    let c = capped_client(
        &proxy,
        &emu,
        Duration::from_secs(1),
        Duration::from_secs(30),
    );
    let t = Instant::now();
    let page = common::block_on(c.page(&demo::deep_dive_id())).expect("page after one 429");
    assert_eq!(page.id, demo::deep_dive_id());
    assert!(t.elapsed() >= Duration::from_secs(1));
    assert_eq!(c.stats().rate_limited, 1);
    // 429s for ever: the request gives up once it waited its total budget (2 s).
    proxy.rules.rate_limited.store(u32::MAX, Ordering::SeqCst);
    let c = capped_client(&proxy, &emu, Duration::from_secs(1), Duration::from_secs(2));
    let got = common::block_on(c.page(&demo::deep_dive_id()));
    assert!(
        matches!(
            &got,
            Err(notionfs::notion::ApiError::Api { status: 429, .. })
        ),
        "{got:?}"
    );
    assert_eq!(c.stats().rate_limited, 3);
}

// ----- 8. pages titled like editor temp files ------------------------------------------

#[test]
fn pages_titled_like_editor_temp_files_are_saved_with_sed_i() {
    if !fuse_usable() {
        return;
    }
    let emu = demo_emulator();
    let ctl = emu.control();
    let lock_like = ctl.create_page(&demo::wiki_id(), ".#notes").unwrap();
    let temp_like = ctl
        .create_page(&demo::wiki_id(), "draft.md.tmp.1234")
        .unwrap();
    let m = Mount::start(&emu, &["--write-delay", "60000"]);
    let names = m.ls("Engineering Wiki");
    assert!(
        names.contains(".#notes.md") && names.contains("draft.md.tmp.1234.md"),
        "{names:?}"
    );
    for (rel, id) in [
        ("Engineering Wiki/.#notes.md", &lock_like),
        ("Engineering Wiki/draft.md.tmp.1234.md", &temp_like),
    ] {
        m.shell(&format!("printf 'hello world\\n' > '{rel}'"));
        m.shell(&format!("sed -i 's/world/there/' '{rel}'"));
        assert_eq!(std::fs::read_to_string(m.p(rel)).unwrap(), "hello there\n");
        assert_eq!(
            m.xattr(rel, "user.notion.id"),
            *id,
            "{rel} is still the page"
        );
        let o = sync_wait(&m.mp);
        assert!(o.status.success(), "{}\n{}", describe(&o), m.stderr());
        assert_eq!(last_text(&emu, id), "hello there", "{rel}");
        assert_eq!(m.sync_xattr(rel), "clean");
    }
    // A real editor dropping beside them stays local.
    let before = ctl.children_ids(&demo::wiki_id());
    m.shell("echo lock > 'Engineering Wiki/.#other.md'");
    assert_eq!(ctl.children_ids(&demo::wiki_id()), before);
    assert_eq!(m.xattr("Engineering Wiki/.#other.md", "user.notion.id"), "");
}

// ----- 9. a push cut off by kill -9 -----------------------------------------------------

/// How many paragraphs the big edit of item 9 adds (more than one append of 100 blocks).
const BIG_EDIT: usize = 250;

/// The texts of `page`'s blocks in Notion that belong to the big edit, in order.
fn big_edit_lines(emu: &Emulator, page: &str) -> Vec<String> {
    emu.control()
        .children_ids(page)
        .iter()
        .filter_map(|id| emu.control().plain_text(id))
        .filter(|t| t.starts_with("Big edit line "))
        .collect()
}

#[test]
fn a_push_cut_off_by_kill_9_is_finished_after_remount_once_and_without_conflict() {
    if !fuse_usable() {
        return;
    }
    let emu = demo_emulator();
    let (mpd, cache) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let slow = ["--write-delay", "60000"];
    let m = mount_api(
        &emu.base_url(),
        emu.token(),
        mpd.path(),
        cache.path(),
        &slow,
        &[],
    );
    let page = demo::deep_dive_id();
    let before = emu.control().children_ids(&page).len();
    let edit: String = (0..BIG_EDIT)
        .map(|i| format!("\nBig edit line {i:03}.\n"))
        .collect();
    append(&m, DEEP_DIVE, &edit);
    // Every request slowed down, so the push (several appends) can be caught part way.
    let healthy = emu.control().faults();
    emu.control().set_faults(notionfs::emulator::Faults {
        latency_ms: 150,
        ..healthy
    });
    let o = notionfs(&["sync", m.mp.to_str().unwrap()]);
    assert!(o.status.success(), "{}", describe(&o));
    wait_within(Duration::from_secs(60), "the push part way", || {
        let n = big_edit_lines(&emu, &page).len();
        n > 0 && n < BIG_EDIT
    });
    m.stop(libc::SIGKILL);
    let partial = big_edit_lines(&emu, &page).len();
    assert!(partial < BIG_EDIT, "the push was not cut off: {partial}");
    eprintln!("cut off with {partial} of {BIG_EDIT} lines in Notion");

    emu.control().set_faults(healthy);
    let m = mount_api(
        &emu.base_url(),
        emu.token(),
        mpd.path(),
        cache.path(),
        &slow,
        &[],
    );
    let o = sync_wait(&m.mp);
    assert!(o.status.success(), "{}\n{}", describe(&o), m.stderr());
    // Every line in Notion once, in order, after what the page held before.
    let want: Vec<String> = (0..BIG_EDIT)
        .map(|i| format!("Big edit line {i:03}."))
        .collect();
    assert_eq!(big_edit_lines(&emu, &page), want);
    assert_eq!(emu.control().children_ids(&page).len(), before + BIG_EDIT);
    // Its own half-applied push was not taken for a remote edit: no conflict anywhere.
    assert_eq!(m.status()["conflicts"], json!([]));
    let dir = m.p("Engineering Wiki/Architecture/Storage Layer");
    let names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !names.iter().any(|n| n.to_lowercase().contains("conflict")),
        "{names:?}"
    );
    let kept = cache.path().join("conflicts");
    assert!(
        !kept.exists() || std::fs::read_dir(&kept).unwrap().next().is_none(),
        "a conflict copy was kept"
    );
    assert_eq!(m.sync_xattr(DEEP_DIVE), "clean");
    let file = std::fs::read_to_string(m.p(DEEP_DIVE)).unwrap();
    assert_eq!(file.matches("Big edit line 123.").count(), 1, "{file}");
}

// ----- 10. the smaller items -----------------------------------------------------------

/// A tmpfs of `size` at `dir` (unmounted on drop), if this user may mount one.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Option<Tmpfs> {
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Tmpfs(dir.to_path_buf()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Free bytes of the filesystem holding `dir`.
fn free_bytes(dir: &Path) -> u64 {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(dir.as_os_str().as_bytes()).unwrap();
    // SAFETY: statvfs fills the zeroed struct it is given for a NUL-terminated path.
    unsafe {
        let mut st: libc::statvfs = std::mem::zeroed();
        assert_eq!(libc::statvfs(path.as_ptr(), &mut st), 0);
        st.f_bavail as u64 * st.f_frsize as u64
    }
}

#[test]
fn a_full_journal_disk_is_enospc_at_write_time_and_loses_nothing() {
    if !fuse_usable() {
        return;
    }
    let (mpd, cache) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let Some(_fs) = Tmpfs::mount(cache.path(), "8m") else {
        eprintln!("skipping: cannot mount a tmpfs here (needs root)");
        return;
    };
    let emu = demo_emulator();
    let m = mount_api(
        &emu.base_url(),
        emu.token(),
        mpd.path(),
        cache.path(),
        &["--write-delay", "60000"],
        &[],
    );
    std::fs::read(m.p(DEEP_DIVE)).unwrap();
    // Fill the cache dir's disk.
    let filler = cache.path().join("filler");
    let mut f = std::fs::File::create(&filler).unwrap();
    let chunk = vec![0u8; 64 << 10];
    while f.write_all(&chunk).is_ok() {}
    drop(f);
    let mut page = std::fs::OpenOptions::new()
        .append(true)
        .open(m.p(DEEP_DIVE))
        .unwrap();
    let err = page.write_all(b"\nNo room for this.\n").unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::ENOSPC), "{err}");
    drop(page);
    assert!(mounted(&m.mp));
    // Room again: the same save goes through and reaches Notion.
    std::fs::remove_file(&filler).unwrap();
    // A child forked meanwhile by another test may hold the filler open until it execs.
    wait_for("the filler's space given back", || {
        free_bytes(cache.path()) > 4 << 20
    });
    append(&m, DEEP_DIVE, "Room again.");
    let o = sync_wait(&m.mp);
    assert!(o.status.success(), "{}\n{}", describe(&o), m.stderr());
    assert_eq!(last_text(&emu, &demo::deep_dive_id()), "Room again.");
}

#[test]
fn conflict_copies_fit_in_255_bytes_and_never_overwrite_each_other() {
    if !fuse_usable() {
        return;
    }
    let emu = demo_emulator();
    let ctl = emu.control();
    let title = "T".repeat(250);
    let page = ctl.create_page(&demo::wiki_id(), &title).unwrap();
    ctl.append_blocks(&page, json!([{"type": "paragraph", "paragraph": {"rich_text": [{"type": "text", "text": {"content": "original"}}]}}]))
        .unwrap();
    let (mpd, cache) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let m = mount_api(
        &emu.base_url(),
        emu.token(),
        mpd.path(),
        cache.path(),
        &["--write-delay", "60000"],
        &[],
    );
    let rel = format!("Engineering Wiki/{title}.md");
    assert_eq!(std::fs::read_to_string(m.p(&rel)).unwrap(), "original\n");
    // Copies already kept for the next seconds: a new one must not overwrite them.
    let dir = cache.path().join("conflicts");
    std::fs::create_dir_all(&dir).unwrap();
    let now = chrono::Utc::now();
    for s in 0..30 {
        let stamp = (now + chrono::Duration::seconds(s)).format("%Y%m%d-%H%M%S");
        std::fs::write(
            dir.join(format!("{stamp}-{page}.md")),
            "an earlier conflict",
        )
        .unwrap();
    }
    std::fs::write(m.p(&rel), "mine\n").unwrap();
    let block = ctl.children_ids(&page)[0].clone();
    ctl.set_block_text(&block, "theirs").unwrap();
    let o = sync_wait(&m.mp);
    assert_eq!(o.status.code(), Some(1), "{}", describe(&o));
    let x = m.sync_xattr(&rel);
    let copy = x
        .strip_prefix("conflict: ")
        .unwrap_or_else(|| panic!("{x}"));
    assert!(copy.len() <= 255, "{} bytes: {copy}", copy.len());
    assert!(copy.contains("-2.md"), "{copy}");
    assert_eq!(
        std::fs::read_to_string(m.p(&format!("Engineering Wiki/{copy}"))).unwrap(),
        "mine\n"
    );
    let kept: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert_eq!(kept.len(), 31);
    assert_eq!(
        kept.iter().filter(|k| *k == "an earlier conflict").count(),
        30
    );
}

#[test]
fn a_lost_append_response_does_not_duplicate_the_attachment() {
    if !fuse_usable() {
        return;
    }
    let emu = demo_emulator();
    let proxy = Proxy::start(&emu.base_url());
    let m = mount_via(&proxy, &emu, &[]);
    let page = demo::showcase_id();
    m.ls(SHOWCASE_DIR);
    let before = emu.control().children_ids(&page);
    proxy.rules.lose_appends.store(1, Ordering::SeqCst);
    let src = tempfile::tempdir().unwrap();
    std::fs::write(src.path().join("once.png"), demo_png()).unwrap();
    m.shell(&format!(
        "cp '{}' '{SHOWCASE_DIR}/'",
        src.path().join("once.png").display()
    ));
    let rel = format!("{SHOWCASE_DIR}/once.png");
    m.wait("the copy listed as an attachment", || {
        m.ls(SHOWCASE_DIR).contains("once.png") && m.xattr(&rel, "user.notion.object") == "block"
    });
    assert_eq!(proxy.count("lost append"), 1);
    assert!(proxy.count("get upload") >= 1);
    let after = emu.control().children_ids(&page);
    assert_eq!(after.len(), before.len() + 1, "one block appended, not two");
    assert_eq!(std::fs::read(m.p(&rel)).unwrap(), demo_png());
}

#[test]
fn rm_of_a_page_whose_push_failed_is_refused_until_a_save_goes_through() {
    if !fuse_usable() {
        return;
    }
    let emu = demo_emulator();
    let m = Mount::start(&emu, &["--write-delay", "60000"]);
    let rel = "Engineering Wiki/Block Showcase.md";
    let id = demo::showcase_id();
    // Binary data: Notion cannot hold it, the push is refused.
    m.shell(&format!("printf 'a\\000b' > '{rel}'"));
    let o = sync_wait(&m.mp);
    assert_eq!(o.status.code(), Some(1), "{}", describe(&o));
    assert!(m.sync_xattr(rel).starts_with("failed: "));
    m.shell_fails(&format!("rm '{rel}'"), "Device or resource busy");
    assert_eq!(emu.control().page_json(&id).unwrap()["in_trash"], false);
    assert!(
        m.stderr().contains("not moved to the trash"),
        "{}",
        m.stderr()
    );
    // A save that pushes lets it go.
    m.shell(&format!("printf 'fixed\\n' > '{rel}'"));
    m.shell(&format!("rm '{rel}'"));
    assert_eq!(emu.control().page_json(&id).unwrap()["in_trash"], true);
}

#[test]
fn an_existing_cache_dir_keeps_its_mode_and_files_are_private() {
    if !fuse_usable() {
        return;
    }
    let emu = demo_emulator();
    let (mpd, cache) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    std::fs::set_permissions(cache.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let m = mount_api(
        &emu.base_url(),
        emu.token(),
        mpd.path(),
        cache.path(),
        &["--write-delay", "60000"],
        &[],
    );
    std::fs::read(m.p(LOGO)).unwrap();
    std::fs::read(m.p(DEEP_DIVE)).unwrap();
    append(&m, DEEP_DIVE, "A journal record.");
    let mode = |p: &Path| std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode(cache.path()), 0o755, "the user's dir is left alone");
    let mut seen = 0;
    let mut stack = vec![cache.path().to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let t = std::fs::symlink_metadata(&p).unwrap().file_type();
            if t.is_dir() {
                assert_eq!(mode(&p), 0o700, "{}", p.display());
                stack.push(p);
            } else {
                assert_eq!(mode(&p) & 0o077, 0, "{} is {:o}", p.display(), mode(&p));
                seen += 1;
            }
        }
    }
    assert!(seen >= 5, "only {seen} files");
}

#[test]
fn the_token_leaves_the_mount_process_environment() {
    if !fuse_usable() {
        return;
    }
    let emu = demo_emulator();
    let m = Mount::start(&emu, &[]);
    m.ls("");
    let pid = m.child.as_ref().unwrap().id();
    // What child processes (fusermount3) would inherit, and what /proc shows of the
    // environment the process was started with.
    let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap();
    let text = String::from_utf8_lossy(&environ);
    assert!(text.contains("NOTION_API_URL="), "{text}");
    assert!(
        !text.contains(emu.token()),
        "the token is readable in /proc/{pid}/environ"
    );
}

#[test]
fn a_repeated_cursor_is_an_error_not_an_endless_read() {
    if !fuse_usable() {
        return;
    }
    let emu = demo_emulator();
    let proxy = Proxy::start(&emu.base_url());
    let m = mount_via(&proxy, &emu, &[]);
    m.ls("Engineering Wiki");
    let before = proxy.count("children");
    proxy.rules.loop_children.store(true, Ordering::SeqCst);
    let o = m.sh("cat 'Engineering Wiki/Block Showcase.md'");
    assert!(!o.status.success(), "{}", describe(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("Input/output error"));
    // The second answer repeated the first one's cursor: the read stopped there.
    assert_eq!(proxy.count("children") - before, 2);
    assert!(m.stderr().contains("a second time"), "{}", m.stderr());
    proxy.rules.loop_children.store(false, Ordering::SeqCst);
    assert!(std::fs::read_to_string(m.p("Engineering Wiki/Block Showcase.md")).is_ok());
}

#[test]
fn a_panicking_request_is_eio_logged_and_the_mount_unmounts_cleanly() {
    if !fuse_usable() {
        return;
    }
    let emu = demo_emulator();
    let (mpd, cache) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mp = mpd.path().canonicalize().unwrap();
    // Detached: stderr is /dev/null, the log file is where the panic must show.
    let o = mount_cmd(
        &emu.base_url(),
        emu.token(),
        mpd.path(),
        cache.path(),
        &["-d", "--write-delay", "60000"],
        &[("NOTIONFS_FAILPOINTS", "panic")],
    )
    .output()
    .unwrap();
    assert!(o.status.success(), "{}", describe(&o));
    assert!(mounted(&mp));
    append_at(&mp.join(DEEP_DIVE), "Pushed by the clean unmount.");
    // A process keeping the mount busy does not stop the unmount (it is detached lazily).
    let mut holder = Command::new("sleep")
        .arg("60")
        .current_dir(&mp)
        .spawn()
        .unwrap();
    let err = common::mount::getxattr(&mp, "user.notionfs.failpoint.panic").unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::EIO), "{err}");
    let log = || std::fs::read_to_string(cache.path().join("notionfs.log")).unwrap_or_default();
    let t = Instant::now();
    while mounted(&mp) {
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "still mounted\n{}",
            log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    holder.kill().unwrap();
    holder.wait().unwrap();
    wait_for("the pending save pushed by the unmount", || {
        last_text(&emu, &demo::deep_dive_id()) == "Pushed by the clean unmount."
    });
    let log = std::fs::read_to_string(cache.path().join("notionfs.log")).unwrap();
    assert!(log.contains("panic: failpoint"), "{log}");
    assert!(log.contains("src/fs/xattr.rs"), "{log}");
    assert!(log.contains("unmounting cleanly"), "{log}");
}
