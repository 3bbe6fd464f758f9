//! The `export_plugins!` macro and the code it calls.

use std::{
    ffi::c_void,
    sync::atomic::{AtomicBool, Ordering},
};

use abi_stable::std_types::RResult;

use crate::{guard::catch, logging, services, HostContext, Interface, PluginError};

/// A user's load or unload hook.
pub type Hook = fn() -> Result<(), PluginError>;

/// Whether the library's shutdown has run since its last init.
static SHUT_DOWN: AtomicBool = AtomicBool::new(false);

/// The library's init: installs the host's services, the log bridge at the
/// host's level and the panic policy, then runs the user's `on_load` hook.
/// Called by the generated `extern "C"` init; never unwinds.
#[doc(hidden)]
pub fn run_init(context: HostContext, on_load: Option<Hook>) -> RResult<(), PluginError> {
    catch(move || {
        let HostContext {
            services,
            max_log_level,
            panic_policy,
        } = context;
        services::install(services);
        logging::install(max_log_level);
        crate::guard::set_policy(panic_policy);
        SHUT_DOWN.store(false, Ordering::SeqCst);
        on_load.map_or(Ok(()), |hook| hook()).into()
    })
}

/// The library's shutdown: runs the user's `on_unload` hook once per init
/// and drops the host's services. Never unwinds.
#[doc(hidden)]
pub fn run_shutdown(on_unload: Option<Hook>) -> RResult<(), PluginError> {
    if SHUT_DOWN.swap(true, Ordering::SeqCst) {
        return RResult::ROk(());
    }
    let result = catch(|| on_unload.map_or(Ok(()), |hook| hook()).into());
    services::uninstall();
    result
}

/// Sets the library's maximum log level. Never unwinds.
#[doc(hidden)]
pub fn run_set_max_log_level(level: u8) {
    logging::set_max_level(level);
}

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
    if crate::guard::refusing() {
        return RResult::RErr(PluginError::poisoned());
    }
    catch(|| {
        let object = make();
        // SAFETY: the caller guarantees `out` is valid and aligned for `I`.
        unsafe { out.cast::<I>().write(object) };
        RResult::ROk(())
    })
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
/// * optional `on_load: path` and `on_unload: path` name functions
///   `fn() -> Result<(), PluginError>` run when a host initialises the
///   library (after its handshake passed) and when the host closes. Both run
///   inside a panic guard; a failing `on_load` refuses the library.
///
/// The init the macro generates also installs the log bridge (the plugin's
/// `log` records reach the host's logger) and the host's services
/// ([`host`](crate::host), [`service`](crate::service)).
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
        $(on_load: $on_load:path,)?
        $(on_unload: $on_unload:path,)?
        plugins: { $($plugins:tt)* } $(,)?
    ) => {
        $crate::export_plugins! {
            handshake: $handshake,
            $(name: $name,)?
            $(version: $version,)?
            $(description: $description,)?
            $(on_load: $on_load,)?
            $(on_unload: $on_unload,)?
            protocols: { 1 => { $($plugins)* } },
        }
    };
    (
        handshake: $handshake:expr,
        $(name: $name:expr,)?
        $(version: $version:expr,)?
        $(description: $description:expr,)?
        $(on_load: $on_load:path,)?
        $(on_unload: $on_unload:path,)?
        protocols: { $($proto:literal => { $($name_lit:literal => $make:expr),* $(,)? }),+ $(,)? } $(,)?
    ) => {
        const __PLUGBOARD_HANDSHAKE: $crate::HandshakeConfig = $handshake;
        const __PLUGBOARD_NAME: &str = $crate::__plugboard_or!($($name)?; env!("CARGO_PKG_NAME"));
        const __PLUGBOARD_VERSION: &str =
            $crate::__plugboard_or!($($version)?; env!("CARGO_PKG_VERSION"));
        const __PLUGBOARD_DESCRIPTION: &str =
            $crate::__plugboard_or!($($description)?; env!("CARGO_PKG_DESCRIPTION"));
        const __PLUGBOARD_METADATA_PARTS: &[&str] = {
            use $crate::__private::metadata::{field, interface_name, interface_version};
            &[
                $crate::__private::metadata::MAGIC, "\n",
                "abi\t", $crate::__private::metadata::ABI_VERSION_STR, "\n",
                "cookie\t", field(__PLUGBOARD_HANDSHAKE.cookie_key),
                "\t", field(__PLUGBOARD_HANDSHAKE.cookie_value), "\n",
                "library\t", field(__PLUGBOARD_NAME), "\t", field(__PLUGBOARD_VERSION), "\n",
                "description\t", field(__PLUGBOARD_DESCRIPTION), "\n",
                "target\t", ::std::env::consts::ARCH, "\t", ::std::env::consts::OS,
                "\t", $crate::__private::metadata::TARGET_ENV, "\n",
                $("protocol\t", stringify!($proto), "\n",)+
                $($(
                    "plugin\t", stringify!($proto), "\t", field($name_lit),
                    "\t", interface_name(|| $make), "\t", interface_version(|| $make), "\n",
                )*)+
                "end\n",
            ]
        };
        /// The plugin's metadata, readable from the file without running it.
        #[used]
        #[cfg_attr(
            not(any(target_vendor = "apple", target_os = "windows")),
            link_section = ".plugboard"
        )]
        #[cfg_attr(target_vendor = "apple", link_section = "__DATA,__plugboard")]
        #[cfg_attr(target_os = "windows", link_section = ".plugbrd")]
        static __PLUGBOARD_METADATA: [u8; $crate::__private::metadata::encoded_len(
            __PLUGBOARD_METADATA_PARTS,
        )] = $crate::__private::metadata::encode(__PLUGBOARD_METADATA_PARTS);

        #[::abi_stable::export_root_module]
        fn __plugboard_root_module() -> $crate::PluginLibraryRef {
            use ::abi_stable::prefix_type::PrefixTypeTrait as _;
            // Keeps the metadata section alive through the linker's garbage
            // collection: the exported root module refers to it.
            ::core::hint::black_box(&__PLUGBOARD_METADATA);
            const PLUGBOARD_HANDSHAKE: $crate::HandshakeConfig = __PLUGBOARD_HANDSHAKE;
            static PROTOCOLS: &[u32] = &[$($proto),+];
            static SETS: &[$crate::PluginSet] = &[$(
                $crate::PluginSet {
                    protocol_version: $proto,
                    entries: ::abi_stable::std_types::RSlice::from_slice(&[
                        $($crate::__plugboard_entry!($name_lit, $make),)*
                    ]),
                }
            ),+];
            $crate::PluginLibrary::__new(
                $crate::Handshake {
                    abi_version: $crate::ABI_VERSION,
                    cookie_key: ::abi_stable::std_types::RStr::from_str(PLUGBOARD_HANDSHAKE.cookie_key),
                    cookie_value: ::abi_stable::std_types::RStr::from_str(PLUGBOARD_HANDSHAKE.cookie_value),
                    protocol_versions: ::abi_stable::std_types::RSlice::from_slice(PROTOCOLS),
                },
                $crate::LibraryMetadata {
                    name: ::abi_stable::std_types::RStr::from_str(__PLUGBOARD_NAME),
                    version: ::abi_stable::std_types::RStr::from_str(__PLUGBOARD_VERSION),
                    description: ::abi_stable::std_types::RStr::from_str(__PLUGBOARD_DESCRIPTION),
                },
                ::abi_stable::std_types::RSlice::from_slice(SETS),
                {
                    extern "C" fn init(
                        context: $crate::HostContext,
                    ) -> ::abi_stable::std_types::RResult<(), $crate::PluginError> {
                        $crate::__private::run_init(context, $crate::__plugboard_hook!($($on_load)?))
                    }
                    init
                },
                {
                    extern "C" fn set_max_log_level(level: u8) {
                        $crate::__private::run_set_max_log_level(level)
                    }
                    set_max_log_level
                },
                {
                    extern "C" fn shutdown() -> ::abi_stable::std_types::RResult<(), $crate::PluginError> {
                        $crate::__private::run_shutdown($crate::__plugboard_hook!($($on_unload)?))
                    }
                    shutdown
                },
                {
                    extern "C" fn poisoned() -> bool {
                        $crate::is_poisoned()
                    }
                    poisoned
                },
            )
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

/// `Some(hook)` or `None` (an implementation detail of [`export_plugins!`]).
#[doc(hidden)]
#[macro_export]
macro_rules! __plugboard_hook {
    () => {
        ::core::option::Option::None
    };
    ($hook:path) => {
        ::core::option::Option::Some($hook as $crate::__private::Hook)
    };
}
