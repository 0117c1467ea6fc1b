//! `.schema.yaml`: a data source's property schema for people to read (read-only in v1).

use serde_json::{Map, Value};

use super::yaml;
use crate::notion::model::property::{
    PropertyConfig, PropertyData, PropertySchema, RelationConfig, RollupConfig, SelectOption,
    StatusConfig,
};
use crate::notion::model::DataSource;

/// The `.schema.yaml` text: one mapping per property, in schema order, with its type and,
/// where the API gives them, options, number format, formula expression, relation target
/// and rollup definition.
pub fn schema_yaml(schema: &DataSource) -> String {
    let mut root = Map::new();
    for (name, prop) in &schema.properties {
        root.insert(name.clone(), Value::Object(property(prop)));
    }
    let mut out = String::new();
    yaml::emit_mapping(&mut out, &root, 0);
    out
}

/// One property's mapping: type, id, description, its configuration, `read_only`.
fn property(prop: &PropertySchema) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("type".into(), s(prop.type_name()));
    m.insert("id".into(), s(&prop.id));
    if let Some(d) = prop.description.as_deref().filter(|d| !d.is_empty()) {
        m.insert("description".into(), s(d));
    }
    config(&prop.config, &mut m);
    if PropertyData::is_read_only_type(prop.type_name()) {
        m.insert("read_only".into(), Value::Bool(true));
    }
    m
}

/// The fields of a property's configuration worth reading.
fn config(config: &PropertyConfig, m: &mut Map<String, Value>) {
    match config {
        PropertyConfig::Number(c) => {
            if let Some(f) = &c.format {
                m.insert("format".into(), s(f));
            }
        }
        PropertyConfig::Select(c) | PropertyConfig::MultiSelect(c) => {
            m.insert("options".into(), options(&c.options));
        }
        PropertyConfig::Status(c) => {
            m.insert("options".into(), options(&c.options));
            m.insert("groups".into(), status_groups(c));
        }
        PropertyConfig::Formula(c) => {
            m.insert("expression".into(), s(&c.expression));
        }
        PropertyConfig::Relation(c) => relation(c, m),
        PropertyConfig::Rollup(c) => rollup(c, m),
        PropertyConfig::UniqueId(c) => {
            if let Some(p) = &c.prefix {
                m.insert("prefix".into(), s(p));
            }
        }
        _ => {}
    }
}

/// A status property's groups, each naming its options.
fn status_groups(c: &StatusConfig) -> Value {
    let groups = c
        .groups
        .iter()
        .map(|g| {
            let mut gm = Map::new();
            gm.insert("name".into(), s(&g.name));
            if let Some(color) = &g.color {
                gm.insert("color".into(), s(color));
            }
            // Option names read better than option ids.
            let members = g
                .option_ids
                .iter()
                .map(|id| {
                    c.options
                        .iter()
                        .find(|o| o.id.as_deref() == Some(id.as_str()))
                        .map(|o| s(o.name_str()))
                        .unwrap_or_else(|| s(id))
                })
                .collect();
            gm.insert("options".into(), Value::Array(members));
            Value::Object(gm)
        })
        .collect();
    Value::Array(groups)
}

fn relation(c: &RelationConfig, m: &mut Map<String, Value>) {
    if let Some(id) = &c.data_source_id {
        m.insert("data_source_id".into(), s(id));
    }
    if let Some(id) = &c.database_id {
        m.insert("database_id".into(), s(id));
    }
    let two_way = c.kind.as_deref() == Some("dual_property")
        || c.dual_property.is_some()
        || c.synced_property_name.is_some();
    let kind = if two_way {
        "dual_property"
    } else {
        "single_property"
    };
    m.insert("relation_type".into(), s(kind));
    if let Some(p) = c.synced_property() {
        m.insert("synced_property".into(), s(p));
    }
}

fn rollup(c: &RollupConfig, m: &mut Map<String, Value>) {
    m.insert("function".into(), s(&c.function));
    let relation = c
        .relation_property_name
        .as_ref()
        .or(c.relation_property_id.as_ref());
    if let Some(r) = relation {
        m.insert("relation_property".into(), s(r));
    }
    let target = c
        .rollup_property_name
        .as_ref()
        .or(c.rollup_property_id.as_ref());
    if let Some(r) = target {
        m.insert("rollup_property".into(), s(r));
    }
}

fn s(x: &str) -> Value {
    Value::String(x.to_string())
}

fn options(opts: &[SelectOption]) -> Value {
    Value::Array(
        opts.iter()
            .map(|o| {
                let mut m = Map::new();
                m.insert("name".into(), s(o.name_str()));
                if let Some(c) = &o.color {
                    m.insert("color".into(), s(c));
                }
                if let Some(d) = o.description.as_deref().filter(|d| !d.is_empty()) {
                    m.insert("description".into(), s(d));
                }
                Value::Object(m)
            })
            .collect(),
    )
}
