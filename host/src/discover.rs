//! Step 1: list the candidate plugin files in a folder.

use std::{
    io,
    path::{Path, PathBuf},
};

/// The file extension of a shared library on this platform, without the dot:
/// `so` on Linux and other Unixes, `dylib` on macOS, `dll` on Windows.
pub const LIBRARY_EXTENSION: &str = std::env::consts::DLL_EXTENSION;

/// Whether `path` has this platform's shared-library extension.
///
/// Only the name is looked at; whether the file is a usable plugin is decided
/// by the later steps.
pub(crate) fn is_candidate(path: &Path) -> bool {
    path.extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case(LIBRARY_EXTENSION))
}

/// The candidate plugin files directly inside `dir` (no recursion), sorted by
/// path so that load order, and so which library wins a name conflict, does
/// not depend on the file system.
///
/// Entries are matched by name only: a directory named `x.so` is listed too,
/// and refused later with a reason, so that the user sees it.
///
/// # Errors
///
/// Fails only when the folder itself cannot be read.
pub(crate) fn discover(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if is_candidate(&path) {
            found.push(path);
        }
    }
    found.sort();
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_platforms_library_files_are_candidates() {
        let expected = if cfg!(target_vendor = "apple") {
            "dylib"
        } else if cfg!(windows) {
            "dll"
        } else {
            "so"
        };
        assert_eq!(LIBRARY_EXTENSION, expected);
        // What cargo names a cdylib: libgreeter.so, libgreeter.dylib, greeter.dll.
        let cdylib = format!(
            "{}greeter{}",
            std::env::consts::DLL_PREFIX,
            std::env::consts::DLL_SUFFIX
        );
        assert!(is_candidate(Path::new(&cdylib)));
        assert!(is_candidate(Path::new(&format!(
            "plugins/GREETER.{}",
            expected.to_uppercase()
        ))));
        for (name, platform) in [("x.so", "so"), ("x.dylib", "dylib"), ("x.dll", "dll")] {
            assert_eq!(
                is_candidate(Path::new(name)),
                platform == expected,
                "{name}"
            );
        }
        assert!(!is_candidate(Path::new("greeter.so.sig")));
        assert!(!is_candidate(Path::new("so")));
    }
}
