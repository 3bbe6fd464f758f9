//! Every kind of type through plain Rust calls on a `Plugin<dyn Types>`,
//! edge values included.

use fixture_types_interface::{Direction, Opaque, Point};
use plugboard_host::Plugin;
use plugboard_interface::{
    abi_stable::std_types::{RHashMap, ROption, RString, RVec},
    PluginError, PluginErrorKind,
};

use super::{loaded, types};

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
