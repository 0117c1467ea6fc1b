//! Executes a [`Plan`] against the Notion API and returns the page body with the ids Notion
//! assigned — taken from the responses, not from re-reading the page.
//!
//! # Calls
//! - `Update`: one `PATCH /v1/blocks/{id}`; the response replaces the block in the result.
//! - `Delete`: one `DELETE /v1/blocks/{id}`.
//! - `Append`: the run is cut into requests of at most 100 children, 1000 block elements and
//!   ~450 KB; the first goes at the plan's anchor, each next one after the last block the
//!   previous response returned. Each appended block carries its descendants inline down to
//!   the client's nesting limit ([`MAX_NESTING_LEVELS`]), at most 100 children per block and
//!   1000 elements per block. The API returns only the first-level blocks, so for every
//!   appended block that had inline children one `GET /v1/blocks/{id}/children` learns
//!   their ids (in order); children that did not fit (below the limit, past the 100th) are
//!   appended afterwards to those ids, after the inline ones, the same way. Cost: one call per inline parent,
//!   the same as appending each level separately, but a table is created with its rows.
//!   A column list needs its columns *and* their content in its creating request (three
//!   levels, as in the reference's example): it can only be created when the client's
//!   [`MAX_NESTING_LEVELS`] is at least 3; otherwise Notion refuses the append (400) and
//!   nothing is created.
//!
//! # Failure
//! Writes are not retried on 5xx (unknown outcome, see the client's retry rule), so the first
//! failure stops the run. [`ApplyError`] says which operations completed, which one failed and
//! whether that one was partly carried out (some of its appends went through). Nothing should
//! be replayed from the plan: the caller re-reads the page and diffs again.

use std::collections::HashMap;

use futures::future::BoxFuture;
use serde_json::Value;
use thiserror::Error;

use super::diff::{Anchor, Op, Plan, TEMP_ID_PREFIX};
use crate::notion::client::{MAX_APPEND_CHILDREN, MAX_NESTING_LEVELS, MAX_PAYLOAD_BLOCKS};
use crate::notion::model::Block;
use crate::notion::{ApiError, Client, Position};

/// Request bytes per append kept under the 500 KB limit, with room for the envelope.
const MAX_APPEND_BYTES: usize = 450_000;

const APPEND_EP: &str = "PATCH /v1/blocks/{id}/children";

/// A plan carried out.
#[derive(Clone, Debug, PartialEq)]
pub struct Applied {
    /// The page body now: the plan's result with every temporary id replaced by Notion's,
    /// and updated or created blocks as Notion returned them. The next diff starts here.
    pub tree: Vec<Block>,
    /// API calls made.
    pub calls: u64,
    /// Changes Notion made meanwhile were merged in: the page holds more than the save.
    pub merged: bool,
}

/// A plan that stopped part way.
#[derive(Debug, Error)]
#[error("write-back stopped at operation {failed} ({} of {total} done{}): {source}",
    completed.len(), if *partial { ", the failed one partly applied" } else { "" })]
pub struct ApplyError {
    /// Indexes of the operations fully carried out, in order.
    pub completed: Vec<usize>,
    /// Index of the operation that failed.
    pub failed: usize,
    /// Whether some calls of the failed operation succeeded (an append cut into requests).
    pub partial: bool,
    /// Number of operations in the plan.
    pub total: usize,
    /// The API error.
    #[source]
    pub source: ApiError,
}

/// Carries out `plan` with `client`, operations in order.
pub async fn apply(client: &Client, plan: &Plan) -> Result<Applied, ApplyError> {
    let before = client.stats();
    let mut ex = Exec {
        client,
        made: HashMap::new(),
        updated: HashMap::new(),
        progressed: false,
        inlined: HashMap::new(),
    };
    for (i, op) in plan.ops.iter().enumerate() {
        ex.progressed = false;
        let r = match op {
            Op::Update { id, body, .. } => match client.update_block(id, body.clone()).await {
                Ok(b) => {
                    ex.updated.insert(id.clone(), b);
                    Ok(())
                }
                Err(e) => Err(e),
            },
            Op::Delete { id, .. } => client.delete_block(id).await.map(drop),
            Op::Append {
                parent,
                anchor,
                blocks,
            } => {
                let pos = match anchor {
                    Anchor::Start => Position::Start,
                    Anchor::After(id) => Position::AfterBlock(id.clone()),
                };
                ex.append(parent, Some(pos), blocks).await
            }
        };
        if let Err(source) = r {
            return Err(ApplyError {
                completed: (0..i).collect(),
                failed: i,
                partial: ex.progressed,
                total: plan.ops.len(),
                source,
            });
        }
    }
    let tree = plan.result.iter().map(|b| ex.resolve(b)).collect();
    Ok(Applied {
        tree,
        calls: client.stats().since(&before).total(),
        merged: false,
    })
}

struct Exec<'c> {
    client: &'c Client,
    /// Temporary id -> the block Notion created for it.
    made: HashMap<String, Block>,
    /// Updated id -> the block as the update returned it.
    updated: HashMap<String, Block>,
    /// A write of the current operation succeeded.
    progressed: bool,
    /// Temporary id -> how many of its children were sent inline with it.
    inlined: HashMap<String, usize>,
}

fn mismatch(endpoint: &str, sent: usize, got: usize) -> ApiError {
    ApiError::Decode {
        endpoint: endpoint.to_string(),
        reason: format!("{sent} blocks were appended but {got} came back"),
    }
}

/// The request form of `b`: descendants inline down to `levels` levels (itself included), at
/// most 100 children per block, at most `budget` block elements in all (decremented). Notes in
/// `inlined` how many children of each block went inline, by temporary id.
fn request(
    b: &Block,
    levels: usize,
    budget: &mut usize,
    inlined: &mut HashMap<String, usize>,
) -> Value {
    fn truncate(
        b: &Block,
        levels: usize,
        budget: &mut usize,
        inlined: &mut HashMap<String, usize>,
    ) -> Block {
        *budget = budget.saturating_sub(1);
        let mut s = Block::new(b.kind.clone());
        if levels > 1 {
            for c in b.children.iter().take(MAX_APPEND_CHILDREN) {
                if *budget == 0 {
                    break;
                }
                s.children.push(truncate(c, levels - 1, budget, inlined));
            }
        }
        if let Some(id) = &b.id {
            inlined.insert(id.clone(), s.children.len());
        }
        s
    }
    truncate(b, levels, budget, inlined).to_request()
}

impl Exec<'_> {
    fn real_id(&self, b: &Block) -> Result<String, ApiError> {
        b.id.as_ref()
            .and_then(|t| self.made.get(t))
            .and_then(|m| m.id.clone())
            .ok_or_else(|| ApiError::Decode {
                endpoint: APPEND_EP.into(),
                reason: "an appended block came back without an id".into(),
            })
    }

    fn record(&mut self, sent: &Block, got: &Block) {
        if let Some(t) = &sent.id {
            self.made.insert(t.clone(), got.clone());
        }
    }

    /// Appends `blocks` (whole subtrees) under `parent`, the first request at `pos`.
    fn append<'s>(
        &'s mut self,
        parent: &'s str,
        pos: Option<Position>,
        blocks: &'s [Block],
    ) -> BoxFuture<'s, Result<(), ApiError>> {
        Box::pin(async move {
            let mut pos = pos;
            let mut start = 0;
            while start < blocks.len() {
                let mut reqs = Vec::new();
                let (mut elems, mut bytes) = (0, 0);
                let mut end = start;
                while end < blocks.len() && reqs.len() < MAX_APPEND_CHILDREN {
                    // Each block is cut as if it opened a request, so it is cut the same way
                    // whichever request it lands in.
                    let mut budget = MAX_PAYLOAD_BLOCKS;
                    let r = request(
                        &blocks[end],
                        MAX_NESTING_LEVELS,
                        &mut budget,
                        &mut self.inlined,
                    );
                    let n = MAX_PAYLOAD_BLOCKS - budget;
                    let sz = serde_json::to_vec(&r).map(|v| v.len()).unwrap_or(0);
                    if !reqs.is_empty()
                        && (elems + n > MAX_PAYLOAD_BLOCKS || bytes + sz > MAX_APPEND_BYTES)
                    {
                        break;
                    }
                    elems += n;
                    bytes += sz;
                    reqs.push(r);
                    end += 1;
                }
                let sent = reqs.len();
                let got = self
                    .client
                    .append_children(parent, reqs, pos.clone())
                    .await?;
                self.progressed = true;
                if got.len() != sent {
                    return Err(mismatch(APPEND_EP, sent, got.len()));
                }
                for (b, r) in blocks[start..end].iter().zip(&got) {
                    self.record(b, r);
                }
                pos = got
                    .last()
                    .and_then(|l| l.id.clone())
                    .map(Position::AfterBlock);
                start = end;
            }
            for b in blocks.iter().filter(|b| !b.children.is_empty()) {
                let real = self.real_id(b)?;
                self.fill(real, b).await?;
            }
            Ok(())
        })
    }

    /// Learns the ids of `b`'s children sent inline (one read), then appends the others
    /// after them.
    fn fill<'s>(&'s mut self, real: String, b: &'s Block) -> BoxFuture<'s, Result<(), ApiError>> {
        Box::pin(async move {
            let k =
                b.id.as_ref()
                    .and_then(|t| self.inlined.get(t))
                    .copied()
                    .unwrap_or(0);
            let mut pos = None;
            if k > 0 {
                let got = self.client.children(&real).await?;
                if got.len() != k {
                    return Err(mismatch("GET /v1/blocks/{id}/children", k, got.len()));
                }
                for (c, r) in b.children.iter().zip(&got) {
                    self.record(c, r);
                }
                for c in b.children[..k].iter().filter(|c| !c.children.is_empty()) {
                    let id = self.real_id(c)?;
                    self.fill(id, c).await?;
                }
                pos = got
                    .last()
                    .and_then(|l| l.id.clone())
                    .map(Position::AfterBlock);
            }
            if k < b.children.len() {
                self.append(&real, pos, &b.children[k..]).await?;
            }
            Ok(())
        })
    }

    /// The plan's result block with Notion's ids and responses substituted.
    fn resolve(&self, b: &Block) -> Block {
        let children: Vec<Block> = b.children.iter().map(|c| self.resolve(c)).collect();
        let id = b.id.as_deref().unwrap_or("");
        let from_api = if id.starts_with(TEMP_ID_PREFIX) {
            self.made.get(id)
        } else {
            self.updated.get(id)
        };
        match from_api {
            Some(r) => {
                let mut out = r.clone();
                out.has_children = !children.is_empty();
                out.children = children;
                out
            }
            None => {
                let mut out = b.clone();
                out.children = children;
                out
            }
        }
    }
}
