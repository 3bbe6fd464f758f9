//! The handshake every plugin library exports, in the manner of go-plugin.

use abi_stable::{
    std_types::{RSlice, RStr},
    StableAbi,
};

/// The version of plugboard's own ABI: the shape of [`PluginLibrary`] and of
/// everything it points to. A host refuses a library whose `abi_version`
/// differs from its own.
///
/// [`PluginLibrary`]: crate::PluginLibrary
pub const ABI_VERSION: u32 = 1;

/// The handshake shared by a host and the plugins written for it.
///
/// Define one constant of this type in the crate that declares your plugin
/// interfaces, and use it on both sides: the plugins pass it to
/// [`export_plugins!`](crate::export_plugins), the host to its builder. Like
/// go-plugin's `HandshakeConfig`, the magic cookie is a user-experience check
/// that a file is a plugin *for this host*, not a security feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HandshakeConfig {
    /// The cookie key, e.g. `"MYAPP_PLUGIN"`.
    pub cookie_key: &'static str,
    /// The cookie value, a random-looking string unique to this application.
    pub cookie_value: &'static str,
}

/// The handshake header as exported by a plugin library.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, Copy)]
pub struct Handshake {
    /// [`ABI_VERSION`] of the `plugboard-interface` the library was built with.
    pub abi_version: u32,
    /// The magic cookie key.
    pub cookie_key: RStr<'static>,
    /// The magic cookie value.
    pub cookie_value: RStr<'static>,
    /// The protocol versions this library offers, one per [`PluginSet`].
    ///
    /// [`PluginSet`]: crate::PluginSet
    pub protocol_versions: RSlice<'static, u32>,
}
