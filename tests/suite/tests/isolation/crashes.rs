//! Each way a plugin can end its process, in a method and in init: an
//! error of the right kind when isolated (and a restart when the policy
//! says so). The same crashes in process: `in_process`.

use std::{
    panic::{catch_unwind, AssertUnwindSafe},
    time::Duration,
};

use fixture_crash_interface::{Crashy, CRASHES, CRASH_IN_INIT};
use plugboard_demo::Greeter;
use plugboard_host::{LoadErrorKind, Plugin, PluginHostBuilder, RestartPolicy};
use plugboard_interface::PluginErrorKind;

use super::{folder, isolated, load};

/// The settings a crash needs to be caught: a short timeout for a spin, a
/// memory limit for an unbounded allocation.
fn for_crash(builder: PluginHostBuilder, how: &str) -> PluginHostBuilder {
    match how {
        "spin" => builder.call_timeout(Duration::from_millis(500)),
        "allocate" => builder.isolated_memory_limit(1 << 30),
        _ => builder,
    }
}

/// The crashes to try here: all of [`CRASHES`], but under Wine not the
/// unbounded allocation (Wine accepts a job object's memory limit and does
/// not enforce it: the allocation would go on until the machine's
/// out-of-memory killer stepped in).
fn crashes() -> impl Iterator<Item = &'static str> {
    let wine = plugboard_tests::under_wine();
    if wine {
        eprintln!("under Wine: not trying `allocate` (Wine does not enforce memory limits)");
    }
    CRASHES
        .iter()
        .copied()
        .filter(move |how| !(wine && *how == "allocate"))
}

/// The error kind an isolated call reports for `how`.
fn expected_kind(how: &str) -> PluginErrorKind {
    if how == "spin" {
        PluginErrorKind::TimedOut
    } else {
        PluginErrorKind::Crashed
    }
}

#[test]
fn each_crash_in_a_method_is_an_error_and_the_host_keeps_running() {
    let (dir, _) = folder();
    for how in crashes() {
        let host = for_crash(isolated(), how).build();
        load(&host, &dir);
        let crashy: Plugin<dyn Crashy> = host.dispense("crashy").unwrap();
        assert_eq!(crashy.echo("before"), "before");
        let error = crashy.crash(how).unwrap_err();
        eprintln!("{how}: {error}");
        assert_eq!(error.kind(), expected_kind(how), "{how}: {error}");
        // The process is gone; later calls report why (no restart by default).
        assert_eq!(host.process_id("crashy"), None, "{how}");
        let later = crashy.crash("nothing").unwrap_err();
        assert_eq!(later.kind(), expected_kind(how), "{how}: {later}");
        // The host, and its other plugins, are fine.
        let greeter: Plugin<dyn Greeter> = host.dispense("greeter").unwrap();
        assert_eq!(greeter.greet("Ada").unwrap(), "Hello, Ada!");
    }
}

#[test]
fn a_crash_in_a_method_without_result_panics_in_the_caller_naming_the_plugin() {
    let (dir, _) = folder();
    let host = isolated().build();
    load(&host, &dir);
    let crashy: Plugin<dyn Crashy> = host.dispense("crashy").unwrap();
    let payload = catch_unwind(AssertUnwindSafe(|| crashy.crash_plainly("segv"))).unwrap_err();
    let message = payload
        .downcast_ref::<String>()
        .expect("the panic carries the message");
    assert!(message.contains("`crashy`"), "{message}");
    let greeter: Plugin<dyn Greeter> = host.dispense("greeter").unwrap();
    assert!(greeter.greet("Ada").is_ok());
}

#[test]
fn each_crash_in_init_refuses_the_file_and_the_others_load() {
    let (dir, crashy) = folder();
    for how in crashes() {
        let host = for_crash(isolated(), how)
            .host_info(format!("{CRASH_IN_INIT}{how}"), "1.0.0")
            .build();
        let report = host.load_dir(dir.path());
        let refused: Vec<_> = report.refused().collect();
        assert_eq!(refused.len(), 1, "{how}: {report}");
        let kind = refused[0].kind();
        let right = match how {
            "spin" => matches!(kind, LoadErrorKind::TimedOut { .. }),
            _ => matches!(kind, LoadErrorKind::Crashed { .. }),
        };
        assert!(right, "{how}: {}", refused[0]);
        assert_eq!(refused[0].path(), crashy);
        let greeter: Plugin<dyn Greeter> = host.dispense("greeter").unwrap();
        assert!(greeter.greet("Ada").is_ok(), "{how}");
    }
}

#[test]
fn a_restart_policy_starts_a_new_process_on_the_next_call() {
    let (dir, _) = folder();
    let host = isolated()
        .restart_policy(RestartPolicy::OnNextCall {
            backoff: Duration::ZERO,
        })
        .build();
    load(&host, &dir);
    let crashy: Plugin<dyn Crashy> = host.dispense("crashy").unwrap();
    let first = crashy.process_id();
    assert_eq!(host.process_id("crashy"), Some(first));
    assert_eq!(
        crashy.crash("abort").unwrap_err().kind(),
        PluginErrorKind::Crashed
    );
    // The next call starts a new runner and makes the object again there.
    assert_eq!(crashy.echo("again"), "again");
    let second = crashy.process_id();
    assert_ne!(first, second);
    assert_eq!(host.process_id("crashy"), Some(second));
}

#[test]
fn a_restart_waits_for_its_backoff() {
    let (dir, _) = folder();
    let host = isolated()
        .restart_policy(RestartPolicy::OnNextCall {
            backoff: Duration::from_secs(3600),
        })
        .build();
    load(&host, &dir);
    let crashy: Plugin<dyn Crashy> = host.dispense("crashy").unwrap();
    assert_eq!(
        crashy.crash("exit").unwrap_err().kind(),
        PluginErrorKind::Crashed
    );
    // Within the backoff, calls report the crash without starting anything.
    assert_eq!(
        crashy.crash("nothing").unwrap_err().kind(),
        PluginErrorKind::Crashed
    );
    assert_eq!(host.process_id("crashy"), None);
}
