//! Data source property schemas and page property values: parsing the request shapes of
//! /reference/property-object and /reference/page-property-values into stored form, with
//! the property limits (url 2000, email/phone 200, arrays 100) and the option rules
//! (select / multi_select options are created on write, status options must exist).

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::store::{DataSource, Store};
use super::util::{body_id, encode_prop_id, new_uuid, ApiError, ApiResult};
use super::validate::{arr, check_keys, date_value, obj, req, string, Ingest, MAX_EMAIL};

/// Schema types that can be declared.
pub const PROP_TYPES: &[&str] = &[
    "title",
    "rich_text",
    "number",
    "select",
    "multi_select",
    "status",
    "date",
    "people",
    "files",
    "checkbox",
    "url",
    "email",
    "phone_number",
    "formula",
    "relation",
    "rollup",
    "created_time",
    "created_by",
    "last_edited_time",
    "last_edited_by",
    "unique_id",
    "verification",
    "place",
    "button",
];

/// Property types whose values the API computes (never writable).
pub const READ_ONLY: &[&str] = &[
    "formula",
    "rollup",
    "created_time",
    "created_by",
    "last_edited_time",
    "last_edited_by",
    "unique_id",
    "verification",
    "place",
    "button",
];

const OPTION_COLORS: &[&str] = &[
    "default", "gray", "brown", "orange", "yellow", "green", "blue", "purple", "pink", "red",
];

/// A deterministic short property id (URL-encoded) for `name` in data source `ds`.
pub fn prop_id(ds: &str, name: &str, taken: &dyn Fn(&str) -> bool) -> String {
    const CHARS: &[u8] =
        b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:;<=>?@[]^_`{|}~!";
    for salt in 0u32.. {
        let h = Sha256::digest(format!("{ds}/{name}/{salt}").as_bytes());
        let raw: String = h
            .iter()
            .take(4)
            .map(|b| CHARS[*b as usize % CHARS.len()] as char)
            .collect();
        let id = encode_prop_id(&raw);
        if id != "title" && !taken(&id) {
            return id;
        }
    }
    unreachable!("an unbounded loop always finds a free id")
}

fn option_id(seed: &str) -> String {
    let h = Sha256::digest(seed.as_bytes());
    let raw: String = h
        .iter()
        .take(4)
        .map(|b| (b"abcdefghijklmnopqrstuvwxyz0123456789~`|"[*b as usize % 39]) as char)
        .collect();
    encode_prop_id(&raw)
}

fn check_option_name(name: &str, path: &str) -> ApiResult<()> {
    if name.contains(',') {
        return Err(ApiError::validation(format!(
            "body failed validation: {path}: option names cannot contain commas (\"{name}\")."
        )));
    }
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::validation(format!(
            "body failed validation: {path}: option names must be 1 to 100 characters."
        )));
    }
    Ok(())
}

/// Parses select/multi_select/status options from a schema request.
fn parse_options(
    v: Option<&Value>,
    path: &str,
    ds: &str,
    prop: &str,
    existing: &[Value],
    uuid_ids: bool,
) -> ApiResult<Vec<Value>> {
    let mut out = Vec::new();
    let Some(v) = v else {
        return Ok(existing.to_vec());
    };
    for (i, o) in arr(v, path)?.iter().enumerate() {
        let opath = format!("{path}[{i}]");
        let m = obj(o, &opath)?;
        check_keys(m, &["id", "name", "color", "description"], &opath)?;
        if let Some(id) = m.get("id").and_then(Value::as_str) {
            if let Some(found) = existing.iter().find(|e| e["id"] == id) {
                out.push(found.clone());
                continue;
            }
        }
        let name = string(req(m, "name", &opath)?, &format!("{opath}.name"))?;
        if let Some(found) = existing.iter().find(|e| e["name"] == name) {
            out.push(found.clone());
            continue;
        }
        check_option_name(name, &opath)?;
        if out.iter().any(|e: &Value| {
            e["name"]
                .as_str()
                .is_some_and(|n| n.eq_ignore_ascii_case(name))
        }) {
            return Err(ApiError::validation(format!(
                "body failed validation: {opath}: option names must be unique (\"{name}\")."
            )));
        }
        let c = match m.get("color") {
            Some(c) => {
                let c = string(c, &format!("{opath}.color"))?;
                if !OPTION_COLORS.contains(&c) {
                    return Err(ApiError::validation(format!("body failed validation: {opath}.color should be a valid option color, instead was `\"{c}\"`.")));
                }
                c.to_string()
            }
            None => "default".into(),
        };
        let id = match m.get("id").and_then(Value::as_str) {
            Some(id) => id.to_string(),
            None if uuid_ids => {
                let h = Sha256::digest(format!("{ds}/{prop}/{name}").as_bytes());
                uuid::Builder::from_random_bytes(h[..16].try_into().expect("16 bytes"))
                    .into_uuid()
                    .to_string()
            }
            None => option_id(&format!("{ds}/{prop}/{name}")),
        };
        out.push(json!({"id": id, "name": name, "color": c, "description": m.get("description").cloned().unwrap_or(Value::Null)}));
    }
    Ok(out)
}

/// Builds one schema entry from a request config. `existing` is the current schema entry
/// when updating; `seed` allows declaring status properties and fixed ids.
pub fn schema_entry(
    store: &Store,
    ds: &DataSource,
    name: &str,
    v: &Value,
    path: &str,
    existing: Option<&Value>,
    seed: bool,
) -> ApiResult<Value> {
    let m = obj(v, path)?;
    let ty = schema_type(m, path, existing)?;
    let allowed: Vec<&str> = if seed {
        vec!["type", "name", "description", "id", ty.as_str()]
    } else {
        vec!["type", "name", "description", ty.as_str()]
    };
    check_keys(m, &allowed, path)?;
    let new_name = match m.get("name") {
        Some(n) => string(n, &format!("{path}.name"))?.to_string(),
        None => name.to_string(),
    };
    let same_type = existing.is_some_and(|e| e["type"] == ty.as_str());
    let id = schema_prop_id(ds, m, &ty, &new_name, existing, seed);
    let empty = json!({});
    let cfg_v = m.get(&ty).unwrap_or(&empty);
    let cpath = format!("{path}.{ty}");
    let cfg_in = obj(cfg_v, &cpath)?;
    let prev_cfg = existing.filter(|_| same_type).map(|e| e[&ty].clone());
    // a rename (`{"name": …}`) or description change keeps the current configuration
    let keep = !m.contains_key(&ty) && prev_cfg.is_some();
    let cfg = match ty.as_str() {
        _ if keep => prev_cfg.clone().unwrap_or_default(),
        "number" => {
            check_keys(cfg_in, &["format"], &cpath)?;
            let f = match cfg_in.get("format") {
                Some(f) => string(f, &format!("{cpath}.format"))?.to_string(),
                None => prev_cfg
                    .as_ref()
                    .and_then(|c| c["format"].as_str())
                    .unwrap_or("number")
                    .to_string(),
            };
            json!({"format": f})
        }
        "select" | "multi_select" => select_config(ds, &new_name, cfg_in, &cpath, prev_cfg)?,
        "status" => status_config(ds, &new_name, cfg_in, &cpath, prev_cfg, seed)?,
        "formula" => {
            check_keys(cfg_in, &["expression"], &cpath)?;
            let e = string(
                req(cfg_in, "expression", &cpath)?,
                &format!("{cpath}.expression"),
            )?;
            json!({"expression": e})
        }
        "relation" => relation_config(store, ds, cfg_in, &cpath, seed)?,
        "rollup" => rollup_config(ds, cfg_in, &cpath)?,
        "unique_id" => {
            check_keys(cfg_in, &["prefix"], &cpath)?;
            json!({"prefix": cfg_in.get("prefix").cloned().unwrap_or(Value::Null)})
        }
        _ => {
            check_keys(cfg_in, &[], &cpath)?;
            json!({})
        }
    };
    let description = m
        .get("description")
        .cloned()
        .or_else(|| existing.map(|e| e["description"].clone()))
        .unwrap_or(json!(""));
    let mut out = Map::new();
    out.insert("id".into(), json!(id));
    out.insert("name".into(), json!(new_name));
    out.insert("description".into(), description);
    out.insert("type".into(), json!(ty));
    out.insert(ty, cfg);
    Ok(Value::Object(out))
}

/// The property type a schema request declares: `type`, else its type key, else (on an
/// update) the current type.
fn schema_type(m: &Map<String, Value>, path: &str, existing: Option<&Value>) -> ApiResult<String> {
    let ty = match m.get("type") {
        Some(t) => string(t, &format!("{path}.type"))?.to_string(),
        None => match m.keys().find(|k| PROP_TYPES.contains(&k.as_str())) {
            Some(k) => k.clone(),
            None => match existing {
                Some(e) => e["type"].as_str().unwrap_or_default().to_string(),
                None => {
                    return Err(ApiError::validation(format!(
                        "body failed validation: {path} should declare a property type."
                    )))
                }
            },
        },
    };
    if !PROP_TYPES.contains(&ty.as_str()) {
        return Err(ApiError::validation(format!(
            "body failed validation: {path}.type `{ty}` is not a valid property type."
        )));
    }
    Ok(ty)
}

/// The id of a schema entry: fixed for the title, given (seeds only), kept on an update,
/// else a new deterministic one.
fn schema_prop_id(
    ds: &DataSource,
    m: &Map<String, Value>,
    ty: &str,
    name: &str,
    existing: Option<&Value>,
    seed: bool,
) -> String {
    if ty == "title" {
        "title".to_string()
    } else if let Some(id) = m.get("id").filter(|_| seed).and_then(Value::as_str) {
        id.to_string()
    } else if let Some(e) = existing {
        e["id"].as_str().unwrap_or_default().to_string()
    } else {
        prop_id(&ds.id, name, &|id| {
            ds.properties.values().any(|p| p["id"] == id)
        })
    }
}

/// A select / multi_select configuration: the given options, reusing the current ones
/// (`prev`) by id or name.
fn select_config(
    ds: &DataSource,
    name: &str,
    cfg_in: &Map<String, Value>,
    cpath: &str,
    prev: Option<Value>,
) -> ApiResult<Value> {
    check_keys(cfg_in, &["options"], cpath)?;
    let prev: Vec<Value> = prev
        .as_ref()
        .and_then(|c| c["options"].as_array().cloned())
        .unwrap_or_default();
    Ok(
        json!({"options": parse_options(cfg_in.get("options"), &format!("{cpath}.options"), &ds.id, name, &prev, false)?}),
    )
}

/// A status configuration: seeds declare options and groups; the API can neither create a
/// status property nor change its options, only keep the current ones (`prev`).
fn status_config(
    ds: &DataSource,
    name: &str,
    cfg_in: &Map<String, Value>,
    cpath: &str,
    prev: Option<Value>,
    seed: bool,
) -> ApiResult<Value> {
    if !seed {
        return match prev {
            Some(prev) if cfg_in.is_empty() => Ok(prev),
            Some(_) => Err(ApiError::validation(
                "It is not possible to update the name or options of a status property via the API.",
            )),
            None => Err(ApiError::validation(
                "Creating new status properties is currently not supported via the API.",
            )),
        };
    }
    let opts = parse_options(
        cfg_in.get("options"),
        &format!("{cpath}.options"),
        &ds.id,
        name,
        &[],
        true,
    )?;
    let mut groups = Vec::new();
    for (gi, g) in cfg_in
        .get("groups")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let gname = g["name"].as_str().unwrap_or_default();
        let ids: Vec<Value> = g["option_names"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .filter_map(|n| {
                opts.iter()
                    .find(|o| o["name"] == *n)
                    .map(|o| o["id"].clone())
            })
            .collect();
        let h = Sha256::digest(format!("{}/{name}/group/{gi}", ds.id).as_bytes());
        let gid = uuid::Builder::from_random_bytes(h[..16].try_into().expect("16 bytes"))
            .into_uuid()
            .to_string();
        groups.push(json!({"id": gid, "name": gname, "color": g["color"].as_str().unwrap_or("gray"), "option_ids": ids}));
    }
    Ok(json!({"options": opts, "groups": groups}))
}

/// A relation configuration: the target data source (which must exist) and whether the
/// relation is single or dual.
fn relation_config(
    store: &Store,
    ds: &DataSource,
    cfg_in: &Map<String, Value>,
    cpath: &str,
    seed: bool,
) -> ApiResult<Value> {
    check_keys(
        cfg_in,
        &[
            "data_source_id",
            "database_id",
            "type",
            "single_property",
            "dual_property",
        ],
        cpath,
    )?;
    if cfg_in.contains_key("database_id") && !seed {
        return Err(ApiError::validation(format!("body failed validation: {cpath}.database_id should not be present; relations are written with data_source_id only.")));
    }
    let target = body_id(
        req(cfg_in, "data_source_id", cpath)?,
        &format!("{cpath}.data_source_id"),
    )?;
    let target_ds = if target == ds.id {
        Some(ds.database_id.clone())
    } else {
        store
            .data_sources
            .get(&target)
            .map(|t| t.database_id.clone())
    };
    let db = target_ds.ok_or_else(|| {
        ApiError::validation(format!("Could not find data source with ID: {target}."))
    })?;
    let rtype = if cfg_in.contains_key("dual_property")
        || cfg_in.get("type").and_then(Value::as_str) == Some("dual_property")
    {
        "dual_property"
    } else {
        "single_property"
    };
    let mut c = json!({"data_source_id": target, "database_id": db, "type": rtype});
    c[rtype] = if rtype == "dual_property" {
        json!({"synced_property_id": null, "synced_property_name": null})
    } else {
        json!({})
    };
    Ok(c)
}

/// A rollup configuration: the function and the relation / rolled-up properties (by name,
/// the relation's id looked up in `ds` when not given).
fn rollup_config(ds: &DataSource, cfg_in: &Map<String, Value>, cpath: &str) -> ApiResult<Value> {
    check_keys(
        cfg_in,
        &[
            "function",
            "relation_property_name",
            "relation_property_id",
            "rollup_property_name",
            "rollup_property_id",
        ],
        cpath,
    )?;
    let f = string(
        req(cfg_in, "function", cpath)?,
        &format!("{cpath}.function"),
    )?;
    let rel = cfg_in
        .get("relation_property_name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let rel_id = ds
        .properties
        .get(rel)
        .map(|p| p["id"].clone())
        .unwrap_or(Value::Null);
    Ok(
        json!({"function": f, "relation_property_name": rel, "relation_property_id": cfg_in.get("relation_property_id").cloned().unwrap_or(rel_id),
               "rollup_property_name": cfg_in.get("rollup_property_name").cloned().unwrap_or(json!("title")),
               "rollup_property_id": cfg_in.get("rollup_property_id").cloned().unwrap_or(json!("title"))}),
    )
}

/// Applies a `properties` schema request (create or update) to `ds`.
pub fn apply_schema(
    store: &Store,
    ds: &mut DataSource,
    req_props: &Value,
    path: &str,
    creating: bool,
    seed: bool,
) -> ApiResult<()> {
    let m = obj(req_props, path)?;
    for (key, v) in m {
        let ppath = format!("{path}.{key}");
        let existing = Store::find_prop(ds, key).map(|(n, s)| (n.clone(), s.clone()));
        if v.is_null() {
            let Some((name, schema)) = existing else {
                return Err(ApiError::validation(format!(
                    "body failed validation: {ppath}: property `{key}` does not exist."
                )));
            };
            if schema["type"] == "title" {
                return Err(ApiError::validation(
                    "The title property of a data source cannot be removed.",
                ));
            }
            ds.properties.shift_remove(&name);
            continue;
        }
        let entry = schema_entry(
            store,
            ds,
            existing.as_ref().map(|e| e.0.as_str()).unwrap_or(key),
            v,
            &ppath,
            existing.as_ref().map(|e| &e.1),
            seed,
        )?;
        if let Some((_, old)) = &existing {
            if (old["type"] == "title") != (entry["type"] == "title") {
                return Err(ApiError::validation("The type of the title property cannot be changed, and a data source has exactly one title property."));
            }
            if old["type"] == "formula"
                && !seed
                && entry["type"] == "formula"
                && old["formula"] != entry["formula"]
            {
                return Err(ApiError::validation(
                    "Formula properties cannot be updated via the API.",
                ));
            }
        } else if entry["type"] == "title" && ds.properties.values().any(|p| p["type"] == "title") {
            return Err(ApiError::validation(
                "A data source has exactly one title property.",
            ));
        }
        let new_name = entry["name"].as_str().unwrap_or(key).to_string();
        match existing {
            Some((old_name, _)) if old_name != new_name => {
                // rename in place, keeping the position
                let items: Vec<(String, Value)> =
                    std::mem::take(&mut ds.properties).into_iter().collect();
                for (n, s) in items {
                    if n == old_name {
                        ds.properties.insert(new_name.clone(), entry.clone());
                    } else {
                        ds.properties.insert(n, s);
                    }
                }
            }
            _ => {
                ds.properties.insert(new_name, entry);
            }
        }
    }
    if creating && !ds.properties.values().any(|p| p["type"] == "title") {
        return Err(ApiError::validation(format!(
            "body failed validation: {path} should include exactly one title property."
        )));
    }
    Ok(())
}

/// A parsed page property write: values keyed by property id and new options to add to the
/// schema (property name, option).
pub type PropWrite = (Map<String, Value>, Vec<(String, Value)>);

/// Parses a `properties` object of Create / Update page.
pub fn write_props(
    ing: &Ingest,
    ds: Option<&DataSource>,
    v: &Value,
    path: &str,
) -> ApiResult<PropWrite> {
    let m = obj(v, path)?;
    let mut values = Map::new();
    let mut new_opts = Vec::new();
    for (key, pv) in m {
        let ppath = format!("{path}.{key}");
        let (name, schema) = match ds {
            None => {
                if key != "title" {
                    return Err(ApiError::validation(format!(
                        "body failed validation: {ppath}: `{key}` is not a property that exists; pages that are not in a data source only have a `title` property."
                    )));
                }
                (
                    "title".to_string(),
                    json!({"id": "title", "name": "title", "type": "title", "title": {}}),
                )
            }
            Some(ds) => match Store::find_prop(ds, key) {
                Some((n, s)) => (n.clone(), s.clone()),
                None => {
                    return Err(ApiError::validation(format!(
                        "{key} is not a property that exists."
                    )))
                }
            },
        };
        let ty = schema["type"].as_str().unwrap_or_default().to_string();
        if ing.seed && ["formula", "verification"].contains(&ty.as_str()) {
            let pid = schema["id"].as_str().unwrap_or_default().to_string();
            let val = obj(pv, &ppath)?.get(&ty).cloned().unwrap_or(Value::Null);
            values.insert(pid, json!({"type": ty, ty.clone(): val}));
            continue;
        }
        if READ_ONLY.contains(&ty.as_str()) {
            return Err(ApiError::validation(format!(
                "body failed validation: {ppath}: `{name}` is a {ty} property and cannot be set through the API."
            )));
        }
        let pm = obj(pv, &ppath)?;
        check_keys(pm, &["type", "id", "name", ty.as_str()], &ppath)?;
        if let Some(t) = pm.get("type") {
            if t != ty.as_str() {
                return Err(ApiError::validation(format!(
                    "body failed validation: {ppath}.type should be `\"{ty}\"`, instead was `{t}`."
                )));
            }
        }
        let val = req(pm, &ty, &ppath)?;
        let vpath = format!("{ppath}.{ty}");
        let stored = prop_value(ing, &name, &schema, &ty, val, &vpath, &mut new_opts)?;
        let pid = schema["id"].as_str().unwrap_or_default().to_string();
        values.insert(pid, json!({"type": ty, ty.clone(): stored}));
    }
    Ok((values, new_opts))
}

fn max_len(s: &str, max: usize, path: &str) -> ApiResult<()> {
    let n = s.chars().count();
    if n > max {
        return Err(ApiError::validation(format!(
            "body failed validation: {path}.length should be ≤ `{max}`, instead was `{n}`."
        )));
    }
    Ok(())
}

/// The stored value of one property write of type `ty` (scalars here, list types in their
/// own helpers).
fn prop_value(
    ing: &Ingest,
    name: &str,
    schema: &Value,
    ty: &str,
    v: &Value,
    path: &str,
    new_opts: &mut Vec<(String, Value)>,
) -> ApiResult<Value> {
    let nullable = |v: &Value| v.is_null();
    Ok(match ty {
        "title" | "rich_text" => ing.rich_text(v, path)?,
        "number" => {
            if !(v.is_null() || v.is_number()) {
                return Err(ApiError::validation(format!("body failed validation: {path} should be a number or `null`, instead was `{v}`.")));
            }
            v.clone()
        }
        "checkbox" => json!(super::validate::boolean(v, path)?),
        "url" => {
            if nullable(v) {
                Value::Null
            } else {
                json!(ing.url(v, path)?)
            }
        }
        "email" | "phone_number" => {
            if nullable(v) {
                Value::Null
            } else {
                let s = string(v, path)?;
                if s.is_empty() {
                    return Err(ApiError::validation(format!(
                        "body failed validation: {path} should be a non-empty string or `null`."
                    )));
                }
                max_len(s, MAX_EMAIL, path)?;
                json!(s)
            }
        }
        "date" => {
            if nullable(v) {
                Value::Null
            } else {
                date_value(v, path)?
            }
        }
        "select" | "status" => {
            if nullable(v) {
                Value::Null
            } else {
                option_ref(schema, name, ty, v, path, new_opts)?
            }
        }
        "multi_select" => {
            let mut out = Vec::new();
            for (i, o) in arr(v, path)?.iter().enumerate() {
                let opt = option_ref(schema, name, ty, o, &format!("{path}[{i}]"), new_opts)?;
                if !out.iter().any(|x: &Value| x["id"] == opt["id"]) {
                    out.push(opt);
                }
            }
            Value::Array(out)
        }
        "people" => people_value(ing, v, path)?,
        "relation" => relation_value(ing, name, schema, v, path)?,
        "files" => files_value(ing, v, path)?,
        other => {
            return Err(ApiError::validation(format!(
                "body failed validation: {path}: `{other}` properties cannot be written."
            )))
        }
    })
}

/// A people value: person users of the workspace.
fn people_value(ing: &Ingest, v: &Value, path: &str) -> ApiResult<Value> {
    let mut out = Vec::new();
    for (i, u) in arr(v, path)?.iter().enumerate() {
        let upath = format!("{path}[{i}]");
        let um = obj(u, &upath)?;
        check_keys(
            um,
            &["object", "id", "type", "name", "avatar_url", "person"],
            &upath,
        )?;
        let id = body_id(req(um, "id", &upath)?, &format!("{upath}.id"))?;
        if ing.store.person(&id).is_none() {
            return Err(ApiError::validation(format!(
                "body failed validation: {upath}.id `{id}` is not a person user of this workspace."
            )));
        }
        out.push(json!({"object": "user", "id": id}));
    }
    Ok(Value::Array(out))
}

/// A relation value: pages that exist in the data source relation `name` points to
/// (unchecked in seeds).
fn relation_value(
    ing: &Ingest,
    name: &str,
    schema: &Value,
    v: &Value,
    path: &str,
) -> ApiResult<Value> {
    let mut out = Vec::new();
    for (i, r) in arr(v, path)?.iter().enumerate() {
        let rpath = format!("{path}[{i}]");
        let rm = obj(r, &rpath)?;
        check_keys(rm, &["id"], &rpath)?;
        let id = body_id(req(rm, "id", &rpath)?, &format!("{rpath}.id"))?;
        if !ing.seed {
            let target = schema["relation"]["data_source_id"].as_str();
            let page = ing.store.pages.get(&id);
            if page.is_none() {
                return Err(ApiError::validation(format!(
                    "Could not find page with ID: {id} (at {rpath})."
                )));
            }
            let in_target =
                page.is_some_and(|p| target.is_none_or(|t| p.parent["data_source_id"] == t));
            if !in_target {
                return Err(ApiError::validation(format!(
                    "Page {id} (at {rpath}) is not in the data source that relation `{name}` points to."
                )));
            }
        }
        out.push(json!({"id": id}));
    }
    Ok(Value::Array(out))
}

/// A files value: file sources with a name (required for external files, else the hosted
/// file's).
fn files_value(ing: &Ingest, v: &Value, path: &str) -> ApiResult<Value> {
    let mut out = Vec::new();
    for (i, f) in arr(v, path)?.iter().enumerate() {
        let fpath = format!("{path}[{i}]");
        let fm = obj(f, &fpath)?;
        check_keys(
            fm,
            &["name", "type", "external", "file_upload", "file"],
            &fpath,
        )?;
        let src = ing.file_source(fm, &fpath, None)?;
        let name = match fm.get("name") {
            Some(n) => {
                let n = string(n, &format!("{fpath}.name"))?;
                max_len(n, 900, &format!("{fpath}.name"))?;
                n.to_string()
            }
            None => {
                if src.get("type").and_then(Value::as_str) == Some("external") {
                    return Err(ApiError::validation(format!("body failed validation: {fpath}.name should be defined for external files.")));
                }
                let key = src["file"]["hosted"].as_str().unwrap_or_default();
                ing.store
                    .files
                    .hosted
                    .get(key)
                    .map(|h| h.name.clone())
                    .unwrap_or_else(|| "file".into())
            }
        };
        let mut item = Map::new();
        item.insert("name".into(), json!(name));
        for (k, v) in src {
            item.insert(k, v);
        }
        out.push(Value::Object(item));
    }
    Ok(Value::Array(out))
}

fn option_ref(
    schema: &Value,
    prop_name: &str,
    ty: &str,
    v: &Value,
    path: &str,
    new_opts: &mut Vec<(String, Value)>,
) -> ApiResult<Value> {
    let m = obj(v, path)?;
    check_keys(m, &["id", "name", "color"], path)?;
    let options: Vec<Value> = schema[ty]["options"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let pending: Vec<Value> = new_opts
        .iter()
        .filter(|(n, _)| n == prop_name)
        .map(|(_, o)| o.clone())
        .collect();
    let all = options.iter().chain(pending.iter());
    if let Some(id) = m.get("id") {
        let id = string(id, &format!("{path}.id"))?;
        return all
            .clone()
            .find(|o| o["id"] == id)
            .map(|o| json!({"id": o["id"], "name": o["name"], "color": o["color"]}))
            .ok_or_else(|| ApiError::validation(format!("body failed validation: {path}.id: no {ty} option with id `{id}` exists for property `{prop_name}`.")));
    }
    let name = string(req(m, "name", path)?, &format!("{path}.name"))?;
    if let Some(o) = all.clone().find(|o| o["name"] == name) {
        return Ok(json!({"id": o["id"], "name": o["name"], "color": o["color"]}));
    }
    if ty == "status" {
        return Err(ApiError::validation(format!(
            "body failed validation: {path}.name: status option `{name}` does not exist for property `{prop_name}`; status options cannot be created through the API."
        )));
    }
    check_option_name(name, path)?;
    let c = match m.get("color") {
        Some(c) => {
            let c = string(c, path)?;
            if !OPTION_COLORS.contains(&c) {
                return Err(ApiError::validation(format!(
                    "body failed validation: {path}.color is not a valid option color."
                )));
            }
            c.to_string()
        }
        None => "default".into(),
    };
    let opt = json!({"id": option_id(&format!("{}/{}", new_uuid(), name)), "name": name, "color": c, "description": null});
    new_opts.push((prop_name.to_string(), opt.clone()));
    Ok(json!({"id": opt["id"], "name": name, "color": c}))
}

/// Adds options created by a write to the schema.
pub fn add_options(ds: &mut DataSource, new_opts: Vec<(String, Value)>) {
    for (name, opt) in new_opts {
        if let Some(schema) = ds.properties.get_mut(&name) {
            let ty = schema["type"].as_str().unwrap_or_default().to_string();
            if let Some(a) = schema[&ty]["options"].as_array_mut() {
                a.push(opt);
            }
        }
    }
}
