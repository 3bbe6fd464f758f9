//! Every kind of type `#[interface]` supports, through the real loader: the
//! `fixture-types` plugin (a cdylib built against
//! `tests/fixtures/types-interface`) is loaded from a plugins folder,
//! dispensed as `Plugin<dyn Types>`, and each method is called with plain
//! Rust values — edge values included — and its result checked. Then the
//! same methods as data: the method table says which can be called from the
//! command line, and the `types-app` binary (`plugboard_cli::run` with this
//! interface) calls them with JSON.

use std::process::{Command, Output};

use fixture_types_interface::{Direction, Opaque, Point, Types, HANDSHAKE};
use plugboard_host::{DynamicCallError, Plugin, PluginHost};
use plugboard_interface::{
    abi_stable::std_types::{RHashMap, ROption, RString, RVec},
    InvokeError, PluginError, PluginErrorKind,
};
use plugboard_tests::PluginDir;
use serde_json::{json, Value};

/// The plugins folder with the `types` plugin, and a host that loaded it.
fn loaded() -> (PluginDir, PluginHost) {
    let dir = PluginDir::new();
    dir.add("fixture-types");
    let host = PluginHost::builder()
        .handshake(HANDSHAKE)
        .interface::<dyn Types>()
        .build();
    let report = host.load_dir(dir.path());
    assert!(report.all_loaded(), "{report}");
    (dir, host)
}

fn types(host: &PluginHost) -> Plugin<dyn Types> {
    host.dispense("types").expect("the types plugin dispenses")
}

#[test]
fn integers_of_every_width_round_trip() {
    let (_dir, host) = loaded();
    let t = types(&host);
    for (a, b, c, d) in [
        (0, 0, 0, 0),
        (1, 2, 3, 4),
        (u8::MAX, u16::MAX, u32::MAX, u64::MAX),
        (0x80, 0x8000, 0x8000_0000, 0x8000_0000_0000_0000),
    ] {
        assert_eq!(t.unsigned(a, b, c, d), (a, b, c, d));
    }
    for (a, b, c, d) in [
        (0, 0, 0, 0),
        (-1, -1, -1, -1),
        (i8::MIN, i16::MIN, i32::MIN, i64::MIN),
        (i8::MAX, i16::MAX, i32::MAX, i64::MAX),
    ] {
        assert_eq!(t.signed(a, b, c, d), (a, b, c, d));
    }
    for (a, b) in [(0, 0), (usize::MAX, isize::MIN), (usize::MIN, isize::MAX)] {
        assert_eq!(t.sizes(a, b), (a, b));
    }
    assert_eq!(
        t.eight(
            u8::MAX,
            u16::MAX,
            u32::MAX,
            u64::MAX,
            i8::MIN,
            i16::MIN,
            i32::MIN,
            i64::MIN
        ),
        format!(
            "{} {} {} {} {} {} {} {}",
            u8::MAX,
            u16::MAX,
            u32::MAX,
            u64::MAX,
            i8::MIN,
            i16::MIN,
            i32::MIN,
            i64::MIN
        )
    );
    assert_eq!(t.sum(&[u64::MAX, 2]), 1, "wrapping, in the plugin");
    assert_eq!(t.sum(&[]), 0);
}

#[test]
fn floats_keep_every_bit_and_nan_stays_nan() {
    let (_dir, host) = loaded();
    let t = types(&host);
    for (a, b) in [
        (0.0f32, 0.0f64),
        (-0.0, -0.0),
        (1.5, -2.25),
        (f32::MIN_POSITIVE, f64::MIN_POSITIVE),
        (f32::from_bits(1), f64::from_bits(1)),
        (f32::MAX, f64::MIN),
        (f32::INFINITY, f64::NEG_INFINITY),
    ] {
        let (x, y) = t.floats(a, b);
        assert_eq!((x.to_bits(), y.to_bits()), (a.to_bits(), b.to_bits()));
    }
    let (x, y) = t.floats(f32::NAN, -f64::NAN);
    assert!(x.is_nan() && y.is_nan());
    assert!(y.is_sign_negative(), "a NaN's sign crosses too");
    assert!(t.divide(0.0, 0.0).is_nan());
    assert_eq!(t.divide(1.0, 0.0), f64::INFINITY);
    assert_eq!(t.divide(1.0, 4.0), 0.25);
}

#[test]
fn bools_and_chars_round_trip() {
    let (_dir, host) = loaded();
    let t = types(&host);
    assert!(!t.negate(true));
    assert!(t.negate(false));
    assert_eq!(t.next_char('a'), Some('b'));
    assert_eq!(t.next_char('\0'), Some('\u{1}'));
    assert_eq!(t.next_char('\u{FFFF}'), Some('\u{10000}'));
    assert_eq!(t.next_char('\u{D7FF}'), None, "U+D800 is a surrogate");
    assert_eq!(t.next_char(char::MAX), None);
    assert_eq!(t.upper(&['a', 'ß', 'é', '1']), ['A', 'S', 'S', 'É', '1']);
    assert_eq!(t.upper(&[]), Vec::<char>::new());
}

#[test]
fn strings_and_slices_round_trip() {
    let (_dir, host) = loaded();
    let t = types(&host);
    let long = "x".repeat(1 << 20);
    for s in [
        "",
        "plain",
        "ünïcödé ✓ 日本語 🦀",
        "nul \0 inside",
        "\u{10FFFF}",
        long.as_str(),
    ] {
        assert_eq!(t.echo_str(s), s);
        assert_eq!(t.echo_string(s.to_owned()), s);
        assert_eq!(t.byte_len(s), s.len());
        assert_eq!(t.chars(s), s.chars().collect::<Vec<_>>());
    }
    let parts = ["α".to_owned(), String::new(), "🦀".to_owned()];
    assert_eq!(t.join(&parts, ", "), "α, , 🦀");
    assert_eq!(t.join(&[], "-"), "");
}

#[test]
fn vectors_options_and_results_round_trip_nested_too() {
    let (_dir, host) = loaded();
    let t = types(&host);
    assert_eq!(t.echo_vec(vec![]), Vec::<i32>::new());
    assert_eq!(
        t.echo_vec(vec![i32::MIN, -1, 0, i32::MAX]),
        [i32::MIN, -1, 0, i32::MAX]
    );
    let strings = vec![String::new(), "é".to_owned(), "🦀🦀".to_owned()];
    assert_eq!(t.echo_strings(strings.clone()), strings);
    let nested = vec![vec![], vec![0u8], vec![1, 2, 255]];
    assert_eq!(t.echo_nested(nested.clone()), nested);

    assert_eq!(t.echo_option(None), None);
    assert_eq!(t.echo_option(Some(String::new())), Some(String::new()));
    assert_eq!(t.echo_option(Some("ü".into())), Some("ü".into()));
    for o in [None, Some(None), Some(Some(0)), Some(Some(u8::MAX))] {
        assert_eq!(t.echo_option_option(o), o);
    }

    assert_eq!(t.checked_div(7, 2).unwrap(), 3);
    assert_eq!(
        t.checked_div(1, 0).unwrap_err().kind(),
        PluginErrorKind::Failed
    );
    assert_eq!(
        t.checked_div(i32::MIN, -1).unwrap_err().kind(),
        PluginErrorKind::Failed
    );
    assert_eq!(t.maybe(false, None).unwrap(), None);
    assert_eq!(t.maybe(false, Some("x".into())).unwrap(), Some("x".into()));
    assert_eq!(
        t.maybe(true, Some("x".into())).unwrap_err().kind(),
        PluginErrorKind::Failed
    );

    // A `Result` as a value: inside the method's own `Result`, a `Vec` or an
    // `Option`, in both directions.
    assert_eq!(t.nested_result(Ok(u32::MAX), false).unwrap(), Ok(u32::MAX));
    let inner = t
        .nested_result(Err(PluginError::unsupported("inner")), false)
        .unwrap()
        .unwrap_err();
    assert_eq!(inner.kind(), PluginErrorKind::Unsupported);
    assert_eq!(inner.message(), "inner");
    let outer = t.nested_result(Ok(1), true).unwrap_err();
    assert_eq!(outer.kind(), PluginErrorKind::Unsupported);
    let results = vec![
        Ok(String::new()),
        Err(PluginError::failed("no")),
        Ok("🦀".to_owned()),
    ];
    assert_eq!(t.echo_results(results.clone()), results);
    assert_eq!(t.echo_results(vec![]), vec![]);
    for o in [None, Some(Ok(7)), Some(Err(PluginError::panicked("p")))] {
        assert_eq!(t.echo_option_result(o.clone()), o);
    }
}

#[test]
fn tuples_round_trip_nested_too() {
    let (_dir, host) = loaded();
    let t = types(&host);
    assert_eq!(t.swap(("é".to_owned(), 9)), (9, "é".to_owned()));
    assert_eq!(t.echo_tuple1((u8::MAX,)), (u8::MAX,));
    let four = ('🦀', true, None, vec!["a".to_owned(), String::new()]);
    assert_eq!(t.echo_tuple4(four.clone()), four);
    let four = ('\0', false, Some(0), vec![]);
    assert_eq!(t.echo_tuple4(four.clone()), four);
    let nested = (
        (1, u16::MAX),
        ("ü".to_owned(), vec![(i8::MIN, 'x'), (0, '日')]),
    );
    assert_eq!(t.echo_nested_tuple(nested.clone()), nested);
    assert_eq!(
        t.swap_all(&[(1, "one".to_owned()), (2, String::new())]),
        [("one".to_owned(), 1), (String::new(), 2)]
    );
    #[allow(clippy::let_unit_value, clippy::unit_arg)]
    let unit = t.unit(());
    assert_eq!(unit, ());
}

#[test]
fn application_types_cross_as_they_are() {
    let (_dir, host) = loaded();
    let t = types(&host);
    let p = Point { x: -3, y: 4 };
    assert_eq!(t.move_point(p, 3, -4), Point { x: 0, y: 0 });
    let ps = [
        p,
        Point {
            x: i32::MAX,
            y: i32::MIN,
        },
        Point { x: 0, y: 0 },
    ];
    assert_eq!(t.points(&ps), ps);
    assert_eq!(t.points(&[]), []);
    assert_eq!(t.maybe_point(None), None);
    assert_eq!(t.maybe_point(Some(p)), Some(p));
    assert_eq!(
        t.farthest(ps.to_vec()).unwrap(),
        Point {
            x: i32::MAX,
            y: i32::MIN
        }
    );
    assert_eq!(
        t.farthest(vec![]).unwrap_err().kind(),
        PluginErrorKind::Failed
    );
    assert_eq!(t.turn(Direction::West), Direction::North);
    assert_eq!(t.turn(Direction::North), Direction::East);
    let o = t.opaque(Opaque {
        label: "ünï".into(),
        bytes: vec![1, 2, 3].into(),
    });
    assert_eq!(o.label.as_str(), "ÜNÏ");
    assert_eq!(o.bytes.as_slice(), [3, 2, 1]);
}

#[test]
fn abi_stable_r_types_keep_working() {
    let (_dir, host) = loaded();
    let t = types(&host);
    assert_eq!(t.r_string(RString::from("abc🦀")).as_str(), "🦀cba");
    assert_eq!(t.r_string(RString::new()).as_str(), "");
    assert_eq!(
        t.r_vec(RVec::from(vec![0, 1, u32::MAX])).as_slice(),
        [0, 2, u32::MAX.wrapping_mul(2)]
    );
    assert_eq!(t.r_option(ROption::RNone), ROption::RNone);
    assert_eq!(
        t.r_option(ROption::RSome("ü".into())),
        ROption::RSome(RString::from("ü"))
    );
    let mut map = RHashMap::new();
    map.insert(RString::from("a"), 1u32);
    map.insert(RString::from("ö"), u32::MAX);
    let map = t.r_map(map);
    assert_eq!(map.len(), 2);
    assert_eq!(map.get("a"), Some(&2));
    assert_eq!(map.get("ö"), Some(&0));
    let (joined, bytes) = t.r_mixed(
        vec!["a".into(), RString::new(), "é".into()],
        Some(vec![9u8].into()),
    );
    assert_eq!(joined.as_str(), "aé");
    assert_eq!(bytes.map(RVec::into_vec), Some(vec![9]));
    assert_eq!(t.r_mixed(vec![], None), (RString::new(), None));
}

#[test]
fn mut_self_methods_change_the_plugin_object_and_borrowed_results_point_into_it() {
    let (_dir, host) = loaded();
    let mut t = types(&host);
    // `name` is also a `Plugin` accessor; the interface method wins.
    assert_eq!(t.name(), "types");
    assert_eq!(Plugin::name(&t), "types");
    assert!(t.items().is_empty());
    assert_eq!(t.push(&[1, 2]), 2);
    assert_eq!(t.push(&[]), 2);
    assert_eq!(t.push(&[u32::MAX]), 3);
    assert_eq!(t.items(), [1, 2, u32::MAX]);
    assert_eq!(t.pop().unwrap(), Some(u32::MAX));
    assert_eq!(
        t.describe().unwrap(),
        (
            "types".to_owned(),
            vec![Point { x: 0, y: 1 }, Point { x: 1, y: 2 }]
        )
    );
    assert_eq!(t.drain(), [1, 2]);
    assert_eq!(t.pop().unwrap(), None);
    assert_eq!(t.rename("ü").unwrap(), "types");
    assert_eq!(t.rename("").unwrap_err().kind(), PluginErrorKind::Failed);
    assert_eq!(t.suffix('🦀'), "ü🦀");
    assert_eq!(t.name(), "ü🦀");
    t.push(&[5]);
    t.reset();
    assert_eq!((t.name(), t.items()), ("types", &[][..]));

    // Each dispense is an object of its own.
    let mut other = types(&host);
    other.push(&[1]);
    assert!(t.items().is_empty());
}

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

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
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
