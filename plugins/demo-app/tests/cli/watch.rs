//! `watch`: one line per change in the plugins folder.

use plugboard_tests::{demo_dir, lib_name, library, LineReader, PluginDir};

use super::command;

#[test]
fn watch_prints_a_line_for_a_copy_an_overwrite_and_a_delete() {
    let dir = PluginDir::new();
    // Copied straight from cargo's output, whose modes follow the umask.
    let mut watch = LineReader::spawn(command(&[
        "watch",
        "--no-strict-permissions",
        "--plugins",
        dir.path().to_str().unwrap(),
    ]));
    watch.next_line("watching");
    let file = dir.path().join(lib_name("greeter"));
    std::fs::copy(library("greeter"), &file).unwrap();
    assert!(watch.next_line("added").contains("[generation 1]"));
    std::fs::copy(library("fixture-greeter-next"), &file).unwrap();
    assert!(watch
        .next_line("updated")
        .contains("[generation 2, replaces 1]"));
    std::fs::remove_file(&file).unwrap();
    assert!(watch.next_line("removed").contains("generation 2"));
}

/// A file loaded at start-up under a relative folder name, then overwritten:
/// the watcher reports it under an absolute path, and it must still be the
/// same file (an update), not a second library with the same plugin name.
#[test]
fn watch_updates_a_file_loaded_at_start_under_a_relative_folder() {
    let dir = demo_dir();
    let mut cmd = command(&["watch", "--no-strict-permissions", "--plugins"]);
    cmd.arg(dir.path().file_name().unwrap())
        .current_dir(dir.path().parent().unwrap());
    let mut watch = LineReader::spawn(cmd);
    watch.next_line("watching");
    std::fs::copy(
        library("fixture-greeter-next"),
        dir.path().join(lib_name("greeter")),
    )
    .unwrap();
    let updated = watch.next_line("updated");
    assert!(updated.contains("[generation 2, replaces 1]"), "{updated}");
}
