//! How results are shown: text lines for people, stable JSON for machines,
//! and the command line's own hints beside the library's messages.

use std::path::Path;

use plugboard_host::{display, LibraryInfo, LoadError, LoadErrorKind, PluginHost};
use serde_json::{json, Value};

/// A path, escaped for a terminal.
pub(crate) fn path(p: &Path) -> display::Shown<'_> {
    display::path(p)
}

/// Prints a JSON document (pretty, on standard output).
pub(crate) fn print_json(value: &Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).expect("a JSON value serialises")
    );
}

/// What the command line adds to a refusal: the option or command that
/// changes the outcome (a library's messages never name them).
pub(crate) fn cli_hint(error: &LoadError) -> Option<&'static str> {
    Some(match error.kind() {
        LoadErrorKind::FolderUnreadable { .. } => {
            "give the folder with --plugins DIR (or PLUGBOARD_PLUGINS)"
        }
        LoadErrorKind::InsecurePermissions { .. } | LoadErrorKind::InsecureAcl { .. } => {
            "--no-strict-permissions skips this check"
        }
        LoadErrorKind::Unsigned { .. } | LoadErrorKind::BadSignature { .. } => {
            "sign it with `plugboard sign --key <secret key> <file>`"
        }
        LoadErrorKind::NotAllowed { .. } | LoadErrorKind::ChecksumMismatch { .. } => {
            "the allowlist is the --checksums file"
        }
        _ => return None,
    })
}

/// A refusal on one line, with the command line's hint.
pub(crate) fn refusal_line(error: &LoadError) -> String {
    match cli_hint(error) {
        Some(hint) => format!("{error} [{hint}]"),
        None => error.to_string(),
    }
}

/// A refusal as JSON.
pub(crate) fn refusal_json(error: &LoadError, verbose: bool) -> Value {
    let mut value = json!({
        "path": error.path().display().to_string(),
        "status": "refused",
        "kind": error.kind().name(),
        "reason": error.kind().to_string(),
        "hint": error.hint(),
        "message": error.to_string(),
    });
    if verbose {
        if let Some(details) = error.details() {
            value["details"] = json!(details);
        }
    }
    value
}

/// A loaded library as JSON, with each plugin's methods when the host
/// registered its interface.
pub(crate) fn library_json(host: &PluginHost, lib: &LibraryInfo) -> Value {
    json!({
        "path": lib.path.display().to_string(),
        "status": "loaded",
        "library": { "name": lib.name, "version": lib.version, "description": lib.description },
        "generation": lib.generation,
        "isolated": lib.isolated,
        "protocol": lib.protocol,
        "offered_protocols": lib.offered_protocols,
        "plugins": lib.entries.iter().map(|e| {
            let registered = host.interfaces().iter().any(|(n, _)| *n == e.interface);
            let methods = host.interface_methods(&e.interface).map(|table| {
                table.methods.iter().enumerate().map(|(i, m)| json!({
                    "name": m.name.as_str(),
                    "since": m.since(),
                    "signature": m.signature.as_str(),
                    "available": !e.missing_methods.iter().any(|x| x.name == m.name.as_str()),
                    "callable": (table.serializable)(i as u32),
                })).collect::<Vec<_>>()
            });
            json!({
                "name": e.name,
                "interface": e.interface,
                "interface_version": e.interface_version,
                "registered": registered,
                "missing_methods": e.missing_methods.iter().map(|m| json!({
                    "name": m.name, "since": m.since,
                })).collect::<Vec<_>>(),
                "methods": methods,
            })
        }).collect::<Vec<_>>(),
    })
}

/// "no plugin files (*.so) in DIR".
pub(crate) fn empty_folder(dir: &Path) -> String {
    format!(
        "no plugin files (*.{}) in {}",
        plugboard_host::LIBRARY_EXTENSION,
        path(dir)
    )
}

/// Text from a plugin (a name, a description), escaped for a terminal.
pub(crate) fn shown(text: &str) -> display::Shown<'_> {
    display::shown(text)
}
