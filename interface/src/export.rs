//! The `export_plugins!` macro and the code it calls.

use std::{
    ffi::c_void,
    panic::{catch_unwind, AssertUnwindSafe},
};

use abi_stable::std_types::RResult;

use crate::{guard::panic_message, Interface, PluginError};

/// Runs a plugin constructor inside the plugin, catching panics, and writes
/// the object to `out`. Called by the factories [`export_plugins!`] generates.
///
/// # Safety
///
/// `out` must be valid for a write of `I` and aligned for it (the contract of
/// [`Factory`](crate::Factory)).
#[doc(hidden)]
pub unsafe fn run_factory<I: Interface>(
    out: *mut c_void,
    make: impl FnOnce() -> I,
) -> RResult<(), PluginError> {
    match catch_unwind(AssertUnwindSafe(make)) {
        Ok(object) => {
            // SAFETY: the caller guarantees `out` is valid and aligned for `I`.
            unsafe { out.cast::<I>().write(object) };
            RResult::ROk(())
        }
        Err(payload) => RResult::RErr(PluginError::panicked(panic_message(payload.as_ref()))),
    }
}

/// Exports a plugin library: its handshake, metadata and plugin entries.
///
/// Call it once, at the top level of a `cdylib` crate:
///
/// ```
/// use abi_stable::{sabi_trait, sabi_trait::TD_Opaque, std_types::{RBox, RResult, RStr, RString}};
/// use plugboard_interface::{export_plugins, guard, HandshakeConfig, Interface, PluginError};
///
/// // Usually in a shared interface crate:
/// pub const HANDSHAKE: HandshakeConfig =
///     HandshakeConfig { cookie_key: "MYAPP_PLUGIN", cookie_value: "b9c1-myapp" };
/// #[sabi_trait]
/// pub trait Greeter: Send + Sync {
///     fn greet(&self, name: RStr<'_>) -> RResult<RString, PluginError>;
/// }
/// pub type GreeterBox = Greeter_TO<'static, RBox<()>>;
/// impl Interface for GreeterBox {
///     const NAME: &'static str = "Greeter";
///     const VERSION: &'static str = "1.0.0";
/// }
///
/// // The plugin:
/// struct Hello;
/// impl Greeter for Hello {
///     fn greet(&self, name: RStr<'_>) -> RResult<RString, PluginError> {
///         guard(|| Ok(format!("Hello, {name}!").into()))
///     }
/// }
///
/// export_plugins! {
///     handshake: HANDSHAKE,
///     plugins: { "greeter" => GreeterBox::from_value(Hello, TD_Opaque) },
/// }
/// # fn main() {}
/// ```
///
/// * `handshake:` a [`HandshakeConfig`](crate::HandshakeConfig) shared with
///   the host.
/// * `plugins:` the plugins for protocol version 1, each `"name" => expr`
///   where `expr` builds a value of an [`Interface`] type. For several
///   protocol versions, write `protocols: { 1 => { ... }, 2 => { ... } }`
///   instead.
/// * optional `name:`, `version:`, `description:` override the library
///   metadata, which defaults to the crate's `CARGO_PKG_*` values.
///
/// Each `expr` runs on every dispense, inside a panic guard in the plugin;
/// the entry's interface and layout come from the type it evaluates to.
#[macro_export]
macro_rules! export_plugins {
    (
        handshake: $handshake:expr,
        $(name: $name:expr,)?
        $(version: $version:expr,)?
        $(description: $description:expr,)?
        plugins: { $($plugins:tt)* } $(,)?
    ) => {
        $crate::export_plugins! {
            handshake: $handshake,
            $(name: $name,)?
            $(version: $version,)?
            $(description: $description,)?
            protocols: { 1 => { $($plugins)* } },
        }
    };
    (
        handshake: $handshake:expr,
        $(name: $name:expr,)?
        $(version: $version:expr,)?
        $(description: $description:expr,)?
        protocols: { $($proto:literal => { $($name_lit:literal => $make:expr),* $(,)? }),+ $(,)? } $(,)?
    ) => {
        #[::abi_stable::export_root_module]
        fn __plugboard_root_module() -> $crate::PluginLibraryRef {
            use ::abi_stable::prefix_type::PrefixTypeTrait as _;
            const PLUGBOARD_HANDSHAKE: $crate::HandshakeConfig = $handshake;
            static PROTOCOLS: &[u32] = &[$($proto),+];
            static SETS: &[$crate::PluginSet] = &[$(
                $crate::PluginSet {
                    protocol_version: $proto,
                    entries: ::abi_stable::std_types::RSlice::from_slice(&[
                        $($crate::__plugboard_entry!($name_lit, $make),)*
                    ]),
                }
            ),+];
            $crate::PluginLibrary {
                handshake: $crate::Handshake {
                    abi_version: $crate::ABI_VERSION,
                    cookie_key: ::abi_stable::std_types::RStr::from_str(PLUGBOARD_HANDSHAKE.cookie_key),
                    cookie_value: ::abi_stable::std_types::RStr::from_str(PLUGBOARD_HANDSHAKE.cookie_value),
                    protocol_versions: ::abi_stable::std_types::RSlice::from_slice(PROTOCOLS),
                },
                metadata: $crate::LibraryMetadata {
                    name: ::abi_stable::std_types::RStr::from_str(
                        $crate::__plugboard_or!($($name)?; env!("CARGO_PKG_NAME"))
                    ),
                    version: ::abi_stable::std_types::RStr::from_str(
                        $crate::__plugboard_or!($($version)?; env!("CARGO_PKG_VERSION"))
                    ),
                    description: ::abi_stable::std_types::RStr::from_str(
                        $crate::__plugboard_or!($($description)?; env!("CARGO_PKG_DESCRIPTION"))
                    ),
                },
                plugin_sets: ::abi_stable::std_types::RSlice::from_slice(SETS),
            }
            .leak_into_prefix()
        }
    };
}

/// One `PluginEntry` with its generated factory (an implementation detail of
/// [`export_plugins!`]).
#[doc(hidden)]
#[macro_export]
macro_rules! __plugboard_entry {
    ($name:literal, $make:expr) => {
        $crate::PluginEntry::__for_constructor($name, || $make, {
            unsafe extern "C" fn factory(
                out: *mut ::std::ffi::c_void,
            ) -> ::abi_stable::std_types::RResult<(), $crate::PluginError> {
                // SAFETY: the host calls a factory only with a slot it checked
                // has this entry's layout, as the `Factory` contract requires;
                // the layout is the one of the type `$make` returns.
                unsafe { $crate::__private::run_factory(out, || $make) }
            }
            factory
        })
    };
}

/// The first of an optional expression and a default (an implementation
/// detail of [`export_plugins!`]).
#[doc(hidden)]
#[macro_export]
macro_rules! __plugboard_or {
    (; $default:expr) => {
        $default
    };
    ($value:expr; $default:expr) => {
        $value
    };
}
