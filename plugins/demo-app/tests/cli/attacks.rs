//! Issue 18's attacks through an application's command line (`demo-app`):
//! patched copies of a real plugin in the folder, a refused file left in a
//! watched folder, and hostile file names. The processes are real; every
//! wait ends on a line of output (with a time limit).

use std::fs;
#[cfg(unix)]
use std::{os::unix::process::ExitStatusExt, path::PathBuf};

#[cfg(unix)]
use plugboard_tests::{attack, demo_dir, open_descriptors_of, refusal_kinds, stdout};
use plugboard_tests::{library, LineReader, PluginDir};

use super::command;
#[cfg(unix)]
use super::demo_app;

/// Unix only: the patches are to an ELF plugin (a Windows plugin is a PE
/// file), and a crash is told by its signal.
#[cfg(unix)]
#[test]
fn list_refuses_patched_copies_of_a_plugin_and_lists_the_rest() {
    let dir = demo_dir();
    let greeter = fs::read(library("greeter")).unwrap();
    dir.write(
        "attack-a-pn-xnum",
        &attack::pn_xnum_with_a_load_past_the_end(&greeter),
    );
    dir.write(
        "attack-b-dynamic",
        &attack::dynamic_outside_every_load(&greeter),
    );
    let d = dir.path().to_str().unwrap();
    let out = demo_app(&["list", "--plugins", d, "--format", "json"]);
    assert_eq!(out.status.signal(), None, "list crashed");
    assert_eq!(out.status.code(), Some(1), "a refusal is exit code 1");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (doc["loaded"].as_u64(), doc["refused"].as_u64()),
        (Some(5), Some(2))
    );
    let kinds = refusal_kinds(&doc);
    assert_eq!(kinds, ["NotALibrary", "NotALibrary"]);

    let out = demo_app(&["call", "--plugins", d, "greeter", "greet", "\"X\""]);
    assert!(out.status.success());
    assert_eq!(stdout(&out), "\"Hello, X!\"\n");
}

/// Finding 3 through `watch`: a duplicate in the folder is refused once at
/// start-up; then three plugins are added (each waited for by its line),
/// and the duplicate is neither refused again nor does the process hold
/// more descriptors afterwards.
#[test]
fn watch_refuses_a_file_left_in_the_folder_once_and_keeps_its_descriptors() {
    let dir = PluginDir::new();
    dir.add("greeter");
    dir.add_as("greeter", "zz-duplicate-greeter");
    let mut cmd = command(&["watch", "--plugins"]);
    cmd.arg(dir.path());
    let mut watch = LineReader::spawn(cmd);
    watch.next_line("watching");
    let refusals = |watch: &LineReader| {
        watch
            .seen()
            .iter()
            .filter(|l| l.starts_with("refused"))
            .count()
    };
    assert_eq!(refusals(&watch), 1, "{:#?}", watch.seen());
    // Descriptors are counted on Unix (Windows has handles, and no /proc).
    #[cfg(unix)]
    let before = open_descriptors_of(watch.id());
    for package in ["kv", "toolbox", "counter"] {
        let file = dir.file(&format!("lib{package}"));
        dir.install(&fs::read(library(package)).unwrap(), &file);
        let line = watch.next_line("added");
        assert!(line.contains(&format!("lib{package}")), "{line}");
    }
    assert_eq!(refusals(&watch), 1, "{:#?}", watch.seen());
    #[cfg(unix)]
    assert_eq!(open_descriptors_of(watch.id()), before);
}

/// The path a line of text output names, between `prefix` and `end`.
#[cfg(unix)]
fn named(line: &str, prefix: &str, end: &str) -> PathBuf {
    let rest = line
        .strip_prefix(prefix)
        .unwrap_or_else(|| panic!("{line:?} does not start with {prefix:?}"));
    attack::unescaped_path(rest.split(end).next().unwrap())
}

/// Unix only: Windows file names cannot hold control characters or bytes
/// that are not text.
#[cfg(unix)]
#[test]
fn list_and_watch_show_hostile_file_names_escaped_and_reversibly() {
    let dir = PluginDir::new();
    let mut files = Vec::new();
    for (name, package) in attack::hostile_names()
        .into_iter()
        .zip(["greeter", "kv", "toolbox"])
    {
        let good = dir.file_named(&name);
        fs::copy(library(package), &good).unwrap();
        let mut garbage = name.clone();
        garbage.push("-garbage");
        let garbage = dir.file_named(&garbage);
        fs::write(&garbage, b"not a library").unwrap();
        files.extend([good, garbage]);
    }
    for file in &files {
        plugboard_tests::set_mode(file, 0o755);
    }
    let out = command(&["list", "--plugins"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        !out.stdout.contains(&0x1b),
        "an escape byte reached the terminal"
    );
    let text = String::from_utf8(out.stdout).expect("text output is UTF-8");
    let mut found: Vec<PathBuf> = text
        .lines()
        .map(|line| match line.strip_prefix("loaded  ") {
            Some(_) => named(line, "loaded  ", " ("),
            None => named(line, "refused ", ": "),
        })
        .collect();
    found.sort();
    files.sort();
    assert_eq!(found, files, "one line per file, each found again:\n{text}");

    // `watch`: added and removed lines, for a plugin under each name.
    let empty = PluginDir::new();
    let mut cmd = command(&["watch", "--plugins"]);
    cmd.arg(empty.path());
    let mut watch = LineReader::spawn(cmd);
    watch.next_line("watching");
    let greeter = fs::read(library("greeter")).unwrap();
    for name in attack::hostile_names() {
        let file = empty.file_named(&name);
        empty.install(&greeter, &file);
        assert_eq!(named(&watch.next_line("added"), "added   ", " ("), file);
        fs::remove_file(&file).unwrap();
        assert_eq!(named(&watch.next_line("removed"), "removed ", " ("), file);
    }
}
