//! Thread-safety markers: part of an object's layout, so a host never uses a
//! plugin object with less thread-safety than its interface promises.

use abi_stable::StableAbi;

/// The interface requires `Send + Sync`.
#[repr(C)]
#[derive(StableAbi)]
pub struct SendSync;
/// The interface requires `Send`, not `Sync`.
#[repr(C)]
#[derive(StableAbi)]
pub struct SendOnly;
/// The interface requires neither.
#[repr(C)]
#[derive(StableAbi)]
pub struct Local;

/// Values of type `T` may be held by an object with this marker.
pub trait Admits<T> {}
impl<T: Send + Sync> Admits<T> for SendSync {}
impl<T: Send> Admits<T> for SendOnly {}
impl<T> Admits<T> for Local {}
