//! The foundation: real plugin libraries load through the real loader,
//! side by side, and dispense typed, checked objects.

use plugboard_demo::{GreeterBox, KeyValueBox};
use plugboard_host::{DispenseError, LoadError};
use plugboard_tests::{demo_host, PluginDir};

fn greet(host: &plugboard_host::PluginHost, plugin: &str, name: &str) -> String {
    let greeter: GreeterBox = host.dispense(plugin).expect("dispense a greeter");
    greeter.greet(name.into()).unwrap().into_string()
}

#[test]
fn two_greeter_libraries_load_side_by_side_and_answer_differently() {
    let dir = PluginDir::new();
    dir.add("greeter");
    dir.add("greeter-formal");
    let mut host = demo_host();
    let report = host.load_dir(dir.path());
    assert!(report.all_loaded(), "{report}");
    assert_eq!(report.loaded().count(), 2);

    assert_eq!(greet(&host, "greeter", "World"), "Hello, World!");
    assert_eq!(
        greet(&host, "formal-greeter", "World"),
        "Good day to you, World."
    );
}
