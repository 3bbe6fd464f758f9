//! What a finished child process printed: its text, and the field names of
//! the JSON documents it printed (the `--format json` tests compare those
//! with the documented ones).

use std::process::Output;

/// A finished process's standard output, as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A finished process's standard error, as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The field names of a JSON object, sorted.
pub fn json_keys(value: &serde_json::Value) -> Vec<&str> {
    let mut keys: Vec<&str> = value
        .as_object()
        .unwrap_or_else(|| panic!("an object: {value}"))
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    keys
}

/// `names`, sorted: what [`json_keys`] returns for an object with exactly
/// these fields.
pub fn sorted<'a>(names: &[&'a str]) -> Vec<&'a str> {
    let mut names = names.to_vec();
    names.sort_unstable();
    names
}

/// The refusal kinds of a `list`/`vet --format json` document's files, in
/// file order (loaded files have none).
pub fn refusal_kinds(doc: &serde_json::Value) -> Vec<&str> {
    doc["files"]
        .as_array()
        .unwrap_or_else(|| panic!("a `files` array: {doc}"))
        .iter()
        .filter_map(|f| f["kind"].as_str())
        .collect()
}
