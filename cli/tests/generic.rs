//! The generic `plugboard` binary: tools that need no application, run on
//! real plugin files (of the demo application and of others).

use std::{
    path::Path,
    process::{Command, Output},
};

use plugboard_host::LIBRARY_EXTENSION;
use plugboard_tests::{json_keys, lib_name, sorted, stdout, PluginDir};

#[path = "generic/attacks.rs"]
mod attacks;

fn plugboard(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_plugboard"))
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("run plugboard")
}

#[test]
fn inspect_reads_any_plugin_file_without_running_it() {
    let dir = PluginDir::new();
    // A plugin of another application: no handshake to match here.
    let file = dir.add("fixture-wrong-cookie");
    let marker = dir.path().join("constructor-ran");
    let marked = dir.add("fixture-marker");
    let out = plugboard(&["inspect", file.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = stdout(&out);
    assert!(
        text.contains("cookie OTHER_APP_PLUGIN=not-the-demo"),
        "{text}"
    );
    assert!(
        text.contains("plugin:       other-greeter (Greeter 1.1.0, protocol 1)"),
        "{text}"
    );
    assert!(text.contains("sha256:       "), "{text}");
    assert!(
        !text.contains("verdict"),
        "no application, no verdict: {text}"
    );

    let out = Command::new(env!("CARGO_BIN_EXE_plugboard"))
        .args(["inspect", "--format", "json", marked.to_str().unwrap()])
        .env(plugboard_tests::MARKER_VARIABLE, &marker)
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["metadata"]["plugins"][0]["name"], "marked");
    assert_eq!(doc["metadata"]["cookie"]["key"], "PLUGBOARD_DEMO_PLUGIN");
    assert_eq!(doc["sha256"].as_str().map(str::len), Some(64));
    assert!(!marker.exists(), "inspect ran the library's constructor");
}

#[test]
fn inspect_of_a_file_without_a_description_prints_no_dangling_dash() {
    let dir = PluginDir::new();
    let file = dir.add("compat-plugin-root-next");
    let out = plugboard(&["inspect", file.to_str().unwrap()]);
    let text = stdout(&out);
    let line = text.lines().find(|l| l.starts_with("library:")).unwrap();
    assert!(
        !line.contains('—') && !line.trim_end().ends_with(':'),
        "{line}"
    );
}

#[test]
fn vet_reports_every_file_of_a_folder_and_fails_on_a_refusal() {
    let dir = PluginDir::new();
    dir.add("greeter");
    dir.add("fixture-wrong-cookie");
    let out = plugboard(&["vet", dir.path().to_str().unwrap()]);
    assert!(
        out.status.success(),
        "a foreign cookie is not a vet refusal: {}",
        stdout(&out)
    );
    assert_eq!(
        stdout(&out).lines().filter(|l| l.starts_with("ok")).count(),
        2
    );

    dir.add("fixture-not-a-plugin");
    dir.write("garbage", b"not a library");
    let out = plugboard(&["vet", dir.path().to_str().unwrap(), "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["ok"], 2);
    assert_eq!(doc["refused"], 2);
    // Files are reported in sorted order, which depends on the platform's
    // library names (`libfixture_not_a_plugin.so`, `fixture_not_a_plugin.dll`).
    let refusals: Vec<(String, &str)> = doc["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| {
            let name = Path::new(f["path"].as_str()?).file_name()?;
            Some((name.to_string_lossy().into_owned(), f["kind"].as_str()?))
        })
        .collect();
    let mut expected = [
        (format!("garbage.{LIBRARY_EXTENSION}"), "NotALibrary"),
        (lib_name("fixture-not-a-plugin"), "NotAPlugin"),
    ];
    expected.sort();
    assert_eq!(refusals, expected);
}

#[test]
fn keygen_sign_and_verify() {
    let keys = tempfile::tempdir().unwrap();
    assert!(
        plugboard(&["keygen", "--out", keys.path().to_str().unwrap()])
            .status
            .success()
    );
    let secret = keys.path().join("plugboard.key");
    let public = keys.path().join("plugboard.pub");
    let dir = PluginDir::new();
    let file = dir.add("greeter");
    let f = file.to_str().unwrap();
    assert!(plugboard(&["sign", "--key", secret.to_str().unwrap(), f])
        .status
        .success());
    let out = plugboard(&["verify", "--key", public.to_str().unwrap(), f]);
    assert!(out.status.success(), "{}", stdout(&out));
    assert!(stdout(&out).starts_with("good"));

    let mut bytes = std::fs::read(&file).unwrap();
    bytes[5000] ^= 1;
    std::fs::write(&file, bytes).unwrap();
    let out = plugboard(&["verify", "--key", public.to_str().unwrap(), f]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).starts_with("bad"), "{}", stdout(&out));
}

#[test]
fn usage_errors_exit_with_two() {
    assert_eq!(
        plugboard(&["list"]).status.code(),
        Some(2),
        "no application: no list"
    );
    assert_eq!(plugboard(&["inspect"]).status.code(), Some(2));
}

#[test]
fn every_command_has_help_with_an_example() {
    for command in ["inspect", "vet", "keygen", "sign", "verify"] {
        let out = plugboard(&[command, "--help"]);
        assert!(out.status.success());
        let text = stdout(&out);
        assert!(
            text.contains(&format!("Example:\n  plugboard {command}")),
            "{command} --help has an example: {text}"
        );
    }
}

/// `plugboard inspect` and `vet` as documented in cli/README.md: without an
/// application, `inspect` has no verdict.
#[test]
fn json_formats_keep_their_documented_field_names() {
    let dir = PluginDir::new();
    let file = dir.add("greeter");
    dir.write("garbage", b"not a library");

    let out = plugboard(&["inspect", "--format", "json", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stdout(&out));
    let inspect: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        json_keys(&inspect),
        sorted(&[
            "path",
            "size",
            "sha256",
            "format",
            "architecture",
            "signed_by",
            "metadata"
        ])
    );
    assert_eq!(
        json_keys(&inspect["metadata"]),
        sorted(&["abi", "cookie", "library", "target", "protocols", "plugins"])
    );

    let out = plugboard(&["vet", "--format", "json", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let vet: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json_keys(&vet), sorted(&["dir", "files", "ok", "refused"]));
    let statuses: Vec<(&str, Vec<&str>)> = vet["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["status"].as_str().unwrap(), json_keys(f)))
        .collect();
    assert_eq!(
        statuses,
        [
            (
                "refused",
                sorted(&["path", "status", "kind", "reason", "hint", "message"])
            ),
            (
                "ok",
                sorted(&["path", "status", "sha256", "library", "signed_by"])
            ),
        ]
    );
}
