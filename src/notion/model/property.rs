//! Data source property schemas and page property values (/reference/property-object,
//! /reference/page-property-values). Placeholder: typed models land with the front matter work.

/// A page's value for one property: `{id, type, <type>: value}`.
pub type PropertyValue = serde_json::Value;

/// One property of a data source schema: `{id, name, type, <type>: config}`.
pub type PropertySchema = serde_json::Value;
