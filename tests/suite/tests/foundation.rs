//! The foundation: real plugin libraries load through the real loader,
//! side by side, and dispense typed, checked objects.

use plugboard_demo::{Greeter, KeyValue};
use plugboard_host::{DispenseError, LoadErrorKind, Plugin, PluginHost};
use plugboard_tests::{demo_host, PluginDir};

fn greet(host: &PluginHost, plugin: &str, name: &str) -> String {
    let greeter: Plugin<dyn Greeter> = host.dispense(plugin).expect("dispense a greeter");
    greeter.greet(name).unwrap()
}

#[test]
fn two_greeter_libraries_load_side_by_side_and_answer_differently() {
    let dir = PluginDir::new();
    dir.add("greeter");
    dir.add("greeter-formal");
    let host = demo_host();
    let report = host.load_dir(dir.path());
    assert!(report.all_loaded(), "{report}");
    assert_eq!(report.loaded().count(), 2);

    assert_eq!(greet(&host, "greeter", "World"), "Hello, World!");
    assert_eq!(
        greet(&host, "formal-greeter", "World"),
        "Good day to you, World."
    );
}

#[test]
fn one_library_exports_two_plugin_types() {
    let dir = PluginDir::new();
    dir.add("toolbox");
    let host = demo_host();
    let report = host.load_dir(dir.path());
    let lib = report.loaded().next().expect("toolbox loads");
    let names: Vec<_> = lib
        .entries
        .iter()
        .map(|e| (e.name.as_str(), e.interface.as_str()))
        .collect();
    assert_eq!(
        names,
        [("pirate-greeter", "Greeter"), ("scratch", "KeyValue")]
    );

    assert_eq!(greet(&host, "pirate-greeter", "Jim"), "Ahoy, Jim!");
    let scratch: Plugin<dyn KeyValue> = host.dispense("scratch").expect("dispense the KeyValue");
    scratch.put("k", "quiet").unwrap();
    assert_eq!(scratch.get("k").unwrap().as_deref(), Some("QUIET"));
}

#[test]
fn kv_plugin_keeps_state_per_object() {
    let dir = PluginDir::new();
    dir.add("kv");
    let host = demo_host();
    assert!(host.load_dir(dir.path()).all_loaded());

    let kv: Plugin<dyn KeyValue> = host.dispense("kv").unwrap();
    kv.put("b", "2").unwrap();
    kv.put("a", "1").unwrap();
    kv.put("a", "one").unwrap();
    assert_eq!(kv.get("a").unwrap().as_deref(), Some("one"));
    assert_eq!(kv.list().unwrap(), ["a", "b"]);
    assert!(kv.delete("a").unwrap());
    assert!(!kv.delete("a").unwrap());
    assert!(kv.get("a").unwrap().is_none());

    // Every dispense runs the factory: a new object with its own state.
    let other: Plugin<dyn KeyValue> = host.dispense("kv").unwrap();
    assert!(other.list().unwrap().is_empty());
    assert_eq!(kv.list().unwrap().len(), 1);
}

#[test]
fn unknown_name_lists_the_available_names() {
    let dir = PluginDir::new();
    dir.add("greeter");
    dir.add("kv");
    let host = demo_host();
    assert!(host.load_dir(dir.path()).all_loaded());

    let err = host
        .dispense::<dyn Greeter>("gretter")
        .expect_err("unknown name is an error");
    match &err {
        DispenseError::UnknownPlugin { name, available } => {
            assert_eq!(name, "gretter");
            assert_eq!(available, &["greeter", "kv"]);
        }
        other => panic!("expected UnknownPlugin, got {other:?}"),
    }
    assert_eq!(
        err.to_string(),
        "no plugin named `gretter` is loaded; available: greeter, kv"
    );
}

#[test]
fn dispensing_as_the_wrong_interface_is_refused() {
    let dir = PluginDir::new();
    dir.add("greeter");
    dir.add("kv");
    let host = demo_host();
    assert!(host.load_dir(dir.path()).all_loaded());

    let err = host
        .dispense::<dyn Greeter>("kv")
        .expect_err("kv is not a Greeter");
    match &err {
        DispenseError::WrongInterface {
            plugin,
            expected,
            found,
            implementing,
            ..
        } => {
            assert_eq!(plugin, "kv");
            assert_eq!(*expected, "Greeter");
            assert_eq!(found, "KeyValue 1.0.0");
            assert_eq!(implementing, &["greeter"]);
        }
        other => panic!("expected WrongInterface, got {other:?}"),
    }
    let text = err.to_string();
    assert!(
        text.contains("implements KeyValue 1.0.0, not Greeter"),
        "{text}"
    );
    assert!(
        text.contains("pick a plugin that implements Greeter: greeter"),
        "{text}"
    );

    // The host still serves the right type afterwards.
    assert!(host.dispense::<dyn KeyValue>("kv").is_ok());
}

#[test]
fn a_plugin_whose_object_layout_differs_is_refused_at_dispense() {
    // The fixture claims `Greeter 1.0.0`, but its trait has another method
    // signature: only the method-by-method layout check can tell.
    let dir = PluginDir::new();
    dir.add("fixture-fake-greeter");
    let host = demo_host();
    assert!(host.load_dir(dir.path()).all_loaded());

    let err = host
        .dispense::<dyn Greeter>("fake-greeter")
        .expect_err("layout mismatch");
    match &err {
        DispenseError::LayoutMismatch {
            plugin,
            interface,
            report,
            ..
        } => {
            assert_eq!(plugin, "fake-greeter");
            assert_eq!(*interface, "Greeter");
            let summary = &report.summary;
            assert!(!summary.is_empty() && !summary.contains('\n'), "{summary}");
            assert!(
                summary.contains("`greet` differs"),
                "names the method: {summary}"
            );
            assert!(
                report.details.lines().count() > 3,
                "the full report is kept for --verbose"
            );
        }
        other => panic!("expected LayoutMismatch, got {other:?}"),
    }
    // Asking again gives the same refusal (a refusal is never cached as a pass).
    assert!(host.dispense::<dyn Greeter>("fake-greeter").is_err());
}

#[test]
fn a_wrong_cookie_is_refused_with_a_clear_message() {
    let dir = PluginDir::new();
    let file = dir.add("fixture-wrong-cookie");
    dir.add("greeter");
    let host = demo_host();
    let report = host.load_dir(dir.path());

    let refused = report
        .outcome(&file)
        .unwrap()
        .result
        .as_ref()
        .expect_err("refused");
    assert!(
        matches!(refused.kind(), LoadErrorKind::CookieMismatch { .. }),
        "{refused:?}"
    );
    assert_eq!(refused.path(), file);
    assert_eq!(
        refused.to_string(),
        format!(
            "{}: not a plugin for this application: magic cookie mismatch \
             (expected PLUGBOARD_DEMO_PLUGIN=6f1c2a9e-greeter-kv-demo, found OTHER_APP_PLUGIN=not-the-demo). \
             It was built for another application that uses plugboard; remove it from this plugins folder.",
            file.display()
        )
    );
    // Its plugin is not dispensable; the good library still is.
    assert!(host.plugin("other-greeter").is_none());
    assert_eq!(greet(&host, "greeter", "World"), "Hello, World!");
}

#[test]
fn a_host_without_a_handshake_is_told_so_not_to_remove_the_plugin() {
    let dir = PluginDir::new();
    let file = dir.add("greeter");
    let other = dir.add("fixture-wrong-cookie");
    let report = PluginHost::builder().build().load_dir(dir.path());
    let refusal = |path| {
        report
            .outcome(path)
            .unwrap()
            .result
            .as_ref()
            .expect_err("refused")
    };
    let (unconfigured, other_app) = (refusal(&file), refusal(&other));
    assert!(matches!(
        unconfigured.kind(),
        LoadErrorKind::CookieMismatch { .. }
    ));
    // Both lack this host's (empty) cookie, but the advice is about the
    // host, not about the plugin's folder.
    let configured = demo_host().load_file(&other).expect_err("refused");
    assert_eq!(other_app.hint(), unconfigured.hint());
    assert_ne!(unconfigured.hint(), configured.hint());
}

#[test]
fn no_common_protocol_is_refused_with_a_clear_message() {
    let dir = PluginDir::new();
    let file = dir.add("fixture-versioned-greeter");
    let host = plugboard_host::PluginHost::builder()
        .handshake(plugboard_demo::HANDSHAKE)
        .protocol_versions([3, 4])
        .build();
    let report = host.load_dir(dir.path());
    let refused = report.refused().next().expect("refused");
    match refused.kind() {
        LoadErrorKind::NoCommonProtocol { host, plugin } => {
            assert_eq!(host, &[3, 4]);
            assert_eq!(plugin, &[1, 2]);
        }
        other => panic!("expected NoCommonProtocol, got {other:?}"),
    }
    assert_eq!(
        refused.to_string(),
        format!(
            "{}: incompatible protocol version: this host speaks versions 3, 4, the plugin offers versions 1, 2. \
             The plugin is older than this host: upgrade the plugin, or ask its author for a build that offers \
             this host's protocol.",
            file.display()
        )
    );
}

#[test]
fn the_highest_common_protocol_wins() {
    for (host_speaks, expected_protocol, expected_answer) in [
        (vec![1], 1, "v1 hello, X"),
        (vec![1, 2], 2, "v2 hello, X"),
        (vec![2, 7], 2, "v2 hello, X"),
    ] {
        let dir = PluginDir::new();
        dir.add("fixture-versioned-greeter");
        let host = plugboard_host::PluginHost::builder()
            .handshake(plugboard_demo::HANDSHAKE)
            .protocol_versions(host_speaks.clone())
            .build();
        let report = host.load_dir(dir.path());
        let lib = report
            .loaded()
            .next()
            .unwrap_or_else(|| panic!("loads with {host_speaks:?}: {report}"));
        assert_eq!(lib.protocol, expected_protocol);
        assert_eq!(lib.offered_protocols, [1, 2]);
        assert_eq!(greet(&host, "versioned", "X"), expected_answer);
    }
}

#[test]
fn bad_files_are_reported_and_the_rest_still_load() {
    let dir = PluginDir::new();
    let not_plugin = dir.add("fixture-not-a-plugin");
    let empty = dir.write("empty", b"");
    let garbage = dir.write("garbage", &[0x7f, b'E', b'L', b'F', 0xde, 0xad, 0xbe, 0xef]);
    let folder = dir.file("folder");
    std::fs::create_dir(&folder).unwrap();
    std::fs::write(dir.path().join("README.txt"), "not a candidate").unwrap();
    dir.add("greeter");
    dir.add("kv");

    let host = demo_host();
    let report = host.load_dir(dir.path());
    assert_eq!(
        report.outcomes.len(),
        6,
        "README.txt is not a candidate: {report}"
    );
    assert_eq!(report.loaded().count(), 2, "{report}");

    let err = |path: &std::path::Path| {
        report
            .outcome(path)
            .unwrap()
            .result
            .as_ref()
            .unwrap_err()
            .kind()
    };
    assert!(matches!(err(&not_plugin), LoadErrorKind::NotAPlugin));
    // Caught by the vet step, before the dynamic loader sees them.
    assert!(matches!(err(&empty), LoadErrorKind::NotALibrary { .. }));
    assert!(matches!(err(&garbage), LoadErrorKind::NotALibrary { .. }));
    assert!(matches!(
        err(&folder),
        LoadErrorKind::NotAFile { found: "directory" }
    ));
    for refused in report.refused() {
        let text = refused.to_string();
        assert!(
            text.starts_with(&refused.path().display().to_string()),
            "names the file: {text}"
        );
    }
    assert_eq!(greet(&host, "greeter", "World"), "Hello, World!");
    assert!(host.dispense::<dyn KeyValue>("kv").is_ok());
}

#[test]
fn the_same_library_under_two_names_loads_twice_and_the_first_name_wins() {
    // abi_stable's RootModule::load_from_file would hand back the first
    // library for the second file; plugboard opens each file and sees the
    // name conflict.
    let dir = PluginDir::new();
    let first = dir.add_as("greeter", "a-greeter");
    let second = dir.add_as("greeter", "b-greeter");
    let host = demo_host();
    let report = host.load_dir(dir.path());
    assert!(report.outcome(&first).unwrap().result.is_ok(), "{report}");
    match report
        .outcome(&second)
        .unwrap()
        .result
        .as_ref()
        .map_err(|e| e.kind())
    {
        Err(LoadErrorKind::DuplicatePlugin {
            name,
            first: taken_by,
        }) => {
            assert_eq!(name, "greeter");
            assert_eq!(taken_by, &first);
        }
        other => panic!("expected DuplicatePlugin, got {other:?}"),
    }
    assert_eq!(host.plugin("greeter").unwrap().path, first);
}

#[test]
fn loading_a_folder_twice_reports_already_loaded_files() {
    let dir = PluginDir::new();
    let file = dir.add("greeter");
    let host = demo_host();
    assert!(host.load_dir(dir.path()).all_loaded());
    let again = host.load_dir(dir.path());
    assert!(matches!(
        again
            .outcome(&file)
            .unwrap()
            .result
            .as_ref()
            .map_err(|e| e.kind()),
        Err(LoadErrorKind::AlreadyLoaded)
    ));
    assert_eq!(greet(&host, "greeter", "again"), "Hello, again!");
}

#[test]
fn an_unreadable_folder_is_one_refusal() {
    let host = demo_host();
    let report = host.load_dir("/definitely/not/a/folder");
    assert_eq!(report.outcomes.len(), 1);
    let refused = report.refused().next().unwrap();
    assert!(matches!(
        refused.kind(),
        LoadErrorKind::FolderUnreadable { .. }
    ));
}
