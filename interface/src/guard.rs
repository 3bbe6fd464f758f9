//! Panic guards for code that runs inside a plugin.

use std::panic::{catch_unwind, AssertUnwindSafe};

use abi_stable::std_types::RResult;

use crate::PluginError;

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
pub fn guard<T>(f: impl FnOnce() -> Result<T, PluginError>) -> RResult<T, PluginError> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result.into(),
        Err(payload) => RResult::RErr(PluginError::panicked(panic_message(payload.as_ref()))),
    }
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
