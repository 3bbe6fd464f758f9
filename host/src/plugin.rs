//! `Plugin<I>`: a dispensed plugin object and what the host knows about it.

use std::{
    fmt,
    ops::{Deref, DerefMut},
    sync::Arc,
};

use abi_stable::std_types::RResult;
use plugboard_interface::{PluginError, PluginErrorKind, PluginInterface, PluginMeta};

use crate::registry::{Library, Runtime};

/// A plugin object of interface `I`, as
/// [`PluginHost::dispense`](crate::PluginHost::dispense) returns it.
///
/// It dereferences to the interface's handle, so every method of the
/// interface is called directly: for `#[interface] trait Transformer`,
/// `plugin.transform("hi")` on a `Plugin<dyn Transformer>` (the handle
/// implements `Transformer`, so `&*plugin` is a `&dyn Transformer` too). A
/// call costs what a call through a trait object costs.
///
/// Like `Arc`'s, `Plugin`'s own functions are associated functions —
/// [`Plugin::name(&p)`](Self::name), [`Plugin::meta(&p)`](Self::meta) — so
/// they never hide an interface method of the same name.
pub struct Plugin<I: ?Sized + PluginInterface> {
    handle: I::Handle,
    meta: &'static PluginMeta,
    origin: Origin,
}

/// Where the plugin runs, for [`Plugin::is_poisoned`].
enum Origin {
    /// In the host: the library's own flag (read without a lock; the
    /// library is never unloaded).
    InProcess(extern "C" fn() -> bool),
    /// In a runner process (asked of it).
    Isolated(Arc<Library>),
}

impl<I: ?Sized + PluginInterface> Plugin<I> {
    pub(crate) fn new(
        handle: I::Handle,
        meta: &'static PluginMeta,
        library: &Arc<Library>,
    ) -> Self {
        let origin = match &library.runtime {
            Runtime::InProcess(root) => Origin::InProcess(root.poisoned()),
            Runtime::Isolated(_) => Origin::Isolated(Arc::clone(library)),
        };
        Self {
            handle,
            meta,
            origin,
        }
    }

    /// Whether code of this plugin's library has panicked since it was
    /// loaded (the panic was caught and returned as an error).
    pub fn is_poisoned(this: &Self) -> bool {
        match &this.origin {
            Origin::InProcess(poisoned) => poisoned(),
            Origin::Isolated(library) => library.runtime.poisoned(),
        }
    }

    /// What the host knows about this plugin.
    pub fn meta(this: &Self) -> &PluginMeta {
        this.meta
    }

    pub(crate) fn meta_static(&self) -> &'static PluginMeta {
        self.meta
    }

    /// The plugin's name.
    pub fn name(this: &Self) -> &str {
        &this.meta.name
    }

    /// Whether the plugin provides `method` (false for an optional method
    /// added after the version the plugin was built against).
    pub fn provides(this: &Self, method: &str) -> bool {
        !this.meta.missing_methods.iter().any(|m| m.name == method)
    }

    /// The handle itself.
    pub fn into_inner(this: Self) -> I::Handle {
        this.handle
    }

    /// For a hand-written `abi_stable` interface whose methods return
    /// `RResult<T, PluginError>`: calls `f` on the object and turns a
    /// [`PluginError`] into a [`CallError`] that names the plugin and, for a
    /// missing optional method, the versions involved. (`#[interface]`
    /// traits do this by themselves.)
    ///
    /// # Errors
    ///
    /// [`CallError::MethodMissing`], [`CallError::NotImplemented`] or
    /// [`CallError::Failed`].
    pub fn call<T>(
        this: &Self,
        f: impl FnOnce(&I::Handle) -> RResult<T, PluginError>,
    ) -> Result<T, CallError> {
        f(&this.handle)
            .into_result()
            .map_err(|e| Self::explain(this, e))
    }

    /// Turns a [`PluginError`] returned by this plugin into a [`CallError`].
    pub fn explain(this: &Self, error: PluginError) -> CallError {
        let meta = this.meta;
        if error.kind() == PluginErrorKind::MethodMissing {
            let method = error.message().to_owned();
            return match meta.missing_methods.iter().find(|m| m.name == method) {
                Some(missing) => CallError::MethodMissing {
                    plugin: meta.name.clone(),
                    interface: meta.interface.clone(),
                    built_against: meta.built_against.clone(),
                    method,
                    since: missing.since.clone(),
                },
                // The plugin is new enough to have the method but kept the
                // interface's default body.
                None => CallError::NotImplemented {
                    plugin: meta.name.clone(),
                    method,
                },
            };
        }
        CallError::Failed {
            plugin: meta.name.clone(),
            error,
        }
    }
}

impl<I: ?Sized + PluginInterface> Deref for Plugin<I> {
    type Target = I::Handle;

    #[inline(always)]
    fn deref(&self) -> &I::Handle {
        &self.handle
    }
}

impl<I: ?Sized + PluginInterface> DerefMut for Plugin<I> {
    #[inline(always)]
    fn deref_mut(&mut self) -> &mut I::Handle {
        &mut self.handle
    }
}

impl<I: ?Sized + PluginInterface> fmt::Debug for Plugin<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Plugin")
            .field("meta", self.meta)
            .finish_non_exhaustive()
    }
}

/// A call into a hand-written interface's plugin failed (see
/// [`Plugin::call`]).
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
    #[error("plugin `{plugin}`: {error}")]
    Failed {
        /// The plugin's name.
        plugin: String,
        /// What the plugin reported.
        error: PluginError,
    },
}
