//! `/v1/blocks`: retrieve, list and append children, update and trash blocks.

use super::*;

pub(super) async fn block_get(State(sh): Sh, Path(id): Path<String>) -> JsonResult {
    let id = path_id(&id, "block_id")?;
    let mut st = sh.store();
    let v = st
        .render_block(&id)
        .ok_or_else(|| ApiError::not_found("block", &id))?;
    Ok(finish(&mut st, v))
}

pub(super) async fn children_get(
    State(sh): Sh,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> JsonResult {
    let id = path_id(&id, "block_id")?;
    let q = query_params(&q);
    let (cursor, size) = paging_from_query(&q)?;
    let mut st = sh.store();
    match st.kind(&id) {
        Some(Kind::Page) => {}
        Some(Kind::Block) => {
            // since Dec 2022 reading children of a type that cannot have any is an error
            let b = &st.blocks[&id];
            if !supports_children(&b.ty, &b.data) && b.ty != "synced_block" {
                return Err(ApiError::validation(format!(
                    "Block type `{}` does not support children.",
                    b.ty
                )));
            }
        }
        _ => return Err(ApiError::not_found("block", &id)),
    }
    let kids = st.visible_children(&id);
    let (range, next) = page_range(&kids, cursor.as_deref(), size)?;
    let page: Vec<Value> = kids[range]
        .iter()
        .filter_map(|c| st.render_block(c))
        .collect();
    let out = list(page, next, "block");
    Ok(finish(&mut st, out))
}

pub(super) async fn children_append(
    State(sh): Sh,
    Path(id): Path<String>,
    body: Bytes,
) -> JsonResult {
    let id = path_id(&id, "block_id")?;
    let b = json_body(&body, false)?;
    check_keys(&b, &["children", "position", "after"], "body")?;
    if b.contains_key("after") && b.contains_key("position") {
        return Err(ApiError::validation("body failed validation: you cannot specify both `after` and `position` in the same request."));
    }
    let mut st = sh.store();
    let (pty, pdata) = match st.kind(&id) {
        Some(Kind::Page) => ("child_page".to_string(), json!({})),
        Some(Kind::Block) => {
            let bl = &st.blocks[&id];
            (bl.ty.clone(), bl.data.clone())
        }
        _ => return Err(ApiError::not_found("block", &id)),
    };
    st.require_live(&id)?;
    if !supports_children(&pty, &pdata) {
        return Err(ApiError::validation(format!(
            "Block type `{pty}` does not support children."
        )));
    }
    let visible = st.visible_children(&id);
    let pos = match (b.get("position"), b.get("after")) {
        (Some(p), _) => {
            let pm = obj(p, "body.position")?;
            let ty = string(req(pm, "type", "body.position")?, "body.position.type")?;
            match ty {
                "start" => { check_keys(pm, &["type", "start"], "body.position")?; Position::Start }
                "end" => { check_keys(pm, &["type", "end"], "body.position")?; Position::End }
                "after_block" => {
                    check_keys(pm, &["type", "after_block"], "body.position")?;
                    let ab = obj(req(pm, "after_block", "body.position")?, "body.position.after_block")?;
                    check_keys(ab, &["id"], "body.position.after_block")?;
                    Position::After(body_id(req(ab, "id", "body.position.after_block")?, "body.position.after_block.id")?)
                }
                other => return Err(ApiError::validation(format!(
                    "body failed validation: body.position.type should be `start`, `end` or `after_block`, instead was `\"{other}\"`."
                ))),
            }
        }
        (None, Some(a)) => Position::After(body_id(a, "body.after")?),
        (None, None) => Position::End,
    };
    if let Position::After(a) = &pos {
        if !visible.contains(a) {
            return Err(ApiError::validation(format!("Block {a} is not a child of {id}; `after_block` must reference an existing child block.")));
        }
    }
    let ing = Ingest::new(&st, false);
    let children = ing.blocks(req(&b, "children", "body")?, "body.children", 0)?;
    for (i, c) in children.iter().enumerate() {
        check_child_type(
            &pty,
            pdata.as_object().unwrap_or(&Map::new()),
            &c.ty,
            &c.data,
            &format!("body.children[{i}]"),
        )?;
    }
    let attach = ing.attach.take();
    drop(ing);
    let bot = st.bot_id.clone();
    let now = st.now();
    let ids: Vec<String> = children
        .into_iter()
        .map(|c| st.create_block_tree(&id, c, &bot, now))
        .collect();
    st.place_children(&id, &ids, &pos);
    st.touch(&id, &bot);
    if let Some(bl) = st.blocks.get_mut(&id) {
        bl.edited = now;
        bl.edited_by = bot.clone();
    }
    for u in attach {
        st.files.mark_attached(&u);
    }
    let results: Vec<Value> = ids.iter().filter_map(|c| st.render_block(c)).collect();
    let out = list(results, None, "block");
    Ok(finish(&mut st, out))
}

pub(super) async fn block_update(State(sh): Sh, Path(id): Path<String>, body: Bytes) -> JsonResult {
    let id = path_id(&id, "block_id")?;
    let b = json_body(&body, false)?;
    let mut st = sh.store();
    let trash_flag = parse_trash_flag(&b)?;
    let bot = st.bot_id.clone();
    match st.kind(&id) {
        Some(Kind::Page) | Some(Kind::Database) => {
            return trash_as_block(&mut st, &id, &b, trash_flag, &bot)
        }
        Some(Kind::Block) => {}
        _ => return Err(ApiError::not_found("block", &id)),
    }
    let block = st.blocks[&id].clone();
    let ty = block.ty.clone();
    check_keys(&b, &["in_trash", "archived", "type", ty.as_str()], "body").map_err(|e| {
        match b.keys().find(|k| crate::emulator::validate::BLOCK_TYPES.contains(&k.as_str()) && **k != ty) {
            Some(other) => ApiError::validation(format!("body failed validation: the block type cannot be changed (block is `{ty}`, request has `{other}`).")),
            None => e,
        }
    })?;
    if let Some(t) = b.get("type") {
        if t != ty.as_str() {
            return Err(ApiError::validation(format!(
                "body failed validation: the block type cannot be changed (block is `{ty}`)."
            )));
        }
    }
    if st.trashed(&id) && trash_flag != Some(false) {
        return Err(ApiError::not_found("block", &id));
    }
    let (new_data, attach) = match b.get(&ty) {
        Some(given) => updated_block_data(&st, &id, &block, given)?,
        None => (block.data.clone(), Vec::new()),
    };
    let now = st.now();
    {
        let bl = st.blocks.get_mut(&id).expect("exists");
        bl.data = new_data;
        if let Some(t) = trash_flag {
            bl.in_trash = t;
        }
        bl.edited = now;
        bl.edited_by = bot.clone();
    }
    st.touch(&id, &bot);
    for u in attach {
        st.files.mark_attached(&u);
    }
    let v = st.render_block(&id).expect("exists");
    Ok(finish(&mut st, v))
}

/// Update a block on a page or database id: only `in_trash` / `archived` apply (touching
/// the container).
fn trash_as_block(
    st: &mut Store,
    id: &str,
    b: &Map<String, Value>,
    trash_flag: Option<bool>,
    bot: &str,
) -> JsonResult {
    let allowed: &[&str] = &["in_trash", "archived"];
    check_keys(b, allowed, "body")?;
    if let Some(t) = trash_flag {
        let parent = if let Some(p) = st.pages.get_mut(id) {
            p.in_trash = t;
            parent_ref(&p.parent)
        } else {
            let d = st.databases.get_mut(id).expect("kind checked");
            d.in_trash = t;
            parent_ref(&d.parent)
        };
        if let Some(p) = parent.filter(|p| st.pages.contains_key(p) || st.blocks.contains_key(p)) {
            st.touch(&p, bot);
        }
    }
    let v = st.render_block(id).expect("exists");
    Ok(finish(st, v))
}

/// The data of `block` once updated with `given` (the request's type object) and the file
/// uploads to attach: tables and columns change in place, other types are merged into the
/// stored data and parsed again like a new block.
fn updated_block_data(
    st: &Store,
    id: &str,
    block: &Block,
    given: &Value,
) -> ApiResult<(Value, Vec<String>)> {
    let ty = block.ty.as_str();
    let gpath = format!("body.{ty}");
    let gm = obj(given, &gpath)?;
    if gm.contains_key("children") {
        return Err(ApiError::validation(format!("body failed validation: {gpath}.children should be not present; use Append block children.")));
    }
    let mut new_data = block.data.clone();
    match ty {
        "synced_block" => {
            return Err(ApiError::validation(
                "Updating synced block content or synced_from is not supported by the API.",
            ))
        }
        "link_preview" | "template" | "unsupported" | "child_page" | "child_database" => {
            return Err(ApiError::validation(format!(
                "Block type `{ty}` cannot be updated through this endpoint."
            )))
        }
        "table" => {
            check_keys(
                gm,
                &["table_width", "has_column_header", "has_row_header"],
                &gpath,
            )?;
            if let Some(w) = gm.get("table_width") {
                if *w != new_data["table_width"] {
                    return Err(ApiError::validation(
                        "table_width cannot be changed after the table is created.",
                    ));
                }
            }
            for k in ["has_column_header", "has_row_header"] {
                if let Some(v) = gm.get(k) {
                    new_data[k] = json!(crate::emulator::validate::boolean(
                        v,
                        &format!("{gpath}.{k}")
                    )?);
                }
            }
        }
        "column_list" => check_keys(gm, &[], &gpath)?,
        "column" => {
            check_keys(gm, &["width_ratio"], &gpath)?;
            if let Some(r) = gm.get("width_ratio") {
                let r = r
                    .as_f64()
                    .filter(|r| *r > 0.0 && *r <= 1.0)
                    .ok_or_else(|| {
                        ApiError::validation(format!(
                            "{gpath}.width_ratio should be a number between 0 and 1."
                        ))
                    })?;
                new_data["width_ratio"] = json!(r);
            }
        }
        _ => return merged_block_data(st, id, block, gm),
    }
    Ok((new_data, Vec::new()))
}

/// The data of `block` with the given fields `gm` merged in (a new file source replaces the
/// old one), validated as a new block would be; a table row must still fit its table.
fn merged_block_data(
    st: &Store,
    id: &str,
    block: &Block,
    gm: &Map<String, Value>,
) -> ApiResult<(Value, Vec<String>)> {
    let ty = block.ty.as_str();
    let mut merged = block.data.as_object().cloned().unwrap_or_default();
    let media = ["image", "video", "audio", "pdf", "file"].contains(&ty);
    if media
        && ["type", "external", "file_upload", "file"]
            .iter()
            .any(|k| gm.contains_key(*k))
    {
        for k in ["type", "external", "file_upload", "file"] {
            merged.remove(k);
        }
    }
    for (k, v) in gm {
        merged.insert(k.clone(), v.clone());
    }
    if ty.starts_with("heading_")
        && merged.get("is_toggleable") == Some(&Value::Bool(false))
        && !st.visible_children(id).is_empty()
    {
        return Err(ApiError::validation("All children of a toggle heading must be removed before it can be made non-toggleable."));
    }
    let mut ing = Ingest::new(st, false);
    ing.allow_hosted = true;
    let parsed = ing.block(&json!({"type": ty, ty: Value::Object(merged)}), "body", 0)?;
    if ty == "table_row" {
        if let Some(parent) = parent_ref(&block.parent).and_then(|p| st.blocks.get(&p)) {
            let pd = parent.data.as_object().cloned().unwrap_or_default();
            check_child_type(
                "table",
                &pd,
                "table_row",
                &parsed.data,
                &format!("body.{ty}"),
            )?;
        }
    }
    let attach = ing.attach.take();
    Ok((parsed.data, attach))
}

pub(super) async fn block_delete(State(sh): Sh, Path(id): Path<String>) -> JsonResult {
    let id = path_id(&id, "block_id")?;
    let mut st = sh.store();
    if !matches!(
        st.kind(&id),
        Some(Kind::Page | Kind::Block | Kind::Database)
    ) {
        return Err(ApiError::not_found("block", &id));
    }
    let bot = st.bot_id.clone();
    let parent = st
        .pages
        .get(&id)
        .map(|p| p.parent.clone())
        .or_else(|| st.blocks.get(&id).map(|b| b.parent.clone()))
        .or_else(|| st.databases.get(&id).map(|d| d.parent.clone()));
    trash_any(&mut st, &id);
    let now = st.now();
    if let Some(b) = st.blocks.get_mut(&id) {
        b.edited = now;
        b.edited_by = bot.clone();
    }
    if let Some(p) = parent
        .as_ref()
        .and_then(parent_ref)
        .filter(|p| st.pages.contains_key(p) || st.blocks.contains_key(p))
    {
        st.touch(&p, &bot);
    }
    let v = st.render_block(&id).expect("exists");
    Ok(finish(&mut st, v))
}
