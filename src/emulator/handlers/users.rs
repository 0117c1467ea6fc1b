//! `/v1/users`: the bot user, the person list and single users.

use super::*;

pub(super) async fn users_me(State(sh): Sh) -> JsonResult {
    Ok(Json(sh.store().bot_user()))
}

pub(super) async fn users_list(State(sh): Sh, RawQuery(q): RawQuery) -> JsonResult {
    let q = query_params(&q);
    let (cursor, size) = paging_from_query(&q)?;
    let st = sh.store();
    let mut all: Vec<(String, Value)> = st
        .users
        .iter()
        .map(|u| (u["id"].as_str().unwrap_or_default().to_string(), u.clone()))
        .collect();
    all.push((st.bot_id.clone(), st.bot_user()));
    let (items, next) = paginate(&all, cursor.as_deref(), size)?;
    Ok(Json(list(items, next, "user")))
}

pub(super) async fn user_get(State(sh): Sh, Path(id): Path<String>) -> JsonResult {
    let id = path_id(&id, "user_id")?;
    sh.store()
        .user(&id)
        .map(Json)
        .ok_or_else(|| ApiError::not_found("user", &id))
}
