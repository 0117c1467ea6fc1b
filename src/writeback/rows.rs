//! Saving a row (see notionfs(5), "Front matter").
//!
//! A row's file is its front matter and its body. A save of it is journaled whole, like a
//! page body, and pushed in two parts:
//!
//! 1. Properties: the front matter is read with [`frontmatter::parse`] against the row as
//!    it was rendered ([`RowBase`]: its page, its data source's schema, and the same
//!    [`PathMap`] context), and only the keys the user edited count: a key whose value is
//!    the same as in the file the edit started from (the base of the oldest pending record
//!    of the row) is left alone, so a property changed in Notion meanwhile is not reverted
//!    by a save that did not touch it. The changed properties go out in ONE update-page
//!    call; none changed, no call.
//! 2. The body (the Markdown after the front matter) goes through the same block diff as a
//!    page's ([`crate::sync::push()`]), unless it still means the blocks Notion was last
//!    known to hold (a properties-only save reads no blocks). If it conflicts with a change
//!    made in Notion (notionfs(1), WRITES), the properties have gone out already and the whole saved
//!    file is kept beside the row as its conflict copy.
//!
//! Refused properties (unknown key, option that does not exist — never created —, type
//! mismatch, value over an API limit, edit of a read-only property) do not stop the rest:
//! the other properties and the body are pushed, then the save ends as failed with every
//! reason (`failed: property "Priority": …`), logged once. A refusal naming an unknown key
//! or option first re-reads the data source once (the schema may have changed in Notion).
//! The failed record stays in the journal (with its reason, for `notionfs status`) and the
//! file keeps showing the user's bytes until a later save fixes it: the next save's push
//! starts from the same base, so it sends what is still to send and, once nothing is
//! refused, confirms every record of the row.
//!
//! Malformed front matter (YAML that does not parse, or is not a mapping) is refused as a
//! whole: no property is sent, the body after the closing `---` is still pushed, and the
//! save fails with the reader's message (line and column). A front matter with no closing
//! `---` cannot be told apart from the body, so nothing of that save is pushed. A row file
//! saved without any front matter is a body-only save (properties unchanged).
//!
//! A row whose state is not in memory (a replay after a restart) is recognised by reading
//! the page once when the saved text opens with `---`; its schema is read then too, and
//! relation paths are resolved only against what the mount has seen (unseen paths are
//! refused, ids always work).
//!
//! # Failed pushes

use std::collections::HashSet;
use std::sync::Arc;

use serde_json::Value;

use super::failure::{classify, Failure};
use super::{Base, Writer};
use crate::frontmatter::{self, Problem};
use crate::fs::render::{parse_body, PathMap};
use crate::notion::model::property_item::PropertyItemResponse;
use crate::notion::model::{DataSource, Page};
use crate::notion::{ApiError, Client};
use crate::sync::{same_content, PushError};

/// What the push of a row needs besides its blocks: the row and its data source's schema
/// as its file was rendered from them.
#[derive(Clone, Debug)]
pub struct RowBase {
    /// The row (lists retrieve-page cuts at 25 entries completed).
    pub page: Page,
    /// Its data source.
    pub schema: Arc<DataSource>,
}

impl Writer {
    /// Reads a page not rendered by this mount: its [`RowBase`] if it is a row.
    pub(super) async fn fetch_row(&self, page: &str) -> Result<Option<Arc<RowBase>>, Failure> {
        let read = |e: ApiError| classify(PushError::Read(e));
        let mut p = self.client.page(page).await.map_err(read)?;
        let Some(ds) = p.parent.data_source_id.clone() else {
            return Ok(None);
        };
        let schema = Arc::new(self.client.data_source(&ds).await.map_err(read)?);
        complete_row(&self.client, &mut p).await.map_err(read)?;
        let row = Arc::new(RowBase { page: p, schema });
        self.pages().entry(page.to_string()).or_default().row = Some(row.clone());
        Ok(Some(row))
    }

    /// Pushes a saved row file: the edited properties in one update-page call, then the
    /// body (see the module doc). Refusals fail the save after the rest went through.
    pub(super) async fn push_row(
        &self,
        page: &str,
        text: &str,
        mut row: Arc<RowBase>,
        base: Option<Base>,
        start: Option<&str>,
    ) -> Result<(), Failure> {
        let paths = base.as_ref().map(|(_, p)| p.clone()).unwrap_or_default();
        let mut plan = plan_row(text, start, &row, paths.as_ref());
        if plan.stale_schema {
            // The option or property may have been added in Notion since the last read.
            let ds = row.page.parent.data_source_id.clone().unwrap_or_default();
            if let Ok(s) = self.client.data_source(&ds).await {
                row = Arc::new(RowBase {
                    page: row.page.clone(),
                    schema: Arc::new(s),
                });
                self.pages().entry(page.to_string()).or_default().row = Some(row.clone());
                plan = plan_row(text, start, &row, paths.as_ref());
            }
        }
        let mut reasons = plan.refused;
        // A transient failure of either part makes the whole save retried (the properties
        // still to send are found again from the same start).
        let mut transient = None;
        if let Some(req) = plan.update {
            match self.client.update_page(page, req).await {
                Ok(mut p) => {
                    if let Err(e) = complete_row(&self.client, &mut p).await {
                        tracing::warn!(page, error = %e, "cannot complete a row's properties");
                    }
                    let schema = row.schema.clone();
                    self.pages().entry(page.to_string()).or_default().row =
                        Some(Arc::new(RowBase { page: p, schema }));
                }
                Err(e) if e.is_transient() => {
                    transient = Some(format!("the properties were not saved: {e}"))
                }
                Err(e) => reasons.push(format!("the properties were not saved: {e}")),
            }
        }
        // A body that means the blocks Notion was last known to hold needs no push (nor
        // its remote check): a properties-only save reads no blocks.
        let untouched = |b: &str| {
            base.as_ref()
                .is_some_and(|(blocks, paths)| same_content(blocks, &parse_body(b, paths, blocks)))
        };
        if let Some(body) = plan.body.filter(|b| !untouched(b)) {
            // The body the edit started from, for a row whose blocks are not in memory.
            let start_body = start
                .and_then(|s| frontmatter::parse(s, &row.page, &row.schema, paths.as_ref()).ok())
                .map(|p| p.body);
            match self
                .push_markdown(page, &body, base, start_body.as_deref())
                .await
            {
                Ok(()) => {}
                Err(Failure::Refused(r)) => reasons.push(r),
                Err(Failure::Transient(r)) => transient = Some(r),
                Err(c @ Failure::Conflict(_)) => return Err(c),
            }
        }
        if let Some(t) = transient {
            Err(Failure::Transient(t))
        } else if reasons.is_empty() {
            Ok(())
        } else {
            Err(Failure::Refused(reasons.join("; ")))
        }
    }
}

/// What one saved row file asks of Notion.
#[derive(Debug, PartialEq)]
pub(super) struct RowPlan {
    /// The update-page request (only the edited, changed, valid properties).
    update: Option<Value>,
    /// The Markdown body to push (`None`: it cannot be told apart from the front matter).
    body: Option<String>,
    /// Why properties (or the whole front matter) were refused.
    refused: Vec<String>,
    /// A refusal a newer schema might lift (unknown key or option).
    stale_schema: bool,
}

/// Reads a saved row file `text` against the row as rendered; `start` is the file the edit
/// started from (keys with the same value there are not the user's edits and are skipped).
pub(super) fn plan_row(text: &str, start: Option<&str>, row: &RowBase, ctx: &PathMap) -> RowPlan {
    let parsed = match frontmatter::parse(text, &row.page, &row.schema, ctx) {
        Ok(p) => p,
        Err(e) => {
            return RowPlan {
                update: None,
                body: e.body().map(str::to_string),
                refused: vec![e.to_string()],
                stale_schema: false,
            }
        }
    };
    let edited = edited_keys(text, start);
    let is_edited = |k: &str| edited.as_ref().is_none_or(|e| e.contains(k));
    let mut kept = parsed;
    kept.changes.retain(|k, _| is_edited(k));
    kept.refused.retain(|r| is_edited(&r.property));
    RowPlan {
        update: kept.update_request(),
        stale_schema: kept.refused.iter().any(|r| {
            matches!(
                r.problem,
                Problem::UnknownKey { .. } | Problem::UnknownOption { .. }
            )
        }),
        refused: kept.refused.iter().map(|r| r.to_string()).collect(),
        body: Some(kept.body),
    }
}

/// The front matter keys whose value differs between `start` and `text` (or that `start`
/// does not have); `None` (every key counts) when `start` has no readable front matter.
pub(super) fn edited_keys(text: &str, start: Option<&str>) -> Option<HashSet<String>> {
    let old = frontmatter::read_values(start?).ok().flatten()?;
    let new = frontmatter::read_values(text)
        .ok()
        .flatten()
        .unwrap_or_default();
    Some(
        new.iter()
            .filter(|(k, v)| {
                old.get(k.as_str())
                    .is_none_or(|o| !frontmatter::yaml::same(o, v))
            })
            .map(|(k, _)| k.clone())
            .collect(),
    )
}

/// Completes the properties retrieve-page cuts at 25 references, with the property item
/// endpoint (only for properties that may be cut).
pub async fn complete_row(client: &Client, page: &mut Page) -> Result<(), ApiError> {
    for (name, prop_id) in frontmatter::needs_full_items(page) {
        let mut pages = Vec::new();
        let mut cursor = None;
        loop {
            let v = client
                .page_property(&page.id, &prop_id, cursor.take())
                .await?;
            let item: PropertyItemResponse =
                serde_json::from_value(v).map_err(|e| ApiError::Decode {
                    endpoint: "GET /v1/pages/{id}/properties/{property_id}".into(),
                    reason: e.to_string(),
                })?;
            let next = match &item {
                PropertyItemResponse::List(l) if l.has_more => l.next_cursor.clone(),
                _ => None,
            };
            pages.push(item);
            match next {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        if let Err(e) = frontmatter::apply_full_items(page, &name, &pages) {
            tracing::warn!(page = %page.id, property = %name, error = %e, "cannot complete a property");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::edited_keys;

    #[test]
    fn edited_keys_are_the_values_that_differ_from_the_start() {
        let start = "---\nA: 1\nB: [x, y]\nC: text\n---\nbody\n";
        let now = "---\nA: 1.0\nB:\n  - x\n  - z\nD: new\n---\nother body\n";
        let mut keys: Vec<String> = edited_keys(now, Some(start)).unwrap().into_iter().collect();
        keys.sort();
        // `A` is the same number; `C`, left out, is no edit.
        assert_eq!(keys, ["B", "D"]);
        // Without a readable start, every key counts.
        assert!(edited_keys(now, None).is_none());
        assert!(edited_keys(now, Some("---\nA: [\n---\n")).is_none());
        assert!(edited_keys(now, Some("no front matter\n")).is_none());
    }
}
