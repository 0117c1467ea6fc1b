//! Block parsing: the request shape of each block type family (text-like blocks, code,
//! tables, columns, media, embeds, links, synced blocks) into its stored type object, and
//! the nesting and parent/child rules of /reference/patch-block-children.

use serde_json::{json, Map, Value};

use super::{
    arr, boolean, check_child_type, check_keys, color, obj, req, string, Ingest, NewBlock,
    BLOCK_TYPES, MAX_BLOCKS,
};
use crate::emulator::util::{body_id, ApiError, ApiResult};
use crate::notion::model::block::CODE_LANGUAGES;

impl Ingest<'_> {
    /// Parses a list of blocks (`children`) at nesting `depth` (0 = top level of the request).
    pub fn blocks(&self, v: &Value, path: &str, depth: usize) -> ApiResult<Vec<NewBlock>> {
        let a = arr(v, path)?;
        let mut out = Vec::with_capacity(a.len());
        for (i, b) in a.iter().enumerate() {
            out.push(self.block(b, &format!("{path}[{i}]"), depth)?);
        }
        Ok(out)
    }

    /// Parses one block.
    pub fn block(&self, v: &Value, path: &str, depth: usize) -> ApiResult<NewBlock> {
        let n = self.blocks.get() + 1;
        self.blocks.set(n);
        if n > MAX_BLOCKS && !self.seed {
            return Err(ApiError::validation(format!(
                "body failed validation: the request contains more than {MAX_BLOCKS} block elements (limit is {MAX_BLOCKS} blocks per request)."
            )));
        }
        let m = obj(v, path)?;
        let ty = self.block_type(m, path)?;
        let id = match (self.seed, m.get("id")) {
            (true, Some(v)) => Some(body_id(v, &format!("{path}.id"))?),
            _ => None,
        };
        if !self.seed
            && matches!(
                ty.as_str(),
                "link_preview" | "template" | "unsupported" | "child_page" | "child_database"
            )
        {
            let hint = match ty.as_str() {
                "child_page" => " Use the Create a page endpoint to create pages.",
                "child_database" => " Use the Create a database endpoint to create databases.",
                _ => "",
            };
            return Err(ApiError::validation(format!(
                "body failed validation: {path}.type `{ty}` blocks cannot be created through the API.{hint}"
            )));
        }
        let tpath = format!("{path}.{ty}");
        let empty = json!({});
        let t = obj(m.get(&ty).unwrap_or(&empty), &tpath)?;
        let mut data = Map::new();
        let children_v = self.block_data(&ty, t, &tpath, &mut data)?;
        let children = self.block_children(&ty, &data, children_v, &tpath, depth)?;
        Ok(NewBlock {
            id,
            ty,
            data: Value::Object(data),
            children,
        })
    }

    /// The block's type (`type`, or the first type key), checked together with the
    /// block's top-level keys and `object`.
    fn block_type(&self, m: &Map<String, Value>, path: &str) -> ApiResult<String> {
        let ty = match m.get("type") {
            Some(t) => string(t, &format!("{path}.type"))?.to_string(),
            None => m
                .keys()
                .find(|k| BLOCK_TYPES.contains(&k.as_str()))
                .cloned()
                .ok_or_else(|| ApiError::validation(format!("body failed validation: {path}.type should be defined, instead was `undefined`.")))?,
        };
        if !BLOCK_TYPES.contains(&ty.as_str()) {
            return Err(ApiError::validation(format!(
                "body failed validation: {path}.type should be a supported block type, instead was `\"{ty}\"`."
            )));
        }
        let top_allowed: &[&str] = if self.seed {
            &["object", "type", "id", ty.as_str()]
        } else {
            &["object", "type", ty.as_str()]
        };
        check_keys(m, top_allowed, path)?;
        if let Some(o) = m.get("object") {
            if o != "block" {
                return Err(ApiError::validation(format!("body failed validation: {path}.object should be `\"block\"`, instead was `{o}`.")));
            }
        }
        Ok(ty)
    }

    /// Parses the type object `t` of a `ty` block into `data`, one type family per helper;
    /// returns the `children` to parse, for the types that take them in the request.
    fn block_data<'t>(
        &self,
        ty: &str,
        t: &'t Map<String, Value>,
        tpath: &str,
        data: &mut Map<String, Value>,
    ) -> ApiResult<Option<&'t Value>> {
        match ty {
            "paragraph" | "bulleted_list_item" | "quote" | "toggle" | "numbered_list_item"
            | "to_do" | "heading_1" | "heading_2" | "heading_3" | "callout" | "template" => {
                return self.text_block(ty, t, tpath, data)
            }
            "code" => self.code_block(t, tpath, data)?,
            "equation" => {
                check_keys(t, &["expression"], tpath)?;
                let e = string(req(t, "expression", tpath)?, &format!("{tpath}.expression"))?;
                self.check_equation(e, &format!("{tpath}.expression"))?;
                data.insert("expression".into(), json!(e));
            }
            "divider" | "breadcrumb" | "unsupported" => check_keys(t, &[], tpath)?,
            "table_of_contents" => {
                check_keys(t, &["color"], tpath)?;
                let c = match t.get("color") {
                    Some(c) => color(c, &format!("{tpath}.color"))?,
                    None => "default".into(),
                };
                data.insert("color".into(), json!(c));
            }
            "table" | "table_row" => return self.table_block(ty, t, tpath, data),
            "column_list" | "column" => return column_block(ty, t, tpath, data),
            "image" | "video" | "audio" | "pdf" | "file" => self.media_block(ty, t, tpath, data)?,
            "bookmark" | "embed" | "link_preview" => self.embed_block(ty, t, tpath, data)?,
            "link_to_page" => self.link_to_page(t, tpath, data)?,
            "synced_block" => return self.synced_block(t, tpath, data),
            "child_page" | "child_database" => {
                check_keys(t, &["title"], tpath)?;
                data.insert("title".into(), t.get("title").cloned().unwrap_or(json!("")));
            }
            _ => {}
        }
        Ok(None)
    }

    /// Text-like blocks (paragraphs, headings, list items, to-dos, toggles, quotes, callouts,
    /// templates): rich text, color and each type's extras; all of them may have children.
    fn text_block<'t>(
        &self,
        ty: &str,
        t: &'t Map<String, Value>,
        tpath: &str,
        data: &mut Map<String, Value>,
    ) -> ApiResult<Option<&'t Value>> {
        let extra: &[&str] = match ty {
            "numbered_list_item" => &["list_start_index", "list_format"],
            "to_do" => &["checked"],
            "heading_1" | "heading_2" | "heading_3" => &["is_toggleable"],
            "callout" => &["icon"],
            _ => &[],
        };
        let mut allowed = vec!["rich_text", "color", "children"];
        allowed.extend_from_slice(extra);
        check_keys(t, &allowed, tpath)?;
        data.insert(
            "rich_text".into(),
            self.rich_text(req(t, "rich_text", tpath)?, &format!("{tpath}.rich_text"))?,
        );
        if ty == "to_do" {
            let c = match t.get("checked") {
                Some(c) => boolean(c, &format!("{tpath}.checked"))?,
                None => false,
            };
            data.insert("checked".into(), json!(c));
        }
        if ty == "callout" {
            let icon = match t.get("icon") {
                Some(i) => self.icon(i, &format!("{tpath}.icon"))?,
                None => json!({"type": "emoji", "emoji": "💡"}),
            };
            data.insert("icon".into(), icon);
        }
        if ty != "template" {
            let c = match t.get("color") {
                Some(c) => color(c, &format!("{tpath}.color"))?,
                None => "default".into(),
            };
            data.insert("color".into(), json!(c));
        }
        if ty.starts_with("heading_") {
            let tog = match t.get("is_toggleable") {
                Some(b) => boolean(b, &format!("{tpath}.is_toggleable"))?,
                None => false,
            };
            data.insert("is_toggleable".into(), json!(tog));
            if !tog && t.contains_key("children") {
                return Err(ApiError::validation(format!(
                    "body failed validation: {tpath}.children is only allowed when is_toggleable is true."
                )));
            }
        }
        if ty == "numbered_list_item" {
            list_numbering(t, tpath, data)?;
        }
        Ok(t.get("children"))
    }

    /// Code blocks: caption, rich text and one of the supported languages.
    fn code_block(
        &self,
        t: &Map<String, Value>,
        tpath: &str,
        data: &mut Map<String, Value>,
    ) -> ApiResult<()> {
        check_keys(t, &["rich_text", "caption", "language"], tpath)?;
        data.insert(
            "caption".into(),
            match t.get("caption") {
                Some(c) => self.rich_text(c, &format!("{tpath}.caption"))?,
                None => json!([]),
            },
        );
        data.insert(
            "rich_text".into(),
            self.rich_text(req(t, "rich_text", tpath)?, &format!("{tpath}.rich_text"))?,
        );
        let lang = string(req(t, "language", tpath)?, &format!("{tpath}.language"))?;
        if !CODE_LANGUAGES.contains(&lang) {
            return Err(ApiError::validation(format!(
                "body failed validation: {tpath}.language should be one of the supported code languages, instead was `\"{lang}\"`."
            )));
        }
        data.insert("language".into(), json!(lang));
        Ok(())
    }

    /// Tables (width, header flags, at least one row given as children) and table rows
    /// (one rich text per cell; the width is checked against the parent table later).
    fn table_block<'t>(
        &self,
        ty: &str,
        t: &'t Map<String, Value>,
        tpath: &str,
        data: &mut Map<String, Value>,
    ) -> ApiResult<Option<&'t Value>> {
        if ty == "table_row" {
            check_keys(t, &["cells"], tpath)?;
            let cells = arr(req(t, "cells", tpath)?, &format!("{tpath}.cells"))?;
            let mut out = Vec::new();
            for (i, c) in cells.iter().enumerate() {
                out.push(self.rich_text(c, &format!("{tpath}.cells[{i}]"))?);
            }
            data.insert("cells".into(), Value::Array(out));
            return Ok(None);
        }
        check_keys(
            t,
            &[
                "table_width",
                "has_column_header",
                "has_row_header",
                "children",
            ],
            tpath,
        )?;
        let w = req(t, "table_width", tpath)?
            .as_u64()
            .filter(|w| *w >= 1)
            .ok_or_else(|| {
                ApiError::validation(format!(
                    "body failed validation: {tpath}.table_width should be a positive integer."
                ))
            })?;
        data.insert("table_width".into(), json!(w));
        for k in ["has_column_header", "has_row_header"] {
            let b = match t.get(k) {
                Some(b) => boolean(b, &format!("{tpath}.{k}"))?,
                None => false,
            };
            data.insert(k.into(), json!(b));
        }
        required_children(t, tpath, "table_row")
    }

    /// Media and file blocks: caption, file source (checked against the block type) and,
    /// for `file`, a name.
    fn media_block(
        &self,
        ty: &str,
        t: &Map<String, Value>,
        tpath: &str,
        data: &mut Map<String, Value>,
    ) -> ApiResult<()> {
        let allowed: &[&str] = if ty == "file" {
            &["type", "external", "file_upload", "file", "caption", "name"]
        } else {
            &["type", "external", "file_upload", "file", "caption"]
        };
        check_keys(t, allowed, tpath)?;
        data.insert(
            "caption".into(),
            match t.get("caption") {
                Some(c) => self.rich_text(c, &format!("{tpath}.caption"))?,
                None => json!([]),
            },
        );
        let src = self.file_source(t, tpath, Some(ty))?;
        for (k, v) in src {
            data.insert(k, v);
        }
        if ty == "file" {
            let name = match t.get("name") {
                Some(n) => string(n, &format!("{tpath}.name"))?.to_string(),
                None => self.default_file_name(data),
            };
            data.insert("name".into(), json!(name));
        }
        Ok(())
    }

    /// The name of a `file` block given without one: the hosted file's or the URL's last
    /// segment.
    fn default_file_name(&self, data: &Map<String, Value>) -> String {
        if let Some(key) = data
            .get("file")
            .and_then(|f| f.get("hosted"))
            .and_then(Value::as_str)
        {
            if let Some(f) = self.store.files.hosted.get(key) {
                return f.name.clone();
            }
        }
        if let Some(u) = data
            .get("external")
            .and_then(|e| e.get("url"))
            .and_then(Value::as_str)
        {
            return u.rsplit('/').next().unwrap_or("file").to_string();
        }
        "file".to_string()
    }

    /// Bookmarks, embeds and link previews: a URL and (but for link previews) a caption.
    fn embed_block(
        &self,
        ty: &str,
        t: &Map<String, Value>,
        tpath: &str,
        data: &mut Map<String, Value>,
    ) -> ApiResult<()> {
        let allowed: &[&str] = if ty == "link_preview" {
            &["url"]
        } else {
            &["url", "caption"]
        };
        check_keys(t, allowed, tpath)?;
        if ty != "link_preview" {
            data.insert(
                "caption".into(),
                match t.get("caption") {
                    Some(c) => self.rich_text(c, &format!("{tpath}.caption"))?,
                    None => json!([]),
                },
            );
        }
        data.insert(
            "url".into(),
            json!(self.url(req(t, "url", tpath)?, &format!("{tpath}.url"))?),
        );
        Ok(())
    }

    /// Links to pages: a `page_id` or `database_id` that must exist (but in seeds).
    fn link_to_page(
        &self,
        t: &Map<String, Value>,
        tpath: &str,
        data: &mut Map<String, Value>,
    ) -> ApiResult<()> {
        check_keys(t, &["type", "page_id", "database_id"], tpath)?;
        let kind = match t.get("type") {
            Some(k) => string(k, &format!("{tpath}.type"))?.to_string(),
            None if t.contains_key("page_id") => "page_id".into(),
            None => "database_id".into(),
        };
        if kind != "page_id" && kind != "database_id" {
            return Err(ApiError::validation(format!(
                "body failed validation: {tpath}.type should be `page_id` or `database_id`."
            )));
        }
        let id = body_id(req(t, &kind, tpath)?, &format!("{tpath}.{kind}"))?;
        let exists = if kind == "page_id" {
            self.store.pages.contains_key(&id)
        } else {
            self.store.databases.contains_key(&id)
        };
        if !exists && !self.seed {
            return Err(ApiError::validation(format!(
                "Could not find {} with ID: {id}.",
                &kind[..kind.len() - 3]
            )));
        }
        data.insert("type".into(), json!(kind));
        data.insert(kind, json!(id));
        Ok(())
    }

    /// Synced blocks: an original (`synced_from: null`, with children) or a duplicate of an
    /// existing original (no children).
    fn synced_block<'t>(
        &self,
        t: &'t Map<String, Value>,
        tpath: &str,
        data: &mut Map<String, Value>,
    ) -> ApiResult<Option<&'t Value>> {
        check_keys(t, &["synced_from", "children"], tpath)?;
        let Some(sf) = t.get("synced_from").filter(|sf| !sf.is_null()) else {
            data.insert("synced_from".into(), Value::Null);
            return Ok(t.get("children"));
        };
        let spath = format!("{tpath}.synced_from");
        let sm = obj(sf, &spath)?;
        check_keys(sm, &["type", "block_id"], &spath)?;
        let id = body_id(req(sm, "block_id", &spath)?, &format!("{spath}.block_id"))?;
        if t.contains_key("children") {
            return Err(ApiError::validation(format!("body failed validation: {tpath}.children is not allowed for a duplicate synced block.")));
        }
        if !self.seed {
            let ok = self.store.blocks.get(&id).is_some_and(|b| {
                b.ty == "synced_block" && b.data.get("synced_from").is_some_and(Value::is_null)
            });
            if !ok {
                return Err(ApiError::validation(format!(
                    "body failed validation: {spath}.block_id must reference an original synced block; `{id}` is not one."
                )));
            }
        }
        data.insert(
            "synced_from".into(),
            json!({"type": "block_id", "block_id": id}),
        );
        Ok(None)
    }

    /// Parses the children of a `ty` block (within the nesting limit) and checks that
    /// each may sit under it.
    fn block_children(
        &self,
        ty: &str,
        data: &Map<String, Value>,
        children_v: Option<&Value>,
        tpath: &str,
        depth: usize,
    ) -> ApiResult<Vec<NewBlock>> {
        let mut children = Vec::new();
        if let Some(cv) = children_v {
            // Two levels of nesting below the request's blocks: children and grandchildren
            // (the reference's own column_list example needs both).
            if depth >= 2 && !self.seed {
                return Err(ApiError::validation(format!(
                    "body failed validation: {tpath}.children exceeds the maximum nesting depth; at most two levels of nesting are allowed in a single request."
                )));
            }
            children = self.blocks(cv, &format!("{tpath}.children"), depth + 1)?;
        }
        // parent/child type rules
        for (i, c) in children.iter().enumerate() {
            check_child_type(ty, data, &c.ty, &c.data, &format!("{tpath}.children[{i}]"))?;
        }
        Ok(children)
    }
}

/// The numbering of a numbered list item: an optional start index and format.
fn list_numbering(
    t: &Map<String, Value>,
    tpath: &str,
    data: &mut Map<String, Value>,
) -> ApiResult<()> {
    if let Some(s) = t.get("list_start_index") {
        let n = s.as_u64().ok_or_else(|| {
            ApiError::validation(format!(
                "body failed validation: {tpath}.list_start_index should be a positive integer."
            ))
        })?;
        data.insert("list_start_index".into(), json!(n));
    }
    if let Some(f) = t.get("list_format") {
        let f = string(f, &format!("{tpath}.list_format"))?;
        if !["numbers", "letters", "roman"].contains(&f) {
            return Err(ApiError::validation(format!("body failed validation: {tpath}.list_format should be `numbers`, `letters` or `roman`, instead was `\"{f}\"`.")));
        }
        data.insert("list_format".into(), json!(f));
    }
    Ok(())
}

/// Column lists (at least two columns) and columns (an optional width ratio and at least
/// one block), both given with their children.
fn column_block<'t>(
    ty: &str,
    t: &'t Map<String, Value>,
    tpath: &str,
    data: &mut Map<String, Value>,
) -> ApiResult<Option<&'t Value>> {
    if ty == "column_list" {
        check_keys(t, &["children"], tpath)?;
        let children_v = t.get("children");
        let cols = children_v
            .and_then(Value::as_array)
            .map(|a| a.len())
            .unwrap_or(0);
        if cols < 2 {
            return Err(ApiError::validation(format!(
                "body failed validation: {tpath}.children should contain at least 2 columns, instead had {cols}."
            )));
        }
        return Ok(children_v);
    }
    check_keys(t, &["children", "width_ratio"], tpath)?;
    if let Some(r) = t.get("width_ratio") {
        let r = r.as_f64().filter(|r| *r > 0.0 && *r <= 1.0).ok_or_else(|| {
            ApiError::validation(format!("body failed validation: {tpath}.width_ratio should be a number between 0 and 1."))
        })?;
        data.insert("width_ratio".into(), json!(r));
    }
    required_children(t, tpath, "block")
}

/// The `children` of a block that must be created with at least one `what`.
fn required_children<'a>(
    t: &'a serde_json::Map<String, Value>,
    tpath: &str,
    what: &str,
) -> Result<Option<&'a Value>, ApiError> {
    let children_v = t.get("children");
    if children_v
        .and_then(Value::as_array)
        .is_none_or(|a| a.is_empty())
    {
        return Err(ApiError::validation(format!(
            "body failed validation: {tpath}.children should contain at least one {what}."
        )));
    }
    Ok(children_v)
}
