//! `typed_union!`: enums in Notion's `{"type": "T", "T": payload}` shape.

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

            /// Writes `type` and the payload into `map`.
            pub fn put_into(&self, map: &mut $crate::notion::model::JsonMap) {
                map.insert("type".into(), serde_json::Value::String(self.type_name().to_string()));
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
                Self::take_from(&mut map).map_err(serde::de::Error::custom)
            }
        }
    };
}
