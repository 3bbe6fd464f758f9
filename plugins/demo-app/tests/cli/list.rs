//! `list`: one line (or one JSON object) per file in the plugins folder.

use plugboard_tests::{demo_dir, stderr, stdout, PluginDir};

use super::demo_app;

#[test]
fn list_prints_one_line_per_file_and_fails_when_one_is_refused() {
    let dir = demo_dir();
    let d = dir.path().to_str().unwrap();
    let out = demo_app(&["list", "--plugins", d]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 5, "{text}");
    assert!(text.contains("greeter (Greeter 1.1.0)"), "{text}");
    assert!(
        text.contains("pirate-greeter (Greeter 1.1.0), scratch (KeyValue 1.0.0)"),
        "{text}"
    );

    let bad = dir.add("fixture-wrong-cookie");
    let out = demo_app(&["list", "--plugins", d]);
    assert_eq!(out.status.code(), Some(1), "a refused file fails `list`");
    let text = stdout(&out);
    let refused = text
        .lines()
        .find(|l| l.starts_with("refused"))
        .expect("a refused line");
    assert!(
        refused.contains(&bad.display().to_string()) && refused.contains("magic cookie mismatch"),
        "{refused}"
    );
    assert!(!refused.contains("rebuild"), "no wrong advice: {refused}");
}

#[test]
fn an_empty_folder_says_so_and_a_missing_one_is_an_error() {
    let dir = PluginDir::new();
    let out = demo_app(&["list", "--plugins", dir.path().to_str().unwrap()]);
    assert!(out.status.success());
    assert!(
        stdout(&out).starts_with("no plugin files"),
        "{}",
        stdout(&out)
    );
    let out = demo_app(&["check", "--plugins", dir.path().to_str().unwrap()]);
    assert!(
        stdout(&out).starts_with("no plugin files"),
        "{}",
        stdout(&out)
    );

    let out = demo_app(&["list", "--plugins", "/no/such/plugins/folder"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("cannot read the plugins folder"), "{err}");
    assert!(
        err.contains("--plugins"),
        "the command line adds its hint: {err}"
    );
}

#[test]
fn list_json_shows_each_plugins_methods_and_whether_it_has_them() {
    let dir = PluginDir::new();
    dir.add("compat-plugin-1_0");
    let out = demo_app(&[
        "list",
        "--plugins",
        dir.path().to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let plugin = &doc["files"][0]["plugins"][0];
    assert_eq!(plugin["name"], "greeter-1.0");
    assert_eq!(plugin["registered"], true);
    let methods = plugin["methods"].as_array().unwrap();
    let summary: Vec<(String, bool)> = methods
        .iter()
        .map(|m| {
            (
                m["name"].as_str().unwrap().to_owned(),
                m["available"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [("greet".to_owned(), true), ("shout".to_owned(), false)]
    );
    assert_eq!(methods[0]["callable"], true);
}

/// `list --isolate kv --format json` over `dir`: the output and its files.
fn list_isolating_kv(dir: &PluginDir) -> (std::process::Output, Vec<serde_json::Value>) {
    let d = dir.path().to_str().unwrap();
    let out = demo_app(&[
        "list",
        "--isolate",
        "kv",
        "--format",
        "json",
        "--plugins",
        d,
    ]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let files = json["files"].as_array().expect("files").clone();
    (out, files)
}

#[test]
fn list_with_isolate_marks_the_isolated_files() {
    let dir = demo_dir();
    let (out, files) = list_isolating_kv(&dir);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    for file in &files {
        let isolated = file["plugins"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "kv");
        assert_eq!(file["isolated"], isolated, "{file}");
    }
}

#[cfg(unix)]
#[test]
fn output_to_a_reader_that_has_gone_ends_the_program_quietly() {
    use std::os::unix::process::ExitStatusExt;

    let dir = demo_dir();
    // A pipe whose reading end is closed before the program starts: its
    // first write finds no reader (as with `demo-app list | head -0`).
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    let out = super::command(&["list", "--plugins", dir.path().to_str().unwrap()])
        .stdout(writer)
        .output()
        .expect("run demo-app");
    assert_eq!(
        out.status.signal(),
        Some(SIGPIPE),
        "ended by SIGPIPE, not a panic: {:?} {}",
        out.status,
        stderr(&out)
    );
    assert!(out.stderr.is_empty(), "{}", stderr(&out));
}

/// SIGPIPE's number (13 on every Unix plugboard runs on).
#[cfg(unix)]
const SIGPIPE: i32 = 13;
