//! A watched plugins folder in a test: a host with a short debounce, and
//! waits for events that end as soon as the event arrives (with a time
//! limit), never after a fixed sleep.

use std::time::{Duration, Instant};

use plugboard_host::{
    watch::{PluginWatch, WatchEvent},
    PluginHost, PluginHostBuilder,
};

use crate::PluginDir;

/// Applies changes until one event satisfies `want`, or fails after 30 s.
/// Returns that event and the ones before it.
pub fn wait_for(
    host: &PluginHost,
    watch: &mut PluginWatch,
    what: &str,
    want: impl Fn(&WatchEvent) -> bool,
) -> WatchEvent {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        for event in host.process_changes(watch, Duration::from_millis(500)) {
            if want(&event) {
                return event;
            }
            seen.push(event.to_string());
        }
    }
    panic!("no {what} event within 30 s; saw: {seen:#?}");
}

/// A host for `dir` built from `builder` (debounce 100 ms), watching it,
/// with the folder's current files loaded; returns the load's report too.
pub fn watched_with_report(
    dir: &PluginDir,
    builder: PluginHostBuilder,
) -> (PluginHost, PluginWatch, plugboard_host::LoadReport) {
    let host = builder
        .plugins_dir(dir.path())
        .debounce(Duration::from_millis(100))
        .build();
    let watch = host.watch().expect("watching the folder");
    let report = host.load();
    (host, watch, report)
}

/// [`watched_with_report`] for a folder whose files all load.
pub fn watched(dir: &PluginDir, builder: PluginHostBuilder) -> (PluginHost, PluginWatch) {
    let (host, watch, report) = watched_with_report(dir, builder);
    assert!(report.all_loaded(), "{report}");
    (host, watch)
}
