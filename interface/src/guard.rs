//! Panic guards for code that runs inside a plugin.

use std::{
    panic::{catch_unwind, AssertUnwindSafe},
    sync::atomic::{AtomicBool, AtomicU8, Ordering},
};

use abi_stable::std_types::RResult;

use crate::{PanicPolicy, PluginError};

/// Whether code of this library has panicked (one flag per library: each
/// `cdylib` has its own copy of this crate).
static POISONED: AtomicBool = AtomicBool::new(false);
/// The host's [`PanicPolicy`], as set at init.
static POLICY: AtomicU8 = AtomicU8::new(PanicPolicy::KeepServing as u8);

/// Whether code of this plugin library has panicked since it was loaded.
pub fn is_poisoned() -> bool {
    POISONED.load(Ordering::Relaxed)
}

pub(crate) fn set_policy(policy: PanicPolicy) {
    POLICY.store(policy as u8, Ordering::Relaxed);
}

pub(crate) fn refusing() -> bool {
    POLICY.load(Ordering::Relaxed) == PanicPolicy::RefuseAfterPanic as u8 && is_poisoned()
}

/// Runs `f` under `catch_unwind`; a panic marks the library poisoned and
/// becomes a `Panicked` error.
pub(crate) fn catch<T>(f: impl FnOnce() -> RResult<T, PluginError>) -> RResult<T, PluginError> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result,
        Err(payload) => {
            POISONED.store(true, Ordering::Relaxed);
            RResult::RErr(PluginError::panicked(panic_message(payload.as_ref())))
        }
    }
}

/// Runs `f`, turning a panic into [`PluginError`] of kind
/// [`Panicked`](crate::PluginErrorKind::Panicked) that carries the panic
/// message.
///
/// A panic must never unwind across the plugin boundary: `abi_stable` ends the
/// process when one reaches a `#[sabi_trait]` method, and a panic leaving an
/// `extern "C"` function aborts it. Wrap the body of every trait method a
/// plugin implements:
///
/// ```
/// use abi_stable::std_types::{RResult, RString};
/// use plugboard_interface::{guard, PluginError};
///
/// fn greet(name: &str) -> RResult<RString, PluginError> {
///     guard(|| Ok(format!("Hello, {name}!").into()))
/// }
/// assert_eq!(greet("World").unwrap().as_str(), "Hello, World!");
/// ```
///
/// A panic also marks the library poisoned; if the host's
/// [`PanicPolicy`] is `RefuseAfterPanic`, later guarded calls return a
/// `Poisoned` error without running.
#[inline]
pub fn guard<T>(f: impl FnOnce() -> Result<T, PluginError>) -> RResult<T, PluginError> {
    if refusing() {
        return RResult::RErr(PluginError::poisoned());
    }
    catch(|| f().into())
}

/// Like [`guard`], for a closure that already returns an `RResult`.
pub fn guard_result<T>(f: impl FnOnce() -> RResult<T, PluginError>) -> RResult<T, PluginError> {
    guard(|| f().into_result())
}

/// The text of a panic payload (`&str` or `String`), or a placeholder.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-string payload".to_owned()
    }
}
