//! The typed reasons a file is refused or a plugin cannot be dispensed.
//!
//! Every message says what happened, what was expected, what was found, and
//! what to do next, in the manner of go-plugin's handshake errors.

use std::{fmt, io, path::PathBuf};

use plugboard_interface::PluginError;

/// Why a plugin library file was refused. Every variant names the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The plugins folder itself could not be read.
    #[error(
        "{}: cannot read the plugins folder: {source}. Check that the folder exists and that this user may read it, or point --plugins / PLUGBOARD_PLUGINS at another folder.",
        path.display()
    )]
    FolderUnreadable {
        /// The folder.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },

    /// The file could not be examined (it vanished, or permission is denied).
    #[error(
        "{}: cannot read the file: {source}. Check that it still exists and that this user may read it.",
        path.display()
    )]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },

    /// The path is not a regular file (a directory, a socket, a FIFO...).
    #[error(
        "{}: not a regular file (found a {found}); a plugin must be a shared-library file. Remove it from the plugins folder or rename it so it does not end in .{}.",
        path.display(), crate::LIBRARY_EXTENSION
    )]
    NotAFile {
        /// The path.
        path: PathBuf,
        /// What was found instead, in words ("directory", ...).
        found: &'static str,
    },

    /// The file is larger than the host accepts.
    #[error(
        "{}: too large: {size} bytes, the limit is {limit}. If this really is a plugin, raise the host's size limit.",
        path.display()
    )]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size.
        size: u64,
        /// The host's limit.
        limit: u64,
    },

    /// The file or its folder can be changed by other users (OpenSSH's
    /// StrictModes rule), or is owned by someone else.
    #[error(
        "{}: insecure permissions: the {what} has mode {mode:04o} and owner uid {owner}; a plugin and its folder must not be writable by group or others, and must belong to you or root. Fix with `chmod go-w` (or `chown`), or turn strict permissions off in the host.",
        path.display()
    )]
    InsecurePermissions {
        /// The file.
        path: PathBuf,
        /// Which path is insecure ("file ..." or "folder ...").
        what: String,
        /// Its permission bits.
        mode: u32,
        /// Its owner's uid.
        owner: u32,
    },

    /// The bytes are not a shared library the host can read.
    #[error(
        "{}: not a shared library: {reason}. The file may be empty, corrupt, or not a library at all; rebuild the plugin or remove the file.",
        path.display()
    )]
    NotALibrary {
        /// The file.
        path: PathBuf,
        /// What the object reader reported.
        reason: String,
    },

    /// A library for another platform (format, architecture or target).
    #[error(
        "{}: built for another platform: this host needs {expected}, the file is {found}. Rebuild the plugin for this platform.",
        path.display()
    )]
    WrongPlatform {
        /// The file.
        path: PathBuf,
        /// What this host needs.
        expected: String,
        /// What the file is.
        found: String,
    },

    /// A loadable segment extends past the end of the file.
    #[error(
        "{}: truncated: its segments need {needed} bytes but the file has {size}. The copy was probably interrupted; copy the plugin again.",
        path.display()
    )]
    Truncated {
        /// The file.
        path: PathBuf,
        /// Where the last segment ends.
        needed: u64,
        /// The file's size.
        size: u64,
    },

    /// The plugboard metadata section is missing or unreadable.
    #[error(
        "{}: no readable plugboard metadata: {reason}. The library was not built with `plugboard_interface::export_plugins!` (or with an incompatible plugboard); rebuild it.",
        path.display()
    )]
    BadMetadata {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },

    /// What the library says when loaded differs from its metadata.
    #[error(
        "{}: the library's metadata does not match what it reports when loaded ({reason}); the file may have been tampered with. Rebuild it.",
        path.display()
    )]
    MetadataMismatch {
        /// The file.
        path: PathBuf,
        /// Which field differs.
        reason: String,
    },

    /// The file's SHA-256 is not the one the allowlist gives for its name.
    #[error(
        "{}: checksum mismatch: the allowlist expects SHA-256 {expected}, the file has {found}. The file changed since the allowlist was written; reinstall it or update the allowlist.",
        path.display()
    )]
    ChecksumMismatch {
        /// The file.
        path: PathBuf,
        /// The allowlisted SHA-256.
        expected: String,
        /// The file's SHA-256.
        found: String,
    },

    /// The host has a checksum allowlist and the file is not on it.
    #[error(
        "{}: not in the checksum allowlist (its SHA-256 is {sha256}). Add `{sha256}  <file name>` to the allowlist if you trust it.",
        path.display()
    )]
    NotAllowed {
        /// The file.
        path: PathBuf,
        /// The file's SHA-256.
        sha256: String,
    },

    /// The host requires signatures and the file has none.
    #[error(
        "{}: unsigned: this host requires a signature from a trusted key, and {} does not exist. Sign the library with `plugboard sign`.",
        path.display(), signature.display()
    )]
    Unsigned {
        /// The file.
        path: PathBuf,
        /// Where the signature was looked for.
        signature: PathBuf,
    },

    /// The file's signature does not verify.
    #[error("{}: bad signature: {reason}. Do not load this file; re-sign a trusted build.", path.display())]
    BadSignature {
        /// The file.
        path: PathBuf,
        /// Why it does not verify.
        reason: String,
    },

    /// The private copy the host loads from could not be made.
    #[error(
        "{}: cannot make the private copy to load from: {source}. Check the free space and that the temporary folder is usable.",
        path.display()
    )]
    PrivateCopy {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },

    /// The dynamic loader refused the file.
    #[error(
        "{}: cannot be loaded as a shared library: {reason}. The file may be empty, truncated, built for another platform, or not a library at all; rebuild the plugin for this platform or remove the file.",
        path.display()
    )]
    OpenFailed {
        /// The file.
        path: PathBuf,
        /// The dynamic loader's message.
        reason: String,
    },

    /// The file is a shared library, but it exports no plugboard root module.
    #[error(
        "{}: a shared library, but not a plugboard plugin: it exports no plugin root module. Plugins are built with `plugboard_interface::export_plugins!`; move this file out of the plugins folder.",
        path.display()
    )]
    NotAPlugin {
        /// The file.
        path: PathBuf,
    },

    /// The library was built with an `abi_stable` whose ABI differs from the host's.
    #[error(
        "{}: built with an incompatible abi_stable: the host uses abi_stable ABI {expected}, the plugin uses {found}. Rebuild the plugin with the same abi_stable major version as the host.",
        path.display()
    )]
    AbiStableMismatch {
        /// The file.
        path: PathBuf,
        /// The host's abi_stable ABI version.
        expected: String,
        /// The plugin's abi_stable ABI version (or what its header held).
        found: String,
    },

    /// The library's root module does not match the host's `plugboard-interface`.
    #[error(
        "{}: built against an incompatible plugboard-interface: {summary}. Rebuild the plugin against plugboard-interface {host_version}, the version this host uses.",
        path.display()
    )]
    IncompatibleFramework {
        /// The file.
        path: PathBuf,
        /// The first mismatch, in one line.
        summary: String,
        /// The `plugboard-interface` version of the host.
        host_version: &'static str,
        /// The full report of `abi_stable`'s checker, for `--verbose`.
        details: String,
    },

    /// The library's plugboard ABI version differs from the host's.
    #[error(
        "{}: plugboard ABI version mismatch: the host speaks ABI {expected}, the plugin was built for ABI {found}. Rebuild the plugin against the plugboard-interface release this host uses.",
        path.display()
    )]
    AbiVersion {
        /// The file.
        path: PathBuf,
        /// The host's [`plugboard_interface::ABI_VERSION`].
        expected: u32,
        /// The plugin's.
        found: u32,
    },

    /// The library's magic cookie is not this application's.
    #[error(
        "{}: not a plugin for this application: magic cookie mismatch (expected {expected_key}={expected_value}, found {found_key}={found_value}). It was built for another application that uses plugboard; remove it from this plugins folder, or rebuild it against this application's interface crate.",
        path.display()
    )]
    CookieMismatch {
        /// The file.
        path: PathBuf,
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
        "{}: incompatible protocol version: this host speaks {}, the plugin offers {}. {}",
        path.display(), VersionList(host), VersionList(plugin), protocol_advice(host, plugin)
    )]
    NoCommonProtocol {
        /// The file.
        path: PathBuf,
        /// The versions the host speaks.
        host: Vec<u32>,
        /// The versions the plugin offers.
        plugin: Vec<u32>,
    },

    /// The library's plugin table is malformed.
    #[error(
        "{}: plugin `{plugin}` is malformed: {reason}. This is a bug in the plugin; report it to its author.",
        path.display()
    )]
    BadEntry {
        /// The file.
        path: PathBuf,
        /// The plugin entry's name.
        plugin: String,
        /// What is wrong with it.
        reason: String,
    },

    /// A plugin name in this library is already provided by a library loaded earlier.
    #[error(
        "{}: plugin name `{name}` is already taken by {}, which was loaded first (files load in sorted order). Remove one of the two files, or rename the plugin in one of them.",
        path.display(), first.display()
    )]
    DuplicatePlugin {
        /// The file refused.
        path: PathBuf,
        /// The name both libraries export.
        name: String,
        /// The library that provides the name.
        first: PathBuf,
    },

    /// This very file is already loaded in this host.
    #[error(
        "{}: already loaded in this host; a file is loaded once (to load a new build, copy it under a new name).",
        path.display()
    )]
    AlreadyLoaded {
        /// The file.
        path: PathBuf,
    },

    /// A plugin implements an interface this host registered, but cannot be
    /// used as it (major version or layout differ).
    #[error("{}: {}", path.display(), without_path(source, path))]
    IncompatibleInterface {
        /// The file.
        path: PathBuf,
        /// Why the plugin cannot be used as the host's interface.
        source: DispenseError,
    },

    /// A new version of a file would exceed the host's cap on generations
    /// mapped per file (libraries are never unloaded).
    #[error(
        "{}: not loading the new version: {mapped} generations of this file are mapped already and the limit is {limit} (libraries are never unloaded). The previous generation keeps serving; restart the host to reclaim the memory.",
        path.display()
    )]
    TooManyGenerations {
        /// The file.
        path: PathBuf,
        /// Generations mapped now.
        mapped: usize,
        /// The host's limit.
        limit: usize,
    },

    /// The library failed while initialising its root module.
    #[error(
        "{}: the plugin library failed to initialise: {reason}. Report this to the plugin's author.",
        path.display()
    )]
    InitFailed {
        /// The file.
        path: PathBuf,
        /// What the library or `abi_stable` reported.
        reason: String,
    },
}

impl LoadError {
    /// The file (or folder) this error is about.
    pub fn path(&self) -> &std::path::Path {
        match self {
            Self::FolderUnreadable { path, .. }
            | Self::Unreadable { path, .. }
            | Self::NotAFile { path, .. }
            | Self::OpenFailed { path, .. }
            | Self::NotAPlugin { path }
            | Self::AbiStableMismatch { path, .. }
            | Self::IncompatibleFramework { path, .. }
            | Self::AbiVersion { path, .. }
            | Self::CookieMismatch { path, .. }
            | Self::NoCommonProtocol { path, .. }
            | Self::BadEntry { path, .. }
            | Self::DuplicatePlugin { path, .. }
            | Self::AlreadyLoaded { path }
            | Self::IncompatibleInterface { path, .. }
            | Self::InitFailed { path, .. }
            | Self::TooLarge { path, .. }
            | Self::InsecurePermissions { path, .. }
            | Self::NotALibrary { path, .. }
            | Self::WrongPlatform { path, .. }
            | Self::Truncated { path, .. }
            | Self::BadMetadata { path, .. }
            | Self::MetadataMismatch { path, .. }
            | Self::ChecksumMismatch { path, .. }
            | Self::NotAllowed { path, .. }
            | Self::Unsigned { path, .. }
            | Self::BadSignature { path, .. }
            | Self::PrivateCopy { path, .. }
            | Self::TooManyGenerations { path, .. } => path,
        }
    }

    /// The variant's name, e.g. `"CookieMismatch"`: a stable key for
    /// machine-readable output.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::FolderUnreadable { .. } => "FolderUnreadable",
            Self::Unreadable { .. } => "Unreadable",
            Self::NotAFile { .. } => "NotAFile",
            Self::OpenFailed { .. } => "OpenFailed",
            Self::NotAPlugin { .. } => "NotAPlugin",
            Self::AbiStableMismatch { .. } => "AbiStableMismatch",
            Self::IncompatibleFramework { .. } => "IncompatibleFramework",
            Self::AbiVersion { .. } => "AbiVersion",
            Self::CookieMismatch { .. } => "CookieMismatch",
            Self::NoCommonProtocol { .. } => "NoCommonProtocol",
            Self::BadEntry { .. } => "BadEntry",
            Self::DuplicatePlugin { .. } => "DuplicatePlugin",
            Self::AlreadyLoaded { .. } => "AlreadyLoaded",
            Self::IncompatibleInterface { source, .. } => source.kind(),
            Self::InitFailed { .. } => "InitFailed",
            Self::TooLarge { .. } => "TooLarge",
            Self::InsecurePermissions { .. } => "InsecurePermissions",
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
            Self::TooManyGenerations { .. } => "TooManyGenerations",
        }
    }

    /// The long report behind this error, if it has one (the full output of
    /// `abi_stable`'s layout checker); shown with `--verbose`.
    pub fn details(&self) -> Option<&str> {
        match self {
            Self::IncompatibleFramework { details, .. } => Some(details),
            Self::IncompatibleInterface { source, .. } => source.details(),
            _ => None,
        }
    }
}

/// Why a plugin could not be dispensed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DispenseError {
    /// No loaded library provides a plugin by that name.
    #[error("no plugin named `{name}` is loaded; {}", available_names(available))]
    UnknownPlugin {
        /// The name asked for.
        name: String,
        /// The names that are loaded, sorted.
        available: Vec<String>,
    },

    /// The plugin implements another interface than the one asked for.
    #[error(
        "plugin `{plugin}` ({}) implements {found}, not {expected}; dispense it as {found}, or pick a plugin that implements {expected}: {}",
        path.display(), names_or_none(implementing)
    )]
    WrongInterface {
        /// The plugin's name.
        plugin: String,
        /// Its library.
        path: PathBuf,
        /// The interface the host asked for.
        expected: &'static str,
        /// The interface the plugin implements.
        found: String,
        /// The loaded plugins that do implement `expected`.
        implementing: Vec<String>,
    },

    /// The plugin was built against an incompatible version of the interface.
    #[error(
        "plugin `{plugin}` ({}) was built against {interface} {found}, this host uses {interface} {expected}: the major versions differ; {}.",
        path.display(), version_advice(expected, found)
    )]
    IncompatibleVersion {
        /// The plugin's name.
        plugin: String,
        /// Its library.
        path: PathBuf,
        /// The interface name.
        interface: &'static str,
        /// The host's interface version.
        expected: &'static str,
        /// The plugin's interface version.
        found: String,
    },

    /// The plugin's object does not have the layout of the host's interface type.
    #[error(
        "plugin `{plugin}` ({}) declares {interface} {found} but its layout does not match this host's {interface} {expected}: {}. The interface changed without a version bump; rebuild the plugin against the interface crate this host uses.",
        path.display(), report.summary
    )]
    LayoutMismatch {
        /// The plugin's name.
        plugin: String,
        /// Its library.
        path: PathBuf,
        /// The interface name.
        interface: &'static str,
        /// The host's interface version.
        expected: &'static str,
        /// The interface version the plugin declares.
        found: Box<str>,
        /// What differs: the first mismatch, and the full checker report.
        report: Box<LayoutReport>,
    },

    /// The host was closed.
    #[error("cannot dispense `{plugin}`: the host was closed; dispense before `close()`, or build a new host")]
    Closed {
        /// The plugin asked for.
        plugin: String,
    },

    /// The plugin's factory failed (returned an error or panicked).
    #[error("plugin `{plugin}` ({}) failed to create its object: {source}", path.display())]
    FactoryFailed {
        /// The plugin's name.
        plugin: String,
        /// Its library.
        path: PathBuf,
        /// What the plugin reported.
        source: PluginError,
    },
}

impl DispenseError {
    /// The variant's name, e.g. `"LayoutMismatch"`: a stable key for
    /// machine-readable output.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::UnknownPlugin { .. } => "UnknownPlugin",
            Self::WrongInterface { .. } => "WrongInterface",
            Self::IncompatibleVersion { .. } => "IncompatibleVersion",
            Self::LayoutMismatch { .. } => "LayoutMismatch",
            Self::FactoryFailed { .. } => "FactoryFailed",
            Self::Closed { .. } => "Closed",
        }
    }

    /// The long report behind this error, if it has one; shown with `--verbose`.
    pub fn details(&self) -> Option<&str> {
        match self {
            Self::LayoutMismatch { report, .. } => Some(&report.details),
            _ => None,
        }
    }
}

/// What `abi_stable`'s layout checker found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayoutReport {
    /// The first mismatch, on one line, with its field path.
    pub summary: String,
    /// The checker's full report (hundreds of lines), for `--verbose`.
    pub details: String,
}

/// A dispense error's message without the ` (<path>)` it carries, for a
/// message that starts with the path already.
fn without_path(error: &DispenseError, path: &std::path::Path) -> String {
    error
        .to_string()
        .replacen(&format!(" ({})", path.display()), "", 1)
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

fn version_advice(expected: &str, found: &str) -> &'static str {
    match (
        semver::Version::parse(expected),
        semver::Version::parse(found),
    ) {
        (Ok(host), Ok(plugin)) if plugin < host => {
            "the plugin is older: rebuild it against the interface crate this host uses"
        }
        (Ok(_), Ok(_)) => {
            "the plugin is newer: upgrade the host, or use an older release of the plugin"
        }
        _ => "rebuild the plugin against the interface crate this host uses",
    }
}

fn available_names(names: &[String]) -> String {
    if names.is_empty() {
        "no plugins are loaded (is the plugins folder right, and did its files load? try `plugboard list`)".to_owned()
    } else {
        format!("available: {}", names.join(", "))
    }
}

fn names_or_none(names: &[String]) -> String {
    if names.is_empty() {
        "none is loaded".to_owned()
    } else {
        names.join(", ")
    }
}
