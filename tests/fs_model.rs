//! A reference model of the filesystem (as mountpoint-s3 checks its own): random sequences
//! of create, write (`O_TRUNC`), append, rename, unlink, mkdir, read and list in a page's
//! folder, mixed with remote edits, API faults (5xx on a share of requests), crashes
//! (`kill -9`: the runtime dies with whatever was scheduled) and clean remounts, run
//! against the core and the emulator over HTTP, and compared after every step with a
//! simple in-memory model of the folder:
//! - an operation the mount accepted shows at once (listing and content), and survives a
//!   crash and a remount;
//! - an operation refused during faults (EIO) changed nothing;
//! - at the end, with the faults gone and the write-back settled, Notion holds exactly the
//!   model: the same pages, each with the model's paragraphs, and no journal record left.
//!
//! Remote edits append a paragraph in Notion to a page that has nothing pending; the model
//! expects it once the change feed has polled. `PROPTEST_CASES` sets the number of cases
//! (2,000 by default, run by 6 threads at once, about two minutes; a longer run:
//! `PROPTEST_CASES=10000 cargo test --test fs_model`);
//! crashes and API faults are among the random steps (`NOTIONFS_MODEL_CRASH=0` and
//! `NOTIONFS_MODEL_FAULTS=0` leave them out; see [`crash_weight`], [`faults_weight`]).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use common::driver::{errno, CoreDriver, Driver, Setup, Stop};
use notionfs::emulator::{Faults, Seed};
use proptest::prelude::*;
use serde_json::json;

const ROOT_PAGE: &str = "f5f5f5f5-0000-4000-8000-00000000ab01";
const DIR: &str = "Model";
const NAMES: [&str; 4] = ["a", "b", "c", "seed"];

/// One step of a scenario.
#[derive(Clone, Debug)]
enum Step {
    /// `write(NAME.md)`: creates the page or replaces its content.
    Write(usize, Vec<u8>),
    /// Appends one paragraph (`>>`).
    Append(usize, u8),
    /// `mv NAME.md OTHER.md` (only when OTHER does not exist).
    Rename(usize, usize),
    /// `rm NAME.md`.
    Unlink(usize),
    /// `mkdir NAME` (only when NAME does not exist).
    Mkdir(usize),
    /// Someone appends a paragraph in Notion to a page with nothing pending; the feed polls.
    Remote(usize, u8),
    /// The write-back pushes what is pending (as `notionfs sync --wait`).
    Settle,
    /// 5xx answers on a share of requests from now on (0: none).
    Faults(u8),
    /// The process dies (`kill -9`) and a new mount starts on the same cache.
    Crash,
    /// Unmount and mount again.
    Remount,
}

fn words() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(0u8..20, 1..4)
}

fn step() -> impl Strategy<Value = Step> {
    let name = 0..NAMES.len();
    prop_oneof![
        4 => (name.clone(), words()).prop_map(|(n, w)| Step::Write(n, w)),
        2 => (name.clone(), 0u8..20).prop_map(|(n, w)| Step::Append(n, w)),
        2 => (name.clone(), name.clone()).prop_map(|(a, b)| Step::Rename(a, b)),
        2 => name.clone().prop_map(Step::Unlink),
        1 => name.clone().prop_map(Step::Mkdir),
        2 => (name, 0u8..20).prop_map(|(n, w)| Step::Remote(n, w)),
        2 => Just(Step::Settle),
        faults_weight() => prop_oneof![Just(0u8), Just(30u8)].prop_map(Step::Faults),
        crash_weight() => Just(Step::Crash),
        1 => Just(Step::Remount),
    ]
}

/// Crashes among the random steps: on by default; `NOTIONFS_MODEL_CRASH=0` leaves them out.
/// (They were off while a crash could show an older save: that was the journal listing
/// race, fixed; the driver also starts the core as the daemon does, namespace queue and
/// all.)
fn crash_weight() -> u32 {
    u32::from(std::env::var("NOTIONFS_MODEL_CRASH").map_or(true, |v| v != "0"))
}

/// API faults among the random steps: on by default; `NOTIONFS_MODEL_FAULTS=0` leaves
/// them out. What they found in namespace changes made during faults is fixed and kept in
/// [`found_cases`] and [`found_fault_cases`].
fn faults_weight() -> u32 {
    u32::from(std::env::var("NOTIONFS_MODEL_FAULTS").map_or(true, |v| v != "0"))
}

fn para(w: u8) -> String {
    format!("paragraph {w} of the model")
}

fn seed() -> Seed {
    let seed = json!({
        "workspace_name": "Model",
        "workspace_id": "f5f5f5f5-0000-4000-8000-000000000002",
        "bot": {"id": "f5f5f5f5-0000-4000-8000-0000000000b1", "name": "Bot"},
        "pages": [
            {"id": ROOT_PAGE, "parent": {"workspace": true}, "title": DIR, "children": []},
            {"id": "f5f5f5f5-0000-4000-8000-00000000ab02", "parent": {"page_id": ROOT_PAGE},
             "title": "seed", "children": [{"type": "paragraph", "paragraph": {"rich_text": [
                {"type": "text", "text": {"content": para(0)}}]}}]},
        ],
    });
    Seed::from_json(&seed.to_string()).expect("seed")
}

/// A page of the model: its paragraphs, and whether `mkdir` made its folder visible.
#[derive(Clone, Debug, Default, PartialEq)]
struct Page {
    paras: Vec<String>,
    folder: bool,
}

/// The folder as it should be.
#[derive(Debug, Default)]
struct Model {
    pages: BTreeMap<String, Page>,
    faults: bool,
    /// Paragraphs written so far: each new one is unique, so no save is byte for byte an
    /// older version (that case is `a_save_equal_to_an_older_version_...`).
    written: usize,
}

impl Model {
    fn para(&mut self, w: u8) -> String {
        self.written += 1;
        format!("{} ({})", para(w), self.written)
    }
}

impl Model {
    fn listing(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for (name, p) in &self.pages {
            out.insert(format!("{name}.md"));
            if p.folder {
                out.insert(name.clone());
            }
        }
        out
    }
}

fn text(paras: &[String]) -> String {
    if paras.is_empty() {
        return String::new();
    }
    format!("{}\n", paras.join("\n\n"))
}

fn paragraphs(text: &str) -> Vec<String> {
    text.split("\n\n")
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

fn path(name: &str) -> String {
    format!("{DIR}/{name}.md")
}

/// Runs `op`; during faults an EIO means "not done" (and the model stays), otherwise the
/// operation must succeed.
fn accepted(m: &Model, what: &str, r: std::io::Result<()>) -> bool {
    match r {
        Ok(()) => true,
        // (`rm` of a page whose save could not be pushed yet is refused: EBUSY.)
        Err(e) if m.faults => {
            let code = e.raw_os_error();
            assert!(
                code == Some(libc::EIO) || code == Some(libc::EBUSY),
                "{what} during faults: {e}"
            );
            false
        }
        Err(e) => panic!("{what}: {e}"),
    }
}

fn apply(d: &mut CoreDriver, m: &mut Model, step: &Step) {
    match step {
        Step::Write(n, w) => {
            let name = NAMES[*n];
            let paras: Vec<String> = w.iter().map(|w| m.para(*w)).collect();
            let new = !m.pages.contains_key(name);
            if accepted(m, "write", d.write(&path(name), text(&paras).as_bytes())) {
                let p = m.pages.entry(name.to_string()).or_default();
                p.paras = paras;
            } else {
                assert!(new, "a save of an existing page is local: never refused");
            }
        }
        Step::Append(n, w) => {
            let name = NAMES[*n];
            if !m.pages.contains_key(name) {
                return;
            }
            let new = m.para(*w);
            let p = m.pages.get_mut(name).expect("page");
            let add = if p.paras.is_empty() {
                format!("{new}\n")
            } else {
                format!("\n{new}\n")
            };
            d.append(&path(name), add.as_bytes()).expect("append");
            p.paras.push(new);
        }
        Step::Rename(a, b) => {
            let (a, b) = (NAMES[*a], NAMES[*b]);
            if a == b || !m.pages.contains_key(a) || m.pages.contains_key(b) {
                return;
            }
            if accepted(m, "rename", d.rename(&path(a), &path(b))) {
                let p = m.pages.remove(a).expect("page");
                m.pages.insert(b.to_string(), p);
            }
        }
        Step::Unlink(n) => {
            let name = NAMES[*n];
            if !m.pages.contains_key(name) {
                assert_eq!(errno(d.unlink(&path(name))), libc::ENOENT);
                return;
            }
            if accepted(m, "unlink", d.unlink(&path(name))) {
                m.pages.remove(name);
            }
        }
        Step::Mkdir(n) => {
            let name = NAMES[*n];
            if m.pages.contains_key(name) {
                return;
            }
            if accepted(m, "mkdir", d.mkdir(&format!("{DIR}/{name}"))) {
                m.pages.insert(
                    name.to_string(),
                    Page {
                        paras: Vec::new(),
                        folder: true,
                    },
                );
            }
        }
        Step::Remote(n, w) => remote(d, m, NAMES[*n], *w),
        Step::Settle => {
            if !m.faults {
                d.settle();
                assert_eq!(d.journal_records(), 0, "{:?}", d.failed());
            }
        }
        Step::Faults(p) => {
            m.faults = *p > 0;
            let ctl = d.emu().control();
            let mut f = ctl.faults();
            f.fault_rate = f64::from(*p) / 100.0;
            ctl.set_faults(f);
        }
        Step::Crash | Step::Remount => {
            d.stop(if matches!(step, Step::Crash) {
                Stop::Crash
            } else {
                Stop::Clean
            });
            // A mount starts while Notion answers (a crash is not a fault of the API).
            let ctl = d.emu().control();
            let faults = ctl.faults();
            ctl.set_faults(Faults {
                fault_rate: 0.0,
                ..faults
            });
            d.start();
            d.emu().control().set_faults(faults);
        }
    }
}

/// A remote append to `name` when Notion has all of it; once the feed has seen it, the
/// file shows it.
fn remote(d: &mut CoreDriver, m: &mut Model, name: &str, w: u8) {
    if m.faults || !m.pages.contains_key(name) {
        return;
    }
    d.settle();
    if d.journal_records() > 0 {
        return;
    }
    let ctl = d.emu().control();
    let Some(id) = ctl
        .children_ids(ROOT_PAGE)
        .into_iter()
        .find(|id| ctl.page_json(id).is_some_and(|p| title(&p) == name))
    else {
        panic!("{name} is not in Notion after a settle");
    };
    let text = m.para(w);
    let block = json!([{"type": "paragraph", "paragraph": {"rich_text": [
        {"type": "text", "text": {"content": text.clone()}}]}}]);
    ctl.append_blocks(&id, block).expect("remote append");
    // Notion rounds edit times to the minute: the feed re-reads a page read within its
    // edit's minute, so one poll shows it; or the next, when the poll began while the
    // settled push was still finishing (a copy asked for during a write of the page is
    // left for the next poll, see `writeback::marks`).
    d.poll();
    d.poll();
    m.pages.get_mut(name).expect("page").paras.push(text);
}

fn title(page: &serde_json::Value) -> String {
    page["properties"]
        .as_object()
        .and_then(|ps| ps.values().find(|p| p["type"] == "title"))
        .and_then(|p| p["title"].as_array())
        .map(|rs| {
            rs.iter()
                .filter_map(|r| r["plain_text"].as_str())
                .collect::<String>()
        })
        .unwrap_or_default()
}

/// The mount shows the model: the listing and every page's content.
fn check_mount(d: &CoreDriver, m: &Model, after: &Step) {
    let names = d.list(DIR).expect("list");
    assert_eq!(names, m.listing(), "after {after:?}");
    for (name, p) in &m.pages {
        let got = d.read(&path(name)).expect("read");
        let got = String::from_utf8(got).expect("utf-8");
        assert_eq!(paragraphs(&got), p.paras, "{name} after {after:?}: {got:?}");
    }
}

/// Notion holds the model.
fn check_notion(d: &CoreDriver, m: &Model) {
    let ctl = d.emu().control();
    let mut got = BTreeMap::new();
    for id in ctl.children_ids(ROOT_PAGE) {
        let Some(page) = ctl.page_json(&id) else {
            continue;
        };
        if page["in_trash"] == true {
            continue;
        }
        let paras: Vec<String> = ctl
            .children_ids(&id)
            .iter()
            .filter_map(|b| ctl.plain_text(b))
            .collect();
        assert!(
            got.insert(title(&page), paras).is_none(),
            "two pages titled {}",
            title(&page)
        );
    }
    let want: BTreeMap<String, Vec<String>> = m
        .pages
        .iter()
        .map(|(n, p)| (n.clone(), p.paras.clone()))
        .collect();
    assert_eq!(got, want);
}

fn run(steps: &[Step]) {
    let mut d = CoreDriver::start(Setup {
        seed: Some(seed()),
        ttl: Duration::from_secs(3600),
        ..Setup::default()
    });
    let mut m = Model::default();
    m.pages.insert(
        "seed".into(),
        Page {
            paras: vec![para(0)],
            folder: false,
        },
    );
    check_mount(&d, &m, &Step::Settle);
    for s in steps {
        apply(&mut d, &mut m, s);
        check_mount(&d, &m, s);
    }
    apply(&mut d, &mut m, &Step::Faults(0));
    d.settle();
    assert_eq!(d.journal_records(), 0, "{:?}", d.failed());
    check_notion(&d, &m);
    // And a mount that starts from nothing agrees.
    d.stop(Stop::Clean);
    d.start();
    check_mount(&d, &m, &Step::Remount);
}

/// Random cases: `PROPTEST_CASES` (default 2,000) split among
/// `NOTIONFS_MODEL_WORKERS` threads (default 6). A case mostly waits (timers, the
/// emulator's answers), so cases in parallel finish in a fraction of the time; each worker
/// draws its own cases and shrinks its own failure.
#[test]
fn the_filesystem_follows_the_model() {
    use proptest::test_runner::{Config, RngSeed, TestRunner};
    let var = |k: &str, d: u32| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let (cases, workers) = (
        var("PROPTEST_CASES", 2000),
        var("NOTIONFS_MODEL_WORKERS", 6).max(1),
    );
    let threads: Vec<_> = (0..workers)
        .map(|w| {
            let base = Config::default();
            let config = Config {
                cases: cases / workers + u32::from(w < cases % workers),
                failure_persistence: None,
                // A fixed seed (`PROPTEST_RNG_SEED`) still gives each worker its own cases.
                rng_seed: match base.rng_seed {
                    RngSeed::Fixed(s) => RngSeed::Fixed(s.wrapping_add(u64::from(w))),
                    r => r,
                },
                ..base
            };
            std::thread::spawn(move || {
                let mut runner = TestRunner::new(config);
                runner
                    .run(&proptest::collection::vec(step(), 1..24), |steps| {
                        run(&steps);
                        Ok(())
                    })
                    .map_err(|e| format!("worker {w}: {e}"))
            })
        })
        .collect();
    let failures: Vec<String> = threads
        .into_iter()
        .filter_map(|t| t.join().expect("a worker").err())
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Runs `steps` `n` times: a case that fails only in some runs (timing, random faults).
fn run_times(steps: &[Step], n: usize) {
    for _ in 0..n {
        run(steps);
    }
}

/// Cases the model found, kept as plain tests.
#[test]
fn found_cases() {
    // A page trashed through the mount stays gone after a remount.
    run(&[Step::Unlink(3)]);
    // A save of a page whose content was appended to in Notion and read.
    run(&[Step::Remote(3, 0), Step::Write(3, vec![0])]);
    // A page trashed right after a remount.
    run(&[Step::Remount, Step::Unlink(2), Step::Unlink(3)]);
    // A page created and removed while Notion failed: once sent, its create's answer does
    // not show it again.
    run(&[
        Step::Faults(100),
        Step::Write(0, vec![1]),
        Step::Unlink(0),
        Step::Faults(0),
        Step::Settle,
    ]);
    // A page removed while its last save could not be pushed: the trash, queued behind
    // the save, goes out once the save has (it waited forever: the queued trash counted as
    // a newer save).
    run(&[
        Step::Write(0, vec![1]),
        Step::Settle,
        Step::Faults(100),
        Step::Write(0, vec![2]),
        Step::Unlink(0),
        Step::Faults(0),
        Step::Settle,
    ]);
}

/// Cases the model found with random faults: each fails only in some runs (the answer to
/// a queued create lands while a save, a read or an `rm` of the page is under way), so
/// each runs several times.
#[test]
fn found_fault_cases() {
    use Step::*;
    let steps = [
        Write(2, vec![1]),
        Faults(30),
        Write(2, vec![19, 8, 16]),
        Unlink(3),
        Mkdir(1),
        Write(0, vec![11]),
        Write(0, vec![12, 7]),
        Unlink(0),
        Remote(3, 17),
        Rename(0, 2),
        Remote(2, 17),
        Append(3, 3),
        Write(3, vec![13, 10]),
        Faults(0),
        Write(1, vec![15, 8]),
    ];
    run_times(&steps, 30);
    // A page removed while its save could not be pushed, then a remount: the trash still
    // queued, the parent's body (read again) lists the page; it stays out of the folder.
    let steps = [
        Write(2, vec![3, 7]),
        Rename(1, 0),
        Crash,
        Mkdir(3),
        Faults(30),
        Rename(1, 0),
        Remount,
        Append(3, 13),
        Remote(3, 19),
        Crash,
        Write(2, vec![13, 19, 3]),
        Unlink(3),
        Append(2, 18),
        Unlink(2),
        Rename(0, 1),
        Remount,
    ];
    run_times(&steps, 10);
    // Creates queued, then renamed, while Notion failed, with crashes between: after each
    // restart the page shows once, under its queued name, with its saves.
    let steps = [
        Write(3, vec![2]),
        Faults(30),
        Remote(2, 17),
        Crash,
        Write(3, vec![5]),
        Rename(3, 2),
        Write(0, vec![10, 4, 15]),
        Rename(1, 2),
        Rename(0, 1),
        Settle,
        Rename(3, 3),
        Remote(1, 12),
        Crash,
        Unlink(3),
    ];
    run_times(&steps, 10);
    // A folder made by `mkdir` while Notion failed, its create sent at once, then a crash
    // before the log said the folder is shown under Notion's id (the id map was written):
    // after the restart the folder shows (about 1 run in 14 crashed in that window).
    let steps = [
        Append(3, 14),
        Remote(1, 8),
        Faults(30),
        Unlink(3),
        Crash,
        Write(3, vec![14]),
        Write(0, vec![2]),
        Mkdir(1),
        Write(2, vec![19, 13, 6]),
        Settle,
        Crash,
        Faults(0),
        Settle,
        Remote(1, 18),
    ];
    run_times(&steps, 15);
    // A page created while Notion failed, its create answered, then removed (the trash
    // sent at once), then a crash: the snapshot knew it by its local id, the log by
    // Notion's; after the restart it stays gone.
    let steps = [
        Faults(30),
        Write(3, vec![14, 13]),
        Mkdir(0),
        Rename(1, 3),
        Write(2, vec![9, 3]),
        Crash,
        Crash,
        Settle,
        Unlink(2),
        Crash,
        Write(1, vec![4, 13]),
    ];
    run_times(&steps, 10);
}

/// A save whose push was cut off part way (once in this run, once by a remount) goes on
/// from what Notion holds of it: it was taken for a conflict (a stale read of the page tied
/// with the settled version, and the older won). Failed in about every run before the fix
/// with the model's cases run in parallel; faults make it vary, so it runs several times.
#[test]
fn a_push_cut_off_goes_on() {
    use Step::*;
    let steps = [
        Mkdir(3),
        Settle,
        Remote(1, 19),
        Append(2, 7),
        Rename(0, 2),
        Remote(3, 10),
        Faults(30),
        Mkdir(0),
        Write(3, vec![17]),
        Write(1, vec![13, 2, 9]),
        Mkdir(1),
        Write(1, vec![3, 0]),
        Write(3, vec![2, 19, 18]),
        Write(2, vec![9]),
        Unlink(2),
        Remount,
        Settle,
        Unlink(0),
        Write(3, vec![13, 5, 15]),
        Append(3, 14),
        Remount,
    ];
    run_times(&steps, 10);
    // A later save of the file (an append) after a push cut off by a crash: it goes on
    // from the settled version too (an older, emptier version looked closer). Shortened
    // from the sequence the model found (that one failed in every run under load before
    // the fix; this one is kept as a check of the same path).
    let steps = [
        Write(2, vec![7]),
        Rename(2, 0),
        Write(0, vec![9, 13, 19]),
        Crash,
        Faults(30),
        Write(0, vec![16, 13]),
        Crash,
        Append(0, 12),
        Settle,
    ];
    run_times(&steps, 10);
}

/// Crash cases the model found.
#[test]
fn found_crash_cases() {
    use Step::*;
    // A page's body read while its push was under way (half applied), then a crash and a
    // save that replaces the file: the save descends from the push's outcome, not from
    // that read (a conflict copy before). Timing-dependent: several runs.
    let steps = [
        Write(2, vec![13]),
        Unlink(2),
        Append(3, 18),
        Unlink(1),
        Write(2, vec![8, 14]),
        Rename(0, 2),
        Remount,
        Remote(1, 12),
        Write(2, vec![18, 9, 12]),
        Write(0, vec![14, 19]),
        Write(3, vec![18, 14, 8]),
        Write(0, vec![2]),
        Crash,
        Write(3, vec![13, 16, 17]),
        Rename(3, 0),
        Unlink(0),
        Settle,
    ];
    run_times(&steps, 10);
    // Two saves of a new page, then a crash: the newer shows.
    run(&[
        Step::Write(0, vec![1, 2]),
        Step::Write(0, vec![3]),
        Step::Crash,
    ]);
    run(&[Step::Write(0, vec![4]), Step::Append(0, 19), Step::Crash]);
    run(&[
        Step::Faults(30),
        Step::Write(1, vec![4]),
        Step::Append(1, 19),
        Step::Crash,
    ]);
    // A create queued while Notion failed, a crash, then the create sent after the restart:
    // the page shows once, with its content, under Notion's id.
    run(&[
        Step::Mkdir(2),
        Step::Faults(100),
        Step::Write(0, vec![14, 12]),
        Step::Crash,
        Step::Rename(3, 1),
        Step::Faults(0),
        Step::Settle,
    ]);
    run(&[
        Step::Faults(30),
        Step::Write(0, vec![14, 12]),
        Step::Crash,
        Step::Write(0, vec![18, 7]),
    ]);
    run(&[
        Step::Write(0, vec![15, 14, 17]),
        Step::Unlink(3),
        Step::Write(3, vec![4, 16, 16]),
        Step::Write(0, vec![6, 15, 7]),
        Step::Write(2, vec![12]),
        Step::Write(3, vec![11]),
        Step::Crash,
    ]);
}

/// A save byte for byte equal to an older version the mount served (a page emptied that
/// was empty when first read, after someone wrote in it in Notion) cannot be told from that
/// old buffer saved again: it changes nothing in Notion, and the file then shows Notion's
/// content again (the status never says clean over a file Notion does not hold).
#[test]
fn a_save_equal_to_an_older_version_changes_nothing_and_shows_notion() {
    let mut d = CoreDriver::start(Setup {
        seed: Some(seed()),
        ttl: Duration::from_secs(3600),
        ..Setup::default()
    });
    let mut m = Model::default();
    apply(&mut d, &mut m, &Step::Write(0, vec![]));
    apply(&mut d, &mut m, &Step::Remote(0, 1));
    d.write(&path("a"), b"").expect("empty the page");
    d.settle();
    assert_eq!(d.journal_records(), 0);
    let shown = String::from_utf8(d.read(&path("a")).expect("read")).expect("utf-8");
    assert_eq!(paragraphs(&shown), m.pages["a"].paras);
    assert_eq!(d.sync_state(&path("a")), "clean");
}
