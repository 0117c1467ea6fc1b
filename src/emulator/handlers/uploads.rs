//! `/v1/file_uploads`: create, send, complete, retrieve and list uploads.

use super::*;

pub(super) async fn upload_create(State(sh): Sh, body: Bytes) -> JsonResult {
    let b = json_body(&body, true)?;
    check_keys(
        &b,
        &[
            "mode",
            "filename",
            "content_type",
            "number_of_parts",
            "external_url",
        ],
        "body",
    )?;
    let mut st = sh.store();
    let now = st.now();
    let bot = st.bot_id.clone();
    Ok(Json(st.files.create_upload(&b, now, &bot)?))
}

pub(super) async fn upload_send(
    State(sh): Sh,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> JsonResult {
    let id = path_id(&id, "file_upload_id")?;
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let form = crate::emulator::files::parse_multipart(ct, &body)?;
    let mut st = sh.store();
    let now = st.now();
    Ok(Json(st.files.send(&id, form, now)?))
}

pub(super) async fn upload_complete(
    State(sh): Sh,
    Path(id): Path<String>,
    body: Bytes,
) -> JsonResult {
    let id = path_id(&id, "file_upload_id")?;
    let b = json_body(&body, true)?;
    check_keys(&b, &[], "body")?;
    let mut st = sh.store();
    let now = st.now();
    Ok(Json(st.files.complete(&id, now)?))
}

pub(super) async fn upload_get(State(sh): Sh, Path(id): Path<String>) -> JsonResult {
    let id = path_id(&id, "file_upload_id")?;
    let st = sh.store();
    let u = st
        .files
        .uploads
        .get(&id)
        .ok_or_else(|| ApiError::not_found("file upload", &id))?;
    Ok(Json(st.files.render_upload(u, st.now())))
}

pub(super) async fn uploads_list(State(sh): Sh, RawQuery(q): RawQuery) -> JsonResult {
    let q = query_params(&q);
    let (cursor, size) = paging_from_query(&q)?;
    let st = sh.store();
    let now = st.now();
    let status = qget(&q, "status");
    let items: Vec<(String, Value)> = st
        .files
        .upload_order
        .iter()
        .rev()
        .filter_map(|id| st.files.uploads.get(id))
        .map(|u| (u.id.clone(), st.files.render_upload(u, now)))
        .filter(|(_, v)| status.is_none_or(|s| v["status"] == s))
        .collect();
    let (page, next) = paginate(&items, cursor.as_deref(), size)?;
    Ok(Json(list(page, next, "file_upload")))
}
