//! The `--format json` documents of cli/README.md, field by field, for
//! every command that has one.

use plugboard_tests::{json_keys, lib_name, sorted, stderr, stdout, LineReader, PluginDir};

use super::{command, demo_app};

fn json_of(args: &[&str]) -> serde_json::Value {
    let out = demo_app(args);
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {}", stdout(&out)))
}

const LOADED_FILE: &[&str] = &[
    "path",
    "status",
    "library",
    "generation",
    "isolated",
    "protocol",
    "offered_protocols",
    "plugins",
];

const REFUSED_FILE: &[&str] = &["path", "status", "kind", "reason", "hint", "message"];

const PLUGIN: &[&str] = &[
    "name",
    "interface",
    "interface_version",
    "registered",
    "missing_methods",
    "methods",
];

const METHOD: &[&str] = &["name", "since", "signature", "available", "callable"];

/// The `--format json` documents of cli/README.md, field by field: a
/// field renamed or removed fails here.
#[test]
fn json_formats_keep_their_documented_field_names() {
    let dir = PluginDir::new();
    dir.add("compat-plugin-1_0");
    dir.add("fixture-wrong-cookie");
    let d = dir.path().to_str().unwrap();

    let list = json_of(&["list", "--plugins", d, "--format", "json"]);
    assert_eq!(
        json_keys(&list),
        sorted(&["plugins_dir", "files", "loaded", "refused"])
    );
    let loaded = &list["files"][0];
    assert_eq!(loaded["status"], "loaded");
    assert_eq!(json_keys(loaded), sorted(LOADED_FILE));
    assert_eq!(
        json_keys(&loaded["library"]),
        sorted(&["name", "version", "description"])
    );
    let plugin = &loaded["plugins"][0];
    assert_eq!(json_keys(plugin), sorted(PLUGIN));
    assert_eq!(json_keys(&plugin["methods"][0]), sorted(METHOD));
    assert_eq!(
        json_keys(&plugin["missing_methods"][0]),
        sorted(&["name", "since"])
    );
    let refused = &list["files"][1];
    assert_eq!(refused["status"], "refused");
    assert_eq!(refused["kind"], "CookieMismatch");
    assert_eq!(json_keys(refused), sorted(REFUSED_FILE));

    let check = json_of(&["check", "--plugins", d, "--format", "json"]);
    assert_eq!(
        json_keys(&check),
        sorted(&["plugins_dir", "host", "files", "ok", "failed"])
    );
    assert_eq!(
        json_keys(&check["host"]),
        sorted(&["cookie_key", "protocols", "interfaces"])
    );
    assert_eq!(
        json_keys(&check["host"]["interfaces"][0]),
        sorted(&["name", "version"])
    );
    let checked = &check["files"][0];
    assert_eq!(checked["status"], "ok");
    assert_eq!(json_keys(checked), sorted(LOADED_FILE));
    let mut checked_plugin = PLUGIN.to_vec();
    checked_plugin.push("check");
    assert_eq!(json_keys(&checked["plugins"][0]), sorted(&checked_plugin));
    assert_eq!(checked["plugins"][0]["check"], "ok");
    assert_eq!(json_keys(&check["files"][1]), sorted(REFUSED_FILE));

    let file = dir.path().join(lib_name("compat_plugin_1_0"));
    let inspect = json_of(&["inspect", "--format", "json", file.to_str().unwrap()]);
    assert_eq!(
        json_keys(&inspect),
        sorted(&[
            "path",
            "size",
            "sha256",
            "format",
            "architecture",
            "signed_by",
            "metadata",
            "verdict"
        ])
    );
    let metadata = &inspect["metadata"];
    assert_eq!(
        json_keys(metadata),
        sorted(&["abi", "cookie", "library", "target", "protocols", "plugins"])
    );
    assert_eq!(json_keys(&metadata["cookie"]), sorted(&["key", "value"]));
    assert_eq!(
        json_keys(&metadata["library"]),
        sorted(&["name", "version", "description"])
    );
    assert_eq!(
        json_keys(&metadata["plugins"][0]),
        sorted(&["protocol", "name", "interface", "interface_version"])
    );
    assert_eq!(
        json_keys(&inspect["verdict"]),
        sorted(&["loads", "protocol"])
    );
    let foreign = dir.path().join(lib_name("fixture_wrong_cookie"));
    let inspect = json_of(&["inspect", "--format", "json", foreign.to_str().unwrap()]);
    assert_eq!(
        json_keys(&inspect["verdict"]),
        sorted(&["loads", "kind", "reason"])
    );
    assert_eq!(inspect["verdict"]["kind"], "CookieMismatch");

    dir.write("garbage", b"not a library");
    let vet = json_of(&["vet", d, "--format", "json"]);
    assert_eq!(json_keys(&vet), sorted(&["dir", "files", "ok", "refused"]));
    let vetted = vet["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["status"] == "ok")
        .expect("a file passes");
    assert_eq!(
        json_keys(vetted),
        sorted(&["path", "status", "sha256", "library", "signed_by"])
    );
    assert_eq!(json_keys(&vetted["library"]), sorted(&["name", "version"]));
    let garbage = vet["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["status"] == "refused")
        .expect("the garbage file is refused");
    assert_eq!(json_keys(garbage), sorted(REFUSED_FILE));

    // `call`: one compact JSON value per line, one line per call.
    let out = demo_app(&[
        "call",
        "--plugins",
        d,
        "greeter-1.0",
        "greet",
        "\"A\"",
        "greet",
        "\"B\"",
    ]);
    assert_eq!(
        stdout(&out),
        "\"1.0 says hello, A\"\n\"1.0 says hello, B\"\n",
        "{}",
        stderr(&out)
    );
}

/// `watch --format json`: one JSON object per line, per event.
#[test]
fn watch_json_events_keep_their_documented_field_names() {
    let dir = PluginDir::new();
    let file = dir.add("greeter");
    let mut watch = LineReader::spawn(command(&[
        "watch",
        "--format",
        "json",
        "--plugins",
        dir.path().to_str().unwrap(),
    ]));
    let added: serde_json::Value = serde_json::from_str(&watch.next_line("{")).unwrap();
    assert_eq!(json_keys(&added), sorted(&["event", "file"]));
    assert_eq!(added["event"], "added");
    assert_eq!(json_keys(&added["file"]), sorted(LOADED_FILE));
    std::fs::remove_file(&file).unwrap();
    let removed: serde_json::Value = serde_json::from_str(&watch.next_line("{")).unwrap();
    assert_eq!(
        json_keys(&removed),
        sorted(&["event", "path", "library", "generation"])
    );
    assert_eq!(removed["event"], "removed");
}
