//! The emulator started from plain (non-async) code, and seeded from a fixture file.

use notionfs::emulator::{Emulator, EmulatorConfig, Seed, DEMO_TOKEN};
use serde_json::Value;

fn get(rt: &tokio::runtime::Runtime, url: String, token: &str) -> (u16, Value) {
    rt.block_on(async {
        let r = reqwest::Client::new()
            .get(url)
            .bearer_auth(token)
            .header("Notion-Version", "2025-09-03")
            .send()
            .await
            .expect("request");
        let status = r.status().as_u16();
        (status, r.json().await.expect("json"))
    })
}

#[test]
fn start_blocking_serves_without_an_async_test() {
    let emu = Emulator::start_blocking(EmulatorConfig::default()).expect("start");
    assert_eq!(emu.token(), DEMO_TOKEN);
    assert!(emu.base_url().starts_with("http://127.0.0.1:"));
    // a separate client runtime, as a FUSE test thread would have
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    let (status, body) = get(&rt, format!("{}/v1/users/me", emu.base_url()), emu.token());
    assert_eq!(status, 200);
    assert_eq!(body["bot"]["workspace_name"], "Acme Engineering");
    assert_eq!(emu.control().calls("GET /v1/users/me"), 1);
    let base = emu.base_url();
    drop(emu);
    let gone = rt.block_on(async {
        reqwest::Client::new()
            .get(format!("{base}/v1/users/me"))
            .send()
            .await
    });
    assert!(
        gone.is_err(),
        "the server stops when the emulator is dropped"
    );
}

#[test]
fn seed_file_and_custom_token() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("seed.json");
    std::fs::write(&path, include_str!("../src/emulator/seed_example.json")).expect("write");
    let seed = Seed::from_file(&path).expect("seed parses");
    let cfg = EmulatorConfig {
        token: "ntn_custom".into(),
        seed,
        ..EmulatorConfig::default()
    };
    let emu = Emulator::start_blocking(cfg).expect("start");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    let (status, body) = get(&rt, format!("{}/v1/users/me", emu.base_url()), "ntn_custom");
    assert_eq!(status, 200);
    assert_eq!(body["bot"]["workspace_name"], "Example Co");
    let (status, body) = get(
        &rt,
        format!(
            "{}/v1/blocks/0e0e0e0e000040008000000000000101/children",
            emu.base_url()
        ),
        "ntn_custom",
    );
    assert_eq!(status, 200);
    let types: Vec<&str> = body["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter_map(|b| b["type"].as_str())
        .collect();
    assert_eq!(types, ["heading_1", "paragraph", "child_database", "file"]);
    let (status, _) = get(&rt, format!("{}/v1/users/me", emu.base_url()), DEMO_TOKEN);
    assert_eq!(status, 401);
    assert!(Seed::from_json("{\"workspace_name\": 1}").is_err());
}

#[test]
fn handles_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Emulator>();
    check::<notionfs::emulator::Control>();
    check::<EmulatorConfig>();
}
