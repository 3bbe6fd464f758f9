//! Issue 18's bad files through the generic `plugboard` binary: patched
//! copies of a real plugin are not called loadable, and hostile file names
//! reach the terminal escaped, one line each, and can be found again.

#[cfg(unix)]
use std::os::unix::process::ExitStatusExt;
use std::{path::PathBuf, process::Command};

#[cfg(unix)]
use plugboard_tests::{attack, library, set_mode, stdout};
use plugboard_tests::{refusal_kinds, PluginDir};

use super::plugboard;

/// Unix only: the patches are to an ELF plugin (a Windows plugin is a PE
/// file), and a crash is told by its signal.
#[cfg(unix)]
#[test]
fn inspect_and_vet_call_patched_copies_of_a_plugin_not_loadable() {
    let dir = PluginDir::new();
    dir.add("greeter");
    dir.add("kv");
    let greeter = std::fs::read(library("greeter")).unwrap();
    let attacks = [
        dir.write(
            "attack-a-pn-xnum",
            &attack::pn_xnum_with_a_load_past_the_end(&greeter),
        ),
        dir.write(
            "attack-b-dynamic",
            &attack::dynamic_outside_every_load(&greeter),
        ),
    ];
    for file in &attacks {
        let out = Command::new(env!("CARGO_BIN_EXE_plugboard"))
            .arg("inspect")
            .arg(file)
            .output()
            .unwrap();
        assert_eq!(out.status.signal(), None);
        assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
        assert!(out.stdout.is_empty(), "{}", stdout(&out));
    }
    let out = plugboard(&["vet", dir.path().to_str().unwrap(), "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (doc["ok"].as_u64(), doc["refused"].as_u64()),
        (Some(2), Some(2))
    );
    for file in doc["files"].as_array().unwrap() {
        let path = PathBuf::from(file["path"].as_str().unwrap());
        if attacks.contains(&path) {
            assert_eq!(file["kind"], "NotALibrary", "{file}");
        } else {
            assert_eq!(file["status"], "ok", "{file}");
        }
    }
}

/// Each hostile name three times: a good plugin, garbage, and a file
/// others may write (whose refusal names the file once more).
/// Unix only: Windows file names cannot hold control characters or bytes
/// that are not text (and have no modes).
#[cfg(unix)]
#[test]
fn vet_shows_hostile_file_names_escaped_one_line_each_and_reversibly() {
    let dir = PluginDir::new();
    let greeter = std::fs::read(library("greeter")).unwrap();
    let mut files = Vec::new();
    for name in attack::hostile_names() {
        for (suffix, bytes, mode) in [
            ("-good", &greeter[..], 0o755),
            ("-garbage", &b"not a library"[..], 0o755),
            ("-writable", &greeter[..], 0o666),
        ] {
            let mut stem = name.clone();
            stem.push(suffix);
            let path = dir.file_named(&stem);
            std::fs::write(&path, bytes).unwrap();
            set_mode(&path, mode);
            files.push(path);
        }
    }
    let out = plugboard(&["vet", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        !out.stdout.contains(&0x1b),
        "an escape byte reached the terminal"
    );
    let text = String::from_utf8(out.stdout).expect("text output is UTF-8");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), files.len(), "one line per file:\n{text}");
    let mut found: Vec<PathBuf> = lines
        .iter()
        .map(|line| {
            let shown = if let Some(rest) = line.strip_prefix("ok      ") {
                rest.split(" (").next().unwrap()
            } else {
                let rest = line.strip_prefix("refused ").expect(line);
                rest.split(": ").next().unwrap()
            };
            attack::unescaped_path(shown)
        })
        .collect();
    found.sort();
    files.sort();
    assert_eq!(found, files, "every name shown can be found again");
    let refusals = lines.iter().filter(|l| l.starts_with("refused")).count();
    assert_eq!(refusals, 6, "{text}");
}

/// The README's signed-plugins setup, step by step, with a key folder that
/// does not exist yet: a folder of signed plugins vets, with the key that
/// signed each; a file slipped in beside them unsigned (a library that
/// copies a plugin's metadata) is refused before anything of it runs.
#[test]
fn the_signed_plugins_setup_of_the_readme_works_from_scratch() {
    let work = tempfile::tempdir().unwrap();
    let keys = work.path().join("keys");
    let out = plugboard(&["keygen", "--out", keys.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (secret, public) = (keys.join("plugboard.key"), keys.join("plugboard.pub"));

    let dir = PluginDir::new();
    let plugins: Vec<PathBuf> = ["greeter", "kv"].map(|p| dir.add(p)).into();
    let out = Command::new(env!("CARGO_BIN_EXE_plugboard"))
        .args(["sign", "--key"])
        .arg(&secret)
        .args(&plugins)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let vet = || {
        let out = plugboard(&[
            "vet",
            dir.path().to_str().unwrap(),
            "--trusted-key",
            public.to_str().unwrap(),
            "--format",
            "json",
        ]);
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let doc = vet();
    assert_eq!(doc["ok"], 2, "{doc}");
    assert!(doc["files"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["signed_by"].as_str().is_some_and(|k| k.len() == 64)));

    dir.add("fixture-forged");
    let doc = vet();
    assert_eq!(
        (doc["ok"].as_u64(), doc["refused"].as_u64()),
        (Some(2), Some(1))
    );
    let kinds = refusal_kinds(&doc);
    assert_eq!(kinds, ["Unsigned"]);
}
