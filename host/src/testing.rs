//! Support for testing plugins against a real host, in the spirit of
//! go-plugin's `testing.go`: build `cdylib` crates with cargo and load the
//! real artifacts.
//!
//! # Examples
//!
//! In a plugin crate's integration test (`tests/load.rs`):
//!
//! ```no_run
//! use plugboard_host::{testing, PluginHost};
//!
//! let libs = testing::build_cdylibs(env!("CARGO_MANIFEST_DIR"), &[env!("CARGO_PKG_NAME")])
//!     .expect("the plugin builds");
//! let mut host = PluginHost::builder().build();
//! for path in libs.values() {
//!     host.load_file(path).expect("the plugin loads");
//! }
//! ```

use std::{
    collections::BTreeMap,
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

/// Why building plugin libraries failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// cargo could not be started.
    #[error("cannot run cargo ({cargo}): {source}")]
    Spawn {
        /// The cargo program used (`$CARGO`, else `cargo`).
        cargo: String,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// cargo ran and failed; its diagnostics went to standard error.
    #[error("cargo build failed ({status}); see the compiler output above")]
    Failed {
        /// cargo's exit status.
        status: std::process::ExitStatus,
    },
    /// A package asked for produced no `cdylib`.
    #[error("package `{package}` built no cdylib; give it `crate-type = [\"cdylib\"]`")]
    NoCdylib {
        /// The package.
        package: String,
    },
}

/// Builds the `cdylib` targets of `packages` (dev profile) with the cargo
/// that runs this process (`$CARGO`, else `cargo` on `PATH`), from the
/// workspace or package at `manifest_dir`, and returns the library file of
/// each, keyed by package name.
///
/// cargo's own build lock makes concurrent calls safe; repeated calls cost a
/// no-op build.
///
/// # Errors
///
/// [`BuildError`] when cargo cannot run, the build fails, or a package has
/// no `cdylib` target.
pub fn build_cdylibs(
    manifest_dir: impl AsRef<Path>,
    packages: &[&str],
) -> Result<BTreeMap<String, PathBuf>, BuildError> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut command = Command::new(&cargo);
    command
        .current_dir(manifest_dir.as_ref())
        .args(["build", "--message-format=json-render-diagnostics"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    for package in packages {
        command.args(["-p", package]);
    }
    let mut child = command.spawn().map_err(|source| BuildError::Spawn {
        cargo: cargo.clone(),
        source,
    })?;
    let mut by_target = BTreeMap::new();
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some((target, file)) = cdylib_artifact(&line) {
                by_target.insert(target, file);
            }
        }
    }
    let status = child
        .wait()
        .map_err(|source| BuildError::Spawn { cargo, source })?;
    if !status.success() {
        return Err(BuildError::Failed { status });
    }
    packages
        .iter()
        .map(|package| {
            let target = package.replace('-', "_");
            by_target
                .remove(&target)
                .map(|file| ((*package).to_owned(), file))
                .ok_or_else(|| BuildError::NoCdylib {
                    package: (*package).to_owned(),
                })
        })
        .collect()
}

/// The target name and library file of a `compiler-artifact` message for a
/// `cdylib`.
fn cdylib_artifact(line: &str) -> Option<(String, PathBuf)> {
    let message: serde_json::Value = serde_json::from_str(line).ok()?;
    if message.get("reason")?.as_str()? != "compiler-artifact" {
        return None;
    }
    let target = message.get("target")?;
    let kinds = target.get("kind")?.as_array()?;
    if !kinds.iter().any(|k| k.as_str() == Some("cdylib")) {
        return None;
    }
    let name = target.get("name")?.as_str()?.replace('-', "_");
    let ext = format!(".{}", crate::LIBRARY_EXTENSION);
    let file = message
        .get("filenames")?
        .as_array()?
        .iter()
        .filter_map(|f| f.as_str())
        .find(|f| f.ends_with(&ext))?;
    Some((name, PathBuf::from(file)))
}
