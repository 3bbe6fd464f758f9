//! The version-compatibility matrix: hosts built against the demo `Greeter`
//! interface at 1.0, 1.1 and 2.0, each loading plugins built against 1.0,
//! 1.1, 2.0 and a 1.0 whose layout changed without a version bump. Every
//! cell's outcome is written below and checked through the real loader.

use plugboard_host::{CallError, LoadError, Plugin, PluginHost};
use plugboard_tests::PluginDir;

/// The plugin libraries, in the matrix's column order.
const PLUGINS: [&str; 4] = [
    "compat-plugin-1_0",
    "compat-plugin-1_1",
    "compat-plugin-2_0",
    "compat-plugin-1_0-silent",
];

/// What one cell must do.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// Loads; `greet("X")` answers this; these optional methods are missing.
    Loads(&'static str, &'static [&'static str]),
    /// Refused at load with this `LoadError::kind()`.
    Refused(&'static str),
}
use Expect::{Loads, Refused};

/// One host version: how to build it and how to call `greet` through it.
struct HostVersion {
    version: &'static str,
    build: fn() -> PluginHost,
    greet: fn(&PluginHost, &str) -> String,
    row: [Expect; 4],
}

fn builder() -> plugboard_host::PluginHostBuilder {
    PluginHost::builder()
        .handshake(plugboard_demo::HANDSHAKE)
        .protocol_versions([1])
}

const MATRIX: [HostVersion; 3] = [
    HostVersion {
        version: "1.0",
        build: || builder().interface::<greeter_v1_0::GreeterBox>().build(),
        greet: |host, name| {
            let g: Plugin<greeter_v1_0::GreeterBox> = host.dispense(name).unwrap();
            g.greet("X".into()).unwrap().into_string()
        },
        row: [
            Loads("1.0 says hello, X", &[]),
            // A newer minor: its extra method is invisible to this host.
            Loads("1.1 says hello, X", &[]),
            Refused("IncompatibleVersion"),
            Refused("LayoutMismatch"),
        ],
    },
    HostVersion {
        version: "1.1",
        build: || builder().interface::<plugboard_demo::GreeterBox>().build(),
        greet: |host, name| {
            let g: Plugin<plugboard_demo::GreeterBox> = host.dispense(name).unwrap();
            g.greet("X".into()).unwrap().into_string()
        },
        row: [
            // An older minor: abi_stable alone refuses this one.
            Loads("1.0 says hello, X", &["shout"]),
            Loads("1.1 says hello, X", &[]),
            Refused("IncompatibleVersion"),
            Refused("LayoutMismatch"),
        ],
    },
    HostVersion {
        version: "2.0",
        build: || builder().interface::<greeter_v2_0::GreeterBox>().build(),
        greet: |host, name| {
            let g: Plugin<greeter_v2_0::GreeterBox> = host.dispense(name).unwrap();
            g.greet("X".into(), greeter_v2_0::Style::Plain)
                .unwrap()
                .into_string()
        },
        row: [
            Refused("IncompatibleVersion"),
            Refused("IncompatibleVersion"),
            Loads("2.0 says hello, X", &[]),
            Refused("IncompatibleVersion"),
        ],
    },
];

#[test]
fn every_host_and_plugin_version_cell() {
    for host_version in &MATRIX {
        for (plugin, expect) in PLUGINS.iter().zip(host_version.row) {
            let cell = format!("host {} × {plugin}", host_version.version);
            let dir = PluginDir::new();
            dir.add(plugin);
            let mut host = (host_version.build)();
            let report = host.load_dir(dir.path());
            let outcome = &report.outcomes[0].result;
            match (expect, outcome) {
                (Loads(answer, missing), Ok(lib)) => {
                    let entry = &lib.entries[0];
                    let names: Vec<&str> = entry
                        .missing_methods
                        .iter()
                        .map(|m| m.name.as_str())
                        .collect();
                    assert_eq!(names, missing, "{cell}: missing optional methods");
                    assert_eq!((host_version.greet)(&host, &entry.name), answer, "{cell}");
                }
                (Refused(kind), Err(e)) => {
                    assert_eq!(e.kind(), kind, "{cell}: {e}");
                    assert!(
                        matches!(e, LoadError::IncompatibleInterface { .. }),
                        "{cell}: {e}"
                    );
                    let text = e.to_string();
                    assert!(!text.contains('\n'), "{cell}: one line: {text}");
                    assert!(text.len() < 600, "{cell}: short: {text}");
                }
                (expect, outcome) => panic!("{cell}: expected {expect:?}, got {outcome:?}"),
            }
        }
    }
}

#[test]
fn a_method_newer_than_the_plugin_is_a_typed_error() {
    let dir = PluginDir::new();
    dir.add("compat-plugin-1_0");
    let mut host = builder().interface::<plugboard_demo::GreeterBox>().build();
    assert!(host.load_dir(dir.path()).all_loaded());
    let greeter: Plugin<plugboard_demo::GreeterBox> = host.dispense("greeter-1.0").unwrap();
    assert!(!greeter.provides("shout"));

    // Called directly, the interface's default body answers (no panic, no
    // abort): the plugin's vtable has no `shout`.
    let raw = greeter.shout("X".into()).unwrap_err();
    assert_eq!(
        raw.kind(),
        plugboard_interface::PluginErrorKind::MethodMissing
    );

    let err = greeter.call(|g| g.shout("X".into())).unwrap_err();
    assert!(matches!(err, CallError::MethodMissing { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "plugin `greeter-1.0` was built against Greeter 1.0.0; `shout` arrived in 1.1.0. \
         Upgrade the plugin to a build against Greeter 1.1.0 or later to use it."
    );
    // The plugin keeps answering what it has.
    assert_eq!(
        greeter.greet("X".into()).unwrap().as_str(),
        "1.0 says hello, X"
    );
}

#[test]
fn a_newer_plugin_provides_the_new_method() {
    let dir = PluginDir::new();
    dir.add("compat-plugin-1_1");
    let mut host = builder().interface::<plugboard_demo::GreeterBox>().build();
    assert!(host.load_dir(dir.path()).all_loaded());
    let greeter: Plugin<plugboard_demo::GreeterBox> = host.dispense("greeter-1.1").unwrap();
    assert!(greeter.provides("shout"));
    assert_eq!(
        greeter.call(|g| g.shout("x".into())).unwrap(),
        "1.1 SAYS HELLO, X"
    );
}

#[test]
fn old_and_new_minors_load_side_by_side_in_one_host() {
    let dir = PluginDir::new();
    for plugin in PLUGINS {
        dir.add(plugin);
    }
    let mut host = builder().interface::<plugboard_demo::GreeterBox>().build();
    let report = host.load_dir(dir.path());
    assert_eq!(report.loaded().count(), 2, "{report}");
    let greet = MATRIX[1].greet;
    assert_eq!(greet(&host, "greeter-1.0"), "1.0 says hello, X");
    assert_eq!(greet(&host, "greeter-1.1"), "1.1 says hello, X");
}

#[test]
fn refusals_say_which_side_is_older_and_what_to_do() {
    let dir = PluginDir::new();
    let major = dir.add("compat-plugin-2_0");
    let silent = dir.add("compat-plugin-1_0-silent");
    let mut host = builder().interface::<plugboard_demo::GreeterBox>().build();
    let report = host.load_dir(dir.path());
    let text = |path| {
        report
            .outcome(path)
            .unwrap()
            .result
            .as_ref()
            .unwrap_err()
            .to_string()
    };

    let major = text(&major);
    assert!(
        major.contains("was built against Greeter 2.0.0, this host uses Greeter 1.1.0"),
        "{major}"
    );
    assert!(
        major.contains("the plugin is newer: upgrade the host"),
        "{major}"
    );

    let silent = text(&silent);
    assert!(
        silent.contains("declares Greeter 1.0.0 but its layout does not match"),
        "{silent}"
    );
    assert!(silent.contains("at `Greeter_TO"), "names where: {silent}");
    assert!(silent.contains("without a version bump"), "{silent}");
}

#[test]
fn an_unregistered_interface_is_checked_at_dispense_time() {
    // Without `.interface::<I>()`, a mismatched plugin loads, and the same
    // checks refuse it when it is dispensed.
    let dir = PluginDir::new();
    dir.add("compat-plugin-2_0");
    let mut host = builder().build();
    assert!(host.load_dir(dir.path()).all_loaded());
    let err = host
        .dispense::<plugboard_demo::GreeterBox>("greeter-2.0")
        .unwrap_err();
    assert_eq!(err.kind(), "IncompatibleVersion", "{err}");
}

#[test]
fn abi_stable_alone_refuses_an_older_minor_which_is_why_the_host_checks_both_ways() {
    use abi_stable::{abi_stability::abi_checking::check_layout_compatibility, StableAbi};
    let host_1_1 = <plugboard_demo::GreeterBox as StableAbi>::LAYOUT;
    let plugin_1_0 = <greeter_v1_0::GreeterBox as StableAbi>::LAYOUT;
    assert!(check_layout_compatibility(host_1_1, plugin_1_0).is_err());
    assert!(check_layout_compatibility(plugin_1_0, host_1_1).is_ok());
}

/// The root module evolves like an interface: a later plugboard-interface
/// adds a trailing, optional root-module field (`tests/compat/interface-next`).
#[test]
fn a_plugin_built_against_a_later_plugboard_interface_loads() {
    let dir = PluginDir::new();
    dir.add("compat-plugin-root-next");
    let mut host = builder().build();
    let report = host.load_dir(dir.path());
    let lib = report.loaded().next().unwrap_or_else(|| panic!("{report}"));
    assert_eq!(lib.entries[0].name, "ping");
    assert_eq!(lib.entries[0].interface, "Ping");
}

#[test]
fn a_later_host_accepts_a_plugin_built_against_an_older_plugboard_interface() {
    use abi_stable::{abi_stability::abi_checking::check_layout_compatibility, StableAbi};
    let newer = <plugboard_interface_next::PluginLibraryRef as StableAbi>::LAYOUT;
    let older = <plugboard_interface::PluginLibraryRef as StableAbi>::LAYOUT;
    // abi_stable alone: a newer library in an older host is fine, an older
    // library in a newer host is not ("too many fields").
    assert!(check_layout_compatibility(older, newer).is_ok());
    assert!(check_layout_compatibility(newer, older).is_err());
    // The rule plugboard's loader applies to the root module accepts both.
    plugboard_host::layouts_compatible(newer, "0.1.1", older, "0.1.0").unwrap();
    plugboard_host::layouts_compatible(older, "0.1.0", newer, "0.1.1").unwrap();
    // And still refuses a real difference: the Greeter 1.0 vtable is not a
    // root module.
    let greeter = <greeter_v1_0::GreeterBox as StableAbi>::LAYOUT;
    assert!(plugboard_host::layouts_compatible(newer, "0.1.1", greeter, "0.1.0").is_err());
}
