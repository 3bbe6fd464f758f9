//! The program the tests' hosts run isolated plugins in (a test binary
//! cannot be its own runner: started again, it would run the tests). It
//! builds the same host configuration as the tests
//! ([`plugboard_tests::isolation_builder`]), so `build()` turns it into the
//! runner.
//!
//! Started by hand as `plugboard-test-runner host DIR`, it is a host
//! itself: it loads `DIR` with every plugin isolated, prints
//! `runner <pid>` for the `crashy` plugin's process, then calls a method
//! that never returns — for the test that kills a host and looks for its
//! runner.

use std::io::Write as _;

use fixture_crash_interface::Crashy;
use plugboard_host::Plugin;

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let builder = plugboard_tests::isolation_builder();
    match args.get(1).map(String::as_str) {
        Some("host") => {
            let Some(dir) = args.get(2) else {
                return usage();
            };
            let program = std::env::current_exe().expect("this program's path");
            let host = builder
                .isolate("all")
                .isolation_runner(program)
                .call_timeout(None)
                .build();
            let report = host.load_dir(dir);
            assert!(report.all_loaded(), "{report}");
            let crashy: Plugin<dyn Crashy> = host.dispense("crashy").expect("crashy");
            let pid = host.process_id("crashy").expect("an isolated plugin runs");
            println!("runner {pid}");
            let _ = std::io::stdout().flush();
            // Never returns: the test kills this process meanwhile.
            let _ = crashy.crash("spin");
            std::process::ExitCode::FAILURE
        }
        _ => {
            // Started by a host as a runner, this does not return.
            drop(builder.build());
            usage()
        }
    }
}

fn usage() -> std::process::ExitCode {
    eprintln!(
        "usage: plugboard-test-runner host DIR (or started by a plugboard host as its runner)"
    );
    std::process::ExitCode::from(2)
}
