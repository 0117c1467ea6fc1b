//! Three-way reconciliation of a local edit with what Notion holds now (notionfs(1), WRITES,
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
//! Changes both sides made alike are not conflicts ([`absorb`]): a block Notion already holds
//! with the local content, a block deleted on both sides, a run of blocks Notion already has
//! right where the local edit inserts the same run. They are folded into the base first, so
//! a retry after a push that stopped part way (some operations done, then a 5xx) neither
//! conflicts with its own writes nor duplicates or loses blocks.
//!
//! Per side, by block id: *edited* (own content changed), *gone* (deleted; a local delete
//! also removes everything inside), *after* (something inserted right after it) and *into*
//! (something inserted among its children). Remote changes are found by id against base.
//! A conflict is: edited/edited, edited/gone (either way), local gone vs remote into (the
//! delete would trash remote's new content), after/after (the order of the two inserts
//! would be arbitrary), local after or into vs remote gone (no place left to insert).

use std::collections::{HashMap, HashSet};

use super::diff::{diff, same_content, Anchor, DiffError, Op, Plan, TEMP_ID_PREFIX};
use super::normalize::{compare_payload, payload_matches};
use super::sim::{find_mut, remove, simulate};
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
    // What Notion already holds of the local edit is no longer a change on either side.
    let absorbed = absorb(page_id, base, local, remote)?;
    let base = absorbed.as_slice();
    if same_content(remote, base) && same_content(base, remote) {
        return diff(page_id, remote, local).map(Reconciled::Clean);
    }
    let local_plan = diff(page_id, base, local)?;
    let mine = local_touches(base, &local_plan);
    let theirs = remote_touches(page_id, base, remote);
    let both = clashes(&mine, &theirs);
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

/// `base` with the changes of `local` that `remote` already holds folded in, with remote's
/// ids: an update whose content Notion has, a delete Notion has done, and the leading part of
/// an inserted run that Notion has right at the insertion point (blocks new to `base`, same
/// content with their children). What remains between the result and `local` is what is
/// still to do; what remains between the result and `remote` is what others changed.
///
/// Used by [`reconcile`], and by the writer after a failed push: the content it tried to
/// send is absorbed into the old base, which then describes what Notion holds of it.
pub fn absorb(
    page_id: &str,
    base: &[Block],
    local: &[Block],
    remote: &[Block],
) -> Result<Vec<Block>, DiffError> {
    let plan = diff(page_id, base, local)?;
    let base_ids = ids_of(base);
    let remote_ids = ids_of(remote);
    let mut out = base.to_vec();
    for op in &plan.ops {
        match op {
            Op::Update { id, .. } => {
                let (Some(want), Some(have)) = (find(&plan.result, id), find(remote, id)) else {
                    continue;
                };
                let same = have.type_name() == want.type_name()
                    && payload_matches(&compare_payload(&have.kind), &compare_payload(&want.kind));
                if let Some(b) = find_mut(&mut out, id).filter(|_| same) {
                    b.kind = have.kind.clone();
                }
            }
            Op::Delete { id, .. } => {
                if !remote_ids.contains(id) {
                    remove(&mut out, id);
                }
            }
            Op::Append {
                parent,
                anchor,
                blocks,
            } => {
                let Some(theirs) = children_of(remote, page_id, parent) else {
                    continue;
                };
                let Some(at) = after(theirs, anchor) else {
                    continue;
                };
                let done: Vec<Block> = theirs[at..]
                    .iter()
                    .zip(blocks)
                    .take_while(|(r, l)| {
                        r.id.as_ref().is_some_and(|i| !base_ids.contains(i))
                            && same_content(std::slice::from_ref(*r), std::slice::from_ref(*l))
                    })
                    .map(|(r, _)| r.clone())
                    .collect();
                if done.is_empty() {
                    continue;
                }
                let Some(mine) = children_of_mut(&mut out, page_id, parent) else {
                    continue;
                };
                if let Some(at) = after(mine, anchor) {
                    mine.splice(at..at, done);
                }
            }
        }
    }
    Ok(out)
}

/// The index right after `anchor` in `list`.
fn after(list: &[Block], anchor: &Anchor) -> Option<usize> {
    match anchor {
        Anchor::Start => Some(0),
        Anchor::After(a) => list
            .iter()
            .position(|b| b.id.as_deref() == Some(a))
            .map(|i| i + 1),
    }
}

/// The children of `parent` (the page itself or a block) in `tree`.
fn children_of<'a>(tree: &'a [Block], page_id: &str, parent: &str) -> Option<&'a [Block]> {
    if parent == page_id {
        Some(tree)
    } else {
        find(tree, parent).map(|b| b.children.as_slice())
    }
}

fn children_of_mut<'a>(
    tree: &'a mut Vec<Block>,
    page_id: &str,
    parent: &str,
) -> Option<&'a mut Vec<Block>> {
    if parent == page_id {
        Some(tree)
    } else {
        find_mut(tree, parent).map(|b| &mut b.children)
    }
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

/// What one side did, by block id.
#[derive(Default)]
struct Touches {
    /// Blocks whose own content changed (or that moved, remotely).
    edited: HashSet<String>,
    /// Blocks removed (locally: with everything inside them).
    gone: HashSet<String>,
    /// Blocks something was inserted right after (or `start-of:PARENT`).
    after: HashSet<String>,
    /// Blocks something was inserted into.
    into: HashSet<String>,
}

/// Blocks both sides touched in ways that do not commute.
fn clashes(mine: &Touches, theirs: &Touches) -> Vec<String> {
    let mut out = HashSet::new();
    let mut both = |a: &HashSet<String>, b: &HashSet<String>| {
        out.extend(a.intersection(b).cloned());
    };
    both(&mine.edited, &theirs.edited);
    both(&mine.edited, &theirs.gone);
    both(&mine.gone, &theirs.edited);
    both(&mine.gone, &theirs.into);
    both(&mine.after, &theirs.after);
    both(&mine.after, &theirs.gone);
    both(&mine.into, &theirs.gone);
    let mut v: Vec<String> = out.into_iter().collect();
    v.sort();
    v
}

fn local_touches(base: &[Block], plan: &Plan) -> Touches {
    let mut t = Touches::default();
    for op in &plan.ops {
        match op {
            Op::Update { id, .. } => {
                t.edited.insert(id.clone());
            }
            Op::Delete { id, .. } => {
                if let Some(b) = find(base, id) {
                    t.gone.extend(ids_of(std::slice::from_ref(b)));
                }
                t.gone.insert(id.clone());
            }
            Op::Append { parent, anchor, .. } => {
                if !parent.starts_with(TEMP_ID_PREFIX) {
                    t.into.insert(parent.clone());
                }
                match anchor {
                    Anchor::Start => t.after.insert(start_of(parent)),
                    Anchor::After(a) => t.after.insert(a.clone()),
                };
            }
        }
    }
    t
}

fn remote_touches(page_id: &str, base: &[Block], remote: &[Block]) -> Touches {
    let mut t = Touches::default();
    let remote_ids = ids_of(remote);
    for id in ids_of(base) {
        if !remote_ids.contains(&id) {
            t.gone.insert(id);
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
        list: &[Block],
        parent: &str,
        base: &HashMap<String, (&Block, String)>,
        t: &mut Touches,
    ) {
        let mut prev: Option<&str> = None;
        for b in list {
            let Some(id) = b.id.as_deref() else { continue };
            match base.get(id) {
                None => {
                    t.into.insert(parent.to_string());
                    t.after
                        .insert(prev.map_or_else(|| start_of(parent), str::to_string));
                }
                Some((old, old_parent)) => {
                    let (o, n) = (compare_payload(&old.kind), compare_payload(&b.kind));
                    if old.type_name() != b.type_name()
                        || old_parent != parent
                        || !payload_matches(&o, &n)
                        || !payload_matches(&n, &o)
                    {
                        t.edited.insert(id.to_string());
                    }
                }
            }
            walk(&b.children, id, base, t);
            prev = Some(id);
        }
    }
    walk(remote, page_id, &base_index, &mut t);
    t
}
