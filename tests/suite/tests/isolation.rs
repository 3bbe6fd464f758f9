//! Isolated plugins: the same plugin file, run in a process of its own,
//! dispensed as the same `Plugin<dyn Trait>`. Each way a plugin can end its
//! process (a null write, `abort`, `exit(3)`, a stack overflow, a spin, an
//! unbounded allocation), in a method and in init, leaves the host running
//! with an error of the right kind; in-process, the same plugin ends (or
//! hangs) the host, shown in a child test process. No runner outlives its
//! host, even one killed with SIGKILL.
//!
//! Unix only, as isolation is (the runner inherits a socket pair and pipes;
//! see `plugboard_host::isolation`). On Windows an isolated load is refused:
//! `isolation_windows.rs`.
#![cfg(unix)]

use std::{
    io::{BufRead, BufReader},
    panic::{catch_unwind, AssertUnwindSafe},
    process::Stdio,
    sync::{mpsc, Mutex, OnceLock},
    time::Duration,
};

use fixture_crash_interface::{Crashy, CRASHES, CRASH_IN_INIT};
use plugboard_demo::{Counter, Greeter, KeyValue};
use plugboard_host::{
    DispenseError, LoadErrorKind, Plugin, PluginHost, PluginHostBuilder, RestartPolicy,
};
use plugboard_interface::PluginErrorKind;
use plugboard_tests::{
    child_command, is_child, isolation_builder, LineReader, PluginDir, ADDER_CALLS,
};

/// The program this test binary's hosts run isolated plugins in.
const RUNNER: &str = env!("CARGO_BIN_EXE_plugboard-test-runner");

/// A host that isolates every plugin, with the tests' runner.
fn isolated() -> PluginHostBuilder {
    capture_logs();
    isolation_builder()
        .isolate("all")
        .isolation_runner(RUNNER)
        .call_timeout(Duration::from_secs(60))
}

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

/// A folder with the crashing plugin and the greeter; the crashing
/// plugin's path.
fn folder() -> (PluginDir, std::path::PathBuf) {
    let dir = PluginDir::new();
    let crashy = dir.add("fixture-crashy");
    dir.add("greeter");
    (dir, crashy)
}

fn load(host: &PluginHost, dir: &PluginDir) {
    let report = host.load_dir(dir.path());
    assert!(report.all_loaded(), "{report}");
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
        let test = "the_same_crashes_end_or_hang_a_host_in_process";
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

#[test]
fn host_services_work_for_isolated_plugins() {
    let dir = PluginDir::new();
    dir.add("counter");
    let host = isolated().build();
    load(&host, &dir);
    assert!(host.libraries()[0].isolated);
    let counter: Plugin<dyn Counter> = host.dispense("counter").unwrap();
    let before = ADDER_CALLS.load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(counter.add("visits", 40).unwrap(), 40);
    assert_eq!(counter.add("visits", 2).unwrap(), 42);
    // The sums were done by the host's own service, called back from the
    // plugin's process.
    assert!(ADDER_CALLS.load(std::sync::atomic::Ordering::SeqCst) >= before + 2);
}

#[test]
fn isolated_objects_keep_their_state_and_several_live_side_by_side() {
    let dir = PluginDir::new();
    dir.add("kv");
    let host = isolated().build();
    load(&host, &dir);
    let first: Plugin<dyn KeyValue> = host.dispense("kv").unwrap();
    let second: Plugin<dyn KeyValue> = host.dispense("kv").unwrap();
    first.put("lang", "rust").unwrap();
    second.put("lang", "go").unwrap();
    assert_eq!(first.get("lang").unwrap().as_deref(), Some("rust"));
    assert_eq!(second.get("lang").unwrap().as_deref(), Some("go"));
    drop(second);
    assert_eq!(first.list().unwrap(), vec!["lang".to_owned()]);
}

#[test]
fn isolation_can_be_chosen_per_plugin_and_per_file() {
    let dir = PluginDir::new();
    dir.add("fixture-crashy");
    let greeter = dir.add("greeter");
    let by_name = isolation_builder()
        .isolate("crashy")
        .isolation_runner(RUNNER)
        .build();
    load(&by_name, &dir);
    assert!(by_name.is_isolated("crashy"));
    assert!(!by_name.is_isolated("greeter"));
    let just_the_name = std::path::PathBuf::from(greeter.file_name().unwrap());
    for file in [greeter.clone(), just_the_name] {
        let by_file = isolation_builder()
            .isolate(file)
            .isolation_runner(RUNNER)
            .build();
        load(&by_file, &dir);
        assert!(by_file.is_isolated("greeter"));
        assert!(!by_file.is_isolated("crashy"));
        let crashy: Plugin<dyn Crashy> = by_file.dispense("crashy").unwrap();
        assert_eq!(crashy.process_id(), std::process::id());
    }
}

#[test]
fn refusals_in_the_runner_have_the_in_process_kinds() {
    let dir = PluginDir::new();
    dir.add("fixture-fake-greeter");
    let in_process = isolation_builder().build().load_dir(dir.path());
    let isolated = isolated().build().load_dir(dir.path());
    let kind = |report: &plugboard_host::LoadReport| {
        report
            .refused()
            .map(|e| e.kind().name())
            .collect::<Vec<_>>()
    };
    assert_eq!(kind(&in_process), vec!["LayoutMismatch"]);
    assert_eq!(kind(&isolated), kind(&in_process));
}

#[test]
fn an_older_plugin_in_its_own_process_reports_a_missing_method() {
    let dir = PluginDir::new();
    dir.add("compat-plugin-1_0");
    let host = isolated().build();
    load(&host, &dir);
    let name = &host.plugins()[0].entry.name;
    let greeter: Plugin<dyn Greeter> = host.dispense(name).unwrap();
    assert!(greeter.greet("Ada").is_ok());
    let error = greeter.shout("Ada").unwrap_err();
    assert_eq!(error.kind(), PluginErrorKind::MethodMissing);
    assert!(!Plugin::provides(&greeter, "shout"));
}

#[test]
fn an_isolated_plugin_can_only_be_dispensed_as_a_registered_interface() {
    let (dir, _) = folder();
    let host = PluginHost::builder()
        .handshake(plugboard_demo::HANDSHAKE)
        .interface::<dyn Crashy>()
        .isolate("all")
        .isolation_runner(RUNNER)
        .build();
    load(&host, &dir);
    match host.dispense::<dyn Greeter>("greeter") {
        Err(DispenseError::Unregistered { .. }) => {}
        other => panic!("expected Unregistered, got {:?}", other.map(|_| ())),
    }
}

/// Log records (target, message) seen by this test binary's logger.
static RECORDS: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        RECORDS
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((record.target().to_owned(), record.args().to_string()));
    }
    fn flush(&self) {}
}

fn capture_logs() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        log::set_logger(&Capture).unwrap();
        log::set_max_level(log::LevelFilter::Debug);
    });
}

fn logged(target: &str, text: &str) -> bool {
    RECORDS
        .lock()
        .unwrap()
        .iter()
        .any(|(t, m)| t == target && m.contains(text))
}

#[test]
fn an_isolated_plugins_logs_and_panics_reach_the_host_logger() {
    let (dir, _) = folder();
    let host = isolated().build();
    load(&host, &dir);
    let greeter: Plugin<dyn Greeter> = host.dispense("greeter").unwrap();
    greeter.greet("Logan").unwrap();
    // Logged during the call, forwarded before the call returned.
    assert!(logged("plugin::greeter::greeter", "Logan"));
    let crashy: Plugin<dyn Crashy> = host.dispense("crashy").unwrap();
    let error = crashy.panic("a panic with a message").unwrap_err();
    assert_eq!(error.kind(), PluginErrorKind::Panicked);
    assert!(
        logged("plugin::fixture-crashy::panic", "a panic with a message"),
        "{:#?}",
        RECORDS.lock().unwrap_or_else(|p| p.into_inner()).clone()
    );
    // The runner keeps serving after a panic.
    assert_eq!(crashy.echo("still here"), "still here");
}

/// Whether process `pid` is gone (or a zombie no one has reaped yet is all
/// that is left of it).
fn gone(pid: u32) -> bool {
    // SAFETY: kill with signal 0 only checks that the process exists.
    let alive = unsafe { libc::kill(pid as libc::pid_t, 0) } == 0;
    !alive || std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| s.contains(") Z "))
}

#[test]
fn closing_a_host_ends_its_runners() {
    let (dir, _) = folder();
    let host = isolated().build();
    load(&host, &dir);
    let pid = host.process_id("crashy").unwrap();
    assert!(!gone(pid));
    drop(host);
    assert!(gone(pid));
}

#[cfg(target_os = "linux")]
#[test]
fn no_runner_outlives_its_host_even_one_killed_with_sigkill() {
    let (dir, _) = folder();
    let mut command = std::process::Command::new(RUNNER);
    command.arg("host").arg(dir.path());
    let mut host = LineReader::spawn(command);
    let line = host.next_line("runner ");
    let pid: i32 = line["runner ".len()..].parse().unwrap();
    // A descriptor for the runner, to wait for its end without polling.
    // SAFETY: pidfd_open takes a pid and flags; it returns a new descriptor.
    let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) } as i32;
    assert!(pidfd >= 0, "the runner is already gone");
    // The host is inside a call that never returns; kill it outright.
    drop(host);
    let mut poll = libc::pollfd {
        fd: pidfd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd; the timeout only bounds a failing test.
    let ready = unsafe { libc::poll(&mut poll, 1, 60_000) };
    // SAFETY: closes the descriptor opened above.
    unsafe { libc::close(pidfd) };
    assert_eq!(ready, 1, "the runner outlived its host");
}

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
