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
    /// The interface version as a semver string, e.g. `"1.1.0"`.
    const VERSION: &'static str;
    /// The methods added after the first release of this major version, each
    /// with the version it arrived in, e.g. `&[("shout", "1.1.0")]`.
    ///
    /// Each must have a default body that returns
    /// [`PluginError::method_missing`](crate::PluginError::method_missing).
    /// The host reports these as "optional methods missing" for plugins
    /// built against an older version, and names the versions when such a
    /// method is called.
    const OPTIONAL_METHODS: &'static [(&'static str, &'static str)] = &[];
}
