//! The version-compatibility matrix: hosts built against the demo `Greeter`
//! interface at 1.0, 1.1 and 2.0, each loading plugins built against 1.0,
//! 1.1, 2.0 and a 1.0 whose signature changed without a version bump. Every
//! cell's outcome is written below and checked through the real loader: a
//! loaded plugin answers a call, a refused one gives the kind of refusal.

use plugboard_host::{DispenseError, LoadErrorKind, Plugin, PluginHost, PluginHostBuilder};
use plugboard_interface::PluginErrorKind;
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
    /// Refused at load because the plugin cannot be used as the host's
    /// interface, for this reason.
    Refused(Why),
}
use Expect::{Loads, Refused};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Why {
    Version,
    Layout,
}

/// One host version: how to build it and how to call `greet` through it.
struct HostVersion {
    version: &'static str,
    build: fn() -> PluginHost,
    greet: fn(&PluginHost, &str) -> String,
    row: [Expect; 4],
}

fn builder() -> PluginHostBuilder {
    PluginHost::builder()
        .handshake(plugboard_demo::HANDSHAKE)
        .protocol_versions([1])
}

const MATRIX: [HostVersion; 3] = [
    HostVersion {
        version: "1.0",
        build: || {
            builder()
                .interface::<dyn compat_greeter_v1_0::Greeter>()
                .build()
        },
        greet: |host, name| {
            let g: Plugin<dyn compat_greeter_v1_0::Greeter> = host.dispense(name).unwrap();
            g.greet("X").unwrap()
        },
        row: [
            Loads("1.0 says hello, X", &[]),
            // A newer minor: its extra method is invisible to this host.
            Loads("1.1 says hello, X", &[]),
            Refused(Why::Version),
            Refused(Why::Layout),
        ],
    },
    HostVersion {
        version: "1.1",
        build: || builder().interface::<dyn plugboard_demo::Greeter>().build(),
        greet: |host, name| {
            let g: Plugin<dyn plugboard_demo::Greeter> = host.dispense(name).unwrap();
            g.greet("X").unwrap()
        },
        row: [
            // An older minor: it lacks `shout`, which 1.1 marks #[since].
            Loads("1.0 says hello, X", &["shout"]),
            Loads("1.1 says hello, X", &[]),
            Refused(Why::Version),
            Refused(Why::Layout),
        ],
    },
    HostVersion {
        version: "2.0",
        build: || {
            builder()
                .interface::<dyn compat_greeter_v2_0::Greeter>()
                .build()
        },
        greet: |host, name| {
            let g: Plugin<dyn compat_greeter_v2_0::Greeter> = host.dispense(name).unwrap();
            g.greet("X", compat_greeter_v2_0::Style::Plain).unwrap()
        },
        row: [
            Refused(Why::Version),
            Refused(Why::Version),
            Loads("2.0 says hello, X", &[]),
            Refused(Why::Version),
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
            let host = (host_version.build)();
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
                (Refused(why), Err(e)) => {
                    let found = match e.kind() {
                        LoadErrorKind::IncompatibleInterface(
                            DispenseError::IncompatibleVersion { .. },
                        ) => Why::Version,
                        LoadErrorKind::IncompatibleInterface(DispenseError::LayoutMismatch {
                            ..
                        }) => Why::Layout,
                        other => panic!("{cell}: unexpected refusal {other:?}"),
                    };
                    assert_eq!(found, why, "{cell}: {e}");
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
fn a_method_newer_than_the_plugin_returns_method_missing() {
    let dir = PluginDir::new();
    dir.add("compat-plugin-1_0");
    let host = builder().interface::<dyn plugboard_demo::Greeter>().build();
    assert!(host.load_dir(dir.path()).all_loaded());
    let greeter: Plugin<dyn plugboard_demo::Greeter> = host.dispense("greeter-1.0").unwrap();
    assert!(!Plugin::provides(&greeter, "shout"));

    let err = greeter.shout("X").unwrap_err();
    assert_eq!(err.kind(), PluginErrorKind::MethodMissing);
    assert_eq!(
        err.to_string(),
        "plugin `greeter-1.0` was built against Greeter 1.0.0; `shout` arrived in 1.1.0. \
         Upgrade the plugin to a build against Greeter 1.1.0 or later to use it."
    );
    // The plugin keeps answering what it has.
    assert_eq!(greeter.greet("X").unwrap(), "1.0 says hello, X");
}

#[test]
fn a_plugin_built_against_the_newer_minor_loads_in_the_older_host_and_answers() {
    let dir = PluginDir::new();
    dir.add("compat-plugin-1_1");
    let host = builder()
        .interface::<dyn compat_greeter_v1_0::Greeter>()
        .build();
    let report = host.load_dir(dir.path());
    assert!(report.all_loaded(), "{report}");
    let greeter: Plugin<dyn compat_greeter_v1_0::Greeter> = host.dispense("greeter-1.1").unwrap();
    assert_eq!(
        greeter.greet("old host").unwrap(),
        "1.1 says hello, old host"
    );
}

#[test]
fn a_newer_plugin_provides_the_new_method() {
    let dir = PluginDir::new();
    dir.add("compat-plugin-1_1");
    let host = builder().interface::<dyn plugboard_demo::Greeter>().build();
    assert!(host.load_dir(dir.path()).all_loaded());
    let greeter: Plugin<dyn plugboard_demo::Greeter> = host.dispense("greeter-1.1").unwrap();
    assert!(Plugin::provides(&greeter, "shout"));
    assert_eq!(greeter.shout("x").unwrap(), "1.1 SAYS HELLO, X");
}

#[test]
fn old_and_new_minors_load_side_by_side_in_one_host() {
    let dir = PluginDir::new();
    for plugin in PLUGINS {
        dir.add(plugin);
    }
    let host = builder().interface::<dyn plugboard_demo::Greeter>().build();
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
    let host = builder().interface::<dyn plugboard_demo::Greeter>().build();
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
        major.contains("The plugin is newer: upgrade the host"),
        "{major}"
    );

    let silent = text(&silent);
    assert!(
        silent.contains("declares Greeter 1.0.0 but does not match this host's Greeter 1.1.0"),
        "{silent}"
    );
    assert!(
        silent.contains("`greet` differs: `fn greet(&self, name: &str) -> Result<String, PluginError>` against `fn greet(&self, name: &str, times: u32) -> Result<String, PluginError>`"),
        "names the method and both signatures: {silent}"
    );
    // The two sides declare different versions of one major: the advice is
    // about the interface crate, which broke semver between them.
    assert!(
        silent.contains("broke semver between these versions"),
        "{silent}"
    );
}

#[test]
fn an_unregistered_interface_is_checked_at_dispense_time() {
    // Without `.interface::<I>()`, a mismatched plugin loads, and the same
    // checks refuse it when it is dispensed.
    let dir = PluginDir::new();
    dir.add("compat-plugin-2_0");
    let host = builder().build();
    assert!(host.load_dir(dir.path()).all_loaded());
    let err = host
        .dispense::<dyn plugboard_demo::Greeter>("greeter-2.0")
        .unwrap_err();
    assert!(
        matches!(err, DispenseError::IncompatibleVersion { .. }),
        "{err}"
    );
}

/// The root module evolves like an interface: a later plugboard-interface
/// adds a trailing, optional root-module field (`tests/compat/interface-next`).
#[test]
fn a_plugin_built_against_a_later_plugboard_interface_loads() {
    let dir = PluginDir::new();
    dir.add("compat-plugin-root-next");
    let host = builder().build();
    let report = host.load_dir(dir.path());
    let lib = report.loaded().next().unwrap_or_else(|| panic!("{report}"));
    assert_eq!(lib.entries[0].name, "ping");
    assert_eq!(lib.entries[0].interface, "Ping");
}

#[test]
fn a_later_host_accepts_a_plugin_built_against_an_older_plugboard_interface() {
    use abi_stable::{abi_stability::abi_checking::check_layout_compatibility, StableAbi};
    use plugboard_host::testing::layouts_compatible;
    let newer = <plugboard_interface_next::PluginLibraryRef as StableAbi>::LAYOUT;
    let older = <plugboard_interface::PluginLibraryRef as StableAbi>::LAYOUT;
    // abi_stable alone: a newer library in an older host is fine, an older
    // library in a newer host is not ("too many fields").
    assert!(check_layout_compatibility(older, newer).is_ok());
    assert!(check_layout_compatibility(newer, older).is_err());
    // The rule plugboard's loader applies to the root module accepts both.
    layouts_compatible(newer, "0.1.1", older, "0.1.0").unwrap();
    layouts_compatible(older, "0.1.0", newer, "0.1.1").unwrap();
    // And still refuses a real difference: a plugin object is not a root
    // module.
    let object = <<dyn plugboard_demo::Greeter as plugboard_interface::PluginInterface>::Object as StableAbi>::LAYOUT;
    assert!(layouts_compatible(newer, "0.1.1", object, "0.1.0").is_err());
}

/// Interfaces written by hand with `#[sabi_trait]` keep loading.
mod handwritten {
    use plugboard_host::{CallError, DispenseError, LoadErrorKind, Plugin, PluginHost};
    use plugboard_tests::PluginDir;

    fn host<I: plugboard_interface::Interface>() -> PluginHost {
        PluginHost::builder()
            .handshake(plugboard_demo::HANDSHAKE)
            .interface::<I>()
            .build()
    }

    #[test]
    fn an_older_plugin_loads_and_its_missing_optional_method_is_a_typed_error() {
        let dir = PluginDir::new();
        dir.add("compat-plugin-handwritten-1_0");
        let host = host::<handwritten_v1_1::HandGreeterBox>();
        let report = host.load_dir(dir.path());
        let lib = report.loaded().next().unwrap_or_else(|| panic!("{report}"));
        assert_eq!(lib.entries[0].missing_methods[0].name, "shout");
        let greeter: Plugin<handwritten_v1_1::HandGreeterBox> = host.dispense("hand-1.0").unwrap();
        assert_eq!(
            greeter.greet("X".into()).unwrap().as_str(),
            "hand 1.0 hello, X"
        );
        let err = Plugin::call(&greeter, |g| g.shout("X".into())).unwrap_err();
        assert!(matches!(err, CallError::MethodMissing { .. }), "{err}");
    }

    #[test]
    fn a_plugin_of_the_same_version_answers_every_method() {
        let dir = PluginDir::new();
        dir.add("compat-plugin-handwritten-1_1");
        let host = host::<handwritten_v1_1::HandGreeterBox>();
        assert!(host.load_dir(dir.path()).all_loaded());
        let greeter: Plugin<handwritten_v1_1::HandGreeterBox> = host.dispense("hand-1.1").unwrap();
        assert_eq!(
            Plugin::call(&greeter, |g| g.shout("x".into()))
                .unwrap()
                .as_str(),
            "HAND 1.1 HELLO, X"
        );
    }

    /// The interface forgot `OPTIONAL_METHODS` and a default body: a 1.0
    /// plugin used to load and then panic the host at the first `shout`.
    #[test]
    fn a_plugin_lacking_a_method_not_declared_optional_is_refused_at_load() {
        let dir = PluginDir::new();
        let file = dir.add("compat-plugin-handwritten-1_0");
        let host = host::<handwritten_forgetful::HandGreeterBox>();
        let report = host.load_dir(dir.path());
        let err = report.outcome(&file).unwrap().result.as_ref().unwrap_err();
        match err.kind() {
            LoadErrorKind::IncompatibleInterface(DispenseError::LayoutMismatch {
                report, ..
            }) => assert!(report.summary.contains("`shout`"), "{err}"),
            other => panic!("expected a layout refusal, got {other:?}"),
        }
        assert!(host.plugin("hand-1.0").is_none());
    }
}
