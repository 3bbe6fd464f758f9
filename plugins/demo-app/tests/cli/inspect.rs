//! `inspect`: a library's metadata and the application's verdict, without
//! running the library.

use plugboard_tests::{stderr, stdout, PluginDir};

use super::{command, demo_app};

#[test]
fn inspect_shows_the_metadata_and_the_verdict_without_running_the_library() {
    let dir = PluginDir::new();
    let file = dir.add("fixture-marker");
    let marker = dir.path().join("constructor-ran");
    let out = command(&["inspect", file.to_str().unwrap()])
        .env(plugboard_tests::MARKER_VARIABLE, &marker)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    for needle in [
        "library:      fixture-marker 0.1.0: Test fixture",
        "cookie PLUGBOARD_DEMO_PLUGIN=6f1c2a9e-greeter-kv-demo",
        "plugin:       marked (Greeter 1.1.0, protocol 1)",
        "verdict:      demo-app would load it (protocol 1)",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
    assert!(!marker.exists(), "inspect ran the library's constructor");

    let foreign = dir.add("fixture-wrong-cookie");
    let out = demo_app(&["inspect", foreign.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("verdict:      refused:"),
        "{}",
        stdout(&out)
    );
}
