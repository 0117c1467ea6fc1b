//! Saving a row (see notionfs(5), "Front matter").
//!
//! A row's file is its front matter and its body. A save of it is journaled whole, like a
//! page body, and pushed in two parts:
//!
//! 1. Properties: the front matter is read with [`frontmatter::parse`] against the row as
//!    the version the save descends from rendered it ([`RowBase`]: its page, its data
//!    source's schema, and the same [`PathMap`] context): a key whose value differs from
//!    that version is an edit; one that does not is left alone, so a property changed in
//!    Notion meanwhile is not reverted by a save (even of an old buffer) that did not touch
//!    it. Before sending, the row is read once: an edited property Notion changed too is
//!    agreement if both say the same (not sent), a clash otherwise (Notion's value stays
//!    and the save ends as a conflict copy); the others go out in ONE update-page call.
//! 2. The body (the Markdown after the front matter) goes through the same block diff as a
//!    page's ([`super::push`]), unless it still means the version's blocks (a
//!    properties-only save reads no blocks). If it conflicts with a change made in Notion
//!    (notionfs(1), WRITES), the properties have gone out already and the whole saved file
//!    is kept beside the row as its conflict copy.
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
//! An update-page call whose answer never comes (a 502 after the change was made, a crash)
//! is noted before it is sent: the saved file is kept beside the page's versions until the
//! row's push is settled (pushed, or a conflict copy) — an update answered while the body's
//! part failed counts too, since the retry starts from the same base. The next push takes
//! the properties Notion holds as such a file says them for this mount's own (not a change
//! made in Notion), so a newer save goes out over them instead of ending as a conflict
//! copy.

use std::collections::HashSet;
use std::sync::Arc;

use serde_json::Value;

use super::failure::{classify, Failure};
use super::versions::{Origin, Version};
use super::Writer;
use crate::frontmatter::{self, Problem};
use crate::fs::render::{parse_body, PathMap};
use crate::notion::model::property_item::PropertyItemResponse;
use crate::notion::model::Page;
use crate::notion::{ApiError, Client};
use crate::sync::{same_content, PushError, Remote};

pub use super::versions::RowBase;

impl Writer {
    /// Reads a page not rendered by this mount: its [`RowBase`] if it is a row.
    pub(super) async fn fetch_row(&self, page: &str) -> Result<Option<RowBase>, Failure> {
        let read = |e: ApiError| classify(PushError::Read(e));
        let mut p = self.client.page(page).await.map_err(read)?;
        let Some(ds) = p.parent.data_source_id.clone() else {
            return Ok(None);
        };
        let schema = Arc::new(self.client.data_source(&ds).await.map_err(read)?);
        complete_row(&self.client, &mut p).await.map_err(read)?;
        Ok(Some(RowBase { page: p, schema }))
    }

    /// Pushes a saved row file over version `v` (whose row is `row`): the edited properties
    /// merged with Notion's in one update-page call, then the body (see the module doc).
    /// `start` restricts the properties to those edited since it (a save with no known
    /// version only). Refusals fail the save after the rest went through.
    pub(super) async fn push_row(
        &self,
        page: &str,
        text: &str,
        v: &Arc<Version>,
        mut row: RowBase,
        start: Option<&str>,
    ) -> Result<(), Failure> {
        let paths = v.paths.clone();
        let mut plan = plan_row(text, start, &row, &paths);
        if plan.stale_schema {
            // The option or property may have been added in Notion since the last read.
            let ds = row.page.parent.data_source_id.clone().unwrap_or_default();
            if let Ok(s) = self.client.data_source(&ds).await {
                row.schema = Arc::new(s);
                plan = plan_row(text, start, &row, &paths);
            }
        }
        let mut reasons = plan.refused;
        // A transient failure of either part makes the whole save retried (the properties
        // still to send are found again from the same base).
        let mut transient = None;
        let mut clash = false;
        if let Some(req) = plan.update {
            match self.send_properties(page, text, &row, &paths, req).await {
                Ok((updated, clashed)) => {
                    clash = !clashed.is_empty();
                    if clash {
                        tracing::warn!(page, properties = ?clashed, "properties changed in Notion and here: Notion's kept");
                    }
                    if let Some(p) = updated {
                        row.page = p;
                    }
                }
                Err(e) if e.is_transient() => {
                    transient = Some(format!("the properties were not saved: {e}"))
                }
                Err(e) => reasons.push(format!("the properties were not saved: {e}")),
            }
        }
        // A body that means the base's blocks needs no push (nor its remote check): a
        // properties-only save reads no blocks.
        let body = plan
            .body
            .filter(|b| !same_content(&v.blocks, &parse_body(b, &paths, &v.blocks)));
        match body {
            Some(body) => match self
                .push_markdown(page, &body, v, Some(row), Remote::Touched)
                .await
            {
                Ok(_) => {}
                Err(Failure::Refused(r)) => reasons.push(r),
                Err(Failure::Transient(r)) => transient = Some(r),
                Err(c @ Failure::Conflict(_)) => {
                    self.rows_sent_answered(page).await;
                    return Err(c);
                }
            },
            None => {
                let next = Version {
                    seq: 0,
                    page: page.to_string(),
                    at: chrono::Utc::now(),
                    origin: Origin::Pushed,
                    last_edited_time: String::new(),
                    blocks: v.blocks.clone(),
                    paths: paths.clone(),
                    row: Some(row),
                    base: Some(v.seq),
                };
                self.record_version(next).await;
            }
        }
        if let Some(t) = transient {
            // The retry pushes from the same base, maybe a newer save: what this attempt
            // sent stays noted, or Notion holding it would look like a change made there.
            return Err(Failure::Transient(t));
        }
        // Pushed, or a conflict copy: the next base holds what was sent. (A refusal keeps
        // the base, as a transient failure does.)
        if reasons.is_empty() {
            self.rows_sent_answered(page).await;
        }
        if clash {
            Err(Failure::Conflict(0))
        } else if reasons.is_empty() {
            Ok(())
        } else {
            Err(Failure::Refused(reasons.join("; ")))
        }
    }

    /// Sends the edited properties of `req` that Notion did not change differently since
    /// the base `row`: one retrieve of the row, then one update-page call. Returns the row
    /// as updated (if a call was made) and the properties that clashed (kept as Notion has
    /// them).
    async fn send_properties(
        &self,
        page: &str,
        text: &str,
        row: &RowBase,
        paths: &PathMap,
        req: Value,
    ) -> Result<(Option<Page>, Vec<String>), ApiError> {
        let mut remote = self.client.page(page).await?;
        complete_row(&self.client, &mut remote).await?;
        // What the save would change over Notion's row now (a file that cannot be read so
        // clashes with every property Notion changed).
        let against_remote = frontmatter::parse(text, &remote, &row.schema, paths)
            .map(|p| p.changes)
            .ok();
        let ours = self.sent_before(page, row, &remote, paths).await;
        let mut props = req
            .get("properties")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let mut clashed = Vec::new();
        let mut agreed = Vec::new();
        props.retain(|k, _| {
            let data = |p: &Page| {
                p.properties
                    .get(k)
                    .and_then(|v| serde_json::to_value(&v.data).ok())
            };
            if data(&row.page) == data(&remote) {
                return true;
            }
            let differs = against_remote.as_ref().is_none_or(|a| a.contains_key(k));
            // A value an earlier update of this mount sent (its answer lost) is no change
            // made in Notion: this save's value goes out over it.
            if ours.contains(k) && differs {
                return true;
            }
            // Notion changed it too: the same value is agreement, another one a clash.
            if differs {
                clashed.push(k.clone());
            } else {
                agreed.push(k.clone());
            }
            false
        });
        // What this save holds (sent, or already in Notion) over the row it descends from.
        let intent = |answer: &Page, keys: &mut dyn Iterator<Item = &String>| {
            let mut intent = row.page.clone();
            for k in keys {
                if let Some(v) = answer.properties.get(k) {
                    intent.properties.insert(k.clone(), v.clone());
                }
            }
            intent
        };
        if props.is_empty() {
            let kept = (!agreed.is_empty()).then(|| intent(&remote, &mut agreed.iter()));
            return Ok((kept, clashed));
        }
        self.row_sent(page, text).await;
        let mut p = self
            .client
            .update_page(page, serde_json::json!({"properties": props.clone()}))
            .await?;
        if let Err(e) = complete_row(&self.client, &mut p).await {
            tracing::warn!(page, error = %e, "cannot complete a row's properties");
        }
        // The file's next save descends from the row as it was with what this save holds,
        // not from others' changes the answer also shows.
        let holds = intent(&p, &mut props.keys().chain(agreed.iter()));
        // The tree's copy of the row (others' changes the answer shows are read into the
        // file as the feed's next poll sees the edit).
        self.answered
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(p);
        Ok((Some(holds), clashed))
    }
}

impl Writer {
    /// The properties Notion holds as an earlier update of `page` sent them, one whose
    /// answer never came (a lost response, a crash): edited there over the base `row` and
    /// equal in `remote` to what that save said. Not a change made in Notion: without this,
    /// a newer save would clash with its own earlier update and be set aside as a conflict.
    async fn sent_before(
        &self,
        page: &str,
        row: &RowBase,
        remote: &Page,
        paths: &PathMap,
    ) -> HashSet<String> {
        let (vs, p) = (self.versions.clone(), page.to_string());
        let sent = tokio::task::spawn_blocking(move || vs.rows_sent(&p))
            .await
            .unwrap_or_default();
        let changes = |t: &str, over: &Page| {
            frontmatter::parse(t, over, &row.schema, paths)
                .map(|p| p.changes)
                .unwrap_or_default()
        };
        let mut ours = HashSet::new();
        for t in &sent {
            let now = changes(t, remote);
            let edited = changes(t, &row.page).into_iter().map(|(k, _)| k);
            ours.extend(edited.filter(|k| !now.contains_key(k)));
        }
        ours
    }

    /// Notes that the properties of the save `text` are being sent (durably, before the
    /// call), so a lost answer is recognised by the next push.
    async fn row_sent(&self, page: &str, text: &str) {
        let (vs, p, t) = (self.versions.clone(), page.to_string(), text.to_string());
        let r = tokio::task::spawn_blocking(move || vs.add_row_sent(&p, &t)).await;
        if let Ok(Err(e)) = r {
            tracing::warn!(page, error = %e, "cannot note a properties update in flight");
        }
    }

    /// The row's push is settled (pushed, or a conflict copy): Notion holds what this
    /// mount sent, and the next push starts from a base that says so.
    async fn rows_sent_answered(&self, page: &str) {
        let (vs, p) = (self.versions.clone(), page.to_string());
        let _ = tokio::task::spawn_blocking(move || vs.clear_rows_sent(&p)).await;
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

/// Reads a saved row file `text` against the row as its base version rendered it (every
/// key whose value differs is an edit); `start`, if given, is the file the edit started
/// from (keys with the same value there are not the user's edits and are skipped).
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
        let mut seen = std::collections::HashSet::new();
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
                // A cursor handed out twice would make this walk go round forever.
                Some(c) if !seen.insert(c.clone()) => {
                    return Err(crate::notion::client::repeated_cursor(&c))
                }
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
