//! The demo `Greeter` interface 1.0 with a silent change: `greet` gained a
//! parameter, but the interface version still says 1.0.0.

use plugboard_interface::{interface, HandshakeConfig, PluginError};

/// The demo application's handshake (unchanged across versions).
pub const HANDSHAKE: HandshakeConfig = HandshakeConfig {
    cookie_key: "PLUGBOARD_DEMO_PLUGIN",
    cookie_value: "6f1c2a9e-greeter-kv-demo",
};

/// Says hello, several times.
// The mistake this fixture exists for: the signature changed, the version did not.
#[interface(version = "1.0.0")]
pub trait Greeter: Send + Sync {
    /// Returns a greeting for `name`, repeated `times` times.
    fn greet(&self, name: &str, times: u32) -> Result<String, PluginError>;
}
