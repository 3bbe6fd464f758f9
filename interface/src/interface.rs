//! The traits that name a plugin interface: [`PluginInterface`], which hosts
//! and plugins are generic over, and [`Interface`], for interfaces written by
//! hand with `abi_stable`'s `#[sabi_trait]`.

use abi_stable::StableAbi;
use serde::{Deserializer, Serializer};

use crate::{abi::Checked, wire::InvokeError, MethodTable, PluginMeta, Remote, Served};

/// A plugin interface as hosts dispense it and plugins export it.
///
/// [`#[interface]`](crate::interface) implements it for `dyn Trait`: a host
/// writes `host.dispense::<dyn Transformer>("upper")` and gets a
/// `Plugin<dyn Transformer>`. Every hand-written [`Interface`] type has it too.
/// You never implement it yourself.
pub trait PluginInterface: 'static {
    /// The interface name, e.g. `"Transformer"`.
    const NAME: &'static str;
    /// The interface version as a semver string, e.g. `"1.1.0"`.
    const VERSION: &'static str;
    /// The methods added after the first release of this major version, each
    /// with the version it arrived in.
    const OPTIONAL_METHODS: &'static [(&'static str, &'static str)];
    /// The method table of an `#[interface]` trait (`None` for a hand-written
    /// interface).
    const METHODS: Option<&'static MethodTable>;

    /// What crosses the boundary: the object a plugin's factory writes.
    type Object: StableAbi + 'static;
    /// What a host calls: the object with plain-Rust methods (for
    /// `#[interface]` traits, a type that implements the trait).
    type Handle: 'static;

    /// The handle for a checked object of this interface.
    fn wrap(object: Checked<Self>, meta: &'static PluginMeta) -> Self::Handle;

    /// The checked object inside a handle.
    fn unwrap(handle: Self::Handle) -> Checked<Self>;

    /// Calls method number `method` of `handle` with arguments read from
    /// `args` (a sequence: one element per argument) and writes its result to
    /// `out`. A method without `Result` that fails resumes its panic, as a
    /// direct call would.
    ///
    /// # Errors
    ///
    /// [`InvokeError`]: no such method, arguments or result that cannot
    /// travel as data, arguments that do not fit, or the method's own error.
    fn invoke<'de, D, S>(
        handle: &mut Self::Handle,
        method: usize,
        args: D,
        out: S,
    ) -> Result<S::Ok, InvokeError>
    where
        D: Deserializer<'de>,
        S: Serializer,
    {
        let _ = (handle, method, args, out);
        Err(InvokeError::NotSupported {
            interface: Self::NAME,
        })
    }

    /// An object of this interface whose calls travel as bytes through
    /// `remote` (a plugin running in another process), made with the
    /// interface's own vtable for remote objects; `None` for an interface
    /// written by hand, whose calls cannot travel.
    fn remote(remote: Remote) -> Option<Self::Object> {
        drop(remote);
        None
    }

    /// `object`, held for calls as bytes from any thread (a host service
    /// called by a plugin in another process); `None` for an interface that
    /// is not `Send`, or written by hand.
    fn serve(object: Self::Object) -> Option<Served> {
        drop(object);
        None
    }
}

/// A plugin value of type `T` can be exported as interface `Self`: how a
/// plugin library (or a host offering a service) turns a value into the
/// object that crosses the boundary.
pub trait Exports<T>: PluginInterface {
    /// The object for `value`.
    fn export(value: T) -> Self::Object;
}

/// An interface written by hand with `abi_stable`: the trait-object type of a
/// `#[sabi_trait]`, with the interface's name and semantic version.
///
/// Prefer [`#[interface]`](crate::interface), which writes all of this (and
/// the panic guards) for you. For a hand-written interface, implement it for
/// the trait-object type (for example `Greeter_TO<'static, RBox<()>>`); the
/// host dispenses values of this type after checking the plugin's interface
/// name, version and `abi_stable` layout.
pub trait Interface: StableAbi + Sized + 'static {
    /// The interface name, e.g. `"Greeter"`.
    const NAME: &'static str;
    /// The interface version as a semver string, e.g. `"1.1.0"`.
    const VERSION: &'static str;
    /// The methods added after the first release of this major version, each
    /// with the version it arrived in, e.g. `&[("shout", "1.1.0")]`.
    ///
    /// Each must have a default body that returns
    /// [`PluginError::method_missing`](crate::PluginError::method_missing).
    /// A host refuses, at load, a plugin that lacks a method not listed here.
    const OPTIONAL_METHODS: &'static [(&'static str, &'static str)] = &[];
}

impl<T: Interface> PluginInterface for T {
    const NAME: &'static str = T::NAME;
    const VERSION: &'static str = T::VERSION;
    const OPTIONAL_METHODS: &'static [(&'static str, &'static str)] = T::OPTIONAL_METHODS;
    const METHODS: Option<&'static MethodTable> = None;
    type Object = T;
    type Handle = T;

    fn wrap(object: Checked<Self>, _meta: &'static PluginMeta) -> T {
        object.into_inner()
    }

    fn unwrap(handle: T) -> Checked<Self> {
        // SAFETY: a hand-written interface has no method table: `Checked`
        // of it allows nothing the object itself does not.
        unsafe { Checked::new(handle) }
    }
}

impl<T: Interface> Exports<T> for T {
    fn export(value: T) -> T {
        value
    }
}
