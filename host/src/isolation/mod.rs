//! Running chosen plugins in processes of their own: the same plugin file,
//! the same `Plugin<dyn Trait>`, and a crash that is an error value instead
//! of the end of the host.
//!
//! A host chooses per plugin name, per file, or for all
//! ([`PluginHostBuilder::isolate`](crate::PluginHostBuilder::isolate)). An
//! isolated file is vetted in the host exactly like any other (strict
//! modes, object checks, metadata, checksums, signatures, the sealed
//! private copy); then, instead of `dlopen` in the host, a *runner* process
//! is started and handed the private copy's descriptor, so it loads exactly
//! the bytes the host vetted. The runner runs the same load steps as an
//! in-process load (root-module layout, the library against its metadata,
//! the registered interfaces, init) and reports refusals with the same
//! [`LoadErrorKind`](crate::LoadErrorKind)s. The host then dispenses the
//! same `Plugin<dyn Trait>` as in-process: its methods write their
//! arguments with `postcard`, the runner calls the plugin's real object and
//! writes the result back.
//!
//! | | in-process (default) | isolated |
//! |---|---|---|
//! | a panic in a method | an error value (`Panicked`), host keeps running | the same |
//! | a segfault, `abort()`, `exit()`, a stack overflow | **ends the host** | an error value (`Crashed`, with the signal or exit status); the host keeps running |
//! | a method that never returns | **hangs the caller** | an error value (`TimedOut`) after [`call_timeout`](crate::PluginHostBuilder::call_timeout); the runner is killed |
//! | unbounded allocation | **the host runs out of memory** | the runner is killed at [`isolated_memory_limit`](crate::PluginHostBuilder::isolated_memory_limit) (`Crashed`) |
//! | a plugin's log records | the host's logger, plugin target | the same (its raw standard error too, line by line) |
//! | host services (`service::<S>()`) | yes | yes, called from the thread of the host's call while it runs |
//! | cost of a call | a few nanoseconds (about a `dyn Trait` call) | one round trip between processes (tens of microseconds) |
//! | cost of a load | the load steps | plus starting the runner (a few milliseconds) |
//! | interfaces | any | `#[interface]` traits the host registers; methods whose types have `serde` support and that do not return a borrow |
//! | state after a crash | — | lost: with [`RestartPolicy::OnNextCall`] the next call starts a new runner and makes the object again |
//!
//! Isolation protects the host from a plugin's *failures*, not from a
//! hostile plugin: the runner has the host user's privileges. Use signed
//! plugins for files other people can write.
//!
//! # The runner
//!
//! The runner is the host's own program, started again (or the program
//! given to [`isolation_runner`](crate::PluginHostBuilder::isolation_runner)).
//! It becomes a runner in [`PluginHostBuilder::build`]: started by a host,
//! `build` serves the plugin and exits instead of returning. So the program
//! must build its host (with the same interfaces and services) before it
//! does anything a runner must not do; an application whose `main` is
//! `plugboard_cli::run(builder)` needs nothing more. [`is_runner`] tells a
//! program that wants to check earlier.
//!
//! # Platform-specific behaviour
//!
//! On Linux and macOS the runner inherits a Unix socket pair and pipes; on
//! Linux it also receives the sealed memfd and a parent-death signal, and
//! the memory limit is an address-space limit (`RLIMIT_AS`). A runner ends
//! when its host ends, even when the host is killed: the parent-death
//! signal on Linux, and everywhere the end of a pipe only the host holds.
//!
//! On Windows the control channel is a local named pipe (one instance,
//! remote clients refused, checked to be the host's own before it is
//! handed over), whose end the host duplicates into the runner with the log
//! pipe's; the runner loads the host's private copy by its path, which the
//! host holds open without write or delete sharing. The runner is put in a
//! job object that kills it when the host's handle closes, however the host
//! ends, and that carries the memory limit (committed memory). A crash ends
//! the runner at once with the exception's code (no error dialog, no
//! debugger), which the error names: "an access violation", "a stack
//! overflow", "a fail-fast exit" (Rust's `abort`).
//!
//! [`PluginHostBuilder::build`]: crate::PluginHostBuilder::build

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use plugboard_interface::metadata::Metadata;

use crate::check::InterfaceSpec;

pub(crate) mod callback;
pub(crate) mod child;
mod child_load;
mod exchange;
mod forward;
mod launch;
pub(crate) mod objects;
mod os;
pub(crate) mod parent;
mod refusal;
mod wire;

/// Which plugins run in processes of their own.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Isolate {
    /// Every plugin file.
    All,
    /// The file that provides the plugin of this name (with every other
    /// plugin of that file).
    Plugin(String),
    /// This file (its path as given to the host, or just its file name).
    File(PathBuf),
}

impl From<&str> for Isolate {
    /// `"all"` is [`Isolate::All`] (as on the command line); any other text
    /// is a plugin name. A plugin really named `all` is
    /// `Isolate::Plugin("all".into())`.
    fn from(name: &str) -> Self {
        if name == "all" {
            Isolate::All
        } else {
            Isolate::Plugin(name.to_owned())
        }
    }
}

impl From<String> for Isolate {
    /// As `From<&str>`.
    fn from(name: String) -> Self {
        Isolate::from(name.as_str())
    }
}

impl From<&Path> for Isolate {
    fn from(path: &Path) -> Self {
        Isolate::File(path.to_owned())
    }
}

impl From<PathBuf> for Isolate {
    fn from(path: PathBuf) -> Self {
        Isolate::File(path)
    }
}

/// What happens after an isolated plugin's process crashed or was stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum RestartPolicy {
    /// It stays stopped: every later call returns the error that stopped it
    /// (the default).
    #[default]
    Never,
    /// The first call after `backoff` starts a new process (which loads the
    /// same vetted bytes again); objects dispensed before are made again on
    /// their next call, without their state. The backoff doubles with each
    /// crash in a row, up to 64 times `backoff`.
    OnNextCall {
        /// How long after a crash the next start may happen.
        backoff: Duration,
    },
}

/// A host's isolation settings.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) rules: Vec<Isolate>,
    pub(crate) call_timeout: Option<Duration>,
    pub(crate) restart: RestartPolicy,
    pub(crate) memory_limit: Option<u64>,
    pub(crate) runner: Option<PathBuf>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            rules: Vec::new(),
            call_timeout: Some(Duration::from_secs(30)),
            restart: RestartPolicy::Never,
            memory_limit: None,
            runner: None,
        }
    }
}

impl Settings {
    /// Whether the file at `path`, whose metadata lists the plugins of
    /// `protocol`, runs in its own process.
    pub(crate) fn applies(&self, path: &Path, metadata: &Metadata, protocol: u32) -> bool {
        self.rules.iter().any(|rule| match rule {
            Isolate::All => true,
            Isolate::Plugin(name) => metadata
                .plugins
                .iter()
                .any(|p| p.protocol == protocol && &p.name == name),
            Isolate::File(file) => same_file(file, path),
        })
    }
}

fn same_file(given: &Path, path: &Path) -> bool {
    if given == path {
        return true;
    }
    if given.components().count() == 1 && given.file_name() == path.file_name() {
        return true;
    }
    match (std::fs::canonicalize(given), std::fs::canonicalize(path)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Whether this process was started by a plugboard host as the runner of
/// an isolated plugin (it then becomes one in
/// [`PluginHostBuilder::build`](crate::PluginHostBuilder::build)).
pub fn is_runner() -> bool {
    child::requested()
}

/// The interfaces as host and runner compare them.
pub(crate) fn digests(specs: &[InterfaceSpec]) -> Vec<wire::InterfaceDigest> {
    specs.iter().map(digest_of).collect()
}

/// One interface as host and runner compare it.
pub(crate) fn digest_of(spec: &InterfaceSpec) -> wire::InterfaceDigest {
    digest(spec.name, spec.version, spec.methods)
}

/// An interface's name, version and methods, compared by host and runner.
pub(crate) fn digest(
    name: &str,
    version: &str,
    methods: Option<&'static plugboard_interface::MethodTable>,
) -> wire::InterfaceDigest {
    let methods: &[plugboard_interface::MethodInfo] = methods.map_or(&[], |t| t.methods.as_slice());
    wire::InterfaceDigest {
        name: name.to_owned(),
        version: version.to_owned(),
        methods: methods
            .iter()
            .map(|m| {
                (
                    m.name.to_string(),
                    m.since.to_string(),
                    m.signature.to_string(),
                )
            })
            .collect(),
    }
}

pub(crate) use wire::InterfaceDigest;
