//! The demo `Greeter` interface as first released: version 1.0.

use plugboard_interface::{interface, HandshakeConfig, PluginError};

/// The demo application's handshake (unchanged across versions).
pub const HANDSHAKE: HandshakeConfig = HandshakeConfig {
    cookie_key: "PLUGBOARD_DEMO_PLUGIN",
    cookie_value: "6f1c2a9e-greeter-kv-demo",
};

/// Says hello.
#[interface(version = "1.0.0")]
pub trait Greeter: Send + Sync {
    /// Returns a greeting for `name`.
    fn greet(&self, name: &str) -> Result<String, PluginError>;
}
