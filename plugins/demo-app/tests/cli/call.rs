//! `call`: methods called by name with JSON arguments, on one object, in
//! process or isolated; errors on one line with the documented exit codes.

use plugboard_tests::{demo_dir, stderr, stdout};

use super::{command, demo_app};

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
            "takes 2 argument(s), each a JSON value; 1 given",
        ),
        (
            vec!["call", "greeter", "greet", "\"x\"", "--plugins", d],
            2,
            "options go before it",
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
