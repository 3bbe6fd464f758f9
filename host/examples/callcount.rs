//! A fixed number of `add` calls through one of three paths, for
//! `valgrind --tool=callgrind` to count instructions (see `.ci/callgrind`):
//!
//! `callcount <plugboard|plugboard-result|native|native-result|raw> <calls> <path to libfixture_calc.so>`
//!
//! The script runs it with two call counts and divides the difference, so
//! start-up costs cancel out and what is left is instructions per call.

use std::hint::black_box;

use plugboard_demo::{Calc, HANDSHAKE};
use plugboard_host::{Plugin, PluginHost};
use plugboard_interface::PluginError;

trait NativeCalc {
    fn add(&self, a: u64, b: u64) -> u64;
    fn checked_add(&self, a: u64, b: u64) -> Result<u64, PluginError>;
}

struct Native(#[allow(dead_code)] u64);

impl NativeCalc for Native {
    #[inline(never)]
    fn add(&self, a: u64, b: u64) -> u64 {
        a.wrapping_add(b)
    }

    #[inline(never)]
    fn checked_add(&self, a: u64, b: u64) -> Result<u64, PluginError> {
        a.checked_add(b)
            .ok_or_else(|| PluginError::failed("the sum overflows"))
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, mode, calls, library] = args.as_slice() else {
        eprintln!("usage: callcount <plugboard|plugboard-result|native|native-result|raw> <calls> <libfixture_calc.so>");
        std::process::exit(2);
    };
    let calls: u64 = calls.parse().expect("a number of calls");
    let mut sum = 0u64;
    let plugin = || {
        let host = PluginHost::builder()
            .handshake(HANDSHAKE)
            .strict_permissions(false)
            .build();
        host.load_file(library).expect("the calc plugin loads");
        let calc: Plugin<dyn Calc> = host.dispense("calc").expect("dispense calc");
        calc
    };
    let native = || -> Box<dyn NativeCalc> { black_box(Box::new(Native(7))) };
    match mode.as_str() {
        "plugboard" => {
            let calc = plugin();
            for i in 0..calls {
                sum = sum.wrapping_add(calc.add(black_box(i), black_box(1)));
            }
        }
        "plugboard-result" => {
            let calc = plugin();
            for i in 0..calls {
                sum = sum.wrapping_add(calc.checked_add(black_box(i), black_box(1)).unwrap());
            }
        }
        "native" => {
            let native = native();
            for i in 0..calls {
                sum = sum.wrapping_add(native.add(black_box(i), black_box(1)));
            }
        }
        "native-result" => {
            let native = native();
            for i in 0..calls {
                sum = sum.wrapping_add(native.checked_add(black_box(i), black_box(1)).unwrap());
            }
        }
        "raw" => {
            // SAFETY: the benchmark fixture; never unloaded.
            let lib = Box::leak(Box::new(
                unsafe { libloading::Library::new(library) }.unwrap(),
            ));
            // SAFETY: `calc_add` has this signature in the fixture.
            let add = *unsafe { lib.get::<extern "C" fn(u64, u64) -> u64>(b"calc_add\0") }.unwrap();
            let add = black_box(add);
            for i in 0..calls {
                sum = sum.wrapping_add(add(black_box(i), black_box(1)));
            }
        }
        other => {
            eprintln!("unknown mode {other}");
            std::process::exit(2);
        }
    }
    black_box(sum);
}
