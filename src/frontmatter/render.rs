//! Page property values -> front matter values (JSON trees the YAML emitter writes).
//!
//! The same functions give the "current value" the parser compares the user's YAML with,
//! so a value that renders identically is never sent back.

use serde_json::{Map, Value};

use super::context::Context;
use super::inline::render_inline;
use crate::notion::model::property::{
    FileEntry, FormulaResult, PropertyConfig, PropertyData, PropertySchema, RollupResult,
};
use crate::notion::model::rich_text::DateValue;
use crate::notion::model::User;

/// The front matter value of one property. `value` is the page's value (absent when the
/// page has none, e.g. a property added after the page was read).
pub fn property_value(
    schema: &PropertySchema,
    value: Option<&PropertyData>,
    ctx: &dyn Context,
) -> Value {
    match value {
        Some(d) => data_value(&schema.name, d, ctx),
        None => empty_value(&schema.config),
    }
}

/// What an unset property of this type shows.
pub fn empty_value(config: &PropertyConfig) -> Value {
    match config {
        PropertyConfig::RichText(_) | PropertyConfig::Title(_) => Value::String(String::new()),
        PropertyConfig::MultiSelect(_)
        | PropertyConfig::People(_)
        | PropertyConfig::Files(_)
        | PropertyConfig::Relation(_) => Value::Array(Vec::new()),
        PropertyConfig::Checkbox(_) => Value::Bool(false),
        _ => Value::Null,
    }
}

/// A property value as a front matter value.
pub fn data_value(property: &str, d: &PropertyData, ctx: &dyn Context) -> Value {
    match d {
        PropertyData::Title(runs) | PropertyData::RichText(runs) => {
            Value::String(render_inline(runs))
        }
        PropertyData::Number(n) => n.clone().map(Value::Number).unwrap_or(Value::Null),
        PropertyData::Select(o) | PropertyData::Status(o) => o
            .as_ref()
            .map(|o| Value::String(o.name_str().to_string()))
            .unwrap_or(Value::Null),
        PropertyData::MultiSelect(os) => Value::Array(
            os.iter()
                .map(|o| Value::String(o.name_str().to_string()))
                .collect(),
        ),
        PropertyData::Date(d) => date_value(d.as_ref()),
        PropertyData::People(users) => Value::Array(
            users
                .iter()
                .map(|u| Value::String(user_token(u, ctx)))
                .collect(),
        ),
        PropertyData::Files(files) => Value::Array(
            files
                .iter()
                .map(|f| Value::String(file_token(property, f, ctx)))
                .collect(),
        ),
        PropertyData::Checkbox(b) => Value::Bool(*b),
        PropertyData::Url(s) | PropertyData::Email(s) | PropertyData::PhoneNumber(s) => s
            .as_ref()
            .map(|s| Value::String(s.clone()))
            .unwrap_or(Value::Null),
        PropertyData::Formula(f) => match f {
            FormulaResult::String(s) => s.clone().map(Value::String).unwrap_or(Value::Null),
            FormulaResult::Number(n) => n.clone().map(Value::Number).unwrap_or(Value::Null),
            FormulaResult::Boolean(b) => b.map(Value::Bool).unwrap_or(Value::Null),
            FormulaResult::Date(d) => date_value(d.as_ref()),
            FormulaResult::Unknown { payload, .. } => payload.clone(),
        },
        PropertyData::Relation(refs) => Value::Array(
            refs.iter()
                .map(|r| Value::String(relation_token(&r.id, ctx)))
                .collect(),
        ),
        PropertyData::Rollup(r) => match &r.result {
            RollupResult::Number(n) => n.clone().map(Value::Number).unwrap_or(Value::Null),
            RollupResult::Date(d) => date_value(d.as_ref()),
            RollupResult::Array(items) => {
                Value::Array(items.iter().map(|i| data_value(property, i, ctx)).collect())
            }
            RollupResult::Incomplete(_) | RollupResult::Unsupported(_) => Value::Null,
            RollupResult::Unknown { payload, .. } => payload.clone(),
        },
        PropertyData::CreatedTime(t) | PropertyData::LastEditedTime(t) => Value::String(t.clone()),
        PropertyData::CreatedBy(u) | PropertyData::LastEditedBy(u) => {
            Value::String(user_token(u, ctx))
        }
        PropertyData::UniqueId(u) => match (u.number, u.prefix.as_deref()) {
            (None, _) => Value::Null,
            (Some(n), None | Some("")) => Value::Number(n.into()),
            (Some(_), Some(_)) => Value::String(u.display().unwrap_or_default()),
        },
        PropertyData::Verification(v) => match v {
            None => Value::Null,
            Some(v) => {
                let mut m = Map::new();
                m.insert("state".into(), Value::String(v.state.clone()));
                if let Some(u) = &v.verified_by {
                    m.insert("verified_by".into(), Value::String(user_token(u, ctx)));
                }
                if let Some(d) = &v.date {
                    m.insert("date".into(), date_value(Some(d)));
                }
                Value::Object(m)
            }
        },
        PropertyData::Button(p) | PropertyData::Place(p) => p.clone(),
        PropertyData::Unknown { payload, .. } => payload.clone(),
    }
}

/// A date: `start` alone when it is not a range and has no time zone, else a mapping.
pub fn date_value(d: Option<&DateValue>) -> Value {
    let Some(d) = d else {
        return Value::Null;
    };
    if d.end.is_none() && d.time_zone.is_none() {
        return Value::String(d.start.clone());
    }
    let mut m = Map::new();
    m.insert("start".into(), Value::String(d.start.clone()));
    if let Some(e) = &d.end {
        m.insert("end".into(), Value::String(e.clone()));
    }
    if let Some(tz) = &d.time_zone {
        m.insert("time_zone".into(), Value::String(tz.clone()));
    }
    Value::Object(m)
}

/// A user as shown: e-mail when known, else the id.
pub fn user_token(u: &User, ctx: &dyn Context) -> String {
    u.email()
        .map(str::to_string)
        .or_else(|| ctx.user_email(&u.id))
        .unwrap_or_else(|| u.id.clone())
}

/// A related page as shown: the row's relative path when visible, else the id.
pub fn relation_token(id: &str, ctx: &dyn Context) -> String {
    ctx.relation_path(id).unwrap_or_else(|| id.to_string())
}

/// A file as shown: the attachment path of a Notion-hosted file (its name when no
/// attachment is known: signed URLs expire), the URL of an external one.
pub fn file_token(property: &str, f: &FileEntry, ctx: &dyn Context) -> String {
    use crate::notion::model::file::FileObject;
    match &f.file {
        FileObject::External(e) => e.url.clone(),
        _ => ctx
            .attachment_path(property, f)
            .or_else(|| f.name.clone())
            .or_else(|| f.file.url().map(str::to_string))
            .unwrap_or_default(),
    }
}
