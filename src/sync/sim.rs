//! A [`Plan`] applied to an in-memory block tree the way Notion applies it: updates merge
//! the sent fields into the payload, deletes remove a block and its children, appends insert
//! after the anchor and give every new block a fresh id. Strict: an unknown id, an anchor
//! that is not a child of the parent, or an update of another type is an error, as in the API.
//!
//! Used by the tests (plans checked without HTTP) and by [`super::conflict`] (local edits
//! replayed on top of the remote tree).

use std::collections::HashMap;

use serde_json::Value;
use thiserror::Error;

use super::diff::{Anchor, Op, Plan};
use crate::notion::model::{Block, BlockKind};

/// A plan that Notion would reject.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("operation {op} cannot be applied: {reason}")]
pub struct SimError {
    /// Index of the failing operation.
    pub op: usize,
    /// Why.
    pub reason: String,
}

/// The outcome of a simulation.
#[derive(Clone, Debug, PartialEq)]
pub struct Simulated {
    /// The page body afterwards.
    pub tree: Vec<Block>,
    /// Temporary id of each appended block -> the id it was given.
    pub ids: HashMap<String, String>,
}

/// Applies `plan` to `tree` (the children of `plan.page_id`). New ids are `sim-N`, numbered
/// from `first_id`.
pub fn simulate(tree: &[Block], plan: &Plan, first_id: usize) -> Result<Simulated, SimError> {
    let mut tree = tree.to_vec();
    let mut ids = HashMap::new();
    let mut next = first_id;
    for (i, op) in plan.ops.iter().enumerate() {
        let fail = |reason: String| SimError { op: i, reason };
        match op {
            Op::Delete { id, .. } => {
                if !remove(&mut tree, id) {
                    return Err(fail(format!("no block {id}")));
                }
            }
            Op::Update { id, body, .. } => {
                let b = find_mut(&mut tree, id).ok_or_else(|| fail(format!("no block {id}")))?;
                let t = b.type_name().to_string();
                let fields = body
                    .get(&t)
                    .and_then(Value::as_object)
                    .ok_or_else(|| fail(format!("body does not update a {t}")))?;
                let mut payload = match b.kind.payload() {
                    Value::Object(m) => m,
                    _ => Default::default(),
                };
                for (k, v) in fields {
                    payload.insert(k.clone(), v.clone());
                }
                b.kind = BlockKind::from_parts(&t, Value::Object(payload))
                    .map_err(|e| fail(format!("invalid {t} payload: {e}")))?;
            }
            Op::Append {
                parent,
                anchor,
                blocks,
            } => {
                let list = if *parent == plan.page_id {
                    &mut tree
                } else {
                    &mut find_mut(&mut tree, parent)
                        .ok_or_else(|| fail(format!("no parent {parent}")))?
                        .children
                };
                let at = match anchor {
                    Anchor::Start => 0,
                    Anchor::After(a) => {
                        1 + list
                            .iter()
                            .position(|b| b.id.as_deref() == Some(a.as_str()))
                            .ok_or_else(|| fail(format!("{a} is not a child of {parent}")))?
                    }
                };
                let fresh: Vec<Block> = blocks
                    .iter()
                    .map(|b| assign(b, &mut next, &mut ids))
                    .collect();
                list.splice(at..at, fresh);
                if let Some(p) = find_mut(&mut tree, parent) {
                    p.has_children = true;
                }
            }
        }
    }
    Ok(Simulated { tree, ids })
}

fn assign(b: &Block, next: &mut usize, ids: &mut HashMap<String, String>) -> Block {
    let mut out = b.clone();
    let id = format!("sim-{next}");
    *next += 1;
    if let Some(tmp) = &b.id {
        ids.insert(tmp.clone(), id.clone());
    }
    out.id = Some(id);
    out.children = b.children.iter().map(|c| assign(c, next, ids)).collect();
    out
}

/// The block `id` anywhere in `tree`.
pub(crate) fn find_mut<'a>(tree: &'a mut [Block], id: &str) -> Option<&'a mut Block> {
    for b in tree {
        if b.id.as_deref() == Some(id) {
            return Some(b);
        }
        if let Some(f) = find_mut(&mut b.children, id) {
            return Some(f);
        }
    }
    None
}

/// Removes the block `id` (with its children) from anywhere in `tree`.
pub(crate) fn remove(tree: &mut Vec<Block>, id: &str) -> bool {
    if let Some(i) = tree.iter().position(|b| b.id.as_deref() == Some(id)) {
        tree.remove(i);
        return true;
    }
    tree.iter_mut().any(|b| remove(&mut b.children, id))
}
