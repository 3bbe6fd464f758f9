//! A compile-time check with a clear message for types an interface passes
//! as themselves: they must have a stable layout (`#[derive(StableAbi)]`).

use std::marker::PhantomData;

use abi_stable::StableAbi;

/// Picks, by auto-reference, whether `T` has a stable layout.
pub struct StableProbe<T: ?Sized>(PhantomData<fn() -> PhantomData<T>>);

impl<T: ?Sized> StableProbe<T> {
    /// A probe for `T`.
    pub const fn new() -> Self {
        Self(PhantomData)
    }
}

impl<T: ?Sized> Default for StableProbe<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// `T` has a stable layout.
pub struct IsStable;

/// `T` has no stable layout.
pub struct NotStable<T: ?Sized>(PhantomData<fn() -> PhantomData<T>>);

/// The verdict for a type with a stable layout.
pub trait StableVerdict {
    /// The verdict.
    fn verdict(&self) -> IsStable {
        IsStable
    }
}

impl<T: StableAbi> StableVerdict for &StableProbe<T> {}

/// The verdict for a type without one.
pub trait UnstableVerdict<T: ?Sized> {
    /// The verdict.
    fn verdict(&self) -> NotStable<T> {
        NotStable(PhantomData)
    }
}

impl<T: ?Sized> UnstableVerdict<T> for StableProbe<T> {}

/// Holds for a verdict that lets `T` cross the plugin boundary as itself.
#[diagnostic::on_unimplemented(
    message = "`{T}` cannot cross the plugin boundary",
    label = "`{T}` has no stable layout",
    note = "for a type of your own, give it one: `#[repr(C)] #[derive(StableAbi)]` (the interface crate then depends on abi_stable, for the derive)",
    note = "supported: integers (up to 64 bits), f32, f64, bool, char, &str, String, &[T], Vec<T>, Option<T>, Result<T, PluginError>, tuples of up to 4 of these, abi_stable's R-types (RHashMap, ...), and types that #[derive(StableAbi)]"
)]
pub trait CrossesBoundary<T: ?Sized> {}

impl<T: ?Sized> CrossesBoundary<T> for IsStable {}

/// Requires the verdict to let `T` cross.
pub fn require_stable_abi<T: ?Sized, V: CrossesBoundary<T>>(_verdict: V) {}
