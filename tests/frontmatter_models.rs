//! Property models against the JSON examples of the reference pages
//! (tests/fixtures/properties/, see its README for the repaired examples).

use indexmap::IndexMap;
use notionfs::notion::model::property::{
    update_page_body, FormulaResult, PropertyConfig, PropertyData, PropertySchema, PropertyValue,
    RollupResult,
};
use notionfs::notion::model::property_item::{
    collect_items, CollectError, PropertyItemData, PropertyItemResponse,
};
use notionfs::notion::model::FileObject;
use serde_json::{json, Value};

fn fixture(name: &str) -> serde_json::Map<String, Value> {
    let path = format!(
        "{}/tests/fixtures/properties/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).expect("fixture exists");
    serde_json::from_str(&text).expect("fixture is JSON")
}

/// The JSON as the models write it back: rich text annotations leave out false flags and
/// dates and users leave out a null `time_zone` / `avatar_url` (rich_text.rs, user.rs);
/// both mean the same to the API.
fn normalize(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut out = serde_json::Map::new();
            for (k, x) in m {
                if (k == "time_zone" || k == "avatar_url") && x.is_null() {
                    continue;
                }
                if k == "annotations" {
                    if let Value::Object(a) = x {
                        let mut a = a.clone();
                        a.retain(|_, flag| flag != &Value::Bool(false));
                        out.insert(k.clone(), Value::Object(a));
                        continue;
                    }
                }
                out.insert(k.clone(), normalize(x));
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(normalize).collect()),
        other => other.clone(),
    }
}

/// The single `{name: value}` of an example.
fn only(v: &Value) -> (&String, &Value) {
    let m = v.as_object().expect("example is an object");
    assert_eq!(m.len(), 1);
    m.iter().next().expect("one entry")
}

#[test]
fn every_page_value_example_round_trips_exactly() {
    let examples = fixture("page_property_values.json");
    assert_eq!(examples.len(), 22);
    for (label, example) in &examples {
        let props: IndexMap<String, PropertyValue> =
            serde_json::from_value(example.clone()).unwrap_or_else(|e| panic!("{label}: {e}"));
        let back = serde_json::to_value(&props).unwrap();
        assert_eq!(back, normalize(example), "{label}");
        let (name, raw) = only(example);
        let expected_type = raw["type"].as_str().unwrap();
        let value = &props[name.as_str()];
        assert_eq!(value.type_name(), expected_type, "{label}");
        assert!(
            !matches!(value.data, PropertyData::Unknown { .. }),
            "{label} is typed"
        );
    }
}

#[test]
fn page_values_are_typed_as_documented() {
    let ex = fixture("page_property_values.json");
    let get = |label: &str| -> PropertyValue {
        let (_, raw) = only(&ex[label]);
        serde_json::from_value(raw.clone()).unwrap()
    };
    assert_eq!(get("checkbox").data, PropertyData::Checkbox(true));
    match get("relation") {
        PropertyValue {
            data: PropertyData::Relation(r),
            has_more,
            ..
        } => {
            assert_eq!(r.len(), 2);
            assert_eq!(r[0].id, "dd456007-6c66-4bba-957e-ea501dcda3a6");
            assert_eq!(has_more, Some(false));
        }
        other => panic!("{other:?}"),
    }
    match get("rollup").data {
        PropertyData::Rollup(r) => {
            assert_eq!(r.function.as_deref(), Some("count"));
            assert_eq!(r.result, RollupResult::Number(Some(2.into())));
        }
        other => panic!("{other:?}"),
    }
    match get("formula").data {
        PropertyData::Formula(FormulaResult::Number(Some(n))) => assert_eq!(n, 56.into()),
        other => panic!("{other:?}"),
    }
    match get("unique_id").data {
        PropertyData::UniqueId(u) => assert_eq!(u.display().as_deref(), Some("RL-3")),
        other => panic!("{other:?}"),
    }
    match get("verification_expiring").data {
        PropertyData::Verification(Some(v)) => {
            assert_eq!(v.state, "verified");
            assert_eq!(
                v.date.unwrap().end.as_deref(),
                Some("2023-10-30T04:00:00.000Z")
            );
        }
        other => panic!("{other:?}"),
    }
    match get("files").data {
        PropertyData::Files(f) => {
            assert_eq!(f[0].name.as_deref(), Some("Project blueprint"));
            assert!(matches!(f[0].file, FileObject::External(_)));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        get("unsupported_place").data,
        PropertyData::Place(Value::Null)
    );
    match get("people").data {
        PropertyData::People(p) => assert_eq!(p[0].email(), Some("[email protected]")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn request_examples_read_and_rebuild() {
    let examples = fixture("page_property_requests.json");
    for (label, example) in &examples {
        let (name, raw) = only(&example["properties"]);
        let data: PropertyData =
            serde_json::from_value(raw.clone()).unwrap_or_else(|e| panic!("{label}: {e}"));
        let body = update_page_body([(name.as_str(), &data)]);
        let rebuilt = &body["properties"][name.as_str()];
        // The request shape has no `type` at the property level.
        assert!(rebuilt.get("type").is_none(), "{label}");
        let mut expected = raw.clone();
        expected.as_object_mut().unwrap().remove("type");
        if label.starts_with("files") || label == "date" {
            // File entries gain their `type` and dates an explicit `end: null`, which the API
            // reads the same.
            let again: PropertyData = serde_json::from_value(rebuilt.clone()).unwrap();
            assert_eq!(again, data, "{label}");
        } else {
            assert_eq!(rebuilt, &expected, "{label}");
        }
    }
}

#[test]
fn constructors_build_the_documented_request_shapes() {
    let ex = fixture("page_property_requests.json");
    let pick = |label: &str| ex[label]["properties"].clone();
    let cases = [
        (
            "status",
            update_page_body([("Status", &PropertyData::status("Not started"))]),
        ),
        (
            "select",
            update_page_body([("Department", &PropertyData::select(Some("Marketing")))]),
        ),
        (
            "multi_select",
            update_page_body([(
                "Programming language",
                &PropertyData::multi_select(["TypeScript", "Python"]),
            )]),
        ),
        (
            "relation",
            update_page_body([(
                "Related tasks",
                &PropertyData::relation([
                    "dd456007-6c66-4bba-957e-ea501dcda3a6",
                    "0c1f7cb2-8090-4f18-924e-d92965055e32",
                ]),
            )]),
        ),
        (
            "people",
            update_page_body([(
                "Stakeholders",
                &PropertyData::people(["c2f20311-9e54-4d11-8c79-7398424ae41e"]),
            )]),
        ),
        (
            "number",
            update_page_body([("Number of subscribers", &PropertyData::number(Some(42.0)))]),
        ),
    ];
    for (label, body) in cases {
        let got = &body["properties"];
        let want = pick(label);
        let (name, w) = only(&want);
        // Numbers: 42 and 42.0 are the same JSON number to the API.
        if label == "number" {
            assert_eq!(got[name]["number"].as_f64(), w["number"].as_f64());
        } else {
            assert_eq!(got, &want, "{label}");
        }
    }
    assert_eq!(
        PropertyData::date(Some("2023-02-23"), None, None).to_request(),
        json!({"date": {"start": "2023-02-23", "end": null}})
    );
}

#[test]
fn every_schema_example_round_trips_exactly() {
    let examples = fixture("property_schemas.json");
    for (label, example) in &examples {
        let props: IndexMap<String, PropertySchema> =
            serde_json::from_value(example.clone()).unwrap_or_else(|e| panic!("{label}: {e}"));
        assert_eq!(&serde_json::to_value(&props).unwrap(), example, "{label}");
        let (name, raw) = only(example);
        let p = &props[name.as_str()];
        assert_eq!(p.type_name(), raw["type"].as_str().unwrap());
        assert!(
            !matches!(p.config, PropertyConfig::Unknown { .. }),
            "{label}"
        );
    }
    let get = |label: &str| -> PropertySchema {
        let (_, raw) = only(&examples[label]);
        serde_json::from_value(raw.clone()).unwrap()
    };
    match get("status").config {
        PropertyConfig::Status(s) => {
            assert_eq!(s.options.len(), 3);
            assert_eq!(s.groups[2].name, "Complete");
            assert_eq!(
                s.groups[2].option_ids,
                vec!["497e64fb-01e2-41ef-ae2d-8a87a3bb51da"]
            );
        }
        other => panic!("{other:?}"),
    }
    match get("relation_upgrade_guide").config {
        PropertyConfig::Relation(r) => {
            assert_eq!(
                r.data_source_id.as_deref(),
                Some("a42a62ed-9b51-4b98-9dea-ea6d091bc508")
            );
            assert_eq!(r.synced_property(), Some("Tasks"));
        }
        other => panic!("{other:?}"),
    }
    match get("rollup").config {
        PropertyConfig::Rollup(r) => {
            assert_eq!(r.function, "sum");
            assert_eq!(r.rollup_property_id.as_deref(), Some("\\nyY"));
        }
        other => panic!("{other:?}"),
    }
    match get("number").config {
        PropertyConfig::Number(n) => assert_eq!(n.format.as_deref(), Some("dollar")),
        other => panic!("{other:?}"),
    }
    match get("unique_id").config {
        PropertyConfig::UniqueId(u) => assert_eq!(u.prefix.as_deref(), Some("TASK")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn every_property_item_example_reads() {
    let examples = fixture("property_items.json");
    for (label, example) in &examples {
        let (_, raw) = only(example);
        let mut raw = raw.clone();
        // The created/last-edited examples are abridged to the type-named key; the endpoint
        // always sends `object`, `id` and `type`.
        let abridged = raw.get("object").is_none();
        if abridged {
            raw["object"] = json!("property_item");
        }
        let item: PropertyItemResponse =
            serde_json::from_value(raw.clone()).unwrap_or_else(|e| panic!("{label}: {e}"));
        let back = serde_json::to_value(&item).unwrap();
        if abridged {
            let key = back["type"].as_str().unwrap().to_string();
            assert_eq!(back[&key], normalize(&raw[&key]), "{label}");
        } else {
            assert_eq!(back, normalize(&raw), "{label}");
        }
        if let PropertyItemResponse::Item(i) = &item {
            assert!(
                !matches!(i.data, PropertyItemData::Unknown { .. }),
                "{label} is typed"
            );
        }
    }
}

fn item(label: &str) -> PropertyItemResponse {
    let ex = fixture("property_items.json");
    let (_, raw) = only(&ex[label]);
    serde_json::from_value(raw.clone()).unwrap()
}

#[test]
fn paginated_items_join_into_values() {
    match collect_items(&[item("rich_text")]).unwrap() {
        PropertyData::RichText(runs) => {
            assert_eq!(runs.len(), 2);
            assert_eq!(runs[1].text_content(), "fun formatting");
            assert!(runs[1].annotations.italic);
        }
        other => panic!("{other:?}"),
    }
    match collect_items(&[item("title")]).unwrap() {
        PropertyData::Title(runs) => assert_eq!(runs[0].text_content(), "The title"),
        other => panic!("{other:?}"),
    }
    match collect_items(&[item("people")]).unwrap() {
        PropertyData::People(p) => assert_eq!(p[0].id, "285e5768-3fdc-4742-ab9e-125f9050f3b8"),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        collect_items(&[item("number")]).unwrap(),
        PropertyData::Number(Some(1234.into()))
    );
    // The relation example says has_more: the value would be cut: refused.
    assert_eq!(
        collect_items(&[item("relation")]),
        Err(CollectError::Incomplete("vYdV".into()))
    );
    assert!(matches!(
        collect_items(&[item("rollup")]),
        Err(CollectError::Incomplete(_))
    ));
    assert_eq!(collect_items(&[]), Err(CollectError::Empty));
}

#[test]
fn relation_pages_join_in_order() {
    let page = |ids: &[&str], more: bool| -> PropertyItemResponse {
        serde_json::from_value(json!({
            "object": "list",
            "results": ids.iter().map(|id| json!({"object": "property_item", "id": "vYdV", "type": "relation", "relation": {"id": id}})).collect::<Vec<_>>(),
            "next_cursor": if more { json!("c") } else { Value::Null },
            "has_more": more,
            "type": "property_item",
            "property_item": {"id": "vYdV", "next_url": null, "type": "relation", "relation": {}}
        }))
        .unwrap()
    };
    let joined = collect_items(&[page(&["a", "b"], true), page(&["c"], false)]).unwrap();
    assert_eq!(joined, PropertyData::relation(["a", "b", "c"]));
}

#[test]
fn rollup_list_with_final_value_and_show_original() {
    let final_page: PropertyItemResponse = serde_json::from_value(json!({
        "object": "list", "results": [], "next_cursor": null, "has_more": false,
        "type": "property_item",
        "property_item": {"id": "y}~p", "next_url": null, "type": "rollup",
            "rollup": {"function": "sum", "type": "number", "number": 42}}
    }))
    .unwrap();
    match collect_items(&[final_page]).unwrap() {
        PropertyData::Rollup(r) => assert_eq!(r.result, RollupResult::Number(Some(42.into()))),
        other => panic!("{other:?}"),
    }
    let original: PropertyItemResponse = serde_json::from_value(json!({
        "object": "list",
        "results": [{"object": "property_item", "id": "x", "type": "number", "number": 1},
                    {"object": "property_item", "id": "x", "type": "number", "number": 2}],
        "next_cursor": null, "has_more": false, "type": "property_item",
        "property_item": {"id": "x", "next_url": null, "type": "rollup",
            "rollup": {"function": "show_original", "type": "array", "array": []}}
    }))
    .unwrap();
    match collect_items(&[original]).unwrap() {
        PropertyData::Rollup(r) => {
            assert_eq!(r.function.as_deref(), Some("show_original"));
            assert_eq!(
                r.result,
                RollupResult::Array(vec![
                    PropertyData::Number(Some(1.into())),
                    PropertyData::Number(Some(2.into()))
                ])
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn formula_and_rollup_results_of_every_type() {
    let cases = [
        json!({"type": "string", "string": "hi"}),
        json!({"type": "string", "string": null}),
        json!({"type": "number", "number": 1.5}),
        json!({"type": "boolean", "boolean": false}),
        json!({"type": "date", "date": {"start": "2025-01-31", "end": null, "time_zone": null}}),
        json!({"type": "date", "date": null}),
    ];
    for c in cases {
        let v = json!({"id": "f", "type": "formula", "formula": c});
        let p: PropertyValue = serde_json::from_value(v.clone()).unwrap();
        assert!(
            matches!(p.data, PropertyData::Formula(ref f) if !matches!(f, FormulaResult::Unknown{..}))
        );
        assert_eq!(serde_json::to_value(&p).unwrap(), normalize(&v));
    }
    let rollups = [
        json!({"type": "number", "number": 3, "function": "sum"}),
        json!({"type": "date", "date": {"start": "2025-01-01", "end": "2025-02-01", "time_zone": null}, "function": "date_range"}),
        json!({"type": "array", "array": [{"type": "title", "title": [{"type": "text", "text": {"content": "A", "link": null}, "annotations": {"bold": false, "italic": false, "strikethrough": false, "underline": false, "code": false, "color": "default"}, "plain_text": "A", "href": null}]}, {"type": "number", "number": 2}], "function": "show_original"}),
        json!({"type": "incomplete", "incomplete": {}, "function": "sum"}),
        json!({"type": "unsupported", "unsupported": {}, "function": "median"}),
    ];
    for r in rollups {
        let v = json!({"id": "r", "type": "rollup", "rollup": r});
        let p: PropertyValue = serde_json::from_value(v.clone()).unwrap();
        match &p.data {
            PropertyData::Rollup(r) => assert!(!matches!(r.result, RollupResult::Unknown { .. })),
            other => panic!("{other:?}"),
        }
        assert_eq!(serde_json::to_value(&p).unwrap(), normalize(&v));
    }
}

#[test]
fn doc_errata_are_rejected_or_kept_verbatim() {
    let ex = fixture("doc_errata.json");
    for label in [
        "number_value_shows_schema",
        "phone_number_value_shows_schema",
    ] {
        let (_, raw) = only(&ex[label]);
        assert!(
            serde_json::from_value::<PropertyValue>(raw.clone()).is_err(),
            "{label}: a schema shape is not a value"
        );
    }
    let (_, raw) = only(&ex["files_item_external_is_a_string"]);
    assert!(serde_json::from_value::<PropertyItemResponse>(raw.clone()).is_err());
    let (_, raw) = only(&ex["created_time_item_type_typo"]);
    let item: PropertyItemResponse = serde_json::from_value(raw.clone()).unwrap();
    match &item {
        PropertyItemResponse::Item(i) => {
            assert_eq!(i.data.type_name(), "create_time");
            // The value under the real key survives as an unmodelled field.
            assert_eq!(i.extra["created_time"], "2020-03-17T19:10:04.968Z");
        }
        other => panic!("{other:?}"),
    }
    let back = serde_json::to_value(&item).unwrap();
    assert_eq!(back["created_time"], raw["created_time"]);
    assert_eq!(back["type"], "create_time");
}
