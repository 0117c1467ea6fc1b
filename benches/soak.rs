//! Soak (numbers and a verdict, not a test): `cargo bench --bench soak -- [DURATION]`.
//!
//! Mixed reads and edits by several workers on one real mount for a long time (default 30
//! minutes; `-- 2m`, `-- 90s` or `NOTIONFS_SOAK_DURATION=2m` for a quick check) while the
//! emulator injects faults, then a check that Notion holds exactly what was acknowledged.
//!
//! Setup: the in-process emulator serves a generated workspace (`NOTIONFS_SOAK_PAGES`
//! pages, default 300, for the reads) plus a `Soak` page: per worker a folder of pages
//! (`Soak/Worker W/Note K.md`) and rows of a `Soak Rows` database (`w W r K.md`, properties
//! `Notes` and `Count`), and a few pages only a "remote" actor edits (`Soak/Remote`). The
//! release binary mounts it (`--rate 10 --ttl 5`, a fresh cache dir).
//!
//! Workers (`NOTIONFS_SOAK_WORKERS`, default 4; threads that run tools as processes: `cat`,
//! `grep`, `sed -i`, `cp`, `rm`) each own their pages and keep a model of what they wrote.
//! Their operations: read an own page (`cat`) and compare it with the model; `grep -rlF`
//! a token; list the own folder; read other pages (generated ones, and the remote pages,
//! which must show a prefix of what was appended); append a paragraph (open `O_APPEND`,
//! write, close); replace or delete a paragraph with `sed -i` (temp file + rename); edit a
//! row's front matter (`sed -i`, or a rewrite through a `.NAME.tmp-N` file renamed over the
//! row); create a page (`cp`) and remove one (`rm`). The remote actor appends a paragraph
//! through the emulator's control API every few seconds.
//!
//! Faults cycle in phases (a fifteenth of the run, 10 to 60 s each): calm; 10% 5xx; a
//! rate limit of 8 requests/s (429 with `Retry-After`); 400 ms per response; 5% 5xx with
//! 5% of writes carried out but answered 502/504 and 50 ms per response.
//!
//! Every `NOTIONFS_SOAK_SAMPLE` seconds (default 30; a quick run samples at least 8 times)
//! a row of the table: RSS and peak RSS, open fds and threads of the mount process (from
//! /proc), the mount's API calls, retries, 429s and 5xx (`notionfs status --json`), the
//! calls the emulator served, the journal, and the operations done so far.
//!
//! At the end: faults off, `notionfs sync --wait`, then Notion is read through the
//! emulator's HTTP API (not the mount) and compared with the models: each worker's pages
//! (titles, each paragraph exactly once and in order), rows (properties and body), no
//! journal record, failure or conflict left; the mount agrees with the models too, and
//! shows every remote paragraph once the feed polled. A create or `rm` that failed during
//! faults may have happened all the same (a lost response): such a page is checked either
//! way. Prints `verdict: PASS` or `verdict: FAIL` with every violation (exit status 1);
//! the work dir (mount log, cache) is kept on failure. Needs /dev/fuse and fusermount3.

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use notionfs::emulator::generate::large_workspace;
use notionfs::emulator::{Control, Emulator, EmulatorConfig, Faults, Seed};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

const TTL_SECS: u64 = 5;
const NOTION_VERSION: &str = "2025-09-03";
/// Seeded pages and rows per worker.
const NOTES: usize = 6;
const ROWS: usize = 2;
const REMOTE_PAGES: usize = 3;
const REMOTE_EVERY: Duration = Duration::from_secs(4);
/// Violations printed in full (all are counted).
const SHOWN: usize = 40;

// ----- settings -------------------------------------------------------------------------

struct Config {
    duration: Duration,
    workers: usize,
    sample: Duration,
    pages: usize,
    rate: String,
    seed: u64,
}

/// `90`, `90s`, `2m`, `1h` as a duration.
fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    let (num, unit) = match s.char_indices().find(|(_, c)| c.is_ascii_alphabetic()) {
        Some((i, _)) => (&s[..i], &s[i..]),
        None => (s, "s"),
    };
    let n: f64 = num.parse().ok()?;
    let secs = match unit {
        "s" => n,
        "m" | "min" => n * 60.0,
        "h" => n * 3600.0,
        _ => return None,
    };
    (secs > 0.0).then(|| Duration::from_secs_f64(secs))
}

fn env_num<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

impl Config {
    fn from_env() -> Config {
        let arg = std::env::args()
            .skip(1)
            .find(|a| !a.starts_with('-') && parse_duration(a).is_some());
        let duration = arg
            .or_else(|| std::env::var("NOTIONFS_SOAK_DURATION").ok())
            .and_then(|d| parse_duration(&d))
            .unwrap_or(Duration::from_secs(30 * 60));
        // At least 8 samples however short the run.
        let default_sample = (duration.as_secs_f64() / 8.0).clamp(5.0, 30.0);
        Config {
            duration,
            workers: env_num("NOTIONFS_SOAK_WORKERS", 4usize).max(1),
            sample: Duration::from_secs_f64(env_num("NOTIONFS_SOAK_SAMPLE", default_sample)),
            pages: env_num("NOTIONFS_SOAK_PAGES", 300usize),
            rate: std::env::var("NOTIONFS_SOAK_RATE").unwrap_or_else(|_| "10".into()),
            seed: env_num("NOTIONFS_SOAK_SEED", rand::rng().random::<u64>()),
        }
    }

    fn phase_len(&self) -> Duration {
        Duration::from_secs_f64((self.duration.as_secs_f64() / 15.0).clamp(10.0, 60.0))
    }
}

// ----- the workspace --------------------------------------------------------------------

fn id(n: u64) -> String {
    format!("5a0c0000-0000-4000-8000-{n:012x}")
}

const SOAK_PAGE: u64 = 1;
const ROWS_DB: u64 = 2;
const ROWS_DS: u64 = 3;
const REMOTE_DIR: u64 = 4;
fn worker_page(w: usize) -> u64 {
    0x100 + w as u64
}
fn note_page(w: usize, k: usize) -> u64 {
    0x1000 + (w * 100 + k) as u64
}
fn row_page(w: usize, k: usize) -> u64 {
    0x2000 + (w * 100 + k) as u64
}
fn remote_page(k: usize) -> u64 {
    0x3000 + k as u64
}

fn paragraph(text: &str) -> Value {
    json!({"type": "paragraph", "paragraph": {"rich_text": [{"type": "text", "text": {"content": text}}]}})
}

/// The generated workspace plus the soak's own pages, and the workers' starting models.
fn seed(cfg: &Config) -> (Seed, Vec<Vec<PageModel>>) {
    let mut seed = large_workspace(cfg.pages, 1);
    seed.pages.push(
        json!({"id": id(SOAK_PAGE), "parent": {"workspace": true}, "title": "Soak",
        "children": [paragraph("Pages edited by the soak workers.")]}),
    );
    seed.databases.push(json!({
        "id": id(ROWS_DB), "parent": {"page_id": id(SOAK_PAGE)}, "title": "Soak Rows",
        "data_sources": [{"id": id(ROWS_DS), "title": "Soak Rows", "properties": {
            "Name": {"title": {}},
            "Notes": {"rich_text": {}},
            "Count": {"number": {"format": "number"}},
        }}],
    }));
    seed.pages.push(
        json!({"id": id(REMOTE_DIR), "parent": {"page_id": id(SOAK_PAGE)},
        "title": "Remote", "children": []}),
    );
    for k in 0..REMOTE_PAGES {
        seed.pages.push(
            json!({"id": id(remote_page(k)), "parent": {"page_id": id(REMOTE_DIR)},
            "title": format!("Remote {k}"), "children": [paragraph(&format!("remote {k} seed"))]}),
        );
    }
    let mut models = Vec::new();
    for w in 0..cfg.workers {
        seed.pages.push(
            json!({"id": id(worker_page(w)), "parent": {"page_id": id(SOAK_PAGE)},
            "title": format!("Worker {w}"), "children": []}),
        );
        let mut pages = Vec::new();
        for k in 0..NOTES {
            let paras: Vec<String> = (0..3).map(|i| format!("seed w{w} p{k} line {i}")).collect();
            let children: Vec<Value> = paras.iter().map(|p| paragraph(p)).collect();
            seed.pages.push(
                json!({"id": id(note_page(w, k)), "parent": {"page_id": id(worker_page(w))},
                "title": format!("Note {k}"), "children": children}),
            );
            pages.push(PageModel {
                title: format!("Note {k}"),
                id: Some(id(note_page(w, k))),
                paras,
                row: None,
                state: Presence::Live,
            });
        }
        for k in 0..ROWS {
            let title = format!("w{w} r{k}");
            let notes = format!("seed notes w{w} r{k}");
            let body = vec![format!("seed w{w} r{k} body")];
            seed.pages.push(
                json!({"id": id(row_page(w, k)), "parent": {"data_source_id": id(ROWS_DS)},
                "properties": {
                    "Name": {"title": [{"text": {"content": title}}]},
                    "Notes": {"rich_text": [{"text": {"content": notes}}]},
                    "Count": {"number": 0},
                },
                "children": [paragraph(&body[0])]}),
            );
            pages.push(PageModel {
                title,
                id: Some(id(row_page(w, k))),
                paras: body,
                row: Some(RowModel { notes, count: 0 }),
                state: Presence::Live,
            });
        }
        models.push(pages);
    }
    (seed, models)
}

// ----- the models -----------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq)]
struct RowModel {
    notes: String,
    count: i64,
}

/// Whether a page is there.
#[derive(Clone, Debug, PartialEq)]
enum Presence {
    Live,
    Removed,
    /// A create or `rm` that failed during faults: may or may not have happened. If the
    /// page is in Notion, its paragraphs are one of these.
    Either(Vec<Vec<String>>),
}

#[derive(Clone, Debug)]
struct PageModel {
    title: String,
    /// Seeded pages (created ones are found by title).
    id: Option<String>,
    paras: Vec<String>,
    row: Option<RowModel>,
    state: Presence,
}

impl PageModel {
    fn rel(&self, w: usize) -> String {
        match self.row {
            Some(_) => format!("Soak/Soak Rows/{}.md", self.title),
            None => format!("Soak/Worker {w}/{}.md", self.title),
        }
    }
}

/// The paragraphs of a Markdown body (blank-line separated, trimmed, empty ones dropped).
fn paragraphs(text: &str) -> Vec<String> {
    text.split("\n\n")
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

/// A row file's front matter fields (top-level `Key: value` lines) and body.
fn split_row(text: &str) -> (BTreeMap<String, String>, &str) {
    let mut fields = BTreeMap::new();
    let Some(rest) = text.strip_prefix("---\n") else {
        return (fields, text);
    };
    let Some(end) = rest.find("\n---\n") else {
        return (fields, text);
    };
    for line in rest[..end].lines() {
        if let Some((k, v)) = line.split_once(": ") {
            if !k.starts_with(' ') {
                fields.insert(k.to_string(), v.to_string());
            }
        }
    }
    (fields, &rest[end + 5..])
}

/// How `text` (a page's file) differs from the model, if it does.
fn mismatch(m: &PageModel, text: &str) -> Option<String> {
    let (fields, body) = split_row(text);
    if let Some(r) = &m.row {
        let notes = fields.get("Notes").map(String::as_str).unwrap_or("?");
        let count = fields.get("Count").map(String::as_str).unwrap_or("?");
        if notes != r.notes || count != r.count.to_string() {
            return Some(format!(
                "Notes {notes:?} Count {count}, the model {:?} {}",
                r.notes, r.count
            ));
        }
    }
    let got = paragraphs(body);
    (got != m.paras).then(|| format!("{got:?}, the model {:?}", m.paras))
}

// ----- shared counters ------------------------------------------------------------------

#[derive(Default)]
struct Counters {
    ops: AtomicU64,
    reads: AtomicU64,
    edits: AtomicU64,
    creates: AtomicU64,
    removes: AtomicU64,
    /// Operations refused (EIO, EBUSY…) during faults.
    refused: AtomicU64,
    remote: AtomicU64,
}

struct Shared {
    mp: PathBuf,
    stop: AtomicBool,
    faulty: AtomicBool,
    counters: Counters,
    violations: Mutex<Vec<String>>,
    /// Paragraphs appended to each remote page (index: page).
    remote: Mutex<Vec<Vec<String>>>,
    start: Instant,
}

impl Shared {
    fn violation(&self, what: String) {
        eprintln!(
            "VIOLATION at {:.0}s: {what}",
            self.start.elapsed().as_secs_f64()
        );
        self.violations.lock().unwrap().push(what);
    }

    fn p(&self, rel: &str) -> PathBuf {
        self.mp.join(rel)
    }
}

// ----- the mount ------------------------------------------------------------------------

fn binary() -> PathBuf {
    if let Some(p) = std::env::var_os("NOTIONFS_BIN") {
        return PathBuf::from(p);
    }
    PathBuf::from(env!("CARGO_BIN_EXE_notionfs"))
}

fn mounted(mp: &Path) -> bool {
    let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let want = mp.to_string_lossy();
    info.lines()
        .any(|l| l.split(' ').nth(4).is_some_and(|m| m == want))
}

/// The `notionfs mount` process; unmounted and killed on drop.
struct Mount {
    child: Child,
    mp: PathBuf,
    log: PathBuf,
}

impl Mount {
    fn start(emu: &Emulator, mp: &Path, cache: &Path, rate: &str) -> Mount {
        let log = cache.with_extension("log");
        let out = std::fs::File::create(&log).expect("log file");
        let mut cmd = Command::new(binary());
        cmd.arg("mount")
            .arg(mp)
            .args(["--api-url", &emu.base_url(), "--rate", rate])
            .args(["--ttl", &TTL_SECS.to_string()])
            .arg("--cache-dir")
            .arg(cache)
            .env("NOTION_TOKEN", emu.token())
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("log"))
            .stderr(out);
        // SAFETY: prctl is async-signal-safe; the mount gets SIGTERM (and unmounts) if
        // the harness dies without cleaning up.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
                Ok(())
            });
        }
        let mut m = Mount {
            child: cmd.spawn().expect("spawn notionfs mount"),
            mp: mp.to_path_buf(),
            log,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while !mounted(mp) {
            if let Ok(Some(status)) = m.child.try_wait() {
                panic!("notionfs mount exited ({status}): see {}", m.log.display());
            }
            assert!(Instant::now() < deadline, "not mounted after 60 s");
            std::thread::sleep(Duration::from_millis(20));
        }
        m
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Unmounts and waits for the process; its exit status.
    fn stop(&mut self) -> Option<std::process::ExitStatus> {
        if let Ok(Some(s)) = self.child.try_wait() {
            return Some(s);
        }
        let _ = Command::new("fusermount3").arg("-u").arg(&self.mp).status();
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(Some(s)) = self.child.try_wait() {
                return Some(s);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        None
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        self.stop();
        if mounted(&self.mp) {
            let _ = Command::new("fusermount3")
                .arg("-uz")
                .arg(&self.mp)
                .status();
        }
    }
}

fn status_json(mp: &Path) -> Value {
    let out = Command::new(binary())
        .args(["status", "--json"])
        .arg(mp)
        .env_remove("RUST_LOG")
        .output();
    out.ok()
        .and_then(|o| serde_json::from_slice(&o.stdout).ok())
        .unwrap_or(Value::Null)
}

// ----- samples --------------------------------------------------------------------------

#[derive(Clone, Default)]
struct Sample {
    t: Duration,
    phase: &'static str,
    rss_kib: u64,
    hwm_kib: u64,
    fds: usize,
    threads: u64,
    calls: u64,
    emu_calls: u64,
    retries: u64,
    limited: u64,
    server_errors: u64,
    journal: u64,
    pending: usize,
    failed: usize,
    ops: u64,
    edits: u64,
    refused: u64,
    violations: usize,
}

fn proc_field(status: &str, name: &str) -> u64 {
    status
        .lines()
        .find(|l| l.starts_with(name))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn sample(sh: &Shared, pid: u32, ctl: &Control, phase: &'static str) -> Sample {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count());
    let st = status_json(&sh.mp);
    let n = |v: &Value| v.as_u64().unwrap_or(0);
    let len = |v: &Value| v.as_array().map_or(0, Vec::len);
    let c = &sh.counters;
    Sample {
        t: sh.start.elapsed(),
        phase,
        rss_kib: proc_field(&status, "VmRSS:"),
        hwm_kib: proc_field(&status, "VmHWM:"),
        fds,
        threads: proc_field(&status, "Threads:"),
        calls: n(&st["api"]["calls"]),
        emu_calls: ctl.total_calls(),
        retries: n(&st["api"]["retries"]),
        limited: n(&st["api"]["rate_limited"]),
        server_errors: n(&st["api"]["server_errors"]),
        journal: n(&st["journal_records"]),
        pending: len(&st["pending"]),
        failed: len(&st["failed"]),
        ops: c.ops.load(Ordering::Relaxed),
        edits: c.edits.load(Ordering::Relaxed),
        refused: c.refused.load(Ordering::Relaxed),
        violations: sh.violations.lock().unwrap().len(),
    }
}

const HEADER: &str = "| t | faults | RSS MB | peak RSS MB | fds | threads | API calls | emulator calls | retries | 429 | 5xx | journal | pending pages | failed | ops | edits | refused | violations |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|";

fn row(s: &Sample) -> String {
    format!(
        "| {:.0}s | {} | {:.1} | {:.1} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
        s.t.as_secs_f64(),
        s.phase,
        s.rss_kib as f64 / 1024.0,
        s.hwm_kib as f64 / 1024.0,
        s.fds,
        s.threads,
        s.calls,
        s.emu_calls,
        s.retries,
        s.limited,
        s.server_errors,
        s.journal,
        s.pending,
        s.failed,
        s.ops,
        s.edits,
        s.refused,
        s.violations
    )
}

// ----- faults ---------------------------------------------------------------------------

const PHASES: [&str; 5] = ["calm", "5xx 10%", "429 8/s", "slow 400ms", "lost+5xx"];

fn set_phase(ctl: &Control, phase: usize) {
    let mut f = Faults {
        rate: None,
        burst: 8,
        fault_rate: 0.0,
        latency_ms: 0,
    };
    let mut lost = 0.0;
    match phase {
        1 => f.fault_rate = 0.10,
        2 => f.rate = Some(8.0),
        3 => f.latency_ms = 400,
        4 => {
            f.fault_rate = 0.05;
            f.latency_ms = 50;
            lost = 0.05;
        }
        _ => {}
    }
    ctl.set_faults(f);
    ctl.set_lost_response_rate(lost);
}

// ----- workers --------------------------------------------------------------------------

struct Worker {
    w: usize,
    sh: Arc<Shared>,
    rng: StdRng,
    pages: Vec<PageModel>,
    /// Files of the generated workspace (relative paths) to read.
    others: Arc<Vec<String>>,
    seq: u64,
    scratch: PathBuf,
}

/// Runs a tool; whether it succeeded, and its stdout and stderr.
fn tool(cmd: &mut Command) -> (bool, String, String) {
    match cmd.stdin(Stdio::null()).output() {
        Ok(o) => (
            o.status.success(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        ),
        Err(e) => (false, String::new(), e.to_string()),
    }
}

impl Worker {
    fn token(&mut self, what: &str) -> String {
        self.seq += 1;
        format!("soak w{} {what} n{}", self.w, self.seq)
    }

    fn live(&self) -> Vec<usize> {
        (0..self.pages.len())
            .filter(|i| self.pages[*i].state == Presence::Live)
            .collect()
    }

    fn pick_live(&mut self, rows: Option<bool>) -> Option<usize> {
        let c: Vec<usize> = self
            .live()
            .into_iter()
            .filter(|i| rows.is_none_or(|r| self.pages[*i].row.is_some() == r))
            .collect();
        (!c.is_empty()).then(|| c[self.rng.random_range(0..c.len())])
    }

    fn run(mut self) -> Vec<PageModel> {
        while !self.sh.stop.load(Ordering::Relaxed) {
            let roll = self.rng.random_range(0..100);
            match roll {
                0..25 => self.check_own(),
                25..30 => self.grep_own(),
                30..33 => self.list_own(),
                33..40 => self.read_other(),
                40..44 => self.read_remote(),
                44..66 => self.append(),
                66..76 => self.sed_replace(),
                76..81 => self.sed_delete(),
                81..94 => self.edit_row(),
                94..97 => self.create(),
                _ => self.remove(),
            }
            self.sh.counters.ops.fetch_add(1, Ordering::Relaxed);
            let pause = self.rng.random_range(50..600);
            std::thread::sleep(Duration::from_millis(pause));
        }
        self.pages
    }

    fn refused(&self, what: &str, err: &str) {
        self.sh.counters.refused.fetch_add(1, Ordering::Relaxed);
        if !self.sh.faulty.load(Ordering::Relaxed) {
            self.sh
                .violation(format!("w{}: {what} failed without faults: {err}", self.w));
        }
    }

    /// `cat` of an own page: what the model says (body, and a row's two properties).
    fn check_own(&mut self) {
        let Some(i) = self.pick_live(None) else {
            return;
        };
        let rel = self.pages[i].rel(self.w);
        self.sh.counters.reads.fetch_add(1, Ordering::Relaxed);
        let (ok, out, err) = tool(Command::new("cat").arg(self.sh.p(&rel)));
        if !ok {
            return self.refused(&format!("cat {rel}"), &err);
        }
        if let Some(v) = mismatch(&self.pages[i], &out) {
            self.sh.violation(format!("w{}: {rel} shows {v}", self.w));
        }
    }

    fn grep_own(&mut self) {
        let Some(i) = self.pick_live(Some(false)) else {
            return;
        };
        let m = &self.pages[i];
        if m.paras.is_empty() {
            return;
        }
        let para = m.paras[self.rng.random_range(0..m.paras.len())].clone();
        let rel = m.rel(self.w);
        let dir = self.sh.p(&format!("Soak/Worker {}", self.w));
        self.sh.counters.reads.fetch_add(1, Ordering::Relaxed);
        let (ok, out, err) = tool(Command::new("grep").args(["-rlxF", "--", &para]).arg(&dir));
        let want = self.sh.p(&rel).to_string_lossy().into_owned();
        if !ok && !err.is_empty() {
            return self.refused(&format!("grep -r in Worker {}", self.w), &err);
        }
        if !out.lines().any(|l| l == want) {
            self.sh.violation(format!(
                "w{}: grep -rlxF {para:?} does not list {rel}: {out:?} {err}",
                self.w
            ));
        }
    }

    fn list_own(&mut self) {
        let dir = self.sh.p(&format!("Soak/Worker {}", self.w));
        self.sh.counters.reads.fetch_add(1, Ordering::Relaxed);
        let names: BTreeSet<String> = match std::fs::read_dir(&dir) {
            Ok(rd) => rd
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect(),
            Err(e) => return self.refused("ls own folder", &e.to_string()),
        };
        for m in self.pages.iter().filter(|m| m.row.is_none()) {
            let name = format!("{}.md", m.title);
            let shown = names.contains(&name);
            let ok = match m.state {
                Presence::Live => shown,
                Presence::Removed => !shown,
                Presence::Either(_) => true,
            };
            if !ok {
                self.sh.violation(format!(
                    "w{}: ls Worker {}: {name} shown {shown}, the model {:?}",
                    self.w, self.w, m.state
                ));
            }
        }
    }

    fn read_other(&mut self) {
        if self.others.is_empty() {
            return;
        }
        let rel = self.others[self.rng.random_range(0..self.others.len())].clone();
        self.sh.counters.reads.fetch_add(1, Ordering::Relaxed);
        let (ok, _, err) = if self.rng.random_bool(0.5) {
            tool(Command::new("cat").arg(self.sh.p(&rel)))
        } else {
            // grep exits 1 when nothing matches
            let (ok, out, err) = tool(
                Command::new("grep")
                    .args(["-c", "-i", "the"])
                    .arg(self.sh.p(&rel)),
            );
            (ok || err.is_empty(), out, err)
        };
        if !ok {
            self.refused(&format!("read {rel}"), &err);
        }
    }

    /// A remote page shows a prefix of what was appended to it in Notion.
    fn read_remote(&mut self) {
        let k = self.rng.random_range(0..REMOTE_PAGES);
        let rel = format!("Soak/Remote/Remote {k}.md");
        self.sh.counters.reads.fetch_add(1, Ordering::Relaxed);
        let (ok, out, err) = tool(Command::new("cat").arg(self.sh.p(&rel)));
        if !ok {
            return self.refused(&format!("cat {rel}"), &err);
        }
        let got = paragraphs(&out);
        let model = self.sh.remote.lock().unwrap()[k].clone();
        if got.len() > model.len() || got[..] != model[..got.len()] {
            self.sh.violation(format!(
                "w{}: {rel} shows {got:?}, not a prefix of {model:?}",
                self.w
            ));
        }
    }

    /// `>>`: open `O_APPEND`, write one paragraph, close.
    fn append(&mut self) {
        let Some(i) = self.pick_live(None) else {
            return;
        };
        let para = self.token("append");
        let rel = self.pages[i].rel(self.w);
        let r = std::fs::OpenOptions::new()
            .append(true)
            .open(self.sh.p(&rel))
            .and_then(|mut f| {
                use std::io::Write;
                f.write_all(format!("\n{para}\n").as_bytes())
            });
        match r {
            Ok(()) => {
                self.pages[i].paras.push(para);
                self.sh.counters.edits.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => self.sh.violation(format!(
                "w{}: append to {rel} failed (saves are local): {e}",
                self.w
            )),
        }
    }

    fn sed(&mut self, i: usize, expr: &str) -> bool {
        let rel = self.pages[i].rel(self.w);
        let (ok, _, err) = tool(Command::new("sed").args(["-i", expr]).arg(self.sh.p(&rel)));
        if !ok {
            self.sh.violation(format!(
                "w{}: sed -i {expr:?} {rel} failed (saves are local): {err}",
                self.w
            ));
        }
        ok
    }

    /// `sed -i` replacing one paragraph (a temp file renamed over the page).
    fn sed_replace(&mut self) {
        let Some(i) = self.pick_live(None) else {
            return;
        };
        if self.pages[i].paras.is_empty() {
            return;
        }
        let j = self.rng.random_range(0..self.pages[i].paras.len());
        let new = self.token("replaced");
        let expr = format!("s/^{}$/{new}/", self.pages[i].paras[j]);
        if self.sed(i, &expr) {
            self.pages[i].paras[j] = new;
            self.sh.counters.edits.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// `sed -i` deleting one paragraph.
    fn sed_delete(&mut self) {
        let Some(i) = self.pick_live(None) else {
            return;
        };
        if self.pages[i].paras.len() < 2 {
            return;
        }
        let j = self.rng.random_range(0..self.pages[i].paras.len());
        let expr = format!("/^{}$/d", self.pages[i].paras[j]);
        if self.sed(i, &expr) {
            self.pages[i].paras.remove(j);
            self.sh.counters.edits.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// A row's `Notes` and `Count`: with `sed -i`, or rewritten through a temp file.
    fn edit_row(&mut self) {
        let Some(i) = self.pick_live(Some(true)) else {
            return;
        };
        let notes = self.token("notes");
        let count = self.pages[i].row.as_ref().map_or(0, |r| r.count) + 1;
        let rel = self.pages[i].rel(self.w);
        let ok = if self.rng.random_bool(0.5) {
            let expr = format!("s/^Notes: .*$/Notes: {notes}/;s/^Count: .*$/Count: {count}/");
            self.sed(i, &expr)
        } else {
            self.rewrite_row(&rel, &notes, count)
        };
        if ok {
            self.pages[i].row = Some(RowModel { notes, count });
            self.sh.counters.edits.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Reads the row, changes the two lines, writes `.NAME.tmp-N` beside it and renames it
    /// over the row (as editors save atomically).
    fn rewrite_row(&mut self, rel: &str, notes: &str, count: i64) -> bool {
        let path = self.sh.p(rel);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => {
                self.refused(&format!("read {rel}"), &e.to_string());
                return false;
            }
        };
        let mut out = String::new();
        let mut in_front = 0;
        for line in text.split_inclusive('\n') {
            if line == "---\n" {
                in_front += 1;
            }
            if in_front == 1 && line.starts_with("Notes: ") {
                out.push_str(&format!("Notes: {notes}\n"));
            } else if in_front == 1 && line.starts_with("Count: ") {
                out.push_str(&format!("Count: {count}\n"));
            } else {
                out.push_str(line);
            }
        }
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let tmp = path.with_file_name(format!(".{name}.tmp-{}", self.seq));
        let r = std::fs::write(&tmp, out.as_bytes()).and_then(|()| std::fs::rename(&tmp, &path));
        if let Err(e) = r {
            self.sh.violation(format!(
                "w{}: rewrite of {rel} through {} failed: {e}",
                self.w,
                tmp.display()
            ));
            let _ = std::fs::remove_file(&tmp);
            return false;
        }
        true
    }

    /// `cp` of a local file to a new page in the own folder (created in Notion at once).
    fn create(&mut self) {
        let created = self.pages.iter().filter(|m| m.id.is_none()).count();
        if created >= 12 {
            return;
        }
        let title = format!("w{} extra {}", self.w, self.seq);
        let para = self.token("created");
        let local = self.scratch.join(format!("w{}.md", self.w));
        std::fs::write(&local, format!("{para}\n")).expect("scratch file");
        let rel = format!("Soak/Worker {}/{title}.md", self.w);
        let (ok, _, err) = tool(Command::new("cp").arg(&local).arg(self.sh.p(&rel)));
        let mut m = PageModel {
            title,
            id: None,
            paras: vec![para],
            row: None,
            state: Presence::Live,
        };
        if ok {
            self.sh.counters.creates.fetch_add(1, Ordering::Relaxed);
        } else {
            self.refused(&format!("cp to {rel}"), &err);
            // The page may have been created (a lost response) with or without the content.
            m.state = Presence::Either(vec![Vec::new(), m.paras.clone()]);
        }
        self.pages.push(m);
    }

    /// `rm` of a page this worker created.
    fn remove(&mut self) {
        let c: Vec<usize> = self
            .live()
            .into_iter()
            .filter(|i| self.pages[*i].id.is_none())
            .collect();
        if c.is_empty() {
            return;
        }
        let i = c[self.rng.random_range(0..c.len())];
        let rel = self.pages[i].rel(self.w);
        let (ok, _, err) = tool(Command::new("rm").arg(self.sh.p(&rel)));
        if ok {
            self.pages[i].state = Presence::Removed;
            self.sh.counters.removes.fetch_add(1, Ordering::Relaxed);
        } else {
            // A page whose save is not in Notion yet is kept (EBUSY), faults or not.
            if err.contains("busy") {
                self.sh.counters.refused.fetch_add(1, Ordering::Relaxed);
                return;
            }
            self.refused(&format!("rm {rel}"), &err);
            self.pages[i].state = Presence::Either(vec![self.pages[i].paras.clone()]);
        }
    }
}

/// Appends a paragraph to a remote page through the control API now and then.
fn remote_actor(sh: Arc<Shared>, ctl: Control, seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x5eed);
    {
        let mut m = sh.remote.lock().unwrap();
        *m = (0..REMOTE_PAGES)
            .map(|k| vec![format!("remote {k} seed")])
            .collect();
    }
    let mut n = 0;
    while !sh.stop.load(Ordering::Relaxed) {
        std::thread::sleep(REMOTE_EVERY);
        let k = rng.random_range(0..REMOTE_PAGES);
        n += 1;
        let text = format!("remote {k} n{n}");
        let mut m = sh.remote.lock().unwrap();
        match ctl.append_blocks(&id(remote_page(k)), json!([paragraph(&text)])) {
            Ok(_) => {
                m[k].push(text);
                sh.counters.remote.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => sh.violation(format!("remote edit failed: {e}")),
        }
    }
}

/// The files of the generated workspace (not the soak's), relative to the mount.
fn files_under(root: &Path, dir: &Path, out: &mut Vec<String>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
        if rel == "Soak" || rel == "Soak.md" {
            continue;
        }
        match e.file_type() {
            Ok(t) if t.is_dir() => files_under(root, &p, out),
            Ok(_) if rel.ends_with(".md") => out.push(rel),
            _ => {}
        }
    }
}

// ----- Notion, through the emulator's HTTP API ------------------------------------------

struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
    rt: tokio::runtime::Runtime,
}

impl Api {
    fn get(&self, path: &str) -> Value {
        let url = format!("{}{path}", self.base);
        self.rt.block_on(async {
            let r = self
                .http
                .get(&url)
                .bearer_auth(&self.token)
                .header("Notion-Version", NOTION_VERSION)
                .send()
                .await
                .unwrap_or_else(|e| panic!("GET {url}: {e}"));
            let status = r.status();
            let v: Value = r.json().await.unwrap_or(Value::Null);
            assert!(status.is_success(), "GET {url}: {status} {v}");
            v
        })
    }

    /// The visible top-level blocks of a page, every page of the list.
    fn children(&self, page: &str) -> Vec<Value> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut path = format!("/v1/blocks/{page}/children?page_size=100");
            if let Some(c) = &cursor {
                path.push_str(&format!("&start_cursor={c}"));
            }
            let v = self.get(&path);
            out.extend(v["results"].as_array().cloned().unwrap_or_default());
            match v["next_cursor"].as_str() {
                Some(c) if v["has_more"] == true => cursor = Some(c.to_string()),
                _ => return out,
            }
        }
    }

    fn page(&self, id: &str) -> Value {
        self.get(&format!("/v1/pages/{id}"))
    }
}

fn plain(rich: &Value) -> String {
    rich.as_array()
        .map(|a| a.iter().filter_map(|r| r["plain_text"].as_str()).collect())
        .unwrap_or_default()
}

/// The paragraphs of a page in Notion; other block types are violations.
fn notion_paras(api: &Api, page: &str, what: &str, bad: &mut Vec<String>) -> Vec<String> {
    let mut out = Vec::new();
    for b in api.children(page) {
        let ty = b["type"].as_str().unwrap_or_default();
        match ty {
            "paragraph" => {
                let t = plain(&b["paragraph"]["rich_text"]);
                if !t.trim().is_empty() {
                    out.push(t);
                }
            }
            "child_page" | "child_database" => {}
            other => bad.push(format!("{what}: a {other} block in Notion")),
        }
    }
    out
}

/// Notion against the workers' models; the violations.
fn check_notion(api: &Api, models: &[Vec<PageModel>]) -> Vec<String> {
    let mut bad = Vec::new();
    for (w, pages) in models.iter().enumerate() {
        let mut in_notion: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for b in api.children(&id(worker_page(w))) {
            if b["type"] == "child_page" {
                let title = b["child_page"]["title"].as_str().unwrap_or_default();
                in_notion
                    .entry(title.to_string())
                    .or_default()
                    .push(b["id"].as_str().unwrap_or_default().to_string());
            }
        }
        for (title, ids) in &in_notion {
            if ids.len() > 1 {
                bad.push(format!("w{w}: {} pages titled {title:?}", ids.len()));
            }
            if !pages.iter().any(|m| m.row.is_none() && &m.title == title) {
                bad.push(format!("w{w}: page {title:?} in Notion, not in the model"));
            }
        }
        for m in pages {
            let what = format!("w{w} {:?}", m.title);
            let page_id = match (&m.row, &m.id) {
                (Some(_), Some(i)) => Some(i.clone()),
                _ => in_notion.get(&m.title).and_then(|ids| ids.first().cloned()),
            };
            let Some(page_id) = page_id else {
                if m.state == Presence::Live {
                    bad.push(format!("{what}: not in Notion"));
                }
                continue;
            };
            let paras = notion_paras(api, &page_id, &what, &mut bad);
            match &m.state {
                Presence::Removed => bad.push(format!("{what}: removed, still in Notion")),
                Presence::Either(options) => {
                    if !options.contains(&paras) {
                        bad.push(format!(
                            "{what}: Notion has {paras:?}, one of {options:?} expected"
                        ));
                    }
                }
                Presence::Live if paras != m.paras => {
                    bad.push(format!(
                        "{what}: Notion has {paras:?}, the model {:?}",
                        m.paras
                    ));
                }
                Presence::Live => {}
            }
            if let Some(r) = &m.row {
                let p = api.page(&page_id);
                let notes = plain(&p["properties"]["Notes"]["rich_text"]);
                let count = p["properties"]["Count"]["number"].as_i64();
                if notes != r.notes || count != Some(r.count) {
                    bad.push(format!(
                        "{what}: Notion has Notes {notes:?} Count {count:?}, the model {:?} {}",
                        r.notes, r.count
                    ));
                }
            }
        }
    }
    bad
}

/// The mount against the models (after the sync), and the remote pages once the feed has
/// polled; the violations.
fn check_mount(sh: &Shared, models: &[Vec<PageModel>]) -> Vec<String> {
    let mut bad = Vec::new();
    for (w, pages) in models.iter().enumerate() {
        for m in pages.iter().filter(|m| m.state == Presence::Live) {
            let rel = m.rel(w);
            match std::fs::read_to_string(sh.p(&rel)) {
                Ok(text) => {
                    if let Some(v) = mismatch(m, &text) {
                        bad.push(format!("mount after sync: {rel} shows {v}"));
                    }
                }
                Err(e) => bad.push(format!("mount after sync: {rel}: {e}")),
            }
        }
    }
    let model = sh.remote.lock().unwrap().clone();
    let deadline = Instant::now() + Duration::from_secs(TTL_SECS * 4 + 10);
    for (k, want) in model.iter().enumerate() {
        let rel = format!("Soak/Remote/Remote {k}.md");
        loop {
            let got = std::fs::read_to_string(sh.p(&rel))
                .map(|t| paragraphs(&t))
                .unwrap_or_default();
            if &got == want {
                break;
            }
            if Instant::now() > deadline {
                bad.push(format!("mount: {rel} shows {got:?}, Notion {want:?}"));
                break;
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    }
    bad
}

// ----- main -----------------------------------------------------------------------------

fn main() {
    let cfg = Config::from_env();
    if !Path::new("/dev/fuse").exists() || Command::new("fusermount3").arg("-V").output().is_err() {
        println!("skipped: /dev/fuse or fusermount3 is missing (apt-get install fuse3)");
        return;
    }
    println!(
        "soak: {:.0} s, {} workers, sample every {:.0} s, fault phases of {:.0} s, {} generated pages, --rate {}, --ttl {TTL_SECS}, seed {}",
        cfg.duration.as_secs_f64(),
        cfg.workers,
        cfg.sample.as_secs_f64(),
        cfg.phase_len().as_secs_f64(),
        cfg.pages,
        cfg.rate,
        cfg.seed
    );
    println!("binary: {}", binary().display());
    let (seed, models) = seed(&cfg);
    let emu = Emulator::start_blocking(EmulatorConfig {
        seed,
        ..EmulatorConfig::default()
    })
    .expect("emulator");
    let ctl = emu.control();
    let work = tempfile::Builder::new()
        .prefix("notionfs-soak-")
        .tempdir()
        .expect("work dir");
    let mp = work.path().join("mnt");
    let cache = work.path().join("cache");
    let scratch = work.path().join("scratch");
    for d in [&mp, &scratch] {
        std::fs::create_dir(d).expect("dir");
    }
    let mut mount = Mount::start(&emu, &mp, &cache, &cfg.rate);
    println!("mount pid {}, log {}", mount.pid(), mount.log.display());

    let mut others = Vec::new();
    files_under(&mp, &mp, &mut others);
    others.sort();
    println!("{} files of the generated workspace to read", others.len());
    let others = Arc::new(others);

    let sh = Arc::new(Shared {
        mp: mp.clone(),
        stop: AtomicBool::new(false),
        faulty: AtomicBool::new(false),
        counters: Counters::default(),
        violations: Mutex::new(Vec::new()),
        remote: Mutex::new(Vec::new()),
        start: Instant::now(),
    });
    let mut samples = vec![sample(&sh, mount.pid(), &ctl, PHASES[0])];
    println!("\n{HEADER}\n{}", row(&samples[0]));

    let remote = {
        let (sh, ctl) = (sh.clone(), ctl.clone());
        let seed = cfg.seed;
        std::thread::spawn(move || remote_actor(sh, ctl, seed))
    };
    let workers: Vec<_> = models
        .into_iter()
        .enumerate()
        .map(|(w, pages)| {
            let wk = Worker {
                w,
                sh: sh.clone(),
                rng: StdRng::seed_from_u64(cfg.seed.wrapping_add(w as u64 + 1)),
                pages,
                others: others.clone(),
                seq: 0,
                scratch: scratch.clone(),
            };
            std::thread::Builder::new()
                .name(format!("worker-{w}"))
                .spawn(move || wk.run())
                .expect("worker")
        })
        .collect();

    let mut phase = 0;
    let mut next_sample = cfg.sample;
    while sh.start.elapsed() < cfg.duration {
        std::thread::sleep(Duration::from_millis(200));
        let now = sh.start.elapsed();
        let p = (now.as_secs_f64() / cfg.phase_len().as_secs_f64()) as usize % PHASES.len();
        if p != phase {
            phase = p;
            // A refusal from the phase that just ended is not one without faults.
            sh.faulty.store(true, Ordering::Relaxed);
            set_phase(&ctl, phase);
            if phase == 0 {
                std::thread::sleep(Duration::from_secs(2));
                sh.faulty.store(false, Ordering::Relaxed);
            }
        }
        if mount.child.try_wait().ok().flatten().is_some() {
            sh.violation("the mount process exited".into());
            break;
        }
        if now >= next_sample {
            next_sample += cfg.sample;
            let s = sample(&sh, mount.pid(), &ctl, PHASES[phase]);
            println!("{}", row(&s));
            samples.push(s);
        }
    }

    sh.stop.store(true, Ordering::Relaxed);
    let models: Vec<Vec<PageModel>> = workers
        .into_iter()
        .map(|h| h.join().expect("worker panicked"))
        .collect();
    remote.join().expect("remote actor");
    set_phase(&ctl, 0);
    let s = sample(&sh, mount.pid(), &ctl, "off");
    println!("{}", row(&s));
    samples.push(s);

    let t = Instant::now();
    let sync = Command::new("timeout")
        .arg("900")
        .arg(binary())
        .arg("sync")
        .arg(&mp)
        .arg("--wait")
        .env_remove("RUST_LOG")
        .output()
        .expect("notionfs sync");
    let synced = t.elapsed();
    let s = sample(&sh, mount.pid(), &ctl, "synced");
    println!("{}", row(&s));
    samples.push(s);
    let st = status_json(&mp);
    let mut bad: Vec<String> = sh.violations.lock().unwrap().clone();
    if !sync.status.success() {
        bad.push(format!(
            "notionfs sync --wait: {}: {}{}",
            sync.status,
            String::from_utf8_lossy(&sync.stdout),
            String::from_utf8_lossy(&sync.stderr)
        ));
    }
    for (k, what) in [
        ("pending", "pending"),
        ("failed", "failed"),
        ("conflicts", "conflict"),
    ] {
        for e in st[k].as_array().into_iter().flatten() {
            bad.push(format!("after the sync, {what}: {e}"));
        }
    }
    if st["journal_records"].as_u64() != Some(0) {
        bad.push(format!(
            "journal records after the sync: {}",
            st["journal_records"]
        ));
    }

    let api = Api {
        http: reqwest::Client::new(),
        base: emu.base_url(),
        token: emu.token().to_string(),
        rt: tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime"),
    };
    let before_check = ctl.stats();
    let notion_bad = check_notion(&api, &models);
    let mount_bad = check_mount(&sh, &models);
    bad.extend(notion_bad);
    bad.extend(mount_bad);

    let log = std::fs::read_to_string(&mount.log).unwrap_or_default();
    let warns = log.lines().filter(|l| l.contains("WARN")).count();
    let errors = log.lines().filter(|l| l.contains("ERROR")).count();
    let panics = log.lines().filter(|l| l.contains("panic")).count();
    let exit = mount.stop();
    if !exit.is_some_and(|s| s.success()) {
        bad.push(format!(
            "the mount did not exit cleanly on unmount: {exit:?}"
        ));
    }
    if panics > 0 {
        bad.push(format!("{panics} log lines mention a panic"));
    }

    print_summary(
        &cfg,
        &samples,
        &sh,
        &models,
        synced,
        &before_check,
        warns,
        errors,
    );
    println!(
        "\nverdict: {}",
        if bad.is_empty() { "PASS" } else { "FAIL" }
    );
    for b in bad.iter().take(SHOWN) {
        println!("  - {b}");
    }
    if bad.len() > SHOWN {
        println!("  ... and {} more", bad.len() - SHOWN);
    }
    if !bad.is_empty() {
        let kept = work.keep();
        println!("work dir kept: {}", kept.display());
        std::process::exit(1);
    }
}

#[allow(clippy::too_many_arguments)]
fn print_summary(
    cfg: &Config,
    samples: &[Sample],
    sh: &Shared,
    models: &[Vec<PageModel>],
    synced: Duration,
    calls: &BTreeMap<String, u64>,
    warns: usize,
    errors: usize,
) {
    println!(
        "\nsamples ({} s run, {} workers):\n{HEADER}",
        cfg.duration.as_secs(),
        cfg.workers
    );
    for s in samples {
        println!("{}", row(s));
    }
    let rss: Vec<u64> = samples.iter().map(|s| s.rss_kib).collect();
    let fds: Vec<usize> = samples.iter().map(|s| s.fds).collect();
    let mb = |k: u64| k as f64 / 1024.0;
    println!(
        "\nRSS: first {:.1} MB, last {:.1} MB, max {:.1} MB; fds: first {}, last {}, max {}",
        mb(rss[0]),
        mb(*rss.last().unwrap()),
        mb(*rss.iter().max().unwrap()),
        fds[0],
        fds.last().unwrap(),
        fds.iter().max().unwrap()
    );
    let c = &sh.counters;
    let ambiguous = models
        .iter()
        .flatten()
        .filter(|m| matches!(m.state, Presence::Either(_)))
        .count();
    println!(
        "operations: {} ({} reads, {} edits acknowledged, {} pages created, {} removed, {} refused during faults, {} creates/removes left undecided by a refusal); remote edits: {}",
        c.ops.load(Ordering::Relaxed),
        c.reads.load(Ordering::Relaxed),
        c.edits.load(Ordering::Relaxed),
        c.creates.load(Ordering::Relaxed),
        c.removes.load(Ordering::Relaxed),
        c.refused.load(Ordering::Relaxed),
        ambiguous,
        c.remote.load(Ordering::Relaxed),
    );
    println!(
        "final sync --wait: {:.1} s; mount log: {warns} WARN, {errors} ERROR lines",
        synced.as_secs_f64()
    );
    let total: u64 = calls.values().sum();
    println!("emulator calls by endpoint during the run ({total}):");
    let mut by: Vec<(&String, &u64)> = calls.iter().collect();
    by.sort_by(|a, b| b.1.cmp(a.1));
    for (k, v) in by {
        println!("  {v:>8}  {k}");
    }
}
