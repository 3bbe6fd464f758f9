//! The FFI-safe error type plugins return to the host.

use std::fmt;

use abi_stable::{std_types::RString, StableAbi};
use serde::{Deserialize, Serialize};

/// What kind of failure a [`PluginError`] reports.
#[repr(u8)]
#[derive(StableAbi, Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PluginErrorKind {
    /// The plugin ran and reported a failure of its own.
    Failed,
    /// Plugin code panicked; the panic was caught inside the plugin.
    Panicked,
    /// The operation is not provided by this plugin.
    Unsupported,
    /// The method is not provided because the plugin was built against an
    /// older minor version of the interface; the message is the method's name.
    /// Returned by the default body of an optional `#[sabi_trait]` method
    /// (see [`PluginError::method_missing`]).
    MethodMissing,
    /// The library panicked earlier and the host's policy is to refuse
    /// further calls.
    Poisoned,
    /// The plugin runs in its own process, and that process ended (a crash,
    /// an abort, `exit`, killed for memory); the message says how.
    Crashed,
    /// The plugin runs in its own process, and a call took longer than the
    /// host allows; the process was stopped.
    TimedOut,
}

/// An error returned across the plugin boundary.
///
/// It is `#[repr(C)]` and `StableAbi`, so interfaces can use it in their
/// method signatures (`RResult<T, PluginError>`), and the framework uses it
/// for failures of factories and of the root-module constructor.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginError {
    kind: PluginErrorKind,
    message: RString,
}

impl PluginError {
    /// A failure reported by the plugin itself, with a message for the user.
    pub fn failed(message: impl Into<String>) -> Self {
        Self::new(PluginErrorKind::Failed, message)
    }

    /// A failure caused by a panic inside plugin code.
    pub fn panicked(message: impl Into<String>) -> Self {
        Self::new(PluginErrorKind::Panicked, message)
    }

    /// An operation this plugin does not provide.
    pub fn unsupported(message: impl Into<String>) -> Self {
        Self::new(PluginErrorKind::Unsupported, message)
    }

    /// The library refuses calls after an earlier panic.
    pub fn poisoned() -> Self {
        Self::new(
            PluginErrorKind::Poisoned,
            "an earlier call panicked and the host refuses calls into a panicked plugin",
        )
    }

    /// The method `method` is missing from this plugin's interface version.
    ///
    /// Interfaces declared with [`#[interface]`](crate::interface) return it
    /// for their `#[since]` methods by themselves. In a hand-written
    /// `#[sabi_trait]` interface, use it as the default body of every method
    /// added in a minor version, and list the method in
    /// [`Interface::OPTIONAL_METHODS`]: a plugin built against the older
    /// version has no such method in its vtable, so `abi_stable` runs the
    /// default body instead. The host turns this into a message naming the
    /// plugin and both versions.
    ///
    /// [`Interface::OPTIONAL_METHODS`]: crate::Interface::OPTIONAL_METHODS
    pub fn method_missing(method: &str) -> Self {
        Self::new(PluginErrorKind::MethodMissing, method)
    }

    /// An error of the given kind with a message.
    pub fn new(kind: PluginErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: RString::from(message.into()),
        }
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> PluginErrorKind {
        self.kind
    }

    /// The message, written by the plugin (or the panic message).
    pub fn message(&self) -> &str {
        self.message.as_str()
    }
}

impl fmt::Display for PluginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            PluginErrorKind::Failed => f.write_str(&self.message),
            PluginErrorKind::Panicked => write!(f, "plugin panicked: {}", self.message),
            PluginErrorKind::Unsupported => write!(f, "not supported: {}", self.message),
            PluginErrorKind::Poisoned => write!(f, "plugin is poisoned: {}", self.message),
            // A bare method name (from `method_missing`), or a full
            // explanation (from a host that knows both versions).
            PluginErrorKind::MethodMissing if is_identifier(&self.message) => write!(
                f,
                "method `{}` is not provided: the plugin was built against an older version of the interface",
                self.message
            ),
            PluginErrorKind::MethodMissing => f.write_str(&self.message),
            PluginErrorKind::Crashed => write!(f, "plugin process ended: {}", self.message),
            PluginErrorKind::TimedOut => write!(f, "plugin call timed out: {}", self.message),
        }
    }
}

impl std::error::Error for PluginError {}

fn is_identifier(text: &str) -> bool {
    !text.is_empty() && text.chars().all(|c| c.is_alphanumeric() || c == '_')
}
