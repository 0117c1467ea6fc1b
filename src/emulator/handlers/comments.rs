//! `/v1/comments`: list, retrieve and create comments.

use super::*;

pub(super) async fn comments_list(State(sh): Sh, RawQuery(q): RawQuery) -> JsonResult {
    let q = query_params(&q);
    let (cursor, size) = paging_from_query(&q)?;
    let raw = qget(&q, "block_id").ok_or_else(|| {
        ApiError::validation(
            "query failed validation: query.block_id should be defined, instead was `undefined`.",
        )
    })?;
    let id = crate::emulator::util::parse_id(raw).ok_or_else(|| ApiError::validation(format!("query failed validation: query.block_id should be a valid uuid, instead was `\"{raw}\"`.")))?;
    let mut st = sh.store();
    if !matches!(st.kind(&id), Some(Kind::Page | Kind::Block)) {
        return Err(ApiError::not_found("block", &id));
    }
    let items: Vec<(String, Value)> = st
        .comments
        .iter()
        .filter(|c| parent_ref(&c["parent"]).as_deref() == Some(id.as_str()))
        .map(|c| (c["id"].as_str().unwrap_or_default().to_string(), c.clone()))
        .collect();
    let (page, next) = paginate(&items, cursor.as_deref(), size)?;
    let out = list(page, next, "comment");
    Ok(finish(&mut st, out))
}

pub(super) async fn comment_get(State(sh): Sh, Path(id): Path<String>) -> JsonResult {
    let id = path_id(&id, "comment_id")?;
    let mut st = sh.store();
    let c = st
        .comments
        .iter()
        .find(|c| c["id"] == id.as_str())
        .cloned()
        .ok_or_else(|| ApiError::not_found("comment", &id))?;
    Ok(finish(&mut st, c))
}

/// The emulator has no data source templates: the list is always empty.
pub(super) async fn data_source_templates(
    State(sh): Sh,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> JsonResult {
    let id = path_id(&id, "data_source_id")?;
    let q = query_params(&q);
    paging_from_query(&q)?;
    let st = sh.store();
    if !st.data_sources.contains_key(&id) {
        return Err(ApiError::not_found("data source", &id));
    }
    Ok(Json(
        json!({"templates": [], "has_more": false, "next_cursor": null}),
    ))
}

pub(super) async fn comment_create(State(sh): Sh, body: Bytes) -> JsonResult {
    let b = json_body(&body, false)?;
    check_keys(
        &b,
        &[
            "parent",
            "discussion_id",
            "rich_text",
            "attachments",
            "display_name",
        ],
        "body",
    )?;
    let mut st = sh.store();
    let (parent, discussion) = match (b.get("parent"), b.get("discussion_id")) {
        (Some(_), Some(_)) | (None, None) => {
            return Err(ApiError::validation("body failed validation: exactly one of body.parent or body.discussion_id should be defined."))
        }
        (Some(p), None) => {
            let pm = obj(p, "body.parent")?;
            let ty = pm.get("type").and_then(Value::as_str).unwrap_or(if pm.contains_key("block_id") { "block_id" } else { "page_id" });
            check_keys(pm, &["type", ty], "body.parent")?;
            if ty != "page_id" && ty != "block_id" {
                return Err(ApiError::validation("body failed validation: body.parent.type should be `page_id` or `block_id`."));
            }
            let pid = body_id(req(pm, ty, "body.parent")?, &format!("body.parent.{ty}"))?;
            let ok = if ty == "page_id" { st.pages.contains_key(&pid) } else { st.blocks.contains_key(&pid) };
            if !ok {
                return Err(ApiError::not_found(if ty == "page_id" { "page" } else { "block" }, &pid));
            }
            (json!({"type": ty, ty: pid}), new_uuid())
        }
        (None, Some(d)) => {
            let did = body_id(d, "body.discussion_id")?;
            let first = st.comments.iter().find(|c| c["discussion_id"] == did.as_str()).ok_or_else(|| ApiError::not_found("discussion", &did))?;
            (first["parent"].clone(), did)
        }
    };
    let ing = Ingest::new(&st, false);
    let rich_text = ing.rich_text(req(&b, "rich_text", "body")?, "body.rich_text")?;
    let mut attachments = Vec::new();
    if let Some(a) = b.get("attachments") {
        let items = crate::emulator::validate::arr(a, "body.attachments")?;
        if items.len() > 3 {
            return Err(ApiError::validation(format!("body failed validation: body.attachments.length should be ≤ `3`, instead was `{}`.", items.len())));
        }
        for (i, it) in items.iter().enumerate() {
            let path = format!("body.attachments[{i}]");
            let m = obj(it, &path)?;
            check_keys(m, &["file_upload_id", "type"], &path)?;
            let uid = body_id(
                req(m, "file_upload_id", &path)?,
                &format!("{path}.file_upload_id"),
            )?;
            let (key, ct) = st.files.attachable(&uid, st.now())?;
            let category = if ct.starts_with("image/") {
                "image"
            } else if ct.starts_with("video/") {
                "video"
            } else if ct.starts_with("audio/") {
                "audio"
            } else if ct == "application/pdf" {
                "pdf"
            } else {
                "productivity"
            };
            attachments.push((uid, json!({"category": category, "file": {"hosted": key}})));
        }
    }
    let display_name = match b.get("display_name") {
        None => json!({"type": "integration", "resolved_name": st.bot_name}),
        Some(d) => {
            let dm = obj(d, "body.display_name")?;
            match dm.get("type").and_then(Value::as_str) {
                Some("integration") => json!({"type": "integration", "resolved_name": st.bot_name}),
                Some("custom") => {
                    let name = dm.get("custom").and_then(|c| c.get("name")).and_then(Value::as_str).ok_or_else(|| ApiError::validation("body.display_name.custom.name should be defined."))?;
                    json!({"type": "custom", "resolved_name": name})
                }
                _ => return Err(ApiError::validation("body failed validation: body.display_name.type should be `integration` or `custom`.")),
            }
        }
    };
    drop(ing);
    let now = minute_iso(st.now());
    let id = new_uuid();
    let mut c = json!({
        "object": "comment", "id": id, "parent": parent, "discussion_id": discussion,
        "created_time": now, "last_edited_time": now, "created_by": partial_user(&st.bot_id),
        "rich_text": rich_text, "display_name": display_name,
    });
    c["attachments"] = Value::Array(attachments.iter().map(|(_, a)| a.clone()).collect());
    for (u, _) in attachments {
        st.files.mark_attached(&u);
    }
    st.comments.push(c.clone());
    Ok(finish(&mut st, c))
}
