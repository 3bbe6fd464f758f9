//! Failure containment: panics in a method (with and without `Result`), a
//! factory and init come back as errors (or as a panic in the caller that
//! names the plugin); the poisoned policy; shutdown; calls from many
//! threads.

use std::{panic::AssertUnwindSafe, sync::Arc};

use plugboard_demo::{Calc, Greeter, KeyValue};
use plugboard_host::{DispenseError, LoadErrorKind, Plugin};
use plugboard_interface::{PanicPolicy, PluginErrorKind};
use plugboard_tests::{demo_builder, demo_host, lib_name, PluginDir};

fn panicky_host() -> (PluginDir, plugboard_host::PluginHost) {
    let dir = PluginDir::new();
    dir.add("fixture-panicky");
    let host = demo_host();
    assert!(host.load_dir(dir.path()).all_loaded());
    (dir, host)
}

#[test]
fn a_panic_in_a_result_method_is_an_error_and_the_plugin_keeps_serving() {
    let (_dir, host) = panicky_host();
    let greeter: Plugin<dyn Greeter> = host.dispense("panicky").unwrap();
    assert!(!Plugin::is_poisoned(&greeter));

    let err = greeter.greet("panic").unwrap_err();
    assert_eq!(err.kind(), PluginErrorKind::Panicked);
    assert_eq!(err.message(), "asked to panic by \"panic\"");
    assert!(
        Plugin::is_poisoned(&greeter),
        "a caught panic marks the library"
    );
    assert_eq!(host.is_poisoned("panicky"), Some(true));

    // The default policy keeps serving.
    assert_eq!(greeter.greet("again").unwrap(), "still here, again");
    assert!(host.dispense::<dyn Greeter>("panicky").is_ok());
}

#[test]
fn a_panic_in_a_method_without_result_resumes_in_the_caller_naming_the_plugin() {
    let (_dir, host) = panicky_host();
    let calc: Plugin<dyn Calc> = host.dispense("panicky-calc").unwrap();
    assert_eq!(calc.add(1, 2), 3);

    let caught = std::panic::catch_unwind(AssertUnwindSafe(|| calc.add(u64::MAX, 1)))
        .expect_err("the plugin's panic reaches the caller as a panic");
    let message = caught
        .downcast_ref::<String>()
        .expect("the payload is the message");
    assert_eq!(
        message,
        "plugin `panicky-calc` panicked in `add`: add was given u64::MAX"
    );

    let caught = std::panic::catch_unwind(AssertUnwindSafe(|| calc.greet("panic")))
        .expect_err("a String-returning method resumes too");
    assert_eq!(
        caught.downcast_ref::<String>().unwrap(),
        "plugin `panicky-calc` panicked in `greet`: greet was asked to panic"
    );

    // A `Result` method of the same plugin returns the panic as an error.
    let err = calc.checked_add(u64::MAX, 1).unwrap_err();
    assert_eq!(err.kind(), PluginErrorKind::Panicked);
    assert_eq!(err.message(), "checked_add was given u64::MAX");

    // And the object keeps working.
    assert_eq!(calc.greet("after"), "calm, after");
    assert_eq!(calc.add(2, 2), 4);
}

#[test]
fn refuse_after_panic_policy_refuses_later_calls_and_dispenses() {
    let dir = PluginDir::new();
    dir.add("fixture-panicky");
    let host = demo_builder()
        .panic_policy(PanicPolicy::RefuseAfterPanic)
        .build();
    assert!(host.load_dir(dir.path()).all_loaded());
    let greeter: Plugin<dyn Greeter> = host.dispense("panicky").unwrap();
    assert_eq!(greeter.greet("fine").unwrap(), "still here, fine");

    assert_eq!(
        greeter.greet("panic").unwrap_err().kind(),
        PluginErrorKind::Panicked
    );
    let refused = greeter.greet("fine").unwrap_err();
    assert_eq!(refused.kind(), PluginErrorKind::Poisoned);
    match host.dispense::<dyn Greeter>("panicky") {
        Err(DispenseError::FactoryFailed { error, .. }) => {
            assert_eq!(error.kind(), PluginErrorKind::Poisoned)
        }
        other => panic!("expected a poisoned factory, got {:?}", other.map(|_| ())),
    }
    // The library's other plugin is refused too: poisoning is per library.
    let calc: Result<Plugin<dyn Calc>, _> = host.dispense("panicky-calc");
    assert!(
        calc.is_err(),
        "dispensing from a poisoned library is refused"
    );
}

#[test]
fn a_panic_in_a_factory_is_a_dispense_error() {
    let (_dir, host) = panicky_host();
    let err = host.dispense::<dyn Greeter>("broken").unwrap_err();
    match &err {
        DispenseError::FactoryFailed { plugin, error, .. } => {
            assert_eq!(plugin, "broken");
            assert_eq!(error.kind(), PluginErrorKind::Panicked);
            assert_eq!(error.message(), "the factory of `broken` always panics");
        }
        other => panic!("expected FactoryFailed, got {other:?}"),
    }
    // The library's other plugin still works.
    let ok: Plugin<dyn Greeter> = host.dispense("panicky").unwrap();
    assert_eq!(ok.greet("x").unwrap(), "still here, x");
}

#[test]
fn a_panic_in_init_refuses_the_library_and_the_others_load() {
    let dir = PluginDir::new();
    let bad = dir.add("fixture-panic-in-init");
    dir.add("greeter");
    let host = demo_host();
    let report = host.load_dir(dir.path());
    let err = report.outcome(&bad).unwrap().result.as_ref().unwrap_err();
    match err.kind() {
        LoadErrorKind::InitFailed { reason } => {
            assert_eq!(reason, "plugin panicked: on_load exploded");
        }
        other => panic!("expected InitFailed, got {other:?}"),
    }
    assert!(err.to_string().starts_with(&bad.display().to_string()));
    assert!(host.plugin("never").is_none());
    let greeter: Plugin<dyn Greeter> = host.dispense("greeter").unwrap();
    assert_eq!(greeter.greet("World").unwrap(), "Hello, World!");
}

#[test]
fn dispense_after_close_is_refused_and_objects_keep_working() {
    let dir = PluginDir::new();
    dir.add("greeter");
    dir.add("kv");
    let host = demo_host();
    assert!(host.load_dir(dir.path()).all_loaded());
    let greeter: Plugin<dyn Greeter> = host.dispense("greeter").unwrap();

    let shutdowns = host.close();
    let names: Vec<String> = shutdowns
        .iter()
        .map(|(p, _)| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [lib_name("kv"), lib_name("greeter")],
        "reverse load order"
    );
    assert!(shutdowns.iter().all(|(_, r)| r.is_ok()));
    assert!(host.close().is_empty(), "close runs once");

    assert!(matches!(
        host.dispense::<dyn Greeter>("greeter"),
        Err(DispenseError::Closed { .. })
    ));
    // The library is never unloaded: the object still answers.
    assert_eq!(greeter.greet("after").unwrap(), "Hello, after!");
}

#[test]
fn hosts_and_dispensed_objects_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Plugin<dyn Greeter>>();
    assert_send_sync::<Plugin<dyn KeyValue>>();
    assert_send_sync::<plugboard_host::PluginHost>();
}

#[test]
fn eight_threads_make_a_million_calls_into_one_plugin() {
    const THREADS: usize = 8;
    const CALLS_PER_THREAD: usize = 125_000;
    let dir = PluginDir::new();
    dir.add("greeter-formal");
    let host = demo_host();
    assert!(host.load_dir(dir.path()).all_loaded());
    let greeter: Arc<Plugin<dyn Greeter>> = Arc::new(host.dispense("formal-greeter").unwrap());

    let answered: usize = std::thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let greeter = Arc::clone(&greeter);
                s.spawn(move || {
                    let name = format!("thread {t}");
                    let expected = format!("Good day to you, {name}.");
                    (0..CALLS_PER_THREAD)
                        .filter(|_| greeter.greet(&name).unwrap() == expected)
                        .count()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    assert_eq!(answered, THREADS * CALLS_PER_THREAD);
}

#[test]
fn concurrent_kv_writes_are_all_kept() {
    const THREADS: usize = 8;
    const KEYS_PER_THREAD: usize = 5_000;
    let dir = PluginDir::new();
    dir.add("kv");
    let host = demo_host();
    assert!(host.load_dir(dir.path()).all_loaded());
    let kv: Plugin<dyn KeyValue> = host.dispense("kv").unwrap();

    std::thread::scope(|s| {
        for t in 0..THREADS {
            let kv = &kv;
            s.spawn(move || {
                for i in 0..KEYS_PER_THREAD {
                    let key = format!("t{t}-k{i}");
                    kv.put(&key, &format!("v{t}-{i}")).unwrap();
                    // Interleave reads with the other threads' writes.
                    assert!(kv.get(&key).unwrap().is_some());
                }
            });
        }
    });

    let keys = kv.list().unwrap();
    assert_eq!(keys.len(), THREADS * KEYS_PER_THREAD, "no write lost");
    for t in 0..THREADS {
        for i in 0..KEYS_PER_THREAD {
            let value = kv.get(&format!("t{t}-k{i}")).unwrap();
            assert_eq!(value.as_deref(), Some(format!("v{t}-{i}").as_str()));
        }
    }
}
