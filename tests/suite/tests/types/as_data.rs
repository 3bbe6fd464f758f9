//! The same methods as data: the method table says which can be called
//! from the command line, calls with JSON in process, and the `types-app`
//! binary (`plugboard_cli::run` with this interface) calling them.

use std::process::{Command, Output};

use plugboard_host::DynamicCallError;
use plugboard_interface::{InvokeError, PluginErrorKind};
use plugboard_tests::{stdout, PluginDir};
use serde_json::{json, Value};

use super::loaded;

/// The methods that cannot travel as data: those with a type without serde
/// support (`Opaque`). A borrowed result travels as its owned copy.
const NOT_CALLABLE: &[&str] = &["opaque"];

#[test]
fn the_method_table_says_which_methods_travel_as_data() {
    let (_dir, host) = loaded();
    let plugin = host.dispense_dynamic("types").unwrap();
    let table = plugin.methods();
    assert_eq!(table.interface.as_str(), "Types");
    assert_eq!(table.version.as_str(), "1.1.0");
    let mut not_callable = Vec::new();
    for (i, m) in table.methods.iter().enumerate() {
        if !(table.serializable)(i as u32) {
            not_callable.push(m.name.as_str());
        }
    }
    assert_eq!(not_callable, NOT_CALLABLE);
    let (_, describe) = table.method("describe").unwrap();
    assert_eq!(describe.since(), Some("1.1.0"));
    assert!(describe.fallible);
    let (_, push) = table.method("push").unwrap();
    assert!(push.exclusive);
    assert_eq!(
        push.signature.as_str(),
        "fn push(&mut self, items: &[u32]) -> usize"
    );
    assert_eq!(push.arg_types.as_slice()[0].as_str(), "&[u32]");
    let (_, nested) = table.method("nested_result").unwrap();
    assert_eq!(nested.ret_type.as_str(), "Result<u32, PluginError>");
}

#[test]
fn calls_as_json_in_process() {
    let (_dir, host) = loaded();
    let mut plugin = host.dispense_dynamic("types").unwrap();
    let mut call = |method: &str, args: Value| {
        let Value::Array(args) = args else {
            panic!("arguments are an array")
        };
        plugin.call(method, args)
    };
    assert_eq!(
        call("unsigned", json!([255, 65535, 4294967295u32, u64::MAX])).unwrap(),
        json!([255, 65535, 4294967295u32, u64::MAX])
    );
    assert_eq!(
        call("signed", json!([i8::MIN, i16::MIN, i32::MIN, i64::MIN])).unwrap(),
        json!([i8::MIN, i16::MIN, i32::MIN, i64::MIN])
    );
    assert_eq!(call("divide", json!([0.0, 0.0])).unwrap(), Value::Null);
    assert_eq!(call("echo_str", json!(["ü 🦀"])).unwrap(), json!("ü 🦀"));
    assert_eq!(call("echo_option", json!([null])).unwrap(), Value::Null);
    assert_eq!(
        call("nested_result", json!([{"Ok": 5}, false])).unwrap(),
        json!({"Ok": 5})
    );
    let failed = call("nested_result", json!([{"Ok": 5}, true])).unwrap_err();
    assert!(
        matches!(&failed, DynamicCallError::Failed { error, .. } if error.kind() == PluginErrorKind::Unsupported),
        "{failed:?}"
    );
    assert_eq!(
        call("move_point", json!([{"x": 1, "y": 2}, 1, 1])).unwrap(),
        json!({"x": 2, "y": 3})
    );
    assert_eq!(call("turn", json!(["West"])).unwrap(), json!("North"));
    assert_eq!(call("r_map", json!([{"k": 1}])).unwrap(), json!({"k": 2}));
    assert_eq!(call("push", json!([[1, 2, 3]])).unwrap(), json!(3));
    assert_eq!(call("drain", json!([])).unwrap(), json!([1, 2, 3]));
    assert_eq!(call("unit", json!([null])).unwrap(), Value::Null);
    // Arguments that do not fit: one too large, NaN has no JSON form.
    for (method, args) in [
        ("unsigned", json!([256, 0, 0, 0])),
        ("floats", json!([null, 1.0])),
        ("next_char", json!(["ab"])),
    ] {
        let error = call(method, args).unwrap_err();
        assert!(
            matches!(
                error,
                DynamicCallError::Invoke(InvokeError::BadArguments { .. })
            ),
            "{method}: {error:?}"
        );
    }
    let error = call("opaque", json!([{"label": "x", "bytes": []}])).unwrap_err();
    assert!(
        matches!(
            error,
            DynamicCallError::Invoke(InvokeError::NotSerializable { .. })
        ),
        "{error:?}"
    );
    // Borrowed results travel as owned copies.
    assert_eq!(call("push", json!([[7]])).unwrap(), json!(1));
    assert_eq!(call("items", json!([])).unwrap(), json!([7]));
    assert_eq!(call("suffix", json!(["!"])).unwrap(), json!("types!"));
    assert_eq!(call("name", json!([])).unwrap(), json!("types!"));
}

fn types_app(dir: &PluginDir, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_types-app"))
        .arg("call")
        .arg("--plugins")
        .arg(dir.path())
        .arg("types")
        .args(args)
        .env_remove("RUST_LOG")
        .env_remove("PLUGBOARD_PLUGINS")
        .output()
        .expect("run types-app")
}

#[test]
fn the_command_line_calls_every_serializable_kind_of_method() {
    let (dir, _host) = loaded();
    // Each call (a method, then one JSON value per argument) with its result;
    // they run in one process, on one object.
    let calls: &[(&[&str], Value)] = &[
        (
            &[
                "unsigned",
                "255",
                "65535",
                "4294967295",
                "18446744073709551615",
            ],
            json!([255, 65535, 4294967295u32, u64::MAX]),
        ),
        (
            &[
                "signed",
                "-128",
                "-32768",
                "-2147483648",
                "-9223372036854775808",
            ],
            json!([i8::MIN, i16::MIN, i32::MIN, i64::MIN]),
        ),
        (&["floats", "1.5", "-0.0"], json!([1.5, -0.0])),
        // NaN has no JSON form: serde_json writes null.
        (&["divide", "0", "0"], Value::Null),
        (&["negate", "true"], json!(false)),
        // No character after U+10FFFF.
        (&["next_char", "\"\u{10FFFF}\""], Value::Null),
        (&["chars", "\"ü🦀\""], json!(["ü", "🦀"])),
        (&["echo_str", "\"\""], json!("")),
        (&["echo_string", "\"日本語\""], json!("日本語")),
        (&["join", "[\"a\",\"\",\"b\"]", "\"-\""], json!("a--b")),
        (&["echo_nested", "[[],[255]]"], json!([[], [255]])),
        (&["echo_option", "null"], Value::Null),
        (&["echo_option", "\"x\""], json!("x")),
        (&["echo_option_option", "7"], json!(7)),
        // None; Some(None) prints null too.
        (&["echo_option_option", "null"], Value::Null),
        (&["maybe", "false", "null"], Value::Null),
        (
            &[
                "echo_results",
                "[{\"Ok\":\"a\"},{\"Err\":{\"kind\":\"Failed\",\"message\":\"m\"}}]",
            ],
            json!([{"Ok": "a"}, {"Err": {"kind": "Failed", "message": "m"}}]),
        ),
        (&["swap", "[\"é\",7]"], json!([7, "é"])),
        (
            &["echo_tuple4", "[\"x\",true,null,[]]"],
            json!(["x", true, null, []]),
        ),
        (
            &["eight", "1", "2", "3", "4", "-5", "-6", "-7", "-8"],
            json!("1 2 3 4 -5 -6 -7 -8"),
        ),
        (
            &["points", "[{\"x\":1,\"y\":-1}]"],
            json!([{"x": 1, "y": -1}]),
        ),
        (&["maybe_point", "null"], Value::Null),
        (&["r_string", "\"abc\""], json!("cba")),
        (&["r_vec", "[1,2]"], json!([2, 4])),
        (&["r_option", "\"ö\""], json!("ö")),
        (&["r_mixed", "[\"a\",\"b\"]", "[1]"], json!(["ab", [1]])),
        (&["r_str", "\"ü\""], json!("ü")),
        (&["r_slice", "[1,2]"], json!(3)),
        (&["r_name"], json!("types")),
        (&["push", "[4,5]"], json!(2)),
        (&["push", "[6]"], json!(3)),
        (&["pop"], json!(6)),
        // Borrowed results travel as owned copies.
        (&["items"], json!([4, 5])),
        (&["r_items"], json!([4, 5])),
        (&["name"], json!("types")),
        (&["rename", "\"renamed\""], json!("types")),
        (&["suffix", "\"🦀\""], json!("renamed🦀")),
        (
            &["describe"],
            json!(["renamed🦀", [{"x": 0, "y": 4}, {"x": 1, "y": 5}]]),
        ),
        (&["reset"], Value::Null),
        (&["name"], json!("types")),
    ];
    let args: Vec<&str> = calls.iter().flat_map(|(a, _)| a.iter().copied()).collect();
    let out = types_app(&dir, &args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON value per line"))
        .collect();
    let expected: Vec<Value> = calls.iter().map(|(_, v)| v.clone()).collect();
    assert_eq!(results, expected);

    // `--format text` prints strings as they are.
    let out = Command::new(env!("CARGO_BIN_EXE_types-app"))
        .args(["call", "--format", "text", "--plugins"])
        .arg(dir.path())
        .args(["types", "echo_str", "\"line ü\""])
        .output()
        .unwrap();
    assert_eq!(stdout(&out), "line ü\n");
}

#[test]
fn the_command_line_refuses_what_cannot_travel_and_reports_errors() {
    let (dir, _host) = loaded();
    for (args, code) in [
        // No serde support: refused, exit code 1.
        (vec!["opaque", "{\"label\":\"x\",\"bytes\":[]}"], 1),
        // The plugin's own error.
        (vec!["checked_div", "1", "0"], 1),
        (vec!["farthest", "[]"], 1),
        // Arguments that do not fit the parameters: a failed call.
        (vec!["unsigned", "256", "0", "0", "0"], 1),
        // Not JSON, or too few arguments: usage errors.
        (vec!["echo_str", "plain"], 2),
        (vec!["eight", "1", "2"], 2),
    ] {
        let out = types_app(&dir, &args);
        assert_eq!(
            out.status.code(),
            Some(code),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout(&out).is_empty(), "{args:?}: {}", stdout(&out));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{args:?}: one line: {err}");
    }
    // Every call is checked before the first runs: an unknown method after a
    // good call is a usage error, and nothing is called.
    let out = types_app(&dir, &["swap", "[\"a\",1]", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stdout(&out).is_empty(), "{}", stdout(&out));
}

#[test]
fn list_marks_each_method_callable_or_not() {
    let (dir, _host) = loaded();
    let out = Command::new(env!("CARGO_BIN_EXE_types-app"))
        .args(["list", "--format", "json", "--plugins"])
        .arg(dir.path())
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    assert!(out.status.success());
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let methods = doc["files"][0]["plugins"][0]["methods"].as_array().unwrap();
    let not_callable: Vec<&str> = methods
        .iter()
        .filter(|m| m["callable"] == false)
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(not_callable, NOT_CALLABLE);
    assert!(methods.iter().all(|m| m["available"] == true));
}
