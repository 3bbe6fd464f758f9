//! Why a plugin could not be dispensed: [`DispenseError`].

use std::path::PathBuf;

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
    #[error("plugin `{plugin}` ({}) implements {found}, not {expected}; dispense it as {found}, or pick a plugin that implements {expected}: {}", crate::display::path(path), names_or_none(implementing))]
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
    #[error("plugin `{plugin}` ({}) was built against {interface} {found}, this host uses {interface} {expected}: the major versions differ; {}.", crate::display::path(path), version_advice(expected, found))]
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
    /// The plugin's object or methods do not match the host's interface type.
    #[error("plugin `{plugin}` ({}) declares {interface} {found} but does not match this host's {interface} {expected}: {}. {}", crate::display::path(path), report.summary, layout_advice(expected, found))]
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
    /// The plugin's interface is not one the host registered, so it cannot
    /// be dispensed without its type.
    #[error("plugin `{plugin}` implements {interface}, which this host does not register (it registers: {})", names_or_none(registered))]
    Unregistered {
        /// The plugin's name.
        plugin: String,
        /// Its interface.
        interface: String,
        /// The interfaces the host registers.
        registered: Vec<String>,
    },
    /// The interface was written by hand, without `#[interface]`: it has no
    /// method table to call through by name.
    #[error("plugin `{plugin}` implements {interface}, which was not declared with #[interface]: its methods cannot be called by name")]
    NotCallable {
        /// The plugin's name.
        plugin: String,
        /// Its interface.
        interface: &'static str,
    },
    /// The host was closed.
    #[error("cannot dispense `{plugin}`: the host was closed; dispense before `close()`, or build a new host")]
    Closed {
        /// The plugin asked for.
        plugin: String,
    },
    /// The plugin's factory failed (returned an error or panicked).
    #[error(
        "plugin `{plugin}` ({}) failed to create its object: {error}",
        crate::display::path(path)
    )]
    FactoryFailed {
        /// The plugin's name.
        plugin: String,
        /// Its library.
        path: PathBuf,
        /// What the plugin reported.
        error: plugboard_interface::PluginError,
    },
}

impl DispenseError {
    /// The variant's name, e.g. `"LayoutMismatch"`: a stable key for
    /// machine-readable output.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Self::UnknownPlugin { .. } => "UnknownPlugin",
            Self::WrongInterface { .. } => "WrongInterface",
            Self::IncompatibleVersion { .. } => "IncompatibleVersion",
            Self::LayoutMismatch { .. } => "LayoutMismatch",
            Self::FactoryFailed { .. } => "FactoryFailed",
            Self::Closed { .. } => "Closed",
            Self::Unregistered { .. } => "Unregistered",
            Self::NotCallable { .. } => "NotCallable",
        }
    }

    /// The long report behind this error, if it has one.
    pub fn details(&self) -> Option<&str> {
        match self {
            Self::LayoutMismatch { report, .. } => Some(&report.details),
            _ => None,
        }
    }

    /// The message without the ` (<path>)` it carries, for a message that
    /// names the file already, and without its advice (see [`hint`](Self::hint)).
    pub(super) fn without_path(&self) -> String {
        match self {
            Self::IncompatibleVersion {
                plugin,
                interface,
                expected,
                found,
                ..
            } => format!("plugin `{plugin}` was built against {interface} {found}, this host uses {interface} {expected}: the major versions differ"),
            Self::LayoutMismatch {
                plugin,
                interface,
                expected,
                found,
                report,
                ..
            } => format!("plugin `{plugin}` declares {interface} {found} but does not match this host's {interface} {expected}: {}", report.summary),
            other => other.to_string(),
        }
    }

    /// What to do next, as one sentence.
    pub fn hint(&self) -> String {
        match self {
            Self::IncompatibleVersion {
                expected, found, ..
            } => {
                let mut advice = version_advice(expected, found).to_owned();
                advice[..1].make_ascii_uppercase();
                format!("{advice}.")
            }
            Self::LayoutMismatch {
                expected, found, ..
            } => layout_advice(expected, found).to_owned(),
            _ => "See the message above.".to_owned(),
        }
    }
}

/// What to do about a layout mismatch: with the same version on both sides
/// the interface changed without a bump; with different versions of one
/// major, the interface crate broke semver between them.
fn layout_advice(expected: &str, found: &str) -> &'static str {
    if expected == found {
        "The interface changed without a version bump; rebuild the plugin against the interface crate this host uses."
    } else {
        "The interface crate broke semver between these versions (a method added without #[since], or a signature changed): fix it (#[since], or a new major version), then rebuild."
    }
}

/// What `abi_stable`'s layout checker found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayoutReport {
    /// The first mismatch, on one line, with its field path.
    pub summary: String,
    /// The checker's full report (hundreds of lines).
    pub details: String,
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
        "no plugins are loaded (is the plugins folder right, and did its files load?)".to_owned()
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
