//! Why a file was refused: [`LoadError`] and its [`LoadErrorKind`].
//!
//! Over 400 lines because it is one enum of some thirty kinds, each with its
//! documentation, its message and its advice, kept side by side.

use std::{
    fmt, io,
    path::{Path, PathBuf},
};

use super::DispenseError;

/// A plugin library file was refused.
#[derive(Debug)]
pub struct LoadError {
    path: PathBuf,
    kind: LoadErrorKind,
}

impl LoadError {
    pub(crate) fn new(path: impl Into<PathBuf>, kind: LoadErrorKind) -> Self {
        Self {
            path: path.into(),
            kind,
        }
    }

    /// The file (or, for [`LoadErrorKind::FolderUnreadable`], the folder).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Why it was refused.
    pub fn kind(&self) -> &LoadErrorKind {
        &self.kind
    }

    /// Why it was refused, by value.
    pub fn into_kind(self) -> LoadErrorKind {
        self.kind
    }

    /// What to do next, as one sentence.
    pub fn hint(&self) -> String {
        self.kind.hint()
    }

    /// The long report behind this error, if it has one (the full output of
    /// `abi_stable`'s layout checker).
    pub fn details(&self) -> Option<&str> {
        match &self.kind {
            LoadErrorKind::IncompatibleFramework { details, .. } => Some(details),
            LoadErrorKind::IncompatibleInterface(e) => e.details(),
            _ => None,
        }
    }
}

impl fmt::Display for LoadError {
    /// One line: the file ([`display::path`](crate::display::path)), what
    /// happened and what to do. Text from the plugin (its names, versions,
    /// cookie, init error, the loader's message) has its control characters
    /// escaped.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use crate::display::controls_escaped;
        write!(
            f,
            "{}: {}. {}",
            crate::display::path(&self.path),
            controls_escaped(&self.kind),
            controls_escaped(&self.hint())
        )
    }
}

impl std::error::Error for LoadError {}

/// Why a plugin library file was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadErrorKind {
    /// The plugins folder itself could not be read.
    #[error("cannot read the plugins folder: {cause}")]
    FolderUnreadable {
        /// The operating system's error.
        cause: io::Error,
    },
    /// The file could not be examined (it vanished, or permission is denied).
    #[error("cannot read the file: {cause}")]
    Unreadable {
        /// The operating system's error.
        cause: io::Error,
    },
    /// The path is not a regular file (a directory, a socket, a FIFO...).
    #[error("not a regular file (found a {found}); a plugin must be a shared-library file")]
    NotAFile {
        /// What was found instead, in words ("directory", ...).
        found: &'static str,
    },
    /// The file is larger than the host accepts.
    #[error("too large: {size} bytes, the limit is {limit}")]
    TooLarge {
        /// Its size.
        size: u64,
        /// The host's limit.
        limit: u64,
    },
    /// The file or its folder can be changed by other users (OpenSSH's
    /// StrictModes rule), or is owned by someone else.
    #[error("insecure permissions: the {what} has mode {mode:04o} and owner uid {owner}; a plugin and its folder must not be writable by group or others, and must belong to you or root")]
    InsecurePermissions {
        /// Which path is insecure ("file ..." or "folder ...").
        what: String,
        /// Its permission bits.
        mode: u32,
        /// Its owner's uid.
        owner: u32,
    },
    /// Windows: the file or its folder can be written by every user of the
    /// machine (its access control list lets Everyone, Authenticated Users
    /// or BUILTIN\Users write it) — the Windows form of
    /// [`InsecurePermissions`](Self::InsecurePermissions).
    #[error("insecure permissions: the {what} can be written by {group} ({sid}); a plugin and its folder must not be writable by every user of the machine")]
    InsecureAcl {
        /// Which path is insecure ("file ..." or "folder ...").
        what: String,
        /// The group that may write it, e.g. `BUILTIN\Users`.
        group: String,
        /// That group's security identifier, e.g. `S-1-5-32-545`.
        sid: String,
    },
    /// The bytes are not a shared library the host can load safely.
    #[error("not a shared library: {reason}")]
    NotALibrary {
        /// What the check found.
        reason: String,
    },
    /// A library for another platform (format, architecture or target).
    #[error("built for another platform: this host needs {expected}, the file is {found}")]
    WrongPlatform {
        /// What this host needs.
        expected: String,
        /// What the file is.
        found: String,
    },
    /// A loadable segment extends past the end of the file.
    #[error("truncated: its segments need {needed} bytes but the file has {size}")]
    Truncated {
        /// Where the last segment ends.
        needed: u64,
        /// The file's size.
        size: u64,
    },
    /// The plugboard metadata section is missing or unreadable.
    #[error("no readable plugboard metadata: {reason}")]
    BadMetadata {
        /// What is wrong.
        reason: String,
    },
    /// What the library says when loaded differs from its metadata.
    #[error("the library's metadata does not match what it reports when loaded ({reason})")]
    MetadataMismatch {
        /// Which field differs.
        reason: String,
    },
    /// The file's SHA-256 is not the one the allowlist gives for its name.
    #[error("checksum mismatch: the allowlist expects SHA-256 {expected}, the file has {found}")]
    ChecksumMismatch {
        /// The allowlisted SHA-256.
        expected: String,
        /// The file's SHA-256.
        found: String,
    },
    /// The host has a checksum allowlist and the file is not on it.
    #[error("not in the checksum allowlist (its SHA-256 is {sha256})")]
    NotAllowed {
        /// The file's SHA-256.
        sha256: String,
    },
    /// The host requires signatures and the file has none.
    #[error(
        "unsigned: this host requires a signature from a trusted key, and {} does not exist",
        crate::display::path(signature)
    )]
    Unsigned {
        /// Where the signature was looked for.
        signature: PathBuf,
    },
    /// The file's signature does not verify.
    #[error("bad signature: {reason}")]
    BadSignature {
        /// Why it does not verify.
        reason: String,
    },
    /// The private copy the host loads from could not be made.
    #[error("cannot make the private copy to load from: {cause}")]
    PrivateCopy {
        /// The operating system's error.
        cause: io::Error,
    },
    /// The dynamic loader refused the file.
    #[error("the dynamic loader refused it: {reason}")]
    OpenFailed {
        /// The dynamic loader's message.
        reason: String,
    },
    /// The file is a shared library, but it exports no plugboard root module.
    #[error("a shared library, but not a plugboard plugin: it exports no plugin root module")]
    NotAPlugin,
    /// The library was built with an `abi_stable` whose ABI differs from the host's.
    #[error("built with an incompatible abi_stable: the host uses abi_stable ABI {expected}, the plugin uses {found}")]
    AbiStableMismatch {
        /// The host's abi_stable ABI version.
        expected: String,
        /// The plugin's abi_stable ABI version (or what its header held).
        found: String,
    },
    /// The library's root module does not match the host's `plugboard-interface`.
    #[error("built against an incompatible plugboard-interface: {summary}")]
    IncompatibleFramework {
        /// The first mismatch, in one line.
        summary: String,
        /// The full report of `abi_stable`'s checker.
        details: String,
    },
    /// The library's plugboard ABI version differs from the host's.
    #[error("plugboard ABI version mismatch: the host speaks ABI {expected}, the plugin was built for ABI {found}")]
    AbiVersion {
        /// The host's [`plugboard_interface::ABI_VERSION`].
        expected: u32,
        /// The plugin's.
        found: u32,
    },
    /// The library's magic cookie is not this application's.
    #[error("not a plugin for this application: magic cookie mismatch (expected {expected_key}={expected_value}, found {found_key}={found_value})")]
    CookieMismatch {
        /// The host's cookie key.
        expected_key: String,
        /// The host's cookie value.
        expected_value: String,
        /// The plugin's cookie key.
        found_key: String,
        /// The plugin's cookie value.
        found_value: String,
    },
    /// The host and the library share no protocol version.
    #[error(
        "incompatible protocol version: this host speaks {}, the plugin offers {}",
        VersionList(host),
        VersionList(plugin)
    )]
    NoCommonProtocol {
        /// The versions the host speaks.
        host: Vec<u32>,
        /// The versions the plugin offers.
        plugin: Vec<u32>,
    },
    /// The library's plugin table is malformed.
    #[error("plugin `{plugin}` is malformed: {reason}")]
    BadEntry {
        /// The plugin entry's name.
        plugin: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A plugin name in this library is already provided by a library loaded earlier.
    #[error("plugin name `{name}` is already taken by {}, which was loaded first (files load in sorted order)", crate::display::path(first))]
    DuplicatePlugin {
        /// The name both libraries export.
        name: String,
        /// The library that provides the name.
        first: PathBuf,
    },
    /// This very file is already loaded in this host.
    #[error("already loaded in this host")]
    AlreadyLoaded,
    /// A plugin implements an interface this host registered, but cannot be
    /// used as it (major version, layout or methods differ).
    #[error("{}", .0.without_path())]
    IncompatibleInterface(DispenseError),
    /// One more library from this file would exceed the host's cap on
    /// libraries mapped per file (libraries are never unloaded; see
    /// [`PluginHostBuilder::max_generations`](crate::PluginHostBuilder::max_generations)).
    #[error("not loading the new version: {mapped} libraries loaded from this file are mapped already and the limit is {limit} (libraries are never unloaded)")]
    TooManyGenerations {
        /// Libraries from this file mapped now.
        mapped: usize,
        /// The host's limit.
        limit: usize,
    },
    /// One more library would exceed the host's cap on libraries mapped in
    /// total (see
    /// [`PluginHostBuilder::max_libraries`](crate::PluginHostBuilder::max_libraries)).
    #[error("not loading it: {mapped} libraries are mapped already and the limit is {limit} (libraries are never unloaded)")]
    TooManyLibraries {
        /// Libraries mapped now.
        mapped: usize,
        /// The host's limit.
        limit: usize,
    },
    /// The library failed while initialising.
    #[error("the plugin library failed to initialise: {reason}")]
    InitFailed {
        /// What the library or `abi_stable` reported.
        reason: String,
    },
    /// The plugin was to run in its own process, and that failed.
    #[error("cannot run it in its own process: {reason}")]
    Isolation {
        /// What failed.
        reason: String,
    },
    /// The plugin runs in its own process, which crashed (a signal, an
    /// abort, `exit`) while it loaded the library.
    #[error("crashed while loading: {reason}")]
    Crashed {
        /// How the process ended, and its last output.
        reason: String,
    },
    /// The plugin runs in its own process, which did not finish loading the
    /// library within the host's call timeout; it was stopped.
    #[error("timed out while loading: {reason}")]
    TimedOut {
        /// What it did not finish.
        reason: String,
    },
}

impl LoadErrorKind {
    /// The kind's name, e.g. `"CookieMismatch"`: a stable key for
    /// machine-readable output.
    pub fn name(&self) -> &'static str {
        match self {
            Self::FolderUnreadable { .. } => "FolderUnreadable",
            Self::Unreadable { .. } => "Unreadable",
            Self::NotAFile { .. } => "NotAFile",
            Self::TooLarge { .. } => "TooLarge",
            Self::InsecurePermissions { .. } => "InsecurePermissions",
            Self::InsecureAcl { .. } => "InsecureAcl",
            Self::NotALibrary { .. } => "NotALibrary",
            Self::WrongPlatform { .. } => "WrongPlatform",
            Self::Truncated { .. } => "Truncated",
            Self::BadMetadata { .. } => "BadMetadata",
            Self::MetadataMismatch { .. } => "MetadataMismatch",
            Self::ChecksumMismatch { .. } => "ChecksumMismatch",
            Self::NotAllowed { .. } => "NotAllowed",
            Self::Unsigned { .. } => "Unsigned",
            Self::BadSignature { .. } => "BadSignature",
            Self::PrivateCopy { .. } => "PrivateCopy",
            Self::OpenFailed { .. } => "OpenFailed",
            Self::NotAPlugin => "NotAPlugin",
            Self::AbiStableMismatch { .. } => "AbiStableMismatch",
            Self::IncompatibleFramework { .. } => "IncompatibleFramework",
            Self::AbiVersion { .. } => "AbiVersion",
            Self::CookieMismatch { .. } => "CookieMismatch",
            Self::NoCommonProtocol { .. } => "NoCommonProtocol",
            Self::BadEntry { .. } => "BadEntry",
            Self::DuplicatePlugin { .. } => "DuplicatePlugin",
            Self::AlreadyLoaded => "AlreadyLoaded",
            Self::IncompatibleInterface(e) => e.kind_name(),
            Self::TooManyGenerations { .. } => "TooManyGenerations",
            Self::TooManyLibraries { .. } => "TooManyLibraries",
            Self::InitFailed { .. } => "InitFailed",
            Self::Isolation { .. } => "Isolation",
            Self::Crashed { .. } => "Crashed",
            Self::TimedOut { .. } => "TimedOut",
        }
    }

    /// What to do next, as one sentence ending with a full stop.
    pub fn hint(&self) -> String {
        let text = match self {
            Self::FolderUnreadable { .. } => "Check that the folder exists and that this user may read it.",
            Self::Unreadable { .. } => "Check that it still exists and that this user may read it.",
            Self::NotAFile { .. } => "Remove it from the plugins folder, or rename it so it does not look like a library.",
            Self::TooLarge { .. } => "If this really is a plugin, raise the host's size limit.",
            Self::InsecurePermissions { .. } => "Fix it with `chmod go-w` (or `chown`), or turn strict permissions off in the host.",
            Self::InsecureAcl { sid, .. } => return format!("Take that group's write access away (`icacls <path> /inheritance:d`, then `icacls <path> /remove:g *{sid}`), keep plugins in a folder only you can write, or turn strict permissions off in the host."),
            Self::NotALibrary { .. } => "The file may be empty, corrupt, or not a library at all; rebuild the plugin or remove the file.",
            Self::WrongPlatform { .. } => "Rebuild the plugin for this platform.",
            Self::Truncated { .. } => "The copy was probably interrupted; copy the plugin again.",
            Self::BadMetadata { .. } => "The library was not built with `plugboard_interface::export_plugins!` (or with an incompatible plugboard); rebuild it.",
            Self::MetadataMismatch { .. } => "The file may have been tampered with; rebuild it.",
            Self::ChecksumMismatch { .. } => "The file changed since the allowlist was written; reinstall it or update the allowlist.",
            Self::NotAllowed { sha256 } => return format!("Add `{sha256}  <file name>` to the allowlist if you trust it."),
            Self::Unsigned { .. } => "Sign the library with one of the host's trusted keys.",
            Self::BadSignature { .. } => "Do not load this file; re-sign a trusted build.",
            Self::PrivateCopy { .. } => "Check the free space and that the temporary folder is usable.",
            Self::OpenFailed { .. } => "It may depend on a library that is not installed, or be built for another platform; rebuild the plugin for this platform or remove the file.",
            Self::NotAPlugin => "Plugins are built with `plugboard_interface::export_plugins!`; move this file out of the plugins folder.",
            Self::AbiStableMismatch { .. } => "Rebuild the plugin with the same abi_stable major version as the host.",
            Self::IncompatibleFramework { .. } => return format!("Rebuild the plugin against plugboard-interface {}, the version this host uses.", plugboard_interface::VERSION),
            Self::AbiVersion { .. } => "Rebuild the plugin against the plugboard-interface release this host uses.",
            Self::CookieMismatch { expected_key, .. } if expected_key.is_empty() => "This host was built without a handshake: give PluginHostBuilder::handshake the HandshakeConfig of the application's interface crate, the one its plugins are built with.",
            Self::CookieMismatch { .. } => "It was built for another application that uses plugboard; remove it from this plugins folder.",
            Self::NoCommonProtocol { host, plugin } => protocol_advice(host, plugin),
            Self::BadEntry { .. } => "This is a bug in the plugin; report it to its author.",
            Self::DuplicatePlugin { .. } => "Remove one of the two files, or rename the plugin in one of them.",
            Self::AlreadyLoaded => "A file is loaded once; to load a new build, replace the file (a watched folder loads it as a new generation).",
            Self::IncompatibleInterface(e) => return e.hint(),
            Self::TooManyGenerations { .. } => "The previous generation keeps serving; restart the host to reclaim the memory.",
            Self::TooManyLibraries { .. } => "Remove files the host need not load, or restart the host to reclaim the memory (or raise its limit).",
            Self::InitFailed { .. } => "Report this to the plugin's author.",
            Self::Isolation { .. } => "Check that the host can start its plugin runner, or load the plugin in-process.",
            Self::Crashed { .. } => "The library crashes while it loads; report this to the plugin's author (it would have ended the host in-process).",
            Self::TimedOut { .. } => "The library does not finish loading; report this to the plugin's author, or raise the host's call timeout.",
        };
        text.to_owned()
    }
}

struct VersionList<'a>(&'a [u32]);

impl fmt::Display for VersionList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            [] => f.write_str("no version"),
            [one] => write!(f, "version {one}"),
            many => {
                f.write_str("versions ")?;
                for (i, v) in many.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                Ok(())
            }
        }
    }
}

fn protocol_advice(host: &[u32], plugin: &[u32]) -> &'static str {
    match (host.iter().min(), plugin.iter().max(), plugin.iter().min(), host.iter().max()) {
        (Some(host_min), Some(plugin_max), _, _) if plugin_max < host_min => {
            "The plugin is older than this host: upgrade the plugin, or ask its author for a build that offers this host's protocol."
        }
        (_, _, Some(plugin_min), Some(host_max)) if plugin_min > host_max => {
            "The plugin is newer than this host: upgrade the host, or use an older release of the plugin."
        }
        _ => "Upgrade the host or the plugin so that they share a protocol version.",
    }
}
