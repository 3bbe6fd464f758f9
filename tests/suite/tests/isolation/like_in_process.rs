//! What isolated plugins do as in process: call the host's services, keep
//! their state, report refusals and missing methods with the same kinds;
//! and how isolation is chosen.

use fixture_crash_interface::Crashy;
use plugboard_demo::{Counter, Greeter, KeyValue};
use plugboard_host::{DispenseError, Plugin, PluginHost};
use plugboard_interface::PluginErrorKind;
use plugboard_tests::{isolation_builder, PluginDir, ADDER_CALLS};

use super::{folder, isolated, load, RUNNER};

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
