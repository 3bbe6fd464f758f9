//! Every kind of type `#[interface]` supports, to an isolated plugin and
//! back: the same results as in process.

use std::panic::{catch_unwind, AssertUnwindSafe};

use plugboard_host::{Plugin, PluginHost};
use plugboard_interface::PluginErrorKind;
use plugboard_tests::PluginDir;

use super::{load, RUNNER};

#[test]
fn every_kind_of_type_crosses_to_an_isolated_plugin_and_back() {
    use fixture_types_interface::{Direction, Opaque, Point, Types, HANDSHAKE};
    use plugboard_interface::{
        abi_stable::std_types::{ROption, RSlice, RStr, RString, RVec},
        PluginError,
    };
    let dir = PluginDir::new();
    dir.add("fixture-types");
    let builder = || {
        PluginHost::builder()
            .handshake(HANDSHAKE)
            .interface::<dyn Types>()
    };
    let here = builder().build();
    let there = builder().isolate("all").isolation_runner(RUNNER).build();
    load(&here, &dir);
    load(&there, &dir);
    assert!(there.is_isolated("types") && !here.is_isolated("types"));
    let mut a: Plugin<dyn Types> = here.dispense("types").unwrap();
    let mut b: Plugin<dyn Types> = there.dispense("types").unwrap();
    macro_rules! same {
        ($($call:tt)*) => {{
            let (x, y) = (a.$($call)*, b.$($call)*);
            assert_eq!(y, x, "{}", stringify!($($call)*));
        }};
    }
    same!(unsigned(u8::MAX, u16::MAX, u32::MAX, u64::MAX));
    same!(signed(i8::MIN, i16::MIN, i32::MIN, i64::MIN));
    same!(sizes(usize::MAX, isize::MIN));
    same!(floats(-0.0, f64::MAX));
    assert!(b.divide(0.0, 0.0).is_nan());
    same!(negate(true));
    same!(next_char('\u{10FFFF}'));
    same!(chars("héllo, 世界"));
    same!(upper(&['a', 'ß', 'z']));
    same!(echo_str(""));
    same!(echo_string("a\0b".to_owned()));
    same!(byte_len("😀"));
    same!(sum(&[u64::MAX, 1, 2]));
    same!(join(&["a".to_owned(), "b".to_owned()], ", "));
    same!(echo_vec(vec![i32::MIN, 0, i32::MAX]));
    same!(echo_strings(vec![String::new(), "x".to_owned()]));
    same!(echo_nested(vec![vec![], vec![1, 2, 3]]));
    same!(echo_option(Some("s".to_owned())));
    same!(echo_option_option(Some(None)));
    same!(checked_div(i32::MIN, -1));
    same!(checked_div(7, 2));
    same!(maybe(true, None));
    same!(maybe(false, Some("v".to_owned())));
    same!(nested_result(Err(PluginError::failed("inner")), false));
    same!(nested_result(Ok(3), true));
    same!(echo_results(vec![
        Ok("a".to_owned()),
        Err(PluginError::unsupported("b"))
    ]));
    same!(echo_option_result(Some(Err(PluginError::failed("c")))));
    same!(swap(("x".to_owned(), 9)));
    same!(echo_tuple1((7,)));
    same!(echo_tuple4(('c', true, None, vec!["v".to_owned()])));
    same!(echo_nested_tuple((
        (1, 2),
        ("s".to_owned(), vec![(-1, 'q')])
    )));
    same!(swap_all(&[(1, "one".to_owned())]));
    same!(unit(()));
    same!(eight(1, 2, 3, 4, -5, -6, -7, -8));
    same!(move_point(Point { x: 1, y: -1 }, 10, 20));
    same!(points(&[Point { x: 3, y: 4 }]));
    same!(maybe_point(None));
    same!(farthest(vec![Point { x: 1, y: 1 }, Point { x: -9, y: 0 }]));
    same!(farthest(Vec::new()));
    same!(turn(Direction::North));
    same!(push(&[1, 2, 3]));
    same!(pop());
    same!(drain());
    same!(rename("renamed"));
    same!(rename(""));
    same!(describe());
    same!(r_string(RString::from("ab")));
    same!(r_vec(RVec::from(vec![1, 2])));
    same!(r_option(ROption::RSome(RString::from("o"))));
    same!(r_mixed(vec![RString::from("a")], Some(RVec::from(vec![1]))));
    same!(r_str(RStr::from("borrowed")));
    same!(r_slice(RSlice::from_slice(&[1, 2, 3])));
    // A type without serde support cannot travel, nor can a result borrowed
    // from the plugin's object: a method with `Result` says so, one without
    // panics in the caller, naming the plugin.
    assert_eq!(
        b.r_items().unwrap_err().kind(),
        PluginErrorKind::Unsupported
    );
    let opaque = || Opaque {
        label: RString::from("label"),
        bytes: RVec::from(vec![1, 2]),
    };
    assert_eq!(a.opaque(opaque()).label, RString::from("LABEL"));
    let name = catch_unwind(AssertUnwindSafe(|| b.name().to_owned())).unwrap_err();
    let not_serde = catch_unwind(AssertUnwindSafe(|| b.opaque(opaque()))).unwrap_err();
    for payload in [name, not_serde] {
        let message = payload.downcast_ref::<String>().unwrap();
        assert!(message.contains("`types`"), "{message}");
    }
}
