//! The log bridge and host services: plugin records reach the host's logger
//! tagged with the plugin's name; filtered levels never cross; the plugin
//! calls back into the host.
//!
//! One capturing logger serves the whole test binary, so the tests here take
//! a lock and look only at what they logged.

use std::sync::{Mutex, MutexGuard, OnceLock};

use plugboard_demo::{Counter, Greeter};
use plugboard_host::{Plugin, PluginHost};
use plugboard_tests::{demo_builder, demo_host, PluginDir, ADDER_CALLS};

#[derive(Debug, Clone, PartialEq, Eq)]
struct Captured {
    level: log::Level,
    target: String,
    message: String,
}

struct Capture(Mutex<Vec<Captured>>);

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        self.0.lock().unwrap().push(Captured {
            level: record.level(),
            target: record.target().to_owned(),
            message: record.args().to_string(),
        });
    }
    fn flush(&self) {}
}

/// The process-wide capture, emptied, and the lock that serialises tests.
fn capture() -> (MutexGuard<'static, ()>, &'static Capture) {
    static LOCK: Mutex<()> = Mutex::new(());
    static CAPTURE: OnceLock<&'static Capture> = OnceLock::new();
    let guard = LOCK.lock().unwrap_or_else(|p| p.into_inner());
    let capture = *CAPTURE.get_or_init(|| {
        let capture: &'static Capture = Box::leak(Box::new(Capture(Mutex::new(Vec::new()))));
        log::set_logger(capture).expect("the only logger of this test binary");
        capture
    });
    log::set_max_level(log::LevelFilter::Trace);
    capture.0.lock().unwrap().clear();
    (guard, capture)
}

fn records(capture: &Capture, target_prefix: &str) -> Vec<Captured> {
    capture
        .0
        .lock()
        .unwrap()
        .iter()
        .filter(|r| r.target.starts_with(target_prefix))
        .cloned()
        .collect()
}

fn chatty_host(dir: &PluginDir) -> PluginHost {
    dir.add("fixture-chatty");
    let host = demo_host();
    assert!(host.load_dir(dir.path()).all_loaded());
    host
}

#[test]
fn plugin_records_reach_the_host_with_target_and_level() {
    let (_lock, capture) = capture();
    let dir = PluginDir::new();
    let host = chatty_host(&dir);
    let chatty: Plugin<dyn Greeter> = host.dispense("chatty").unwrap();

    chatty.greet("A").unwrap();
    let got = records(capture, "plugin::fixture-chatty::");
    let expected: Vec<(log::Level, &str)> = vec![
        (log::Level::Error, "error for A"),
        (log::Level::Warn, "warn for A"),
        (log::Level::Info, "info for A"),
        (log::Level::Debug, "debug for A"),
        (log::Level::Trace, "trace for A"),
    ];
    let got_pairs: Vec<(log::Level, &str)> =
        got.iter().map(|r| (r.level, r.message.as_str())).collect();
    assert_eq!(got_pairs, expected);
    assert!(
        got.iter()
            .all(|r| r.target == "plugin::fixture-chatty::fixture_chatty"),
        "{got:?}"
    );
}

#[test]
fn filtered_levels_are_not_forwarded_and_level_changes_follow() {
    let (_lock, capture) = capture();
    let dir = PluginDir::new();
    let host = chatty_host(&dir);
    let chatty: Plugin<dyn Greeter> = host.dispense("chatty").unwrap();

    host.set_max_log_level(log::LevelFilter::Warn);
    let before = host.log_records_forwarded();
    chatty.greet("B").unwrap();
    assert_eq!(
        host.log_records_forwarded() - before,
        2,
        "only error and warn cross"
    );
    let levels: Vec<log::Level> = records(capture, "plugin::")
        .iter()
        .map(|r| r.level)
        .collect();
    assert_eq!(levels, [log::Level::Error, log::Level::Warn]);

    host.set_max_log_level(log::LevelFilter::Off);
    let before = host.log_records_forwarded();
    chatty.greet("C").unwrap();
    assert_eq!(
        host.log_records_forwarded(),
        before,
        "nothing crosses when logging is off"
    );

    host.set_max_log_level(log::LevelFilter::Debug);
    let before = host.log_records_forwarded();
    chatty.greet("D").unwrap();
    assert_eq!(
        host.log_records_forwarded() - before,
        4,
        "the plugin follows the host's new level"
    );
}

#[test]
fn logging_from_eight_threads_loses_no_record() {
    const THREADS: usize = 8;
    const CALLS: usize = 2_000;
    let (_lock, capture) = capture();
    let dir = PluginDir::new();
    let host = chatty_host(&dir);
    let chatty: Plugin<dyn Greeter> = host.dispense("chatty").unwrap();

    std::thread::scope(|s| {
        for t in 0..THREADS {
            let chatty = &chatty;
            s.spawn(move || {
                for i in 0..CALLS {
                    chatty.shout(&format!("{t}-{i}")).unwrap();
                }
            });
        }
    });
    let got = records(capture, "plugin::fixture-chatty::chatty::threads");
    assert_eq!(got.len(), THREADS * CALLS);
    for t in 0..THREADS {
        for i in [0, CALLS / 2, CALLS - 1] {
            let message = format!("shout {t}-{i}");
            assert!(
                got.iter().any(|r| r.message == message),
                "missing {message}"
            );
        }
    }
}

#[test]
fn shutdown_hooks_run_once_in_reverse_load_order() {
    let (_lock, capture) = capture();
    let dir = PluginDir::new();
    dir.add("fixture-chatty"); // libfixture_chatty.so loads first
    dir.add("kv"); // libkv.so second
    let host = demo_host();
    assert!(host.load_dir(dir.path()).all_loaded());

    host.close();
    let got: Vec<String> = records(capture, "plugin::")
        .into_iter()
        .filter(|r| r.message.contains("shutting down"))
        .map(|r| r.target)
        .collect();
    assert_eq!(
        got,
        [
            "plugin::kv::kv",
            "plugin::fixture-chatty::chatty::lifecycle"
        ]
    );

    drop(host);
    let again = records(capture, "plugin::")
        .into_iter()
        .filter(|r| r.message.contains("shutting down"))
        .count();
    assert_eq!(again, 2, "dropping a closed host does not shut down twice");
}

#[test]
fn dropping_the_host_runs_the_shutdown_hooks() {
    let (_lock, capture) = capture();
    let dir = PluginDir::new();
    dir.add("kv");
    let host = demo_host();
    assert!(host.load_dir(dir.path()).all_loaded());
    drop(host);
    assert_eq!(
        records(capture, "plugin::kv::").last().unwrap().message,
        "kv shutting down"
    );
}

#[test]
fn without_host_info_plugins_see_plugboard_and_the_interface_crates_version() {
    let (_lock, capture) = capture();
    let dir = PluginDir::new();
    dir.add("kv");
    let host = demo_builder().build();
    assert!(host.load_dir(dir.path()).all_loaded());
    let expected = format!("kv loaded by plugboard {}", plugboard_interface::VERSION);
    let loaded_by = records(capture, "plugin::kv::");
    assert!(
        loaded_by.iter().any(|r| r.message == expected),
        "{loaded_by:?}"
    );
}

#[test]
fn a_plugin_calls_back_into_the_host() {
    let (_lock, capture) = capture();
    let dir = PluginDir::new();
    dir.add("counter");
    dir.add("kv");
    let host = demo_builder().host_info("test-host", "9.9.9").build();
    assert!(host.load_dir(dir.path()).all_loaded());

    let counter: Plugin<dyn Counter> = host.dispense("counter").unwrap();
    let before = ADDER_CALLS.load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(counter.add("k", 5).unwrap(), 5);
    assert_eq!(counter.add("k", 7).unwrap(), 12);
    assert_eq!(counter.get("k").unwrap(), 12);
    let calls = ADDER_CALLS.load(std::sync::atomic::Ordering::SeqCst) - before;
    assert!(
        calls >= 2,
        "the host's AddHelper did the additions ({calls} calls)"
    );

    // The plugin sees the host's name through its services.
    let loaded_by = records(capture, "plugin::kv::");
    assert!(
        loaded_by
            .iter()
            .any(|r| r.message == "kv loaded by test-host 9.9.9"),
        "{loaded_by:?}"
    );
}

#[test]
fn a_missing_host_service_is_an_error_not_a_crash() {
    let (_lock, _capture) = capture();
    let dir = PluginDir::new();
    dir.add("counter");
    let host = PluginHost::builder()
        .handshake(plugboard_demo::HANDSHAKE)
        .build();
    assert!(host.load_dir(dir.path()).all_loaded());
    let counter: Plugin<dyn Counter> = host.dispense("counter").unwrap();
    let err = counter.add("k", 1).unwrap_err();
    assert_eq!(err.kind(), plugboard_interface::PluginErrorKind::Failed);
    assert_eq!(
        err.message(),
        "the host offers no service named `add-helper` (it offers: none)"
    );
}

#[test]
fn a_plugin_panic_reaches_the_host_log_with_its_location() {
    let (_lock, capture) = capture();
    let dir = PluginDir::new();
    dir.add("fixture-panicky");
    let host = demo_host();
    assert!(host.load_dir(dir.path()).all_loaded());
    let greeter: Plugin<dyn Greeter> = host.dispense("panicky").unwrap();
    assert!(greeter.greet("panic").is_err());
    let got = records(capture, "plugin::fixture-panicky::panic");
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].level, log::Level::Error);
    // Its first line; a backtrace follows when RUST_BACKTRACE asks for one.
    let first = got[0].message.lines().next().unwrap();
    assert!(
        first.starts_with("panicked at tests/fixtures/panicky/src/lib.rs:")
            && first.ends_with(": asked to panic by \"panic\""),
        "{got:?}"
    );
}

/// A plugin's panics print nothing on the host's standard error: the
/// message goes to the host's logger (here, one that writes `LOG` lines to
/// standard error), for a method with `Result`, one without, and a factory.
#[test]
fn plugin_panics_print_nothing_but_the_hosts_log() {
    let Some(out) =
        plugboard_tests::rerun_in_child("plugin_panics_print_nothing_but_the_hosts_log", &[])
    else {
        struct Stderr;
        impl log::Log for Stderr {
            fn enabled(&self, _: &log::Metadata<'_>) -> bool {
                true
            }
            fn log(&self, record: &log::Record<'_>) {
                let message = record.args().to_string().replace('\n', " | ");
                eprintln!("LOG {} {message}", record.target());
            }
            fn flush(&self) {}
        }
        log::set_logger(&Stderr).unwrap();
        log::set_max_level(log::LevelFilter::Error);
        let dir = PluginDir::new();
        dir.add("fixture-panicky");
        let host = demo_host();
        assert!(host.load_dir(dir.path()).all_loaded());
        let greeter: Plugin<dyn Greeter> = host.dispense("panicky").unwrap();
        assert!(greeter.greet("panic").is_err());
        let calc: Plugin<dyn plugboard_demo::Calc> = host.dispense("panicky-calc").unwrap();
        let resumed =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| calc.add(u64::MAX, 1)));
        assert!(resumed.is_err());
        assert!(host.dispense::<dyn Greeter>("broken").is_err());
        return;
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 3, "one log record per panic: {stderr}");
    assert!(
        lines
            .iter()
            .all(|l| l.starts_with("LOG plugin::fixture-panicky::panic panicked at ")),
        "only the host's log: {stderr}"
    );
}
