//! Three-way reconciliation: merge when local and remote touched different blocks, conflict
//! when they touched the same ones; merged plans checked on the model and on the emulator.

mod common;

use common::blocks::*;
use notionfs::notion::model::Block;
use notionfs::sync::sim::simulate;
use notionfs::sync::{apply, diff, reconcile, same_content, Plan, Reconciled};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const P: &str = "page";

fn base() -> Vec<Block> {
    let mut t = vec![
        para("alpha"),
        para("bravo"),
        toggle("charlie", vec![para("delta"), para("echo")]),
        para("foxtrot"),
    ];
    number_ids(&mut t, &mut 0);
    t
}

/// Remote = base with `f` applied (ids kept, as Notion would for in-place edits).
fn remote_with(f: impl FnOnce(&mut Vec<Block>)) -> Vec<Block> {
    let mut r = base();
    f(&mut r);
    r
}

fn set_text(b: &mut Block, t: &str) {
    let id = b.id.clone();
    let children = std::mem::take(&mut b.children);
    *b = Block::with_children(para(t).kind, children);
    b.id = id;
}

#[test]
fn untouched_remote_is_a_clean_apply() {
    let mut local = strip_ids(&base());
    local[1] = para("bravo!");
    match reconcile(P, &base(), &local, &base()).unwrap() {
        Reconciled::Clean(plan) => assert_eq!(plan, diff(P, &base(), &local).unwrap()),
        other => panic!("{other:?}"),
    }
}

#[test]
fn edits_to_different_blocks_merge() {
    let remote = remote_with(|r| {
        set_text(&mut r[0], "alpha (remote)");
        r[2].children[1] = with_id(para("echo (remote)"), "t-4");
        r.push(with_id(para("golf (remote)"), "r-1"));
    });
    let mut local = strip_ids(&base());
    local[1] = para("bravo (local)");
    local[2].children[0] = para("delta (local)");
    local.insert(3, para("inserted locally"));
    let plan = match reconcile(P, &base(), &local, &remote).unwrap() {
        Reconciled::Merged(plan) => plan,
        other => panic!("{other:?}"),
    };
    assert_eq!(plan.ops.len(), 3, "only the local changes: {:?}", plan.ops);
    let merged = simulate(&remote, &plan, 0).unwrap().tree;
    let want = vec![
        para("alpha (remote)"),
        para("bravo (local)"),
        toggle(
            "charlie",
            vec![para("delta (local)"), para("echo (remote)")],
        ),
        para("inserted locally"),
        para("foxtrot"),
        para("golf (remote)"),
    ];
    assert!(same_content(&merged, &want));
    assert_eq!(merged[0].id.as_deref(), Some("t-0"));
}

#[test]
fn the_same_block_changed_on_both_sides_is_a_conflict() {
    let remote = remote_with(|r| set_text(&mut r[1], "bravo (remote)"));
    let mut local = strip_ids(&base());
    local[1] = para("bravo (local)");
    assert_eq!(
        reconcile(P, &base(), &local, &remote).unwrap(),
        Reconciled::Conflict {
            blocks: vec!["t-1".into()]
        }
    );
}

#[test]
fn local_edit_of_a_remotely_deleted_block_is_a_conflict() {
    let remote = remote_with(|r| {
        r.remove(3);
    });
    let mut local = strip_ids(&base());
    local[3] = para("foxtrot (local)");
    assert!(matches!(
        reconcile(P, &base(), &local, &remote).unwrap(),
        Reconciled::Conflict { .. }
    ));
}

#[test]
fn deleting_a_block_whose_child_changed_remotely_is_a_conflict() {
    let remote = remote_with(|r| r[2].children[0] = with_id(para("delta (remote)"), "t-3"));
    let mut local = strip_ids(&base());
    local.remove(2);
    assert!(matches!(
        reconcile(P, &base(), &local, &remote).unwrap(),
        Reconciled::Conflict { .. }
    ));
}

#[test]
fn inserts_after_the_same_block_are_a_conflict_elsewhere_a_merge() {
    let remote = remote_with(|r| r.insert(1, with_id(para("remote insert"), "r-1")));
    let mut local = strip_ids(&base());
    local.insert(1, para("local insert"));
    assert!(matches!(
        reconcile(P, &base(), &local, &remote).unwrap(),
        Reconciled::Conflict { .. }
    ));
    let mut local = strip_ids(&base());
    local.insert(3, para("local insert"));
    assert!(matches!(
        reconcile(P, &base(), &local, &remote).unwrap(),
        Reconciled::Merged(_)
    ));
}

#[tokio::test]
async fn merged_plan_applies_to_notion() {
    let seedblocks = strip_ids(&base());
    let (emu, client) = emulator_with(&seedblocks).await;
    let base = read_tree(&client, PAGE).await;
    // A person edits the first paragraph in Notion.
    emu.control()
        .set_block_text(base[0].id.as_deref().unwrap(), "alpha (remote)")
        .unwrap();
    let remote = read_tree(&client, PAGE).await;
    let mut local = strip_ids(&base);
    local[3] = para("foxtrot (local)");
    let plan = match reconcile(PAGE, &base, &local, &remote).unwrap() {
        Reconciled::Merged(p) => p,
        other => panic!("{other:?}"),
    };
    let applied = apply(&client, &plan).await.unwrap();
    let now = read_tree(&client, PAGE).await;
    let mut want = strip_ids(&base);
    want[0] = para("alpha (remote)");
    want[3] = para("foxtrot (local)");
    assert!(same_content(&now, &want), "{now:#?}\n{want:#?}");
    assert_eq!(ids(&now), ids(&base));
    assert_eq!(ids(&applied.tree), ids(&now));
}

#[test]
fn a_block_notion_already_holds_as_edited_is_no_conflict() {
    // The same change on both sides (a retried push whose update went through).
    let remote = remote_with(|r| set_text(&mut r[1], "bravo (local)"));
    let mut local = strip_ids(&base());
    local[1] = para("bravo (local)");
    local[3] = para("foxtrot (local)");
    let plan = match reconcile(P, &base(), &local, &remote).unwrap() {
        Reconciled::Clean(p) => p,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        plan.ops.len(),
        1,
        "only the update not done yet: {:?}",
        plan.ops
    );
    let now = simulate(&remote, &plan, 0).unwrap().tree;
    assert!(same_content(&now, &local) && same_content(&local, &now));
    assert_eq!(ids(&now), ids(&base()));
}

#[test]
fn a_run_notion_already_has_is_not_inserted_twice() {
    // Notion has the local insert (its response was lost) and a remote edit elsewhere.
    let remote = remote_with(|r| {
        r.insert(3, with_id(para("inserted"), "r-1"));
        r.insert(4, with_id(para("inserted too"), "r-2"));
        set_text(&mut r[5], "foxtrot (remote)");
    });
    let mut local = strip_ids(&base());
    local.insert(3, para("inserted"));
    local.insert(4, para("inserted too"));
    local.insert(0, para("new first"));
    let plan = match reconcile(P, &base(), &local, &remote).unwrap() {
        Reconciled::Merged(p) => p,
        other => panic!("{other:?}"),
    };
    assert_eq!(plan.ops.len(), 1, "only the new first line: {:?}", plan.ops);
    let now = simulate(&remote, &plan, 0).unwrap().tree;
    let mut want = local.clone();
    want[6] = para("foxtrot (remote)");
    assert!(same_content(&now, &want), "{now:#?}");
    assert_eq!(now[4].id.as_deref(), Some("r-1"));
    assert_eq!(now[5].id.as_deref(), Some("r-2"));
}

#[test]
fn a_different_insert_at_the_same_place_still_conflicts() {
    let remote = remote_with(|r| r.insert(1, with_id(para("theirs"), "r-1")));
    let mut local = strip_ids(&base());
    local.insert(1, para("inserted"));
    assert!(matches!(
        reconcile(P, &base(), &local, &remote).unwrap(),
        Reconciled::Conflict { .. }
    ));
}

/// Notion after the first `k` operations of `plan` (new ids `r-N`, as Notion gives real ids).
fn partly_applied(base: &[Block], plan: &Plan, k: usize) -> Vec<Block> {
    let mut prefix = plan.clone();
    prefix.ops.truncate(k);
    let mut tree = simulate(base, &prefix, 0).unwrap().tree;
    fn rename(t: &mut [Block]) {
        for b in t {
            if let Some(id) = b.id.as_mut() {
                if let Some(n) = id.strip_prefix("sim-") {
                    *id = format!("r-{n}");
                }
            }
            rename(&mut b.children);
        }
    }
    rename(&mut tree);
    tree
}

/// A push that stopped after any number of its operations, retried against the old base:
/// never a conflict with its own writes, and the retry ends with exactly the local content
/// (nothing duplicated, nothing lost), the blocks Notion already has keeping their ids.
#[test]
fn retry_after_a_partial_push_converges() {
    let mut rng = StdRng::seed_from_u64(6);
    let mut n = 0;
    let mut checked = 0;
    for round in 0..150 {
        let len = rng.random_range(1..12);
        let mut base = random_page(&mut rng, &mut n, len);
        number_ids(&mut base, &mut 0);
        let mut edited = base.clone();
        let edits: Vec<String> = (0..rng.random_range(1..5))
            .map(|_| random_edit(&mut rng, &mut n, &mut edited))
            .collect();
        let local = strip_ids(&edited);
        let plan = diff(P, &base, &local).unwrap();
        for k in 0..=plan.ops.len() {
            let remote = partly_applied(&base, &plan, k);
            let again = match reconcile(P, &base, &local, &remote).unwrap() {
                Reconciled::Clean(p) | Reconciled::Merged(p) => p,
                Reconciled::Conflict { blocks } => {
                    panic!("round {round} {edits:?}, {k} ops done: conflict on {blocks:?}")
                }
            };
            let now = simulate(&remote, &again, 1000).unwrap().tree;
            assert!(
                same_content(&now, &local) && same_content(&local, &now),
                "round {round} {edits:?}, {k} ops done:\n{now:#?}\n{local:#?}"
            );
            if k == plan.ops.len() {
                assert!(again.is_empty(), "round {round}: {:?}", again.ops);
            }
            // What the retry did not touch keeps the id Notion gave it.
            let kept: Vec<String> = ids(&now).into_iter().flatten().collect();
            for id in ids(&remote).into_iter().flatten() {
                let touched = again.ops.iter().any(|op| match op {
                    notionfs::sync::Op::Delete { id: d, .. } => *d == id,
                    notionfs::sync::Op::Update { id: u, .. } => *u == id,
                    _ => false,
                });
                if !touched && !id.starts_with("t-") {
                    assert!(kept.contains(&id), "round {round}: {id} lost");
                }
            }
            checked += 1;
        }
    }
    assert!(checked > 300, "{checked}");
}
