//! The `plugboard` CLI, run as a process against real plugin libraries.

use std::process::{Command, Output};

use plugboard_tests::PluginDir;

fn plugboard(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_plugboard"))
        .args(args)
        .env_remove("PLUGBOARD_PLUGINS")
        .env_remove("RUST_LOG")
        .output()
        .expect("run plugboard")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn demo_dir() -> PluginDir {
    let dir = PluginDir::new();
    for p in ["greeter", "greeter-formal", "kv", "toolbox"] {
        dir.add(p);
    }
    dir
}

#[test]
fn list_prints_one_line_per_file_with_entries_and_reasons() {
    let dir = demo_dir();
    let bad = dir.add("fixture-wrong-cookie");
    let out = plugboard(&["list", "--plugins", dir.path().to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 5, "{text}");
    assert!(text.contains("greeter (Greeter 1.1.0)"), "{text}");
    assert!(
        text.contains("pirate-greeter (Greeter 1.1.0), scratch (KeyValue 1.0.0)"),
        "{text}"
    );
    let refused = text
        .lines()
        .find(|l| l.starts_with("refused"))
        .expect("a refused line");
    assert!(
        refused.contains(&bad.display().to_string()) && refused.contains("magic cookie mismatch")
    );
}

#[test]
fn call_greets() {
    let dir = demo_dir();
    let out = plugboard(&[
        "call",
        "--plugins",
        dir.path().to_str().unwrap(),
        "greeter",
        "greet",
        "World",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "Hello, World!\n");
}

#[test]
fn call_shout_and_a_plugin_that_keeps_the_default() {
    let dir = demo_dir();
    let d = dir.path().to_str().unwrap();
    let out = plugboard(&["call", "--plugins", d, "greeter", "shout", "World"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "HELLO, WORLD!\n");

    let out = plugboard(&["call", "--plugins", d, "formal-greeter", "shout", "World"]);
    assert!(!out.status.success());
    assert_eq!(
        stderr(&out),
        "plugboard: error: plugin `formal-greeter` does not implement the optional method `shout`; ask its author to implement it\n"
    );
}

#[test]
fn plugins_folder_comes_from_the_environment() {
    let dir = demo_dir();
    let out = Command::new(env!("CARGO_BIN_EXE_plugboard"))
        .args(["call", "formal-greeter", "greet", "Ada"])
        .env("PLUGBOARD_PLUGINS", dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "Good day to you, Ada.\n");
}

#[test]
fn call_kv_runs_several_operations_on_one_object() {
    let dir = demo_dir();
    let d = dir.path().to_str().unwrap();
    let out = plugboard(&[
        "call",
        "--plugins",
        d,
        "kv",
        "put",
        "k",
        "v",
        "get",
        "k",
        "list",
        "delete",
        "k",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "ok\nv\nk\ndeleted\n");
}

#[test]
fn user_errors_are_one_line_and_exit_non_zero() {
    let dir = demo_dir();
    let d = dir.path().to_str().unwrap();
    for (args, expected) in [
        (
            vec!["call", "--plugins", d, "nope", "greet", "x"],
            "no plugin named `nope` is loaded; available:",
        ),
        (
            vec!["call", "--plugins", d, "kv", "get", "missing"],
            "no value for key `missing`",
        ),
        (
            vec!["call", "--plugins", d, "greeter", "wave", "x"],
            "its methods are `greet NAME` and `shout NAME`",
        ),
        (
            vec!["call", "--plugins", d, "kv", "put", "k"],
            "`put` needs 2 argument(s)",
        ),
    ] {
        let out = plugboard(&args);
        assert!(!out.status.success(), "{args:?} should fail");
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "one line for {args:?}: {err}");
        assert!(
            err.starts_with("plugboard: error: ") && err.contains(expected),
            "{args:?}: {err}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[test]
fn an_empty_or_missing_folder_is_not_a_crash() {
    let dir = PluginDir::new();
    let out = plugboard(&["list", "--plugins", dir.path().to_str().unwrap()]);
    assert!(out.status.success());
    assert!(
        stdout(&out).starts_with("no plugin files"),
        "{}",
        stdout(&out)
    );

    let out = plugboard(&["list", "--plugins", "/no/such/plugins/folder"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("cannot read the plugins folder"), "{err}");
}

/// `plugboard check` is a Greeter 1.1 host: its verdicts on the compat
/// fixtures are the 1.1 row of the matrix in tests/suite/tests/compat.rs.
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

    let out = plugboard(&["check", "--plugins", d]);
    assert_eq!(out.status.code(), Some(1), "not every file passes");
    let text = stdout(&out);
    let line = |needle: &str| {
        text.lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no line for {needle}: {text}"))
            .to_owned()
    };
    assert!(line("libcompat_plugin_1_0.so").starts_with("ok "));
    assert!(
        line("libcompat_plugin_1_0.so").contains("optional methods missing: shout (since 1.1.0)")
    );
    assert!(line("libcompat_plugin_1_1.so").starts_with("ok "));
    assert!(line("libcompat_plugin_2_0.so").starts_with("refused "));
    assert!(line("libcompat_plugin_1_0_silent.so").starts_with("refused "));
    assert!(text.contains("4 file(s): 2 ok, 2 refused"), "{text}");

    let out = plugboard(&["check", "--plugins", d, "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    let verdict = |file: &str| {
        doc["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"].as_str().unwrap().ends_with(file))
            .unwrap()
            .clone()
    };
    assert_eq!(verdict("libcompat_plugin_1_0.so")["status"], "ok");
    assert_eq!(verdict("libcompat_plugin_1_0.so")["protocol"], 1);
    assert_eq!(
        verdict("libcompat_plugin_1_0.so")["plugins"][0]["missing_methods"][0]["name"],
        "shout"
    );
    assert_eq!(verdict("libcompat_plugin_1_1.so")["status"], "ok");
    assert_eq!(
        verdict("libcompat_plugin_2_0.so")["kind"],
        "IncompatibleVersion"
    );
    assert_eq!(
        verdict("libcompat_plugin_1_0_silent.so")["kind"],
        "LayoutMismatch"
    );
    assert_eq!(doc["ok"], 2);
    assert_eq!(doc["refused"], 2);
    assert_eq!(doc["host"]["interfaces"][0]["name"], "Greeter");
}

#[test]
fn check_passes_when_every_file_loads() {
    let dir = demo_dir();
    let out = plugboard(&["check", "--plugins", dir.path().to_str().unwrap()]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("4 file(s): 4 ok, 0 refused"));
}

#[test]
fn plugin_log_lines_reach_the_cli_tagged_with_the_plugin_name() {
    let dir = demo_dir();
    let out = Command::new(env!("CARGO_BIN_EXE_plugboard"))
        .args([
            "call",
            "--plugins",
            dir.path().to_str().unwrap(),
            "greeter",
            "greet",
            "X",
        ])
        .env("RUST_LOG", "debug")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "Hello, X!\n");
    let err = stderr(&out);
    assert!(
        err.contains("plugin::greeter::greeter] greeting X"),
        "{err}"
    );

    // Filtered per plugin, like any other target.
    let out = Command::new(env!("CARGO_BIN_EXE_plugboard"))
        .args([
            "call",
            "--plugins",
            dir.path().to_str().unwrap(),
            "greeter",
            "greet",
            "X",
        ])
        .env("RUST_LOG", "warn,plugin::kv=debug")
        .output()
        .unwrap();
    let err = stderr(&out);
    assert!(!err.contains("greeting X"), "{err}");
    assert!(
        err.contains("plugin::kv::kv] kv loaded by plugboard"),
        "{err}"
    );
}

#[test]
fn call_counter_uses_the_hosts_add_helper() {
    let dir = demo_dir();
    dir.add("counter");
    let d = dir.path().to_str().unwrap();
    let out = plugboard(&[
        "call",
        "--plugins",
        d,
        "counter",
        "add",
        "k",
        "5",
        "add",
        "k",
        "7",
        "get",
        "k",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "5\n12\n12\n");
}

#[test]
fn inspect_prints_the_embedded_metadata_without_running_the_library() {
    let dir = PluginDir::new();
    let file = dir.add("fixture-marker");
    let marker = dir.path().join("constructor-ran");
    let out = Command::new(env!("CARGO_BIN_EXE_plugboard"))
        .args(["inspect", file.to_str().unwrap()])
        .env("PLUGBOARD_TEST_MARKER", &marker)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    for needle in [
        "library:      fixture-marker 0.1.0",
        "cookie PLUGBOARD_DEMO_PLUGIN=6f1c2a9e-greeter-kv-demo",
        "plugin:       marked (Greeter 1.1.0, protocol 1)",
        "built for:    x86_64-linux-gnu",
        "verdict:      this host would load it (protocol 1)",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
    assert!(!marker.exists(), "inspect ran the library's constructor");

    let out = Command::new(env!("CARGO_BIN_EXE_plugboard"))
        .args(["inspect", "--format", "json", file.to_str().unwrap()])
        .env("PLUGBOARD_TEST_MARKER", &marker)
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["metadata"]["plugins"][0]["name"], "marked");
    assert_eq!(doc["verdict"]["loads"], true);
    assert!(!marker.exists());
}

#[test]
fn inspect_of_a_foreign_plugin_shows_why_and_exits_non_zero() {
    let dir = PluginDir::new();
    let file = dir.add("fixture-wrong-cookie");
    let out = plugboard(&["inspect", file.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        stdout(&out).contains("verdict:      refused:"),
        "{}",
        stdout(&out)
    );
    assert!(stdout(&out).contains("magic cookie mismatch"));
}

#[test]
fn keygen_sign_and_load_with_a_trusted_key() {
    let keys = tempfile::tempdir().unwrap();
    let out = plugboard(&["keygen", "--out", keys.path().to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let secret = keys.path().join("plugboard.key");
    let public = keys.path().join("plugboard.pub");

    let dir = demo_dir();
    let d = dir.path().to_str().unwrap();
    let greeter = dir.path().join("libgreeter.so");
    let trusted = ["--trusted-key", public.to_str().unwrap()];

    // Unsigned: refused.
    let mut args = vec!["call", "--plugins", d];
    args.extend(trusted);
    args.extend(["greeter", "greet", "X"]);
    let out = plugboard(&args);
    assert!(!out.status.success());

    // Signed: loads.
    let out = plugboard(&[
        "sign",
        "--key",
        secret.to_str().unwrap(),
        greeter.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(dir.path().join("libgreeter.so.sig").exists());
    let out = plugboard(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "Hello, X!\n");

    // One byte changed: refused, with the reason in `list`.
    let mut bytes = std::fs::read(&greeter).unwrap();
    bytes[10_000] ^= 0xff;
    std::fs::write(&greeter, bytes).unwrap();
    let out = plugboard(&args);
    assert!(!out.status.success());
    let mut list = vec!["list", "--plugins", d];
    list.extend(trusted);
    let text = stdout(&plugboard(&list));
    let line = text.lines().find(|l| l.contains("libgreeter.so")).unwrap();
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
    let inspect = plugboard(&[
        "inspect",
        "--format",
        "json",
        dir.path().join("libgreeter.so").to_str().unwrap(),
    ]);
    let doc: serde_json::Value = serde_json::from_slice(&inspect.stdout).unwrap();
    std::fs::write(
        &sums,
        format!("{}  libgreeter.so\n", doc["sha256"].as_str().unwrap()),
    )
    .unwrap();

    let out = plugboard(&[
        "check",
        "--plugins",
        d,
        "--checksums",
        sums.to_str().unwrap(),
    ]);
    let text = stdout(&out);
    assert!(
        text.lines()
            .any(|l| l.starts_with("ok") && l.contains("libgreeter.so")),
        "{text}"
    );
    assert!(
        text.lines().any(|l| l.starts_with("refused")
            && l.contains("libkv.so")
            && l.contains("not in the checksum allowlist")),
        "{text}"
    );
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn watch_prints_a_line_for_a_copy_an_overwrite_and_a_delete() {
    use std::io::BufRead;
    use std::sync::mpsc;
    use std::time::Duration;

    let dir = PluginDir::new();
    let mut child = Command::new(env!("CARGO_BIN_EXE_plugboard"))
        // Copied straight from cargo's output, whose modes follow the umask.
        .args([
            "watch",
            "--no-strict-permissions",
            "--plugins",
            dir.path().to_str().unwrap(),
        ])
        .env_remove("RUST_LOG")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    let next_line = |prefix: &str| -> String {
        loop {
            let line = rx
                .recv_timeout(Duration::from_secs(30))
                .unwrap_or_else(|_| panic!("no `{prefix}` line within 30 s"));
            if line.starts_with(prefix) {
                return line;
            }
        }
    };

    next_line("watching");
    let file = dir.path().join("libgreeter.so");
    std::fs::copy(plugboard_tests::library("greeter"), &file).unwrap();
    assert!(next_line("added").contains("[generation 1]"));
    std::fs::copy(plugboard_tests::library("fixture-greeter-next"), &file).unwrap();
    assert!(next_line("updated").contains("[generation 2, replaces 1]"));
    std::fs::remove_file(&file).unwrap();
    assert!(next_line("removed").contains("generation 2"));

    child.kill().unwrap();
    child.wait().unwrap();
}

/// A file loaded at start-up under a relative folder name, then overwritten:
/// the watcher reports it under an absolute path, and it must still be the
/// same file (an update), not a second library with the same plugin name.
#[test]
fn watch_updates_a_file_loaded_at_start_under_a_relative_folder() {
    use std::io::BufRead;
    use std::sync::mpsc;
    use std::time::Duration;

    let dir = demo_dir();
    let parent = dir.path().parent().unwrap();
    let relative = dir.path().file_name().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_plugboard"))
        .current_dir(parent)
        .arg("watch")
        .arg("--no-strict-permissions")
        .arg("--plugins")
        .arg(relative)
        .env_remove("RUST_LOG")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    let mut lines = Vec::new();
    let mut next_line = |prefix: &str| -> String {
        loop {
            let line = rx
                .recv_timeout(Duration::from_secs(30))
                .unwrap_or_else(|_| panic!("no `{prefix}` line within 30 s; saw {lines:#?}"));
            lines.push(line.clone());
            if line.starts_with(prefix) {
                return line;
            }
        }
    };
    next_line("watching");
    std::fs::copy(
        plugboard_tests::library("fixture-greeter-next"),
        dir.path().join("libgreeter.so"),
    )
    .unwrap();
    let updated = next_line("updated");
    assert!(updated.contains("[generation 2, replaces 1]"), "{updated}");
    child.kill().unwrap();
    child.wait().unwrap();
}
