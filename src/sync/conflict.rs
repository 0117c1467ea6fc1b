//! Three-way reconciliation of a local edit with what Notion holds now (spec section 5,
//! conflicts), as pure logic.
//!
//! Inputs: `base` (the blocks the edit started from, with ids), `local` (the edited, parsed
//! tree) and `remote` (the blocks Notion holds now, with ids). Content is compared, not
//! `last_edited_time` (rounded to the minute).
//!
//! - Remote unchanged (same content as base): [`Reconciled::Clean`] with the plan from
//!   remote to local.
//! - Both changed, touching different blocks: [`Reconciled::Merged`]: the local plan
//!   (base -> local) replayed on remote ([`super::sim`]), then planned from remote, so the
//!   plan only touches what the local edit touched and its result has remote's ids.
//! - Otherwise [`Reconciled::Conflict`] with the ids changed on both sides: Notion's version
//!   stays, the caller keeps the local file as `T.conflict-…md`.
//!
//! "Touching" a block, per side: updating or deleting it (deleting also touches everything
//! inside it), inserting right after it (both sides inserting after the same block would
//! leave the order undefined) or into it. Remote changes are found by id: blocks gone, blocks
//! whose own content differs, new blocks (touching their previous sibling and parent).

use std::collections::{HashMap, HashSet};

use super::diff::{diff, same_content, Anchor, DiffError, Op, Plan, TEMP_ID_PREFIX};
use super::normalize::{compare_payload, payload_matches};
use super::sim::simulate;
use crate::notion::model::Block;

/// The decision for one edited page.
#[derive(Clone, Debug, PartialEq)]
pub enum Reconciled {
    /// Notion still holds the base: apply this plan.
    Clean(Plan),
    /// Both sides changed different blocks: this plan applies the local changes on top of
    /// Notion's.
    Merged(Plan),
    /// Both sides changed the same blocks (their ids): keep Notion's, report the local one.
    Conflict {
        /// Blocks touched by both sides.
        blocks: Vec<String>,
    },
}

/// Decides between applying, merging and reporting a conflict. Errors are the local edit's
/// own refusals ([`DiffError`]).
pub fn reconcile(
    page_id: &str,
    base: &[Block],
    local: &[Block],
    remote: &[Block],
) -> Result<Reconciled, DiffError> {
    if same_content(remote, base) && same_content(base, remote) {
        return diff(page_id, remote, local).map(Reconciled::Clean);
    }
    let local_plan = diff(page_id, base, local)?;
    let mine = local_touches(base, &local_plan);
    let theirs = remote_touches(page_id, base, remote);
    let mut both: Vec<String> = mine.intersection(&theirs).cloned().collect();
    both.sort();
    if !both.is_empty() {
        return Ok(Reconciled::Conflict { blocks: both });
    }
    // Replay the local operations on remote; deletes of blocks Notion already removed are
    // moot.
    let remote_ids = ids_of(remote);
    let mut replay = local_plan.clone();
    replay
        .ops
        .retain(|op| !matches!(op, Op::Delete { id, .. } if !remote_ids.contains(id)));
    let Ok(merged) = simulate(remote, &replay, 0) else {
        // The replay does not fit remote after all: treat as a conflict, never force it.
        return Ok(Reconciled::Conflict { blocks: Vec::new() });
    };
    // Blocks created by the replay lose their simulated ids: they are new to Notion.
    let wanted: Vec<Block> = merged.tree.iter().map(strip_sim_ids).collect();
    diff(page_id, remote, &wanted).map(Reconciled::Merged)
}

fn strip_sim_ids(b: &Block) -> Block {
    let mut out = b.clone();
    if out.id.as_deref().is_some_and(|i| i.starts_with("sim-")) {
        out.id = None;
    }
    out.children = b.children.iter().map(strip_sim_ids).collect();
    out
}

fn ids_of(tree: &[Block]) -> HashSet<String> {
    let mut out = HashSet::new();
    fn walk(t: &[Block], out: &mut HashSet<String>) {
        for b in t {
            if let Some(id) = &b.id {
                out.insert(id.clone());
            }
            walk(&b.children, out);
        }
    }
    walk(tree, &mut out);
    out
}

fn find<'a>(tree: &'a [Block], id: &str) -> Option<&'a Block> {
    tree.iter().find_map(|b| {
        if b.id.as_deref() == Some(id) {
            Some(b)
        } else {
            find(&b.children, id)
        }
    })
}

/// Marker for "the start of this parent's children".
fn start_of(parent: &str) -> String {
    format!("start-of:{parent}")
}

fn local_touches(base: &[Block], plan: &Plan) -> HashSet<String> {
    let mut out = HashSet::new();
    for op in &plan.ops {
        match op {
            Op::Update { id, .. } => {
                out.insert(id.clone());
            }
            Op::Delete { id, .. } => {
                if let Some(b) = find(base, id) {
                    out.extend(ids_of(std::slice::from_ref(b)));
                }
                out.insert(id.clone());
            }
            Op::Append { parent, anchor, .. } => {
                if !parent.starts_with(TEMP_ID_PREFIX) {
                    out.insert(parent.clone());
                }
                match anchor {
                    Anchor::Start => out.insert(start_of(parent)),
                    Anchor::After(a) => out.insert(a.clone()),
                };
            }
        }
    }
    out
}

fn remote_touches(page_id: &str, base: &[Block], remote: &[Block]) -> HashSet<String> {
    let mut out = HashSet::new();
    let remote_ids = ids_of(remote);
    for id in ids_of(base) {
        if !remote_ids.contains(&id) {
            out.insert(id);
        }
    }
    let mut base_index: HashMap<String, (&Block, String)> = HashMap::new();
    fn index<'a>(t: &'a [Block], parent: &str, m: &mut HashMap<String, (&'a Block, String)>) {
        for b in t {
            if let Some(id) = &b.id {
                m.insert(id.clone(), (b, parent.to_string()));
                index(&b.children, id, m);
            }
        }
    }
    index(base, page_id, &mut base_index);
    fn walk(
        t: &[Block],
        parent: &str,
        base: &HashMap<String, (&Block, String)>,
        out: &mut HashSet<String>,
    ) {
        let mut prev: Option<&str> = None;
        for b in t {
            let Some(id) = b.id.as_deref() else { continue };
            match base.get(id) {
                None => {
                    out.insert(parent.to_string());
                    out.insert(prev.map_or_else(|| start_of(parent), str::to_string));
                }
                Some((old, old_parent)) => {
                    let (o, n) = (compare_payload(&old.kind), compare_payload(&b.kind));
                    if old.type_name() != b.type_name()
                        || old_parent != parent
                        || !payload_matches(&o, &n)
                        || !payload_matches(&n, &o)
                    {
                        out.insert(id.to_string());
                    }
                }
            }
            walk(&b.children, id, base, out);
            prev = Some(id);
        }
    }
    walk(remote, page_id, &base_index, &mut out);
    out
}
