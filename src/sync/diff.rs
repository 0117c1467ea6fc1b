//! Block diff: the fewest operations that turn the blocks a file was rendered from into the
//! blocks parsed from its new content.
//!
//! # Inputs
//! - `old`: the tree the file was rendered from, every block with its id and its children
//!   inline (the whole tree must be loaded).
//! - `new`: the freshly parsed tree. Its blocks carry no id, except those the dialect can
//!   only *name* (placeholders, `<page>` / `<database>` lines, synced blocks): they carry the
//!   id of the block they stand for.
//!
//! # Algorithm (per list of siblings, recursively)
//! 1. **Anchors** — longest common subsequence of `old` and `new` under "same block":
//!    a new block with an id matches the old block with that id; a new block without one
//!    matches an old block of the same type whose payload says the same (canonical rich text,
//!    see `normalize`) and whose children match likewise, recursively. Common prefix and
//!    suffix are trimmed first, so a local edit in a long page costs linear time.
//! 2. **Edits** — inside each gap between two anchors, old and new blocks of the same type
//!    that can be updated in place are paired by a second alignment maximizing a weight:
//!    first keeping unchanged blocks (a block whose own payload is unchanged, or that
//!    shares descendants — children, grandchildren, … — with the new one, always pairs, so
//!    its unchanged descendants keep their ids), then the calls saved (a changed block costs one update if its children can be
//!    kept, against two calls for delete + insert), ties broken by text similarity: a
//!    changed paragraph pairs with the paragraph it came from. When several blocks of one
//!    gap changed, the cheaper pairing wins even if it hands an id to a different text.
//! 3. **Operations** — walking the alignment in order:
//!    - anchor without id: nothing (the block keeps its id);
//!    - edited pair: one `Update` carrying only the fields that differ (none if only
//!      children changed), then the same algorithm on the children, with the block as parent;
//!    - unpaired new blocks: each maximal run is one `Append` placed after the previous
//!      anchor/pair (`Anchor::After`) or at the start, with its whole subtree;
//!    - unpaired old blocks: one `Delete` each (children go with their parent).
//!
//!    A type change (paragraph -> heading) therefore is a delete plus an insert at the same
//!    place; a move is a delete plus an insert (the API cannot move blocks).
//!
//! # Blocks that are not plain content
//! - `child_page` / `child_database` (notionfs(5), BLOCKS): never created, trashed or moved by an
//!   edit. A missing or moved line changes nothing (the block stays where Notion has it, and
//!   the plan's result tree shows it there); a new line without a known id is refused
//!   ([`DiffError::NewChildObject`]); a changed title is refused; deleting a block whose
//!   subtree holds one is refused ([`DiffError::WouldTrashChild`]).
//! - Placeholders (synced copies, link previews, templates, unsupported and unknown types,
//!   …, matched by id): a kept line keeps the block, a deleted line deletes it, a changed
//!   type is refused, a line moved elsewhere is refused ([`DiffError::Moved`]: recreating it
//!   is impossible), an id the old tree does not hold is refused.
//! - Synced block originals (matched by id): kept, and their children diffed in place.
//! - A new block of a type the API cannot create is refused ([`DiffError::NotCreatable`]).
//! - Updated in place only where the reference documents it (text blocks, code, equation,
//!   table of contents, media, bookmark, embed, table flags, table rows, column width);
//!   any other changed block is replaced (delete + insert), and so is a table whose width
//!   changed (`table_width` is immutable).
//! - A heading made non-toggleable has its children removed *before* the update, as the API
//!   requires; one made toggleable is updated before children are appended.
//!
//! Fields only the old block has (response-only fields, or ones Markdown cannot state, e.g.
//! `list_start_index`) are not changes. Text runs over 2000 characters are split; other
//! limits of a block's own payload (over 100 rich text runs or cells, equations over 1000
//! characters, URLs over 2000) refuse the whole plan up front ([`DiffError::Limit`]), so a
//! save is never half applied because of them.
//!
//! # Output
//! A [`Plan`]: the operations in execution order, each naming its parent, and `result`, the
//! tree Notion will hold afterwards: old blocks (updated payloads merged in) keep their ids,
//! inserted blocks carry temporary ids (`new:N`) that [`super::apply()`] replaces with the ids
//! Notion returns. Very large gaps (over 4 million cell comparisons) fall back to pairing
//! by position, which stays correct but may not be minimal.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use serde_json::Value;
use thiserror::Error;

use super::normalize::{
    changed_fields, compare_payload, limit_problem, payload_matches, prepare, quick_hash,
};
use super::normalize::{similarity, visible_text};
use crate::notion::model::{Block, BlockKind, JsonMap};

/// Prefix of the temporary ids inserted blocks carry in [`Plan`]s.
pub const TEMP_ID_PREFIX: &str = "new:";

/// Largest alignment table (cells) computed exactly.
const MAX_DP_CELLS: usize = 4_000_000;

/// Where an append puts its blocks among the parent's children.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Anchor {
    /// Before the first child.
    Start,
    /// Right after this existing child.
    After(String),
}

/// One Notion API operation of a plan.
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    /// `PATCH /v1/blocks/{id}` with `body` = `{TYPE: {changed fields}}`.
    Update {
        /// The block's parent (page or block id).
        parent: String,
        /// The block.
        id: String,
        /// The request body.
        body: Value,
    },
    /// `DELETE /v1/blocks/{id}` (moves the block and its children to the trash).
    Delete {
        /// The block's parent.
        parent: String,
        /// The block.
        id: String,
    },
    /// `PATCH /v1/blocks/{parent}/children`: a run of new sibling blocks, whole subtrees,
    /// every block carrying a temporary id (`new:N`). The executor splits it into calls.
    Append {
        /// Where they go.
        parent: String,
        /// After which existing sibling.
        anchor: Anchor,
        /// The blocks, in order.
        blocks: Vec<Block>,
    },
}

impl Op {
    /// The page or block whose children this operation changes.
    pub fn parent(&self) -> &str {
        match self {
            Op::Update { parent, .. } | Op::Delete { parent, .. } | Op::Append { parent, .. } => {
                parent
            }
        }
    }
}

/// What to do to a page body, as pure data.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// The page whose body this is.
    pub page_id: String,
    /// Operations in execution order.
    pub ops: Vec<Op>,
    /// The body Notion will hold once every operation succeeded; inserted blocks have
    /// temporary ids (`new:N`).
    pub result: Vec<Block>,
}

impl Plan {
    /// True when the new content needs no API call.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Operations grouped by the parent whose children they change, in first-seen order.
    pub fn by_parent(&self) -> Vec<(&str, Vec<&Op>)> {
        let mut out: Vec<(&str, Vec<&Op>)> = Vec::new();
        for op in &self.ops {
            match out.iter_mut().find(|(p, _)| *p == op.parent()) {
                Some((_, v)) => v.push(op),
                None => out.push((op.parent(), vec![op])),
            }
        }
        out
    }
}

/// Why a new body cannot be carried out to Notion.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum DiffError {
    /// A `<page>` / `<database>` line without a known id: pages are created with files.
    #[error("a new {kind} line cannot create a {kind} from a page body: create a file or folder instead")]
    NewChildObject {
        /// `child_page` or `child_database`.
        kind: String,
    },
    /// A new block of a type the API cannot create.
    #[error("a {kind} block cannot be created through the Notion API")]
    NotCreatable {
        /// Block type.
        kind: String,
    },
    /// A placeholder or child page line was changed; it can only be kept or deleted.
    #[error("the {kind} block {id} was changed; such a line can only be kept or deleted")]
    PlaceholderChanged {
        /// Block id.
        id: String,
        /// Its type.
        kind: String,
    },
    /// A block that cannot be recreated was moved.
    #[error("the {kind} block {id} was moved; the Notion API cannot move or recreate it")]
    Moved {
        /// Block id.
        id: String,
        /// Its type.
        kind: String,
    },
    /// Two lines name the same block (a copied placeholder or `<page>` line).
    #[error("block {id} appears twice; a block can only be kept once")]
    Duplicated {
        /// The id.
        id: String,
    },
    /// A line names a block id the page does not have.
    #[error("block {id} is not part of this page")]
    UnknownId {
        /// The id.
        id: String,
    },
    /// Deleting a block would trash a child page or database inside it.
    #[error("removing this {kind} block would trash the {child_kind} {child_id} inside it; move it out first")]
    WouldTrashChild {
        /// The removed block's type.
        kind: String,
        /// `child_page` or `child_database`.
        child_kind: String,
        /// Its id.
        child_id: String,
    },
    /// The new content breaks a request limit that splitting cannot fix.
    #[error("a {kind} block cannot be sent to Notion: {reason}")]
    Limit {
        /// Block type.
        kind: String,
        /// Which limit.
        reason: String,
    },
    /// An old block without an id (the old tree must come from the API).
    #[error("a {kind} block of the old tree has no id")]
    MissingId {
        /// Its type.
        kind: String,
    },
}

/// Plans the operations that turn `old` (children of `page_id`, with ids) into `new`.
pub fn diff(page_id: &str, old: &[Block], new: &[Block]) -> Result<Plan, DiffError> {
    let mut new_ids = HashSet::new();
    let mut twice = None;
    collect_ids(new, &mut |b| {
        if let Some(id) = &b.id {
            if !new_ids.insert(id.clone()) && twice.is_none() {
                twice = Some(id.clone());
            }
        }
    });
    if let Some(id) = twice {
        return Err(DiffError::Duplicated { id });
    }
    let mut old_by_id = HashMap::new();
    collect_ids(old, &mut |b| {
        if let Some(id) = &b.id {
            old_by_id.insert(id.clone(), b);
        }
    });
    let mut ctx = Ctx {
        new_ids,
        old_by_id,
        next_tmp: 0,
        ops: Vec::new(),
        cmp_cache: RefCell::new(HashMap::new()),
    };
    let result = ctx.diff_list(page_id, old, new)?;
    Ok(Plan {
        page_id: page_id.to_string(),
        ops: ctx.ops,
        result,
    })
}

/// Whether `current` already holds `wanted`, ignoring ids: same shape, same types, and every
/// field `wanted` states has the same canonical value in `current`. The children of synced
/// copies and child pages/databases are not part of a body and are not compared. Used to
/// compare content rather than timestamps (conflict detection, tests).
pub fn same_content(current: &[Block], wanted: &[Block]) -> bool {
    current.len() == wanted.len()
        && current.iter().zip(wanted).all(|(c, w)| {
            let foreign = is_child_object(w)
                || matches!(&w.kind, BlockKind::SyncedBlock(s) if s.synced_from.is_some());
            c.type_name() == w.type_name()
                && payload_matches(&compare_payload(&c.kind), &compare_payload(&w.kind))
                && (foreign || same_content(&c.children, &w.children))
        })
}

fn check_limits(type_name: &str, payload: &Value) -> Result<(), DiffError> {
    match limit_problem(type_name, payload) {
        Some(reason) => Err(DiffError::Limit {
            kind: type_name.to_string(),
            reason,
        }),
        None => Ok(()),
    }
}

fn collect_ids<'a>(blocks: &'a [Block], f: &mut impl FnMut(&'a Block)) {
    for b in blocks {
        f(b);
        collect_ids(&b.children, f);
    }
}

fn is_child_object(b: &Block) -> bool {
    matches!(
        b.kind,
        BlockKind::ChildPage(_) | BlockKind::ChildDatabase(_)
    )
}

fn is_synced_original(b: &Block) -> bool {
    matches!(&b.kind, BlockKind::SyncedBlock(s) if s.synced_from.is_none())
}

/// Types the reference documents as updatable in place.
fn updatable(b: &Block) -> bool {
    matches!(
        b.kind,
        BlockKind::Paragraph(_)
            | BlockKind::Heading1(_)
            | BlockKind::Heading2(_)
            | BlockKind::Heading3(_)
            | BlockKind::BulletedListItem(_)
            | BlockKind::NumberedListItem(_)
            | BlockKind::ToDo(_)
            | BlockKind::Toggle(_)
            | BlockKind::Quote(_)
            | BlockKind::Callout(_)
            | BlockKind::Code(_)
            | BlockKind::Equation(_)
            | BlockKind::TableOfContents(_)
            | BlockKind::Divider(_)
            | BlockKind::Breadcrumb(_)
            | BlockKind::Image(_)
            | BlockKind::Video(_)
            | BlockKind::Audio(_)
            | BlockKind::Pdf(_)
            | BlockKind::File(_)
            | BlockKind::Bookmark(_)
            | BlockKind::Embed(_)
            | BlockKind::Table(_)
            | BlockKind::TableRow(_)
            | BlockKind::ColumnList(_)
            | BlockKind::Column(_)
    )
}

/// A child page's or database's title as its line states it (trailing whitespace is not
/// written, so it is not compared).
fn child_title(b: &Block) -> Option<&str> {
    match &b.kind {
        BlockKind::ChildPage(t) | BlockKind::ChildDatabase(t) => {
            Some(t.title.trim_end_matches(crate::markdown::space::is_space))
        }
        _ => None,
    }
}

fn find_child_object(blocks: &[Block]) -> Option<&Block> {
    blocks.iter().find_map(|b| {
        if is_child_object(b) {
            Some(b)
        } else {
            find_child_object(&b.children)
        }
    })
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Pair {
    /// Same content (no id on the new side).
    Exact,
    /// Matched by the id the new block carries.
    Id,
    /// Same type, content to update in place.
    Edit,
}

struct Ctx<'a> {
    new_ids: HashSet<String>,
    old_by_id: HashMap<String, &'a Block>,
    next_tmp: usize,
    ops: Vec<Op>,
    cmp_cache: RefCell<HashMap<usize, Rc<JsonMap>>>,
}

impl<'a> Ctx<'a> {
    /// The canonical payload of a block of the old or new tree, computed once: both trees are
    /// borrowed, unchanged, for the whole diff, so a block's address identifies it.
    fn cmp(&self, b: &Block) -> Rc<JsonMap> {
        let key = b as *const Block as usize;
        if let Some(c) = self.cmp_cache.borrow().get(&key) {
            return Rc::clone(c);
        }
        let c = Rc::new(compare_payload(&b.kind));
        self.cmp_cache.borrow_mut().insert(key, Rc::clone(&c));
        c
    }

    fn same_payload(&self, o: &Block, n: &Block) -> bool {
        payload_matches(&self.cmp(o), &self.cmp(n))
    }

    fn claimed(&self, o: &Block) -> bool {
        o.id.as_ref().is_some_and(|id| self.new_ids.contains(id))
    }

    /// A kept id-carrying line whose content differs in a way that cannot be carried out.
    fn id_pair_changed(&self, o: &Block, n: &Block) -> bool {
        if o.type_name() != n.type_name() {
            return true;
        }
        match (child_title(o), child_title(n)) {
            (Some(a), Some(b)) => !b.is_empty() && a != b,
            _ => false,
        }
    }

    /// The new block says exactly what the old one says, children included.
    fn matches_exact(&self, o: &Block, n: &Block) -> bool {
        match &n.id {
            Some(x) => {
                if o.id.as_deref() != Some(x.as_str()) || self.id_pair_changed(o, n) {
                    false
                } else if is_synced_original(o) {
                    self.children_exact(&o.children, &n.children)
                } else if updatable(o) {
                    self.same_payload(o, n) && self.children_exact(&o.children, &n.children)
                } else {
                    true
                }
            }
            None => {
                !self.claimed(o)
                    && !is_child_object(o)
                    && o.type_name() == n.type_name()
                    && quick_hash(o) == quick_hash(n)
                    && self.same_payload(o, n)
                    && self.children_exact(&o.children, &n.children)
            }
        }
    }

    fn children_exact(&self, o: &[Block], n: &[Block]) -> bool {
        o.len() == n.len() && o.iter().zip(n).all(|(a, b)| self.matches_exact(a, b))
    }

    fn anchor_eq(&self, o: &Block, n: &Block) -> bool {
        match &n.id {
            Some(x) => o.id.as_deref() == Some(x.as_str()),
            None => self.matches_exact(o, n),
        }
    }

    /// Old and new can be the same block with its content updated in place.
    fn in_place_ok(&self, o: &Block, n: &Block) -> bool {
        if n.id.is_some() || self.claimed(o) || !updatable(o) || o.type_name() != n.type_name() {
            return false;
        }
        match (&o.kind, &n.kind) {
            (BlockKind::Table(a), BlockKind::Table(b)) => a.table_width == b.table_width,
            _ => true,
        }
    }

    fn diff_list(
        &mut self,
        parent: &str,
        old: &'a [Block],
        new: &[Block],
    ) -> Result<Vec<Block>, DiffError> {
        let (oh, nh): (Vec<u64>, Vec<u64>) = (
            old.iter().map(quick_hash).collect(),
            new.iter().map(quick_hash).collect(),
        );
        let anchors = lcs(old.len(), new.len(), |i, j| {
            (new[j].id.is_some() || oh[i] == nh[j]) && self.anchor_eq(&old[i], &new[j])
        });
        let mut pairs: Vec<(usize, usize, Pair)> = Vec::new();
        let (mut oi, mut ni) = (0, 0);
        for &(ao, an) in anchors
            .iter()
            .chain(std::iter::once(&(old.len(), new.len())))
        {
            for (po, pn) in self.pair_gap(&old[oi..ao], &new[ni..an]) {
                pairs.push((oi + po, ni + pn, Pair::Edit));
            }
            if ao < old.len() {
                let kind = if new[an].id.is_some() {
                    Pair::Id
                } else {
                    Pair::Exact
                };
                pairs.push((ao, an, kind));
            }
            oi = ao + 1;
            ni = an + 1;
        }

        let mut result = Vec::with_capacity(new.len());
        let mut pending: Vec<Block> = Vec::new();
        let mut prev: Option<String> = None;
        let (mut oi, mut ni) = (0, 0);
        let end = (old.len(), new.len(), Pair::Exact);
        for &(po, pn, kind) in pairs.iter().chain(std::iter::once(&end)) {
            for n in &new[ni..pn] {
                self.insert(n, &mut pending, &mut result)?;
            }
            for o in &old[oi..po] {
                self.remove(parent, o, &mut result)?;
            }
            if po == old.len() && pn == new.len() {
                break;
            }
            self.flush(parent, &prev, &mut pending);
            let (o, n) = (&old[po], &new[pn]);
            let id = o.id.clone().ok_or_else(|| DiffError::MissingId {
                kind: o.type_name().to_string(),
            })?;
            let kept = match kind {
                Pair::Exact => o.clone(),
                Pair::Id => {
                    if self.id_pair_changed(o, n) {
                        return Err(DiffError::PlaceholderChanged {
                            id,
                            kind: o.type_name().to_string(),
                        });
                    }
                    if is_synced_original(o) {
                        let mut k = o.clone();
                        k.children = self.diff_list(&id, &o.children, &n.children)?;
                        k.has_children = !k.children.is_empty();
                        k
                    } else if updatable(o) {
                        self.edit(parent, &id, o, n)?
                    } else {
                        o.clone()
                    }
                }
                Pair::Edit => self.edit(parent, &id, o, n)?,
            };
            result.push(kept);
            prev = Some(id);
            oi = po + 1;
            ni = pn + 1;
        }
        self.flush(parent, &prev, &mut pending);
        Ok(result)
    }

    fn flush(&mut self, parent: &str, prev: &Option<String>, pending: &mut Vec<Block>) {
        if pending.is_empty() {
            return;
        }
        let anchor = match prev {
            Some(id) => Anchor::After(id.clone()),
            None => Anchor::Start,
        };
        self.ops.push(Op::Append {
            parent: parent.to_string(),
            anchor,
            blocks: std::mem::take(pending),
        });
    }

    /// An old block with no counterpart: deleted, or kept where it is (child pages).
    fn remove(
        &mut self,
        parent: &str,
        o: &Block,
        result: &mut Vec<Block>,
    ) -> Result<(), DiffError> {
        if is_child_object(o) {
            result.push(o.clone());
            return Ok(());
        }
        if let Some(c) = find_child_object(&o.children) {
            return Err(DiffError::WouldTrashChild {
                kind: o.type_name().to_string(),
                child_kind: c.type_name().to_string(),
                child_id: c.id.clone().unwrap_or_default(),
            });
        }
        let id = o.id.clone().ok_or_else(|| DiffError::MissingId {
            kind: o.type_name().to_string(),
        })?;
        self.ops.push(Op::Delete {
            parent: parent.to_string(),
            id,
        });
        Ok(())
    }

    /// A new block with no counterpart: appended (or, for a moved `<page>` line, ignored).
    fn insert(
        &mut self,
        n: &Block,
        pending: &mut Vec<Block>,
        result: &mut Vec<Block>,
    ) -> Result<(), DiffError> {
        if let Some(fresh) = self.fresh(n)? {
            result.push(fresh.clone());
            pending.push(fresh);
        }
        Ok(())
    }

    /// The request form of a new subtree with temporary ids; `None` for a known child page
    /// or database line (which changes nothing where it now stands).
    fn fresh(&mut self, n: &Block) -> Result<Option<Block>, DiffError> {
        if let Some(x) = &n.id {
            return match self.old_by_id.get(x) {
                Some(o) if is_child_object(o) => Ok(None),
                Some(o) => Err(DiffError::Moved {
                    id: x.clone(),
                    kind: o.type_name().to_string(),
                }),
                None => Err(DiffError::UnknownId { id: x.clone() }),
            };
        }
        if is_child_object(n) {
            return Err(DiffError::NewChildObject {
                kind: n.type_name().to_string(),
            });
        }
        if !n.kind.is_creatable() {
            return Err(DiffError::NotCreatable {
                kind: n.type_name().to_string(),
            });
        }
        let mut b = Block::new(n.kind.clone());
        let mut children = Vec::with_capacity(n.children.len());
        for c in &n.children {
            if let Some(fc) = self.fresh(c)? {
                children.push(fc);
            }
        }
        b.children = children;
        b.has_children = !b.children.is_empty();
        prepare(&mut b);
        check_limits(b.type_name(), &b.kind.payload())?;
        b.id = Some(format!("{TEMP_ID_PREFIX}{}", self.next_tmp));
        self.next_tmp += 1;
        Ok(Some(b))
    }

    /// A paired block: update what changed, then its children.
    fn edit(
        &mut self,
        parent: &str,
        id: &str,
        o: &'a Block,
        n: &Block,
    ) -> Result<Block, DiffError> {
        let old_cmp = self.cmp(o);
        let new_cmp = self.cmp(n);
        let mut send_block = Block::new(n.kind.clone());
        prepare(&mut send_block);
        let send = match send_block.kind.payload() {
            Value::Object(m) => m,
            _ => JsonMap::new(),
        };
        let fields = changed_fields(&old_cmp, &new_cmp, &send);
        // Only what is sent must fit (Notion's own content may exceed request limits).
        check_limits(o.type_name(), &Value::Object(fields.clone()))?;
        let untoggle = fields.get("is_toggleable") == Some(&Value::Bool(false));
        let mut kept = o.clone();
        if !fields.is_empty() {
            let mut merged = match o.kind.payload() {
                Value::Object(m) => m,
                _ => JsonMap::new(),
            };
            for (k, v) in &fields {
                merged.insert(k.clone(), v.clone());
            }
            // Both sides are payloads of this type, so the merge reads back; keep the old
            // payload if it somehow does not.
            if let Ok(k) = BlockKind::from_parts(o.type_name(), Value::Object(merged)) {
                kept.kind = k;
            }
        }
        let update = (!fields.is_empty()).then(|| {
            let mut body = JsonMap::new();
            body.insert(o.type_name().to_string(), Value::Object(fields));
            Op::Update {
                parent: parent.to_string(),
                id: id.to_string(),
                body: Value::Object(body),
            }
        });
        if !untoggle {
            self.ops.extend(update.clone());
        }
        kept.children = self.diff_list(id, &o.children, &n.children)?;
        kept.has_children = !kept.children.is_empty();
        if untoggle {
            self.ops.extend(update);
        }
        Ok(kept)
    }

    /// Pairs the blocks of a gap that can be updated in place, maximizing the number of pairs
    /// and then their text similarity.
    fn pair_gap(&self, old: &[Block], new: &[Block]) -> Vec<(usize, usize)> {
        let (a, b) = (old.len(), new.len());
        if a == 0 || b == 0 {
            return Vec::new();
        }
        if a * b > MAX_DP_CELLS {
            return (0..a.min(b))
                .filter(|&i| self.in_place_ok(&old[i], &new[i]))
                .map(|i| (i, i))
                .collect();
        }
        let old_text: Vec<String> = old.iter().map(visible_text).collect();
        let new_text: Vec<String> = new.iter().map(visible_text).collect();
        // Descendants at any depth, not only children: a changed block whose changed child
        // holds an unchanged block must pair, or that block is recreated with a new id.
        let old_desc: Vec<(HashSet<u64>, usize)> = old
            .iter()
            .map(|b| {
                let hashes = descendant_hashes(b);
                let n = hashes.len();
                (hashes.into_iter().collect(), n)
            })
            .collect();
        let new_desc: Vec<Vec<u64>> = new.iter().map(descendant_hashes).collect();
        // Weight of a pair. Keeping unchanged blocks first: a pair whose own payload is the
        // same, or that shares descendants, always pairs (20000 + 1000 per shared block).
        // Else the calls it saves over delete + insert (2): an update of a childless block
        // saves one (10000); a pair that saves nothing is kept only to preserve an id; one
        // that costs more is not a pair. Text similarity (0-1000) breaks ties.
        let score = |i: usize, j: usize| -> u64 {
            let (o, n) = (&old[i], &new[j]);
            if !self.in_place_ok(o, n) {
                return 0;
            }
            let (old_set, old_count) = &old_desc[i];
            let shared = new_desc[j]
                .iter()
                .filter(|h| old_set.contains(h))
                .count()
                .min(*old_count);
            // Only reached with nothing shared: every child is deleted or appended.
            let child_cost = o.children.len().max(n.children.len());
            let changed = quick_hash(o) != quick_hash(n) || !self.same_payload(o, n);
            let sim = u64::from(similarity(&old_text[i], &new_text[j]));
            if !changed || shared > 0 {
                // Pairing keeps unchanged blocks (itself or descendants) with their ids.
                return 20_000 + sim + 1_000 * shared as u64;
            }
            match 1 + child_cost {
                1 => 10_000 + sim,
                2 => sim + 1,
                _ => 0,
            }
        };
        // best[i][j]: best score aligning old[i..] with new[j..].
        let w = b + 1;
        let mut best = vec![0u64; (a + 1) * w];
        for i in (0..a).rev() {
            for j in (0..b).rev() {
                let s = score(i, j);
                let take = if s > 0 {
                    s + best[(i + 1) * w + j + 1]
                } else {
                    0
                };
                best[i * w + j] = take.max(best[(i + 1) * w + j]).max(best[i * w + j + 1]);
            }
        }
        let mut out = Vec::new();
        let (mut i, mut j) = (0, 0);
        while i < a && j < b {
            let s = score(i, j);
            if s > 0 && best[i * w + j] == s + best[(i + 1) * w + j + 1] {
                out.push((i, j));
                i += 1;
                j += 1;
            } else if best[i * w + j] == best[(i + 1) * w + j] {
                i += 1;
            } else {
                j += 1;
            }
        }
        out
    }
}

/// Fingerprints ([`quick_hash`]) of every block under `b`, at any depth.
fn descendant_hashes(b: &Block) -> Vec<u64> {
    fn walk(blocks: &[Block], out: &mut Vec<u64>) {
        for c in blocks {
            out.push(quick_hash(c));
            walk(&c.children, out);
        }
    }
    let mut out = Vec::new();
    walk(&b.children, &mut out);
    out
}

/// Longest common subsequence of two sequences under `eq`, as index pairs in order.
fn lcs(n_old: usize, n_new: usize, eq: impl Fn(usize, usize) -> bool) -> Vec<(usize, usize)> {
    let mut pre = 0;
    while pre < n_old && pre < n_new && eq(pre, pre) {
        pre += 1;
    }
    let mut suf = 0;
    while suf < n_old - pre && suf < n_new - pre && eq(n_old - 1 - suf, n_new - 1 - suf) {
        suf += 1;
    }
    let mut out: Vec<(usize, usize)> = (0..pre).map(|i| (i, i)).collect();
    let (a, b) = (n_old - pre - suf, n_new - pre - suf);
    if a > 0 && b > 0 && a * b <= MAX_DP_CELLS {
        let w = b + 1;
        let mut len = vec![0u32; (a + 1) * w];
        let mut hit = vec![false; a * b];
        for i in (0..a).rev() {
            for j in (0..b).rev() {
                let h = eq(pre + i, pre + j);
                hit[i * b + j] = h;
                len[i * w + j] = if h {
                    1 + len[(i + 1) * w + j + 1]
                } else {
                    len[(i + 1) * w + j].max(len[i * w + j + 1])
                };
            }
        }
        let (mut i, mut j) = (0, 0);
        while i < a && j < b {
            if hit[i * b + j] && len[i * w + j] == 1 + len[(i + 1) * w + j + 1] {
                out.push((pre + i, pre + j));
                i += 1;
                j += 1;
            } else if len[(i + 1) * w + j] >= len[i * w + j + 1] {
                i += 1;
            } else {
                j += 1;
            }
        }
    }
    out.extend((0..suf).map(|k| (n_old - suf + k, n_new - suf + k)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lcs_trims_and_aligns() {
        let a = ['a', 'b', 'c', 'd', 'e'];
        let b = ['a', 'x', 'c', 'e', 'y'];
        let pairs = lcs(a.len(), b.len(), |i, j| a[i] == b[j]);
        assert_eq!(pairs, vec![(0, 0), (2, 2), (4, 3)]);
        let empty = lcs(0, 3, |_, _| true);
        assert!(empty.is_empty());
        let same = lcs(3, 3, |i, j| i == j);
        assert_eq!(same, vec![(0, 0), (1, 1), (2, 2)]);
    }
}
