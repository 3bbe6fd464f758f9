//! The demo `Greeter` interface 2.0: a breaking change (`greet` takes a
//! style, `shout` is gone). `Style` is the application's own
//! `#[derive(StableAbi)]` type, which crosses the boundary as it is.

use abi_stable::StableAbi;
use plugboard_interface::{interface, HandshakeConfig, PluginError};

/// The demo application's handshake (unchanged across versions).
pub const HANDSHAKE: HandshakeConfig = HandshakeConfig {
    cookie_key: "PLUGBOARD_DEMO_PLUGIN",
    cookie_value: "6f1c2a9e-greeter-kv-demo",
};

/// How to greet.
#[repr(u8)]
#[derive(StableAbi, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// "Hello, X!"
    Plain,
    /// "HELLO, X!"
    Loud,
}

/// Says hello, in a style.
#[interface(version = "2.0.0")]
pub trait Greeter: Send + Sync {
    /// Returns a greeting for `name` in `style`.
    fn greet(&self, name: &str, style: Style) -> Result<String, PluginError>;
}
