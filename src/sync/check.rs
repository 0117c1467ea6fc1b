//! The conflict check that costs what an edit touches: before a plan is applied, each block
//! it updates or deletes, each block an insertion is placed after and each block it appends
//! children to is read back (`GET /v1/blocks/{id}`, one call each) and compared with the
//! base (an append's parent need only still be there, but it is compared all the same: a
//! block's own content rarely changes). If they all still say what the base says, changes Notion made elsewhere on the page
//! cannot clash with the plan, which goes out as it is: a one-paragraph edit costs one read
//! and one write. Otherwise the caller reads the whole page and reconciles
//! ([`super::reconcile`]), which merges or reports a conflict.
//!
//! A plan that touches more blocks than reading the whole page costs is not checked block by
//! block: the whole read is cheaper.

use std::collections::{HashMap, HashSet};

use super::diff::{Anchor, Op, Plan};
use super::normalize::{compare_payload, payload_matches};
use crate::notion::model::Block;
use crate::notion::{ApiError, Client};

/// What the check found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Touched {
    /// Every touched block is as the base has it: apply the plan.
    Unchanged,
    /// Some touched block changed, moved to the trash or is gone: reconcile with the page.
    Changed,
    /// Checking block by block would cost more than reading the page: read it.
    TooMany,
}

/// The ids a plan touches, each once, in plan order (the page itself is not one: it is not
/// a block).
pub fn touched_ids(plan: &Plan) -> Vec<String> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    let mut add = |id: &str| {
        if id != plan.page_id
            && !id.starts_with(super::TEMP_ID_PREFIX)
            && seen.insert(id.to_string())
        {
            out.push(id.to_string());
        }
    };
    for op in &plan.ops {
        match op {
            Op::Update { id, .. } | Op::Delete { id, .. } => add(id),
            Op::Append { parent, anchor, .. } => {
                add(parent);
                if let Anchor::After(a) = anchor {
                    add(a);
                }
            }
        }
    }
    out
}

/// Reads back the blocks `plan` touches and compares them with `base` (see the module
/// doc); `budget` is what reading the whole page would cost.
pub async fn check_touched(
    client: &Client,
    plan: &Plan,
    base: &[Block],
    budget: usize,
) -> Result<Touched, ApiError> {
    let ids = touched_ids(plan);
    if ids.len() > budget {
        return Ok(Touched::TooMany);
    }
    let mut by_id = HashMap::new();
    index(base, &mut by_id);
    for id in ids {
        let now = match client.block(&id).await {
            Ok(b) => b,
            Err(e) if e.is_not_found() => return Ok(Touched::Changed),
            Err(e) => return Err(e),
        };
        let Some(was) = by_id.get(id.as_str()) else {
            return Ok(Touched::Changed);
        };
        if now.in_trash || !same_own_content(was, &now) {
            return Ok(Touched::Changed);
        }
    }
    Ok(Touched::Unchanged)
}

/// Whether two versions of a block say the same of themselves (type and payload; children
/// are other blocks).
fn same_own_content(a: &Block, b: &Block) -> bool {
    a.type_name() == b.type_name()
        && payload_matches(&compare_payload(&a.kind), &compare_payload(&b.kind))
}

fn index<'a>(tree: &'a [Block], out: &mut HashMap<&'a str, &'a Block>) {
    for b in tree {
        if let Some(id) = b.id.as_deref() {
            out.insert(id, b);
        }
        index(&b.children, out);
    }
}
