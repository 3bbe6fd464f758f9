//! A watched folder under issue 18's attacks: a refused file left in it, a
//! file removed and added again, a library refused after `dlopen` rewritten
//! over and over, and a host that polls without blocking. Every wait ends
//! on an event (with a time limit) or polls a condition; nothing sleeps to
//! let time pass.

use std::{
    fs,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use plugboard_host::{watch::WatchEvent, LoadErrorKind};
#[cfg(unix)]
use plugboard_tests::open_descriptors;
use plugboard_tests::{
    demo_builder, lib_name, library, rerun_in_child,
    watching::{wait_for, watched, watched_with_report},
    PluginDir,
};

fn added(name: &'static str) -> impl Fn(&WatchEvent) -> bool {
    move |e| matches!(e, WatchEvent::Added(lib) if lib.name == name)
}

fn refused(e: &WatchEvent) -> bool {
    matches!(e, WatchEvent::Refused(_))
}

/// The kind of a refusal event.
/// A `TooManyGenerations` refusal's mapped count and limit.
fn generations_refused(event: &WatchEvent) -> (usize, usize) {
    match refusal_kind(event) {
        LoadErrorKind::TooManyGenerations { mapped, limit } => (*mapped, *limit),
        other => panic!("expected TooManyGenerations, got {other:?}"),
    }
}

fn refusal_kind(event: &WatchEvent) -> &LoadErrorKind {
    match event {
        WatchEvent::Refused(e) => e.kind(),
        other => panic!("expected a refusal, got {other}"),
    }
}

/// Finding 3: the watcher reacted to the host's own reads of a file, so a
/// refused file was vetted again every debounce period, for ever, losing
/// descriptors and memory each time. Here the refused duplicate stays in
/// the folder while three new plugins are added, each waited for by its
/// event; every one of those loads reads files of the folder. The
/// duplicate must not be refused again, and the process must end with as
/// many descriptors as it had.
#[test]
fn a_refused_file_in_a_watched_folder_is_not_vetted_again_until_it_changes() {
    if rerun_in_child(
        "a_refused_file_in_a_watched_folder_is_not_vetted_again_until_it_changes",
        &[],
    )
    .is_some()
    {
        return;
    }
    let dir = PluginDir::new();
    dir.add("greeter");
    let duplicate = dir.add_as("greeter", "zz-duplicate-greeter");
    let (host, mut watch, report) = watched_with_report(&dir, demo_builder());
    let err = report
        .outcome(&duplicate)
        .unwrap()
        .result
        .as_ref()
        .unwrap_err();
    assert!(
        matches!(err.kind(), LoadErrorKind::DuplicatePlugin { .. }),
        "{err}"
    );
    let refusals = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&refusals);
    watch.on_event(move |event| {
        if let WatchEvent::Refused(e) = event {
            counted.fetch_add(1, Ordering::SeqCst);
            eprintln!("refused again: {e}");
        }
    });

    // Descriptors are counted on Unix (Windows has handles, and no /proc).
    #[cfg(unix)]
    let before = open_descriptors();
    for (package, name) in [("kv", "kv"), ("toolbox", "toolbox"), ("counter", "counter")] {
        let file = dir.file(&format!("lib{package}"));
        dir.install(&fs::read(library(package)).unwrap(), &file);
        wait_for(&host, &mut watch, "added", added(name));
    }
    assert_eq!(
        refusals.load(Ordering::SeqCst),
        0,
        "the unchanged duplicate was vetted again"
    );
    #[cfg(unix)]
    assert_eq!(
        open_descriptors(),
        before,
        "descriptors lost while watching"
    );

    // It is remembered until it changes: a new version of it is vetted.
    dir.install(&fs::read(library("greeter")).unwrap(), &duplicate);
    let event = wait_for(&host, &mut watch, "refused", refused);
    assert!(matches!(
        refusal_kind(&event),
        LoadErrorKind::DuplicatePlugin { .. }
    ));
}

/// Finding 5: with a zero timeout, `process_changes` returned before
/// reading the watcher's channel, so a host polling without blocking never
/// saw a change.
#[test]
fn process_changes_with_a_zero_timeout_reports_a_change() {
    let dir = PluginDir::new();
    let (host, mut watch) = watched(&dir, demo_builder());
    dir.install(
        &fs::read(library("greeter")).unwrap(),
        &dir.file("libgreeter"),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    let events = loop {
        let events = host.process_changes(&mut watch, Duration::ZERO);
        if !events.is_empty() {
            break events;
        }
        assert!(
            Instant::now() < deadline,
            "polling with a zero timeout saw no change within 30 s"
        );
        // Polling a condition, as a host's own loop would: no event is
        // waited for here, the next call looks again.
        std::thread::sleep(Duration::from_millis(10));
    };
    assert!(
        matches!(&events[..], [WatchEvent::Added(lib)] if lib.name == "greeter"),
        "{events:?}"
    );
}

/// Finding 4: removing a file and adding it again restarted its generation
/// count while the old generations stayed mapped. Both count, and the
/// generation number goes on.
#[test]
fn removing_and_adding_a_file_again_counts_against_the_generation_limit() {
    let dir = PluginDir::new();
    let (host, mut watch) = watched(&dir, demo_builder().max_generations(2));
    let file = dir.file("libgreeter");
    let bytes = fs::read(library("greeter")).unwrap();
    for generation in 1..=2 {
        dir.install(&bytes, &file);
        match wait_for(&host, &mut watch, "added", added("greeter")) {
            WatchEvent::Added(lib) => assert_eq!(lib.generation, generation),
            other => panic!("{other}"),
        }
        fs::remove_file(&file).unwrap();
        wait_for(&host, &mut watch, "removed", |e| {
            matches!(e, WatchEvent::Removed { .. })
        });
    }
    dir.install(&bytes, &file);
    let event = wait_for(&host, &mut watch, "refused", refused);
    assert_eq!(generations_refused(&event), (2, 2));
    assert_eq!(host.retired_generations(), 2);
}

/// Finding 4, the other way round: a library refused after `dlopen` (here
/// its init panics) stays mapped too, so rewriting it must not map it
/// again and again.
#[test]
fn libraries_refused_after_dlopen_count_against_the_generation_limit() {
    let dir = PluginDir::new();
    let (host, mut watch) = watched(&dir, demo_builder().max_generations(2));
    let file = dir.file("libpanic_in_init");
    let bytes = fs::read(library("fixture-panic-in-init")).unwrap();
    for _ in 0..2 {
        dir.install(&bytes, &file);
        let event = wait_for(&host, &mut watch, "refused", refused);
        assert!(
            matches!(refusal_kind(&event), LoadErrorKind::InitFailed { .. }),
            "{event}"
        );
    }
    dir.install(&bytes, &file);
    let event = wait_for(&host, &mut watch, "refused", refused);
    assert_eq!(generations_refused(&event), (2, 2));
}

/// Finding 4, in total: the libraries mapped from every path together are
/// capped too, and one removed from the folder still counts.
#[test]
fn the_libraries_mapped_in_total_are_capped() {
    let dir = PluginDir::new();
    for package in ["counter", "greeter", "kv", "toolbox"] {
        dir.add(package);
    }
    let host = demo_builder()
        .plugins_dir(dir.path())
        .max_libraries(3)
        .build();
    let report = host.load();
    assert_eq!(report.loaded().count(), 3, "{report}");
    let err = report.refused().next().unwrap();
    assert_eq!(err.path(), dir.path().join(lib_name("toolbox")));
    match err.kind() {
        LoadErrorKind::TooManyLibraries { mapped, limit } => assert_eq!((*mapped, *limit), (3, 3)),
        other => panic!("expected TooManyLibraries, got {other:?}"),
    }

    let counter = dir.path().join(lib_name("counter"));
    fs::remove_file(&counter).unwrap();
    let events = host.reload().unwrap();
    assert!(
        events
            .iter()
            .any(|e| matches!(e, WatchEvent::Removed { library, .. } if library == "counter")),
        "{events:?}"
    );
    // Back again: the removed generation is still mapped. (libtoolbox,
    // refused and unchanged, is not tried again.)
    dir.add("counter");
    let events = host.reload().unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| refusal_kind(e).name()).collect();
    assert_eq!(kinds, ["TooManyLibraries"], "{events:?}");
}
