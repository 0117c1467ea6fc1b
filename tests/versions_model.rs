//! A reference model of saves against a page edited in Notion at the same time (the
//! versioned bases of the write-back): random interleavings of remote edits, polls of the
//! change feed, reads by other readers, and saves of an editor's buffer — which may be
//! older than what the mount last read. After every save:
//! - every paragraph the save did not change holds what Notion held before it (no remote
//!   edit is reverted, nothing else changes);
//! - the changed paragraph holds the local text, or Notion's text stays and the save is kept
//!   as a conflict copy; when Notion changed that same paragraph differently since the
//!   buffer was read it is always the latter. (When the buffer was read after that change,
//!   the content cannot tell the mount which it was: a conflict copy is allowed — never a
//!   silent revert — but a buffer read again after a conflict must then save.)
//!
//! The core runs against the in-process emulator over HTTP. `PROPTEST_CASES` sets the
//! number of cases (24 by default: a longer run is `PROPTEST_CASES=500 cargo test --test
//! versions_model`).

mod common;

use std::time::Duration;

use common::core::{cat, core, ino, save, sync_state};
use notionfs::emulator::{Emulator, EmulatorConfig, Seed};
use proptest::prelude::*;
use serde_json::json;

const PAGE: &str = "5e5e5e5e-0000-4000-8000-00000000ab01";
const PARAS: usize = 4;

/// One step of a scenario.
#[derive(Clone, Debug)]
enum Step {
    /// Someone edits paragraph `.0` in Notion.
    Remote(usize),
    /// The change feed polls.
    Poll,
    /// Another reader reads the file.
    Read,
    /// The editor reads the file into its buffer again.
    Reload,
    /// The editor changes paragraph `.0` in its buffer and saves it.
    Save(usize),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (0..PARAS).prop_map(Step::Remote),
        2 => Just(Step::Poll),
        2 => Just(Step::Read),
        1 => Just(Step::Reload),
        3 => (0..PARAS).prop_map(Step::Save),
    ]
}

fn seed() -> Seed {
    let paras: Vec<_> = (0..PARAS)
        .map(|i| {
            json!({"type": "paragraph", "paragraph": {"rich_text": [
            {"type": "text", "text": {"content": format!("paragraph {i} as created")}}]}})
        })
        .collect();
    let seed = json!({
        "workspace_name": "Model",
        "workspace_id": "5e5e5e5e-0000-4000-8000-000000000002",
        "bot": {"id": "5e5e5e5e-0000-4000-8000-0000000000b1", "name": "Bot"},
        "pages": [{"id": PAGE, "parent": {"workspace": true}, "title": "Model", "children": paras}],
    });
    Seed::from_json(&seed.to_string()).expect("seed")
}

/// The paragraphs of a file's text.
fn paragraphs(text: &str) -> Vec<String> {
    text.split("\n\n")
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

fn render(paras: &[String]) -> String {
    paras
        .iter()
        .map(|p| format!("{p}\n"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Runs one scenario; an `Err` says which invariant broke.
async fn run(steps: Vec<Step>) -> Result<(), String> {
    let emu = Emulator::start(EmulatorConfig {
        seed: seed(),
        ..EmulatorConfig::default()
    })
    .await
    .map_err(|e| e.to_string())?;
    let cache = tempfile::tempdir().unwrap();
    let core = core(&emu, cache.path(), Duration::from_secs(3600));
    let file = ino(&core, "Model.md").await;
    let ids = emu.control().children_ids(PAGE);
    let notion = || -> Vec<String> {
        ids.iter()
            .map(|id| emu.control().plain_text(id).unwrap_or_default())
            .collect()
    };
    let mut buffer = paragraphs(&String::from_utf8(cat(&core, file).await).unwrap());
    // What the buffer descends from (what the editor last read, or saved and kept).
    let mut base = buffer.clone();
    // Paragraphs whose last save conflicted with no remote edit since.
    let mut conflicted = [false; PARAS];
    for (n, s) in steps.into_iter().enumerate() {
        match s {
            Step::Remote(j) => {
                conflicted[j] = false;
                emu.control()
                    .set_block_text(&ids[j], &format!("paragraph {j} remote {n}"))
                    .map_err(|e| e.to_string())?;
            }
            Step::Poll => {
                core.poll_changes().await.map_err(|e| e.to_string())?;
            }
            Step::Read => {
                cat(&core, file).await;
            }
            Step::Reload => {
                buffer = paragraphs(&String::from_utf8(cat(&core, file).await).unwrap());
                base = buffer.clone();
            }
            Step::Save(j) => {
                let before = notion();
                let mine = format!("paragraph {j} local {n}");
                buffer[j] = mine.clone();
                save(&core, file, render(&buffer).as_bytes()).await;
                let w = core.write_back().unwrap().clone();
                w.flush_all().await;
                let state = sync_state(&core, file);
                let after = notion();
                for k in (0..PARAS).filter(|k| *k != j) {
                    if after[k] != before[k] {
                        return Err(format!(
                            "step {n}: paragraph {k} changed from {:?} to {:?} by a save of paragraph {j}",
                            before[k], after[k]
                        ));
                    }
                }
                // Notion changed the same paragraph since the buffer was read.
                let stale = before[j] != base[j] && before[j] != mine;
                let landed = after[j] == mine && state == "clean";
                let kept = after[j] == before[j] && state.starts_with("conflict");
                if !kept && (!landed || stale) {
                    return Err(format!(
                        "step {n}: save of paragraph {j} (stale: {stale}): Notion {:?}, state {state:?}",
                        after[j]
                    ));
                }
                if kept {
                    if conflicted[j] && !stale {
                        return Err(format!(
                            "step {n}: paragraph {j} conflicts again after a reload"
                        ));
                    }
                    conflicted[j] = true;
                    // The editor reads the page again (Notion's version) after a conflict.
                    core.poll_changes().await.map_err(|e| e.to_string())?;
                    buffer = paragraphs(&String::from_utf8(cat(&core, file).await).unwrap());
                } else {
                    conflicted[j] = false;
                }
                base = buffer.clone();
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(24),
        failure_persistence: None,
        .. ProptestConfig::default()
    })]

    #[test]
    fn saves_of_old_and_new_buffers_never_revert_remote_edits(steps in prop::collection::vec(step(), 4..16)) {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let r = rt.block_on(run(steps));
        prop_assert!(r.is_ok(), "{}", r.unwrap_err());
    }
}

/// Found by the model: after a conflict the editor reloads; its next save must not tie with
/// a read older than the conflict and conflict again.
#[test]
fn a_reloaded_buffer_saves_after_a_conflict() {
    use Step::*;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let steps = vec![Save(0), Poll, Remote(0), Read, Remote(0), Save(0), Save(0)];
    rt.block_on(run(steps)).unwrap();
}
