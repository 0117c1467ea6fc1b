//! Reading a page's block tree with the fewest calls.
//!
//! [`fetch_tree`] lists a block's children in pages of 100 and recurses only into blocks
//! whose children belong to the page ([`Block::needs_children`]) — never into child pages or
//! databases, nor into synced copies. Siblings' subtrees are fetched concurrently; the
//! client's rate limiter paces the requests and an optional semaphore bounds how many are in
//! flight, so the cost is exactly `Σ ceil(children/100)` over the page and each block with
//! children, and the wall time is about the tree's depth in round trips when the rate allows.

use futures::future::{BoxFuture, FutureExt};
use tokio::sync::Semaphore;

use super::client::repeated_cursor;
use super::model::Block;
use super::{ApiError, Client};

/// Fetches the children of `id` (all pages) and, concurrently, the subtrees of those that
/// need them; nested blocks end up inline in `children`.
pub fn fetch_tree<'a>(
    client: &'a Client,
    id: &'a str,
    permits: Option<&'a Semaphore>,
) -> BoxFuture<'a, Result<Vec<Block>, ApiError>> {
    async move {
        let mut blocks: Vec<Block> = Vec::new();
        let mut cursor = None;
        let mut seen = std::collections::HashSet::new();
        loop {
            let page = {
                // Closed only on shutdown; then fail like the network would.
                let _permit = match permits {
                    Some(p) => Some(p.acquire().await.map_err(|_| ApiError::Transport {
                        endpoint: "GET /v1/blocks/{id}/children".into(),
                        reason: "shutting down".into(),
                    })?),
                    None => None,
                };
                client.children_page(id, cursor.take()).await?
            };
            blocks.extend(page.results);
            match (page.has_more, page.next_cursor) {
                (true, Some(c)) => {
                    // A cursor handed out twice would make this walk go round forever.
                    if !seen.insert(c.clone()) {
                        return Err(repeated_cursor(&c));
                    }
                    cursor = Some(c)
                }
                _ => break,
            }
        }
        let jobs = blocks
            .iter()
            .enumerate()
            .filter(|(_, b)| b.needs_children())
            .filter_map(|(i, b)| b.id.clone().map(|id| (i, id)))
            .map(|(i, bid)| async move { fetch_tree(client, &bid, permits).await.map(|c| (i, c)) });
        let kids = futures::future::try_join_all(jobs).await?;
        for (i, c) in kids {
            blocks[i].children = c;
        }
        Ok(blocks)
    }
    .boxed()
}

/// The number of children calls [`fetch_tree`] makes for a tree (children inline): the
/// theoretical minimum for reading it.
pub fn min_calls(top_level: &[Block]) -> usize {
    fn pages(n: usize) -> usize {
        n.div_ceil(100).max(1)
    }
    fn below(blocks: &[Block]) -> usize {
        blocks
            .iter()
            .filter(|b| b.needs_children())
            .map(|b| pages(b.children.len()) + below(&b.children))
            .sum()
    }
    pages(top_level.len()) + below(top_level)
}
