//! `Plugin<I>`: a dispensed plugin object and what the host knows about it.

use std::{fmt, ops::Deref, path::PathBuf, sync::Arc};

use abi_stable::std_types::RResult;
use plugboard_interface::{PluginError, PluginErrorKind};

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

/// A plugin object of interface `I`, as [`PluginHost::dispense`] returns it.
///
/// It dereferences to `I`, so calls cost exactly what a call on `I` costs:
/// `greeter.greet(..)`. [`call`](Self::call) turns a method's
/// `RResult<T, PluginError>` into a [`CallError`] that names the plugin and,
/// for a method the plugin is too old to have, both versions.
///
/// [`PluginHost::dispense`]: crate::PluginHost::dispense
pub struct Plugin<I> {
    object: I,
    meta: Arc<PluginMeta>,
    poisoned: extern "C" fn() -> bool,
}

impl<I> Plugin<I> {
    pub(crate) fn new(object: I, meta: Arc<PluginMeta>, poisoned: extern "C" fn() -> bool) -> Self {
        Self {
            object,
            meta,
            poisoned,
        }
    }

    /// Whether code of this plugin's library has panicked since it was
    /// loaded (the panic was caught and returned as an error).
    pub fn is_poisoned(&self) -> bool {
        (self.poisoned)()
    }

    /// What the host knows about this plugin.
    pub fn meta(&self) -> &PluginMeta {
        &self.meta
    }

    /// The plugin's name.
    pub fn name(&self) -> &str {
        &self.meta.name
    }

    /// Whether the plugin provides `method` (false for an optional method
    /// added after the version the plugin was built against).
    pub fn provides(&self, method: &str) -> bool {
        !self.meta.missing_methods.iter().any(|m| m.name == method)
    }

    /// The plugin object itself.
    pub fn into_inner(self) -> I {
        self.object
    }

    /// Calls `f` on the object and turns a [`PluginError`] into a
    /// [`CallError`] with the plugin's name and, for a missing optional
    /// method, the versions involved.
    ///
    /// # Errors
    ///
    /// [`CallError::MethodMissing`] or [`CallError::Failed`].
    pub fn call<T>(&self, f: impl FnOnce(&I) -> RResult<T, PluginError>) -> Result<T, CallError> {
        f(&self.object).into_result().map_err(|e| self.explain(e))
    }

    /// Turns a [`PluginError`] returned by this plugin into a [`CallError`].
    pub fn explain(&self, error: PluginError) -> CallError {
        if error.kind() == PluginErrorKind::MethodMissing {
            let method = error.message().to_owned();
            let missing = self.meta.missing_methods.iter().find(|m| m.name == method);
            return match missing {
                Some(missing) => CallError::MethodMissing {
                    plugin: self.meta.name.clone(),
                    interface: self.meta.interface.clone(),
                    built_against: self.meta.built_against.clone(),
                    method,
                    since: missing.since.clone(),
                },
                // The plugin is new enough to have the method but kept the
                // interface's default body.
                None => CallError::NotImplemented {
                    plugin: self.meta.name.clone(),
                    method,
                },
            };
        }
        CallError::Failed {
            plugin: self.meta.name.clone(),
            source: error,
        }
    }
}

impl<I> Deref for Plugin<I> {
    type Target = I;

    #[inline(always)]
    fn deref(&self) -> &I {
        &self.object
    }
}

impl<I> fmt::Debug for Plugin<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Plugin")
            .field("meta", &self.meta)
            .finish_non_exhaustive()
    }
}

/// A call into a plugin failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CallError {
    /// The plugin was built against an older minor version of the interface
    /// and lacks this method.
    #[error(
        "plugin `{plugin}` was built against {interface} {built_against}; `{method}` arrived in {since}. Upgrade the plugin to a build against {interface} {since} or later to use it."
    )]
    MethodMissing {
        /// The plugin's name.
        plugin: String,
        /// The interface name.
        interface: String,
        /// The version the plugin was built against.
        built_against: String,
        /// The missing method.
        method: String,
        /// The version the method arrived in.
        since: String,
    },
    /// The plugin is built against a version that has this optional method,
    /// but does not implement it (it kept the interface's default body).
    #[error("plugin `{plugin}` does not implement the optional method `{method}`; ask its author to implement it")]
    NotImplemented {
        /// The plugin's name.
        plugin: String,
        /// The method.
        method: String,
    },
    /// The plugin reported an error (or panicked; see the error's kind).
    #[error("plugin `{plugin}`: {source}")]
    Failed {
        /// The plugin's name.
        plugin: String,
        /// What the plugin reported.
        source: PluginError,
    },
}
