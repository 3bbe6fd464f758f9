//! The trait that names a plugin interface and its version.

use abi_stable::StableAbi;

/// A plugin interface: the type of object a plugin factory returns, with the
/// interface's name and semantic version.
///
/// Implement it for the trait-object type of your `#[sabi_trait]` (for
/// example `Greeter_TO<'static, RBox<()>>`); the host dispenses values of
/// this type. The host checks, before it hands out an object, that the
/// plugin's entry names the same interface with a compatible version and
/// that the `abi_stable` layout of the plugin's object matches this type's.
pub trait Interface: StableAbi + Sized + 'static {
    /// The interface name, e.g. `"Greeter"`.
    const NAME: &'static str;
    /// The interface version as a semver string, e.g. `"1.0.0"`.
    const VERSION: &'static str;
}
