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
//! let host = PluginHost::builder().build();
//! for path in libs.values() {
//!     host.load_file(path).expect("the plugin loads");
//! }
//! ```

use crate::{DispenseError, LibraryInfo, LoadError, LoadErrorKind, PluginHost, PluginHostBuilder};
use plugboard_interface::metadata::Metadata;

pub use crate::layout::layouts_compatible;

/// Reads the plugboard metadata out of a library's bytes, with every
/// object-level check of the vet step (format, architecture, shared library,
/// segments inside the bytes, program headers and dynamic section as the
/// platform's loader reads them, exported root module, metadata and its
/// target), **without loading or running anything**. Never panics, whatever
/// the bytes: it is the pre-load parser the fuzz target and property tests
/// exercise.
///
/// # Errors
///
/// The [`LoadErrorKind`] the vet step would refuse the bytes with.
pub fn inspect_bytes(bytes: &[u8]) -> Result<Metadata, LoadErrorKind> {
    crate::vet::examine(bytes).map(|examined| examined.metadata)
}
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
    /// cargo ran and failed.
    #[error("cargo build failed ({status}):\n{output}")]
    Failed {
        /// cargo's exit status.
        status: std::process::ExitStatus,
        /// What cargo printed on its standard error (the compiler's
        /// diagnostics).
        output: String,
    },
    /// A package asked for produced no `cdylib`.
    #[error("package `{package}` built no cdylib; give it `crate-type = [\"cdylib\"]`")]
    NoCdylib {
        /// The package.
        package: String,
    },
    /// `$PLUGBOARD_PREBUILT_DIR` is set but lacks a package's library.
    #[error("{PREBUILT_DIR_VAR} is set, but {} is missing: build the package there first", path.display())]
    NotPrebuilt {
        /// The library file looked for.
        path: PathBuf,
    },
}

/// The environment variable that, when set, makes [`build_cdylibs`] take the
/// libraries from that folder instead of running cargo: for test binaries
/// that run where cargo cannot (a Windows build run under Wine, whose
/// libraries were cross-built beforehand into that folder).
pub const PREBUILT_DIR_VAR: &str = "PLUGBOARD_PREBUILT_DIR";

/// The library file of `package` in `dir`, as cargo names a `cdylib`
/// (`lib<name>.so`, `lib<name>.dylib`, `<name>.dll`).
fn prebuilt(dir: &Path, package: &str) -> Result<PathBuf, BuildError> {
    let path = dir.join(format!(
        "{}{}{}",
        std::env::consts::DLL_PREFIX,
        package.replace('-', "_"),
        std::env::consts::DLL_SUFFIX
    ));
    if path.is_file() {
        Ok(path)
    } else {
        Err(BuildError::NotPrebuilt { path })
    }
}

/// Builds the `cdylib` targets of `packages` (dev profile) with the cargo
/// that runs this process (`$CARGO`, else `cargo` on `PATH`), from the
/// workspace or package at `manifest_dir`, and returns the library file of
/// each, keyed by package name.
///
/// cargo's own build lock makes concurrent calls safe; repeated calls cost a
/// no-op build. cargo's output is kept, and shown only if the build fails.
///
/// # Errors
///
/// [`BuildError`] when cargo cannot run, the build fails, or a package has
/// no `cdylib` target.
pub fn build_cdylibs(
    manifest_dir: impl AsRef<Path>,
    packages: &[&str],
) -> Result<BTreeMap<String, PathBuf>, BuildError> {
    build_cdylibs_with_profile(manifest_dir, packages, "dev")
}

/// Like [`build_cdylibs`], with a cargo profile (`"dev"`, `"release"`, ...):
/// benchmarks measure release builds.
///
/// With [`PREBUILT_DIR_VAR`] set, builds nothing (whatever the profile) and
/// returns the libraries found in that folder.
///
/// # Errors
///
/// As [`build_cdylibs`].
pub fn build_cdylibs_with_profile(
    manifest_dir: impl AsRef<Path>,
    packages: &[&str],
    profile: &str,
) -> Result<BTreeMap<String, PathBuf>, BuildError> {
    if let Some(dir) = std::env::var_os(PREBUILT_DIR_VAR) {
        let dir = PathBuf::from(dir);
        return packages
            .iter()
            .map(|package| Ok(((*package).to_owned(), prebuilt(&dir, package)?)))
            .collect();
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut command = Command::new(&cargo);
    command
        .current_dir(manifest_dir.as_ref())
        .args([
            "build",
            "--message-format=json-render-diagnostics",
            "--profile",
            profile,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for package in packages {
        command.args(["-p", package]);
    }
    let mut child = command.spawn().map_err(|source| BuildError::Spawn {
        cargo: cargo.clone(),
        source,
    })?;
    let stderr = child.stderr.take().map(|mut stderr| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = std::io::Read::read_to_string(&mut stderr, &mut text);
            text
        })
    });
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
    let output = stderr
        .and_then(|reader| reader.join().ok())
        .unwrap_or_default();
    if !status.success() {
        return Err(BuildError::Failed { status, output });
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

/// Why [`check_cdylib`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PluginTestError {
    /// The crate did not build.
    #[error("building the plugin failed: {0}")]
    Build(#[from] BuildError),
    /// The host refused the library.
    #[error("the host refused the plugin library: {0}")]
    Refused(LoadError),
    /// A plugin implements an interface the host was not told about, so it
    /// could not be dispensed.
    #[error(
        "plugin `{plugin}` implements {interface}, which the test host does not register; add `.interface::<YourInterfaceType>()` to the host builder"
    )]
    Unregistered {
        /// The plugin's name.
        plugin: String,
        /// Its interface.
        interface: String,
    },
    /// A plugin passed the load checks but could not be dispensed.
    #[error("{0}")]
    Dispense(DispenseError),
    /// The built library could not be copied into a private folder to load.
    #[error("cannot copy the built library into a private folder to load it: {0}. Check the free space and that the temporary folder is writable.")]
    Install(std::io::Error),
    /// The library exports no plugins for the negotiated protocol.
    #[error("the library loaded but exports no plugins")]
    Empty,
}

/// A plugin library that passed [`check_cdylib`], with the host that loaded it.
pub struct CheckedPlugin {
    /// The host, with the library loaded: dispense from it to test calls.
    pub host: PluginHost,
    /// What the host loaded.
    pub library: LibraryInfo,
    /// The private folder the library was copied to (and loaded from).
    _dir: tempfile::TempDir,
}

/// Builds the `cdylib` of `package` (from `manifest_dir`), loads it into a
/// host built from `host`, and checks that it passes the handshake and that
/// every plugin it declares can be dispensed (interface name, semver and
/// layout checked, factory run). The host must register (with
/// [`PluginHostBuilder::interface`]) every interface the library's plugins
/// implement.
///
/// Meant for a plugin crate's own tests, like go-plugin's
/// `TestPluginRPCConn`: build the host as the application does, so the test
/// shows the plugin works with that application.
///
/// # Examples
///
/// In `plugins/greeter/tests/plugin.rs`:
///
/// ```no_run
/// use plugboard_host::{testing, Plugin, PluginHost};
/// use plugboard_interface::{interface, HandshakeConfig, PluginError};
///
/// # const HANDSHAKE: HandshakeConfig = HandshakeConfig { cookie_key: "K", cookie_value: "V" };
/// # #[interface(version = "1.0.0")]
/// # pub trait Greeter: Send + Sync { fn greet(&self, name: &str) -> Result<String, PluginError>; }
/// let checked = testing::check_cdylib(
///     env!("CARGO_MANIFEST_DIR"),
///     env!("CARGO_PKG_NAME"),
///     PluginHost::builder().handshake(HANDSHAKE).interface::<dyn Greeter>(),
/// )
/// .unwrap();
/// let greeter: Plugin<dyn Greeter> = checked.host.dispense("greeter").unwrap();
/// ```
///
/// # Errors
///
/// A [`PluginTestError`] that says which step failed and why.
pub fn check_cdylib(
    manifest_dir: impl AsRef<Path>,
    package: &str,
    host: PluginHostBuilder,
) -> Result<CheckedPlugin, PluginTestError> {
    let built = build_cdylibs(manifest_dir, &[package])?;
    let path = built
        .get(package)
        .cloned()
        .ok_or_else(|| BuildError::NoCdylib {
            package: package.to_owned(),
        })?;
    // Cargo's output folder follows the umask (often group-writable), which
    // the host's strict-permissions check refuses: test the plugin from a
    // private folder, as it would be installed.
    let dir = tempfile::Builder::new()
        .prefix("plugboard-test-")
        .tempdir()
        .map_err(PluginTestError::Install)?;
    let installed = dir.path().join(path.file_name().unwrap_or_default());
    #[cfg(unix)]
    let private = std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    );
    #[cfg(not(unix))]
    let private = Ok(());
    private
        .and_then(|_| std::fs::copy(&path, &installed))
        .and_then(|_| {
            let mut permissions = std::fs::metadata(&installed)?.permissions();
            #[cfg(unix)]
            std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
            #[cfg(not(unix))]
            permissions.set_readonly(false);
            std::fs::set_permissions(&installed, permissions)
        })
        .map_err(PluginTestError::Install)?;
    let host = host.build();
    let library = host
        .load_file(&installed)
        .map_err(PluginTestError::Refused)?;
    if library.entries.is_empty() {
        return Err(PluginTestError::Empty);
    }
    for (info, outcome) in host.verify() {
        match outcome {
            None => {
                return Err(PluginTestError::Unregistered {
                    plugin: info.entry.name,
                    interface: info.entry.interface,
                })
            }
            Some(Err(e)) => return Err(PluginTestError::Dispense(e)),
            Some(Ok(())) => {}
        }
    }
    Ok(CheckedPlugin {
        host,
        library,
        _dir: dir,
    })
}
