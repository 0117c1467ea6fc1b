//! Data source property schemas (/reference/property-object) and page property values
//! (/reference/page-property-values).
//!
//! A schema entry is `{id, name, description, type, <type>: config}` ([`PropertySchema`],
//! config in [`PropertyConfig`]); a page value is `{id, type, <type>: value}`
//! ([`PropertyValue`], value in [`PropertyData`]). Both unions keep types this build does not
//! know verbatim (`Unknown`), and every struct keeps unmodelled fields in `extra`, so a
//! read-modify-write never drops what Notion sent.
//!
//! Requests to create or update a page take `{"properties": {name: {"<type>": value}}}`;
//! [`PropertyData::to_request`] and the constructors on [`PropertyData`] build that shape.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Number, Value};

use super::file::FileObject;
use super::rich_text::{DateValue, IdRef, RichText};
use super::{JsonMap, User};

// ---------------------------------------------------------------------------------------
// Schema
// ---------------------------------------------------------------------------------------

/// One option of a `select`, `multi_select` or `status` property.
///
/// In schemas and responses all of `id`, `name` and `color` are present; in requests a
/// value names its option by `name` or `id` only, so every field is optional.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SelectOption {
    /// Option id (a UUID or a short string).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Option name (no commas; unique ignoring case).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Option colour (`default`, `gray`, `brown`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    /// Option description, when Notion gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Fields this build does not model.
    #[serde(flatten)]
    pub extra: JsonMap,
}

impl SelectOption {
    /// An option named `name`, as update requests take it (`{"name": …}`).
    pub fn named(name: impl Into<String>) -> Self {
        SelectOption {
            name: Some(name.into()),
            ..SelectOption::default()
        }
    }

    /// The option's name ("" when absent).
    pub fn name_str(&self) -> &str {
        self.name.as_deref().unwrap_or("")
    }
}

/// `number` schema config.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NumberConfig {
    /// Display format (`number`, `dollar`, `percent`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// Fields this build does not model.
    #[serde(flatten)]
    pub extra: JsonMap,
}

/// `select` / `multi_select` schema config.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SelectConfig {
    /// The options, in Notion's order.
    #[serde(default)]
    pub options: Vec<SelectOption>,
    /// Fields this build does not model.
    #[serde(flatten)]
    pub extra: JsonMap,
}

/// A group of status options (To-do, In progress, Complete).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StatusGroup {
    /// Group id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Group name.
    #[serde(default)]
    pub name: String,
    /// Group colour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    /// Ids of the options in this group.
    #[serde(default)]
    pub option_ids: Vec<String>,
    /// Fields this build does not model.
    #[serde(flatten)]
    pub extra: JsonMap,
}

/// `status` schema config.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StatusConfig {
    /// The options, in Notion's order.
    #[serde(default)]
    pub options: Vec<SelectOption>,
    /// The groups.
    #[serde(default)]
    pub groups: Vec<StatusGroup>,
    /// Fields this build does not model.
    #[serde(flatten)]
    pub extra: JsonMap,
}

/// `formula` schema config.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FormulaConfig {
    /// The formula expression.
    #[serde(default)]
    pub expression: String,
    /// Fields this build does not model.
    #[serde(flatten)]
    pub extra: JsonMap,
}

/// The other side of a two-way relation.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DualProperty {
    /// Id of the synced property in the related data source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub synced_property_id: Option<String>,
    /// Name of the synced property in the related data source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub synced_property_name: Option<String>,
    /// Fields this build does not model.
    #[serde(flatten)]
    pub extra: JsonMap,
}

/// `relation` schema config.
///
/// The reference shows `dual_property: {synced_property_id, synced_property_name}` in its
/// example, lists the two fields flat in its table, and the changelog says relations have a
/// `type` of `single_property` or `dual_property`; all these spellings are read and kept.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RelationConfig {
    /// The related data source (the one id requests should give).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_source_id: Option<String>,
    /// The related database (responses only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_id: Option<String>,
    /// `single_property` or `dual_property`, when given.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Present on one-way relations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub single_property: Option<JsonMap>,
    /// Present on two-way relations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dual_property: Option<DualProperty>,
    /// Flat spelling of the synced property id (reference table).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub synced_property_id: Option<String>,
    /// Flat spelling of the synced property name (reference table).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub synced_property_name: Option<String>,
    /// Fields this build does not model.
    #[serde(flatten)]
    pub extra: JsonMap,
}

impl RelationConfig {
    /// The name of the synced property of a two-way relation, in either spelling.
    pub fn synced_property(&self) -> Option<&str> {
        self.dual_property
            .as_ref()
            .and_then(|d| d.synced_property_name.as_deref())
            .or(self.synced_property_name.as_deref())
    }
}

/// `rollup` schema config.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RollupConfig {
    /// Aggregation (`sum`, `count`, `show_original`, …).
    #[serde(default)]
    pub function: String,
    /// Id of the relation property rolled up through.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relation_property_id: Option<String>,
    /// Name of the relation property rolled up through.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relation_property_name: Option<String>,
    /// Id of the property of the related pages that is rolled up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollup_property_id: Option<String>,
    /// Name of the property of the related pages that is rolled up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollup_property_name: Option<String>,
    /// Fields this build does not model.
    #[serde(flatten)]
    pub extra: JsonMap,
}

/// `unique_id` schema config.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UniqueIdConfig {
    /// Prefix such as `TASK` (ids read `TASK-1234`), or none.
    #[serde(default)]
    pub prefix: Option<String>,
    /// Fields this build does not model.
    #[serde(flatten)]
    pub extra: JsonMap,
}

typed_union! {
    /// The type-specific configuration of a data source property.
    pub enum PropertyConfig {
        /// The row title (exactly one per data source).
        "title" => Title(JsonMap),
        /// Text.
        "rich_text" => RichText(JsonMap),
        /// Number with a display format.
        "number" => Number(NumberConfig),
        /// One option of a list.
        "select" => Select(SelectConfig),
        /// Several options of a list.
        "multi_select" => MultiSelect(SelectConfig),
        /// Status with options and groups.
        "status" => Status(StatusConfig),
        /// Date or range.
        "date" => Date(JsonMap),
        /// Users.
        "people" => People(JsonMap),
        /// Files and links.
        "files" => Files(JsonMap),
        /// Checkbox.
        "checkbox" => Checkbox(JsonMap),
        /// URL.
        "url" => Url(JsonMap),
        /// E-mail address.
        "email" => Email(JsonMap),
        /// Phone number.
        "phone_number" => PhoneNumber(JsonMap),
        /// Computed by an expression.
        "formula" => Formula(FormulaConfig),
        /// Links to pages of a data source.
        "relation" => Relation(RelationConfig),
        /// Aggregate over a relation.
        "rollup" => Rollup(RollupConfig),
        /// Row creation time.
        "created_time" => CreatedTime(JsonMap),
        /// Row creator.
        "created_by" => CreatedBy(JsonMap),
        /// Last edit time.
        "last_edited_time" => LastEditedTime(JsonMap),
        /// Last editor.
        "last_edited_by" => LastEditedBy(JsonMap),
        /// Auto-incrementing id.
        "unique_id" => UniqueId(UniqueIdConfig),
        /// Wiki page verification.
        "verification" => Verification(JsonMap),
        /// Button (not described by the reference; config kept as sent).
        "button" => Button(Value),
        /// Location (config documented as `{}`).
        "place" => Place(Value),
    }
}

/// One property of a data source schema: `{id, name, description, type, <type>: config}`.
#[derive(Clone, Debug, PartialEq)]
pub struct PropertySchema {
    /// Property id (URL-encoded short string; `title` for the title).
    pub id: String,
    /// Property name (the key of `properties`).
    pub name: String,
    /// Property description, when present.
    pub description: Option<String>,
    /// Type and configuration.
    pub config: PropertyConfig,
    /// Fields this build does not model.
    pub extra: JsonMap,
}

impl PropertySchema {
    /// A schema entry of the given config.
    pub fn new(id: impl Into<String>, name: impl Into<String>, config: PropertyConfig) -> Self {
        PropertySchema {
            id: id.into(),
            name: name.into(),
            description: None,
            config,
            extra: JsonMap::new(),
        }
    }

    /// The API's name of the type.
    pub fn type_name(&self) -> &str {
        self.config.type_name()
    }
}

impl Serialize for PropertySchema {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = JsonMap::new();
        map.insert("id".into(), Value::String(self.id.clone()));
        map.insert("name".into(), Value::String(self.name.clone()));
        if let Some(d) = &self.description {
            map.insert("description".into(), Value::String(d.clone()));
        }
        self.config.put_into(&mut map);
        for (k, v) in &self.extra {
            map.insert(k.clone(), v.clone());
        }
        map.serialize(s)
    }
}

impl<'de> Deserialize<'de> for PropertySchema {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let mut map = JsonMap::deserialize(d)?;
        let id = take_string(&mut map, "id").map_err(D::Error::custom)?;
        let name = take_string(&mut map, "name").map_err(D::Error::custom)?;
        let description = match map.remove("description") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s),
            Some(other) => {
                return Err(D::Error::custom(format!(
                    "`description` must be a string, got {other}"
                )))
            }
        };
        let config = PropertyConfig::take_from(&mut map).map_err(D::Error::custom)?;
        Ok(PropertySchema {
            id: id.unwrap_or_default(),
            name: name.unwrap_or_default(),
            description,
            config,
            extra: super::compact(map),
        })
    }
}

/// Removes `key` from `map`: a string, absent, or an error naming the key.
fn take_string(map: &mut JsonMap, key: &str) -> Result<Option<String>, String> {
    match map.remove(key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(format!("`{key}` must be a string, got {other}")),
    }
}

// ---------------------------------------------------------------------------------------
// Page property values
// ---------------------------------------------------------------------------------------

/// One entry of a `files` value: a file object plus its display `name`.
#[derive(Clone, Debug, PartialEq)]
pub struct FileEntry {
    /// Display name (required in requests for `external` files).
    pub name: Option<String>,
    /// Where the file lives.
    pub file: FileObject,
    /// Fields this build does not model.
    pub extra: JsonMap,
}

impl FileEntry {
    /// An external file at `url` called `name`.
    pub fn external(name: impl Into<String>, url: impl Into<String>) -> Self {
        FileEntry {
            name: Some(name.into()),
            file: FileObject::external(url),
            extra: JsonMap::new(),
        }
    }
}

impl Serialize for FileEntry {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = JsonMap::new();
        if let Some(n) = &self.name {
            map.insert("name".into(), Value::String(n.clone()));
        }
        self.file.put_into(&mut map);
        for (k, v) in &self.extra {
            map.insert(k.clone(), v.clone());
        }
        map.serialize(s)
    }
}

impl<'de> Deserialize<'de> for FileEntry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let mut map = JsonMap::deserialize(d)?;
        let name = take_string(&mut map, "name").map_err(D::Error::custom)?;
        let file = FileObject::take_from(&mut map).map_err(D::Error::custom)?;
        Ok(FileEntry {
            name,
            file,
            extra: super::compact(map),
        })
    }
}

/// `unique_id` value: `{number, prefix}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UniqueIdValue {
    /// The counter.
    #[serde(default)]
    pub number: Option<u64>,
    /// The data source's prefix, if any.
    #[serde(default)]
    pub prefix: Option<String>,
    /// Fields this build does not model.
    #[serde(flatten)]
    pub extra: JsonMap,
}

impl UniqueIdValue {
    /// How Notion shows the id: `PREFIX-7`, or `7` without a prefix (None when unset).
    pub fn display(&self) -> Option<String> {
        let n = self.number?;
        Some(match self.prefix.as_deref() {
            Some(p) if !p.is_empty() => format!("{p}-{n}"),
            _ => n.to_string(),
        })
    }
}

/// `verification` value of a wiki page.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct VerificationValue {
    /// `verified` or `unverified`.
    #[serde(default)]
    pub state: String,
    /// Who verified the page.
    #[serde(default)]
    pub verified_by: Option<User>,
    /// When the verification started (and expires).
    #[serde(default)]
    pub date: Option<DateValue>,
    /// Fields this build does not model.
    #[serde(flatten)]
    pub extra: JsonMap,
}

typed_union! {
    /// The result of a formula: `{"type": "number", "number": 42}` etc.
    pub enum FormulaResult {
        /// Text result.
        "string" => String(Option<String>),
        /// Number result.
        "number" => Number(Option<Number>),
        /// Boolean result.
        "boolean" => Boolean(Option<bool>),
        /// Date result.
        "date" => Date(Option<DateValue>),
    }
}

typed_union! {
    /// The result of a rollup, without its `function`.
    pub enum RollupResult {
        /// Numeric aggregate.
        "number" => Number(Option<Number>),
        /// Date aggregate.
        "date" => Date(Option<DateValue>),
        /// "Show original" and friends: the values of the related pages, each
        /// `{"type": T, T: value}` like a page property value without its id.
        "array" => Array(Vec<PropertyData>),
        /// Only part of the relation was read (property item endpoint, paginating).
        "incomplete" => Incomplete(Value),
        /// The aggregation is not supported by the API.
        "unsupported" => Unsupported(Value),
    }
}

/// `rollup` value: `{type, <type>: result, function}`.
#[derive(Clone, Debug, PartialEq)]
pub struct RollupValue {
    /// The aggregation used.
    pub function: Option<String>,
    /// The computed result.
    pub result: RollupResult,
    /// Fields this build does not model.
    pub extra: JsonMap,
}

impl Serialize for RollupValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = JsonMap::new();
        self.result.put_into(&mut map);
        if let Some(f) = &self.function {
            map.insert("function".into(), Value::String(f.clone()));
        }
        for (k, v) in &self.extra {
            map.insert(k.clone(), v.clone());
        }
        map.serialize(s)
    }
}

impl<'de> Deserialize<'de> for RollupValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let mut map = JsonMap::deserialize(d)?;
        let function = take_string(&mut map, "function").map_err(D::Error::custom)?;
        let result = RollupResult::take_from(&mut map).map_err(D::Error::custom)?;
        Ok(RollupValue {
            function,
            result,
            extra: super::compact(map),
        })
    }
}

typed_union! {
    /// The type-specific value of a page property (response and request shapes).
    pub enum PropertyData {
        /// The title.
        "title" => Title(Vec<RichText>),
        /// Text.
        "rich_text" => RichText(Vec<RichText>),
        /// A number or nothing.
        "number" => Number(Option<Number>),
        /// The chosen option or nothing.
        "select" => Select(Option<SelectOption>),
        /// The chosen options.
        "multi_select" => MultiSelect(Vec<SelectOption>),
        /// The status option.
        "status" => Status(Option<SelectOption>),
        /// A date, a range, or nothing.
        "date" => Date(Option<DateValue>),
        /// Users.
        "people" => People(Vec<User>),
        /// Files and links.
        "files" => Files(Vec<FileEntry>),
        /// Checked or not.
        "checkbox" => Checkbox(bool),
        /// A URL or nothing.
        "url" => Url(Option<String>),
        /// An e-mail address or nothing.
        "email" => Email(Option<String>),
        /// A phone number or nothing.
        "phone_number" => PhoneNumber(Option<String>),
        /// Computed value (read-only).
        "formula" => Formula(FormulaResult),
        /// Related pages (at most 25 from retrieve-page; see `has_more`).
        "relation" => Relation(Vec<IdRef>),
        /// Aggregate (read-only).
        "rollup" => Rollup(RollupValue),
        /// Creation time (read-only).
        "created_time" => CreatedTime(String),
        /// Creator (read-only).
        "created_by" => CreatedBy(User),
        /// Last edit time (read-only).
        "last_edited_time" => LastEditedTime(String),
        /// Last editor (read-only).
        "last_edited_by" => LastEditedBy(User),
        /// Auto-incremented id (read-only).
        "unique_id" => UniqueId(UniqueIdValue),
        /// Wiki verification (read-only).
        "verification" => Verification(Option<VerificationValue>),
        /// Button (read-only; not described by the reference).
        "button" => Button(Value),
        /// Location: returned as `null` (unsupported by the API).
        "place" => Place(Value),
    }
}

impl PropertyData {
    /// `{"<type>": value}`: the value as update page and create page take it under
    /// `properties.<name>`. Response-only fields of rich text are dropped.
    pub fn to_request(&self) -> Value {
        let payload = match self {
            PropertyData::Title(runs) | PropertyData::RichText(runs) => {
                let runs: Vec<RichText> = runs
                    .iter()
                    .cloned()
                    .map(|mut r| {
                        r.strip_response_fields();
                        r
                    })
                    .collect();
                serde_json::to_value(runs).expect("rich text always serializes")
            }
            other => other.payload(),
        };
        let mut map = JsonMap::new();
        map.insert(self.type_name().to_string(), payload);
        Value::Object(map)
    }

    /// True for types the API computes or cannot update.
    pub fn is_read_only_type(type_name: &str) -> bool {
        !matches!(
            type_name,
            "title"
                | "rich_text"
                | "number"
                | "select"
                | "multi_select"
                | "status"
                | "date"
                | "people"
                | "files"
                | "checkbox"
                | "url"
                | "email"
                | "phone_number"
                | "relation"
        )
    }

    /// A `select` value naming its option (`None` clears it).
    pub fn select(name: Option<&str>) -> Self {
        PropertyData::Select(name.map(SelectOption::named))
    }

    /// A `status` value naming its option.
    pub fn status(name: &str) -> Self {
        PropertyData::Status(Some(SelectOption::named(name)))
    }

    /// A `multi_select` value naming its options.
    pub fn multi_select<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        PropertyData::MultiSelect(names.into_iter().map(SelectOption::named).collect())
    }

    /// A `people` value of user ids.
    pub fn people<'a>(ids: impl IntoIterator<Item = &'a str>) -> Self {
        PropertyData::People(ids.into_iter().map(User::reference).collect())
    }

    /// A `relation` value of page ids.
    pub fn relation<'a>(ids: impl IntoIterator<Item = &'a str>) -> Self {
        PropertyData::Relation(
            ids.into_iter()
                .map(|id| IdRef {
                    id: id.to_string(),
                    extra: JsonMap::new(),
                })
                .collect(),
        )
    }

    /// A `date` value (`start` alone, or a range); `None` clears it.
    pub fn date(start: Option<&str>, end: Option<&str>, time_zone: Option<&str>) -> Self {
        PropertyData::Date(start.map(|s| DateValue {
            start: s.to_string(),
            end: end.map(str::to_string),
            time_zone: time_zone.map(str::to_string),
            extra: JsonMap::new(),
        }))
    }

    /// A `number` value; `None` clears it. Non-finite numbers are not JSON and give `None`.
    pub fn number(n: Option<f64>) -> Self {
        PropertyData::Number(n.and_then(Number::from_f64))
    }
}

/// `{"properties": {name: {"<type>": value}, …}}`: the body of an update-page request that
/// sets these properties.
pub fn update_page_body<'a>(props: impl IntoIterator<Item = (&'a str, &'a PropertyData)>) -> Value {
    let mut properties = JsonMap::new();
    for (name, data) in props {
        properties.insert(name.to_string(), data.to_request());
    }
    let mut body = JsonMap::new();
    body.insert("properties".into(), Value::Object(properties));
    Value::Object(body)
}

/// A page's value for one property: `{id, type, <type>: value}`, plus `has_more` on
/// relations (true when retrieve-page cut the list at 25).
#[derive(Clone, Debug, PartialEq)]
pub struct PropertyValue {
    /// Property id (`title` for the title).
    pub id: String,
    /// Type and value.
    pub data: PropertyData,
    /// `relation` only: more than 25 references exist and only 25 were returned.
    pub has_more: Option<bool>,
    /// Fields this build does not model (some examples carry `name`).
    pub extra: JsonMap,
}

impl PropertyValue {
    /// A value with the given id and data.
    pub fn new(id: impl Into<String>, data: PropertyData) -> Self {
        PropertyValue {
            id: id.into(),
            data,
            has_more: None,
            extra: JsonMap::new(),
        }
    }

    /// The API's name of the type.
    pub fn type_name(&self) -> &str {
        self.data.type_name()
    }
}

impl Serialize for PropertyValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = JsonMap::new();
        map.insert("id".into(), Value::String(self.id.clone()));
        self.data.put_into(&mut map);
        if let Some(h) = self.has_more {
            map.insert("has_more".into(), Value::Bool(h));
        }
        for (k, v) in &self.extra {
            map.insert(k.clone(), v.clone());
        }
        map.serialize(s)
    }
}

impl<'de> Deserialize<'de> for PropertyValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let mut map = JsonMap::deserialize(d)?;
        let id = take_string(&mut map, "id").map_err(D::Error::custom)?;
        let has_more = match map.remove("has_more") {
            None | Some(Value::Null) => None,
            Some(Value::Bool(b)) => Some(b),
            Some(other) => {
                return Err(D::Error::custom(format!(
                    "`has_more` must be a boolean, got {other}"
                )))
            }
        };
        let data = PropertyData::take_from(&mut map).map_err(D::Error::custom)?;
        Ok(PropertyValue {
            id: id.unwrap_or_default(),
            data,
            has_more,
            extra: super::compact(map),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn request_shape_has_no_type_or_id() {
        let v = PropertyData::status("Done").to_request();
        assert_eq!(v, json!({"status": {"name": "Done"}}));
        let v = PropertyData::relation(["a", "b"]).to_request();
        assert_eq!(v, json!({"relation": [{"id": "a"}, {"id": "b"}]}));
        let v = PropertyData::select(None).to_request();
        assert_eq!(v, json!({"select": null}));
    }

    #[test]
    fn unknown_value_type_is_kept() {
        let v = json!({"id": "x", "type": "hologram", "hologram": {"d": 3}});
        let p: PropertyValue = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(p.type_name(), "hologram");
        assert_eq!(serde_json::to_value(&p).unwrap(), v);
    }

    #[test]
    fn unique_id_display() {
        let u = UniqueIdValue {
            number: Some(7),
            prefix: Some("TASK".into()),
            extra: JsonMap::new(),
        };
        assert_eq!(u.display().as_deref(), Some("TASK-7"));
        let u = UniqueIdValue { prefix: None, ..u };
        assert_eq!(u.display().as_deref(), Some("7"));
    }
}
