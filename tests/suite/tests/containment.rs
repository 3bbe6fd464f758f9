//! Failure containment: panics in a method, a factory and init come back as
//! errors; the poisoned policy; shutdown; calls from many threads.

use std::sync::Arc;

use plugboard_demo::{GreeterBox, KeyValueBox};
use plugboard_host::{CallError, DispenseError, LoadError, Plugin};
use plugboard_interface::{PanicPolicy, PluginErrorKind};
use plugboard_tests::{demo_builder, demo_host, PluginDir};

#[test]
fn a_panic_in_a_method_is_an_error_and_the_plugin_keeps_serving() {
    let dir = PluginDir::new();
    dir.add("fixture-panicky");
    let mut host = demo_host();
    assert!(host.load_dir(dir.path()).all_loaded());
    let greeter: Plugin<GreeterBox> = host.dispense("panicky").unwrap();
    assert!(!greeter.is_poisoned());

    let err = greeter.greet("panic".into()).unwrap_err();
    assert_eq!(err.kind(), PluginErrorKind::Panicked);
    assert_eq!(err.message(), "asked to panic by \"panic\"");
    assert!(greeter.is_poisoned(), "a caught panic marks the library");
    assert_eq!(host.is_poisoned("panicky"), Some(true));

    let err = greeter.call(|g| g.greet("panic".into())).unwrap_err();
    assert!(matches!(err, CallError::Failed { .. }));
    assert_eq!(
        err.to_string(),
        "plugin `panicky`: plugin panicked: asked to panic by \"panic\""
    );

    // The default policy keeps serving.
    assert_eq!(
        greeter.greet("again".into()).unwrap().as_str(),
        "still here, again"
    );
    assert!(host.dispense::<GreeterBox>("panicky").is_ok());
}

#[test]
fn refuse_after_panic_policy_refuses_later_calls_and_dispenses() {
    let dir = PluginDir::new();
    dir.add("fixture-panicky");
    let mut host = demo_builder()
        .panic_policy(PanicPolicy::RefuseAfterPanic)
        .build();
    assert!(host.load_dir(dir.path()).all_loaded());
    let greeter: Plugin<GreeterBox> = host.dispense("panicky").unwrap();
    assert_eq!(
        greeter.greet("fine".into()).unwrap().as_str(),
        "still here, fine"
    );

    assert_eq!(
        greeter.greet("panic".into()).unwrap_err().kind(),
        PluginErrorKind::Panicked
    );
    let refused = greeter.greet("fine".into()).unwrap_err();
    assert_eq!(refused.kind(), PluginErrorKind::Poisoned);
    match host.dispense::<GreeterBox>("panicky") {
        Err(DispenseError::FactoryFailed { source, .. }) => {
            assert_eq!(source.kind(), PluginErrorKind::Poisoned)
        }
        other => panic!("expected a poisoned factory, got {:?}", other.map(|_| ())),
    }
}

#[test]
fn a_panic_in_a_factory_is_a_dispense_error() {
    let dir = PluginDir::new();
    dir.add("fixture-panicky");
    let mut host = demo_host();
    assert!(host.load_dir(dir.path()).all_loaded());

    let err = host.dispense::<GreeterBox>("broken").unwrap_err();
    match &err {
        DispenseError::FactoryFailed { plugin, source, .. } => {
            assert_eq!(plugin, "broken");
            assert_eq!(source.kind(), PluginErrorKind::Panicked);
            assert_eq!(source.message(), "the factory of `broken` always panics");
        }
        other => panic!("expected FactoryFailed, got {other:?}"),
    }
    assert!(err
        .to_string()
        .contains("failed to create its object: plugin panicked"));
    // The library's other plugin still works.
    let ok: Plugin<GreeterBox> = host.dispense("panicky").unwrap();
    assert_eq!(ok.greet("x".into()).unwrap().as_str(), "still here, x");
}

#[test]
fn a_panic_in_init_refuses_the_library_and_the_others_load() {
    let dir = PluginDir::new();
    let bad = dir.add("fixture-panic-in-init");
    dir.add("greeter");
    let mut host = demo_host();
    let report = host.load_dir(dir.path());
    match report.outcome(&bad).unwrap().result.as_ref() {
        Err(e @ LoadError::InitFailed { reason, .. }) => {
            assert_eq!(reason, "plugin panicked: on_load exploded");
            assert!(e.to_string().starts_with(&bad.display().to_string()));
        }
        other => panic!("expected InitFailed, got {other:?}"),
    }
    assert!(host.plugin("never").is_none());
    let greeter: Plugin<GreeterBox> = host.dispense("greeter").unwrap();
    assert_eq!(
        greeter.greet("World".into()).unwrap().as_str(),
        "Hello, World!"
    );
}

#[test]
fn dispense_after_close_is_refused_and_objects_keep_working() {
    let dir = PluginDir::new();
    dir.add("greeter");
    dir.add("kv");
    let mut host = demo_host();
    assert!(host.load_dir(dir.path()).all_loaded());
    let greeter: Plugin<GreeterBox> = host.dispense("greeter").unwrap();

    let shutdowns = host.close();
    let names: Vec<String> = shutdowns
        .iter()
        .map(|(p, _)| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["libkv.so", "libgreeter.so"], "reverse load order");
    assert!(shutdowns.iter().all(|(_, r)| r.is_ok()));
    assert!(host.close().is_empty(), "close runs once");

    assert!(matches!(
        host.dispense::<GreeterBox>("greeter"),
        Err(DispenseError::Closed { .. })
    ));
    // The library is never unloaded: the object still answers.
    assert_eq!(
        greeter.greet("after".into()).unwrap().as_str(),
        "Hello, after!"
    );
}

#[test]
fn dispensed_objects_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Plugin<GreeterBox>>();
    assert_send_sync::<Plugin<KeyValueBox>>();
    assert_send_sync::<plugboard_host::PluginHost>();
}

#[test]
fn eight_threads_make_a_million_calls_into_one_plugin() {
    const THREADS: usize = 8;
    const CALLS_PER_THREAD: usize = 125_000;
    let dir = PluginDir::new();
    dir.add("greeter-formal");
    let mut host = demo_host();
    assert!(host.load_dir(dir.path()).all_loaded());
    let greeter: Arc<Plugin<GreeterBox>> = Arc::new(host.dispense("formal-greeter").unwrap());

    let answered: usize = std::thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let greeter = Arc::clone(&greeter);
                s.spawn(move || {
                    let name = format!("thread {t}");
                    let expected = format!("Good day to you, {name}.");
                    (0..CALLS_PER_THREAD)
                        .filter(|_| {
                            greeter.greet(name.as_str().into()).unwrap().as_str() == expected
                        })
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
    let mut host = demo_host();
    assert!(host.load_dir(dir.path()).all_loaded());
    let kv: Plugin<KeyValueBox> = host.dispense("kv").unwrap();

    std::thread::scope(|s| {
        for t in 0..THREADS {
            let kv = &kv;
            s.spawn(move || {
                for i in 0..KEYS_PER_THREAD {
                    let key = format!("t{t}-k{i}");
                    kv.put(key.as_str().into(), format!("v{t}-{i}").as_str().into())
                        .unwrap();
                    // Interleave reads with the other threads' writes.
                    assert!(kv.get(key.as_str().into()).unwrap().is_some());
                }
            });
        }
    });

    let keys = kv.list().unwrap();
    assert_eq!(keys.len(), THREADS * KEYS_PER_THREAD, "no write lost");
    for t in 0..THREADS {
        for i in 0..KEYS_PER_THREAD {
            let value = kv.get(format!("t{t}-k{i}").as_str().into()).unwrap();
            assert_eq!(value.unwrap().as_str(), format!("v{t}-{i}"));
        }
    }
}
