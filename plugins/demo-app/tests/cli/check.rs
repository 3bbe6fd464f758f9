//! `check`: the application's compatibility report on a plugins folder,
//! with a checksum allowlist too.

use plugboard_tests::{demo_dir, lib_name, stderr, stdout, PluginDir};

use super::demo_app;

/// `check` is this application's compatibility report: its verdicts on
/// the compat fixtures are the Greeter 1.1 row of the matrix in
/// tests/suite/tests/compat.rs.
#[test]
fn check_reports_the_compat_fixtures_like_the_matrix() {
    let dir = PluginDir::new();
    for p in [
        "compat-plugin-1_0",
        "compat-plugin-1_1",
        "compat-plugin-2_0",
        "compat-plugin-1_0-silent",
    ] {
        dir.add(p);
    }
    let d = dir.path().to_str().unwrap();
    let out = demo_app(&["check", "--plugins", d]);
    assert_eq!(out.status.code(), Some(1), "not every file passes");
    let text = stdout(&out);
    let line = |needle: &str| {
        text.lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no line for {needle}: {text}"))
            .to_owned()
    };
    assert!(line(&lib_name("compat_plugin_1_0")).starts_with("ok "));
    assert!(line(&lib_name("compat_plugin_1_0"))
        .contains("optional methods missing: shout (since 1.1.0)"));
    assert!(line(&lib_name("compat_plugin_1_1")).starts_with("ok "));
    assert!(line(&lib_name("compat_plugin_2_0")).starts_with("refused "));
    assert!(line(&lib_name("compat_plugin_1_0_silent")).starts_with("refused "));
    assert!(text.contains("4 file(s): 2 ok, 2 failed"), "{text}");

    let out = demo_app(&["check", "--plugins", d, "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    let file = |name: &str| {
        doc["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"].as_str().unwrap().ends_with(name))
            .unwrap()
            .clone()
    };
    let old = file(&lib_name("compat_plugin_1_0"));
    assert_eq!(old["status"], "ok");
    assert_eq!(old["protocol"], 1);
    assert_eq!(old["plugins"][0]["check"], "ok");
    assert_eq!(old["plugins"][0]["missing_methods"][0]["name"], "shout");
    let methods = &old["plugins"][0]["methods"];
    assert_eq!(methods[0]["name"], "greet");
    assert_eq!(methods[0]["available"], true);
    assert_eq!(methods[1]["name"], "shout");
    assert_eq!(methods[1]["since"], "1.1.0");
    assert_eq!(methods[1]["available"], false);
    assert_eq!(file(&lib_name("compat_plugin_1_1"))["status"], "ok");
    assert_eq!(
        file(&lib_name("compat_plugin_2_0"))["kind"],
        "IncompatibleVersion"
    );
    assert_eq!(
        file(&lib_name("compat_plugin_1_0_silent"))["kind"],
        "LayoutMismatch"
    );
    assert_eq!(doc["ok"], 2);
    assert_eq!(doc["failed"], 2);
    assert_eq!(doc["host"]["interfaces"][0]["name"], "Greeter");
}

#[test]
fn check_fails_a_plugin_of_an_interface_the_application_does_not_use() {
    // The root-next fixture carries the demo's cookie but implements `Ping`.
    let dir = demo_dir();
    dir.add("compat-plugin-root-next");
    let out = demo_app(&["check", "--plugins", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    let line = text
        .lines()
        .find(|l| l.contains(&lib_name("compat_plugin_root_next")))
        .unwrap();
    assert!(
        line.starts_with("failed")
            && line.contains("Ping 1.0.0, which this application does not use"),
        "{line}"
    );
}

#[test]
fn check_passes_when_every_file_loads() {
    let dir = demo_dir();
    let out = demo_app(&["check", "--plugins", dir.path().to_str().unwrap()]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("5 file(s): 5 ok, 0 failed"));
}

#[test]
fn a_checksum_allowlist_is_enforced() {
    let dir = demo_dir();
    let d = dir.path().to_str().unwrap();
    let sums_dir = tempfile::tempdir().unwrap();
    let sums = sums_dir.path().join("SHA256SUMS");
    let inspect = demo_app(&[
        "inspect",
        "--format",
        "json",
        dir.path().join(lib_name("greeter")).to_str().unwrap(),
    ]);
    let doc: serde_json::Value = serde_json::from_slice(&inspect.stdout).unwrap();
    std::fs::write(
        &sums,
        format!(
            "{}  {}\n",
            doc["sha256"].as_str().unwrap(),
            lib_name("greeter")
        ),
    )
    .unwrap();

    let out = demo_app(&[
        "check",
        "--plugins",
        d,
        "--checksums",
        sums.to_str().unwrap(),
    ]);
    let text = stdout(&out);
    assert!(
        text.lines()
            .any(|l| l.starts_with("ok") && l.contains(&lib_name("greeter"))),
        "{text}"
    );
    assert!(
        text.lines().any(|l| l.starts_with("refused")
            && l.contains(&lib_name("kv"))
            && l.contains("not in the checksum allowlist")),
        "{text}"
    );
    assert_eq!(out.status.code(), Some(1));
}
