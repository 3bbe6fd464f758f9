//! Panic guards for code that runs inside a plugin, and the plugin's panic
//! hook.
//!
//! Every method `#[interface]` generates, every factory, `init` and
//! `shutdown` run under [`call`] / [`catch`]: a panic is caught inside the
//! plugin and crosses the boundary as a [`PluginError`] of kind `Panicked`.
//! The happy path costs one relaxed load of [`REFUSING`] and nothing else
//! (`catch_unwind` is free until something unwinds).

use std::{
    panic::{catch_unwind, AssertUnwindSafe},
    sync::atomic::{AtomicBool, AtomicU8, Ordering},
};

use abi_stable::std_types::{ROption, RResult};

use crate::{call::CallStatus, PanicPolicy, PluginError};

/// Whether code of this library has panicked (one flag per library: each
/// `cdylib` has its own copy of this crate).
static POISONED: AtomicBool = AtomicBool::new(false);
/// The host's [`PanicPolicy`], as set at init.
static POLICY: AtomicU8 = AtomicU8::new(PanicPolicy::KeepServing as u8);
/// Poisoned under `RefuseAfterPanic`: the one flag the call path reads.
static REFUSING: AtomicBool = AtomicBool::new(false);

/// Whether code of this plugin library has panicked since it was loaded.
pub fn is_poisoned() -> bool {
    POISONED.load(Ordering::Relaxed)
}

pub(crate) fn set_policy(policy: PanicPolicy) {
    POLICY.store(policy as u8, Ordering::Relaxed);
    update_refusing();
}

/// Marks the library poisoned (a panic was caught).
pub(crate) fn poison() {
    POISONED.store(true, Ordering::Relaxed);
    update_refusing();
}

fn update_refusing() {
    let refuse = POLICY.load(Ordering::Relaxed) == PanicPolicy::RefuseAfterPanic as u8
        && POISONED.load(Ordering::Relaxed);
    REFUSING.store(refuse, Ordering::Relaxed);
}

#[inline(always)]
pub(crate) fn refusing() -> bool {
    REFUSING.load(Ordering::Relaxed)
}

/// Runs a method body: its value, or its error (or panic, or the policy's
/// refusal) reported through `status`.
#[inline(always)]
pub(crate) fn call<R>(
    status: &mut CallStatus,
    f: impl FnOnce() -> Result<R, PluginError>,
) -> ROption<R> {
    if refusing() {
        return refused(status);
    }
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(value)) => ROption::RSome(value),
        Ok(Err(error)) => status.fail(error),
        Err(payload) => status.fail(panicked(payload)),
    }
}

#[cold]
#[inline(never)]
fn refused<R>(status: &mut CallStatus) -> ROption<R> {
    status.fail(PluginError::poisoned())
}

/// Runs `f` under `catch_unwind`; a panic marks the library poisoned and
/// becomes a `Panicked` error.
pub(crate) fn catch<T>(f: impl FnOnce() -> RResult<T, PluginError>) -> RResult<T, PluginError> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result,
        Err(payload) => RResult::RErr(panicked(payload)),
    }
}

#[cold]
#[inline(never)]
fn panicked(payload: Box<dyn std::any::Any + Send>) -> PluginError {
    poison();
    PluginError::panicked(panic_message(payload.as_ref()))
}

/// Runs `f`, turning a panic into [`PluginError`] of kind
/// [`Panicked`](crate::PluginErrorKind::Panicked) that carries the panic
/// message.
///
/// Interfaces declared with [`#[interface]`](crate::interface) guard every
/// method by construction; `guard` is for hand-written `#[sabi_trait]`
/// interfaces, whose methods must each be wrapped, because `abi_stable` ends
/// the process when a panic reaches a `#[sabi_trait]` method:
///
/// ```
/// use plugboard_interface::{abi_stable::std_types::{RResult, RString}, guard, PluginError};
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

/// Replaces the library's panic hook (each `cdylib` has its own standard
/// library, hence its own hook): a panic's message, location and, when
/// `RUST_BACKTRACE` asks for one, backtrace become one error record on the
/// host's logger (target `plugin::<library>::panic`), never text on the
/// host's standard error.
pub(crate) fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let message = panic_message(info.payload());
        let location = info
            .location()
            .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()))
            .unwrap_or_else(|| "an unknown location".to_owned());
        let backtrace = std::backtrace::Backtrace::capture();
        if backtrace.status() == std::backtrace::BacktraceStatus::Captured {
            log::error!(target: "panic", "panicked at {location}: {message}\n{backtrace}");
        } else {
            log::error!(target: "panic", "panicked at {location}: {message}");
        }
    }));
}
