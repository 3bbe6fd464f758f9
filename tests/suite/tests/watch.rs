//! A live plugins folder: drop a plugin in, replace it, corrupt it, remove
//! it — each change waited for by its event (with a time limit), never by a
//! fixed sleep.

use std::{fs, time::Duration};

use plugboard_demo::Greeter;
use plugboard_host::{watch::WatchEvent, DispenseError, LoadErrorKind, Plugin, PluginHost};
use plugboard_tests::{
    demo_builder, lib_name, library,
    watching::{wait_for, watched},
    PluginDir,
};

fn greet(host: &PluginHost, name: &str) -> Result<String, DispenseError> {
    let greeter: Plugin<dyn Greeter> = host.dispense("greeter")?;
    Ok(greeter.greet(name).unwrap())
}

#[test]
fn add_replace_corrupt_and_remove_a_plugin_while_the_host_runs() {
    let dir = PluginDir::new();
    let (host, mut watch) = watched(&dir, demo_builder());
    assert!(matches!(
        greet(&host, "X"),
        Err(DispenseError::UnknownPlugin { .. })
    ));
    let file = dir.file("libgreeter");

    // Drop a new plugin in: it answers.
    dir.install(&fs::read(library("greeter")).unwrap(), &file);
    match wait_for(&host, &mut watch, "added", |e| {
        matches!(e, WatchEvent::Added(_))
    }) {
        WatchEvent::Added(lib) => assert_eq!((lib.name.as_str(), lib.generation), ("greeter", 1)),
        other => panic!("{other}"),
    }
    assert_eq!(greet(&host, "X").unwrap(), "Hello, X!");
    let old: Plugin<dyn Greeter> = host.dispense("greeter").unwrap();

    // Replace it with a build that answers differently: new dispenses get
    // the new generation, the old object keeps the old one.
    dir.install(&fs::read(library("fixture-greeter-next")).unwrap(), &file);
    match wait_for(&host, &mut watch, "updated", |e| {
        matches!(e, WatchEvent::Updated { .. })
    }) {
        WatchEvent::Updated {
            previous_generation,
            library,
        } => {
            assert_eq!(previous_generation, 1);
            assert_eq!(library.generation, 2);
            assert_eq!(library.version, "0.2.0");
        }
        other => panic!("{other}"),
    }
    assert_eq!(greet(&host, "X").unwrap(), "Howdy, X!");
    assert_eq!(old.greet("X").unwrap(), "Hello, X!");
    assert_eq!(host.retired_generations(), 1);
    assert_eq!(host.libraries().len(), 1);

    // A corrupt new version is refused; generation 2 keeps serving.
    dir.install(b"this is not a library", &file);
    match wait_for(&host, &mut watch, "refused", |e| {
        matches!(e, WatchEvent::Refused(_))
    }) {
        WatchEvent::Refused(e) => {
            assert!(matches!(e.kind(), LoadErrorKind::NotALibrary { .. }), "{e}");
            assert_eq!(e.path(), file);
        }
        other => panic!("{other}"),
    }
    assert_eq!(greet(&host, "X").unwrap(), "Howdy, X!");

    // Removed: no longer dispensed; objects already out keep working.
    let current: Plugin<dyn Greeter> = host.dispense("greeter").unwrap();
    fs::remove_file(&file).unwrap();
    match wait_for(&host, &mut watch, "removed", |e| {
        matches!(e, WatchEvent::Removed { .. })
    }) {
        WatchEvent::Removed {
            library,
            generation,
            ..
        } => {
            assert_eq!((library.as_str(), generation), ("greeter", 2));
        }
        other => panic!("{other}"),
    }
    assert!(matches!(
        greet(&host, "X"),
        Err(DispenseError::UnknownPlugin { .. })
    ));
    assert_eq!(current.greet("still").unwrap(), "Howdy, still!");
    assert_eq!(old.greet("still").unwrap(), "Hello, still!");
    assert_eq!(
        host.retired_generations(),
        2,
        "both generations stay mapped"
    );
}

#[test]
fn the_generation_cap_refuses_further_versions_and_keeps_the_last_one() {
    let dir = PluginDir::new();
    let (host, mut watch) = watched(&dir, demo_builder().max_generations(2));
    let file = dir.file("libgreeter");
    let v1 = fs::read(library("greeter")).unwrap();
    let v2 = fs::read(library("fixture-greeter-next")).unwrap();

    dir.install(&v1, &file);
    wait_for(&host, &mut watch, "added", |e| {
        matches!(e, WatchEvent::Added(_))
    });
    dir.install(&v2, &file);
    wait_for(&host, &mut watch, "updated", |e| {
        matches!(e, WatchEvent::Updated { .. })
    });
    dir.install(&v1, &file);
    match wait_for(&host, &mut watch, "refused", |e| {
        matches!(e, WatchEvent::Refused(_))
    }) {
        WatchEvent::Refused(e) => match e.kind() {
            LoadErrorKind::TooManyGenerations { mapped, limit } => {
                assert_eq!((*mapped, *limit), (2, 2), "{e}")
            }
            other => panic!("expected TooManyGenerations, got {other:?}"),
        },
        other => panic!("{other}"),
    }
    assert_eq!(greet(&host, "X").unwrap(), "Howdy, X!");
}

#[test]
fn a_non_candidate_file_is_ignored_and_events_print_one_line_each() {
    let dir = PluginDir::new();
    let (host, mut watch) = watched(&dir, demo_builder());
    let (tx, rx) = std::sync::mpsc::channel();
    watch.on_event(move |event| {
        let _ = tx.send(event.to_string());
    });
    fs::write(dir.path().join("notes.txt"), "not a plugin").unwrap();
    dir.install(&fs::read(library("kv")).unwrap(), &dir.file("libkv"));
    let event = wait_for(&host, &mut watch, "added", |e| {
        matches!(e, WatchEvent::Added(_))
    });
    let line = event.to_string();
    assert!(
        line.starts_with("added   ")
            && line.contains(&lib_name("kv"))
            && line.contains("[generation 1]"),
        "{line}"
    );
    assert!(!line.contains('\n'));
    // The callback saw the same event, through its channel.
    assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap(), line);
}
