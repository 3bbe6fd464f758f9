//! Each way a plugin can end its process, in a method and in init: an
//! error of the right kind when isolated (and a restart when the policy
//! says so); the end (or a hang) of the host in process.

use std::{
    io::{BufRead, BufReader},
    panic::{catch_unwind, AssertUnwindSafe},
    process::Stdio,
    sync::mpsc,
    time::Duration,
};

use fixture_crash_interface::{Crashy, CRASHES, CRASH_IN_INIT};
use plugboard_demo::Greeter;
use plugboard_host::{LoadErrorKind, Plugin, PluginHostBuilder, RestartPolicy};
use plugboard_interface::PluginErrorKind;
use plugboard_tests::{child_command, is_child, isolation_builder};

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
    for how in CRASHES {
        let host = for_crash(isolated(), how).build();
        load(&host, &dir);
        let crashy: Plugin<dyn Crashy> = host.dispense("crashy").unwrap();
        assert_eq!(crashy.echo("before"), "before");
        let error = crashy.crash(how).unwrap_err();
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
    for how in CRASHES {
        let host = for_crash(isolated(), how)
            .host_info(format!("{CRASH_IN_INIT}{how}"), "1.0.0")
            .build();
        let report = host.load_dir(dir.path());
        let refused: Vec<_> = report.refused().collect();
        assert_eq!(refused.len(), 1, "{how}: {report}");
        let kind = refused[0].kind();
        let right = match how {
            &"spin" => matches!(kind, LoadErrorKind::TimedOut { .. }),
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

/// The body of the in-process runs: loads the crashing plugin into this
/// (child) process and makes it crash as `PLUGBOARD_TEST_CRASH` says.
fn crash_in_process() {
    let how = std::env::var("PLUGBOARD_TEST_CRASH").expect("the crash to make");
    let host = isolation_builder().build();
    let (dir, _) = folder();
    load(&host, &dir);
    let crashy: Plugin<dyn Crashy> = host.dispense("crashy").unwrap();
    println!("calling");
    let outcome = crashy.crash(&how);
    println!("returned {outcome:?}");
}

#[test]
fn the_same_crashes_end_or_hang_a_host_in_process() {
    if is_child() {
        crash_in_process();
        return;
    }
    for how in CRASHES {
        // A shell caps the child's memory, so that the allocation ends in
        // the child and not in the machine's out-of-memory killer.
        let test = "crashes::the_same_crashes_end_or_hang_a_host_in_process";
        let command = child_command(test);
        let mut shell = std::process::Command::new("sh");
        shell
            .arg("-c")
            .arg("ulimit -v 2097152; exec \"$@\"")
            .arg("sh")
            .arg(command.get_program())
            .args(command.get_args())
            .envs(command.get_envs().filter_map(|(k, v)| Some((k, v?))))
            .env("PLUGBOARD_TEST_CRASH", how)
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = shell.spawn().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let (lines, seen) = mpsc::channel();
        std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                let _ = lines.send(line);
            }
        });
        // Wait until the child makes the call...
        loop {
            let line = seen
                .recv_timeout(Duration::from_secs(120))
                .unwrap_or_else(|_| panic!("{how}: the child never made the call"));
            // (libtest prints the test's name before its first line)
            if line.ends_with("calling") {
                break;
            }
        }
        // ...then for it to end: a crash ends it; a spin never does (it is
        // given a few seconds to show it, the others all the time they need).
        let wait = if *how == "spin" { 5 } else { 600 };
        let mut returned = false;
        let ended = loop {
            match seen.recv_timeout(Duration::from_secs(wait)) {
                Ok(line) => returned |= line.contains("returned"),
                Err(mpsc::RecvTimeoutError::Disconnected) => break true,
                Err(mpsc::RecvTimeoutError::Timeout) => break false,
            }
        };
        if !ended {
            let _ = child.kill();
        }
        let status = child.wait().unwrap();
        assert!(!returned, "{how}: the call returned in-process");
        if *how == "spin" {
            assert!(!ended, "the spinning call ended its host");
        } else {
            assert!(
                ended && !status.success(),
                "{how}: the host survived ({status})"
            );
        }
    }
}
