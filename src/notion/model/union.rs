//! `typed_union!`: enums in Notion's `{"type": "T", "T": payload}` shape, and
//! `keep_nulls!`: structs that write back the explicit `null`s they were given.

/// Declares an enum whose variants hold the payload of one Notion `type`, plus
/// `Unknown { type_name, payload }` for types this build does not know (kept verbatim).
///
/// Generated: `type_name()`, `from_parts(type, payload)`, `payload()`, and
/// `Serialize`/`Deserialize` in the `{"type": T, T: payload}` object shape.
macro_rules! typed_union {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $tag:literal => $variant:ident($payload:ty), )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq)]
        #[allow(clippy::large_enum_variant)]
        pub enum $name {
            $( $(#[$vmeta])* $variant($payload), )*
            /// A type this build does not know; kept as the API sent it.
            Unknown {
                /// The value of `type`.
                type_name: String,
                /// The object under the key named by `type` (`null` when absent).
                payload: serde_json::Value,
            },
        }

        impl $name {
            /// The API's name of this variant (the value of `type`).
            pub fn type_name(&self) -> &str {
                match self {
                    $( Self::$variant(_) => $tag, )*
                    Self::Unknown { type_name, .. } => type_name,
                }
            }

            /// Builds the variant named `type_name` from its payload; unknown names are kept.
            pub fn from_parts(
                type_name: &str,
                payload: serde_json::Value,
            ) -> Result<Self, serde_json::Error> {
                Ok(match type_name {
                    $( $tag => Self::$variant(serde_json::from_value(payload)?), )*
                    _ => Self::Unknown { type_name: type_name.to_string(), payload },
                })
            }

            /// The payload as JSON (what goes under the key named by `type`).
            pub fn payload(&self) -> serde_json::Value {
                match self {
                    $( Self::$variant(p) => serde_json::to_value(p)
                        .expect("model payloads always serialize"), )*
                    Self::Unknown { payload, .. } => payload.clone(),
                }
            }

            /// Reads `type` and its payload out of `map`, removing both.
            pub fn take_from(map: &mut $crate::notion::model::JsonMap) -> Result<Self, String> {
                let type_name = match map.remove("type") {
                    Some(serde_json::Value::String(t)) => t,
                    Some(other) => return Err(format!("`type` must be a string, got {other}")),
                    None => {
                        // Requests may omit `type`: infer it from the one known key present.
                        let known = [$($tag),*];
                        match known.iter().find(|k| map.contains_key(**k)) {
                            Some(k) => k.to_string(),
                            None => return Err("missing `type`".to_string()),
                        }
                    }
                };
                let payload = map.remove(&type_name).unwrap_or(serde_json::Value::Null);
                Self::from_parts(&type_name, payload)
                    .map_err(|e| format!("invalid `{type_name}`: {e}"))
            }

            /// Writes `type` and the payload into `map`. An unknown type whose payload was
            /// absent (kept as `null`) gets no payload key: nothing is invented.
            pub fn put_into(&self, map: &mut $crate::notion::model::JsonMap) {
                map.insert("type".into(), serde_json::Value::String(self.type_name().to_string()));
                if matches!(self, Self::Unknown { payload: serde_json::Value::Null, .. }) {
                    return;
                }
                map.insert(self.type_name().to_string(), self.payload());
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut map = $crate::notion::model::JsonMap::new();
                self.put_into(&mut map);
                map.serialize(s)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let mut map = <$crate::notion::model::JsonMap as serde::Deserialize>::deserialize(d)?;
                let value = Self::take_from(&mut map).map_err(serde::de::Error::custom)?;
                if !map.is_empty() {
                    // The enum has no place for keys beside `type` and the payload (none is
                    // documented); say so rather than lose them silently.
                    let keys: Vec<&String> = map.keys().collect();
                    tracing::warn!(
                        union = stringify!($name),
                        ?keys,
                        "unknown keys beside `type` are not kept"
                    );
                }
                Ok(value)
            }
        }
    };
}

/// Optional fields that arrived as an explicit `null`.
///
/// Models skip `None` fields when writing, so a `"key": null` from the API would vanish on a
/// round trip. These helpers park such nulls in the model's `extra` map on the way in and
/// drop them again on the way out once the field holds a value.
pub(crate) mod nulls {
    use serde_json::Value;

    use crate::notion::model::JsonMap;

    /// The `keys` whose value in `map` is `null`.
    pub(crate) fn find(map: &JsonMap, keys: &[&str]) -> Vec<String> {
        keys.iter()
            .filter(|k| matches!(map.get(**k), Some(Value::Null)))
            .map(|k| k.to_string())
            .collect()
    }

    /// Records each of `keys` as an explicit null in `extra`.
    pub(crate) fn keep(extra: &mut JsonMap, keys: Vec<String>) {
        for k in keys {
            extra.insert(k, Value::Null);
        }
    }

    /// `extra` without the recorded nulls of fields that now hold a value (`set` pairs a
    /// key with whether its field is `Some`); `None` when nothing needs removing.
    pub(crate) fn stale(extra: &JsonMap, set: &[(&str, bool)]) -> Option<JsonMap> {
        let stale = |k: &str| set.iter().any(|(key, is_set)| *key == k && *is_set);
        if !extra.iter().any(|(k, v)| v.is_null() && stale(k)) {
            return None;
        }
        Some(
            extra
                .iter()
                .filter(|(k, v)| !(v.is_null() && stale(k)))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        )
    }
}

/// Implements `Serialize`/`Deserialize` for a struct declared with
/// `#[serde(remote = "Self")]`, keeping explicit nulls of the listed optional fields.
macro_rules! keep_nulls {
    ($ty:ident { $($field:ident),* $(,)? }) => {
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let set = [$((stringify!($field), self.$field.is_some())),*];
                match $crate::notion::model::union::nulls::stale(&self.extra, &set) {
                    Some(extra) => $ty::serialize(&$ty { extra, ..self.clone() }, s),
                    None => $ty::serialize(self, s),
                }
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                use serde::de::Error;
                let map = <$crate::notion::model::JsonMap as serde::Deserialize>::deserialize(d)?;
                let found = $crate::notion::model::union::nulls::find(
                    &map,
                    &[$(stringify!($field)),*],
                );
                let mut value = $ty::deserialize(serde_json::Value::Object(map))
                    .map_err(D::Error::custom)?;
                $crate::notion::model::union::nulls::keep(&mut value.extra, found);
                Ok(value)
            }
        }
    };
}
