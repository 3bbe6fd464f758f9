//! `demo-app`, the demo application's command line (`plugboard_cli::run`
//! with its host configuration), run as a process on real plugin libraries.
//!
//! Longer than 400 lines: one or two tests per command, sharing the helpers
//! below; issue 18's attacks are in `cli/attacks.rs`.

use std::process::{Command, Output};

use plugboard_tests::{lib_name, library, LineReader, PluginDir};

#[path = "cli/attacks.rs"]
mod attacks;

fn demo_app(args: &[&str]) -> Output {
    command(args).output().expect("run demo-app")
}

fn command(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_demo-app"));
    command
        .args(args)
        .env_remove("PLUGBOARD_PLUGINS")
        .env_remove("RUST_LOG");
    command
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn demo_dir() -> PluginDir {
    let dir = PluginDir::new();
    for p in ["greeter", "greeter-formal", "kv", "toolbox", "counter"] {
        dir.add(p);
    }
    dir
}

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
fn call_takes_json_arguments_and_prints_json_results() {
    let dir = demo_dir();
    let d = dir.path().to_str().unwrap();
    let out = demo_app(&["call", "--plugins", d, "greeter", "greet", "\"Logan\""]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "\"Hello, Logan!\"\n");

    let out = demo_app(&[
        "call",
        "--plugins",
        d,
        "--format",
        "text",
        "greeter",
        "greet",
        "\"Logan\"",
    ]);
    assert_eq!(stdout(&out), "Hello, Logan!\n");
}

#[test]
fn several_calls_run_on_one_object() {
    let dir = demo_dir();
    let d = dir.path().to_str().unwrap();
    let out = demo_app(&[
        "call",
        "--plugins",
        d,
        "kv",
        "put",
        "\"k\"",
        "\"v\"",
        "get",
        "\"k\"",
        "list",
        "delete",
        "\"k\"",
        "get",
        "\"k\"",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "null\n\"v\"\n[\"k\"]\ntrue\nnull\n");
}

#[test]
fn a_plugin_calls_back_into_the_applications_service() {
    let dir = demo_dir();
    let d = dir.path().to_str().unwrap();
    let out = demo_app(&[
        "call",
        "--plugins",
        d,
        "counter",
        "add",
        "\"k\"",
        "5",
        "add",
        "\"k\"",
        "7",
        "get",
        "\"k\"",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "5\n12\n12\n");
}

#[test]
fn plugins_folder_comes_from_the_environment() {
    let dir = demo_dir();
    let out = command(&["call", "formal-greeter", "greet", "\"Ada\""])
        .env("PLUGBOARD_PLUGINS", dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "\"Good day to you, Ada.\"\n");
}

#[test]
fn errors_are_one_line_on_stderr_with_documented_exit_codes() {
    let dir = demo_dir();
    let d = dir.path().to_str().unwrap();
    for (args, code, expected) in [
        (
            vec!["call", "--plugins", d, "nope", "greet", "\"x\""],
            1,
            "no plugin named `nope` is loaded; available:",
        ),
        (
            vec!["call", "--plugins", d, "greeter", "greet", "Logan"],
            2,
            "is not a JSON value",
        ),
        (
            vec!["call", "--plugins", d, "kv", "put", "\"k\""],
            2,
            "takes 2 argument(s)",
        ),
        (
            vec!["call", "--plugins", d, "formal-greeter", "shout", "\"x\""],
            1,
            "this greeter does not shout",
        ),
        (vec!["frobnicate"], 2, "unrecognized subcommand"),
    ] {
        let out = demo_app(&args);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains(expected), "{args:?}: {err}");
        assert!(stdout(&out).is_empty(), "{args:?}: errors go to stderr");
        assert!(!err.contains("panicked"), "{err}");
    }
    // A wrong method lists the interface's methods with their signatures.
    let out = demo_app(&["call", "--plugins", d, "greeter", "wave"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("fn greet(&self, name: &str) -> Result<String, PluginError>"),
        "{}",
        stderr(&out)
    );
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

#[test]
fn plugin_log_lines_reach_the_cli_tagged_with_the_plugin_name() {
    let dir = demo_dir();
    let d = dir.path().to_str().unwrap();
    let out = command(&["call", "--plugins", d, "greeter", "greet", "\"X\""])
        .env("RUST_LOG", "debug")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "\"Hello, X!\"\n");
    let err = stderr(&out);
    assert!(
        err.contains("plugin::greeter::greeter] greeting X"),
        "{err}"
    );

    // Filtered per plugin, like any other target.
    let out = command(&["call", "--plugins", d, "greeter", "greet", "\"X\""])
        .env("RUST_LOG", "warn,plugin::kv=debug")
        .output()
        .unwrap();
    let err = stderr(&out);
    assert!(!err.contains("greeting X"), "{err}");
    assert!(
        err.contains("plugin::kv::kv] kv loaded by demo-app"),
        "{err}"
    );
}

#[test]
fn inspect_shows_the_metadata_and_the_verdict_without_running_the_library() {
    let dir = PluginDir::new();
    let file = dir.add("fixture-marker");
    let marker = dir.path().join("constructor-ran");
    let out = command(&["inspect", file.to_str().unwrap()])
        .env(plugboard_tests::MARKER_VARIABLE, &marker)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    for needle in [
        "library:      fixture-marker 0.1.0: Test fixture",
        "cookie PLUGBOARD_DEMO_PLUGIN=6f1c2a9e-greeter-kv-demo",
        "plugin:       marked (Greeter 1.1.0, protocol 1)",
        "verdict:      demo-app would load it (protocol 1)",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
    assert!(!marker.exists(), "inspect ran the library's constructor");

    let foreign = dir.add("fixture-wrong-cookie");
    let out = demo_app(&["inspect", foreign.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("verdict:      refused:"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn keygen_sign_and_load_with_a_trusted_key() {
    let keys = tempfile::tempdir().unwrap();
    let out = demo_app(&["keygen", "--out", keys.path().to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let secret = keys.path().join("plugboard.key");
    let public = keys.path().join("plugboard.pub");

    let dir = demo_dir();
    let d = dir.path().to_str().unwrap();
    let greeter = dir.path().join(lib_name("greeter"));
    let call = [
        "call",
        "--plugins",
        d,
        "--trusted-key",
        public.to_str().unwrap(),
        "greeter",
        "greet",
        "\"X\"",
    ];

    let out = demo_app(&call);
    assert_eq!(out.status.code(), Some(1), "unsigned: refused");

    let out = demo_app(&[
        "sign",
        "--key",
        secret.to_str().unwrap(),
        greeter.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = demo_app(&call);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "\"Hello, X!\"\n");

    // One byte changed: refused, with the reason in `list`.
    let mut bytes = std::fs::read(&greeter).unwrap();
    bytes[10_000] ^= 0xff;
    std::fs::write(&greeter, bytes).unwrap();
    assert_eq!(demo_app(&call).status.code(), Some(1));
    let text = stdout(&demo_app(&[
        "list",
        "--plugins",
        d,
        "--trusted-key",
        public.to_str().unwrap(),
    ]));
    let line = text
        .lines()
        .find(|l| l.contains(&lib_name("greeter")))
        .unwrap();
    assert!(
        line.starts_with("refused") && line.contains("bad signature"),
        "{line}"
    );
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

#[test]
fn watch_prints_a_line_for_a_copy_an_overwrite_and_a_delete() {
    let dir = PluginDir::new();
    // Copied straight from cargo's output, whose modes follow the umask.
    let mut watch = LineReader::spawn(command(&[
        "watch",
        "--no-strict-permissions",
        "--plugins",
        dir.path().to_str().unwrap(),
    ]));
    watch.next_line("watching");
    let file = dir.path().join(lib_name("greeter"));
    std::fs::copy(library("greeter"), &file).unwrap();
    assert!(watch.next_line("added").contains("[generation 1]"));
    std::fs::copy(library("fixture-greeter-next"), &file).unwrap();
    assert!(watch
        .next_line("updated")
        .contains("[generation 2, replaces 1]"));
    std::fs::remove_file(&file).unwrap();
    assert!(watch.next_line("removed").contains("generation 2"));
}

/// A file loaded at start-up under a relative folder name, then overwritten:
/// the watcher reports it under an absolute path, and it must still be the
/// same file (an update), not a second library with the same plugin name.
#[test]
fn watch_updates_a_file_loaded_at_start_under_a_relative_folder() {
    let dir = demo_dir();
    let mut cmd = command(&["watch", "--no-strict-permissions", "--plugins"]);
    cmd.arg(dir.path().file_name().unwrap())
        .current_dir(dir.path().parent().unwrap());
    let mut watch = LineReader::spawn(cmd);
    watch.next_line("watching");
    std::fs::copy(
        library("fixture-greeter-next"),
        dir.path().join(lib_name("greeter")),
    )
    .unwrap();
    let updated = watch.next_line("updated");
    assert!(updated.contains("[generation 2, replaces 1]"), "{updated}");
}

#[test]
fn every_command_has_help_with_an_example() {
    for command in [
        "list", "check", "inspect", "call", "watch", "vet", "keygen", "sign", "verify",
    ] {
        let out = demo_app(&[command, "--help"]);
        assert!(out.status.success());
        let text = stdout(&out);
        assert!(
            text.contains(&format!("demo-app {command}")),
            "{command} --help has an example: {text}"
        );
    }
}

/// Unix only, as isolation is (on Windows an isolated load is refused:
/// tests/suite/tests/isolation_windows.rs).
#[cfg(unix)]
#[test]
fn call_with_isolate_all_gives_the_same_output_as_in_process() {
    let dir = demo_dir();
    let d = dir.path().to_str().unwrap();
    let calls: &[&[&str]] = &[
        &["greeter", "greet", "\"World\""],
        &["formal-greeter", "greet", "\"World\""],
        &[
            "kv", "put", "\"lang\"", "\"rust\"", "get", "\"lang\"", "list",
        ],
        &[
            "counter",
            "add",
            "\"visits\"",
            "40",
            "add",
            "\"visits\"",
            "2",
        ],
        &["greeter", "shout", "\"World\""],
        // A plugin's own error: the same message and exit code.
        &["pirate-greeter", "shout", "\"World\""],
    ];
    for call in calls {
        let in_process = demo_app(&[&["call", "--plugins", d], *call].concat());
        let isolated = demo_app(&[&["call", "--isolate", "all", "--plugins", d], *call].concat());
        assert_eq!(isolated.status.code(), in_process.status.code(), "{call:?}");
        assert_eq!(stdout(&isolated), stdout(&in_process), "{call:?}");
        assert_eq!(stderr(&isolated), stderr(&in_process), "{call:?}");
    }
}

/// Unix only, as isolation is.
#[cfg(unix)]
#[test]
fn list_with_isolate_marks_the_isolated_files() {
    let dir = demo_dir();
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
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let files = json["files"].as_array().expect("files");
    for file in files {
        let isolated = file["plugins"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "kv");
        assert_eq!(file["isolated"], isolated, "{file}");
    }
}

/// The field names of a JSON object, sorted.
fn keys(value: &serde_json::Value) -> Vec<&str> {
    let mut keys: Vec<&str> = value
        .as_object()
        .unwrap_or_else(|| panic!("an object: {value}"))
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    keys
}

fn sorted<'a>(names: &[&'a str]) -> Vec<&'a str> {
    let mut names = names.to_vec();
    names.sort_unstable();
    names
}

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
        keys(&list),
        sorted(&["plugins_dir", "files", "loaded", "refused"])
    );
    let loaded = &list["files"][0];
    assert_eq!(loaded["status"], "loaded");
    assert_eq!(keys(loaded), sorted(LOADED_FILE));
    assert_eq!(
        keys(&loaded["library"]),
        sorted(&["name", "version", "description"])
    );
    let plugin = &loaded["plugins"][0];
    assert_eq!(keys(plugin), sorted(PLUGIN));
    assert_eq!(keys(&plugin["methods"][0]), sorted(METHOD));
    assert_eq!(
        keys(&plugin["missing_methods"][0]),
        sorted(&["name", "since"])
    );
    let refused = &list["files"][1];
    assert_eq!(refused["status"], "refused");
    assert_eq!(refused["kind"], "CookieMismatch");
    assert_eq!(keys(refused), sorted(REFUSED_FILE));

    let check = json_of(&["check", "--plugins", d, "--format", "json"]);
    assert_eq!(
        keys(&check),
        sorted(&["plugins_dir", "host", "files", "ok", "failed"])
    );
    assert_eq!(
        keys(&check["host"]),
        sorted(&["cookie_key", "protocols", "interfaces"])
    );
    assert_eq!(
        keys(&check["host"]["interfaces"][0]),
        sorted(&["name", "version"])
    );
    let checked = &check["files"][0];
    assert_eq!(checked["status"], "ok");
    assert_eq!(keys(checked), sorted(LOADED_FILE));
    let mut checked_plugin = PLUGIN.to_vec();
    checked_plugin.push("check");
    assert_eq!(keys(&checked["plugins"][0]), sorted(&checked_plugin));
    assert_eq!(checked["plugins"][0]["check"], "ok");
    assert_eq!(keys(&check["files"][1]), sorted(REFUSED_FILE));

    let file = dir.path().join(lib_name("compat_plugin_1_0"));
    let inspect = json_of(&["inspect", "--format", "json", file.to_str().unwrap()]);
    assert_eq!(
        keys(&inspect),
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
        keys(metadata),
        sorted(&["abi", "cookie", "library", "target", "protocols", "plugins"])
    );
    assert_eq!(keys(&metadata["cookie"]), sorted(&["key", "value"]));
    assert_eq!(
        keys(&metadata["library"]),
        sorted(&["name", "version", "description"])
    );
    assert_eq!(
        keys(&metadata["plugins"][0]),
        sorted(&["protocol", "name", "interface", "interface_version"])
    );
    assert_eq!(keys(&inspect["verdict"]), sorted(&["loads", "protocol"]));
    let foreign = dir.path().join(lib_name("fixture_wrong_cookie"));
    let inspect = json_of(&["inspect", "--format", "json", foreign.to_str().unwrap()]);
    assert_eq!(
        keys(&inspect["verdict"]),
        sorted(&["loads", "kind", "reason"])
    );
    assert_eq!(inspect["verdict"]["kind"], "CookieMismatch");

    dir.write("garbage", b"not a library");
    let vet = json_of(&["vet", d, "--format", "json"]);
    assert_eq!(keys(&vet), sorted(&["dir", "files", "ok", "refused"]));
    let vetted = vet["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["status"] == "ok")
        .expect("a file passes");
    assert_eq!(
        keys(vetted),
        sorted(&["path", "status", "sha256", "library", "signed_by"])
    );
    assert_eq!(keys(&vetted["library"]), sorted(&["name", "version"]));
    let garbage = vet["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["status"] == "refused")
        .expect("the garbage file is refused");
    assert_eq!(keys(garbage), sorted(REFUSED_FILE));

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
    assert_eq!(keys(&added), sorted(&["event", "file"]));
    assert_eq!(added["event"], "added");
    assert_eq!(keys(&added["file"]), sorted(LOADED_FILE));
    std::fs::remove_file(&file).unwrap();
    let removed: serde_json::Value = serde_json::from_str(&watch.next_line("{")).unwrap();
    assert_eq!(
        keys(&removed),
        sorted(&["event", "path", "library", "generation"])
    );
    assert_eq!(removed["event"], "removed");
}
