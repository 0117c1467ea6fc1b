//! Page property items (/reference/property-item-object), the answer of
//! `GET /v1/pages/{page_id}/properties/{property_id}` (/reference/retrieve-a-page-property).
//!
//! Simple types come back as one [`PropertyItem`] holding the whole value. `title`,
//! `rich_text`, `relation` and `people` (and rollups) come back as a paginated
//! [`PropertyItemList`] whose results each hold ONE element (one rich text run, one page
//! reference, one user); [`collect_items`] joins the pages of such a list back into the
//! [`PropertyData`] a page object would carry, without the 25-reference cut of retrieve-page.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use thiserror::Error;

use super::property::{PropertyData, RollupResult, RollupValue};
use super::rich_text::{IdRef, RichText};
use super::{JsonMap, User};

/// One element or several: the reference shows a `people` item holding an array of users
/// where the paginated form holds one user per item; both are read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany<T> {
    /// A single element (paginated form).
    One(T),
    /// Several elements.
    Many(Vec<T>),
}

impl<T: Clone> OneOrMany<T> {
    /// The elements as a list.
    pub fn to_vec(&self) -> Vec<T> {
        match self {
            OneOrMany::One(t) => vec![t.clone()],
            OneOrMany::Many(v) => v.clone(),
        }
    }
}

typed_union! {
    /// The type-specific part of a property item.
    pub enum PropertyItemData {
        /// One run of the title.
        "title" => Title(RichText),
        /// One run of a rich text value.
        "rich_text" => RichText(RichText),
        /// One related page.
        "relation" => Relation(IdRef),
        /// One user (or, as one reference example shows, several).
        "people" => People(OneOrMany<User>),
        /// Any other type: the whole value, as in a page object.
        "number" => Number(Option<serde_json::Number>),
        /// Select.
        "select" => Select(Option<super::property::SelectOption>),
        /// Multi-select.
        "multi_select" => MultiSelect(Vec<super::property::SelectOption>),
        /// Status.
        "status" => Status(Option<super::property::SelectOption>),
        /// Date.
        "date" => Date(Option<super::rich_text::DateValue>),
        /// Files.
        "files" => Files(Vec<super::property::FileEntry>),
        /// Checkbox.
        "checkbox" => Checkbox(bool),
        /// URL.
        "url" => Url(Option<String>),
        /// E-mail.
        "email" => Email(Option<String>),
        /// Phone number.
        "phone_number" => PhoneNumber(Option<String>),
        /// Formula result.
        "formula" => Formula(super::property::FormulaResult),
        /// Rollup (in `property_item` of a list, or alone).
        "rollup" => Rollup(RollupValue),
        /// Creation time.
        "created_time" => CreatedTime(String),
        /// Creator.
        "created_by" => CreatedBy(User),
        /// Last edit time.
        "last_edited_time" => LastEditedTime(String),
        /// Last editor.
        "last_edited_by" => LastEditedBy(User),
        /// Unique id.
        "unique_id" => UniqueId(super::property::UniqueIdValue),
        /// Verification.
        "verification" => Verification(Option<super::property::VerificationValue>),
    }
}

/// A property item: `{object: "property_item", id, type, <type>: value}`.
#[derive(Clone, Debug, PartialEq)]
pub struct PropertyItem {
    /// Property id.
    pub id: String,
    /// Type and value (one element for paginated types).
    pub data: PropertyItemData,
    /// Fields this build does not model.
    pub extra: JsonMap,
}

impl Serialize for PropertyItem {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = JsonMap::new();
        map.insert("object".into(), Value::String("property_item".into()));
        map.insert("id".into(), Value::String(self.id.clone()));
        self.data.put_into(&mut map);
        for (k, v) in &self.extra {
            map.insert(k.clone(), v.clone());
        }
        map.serialize(s)
    }
}

impl<'de> Deserialize<'de> for PropertyItem {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let mut map = JsonMap::deserialize(d)?;
        match map.remove("object") {
            None => {}
            Some(Value::String(o)) if o == "property_item" => {}
            Some(other) => {
                return Err(D::Error::custom(format!(
                    "expected object \"property_item\", got {other}"
                )))
            }
        }
        let id = match map.remove("id") {
            Some(Value::String(s)) => s,
            None => String::new(),
            Some(other) => {
                return Err(D::Error::custom(format!(
                    "`id` must be a string, got {other}"
                )))
            }
        };
        let data = PropertyItemData::take_from(&mut map).map_err(D::Error::custom)?;
        Ok(PropertyItem {
            id,
            data,
            extra: super::compact(map),
        })
    }
}

/// The `property_item` member of a paginated list: which property, the next page's URL,
/// and `{type, <type>: {}}` (for rollups, the value computed so far).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PropertyItemListInfo {
    /// Property id.
    pub id: String,
    /// URL of the next page, when there is one.
    #[serde(default)]
    pub next_url: Option<String>,
    /// The property's type.
    #[serde(rename = "type")]
    pub kind: String,
    /// The type-named member (`{}` or, for rollups, the rollup value) and any other field.
    #[serde(flatten)]
    pub extra: JsonMap,
}

impl PropertyItemListInfo {
    /// The rollup value carried by a rollup list (`None` for other types or if malformed).
    pub fn rollup(&self) -> Option<RollupValue> {
        if self.kind != "rollup" {
            return None;
        }
        serde_json::from_value(self.extra.get("rollup")?.clone()).ok()
    }
}

/// One page of a paginated property value:
/// `{object: "list", results, next_cursor, has_more, type: "property_item", property_item}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PropertyItemList {
    /// Always `"list"`.
    pub object: String,
    /// The items of this page.
    pub results: Vec<PropertyItem>,
    /// Cursor of the next page.
    #[serde(default)]
    pub next_cursor: Option<String>,
    /// More pages follow.
    #[serde(default)]
    pub has_more: bool,
    /// Always `"property_item"`.
    #[serde(rename = "type")]
    pub kind: String,
    /// What the list is about.
    pub property_item: PropertyItemListInfo,
    /// Fields this build does not model.
    #[serde(flatten)]
    pub extra: JsonMap,
}

/// What retrieve-a-page-property returns: one item, or one page of a list.
#[derive(Clone, Debug, PartialEq)]
#[allow(clippy::large_enum_variant)]
pub enum PropertyItemResponse {
    /// A simple property's whole value.
    Item(PropertyItem),
    /// One page of a paginated property.
    List(PropertyItemList),
}

impl Serialize for PropertyItemResponse {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            PropertyItemResponse::Item(i) => i.serialize(s),
            PropertyItemResponse::List(l) => l.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for PropertyItemResponse {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let v = Value::deserialize(d)?;
        match v.get("object").and_then(Value::as_str) {
            Some("list") => serde_json::from_value(v)
                .map(PropertyItemResponse::List)
                .map_err(D::Error::custom),
            Some("property_item") => serde_json::from_value(v)
                .map(PropertyItemResponse::Item)
                .map_err(D::Error::custom),
            other => Err(D::Error::custom(format!(
                "expected object \"list\" or \"property_item\", got {other:?}"
            ))),
        }
    }
}

/// Why the pages of a property could not be joined into one value.
#[derive(Debug, Error, PartialEq)]
pub enum CollectError {
    /// No pages were given.
    #[error("no property item pages to collect")]
    Empty,
    /// The last page still says `has_more`: the value would be cut short.
    #[error("property {0}: the last page of items has has_more = true; fetch the remaining pages")]
    Incomplete(String),
    /// An item of another type than the list's.
    #[error("property {id}: item of type {found} in a list of {expected}")]
    Mixed {
        /// Property id.
        id: String,
        /// The list's type.
        expected: String,
        /// The odd item's type.
        found: String,
    },
}

/// Joins the pages of a property item answer (in order) into the value a page object would
/// hold for that property, complete: `title`/`rich_text` runs, `relation` ids, `people`
/// users, a rollup's final value (for "show original" rollups, the flattened items as an
/// array). A single [`PropertyItemResponse::Item`] converts directly.
pub fn collect_items(pages: &[PropertyItemResponse]) -> Result<PropertyData, CollectError> {
    let first = pages.first().ok_or(CollectError::Empty)?;
    let list_info = match first {
        PropertyItemResponse::Item(item) => return Ok(item_to_data(&item.data)),
        PropertyItemResponse::List(l) => &l.property_item,
    };
    if let Some(PropertyItemResponse::List(last)) = pages.last() {
        if last.has_more {
            return Err(CollectError::Incomplete(list_info.id.clone()));
        }
    }
    let items: Vec<&PropertyItem> = pages
        .iter()
        .flat_map(|p| match p {
            PropertyItemResponse::List(l) => l.results.iter().collect::<Vec<_>>(),
            PropertyItemResponse::Item(i) => vec![i],
        })
        .collect();
    let kind = list_info.kind.as_str();
    let mismatch = |found: &str| CollectError::Mixed {
        id: list_info.id.clone(),
        expected: kind.to_string(),
        found: found.to_string(),
    };
    Ok(match kind {
        "title" | "rich_text" => {
            let mut runs = Vec::new();
            for i in &items {
                match &i.data {
                    PropertyItemData::Title(r) | PropertyItemData::RichText(r) => {
                        runs.push(r.clone())
                    }
                    other => return Err(mismatch(other.type_name())),
                }
            }
            if kind == "title" {
                PropertyData::Title(runs)
            } else {
                PropertyData::RichText(runs)
            }
        }
        "relation" => {
            let mut refs = Vec::new();
            for i in &items {
                match &i.data {
                    PropertyItemData::Relation(r) => refs.push(r.clone()),
                    other => return Err(mismatch(other.type_name())),
                }
            }
            PropertyData::Relation(refs)
        }
        "people" => {
            let mut users = Vec::new();
            for i in &items {
                match &i.data {
                    PropertyItemData::People(u) => users.extend(u.to_vec()),
                    other => return Err(mismatch(other.type_name())),
                }
            }
            PropertyData::People(users)
        }
        "rollup" => {
            // The final page's property_item carries the aggregate; "show original" (and
            // the unsupported aggregations) give only the flattened items.
            let last_info = match pages.last() {
                Some(PropertyItemResponse::List(l)) => &l.property_item,
                _ => list_info,
            };
            match last_info.rollup() {
                Some(r) if !matches!(r.result, RollupResult::Array(_)) => PropertyData::Rollup(r),
                other => PropertyData::Rollup(RollupValue {
                    function: other.and_then(|r| r.function),
                    result: RollupResult::Array(
                        items.iter().map(|i| item_to_data(&i.data)).collect(),
                    ),
                    extra: JsonMap::new(),
                }),
            }
        }
        other => PropertyData::Unknown {
            type_name: other.to_string(),
            payload: Value::Array(
                items
                    .iter()
                    .map(|i| serde_json::to_value(i).expect("items serialize"))
                    .collect(),
            ),
        },
    })
}

/// One item as a page property value (paginated kinds give a one-element list).
fn item_to_data(d: &PropertyItemData) -> PropertyData {
    match d {
        PropertyItemData::Title(r) => PropertyData::Title(vec![r.clone()]),
        PropertyItemData::RichText(r) => PropertyData::RichText(vec![r.clone()]),
        PropertyItemData::Relation(r) => PropertyData::Relation(vec![r.clone()]),
        PropertyItemData::People(u) => PropertyData::People(u.to_vec()),
        other => {
            PropertyData::from_parts(other.type_name(), other.payload()).unwrap_or_else(|_| {
                PropertyData::Unknown {
                    type_name: other.type_name().to_string(),
                    payload: other.payload(),
                }
            })
        }
    }
}
