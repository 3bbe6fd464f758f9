//! What a call reports besides its result, and what a host knows about a
//! dispensed plugin (used by the handles `#[interface]` generates to turn a
//! failure into an error or a panic that names the plugin).

use std::{fmt, mem::MaybeUninit, path::PathBuf};

use abi_stable::{std_types::ROption, StableAbi};

use crate::{PluginError, PluginErrorKind};

/// The failure of one call, written by the plugin only when the call fails
/// (the result is then `RNone`). It has no destructor, so the success path
/// costs a flag store and nothing else; an error is moved out only on the
/// failure path.
#[repr(C)]
#[derive(StableAbi)]
pub struct CallStatus {
    failed: bool,
    error: MaybeUninit<PluginError>,
}

impl CallStatus {
    /// No failure yet.
    #[inline(always)]
    pub fn new() -> Self {
        Self {
            failed: false,
            error: MaybeUninit::uninit(),
        }
    }

    /// Records `error` and returns the failed result. A second failure
    /// replaces the first (which is dropped).
    #[cold]
    #[inline(never)]
    pub fn fail<T>(&mut self, error: PluginError) -> ROption<T> {
        if self.failed {
            // SAFETY: `failed` says `error` holds a value written by `fail`.
            unsafe { self.error.assume_init_drop() };
        }
        self.error.write(error);
        self.failed = true;
        ROption::RNone
    }

    /// The recorded error (a placeholder if the callee failed without one).
    #[cold]
    #[inline(never)]
    pub fn into_error(self) -> PluginError {
        if self.failed {
            // SAFETY: `failed` says `error` holds a value written by `fail`,
            // and `self` is consumed, so it is read once.
            unsafe { self.error.assume_init_read() }
        } else {
            PluginError::failed("the plugin reported a failure without an error")
        }
    }
}

impl Default for CallStatus {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for CallStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallStatus")
            .field("failed", &self.failed)
            .finish_non_exhaustive()
    }
}

/// A method the plugin lacks because it was built against an older minor
/// version of the interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingMethod {
    /// The method's name.
    pub name: String,
    /// The interface version it arrived in.
    pub since: String,
}

impl fmt::Display for MissingMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (since {})", self.name, self.since)
    }
}

/// What the host knows about a dispensed plugin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginMeta {
    /// The plugin's name.
    pub name: String,
    /// The library file it came from.
    pub path: PathBuf,
    /// The interface name.
    pub interface: String,
    /// The interface version the plugin was built against.
    pub built_against: String,
    /// The interface version the host uses.
    pub host_version: String,
    /// Optional methods the plugin lacks (it was built against an older minor).
    pub missing_methods: Vec<MissingMethod>,
}

impl PluginMeta {
    /// The error a `Result` method returns for `error`: a missing method is
    /// explained with both versions; others are returned as they are.
    #[cold]
    pub fn explain(&self, error: PluginError) -> PluginError {
        if error.kind() != PluginErrorKind::MethodMissing {
            return error;
        }
        let method = error.message();
        let since = self
            .missing_methods
            .iter()
            .find(|m| m.name == method)
            .map_or("a later version", |m| m.since.as_str());
        PluginError::new(
            PluginErrorKind::MethodMissing,
            format!(
                "plugin `{}` was built against {} {}; `{method}` arrived in {since}. Upgrade the plugin to a build against {} {since} or later to use it.",
                self.name, self.interface, self.built_against, self.interface
            ),
        )
    }

    /// Resumes the failure of a method without `Result` as a panic in the
    /// caller, naming the plugin; its payload is the message as a `String`,
    /// for callers that `catch_unwind`. The host's panic hook does not run
    /// (`resume_unwind`): the plugin's own message already reached the
    /// host's log.
    #[cold]
    pub fn resume(&self, method: &str, error: PluginError) -> ! {
        // The runner of isolated plugins calls with a nameless meta, and
        // sends the error itself back to the host, which names the plugin.
        if self.name.is_empty() {
            std::panic::resume_unwind(Box::new(error));
        }
        let message = match error.kind() {
            PluginErrorKind::Panicked => format!(
                "plugin `{}` panicked in `{method}`: {}",
                self.name,
                error.message()
            ),
            _ => format!("plugin `{}` failed in `{method}`: {error}", self.name),
        };
        std::panic::resume_unwind(Box::new(message))
    }
}
