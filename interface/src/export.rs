//! The code [`export_plugins!`](crate::export_plugins) generates calls: the
//! library's init and shutdown, the factories, and the exported root module.

use std::{
    ffi::c_void,
    sync::atomic::{AtomicBool, Ordering},
};

use abi_stable::{
    library::{CheckTypeLayout, LibHeader, RootModuleResult},
    std_types::RResult,
};

use crate::{
    guard::catch, logging, services, Exports, HostContext, Interface, PluginError, PluginLibraryRef,
};

/// A user's load or unload hook.
pub type Hook = fn() -> Result<(), PluginError>;

/// The name under which a library exports its root module (what the host
/// looks up; `abi_stable`'s `ROOT_MODULE_LOADER_NAME`).
pub const ROOT_SYMBOL: &str = "_1as_0lib_1header_0root_bmodule_bloader";

/// Whether the library's shutdown has run since its last init.
static SHUT_DOWN: AtomicBool = AtomicBool::new(false);

/// The library's init: installs the host's services, the log bridge at the
/// host's level, the panic hook and policy, then runs the user's `on_load`
/// hook. Called by the generated `extern "C"` init; never unwinds.
pub fn run_init(context: HostContext, on_load: Option<Hook>) -> RResult<(), PluginError> {
    catch(move || {
        let HostContext {
            services,
            max_log_level,
            panic_policy,
        } = context;
        services::install(services);
        logging::install(max_log_level);
        crate::guard::install_panic_hook();
        crate::guard::set_policy(panic_policy);
        SHUT_DOWN.store(false, Ordering::SeqCst);
        on_load.map_or(Ok(()), |hook| hook()).into()
    })
}

/// The library's shutdown: runs the user's `on_unload` hook once per init
/// and drops the host's services. Never unwinds.
pub fn run_shutdown(on_unload: Option<Hook>) -> RResult<(), PluginError> {
    if SHUT_DOWN.swap(true, Ordering::SeqCst) {
        return RResult::ROk(());
    }
    let result = catch(|| on_unload.map_or(Ok(()), |hook| hook()).into());
    services::uninstall();
    result
}

/// Sets the library's maximum log level. Never unwinds.
pub fn run_set_max_log_level(level: u8) {
    logging::set_max_level(level);
}

/// Runs a plugin constructor inside the plugin, catching panics, and writes
/// the object of interface `I` to `out`. Called by the factories
/// [`export_plugins!`](crate::export_plugins) generates.
///
/// # Safety
///
/// `out` must be valid for a write of `I::Object` and aligned for it (the
/// contract of [`Factory`](crate::Factory)).
pub unsafe fn run_factory<I, T>(
    out: *mut c_void,
    make: impl FnOnce() -> T,
) -> RResult<(), PluginError>
where
    I: ?Sized + Exports<T>,
{
    if crate::guard::refusing() {
        return RResult::RErr(PluginError::poisoned());
    }
    catch(|| {
        let object = I::export(make());
        // SAFETY: the caller guarantees `out` is valid and aligned for
        // `I::Object`.
        unsafe { out.cast::<I::Object>().write(object) };
        RResult::ROk(())
    })
}

/// [`run_factory`] for a hand-written interface type, which is its own object.
///
/// # Safety
///
/// As [`run_factory`].
pub unsafe fn run_factory_self<T: Interface>(
    out: *mut c_void,
    make: impl FnOnce() -> T,
) -> RResult<(), PluginError> {
    // SAFETY: forwarded to the caller.
    unsafe { run_factory::<T, T>(out, make) }
}

/// Runs the library's root-module function inside `abi_stable`'s guard (what
/// the exported constructor calls).
pub fn call_root_module(root: fn() -> PluginLibraryRef) -> RootModuleResult {
    abi_stable::library::__call_root_module_loader(root)
}

/// The header the library exports under [`ROOT_SYMBOL`].
///
/// # Safety
///
/// `constructor` must return the library's `PluginLibraryRef` root module
/// (through [`call_root_module`]).
pub const unsafe fn lib_header(constructor: extern "C" fn() -> RootModuleResult) -> LibHeader {
    // SAFETY: the module type is `PluginLibraryRef`, which the caller's
    // constructor returns.
    unsafe { LibHeader::from_constructor::<PluginLibraryRef>(constructor, CheckTypeLayout::Yes) }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_root_symbol_is_abi_stables() {
        assert_eq!(
            super::ROOT_SYMBOL,
            abi_stable::library::ROOT_MODULE_LOADER_NAME
        );
    }
}
